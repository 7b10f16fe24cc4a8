"""LaTeX keeps every name: Greek letters become their commands, subscript digits subscripts,
ligatures their letters, anything else text; two different names never print alike.  Every
string here is also rendered by KaTeX at the end of the suite (tests/test_katex.py)."""

from __future__ import annotations

import pytest

import matcalc as mc
from matcalc.printing.latex import latex_name


@pytest.mark.parametrize(
    "name, expected",
    [
        ("λ", "\\lambda"), ("lambda", "\\lambda"), ("W₁", "W_{1}"), ("W1", "W_{1}"), ("ω₂", "\\omega_{2}"),
        ("δ_z₁", "\\delta_{z_{1}}"), ("ℓ", "\\ell"), ("ﬀ", "\\mathrm{ff}"), ("x_hat", "\\mathrm{x\\_hat}"),
        ("é", "\\mathrm{\\text{é}}"), ("λx", "\\mathrm{{\\lambda}x}"),
    ],
)
def test_names_become_latex_that_keeps_them(name, expected):
    assert latex_name(name) == expected


def test_the_ridge_gradient_keeps_lambda():
    n, m = mc.dims("n m")
    X, w, y, lam = mc.matrix("X", n, m), mc.vector("w", m), mc.vector("y", n), mc.scalar("λ")
    loss = mc.norm(X @ w - y) ** 2 / 2 + lam * mc.norm(w) ** 2 / 2
    written = mc.latex(mc.grad(loss, w))
    assert "\\lambda" in written and "?" not in written


def test_two_adjoints_of_different_layers_print_differently():
    assert latex_name("δ_z₁") != latex_name("δ_z₂")
    n = mc.dims("n")[0]
    W1, W2, x = mc.matrix("W₁", n, n), mc.matrix("W₂", n, n), mc.vector("x", n)
    z1 = mc.let("z₁", W1 @ x)
    z2 = mc.let("z₂", W2 @ mc.tanh(z1))
    view = mc.derive(mc.sum(mc.tanh(z2)), [W1, W2]).view("backprop").latex()
    assert "\\delta_{z_{1}}" in view and "\\delta_{z_{2}}" in view and "?" not in view
