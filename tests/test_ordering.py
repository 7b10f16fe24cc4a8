"""The ordering that makes simplification terminate (matcalc/ordering.py): every named rule's
example gets smaller in it, and the simplifier keeps no rewrite that does not, so even rules
that would undo each other cannot make it loop."""

from __future__ import annotations

import pytest

import matcalc as mc
from matcalc.expr import make
from matcalc.ops import Add
from matcalc.ordering import Costs
from matcalc.simplify import RULES, Rule, Simplifier, all_rules
from tests.test_rules import EXAMPLES


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.name)
def test_every_rule_makes_its_example_smaller(rule):
    before, _ = EXAMPLES[rule.name]
    after = rule.apply(before)
    cost = Costs()
    assert cost(after) < cost(before), f"{rule.name}: {before} → {after}"


def test_no_part_costs_more_than_the_whole():
    n = 3
    A, B, x = mc.matrix("A", n, n), mc.matrix("B", n, n), mc.vector("x", n)
    e = mc.sum(mc.tanh((A @ B).T @ x) * 2) + mc.trace(mc.inv(A + B.T))
    cost = Costs()
    stack = [e]
    while stack:
        node = stack.pop()
        for child in node.args:
            assert cost(child) <= cost(node)
            stack.append(child)


def test_rules_that_undo_each_other_cannot_make_the_simplifier_loop(monkeypatch):
    """A rule that swaps the terms of a sum undoes itself; without the ordering the simplifier
    would swap forever.  The swap never gets cheaper, so it is never kept."""

    def swap_terms(e):
        return make(Add, tuple(reversed(e.args)))

    monkeypatch.setitem(RULES, Add, [Rule("swap_terms", Add, swap_terms, "A + B = B + A")] + RULES[Add])
    A, B = mc.matrix("A", 3, 3), mc.matrix("B", 3, 3)
    assert str(Simplifier()(A + B)) == "A + B"
