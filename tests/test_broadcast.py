"""Broadcasting as NumPy does it for 2-D arrays, written out in the closed form (b𝟏ᵀ, 𝟏r), with the
gradient of a broadcast operand summed over the broadcast axis; values against NumPy's own
broadcasting, gradients against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import matcalc as mc
from tests.helpers import assert_gradient_correct, random_values

n, N = 3, 5
Z, b, r, s = mc.matrix("Z", n, N), mc.vector("b", n), mc.matrix("r", 1, N), mc.scalar("s")


@pytest.mark.parametrize(
    "build, numpy",
    [
        (lambda: Z + b, lambda v: v["Z"] + v["b"]),
        (lambda: Z - r, lambda v: v["Z"] - v["r"]),
        (lambda: b + r, lambda v: v["b"] + v["r"]),
        (lambda: Z * b, lambda v: v["Z"] * v["b"]),
        (lambda: Z / (1 + b * b), lambda v: v["Z"] / (1 + v["b"] * v["b"])),
        (lambda: r - b, lambda v: v["r"] - v["b"]),
        (lambda: s + Z, lambda v: v["s"] + v["Z"]),
    ],
)
def test_values_are_numpys(build, numpy):
    e = build()
    values = random_values([e], seed=3)
    by_name = {symbol.label: np.asarray(value, dtype=float).reshape(symbol.shape) for symbol, value in values.items()}
    np.testing.assert_allclose(mc.evaluate(e, values), numpy(by_name))


def test_the_broadcast_is_written_out_and_its_gradient_sums_over_the_broadcast_axis():
    h, batch, d = mc.dims("h N d")
    W, X, bias = mc.matrix("W", h, d), mc.matrix("X", d, batch), mc.vector("b", h)
    loss = mc.sum(mc.tanh(W @ X + bias))
    assert str(W @ X + bias) == "WX + b𝟏ᵀ"
    assert str(mc.grad(loss, bias)) == "(𝟏𝟏ᵀ − tanh(WX + b𝟏ᵀ)^∘2)𝟏"
    values = random_values([loss], sizes={h: 3, batch: 5, d: 2}, seed=4)
    assert_gradient_correct(loss, [W, bias], values)


def test_gradients_of_rows_columns_and_outer_sums():
    loss = mc.sum(mc.sin(Z * b + r) + mc.tanh(b + r) * Z)
    assert_gradient_correct(loss, [b, r, Z], random_values([loss], seed=5))


@pytest.mark.parametrize("a, c", [((3, 2), (3, 4)), ((2, 4), (3, 4)), ((3, 2), (2, 3))])
def test_shapes_numpy_refuses_are_shape_errors_naming_both(a, c):
    A, C = mc.matrix("A", *a), mc.matrix("C", *c)
    for combine in (lambda: A + C, lambda: A - C, lambda: A * C, lambda: A / C):
        with pytest.raises(mc.ShapeError, match=f"{a[0]}×{a[1]}.*{c[0]}×{c[1]}"):
            combine()


def test_sums_along_an_axis_are_ones_times_the_matrix():
    X = mc.matrix("X", 3, 4)
    assert str(mc.sum(X, axis=0)) == "𝟏ᵀX" and str(mc.sum(X, axis=1)) == "X𝟏"
    X0 = np.arange(12.0).reshape(3, 4)
    np.testing.assert_allclose(mc.evaluate(mc.sum(X, axis=0), {X: X0}), X0.sum(axis=0, keepdims=True))
    np.testing.assert_allclose(mc.evaluate(mc.sum(X, axis=1), {X: X0}), X0.sum(axis=1, keepdims=True))
    loss = mc.sum(mc.tanh(mc.sum(X, axis=0))) + mc.sum(mc.sin(mc.sum(X, axis=1)))
    assert_gradient_correct(loss, [X], random_values([loss], seed=6))


def test_means_are_numpys_and_their_gradients_are_finite_differences():
    X = mc.matrix("X", 3, 4)
    X0 = np.arange(12.0).reshape(3, 4) ** 1.5
    np.testing.assert_allclose(mc.evaluate(mc.mean(X), {X: X0}), X0.mean())
    np.testing.assert_allclose(mc.evaluate(mc.mean(X, axis=0), {X: X0}), X0.mean(axis=0, keepdims=True))
    np.testing.assert_allclose(mc.evaluate(mc.mean(X, axis=1), {X: X0}), X0.mean(axis=1, keepdims=True))
    assert str(mc.mean(X, axis=1)) == "X𝟏/4" and str(mc.grad(mc.mean(X), X)) == "𝟏𝟏ᵀ/12"
    loss = mc.mean(mc.tanh(mc.mean(X, axis=0))) + mc.mean(mc.sin(mc.mean(X, axis=1)) * mc.mean(X))
    assert_gradient_correct(loss, [X], random_values([loss], seed=7))
    h, batch = mc.dims("h N")
    Y = mc.matrix("Y", h, batch)
    assert str(mc.mean(Y)) == "sum(Y)/(Nh)"  # a count of symbolic size: a quotient, not sum(Y)(Nh)⁻¹
    Y0 = np.random.default_rng(8).normal(size=(2, 5))
    np.testing.assert_allclose(mc.evaluate(mc.mean(mc.exp(Y)), {Y: Y0}), np.exp(Y0).mean())


@pytest.mark.parametrize("axis", [2, -1, "rows", 0.5, True])
@pytest.mark.parametrize("reduction", [mc.sum, mc.mean])
def test_an_axis_other_than_0_or_1_is_refused(axis, reduction):
    with pytest.raises(mc.OperandError, match="axis must be 0"):
        reduction(mc.matrix("X", 3, 4), axis=axis)


def _numpy_softmax(x):
    e = np.exp(x - x.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def test_softmax_and_logsumexp_of_a_matrix_work_column_by_column_or_row_by_row():
    X = mc.matrix("X", 3, 4)
    X0 = np.random.default_rng(1).normal(size=(3, 4)) * 200  # large: the shift by each column's maximum matters
    np.testing.assert_allclose(mc.evaluate(mc.softmax(X), {X: X0}), _numpy_softmax(X0))
    np.testing.assert_allclose(mc.evaluate(mc.softmax(X, axis=1), {X: X0}), _numpy_softmax(X0.T).T)
    top = X0.max(axis=0, keepdims=True)
    np.testing.assert_allclose(mc.evaluate(mc.logsumexp(X), {X: X0}), top + np.log(np.exp(X0 - top).sum(axis=0, keepdims=True)))
    assert mc.logsumexp(X).shape == (1, 4) and mc.logsumexp(X, axis=1).shape == (3, 1)
    assert str(mc.softmax(X, axis=1)) == "softmax(Xᵀ)ᵀ"


def test_column_softmax_cross_entropy_gradient():
    k, batch = mc.dims("k N")
    Z, T = mc.matrix("Z", k, batch), mc.matrix("T", k, batch)
    loss = -mc.sum(T * mc.log(mc.softmax(Z)))
    assert str(mc.grad(loss, Z)) == "softmax(Z) ⊙ (𝟏𝟏ᵀT) − T"  # = softmax(Z) − T where T's columns sum to 1
    assert mc.check(loss, Z).ok
    C = mc.matrix("C", 1, batch)
    for other in (mc.sum(C * mc.logsumexp(Z)), mc.sum(T * mc.softmax(Z, axis=1)), mc.sum(mc.logsumexp(Z, axis=1))):
        assert mc.check(other, Z).ok


@pytest.mark.parametrize("function", [mc.softmax, mc.logsumexp])
def test_a_bad_axis_is_refused(function):
    with pytest.raises(mc.OperandError, match="axis must be 0"):
        function(mc.matrix("X", 3, 4), axis=2)


def test_the_parser_broadcasts_as_the_operators_do():
    e = mc.parse("sum(tanh(W*X + b))", b="vector")
    assert str(e) == "sum(tanh(WX + b𝟏ᵀ))"
    assert str(mc.parse("x + y'")) == "x𝟏ᵀ + 𝟏yᵀ"
    W, b = e.variables["W"], e.variables["b"]
    inferred = sorted({d for v in e.variables.values() for d in v.shape if not isinstance(d, int)}, key=str)
    values = random_values([e], sizes=dict(zip(inferred, (3, 4, 5))), seed=7)
    assert_gradient_correct(e, [W, b], values)
