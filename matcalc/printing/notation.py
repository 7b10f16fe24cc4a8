"""How each operation is written: a small record per operation, read by every printer.

An operation says which *kind* of notation it uses (a function call, a postfix mark, an
infix operator, juxtaposition, ...) and the marks of each dialect (text, LaTeX, the string
syntax).  The printers format those kinds, each in one place, with the precedences below
deciding parentheses: an operand is parenthesised when its precedence is below what its
parent asks for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME_WITH_INDEX = re.compile(r"^([^\W\d_]|[^\W\d_][^\W\d_]+?)_?([0-9]+)$")  # letters (W, δ, alpha) and an index
_SUBSCRIPT_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")


def split_name(label: str) -> tuple[str, str]:
    """A name and its numeric index, as printed: 'W1', 'W_1' and 'W₁' → ('W', '1'), 'δ3' → ('δ', '3')."""
    match = _NAME_WITH_INDEX.match(label.translate(_SUBSCRIPT_DIGITS))
    return (match.group(1), match.group(2)) if match else (label, "")

PREC_ADD = 10
PREC_HADAMARD = 15
PREC_NEG = 18  # below a product: c(−3), A(−B); a sum writes its negative terms itself
PREC_PRODUCT = 20
PREC_POSTFIX = 40
PREC_ATOM = 50


@dataclass(frozen=True)
class Notation:
    """``kind`` names the printer method that formats the operation; the rest are its marks.

    kinds: name, number, fixed, call, postfix, prefix, infix, product, scale, sum, power, norm,
    quotient, negative, template.  ``text``/``latex``/``syntax`` are the marks of the three
    dialects (a function name, a postfix mark, an infix operator; for a template, the written
    form with ``{0}``, ``{1}`` where the operands go); ``operand_precedence`` is what each
    operand needs to go without parentheses, and ``chain`` lets an operand of the same
    operation go without them (A ⊙ B ⊙ C, ABC).
    """

    kind: str
    text: str = ""
    latex: str = ""
    syntax: str = ""
    precedence: int = PREC_ATOM
    operand_precedence: int = 0
    chain: bool = False


def call(text: str, latex: str, syntax: str | None = None) -> Notation:
    """f(x): tr(X), sum(X), σ(z)."""
    return Notation("call", text, latex, text if syntax is None else syntax)


def postfix(text: str, latex: str, syntax: str) -> Notation:
    """Xᵀ, X⁻¹: the mark after an atomic operand."""
    return Notation("postfix", text, latex, syntax, PREC_POSTFIX, PREC_ATOM)


def infix(text: str, latex: str, syntax: str, precedence: int, operand_precedence: int, chain: bool = False) -> Notation:
    """A ⊙ B, A : B, A ⊗ B."""
    return Notation("infix", text, latex, syntax, precedence, operand_precedence, chain)


def template(text: str, latex: str) -> Notation:
    """A written form with places for the operands, each written as an atom: [G₍ᵢⱼ₎ : B]ᵢⱼ."""
    return Notation("template", text, latex)


NAME = Notation("name")
NUMBER = Notation("number")

# What an operand needs, by its parent's kind of notation, to stand without parentheses (the
# printers and the display pass that names nested subexpressions read the same table).
_OPERAND_PRECEDENCE = {
    "product": PREC_PRODUCT + 1, "scale": PREC_PRODUCT, "negative": PREC_PRODUCT, "quotient": PREC_PRODUCT,
    "postfix": PREC_ATOM, "power": PREC_ATOM, "raised": PREC_ATOM, "sum": PREC_ADD + 1, "template": PREC_ATOM,
}


def operand_precedence(notation: Notation) -> int:
    """The precedence an operand of an operation written ``notation`` needs to go without
    parentheses: 0 where the notation brackets its operands itself (f(x), ‖x‖)."""
    if notation.kind == "infix":
        return notation.operand_precedence
    return _OPERAND_PRECEDENCE.get(notation.kind, 0)
