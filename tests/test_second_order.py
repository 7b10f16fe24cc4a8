"""Jacobians, Hessians and Hessian-vector products: closed forms, checked numerically."""

from __future__ import annotations

import numpy as np
import pytest

import matcalc as mc
from tests.helpers import random_values

n, m = mc.dims("n m")
z = mc.vector("z", n)
W, x, A, B = mc.matrix("W", n, m), mc.vector("x", m), mc.matrix("A", m, m), mc.matrix("B", n, m)
X, w, y = mc.matrix("X", n, m), mc.vector("w", m), mc.vector("y", n)


def _compact(text):
    return text.replace(" ", "")


@pytest.mark.parametrize(
    "build, expected",
    [
        (lambda: mc.jacobian(mc.softmax(z), z), "diag(softmax(z)) − softmax(z)softmax(z)ᵀ"),
        (lambda: mc.jacobian(mc.tanh(W @ x), x), "diag(𝟏 − tanh(Wx)²)W"),
        (lambda: mc.hessian(x.T @ A @ x, x), "A + Aᵀ"),
        (lambda: mc.hessian(mc.sum(mc.softplus(-y * (X @ w))), w), "Xᵀdiag(σ'(−(y ⊙ (Xw))) ⊙ y²)X"),
        (lambda: mc.hessian(mc.logsumexp(z), z), "diag(softmax(z)) − softmax(z)softmax(z)ᵀ"),
        (lambda: mc.hessian(x.T @ A @ x + mc.sum(mc.tanh(B @ x)), x), "A + Aᵀ − 2Bᵀdiag(tanh(Bx) ⊙ (𝟏 − tanh(Bx)²))B"),
    ],
)
def test_closed_forms(build, expected):
    result = build()
    mc.latex(result)
    assert _compact(str(result)) == _compact(expected)


@pytest.mark.parametrize(
    "f, var",
    [(mc.softmax(z), z), (mc.tanh(W @ x), x), (mc.exp(mc.scalar("s") * z), mc.scalar("s")),
     (W @ mc.sigmoid(x) * mc.sum(x), x), (mc.diag(mc.inv(A)) * x, x)],
)
def test_jacobians_pass_check(f, var):
    assert mc.check_jacobian(f, var).ok


@pytest.mark.parametrize(
    "loss, var",
    [
        (x.T @ A @ x + mc.sum(mc.tanh(B @ x)), x),
        (mc.sum(mc.softplus(-y * (X @ w))), w),
        (-z.T @ mc.log(mc.softmax(W @ x)), x),
        (mc.norm(W @ x) + mc.logsumexp(W @ x), x),
    ],
)
def test_hessians_pass_check(loss, var):
    result = mc.check(loss, var, order=2)
    assert result.ok, str(result)


def test_check_catches_a_wrong_hessian():
    assert not mc.check(x.T @ A @ x, x, order=2, gradient=2 * A).ok


def test_hvp_for_a_matrix_variable_matches_finite_differences_of_the_gradient():
    V = mc.matrix("V", n, m)
    loss = mc.sum(mc.tanh(X @ X.T @ X)) + mc.norm(X) ** 2
    product = mc.hvp(loss, X, V)
    gradient = mc.grad(loss, X)
    values = random_values([loss, V], sizes={n: 3, m: 4}, seed=11)
    step = 1e-6
    plus, minus = dict(values), dict(values)
    plus[X] = values[X] + step * values[V]
    minus[X] = values[X] - step * values[V]
    expected = (mc.evaluate(gradient, plus) - mc.evaluate(gradient, minus)) / (2 * step)
    np.testing.assert_allclose(mc.evaluate(product, values), expected, rtol=1e-5, atol=1e-7)


def test_second_order_errors():
    with pytest.raises(mc.DifferentiationError, match="jacobian: f must be a matcalc expression"):
        mc.jacobian(np.ones((3, 1)), x)
    with pytest.raises(mc.DifferentiationError, match="S is a symmetric matrix"):
        mc.hessian(mc.trace(mc.matrix("S", n, n, symmetric=True) ** 3), mc.matrix("S", n, n, symmetric=True))
    with pytest.raises(mc.ShapeError, match="direction has shape"):
        mc.hvp(mc.sum(X), X, mc.matrix("V", m, n))


def test_vector_and_scalar_jacobians_stay_expressions():
    """Matrices get a Jacobian object (tests/test_jacobians.py); vectors and scalars keep the
    matrix itself, so it composes, evaluates and compiles like any expression."""
    assert isinstance(mc.jacobian(mc.tanh(W @ x), x), mc.Expr)
    assert isinstance(mc.jacobian(mc.sum(x), mc.scalar("s")), mc.Expr)
    assert isinstance(mc.hessian(x.T @ A @ x, x), mc.Expr)
    assert not isinstance(mc.jacobian(W @ x, W), mc.Expr)


def test_jacobian_works_with_lambdify_and_source_export():
    J = mc.jacobian(mc.softmax(W @ x), x)
    f = mc.lambdify([W, x], J)
    rng = np.random.default_rng(2)
    Wv, xv = rng.normal(size=(3, 4)), rng.normal(size=4)
    s = np.exp(Wv @ xv) / np.exp(Wv @ xv).sum()
    np.testing.assert_allclose(f(Wv, xv), (np.diag(s) - np.outer(s, s)) @ Wv)
    assert "def f(W, x, *, out=None):" in mc.to_numpy_source([W, x], J)
