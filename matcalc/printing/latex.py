"""LaTeX with minimal parentheses: ^\\top, \\odot, \\operatorname{tr}."""

from __future__ import annotations

import re
import unicodedata
from fractions import Fraction
from typing import TYPE_CHECKING

import sympy

from ..expr import PRINTERS, Expr

if TYPE_CHECKING:
    from ..derivation import Derivation
from .common import Printer, Text, cat, joined

_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda",
    "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
    "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
}
_ESCAPES = {
    "\\": "\\backslash{}", "{": "\\{", "}": "\\}", "#": "\\#", "$": "\\$", "%": "\\%", "&": "\\&",
    "_": "\\_", "^": "\\wedge{}", "~": "\\sim{}", " ": "\\ ", "'": "{\\prime}", '"': "{\\prime\\prime}",
}
_LETTERLIKE = {
    "ℓ": "\\ell", "ı": "\\imath", "ȷ": "\\jmath", "∂": "\\partial", "∇": "\\nabla", "ϵ": "\\epsilon",
    "ς": "\\varsigma", "ϑ": "\\vartheta", "ϖ": "\\varpi", "ϱ": "\\varrho", "ϕ": "\\phi", "ε": "\\varepsilon",
}
_SUBSCRIPT_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
_LAYER = re.compile(r"⁽([⁰¹²³⁴⁵⁶⁷⁸⁹]+)⁾$")
_TEXT_SCRIPTS = ("LATIN ", "CYRILLIC ", "CJK ")
_TRAILING_INDEX = re.compile(r"^(.+?)_?([0-9]+|[₀-₉]+)$")


def latex_name(label: str) -> str:
    """A variable name as LaTeX that keeps every character: W1 and W₁ → W_{1}, λ and lambda →
    \\lambda, δ_z₁ → \\delta_{z_{1}}, x_hat → \\mathrm{x\\_hat}, é → \\text{é}."""
    label = unicodedata.normalize("NFC", label)  # e and a combining accent are é
    prefixes = 0
    while label.startswith("δ_") and len(label) > 2:
        label, prefixes = label[2:], prefixes + 1
    layer = _LAYER.search(label)  # h⁽²⁾, the second of several intermediates named h
    if layer:
        label = label[: layer.start()]
    match = _TRAILING_INDEX.match(label)
    base, index = (match.group(1), match.group(2).translate(_SUBSCRIPT_DIGITS)) if match else (label, "")
    units = ["\\" + base] if base in _GREEK else [unit for ch in base for unit in _latex_units(ch)]
    if len(units) == 1 and (units[0].isalpha() or units[0].startswith("\\") and units[0][1:].isalpha()):
        body = units[0]  # one letter, italic: x, \\lambda
    else:  # commands braced so that a letter after them stays apart: {\\lambda}x
        body = "\\mathrm{" + "".join("{" + u + "}" if u[:1] == "\\" and u[1:].isalpha() else u for u in units) + "}"
    body = f"{body}_{{{index}}}" if index else body
    if layer:
        body = f"{body}^{{({layer.group(1).translate(_SUPERSCRIPT_DIGITS)})}}"
    for _ in range(prefixes):
        body = f"\\delta_{{{body}}}"
    return body


def literal_latex_name(label: str) -> str:
    """The name character for character, for names whose usual forms would look alike (W1
    and W₁, α and alpha): ASCII as it is, anything else by its code point."""
    units = [_ESCAPES.get(ch, ch) if ch.isascii() and ch.isprintable() else f'\\char"{ord(ch):X}' for ch in label]
    return "\\mathrm{" + "".join(units) + "}"


def _latex_units(ch: str) -> list[str]:
    """One character of a name as LaTeX units: itself, a command (Greek, ℓ), an escape, or text;
    a ligature as its letters (ﬀ → f, f)."""
    if ch.isascii():
        return [_ESCAPES.get(ch, ch) if ch.isprintable() else "?"]
    if ch in _LETTERLIKE:
        return [_LETTERLIKE[ch]]
    name = unicodedata.name(ch, "")
    if name.startswith(("GREEK SMALL LETTER ", "GREEK CAPITAL LETTER ")):
        spelled = name.split("LETTER ", 1)[1].lower().replace("lamda", "lambda")
        command = spelled.capitalize() if name.startswith("GREEK CAPITAL") else spelled
        return ["\\" + command] if command in _GREEK else ["\\text{" + ch + "}"]
    compatible = unicodedata.normalize("NFKC", ch)
    if compatible != ch and compatible.isascii() and compatible.isprintable():
        return [_ESCAPES.get(c, c) for c in compatible]
    if name.startswith(_TEXT_SCRIPTS):  # letters KaTeX sets as text: é, ñ, ж, 中
        return ["\\text{" + ch + "}"]
    return [f'\\char"{ord(ch):X}']  # any other character by its code point: ≤, €, א, 😀


class LatexPrinter(Printer):
    latex = True

    def name(self, label: str) -> str:
        return latex_name(label)

    def literal_name(self, label: str) -> str:
        return literal_latex_name(label)

    def layer_mark(self, layer: int) -> str:
        return f"^{{({layer})}}"

    def parens(self, text) -> Text:
        return cat("\\left(", text, "\\right)")

    def minus_prefix(self) -> str:
        return "-"

    def times_sign(self) -> str:
        return " \\cdot "

    def fraction(self, value: Fraction) -> str:
        return f"\\frac{{{value.numerator}}}{{{value.denominator}}}"

    def scientific(self, sign: str, digits: str, exponent: int) -> str:
        """1e-05 as 10^{-5}, 2.5e-07 as 2.5 \\cdot 10^{-7}."""
        power = f"10^{{{exponent}}}"
        return ("-" if sign else "") + (power if digits == "1" else f"{digits} \\cdot {power}")

    def dim_text(self, value) -> str:
        return sympy.latex(value)

    def over(self, numerator, denominator) -> Text:
        return cat("\\frac{", numerator, "}{", denominator, "}")

    def call(self, text_name: str, latex_name: str, inner) -> Text:
        if latex_name == "\\sqrt":
            return cat("\\sqrt{", inner, "}")
        return cat(latex_name, "\\left(", inner, "\\right)")

    def postfix(self, operand, text_mark: str, latex_mark: str) -> Text:
        return cat("{", operand, "}", latex_mark)

    def power(self, operand, exponent, elementwise_matrix: bool) -> Text:
        ring = "\\circ " if elementwise_matrix else ""
        if isinstance(exponent, Fraction):
            value = f"{exponent.numerator}/{exponent.denominator}"
        else:
            value = str(exponent)
        return cat("{", operand, "}^{", ring, value, "}")

    def raised(self, operand, exponent, atomic: bool, elementwise_matrix: bool) -> Text:
        ring = "\\circ " if elementwise_matrix else ""
        return cat("{", operand, "}^{", ring, exponent, "}")

    def norm(self, inner, frobenius: bool) -> Text:
        return cat("\\left\\lVert ", inner, " \\right\\rVert", "_F" if frobenius else "")

    def where(self, bodies: list, definitions: list) -> Text:
        """The bodies, then "where" and each name's definition, in one aligned block."""
        if not definitions and len(bodies) == 1:
            return bodies[0]
        rows: list = [cat("&", body) for body in bodies]
        for index, (name, body) in enumerate(definitions):
            rows.append(cat("\\text{where}\\quad " if index == 0 else "", name, " &= ", body))
        return cat("\\begin{aligned}", joined(" \\\\ ", rows), "\\end{aligned}")


def latex(expr: Expr | list[Expr] | tuple[Expr, ...] | Derivation) -> str:
    r"""The expression (or a derivation) as LaTeX; a list of expressions, sharing names, as rows.

    Parameters
    ----------
    expr : Expr, list of Expr, or Derivation
        What to typeset; a derivation gives its differential view as an ``align*`` block.

    Returns
    -------
    str
        LaTeX for KaTeX or MathJax (no ``$`` delimiters).

    Examples
    --------
    >>> X = mc.matrix("X", 3, 3)
    >>> mc.latex(X.T @ X)
    '{X}^\\top X'
    >>> print(mc.latex(mc.grad(mc.logdet(X), X)))
    {X}^{-\top}
    """
    if isinstance(expr, (list, tuple)):
        return LatexPrinter.document(list(expr))
    if not isinstance(expr, Expr) and hasattr(expr, "latex"):
        return expr.latex()
    return LatexPrinter.document([expr])


PRINTERS["latex"] = latex
