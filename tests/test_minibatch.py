"""The two-layer network over a minibatch (issue 14, item 3): the textbook backprop in closed
form, checked numerically, compiled, and trained until its loss goes down.

Z₁ = W₁X + b₁𝟏ᵀ, A₁ = tanh(Z₁), Z₂ = W₂A₁ + b₂𝟏ᵀ, ℓ = −sum(T ⊙ log softmax(Z₂))/N with each
column of T summing to one.  The textbook result (e.g. Goodfellow, Bengio and Courville,
Deep Learning, §6.5; Bishop, PRML (5.54)–(5.56) written per batch):
Δ₂ = (softmax(Z₂) − T)/N, ∂ℓ/∂W₂ = Δ₂A₁ᵀ, ∂ℓ/∂b₂ = Δ₂𝟏, Δ₁ = (W₂ᵀΔ₂) ⊙ (𝟏𝟏ᵀ − A₁²), ∂ℓ/∂W₁ = Δ₁Xᵀ.
"""

from __future__ import annotations

import numpy as np
import pytest

import matcalc as mc

d, h, k, N = mc.dims("d h k N")
X, T = mc.matrix("X", d, N), mc.matrix("T", k, N, columns_sum_to_one=True)
W1, b1, W2, b2 = mc.matrix("W1", h, d), mc.vector("b1", h), mc.matrix("W2", k, h), mc.vector("b2", k)
Z1 = mc.let("Z1", W1 @ X + b1)
A1 = mc.let("A1", mc.tanh(Z1))
Z2 = mc.let("Z2", W2 @ A1 + b2)
LOSS = -mc.sum(T * mc.log(mc.softmax(Z2))) / N
WEIGHTS = [W1, b1, W2, b2]


def _plain_loss_and_gradients(W1v, b1v, W2v, b2v, Xv, Tv):
    """The same network in plain NumPy, with backprop written out by hand."""
    batch = Xv.shape[1]
    A1v = np.tanh(W1v @ Xv + b1v)
    Z2v = W2v @ A1v + b2v
    S = np.exp(Z2v - Z2v.max(axis=0)) / np.exp(Z2v - Z2v.max(axis=0)).sum(axis=0)
    loss = -np.sum(Tv * np.log(S)) / batch
    D2 = (S - Tv) / batch
    D1 = (W2v.T @ D2) * (1 - A1v**2)
    return loss, [D1 @ Xv.T, D1.sum(axis=1, keepdims=True), D2 @ A1v.T, D2.sum(axis=1, keepdims=True)]


def _data(seed, sizes=(4, 6, 3, 32)):
    rng = np.random.default_rng(seed)
    dv, hv, kv, batch = sizes
    Xv = rng.normal(size=(dv, batch))
    labels = (Xv[0] > 0).astype(int) + (Xv[1] > 0).astype(int)  # three classes a network can learn
    Tv = np.eye(kv)[:, labels]
    params = [rng.normal(size=(hv, dv)) * 0.5, np.zeros((hv, 1)), rng.normal(size=(kv, hv)) * 0.5, np.zeros((kv, 1))]
    return Xv, Tv, params


def test_the_backprop_view_is_the_textbooks():
    view = str(mc.derive(LOSS, WEIGHTS).view("backprop"))
    for line in ("δ_Z₂ = (softmax(Z₂) − T)/N", "∂ℓ/∂W₁ = δ_Z₁ Xᵀ", "∂ℓ/∂b₁ = δ_Z₁ 𝟏", "∂ℓ/∂W₂ = δ_Z₂ A₁ᵀ", "∂ℓ/∂b₂ = δ_Z₂ 𝟏"):
        assert line in view
    assert "δ_Z₁ = (W₂ᵀ δ_Z₂) ⊙ (𝟏𝟏ᵀ − " in view


def test_gradients_equal_backprop_by_hand_and_check_passes():
    Xv, Tv, params = _data(0)
    values = {**dict(zip(WEIGHTS, params)), X: Xv, T: Tv}
    loss, expected = _plain_loss_and_gradients(*params, Xv, Tv)
    assert mc.evaluate(LOSS, values) == pytest.approx(loss)
    for gradient, by_hand in zip(mc.grad(LOSS, WEIGHTS), expected):
        np.testing.assert_allclose(mc.evaluate(gradient, values), by_hand, rtol=1e-10, atol=1e-12)
    assert mc.check(LOSS, WEIGHTS).ok


def test_the_compiled_gradient_trains_the_network():
    Xv, Tv, params = _data(1)
    f = mc.lambdify([W1, b1, W2, b2, X, T], [LOSS, *mc.grad(LOSS, WEIGHTS)])
    losses = []
    for _ in range(300):
        loss, *gradients = f(*params, Xv, Tv)
        losses.append(loss)
        params = [p - 0.5 * g for p, g in zip(params, gradients)]
    assert losses[-1] < 0.5 * losses[0] and all(np.isfinite(losses))
    assert losses[-1] == pytest.approx(_plain_loss_and_gradients(*params, Xv, Tv)[0], rel=0.05)


def test_targets_whose_columns_do_not_sum_to_one_are_refused():
    Xv, Tv, params = _data(2)
    with pytest.raises(mc.EvaluationError, match="columns that sum to one"):
        mc.evaluate(LOSS, {**dict(zip(WEIGHTS, params)), X: Xv, T: 2 * Tv})


def test_targets_are_data_not_variables():
    with pytest.raises(mc.DifferentiationError, match="columns that sum to one"):
        mc.grad(LOSS, T)


def test_a_product_of_ones_counts_its_inner_dimension():
    """𝟏₃ₓ₄𝟏₄ₓ₃ is 4𝟏𝟏ᵀ, each entry a sum of four ones (the fuzz found a rule that forgot the 4)."""
    k = mc.dims("k")[0]
    simplified = mc.simplify(mc.ones(3, 4) @ mc.ones(4, 3) + 3 * mc.eye(3))
    np.testing.assert_allclose(mc.evaluate(simplified, {}), np.ones((3, 4)) @ np.ones((4, 3)) + 3 * np.eye(3))
    assert str(mc.simplify(mc.ones(3, k) @ mc.ones(k, 3))) == "k𝟏𝟏ᵀ"


def test_a_probability_vector_gives_the_textbook_softmax_gradient():
    x, t, W = mc.vector("x", 3), mc.vector("t", 3, sums_to_one=True), mc.matrix("W", 3, 3)
    assert str(mc.grad(-t.T @ mc.log(mc.softmax(W @ x)), W)) == "(softmax(Wx) − t)xᵀ"
