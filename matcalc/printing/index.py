"""Index notation as a printer dialect: an expression's (i, j) entry, with its sums written out.

Indices flow from an expression down to its operands (a transpose swaps them, a product
introduces a summation index), so this dialect works top-down: a work list expands each
(node, indices) request into text and requests for its operands, and the texts are then
joined in reverse order.  There is no recursion and no depth limit.  Each operation's record
names its ``index_rule``; an operation without one is written whole, with indices:
(X⁻¹)_ij.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy

from ..display import display
from ..expr import Const
from .common import Text
from .latex import LatexPrinter
from .text import TextPrinter

_INDEX_LETTERS = "ijklpqrsuvw"


def fresh_indices(shape) -> tuple:
    """The indices of an entry: (i, j) for a matrix, (i, None) for a column, (None, i) for a row."""
    rows, cols = shape
    return ("i" if rows != 1 else None, ("j" if rows != 1 else "i") if cols != 1 else None)


@dataclass
class EntryRequest:
    """The entry of ``node`` at ``indices``; ``parts`` are texts and requests for operands."""

    node: object
    indices: tuple
    parts: list = field(default_factory=list)
    text: object = ""


_PRODUCTS = ("contraction", "scale", "entrywise_product", "frobenius")  # rules that write factors side by side


def _without_unit_factors(parts: list) -> list:
    """A product's parts without the factors whose entry came out as 1 (2·sum(dX) entry by entry is
    2 Σ δ δ = 2, not "2 1"), each with the space before it; one factor is always kept."""
    factors = [part for part in parts if isinstance(part, EntryRequest)]
    units = [part for part in factors if part.text.head == "1"]
    if not units or len(units) == len(factors):
        return parts
    kept: list = []
    for part in parts:
        if any(part is unit for unit in units):
            if kept and kept[-1] == " ":
                kept.pop()
            continue
        kept.append(part)
    return kept if not kept or kept[0] != " " else kept[1:]


class IndexPrinter:
    """An expression's entry in index notation, sums written out (text, or LaTeX)."""

    def __init__(self, latex: bool, layers: dict | None = None):
        self.latex = latex
        self.layers = layers  # named intermediates that share a name, numbered (printing.common.let_layers)
        self.used = set("ij")

    @staticmethod
    def writes_whole(node) -> bool:
        """Whether an entry of ``node`` is written whole, (X⁻¹)_ij, rather than through its operands' entries."""
        return node.index_rule == "whole"

    def entry(self, expr, indices: tuple) -> str:
        (shown,) = display([expr])
        root = EntryRequest(shown, tuple(indices))
        order, pending = [], [root]
        while pending:
            request = pending.pop()
            order.append(request)
            request.parts = getattr(self, "rule_" + request.node.index_rule)(request.node, request.indices)
            # operands pushed last-first, so fresh summation letters go left to right
            pending.extend(reversed([part for part in request.parts if isinstance(part, EntryRequest)]))
        for request in reversed(order):  # pieces joined once, at the root (printing.common.Text)
            parts = request.parts
            if request.node.index_rule in _PRODUCTS:
                parts = _without_unit_factors(parts)
            elif request.node.index_rule == "quotient" and not self.latex and not parts[0].text.is_one_word:
                parts = ["(", *parts[:1], ")", *parts[1:]]  # (δ_ik δ_jl)/(st), not δ_ik δ_jl/(st)
            request.text = Text(tuple(part if isinstance(part, str) else part.text for part in parts))
        return str(root.text)

    # --- helpers ---------------------------------------------------------------------------------
    def fresh(self) -> str:
        for letter in _INDEX_LETTERS:
            if letter not in self.used:
                self.used.add(letter)
                return letter
        letter = f"k{len(self.used)}"
        self.used.add(letter)
        return letter

    def whole(self, node) -> str:
        return (LatexPrinter if self.latex else TextPrinter)([node], self.layers).render(node)

    def subscripted(self, name_text: str, indices: tuple) -> str:
        sub = "".join(i for i in indices if i)
        if not sub:
            return name_text
        return f"{name_text}_{{{sub}}}" if self.latex else f"{name_text}_{sub}"

    def parens(self, parts: list) -> list:
        return ["\\left(", *parts, "\\right)"] if self.latex else ["(", *parts, ")"]

    def summed(self, links: list, parts: list) -> list:
        letters = [k for k in links if k]
        if not letters:
            return parts
        sigma = f"\\sum_{{{','.join(letters)}}} " if self.latex else f"Σ_{''.join(letters)} "
        return [sigma, *parts]

    # --- one method per index rule -----------------------------------------------------------------
    def rule_whole(self, node, indices):
        """Written whole, subscripted: (X⁻¹)_ij, or a name: W_ij, (δ_z)_i."""
        written = self.whole(node)
        if node.notation.kind != "name":
            written = f"\\left({written}\\right)" if self.latex else f"({written})"
        elif any(mark in written for mark in ("_", "^")):
            written = f"\\left({written}\\right)" if self.latex else f"({written})"
        return [self.subscripted(written, indices) if any(indices) else written]

    def rule_scalar(self, node, indices):
        return [self.whole(node)]

    def rule_one(self, node, indices):
        return ["1"]

    def rule_kronecker(self, node, indices):
        return [self.subscripted("\\delta" if self.latex else "δ", indices)]

    def rule_transpose(self, node, indices):
        return [EntryRequest(node.args[0], (indices[1], indices[0]))]

    def rule_sum(self, node, indices):
        parts = []
        for term in node.args:
            negative = term.notation.kind == "negative"
            request = EntryRequest(term.args[0] if negative else term, indices)
            sign = ("-" if self.latex else "−") if negative else "+"
            parts += ([f" {sign} "] if parts else ([sign] if negative else [])) + [request]
        return self.parens(parts)

    def rule_negative(self, node, indices):
        return ["-" if self.latex else "−", EntryRequest(node.args[0], indices)]

    def scalar_operand(self, node) -> str:
        """A scalar written whole, parenthesised unless it is a name, a function's value or a number."""
        written = self.whole(node)
        value = node.value if isinstance(node, Const) else None
        simple_number = value is not None and not (isinstance(value, sympy.Expr) and (value.is_Mul or value.is_Add))
        if node.notation.kind in ("name", "call", "norm", "fixed", "power", "postfix") or simple_number:
            return written
        return f"\\left({written}\\right)" if self.latex else f"({written})"

    def rule_quotient(self, node, indices):
        numerator, denominator = node.args
        if self.latex:
            return ["\\frac{", EntryRequest(numerator, indices), "}{", self.whole(denominator), "}"]
        return [EntryRequest(numerator, indices), "/", self.scalar_operand(denominator)]

    def rule_scale(self, node, indices):
        return [EntryRequest(node.args[0], (None, None)), " ", EntryRequest(node.args[1], indices)]

    def rule_entrywise_product(self, node, indices):
        return [EntryRequest(node.args[0], indices), " ", EntryRequest(node.args[1], indices)]

    def rule_apply(self, node, indices):
        """f(X)_ij = f(X_ij)."""
        name = node.notation.latex if self.latex else node.notation.text
        inner = EntryRequest(node.args[0], indices)
        return [f"{name}\\left(", inner, "\\right)"] if self.latex else [f"{name}(", inner, ")"]

    def rule_power(self, node, indices):
        if not isinstance(node.exponent, int):
            return self.rule_whole(node, indices)
        inner = self.parens([EntryRequest(node.args[0], indices)])
        return [*inner, f"^{{{node.exponent}}}" if self.latex else f"^{node.exponent}"]

    def rule_diagonal_matrix(self, node, indices):
        """diag(v)_ij = δ_ij v_i."""
        return [*self.rule_kronecker(node, indices), " ", EntryRequest(node.args[0], (indices[0], None))]

    def rule_diagonal(self, node, indices):
        """diag(X)_i = X_ii."""
        return [EntryRequest(node.args[0], (indices[0], indices[0]))]

    def rule_contraction(self, node, indices):
        """(AB)_ij = Σ_k A_ik B_kj, a summation index for each inner dimension."""
        factors = node.args
        links = [self.fresh() if f.shape[1] != 1 else None for f in factors[:-1]]
        rows, cols = [indices[0], *links], [*links, indices[1]]
        parts = []
        for factor, row, col in zip(factors, rows, cols):
            parts += ([" "] if parts else []) + [EntryRequest(factor, (row, col))]
        return self.summed(links, parts)

    def rule_sum_entries(self, node, indices):
        inner = node.args[0]
        links = [self.fresh() if d != 1 else None for d in inner.shape]
        return self.summed(links, [EntryRequest(inner, tuple(links))])

    def rule_trace(self, node, indices):
        k = self.fresh()
        return self.summed([k], [EntryRequest(node.args[0], (k, k))])

    def rule_frobenius(self, node, indices):
        links = [self.fresh() if d != 1 else None for d in node.args[0].shape]
        return self.summed(links, [EntryRequest(node.args[0], tuple(links)), " ", EntryRequest(node.args[1], tuple(links))])
