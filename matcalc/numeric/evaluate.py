"""Numeric evaluation with NumPy, through the same generated code as ``lambdify``."""

from __future__ import annotations

import numpy as np
import sympy

from ..errors import EvaluationError
from ..expr import Expr, Symbol
from ..jacobians import Jacobian
from ..printing.common import postorder
from ..printing.text import text
from ..shapes import shape_str
from .codegen import generate
from .emit_numpy import compile_generated

_COMPILED: dict = {}
_COMPILED_LIMIT = 512


def symbols_of(exprs) -> list[Symbol]:
    """The variables the expressions use, in order of first appearance."""
    return [node for node in postorder(exprs) if isinstance(node, Symbol)]


def values_and_sizes(values: dict, symbols: list[Symbol]) -> tuple[dict, dict]:
    """Values keyed by Symbol and sizes keyed by dimension, from the user's mapping."""
    by_label: dict[str, list[Symbol]] = {}
    for s in symbols:
        by_label.setdefault(s.label, []).append(s)
    arrays, sizes = {}, {}
    for key, value in values.items():
        if isinstance(key, Symbol):
            arrays[key] = value
        elif isinstance(key, sympy.Symbol):
            sizes[key] = value
        elif isinstance(key, str):
            matches = by_label.get(key, [])
            if len(matches) > 1:
                raise EvaluationError(f"evaluate: several variables are named {key!r}; key the values by the variables")
            if matches:
                arrays[matches[0]] = value
            elif np.ndim(value) == 0 and not isinstance(value, (float, np.floating)):
                sizes[sympy.Symbol(key, integer=True, positive=True)] = value  # a size, as "N": 5
            # else: the value of a variable this expression does not use (one dict for several expressions)
        else:
            raise EvaluationError(f"evaluate: a key must be a variable, a dimension or a name, got {key!r}")
    for dim, size in sizes.items():
        if isinstance(size, bool) or not isinstance(size, (int, np.integer, sympy.Integer)) or int(size) < 1:
            raise EvaluationError(f"evaluate: the size of dimension {dim} must be a positive integer, got {size!r}")
        sizes[dim] = int(size)
    return arrays, sizes


def prepare_arguments(symbols: list[Symbol], values: dict) -> tuple[list[np.ndarray], dict]:
    """Checked 2-D float arrays for ``symbols`` and the sizes of every dimension they fix."""
    arrays, sizes = values_and_sizes(values, symbols)
    prepared = []
    for symbol in symbols:
        if symbol not in arrays:
            raise EvaluationError(
                f"evaluate: no value for {symbol.kind} {symbol.label!r} (shape {shape_str(symbol.shape)})"
            )
        try:
            is_complex = np.iscomplexobj(arrays[symbol])
            array = np.asarray(arrays[symbol], dtype=float) if not is_complex else None
        except (TypeError, ValueError, OverflowError):  # not numbers, rows of different lengths, beyond float64
            raise EvaluationError(
                f"evaluate: the value of {symbol.label!r} is not real numbers within float64: {type(arrays[symbol]).__name__}"
            ) from None
        if is_complex:
            raise EvaluationError(f"evaluate: the value of {symbol.label!r} is complex; matcalc computes with real numbers")
        if array.ndim == 0:
            array = array.reshape(1, 1)
        elif array.ndim == 1 and symbol.shape[1] == 1:
            array = array.reshape(-1, 1)
        if array.ndim != 2:
            raise EvaluationError(
                f"evaluate: {symbol.label!r} expects shape {shape_str(symbol.shape)}, given an array of shape {array.shape}"
            )
        for axis, dim in enumerate(symbol.shape):
            given = array.shape[axis]
            if isinstance(dim, sympy.Symbol):
                expected = sizes.setdefault(dim, given)
            else:
                expected = int(dim.subs(sizes)) if isinstance(dim, sympy.Expr) and not dim.free_symbols - sizes.keys() else dim
            if isinstance(expected, int) and expected != given:
                raise EvaluationError(
                    f"evaluate: {symbol.label!r} expects shape {shape_str(symbol.shape)}"
                    f"{_with_sizes(symbol.shape, sizes)}, given an array of shape {array.shape}"
                )
        if not np.all(np.isfinite(array)):
            raise EvaluationError(f"evaluate: the value of {symbol.label!r} has entries that are not finite (nan or inf)")
        if symbol.is_symmetric and not symbol.is_scalar and not np.allclose(array, array.T, rtol=1e-10, atol=1e-12):
            raise EvaluationError(f"evaluate: {symbol.label!r} is declared symmetric, but its value is not")
        if symbol.columns_sum_to_one and not np.allclose(array.sum(axis=0), 1.0, rtol=1e-10, atol=1e-12):
            raise EvaluationError(f"evaluate: {symbol.label!r} is declared to have columns that sum to one, but its value's do not")
        prepared.append(array)
    return prepared, sizes


def given_values(values: dict, symbols: list[Symbol]) -> tuple[dict, dict]:
    """The values given for some of ``symbols``, checked as :func:`evaluate` checks them and keyed
    by Symbol, and the sizes the mapping and those arrays fix."""
    arrays, sizes = values_and_sizes(values, symbols)
    given = list(arrays)
    prepared, found = prepare_arguments(given, {**arrays, **sizes})
    return dict(zip(given, prepared)), {**sizes, **found}


def _with_sizes(shape, sizes: dict) -> str:
    symbolic = [d for d in shape if isinstance(d, sympy.Expr)]
    if not symbolic:
        return ""
    known = [f"{d} = {int(d.subs(sizes))}" for d in symbolic if not d.free_symbols - sizes.keys()]
    return f" ({', '.join(known)})" if known else ""


def compiled(inputs: list[Symbol], outputs: list[Expr]):
    """The compiled function for ``outputs`` over ``inputs`` and its generated source."""
    key = (tuple(inputs), tuple(outputs))
    entry = _COMPILED.get(key)
    if entry is None:
        if len(_COMPILED) >= _COMPILED_LIMIT:
            _COMPILED.clear()
        generated = generate(inputs, outputs, "evaluated", checks=False)
        entry = (compile_generated(generated), generated)
        _COMPILED[key] = entry
    return entry


def call_checked(entry, arguments: list, sizes: dict):
    """Call a compiled function, passing the sizes it cannot read off its arguments."""
    function, generated = entry
    keywords = {}
    for dim, name in generated.dim_names.items():
        if dim in generated.inferred_dims:
            continue
        if dim not in sizes:
            raise EvaluationError(f"evaluate: give the size of dimension {dim}")
        keywords[name] = sizes[dim]
    with np.errstate(all="ignore"):
        try:
            return function(*arguments, **keywords)
        except np.linalg.LinAlgError as error:
            raise EvaluationError(f"evaluate: {error} (a matrix that is inverted is singular at this point)") from None
        except (MemoryError, ValueError) as error:  # NumPy cannot allocate arrays of these sizes
            if isinstance(error, ValueError) and "array is too big" not in str(error) and "negative dimensions" not in str(error):
                raise
            sizes_given = ", ".join(f"{d} = {v}" for d, v in sizes.items())
            raise EvaluationError(f"evaluate: the arrays do not fit in memory at these sizes ({sizes_given})") from None


def evaluate(expr: Expr | Jacobian, values: dict) -> float | np.ndarray:
    """The value of ``expr`` with NumPy, through the same generated code as :func:`lambdify`.

    A scalar (1×1) expression returns a Python float; any other returns a 2-D array of exactly
    the expression's shape (a vector comes back n×1).  A Jacobian or Hessian of matrices (what
    :func:`jacobian` and :func:`hessian` return for them) evaluates to its dense matrix
    ∂vec F/∂vec X, vec stacking columns (Magnus and Neudecker's convention); one of more than
    ``jacobians.DENSE_LIMIT`` entries is refused.

    Parameters
    ----------
    expr : Expr or Jacobian
        What to evaluate.
    values : dict
        Each variable (the object, or its name) to an array, and optionally dimensions (the
        symbol or its name) to sizes; sizes are also read off the arrays.  Vectors may be given as
        1-D or n×1 arrays.

    Returns
    -------
    float or numpy.ndarray
        The value.

    Raises
    ------
    EvaluationError
        For a missing value or size, an array of the wrong shape, or values that are not finite.

    Examples
    --------
    >>> A, x = mc.matrix("A", 2, 2), mc.vector("x", 2)
    >>> mc.evaluate(x.T @ A @ x, {A: [[1, 2], [3, 4]], x: [1, 1]})
    10.0
    >>> mc.evaluate(A @ x, {"A": [[1, 2], [3, 4]], "x": [1, 1]}).ravel().tolist()
    [3.0, 7.0]
    """
    derivative = expr if isinstance(expr, Jacobian) else None
    if derivative is not None:
        expr = derivative.matrix
    if not isinstance(expr, Expr):
        raise EvaluationError(f"evaluate: expected a matcalc expression, got {type(expr).__name__}")
    if not isinstance(values, dict):
        raise EvaluationError("evaluate: values must be a dict from variables (or names) to arrays")
    symbols = symbols_of([expr])
    if derivative is not None:  # ∂vec(AXB)/∂vec X = Bᵀ ⊗ A needs no X; a value given for X or F's others still fixes sizes
        given = [s for s in symbols_of([derivative.function, derivative.variable]) if s in values or s.label in values]
        symbols += [s for s in given if s not in symbols]
    arguments, sizes = prepare_arguments(symbols, values)
    if derivative is not None:
        derivative.check_dense_size(sizes)
    value = call_checked(compiled(symbols, [expr]), arguments, sizes)
    if not np.all(np.isfinite(value)):
        raise EvaluationError(f"evaluate: {not_finite_reason(expr, symbols, arguments, sizes)}")
    return value


def not_finite_reason(expr: Expr, symbols: list[Symbol], arguments: list, sizes: dict) -> str:
    """Which subexpression first becomes nan or ±inf at this point, though its arguments are
    finite, and the argument entry that did it: "log(x) is nan where x[1] = −2"."""
    nodes = [node for node in postorder([expr]) if node.args]
    outputs = call_checked(compiled(symbols, nodes), arguments, sizes)
    outputs = [outputs] if len(nodes) == 1 else outputs
    value_of = {node: np.atleast_2d(np.asarray(output, dtype=float)) for node, output in zip(nodes, outputs)}
    value_of.update((s, np.atleast_2d(a)) for s, a in zip(symbols, arguments))
    for node in nodes:
        bad = ~np.isfinite(value_of[node])
        if not bad.any():
            continue
        index = tuple(int(k) for k in np.argwhere(bad)[0])
        what = "nan" if np.isnan(value_of[node][index]) else "inf" if value_of[node][index] > 0 else "−inf"
        where = f"[{index[0]}, {index[1]}]" if node.shape != (1, 1) else ""
        causes = []
        for arg in dict.fromkeys(node.args):
            arg_value = value_of.get(arg)
            if arg_value is None:
                continue
            entry = arg_value[index] if arg_value.shape == value_of[node].shape else arg_value[0, 0] if arg_value.size == 1 else None
            if entry is not None:
                entry_where = where if arg_value.shape == value_of[node].shape else ""
                causes.append(f"{text(arg)}{entry_where} = {entry:.6g}")
        because = f" where {', '.join(causes)}" if causes else ""
        return f"{text(node)}{where} is {what}{because}; the expression is not finite at this point"
    return "the value is not finite at this point"

