"""A plain-NumPy reference evaluator, written in the tests and independent of matcalc's code generator.

One NumPy function per operation class (``RULES``) and one per elementwise function
(``ELEMENTWISE``), each written here from the operation's mathematical definition; none of
them reads a template, a helper or generated code from matcalc.  The DAG is walked
bottom-up with ``matcalc.printing.common.postorder`` (no recursion), each node once.

>>> import matcalc as mc
>>> A, x = mc.matrix("A", 2, 2), mc.vector("x", 2)
>>> float(value(x.T @ A @ x, {A: [[1, 2], [3, 4]], x: [1, 1]})[0, 0])
10.0
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy

import matcalc as mc
from matcalc import ops
from matcalc.expr import Const, Identity, Let, Ones, Symbol, Zero
from matcalc.printing.common import postorder


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # σ(x) = (1 + tanh(x/2))/2: no overflow at either end


def _softplus(x):
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))  # log(1 + eˣ) without overflow


# Built-in elementwise functions by name, from their definitions.
ELEMENTWISE = {
    "exp": np.exp,
    "log": np.log,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "sigmoid'": lambda x: _sigmoid(x) * _sigmoid(-x),
    "relu": lambda x: np.where(x > 0, x, 0.0),
    "relu'": lambda x: (x > 0).astype(float),
    "sqrt": np.sqrt,
    "abs": np.abs,
    "sign": np.sign,
    "softplus": _softplus,
    "logsigmoid": lambda x: -np.logaddexp(0.0, -x),
}


_DERIVED: dict = {}


def _user_function(function):
    """An elementwise function with no entry in ``ELEMENTWISE`` (a derivative sympy derived, or a
    user function the tests did not list): its sympy formula through Python's ``math`` module, one
    entry at a time (not the NumPy printer that matcalc's generated helpers use)."""
    numeric = _DERIVED.get(function)
    if numeric is None:
        formula = function.formula
        free = sorted(formula.free_symbols, key=str)
        u = free[0] if free else sympy.Symbol("u")
        scalar = sympy.lambdify(u, formula, modules="math")

        def entry(t):
            try:
                return float(scalar(float(t)))
            except (ValueError, OverflowError, ZeroDivisionError):
                return float("nan")

        numeric = _DERIVED[function] = np.vectorize(entry, otypes=[float])
    return numeric


def _kron(a, b):
    (m, n), (p, q) = a.shape, b.shape
    return (a[:, None, :, None] * b[None, :, None, :]).reshape(m * p, n * q)


def _kron_contract(node, g, other, shape):
    """The adjoint of a Kronecker factor, by its definition (see ops.KronContract)."""
    (side,) = node.params
    rows, cols = shape
    p, q = other.shape
    result = np.zeros((rows, cols))
    if side == 0:  # result[i, j] = Σ_kl G[i·p + k, j·q + l] F[k, l]
        for i in range(rows):
            for j in range(cols):
                result[i, j] = np.sum(g[i * p : (i + 1) * p, j * q : (j + 1) * q] * other)
    else:  # result[k, l] = Σ_ij G[i·rows + k, j·cols + l] F[i, j]
        for i in range(p):
            for j in range(q):
                result += other[i, j] * g[i * rows : (i + 1) * rows, j * cols : (j + 1) * cols]
    return result


def _commutation(node, size):
    """K(m, n) from its definition, K vec(A) = vec(Aᵀ) for every m×n A: vec(Aᵀ)[i·n + j] = A[i, j] = vec(A)[j·m + i]."""
    m, n = node.params
    if not isinstance(m, int):  # a symbolic size: the other one is a number, or both are equal
        m = size // n if isinstance(n, int) else round(size**0.5)
    n = size // m
    k = np.zeros((size, size))
    for i in range(m):
        for j in range(n):
            k[i * n + j, j * m + i] = 1.0
    return k


def _logsumexp(x):
    """log Σ exp over each column (a vector is one column): a 1×n row."""
    top = np.max(x, axis=0, keepdims=True)
    return top + np.log(np.sum(np.exp(x - top), axis=0, keepdims=True))


def _softmax(x):
    """exp(x)/Σ exp(x) within each column."""
    e = np.exp(x - np.max(x, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)


def _power(x, exponent):
    if isinstance(exponent, int):
        return np.power(x, float(exponent)) if exponent < 0 else x**exponent
    return np.power(x, float(exponent))


# One rule per operation class: (node, argument values, the node's shape as ints) -> 2-D array.
RULES = {
    ops.Add: lambda node, a, shape: sum(a[1:], a[0]),
    ops.Transpose: lambda node, a, shape: a[0].T,
    ops.Trace: lambda node, a, shape: np.trace(a[0]),
    ops.Sum: lambda node, a, shape: np.sum(a[0]),
    ops.DiagMat: lambda node, a, shape: np.diag(a[0][:, 0]),
    ops.DiagVec: lambda node, a, shape: np.diag(a[0]).reshape(-1, 1),
    ops.MatMul: lambda node, a, shape: _chain(a),
    ops.Scale: lambda node, a, shape: a[0][0, 0] * a[1],
    ops.Hadamard: lambda node, a, shape: a[0] * a[1],
    ops.Frob: lambda node, a, shape: np.sum(a[0] * a[1]),
    ops.Kron: lambda node, a, shape: _kron(a[0], a[1]),
    ops.KronContract: lambda node, a, shape: _kron_contract(node, a[0], a[1], shape),
    ops.Vec: lambda node, a, shape: a[0].reshape(-1, 1, order="F"),  # the columns, stacked
    ops.Unvec: lambda node, a, shape: a[0].reshape(shape, order="F"),
    ops.Commutation: lambda node, a, shape: _commutation(node, shape[0]),
    ops.Power: lambda node, a, shape: _power(a[0], node.exponent),
    ops.PowerOf: lambda node, a, shape: np.power(a[0], a[1][0, 0]),
    ops.Inverse: lambda node, a, shape: np.linalg.solve(a[0], np.eye(shape[0])),
    ops.Det: lambda node, a, shape: np.linalg.det(a[0]),
    ops.LogDet: lambda node, a, shape: np.log(np.linalg.det(a[0])),  # log det X: nan where det X < 0
    ops.Norm: lambda node, a, shape: np.sqrt(np.sum(a[0] ** 2)),
    ops.Softmax: lambda node, a, shape: _softmax(a[0]),
    ops.LogSumExp: lambda node, a, shape: _logsumexp(a[0]),
    ops.Elementwise: lambda node, a, shape: elementwise_function(node.function)(a[0]),
    Let: lambda node, a, shape: a[0],
    Identity: lambda node, a, shape: np.eye(shape[0]),
    Ones: lambda node, a, shape: np.ones(shape),
    Zero: lambda node, a, shape: np.zeros(shape),
    Const: lambda node, a, shape: _constant(node.value),
}


def _chain(factors):
    result = factors[0]
    for factor in factors[1:]:
        result = result @ factor
    return result


def _constant(value):
    if isinstance(value, Fraction):
        return value.numerator / value.denominator
    return float(value)


def elementwise_function(function):
    """NumPy for an elementwise function: built-ins from the table, user functions from sympy."""
    rule = ELEMENTWISE.get(function.name)
    return rule if rule is not None else _user_function(function)


def sizes_of(values: dict, exprs) -> dict:
    """Every symbolic dimension's size, from the values' shapes and any sizes given in ``values``."""
    sizes = {key: int(v) for key, v in values.items() if isinstance(key, sympy.Symbol)}
    for node in postorder(list(exprs)):
        if isinstance(node, Symbol) and node in values:
            shape = np.shape(np.atleast_2d(np.asarray(values[node], dtype=float)))
            if node.shape[1] == 1 and len(np.shape(values[node])) == 1:
                shape = (shape[1], 1)
            for dim, given in zip(node.shape, shape):
                if isinstance(dim, sympy.Symbol):
                    sizes.setdefault(dim, int(given))
    return sizes


class ValueMismatch(AssertionError):
    """A value whose shape is not its variable's."""


class UnknownSize(KeyError):
    """A dimension whose size neither the values nor the given sizes fix."""


def _resolve(dim, sizes) -> int:
    if isinstance(dim, int):
        return dim
    resolved = sympy.sympify(dim).subs(sizes)
    if resolved.free_symbols:
        raise UnknownSize(f"the size of {resolved} is not given")
    return int(resolved)


def value(expr, values: dict) -> np.ndarray:
    """The value of ``expr`` as a 2-D float array (scalars 1×1); ``values`` maps each variable
    to an array (and may map dimensions to sizes)."""
    return values_of([expr], values)[0]


def values_of(exprs, values: dict) -> list[np.ndarray]:
    """The values of several expressions, each shared node computed once."""
    sizes = sizes_of(values, exprs)
    computed: dict = {}
    with np.errstate(all="ignore"):
        for node in postorder(list(exprs)):
            shape = tuple(_resolve(d, sizes) for d in node.shape)
            if isinstance(node, Const) and isinstance(node.value, sympy.Expr):  # a size, such as n from sum(𝟏)
                result = float(_resolve(node.value, sizes))
            elif isinstance(node, Symbol):
                result = np.asarray(values[node], dtype=float)
                if result.size != int(np.prod(shape)):
                    raise ValueMismatch(f"{node.label!r} has shape {node.shape} = {shape}, given an array of shape {result.shape}")
            else:
                rule = RULES.get(type(node))
                if rule is None:
                    raise KeyError(f"the NumPy oracle has no rule for {type(node).__name__}; add one to RULES")
                result = rule(node, [computed[child] for child in node.args], shape)
            result = np.asarray(result, dtype=float).reshape(shape)
            computed[node] = result
    return [computed[e] for e in exprs]


def operation_classes() -> set:
    """Every expression class that matcalc.ops exports (the operations)."""
    return {
        obj for obj in vars(ops).values()
        if isinstance(obj, type) and issubclass(obj, mc.Expr) and obj is not mc.Expr
    }
