"""Nonlinear operations: each states its local derivative as a Frobenius rule."""

from __future__ import annotations

from fractions import Fraction

import sympy

from ..errors import OperandError, ShapeError
from ..expr import Const, Expr, Ones, as_expr, make, sympy_number
from ..printing.notation import PREC_POSTFIX, Notation, call, postfix
from ..shapes import is_one, same_dim, shape_str
from ..sympy_forms import applied, is_matrix, ones, scalar_of
from .bilinear import Frob, Hadamard, MatMul, Scale
from .elementwise import apply, log_f
from .linear import Add, Sum, Trace, Transpose


def _neg(expr: Expr) -> Expr:
    return make(Scale, (make(Const, (), (-1,)), expr))


def _require_square(name: str, x: Expr) -> None:
    if not same_dim(x.shape[0], x.shape[1]):
        raise ShapeError(f"{name}: needs a square matrix, got {shape_str(x.shape)}")


def _power_code(power: str, x: str, exponent) -> str:
    """x^p entry by entry in a backend whose power function is ``power`` (jnp.power, torch.pow):
    1/x and x·x as plain arithmetic, which every backend differentiates exactly."""
    if exponent == -1:
        return f"(1.0 / {x})"
    if exponent == 2:
        return f"({x} * {x})"
    p = f"({exponent.numerator}/{exponent.denominator})" if isinstance(exponent, Fraction) else repr(exponent)
    return f"{power}({x}, {p})"


class Power(Expr):
    """X^p entry by entry, for a constant exponent p (NumPy's ``**``)."""

    __slots__ = ()
    name = "power"
    index_rule = "power"
    notation = Notation("power", "", "", ".^", PREC_POSTFIX)
    family = "nonlinear"
    why = "d(X^p) = pX^(p−1) ⊙ dX"
    why_latex = r"\mathrm{d}(X^{p}) = pX^{p-1} \odot \mathrm{d}X"

    @classmethod
    def shape_rule(cls, args, params):
        return args[0].shape

    @property
    def exponent(self):
        return self.params[0]

    @property
    def argument_domain(self):
        return None if isinstance(self.exponent, int) and self.exponent >= 0 else "positive"

    @property
    def symmetric_by_structure(self):
        return self.args[0].is_symmetric

    def local_derivative(self) -> Expr:
        return self.exponent * self.args[0] ** (self.exponent - 1)

    def pullback(self, index, adjoint):
        return adjoint * self.local_derivative()

    def differential(self, dargs):
        return self.local_derivative() * dargs[0]

    def numpy_code(self, args, dim_code):
        ufunc, operands = self.numpy_ufunc(args, dim_code)
        return f"{ufunc}({', '.join(operands)})"

    def numpy_ufunc(self, args, dim_code):
        p = self.exponent
        if p == -1:
            return "np.divide", ["1.0", args[0]]
        if p == 2:
            return "np.multiply", [args[0], args[0]]
        return "np.power", [args[0], f"({p.numerator}/{p.denominator})" if isinstance(p, Fraction) else repr(p)]

    def jax_code(self, args, dim_code):
        return _power_code("jnp.power", args[0], self.exponent)

    def torch_code(self, args, dim_code):
        return _power_code("torch.pow", args[0], self.exponent)

    def entrywise(self, args, size):
        exponent = sympy_number(self.exponent)
        return args[0].applyfunc(lambda entry: entry**exponent)

    def sympy_form(self, args):
        exponent = sympy_number(self.exponent)
        if self.is_scalar or not is_matrix(args[0]):
            return scalar_of(args[0]) ** exponent
        return sympy.HadamardPower(args[0], exponent)



class PowerOf(Expr):
    """X^s entry by entry, for a scalar expression s (a variable, say): X ** s."""

    __slots__ = ()
    name = "power_of"
    notation = Notation("raised", "", "", ".^", PREC_POSTFIX)
    family = "nonlinear"
    argument_domain = "positive"  # a real power of a negative number is not real
    why = "d(X^s) = sX^(s−1) ⊙ dX + (X^s ⊙ log X) ds"
    why_latex = r"\mathrm{d}(X^{s}) = sX^{s-1} \odot \mathrm{d}X + (X^{s} \odot \log X)\,\mathrm{d}s"

    @classmethod
    def shape_rule(cls, args, params):
        base, exponent = args
        if exponent.shape != (1, 1):
            raise ShapeError(f"**: the exponent must be a scalar, got {shape_str(exponent.shape)}")
        return base.shape

    def _slope(self) -> Expr:
        """sX^(s−1), the change per change of X."""
        base, exponent = self.args
        return exponent * make(PowerOf, (base, exponent - 1))

    def _log_weighted(self) -> Expr:
        """X^s ⊙ log X, the change per change of s."""
        return self * apply(log_f, self.args[0])

    def pullback(self, index, adjoint):
        if index == 0:
            return adjoint * self._slope()
        return make(Sum, (adjoint * self._log_weighted(),))

    def differential(self, dargs):
        d_base, d_exponent = dargs
        terms = ([self._slope() * d_base] if d_base is not None else []) + (
            [self._log_weighted() * d_exponent] if d_exponent is not None else []
        )
        return terms[0] if len(terms) == 1 else make(Add, tuple(terms))

    def numpy_code(self, args, dim_code):
        return f"np.power({args[0]}, {args[1]})"

    def jax_code(self, args, dim_code):
        return f"jnp.power({args[0]}, {args[1]})"

    def torch_code(self, args, dim_code):
        return f"torch.pow({args[0]}, {args[1]})"

    def entrywise(self, args, size):
        exponent = args[1][0, 0]
        return args[0].applyfunc(lambda entry: entry**exponent)

    def sympy_form(self, args):
        base, exponent = args
        if self.is_scalar:
            return scalar_of(base) ** scalar_of(exponent)
        return sympy.HadamardPower(base, scalar_of(exponent))


class Inverse(Expr):
    """X⁻¹, the inverse of a square matrix.

    Its pullback: C:dX⁻¹ = −X⁻ᵀCX⁻ᵀ:dX.

    Parameters
    ----------
    x : Expr or number
        A square matrix.

    Returns
    -------
    Expr
        X⁻¹, of the same shape.

    Raises
    ------
    ShapeError
        For a matrix that is not square.

    Examples
    --------
    >>> X, a, b = mc.matrix("X", 3, 3), mc.vector("a", 3), mc.vector("b", 3)
    >>> print(mc.grad(a.T @ mc.inv(X) @ b, X))
    −X⁻ᵀabᵀX⁻ᵀ
    """

    __slots__ = ()
    name = "inv"
    argument_domain = "invertible"
    api = "inv"
    signatures = ("(n,n)->(n,n)",)
    notation = postfix("⁻¹", "^{-1}", "inv")
    family = "nonlinear"
    why = "dX⁻¹ = −X⁻¹ dX X⁻¹, so C:dX⁻¹ = −X⁻ᵀCX⁻ᵀ:dX"
    why_latex = r"C:\mathrm{d}X^{-1} = -X^{-\top} C X^{-\top}:\mathrm{d}X"

    @classmethod
    def shape_rule(cls, args, params):
        _require_square("inv", args[0])
        return args[0].shape

    @property
    def symmetric_by_structure(self):
        return self.args[0].is_symmetric

    def pullback(self, index, adjoint):
        inverse_t = make(Transpose, (self,))
        return _neg(make(MatMul, (inverse_t, adjoint, inverse_t)))

    def differential(self, dargs):
        return _neg(make(MatMul, (self, dargs[0], self)))

    def numpy_code(self, args, dim_code):
        return f"np.linalg.inv({args[0]})"

    def jax_code(self, args, dim_code):
        return f"jnp.linalg.inv({args[0]})"

    def torch_code(self, args, dim_code):
        return f"torch.linalg.inv({args[0]})"

    def entrywise(self, args, size):
        # One symbolic entry among floats: cancel keeps each entry a small rational function.
        return args[0].inv(method="ADJ").applyfunc(sympy.cancel)

    def sympy_form(self, args):
        return sympy.Inverse(args[0]) if is_matrix(args[0]) else 1 / args[0]



class Det(Expr):
    """det(X), the determinant of a square matrix.

    Its gradient is det(X)X⁻ᵀ (Jacobi's formula).

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
    >>> X = mc.matrix("X", 3, 3)
    >>> print(mc.grad(mc.det(X), X))
    det(X)X⁻ᵀ
    """

    __slots__ = ()
    name = "det"
    argument_domain = "invertible"
    api = "det"
    signatures = ("(n,n)->(1,1)",)
    notation = call("det", "\\det")
    family = "nonlinear"
    why = "d det X = det(X) X⁻ᵀ:dX"
    why_latex = r"\mathrm{d}\det X = \det(X)\, X^{-\top}:\mathrm{d}X"

    @classmethod
    def shape_rule(cls, args, params):
        _require_square("det", args[0])
        return (1, 1)

    def pullback(self, index, adjoint):
        inverse_t = make(Transpose, (make(Inverse, (self.args[0],)),))
        return make(Scale, (make(Scale, (adjoint, self)), inverse_t))

    def differential(self, dargs):
        x = self.args[0]
        return make(Scale, (self, make(Trace, (make(MatMul, (make(Inverse, (x,)), dargs[0])),))))

    def numpy_code(self, args, dim_code):
        return f"np.linalg.det({args[0]}).reshape(1, 1)"

    def jax_code(self, args, dim_code):
        return f"jnp.linalg.det({args[0]}).reshape(1, 1)"

    def torch_code(self, args, dim_code):
        return f"torch.linalg.det({args[0]}).reshape(1, 1)"

    def entrywise(self, args, size):
        return sympy.Matrix([[sympy.cancel(args[0].det(method="berkowitz"))]])

    def sympy_form(self, args):
        return sympy.Determinant(args[0]) if is_matrix(args[0]) else args[0]



class LogDet(Expr):
    """log det X of a square matrix with det X > 0 (a covariance, say).

    Its value is nan where det X < 0 and −inf where det X = 0, as log's is; its gradient is X⁻ᵀ.

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
    >>> X = mc.matrix("X", 3, 3)
    >>> print(mc.grad(mc.logdet(X), X))
    X⁻ᵀ
    """

    __slots__ = ()
    name = "logdet"
    argument_domain = "invertible"
    api = "logdet"
    signatures = ("(n,n)->(1,1)",)
    notation = call("log det", "\\log\\det", "logdet")
    family = "nonlinear"
    why = "d log det X = X⁻ᵀ:dX"
    why_latex = r"\mathrm{d}\log\det X = X^{-\top}:\mathrm{d}X"

    @classmethod
    def shape_rule(cls, args, params):
        _require_square("logdet", args[0])
        return (1, 1)

    def pullback(self, index, adjoint):
        inverse_t = make(Transpose, (make(Inverse, (self.args[0],)),))
        return make(Scale, (adjoint, inverse_t))

    def differential(self, dargs):
        return make(Trace, (make(MatMul, (make(Inverse, (self.args[0],)), dargs[0])),))

    def numpy_code(self, args, dim_code):
        return f"_logdet({args[0]})"

    jax_code = numpy_code  # each backend's runtime has its own _logdet
    torch_code = numpy_code

    def entrywise(self, args, size):
        return sympy.Matrix([[sympy.log(sympy.cancel(args[0].det(method="berkowitz")))]])

    def sympy_form(self, args):
        return sympy.log(sympy.Determinant(args[0]) if is_matrix(args[0]) else args[0])



class Norm(Expr):
    """‖X‖: the 2-norm of a vector, the Frobenius norm of a matrix.

    Parameters
    ----------
    x : Expr or number
        Any expression.

    Returns
    -------
    Expr
        A scalar, √(X:X).

    Examples
    --------
    >>> x = mc.vector("x", 3)
    >>> print(mc.grad(mc.norm(x), x))
    x/‖x‖
    """

    __slots__ = ()
    name = "norm"
    api = "norm"
    signatures = ("(a,b)->(1,1)",)
    syntax = ("norm2",)
    notation = Notation("norm", "‖", "\\lVert", "norm2")
    family = "nonlinear"
    why = "d‖X‖ = (X/‖X‖):dX"
    why_latex = r"\mathrm{d}\lVert X \rVert = \frac{X}{\lVert X \rVert}:\mathrm{d}X"

    @classmethod
    def shape_rule(cls, args, params):
        return (1, 1)

    def pullback(self, index, adjoint):
        return make(Scale, (make(Scale, (adjoint, self**-1)), self.args[0]))

    def differential(self, dargs):
        return make(Scale, (self**-1, make(Frob, (self.args[0], dargs[0]))))

    def numpy_code(self, args, dim_code):
        return f"np.sqrt(np.sum({args[0]} * {args[0]})).reshape(1, 1)"

    def jax_code(self, args, dim_code):
        return f"jnp.sqrt(jnp.sum({args[0]} * {args[0]})).reshape(1, 1)"

    def torch_code(self, args, dim_code):
        return f"torch.sqrt(torch.sum({args[0]} * {args[0]})).reshape(1, 1)"

    def entrywise(self, args, size):
        return sympy.Matrix([[sympy.sqrt(sympy.Add(*[e**2 for e in args[0]]))]])

    def sympy_form(self, args):
        x = args[0]
        return sympy.sqrt(sympy.Trace(sympy.Transpose(x) * x)) if is_matrix(x) else sympy.Abs(x)



def _along_axis(cls: type, x, axis) -> Expr:
    """cls over x column by column (axis 0, as vectors are columns), or row by row (axis 1,
    written as cls(xᵀ)ᵀ)."""
    x = as_expr(x, cls.api)
    if isinstance(axis, bool) or axis not in (0, 1):
        raise OperandError(f"{cls.api}: axis must be 0 (each column) or 1 (each row), got {axis!r}")
    if axis == 0:
        return make(cls, (x,))
    return make(Transpose, (make(cls, (make(Transpose, (x,)),)),))


def _spread_rows(row: Expr, rows) -> Expr:
    """𝟏r: a 1×m row repeated down n rows (the row itself when n is 1)."""
    return row if rows == 1 else make(MatMul, (make(Ones, (), (rows, 1)), row))


def _column_sums(x: Expr) -> Expr:
    """𝟏ᵀX: each column's sum."""
    return make(MatMul, (make(Transpose, (make(Ones, (), (x.shape[0], 1)),)), x))


class Softmax(Expr):
    """softmax(X) = exp(X)/𝟏ᵀexp(X), column by column (a vector is one column); axis=1 row by row.

    Parameters
    ----------
    x : Expr or number
        Any expression.
    axis : {0, 1}, optional
        0 (the default) normalises each column, 1 each row.

    Returns
    -------
    Expr
        Of the shape of ``x``; each column (or row) is positive and sums to 1.

    Raises
    ------
    OperandError
        For another ``axis``.

    Examples
    --------
    >>> z = mc.vector("z", 3)
    >>> print(mc.jacobian(mc.softmax(z), z))
    diag(softmax(z)) − softmax(z)softmax(z)ᵀ
    """

    __slots__ = ()
    name = "softmax"
    api = "softmax"
    signatures = ("(a,b)->(a,b)",)
    notation = call("softmax", "\\operatorname{softmax}")
    family = "nonlinear"
    why = "ds = s ⊙ dx − s(sᵀdx) per column, so C:ds = (s ⊙ C − s(sᵀC)):dx"
    why_latex = r"C:\mathrm{d}s = (s \odot C - s\,s^\top C):\mathrm{d}x"

    @classmethod
    def build(cls, x: Expr | float, axis: int = 0) -> Expr:
        return _along_axis(cls, x, axis)

    @classmethod
    def shape_rule(cls, args, params):
        return args[0].shape

    def _change(self, direction: Expr) -> Expr:
        """S ⊙ D − S ⊙ 𝟏𝟏ᵀ(S ⊙ D): how softmax moves along D (and, S being symmetric per
        column in this sense, its adjoint of D); s ⊙ d − s(sᵀd) for a vector."""
        s = self
        if s.is_vector:
            weighted = make(MatMul, (make(Transpose, (s,)), direction))
            return make(Add, (make(Hadamard, (s, direction)), _neg(make(Scale, (weighted, s)))))
        weighted = make(Hadamard, (s, direction))
        spread = _spread_rows(_column_sums(weighted), s.shape[0])
        return make(Add, (weighted, _neg(make(Hadamard, (s, spread)))))

    def pullback(self, index, adjoint):
        return self._change(adjoint)

    def differential(self, dargs):
        return self._change(dargs[0])

    def numpy_code(self, args, dim_code):
        return f"_softmax({args[0]})"

    jax_code = numpy_code  # the JAX runtime's _softmax, shifted like NumPy's

    def torch_code(self, args, dim_code):
        return f"torch.softmax({args[0]}, dim=0)"  # torch shifts by the largest entry itself

    def entrywise(self, args, size):
        x = args[0]
        columns = []
        for j in range(x.cols):
            exps = x[:, j].applyfunc(sympy.exp)
            columns.append(exps / sympy.Add(*exps))
        return sympy.Matrix.hstack(*columns)

    def sympy_form(self, args):
        x, (rows, cols) = args[0], self.args[0].shape
        if not is_matrix(x):  # of a scalar: 1
            return sympy.S.One
        exponentials = applied(sympy.exp, x, False)
        reciprocals = applied(lambda v: 1 / v, ones(1, rows) * exponentials, is_one(cols))  # of each column's sum
        if is_one(cols):
            return reciprocals * exponentials
        return sympy.HadamardProduct(exponentials, ones(rows, 1) * reciprocals)


class LogSumExp(Expr):
    """log 𝟏ᵀexp(X), column by column: a scalar for a vector, a row for a matrix; axis=1 row by row.

    Its gradient is softmax: d logsumexp(x) = softmax(x):dx.

    Parameters
    ----------
    x : Expr or number
        Any expression.
    axis : {0, 1}, optional
        0 (the default) reduces each column, 1 each row.

    Returns
    -------
    Expr
        A 1×cols row (a scalar for a vector), or a rows×1 column along axis 1.

    Raises
    ------
    OperandError
        For another ``axis``.

    Examples
    --------
    >>> x, t = mc.vector("x", 3), mc.vector("t", 3, sums_to_one=True)
    >>> print(mc.grad(mc.logsumexp(x) - t.T @ x, x))
    softmax(x) − t
    """

    __slots__ = ()
    name = "logsumexp"
    api = "logsumexp"
    signatures = ("(a,b)->(1,b)",)
    notation = call("logsumexp", "\\operatorname{logsumexp}")
    family = "nonlinear"
    why = "d logsumexp(x) = softmax(x):dx, for each column"
    why_latex = r"\mathrm{d}\operatorname{logsumexp}(x) = \operatorname{softmax}(x):\mathrm{d}x"

    @classmethod
    def build(cls, x: Expr | float, axis: int = 0) -> Expr:
        return _along_axis(cls, x, axis)

    @classmethod
    def shape_rule(cls, args, params):
        return (1, args[0].shape[1])

    def pullback(self, index, adjoint):
        x = self.args[0]
        if x.is_vector or x.is_scalar:
            return make(Scale, (adjoint, make(Softmax, (x,))))
        return make(Hadamard, (make(Softmax, (x,)), _spread_rows(adjoint, x.shape[0])))

    def differential(self, dargs):
        x = self.args[0]
        if x.is_vector or x.is_scalar:
            return make(MatMul, (make(Transpose, (make(Softmax, (x,)),)), dargs[0]))
        return _column_sums(make(Hadamard, (make(Softmax, (x,)), dargs[0])))

    def numpy_code(self, args, dim_code):
        return f"_logsumexp({args[0]})"

    jax_code = numpy_code  # the JAX runtime's _logsumexp

    def torch_code(self, args, dim_code):
        return f"torch.logsumexp({args[0]}, dim=0, keepdim=True)"

    def entrywise(self, args, size):
        x = args[0]
        return sympy.Matrix([[sympy.log(sympy.Add(*[sympy.exp(e) for e in x[:, j]])) for j in range(x.cols)]])

    def sympy_form(self, args):
        x, (rows, cols) = args[0], self.args[0].shape
        if not is_matrix(x):  # of a scalar: the scalar
            return x
        return applied(sympy.log, ones(1, rows) * applied(sympy.exp, x, False), is_one(cols))
