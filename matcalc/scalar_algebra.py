"""Elementwise expressions as scalar algebra: sympy cancels what entry-by-entry rules cannot.

An expression built only from ⊙, +, scaling, powers and elementwise functions is, entry by
entry, a scalar expression in its operands.  :func:`cancel_elementwise` hands that scalar
expression to sympy, tries σ' = σ(1 − σ) and exp(u) = σ(u)/(1 − σ(u)), and returns the
form that prints shortest when it is shorter than the given one.  That is how the binary
cross-entropy gradient ((𝟏 − t) ⊙ (𝟏 − σ(z))⁻¹ − t ⊙ σ(z)⁻¹) ⊙ σ'(z) becomes σ(z) − t.

Names do not stop it.  The simplifier treats a named intermediate (mc.let) as a leaf, but
here one whose definition is an operand (y = mc.let("y", σ(Xw))) stands for that definition:
y and σ(Xw) are one symbol, so σ'(Xw) = y(1 − y) cancels against y, and the result is written
with the name: the logistic loss written with y has the gradient Xᵀ(y − t), as without it.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import reduce

import sympy
from sympy.polys.domains import QQ
from sympy.polys.polyutils import _sort_gens
from sympy.polys.rings import ring as polynomial_ring

from .expr import Const, Expr, Let, Ones, Zero, const, make, sympy_number
from .ops import Add, Elementwise, Hadamard, Power, Scale, build, negated
from .ops.elementwise import apply, exp_f, sigmoid_f, sigmoid_prime_f
from .ordering import Costs

# the operations that are scalar algebra entry by entry; anything else is an operand
_ALGEBRA = (Add, Hadamard, Scale, Power)
# Larger elementwise expressions are left alone: sympy's factoring time grows fast with size,
# and what the quotient rule leaves in a gradient is small.
_MOST_NODES = 32
_MOST_COEFFICIENT = 1000  # numbers a rewrite may introduce
# A cancelled form more than this many times the size of the expression (nodes of sympy's
# tree) has multiplied out nested quotients: it does not print shorter, and factoring it
# back costs time that grows with the blow-up (seconds for ((u² + 1/2)⁻¹)² + 1/2)⁻¹ towers).
_MOST_GROWTH = 10
# Terms of numerator and denominator together, over one denominator, past which cancelling
# is not tried.  Over 5,200 random losses the forms that printed shorter came from at most 70.
_MOST_TERMS = 500


def seen_through(node: Expr) -> Expr:
    """What scalar algebra sees for a node: a named intermediate whose definition is an operand
    (not itself a sum or product) is that definition, y = σ(Xw) is σ(Xw); anything else itself."""
    while isinstance(node, Let) and not isinstance(node.body, _ALGEBRA):
        node = node.body
    return node


def worth_cancelling(root: Expr) -> bool:
    """Whether scalar algebra may shorten the elementwise part of ``root``: it divides (the
    quotient rule leaves negative powers), or it holds both exp(u) and σ(u) of one u."""
    exponential_of, sigmoid_of, reciprocal = set(), set(), False
    stack, visited = [root], set()
    while stack:
        node = seen_through(stack.pop())
        if node in visited:
            continue
        visited.add(node)
        if len(visited) > _MOST_NODES:
            return False
        if isinstance(node, Power) and not isinstance(node.exponent, float) and node.exponent < 0:
            reciprocal = True
        if isinstance(node, _ALGEBRA):
            stack.extend(node.args)
        elif isinstance(node, Elementwise):
            u = node.args[0]
            if node.function is exp_f:
                exponential_of.add(u)
                if negated(u) is not None:
                    exponential_of.add(negated(u))
            elif node.function in (sigmoid_f, sigmoid_prime_f):
                sigmoid_of.add(u)
    return reciprocal or not exponential_of.isdisjoint(sigmoid_of)


class _Translation:
    """Operands and function applications as sympy symbols, and back."""

    def __init__(self):
        self.symbols: dict[Expr, sympy.Symbol] = {}
        self.nodes: dict[sympy.Symbol, Expr] = {}

    def symbol(self, node: Expr) -> sympy.Symbol:
        """The symbol of an operand, one for a name and its definition (see seen_through); the
        node it stands for is the one met first, so a name stays a name."""
        key = seen_through(node)
        if key not in self.symbols:
            symbol = sympy.Symbol(f"x{len(self.symbols)}")
            self.symbols[key], self.nodes[symbol] = symbol, node
        return self.symbols[key]

    def to_sympy(self, root: Expr) -> sympy.Expr:
        done: dict[Expr, sympy.Expr] = {}
        stack = [root]
        while stack:
            node = stack[-1]
            if node in done:
                stack.pop()
                continue
            inner = [c for c in node.args if c not in done] if isinstance(node, _ALGEBRA) else []
            if inner:
                stack.extend(inner)
                continue
            stack.pop()
            done[node] = self._translate(node, done)
        return done[root]

    def _translate(self, node: Expr, done: dict) -> sympy.Expr:
        if isinstance(node, Add):
            return sympy.Add(*(done[c] for c in node.args))
        if isinstance(node, (Hadamard, Scale)):
            return sympy.Mul(*(done[c] for c in node.args))
        if isinstance(node, Power):
            return done[node.args[0]] ** sympy_number(node.exponent)
        if isinstance(node, Ones):
            return sympy.Integer(1)
        if isinstance(node, Zero):
            return sympy.Integer(0)
        if isinstance(node, Const) and not isinstance(node.value, sympy.Expr):
            return sympy_number(node.value)
        return self.symbol(node)

    def to_expr(self, value: sympy.Expr, shape) -> Expr:
        """A sympy expression over the symbols as a matcalc expression, built bottom-up."""
        operands: dict[sympy.Expr, list] = {}
        done: dict[sympy.Expr, Expr] = {}
        stack = [value]
        while stack:
            v = stack[-1]
            if v in done:
                stack.pop()
                continue
            if v not in operands:
                operands[v] = _operands(v)
            pending = [o for o in operands[v] if o not in done]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            done[v] = self._convert(v, [done[o] for o in operands[v]])
        result = done[value]
        return result if result.shape == shape else build.multiply(result, make(Ones, (), shape))

    def _convert(self, v: sympy.Expr, parts: list) -> Expr:
        if v.is_Symbol:
            return self.nodes[v]
        if v.is_Number:  # const() reads sympy numbers; ints stay ints, as the rules expect
            return const(int(v) if v.is_Integer else v)
        if v.is_Add:
            return reduce(build.add, parts)
        if v.is_Mul:
            return reduce(build.multiply, parts)
        exponent = int(v.exp) if v.exp.is_Integer else Fraction(int(v.exp.p), int(v.exp.q))
        return build.power(parts[0], exponent)


def _operands(v: sympy.Expr) -> list:
    """What a sympy node is built from, in the order its matrix form writes them."""
    if v.is_Symbol or v.is_Number:
        return []
    if v.is_Add:
        return list(v.as_ordered_terms())
    if v.is_Mul:
        return list(v.as_ordered_factors())
    if v.is_Pow and v.exp.is_Rational:
        return [v.base]
    raise ValueError(f"no matrix form for {v}")


def _structure(translation: _Translation) -> tuple[tuple, dict[Expr, int]]:
    """What the symbols stand for, up to the nodes themselves: each symbol's kind, with ids
    that show which function arguments are shared.  Isomorphic expressions, such as the same
    local derivative at every layer of a network, get equal structures."""
    ids: dict[Expr, int] = {}

    def identity(node: Expr) -> int:
        return ids.setdefault(node, len(ids))

    kinds = []
    for node in list(translation.symbols):
        if isinstance(node, Elementwise):
            u = node.args[0]
            kinds.append((node.function.name, identity(u), -1 if negated(u) is None else identity(negated(u))))
        else:
            kinds.append(("atom", identity(node), node.is_scalar))
    return tuple(kinds), ids


def _cancel(expression: sympy.Expr) -> sympy.Expr | None:
    """What ``sympy.cancel`` gives, computed in a polynomial ring, or None when the expression
    over one denominator would pass _MOST_TERMS terms.

    sympy.cancel expands the expression as an expression tree first, which for nested
    quotients (((u² + 1/2)⁻¹)² + 1/2)⁻¹ takes seconds even when the cancelled form has a few
    dozen terms; ring arithmetic takes milliseconds.  Without radicals the result is
    sympy.cancel's own (the same normalisation, the same generators); a radical b^(p/q) is a
    generator b^(1/q), where sympy.cancel would first pull numbers out of b.  Floats keep
    sympy's inexact arithmetic: they are counted here and cancelled by sympy."""
    if expression.is_Number:
        return expression
    quotient = _over_one_denominator(expression)
    if quotient is None:
        return None
    numerator, denominator, exact = quotient
    if not exact:
        return sympy.cancel(expression)
    numerator, denominator = numerator.cancel(denominator)
    return numerator.as_expr() / denominator.as_expr()


def _over_one_denominator(expression: sympy.Expr) -> tuple | None:
    """(numerator, denominator, whether no float was met) as elements of a polynomial ring
    over the rationals, or None past _MOST_TERMS terms; built bottom-up, without recursion.

    The ring's generators are the symbols, b^(1/q) for each base b raised to powers with
    denominators q (b^(p/q) is its p-th power), and anything else sympy.cancel would take
    as a generator of its own (a power with a float exponent, say)."""
    try:
        return _RationalForm(expression).result()
    except _TooManyTerms:
        return None


class _TooManyTerms(Exception):
    """A numerator or denominator grew past _MOST_TERMS terms."""


class _RationalForm:
    """An expression as one quotient of polynomials, node by node from the leaves up."""

    def __init__(self, expression: sympy.Expr):
        self.expression = expression
        self.order = _sum_product_power_order(expression)
        self.roots: dict = {}  # base -> the lcm of the denominators of its exponents
        for node in self.order:
            if node.is_Pow and node.exp.is_Rational and not node.exp.is_Integer:
                self.roots[node.base] = math.lcm(self.roots.get(node.base, 1), int(node.exp.q))
        self.radicals = {base: base ** sympy.Rational(1, q) for base, q in self.roots.items()}
        atoms = {node for node in self.order if not (node.is_Add or node.is_Mul or node.is_Number or node.is_Pow and node.exp.is_Rational)}
        self.generators = _sort_gens([*atoms, *self.radicals.values()])
        self.exact = True

    def result(self) -> tuple | None:
        if not self.generators:
            return None
        self.ring, *gens = polynomial_ring(self.generators, QQ)
        self.generator = dict(zip(self.generators, gens))
        done: dict = {}
        for node in reversed(self.order):
            if node not in done:
                done[node] = _checked(self.value(node, done))
        return (*done[self.expression], self.exact)

    def value(self, node: sympy.Expr, done: dict) -> tuple:
        one = self.ring.one
        if node in self.radicals:  # b = (b^(1/q))^q
            return self.generator[self.radicals[node]] ** self.roots[node], one
        if node in self.generator:
            return self.generator[node], one
        if node.is_Number:
            self.exact = self.exact and not node.is_Float
            return self.ring(QQ.convert(sympy.Rational(node))), one
        if node.is_Add:
            return _quotient_sum([done[term] for term in node.args])
        if node.is_Mul:
            return _quotient_product([done[factor] for factor in node.args], one)
        return self.power(node, done)

    def power(self, node: sympy.Expr, done: dict) -> tuple:
        """A rational power: of a radical's base, or an integer power."""
        if node.base in self.radicals:
            base, k = (self.generator[self.radicals[node.base]], self.ring.one), int(node.exp * self.roots[node.base])
        else:
            base, k = done[node.base], int(node.exp)
        return (base[0] ** k, base[1] ** k) if k >= 0 else (base[1] ** -k, base[0] ** -k)


def _sum_product_power_order(expression: sympy.Expr) -> list:
    """The sums, products and rational powers of an expression and what they are made of,
    each node before what it contains (reversed, children come first)."""
    order, stack = [], [expression]
    while stack:
        node = stack.pop()
        order.append(node)
        if node.is_Add or node.is_Mul:
            stack.extend(node.args)
        elif node.is_Pow and node.exp.is_Rational:
            stack.append(node.base)
    return order


def _checked(value: tuple) -> tuple:
    if len(value[0]) + len(value[1]) > _MOST_TERMS:
        raise _TooManyTerms
    return value


def _quotient_sum(terms: list) -> tuple:
    numerator, denominator = terms[0]
    for n, d in terms[1:]:
        if d == denominator:
            numerator = numerator + n
        else:
            common = denominator.lcm(d)
            numerator = numerator * common.exquo(denominator) + n * common.exquo(d)
            denominator = common
        _checked((numerator, denominator))
    return numerator, denominator


def _quotient_product(factors: list, one) -> tuple:
    numerator, denominator = one, one
    for n, d in factors:
        numerator, denominator = _checked((numerator * n, denominator * d))
    return numerator, denominator


def _size(expression: sympy.Expr) -> int:
    """The number of nodes in a sympy expression's tree, counted without recursion."""
    count, stack = 0, [expression]
    while stack:
        count += 1
        stack.extend(stack.pop().args)
    return count


def _rewrites(expression: sympy.Expr, translation: _Translation, ids: dict, most: int) -> tuple[list, list, dict]:
    """The expression cancelled after σ'(u) → σ(u)(1 − σ(u)) and exp(u) → σ(u)/(1 − σ(u))
    (or exp(−v) → (1 − σ(v))/σ(v)), alone and together; then, apart, those forms with σ(u)²
    folded back into σ(u) − σ'(u), where there is a square to fold.  Also the new symbols:
    symbol -> (σ or σ', id of u).  Cancelled forms of more than ``most`` nodes are dropped
    before anything else is done to them."""
    prime, exponential, of_negated, folds, new_symbols = {}, {}, {}, {}, {}

    def sigmoid_symbol(u: Expr) -> sympy.Symbol:
        s, p = translation.symbol(apply(sigmoid_f, u)), translation.symbol(apply(sigmoid_prime_f, u))
        new_symbols[s], new_symbols[p] = (sigmoid_f, ids[u]), (sigmoid_prime_f, ids[u])
        folds[s**2] = s - p
        return s

    for node, symbol in list(translation.symbols.items()):
        if not isinstance(node, Elementwise) or symbol not in expression.free_symbols:
            continue
        u = node.args[0]
        if node.function is sigmoid_prime_f:
            s = sigmoid_symbol(u)
            prime[symbol] = s * (1 - s)
        elif node.function is exp_f:
            s = sigmoid_symbol(u)
            exponential[symbol] = of_negated[symbol] = s / (1 - s)
            if negated(u) is not None:
                s = sigmoid_symbol(negated(u))
                of_negated[symbol] = (1 - s) / s
    substituted, folded = [], []
    for substitution in (prime, of_negated, exponential, {**prime, **of_negated}, {**prime, **exponential}):
        if substitution:
            cancelled = _cancel(expression.xreplace(substitution))
            if cancelled is None or _size(cancelled) > most:
                continue
            substituted.append(cancelled)
            square_folded = cancelled.subs(folds) if folds else cancelled
            # expanding alone has never printed shorter (over the tests and 5,200 random losses)
            folded.append(sympy.expand(square_folded) if square_folded != cancelled else None)
    return substituted, folded, new_symbols


# structure -> (the shortest form as a sympy expression or None, the symbols it adds); kept
# across calls so that isomorphic expressions cost one sympy run between them
_DECISIONS: dict = {}
_MOST_DECISIONS = 4096


def cancel_elementwise(root: Expr) -> Expr | None:
    """A shorter form of an elementwise expression, found by scalar algebra, or None."""
    translation = _Translation()
    expression = translation.to_sympy(root)
    kinds, ids = _structure(translation)
    key = (expression, kinds, root.is_scalar)
    if key not in _DECISIONS:
        if len(_DECISIONS) >= _MOST_DECISIONS:
            _DECISIONS.clear()
        _DECISIONS[key] = _decide(root, expression, translation, ids)
    best, new_symbols = _DECISIONS[key]
    if best is None:
        return None
    node_of = {identity: node for node, identity in ids.items()}
    for symbol, (function, identity) in new_symbols.items():
        node = apply(function, node_of[identity])
        translation.symbols.setdefault(node, symbol)
        translation.nodes.setdefault(symbol, node)  # a name given for σ(u) stays the name
    return translation.to_expr(best, root.shape)


def _largest_number(expression: sympy.Expr) -> int:
    rationals = [abs(r) for r in expression.atoms(sympy.Rational)]
    return max((max(int(r.p), int(r.q)) for r in rationals), default=0)


def _decide(root: Expr, expression: sympy.Expr, translation: _Translation, ids: dict) -> tuple:
    try:
        most = _MOST_GROWTH * _size(expression)
        substituted, folded, new_symbols = _rewrites(expression, translation, ids, most)
        cancelled = _cancel(expression)
        candidates = [cancelled] if cancelled is not None and _size(cancelled) <= most else []
        for substituted_form, folded_form in zip(substituted, folded):
            candidates += [substituted_form] if folded_form is None else [substituted_form, folded_form]
        # each form is factored once (the substitutions often agree), a folded form not at all:
        # it is expanded, factoring undoes the fold, and that never printed shorter
        unfolded = dict.fromkeys(c for c in candidates if c not in folded)
        candidates += [sympy.factor(c) for c in unfolded]
        cost = Costs()  # the simplifier's ordering: a candidate is kept only if it is smaller in it
        best, best_cost = None, cost(root)
        largest = max(_MOST_COEFFICIENT, _largest_number(expression))
        for candidate in dict.fromkeys(candidates):
            if _largest_number(candidate) > largest:
                continue  # e.g. a continued fraction multiplied out: Fibonacci coefficients overflow floats
            candidate_cost = cost(translation.to_expr(candidate, root.shape))
            if candidate_cost < best_cost:
                best, best_cost = candidate, candidate_cost
        return best, new_symbols
    except (ValueError, TypeError, ZeroDivisionError):
        return None, {}
