"""Property-based tests over random well-shaped expressions (see tests/strategies.py).

Derandomised so CI sees the same examples every run; benchmarks/fuzz.py runs many more.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import matcalc as mc
from matcalc.numeric.evaluate import symbols_of
from tests.helpers import finite_difference_gradient
from tests.strategies import build, random_values, scalar_loss

FUZZ = settings(max_examples=120, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))


def chooser(data):
    return lambda k: data.draw(st.integers(0, k - 1))


def gradient_disagreement(loss, seed=0):
    """The worst scaled difference between matcalc's gradients and finite differences, or None
    when the random point is unusable (values too large for finite differences)."""
    values = random_values([loss], seed)
    value = mc.evaluate(loss, values)
    if not np.isfinite(value) or abs(value) > 1e6:
        return None
    variables = [s for s in symbols_of([loss]) if s.label not in ("C", "c")][:2]
    if not variables:
        return None
    worst = 0.0
    for variable, gradient in zip(variables, mc.grad(loss, variables)):
        mc.latex(gradient)
        expected = finite_difference_gradient(loss, variable, values)
        actual = np.asarray(mc.evaluate(gradient, values), dtype=float).reshape(expected.shape)
        scale = max(1.0, float(np.max(np.abs(expected))))
        worst = max(worst, float(np.max(np.abs(actual - expected))) / scale)
    return worst


@FUZZ
@given(st.data())
def test_simplified_gradient_equals_finite_differences(data):
    loss = scalar_loss(chooser(data))
    worst = gradient_disagreement(loss)
    assume(worst is not None)
    assert worst < 1e-4, f"ℓ = {loss}"


@FUZZ
@given(st.data(), st.sampled_from([(3, 3), (3, 4), (3, 1), (1, 1)]))
def test_simplification_keeps_the_value_and_lambdify_equals_evaluate(data, shape):
    expr = build(chooser(data), shape, depth=3)
    values = random_values([expr], seed=1)
    before = np.asarray(mc.evaluate(expr, values), dtype=float)
    assume(np.all(np.isfinite(before)) and np.max(np.abs(before)) < 1e8)
    simplified = mc.simplify(expr)
    after = np.asarray(mc.evaluate(simplified, values), dtype=float)
    np.testing.assert_allclose(after, before, rtol=1e-9, atol=1e-9 * max(1.0, float(np.max(np.abs(before)))))
    symbols = symbols_of([expr])
    function = mc.lambdify(symbols, [expr, simplified.T])
    arguments = [values[s] for s in symbols]
    compiled, transposed = function(*arguments)
    np.testing.assert_allclose(np.asarray(compiled, dtype=float), before, rtol=1e-12, atol=1e-12)
    if not expr.is_scalar:  # written into stale buffers, the same values
        buffers = (np.full(compiled.shape, np.nan), np.full(transposed.shape, np.nan))
        again = function(*arguments, out=buffers)
        np.testing.assert_array_equal(again[0], compiled)
        np.testing.assert_array_equal(again[1], transposed)


@settings(max_examples=60, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data(), st.sampled_from([(3, 3), (3, 4), (3, 1), (1, 1)]))
def test_evaluate_equals_the_entrywise_meaning_of_every_operation(data, shape):
    from matcalc.numeric.check import _as_sympy_matrix, entrywise_value

    expr = mc.simplify(build(chooser(data), shape, depth=3))
    values = random_values([expr], seed=2)
    numeric = np.asarray(mc.evaluate(expr, values), dtype=float)
    assume(np.all(np.isfinite(numeric)) and np.max(np.abs(numeric)) < 1e8)
    bindings = {s: _as_sympy_matrix(np.atleast_2d(np.asarray(values[s], dtype=float))) for s in symbols_of([expr])}
    reference = np.array(entrywise_value(expr, bindings, {}).evalf(), dtype=float)
    np.testing.assert_allclose(numeric.reshape(reference.shape), reference, rtol=1e-9,
                               atol=1e-9 * max(1.0, float(np.max(np.abs(reference)))))
