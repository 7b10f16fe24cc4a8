"""Walks over the expression DAG, iterative so that depth costs no stack.

Everything that visits an expression (differentiation, simplification, printing, code
generation, pickling) walks it through these functions, so a DAG of shared
subexpressions is visited once per node and a chain 10,000 deep is just a long list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable


def postorder(roots: Iterable, descend: Callable | None = None) -> list:
    """Every node reachable from ``roots``, each after its arguments, each once.

    ``descend(node)`` False makes a node a leaf: its arguments are not visited.
    """
    order: list = []
    seen: set[int] = set()
    stack = [(root, False) for root in reversed(list(roots))]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        if descend is not None and not descend(node):
            continue
        for child in reversed(node.args):
            if id(child) not in seen:
                stack.append((child, False))
    return order
