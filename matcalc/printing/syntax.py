"""The string syntax as a printer dialect: ``parse(to_syntax(e))`` rebuilds e.

Every operation is written fully parenthesised with the names the parser knows it by (the
registry's syntax names), so precedence never has to be read back.
"""

from __future__ import annotations

import keyword
import re
from fractions import Fraction

from ..display import display_unnamed
from ..errors import ParseError
from ..expr import Const, Expr, Identity, Ones, make
from ..ops import Scale, negated
from ..registry import syntax_names
from .common import Printer, Text, cat, joined
from .notation import PREC_ATOM

# The syntax's own words beside the registry's function names (the parser reads them from
# here): norm1(x) is sum(abs(x)); vector(c) and matrix(c) spread the number c over a shape
# inferred from their neighbours; eye is the identity of an inferred size.
SUGAR = {"norm1": ("abs", "sum")}  # spelling -> the public functions it applies, innermost first
CONSTRUCTORS = ("vector", "matrix")
IDENTITY = "eye"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def reserved_words() -> set[str]:
    """Names no variable may take in the string syntax: its functions and its own words."""
    return set(syntax_names()) | set(SUGAR) | set(CONSTRUCTORS) | {IDENTITY}


def _cannot_write(what: str) -> ParseError:
    return ParseError(f"to_syntax: {what} cannot be written in the string syntax")


class SyntaxPrinter(Printer):
    """Writes each operation as the parser reads it; raises ParseError for what it cannot read."""

    display = staticmethod(display_unnamed)

    def __init__(self, roots):
        super().__init__(roots, {})
        self.reserved = reserved_words()

    def parens(self, text) -> Text:
        return cat("(", text, ")")

    def name(self, label: str) -> str:
        return label  # the syntax writes a name as it is (format_name refuses what it cannot read)

    def format_name(self, node, notation):
        if not _NAME.fullmatch(node.label) or node.label in self.reserved or keyword.iskeyword(node.label):
            raise _cannot_write(f"the name {node.label!r}")
        return node.label, PREC_ATOM

    def format_number(self, node, notation):
        value = node.value
        if not isinstance(value, (int, float, Fraction)):
            raise _cannot_write("a constant that is a dimension")
        written = str(abs(value)) if isinstance(value, int) else repr(abs(float(value)))
        return (f"(-{written})" if value < 0 else written), PREC_ATOM

    def format_fixed(self, node, notation):
        if isinstance(node, Ones):
            return _ones(node.shape, "1"), PREC_ATOM
        if node.shape == (1, 1):  # I₁ is 1 (eye would take its neighbour's size), a 1×1 zero is 0
            return ("1" if isinstance(node, Identity) else "0"), PREC_ATOM
        if not notation.syntax:
            raise _cannot_write(node.name)
        return notation.syntax, PREC_ATOM

    def format_call(self, node, notation):
        if notation.syntax not in syntax_names():
            raise _cannot_write(f"{node.name} ({notation.text})")
        inner = joined(", ", [self.results[arg][0] for arg in node.args])
        return cat(notation.syntax, "(", inner, ")"), PREC_ATOM

    def format_postfix(self, node, notation):
        inner = self.results[node.args[0]][0]
        if notation.syntax == "'":
            return cat("(", inner, ")'"), PREC_ATOM
        if notation.syntax in syntax_names():
            return cat(notation.syntax, "(", inner, ")"), PREC_ATOM
        raise _cannot_write(node.name)

    def format_prefix(self, node, notation):
        raise _cannot_write(node.name)

    def format_template(self, node, notation):
        raise _cannot_write(node.name)

    def format_infix(self, node, notation):
        if not notation.syntax:
            raise _cannot_write(node.name)
        return cat("(", joined(f" {notation.syntax} ", [self.results[arg][0] for arg in node.args]), ")"), PREC_ATOM

    def format_product(self, node, notation):
        return cat("(", joined("*", [self.results[arg][0] for arg in node.args]), ")"), PREC_ATOM

    def format_scale(self, node, notation):
        coefficient, body = node.args
        if isinstance(body, Ones) and _is_number(coefficient):  # c𝟏 is vector(c), −c𝟏 is (-vector(c))
            ones = _ones(node.shape, self.format_number(_abs_constant(coefficient), coefficient.notation)[0])
            return (f"(-{ones})" if coefficient.value < 0 else ones), PREC_ATOM
        if negated(node) is not None:  # −X is how the syntax writes (−1)X, and what it reads it as
            return cat("(-", self.results[body][0], ")"), PREC_ATOM
        return cat("(", self.results[coefficient][0], "*", self.results[body][0], ")"), PREC_ATOM

    def format_sum(self, node, notation):
        # A scalar broadcast over the sum (s𝟏) is written as the bare scalar where another term
        # gives the sum its shape: parse broadcasts it back.
        shaped = any(_broadcast_scalar(term) is None for term in node.args)
        written = [self._summand(term, shaped) for term in node.args]
        if len(node.args) == 2 and negated(node.args[1]) is not None:
            return cat("(", written[0], " - ", self._summand(negated(node.args[1]), shaped), ")"), PREC_ATOM
        return cat("(", joined(" + ", written), ")"), PREC_ATOM

    def _summand(self, term: Expr, shaped: bool):
        scalar = _broadcast_scalar(term)
        return self.results[scalar][0] if shaped and scalar is not None else self.results[term][0]

    def format_power(self, node, notation):
        base, exponent = node.args[0], node.exponent
        written = str(exponent) if isinstance(exponent, int) else repr(float(exponent))
        written = f"({written})" if exponent < 0 else written
        return cat("(", self.results[base][0], "^" if base.is_scalar else ".^", written, ")"), PREC_ATOM

    def format_raised(self, node, notation):
        base, exponent = (self.results[arg][0] for arg in node.args)
        return cat("(", base, "^" if node.args[0].is_scalar else ".^", exponent, ")"), PREC_ATOM

    def format_norm(self, node, notation):
        return cat(notation.syntax, "(", self.results[node.args[0]][0], ")"), PREC_ATOM



def _is_number(node: Expr) -> bool:
    return isinstance(node, Const) and isinstance(node.value, (int, float, Fraction))


def _abs_constant(node: Const) -> Const:
    return node if node.value >= 0 else make(Const, (), (-node.value,))


def _ones(shape, value: str) -> str:
    """𝟏 (times a number) of a shape: vector(c), its transpose (a row), matrix(c), or c itself."""
    rows, cols = shape
    if rows == 1 and cols == 1:
        return value
    if cols == 1:
        return f"vector({value})"
    return f"(vector({value}))'" if rows == 1 else f"matrix({value})"


def _broadcast_scalar(term: Expr) -> Expr | None:
    """s for a term s𝟏 with a scalar s that is not a number, else None."""
    if isinstance(term, Scale) and isinstance(term.args[1], Ones) and not isinstance(term.args[0], Const):
        return term.args[0]
    return None


def to_syntax(expr: Expr) -> str:
    """The expression in the string syntax, fully parenthesised, so ``mc.parse(mc.to_syntax(e))``
    rebuilds e.

    Parameters
    ----------
    expr : Expr
        Any expression whose operations the string syntax has.

    Returns
    -------
    str
        The text.

    Raises
    ------
    ParseError
        For an operation, a name or a number the string syntax cannot write.

    Examples
    --------
    >>> mc.to_syntax(mc.parse("x'*A*x + 2*sum(exp(x))"))
    "(((x)'*A)*x) + (2*sum(exp(x)))"
    """
    text = SyntaxPrinter([expr]).render(expr)
    return text[1:-1] if text.startswith("(") and _balanced_outer(text) else text


def _balanced_outer(text: str) -> bool:
    depth = 0
    for index, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and index < len(text) - 1:
            return False
    return True
