"""Numeric evaluation: shapes in and out, sizes, keys."""

from __future__ import annotations

import numpy as np
import pytest

import matcalc as mc

n, m = mc.dims("n m")
W, a = mc.matrix("W", n, m), mc.vector("a", m)


def test_vector_results_are_columns_and_scalars_are_floats():
    Wv, av = np.arange(12.0).reshape(3, 4), np.arange(4.0)
    result = mc.evaluate(W @ a, {W: Wv, a: av})
    assert result.shape == (3, 1)
    np.testing.assert_allclose(result[:, 0], Wv @ av)
    total = mc.evaluate(mc.sum(W @ a), {W: Wv, a: av.reshape(4, 1)})
    assert isinstance(total, float) and total == pytest.approx(np.sum(Wv @ av))


def test_values_keyed_by_name_and_sizes_by_dimension():
    assert mc.evaluate(mc.trace(mc.eye(n)) * mc.sum(a), {"a": [1, 2], n: 3}) == 9.0


def test_identity_needs_its_size():
    with pytest.raises(mc.EvaluationError, match="give the size of dimension n"):
        mc.evaluate(mc.trace(mc.eye(n)), {})


def test_scalar_broadcast_and_functions_match_numpy():
    rng = np.random.default_rng(0)
    Wv, av = rng.normal(size=(3, 4)), rng.normal(size=4)
    e = mc.softmax(mc.tanh(W @ a) + 1)
    z = np.tanh(Wv @ av) + 1
    np.testing.assert_allclose(mc.evaluate(e, {W: Wv, a: av})[:, 0], np.exp(z) / np.exp(z).sum())


def test_kron_and_matrix_functions_match_numpy():
    rng = np.random.default_rng(1)
    A, B = mc.matrix("A", 2, 3), mc.matrix("B", 3, 3)
    Av, Bv = rng.normal(size=(2, 3)), rng.normal(size=(3, 3)) + 3 * np.eye(3)
    np.testing.assert_allclose(mc.evaluate(mc.kron(A, B), {A: Av, B: Bv}), np.kron(Av, Bv))
    assert mc.evaluate(mc.logdet(B), {B: Bv}) == pytest.approx(np.linalg.slogdet(Bv)[1])
    np.testing.assert_allclose(mc.evaluate(mc.inv(B), {B: Bv}), np.linalg.inv(Bv))


def test_singular_matrix_is_an_evaluation_error():
    B = mc.matrix("B", 2, 2)
    with pytest.raises(mc.EvaluationError, match="singular"):
        mc.evaluate(mc.inv(B), {B: np.zeros((2, 2))})


def test_symmetric_variable_value_must_be_symmetric():
    S = mc.matrix("S", 2, 2, symmetric=True)
    with pytest.raises(mc.EvaluationError, match="declared symmetric"):
        mc.evaluate(mc.trace(S), {S: [[1, 2], [3, 4]]})
