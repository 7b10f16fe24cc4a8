"""The closed forms a person would write, as printed text, each also checked numerically."""

from __future__ import annotations

import pytest

import matcalc as mc
from tests.helpers import assert_gradient_correct, random_values

n, m = mc.dims("n m")


def _compact(text: str) -> str:
    return text.replace(" ", "")


def linear_net():
    A, B = mc.matrix("A", n, n), mc.matrix("B", n, n)
    x, t = mc.vector("x", n), mc.vector("t", n)
    return mc.norm(t - A @ B @ x) ** 2 / 2, {"A": A, "B": B}


def sigmoid_layer():
    W, a = mc.matrix("W", n, m), mc.vector("a", m)
    b, t = mc.vector("b", n), mc.vector("t", n)
    z = mc.let("z", W @ a + b)
    return mc.sum((mc.sigmoid(z) - t) ** 2) / 2, {"W": W, "a": a}


def quadratic_form():
    A, x = mc.matrix("A", n, n), mc.vector("x", n)
    return x.T @ A @ x, {"x": x}


X = mc.matrix("X", n, n)
A2, B2 = mc.matrix("A", m, n), mc.matrix("B", n, m)
a, b = mc.vector("a", n), mc.vector("b", n)

CASES = [
    ("½‖t − ABx‖² wrt B", *linear_net(), "B", ["−Aᵀ(t − ABx)xᵀ"]),
    ("½‖t − ABx‖² wrt A", *linear_net(), "A", ["−(t − ABx)(Bx)ᵀ", "−(t − ABx)xᵀBᵀ"]),
    ("xᵀAx", *quadratic_form(), "x", ["(A + Aᵀ)x"]),
    ("log det X", mc.logdet(X), {"X": X}, "X", ["X⁻ᵀ"]),
    ("det X", mc.det(X), {"X": X}, "X", ["det(X)X⁻ᵀ"]),
    ("tr(AXB)", mc.trace(A2 @ X @ B2), {"X": X}, "X", ["AᵀBᵀ"]),
    ("aᵀX⁻¹b", a.T @ mc.inv(X) @ b, {"X": X}, "X", ["−X⁻ᵀabᵀX⁻ᵀ"]),
    ("sigmoid layer wrt W", *sigmoid_layer(), "W", ["((σ(z) − t) ⊙ σ'(z))aᵀ"]),
    ("sigmoid layer wrt a", *sigmoid_layer(), "a", ["Wᵀ((σ(z) − t) ⊙ σ'(z))"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_closed_form_text(case):
    name, loss, variables, which, accepted = case
    gradient = mc.grad(loss, variables[which])
    assert _compact(str(gradient)) in [_compact(t) for t in accepted]
    # log det X is defined where det X > 0: there, a symmetric positive definite point
    spd = [variables[which]] if name == "log det X" else []
    values = random_values([loss], sizes={n: 3, m: 4}, seed=5, spd=spd)
    assert_gradient_correct(loss, [variables[which]], values)


def test_unsquared_frobenius_norm_of_xxtx():
    Xr = mc.matrix("X", n, m)
    loss = mc.norm(Xr @ Xr.T @ Xr)
    gradient = mc.grad(loss, Xr)
    # by hand: G = Y/‖Y‖ with Y = XXᵀX; ∇ = GXᵀX + XGᵀX + XXᵀG = 3XXᵀXXᵀX/‖XXᵀX‖
    assert _compact(str(gradient)) == _compact("3XXᵀXXᵀX/‖XXᵀX‖_F")
    assert_gradient_correct(loss, [Xr], random_values([loss], sizes={n: 3, m: 4}, seed=6))


def test_seed_003_total_derivative_with_named_intermediates():
    Xr = mc.matrix("X", n, m)
    W = mc.let("W", Xr @ Xr.T)
    Y = mc.let("Y", W @ Xr)
    loss = mc.norm(Y) ** 2
    assert _compact(str(mc.grad(loss, Xr))) == _compact("2(WY + (YXᵀ + XYᵀ)X)")
    assert_gradient_correct(loss, [Xr], random_values([loss], sizes={n: 3, m: 4}, seed=7))


def test_symmetric_quadratic_form():
    S = mc.matrix("S", n, n, symmetric=True)
    x = mc.vector("x", n)
    assert str(mc.grad(x.T @ S @ x, x)) == "2Sx"
    assert str(mc.grad(x.T @ S @ x, S)) == "xxᵀ"


def test_softmax_cross_entropy():
    W, x, t = mc.matrix("W", n, m), mc.vector("x", m), mc.vector("t", n)
    loss = -t.T @ mc.log(mc.softmax(W @ x))
    assert _compact(str(mc.grad(loss, W))) == _compact("(sum(t)softmax(Wx) − t)xᵀ")
    assert_gradient_correct(loss, [W, x], random_values([loss], sizes={n: 3, m: 4}, seed=8))


def test_logistic_regression():
    X_, w, y = mc.matrix("X", n, m), mc.vector("w", m), mc.vector("y", n)
    loss = mc.sum(mc.softplus(-y * (X_ @ w)))
    assert _compact(str(mc.grad(loss, w))) == _compact("−Xᵀ(σ(−(y ⊙ (Xw))) ⊙ y)")
    assert_gradient_correct(loss, [w], random_values([loss], sizes={n: 5, m: 3}, seed=9))


def _sigmoid_and_log_losses():
    z, t = mc.vector("z", n), mc.vector("t", n)
    W, x = mc.matrix("W", n, m), mc.vector("x", m)
    u = mc.let("u", W @ x)
    X_, w, y = mc.matrix("X", n, m), mc.vector("w", m), mc.vector("y", n)
    bce = -mc.sum(t * mc.log(mc.sigmoid(z)) + (1 - t) * mc.log(1 - mc.sigmoid(z)))
    return [
        ("binary cross-entropy", bce, z, "σ(z) − t"),
        ("binary cross-entropy of a layer", -mc.sum(t * mc.log(mc.sigmoid(u)) + (1 - t) * mc.log(1 - mc.sigmoid(u))),
         W, "(σ(u) − t)xᵀ"),
        ("logistic loss written with exp", mc.sum(mc.log(1 + mc.exp(-y * (X_ @ w)))), w, "−Xᵀ(σ(−(y ⊙ (Xw))) ⊙ y)"),
        ("log σ", mc.sum(mc.log(mc.sigmoid(z))), z, "𝟏 − σ(z)"),
        ("log(1 − σ)", mc.sum(mc.log(1 - mc.sigmoid(z))), z, "−σ(z)"),
        ("σ written as exp(z)/(1 + exp(z))", mc.sum(mc.exp(z) / (1 + mc.exp(z))), z, "σ'(z)"),
        ("σ written as 1/(1 + exp(−z))", mc.sum(1 / (1 + mc.exp(-z))), z, "σ'(z)"),
        ("z/(1 + z)", mc.sum(z / (1 + z)), z, "(z + 𝟏)⁻²"),
    ]


@pytest.mark.parametrize("case", _sigmoid_and_log_losses(), ids=lambda c: c[0])
def test_quotients_cancel_into_the_closed_form(case):
    _, loss, variable, expected = case
    assert _compact(str(mc.grad(loss, variable))) == _compact(expected)
    assert_gradient_correct(loss, [variable], random_values([loss], sizes={n: 4, m: 3}, seed=10, positive=True))


def test_several_variables_return_a_list():
    loss, variables = linear_net()
    grads = mc.grad(loss, [variables["A"], variables["B"]])
    assert isinstance(grads, list) and len(grads) == 2


def test_a_deep_continued_fraction_stays_exact_and_checkable():
    # Scalar algebra multiplies the innermost levels out (Fibonacci coefficients) but stops
    # before the numbers grow past what floats hold; the elementwise oracle cannot recurse
    # this deep, and check says so instead of failing.
    z = mc.vector("z", n)
    e = z
    for _ in range(300):
        e = 1 / (1 + e)
    loss = mc.sum(e)
    gradient = mc.grad(loss, z)
    assert "89z + 144𝟏" in str(gradient) and "1346269" not in str(gradient)
    result = mc.check(loss, z, dims={n: 3})
    assert result.ok
    assert "the elementwise oracle did not run" in str(result)
