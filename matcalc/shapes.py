"""Dimensions (Python ints or positive-integer sympy Symbols) and shape arithmetic."""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import TypeAlias

import sympy

from .errors import OperandError, ShapeError

Dim: TypeAlias = int | sympy.Expr
Shape = tuple  # (rows, cols); every matcalc expression is two-dimensional


def dims(names: str) -> tuple[sympy.Symbol, ...]:
    """Symbolic sizes, positive integers, from a space- or comma-separated string.

    Parameters
    ----------
    names : str
        The names, e.g. ``"n m"`` or ``"n, m"``; each must be a Python identifier.

    Returns
    -------
    tuple of sympy.Symbol
        One positive-integer symbol per name, in order (a 1-tuple for one name).

    Raises
    ------
    OperandError
        For no names, or a name that is not an identifier.

    Examples
    --------
    >>> n, m = mc.dims("n m")
    >>> n.is_positive and n.is_integer
    True
    >>> mc.matrix("W", n, m).shape
    (n, m)
    """
    if not isinstance(names, str):
        raise OperandError(f"dims: give the names as one string, e.g. dims('n m'), got {names!r}")
    parts = names.replace(",", " ").split()
    if not parts:
        raise OperandError("dims: give at least one name, e.g. dims('n m')")
    for part in parts:
        if not part.isidentifier():
            raise OperandError(f"dims: {part!r} is not a valid dimension name")
    return tuple(_dimension_symbol(part) for part in parts)


def as_dim(value, where: str) -> Dim:
    """A dimension from an int or a sympy expression, checked to be a positive size."""
    if isinstance(value, bool):
        raise OperandError(f"{where}: a dimension must be a positive integer or dims() symbol, not {value!r}")
    if isinstance(value, sympy.Integer):
        value = int(value)
    if isinstance(value, int):
        if value < 1:
            raise ShapeError(f"{where}: dimension {value} is not a positive integer")
        return value
    if isinstance(value, sympy.Expr) and value.free_symbols and value.is_positive is not False:
        # Symbol("n") and dims("n") must be one dimension, not two that print alike
        return value.xreplace({s: _dimension_symbol(s.name) for s in value.free_symbols})
    raise OperandError(f"{where}: a dimension must be a positive integer or dims() symbol, not {value!r}")


@lru_cache(maxsize=1024)
def _dimension_symbol(name: str) -> sympy.Symbol:
    return sympy.Symbol(name, integer=True, positive=True)


def same_shape(a: Shape, b: Shape) -> bool:
    """Whether two shapes are equal for every value of their symbols."""
    return same_dim(a[0], b[0]) and same_dim(a[1], b[1])


def dim_product(a: Dim, b: Dim) -> Dim:
    product = sympy.Mul(a, b) if isinstance(a, sympy.Expr) or isinstance(b, sympy.Expr) else a * b
    return int(product) if isinstance(product, sympy.Integer) else product


@lru_cache(maxsize=4096)
def same_dim(a: Dim, b: Dim) -> bool:
    """Whether two dimensions are equal for every value of their symbols."""
    if a == b:
        return True
    if isinstance(a, int) and isinstance(b, int):
        return False
    return sympy.expand(sympy.sympify(a) - sympy.sympify(b)) == 0


_SUPERSCRIPT_DIGITS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_POWER = re.compile(r"\*\*(\d+)")


def dim_str(d: Dim, times: str = "·") -> str:
    """A dimension as text: n, n·m, n² (sympy writes n**2), joined by ``times``."""
    written = _POWER.sub(lambda match: match.group(1).translate(_SUPERSCRIPT_DIGITS), str(d))
    return written.replace("*", times)


def shape_str(shape: Shape) -> str:
    return f"{dim_str(shape[0])}×{dim_str(shape[1])}"


def is_scalar_shape(shape: Shape) -> bool:
    return is_one(shape[0]) and is_one(shape[1])


def is_one(d: Dim) -> bool:
    # A symbolic size is never 1, and asking sympy's == costs more than the rest of a rule.
    return d == 1 if isinstance(d, int) else bool(d.is_Integer) and d == 1


def resolve_dim(d: Dim, sizes: dict) -> int:
    """The integer value of a dimension, given sizes keyed by sympy Symbol."""
    if isinstance(d, int):
        return d
    value = d.subs(sizes)
    if not value.is_Integer:
        missing = ", ".join(sorted(str(s) for s in value.free_symbols))
        raise ShapeError(f"no size given for dimension {missing}")
    return int(value)


def is_finite_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
