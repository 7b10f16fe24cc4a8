"""The display rewrites (matcalc.display): each rule fires on its example, gives the form a
person writes, and keeps the value (the display form evaluates, through its own templates,
to the value of the expression, entry by entry in sympy)."""

from __future__ import annotations

import numpy as np
import pytest

import matcalc as mc
from matcalc import display
from matcalc.expr import make
from matcalc.numeric.check import _as_sympy_matrix, entrywise_value
from matcalc.ops import Add
from tests.helpers import random_values

n = 3
A, B, C = mc.matrix("A", n, n), mc.matrix("B", n, 4), mc.matrix("C", n, n)
x, mu, y = mc.vector("x", n), mc.vector("mu", n), mc.vector("y", n)
s = mc.scalar("s")

# rule -> (expression, the pass that applies it, the printer, the printed form)
EXAMPLES = {
    "ones_with_shape": (B + mc.ones(n, 4), display.display, str, "B + 𝟏𝟏ᵀ"),
    "inverse_transpose": (mc.inv(A).T, display.display, str, "A⁻ᵀ"),
    "untransposed_sum": (x.T - mu.T, display.display, str, "(x − mu)ᵀ"),
    "negative_number": (mc.expr.const(-3) * s + s, display.display, str, "−3s + s"),
    "sign_in_front": (A - 2 * A.T, display.display, str, "A − 2Aᵀ"),
    "quotient": (mc.norm(x) ** -2 * x + 1.5 * x, display.display, str, "x/‖x‖² + 3x/2"),
    "transposed_sum": (A.T @ C.T + C.T @ A.T, display.display, str, "(CA + AC)ᵀ"),
    "inner_product_of_vectors": (mc.frob(x, y) + mc.frob(x.T, y.T), display.display, str, "xᵀy + xᵀy"),
    "sign_out_of_product": (make(Add, ((-A) @ C, A * (-C), (-A - C.T) @ C)), display.display, str, "−AC − A ⊙ C − (A + Cᵀ)C"),
    "inner_product_as_trace": (mc.trace(A) + mc.frob(A, C), display.display, str, "tr(A) + tr(AᵀC)"),
    "definition": (2 * mc.let("h", x + mu), display.display_unnamed, mc.to_syntax, "2*(x + mu)"),
}


def test_every_display_rule_has_an_example():
    assert {rule.__name__ for rule in display.RULES} == set(EXAMPLES)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_display_rule_fires_and_keeps_the_value(name):
    expr, display_pass, printer, shown = EXAMPLES[name]
    (displayed,) = display_pass([expr])
    assert displayed is not expr
    assert printer(expr) == shown
    values = random_values([expr], seed=4)
    bindings = {v: _as_sympy_matrix(np.atleast_2d(values[v])) for v in values}
    original = np.array(entrywise_value(expr, bindings, {}).evalf(), dtype=float)
    np.testing.assert_allclose(np.array(entrywise_value(displayed, bindings, {}).evalf(), dtype=float), original)
    np.testing.assert_allclose(np.atleast_2d(mc.evaluate(displayed, values)), original, rtol=1e-12)


def _tanh_chain(depth: int):
    h = x
    for _ in range(depth):
        h = mc.tanh(A @ h)
    return h


def _nested_chain(depth: int):
    e = x
    for _ in range(depth):
        e = A @ ((e + y) * x)
    return e


_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
# naming rule -> (a long expression, its text: body and "where" block)
NAMING_EXAMPLES = {
    "shared_subexpression": (
        (_tanh_chain(8) - y) * (1 - _tanh_chain(8) ** 2),
        "(t₁ − y) ⊙ (𝟏 − t₁²)\nwhere\n  t₁ = tanh(A tanh(A tanh(A tanh(A tanh(A tanh(A tanh(A tanh(Ax))))))))",
    ),
    "nested_subexpression": (
        _nested_chain(8),
        "At₈\nwhere\n  t₁ = (x + y) ⊙ x\n" + "".join(f"  t{k + 1} = (At{k} + y) ⊙ x\n" for k in range(1, 8)).translate(_SUB)[:-1],
    ),
}


def test_every_naming_rule_has_an_example():
    assert {rule.__name__ for rule in display.NAMING_RULES} == set(NAMING_EXAMPLES)


@pytest.mark.parametrize("name", sorted(NAMING_EXAMPLES))
def test_naming_rule_names_its_example_and_keeps_the_value(name):
    expr, shown = NAMING_EXAMPLES[name]
    naming = display.automatic_names([expr])
    assert name in naming.rules.values()
    assert str(expr) == shown
    values = random_values([expr], seed=4)
    np.testing.assert_allclose(mc.evaluate(naming.roots[0], values), mc.evaluate(expr, values), rtol=1e-12)
    for named, body in naming.definitions:  # each name evaluates as what it stands for
        np.testing.assert_allclose(mc.evaluate(named, values), mc.evaluate(body, values), rtol=1e-12)


def test_a_short_expression_is_printed_whole():
    expr = (_tanh_chain(2) - y) * (1 - _tanh_chain(2) ** 2)
    assert display.automatic_names([expr]).definitions == []
    assert str(expr) == "(tanh(A tanh(Ax)) − y) ⊙ (𝟏 − tanh(A tanh(Ax))²)"
