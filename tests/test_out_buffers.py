"""Generated functions write into caller-given arrays (``out=``) and work in place safely."""

from __future__ import annotations

import numpy as np
import pytest

import matcalc as mc
from tests.helpers import finite_difference_gradient

n, m = mc.dims("n m")
W, V = mc.matrix("W", n, m), mc.matrix("V", n, n)
a, t = mc.vector("a", m), mc.vector("t", n)
LOSS = mc.sum((mc.tanh(W @ a) - t) ** 2) / 2


def values(seed=0, rows=3, cols=4):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(rows, cols)), rng.normal(size=(cols, 1)), rng.normal(size=(rows, 1))


def test_out_receives_the_outputs_and_matches_finite_differences():
    f = mc.lambdify([W, a, t], [LOSS, mc.grad(LOSS, W), mc.grad(LOSS, a)])
    Wv, av, tv = values()
    buffers = (None, np.full((3, 4), np.nan), np.full((4, 1), np.nan))
    loss, gW, ga = f(Wv, av, tv, out=buffers)
    assert gW is buffers[1] and ga is buffers[2]
    point = {W: Wv, a: av, t: tv}
    np.testing.assert_allclose(gW, finite_difference_gradient(LOSS, W, point), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ga, finite_difference_gradient(LOSS, a, point), rtol=1e-6, atol=1e-8)
    assert loss == pytest.approx(0.5 * np.sum((np.tanh(Wv @ av) - tv) ** 2))


def test_a_second_call_overwrites_the_buffers_with_the_new_values():
    f = mc.lambdify([W, a, t], mc.grad(LOSS, W))
    first = f(*values(0))
    kept = first.copy()
    second = f(*values(1), out=first)
    assert second is first
    np.testing.assert_allclose(second, f(*values(1)))
    assert not np.allclose(second, kept)


def test_fresh_outputs_never_alias_the_inputs_or_each_other():
    # An output that is an input, a transpose (a view) of another output, or listed twice.
    S = mc.matrix("S", n, n)
    f = mc.lambdify([S], [S, S.T, S @ S, S @ S])
    Sv = np.arange(9.0).reshape(3, 3)
    results = f(Sv)
    arrays = [Sv, *results]
    for i, first in enumerate(arrays):
        for second in arrays[i + 1 :]:
            assert not np.shares_memory(first, second)
    np.testing.assert_array_equal(results[1], Sv.T)
    np.testing.assert_array_equal(results[3], Sv @ Sv)
    again = f(Sv + 1, out=results)
    np.testing.assert_array_equal(again[1], (Sv + 1).T)
    assert all(x is y for x, y in zip(again, results))


@pytest.mark.parametrize(
    "out, message",
    [
        (np.zeros((3, 4)), "expected 3 arrays"),
        ((np.zeros((3, 4)), None, None), "output 0 is a scalar"),
        ((None, np.zeros((4, 3)), np.zeros((4, 1))), r"output 1 needs a float64 array of shape \(3, 4\)"),
        ((None, np.zeros((3, 4), dtype=np.float32), np.zeros((4, 1))), "got a float32 array"),
        ((None, [[0.0] * 4] * 3, np.zeros((4, 1))), "got list"),
    ],
)
def test_bad_out_arrays_are_refused_with_a_reason(out, message):
    f = mc.lambdify([W, a, t], [LOSS, mc.grad(LOSS, W), mc.grad(LOSS, a)])
    with pytest.raises(mc.EvaluationError, match=message):
        f(*values(), out=out)


def test_bad_arguments_raise_matcalcs_error_and_exported_code_a_plain_valueerror():
    f = mc.lambdify([W, a, t], mc.grad(LOSS, W))
    with pytest.raises(mc.EvaluationError, match="W: expected real numbers within float64, got str"):
        f("not a matrix", *values()[1:])
    namespace: dict = {}
    exec(compile(mc.to_numpy_source([W, a, t], mc.grad(LOSS, W)), "exported", "exec"), namespace)
    with pytest.raises(ValueError, match="out: output 0 needs a float64 array") as caught:
        namespace["f"](*values(), out=[])
    assert not isinstance(caught.value, mc.MatcalcError)


def test_out_may_not_overlap_an_input_or_be_read_only():
    f = mc.lambdify([V], V @ V + V)
    Vv = np.eye(3) + 1
    with pytest.raises(ValueError, match="overlaps an input"):
        f(Vv, out=Vv)
    frozen = np.zeros((3, 3))
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        f(Vv, out=frozen)


def test_dying_temporaries_are_overwritten_in_place_and_inputs_never_are():
    f = mc.lambdify([W, a, t], mc.grad(LOSS, W))
    assert "out=_t" in f.source  # tanh(W a) is written over W a, and so on
    Wv, av, tv = values()
    copies = Wv.copy(), av.copy(), tv.copy()
    f(Wv, av, tv)
    for given, copy in zip((Wv, av, tv), copies):
        np.testing.assert_array_equal(given, copy)


def test_an_outer_product_is_not_a_matrix_product():
    x, y = mc.vector("x", n), mc.vector("y", m)
    f = mc.lambdify([x, y], x @ y.T)
    assert "np.einsum('ik,kj->ij', x, " in f.source and "@" not in f.source.split("def compiled")[1]
    np.testing.assert_array_equal(f([1, 2], [3, 4, 5]), np.outer([1, 2], [3, 4, 5]))


def test_a_sum_of_matrices_times_a_vector_is_multiplied_out_in_generated_code():
    A, B = mc.matrix("A", n, n), mc.matrix("B", n, n)
    x = mc.vector("x", n)
    gradient = mc.grad(x.T @ A @ x - 2 * x.T @ B @ x, x)
    assert str(gradient) == "(A − 2B + Aᵀ − 2Bᵀ)x"
    f = mc.lambdify([A, B, x], gradient)
    body = f.source.split("def compiled")[1]
    assert "(A @ x)" in body and "A.T" in body and "(A + " not in body  # no n×n sum is formed
    rng = np.random.default_rng(3)
    Av, Bv, xv = rng.normal(size=(4, 4)), rng.normal(size=(4, 4)), rng.normal(size=(4, 1))
    np.testing.assert_allclose(f(Av, Bv, xv), (Av + Av.T - 2 * (Bv + Bv.T)) @ xv, rtol=1e-12)


def test_a_sum_used_twice_is_formed_once_instead():
    A = mc.matrix("A", n, n)
    x = mc.vector("x", n)
    S = A + A.T
    f = mc.lambdify([A, x], [S, S @ x])
    body = f.source.split("def compiled")[1]
    assert "A @ x" not in body
    Av, xv = np.arange(9.0).reshape(3, 3), np.ones((3, 1))
    np.testing.assert_allclose(f(Av, xv)[1], (Av + Av.T) @ xv)
