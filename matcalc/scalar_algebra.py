"""Elementwise expressions as scalar algebra: sympy cancels what entry-by-entry rules cannot.

An expression built only from ⊙, +, scaling, powers and elementwise functions is, entry by
entry, a scalar expression in its operands.  :func:`cancel_elementwise` hands that scalar
expression to sympy, tries σ' = σ(1 − σ) and exp(u) = σ(u)/(1 − σ(u)), and returns the
form that prints shortest when it is shorter than the given one.  That is how the binary
cross-entropy gradient ((𝟏 − t) ⊙ (𝟏 − σ(z))⁻¹ − t ⊙ σ(z)⁻¹) ⊙ σ'(z) becomes σ(z) − t.
"""

from __future__ import annotations

from fractions import Fraction
from functools import reduce

import sympy

from .expr import Const, Expr, Ones, Zero, const, make, sympy_number
from .ops import Add, Elementwise, Hadamard, Power, Scale, negated
from .ops.elementwise import apply, exp_f, sigmoid_f, sigmoid_prime_f

# the operations that are scalar algebra entry by entry; anything else is an operand
_ALGEBRA = (Add, Hadamard, Scale, Power)
# Larger elementwise expressions are left alone: sympy's factoring time grows fast with size,
# and what the quotient rule leaves in a gradient is small.
_MOST_NODES = 32
_MOST_COEFFICIENT = 1000  # numbers a rewrite may introduce


def worth_cancelling(root: Expr) -> bool:
    """Whether scalar algebra may shorten the elementwise part of ``root``: it divides (the
    quotient rule leaves negative powers), or it holds both exp(u) and σ(u) of one u."""
    exponential_of, sigmoid_of, reciprocal = set(), set(), False
    stack, visited = [root], set()
    while stack:
        node = stack.pop()
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
        if node not in self.symbols:
            symbol = sympy.Symbol(f"x{len(self.symbols)}")
            self.symbols[node], self.nodes[symbol] = symbol, node
        return self.symbols[node]

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
        from .ops import build

        def convert(v: sympy.Expr) -> Expr:
            if v.is_Symbol:
                return self.nodes[v]
            if v.is_Number:  # const() reads sympy numbers; ints stay ints, as the rules expect
                return const(int(v) if v.is_Integer else v)
            if v.is_Add:
                return reduce(build.add, map(convert, v.as_ordered_terms()))
            if v.is_Mul:
                return reduce(build.multiply, map(convert, v.as_ordered_factors()))
            if v.is_Pow and v.exp.is_Rational:
                exponent = int(v.exp) if v.exp.is_Integer else Fraction(int(v.exp.p), int(v.exp.q))
                return build.power(convert(v.base), exponent)
            raise ValueError(f"no matrix form for {v}")

        result = convert(value)
        return result if result.shape == shape else build.multiply(result, make(Ones, (), shape))


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


def _rewrites(expression: sympy.Expr, translation: _Translation, ids: dict) -> tuple[list, dict]:
    """The expression cancelled after σ'(u) → σ(u)(1 − σ(u)) and exp(u) → σ(u)/(1 − σ(u))
    (or exp(−v) → (1 − σ(v))/σ(v)), alone and together; then σ(u)² folded back into
    σ(u) − σ'(u) where that shortens it.  Also the new symbols: symbol -> (σ or σ', id of u)."""
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
    candidates = []
    for substitution in (prime, of_negated, exponential, {**prime, **of_negated}, {**prime, **exponential}):
        if substitution:
            cancelled = sympy.cancel(expression.xreplace(substitution))
            candidates += [cancelled, sympy.expand(cancelled.subs(folds))] if folds else [cancelled]
    return candidates, new_symbols


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
        translation.symbols[node], translation.nodes[symbol] = symbol, node
    return translation.to_expr(best, root.shape)


def _largest_number(expression: sympy.Expr) -> int:
    rationals = [abs(r) for r in expression.atoms(sympy.Rational)]
    return max((max(int(r.p), int(r.q)) for r in rationals), default=0)


def _decide(root: Expr, expression: sympy.Expr, translation: _Translation, ids: dict) -> tuple:
    from .printing.text import text

    try:
        rewritten, new_symbols = _rewrites(expression, translation, ids)
        candidates = [sympy.cancel(expression), *rewritten]
        best, best_length = None, len(text(root))
        largest = max(_MOST_COEFFICIENT, _largest_number(expression))
        for candidate in candidates + [sympy.factor(c) for c in candidates]:
            if _largest_number(candidate) > largest:
                continue  # e.g. a continued fraction multiplied out: Fibonacci coefficients overflow floats
            length = len(text(translation.to_expr(candidate, root.shape)))
            if length < best_length:
                best, best_length = candidate, length
        return best, new_symbols
    except (ValueError, TypeError, ZeroDivisionError):
        return None, {}
