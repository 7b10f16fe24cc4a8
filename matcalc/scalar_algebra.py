"""Elementwise expressions as scalar algebra: sympy cancels what entry-by-entry rules cannot.

An expression built only from ⊙, +, scaling, powers and elementwise functions is, entry by
entry, a scalar expression in its operands.  :func:`cancel_elementwise` hands that scalar
expression to sympy, tries σ' = σ(1 − σ) and exp(u) = σ(u)/(1 − σ(u)), and returns the
form that prints shortest when it is shorter than the given one.  That is how the binary
cross-entropy gradient ((𝟏 − t) ⊙ (𝟏 − σ(z))⁻¹ − t ⊙ σ(z)⁻¹) ⊙ σ'(z) becomes σ(z) − t.
"""

from __future__ import annotations

from fractions import Fraction

import sympy

from .expr import Const, Expr, Ones, Zero, const, make
from .ops import Add, Elementwise, Hadamard, Power, Scale
from .ops.elementwise import FUNCTIONS, apply

_SIGMOID = FUNCTIONS["sigmoid"]
# Larger elementwise expressions are left alone: sympy's factoring time grows fast with size,
# and what the quotient rule leaves in a gradient is small.
_MOST_NODES = 32
_MOST_COEFFICIENT = 1000  # numbers a rewrite may introduce
_EXP = FUNCTIONS["exp"]


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
        if isinstance(node, (Add, Hadamard, Scale, Power)):
            stack.extend(node.args)
        elif isinstance(node, Elementwise):
            u = node.args[0]
            if node.function is _EXP:
                exponential_of.add(u)
                if _is_negation(u):
                    exponential_of.add(u.args[1])
            elif node.function is _SIGMOID or node is _SIGMOID.derivative_of(u, apply(_SIGMOID, u)):
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
            inner = [c for c in node.args if c not in done] if isinstance(node, (Add, Hadamard, Scale, Power)) else []
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
            p = node.exponent
            exponent = sympy.Rational(p.numerator, p.denominator) if isinstance(p, Fraction) else sympy.sympify(p)
            return done[node.args[0]] ** exponent
        if isinstance(node, Ones):
            return sympy.Integer(1)
        if isinstance(node, Zero):
            return sympy.Integer(0)
        if isinstance(node, Const) and not isinstance(node.value, sympy.Expr):
            value = node.value
            return sympy.Rational(value.numerator, value.denominator) if isinstance(value, Fraction) else sympy.sympify(value)
        return self.symbol(node)

    def to_expr(self, value: sympy.Expr, shape) -> Expr:
        from .ops import build

        def convert(v: sympy.Expr) -> Expr:
            if v.is_Symbol:
                return self.nodes[v]
            if v.is_Integer:
                return const(int(v))
            if v.is_Rational:
                return const(Fraction(int(v.p), int(v.q)))
            if v.is_Float:
                return const(float(v))
            if v.is_Add:
                parts = [convert(a) for a in v.as_ordered_terms()]
                total = parts[0]
                for part in parts[1:]:
                    total = build.add(total, part)
                return total
            if v.is_Mul:
                parts = [convert(a) for a in v.as_ordered_factors()]
                product = parts[0]
                for part in parts[1:]:
                    product = build.multiply(product, part)
                return product
            if v.is_Pow and v.exp.is_Rational:
                exponent = int(v.exp) if v.exp.is_Integer else Fraction(int(v.exp.p), int(v.exp.q))
                return build.power(convert(v.base), exponent)
            raise ValueError(f"no matrix form for {v}")

        result = convert(value)
        return result if result.shape == shape else build.multiply(result, make(Ones, (), shape))


def _is_negation(node: Expr) -> bool:
    return isinstance(node, Scale) and isinstance(node.args[0], Const) and node.args[0].value == -1


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
            kinds.append((node.function.name, identity(u), identity(u.args[1]) if _is_negation(u) else -1))
        else:
            kinds.append(("atom", identity(node), node.is_scalar))
    return tuple(kinds), ids


def _rewrites(expression: sympy.Expr, translation: _Translation, ids: dict) -> tuple[list, dict]:
    """The expression cancelled after σ'(u) → σ(u)(1 − σ(u)) and exp(u) → σ(u)/(1 − σ(u))
    (or exp(−v) → (1 − σ(v))/σ(v)), alone and together; then σ(u)² folded back into
    σ(u) − σ'(u) where that shortens it.  Also the new symbols: symbol -> (σ or σ', id of u)."""
    derivative_of_sigmoid = _SIGMOID.derivative_of
    prime, exponential, negated, folds, new_symbols = {}, {}, {}, {}, {}

    def sigmoid_symbol(u: Expr) -> sympy.Symbol:
        sigmoid = apply(_SIGMOID, u)
        s, p = translation.symbol(sigmoid), translation.symbol(derivative_of_sigmoid(u, sigmoid))
        new_symbols[s], new_symbols[p] = (False, ids[u]), (True, ids[u])
        folds[s**2] = s - p
        return s

    for node, symbol in list(translation.symbols.items()):
        if not isinstance(node, Elementwise) or symbol not in expression.free_symbols:
            continue
        u = node.args[0]
        if node is derivative_of_sigmoid(u, apply(_SIGMOID, u)):
            s = sigmoid_symbol(u)
            prime[symbol] = s * (1 - s)
        elif node.function is _EXP:
            s = sigmoid_symbol(u)
            exponential[symbol] = negated[symbol] = s / (1 - s)
            if _is_negation(u):
                s = sigmoid_symbol(u.args[1])
                negated[symbol] = (1 - s) / s
    candidates = []
    for substitution in (prime, negated, exponential, {**prime, **negated}, {**prime, **exponential}):
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
    for symbol, (derivative, identity) in new_symbols.items():
        u = node_of[identity]
        sigmoid = apply(_SIGMOID, u)
        node = _SIGMOID.derivative_of(u, sigmoid) if derivative else sigmoid
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
