"""Linear operations: each needs only its adjoint (the transpose of the linear map)."""

from __future__ import annotations

import functools
import operator
from collections import Counter

import sympy
from sympy.matrices.expressions.diagonal import DiagMatrix, DiagonalOf

from ..errors import OperandError, ShapeError
from ..expr import Expr, Identity, Ones, as_expr, make
from ..printing.notation import PREC_ADD, Notation, call, postfix
from ..registry import FUNCTIONS
from ..shapes import dim_product, is_one, same_dim, shape_str
from ..sympy_forms import is_matrix, ones, scalar_of


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
    def symmetric_by_structure(self):
        # each term's transpose is a term too, as many times: S + T, V + Vᵀ, AB + BᵀAᵀ
        return Counter(self.args) == Counter(transpose_of(term) for term in self.args)

    def pullback(self, index, adjoint):
        return adjoint

    def differential(self, dargs):
        present = [d for d in dargs if d is not None]
        return present[0] if len(present) == 1 else make(Add, tuple(present))

    def vec_jacobian(self, index):
        return None  # vec(dA + dB) = vec(dA) + vec(dB)

    def numpy_code(self, args, dim_code):
        return "(" + " + ".join(args) + ")"

    def entrywise(self, args, size):
        total = args[0]
        for term in args[1:]:
            total = total + term
        return total

    def sympy_form(self, args):
        if self.is_scalar and not all(is_matrix(a) for a in args):
            return sympy.Add(*[scalar_of(a) for a in args])
        return functools.reduce(operator.add, args)



class Transpose(Expr):
    """Xᵀ, the transpose (``X.T`` is the same).

    Parameters
    ----------
    x : Expr or number
        Any expression.

    Returns
    -------
    Expr
        Xᵀ, of the transposed shape.

    Examples
    --------
    >>> A, x = mc.matrix("A", 2, 3), mc.vector("x", 2)
    >>> print(mc.simplify(mc.transpose(A @ mc.matrix("B", 3, 3))))
    BᵀAᵀ
    >>> mc.transpose(x).shape
    (1, 2)
    """

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
    def symmetric_by_structure(self):
        return self.args[0].is_symmetric

    def pullback(self, index, adjoint):
        return make(Transpose, (adjoint,))

    def differential(self, dargs):
        return make(Transpose, (dargs[0],))

    def vec_jacobian(self, index):
        """vec(dAᵀ) = K vec(dA), K the commutation matrix of A's shape."""
        return make(Commutation, (), self.args[0].shape)

    numpy_view = True

    def numpy_code(self, args, dim_code):
        return f"{args[0]}.T"

    def jax_code(self, args, dim_code):
        return f"{args[0]}.T"

    def torch_code(self, args, dim_code):
        return f"{args[0]}.T"

    def entrywise(self, args, size):
        return args[0].T

    def sympy_form(self, args):
        return sympy.Transpose(args[0]) if is_matrix(args[0]) else args[0]



def transpose_of(expr: Expr) -> Expr:
    """Xᵀ as simply as it is written: X for a transpose Xᵀ, X itself for a symmetric X, else Xᵀ."""
    if isinstance(expr, Transpose):
        return expr.args[0]
    return expr if expr.is_symmetric else make(Transpose, (expr,))


class Trace(Expr):
    """tr(X), the trace of a square matrix.

    Its pullback is the identity: C:d tr(X) = cI:dX.

    Parameters
    ----------
    x : Expr or number
        A square matrix.

    Returns
    -------
    Expr
        A scalar.

    Raises
    ------
    ShapeError
        For a matrix that is not square.

    Examples
    --------
    >>> A, X, B = mc.matrix("A", 2, 3), mc.matrix("X", 3, 4), mc.matrix("B", 4, 2)
    >>> print(mc.grad(mc.trace(A @ X @ B), X))
    AᵀBᵀ
    """

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

    def vec_jacobian(self, index):
        """tr(dA) = I:dA = vec(I)ᵀ vec(dA)."""
        return make(Transpose, (make(Vec, (make(Identity, (), (self.args[0].shape[0],)),)),))

    def numpy_code(self, args, dim_code):
        return f"np.trace({args[0]}).reshape(1, 1)"

    def jax_code(self, args, dim_code):
        return f"jnp.trace({args[0]}).reshape(1, 1)"

    def torch_code(self, args, dim_code):
        return f"torch.trace({args[0]}).reshape(1, 1)"

    def entrywise(self, args, size):
        return sympy.Matrix([[args[0].trace()]])

    def sympy_form(self, args):
        return sympy.Trace(args[0]) if is_matrix(args[0]) else args[0]



class Sum(Expr):
    """The sum of all entries, 𝟏ᵀX𝟏; along ``axis`` 0 the column sums 𝟏ᵀX, along 1 the row sums X𝟏.

    Parameters
    ----------
    x : Expr or number
        Any expression.
    axis : {None, 0, 1}, optional
        None (the default) sums every entry to a scalar; 0 sums each column (a row);
        1 sums each row (a column).

    Returns
    -------
    Expr
        A scalar, a 1×cols row, or a rows×1 column.

    Raises
    ------
    OperandError
        For another ``axis``.

    Examples
    --------
    >>> X = mc.matrix("X", 2, 3)
    >>> mc.sum(X).shape, mc.sum(X, axis=0).shape, mc.sum(X, axis=1).shape
    ((1, 1), (1, 3), (2, 1))
    >>> print(mc.grad(mc.sum(mc.exp(X)), X))
    exp(X)
    """

    __slots__ = ()
    name = "sum"
    index_rule = "sum_entries"
    api = "sum"
    signatures = ("(a,b)->(1,1)",)

    @classmethod
    def build(cls, x: Expr | float, axis: int | None = None) -> Expr:
        x = as_expr(x, "sum")
        if axis is None:
            return make(Sum, (x,))
        rows, cols = x.shape
        if axis == 0 and not isinstance(axis, bool):  # True equals 1 but is no axis
            return make(Ones, (), (1, rows)) @ x
        if axis == 1 and not isinstance(axis, bool):
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

    def vec_jacobian(self, index):
        """sum(dA) = 𝟏ᵀ vec(dA)."""
        return make(Transpose, (make(Ones, (), (dim_product(*self.args[0].shape), 1)),))

    def numpy_code(self, args, dim_code):
        return f"np.sum({args[0]}).reshape(1, 1)"

    def jax_code(self, args, dim_code):
        return f"jnp.sum({args[0]}).reshape(1, 1)"

    def torch_code(self, args, dim_code):
        return f"torch.sum({args[0]}).reshape(1, 1)"

    def entrywise(self, args, size):
        return sympy.Matrix([[sympy.Add(*args[0])]])

    def sympy_form(self, args):
        rows, cols = self.args[0].shape
        return sympy.Trace(ones(1, rows) * args[0] * ones(cols, 1)) if is_matrix(args[0]) else args[0]



class DiagMat(Expr):
    """diag(v), the diagonal matrix of a vector; diag(X), the diagonal of a square matrix.

    Parameters
    ----------
    x : Expr or number
        A column vector (n×1) or a square matrix (n×n).

    Returns
    -------
    Expr
        The n×n diagonal matrix with v on its diagonal, or the n×1 diagonal of X.

    Raises
    ------
    ShapeError
        For a matrix that is neither a column nor square.

    Examples
    --------
    >>> v, X = mc.vector("v", 3), mc.matrix("X", 3, 3)
    >>> mc.diag(v).shape, mc.diag(X).shape
    ((3, 3), (3, 1))
    >>> x, y = mc.vector("x", 3), mc.vector("y", 3)
    >>> print(mc.grad(x.T @ mc.diag(v) @ y, v))
    diag(xyᵀ)
    """

    __slots__ = ()
    name = "diag"
    api = "diag"
    index_rule = "diagonal_matrix"
    signatures = ("(n,1)->(n,n)", "(n,n)->(n,1)")

    @classmethod
    def build(cls, x: Expr | float) -> Expr:
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
    def symmetric_by_structure(self):
        return True

    def pullback(self, index, adjoint):
        return make(DiagVec, (adjoint,))

    def differential(self, dargs):
        return make(DiagMat, (dargs[0],))

    def vec_jacobian(self, index):
        """vec(diag(dv)) = diag(vec I)(𝟏 ⊗ I) dv: dv stacked n times, every entry off the diagonal masked."""
        eye = make(Identity, (), (self.shape[0],))
        return make(DiagMat, (make(Vec, (eye,)),)) @ _kron(make(Ones, (), (self.shape[0], 1)), eye)

    def numpy_code(self, args, dim_code):
        return f"np.diagflat({args[0]})"

    def jax_code(self, args, dim_code):
        return f"jnp.diagflat({args[0]})"

    def torch_code(self, args, dim_code):
        return f"torch.diagflat({args[0]})"

    def entrywise(self, args, size):
        return sympy.diag(*args[0])

    def sympy_form(self, args):
        return scalar_of(args[0]) if self.is_scalar else DiagMatrix(args[0])  # the diagonal of a 1×1 is itself



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

    def vec_jacobian(self, index):
        """diag(dX) = (𝟏ᵀ ⊗ I) diag(vec I) vec(dX): the diagonal's entries kept, the n columns added."""
        eye = make(Identity, (), (self.shape[0],))
        return _kron(make(Ones, (), (1, self.shape[0])), eye) @ make(DiagMat, (make(Vec, (eye,)),))

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

    def sympy_form(self, args):
        return scalar_of(args[0]) if self.is_scalar else DiagonalOf(args[0])


def _kron(a: Expr, b: Expr) -> Expr:
    """a ⊗ b.  The Kronecker product is bilinear (ops/bilinear.py, which imports this module),
    so it is built through its public function, which is registered before any rule runs."""
    return FUNCTIONS["kron"].function(a, b)


class Vec(Expr):
    """vec(X): the columns of X stacked into one column (column-major, Magnus and Neudecker's vec)."""

    __slots__ = ()
    name = "vec"
    notation = call("vec", "\\operatorname{vec}")
    family = "linear"
    why = "c:vec(X) = vec⁻¹(c):X — vec only moves entries, and its adjoint moves them back"
    why_latex = r"c:\operatorname{vec}(X) = \operatorname{vec}^{-1}(c):X"

    @classmethod
    def shape_rule(cls, args, params):
        return (dim_product(*args[0].shape), 1)

    def pullback(self, index, adjoint):
        return make(Unvec, (adjoint,), self.args[0].shape)

    def differential(self, dargs):
        return make(Vec, (dargs[0],))

    def vec_jacobian(self, index):
        return None  # vec(vec(dX)) = vec(dX)

    numpy_view = True  # a reshape, which shares the argument's memory where its layout allows

    def numpy_code(self, args, dim_code):
        return f"{args[0]}.T.reshape(-1, 1)"  # the rows of Xᵀ are the columns of X

    jax_code = numpy_code
    torch_code = numpy_code

    def entrywise(self, args, size):
        x = args[0]
        return sympy.Matrix([x[i, j] for j in range(x.cols) for i in range(x.rows)])

    def sympy_form(self, args):
        rows, cols = self.args[0].shape
        if is_one(cols):  # vec of a column is the column, of a row its transpose; of a matrix SymPy has none
            return args[0]
        return sympy.Transpose(args[0]) if is_one(rows) else super().sympy_form(args)


class Unvec(Expr):
    """vec⁻¹(g): a column of rows·cols entries written back into a rows×cols matrix, column by column."""

    __slots__ = ()
    name = "unvec"
    notation = call("vec⁻¹", "\\operatorname{vec}^{-1}", "unvec")
    family = "linear"
    why = "C:vec⁻¹(g) = vec(C):g — the adjoint of unstacking is stacking"
    why_latex = r"C:\operatorname{vec}^{-1}(g) = \operatorname{vec}(C):g"

    @classmethod
    def shape_rule(cls, args, params):
        rows, cols = params
        column = args[0].shape
        if column[1] != 1 or not same_dim(column[0], dim_product(rows, cols)):
            raise ShapeError(
                f"unvec: a {shape_str((rows, cols))} matrix needs a column of {dim_product(rows, cols)} entries, "
                f"got {shape_str(column)}"
            )
        return (rows, cols)

    def pullback(self, index, adjoint):
        return make(Vec, (adjoint,))

    def differential(self, dargs):
        return make(Unvec, (dargs[0],), self.params)

    def vec_jacobian(self, index):
        return None  # vec(vec⁻¹(dg)) = dg

    numpy_view = True

    def numpy_code(self, args, dim_code):
        rows, cols = (dim_code(d) for d in self.params)
        return f"{args[0]}.reshape({cols}, {rows}).T"  # row j of the reshape is column j

    jax_code = numpy_code
    torch_code = numpy_code

    def entrywise(self, args, size):
        rows, cols = size(self.shape[0]), size(self.shape[1])
        return sympy.Matrix(rows, cols, lambda i, j: args[0][j * rows + i, 0])


class Commutation(Expr):
    """K(m, n), the commutation matrix: K vec(A) = vec(Aᵀ) for every m×n matrix A (Magnus and
    Neudecker's K_mn).  A constant, like I; it writes the transpose in vec form."""

    __slots__ = ()
    name = "commutation"

    @classmethod
    def shape_rule(cls, args, params):
        size = dim_product(*params)
        return (size, size)

    @property
    def notation(self):
        rows, cols = self.params
        return Notation("fixed", "K", f"K_{{{sympy.latex(rows)},{sympy.latex(cols)}}}")

    @property
    def symmetric_by_structure(self):
        return same_dim(*self.params)  # K(n, n) is its own transpose (and inverse)

    def _permutation(self, dim_code) -> tuple[str, str, str]:
        """The size mn and the shape (n, m) whose transpose, read row by row, gives in row i·n + j
        the column j·m + i where K's one stands."""
        return dim_code(self.shape[0]), dim_code(self.params[1]), dim_code(self.params[0])

    def numpy_code(self, args, dim_code):
        size, cols, rows = self._permutation(dim_code)
        return f"np.eye({size})[np.arange({size}).reshape({cols}, {rows}).T.ravel()]"

    def jax_code(self, args, dim_code):
        size, cols, rows = self._permutation(dim_code)
        return f"jnp.eye({size}, dtype=_dtype)[jnp.arange({size}).reshape({cols}, {rows}).T.ravel()]"

    def torch_code(self, args, dim_code):
        size, cols, rows = self._permutation(dim_code)
        return (f"torch.eye({size}, dtype=_dtype, device=_device)"
                f"[torch.arange({size}, device=_device).reshape({cols}, {rows}).T.reshape(-1)]")

    def entrywise(self, args, size):
        rows, cols = size(self.params[0]), size(self.params[1])
        n = rows * cols
        return sympy.Matrix(n, n, lambda r, c: 1 if c == (r % cols) * rows + r // cols else 0)
