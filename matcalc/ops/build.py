"""What the operators @, *, /, **, +, − and .T build, with NumPy's meaning: operands checked,
numbers made constants, scaling where a side is a scalar."""

from __future__ import annotations

import math
from fractions import Fraction

import sympy

from ..errors import OperandError, ShapeError
from ..expr import OPERATORS, Const, Expr, Ones, as_expr, const, make, number_value
from ..registry import public
from ..shapes import is_one, same_dim, same_shape, shape_str
from .bilinear import Hadamard, MatMul, Scale
from .elementwise import apply, exp_f
from .linear import Add, Sum, Transpose
from .nonlinear import Power, PowerOf


def _operand(value, where: str) -> Expr:
    return as_expr(value, where)


def matmul(a, b) -> Expr:
    """The matrix product a @ b."""
    a, b = _operand(a, "@"), _operand(b, "@")
    return make(MatMul, (a, b))


def multiply(a, b) -> Expr:
    """a * b: scaling when either side is a scalar, else the elementwise (Hadamard) product,
    broadcast as NumPy does (a column against a matrix is repeated along the rows' length)."""
    a, b = _operand(a, "*"), _operand(b, "*")
    if a.is_scalar:
        return make(Scale, (a, b))
    if b.is_scalar:
        return make(Scale, (b, a))
    return make(Hadamard, _broadcast(a, b, "*", "hadamard"))


def divide(a, b) -> Expr:
    """a / b: by a scalar, or elementwise."""
    a, b = _operand(a, "/"), _operand(b, "/")
    if isinstance(b, Const) and not isinstance(b.value, sympy.Expr):
        if b.value == 0:
            raise OperandError("/: division by the constant 0")
        return make(Scale, (const(Fraction(1) / b.value if not isinstance(b.value, float) else 1.0 / b.value), a))
    if not (a.is_scalar or b.is_scalar):
        a, b = _broadcast(a, b, "/", "divide")
    return multiply(a, power(b, -1))


def power(x, exponent) -> Expr:
    """x ** p entry by entry, for a number p or a scalar expression p."""
    x = _operand(x, "**")
    if isinstance(exponent, Const) and not isinstance(exponent.value, sympy.Expr):
        exponent = exponent.value
    if isinstance(exponent, Expr):
        return make(PowerOf, (x, exponent))
    exponent = number_value(exponent, "**")
    if isinstance(exponent, sympy.Expr):
        raise OperandError("**: the exponent must be a number, not a dimension")
    if exponent < 0 and isinstance(x, Const) and x.value == 0:
        raise OperandError(f"**: 0 to the power {exponent} divides by zero")
    return make(Power, (x,), (exponent,))


def power_of_number(base, x) -> Expr:
    """c ** x for a positive number c, as exp(log(c) x)."""
    value = number_value(base, "**")
    if isinstance(value, sympy.Expr) or value <= 0:
        raise OperandError(f"**: a number raised to an expression needs a positive base, got {base!r}")
    # log of the exact number (1e-300 and 10**400 too), not of a float that may under- or overflow
    logarithm = math.log(value.numerator) - math.log(value.denominator) if isinstance(value, Fraction) else math.log(value)
    return apply(exp_f, multiply(logarithm, x))


def _broadcast(a: Expr, b: Expr, symbol: str, where: str) -> tuple[Expr, Expr]:
    """Both operands at their common shape, as NumPy broadcasts 2-D arrays: a dimension of 1
    stretches to the other's.  The stretching is written out (s𝟏𝟏ᵀ, b𝟏ᵀ, 𝟏r), so the closed
    form shows it and the gradient of a stretched operand sums over the stretched axis."""
    shape = []
    for axis in (0, 1):
        size_a, size_b = a.shape[axis], b.shape[axis]
        if same_dim(size_a, size_b) or is_one(size_b):
            shape.append(size_a)
        elif is_one(size_a):
            shape.append(size_b)
        else:
            raise ShapeError(
                f"{where}: ({shape_str(a.shape)}) {symbol} ({shape_str(b.shape)}): shapes differ, "
                "and neither is 1 where they differ (NumPy's broadcasting)"
            )
    return _stretched(a, tuple(shape)), _stretched(b, tuple(shape))


def _stretched(x: Expr, shape: tuple) -> Expr:
    """x broadcast to ``shape``: a scalar s as s𝟏, a column c as c𝟏ᵀ, a row r as 𝟏r."""
    if same_shape(x.shape, shape):
        return x
    if x.is_scalar:
        return make(Scale, (x, make(Ones, (), shape)))
    rows, cols = shape
    if is_one(x.shape[1]):
        return make(MatMul, (x, make(Ones, (), (1, cols))))
    return make(MatMul, (make(Ones, (), (rows, 1)), x))


def add(a, b) -> Expr:
    """a + b, broadcast as NumPy does: a scalar is added to every entry, a column to every column."""
    a, b = _broadcast(_operand(a, "+"), _operand(b, "+"), "+", "add")
    return make(Add, (a, b))


def subtract(a, b) -> Expr:
    """a − b, broadcast as NumPy does."""
    a, b = _broadcast(_operand(a, "-"), _operand(b, "-"), "-", "subtract")
    return make(Add, (a, negate(b)))


def negate(x) -> Expr:
    return make(Scale, (const(-1), _operand(x, "-")))


@public(syntax=(), arity=2, signatures=("(n,1),(n,1)->(1,1)",))
def dot(a: Expr, b: Expr) -> Expr:
    """aᵀb, the dot product of two vectors of one length.

    Parameters
    ----------
    a, b : Expr
        Two column vectors (n×1).

    Returns
    -------
    Expr
        A scalar.

    Raises
    ------
    ShapeError
        For operands that are not columns, or of different lengths.

    Examples
    --------
    >>> x, y = mc.vector("x", 3), mc.vector("y", 3)
    >>> print(mc.dot(x, y))
    xᵀy
    >>> print(mc.grad(mc.dot(x, y), x))
    y
    """
    a, b = _operand(a, "dot"), _operand(b, "dot")
    if a.shape[1] != 1 or b.shape[1] != 1:
        raise ShapeError(f"dot: needs two column vectors, got ({shape_str(a.shape)}) and ({shape_str(b.shape)})")
    if not same_dim(a.shape[0], b.shape[0]):
        raise ShapeError(f"dot: ({shape_str(a.shape)}) · ({shape_str(b.shape)}): lengths differ")
    return make(MatMul, (make(Transpose, (a,)), b))


OPERATORS.update(
    transpose=Transpose.build, matmul=matmul, multiply=multiply, divide=divide, power=power,
    power_of_number=power_of_number, add=add, subtract=subtract, negate=negate,
)


@public(syntax=("mean",), signatures=("(a,b)->(1,1)",))
def mean(x: Expr | float, axis: int | None = None) -> Expr:
    """The mean of all entries, sum(X)/(mn); along ``axis`` 0 the column means 𝟏ᵀX/m, along 1
    the row means X𝟏/n: a sum divided by a count, so it prints, differentiates and compiles as one.

    Parameters
    ----------
    x : Expr or number
        Any expression, m×n.
    axis : {None, 0, 1}, optional
        None (the default) averages every entry to a scalar; 0 each column (a 1×n row);
        1 each row (an m×1 column).

    Returns
    -------
    Expr
        A scalar, a row or a column.

    Raises
    ------
    OperandError
        For another ``axis``.

    Examples
    --------
    >>> X = mc.matrix("X", 2, 4)
    >>> print(mc.mean(X, axis=1))
    X𝟏/4
    >>> print(mc.grad(mc.mean(X), X))
    𝟏𝟏ᵀ/8
    """
    x = _operand(x, "mean")
    rows, cols = x.shape
    counts = {None: rows * cols, 0: rows, 1: cols}
    if isinstance(axis, bool) or axis not in counts:
        raise OperandError(f"mean: axis must be 0 (columns), 1 (rows) or None (all entries), got {axis!r}")
    return divide(Sum.build(x, axis), counts[axis])
