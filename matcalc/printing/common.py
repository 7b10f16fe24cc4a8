"""The printer driver: renders a DAG bottom-up, once per node, without recursion.

Each operation's ``render(p)`` asks ``p`` for its children's strings, parenthesised to the
precedence it needs, and for the notation's pieces (names, numbers, postfix marks); the
text and LaTeX printers supply those pieces.
"""

from __future__ import annotations

import re
from fractions import Fraction

from .. import graph
from ..expr import PREC_ADD, PREC_ATOM, PREC_NEG, PREC_POSTFIX, PREC_PRODUCT, Const, Expr, Let, Symbol

_NAME_WITH_INDEX = re.compile(r"^([A-Za-z]|[A-Za-z][A-Za-z]+?)_?(\d+)$")


def postorder(roots, into_lets: bool = True) -> list[Expr]:
    """Every node reachable from ``roots``, each after its arguments, each once.

    With ``into_lets=False`` a named intermediate is a leaf: its definition is not visited.
    """
    return graph.postorder(roots, None if into_lets else _not_a_let)


def _not_a_let(node: Expr) -> bool:
    return not isinstance(node, Let)


_DIGITS = frozenset("0123456789")


def _ends_in_digit(text: str) -> bool:
    return text[-1:] in _DIGITS


def split_name(label: str) -> tuple[str, str]:
    """A name and its numeric index: 'W1' and 'W_1' → ('W', '1')."""
    match = _NAME_WITH_INDEX.match(label)
    return (match.group(1), match.group(2)) if match else (label, "")


class Printer:
    latex = False

    def __init__(self, roots):
        self.results: dict[Expr, tuple] = {}
        self.current: Expr | None = None
        self.compact = all(
            len(split_name(node.label)[0]) == 1
            for node in postorder(roots, into_lets=False)
            if isinstance(node, (Symbol, Let))
        )

    def render(self, root: Expr) -> str:
        for node in postorder([root], into_lets=False):
            if node not in self.results:
                self.current = node
                result = node.render(self)
                self.results[node] = result if len(result) == 3 else (result[0], result[1], None)
        return self.results[root][0]

    def render_aside(self, expr: Expr) -> str:
        """The text of an expression that is not part of the tree being printed."""
        current = self.current
        try:
            return self.render(expr)
        finally:
            self.current = current

    # --- children -----------------------------------------------------------------------------
    def wrap_node(self, node: Expr, min_prec: int, chain: type | None = None) -> str:
        text, prec, _ = self.results[node]
        if prec >= min_prec or (chain is not None and isinstance(node, chain)):
            return text
        return self.parens(text)

    def wrap(self, index: int, min_prec: int, chain: type | None = None) -> str:
        return self.wrap_node(self.current.args[index], min_prec, chain)

    def term(self, index: int) -> tuple[bool, str]:
        """A summand as (is it negative, its text without the sign)."""
        text, prec, positive = self.results[self.current.args[index]]
        if positive is not None:
            return True, positive
        return False, text if prec > PREC_ADD else self.parens(text)

    # --- pieces shared by both notations -----------------------------------------------------------
    def numeric_scale(self, value, body_index: int):
        """c·X for a numeric c, with the sign split off for sums."""
        magnitude = -value if value < 0 else value
        body = self.current.args[body_index]
        if magnitude == 1:
            positive = self.wrap_node(body, PREC_PRODUCT)
        elif isinstance(magnitude, Fraction) and magnitude.numerator == 1:
            positive = self.over(self.wrap_node(body, PREC_PRODUCT), str(magnitude.denominator))
        else:
            positive = self.juxtapose([self.number_text(magnitude), self.wrap_node(body, PREC_PRODUCT)])
        if value < 0:
            return self.minus_prefix() + positive, PREC_NEG, positive
        return positive, PREC_PRODUCT

    def divided(self, body_index: int, coefficient: Expr):
        base = coefficient.args[0]
        exponent = -coefficient.exponent
        denominator = self.wrap_node(base, PREC_ATOM)
        if exponent != 1:
            denominator = self.power(denominator, exponent, False)
        return self.over(self.wrap(body_index, PREC_PRODUCT), denominator), PREC_PRODUCT

    def number(self, value):
        if not isinstance(value, (int, float, Fraction)):
            return self.dim_expression(value)
        if value < 0:
            positive = self.number_text(-value)
            return self.minus_prefix() + positive, PREC_NEG, positive
        prec = PREC_PRODUCT if isinstance(value, Fraction) and not self.latex else PREC_ATOM
        return self.number_text(value), prec

    def dim_expression(self, value):
        """A constant made of dimensions, (3 + n)/2 say, with the precedence its form needs."""
        if value.could_extract_minus_sign():
            positive, _ = self.dim_expression(-value)
            return self.minus_prefix() + positive, PREC_NEG, positive
        if value.is_Add:
            prec = PREC_ADD
        elif value.is_Mul or value.is_Pow or value.is_Rational and not value.is_Integer:
            prec = PREC_PRODUCT
        else:
            prec = PREC_ATOM
        return self.dim_text(value), prec

    def number_text(self, value) -> str:
        if isinstance(value, Fraction):
            return self.fraction(value)
        if isinstance(value, float):
            return repr(value)
        return str(value)

    def juxtapose(self, parts: list[str]) -> str:
        out = parts[0]
        for part in parts[1:]:
            if _ends_in_digit(out) and part[:1] in _DIGITS:  # 2·3, not 23 (𝟏 is no digit here)
                out += self.times_sign()
            elif not self.compact or self.latex:
                out += " "
            out += part
        return out

    def infix(self, parts: list[str], text_op: str, latex_op: str) -> str:
        return (latex_op if self.latex else text_op).join(parts)


def is_numeric_const(node: Expr) -> bool:
    return isinstance(node, Const) and isinstance(node.value, (int, float, Fraction))


__all__ = ["Printer", "postorder", "split_name", "is_numeric_const", "PREC_POSTFIX"]
