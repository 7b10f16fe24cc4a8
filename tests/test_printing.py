"""Text and LaTeX printing: notation, minimal parentheses, safe names."""

from __future__ import annotations

import matcalc as mc

A, B = mc.matrix("A", 3, 3), mc.matrix("B", 3, 3)
x, y = mc.vector("x", 3), mc.vector("y", 3)
W1 = mc.matrix("W1", 3, 3)
s = mc.scalar("s")


def test_text_notation():
    assert str(A.T @ x) == "Aᵀx"
    assert str(mc.inv(A).T) == "A⁻ᵀ"
    assert str(mc.inv(A)) == "A⁻¹"
    assert str(x * y) == "x ⊙ y"
    assert str(mc.trace(A @ B)) == "tr(AB)"
    assert str(mc.norm(x)) == "‖x‖"
    assert str(mc.norm(A)) == "‖A‖_F"
    assert str(mc.sigmoid(x)) == "σ(x)"
    assert str(x - y) == "x − y"
    assert str(-x) == "−x"
    assert str(x**2) == "x²"
    assert str(A**2) == "A^∘2"
    assert str(x / 2) == "x/2"
    assert str(A @ (x + y)) == "A(x + y)"
    assert str((A @ x) * y) == "(Ax) ⊙ y"
    assert str((A @ x).T) == "(Ax)ᵀ"
    assert str(mc.det(A) * A) == "det(A)A"
    assert str(mc.logdet(A)) == "log det(A)"
    assert str(mc.frob(A, B)) == "A : B"
    assert str(mc.kron(A, B)) == "A ⊗ B"
    assert str(mc.diag(x)) == "diag(x)"
    assert str(mc.ones(3) - x) == "𝟏 − x"


def test_indexed_names_print_as_subscripts():
    assert str(W1 @ x) == "W₁x"
    assert mc.latex(W1 @ x) == "W_{1} x"
    assert str(mc.matrix("W_12", 2, 2)) == "W₁₂"


def test_multi_letter_names_are_spaced():
    h = mc.vector("hidden", 3)
    assert str(A @ h) == "A hidden"
    assert mc.latex(A @ h) == "A \\mathrm{hidden}"


def test_latex_notation():
    assert mc.latex(A.T @ x) == "{A}^\\top x"
    assert mc.latex(x * y) == "x \\odot y"
    assert mc.latex(mc.trace(A)) == "\\operatorname{tr}\\left(A\\right)"
    assert mc.latex(mc.inv(A).T) == "{A}^{-\\top}"
    assert mc.latex(x / 2) == "\\frac{x}{2}"
    assert mc.latex(mc.norm(A)) == "\\left\\lVert A \\right\\rVert_F"
    assert mc.latex(mc.sqrt(x)) == "\\sqrt{x}"
    assert mc.latex(mc.matrix("alpha", 2, 2)) == "\\alpha"


def test_hostile_names_are_escaped_in_latex():
    evil = mc.matrix("x); import os #{}", 2, 2)
    text = mc.latex(evil)
    assert "\\#" in text and "\\{" in text and "\\}" in text
    assert mc.latex(mc.vector("a\\b^c", 2)) == "\\mathrm{a\\backslash{}b\\wedge{}c}"


def test_repr_latex_for_jupyter():
    assert (A @ x)._repr_latex_() == "$A x$"
    assert repr(A @ x) == "<MatMul Ax : 3×1>"


def test_deep_expression_prints_without_recursion():
    e = x
    for _ in range(5000):
        e = mc.tanh(A @ e)
    assert str(e).startswith("tanh(A tanh(")


def test_a_row_that_sums_transposed_columns_prints_as_one_transpose():
    n_ = mc.dims("n")[0]
    v, mu = mc.vector("v", n_), mc.vector("mu", n_)
    S = mc.matrix("S", n_, n_, symmetric=True)
    loss = mc.logdet(S) / 2 + (v - mu).T @ mc.inv(S) @ (v - mu) / 2
    assert str(mc.grad(loss, S)) == "(S⁻¹ − S⁻¹ (v − mu) (v − mu)ᵀ S⁻¹)/2"
    assert "\\left(v - \\mu\\right)}^\\top" in mc.latex(mc.grad(loss, S))
    A = mc.matrix("A", 3, 3)
    assert str(mc.simplify((A + A.T).T)) == "A + Aᵀ"  # matrices keep their transposed terms


def test_a_quotient_in_front_of_a_factor_takes_the_factor_into_its_numerator():
    """(s/2)x is written sx/2, not s/2x, which reads as s/(2x); in LaTeX \\frac needs no parentheses."""
    t = mc.scalar("t")
    n, N = mc.dims("n N")
    assert str((s / 2) * x) == "sx/2"
    assert str((t / s) * x) == "tx/s"
    assert str((mc.sum(x) / s) * x) == "sum(x)x/s"
    assert str(mc.sum(x) / s) == "sum(x)/s"
    assert mc.latex(mc.sum(mc.matrix("Y", n, N)) / (n * N)) == "\\frac{\\operatorname{sum}\\left(Y\\right)}{N n}"


def test_what_a_scaling_by_a_quotient_prints_reads_as_its_value():
    """a/bX reads as a/(bX): a scaling with a reciprocal in it prints as one quotient, its sign in
    front (third audit: st/2Y, 2sum(X)/4Y, s/tx/u, (−x)/2 and x/(−s) before)."""
    t, u = mc.scalar("t"), mc.scalar("u")
    X2, Y2 = mc.matrix("X", 2, 2), mc.matrix("Y", 2, 2)
    cases = [
        ((s * (t / 2)) * Y2, "stY/2"),
        ((2 * mc.mean(X2)) * Y2, "2sum(X)Y/4"),
        (mc.mean(X2) * mc.mean(X2) * Y2, "sum(X)sum(X)Y/16"),
        ((mc.mean(X2) / (s * s + 1)) * Y2, "sum(X)Y/(4(ss + 1))"),
        ((s / t) / u * x, "sx/(tu)"),
        (0.5 / s * x, "x/(2s)"),
        (-x / 2, "−x/2"),
        (x / (-s), "−x/s"),
        ((-s / 2) * (x / (-t)), "sx/(2t)"),
    ]
    for expr, shown in cases:
        assert str(expr) == shown


def test_a_name_before_a_function_is_spaced_and_a_raised_factor_is_enclosed():
    """s tanh(x), not stanh(x); a tan(x), not atan(x); (t^s)x, not t^sx, which reads as t^(sx)."""
    a, t = mc.scalar("a"), mc.scalar("t")
    assert str(s * mc.tanh(x)) == "s tanh(x)" and str(a * mc.tan(x)) == "a tan(x)"
    assert str(s * mc.det(A) * A) == "s det(A)A" and str(A @ mc.tanh(x)) == "A tanh(x)"
    assert str(2 * mc.tanh(x)) == "2tanh(x)" and str(A.T @ mc.tanh(x)) == "Aᵀtanh(x)"
    assert str((t**s) * x) == "(t^s)x" and str(x**s) == "x^s"


def test_sizes_that_are_powers_print_as_powers():
    n = mc.dims("n")[0]
    S = mc.matrix("S", n, n)
    assert str(mc.mean(S)) == "sum(S)/n²" and mc.latex(mc.mean(S)) == "\\frac{\\operatorname{sum}\\left(S\\right)}{n^{2}}"
    assert "n²×n²" in repr(mc.jacobian(S @ S, S))


def test_an_intermediate_named_like_a_variable_prints_apart_from_it():
    W1, X = mc.matrix("W1", 4, 3), mc.matrix("X", 3, 5)
    hidden = mc.let("X", mc.tanh(W1 @ X))
    assert str(mc.grad(mc.sum(hidden * hidden), W1)) == "2(X⁽¹⁾ ⊙ (𝟏𝟏ᵀ − X⁽¹⁾^∘2))Xᵀ"
