"""Linear operations: each needs only its adjoint (the transpose of the linear map)."""

from __future__ import annotations

import sympy

from ..errors import OperandError, ShapeError
from ..expr import Expr, Identity, Ones, as_expr, make
from ..printing.notation import PREC_ADD, Notation, call, postfix
from ..shapes import same_dim, shape_str


class Add(Expr):
    """A sum of two or more terms of one shape."""

    __slots__ = ()
    name = "add"
    index_rule = "sum"
    notation = Notation("sum", "+", "+", "+", PREC_ADD)
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



class Transpose(Expr):
    """Xᵀ."""

    __slots__ = ()
    name = "transpose"
    index_rule = "transpose"
    api = "transpose"
    signatures = ("(a,b)->(b,a)",)
    syntax = ()  # written X' in the string syntax
    notation = postfix("ᵀ", "^\\top", "'")
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

    def jax_code(self, args, dim_code):
        return f"{args[0]}.T"

    def torch_code(self, args, dim_code):
        return f"{args[0]}.T"

    def entrywise(self, args, size):
        return args[0].T



class Trace(Expr):
    """tr(X) of a square matrix."""

    __slots__ = ()
    name = "trace"
    index_rule = "trace"
    api = "trace"
    signatures = ("(n,n)->(1,1)",)
    syntax = ("tr",)
    notation = call("tr", "\\operatorname{tr}")
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
        if self.args[0].is_scalar:  # tr(s) = s
            return adjoint
        return adjoint * make(Identity, (), (self.args[0].shape[0],))  # a scalar times I

    def differential(self, dargs):
        return make(Trace, (dargs[0],))

    def numpy_code(self, args, dim_code):
        return f"np.trace({args[0]}).reshape(1, 1)"

    def jax_code(self, args, dim_code):
        return f"jnp.trace({args[0]}).reshape(1, 1)"

    def torch_code(self, args, dim_code):
        return f"torch.trace({args[0]}).reshape(1, 1)"

    def entrywise(self, args, size):
        return sympy.Matrix([[args[0].trace()]])



class Sum(Expr):
    """The sum of all entries, 𝟏ᵀX𝟏; along ``axis`` 0 the column sums 𝟏ᵀX, along 1 the row sums X𝟏."""

    __slots__ = ()
    name = "sum"
    index_rule = "sum_entries"
    api = "sum"
    signatures = ("(a,b)->(1,1)",)

    @classmethod
    def build(cls, x, axis=None) -> Expr:
        x = as_expr(x, "sum")
        if axis is None:
            return make(Sum, (x,))
        rows, cols = x.shape
        if isinstance(axis, bool):
            axis = None  # True is no axis, though it equals 1
        if axis == 0:
            return make(Ones, (), (1, rows)) @ x
        if axis == 1:
            return x @ make(Ones, (), (cols, 1))
        raise OperandError(f"sum: axis must be 0 (columns), 1 (rows) or None (all entries), got {axis!r}")
    notation = call("sum", "\\operatorname{sum}")
    family = "linear"
    why = "sum(A) = 𝟏:A"
    why_latex = r"\operatorname{sum}(A) = \mathbf{1}:A"

    @classmethod
    def shape_rule(cls, args, params):
        return (1, 1)

    def pullback(self, index, adjoint):
        if self.args[0].is_scalar:  # sum(s) = s
            return adjoint
        return adjoint * make(Ones, (), self.args[0].shape)  # a scalar times 𝟏

    def differential(self, dargs):
        return make(Sum, (dargs[0],))

    def numpy_code(self, args, dim_code):
        return f"np.sum({args[0]}).reshape(1, 1)"

    def jax_code(self, args, dim_code):
        return f"jnp.sum({args[0]}).reshape(1, 1)"

    def torch_code(self, args, dim_code):
        return f"torch.sum({args[0]}).reshape(1, 1)"

    def entrywise(self, args, size):
        return sympy.Matrix([[sympy.Add(*args[0])]])



class DiagMat(Expr):
    """diag(v) → the diagonal matrix of a vector; diag(X) → the diagonal of a square matrix."""

    __slots__ = ()
    name = "diag"
    api = "diag"
    index_rule = "diagonal_matrix"
    signatures = ("(n,1)->(n,n)", "(n,n)->(n,1)")

    @classmethod
    def build(cls, x) -> Expr:
        x = as_expr(x, "diag")
        return make(DiagMat if x.shape[1] == 1 else DiagVec, (x,))
    notation = call("diag", "\\operatorname{diag}")
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

    def jax_code(self, args, dim_code):
        return f"jnp.diagflat({args[0]})"

    def torch_code(self, args, dim_code):
        return f"torch.diagflat({args[0]})"

    def entrywise(self, args, size):
        return sympy.diag(*args[0])



class DiagVec(Expr):
    """diag(X): the diagonal of a square matrix as a column vector."""

    __slots__ = ()
    name = "diag"
    index_rule = "diagonal"
    notation = call("diag", "\\operatorname{diag}")
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

    def jax_code(self, args, dim_code):
        return f"jnp.diagonal({args[0]}).reshape(-1, 1)"

    def torch_code(self, args, dim_code):
        return f"torch.diagonal({args[0]}).reshape(-1, 1)"

    def entrywise(self, args, size):
        m = args[0]
        return sympy.Matrix([[m[i, i]] for i in range(m.rows)])
