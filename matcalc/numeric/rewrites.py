"""Rewrites of the expression DAG that only generated code sees, each a rule run by ``bottom_up``.

The printed closed form keeps log σ(z) and (A + B)v; the generated code computes
−softplus(−z), which cannot overflow, and Av + Bv, which forms no n×n sum.
"""

from __future__ import annotations

from collections import Counter

from ..expr import Const, Expr, Ones, make
from ..graph import postorder
from ..ops import Add, Elementwise, LogSumExp, MatMul, Scale, Softmax, Transpose, negate, negated, softplus
from ..ops.elementwise import exp_f, log_f, sigmoid_f
from ..shapes import is_one
from ..strategies import bottom_up


def _ones_like(node: Expr) -> bool:
    """𝟏, the number 1, or 1 times 𝟏 (any number of times)."""
    while isinstance(node, Scale):
        if not isinstance(node.args[1], Ones):
            return False
        node = node.args[0]
    return isinstance(node, Ones) or (isinstance(node, Const) and node.value == 1)


def _one_plus(node: Expr) -> Expr | None:
    """X when the node is 𝟏 + X (in either order), else None."""
    if isinstance(node, Add) and len(node.args) == 2:
        first, second = node.args
        if _ones_like(first):
            return second
        if _ones_like(second):
            return first
    return None


def _stable_log_of_one_plus(rest: Expr) -> Expr | None:
    """log(𝟏 + exp(u)) = softplus(u); log(𝟏 − σ(u)) = −softplus(u)."""
    if isinstance(rest, Elementwise) and rest.function is exp_f:
        return softplus(rest.args[0])
    body = negated(rest)
    if isinstance(body, Elementwise) and body.function is sigmoid_f:
        return negate(softplus(body.args[0]))
    return None


def _stable_log_of(inner: Expr) -> Expr | None:
    """log(inner) written stably, or None where it has no stable form."""
    if isinstance(inner, Elementwise) and inner.function is sigmoid_f:
        return negate(softplus(negate(inner.args[0])))
    if isinstance(inner, Softmax):
        x = inner.args[0]
        return x - make(LogSumExp, (x,))  # the row of logsumexps broadcast down the columns
    rest = _one_plus(inner)
    return None if rest is None else _stable_log_of_one_plus(rest)


def stable_logarithm(node: Expr) -> Expr | None:
    """log σ(u), log(𝟏 − σ(u)), log(𝟏 + exp(u)) or log softmax(x), written so that no entry
    under- or overflows: log σ(u) = −softplus(−u), log softmax(x) = x − logsumexp(x)𝟏; and
    log(Yᵀ) as (log Y)ᵀ, since softmax along rows is written softmax(Xᵀ)ᵀ.
    (np.log(σ(−1000)) is −inf; −softplus(1000) is −1000.)"""
    if not (isinstance(node, Elementwise) and node.function is log_f):
        return None
    inner = node.args[0]
    if isinstance(inner, Transpose):
        stable = _stable_log_of(inner.args[0])
        return None if stable is None else make(Transpose, (stable,))
    return _stable_log_of(inner)


stable_logarithms = bottom_up(stable_logarithm)


def distribute_sums_over_thin_products(outputs: list[Expr]) -> list[Expr]:
    """(A + B)v becomes Av + Bv wherever a sum of matrices is used only by a product that ends
    in a vector (or starts with a row): two matrix-vector products read each matrix once, while
    forming A + B first writes a whole new matrix (and reads Aᵀ across its rows)."""
    consumers = Counter(child for node in postorder(outputs) for child in node.args)
    kept = set(outputs)

    def distribute(node: Expr) -> Expr | None:
        if not isinstance(node, MatMul):
            return None
        for index, factor in enumerate(node.args):
            # A factor this pass rebuilt is not in ``consumers``: it counts as shared and is formed once.
            if isinstance(factor, Add) and consumers[factor] == 1 and factor not in kept:
                return _distributed(node, index)
        return None

    return bottom_up(distribute)(outputs)


def _chain(parts: tuple) -> Expr:
    return parts[0] if len(parts) == 1 else make(MatMul, parts)


def _times(term: Expr, side: Expr, on_right: bool) -> Expr:
    """term·side (or side·term) with the term's scalar factors kept outside: s(X)v = s(Xv)
    scales the vector, not the matrix."""
    coefficients = []
    while isinstance(term, Scale):
        coefficients.append(term.args[0])
        term = term.args[1]
    product = make(MatMul, (term, side) if on_right else (side, term))
    for coefficient in reversed(coefficients):
        product = make(Scale, (coefficient, product))
    return product


def _distributed(product: Expr, index: int) -> Expr | None:
    """The product with its sum factor at ``index`` multiplied out against the thin side."""
    factors = product.args
    left, total, right = factors[:index], factors[index], factors[index + 1 :]
    if right and is_one(product.shape[1]):
        side = _chain(right)
        return _chain((*left, make(Add, tuple(_times(term, side, True) for term in total.args))))
    if left and is_one(product.shape[0]):
        side = _chain(left)
        return _chain((make(Add, tuple(_times(term, side, False) for term in total.args)), *right))
    return None


def prepare(outputs: list[Expr]) -> list[Expr]:
    """The outputs as generated code computes them: stable logarithms, sums multiplied out."""
    return distribute_sums_over_thin_products(stable_logarithms(outputs))
