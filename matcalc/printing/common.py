"""The printer driver: formats a DAG bottom-up, once per node, without recursion.

Each operation declares its :class:`~matcalc.printing.notation.Notation`; the printer has one
method per kind of notation, which asks for its operands' texts, parenthesised to the
precedence they need.  The text and LaTeX printers supply the marks of their dialect.
"""

from __future__ import annotations

import re
from fractions import Fraction

import sympy

from .. import graph
from ..display import display
from ..expr import Const, Expr, Let, Symbol
from .notation import PREC_ADD, PREC_ATOM, PREC_NEG, PREC_POSTFIX, PREC_PRODUCT, Notation

_NAME_WITH_INDEX = re.compile(r"^([A-Za-z]|[A-Za-z][A-Za-z]+?)_?(\d+)$")


def postorder(roots, into_lets: bool = True) -> list[Expr]:
    """Every node reachable from ``roots``, each after its arguments, each once.

    With ``into_lets=False`` a named intermediate is a leaf: its definition is not visited.
    """
    return graph.postorder(roots, None if into_lets else _not_a_let)


def _not_a_let(node: Expr) -> bool:
    return not isinstance(node, Let)


_DIGITS = frozenset("0123456789")


def split_name(label: str) -> tuple[str, str]:
    """A name and its numeric index: 'W1' and 'W_1' → ('W', '1')."""
    match = _NAME_WITH_INDEX.match(label)
    return (match.group(1), match.group(2)) if match else (label, "")


class Printer:
    """Formats an expression: its display form (see :mod:`matcalc.display`), bottom-up, each
    node once, by the kind of notation its operation declares.

    The text and LaTeX printers subclass this with the marks of their dialect (names, parentheses,
    fractions); what is written where, and with which parentheses, is decided here alone.
    """

    latex = False

    def __init__(self, roots, layers: dict | None = None):
        """``layers`` numbers named intermediates that share a name (see :func:`let_layers`);
        by default, those among ``roots``."""
        self.results: dict[Expr, tuple[str, int]] = {}
        self.compact = all(
            len(split_name(node.label)[0]) == 1
            for node in postorder(roots, into_lets=False)
            if isinstance(node, (Symbol, Let))
        )
        self.layers = let_layers(roots) if layers is None else layers
        self.literal = self.look_alikes(roots)

    def look_alikes(self, roots) -> set[str]:
        """Names that would print alike (W1 and W₁, α and alpha): these are written literally."""
        labels = {node.label for node in postorder(roots) if isinstance(node, (Symbol, Let))}
        written: dict[str, list[str]] = {}
        for label in labels:
            written.setdefault(self.name(label), []).append(label)
        return {label for same in written.values() if len(same) > 1 for label in same}

    def render(self, root: Expr) -> str:
        (shown,) = self.display([root])
        for node in postorder([shown], into_lets=False):
            if node not in self.results:
                self.results[node] = getattr(self, "format_" + node.notation.kind)(node, node.notation)
        return self.results[shown][0]

    display = staticmethod(display)  # the display form a dialect prints

    def operand(self, node: Expr, min_prec: int, chain: type | None = None) -> str:
        """A child's text, parenthesised when its precedence is below ``min_prec`` (unless it
        is an operation of the ``chain`` type, which needs none: ABC, A ⊙ B ⊙ C)."""
        text, prec = self.results[node]
        if prec >= min_prec or (chain is not None and type(node) is chain):
            return text
        return self.parens(text)

    def mark(self, notation: Notation) -> str:
        return notation.latex if self.latex else notation.text

    # --- one method per kind of notation ---------------------------------------------------------
    def format_name(self, node, notation):
        layer = self.layers.get(node)
        written = self.literal_name(node.label) if node.label in self.literal else self.name(node.label)
        return written + ("" if layer is None else self.layer_mark(layer)), PREC_ATOM

    def format_fixed(self, node, notation):
        return self.mark(notation), PREC_ATOM

    def format_number(self, node, notation):
        value = node.value
        if isinstance(value, sympy.Expr):
            return self.dim_text(value), _dim_precedence(value)
        prec = PREC_PRODUCT if isinstance(value, Fraction) and not self.latex else PREC_ATOM
        return self.number_text(value), prec

    def format_call(self, node, notation):
        inner = ", ".join(self.operand(arg, PREC_ADD + 1 if len(node.args) > 1 else 0) for arg in node.args)
        return self.call(notation.text, notation.latex, inner), PREC_ATOM

    def format_postfix(self, node, notation):
        return self.postfix(self.operand(node.args[0], PREC_ATOM), notation.text, notation.latex), PREC_POSTFIX

    def format_prefix(self, node, notation):
        inner = node.args[0]
        text, _ = self.results[inner]
        return self.mark(notation) + (text if inner.notation.kind == "name" else self.parens(text)), PREC_ATOM

    def format_infix(self, node, notation):
        chain = type(node) if notation.chain else None
        parts = [self.operand(arg, notation.operand_precedence, chain) for arg in node.args]
        return self.mark(notation).join(parts), notation.precedence

    def format_product(self, node, notation):
        return self.juxtapose([self.operand(arg, PREC_PRODUCT + 1, type(node)) for arg in node.args]), PREC_PRODUCT

    def format_scale(self, node, notation):
        coefficient, body = node.args
        if coefficient.notation.kind == "number" and coefficient.value == 1:
            return self.operand(body, PREC_PRODUCT), PREC_PRODUCT
        coefficient_prec = PREC_ATOM if coefficient.notation.kind == "product" else PREC_PRODUCT
        return self.juxtapose([self.operand(coefficient, coefficient_prec), self.operand(body, PREC_PRODUCT)]), PREC_PRODUCT

    def format_sum(self, node, notation):
        pieces = []
        for term in node.args:
            negative = term.notation.kind == "negative"
            body = self.operand(term.args[0], PREC_PRODUCT) if negative else self.operand(term, PREC_ADD + 1)
            if not pieces:
                pieces.append(self.minus_prefix() + body if negative else body)
            else:
                pieces.append((" - " if self.latex else " − ") + body if negative else " + " + body)
        return "".join(pieces), PREC_ADD

    def format_negative(self, node, notation):
        return self.minus_prefix() + self.operand(node.args[0], PREC_PRODUCT), PREC_NEG

    def format_quotient(self, node, notation):
        numerator, denominator = node.args
        return self.over(self.operand(numerator, PREC_PRODUCT), self.operand(denominator, PREC_POSTFIX)), PREC_PRODUCT

    def format_power(self, node, notation):
        base = node.args[0]
        elementwise_matrix = not (base.is_scalar or base.is_vector)
        return self.power(self.operand(base, PREC_ATOM), node.exponent, elementwise_matrix), PREC_POSTFIX

    def format_raised(self, node, notation):
        base, exponent = node.args
        elementwise_matrix = not (base.is_scalar or base.is_vector)
        exponent_text, exponent_prec = self.results[exponent]
        raised = self.raised(self.operand(base, PREC_ATOM), exponent_text, exponent_prec >= PREC_ATOM, elementwise_matrix)
        return raised, PREC_POSTFIX

    def format_norm(self, node, notation):
        x = node.args[0]
        return self.norm(self.operand(x, 0), not (x.is_vector or x.is_scalar)), PREC_ATOM

    # --- pieces shared by both notations -----------------------------------------------------------
    def number_text(self, value) -> str:
        if isinstance(value, Fraction):
            return self.fraction(value)
        if isinstance(value, float):
            return repr(value)
        return str(value)

    def juxtapose(self, parts: list[str]) -> str:
        out = parts[0]
        for part in parts[1:]:
            if part[:1] in _DIGITS:  # 2·3 and c·2A, not 23 and c2A (𝟏 is no digit here)
                out += self.times_sign()
            elif not self.compact or self.latex:
                out += " "
            out += part
        return out


def let_layers(roots) -> dict[Let, int]:
    """Named intermediates that share a name (h = let("h", tanh(W @ h)) in a loop) numbered in
    the order they are defined, 1, 2, ..., so that each prints apart: h⁽¹⁾, h⁽²⁾."""
    by_label: dict[str, list[Let]] = {}
    for node in postorder(roots):
        if isinstance(node, Let):
            by_label.setdefault(node.label, []).append(node)
    return {let: k for lets in by_label.values() if len(lets) > 1 for k, let in enumerate(lets, 1)}


def _dim_precedence(value) -> int:
    """The precedence of a constant made of dimensions: (3 + n)/2 prints as n/2 + 3/2."""
    if value.is_Add:
        return PREC_ADD
    if value.is_Mul or value.is_Pow or (value.is_Rational and not value.is_Integer):
        return PREC_PRODUCT
    return PREC_ATOM


def is_numeric_const(node: Expr) -> bool:
    return isinstance(node, Const) and isinstance(node.value, (int, float, Fraction))


__all__ = ["Printer", "postorder", "split_name", "is_numeric_const", "PREC_POSTFIX"]
