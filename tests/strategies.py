"""Random well-shaped expressions over every operation, for property-based tests and fuzz runs.

``build(choose, shape, depth)`` asks ``choose(k)`` for a number in range(k) at every
decision, so hypothesis can drive it (and shrink its choices) and a plain RNG can too.
Arguments of log, sqrt, negative and fractional powers are made positive, and matrices
that are inverted are made well-conditioned, so every expression has a finite value and
gradient at ordinary points.
"""

from __future__ import annotations

import numpy as np

import matcalc as mc

SHAPES = [(3, 3), (3, 4), (4, 3), (3, 1), (4, 1), (1, 1)]
_SYMBOLS = {
    (3, 3): [mc.matrix("A", 3, 3), mc.matrix("S", 3, 3, symmetric=True)],
    (3, 4): [mc.matrix("X", 3, 4)],
    (4, 3): [mc.matrix("Y", 4, 3)],
    (3, 1): [mc.vector("x", 3), mc.vector("y", 3)],
    (4, 1): [mc.vector("w", 4)],
    (1, 1): [mc.scalar("s")],
}
INNER = [3, 4, 1]
ELEMENTWISE = [mc.exp, mc.sin, mc.cos, mc.tanh, mc.sigmoid, mc.softplus, mc.relu, mc.abs]


def variables() -> list:
    return [s for pool in _SYMBOLS.values() for s in pool]


def positive(e):
    return e**2 + 0.5


def well_conditioned(e):
    return e @ e.T + 3 * mc.eye(e.shape[0])


class Builder:
    def __init__(self, choose):
        self.choose = choose
        self.lets = 0

    def pick(self, options):
        return options[self.choose(len(options))]

    def leaf(self, shape):
        if shape not in _SYMBOLS:
            _SYMBOLS[shape] = [mc.matrix(f"M{shape[0]}{shape[1]}", *shape)]
        pool = _SYMBOLS[shape]
        if self.choose(6) == 0:
            return mc.ones(*shape) * (1 + self.choose(3)) if shape != (1, 1) else mc.expr.const(1 + self.choose(3))
        return self.pick(pool)

    def build(self, shape, depth):
        if depth <= 0 or self.choose(4) == 0:
            return self.leaf(shape)
        rows, cols = shape
        sub = depth - 1
        options = [
            lambda: self.build(shape, sub) + self.build(shape, sub),
            lambda: self.build(shape, sub) - self.build(shape, sub),
            lambda: self.build(shape, sub) * self.build(shape, sub),
            lambda: self.build((1, 1), sub) * self.build(shape, sub),
            lambda: self.build((rows, k := self.pick(INNER)), sub) @ self.build((k, cols), sub),
            lambda: self.build((cols, rows), sub).T,
            lambda: self.pick(ELEMENTWISE)(self.build(shape, sub)),
            lambda: mc.log(positive(self.build(shape, sub))),
            lambda: mc.sqrt(positive(self.build(shape, sub))),
            lambda: self.build(shape, sub) ** self.pick([2, 3]),
            lambda: positive(self.build(shape, sub)) ** self.pick([-1, 0.5]),
            lambda: self.build(shape, sub) / (1 + self.build((1, 1), sub) ** 2),
            lambda: self._let(shape, sub),
        ]
        if rows == cols and rows > 1:
            options += [
                lambda: mc.inv(well_conditioned(self.build(shape, sub))),
                lambda: mc.diag(self.build((rows, 1), sub)),
            ]
        if cols == 1 and rows > 1:
            options += [
                lambda: mc.softmax(self.build(shape, sub)),
                lambda: mc.diag(self.build((rows, rows), sub)),
            ]
        if shape == (1, 1):
            options += [
                lambda: mc.trace(self.build((3, 3), sub)),
                lambda: mc.sum(self.build(self.pick(SHAPES), sub)),
                lambda: mc.det(well_conditioned(self.build((3, 3), sub))),
                lambda: mc.logdet(well_conditioned(self.build((3, 3), sub))),
                lambda: mc.norm(self.build(self.pick(SHAPES[:5]), sub)),
                lambda: mc.frob(self.build((3, 4), sub), self.build((3, 4), sub)),
                lambda: mc.dot(self.build((3, 1), sub), self.build((3, 1), sub)),
                lambda: mc.logsumexp(self.build((4, 1), sub)),
                lambda: mc.sum(mc.kron(self.build((3, 1), sub), self.build((1, 1), sub).T * mc.ones(1, 2))),
            ]
        return self.pick(options)()

    def _let(self, shape, depth):
        self.lets += 1
        return mc.let(f"h{self.lets}", self.build(shape, depth))


def build(choose, shape=(1, 1), depth=3):
    return Builder(choose).build(shape, depth)


def scalar_loss(choose, depth=3):
    """A scalar expression: sum(C ⊙ e) for a random-shaped e, so every output entry counts."""
    builder = Builder(choose)
    shape = builder.pick(SHAPES)
    e = builder.build(shape, depth)
    weights = mc.matrix("C", *shape) if shape != (1, 1) else mc.scalar("c")
    return mc.sum(weights * e)


def random_values(exprs, seed):
    from matcalc.numeric.evaluate import symbols_of

    rng = np.random.default_rng(seed)
    values = {}
    for symbol in symbols_of(list(exprs)):
        value = rng.uniform(-1.5, 1.5, size=tuple(int(d) for d in symbol.shape))
        if symbol.is_symmetric and not symbol.is_scalar:
            value = (value + value.T) / 2
        values[symbol] = value
    return values


def rng_chooser(rng):
    return lambda k: int(rng.integers(k))
