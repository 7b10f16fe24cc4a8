"""Derivations as data: steps naming their rules, in four views, as text and LaTeX."""

from __future__ import annotations

import numpy as np
import pytest

import matcalc as mc
from matcalc.derivation import substitute
from tests.helpers import random_values

n0, n1, n2 = mc.dims("n0 n1 n2")


def two_layer():
    x, t = mc.vector("x", n0), mc.vector("t", n2)
    W1, W2 = mc.matrix("W1", n1, n0), mc.matrix("W2", n2, n1)
    z1 = mc.let("z1", W1 @ x)
    a1 = mc.let("a1", mc.sigmoid(z1))
    z2 = mc.let("z2", W2 @ a1)
    a2 = mc.let("a2", mc.sigmoid(z2))
    return mc.norm(a2 - t) ** 2 / 2, W1, W2, x


def sigmoid_layer():
    W, a, t = mc.matrix("W", n1, n0), mc.vector("a", n0), mc.vector("t", n1)
    z = mc.let("z", W @ a)
    return mc.sum((mc.sigmoid(z) - t) ** 2) / 2, W


def test_differential_view_names_each_rule():
    loss, W = sigmoid_layer()
    d = mc.derive(loss, W)
    assert [s.rule for s in d.steps] == [
        "differential", "scale", "sum", "power", "add", "elementwise", "name_adjoint", "let", "matmul", "read_off"
    ]
    assert str(d.steps[-2].after) == "δ_z aᵀ : dW"
    assert d.steps[-1].subject is W
    text = str(d)
    assert "matmul: C:AB = CBᵀ:A = AᵀC:B" in text
    assert "∂ℓ/∂W = δ_z aᵀ" in text
    assert "δ_z = (σ(z) − t) ⊙ σ'(z)" in text
    assert d.latex().startswith("\\begin{align*}")
    assert d._repr_latex_() == d.latex()
    assert str(d.gradient) == "((σ(z) − t) ⊙ σ'(z))aᵀ"


def test_backprop_view_is_the_textbook_recursion():
    loss, W1, W2, _ = two_layer()
    view = mc.derive(loss, [W2, W1]).view("backprop")
    lines = [line.strip() for line in str(view).splitlines()[1:]]
    assert lines == [
        "δ_z₂ = (a₂ − t) ⊙ σ'(z₂)",
        "δ_z₁ = (W₂ᵀ δ_z₂) ⊙ σ'(z₁)",
        "∂ℓ/∂W₂ = δ_z₂ a₁ᵀ",
        "∂ℓ/∂W₁ = δ_z₁ xᵀ",
    ]
    view.latex()


def test_index_view_shows_entries_beside_matrices():
    loss, W1, W2, _ = two_layer()
    text = str(mc.derive(loss, [W2, W1]).view("index"))
    assert "(∂ℓ/∂W₂)_ij = (δ_z₂)_i a₁_j" in text
    assert "(δ_z₁)_i = Σ_k W₂_ki (δ_z₂)_k σ'(z₁_i)" in text
    assert "(δ_z₂)_i = (a₂_i − t_i) σ'(z₂_i)" in text
    mc.derive(loss, [W2, W1]).view("index").latex()


def test_jacobian_view_turns_diag_into_hadamard_and_reverses_the_order():
    loss, _, _, x = two_layer()
    view = mc.derive(loss, x).view("jacobian")
    text = str(view)
    assert "(a₂ − t)ᵀdiag(σ'(z₂))W₂diag(σ'(z₁))W₁" in text
    assert "W₁ᵀdiag(σ'(z₁))W₂ᵀdiag(σ'(z₂))(a₂ − t)" in text
    assert "W₁ᵀ(σ'(z₁) ⊙ (W₂ᵀ(σ'(z₂) ⊙ (a₂ − t))))" in text
    view.latex()


def test_variable_used_three_times_collects_terms():
    n, m = mc.dims("n m")
    X = mc.matrix("X", n, m)
    W = mc.let("W", X @ X.T)
    Y = mc.let("Y", W @ X)
    d = mc.derive(mc.norm(Y), X)
    assert "collect_terms" in [s.rule for s in d.steps]
    assert any("reached along 3 paths" in s.why for s in d.steps)
    str(d), d.latex(), d.view("backprop").latex(), d.view("index").latex(), d.view("jacobian").latex()


def test_linear_network_without_names():
    n = mc.dims("n")[0]
    A, B, x, t = mc.matrix("A", n, n), mc.matrix("B", n, n), mc.vector("x", n), mc.vector("t", n)
    d = mc.derive(mc.norm(t - A @ B @ x) ** 2 / 2, B)
    assert str(d.view("differential").lines[-1].rhs) == "−Aᵀ(t − ABx)xᵀ"
    assert "a chain of named vector intermediates" in str(d.view("jacobian"))
    d.latex()


def test_several_variables_give_a_dict_and_shapes_notes():
    loss, W1, W2, _ = two_layer()
    d = mc.derive(loss, [W1, W2], shapes=True)
    assert set(d.gradient) == {W1, W2}
    assert any("is n₂×1, like z₂" in s.note or "n2×1" in s.note for s in d.steps)


def test_named_adjoints_substituted_back_equal_the_gradient():
    loss, W1, W2, _ = two_layer()
    d = mc.derive(loss, [W1, W2])
    mapping = {}
    for delta, value in d.definitions:
        mapping[delta] = substitute(value, mapping)
    values = random_values([loss], sizes={n0: 3, n1: 4, n2: 2}, seed=3)
    for variable in (W1, W2):
        expanded = substitute(d.finals[variable], mapping)
        np.testing.assert_allclose(mc.evaluate(expanded, values), mc.evaluate(d.gradient[variable], values))


def test_steps_grow_linearly_with_depth():
    def steps(depth):
        n = mc.dims("n")[0]
        x, t = mc.vector("x", n), mc.vector("t", n)
        weights = [mc.matrix(f"W{i}", n, n) for i in range(depth)]
        h = x
        for i, W in enumerate(weights):
            h = mc.let(f"h{i}", mc.tanh(W @ h))
        return len(mc.derive(mc.norm(h - t) ** 2 / 2, weights).steps)

    s4, s8, s16 = steps(4), steps(8), steps(16)
    assert s16 - s8 == 2 * (s8 - s4)


def test_unknown_view():
    loss, W = sigmoid_layer()
    with pytest.raises(mc.DifferentiationError, match="unknown view 'tensor'"):
        mc.derive(loss, W).view("tensor")


def test_symmetric_variable_is_read_off_as_sym_g():
    n = mc.dims("n")[0]
    S, x = mc.matrix("S", n, n, symmetric=True), mc.vector("x", n)
    d = mc.derive(x.T @ S @ x, S)
    assert str(d.finals[S]) == "xxᵀ"  # by hand: G = xxᵀ is already symmetric
    assert "symmetric: sym(G)" in str(d)
