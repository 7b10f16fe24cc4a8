"""Readable Unicode text: Aᵀ, ⊙, X⁻¹, σ'(z), tr, det, ‖·‖."""

from __future__ import annotations

from fractions import Fraction

from ..expr import PRINTERS, Expr
from .common import Printer, split_name

_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


class TextPrinter(Printer):
    latex = False

    def name(self, label: str) -> str:
        prefix = ""
        while label.startswith("δ_") and len(label) > 2:  # δ_W1 is δ_W₁
            prefix, label = prefix + "δ_", label[2:]
        base, index = split_name(label)
        return prefix + base + index.translate(_SUBSCRIPT)

    def literal_name(self, label: str) -> str:
        return label

    def parens(self, text: str) -> str:
        return f"({text})"

    def layer_mark(self, layer: int) -> str:
        return f"⁽{str(layer).translate(_SUPERSCRIPT)}⁾"

    def minus_prefix(self) -> str:
        return "−"

    def times_sign(self) -> str:
        return "·"

    def fraction(self, value: Fraction) -> str:
        return f"{value.numerator}/{value.denominator}"

    def dim_text(self, value) -> str:
        return str(value).replace("*", "")

    def over(self, numerator: str, denominator: str) -> str:
        return f"{numerator}/{denominator}"

    def call(self, text_name: str, latex_name: str, inner: str) -> str:
        return f"{text_name}({inner})"

    def postfix(self, operand: str, text_mark: str, latex_mark: str) -> str:
        return operand + text_mark

    def power(self, operand: str, exponent, elementwise_matrix: bool) -> str:
        ring = "^∘" if elementwise_matrix else ""
        if isinstance(exponent, int):
            return operand + (ring + str(exponent) if ring else str(exponent).translate(_SUPERSCRIPT))
        return f"{operand}^{ring[1:]}({exponent})"

    def raised(self, operand: str, exponent: str, atomic: bool, elementwise_matrix: bool) -> str:
        return f"{operand}^{'∘' if elementwise_matrix else ''}{exponent if atomic else '(' + exponent + ')'}"

    def norm(self, inner: str, frobenius: bool) -> str:
        return f"‖{inner}‖" + ("_F" if frobenius else "")


def text(expr: Expr) -> str:
    """The expression as readable Unicode text.

    >>> from matcalc import matrix, vector
    >>> A, x = matrix("A", 3, 3), vector("x", 3)
    >>> text((A + A.T) @ x)
    '(A + Aᵀ)x'
    """
    return TextPrinter([expr]).render(expr)


PRINTERS["text"] = text
