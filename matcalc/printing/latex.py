"""LaTeX with minimal parentheses: ^\\top, \\odot, \\operatorname{tr}."""

from __future__ import annotations

import re
from fractions import Fraction

import sympy

from ..expr import PRINTERS, Expr
from .common import Printer, split_name

_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda",
    "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
    "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
}
_SAFE = re.compile(r"^[A-Za-z0-9]+$")
_ESCAPES = {
    "\\": "\\backslash{}", "{": "\\{", "}": "\\}", "#": "\\#", "$": "\\$", "%": "\\%", "&": "\\&",
    "_": "\\_", "^": "\\wedge{}", "~": "\\sim{}", " ": "\\ ", "'": "{\\prime}", '"': "{\\prime\\prime}",
}


def latex_name(label: str) -> str:
    """A variable name as LaTeX: W1 → W_{1}, alpha → \\alpha, anything else escaped."""
    if label.startswith("δ_"):
        return f"\\delta_{{{latex_name(label[2:])}}}"
    base, index = split_name(label)
    if base in _GREEK:
        body = "\\" + base
    elif len(base) == 1 and base.isalpha() and base.isascii():
        body = base
    elif _SAFE.match(base):
        body = f"\\mathrm{{{base}}}"
    else:
        escaped = "".join(_ESCAPES.get(ch, ch if ch.isascii() and ch.isprintable() else "?") for ch in base)
        body = f"\\mathrm{{{escaped}}}"
    return f"{body}_{{{index}}}" if index else body


class LatexPrinter(Printer):
    latex = True

    def name(self, label: str) -> str:
        return latex_name(label)

    def parens(self, text: str) -> str:
        return f"\\left({text}\\right)"

    def minus_prefix(self) -> str:
        return "-"

    def times_sign(self) -> str:
        return " \\cdot "

    def fraction(self, value: Fraction) -> str:
        return f"\\frac{{{value.numerator}}}{{{value.denominator}}}"

    def dim_text(self, value) -> str:
        return sympy.latex(value)

    def over(self, numerator: str, denominator: str) -> str:
        return f"\\frac{{{numerator}}}{{{denominator}}}"

    def call(self, text_name: str, latex_name: str, inner: str) -> str:
        if latex_name == "\\sqrt":
            return f"\\sqrt{{{inner}}}"
        return f"{latex_name}\\left({inner}\\right)"

    def postfix(self, operand: str, text_mark: str, latex_mark: str) -> str:
        return f"{{{operand}}}{latex_mark}"

    def power(self, operand: str, exponent, elementwise_matrix: bool) -> str:
        ring = "\\circ " if elementwise_matrix else ""
        if isinstance(exponent, Fraction):
            value = f"{exponent.numerator}/{exponent.denominator}"
        else:
            value = str(exponent)
        return f"{{{operand}}}^{{{ring}{value}}}"

    def norm(self, inner: str, frobenius: bool) -> str:
        return f"\\left\\lVert {inner} \\right\\rVert" + ("_F" if frobenius else "")


def latex(expr) -> str:
    """The expression (or a derivation) as LaTeX.

    >>> from matcalc import matrix
    >>> X = matrix("X", 3, 3)
    >>> latex(X.T @ X)
    '{X}^\\\\top X'
    """
    if not isinstance(expr, Expr) and hasattr(expr, "latex"):
        return expr.latex()
    return LatexPrinter([expr]).render(expr)


PRINTERS["latex"] = latex
