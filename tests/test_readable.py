"""Readable at any size (issue 15): automatic names, the δ recursion without mc.let, the Jacobian
view for matrix variables, rules that see through names, numbers as people write them, and
printing that stays linear in the depth of an expression."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import matcalc as mc
from matcalc.display import automatic_names
from matcalc.expr import make
from matcalc.ops import KronContract, Transpose
from tests.helpers import assert_gradient_correct, random_values

(n,) = mc.dims("n")


def tanh_network(depth: int, named: bool = False):
    """ℓ = ½‖h_L − t‖², h_l = tanh(W_l h_{l−1}), h_0 = x; with ``named`` each layer is a let."""
    x, t = mc.vector("x", n), mc.vector("t", n)
    weights = [mc.matrix(f"W{i + 1}", n, n) for i in range(depth)]
    h = x
    for i, W in enumerate(weights):
        h = mc.let(f"h{i + 1}", mc.tanh(mc.let(f"z{i + 1}", W @ h))) if named else mc.tanh(W @ h)
    return mc.norm(h - t) ** 2 / 2, weights, x, t


def numpy_backprop(Ws: list, x: np.ndarray, t: np.ndarray) -> list:
    """The gradients of ½‖h_L − t‖² by hand: δ_L = (h_L − t) ⊙ (1 − h_L²), δ_l = (W_{l+1}ᵀδ_{l+1}) ⊙ (1 − h_l²)."""
    hs = [x]
    for W in Ws:
        hs.append(np.tanh(W @ hs[-1]))
    delta = (hs[-1] - t) * (1 - hs[-1] ** 2)
    grads = [None] * len(Ws)
    for layer in reversed(range(len(Ws))):
        grads[layer] = delta @ hs[layer].T
        delta = (Ws[layer].T @ delta) * (1 - hs[layer] ** 2)
    return grads


DEPTH_3_TEXT = """u₆xᵀ
where
  u₁ = tanh(W₁x)
  u₂ = tanh(W₂u₁)
  u₃ = tanh(W₃u₂)
  u₄ = (u₃ − t) ⊙ (𝟏 − u₃²)
  u₅ = (W₃ᵀu₄) ⊙ (𝟏 − u₂²)
  u₆ = (W₂ᵀu₅) ⊙ (𝟏 − u₁²)"""


def test_a_network_gradient_reads_as_the_delta_recursion():
    loss, weights, x, t = tanh_network(3)
    gradient = mc.grad(loss, weights[0])
    assert str(gradient) == DEPTH_3_TEXT
    assert mc.latex(gradient) == (
        "\\begin{aligned}&u_{6} {x}^\\top \\\\ \\text{where}\\quad u_{1} &= \\tanh\\left(W_{1} x\\right) \\\\ "
        "u_{2} &= \\tanh\\left(W_{2} u_{1}\\right) \\\\ u_{3} &= \\tanh\\left(W_{3} u_{2}\\right) \\\\ "
        "u_{4} &= \\left(u_{3} - t\\right) \\odot \\left(\\mathbf{1} - {u_{3}}^{2}\\right) \\\\ "
        "u_{5} &= \\left({W_{3}}^\\top u_{4}\\right) \\odot \\left(\\mathbf{1} - {u_{2}}^{2}\\right) \\\\ "
        "u_{6} &= \\left({W_{2}}^\\top u_{5}\\right) \\odot \\left(\\mathbf{1} - {u_{1}}^{2}\\right)\\end{aligned}"
    )
    # the named form has the value of backprop by hand
    named = automatic_names([gradient]).roots[0]
    values = random_values([loss], sizes={n: 4}, seed=1)
    expected = numpy_backprop([values[W] for W in weights], values[x], values[t])[0]
    np.testing.assert_allclose(mc.evaluate(named, values), expected, rtol=1e-10)


def test_a_list_of_gradients_shares_its_names():
    loss, weights, x, t = tanh_network(3)
    assert mc.text(mc.grad(loss, weights)) == "u₆xᵀ\nu₅u₁ᵀ\nu₄u₂ᵀ\n" + DEPTH_3_TEXT.split("\n", 1)[1]
    assert mc.latex(mc.grad(loss, weights)).startswith("\\begin{aligned}&u_{6} {x}^\\top \\\\ &u_{5} {u_{1}}^\\top \\\\ ")


def test_the_backprop_view_without_lets_names_the_deltas():
    loss, weights, _, _ = tanh_network(3)
    view = mc.derive(loss, weights).view("backprop")
    assert [line.strip() for line in str(view).splitlines()[1:]] == [
        "u₁ = tanh(W₁x)",
        "u₂ = tanh(W₂u₁)",
        "u₃ = tanh(W₃u₂)",
        "δ₃ = ∂ℓ/∂(W₃u₂) = (u₃ − t) ⊙ (𝟏 − u₃²)",
        "δ₂ = ∂ℓ/∂(W₂u₁) = (W₃ᵀδ₃) ⊙ (𝟏 − u₂²)",
        "δ₁ = ∂ℓ/∂(W₁x) = (W₂ᵀδ₂) ⊙ (𝟏 − u₁²)",
        "∂ℓ/∂W₁ = δ₁xᵀ",
        "∂ℓ/∂W₂ = δ₂u₁ᵀ",
        "∂ℓ/∂W₃ = δ₃u₂ᵀ",
    ]
    assert "\\delta_{1} &= \\frac{\\partial \\ell}{\\partial \\left(W_{1} x\\right)}" in view.latex()
    index = str(mc.derive(loss, weights).view("index"))
    assert "(∂ℓ/∂W₁)_ij = δ₁_i x_j" in index


def test_user_names_win_and_automatic_names_never_clash():
    loss, weights, _, _ = tanh_network(8, named=True)
    text = str(mc.grad(loss, weights[0]))
    assert "(h₈ − t)" in text and "(𝟏 − h₁²)" in text and "tanh" not in text  # the user's names are kept
    # the user's letters are skipped: t is the target, u and v are taken too, so names are w₁, w₂, …
    x, t, u, v = (mc.vector(name, n) for name in "xtuv")
    A = mc.matrix("A", n, n)
    h = x
    for _ in range(8):
        h = mc.tanh(A @ h)
    text = str((h - t) * (1 - h**2) * u * v)
    assert text.startswith("(w₁ − t) ⊙ (𝟏 − w₁²) ⊙ u ⊙ v\nwhere\n  w₁ = tanh(")
    t1 = mc.vector("t1", n)  # all letters taken but t: numbering skips the user's t₁
    letters = [mc.vector(name, n) for name in "uvwsrqpgh"]
    product = letters[0]
    for letter in letters[1:]:
        product = product * letter
    text = str((h - t1) * (1 - h**2) * product)
    assert "\n  t₂ = tanh(" in text and "t₁ =" not in text


def test_short_expressions_are_printed_whole():
    W, a, b, t = mc.matrix("W", n, 3), mc.vector("a", 3), mc.vector("b", n), mc.vector("t", n)
    z = mc.let("z", W @ a + b)
    assert str(mc.grad(mc.sum((mc.sigmoid(z) - t) ** 2) / 2, W)) == "((σ(z) − t) ⊙ σ'(z))aᵀ"


def test_a_name_does_not_stop_scalar_algebra():
    m = mc.dims("m")[0]
    X, w, t = mc.matrix("X", n, m), mc.vector("w", m), mc.vector("t", n)
    y = mc.let("y", mc.sigmoid(X @ w))
    named = -mc.sum(t * mc.log(y) + (1 - t) * mc.log(1 - y))
    plain = -mc.sum(t * mc.log(mc.sigmoid(X @ w)) + (1 - t) * mc.log(1 - mc.sigmoid(X @ w)))
    assert str(mc.grad(named, w)) == "Xᵀ(y − t)"  # PRML (4.96), with the user's name
    assert str(mc.grad(plain, w)) == "Xᵀ(σ(Xw) − t)"
    assert_gradient_correct(named, [w], random_values([named], sizes={n: 5, m: 3}, seed=2))


@pytest.mark.parametrize(("number", "text", "latex"), [
    (1e-5, "x + 10⁻⁵𝟏", "x + 10^{-5} \\mathbf{1}"),
    (2.5e-7, "x + 2.5·10⁻⁷𝟏", "x + 2.5 \\cdot 10^{-7} \\mathbf{1}"),
    (1.00001, "x + 1.00001𝟏", "x + 1.00001 \\mathbf{1}"),
    (Fraction(1, 100000), "x + 𝟏/100000", "x + \\frac{\\mathbf{1}}{100000}"),
    (0.5, "x + 𝟏/2", "x + \\frac{\\mathbf{1}}{2}"),
])
def test_numbers_print_as_people_write_them(number, text, latex):
    x = mc.vector("x", n)
    assert str(x + number) == text
    assert mc.latex(x + number) == latex


def test_printing_a_deep_chain_is_linear_and_needs_no_recursion():
    x = mc.vector("x", 3)
    e = x
    for _ in range(20_000):
        e = make(Transpose, (e,))
    text = str(e)
    lines = text.split("\n")
    # ((xᵀ)ᵀ)ᵀ… nests parentheses: every other transpose is named, and each line is short
    assert lines[0] == "(t₉₉₉₉ᵀ)ᵀ" and lines[1] == "where" and lines[2] == "  t₁ = (xᵀ)ᵀ"
    assert len(lines) == 2 + 9_999 and max(len(line) for line in lines) < 20
    assert mc.latex(e).startswith("\\begin{aligned}")


def test_the_jacobian_view_of_a_matrix_variable_ends_in_delta_a_transposed():
    m = mc.dims("m")[0]
    W, a, b, t = mc.matrix("W", n, m), mc.vector("a", m), mc.vector("b", n), mc.vector("t", n)
    z = mc.let("z", W @ a + b)
    view = mc.derive(mc.sum((mc.sigmoid(z) - t) ** 2) / 2, W).view("jacobian")
    lines = [line.strip() for line in str(view).splitlines()[1:] if not line.strip().startswith("⟵")]
    assert lines == [
        "∂ℓ/∂z = (∂ℓ/∂σ(z)) (∂σ(z)/∂z)",
        "= (σ(z) − t)ᵀdiag(σ'(z))",
        "δ_z = diag(σ'(z))(σ(z) − t)",
        "= σ'(z) ⊙ (σ(z) − t)",
        "∂ℓ/∂W = δ_z aᵀ",
    ]
    view.latex()


def test_the_adjoint_of_a_kronecker_factor_is_written_as_mathematics():
    A, X, G = mc.matrix("A", 2, 2), mc.matrix("X", 3, 3), mc.matrix("G", 6, 6)
    assert str(mc.grad(mc.trace(mc.kron(A, X)), X)) == "tr(A)I"  # Cookbook (105)
    assert str(mc.grad(mc.frob(G, mc.kron(A, X)), X)) == "Σᵢⱼ AᵢⱼG₍ᵢⱼ₎"
    assert str(mc.grad(mc.frob(G, mc.kron(A, X)), A)) == "[G₍ᵢⱼ₎ : X]ᵢⱼ"
    assert mc.latex(make(KronContract, (G, X), (0,))) == "\\left[G_{(ij)} : X\\right]_{ij}"


def test_derivation_steps_subtract_instead_of_adding_a_negative():
    S, mu, y = mc.matrix("S", n, n, symmetric=True), mc.vector("m", n), mc.vector("y", n)
    r = mc.let("r", y - mu)
    text = str(mc.derive(mc.logdet(S) / 2 + r.T @ mc.inv(S) @ r / 2, S))
    assert "+ −" not in text and "+ (−" not in text
    assert "= S⁻¹/2 : dS − S⁻¹rrᵀS⁻¹/2 : dS" in text


def test_an_inner_product_of_vectors_is_written_as_a_product():
    x, a = mc.vector("x", n), mc.scalar("a")
    assert str(mc.frob(x, x)) == "xᵀx" and str(mc.frob(x.T, x.T)) == "xᵀx"
    loss = a * (x.T @ x) + mc.sin(a)
    assert str(mc.grad(loss, a)) == "cos(a) + xᵀx"
    assert "xᵀ : xᵀ" not in str(mc.derive(loss, a))


def test_measured_sizes_at_depth_64():
    """The sizes issue 15 asks for (characters), without any mc.let and with one per layer."""
    loss, weights, _, _ = tanh_network(64)
    derivation = mc.derive(loss, weights)
    assert len(str(derivation.view("backprop"))) <= 10_000
    assert len(mc.text(mc.grad(loss, weights))) <= 15_000
    assert len(str(derivation.gradient[weights[0]])) <= 6_000
    named_loss, named_weights, _, _ = tanh_network(64, named=True)
    assert len(str(mc.derive(named_loss, named_weights).view("backprop"))) <= 4_400  # 4,323 before issue 15
