"""Named rewrite rules and the engine that applies them until none fires.

A rule is a small function ``rule(expr) -> Expr | None`` registered for one operation
type.  The engine walks the DAG bottom-up once, without recursion, memoising every node,
so shared subexpressions are simplified once and deep expressions cannot overflow the
stack.  Each rule that fires can be recorded (its name, the expression before and after):
derivations show them as steps.

Its cost is linear in the size of the input: nested sums and products are flattened on the
way down, in one step, rather than once per level on the way up; rules look at a sum's terms
through dictionaries, not by rescanning it for each term; and the engine's work is bounded by
a budget proportional to the input (see ``_WORK_PER_ARGUMENT``).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from .errors import OperandError
from .expr import Const, Expr, Identity, Let, Ones, Symbol, Zero, make, substitute
from .graph import postorder
from .ops import (
    Add,
    Commutation,
    Det,
    DiagMat,
    DiagVec,
    Elementwise,
    Frob,
    Hadamard,
    Inverse,
    Kron,
    KronContract,
    MatMul,
    Norm,
    Power,
    Scale,
    Sum,
    Trace,
    Transpose,
    Vec,
    transpose_of,
)
from .ops.elementwise import abs_f, sign_f, sqrt_f
from .ordering import Costs
from .scalar_algebra import cancel_elementwise, worth_cancelling
from .shapes import dim_product, is_one, is_scalar_shape


@dataclass(frozen=True)
class Rule:
    name: str
    op: type
    apply: Callable[[Expr], Expr | None]
    summary: str
    # A form of the rule tried on the way down, before the node's arguments are simplified.
    before: Callable[[Expr], Expr | None] | None = None


RULES: dict[type, list[Rule]] = {}
# Rules with a ``before`` form, by operation.  Flattening a nested sum or product on the way
# down builds the one flat node once; bottom-up it builds a flat node at every level
# (A + B, then A + B + C, ...), which is quadratic in the number of terms.
TOP_DOWN: dict[type, list[Rule]] = {}


def rule(op: type, summary: str, before: Callable[[Expr], Expr | None] | None = None):
    """Register ``fn`` as a rewrite rule for nodes of type ``op``; its name is the function's.

    ``before``, when given, is the rule's form for the way down: it is tried before the node's
    arguments are simplified, and ``fn`` after, as for every rule.
    """

    def register(fn):
        entry = Rule(fn.__name__, op, fn, summary, before)
        RULES.setdefault(op, []).append(entry)
        if before is not None:
            TOP_DOWN.setdefault(op, []).append(entry)
        return fn

    return register


def all_rules() -> list[Rule]:
    return [r for rules in RULES.values() for r in rules]


@dataclass(frozen=True)
class Rewrite:
    """One rule firing: ``before`` became ``after``."""

    rule: str
    before: Expr
    after: Expr


# --- small helpers -----------------------------------------------------------------------------


_SMALLEST_NUMBER = 1e-300  # numbers a rule makes stay this far from float64's underflow


def is_number(node: Expr) -> bool:
    return isinstance(node, Const) and isinstance(node.value, (int, float, Fraction))


class BeyondFloat64(OperandError):
    """A number a rewrite would make is beyond float64 (2e308, 1e-400): the rule does not fire."""


def number(value) -> Expr:
    if not _within_float64(value):
        raise BeyondFloat64(f"simplify: the number {value} is beyond float64; it is left as a product")
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        value = int(value)
    if isinstance(value, Fraction) and value.denominator == 1:
        value = int(value)
    return make(Const, (), (value,))


def split_number(node: Expr) -> tuple:
    """A term as (numeric coefficient, the rest): 3·(−X) → (−3, X)."""
    coefficient = 1
    while isinstance(node, Scale) and is_number(node.args[0]):
        coefficient *= node.args[0].value
        node = node.args[1]
    if is_number(node):
        return coefficient * node.value, None
    if _is_unit(node):  # a 1×1 𝟏 or I is the number 1: 𝟏₁ − 1 = 0
        return coefficient, None
    return coefficient, node


def scaled(coefficient, core: Expr | None, shape) -> Expr:
    if core is None:
        return number(coefficient)
    if coefficient == 0:
        return make(Zero, (), shape)
    if coefficient == 1:
        return core
    return make(Scale, (number(coefficient), core))


def product(factors: list) -> Expr:
    return factors[0] if len(factors) == 1 else make(MatMul, tuple(factors))


def transposed(node: Expr) -> Expr:
    return make(Transpose, (node,))


def spliced(e: Expr, repeats: bool = True) -> Expr | None:
    """``e`` with every nested node of its own type (a sum in a sum, a product in a product)
    replaced by that node's arguments, to any depth; None when there is none.

    With ``repeats=False`` it gives None when a nested node occurs twice: (A + B) + (A + B)
    is left to the rules that see the repeated term whole, and a sum of sums that share terms
    (s₂ = s₁ + s₁, s₃ = s₂ + s₂, ...) cannot spread into exponentially many terms."""
    op = type(e)
    if not any(type(a) is op for a in e.args):
        return None
    flat, stack, seen = [], list(reversed(e.args)), set()
    while stack:
        node = stack.pop()
        if type(node) is not op:
            flat.append(node)
        elif repeats or node not in seen:
            seen.add(node)
            stack.extend(reversed(node.args))
        else:
            return None
    return make(op, tuple(flat))


def spliced_once(e: Expr) -> Expr | None:
    return spliced(e, repeats=False)


def total(terms: list, shape) -> Expr:
    if not terms:
        return make(Zero, (), shape)
    return terms[0] if len(terms) == 1 else make(Add, tuple(terms))


# --- transposes: pushed to the leaves -------------------------------------------------------------


@rule(Transpose, "(Xᵀ)ᵀ = X")
def double_transpose(e):
    inner = e.args[0]
    return inner.args[0] if isinstance(inner, Transpose) else None


@rule(Transpose, "Sᵀ = S for a symmetric S (a scalar, I, diag(v), a symmetric variable)")
def transpose_of_symmetric(e):
    return e.args[0] if e.args[0].is_symmetric else None


@rule(Transpose, "(AB)ᵀ = BᵀAᵀ")
def transpose_of_product(e):
    inner = e.args[0]
    if isinstance(inner, MatMul):
        return product([transposed(f) for f in reversed(inner.args)])
    return None


@rule(Transpose, "(A + B)ᵀ = Aᵀ + Bᵀ")
def transpose_of_sum(e):
    inner = e.args[0]
    return make(Add, tuple(transposed(t) for t in inner.args)) if isinstance(inner, Add) else None


@rule(Transpose, "(sX)ᵀ = sXᵀ")
def transpose_of_scale(e):
    inner = e.args[0]
    return make(Scale, (inner.args[0], transposed(inner.args[1]))) if isinstance(inner, Scale) else None


@rule(Transpose, "(A ⊙ B)ᵀ = Aᵀ ⊙ Bᵀ")
def transpose_of_hadamard(e):
    inner = e.args[0]
    if isinstance(inner, Hadamard):
        return make(Hadamard, tuple(transposed(a) for a in inner.args))
    return None


@rule(Transpose, "(f(Xᵀ))ᵀ = f(X) for a function or power taken entry by entry: ((sᵀ)⁻¹)ᵀ = s⁻¹")
def transpose_of_entrywise_of_transpose(e):
    # f(X)ᵀ itself stays as written (δ tanh(z)ᵀ, not δ tanh(zᵀ)); only two transposes cancel
    inner = e.args[0]
    if isinstance(inner, (Elementwise, Power)) and isinstance(inner.args[0], Transpose):
        return make(type(inner), (inner.args[0].args[0],), inner.params)
    return None


@rule(Transpose, "𝟏ᵀ and 0ᵀ are 𝟏 and 0 of the transposed shape")
def transpose_of_constant(e):
    inner = e.args[0]
    if isinstance(inner, (Ones, Zero)):
        return make(type(inner), (), (inner.shape[1], inner.shape[0]))
    return None


@rule(Transpose, "(A ⊗ B)ᵀ = Aᵀ ⊗ Bᵀ; K(m, n)ᵀ = K(n, m)")
def transpose_of_kron(e):
    inner = e.args[0]
    if isinstance(inner, Kron):
        return make(Kron, tuple(transposed(a) for a in inner.args))
    if isinstance(inner, Commutation):
        return make(Commutation, (), tuple(reversed(inner.params)))
    return None


# --- products ------------------------------------------------------------------------------------


@rule(MatMul, "A(BC) = (AB)C = ABC: a product is one chain", before=spliced_once)
def flatten_product(e):
    return spliced(e)


@rule(MatMul, "AI = IA = A")
def product_with_identity(e):
    kept = [f for f in e.args if not isinstance(f, Identity)]
    if len(kept) == len(e.args):
        return None
    return product(kept) if kept else e.args[0]


@rule(MatMul, "A0 = 0")
def product_with_zero(e):
    return make(Zero, (), e.shape) if any(isinstance(f, Zero) for f in e.args) else None


@rule(MatMul, "A(sB) = s(AB), and a 1×1 factor in a chain is a scalar")
def scalar_out_of_product(e):
    factors = list(e.args)
    for index, f in enumerate(factors):
        if isinstance(f, Scale):
            factors[index] = f.args[1]
            return make(Scale, (f.args[0], product(factors)))
    for index, f in enumerate(factors):
        if f.is_scalar:
            rest = factors[:index] + factors[index + 1 :]
            return make(Scale, (f, product(rest)))
    return None


@rule(MatMul, "diag(v)u = v ⊙ u for any column u (also a product), uᵀdiag(v) = (u ⊙ v)ᵀ, diag(a)diag(b) = diag(a ⊙ b)")
def diagonal_product(e):
    factors = list(e.args)
    for index, f in enumerate(factors):
        if not isinstance(f, DiagMat):
            continue
        v = f.args[0]
        after, before = factors[index + 1 :], factors[:index]
        if after and isinstance(after[0], DiagMat):
            merged = make(DiagMat, (make(Hadamard, (v, after[0].args[0])),))
            return product(before + [merged] + after[1:])
        if after and after[-1].shape[1] == 1:
            return product(before + [make(Hadamard, (v, product(after)))])
        if before and before[0].shape[0] == 1:
            row = transposed(make(Hadamard, (transposed(product(before)), v)))
            return product([row] + after)
    return None


def _inverse_pair(a: Expr, b: Expr) -> bool:
    """X⁻¹ and X side by side, in either order, or both transposed (any number of times)."""
    while isinstance(a, Transpose) and isinstance(b, Transpose):
        a, b = a.args[0], b.args[0]
    return isinstance(a, Inverse) and a.args[0] is b or isinstance(b, Inverse) and b.args[0] is a


@rule(MatMul, "𝟏T = 𝟏 for T whose columns sum to one (𝟏ᵀT = 𝟏ᵀ); 𝟏ₘₖ𝟏ₖₙ = k𝟏ₘₙ (𝟏𝟏ᵀ is a matrix of ones)")
def ones_products(e):
    factors = list(e.args)
    for index in range(len(factors) - 1):
        left, right = factors[index], factors[index + 1]
        if not isinstance(left, Ones):
            continue
        if isinstance(right, Symbol) and right.columns_sum_to_one:  # every column of T sums to one
            joined = make(Ones, (), (left.shape[0], right.shape[1]))
        elif isinstance(right, Ones):  # each entry sums k ones
            ones = make(Ones, (), (left.shape[0], right.shape[1]))
            joined = scaled(left.shape[1], ones, ones.shape)
        else:
            continue
        return product(factors[:index] + [joined] + factors[index + 2 :])
    return None


@rule(MatMul, "X⁻¹X = XX⁻¹ = I")
def inverse_cancellation(e):
    factors = list(e.args)
    for index in range(len(factors) - 1):
        if _inverse_pair(factors[index], factors[index + 1]):
            rest = factors[:index] + factors[index + 2 :]
            return product(rest) if rest else make(Identity, (), (e.shape[0],))
    return None


def _square(node: Expr) -> bool:
    return node.shape[0] == node.shape[1]


def _inverse_factors(node: Expr) -> tuple | None:
    """X⁻¹ as (X's factors, False), and X⁻ᵀ = (Xᵀ)⁻¹ as (Xᵀ's factors, True); else None."""
    written_transposed = isinstance(node, Transpose)
    inverse = node.args[0] if written_transposed else node
    if not isinstance(inverse, Inverse):
        return None
    inner = inverse.args[0]
    factors = list(inner.args) if isinstance(inner, MatMul) else [inner]
    return ([transpose_of(f) for f in reversed(factors)] if written_transposed else factors), written_transposed


def _inverse_of(factors: list, written_transposed: bool) -> Expr:
    """The inverse of the product of ``factors``, written as the inverse it came from: (PQ)⁻ᵀ
    where it came from one, X⁻ᵀ for a single factor Xᵀ, X⁻¹ for X."""
    if len(factors) == 1:
        single = factors[0]
        return transposed(make(Inverse, (single.args[0],))) if isinstance(single, Transpose) else make(Inverse, (single,))
    if written_transposed:
        return transposed(make(Inverse, (product([transpose_of(f) for f in reversed(factors)]),)))
    return make(Inverse, (product(factors),))


def _beside_own_factor(left: Expr, right: Expr) -> Expr | None:
    inverse = _inverse_factors(right)
    if inverse is not None and len(inverse[0]) > 1 and inverse[0][-1] is left and _square(left):
        return _inverse_of(inverse[0][:-1], inverse[1])
    inverse = _inverse_factors(left)
    if inverse is not None and len(inverse[0]) > 1 and inverse[0][0] is right and _square(right):
        return _inverse_of(inverse[0][1:], inverse[1])
    return None


@rule(MatMul, "F(QF)⁻¹ = Q⁻¹ and (FQ)⁻¹F = Q⁻¹ for a square F (the inverse assumes QF invertible, so F is), also for X⁻ᵀ")
def inverse_of_product_beside_factor(e):
    factors = list(e.args)
    for index in range(len(factors) - 1):
        shorter = _beside_own_factor(factors[index], factors[index + 1])
        if shorter is not None:
            return product(factors[:index] + [shorter] + factors[index + 2 :])
    return None


@rule(MatMul, "uᵀ(u⁻¹ ⊙ v) = 𝟏ᵀv: a vector meets its own power inside an elementwise product")
def dot_with_hadamard(e):
    factors = list(e.args)
    for index in range(len(factors) - 1):
        row, column = factors[index], factors[index + 1]
        if not (isinstance(column, Hadamard) and isinstance(row, Transpose) and row.args[0].is_vector):
            continue
        inside = hadamard_factors(column)
        bases = {_base_and_exponent(f)[0] for f in inside}
        if _base_and_exponent(row.args[0])[0] not in bases:
            continue
        merged, _ = _merge_powers([row.args[0]] + inside)
        reduced = make(Sum, (hadamard_chain(merged, column.shape),))
        return product(factors[:index] + [reduced] + factors[index + 2 :])
    return None


# --- scalar factors ----------------------------------------------------------------------------------


def _is_unit(node: Expr) -> bool:
    """The number 1, however written: 1, or a 1×1 𝟏 or I."""
    return (is_number(node) and node.value == 1) or (isinstance(node, (Ones, Identity)) and is_scalar_shape(node.shape))


@rule(Scale, "1X = X, and s·1 = s where 1 may be a 1×1 𝟏 or I (a scalar's Hessian, a row sum of a column)")
def scale_by_one(e):
    coefficient, body = e.args
    if _is_unit(coefficient):
        return body
    return coefficient if _is_unit(body) else None


@rule(Scale, "0X = s0 = 0")
def scale_by_zero(e):
    s, x = e.args
    if isinstance(s, Zero) or isinstance(x, Zero) or (is_number(s) and s.value == 0):
        return make(Zero, (), e.shape)
    return None


@rule(Scale, "constants multiply out: 2·3 = 6")
def fold_constant_product(e):
    s, x = e.args
    if is_number(s) and is_number(x):
        return number(s.value * x.value)  # beyond float64, number() refuses and the rule does not fire
    return None


def _within_float64(value) -> bool:
    """Whether a number float64 holds (a dimension, n, always is)."""
    if not isinstance(value, (int, float, Fraction)):
        return True
    try:
        magnitude = abs(float(value))
    except OverflowError:
        return False
    return value == 0 or _SMALLEST_NUMBER < magnitude < math.inf


@rule(Scale, "a(bX) = (ab)X with numbers in front")
def merge_scales(e):
    if e.is_scalar:
        return None  # a product of scalars is put in order by combine_scalar_powers
    s, x = e.args
    if isinstance(s, Scale) and is_number(s.args[0]) and not is_number(s.args[1]):
        return make(Scale, (s.args[0], make(Scale, (s.args[1], x))))
    if not isinstance(x, Scale) or x.is_scalar:
        return None
    inner_s, inner_x = x.args
    if is_number(s) and is_number(inner_s):
        return make(Scale, (number(s.value * inner_s.value), inner_x))
    if is_number(s):
        return None
    if is_number(inner_s):
        return make(Scale, (inner_s, make(Scale, (s, inner_x))))
    return make(Scale, (make(Scale, (s, inner_s)), inner_x))


def _scalar_factors(e: Expr) -> tuple:
    """A product of scalars as (number, [(base, exponent), ...]) in order of appearance."""
    coefficient, powers = 1, []
    stack = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, Scale) and node.is_scalar:
            stack.append(node.args[1])
            stack.append(node.args[0])
        elif is_number(node):
            coefficient *= node.value
        elif isinstance(node, Power) and not isinstance(node.exponent, float):
            powers.append((node.args[0], node.exponent))
        else:
            powers.append((node, 1))
    return coefficient, powers


def _scalar_exponents(e: Expr) -> tuple:
    """A product of scalars as (number, {base: total exponent}), bases in order of appearance."""
    coefficient, powers = _scalar_factors(e)
    exponents: dict = {}
    for base, exponent in powers:
        exponents[base] = exponents.get(base, 0) + exponent
    return coefficient, exponents


def _scalar_product(coefficient, exponents: dict, left_out=()) -> Expr:
    """The number times each base to its exponent (those of exponent 0, and ``left_out``, left out)."""
    factors = [base if p == 1 else make(Power, (base,), (p,)) for base, p in exponents.items()
               if p != 0 and base not in left_out]
    body = factors[-1] if factors else None
    for factor in reversed(factors[:-1]):
        body = make(Scale, (factor, body))
    return scaled(coefficient, body, (1, 1))


@rule(Scale, "bᵖb^q = b^(p+q) in a product of scalars, numbers in front")
def combine_scalar_powers(e):
    if not e.is_scalar:
        return None
    canonical = _scalar_product(*_scalar_exponents(e))
    return None if canonical is e else canonical


def _sign_and_absolute_value(exponents: dict) -> list:
    """sign(u), u^b and |u|^(−b) for b = ±1 among scalar factors (base -> exponent), or []."""
    absolute = {base.args[0]: base for base in exponents if isinstance(base, Elementwise) and base.function is abs_f}
    for base, exponent in exponents.items():
        if isinstance(base, Elementwise) and base.function is sign_f and exponent == 1:
            u = base.args[0]
            b = exponents.get(u, 0)
            if u in absolute and b in (1, -1) and exponents[absolute[u]] == -b:
                return [base, u, absolute[u]]
    return []


@rule(Scale, "sign(u)·u/|u| = 1 and sign(u)·|u|/u = 1 in a product of scalars (it divides by u, so u ≠ 0)")
def sign_and_absolute_value(e):
    if not e.is_scalar:
        return None
    coefficient, exponents = _scalar_exponents(e)
    cancelled = _sign_and_absolute_value(exponents)
    return _scalar_product(coefficient, exponents, cancelled) if cancelled else None


# --- sums -------------------------------------------------------------------------------------------


@rule(Add, "(A + B) + C = A + B + C: a sum is one list of terms", before=spliced_once)
def flatten_sum(e):
    return spliced(e)


@rule(Add, "A + 0 = A")
def sum_without_zeros(e):
    kept = [t for t in e.args if not isinstance(t, Zero)]
    return None if len(kept) == len(e.args) else total(kept, e.shape)


def _split_coefficient(term: Expr) -> tuple:
    """(number, symbolic scalar factor or None, core) for one summand."""
    coefficient, core = split_number(term)
    if core is not None and isinstance(core, Scale) and not core.is_scalar:
        return coefficient, core.args[0], core.args[1]
    return coefficient, None, core


def _summands(term: Expr) -> list:
    """A term as (number, symbolic factor, core) parts: c(A + B) is cA and cB, so that a sum
    subtracted from itself, (A + B) − (A + B), can cancel."""
    parts, pending = [], [(1, term)]
    while pending:
        outer, current = pending.pop()
        coefficient, core = split_number(current)
        if isinstance(core, Add):
            pending.extend((outer * coefficient, inner) for inner in reversed(core.args))
        else:
            c, symbolic, inner = _split_coefficient(current)
            if isinstance(inner, Scale) and inner.is_scalar:  # a number inside a product of scalars, a·2·b, goes out
                number, exponents = _scalar_exponents(inner)
                if number != 1 and exponents:
                    c, inner = c * number, _scalar_product(1, exponents)
            parts.append((outer * c, symbolic, inner))
    return parts


def _like_term_key(core: Expr | None):
    """What makes two cores like terms: the core itself, except that a product of scalars is
    keyed by its factors as a multiset, since scalars commute (ab − ba = 0)."""
    if not (isinstance(core, Scale) and core.is_scalar):
        return core
    return frozenset(_scalar_exponents(core)[1].items())  # its number was taken out by _summands


@rule(Add, "aX + bX = (a + b)X: like terms collected, also inside a multiple of a sum; ab and ba are alike")
def collect_like_terms(e):
    groups: dict = {}
    parts_seen = 0
    for term in e.args:
        for coefficient, symbolic, core in _summands(term):
            groups.setdefault(_like_term_key(core), (core, []))[1].append((coefficient, symbolic))
            parts_seen += 1
    if len(groups) == parts_seen:
        return None
    terms = []
    for core, parts in groups.values():
        if all(symbolic is None for _, symbolic in parts):
            coefficient = sum(c for c, _ in parts)
            if coefficient != 0:
                terms.append(scaled(coefficient, core, e.shape))
            continue
        factor = total(
            [scaled(c, symbolic if symbolic is not None else number(1), (1, 1)) for c, symbolic in parts],
            (1, 1),
        )
        terms.append(make(Scale, (factor, core)) if core is not None else factor)
    return total(terms, e.shape)


def _replace_groups(e: Expr, groups: list) -> Expr | None:
    """The sum with each group's terms, (indices, combined), replaced by ``combined`` where
    the group's first term stood; None when there is no group.

    The factoring rules below collect every group of a sum in one firing: one firing per
    group would rebuild and rescan the whole sum for each, quadratic in its length."""
    if not groups:
        return None
    first, dropped = {}, set()
    for indices, combined in groups:
        first[indices[0]] = combined
        dropped.update(indices[1:])
    terms = [first.get(index, term) for index, term in enumerate(e.args) if index not in dropped]
    return total(terms, e.shape)


def _factor_side(e: Expr, side: int):
    """Terms sharing their first (side 0) or last (side -1) product factor, factored out."""
    keyed: dict = {}
    for index, term in enumerate(e.args):
        coefficient, core = split_number(term)
        if isinstance(core, MatMul):
            keyed.setdefault(core.args[side], []).append(index)
    groups = []
    for factor, indices in keyed.items():
        if len(indices) < 2:
            continue
        inner = []
        for index in indices:
            coefficient, core = split_number(e.args[index])
            rest = product(list(core.args[:-1] if side == -1 else core.args[1:]))
            inner.append(scaled(coefficient, rest, rest.shape))
        grouped = make(Add, tuple(inner))
        groups.append((indices, make(MatMul, (grouped, factor) if side == -1 else (factor, grouped))))
    return _replace_groups(e, groups)


@rule(Add, "sA + sB = s(A + B) for a common scalar factor s")
def factor_common_scalar(e):
    keyed: dict = {}
    for index, term in enumerate(e.args):
        coefficient, symbolic, core = _split_coefficient(term)
        if symbolic is not None:
            keyed.setdefault(symbolic, []).append(index)
    groups = []
    for symbolic, indices in keyed.items():
        if len(indices) < 2:
            continue
        inner = []
        for index in indices:
            coefficient, _, core = _split_coefficient(e.args[index])
            inner.append(scaled(coefficient, core, core.shape))
        groups.append((indices, make(Scale, (symbolic, make(Add, tuple(inner))))))
    return _replace_groups(e, groups)


@rule(Add, "cA + cB = c(A + B) when every term has the number c")
def factor_common_number(e):
    coefficients = [split_number(t) for t in e.args]
    first = coefficients[0][0]
    if first in (1, -1) or any(c != first or core is None for c, core in coefficients):
        return None
    return make(Scale, (number(first), make(Add, tuple(core for _, core in coefficients))))


@rule(Add, "AX + BX = (A + B)X and XA + XB = X(A + B)")
def factor_common_factor(e):
    right = _factor_side(e, -1)
    return right if right is not None else _factor_side(e, 0)


@rule(Add, "G ⊙ A + G ⊙ B = G ⊙ (A + B)")
def factor_common_hadamard(e):
    keyed: dict = {}
    for index, term in enumerate(e.args):
        if isinstance(term, Hadamard):
            for side, arg in enumerate(term.args):
                keyed.setdefault(arg, {}).setdefault(index, term.args[1 - side])
    groups, used = [], set()  # a term G ⊙ A is keyed by G and by A: it joins one group
    for factor, others in keyed.items():
        indices = sorted(index for index in others if index not in used)
        if len(indices) < 2:
            continue
        used.update(indices)
        groups.append((indices, make(Hadamard, (factor, make(Add, tuple(others[i] for i in indices))))))
    return _replace_groups(e, groups)


@rule(Add, "−A + B is written B − A")
def positive_term_first(e):
    if split_number(e.args[0])[0] >= 0:
        return None
    for index, term in enumerate(e.args):
        if split_number(term)[0] > 0:
            terms = list(e.args)
            return make(Add, (terms[index],) + tuple(terms[:index] + terms[index + 1 :]))
    return None


@rule(Add, "Aᵀ + cA is written cA + Aᵀ")
def order_transpose_pairs(e):
    split = [split_number(t) for t in e.args]
    cores = [core for _, core in split]
    positions: dict = {}  # core -> the indices where it stands, in order
    for index, core in enumerate(cores):
        positions.setdefault(core, []).append(index)
    for index, core in enumerate(cores):
        if not isinstance(core, Transpose):
            continue
        where = positions.get(core.args[0], ())
        k = bisect.bisect_right(where, index)
        if k < len(where):
            later = where[k]
            if split[later][0] < 0 <= split[index][0]:
                continue  # a sum starts with a positive term (positive_term_first)
            terms = list(e.args)
            terms[index], terms[later] = terms[later], terms[index]
            return make(Add, tuple(terms))
    return None


# --- elementwise products and powers -------------------------------------------------------------------


@rule(Hadamard, "A ⊙ 0 = 0")
def hadamard_with_zero(e):
    return make(Zero, (), e.shape) if any(isinstance(a, Zero) for a in e.args) else None


@rule(Hadamard, "A ⊙ 𝟏 = A")
def hadamard_with_ones(e):
    a, b = e.args
    if isinstance(b, Ones):
        return a
    return b if isinstance(a, Ones) else None


@rule(Hadamard, "(sA) ⊙ B = s(A ⊙ B)")
def scalar_out_of_hadamard(e):
    a, b = e.args
    if isinstance(a, Scale):
        return make(Scale, (a.args[0], make(Hadamard, (a.args[1], b))))
    if isinstance(b, Scale):
        return make(Scale, (b.args[0], make(Hadamard, (a, b.args[1]))))
    return None


def _base_and_exponent(node: Expr) -> tuple:
    if isinstance(node, Power) and not isinstance(node.exponent, float):
        return node.args[0], node.exponent
    return node, 1


def hadamard_factors(node: Expr) -> list:
    """The factors of a chain of elementwise products, left to right."""
    factors, stack = [], [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Hadamard):
            stack.append(current.args[1])
            stack.append(current.args[0])
        else:
            factors.append(current)
    return factors


def hadamard_chain(factors: list, shape) -> Expr:
    if not factors:
        return make(Ones, (), shape)
    chain = factors[0]
    for f in factors[1:]:
        chain = make(Hadamard, (chain, f))
    return chain


def _merge_powers(factors: list) -> tuple[list, bool]:
    merged: dict = {}
    for f in factors:
        base, exponent = _base_and_exponent(f)
        merged[base] = merged.get(base, 0) + exponent
    if len(merged) == len(factors):
        return factors, False
    return [base if p == 1 else make(Power, (base,), (p,)) for base, p in merged.items() if p != 0], True


@rule(Hadamard, "X^a ⊙ Y ⊙ X^b = X^(a+b) ⊙ Y")
def hadamard_powers(e):
    factors, changed = _merge_powers(hadamard_factors(e))
    return hadamard_chain(factors, e.shape) if changed else None


def cancel_quotients(e):
    return cancel_elementwise(e) if worth_cancelling(e) else None


for _op in (Hadamard, Add):
    rule(_op, "scalar algebra entry by entry where a quotient is left or exp(u) meets σ(u): σ' = σ(1 − σ), exp(u)/(1 + exp(u)) = σ(u)")(cancel_quotients)


@rule(Power, "X¹ = X, X⁰ = 𝟏 (the number 1 for a scalar)")
def trivial_power(e):
    if e.exponent == 1:
        return e.args[0]
    if e.exponent == 0:
        return number(1) if is_scalar_shape(e.shape) else make(Ones, (), e.shape)
    return None


@rule(Power, "(X^a)^b = X^(ab) for an integer b; √X^(2k) = X^k")
def power_of_power(e):
    inner, b = e.args[0], e.exponent
    if isinstance(inner, Power) and isinstance(b, int) and not isinstance(inner.exponent, float):
        return make(Power, (inner.args[0],), (inner.exponent * b,))
    if isinstance(inner, Elementwise) and inner.function is sqrt_f and isinstance(b, int) and b % 2 == 0:
        return make(Power, (inner.args[0],), (b // 2,)) if b != 2 else inner.args[0]
    return None


@rule(Power, "(cX)^p = c^p X^p for a number c and an integer p; numbers are raised")
def power_of_number_factor(e):
    inner, p = e.args[0], e.exponent
    if not isinstance(p, int):
        return None
    if is_number(inner):
        value = _raised(inner.value, p)
        return None if value is None else number(value)
    if isinstance(inner, Scale) and is_number(inner.args[0]):
        value = _raised(inner.args[0].value, p)
        return None if value is None else make(Scale, (number(value), make(Power, (inner.args[1],), (p,))))
    return None


def _raised(c, p: int):
    """cᵖ, exact where c is, or None where it divides by zero or leaves float64's range:
    (10x)⁴⁰⁰ stays as it is, where 10⁴⁰⁰x⁴⁰⁰ would overflow when evaluated."""
    if c == 0 and p < 0:
        return None
    try:
        value = Fraction(c) ** p if not isinstance(c, float) else c**p
    except OverflowError:
        return None
    return value if _within_float64(value) else None


# --- reductions --------------------------------------------------------------------------------------


@rule(Trace, "tr(s) = s for a scalar; tr(I) = n; tr(Xᵀ) = tr(X)")
def trace_of_simple(e):
    inner = e.args[0]
    if inner.is_scalar:
        return inner
    if isinstance(inner, Identity):
        return number(inner.shape[0]) if isinstance(inner.shape[0], int) else make(Const, (), (inner.shape[0],))
    if isinstance(inner, Transpose):
        return make(Trace, (inner.args[0],))
    return None


@rule(Trace, "tr(sX) = s tr(X)")
def trace_of_scale(e):
    inner = e.args[0]
    if isinstance(inner, Scale):
        return make(Scale, (inner.args[0], make(Trace, (inner.args[1],))))
    return None


@rule(Sum, "sum(s) = s; sum(sX) = s sum(X); sum(Xᵀ) = sum(X); sum(𝟏ᵀX) = sum(X𝟏) = sum(X); sum(𝟏) = rows·cols; "
           "sum(T) = cols for T whose columns sum to one")
def sum_of_simple(e):
    inner = e.args[0]
    if inner.is_scalar:
        return inner
    if isinstance(inner, Transpose):
        return make(Sum, (inner.args[0],))
    if isinstance(inner, Scale):
        return make(Scale, (inner.args[0], make(Sum, (inner.args[1],))))
    if isinstance(inner, MatMul) and len(inner.args) == 2:  # column or row sums, summed: every entry once
        first, last = inner.args
        ones_row, ones_column = (isinstance(f, Ones) and is_one(f.shape[k]) for f, k in ((first, 0), (last, 1)))
        rest = last if ones_row else first if ones_column else None
        if rest is not None:
            return make(Sum, (rest,))
    if isinstance(inner, Ones) or isinstance(inner, Symbol) and inner.columns_sum_to_one:
        size = dim_product(*inner.shape) if isinstance(inner, Ones) else inner.shape[1]
        return number(size) if isinstance(size, int) else make(Const, (), (size,))
    return None


@rule(Frob, "a:b = ab for scalars; (sA):B = s(A:B); A:0 = 0; 𝟏:A = sum(A)")
def frob_of_simple(e):
    a, b = e.args
    if isinstance(a, Zero) or isinstance(b, Zero):
        return number(0)
    if a.is_scalar:
        return make(Scale, (a, b))
    if isinstance(a, Scale):
        return make(Scale, (a.args[0], make(Frob, (a.args[1], b))))
    if isinstance(b, Scale):
        return make(Scale, (b.args[0], make(Frob, (a, b.args[1]))))
    if isinstance(a, Ones):
        return make(Sum, (b,))
    if isinstance(b, Ones):
        return make(Sum, (a,))
    return None


@rule(DiagVec, "diag(diag(v)) = v")
def diag_of_diag(e):
    inner = e.args[0]
    return inner.args[0] if isinstance(inner, DiagMat) else None


@rule(Inverse, "(X⁻¹)⁻¹ = X, I⁻¹ = I, s⁻¹ = 1/s for a scalar")
def inverse_of_simple(e):
    inner = e.args[0]
    if isinstance(inner, Inverse):
        return inner.args[0]
    if isinstance(inner, Identity):
        return inner
    if inner.is_scalar:
        return make(Power, (inner,), (-1,))
    return None


@rule(Det, "det(Xᵀ) = det(X), det(X⁻¹) = det(X)⁻¹, det(AB) = det(A)det(B) for square factors: det(XXX) = det(X)³")
def det_of_product(e):
    inner = e.args[0]
    if isinstance(inner, Transpose):
        return make(Det, (inner.args[0],))
    if isinstance(inner, Inverse):
        return make(Power, (make(Det, (inner.args[0],)),), (-1,))
    if not (isinstance(inner, MatMul) and all(_square(f) for f in inner.args)):
        return None
    exponents: dict = {}
    for factor in inner.args:
        exponents[make(Det, (factor,))] = exponents.get(make(Det, (factor,)), 0) + 1
    return _scalar_product(1, exponents)


def _never_negative(s: Expr) -> bool:
    """A scalar that is ≥ 0 by its form: uᵀu, ‖X‖, an even power, a positive multiple of one."""
    while isinstance(s, Scale) and is_number(s.args[0]) and s.args[0].value > 0:
        s = s.args[1]
    if isinstance(s, Norm) or isinstance(s, Power) and isinstance(s.exponent, int) and s.exponent % 2 == 0:
        return True
    return isinstance(s, MatMul) and len(s.args) == 2 and s.args[0] is transpose_of(s.args[1])


@rule(Norm, "‖s‖ = s for a scalar that is never negative by its form (uᵀu, ‖X‖, s²): ‖xᵀx‖ = xᵀx")
def norm_of_scalar(e):
    inner = e.args[0]
    return inner if inner.is_scalar and _never_negative(inner) else None


@rule(KronContract, "the adjoint of a Kronecker factor from sG is s times G's; from I it is tr(A)I: Σᵢⱼ AᵢⱼI₍ᵢⱼ₎ = tr(A)I")
def kron_adjoint_of_identity(e):
    adjoint, other = e.args
    if isinstance(adjoint, Scale):
        return make(Scale, (adjoint.args[0], make(KronContract, (adjoint.args[1], other), e.params)))
    if isinstance(adjoint, Identity) and _square(other) and _square(e):
        return make(Scale, (make(Trace, (other,)), make(Identity, (), (e.shape[0],))))
    return None


@rule(Kron, "A ⊗ 0 = 0")
def kron_with_zero(e):
    return make(Zero, (), e.shape) if any(isinstance(a, Zero) for a in e.args) else None


# --- vec and Kronecker forms: what Jacobians of vectors and scalars reduce to ---------------------


@rule(Kron, "I₁ ⊗ A = A ⊗ I₁ = A, and a ⊗ B = B ⊗ a = aB for any other 1×1 factor a")
def kron_with_scalar(e):
    a, b = e.args
    for factor, other in ((a, b), (b, a)):
        if factor.is_scalar:
            return other if isinstance(factor, (Identity, Ones)) else make(Scale, (factor, other))
    return None


@rule(Kron, "I_m ⊗ I_n = I_mn")
def kron_of_identities(e):
    return make(Identity, (), (e.shape[0],)) if all(isinstance(a, Identity) for a in e.args) else None


@rule(Vec, "vec(x) = x for a column x, and vec(xᵀ) = x")
def vec_of_column(e):
    inner = e.args[0]
    if is_one(inner.shape[1]):
        return inner
    if isinstance(inner, Transpose) and is_one(inner.args[0].shape[1]):
        return inner.args[0]
    return None


@rule(Commutation, "K(m, 1) = K(1, n) = I: a column holds its entries in the order its transpose does")
def commutation_of_a_vector(e):
    return make(Identity, (), (e.shape[0],)) if any(is_one(d) for d in e.params) else None


# --- the engine --------------------------------------------------------------------------------------------

# The simplifier's work is bounded by the size of what it is given, so that no input costs more
# than linear time.  Work is counted in arguments: looking at a node's arguments, rebuilding
# it over simplified ones, or trying its operation's rules costs one unit per argument, and
# every node that rewrites build is looked at, so the count covers what the rules build too.
# Each node of the input (not the nodes rewrites build) adds this many units per argument.
# A sum of 3,000 terms or a 10,000-layer network is simplified to the end within it; a chain
# W(W(⋯(Wx))) 1,000 deep, whose flat closed form alone has half a million factors and whose
# factoring builds a product per term per level, stops early and comes back partly
# simplified.  Every rewrite keeps the value, so a result cut short is still correct.
_WORK_PER_ARGUMENT = 20
_LEAST_WORK = 4000  # what any input gets, however small


def _work(node: Expr) -> int:
    return 1 + len(node.args)


def _first_rewrite(node: Expr, bound: dict, cost: Costs, trace: list | None, before: bool = False) -> Expr | None:
    """The first rule's result that costs less than the position's bound (see matcalc.ordering):
    the cost of its last kept form, or of the node itself, priced only once a rule applies."""
    limit = None
    for r in (TOP_DOWN if before else RULES).get(type(node), ()):
        try:
            result = r.before(node) if before else r.apply(node)
        except BeyondFloat64:  # 1e308·2 stays a product: folded, it would be inf
            continue
        if result is None or result is node:
            continue
        if limit is None:
            limit = bound[node] if node in bound else cost(node)
        if cost(result) < limit:
            if trace is not None:
                trace.append(Rewrite(r.name, node, result))
            return result
    return None


class Simplifier:
    """Simplifies many roots with one memo, so what they share is simplified once.

    A rewrite is kept only when its result costs less, in the ordering of
    :mod:`matcalc.ordering`, than every form its position had before, so each position is
    rewritten finitely often and the simplification ends.
    """

    def __init__(self, record: bool = False, names: dict[Expr, Let] | None = None):
        """``names`` (see :func:`named_intermediates`): each result writes these expressions as
        the named intermediates that stand for them."""
        self.memo: dict[Expr, Expr] = {}
        self.trace: list[Rewrite] | None = [] if record else None
        self.cost = Costs()
        self.names = names or {}
        self.named: dict[Expr, Expr] = {}  # each node met -> it with the names written in, across calls

    def __call__(self, root: Expr) -> Expr:
        if not self.names:
            return _Run(self, root).result()
        # named before, so that tanh(Z) and A = let(tanh(Z)) are like terms; and after, for the
        # definitions that rules build (a let is opaque to them, as the user's definition)
        return self.with_names(_Run(self, self.with_names(root)).result())

    def with_names(self, root: Expr) -> Expr:
        """``root`` with each definition in ``names`` written as its name; what earlier calls met
        is not walked again, so simplifying the L gradients of a network stays linear in L."""
        return substitute(root, self.names, self.named)


def named_intermediates(roots: list) -> dict[Expr, Let]:
    """Each named intermediate's definition, mapped to the name, for those reachable from ``roots``.

    A derivative meets a definition again where the chain rule reuses an intermediate's value,
    σ'(z) = σ(z)(1 − σ(z)) or tanh' = 1 − tanh²: written with the name it reads as the textbook
    does, (W₂ᵀδ₂) ⊙ (𝟏𝟏ᵀ − A₁²).  A name for a bare variable or number is left out: it would rename
    the variable wherever it occurs."""
    names: dict[Expr, Let] = {}
    for node in postorder(roots):
        if isinstance(node, Let) and node.args[0].args:
            names.setdefault(node.args[0], node)
    return names



class _Run:
    """One simplification, children first, without recursion.  A node that a rule or a rebuild
    over simplified arguments replaces gets an alias, which is then simplified in its place."""

    def __init__(self, simplifier: Simplifier, root: Expr):
        self.memo, self.cost, self.trace = simplifier.memo, simplifier.cost, simplifier.trace
        self.root = root
        self.alias: dict[Expr, Expr] = {}
        self.bound: dict[Expr, tuple] = {}  # the cost a rewrite at this position must get below
        self.chasing: set = set()  # targets pushed to resolve an alias, to detect rewrite cycles
        self.given: set = set()  # nodes of the input, as opposed to nodes that rewrites built
        self.budget = _LEAST_WORK + self.grant([root])
        self.stack = [root]

    def grant(self, nodes) -> int:
        """Work for nodes of the input seen for the first time."""
        fresh = [n for n in nodes if n not in self.given]
        self.given.update(fresh)
        return _WORK_PER_ARGUMENT * sum(_work(n) for n in fresh)

    def result(self) -> Expr:
        while self.stack:
            node = self.stack[-1]
            if node in self.memo:
                self.stack.pop()
            elif node in self.alias:
                self.follow(node)
            elif isinstance(node, Let):
                self.settle(node, node)  # a named intermediate is the user's definition: it stays as written
            else:
                missing = [child for child in node.args if child not in self.memo]
                if missing:
                    self.descend(node, missing)
                else:
                    self.rewrite(node)
        return self.memo[self.root]

    def settle(self, node: Expr, value: Expr) -> None:
        self.memo[node] = value
        self.stack.pop()

    def follow(self, node: Expr) -> None:
        target = self.alias[node]
        if target in self.memo:
            self.settle(node, self.memo[target])
        elif target in self.chasing:
            self.settle(node, node)  # the rewrites led back to where they started: keep the node as it is
        else:
            self.chasing.add(target)
            self.stack.append(target)

    def descend(self, node: Expr, missing: list) -> None:
        """Simplify the arguments first, unless a rule that works top down (flattening) applies."""
        self.budget -= _work(node)
        if node in self.given:
            self.budget += self.grant(missing)
        if type(node) in TOP_DOWN and self.budget > 0:
            self.budget -= _work(node)
            early = _first_rewrite(node, self.bound, self.cost, self.trace, before=True)
            if early is not None:
                if node in self.given:  # a flattened input: its terms are the input's
                    self.budget += self.grant(early.args)
                self.replace(node, early)
                return
        self.stack.extend(missing)

    def rewrite(self, node: Expr) -> None:
        """The node over its simplified arguments, then the first rule that makes it smaller."""
        rebuilt = node.rebuild(tuple(self.memo[child] for child in node.args))
        if rebuilt is not node:
            self.budget -= _work(node)
            self.alias[node] = rebuilt
            if node in self.bound:  # the same position, over simplified arguments: its bound holds
                self.bound[rebuilt] = self.bound[node]
            return
        rewritten = None
        if self.budget > 0:
            self.budget -= _work(node)
            rewritten = _first_rewrite(node, self.bound, self.cost, self.trace)
        if rewritten is None:
            self.settle(node, node)
        else:
            self.replace(node, rewritten)

    def replace(self, node: Expr, result: Expr) -> None:
        self.alias[node], self.bound[result] = result, self.cost(result)


def simplify(expr: Expr) -> Expr:
    """The expression in the closed form a person would write, by the named rewrite rules.

    Rules fire until none does, each lowering the expression's cost (matcalc.ordering); the value
    never changes.

    Parameters
    ----------
    expr : Expr
        Any expression.

    Returns
    -------
    Expr
        The simplified expression (``expr`` itself when nothing applies).

    Examples
    --------
    >>> A, x = mc.matrix("A", 3, 3), mc.vector("x", 3)
    >>> print(mc.simplify((x.T @ A).T + A @ x))
    (A + Aᵀ)x
    """
    return Simplifier()(expr)
