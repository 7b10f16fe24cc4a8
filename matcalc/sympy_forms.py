"""What the operations' records need to write themselves in SymPy (``Expr.sympy_form``).

SymPy tells a 1×1 matrix from a scalar, and writes a function of each entry as a class of its
own; these helpers say how.  This module imports SymPy only, so that every record can use it.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable

import sympy
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction


def is_matrix(value) -> bool:
    return isinstance(value, sympy.MatrixExpr)


def scalar_of(value: sympy.Basic) -> sympy.Basic:
    """A 1×1 SymPy matrix expression as the scalar it stands for, its trace.  (``M[0, 0]``
    would do as well, but SymPy expands an entry of a product into an indexed ``Sum``.)"""
    return sympy.Trace(value) if is_matrix(value) else value


def ones(rows, cols) -> sympy.Basic:
    return sympy.OneMatrix(rows, cols)


def applied(function: Callable, x: sympy.Basic, scalar_result: bool) -> sympy.Basic:
    """f applied entry by entry: f(s) for a scalar, X.applyfunc(Lambda(u, f(u))) otherwise."""
    if not is_matrix(x) or scalar_result:
        return function(scalar_of(x))
    u = sympy.Symbol("u")
    return ElementwiseApplyFunction(sympy.Lambda(u, function(u)), x)


def product(scalar_factors: list[bool], args: list, combine: Callable) -> sympy.Basic:
    """A product (matrix or Kronecker, ``combine``) with its 1×1 factors as one SymPy coefficient
    in front, as SymPy writes it: sAB, s(A ⊗ B)."""
    coefficient, matrices = sympy.S.One, []
    for is_scalar, arg in zip(scalar_factors, args):
        if is_scalar:
            coefficient *= scalar_of(arg)
        elif isinstance(arg, sympy.MatMul):  # SymPy's Kronecker product fails on a MatMul with a coefficient
            factor, factors = arg.as_coeff_matrices()
            coefficient *= factor
            matrices.append(sympy.MatMul(*factors) if len(factors) > 1 else factors[0])
        else:
            matrices.append(arg)
    return coefficient * combine(matrices) if matrices else coefficient


def matrix_product(matrices: list) -> sympy.Basic:
    return functools.reduce(operator.mul, matrices)


def kronecker_product(matrices: list) -> sympy.Basic:
    return sympy.KroneckerProduct(*matrices) if len(matrices) > 1 else matrices[0]
