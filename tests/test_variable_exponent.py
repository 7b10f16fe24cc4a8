"""X ** s for a scalar expression s (issue 14, item 6): its value against NumPy, its gradients
against the textbook forms (∂ sum(P^s)/∂s = sum(P^s ⊙ log P)) and finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import matcalc as mc
from tests.helpers import assert_gradient_correct, random_values

P, s, x = mc.matrix("P", 3, 4), mc.scalar("s"), mc.vector("x", 3)


def test_value_and_gradients():
    loss = mc.sum(P**s)
    assert str(loss) == "sum(P^∘s)"
    assert str(mc.grad(loss, s)) == "sum(P^∘s ⊙ log(P))"
    assert str(mc.grad(loss, P)) == "sP^∘(s − 1)"
    values = random_values([loss], seed=1, positive=True)
    P0, s0 = values[P], float(np.asarray(values[s]).ravel()[0])
    assert mc.evaluate(loss, values) == pytest.approx(np.sum(P0**s0))
    assert mc.evaluate(mc.grad(loss, s), values) == pytest.approx(np.sum(P0**s0 * np.log(P0)))
    assert_gradient_correct(loss, [s, P], values)


def test_an_exponent_that_is_an_expression():
    loss = mc.sum(mc.exp(x) ** (s * s + 1))
    assert_gradient_correct(loss, [s, x], random_values([loss], seed=2))
    assert mc.check(loss, [s, x]).ok


def test_the_string_syntax_reads_and_writes_it():
    e = mc.parse("sum(P.^a)")
    assert mc.parse(mc.to_syntax(e)) is e and str(mc.grad(e, e.variables["a"])) == "sum(P^∘a ⊙ log(P))"


def test_an_exponent_that_is_not_a_scalar_is_refused():
    with pytest.raises(mc.ShapeError, match="exponent must be a scalar"):
        P ** x
