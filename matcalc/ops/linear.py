"""Linear operations: each needs only its adjoint (the transpose of the linear map)."""

from __future__ import annotations

import sympy

from ..errors import ShapeError
from ..expr import PREC_ADD, PREC_ATOM, PREC_POSTFIX, Expr, Identity, Ones, make
from ..shapes import is_one, same_dim, shape_str


class Add(Expr):
    """A sum of two or more terms of one shape."""

    __slots__ = ()
    name = "add"
    family = "linear"
    why = "C:(A + B) = C:A + C:B — each term receives the whole adjoint"
    why_latex = r"C:(A + B) = C:A + C:B"

    @classmethod
    def shape_rule(cls, args, params):
        first = args[0].shape
        for term in args[1:]:
            if not (same_dim(term.shape[0], first[0]) and same_dim(term.shape[1], first[1])):
                raise ShapeError(
                    f"add: ({shape_str(first)}) + ({shape_str(term.shape)}): shapes differ"
                )
        return first

    @property
    def is_symmetric(self):
        return all(term.is_symmetric for term in self.args)

    def _untransposed_terms(self) -> tuple | None:
        """For a row that is a sum of transposed columns (or multiples of them), the columns."""
        from .bilinear import Scale

        if not is_one(self.rows) or self.is_scalar:
            return None
        columns = []
        for term in self.args:
            scale = term.args[0] if isinstance(term, Scale) else None
            body = term.args[1] if scale is not None else term
            if not isinstance(body, Transpose) or body.args[0].cols != 1:
                return None
            columns.append(body.args[0] if scale is None else make(Scale, (scale, body.args[0])))
        return tuple(columns)

    def pullback(self, index, adjoint):
        return adjoint

    def differential(self, dargs):
        present = [d for d in dargs if d is not None]
        return present[0] if len(present) == 1 else make(Add, tuple(present))

    def numpy_code(self, args, dim_code):
        return "(" + " + ".join(args) + ")"

    def entrywise(self, args, size):
        total = args[0]
        for term in args[1:]:
            total = total + term
        return total

    def render(self, p):
        untransposed = self._untransposed_terms()
        if untransposed is not None:  # vᵀ − muᵀ reads better as (v − mu)ᵀ
            return p.postfix(p.parens(p.render_aside(make(Add, untransposed))), "ᵀ", "^\\top"), PREC_POSTFIX
        pieces = []
        for index in range(len(self.args)):
            negative, body = p.term(index)
            if not pieces:
                pieces.append(p.minus_prefix() + body if negative else body)
            else:
                pieces.append((" − " if not p.latex else " - ") + body if negative else " + " + body)
        return "".join(pieces), PREC_ADD


class Transpose(Expr):
    __slots__ = ()
    name = "transpose"
    family = "linear"
    why = "C:Aᵀ = Cᵀ:A — the adjoint of a transpose is the transposed adjoint"
    why_latex = r"C:A^\top = C^\top:A"

    @classmethod
    def shape_rule(cls, args, params):
        rows, cols = args[0].shape
        return (cols, rows)

    @property
    def is_symmetric(self):
        return self.args[0].is_symmetric

    def pullback(self, index, adjoint):
        return make(Transpose, (adjoint,))

    def differential(self, dargs):
        return make(Transpose, (dargs[0],))

    numpy_view = True

    def numpy_code(self, args, dim_code):
        return f"{args[0]}.T"

    def entrywise(self, args, size):
        return args[0].T

    def render(self, p):
        from .nonlinear import Inverse

        inner = self.args[0]
        if isinstance(inner, Inverse):
            return p.postfix(p.wrap_node(inner.args[0], PREC_ATOM), "⁻ᵀ", "^{-\\top}"), PREC_POSTFIX
        return p.postfix(p.wrap(0, PREC_ATOM), "ᵀ", "^\\top"), PREC_POSTFIX


class Trace(Expr):
    __slots__ = ()
    name = "trace"
    family = "linear"
    why = "tr(A) = I:A"
    why_latex = r"\operatorname{tr}(A) = I:A"

    @classmethod
    def shape_rule(cls, args, params):
        rows, cols = args[0].shape
        if not same_dim(rows, cols):
            raise ShapeError(f"trace: needs a square matrix, got {shape_str(args[0].shape)}")
        return (1, 1)

    def pullback(self, index, adjoint):
        from .bilinear import Scale

        return make(Scale, (adjoint, make(Identity, (), (self.args[0].shape[0],))))

    def differential(self, dargs):
        return make(Trace, (dargs[0],))

    def numpy_code(self, args, dim_code):
        return f"np.trace({args[0]}).reshape(1, 1)"

    def entrywise(self, args, size):
        return sympy.Matrix([[args[0].trace()]])

    def render(self, p):
        return p.call("tr", "\\operatorname{tr}", p.wrap(0, 0)), PREC_ATOM


class Sum(Expr):
    """The sum of all entries: 𝟏ᵀX𝟏."""

    __slots__ = ()
    name = "sum"
    family = "linear"
    why = "sum(A) = 𝟏:A"
    why_latex = r"\operatorname{sum}(A) = \mathbf{1}:A"

    @classmethod
    def shape_rule(cls, args, params):
        return (1, 1)

    def pullback(self, index, adjoint):
        from .bilinear import Scale

        rows, cols = self.args[0].shape
        return make(Scale, (adjoint, make(Ones, (), (rows, cols))))

    def differential(self, dargs):
        return make(Sum, (dargs[0],))

    def numpy_code(self, args, dim_code):
        return f"np.sum({args[0]}).reshape(1, 1)"

    def entrywise(self, args, size):
        return sympy.Matrix([[sympy.Add(*args[0])]])

    def render(self, p):
        return p.call("sum", "\\operatorname{sum}", p.wrap(0, 0)), PREC_ATOM


class DiagMat(Expr):
    """diag(v): the square matrix with the vector v on its diagonal."""

    __slots__ = ()
    name = "diag"
    family = "linear"
    why = "C:diag(v) = diag(C):v"
    why_latex = r"C:\operatorname{diag}(v) = \operatorname{diag}(C):v"

    @classmethod
    def shape_rule(cls, args, params):
        rows, cols = args[0].shape
        if cols != 1:
            raise ShapeError(f"diag: needs a column vector, got {shape_str(args[0].shape)}")
        return (rows, rows)

    @property
    def is_symmetric(self):
        return True

    def pullback(self, index, adjoint):
        return make(DiagVec, (adjoint,))

    def differential(self, dargs):
        return make(DiagMat, (dargs[0],))

    def numpy_code(self, args, dim_code):
        return f"np.diagflat({args[0]})"

    def entrywise(self, args, size):
        return sympy.diag(*args[0])

    def render(self, p):
        return p.call("diag", "\\operatorname{diag}", p.wrap(0, 0)), PREC_ATOM


class DiagVec(Expr):
    """diag(X): the diagonal of a square matrix as a column vector."""

    __slots__ = ()
    name = "diag"
    family = "linear"
    why = "c:diag(X) = diag(c):X"
    why_latex = r"c:\operatorname{diag}(X) = \operatorname{diag}(c):X"

    @classmethod
    def shape_rule(cls, args, params):
        rows, cols = args[0].shape
        if not same_dim(rows, cols):
            raise ShapeError(f"diag: needs a square matrix or a vector, got {shape_str(args[0].shape)}")
        return (rows, 1)

    def pullback(self, index, adjoint):
        return make(DiagMat, (adjoint,))

    def differential(self, dargs):
        return make(DiagVec, (dargs[0],))

    numpy_view = True

    def numpy_code(self, args, dim_code):
        return f"np.diagonal({args[0]}).reshape(-1, 1)"

    def entrywise(self, args, size):
        m = args[0]
        return sympy.Matrix([[m[i, i]] for i in range(m.rows)])

    def render(self, p):
        return p.call("diag", "\\operatorname{diag}", p.wrap(0, 0)), PREC_ATOM
