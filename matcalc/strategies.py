"""Rewrite strategies: small combinators that turn named rules into passes over the DAG.

A rule is a function ``rule(node) -> Expr | None``: a rewritten node, or None where it does
not apply.  The combinators below compose rules into bigger rules (as sympy/strategies does),
and :func:`bottom_up` runs a rule over a whole DAG, children first, each node once, without
recursion.  The simplifier, the display rewrites and the code generator's passes are all
built from them.
"""

from __future__ import annotations

from collections.abc import Callable

from .graph import postorder

Rule = Callable  # (node) -> node | None


def do_one(*rules: Rule) -> Rule:
    """The first of ``rules`` that applies."""

    def first(node):
        for rule in rules:
            result = rule(node)
            if result is not None and result is not node:
                return result
        return None

    return first


def typed(rules_by_type: dict) -> Rule:
    """The rule registered for the node's type, if any."""

    def dispatch(node):
        rule = rules_by_type.get(type(node))
        return None if rule is None else rule(node)

    return dispatch


def exhaust(rule: Rule) -> Rule:
    """``rule`` applied again to its own result until it no longer applies.  Each rule this
    is used with must shrink something (a transpose pushed down, a factor removed), so the
    repetition ends."""

    def repeat(node):
        current, changed = node, False
        while True:
            result = rule(current)
            if result is None or result is current:
                return current if changed else None
            current, changed = result, True

    return repeat


def bottom_up(rule: Rule, descend: Callable | None = None) -> Callable:
    """A pass that rebuilds every node over its rewritten children, then applies ``rule`` to it.

    Returns a function of a list of roots that gives the rewritten roots; a node shared by
    several parents is rewritten once.  ``descend(node)`` False keeps a node as it is, its
    arguments unvisited.
    """
    def run(roots: list) -> list:
        done: dict = {}
        for node in postorder(roots, descend):
            if descend is not None and not descend(node):
                done[node] = node
                continue
            rebuilt = node.rebuild(tuple(done[child] for child in node.args))
            result = rule(rebuilt)
            done[node] = rebuilt if result is None else result
        return [done[root] for root in roots]

    return run
