"""The printer driver: formats a DAG bottom-up, once per node, without recursion.

Each operation declares its :class:`~matcalc.printing.notation.Notation`; the printer has one
method per kind of notation, which asks for its operands' texts, parenthesised to the
precedence they need.  The text and LaTeX printers supply the marks of their dialect.

A node's text is a :class:`Text`: pieces that hold its operands' texts by reference, joined
once at the root, so that printing a chain L deep copies each character once (joining each
parent's string from its children's would copy L² characters).

What is printed is first given automatic names (:func:`matcalc.display.automatic_names`):
a long expression is written as a body and a "where" block that defines each name once.
"""

from __future__ import annotations

import re
import unicodedata
from fractions import Fraction

import sympy

from .. import graph
from ..display import AutomaticName, automatic_names, display
from ..expr import Const, Expr, Let, Symbol, not_a_let
from .notation import (
    PREC_ADD,
    PREC_ATOM,
    PREC_NEG,
    PREC_POSTFIX,
    PREC_PRODUCT,
    Notation,
    operand_precedence,
    split_name,
)

_FLOAT_WITH_EXPONENT = re.compile(r"^(-?)([0-9.]+)e([-+]?)0*([0-9]+)$")


class Text:
    """Printed text as pieces (strings and other Texts), joined into one string only when asked.

    ``head`` is its first few characters and ``last`` its last one, which is all the printer
    needs to see of an operand's text (to put a times sign before a digit, a space between a
    name and a function: s tanh(x), not stanh(x))."""

    __slots__ = ("parts", "head", "last")

    def __init__(self, parts: tuple):
        self.parts = parts
        self.head = ""
        for part in parts:
            self.head += part[:_HEAD] if isinstance(part, str) else part.head
            if len(self.head) >= _HEAD:
                break
        self.last = ""
        for part in reversed(parts):
            self.last = part[-1:] if isinstance(part, str) else part.last
            if self.last:
                break

    @property
    def first(self) -> str:
        return self.head[:1]

    @property
    def is_one_word(self) -> bool:
        """Whether the text is short and has no space (X_ij, 2), so that it needs no parentheses."""
        return " " not in self.head and len(self.head) < _HEAD

    def __str__(self) -> str:
        out, stack = [], [self]
        while stack:
            piece = stack.pop()
            if isinstance(piece, str):
                out.append(piece)
            else:
                stack.extend(reversed(piece.parts))
        return "".join(out)


def cat(*parts) -> Text:
    """The parts (strings and Texts) written one after the other."""
    return Text(parts)


def joined(separator: str, parts) -> Text:
    """The parts with ``separator`` between them."""
    pieces: list = []
    for part in parts:
        if pieces:
            pieces.append(separator)
        pieces.append(part)
    return Text(tuple(pieces))


_HEAD = 8  # characters of a text's start kept at hand: enough to see a function name and its "("
_CALL = re.compile(r"[^\W\d_]{2,}\(")  # a function written by name: tanh(, sum(, det(


def first_character(piece) -> str:
    return piece[:1] if isinstance(piece, str) else piece.first


def _head(piece) -> str:
    return piece[:_HEAD] if isinstance(piece, str) else piece.head


def _ends_in_a_letter(piece) -> bool:
    """Whether the text ends in a letter (s, σ), not a mark written as one (the ᵀ of Aᵀ)."""
    last = piece[-1:] if isinstance(piece, str) else piece.last
    return last.isalpha() and unicodedata.category(last) != "Lm"


def postorder(roots, into_lets: bool = True) -> list[Expr]:
    """Every node reachable from ``roots``, each after its arguments, each once.

    With ``into_lets=False`` a named intermediate is a leaf: its definition is not visited.
    """
    return graph.postorder(roots, None if into_lets else not_a_let)


def _names_in(roots) -> list[Expr]:
    """The variables and named intermediates in what is printed and in the intermediates'
    definitions; not in an automatic name's definition, which is printed apart."""
    return [node for node in graph.postorder(roots, _not_an_automatic_name) if isinstance(node, (Symbol, Let))]


def compact_names(roots, named: list | None = None) -> bool:
    """Whether every name written is one letter (and an index), so that products juxtapose
    without spaces (AB, W₁x); ``named`` is :func:`_names_in` of the roots, if known."""
    names: list = _names_in(roots) if named is None else named
    if any(isinstance(node, Let) and not isinstance(node, AutomaticName) for node in names):  # names inside aren't written
        names = [node for node in postorder(roots, into_lets=False) if isinstance(node, (Symbol, Let))]
    return all(len(split_name(node.label)[0]) == 1 for node in names)



def _not_an_automatic_name(node: Expr) -> bool:
    return not isinstance(node, AutomaticName)


_DIGITS = frozenset("0123456789")


def float_parts(value: float) -> tuple[str, str, int | None]:
    """A float as Python writes it (the shortest decimal that reads back the same), split into
    sign, digits and power of ten: 1e-05 → ('', '1', −5), 2.5 → ('', '2.5', None)."""
    written = repr(value)
    match = _FLOAT_WITH_EXPONENT.match(written)
    if match is None:
        return ("-", written[1:], None) if written.startswith("-") else ("", written, None)
    sign, digits, exponent_sign, exponent = match.groups()
    return sign, digits, int(exponent) * (-1 if exponent_sign == "-" else 1)


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
        self.results: dict[Expr, tuple] = {}
        named = _names_in(roots)
        self.compact = compact_names(roots, named)
        self.layers = _numbered_lets(named) if layers is None else layers
        self.literal = self.look_alikes(named)

    def look_alikes(self, named: list) -> set[str]:
        """Names that would print alike (W1 and W₁, α and alpha): these are written literally."""
        labels = {node.label for node in named}
        written: dict[str, list[str]] = {}
        for label in labels:
            written.setdefault(self.name(label), []).append(label)
        return {label for same in written.values() if len(same) > 1 for label in same}

    @classmethod
    def document(cls, roots: list, layers: dict | None = None) -> str:
        """The roots, one a line, with their automatic names defined after them in a "where"
        block (see :func:`matcalc.display.automatic_names`)."""
        naming = automatic_names(roots)
        printer = cls(naming.everything(), layers)
        written = iter(printer.pieces(naming.everything()))
        bodies = [next(written) for _ in naming.roots]
        names = [next(written) for _ in naming.definitions]
        return str(printer.where(bodies, [(name, next(written)) for name in names]))

    def render(self, root: Expr) -> str:
        """The root as one string: its display form, with the names it holds (no "where" block)."""
        return str(self.pieces([root])[0])

    def pieces(self, roots: list) -> list:
        """The roots' texts, not yet joined (see :class:`Text`): one display pass and one walk
        for all of them."""
        shown = self.display(list(roots))
        for node in postorder(shown, into_lets=False):
            if node not in self.results:
                self.results[node] = getattr(self, "format_" + node.notation.kind)(node, node.notation)
        return [self.results[root][0] for root in shown]

    display = staticmethod(display)  # the display form a dialect prints

    def operand(self, node: Expr, min_prec: int, chain: type | None = None):
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
        if isinstance(value, float):
            sign, digits, exponent = float_parts(value)
            if exponent is not None:  # 10⁻⁵, 2.5·10⁻⁷: a product of a power, or a power
                return self.scientific(sign, digits, exponent), PREC_PRODUCT if digits != "1" or sign else PREC_POSTFIX
        prec = PREC_PRODUCT if isinstance(value, Fraction) and not self.latex else PREC_ATOM
        return self.number_text(value), prec

    def format_call(self, node, notation):
        inner = joined(", ", [self.operand(arg, PREC_ADD + 1 if len(node.args) > 1 else 0) for arg in node.args])
        return self.call(notation.text, notation.latex, inner), PREC_ATOM

    def format_postfix(self, node, notation):
        return self.postfix(self.operand(node.args[0], PREC_ATOM), notation.text, notation.latex), PREC_POSTFIX

    def format_prefix(self, node, notation):
        inner = node.args[0]
        text, _ = self.results[inner]
        return cat(self.mark(notation), text if inner.notation.kind == "name" else self.parens(text)), PREC_ATOM

    def format_infix(self, node, notation):
        chain = type(node) if notation.chain else None
        parts = [self.operand(arg, notation.operand_precedence, chain) for arg in node.args]
        return joined(self.mark(notation), parts), notation.precedence

    def format_product(self, node, notation):
        parts = [self.factor(arg, PREC_PRODUCT + 1, type(node), last=k == len(node.args) - 1) for k, arg in enumerate(node.args)]
        return self.juxtapose(parts), PREC_PRODUCT

    def factor(self, node, min_prec: int, chain: type | None = None, last: bool = False):
        """An operand written beside the next: X^s before a factor would read as X^(s…) in text, so it is (X^s)."""
        if not last and not self.latex and node.notation.kind == "raised":
            return self.parens(self.results[node][0])
        return self.operand(node, min_prec, chain)

    def format_scale(self, node, notation):
        coefficient, body = node.args
        if coefficient.notation.kind == "number" and coefficient.value == 1:
            return self.operand(body, PREC_PRODUCT), PREC_PRODUCT
        coefficient_prec = PREC_ATOM if coefficient.notation.kind == "product" else PREC_PRODUCT
        return self.juxtapose([self.factor(coefficient, coefficient_prec), self.operand(body, PREC_PRODUCT)]), PREC_PRODUCT

    def format_sum(self, node, notation):
        """Terms joined by + and −: a negative term is subtracted (a − b, never a + −b)."""
        pieces: list = []
        for term in node.args:
            negative = term.notation.kind == "negative"
            if not pieces:
                body = self.operand(term.args[0], PREC_PRODUCT) if negative else self.operand(term, PREC_ADD + 1)
                pieces += [self.minus_prefix(), body] if negative else [body]
            elif negative:
                pieces += [" - " if self.latex else " − ", self.operand(term.args[0], PREC_ADD + 1)]
            else:
                pieces += [" + ", self.operand(term, PREC_ADD + 1)]
        return Text(tuple(pieces)), PREC_ADD

    def format_negative(self, node, notation):
        return cat(self.minus_prefix(), self.operand(node.args[0], PREC_PRODUCT)), PREC_NEG

    def format_quotient(self, node, notation):
        numerator, denominator = node.args
        if self.latex:  # \frac{…}{…} delimits both
            return self.over(self.operand(numerator, 0), self.operand(denominator, 0)), PREC_PRODUCT
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

    def format_template(self, node, notation):
        """A written form with places {0}, {1}, … for the operands, each written as an atom."""
        pieces: list = []
        for index, between in enumerate(_TEMPLATE_PLACE.split(self.mark(notation))):
            if index % 2:
                pieces.append(self.operand(node.args[int(between)], operand_precedence(notation)))
            elif between:
                pieces.append(between)
        return Text(tuple(pieces)), PREC_ATOM

    # --- pieces shared by both notations -----------------------------------------------------------
    def number_text(self, value) -> str:
        if isinstance(value, Fraction):
            return self.fraction(value)
        if isinstance(value, float):
            sign, digits, _ = float_parts(value)
            return sign + digits
        return str(value)

    def juxtapose(self, parts: list) -> Text:
        out = [parts[0]]
        for before, part in zip(parts, parts[1:]):
            if first_character(part) in _DIGITS:  # 2·3 and c·2A, not 23 and c2A (𝟏 is no digit here)
                out.append(self.times_sign())
            elif not self.compact or self.latex or _ends_in_a_letter(before) and _CALL.match(_head(part)):
                out.append(" ")  # s tanh(x): stanh(x) would read as a function called stanh
            out.append(part)
        return Text(tuple(out))


_TEMPLATE_PLACE = re.compile(r"\{(\d)\}")


def let_layers(roots) -> dict[Let, int]:
    """Named intermediates that share a name (h = let("h", tanh(W @ h)) in a loop) numbered in
    the order they are defined, 1, 2, ..., so that each prints apart: h⁽¹⁾, h⁽²⁾."""
    return _numbered_lets(postorder(roots))


def _numbered_lets(nodes: list) -> dict[Let, int]:
    """Lets that share a name with another let, or with a variable (X = let("X", tanh(WX))), numbered."""
    by_label: dict[str, list[Let]] = {}
    variables = {node.label for node in nodes if isinstance(node, Symbol)}
    for node in nodes:
        if isinstance(node, Let):
            by_label.setdefault(node.label, []).append(node)
    return {let: k for label, lets in by_label.items() if len(lets) > 1 or label in variables
            for k, let in enumerate(lets, 1)}


def _dim_precedence(value) -> int:
    """The precedence of a constant made of dimensions: (3 + n)/2 prints as n/2 + 3/2."""
    if value.is_Add:
        return PREC_ADD
    if value.is_Pow and value.exp.is_Integer and value.exp > 0:  # n²
        return PREC_POSTFIX
    if value.is_Mul or value.is_Pow or (value.is_Rational and not value.is_Integer):
        return PREC_PRODUCT
    return PREC_ATOM


def is_numeric_const(node: Expr) -> bool:
    return isinstance(node, Const) and isinstance(node.value, (int, float, Fraction))


__all__ = ["Printer", "Text", "cat", "joined", "postorder", "split_name", "is_numeric_const", "PREC_POSTFIX"]
