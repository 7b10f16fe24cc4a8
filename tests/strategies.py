"""Random well-shaped expressions over every operation, for property-based tests and fuzz runs.

``build(choose, shape, depth)`` asks ``choose(k)`` for a number in range(k) at every
decision, so hypothesis can drive it (and shrink its choices) and a plain RNG can too.

The corpus draws every public constructor and every operation class: all elementwise
functions, user elementwise functions with near-colliding names ("f", "f_prime",
"f_prime_prime", "ff"; "ﬀ" and "ｆ", which matcalc refuses as NFKC twins of "ff" and "f",
are kept in ``USER_REFUSED`` and their refusals tested), symmetric variables, ``mc.let``
(new, reused, nested, and two lets with one name), a symbolic dimension, derivatives used
as subexpressions (grad, hessian, jacobian, hvp, differential, simplify), and variables with hostile but
valid names (``x\"\"\"``, ``'''``, ``\\``, ``__import__('os')``, ``λ``, ``W₁``, ``ﬀ``, …).
``tests/test_fuzz.py::test_the_builder_draws_every_operation`` fails when an operation class
or a constructor in ``mc.__all__`` is never drawn.

``AVOIDED_DEFECTS`` names what the builder leaves out while a defect is
open (each has its own xfail test); benchmarks/fuzz.py draws them anyway (avoid_defects=False).

Values stay finite at ordinary points: arguments of log, sqrt and negative or fractional
powers are made positive, matrices that are inverted (or whose determinant is taken) are
made well-conditioned, and tan only sees arguments in (−1, 1).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy

import matcalc as mc
from matcalc import ops
from matcalc.expr import const, make
from tests import numpy_oracle

(N,) = mc.dims("n")  # a symbolic size; random_values gives it N_SIZE
N_SIZE = 5
SHAPES = [(3, 3), (3, 4), (4, 3), (3, 1), (4, 1), (1, 1), (N, 1), (3, N)]
INNER = [3, 4, 1, N]
VECTOR_LENGTHS = [3, 4, N]

# Variables by shape: plain names first (the string syntax can write those), then hostile ones.
_PLAIN = {
    (3, 3): [mc.matrix("A", 3, 3), mc.matrix("S", 3, 3, symmetric=True), mc.matrix("B", 3, 3)],
    (3, 4): [mc.matrix("X", 3, 4), mc.matrix("P", 3, 4, columns_sum_to_one=True)],
    (4, 3): [mc.matrix("Y", 4, 3)],
    (3, 1): [mc.vector("x", 3), mc.vector("y", 3), mc.vector("p", 3, sums_to_one=True)],
    (4, 1): [mc.vector("w", 4)],
    (1, 1): [mc.scalar("s"), mc.scalar("t")],
    (N, 1): [mc.vector("z", N)],
    (3, N): [mc.matrix("Z", 3, N)],
}
HOSTILE_NAMES = [
    'x"""', "'''", "\\", "__import__('os')", "λ", "W₁", "ﬀ", "ff", "np", "out", "dim_n", "_t0",
    "v", "v_2", "x y", "None", "lambda", "é", "e\u0301", "{x}", "%s", "A.T", "x'",
]
_HOSTILE = {
    (3, 3): [mc.matrix("W₁", 3, 3), mc.matrix("Σ", 3, 3, symmetric=True)],
    (3, 4): [mc.matrix("\\", 3, 4), mc.matrix("A.T", 3, 4)],
    (4, 3): [mc.matrix("out", 4, 3)],
    (3, 1): [mc.vector('x"""', 3), mc.vector("λ", 3), mc.vector("v", 3), mc.vector("v_2", 3), mc.vector("x y", 3)],
    (4, 1): [mc.vector("np", 4), mc.vector("__import__('os')", 4), mc.vector("{x}", 4)],
    (1, 1): [mc.scalar("'''"), mc.scalar("ﬀ"), mc.scalar("ff"), mc.scalar("é"), mc.scalar("e\u0301"), mc.scalar("None")],
    (N, 1): [mc.vector("dim_n", N), mc.vector("%s", N)],
    (3, N): [mc.matrix("_t0", 3, N)],
}
LET_NAMES = ["h", "h", "z", "δ", "h'", "x", "h 1", "ﬀ"]

# User elementwise functions whose names collide once generated helpers are named
# (f' vs f_prime, f'' vs f_prime_prime) or once Python reads them (NFKC: ﬀ → ff, ｆ → f),
# each with a NumPy twin written here for the oracle.
_u = sympy.Symbol("u")
USER_FUNCTIONS = {
    "f": (_u**3 - _u, lambda x: x**3 - x),
    "f_prime": (sympy.sin(_u) + _u, lambda x: np.sin(x) + x),
    "f_prime_prime": (sympy.cos(2 * _u), lambda x: np.cos(2 * x)),
    "ff": (sympy.exp(-(_u**2)), lambda x: np.exp(-(x**2))),
    "ﬀ": (_u**2 + 1, lambda x: x**2 + 1),
    "ｆ": (2 * _u - _u**2 / 3, lambda x: 2 * x - x**2 / 3),
    "lin": (2 * _u + 1, lambda x: 2 * x + 1),
}
USER: dict = {}  # the functions matcalc accepted
USER_REFUSED: dict = {}  # name -> the MatcalcError that refused it (a name that collides may be refused)
for _name, (_formula, _twin) in USER_FUNCTIONS.items():
    try:
        USER[_name] = mc.elementwise(_name, sympy.Lambda(_u, _formula))
    except mc.MatcalcError as _error:
        USER_REFUSED[_name] = _error
    numpy_oracle.ELEMENTWISE[_name] = _twin

BUILTIN_ELEMENTWISE = ["exp", "log", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "sqrt", "abs", "sign", "softplus", "logsigmoid"]
# The public names the builder calls; the registry test compares them with mc.__all__.
NOT_CONSTRUCTORS = {
    "DifferentiationError", "EvaluationError", "Expr", "MatcalcError", "OperandError", "ParseError",
    "CheckResult", "Derivation", "Step", "ShapeError", "Symbol", "check", "check_jacobian", "derive",
    "dims", "evaluate", "lambdify", "latex", "parse", "text", "to_numpy_source", "to_syntax",
    "to_source", "custom_vjp",  # printed forms and a JAX/torch wrapper, checked in tests/test_fuzz.py where a backend runs
    "draw", "Drawing", "to_sympy", "from_sympy",  # pictures and SymPy round trips: properties in tests/test_fuzz.py
}


# User functions the builder leaves out (unless avoid_defects=False, as benchmarks/fuzz.py
# asks) because of an open defect that its own xfail test pins down; remove the entry when fixed.
AVOIDED_DEFECTS: dict[str, str] = {}


def variables(syntax: bool = False) -> list:
    pools = [_PLAIN] if syntax else [_PLAIN, _HOSTILE]
    return [s for pool in pools for shapes in pool.values() for s in shapes]


def positive(e):
    return e**2 + 0.5


def well_conditioned(e):
    return e @ e.T + 3 * mc.eye(e.shape[0])


class Builder:
    """Draws one expression; ``drawn`` records the public functions it called.

    ``syntax=True`` keeps to what ``mc.to_syntax`` can write (plain names, no kron, frob,
    user functions, zeros or derivatives).
    """

    def __init__(self, choose, syntax: bool = False, avoid_defects: bool = True):
        self.choose = choose
        self.syntax = syntax
        self.avoid_defects = avoid_defects
        self.drawn: set[str] = set()
        self.lets: dict = {}

    def pick(self, options):
        return options[self.choose(len(options))]

    def call(self, name, *args, **options):
        """mc.<name>(*args, **options), recorded."""
        self.drawn.add(name)
        return getattr(mc, name)(*args, **options)

    def symbols(self, shape) -> list:
        pool = list(_PLAIN.get(shape, []))
        if not self.syntax:
            pool += _HOSTILE.get(shape, [])
        return pool

    def leaf(self, shape):
        rows, cols = shape
        pool = self.symbols(shape)
        if not pool and rows == 1 and self.symbols((cols, 1)):
            pool = [v.T for v in self.symbols((cols, 1))]  # a row: a transposed vector
        if not pool:
            kind = "vector" if cols == 1 else "matrix"
            pool = [self.call(kind, f"M{rows}{cols}".replace(" ", ""), *((rows,) if kind == "vector" else shape))]
        options = [lambda: self.pick(pool)] * 4 + [
            lambda: self._ones(shape) if shape != (1, 1) else const(self.pick([1, 2, 3, 0.5, -1])),
            lambda: self.pick(pool).T.T if self.choose(2) else self.pick(pool),
        ]
        if shape == (1, 1):
            options.append(lambda: self.call("scalar", self.pick(["s", "t"] if self.syntax else ["s", "t", "ﬀ", "'''"])))
        elif cols == 1 and rows in (3, 4):
            options.append(lambda: self.call("vector", {3: "x", 4: "w"}[rows], rows))
        elif shape == (3, 3):
            options.append(lambda: self.call("matrix", "S", 3, 3, True))
        if rows == cols:
            options.append(lambda: self.call("eye", rows) * (1 + self.choose(2)))
        if not self.syntax and self.choose(16) == 0:
            return self.call("zeros", rows, cols)
        return self.pick(options)()

    def _ones(self, shape):
        return self.call("ones", *shape) * (1 + self.choose(3))

    def positive(self, e):
        return positive(e)

    def well_conditioned(self, e):
        return well_conditioned(e)

    def build(self, shape, depth):
        if depth <= 0 or self.choose(4) == 0:
            return self.leaf(shape)
        rows, cols = shape
        sub = depth - 1
        b = self.build

        def scalar_divisor():
            return 1 + b((1, 1), sub) ** 2

        options = [
            lambda: b(shape, sub) + b(shape, sub),
            lambda: b(shape, sub) - b(shape, sub),
            lambda: b(shape, sub) + b((1, 1), sub),  # a scalar added to every entry
            lambda: self.pick([2, 0.5, -1]) - b(shape, sub),
            lambda: b(shape, sub) + b(shape, sub) + b(shape, sub),
            lambda: self._sum_with_transpose(shape, sub),
            lambda: -b(shape, sub),
            lambda: b(shape, sub) * b(shape, sub),
            lambda: b((1, 1), sub) * b(shape, sub),
            lambda: b(shape, sub) * self.pick([2, -3, Fraction(1, 3), 0.25]),
            lambda: b((rows, k := self.pick(INNER)), sub) @ b((k, cols), sub),
            lambda: b((rows, k := self.pick(INNER)), sub) @ b((k, 3), sub) @ b((3, cols), sub),
            lambda: b((cols, rows), sub).T,
            lambda: self.call("transpose", b((cols, rows), sub)),
            lambda: self._elementwise(shape, sub),
            lambda: self._power(shape, sub),
            lambda: self.positive(b(shape, sub)) ** self.call("tanh", b((1, 1), sub)),  # X ** s, s a scalar expression
            lambda: b(shape, sub) / scalar_divisor(),
            lambda: b(shape, sub) / self.positive(b(shape, sub)),
            lambda: self.pick([1, 2]) / self.positive(b(shape, sub)),
            lambda: b(shape, sub) / self.pick([2, 4, 0.5, -3]),
            lambda: self.pick([2, 0.5, Fraction(3, 2)]) ** self.call("tanh", b(shape, sub)),
            lambda: self._let(shape, sub),
            lambda: self._let(shape, sub),
        ]
        if rows == cols:
            options += [
                lambda: self.call("inv", self.well_conditioned(b(shape, sub))),
                lambda: self.call("diag", b((rows, 1), sub)),
            ]
            if rows == 3:
                options.append(lambda: self.call("inv", self.pick(self.symmetric()) + 5 * mc.eye(3)))
        if cols == 1 and rows != 1:
            options += [
                lambda: self.call("softmax", b(shape, sub)),
                lambda: self.call("diag", b((rows, rows), sub)),
            ]
        if rows != 1 and cols != 1:  # column by column, and row by row
            options += [
                lambda: self.call("softmax", b(shape, sub)),
                lambda: self.call("softmax", b(shape, sub), axis=1),
                lambda: self.call("logsumexp", b((rows, cols), sub), axis=1) @ b((1, cols), sub),
            ]
        if rows == 1 and cols != 1:  # a row of column logsumexps, or of column means
            options.append(lambda: self.call("logsumexp", b((self.pick(VECTOR_LENGTHS), cols), sub)))
            options.append(lambda: self.call("mean", b((self.pick(VECTOR_LENGTHS), cols), sub), axis=0))
        if cols == 1 and rows != 1:  # a column of row means
            options.append(lambda: self.call("mean", b((rows, self.pick([1, 3, 4])), sub), axis=1))
        if shape == (1, 1):
            options += [
                lambda: self.call("trace", b((3, 3), sub)),
                lambda: self.call("sum", b(self.pick(SHAPES), sub)),
                lambda: self.call("mean", b(self.pick(SHAPES), sub)),
                lambda: self.call("det", self.well_conditioned(b((3, 3), sub))),
                lambda: self.call("logdet", self.well_conditioned(b(self.pick([(3, 3), (3, 4), (N, 1)]), sub))),
                lambda: self.call("logdet", self.pick(self.symmetric()) + 5 * mc.eye(3)),
                lambda: self.call("det", self.pick(self.symmetric()) @ self.pick(self.symbols((3, 3)))),
                lambda: self.call("norm", b(self.pick(SHAPES), sub)),
                lambda: self.call("dot", b((k := self.pick(VECTOR_LENGTHS), 1), sub), b((k, 1), sub)),
                lambda: self.call("logsumexp", b((self.pick(VECTOR_LENGTHS), 1), sub)),
                lambda: self.call("diag", b((1, 1), sub)),
            ]
            if not self.syntax:
                options += [
                    lambda: self.call("frob", b((3, 4), sub), b((3, 4), sub)),
                    lambda: self._kron_dot(sub),
                ]
        if not self.syntax:
            options += [
                lambda: self._kron(shape, sub),
                lambda: self._user(shape, sub),
                lambda: self._user(shape, sub),
                lambda: self._derivative(shape, sub),
                lambda: self.call("simplify", b(shape, sub)),
                lambda: self._vec_forms(shape, sub),
            ]
        return self.pick(options)()

    def symmetric(self) -> list:
        """The symmetric 3×3 variables (entries in [−1.5, 1.5], so S + 5I is positive definite)."""
        return [s for s in self.symbols((3, 3)) if s.is_symmetric]

    # --- the families, drawn one at a time ----------------------------------------------------
    def _sum_with_transpose(self, shape, depth):
        """t + u + tᵀ (square) or t + u + (tᵀ)ᵀ: a three-term sum whose last term transposes its first."""
        t = self.build(shape, depth)
        last = t.T if shape[0] == shape[1] else t.T.T
        return t + self.build(shape, depth) + last

    def _elementwise(self, shape, depth):
        name = self.pick(BUILTIN_ELEMENTWISE)
        argument = self.build(shape, depth)
        if name in ("log", "sqrt"):
            argument = self.positive(argument)
        elif name == "tan":
            argument = self.call("tanh", argument)
        return self.call(name, argument)

    def _power(self, shape, depth):
        exponent = self.pick([2, 3, 0, 1, -1, -2, 0.5, Fraction(1, 3), 1.5, -0.5])
        base = self.build(shape, depth)
        if not (isinstance(exponent, int) and exponent >= 0):
            base = self.positive(base)
        return base**exponent

    def _let(self, shape, depth):
        existing = self.lets.get(shape, [])
        if existing and self.choose(3) == 0:
            return self.pick(existing)  # a let used twice
        name = self.pick(LET_NAMES if not self.syntax else ["h", "z", "g"])
        node = self.call("let", name, self.build(shape, depth))
        self.lets.setdefault(shape, []).append(node)
        return node

    def _user(self, shape, depth):
        name = self.pick([n for n in USER if not (self.avoid_defects and n in AVOIDED_DEFECTS)])
        self.drawn.add("elementwise")
        return USER[name](self.build(shape, depth))

    def _kron(self, shape, depth):
        rows, cols = shape
        b = self.build
        return self.pick([
            lambda: self.call("kron", b((rows, 1), depth), b((1, cols), depth)),
            lambda: self.call("kron", b((1, cols), depth), b((rows, 1), depth)),
            lambda: self.call("kron", b((1, 1), depth), b(shape, depth)),
            lambda: self.call("kron", b(shape, depth), b((1, 1), depth)),
        ])()

    def _kron_dot(self, depth):
        """(a ⊗ b)·(c ⊗ d) with the factors' lengths swapped: a real contraction of two products."""
        p, q = self.pick(VECTOR_LENGTHS), self.pick([3, 4])
        b = self.build
        left = self.call("kron", b((p, 1), depth), b((q, 1), depth))
        right = self.call("kron", b((q, 1), depth), b((p, 1), depth))
        return self.call("dot", left, right)

    def _derivative(self, shape, depth):
        """A derivative of a smaller expression, used as a subexpression."""
        rows, cols = shape
        b = self.build
        inner = max(depth - 1, 0)
        targets = [v for v in self.symbols(shape) if not v.columns_sum_to_one]  # data is not differentiated
        differentiable = [v for v in variables() if not v.columns_sum_to_one]
        options = [lambda: self.call("differential", b(shape, inner), (v := self.pick(differentiable)), b(v.shape, inner))]
        if targets:
            options += [
                lambda: self.call("grad", b((1, 1), inner), self.pick(targets)),
                lambda: self.call("hvp", b((1, 1), inner), (v := self.pick(targets)), b(v.shape, inner)),
            ]
        if cols == 1 and rows in (3, 4) and targets:
            # the gradient of a contraction of Kronecker products: the adjoint of a Kronecker factor
            options.append(lambda: self.call("grad", self.call("dot", self.call("kron", (v := self.pick(targets)), b((4, 1), inner)),
                                                                self.call("kron", b((4, 1), inner), b(v.shape, inner))), v))
        columns = [v for v in differentiable if v.shape == (cols, 1) or (cols == 1 and v.shape == (1, 1))]
        if columns:
            options.append(lambda: self.call("jacobian", b((rows, 1), inner), self.pick(columns)))
            if rows == cols:
                options.append(lambda: self.call("hessian", b((1, 1), inner), self.pick(columns)))
            if rows != 1:  # ∂vec f/∂vec x of a row f: the Jacobian object's matrix, through its Kronecker forms
                options.append(lambda: self.call("jacobian", b((1, rows), inner), self.pick(columns)).matrix)
        return self.pick(options)()

    def _vec_forms(self, shape, depth):
        """vec of a column or a row, and vec⁻¹(K vec(e)) = eᵀ: the vec operations and the commutation matrix."""
        rows, cols = shape
        if cols == 1 and self.choose(2):
            return make(ops.Vec, (self.build(self.pick([(rows, 1), (1, rows)]), depth),))
        transposed = make(ops.Commutation, (), (cols, rows)) @ make(ops.Vec, (self.build((cols, rows), depth),))
        return make(ops.Unvec, (transposed,), shape)


def build(choose, shape=(1, 1), depth=3, syntax: bool = False, avoid_defects: bool = True):
    return Builder(choose, syntax, avoid_defects).build(shape, depth)


def scalar_loss(choose, depth=3, syntax: bool = False, avoid_defects: bool = True):
    """A scalar expression: sum(C ⊙ e) for a random-shaped e, so every output entry counts."""
    builder = Builder(choose, syntax, avoid_defects)
    shape = builder.pick(SHAPES)
    e = builder.build(shape, depth)
    weights = mc.matrix("C", *shape) if shape != (1, 1) else mc.scalar("c")
    return mc.sum(weights * e)


WEIGHT_LABELS = ("C", "c")


def random_values(exprs, seed):
    """Uniform values in [−1.5, 1.5] for every variable (symmetric ones symmetric), and the size of n."""
    from matcalc.numeric.evaluate import symbols_of

    rng = np.random.default_rng(seed)
    values: dict = {N: N_SIZE}
    for symbol in symbols_of(list(exprs)):
        shape = tuple(int(sympy.sympify(d).subs({N: N_SIZE})) for d in symbol.shape)
        value = rng.uniform(-1.5, 1.5, size=shape)
        if symbol.is_symmetric and not symbol.is_scalar:
            value = (value + value.T) / 2
        if symbol.columns_sum_to_one:  # positive columns that sum to one
            value = np.abs(value) + 0.1
            value = value / value.sum(axis=0, keepdims=True)
        values[symbol] = value
    return values


def rng_chooser(rng):
    return lambda k: int(rng.integers(k))
