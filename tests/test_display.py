"""The display rewrites (matcalc.display): each rule fires on its example, gives the form a
person writes, and keeps the value (the display form evaluates, through its own templates,
to the value of the expression, entry by entry in sympy)."""

from __future__ import annotations

import numpy as np
import pytest

import matcalc as mc
from matcalc import display
from matcalc.numeric.check import _as_sympy_matrix, entrywise_value
from tests.helpers import random_values

n = 3
A, B = mc.matrix("A", n, n), mc.matrix("B", n, 4)
x, mu = mc.vector("x", n), mc.vector("mu", n)
s = mc.scalar("s")

# rule -> (expression, the pass that applies it, the printer, the printed form)
EXAMPLES = {
    "ones_with_shape": (B + mc.ones(n, 4), display.display, str, "B + 𝟏𝟏ᵀ"),
    "inverse_transpose": (mc.inv(A).T, display.display, str, "A⁻ᵀ"),
    "untransposed_sum": (x.T - mu.T, display.display, str, "(x − mu)ᵀ"),
    "negative_number": (mc.expr.const(-3) * s + s, display.display, str, "−3s + s"),
    "sign_in_front": (A - 2 * A.T, display.display, str, "A − 2Aᵀ"),
    "quotient": (mc.norm(x) ** -2 * x + 1.5 * x, display.display, str, "x/‖x‖² + 3x/2"),
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
