"""Readable Unicode text: Aᵀ, ⊙, X⁻¹, σ'(z), tr, det, ‖·‖."""

from __future__ import annotations

from fractions import Fraction

from ..expr import PRINTERS, Expr
from ..shapes import dim_str
from .common import Printer, Text, cat, split_name

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

    def parens(self, text) -> Text:
        return cat("(", text, ")")

    def layer_mark(self, layer: int) -> str:
        return f"⁽{str(layer).translate(_SUPERSCRIPT)}⁾"

    def minus_prefix(self) -> str:
        return "−"

    def times_sign(self) -> str:
        return "·"

    def fraction(self, value: Fraction) -> str:
        return f"{value.numerator}/{value.denominator}"

    def scientific(self, sign: str, digits: str, exponent: int) -> str:
        """1e-05 as 10⁻⁵, 2.5e-07 as 2.5·10⁻⁷."""
        power = "10" + str(exponent).translate(_SUPERSCRIPT)
        return ("−" if sign else "") + (power if digits == "1" else f"{digits}·{power}")

    def dim_text(self, value) -> str:
        return dim_str(value, times="")

    def over(self, numerator, denominator) -> Text:
        return cat(numerator, "/", denominator)

    def call(self, text_name: str, latex_name: str, inner) -> Text:
        return cat(text_name, "(", inner, ")")

    def postfix(self, operand, text_mark: str, latex_mark: str) -> Text:
        return cat(operand, text_mark)

    def power(self, operand, exponent, elementwise_matrix: bool) -> Text:
        ring = "^∘" if elementwise_matrix else ""
        if isinstance(exponent, int):
            return cat(operand, ring + str(exponent) if ring else str(exponent).translate(_SUPERSCRIPT))
        return cat(operand, f"^{ring[1:]}({exponent})")

    def raised(self, operand, exponent, atomic: bool, elementwise_matrix: bool) -> Text:
        return cat(operand, "^∘" if elementwise_matrix else "^", exponent if atomic else cat("(", exponent, ")"))

    def norm(self, inner, frobenius: bool) -> Text:
        return cat("‖", inner, "‖_F" if frobenius else "‖")

    def where(self, bodies: list, definitions: list) -> Text:
        """The bodies one a line, then "where" and each name's definition on a line of its own."""
        lines: list = []
        for body in bodies:
            lines += ["\n", body] if lines else [body]
        if definitions:
            lines.append("\nwhere")
        for name, body in definitions:
            lines += ["\n  ", name, " = ", body]
        return Text(tuple(lines))


def text(expr: Expr | list[Expr] | tuple[Expr, ...]) -> str:
    r"""The expression as readable Unicode text; a list of expressions one a line, sharing names.

    A long expression is written with names for what it repeats or nests deeply, each defined
    once in a "where" block (see :func:`matcalc.display.automatic_names`).  ``str(expr)`` is the
    same text.

    Parameters
    ----------
    expr : Expr or list of Expr
        What to print.

    Returns
    -------
    str
        The text.

    Examples
    --------
    >>> A, x = mc.matrix("A", 3, 3), mc.vector("x", 3)
    >>> mc.text((A + A.T) @ x)
    '(A + Aᵀ)x'
    >>> mc.text([A @ x, A.T])
    'Ax\nAᵀ'
    """
    return TextPrinter.document(list(expr) if isinstance(expr, (list, tuple)) else [expr])


PRINTERS["text"] = text
