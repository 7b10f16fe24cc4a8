"""Property-based tests over random well-shaped expressions (see tests/strategies.py).

Every oracle here is independent of the code under test: values come from the plain-NumPy
evaluator in tests/numpy_oracle.py (written in the tests, one NumPy function per operation)
or from each operation's sympy entrywise meaning; gradients from central differences of that
NumPy value, or from sympy's scalar chain rule where differences are too coarse.

Each ``check_*`` function takes an expression and a point and raises AssertionError when
the property fails, ``Unusable`` when the point cannot decide it (a value too large for
finite differences, a kink); benchmarks/fuzz.py runs the same functions on many more
expressions.  The tests are derandomised so CI sees the same examples every run.
"""

from __future__ import annotations

import copy
import html
import inspect
import pickle
import re

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

import matcalc as mc
from matcalc.expr import Const, Identity, Zero
from matcalc.numeric.evaluate import symbols_of
from matcalc.printing.common import postorder
from tests import numpy_oracle
from tests.strategies import (
    N_SIZE,
    NOT_CONSTRUCTORS,
    SHAPES,
    USER,
    USER_FUNCTIONS,
    USER_REFUSED,
    WEIGHT_LABELS,
    Builder,
    N,
    build,
    random_values,
    rng_chooser,
    scalar_loss,
)
from tests.system_packages import debian_program

PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink]  # no explain phase: it reruns a failure for minutes
FUZZ = settings(max_examples=500, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck), phases=PHASES)
SMALL = settings(FUZZ, max_examples=150)
XFAIL = settings(FUZZ, phases=[Phase.generate])  # a known failure: find it, do not shrink it
LARGE = 1e6  # values beyond this make finite differences and tolerances meaningless


class Unusable(Exception):
    """The random point cannot decide the property (values too large, a kink nearby)."""


def chooser(data):
    return lambda k: data.draw(st.integers(0, k - 1))


def generated(make):
    """An expression from the builder; a MatcalcError while building is a refusal, not a failure."""
    try:
        return make()
    except mc.MatcalcError as error:
        assert_clear(error)
        raise Unusable(f"refused while building: {error}") from None


def run(check, *args):
    """Run a check inside a hypothesis test: an unusable point is rejected, not passed."""
    try:
        check(*args)
    except Unusable:
        assume(False)


# --- comparing values ----------------------------------------------------------------------------


def oracle(expr, values) -> np.ndarray:
    return numpy_oracle.value(expr, values)


def usable_value(expr, values) -> np.ndarray:
    """The oracle's value, or Unusable where it is not finite or too large to compare."""
    reference = oracle(expr, values)
    if not np.all(np.isfinite(reference)) or np.max(np.abs(reference), initial=0.0) > LARGE:
        raise Unusable("the value is not finite or too large at this point")
    return reference


def scale_of(expr, values) -> float:
    """The largest magnitude among the expression's intermediate values: cancellation between
    them sets how far two correct computations may differ."""
    nodes = postorder([expr])
    intermediate = numpy_oracle.values_of(nodes, values)
    finite = [np.max(np.abs(v[np.isfinite(v)]), initial=0.0) for v in intermediate]
    return max([1.0, *finite])


def assert_close(actual, expected, expr, values, what: str, rtol: float = 1e-8):
    actual = np.asarray(actual, dtype=float)
    assert actual.size == np.size(expected), f"{what}: shape {actual.shape}, the NumPy oracle's {np.shape(expected)}\n  e = {expr}"
    actual = actual.reshape(np.shape(expected))
    atol = 1e-10 * scale_of(expr, values)
    if np.allclose(actual, expected, rtol=rtol, atol=atol):
        return
    if not stable(expr, values):
        raise Unusable("the value jumps near this point (a kink of abs, sign or relu)")
    worst = np.unravel_index(int(np.argmax(np.abs(actual - expected))), np.shape(expected))
    raise AssertionError(
        f"{what}: entry {tuple(int(i) for i in worst)} is {actual[worst]!r}, the NumPy oracle says {expected[worst]!r}\n"
        f"  e = {expr}"
    )


def stable(expr, values, relative: float = 1e-9) -> bool:
    """Whether the oracle's value barely moves when every entry moves by a relative 1e-9."""
    rng = np.random.default_rng(12345)
    moved = {
        k: (v * (1 + relative * rng.uniform(-1, 1, np.shape(v))) if isinstance(k, mc.Symbol) else v)
        for k, v in values.items()
    }
    for k in moved:
        if isinstance(k, mc.Symbol) and k.is_symmetric and not k.is_scalar:
            moved[k] = (moved[k] + moved[k].T) / 2
    a, b = oracle(expr, values), oracle(expr, moved)
    return bool(np.allclose(a, b, rtol=1e-6, atol=1e-6 * max(1.0, float(np.max(np.abs(a), initial=0.0)))))


def arguments_for(function, symbols, values):
    """Positional values and the keyword sizes a compiled function asks for."""
    keywords = {
        name: N_SIZE
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY and name != "out"
    }
    return [values[s] for s in symbols], keywords


# --- the properties ------------------------------------------------------------------------------


def finite_difference_gradient(loss, variable, values, step=1e-6) -> np.ndarray:
    """∂loss/∂variable by central differences of the NumPy oracle; a symmetric variable moves
    (i, j) and (j, i) together and gets the gradient within symmetric matrices, sym(G)."""
    base = np.asarray(values[variable], dtype=float)
    result = np.zeros_like(base)
    symmetric = variable.is_symmetric and not variable.is_scalar
    for index in np.ndindex(base.shape):
        if symmetric and index[0] > index[1]:
            continue
        h = step * max(1.0, abs(base[index]))
        direction = np.zeros_like(base)
        direction[index] = 1.0
        off_diagonal = symmetric and index[0] != index[1]
        if off_diagonal:
            direction[index[::-1]] = 1.0
        plus = oracle(loss, {**values, variable: base + h * direction})[0, 0]
        minus = oracle(loss, {**values, variable: base - h * direction})[0, 0]
        result[index] = (plus - minus) / (2 * h) / (2 if off_diagonal else 1)
        if off_diagonal:
            result[index[::-1]] = result[index]
    return result


def differentiable_variables(loss, limit=3) -> list:
    """Up to ``limit`` variables of the loss (not the weights, nor data whose columns sum to
    one, which matcalc does not differentiate), symmetric ones first."""
    candidates = [s for s in symbols_of([loss]) if s.label not in WEIGHT_LABELS and not s.columns_sum_to_one]
    candidates.sort(key=lambda s: not (s.is_symmetric and not s.is_scalar))
    return candidates[:limit]


def check_gradient(loss, values):
    """The simplified gradient, evaluated by the NumPy oracle, equals finite differences of the
    oracle's loss (or, where those are too coarse, sympy's elementwise chain rule)."""
    from matcalc.numeric.check import elementwise_chain_rule

    usable_value(loss, values)
    variables = differentiable_variables(loss)
    if not variables:
        raise Unusable("the loss has no variable")
    gradients = mc.grad(loss, variables)
    for variable, gradient in zip(variables, gradients):
        assert gradient.shape == variable.shape, f"∂ℓ/∂{variable.label} has shape {gradient.shape}, {variable.label} {variable.shape}"
        actual = oracle(gradient, values)
        expected = finite_difference_gradient(loss, variable, values)
        scale = max(1.0, float(np.max(np.abs(expected))))
        if np.all(np.isfinite(actual)) and float(np.max(np.abs(actual - expected))) <= 1e-4 * scale:
            continue
        try:  # finite differences fail on steep losses and at kinks: the exact oracle decides
            (exact,) = elementwise_chain_rule(loss, [variable], values, {N: N_SIZE})
        except (RecursionError, mc.MatcalcError, TypeError, ValueError) as error:
            raise Unusable(f"finite differences disagree and the elementwise oracle cannot run: {error}") from None
        exact_scale = max(1.0, float(np.max(np.abs(exact))))
        if not (np.all(np.isfinite(actual)) and np.allclose(actual, exact, rtol=1e-6, atol=1e-8 * exact_scale)):
            worst = np.unravel_index(int(np.argmax(np.abs(actual - exact))), exact.shape)
            raise AssertionError(
                f"∂ℓ/∂{variable.label}{list(worst)}: the gradient gives {actual[worst]!r}, sympy's chain rule "
                f"{exact[worst]!r} (finite differences {expected[worst]!r})\n  ℓ = {loss}\n  ∂ℓ/∂{variable.label} = {gradient}"
            )


def _directional_derivative(expr, variable, direction, values, h):
    """(e(v + hV) − e(v − hV)) / 2h by the NumPy oracle."""
    base = np.asarray(values[variable], dtype=float)
    plus = oracle(expr, {**values, variable: base + h * direction})
    minus = oracle(expr, {**values, variable: base - h * direction})
    return (plus - minus) / (2 * h)


def _extrapolated(expr, variable, direction, values, h):
    """Central differences at h and h/2, combined by Richardson extrapolation (error O(h⁴))."""
    coarse = _directional_derivative(expr, variable, direction, values, h)
    fine = _directional_derivative(expr, variable, direction, values, h / 2)
    return (4 * fine - coarse) / 3


def _richardson(expr, variable, direction, values):
    """A directional derivative by Richardson extrapolation, its step shrunk tenfold until two
    steps agree (a function of strong curvature needs a small one; fuzz seed 205853), or
    Unusable where none do (a steep or kinked function)."""
    h = 1e-3 * max(1.0, float(np.max(np.abs(values[variable]))))
    previous = _extrapolated(expr, variable, direction, values, h)
    for _ in range(3):
        h /= 10
        estimate = _extrapolated(expr, variable, direction, values, h)
        scale = max(1.0, float(np.max(np.abs(estimate))))
        if not (np.all(np.isfinite(previous)) and np.all(np.isfinite(estimate))):
            break
        if np.max(np.abs(estimate - previous)) <= 1e-7 * scale:
            return estimate, scale
        previous = estimate
    raise Unusable("finite differences of the gradient are not converging here")


def check_second_order(loss, values):
    """hvp(ℓ, v, V) is the derivative of ∇ℓ along V; hessian(ℓ, x) its matrix for a vector x;
    jacobian(∇ℓ, x) the same matrix (numerator layout), each by finite differences of the oracle's ∇ℓ."""
    usable_value(loss, values)
    variables = differentiable_variables(loss, limit=2)
    if not variables:
        raise Unusable("the loss has no variable")
    rng = np.random.default_rng(2024)
    for variable in variables:
        gradient = mc.grad(loss, variable)
        usable_value(gradient, values)
        direction = rng.uniform(-1, 1, np.shape(values[variable]))
        if variable.is_symmetric and not variable.is_scalar:
            direction = (direction + direction.T) / 2
        v = mc.matrix("V_direction", *variable.shape) if variable.shape[1] != 1 else mc.vector("V_direction", variable.shape[0])
        if variable.is_scalar:
            v = mc.scalar("V_direction")
        if variable.is_symmetric and not variable.is_scalar:
            v = mc.matrix("V_direction", *variable.shape, symmetric=True)
        expected, scale = _richardson(gradient, variable, direction, values)
        try:
            product = mc.hvp(loss, variable, v)
        except mc.DifferentiationError:
            raise Unusable("hvp refused") from None
        actual = oracle(product, {**values, v: direction})
        if not np.allclose(actual, expected, rtol=1e-5, atol=1e-5 * scale):
            raise AssertionError(f"hvp(ℓ, {variable.label}, V) differs from the derivative of ∇ℓ along V by "
                                 f"{np.max(np.abs(actual - expected)):.3g}\n  ℓ = {loss}\n  hvp = {product}")
        if variable.shape[1] != 1:
            continue
        for name, make in (("hessian", lambda: mc.hessian(loss, variable)), ("jacobian of ∇ℓ", lambda: mc.jacobian(gradient, variable))):
            try:
                matrix = make()
            except mc.DifferentiationError:
                continue
            actual = oracle(matrix, values) @ direction.reshape(-1, 1)
            if not np.allclose(actual, expected, rtol=1e-5, atol=1e-5 * scale):
                raise AssertionError(f"{name}(ℓ, {variable.label}) V differs from the derivative of ∇ℓ along V by "
                                     f"{np.max(np.abs(actual - expected)):.3g}\n  ℓ = {loss}\n  {name} = {matrix}")


def check_simplify(expr, values):
    """simplify keeps the value (both sides evaluated by the NumPy oracle)."""
    reference = usable_value(expr, values)
    simplified = mc.simplify(expr)
    assert simplified.shape == expr.shape
    assert_close(oracle(simplified, values), reference, expr, values, f"simplify changed the value to {simplified}", rtol=1e-7)


def check_evaluate(expr, values):
    """evaluate and lambdify (fresh arrays and stale out= buffers) give the oracle's value."""
    reference = usable_value(expr, values)
    assert_close(mc.evaluate(expr, values), reference, expr, values, "evaluate")
    simplified = mc.simplify(expr)
    simplified_reference = oracle(simplified, values).T
    symbols = symbols_of([expr, simplified])
    function = mc.lambdify(symbols, [expr, simplified.T])
    arguments, keywords = arguments_for(function, symbols, values)
    compiled, transposed = function(*arguments, **keywords)
    assert_close(compiled, reference, expr, values, "lambdify")
    assert_close(transposed, simplified_reference, simplified, values, "lambdify (the simplified form, transposed)")
    buffers = tuple(None if e.is_scalar else np.full(np.shape(r), np.nan) for e, r in ((expr, compiled), (simplified.T, transposed)))
    again = function(*arguments, **keywords, out=buffers)
    assert_close(again[0], reference, expr, values, "lambdify into stale out= buffers")
    assert_close(again[1], simplified_reference, simplified, values, "lambdify into stale out= buffers (second output)")


def check_exported_source(expr, values):
    """to_numpy_source (and to_source for NumPy), run as a module, gives the oracle's value."""
    reference = usable_value(expr, values)
    symbols = symbols_of([expr])
    sources = {"to_numpy_source": mc.to_numpy_source(symbols, expr, name="exported")}
    if hasattr(mc, "to_source"):
        sources["to_source(backend='numpy')"] = mc.to_source(symbols, expr, backend="numpy", name="exported")
    for how, source in sources.items():
        namespace: dict = {"__name__": "exported_by_matcalc"}
        exec(compile(source, f"<{how}>", "exec"), namespace)  # noqa: S102 - the point of the test
        function = namespace["exported"]
        arguments, keywords = arguments_for(function, symbols, values)
        assert_close(function(*arguments, **keywords), reference, expr, values, how)


def check_gradient_evaluation(loss, values):
    """lambdify([variables], [ℓ, ∇ℓ…]), the usual training-loop call, gives the oracle's values."""
    usable_value(loss, values)
    variables = differentiable_variables(loss)
    if not variables:
        raise Unusable("the loss has no variable")
    gradients = mc.grad(loss, variables)
    references = [usable_value(g, values) for g in gradients]
    symbols = symbols_of([loss, *gradients])
    function = mc.lambdify(symbols, [loss, *gradients])
    arguments, keywords = arguments_for(function, symbols, values)
    results = function(*arguments, **keywords)
    assert_close(results[0], oracle(loss, values), loss, values, "lambdify: ℓ")
    for variable, gradient, result, reference in zip(variables, gradients, results[1:], references):
        assert_close(result, reference, gradient, values, f"lambdify: ∂ℓ/∂{variable.label} = {gradient}")
        assert_close(mc.evaluate(gradient, values), reference, gradient, values, f"evaluate: ∂ℓ/∂{variable.label} = {gradient}")


COPIES = (
    ("pickle", lambda e: pickle.loads(pickle.dumps(e))),
    ("pickle protocol 2", lambda e: pickle.loads(pickle.dumps(e, protocol=2))),  # sympy dims need 2 or higher
    ("copy.deepcopy", copy.deepcopy),
    ("copy.copy", copy.copy),
)


def check_copies(expr, values):
    """pickle and copy.deepcopy give back the very interned expression, with the same gradient;
    a pickled compiled function computes the oracle's value."""
    for how, copied in COPIES:
        twin = copied(expr)
        assert twin is expr, f"{how} gave a second node equal to the first: {twin!r} is not {expr!r}"
        if expr.is_scalar:
            for variable in differentiable_variables(expr, limit=2):
                assert mc.grad(twin, variable) is mc.grad(expr, variable), f"{how}: the gradient wrt {variable.label} differs"
    try:
        reference = usable_value(expr, values)
    except Unusable:
        return
    symbols = symbols_of([expr])
    function = pickle.loads(pickle.dumps(mc.lambdify(symbols, expr)))
    arguments, keywords = arguments_for(function, symbols, values)
    assert_close(function(*arguments, **keywords), reference, expr, values, "a pickled lambdify")


def check_copy_difference(expr, values):
    """simplify(p − e) is 0 for a copy p of e."""
    for how, copied in COPIES:
        difference = mc.simplify(copied(expr) - expr)
        zero = isinstance(difference, Zero) or (isinstance(difference, Const) and difference.value == 0)
        assert zero, f"{how}: simplify(p − e) = {difference}, not 0"


def check_syntax_round_trip(expr, values):
    """mc.parse(mc.to_syntax(e)) has the value of e (variables matched by name), or to_syntax
    refuses with a clear MatcalcError."""
    reference = usable_value(expr, values)
    try:
        text = mc.to_syntax(expr)
    except mc.MatcalcError as error:
        assert_clear(error)
        raise Unusable("to_syntax cannot write this expression") from None
    symbols = symbols_of([expr])
    types = {s.label: "symmetric" if s.is_symmetric and not s.is_scalar else s.kind for s in symbols}
    parsed = mc.parse(text, **types)
    by_label = {s.label: values[s] for s in symbols}
    missing = [s.label for s in symbols_of([parsed]) if s.label not in by_label]
    assert not missing, f"parse(to_syntax(e)) has variables {missing} that e does not have\n  text: {text}"
    parsed_values = {s: by_label[s.label] for s in symbols_of([parsed])}
    try:
        oracle(parsed, parsed_values)
    except numpy_oracle.UnknownSize:
        raise Unusable("a size that no variable fixes (eye, vector(1)) is inferred by parse, not written") from None
    assert_close(oracle(parsed, parsed_values), reference, expr, values, f"parse(to_syntax(e)), text {text!r}, gives {parsed}", rtol=1e-7)
    if symbols_of([parsed]):
        assert_close(mc.evaluate(parsed, by_label), reference, expr, values, f"evaluate(parse(to_syntax(e))), text {text!r}", rtol=1e-7)


def assert_clear(error):
    """A clear error: a MatcalcError whose message is one line, a ParseError with a position,
    or a message located in the text (a first line ending '(line L, column C)', the line, a caret)."""
    assert isinstance(error, mc.MatcalcError), f"{type(error).__name__} is not a MatcalcError: {error}"
    message = str(error)
    assert message.strip(), f"{type(error).__name__} with an empty message"
    lines = message.split("\n")
    if len(lines) == 1:
        return
    located = re.search(r"\(line \d+, column \d+\)$", lines[0]) and len(lines) == 3 and lines[2].strip() == "^"
    assert located, f"{type(error).__name__}: a message of {len(lines)} lines with no position: {message!r}"
    if isinstance(error, mc.ParseError):
        assert error.position is not None and error.line is not None and error.column is not None


# --- the tests -------------------------------------------------------------------------------------

def check_sympy_round_trip(expr, values):
    """mc.from_sympy(mc.to_sympy(e)) has the value of e (variables matched by name, symmetric
    ones declared), or to_sympy refuses with a clear MatcalcError."""
    reference = usable_value(expr, values)
    try:
        written = mc.to_sympy(expr)
    except mc.MatcalcError as error:
        assert_clear(error)
        raise Unusable("SymPy has no counterpart for an operation here") from None
    symbols = symbols_of([expr])
    kept = {m.name for m in written.atoms(sympy.MatrixSymbol)}  # SymPy may cancel a variable away (S − S)
    read = mc.from_sympy(written, symmetric=[s.label for s in symbols if s.is_symmetric and s.label in kept])
    by_label = {**{s.label: values[s] for s in symbols if s.label in read.variables}, N: N_SIZE}
    assert_close(mc.evaluate(read, by_label), reference, expr, values, f"from_sympy(to_sympy(e)) = {read}, from {written}")


def check_drawing(expr, values):
    """mc.draw of the expression, and of a loss's derivation, renders with graphviz's dot, and
    every variable's name, however hostile, appears in the picture as written."""
    assert debian_program("dot", "graphviz") is not None, "graphviz's dot is not installed: apt-get install graphviz"
    subjects = [expr]
    if expr.is_scalar:
        variables = differentiable_variables(expr, limit=2)
        if variables:
            subjects.append(mc.derive(expr, variables))
    for subject in subjects:
        picture = mc.draw(subject)
        shown = html.unescape(re.sub(r"<[^>]+>", "", picture.svg())).replace("\u2060", "")  # dot's text, no word joiners
        if picture.note:  # layers were collapsed into one box: their names are not drawn
            continue
        for symbol in symbols_of([expr]):
            assert mc.text(symbol) in shown, f"the picture of {expr} lost the name {mc.text(symbol)!r}"



def test_the_numpy_oracle_has_a_rule_for_every_operation():
    missing = {cls.__name__ for cls in numpy_oracle.operation_classes()} - {cls.__name__ for cls in numpy_oracle.RULES}
    assert not missing, f"add NumPy rules for {sorted(missing)} to tests/numpy_oracle.py"
    from matcalc.ops.elementwise import FUNCTIONS

    assert set(FUNCTIONS) <= set(numpy_oracle.ELEMENTWISE), "every built-in elementwise function has a NumPy rule"


def test_the_builder_draws_every_operation():
    """Every operation class in matcalc.ops and every constructor in mc.__all__ enters the corpus."""
    from matcalc.expr import Const, Let, Ones, Symbol

    classes = numpy_oracle.operation_classes() | {Symbol, Const, Identity, Ones, Zero, Let}
    constructors = set(mc.__all__) - NOT_CONSTRUCTORS
    seen_classes, seen_functions = set(), set()
    from matcalc.ops.elementwise import FUNCTIONS

    seen_elementwise = set()
    for seed in range(3000):
        rng = np.random.default_rng(seed)
        builder = Builder(rng_chooser(rng), avoid_defects=False)
        try:
            expr = builder.build(SHAPES[seed % len(SHAPES)], 3)
        except mc.MatcalcError:
            continue
        nodes = postorder([expr])
        seen_classes |= {type(node) for node in nodes}
        seen_functions |= builder.drawn
        seen_elementwise |= {node.function.name for node in nodes if isinstance(node, mc.ops.Elementwise)}
        if classes <= seen_classes and constructors <= seen_functions and set(FUNCTIONS) | set(USER) <= seen_elementwise:
            break
    assert not classes - seen_classes, f"never drawn: {sorted(c.__name__ for c in classes - seen_classes)}"
    assert not constructors - seen_functions, (
        f"never drawn: mc.{sorted(constructors - seen_functions)}; draw it in tests/strategies.py "
        "(or, if it builds no expression, list it in strategies.NOT_CONSTRUCTORS)"
    )
    assert not (set(FUNCTIONS) | set(USER)) - seen_elementwise, f"never drawn: {sorted((set(FUNCTIONS) | set(USER)) - seen_elementwise)}"


def test_user_functions_with_colliding_names_are_kept_apart_or_refused_clearly():
    """f' and f_prime, f'' and f_prime_prime, ﬀ and ff, ｆ and f: each accepted function
    computes its own formula and derivative; a refused one says which name it collides with."""
    for name, error in USER_REFUSED.items():
        assert_clear(error)
        assert repr(name) in str(error), f"the refusal of {name!r} does not name it: {error}"
    x = mc.vector("x", 3)
    values = {x: np.array([0.3, -0.7, 1.1])}
    functions = list(USER.values())
    loss = mc.sum(functions[0](x))
    for f in functions[1:]:
        loss = loss + mc.sum(f(x))
    expected = sum(np.sum(USER_FUNCTIONS[name][1](values[x])) for name in USER)
    assert mc.evaluate(loss, values) == pytest.approx(expected, rel=1e-12)
    gradient = mc.grad(loss, x)
    exact = sum(np.array([float(sympy.diff(USER_FUNCTIONS[name][0], sympy.Symbol("u")).subs(sympy.Symbol("u"), v))
                          for v in values[x]]) for name in USER).reshape(3, 1)
    np.testing.assert_allclose(mc.evaluate(gradient, values), exact, rtol=1e-12)
    # each function beside its own derivative and the other's: f_prime(x) + f'(x), f_prime_prime(x) + f''(x)
    for name in ("f_prime", "f_prime_prime"):
        if name in USER and "f" in USER:
            derivative = mc.grad(mc.sum(USER["f"](x)), x) if name == "f_prime" else mc.hessian(mc.sum(USER["f"](x)), x) @ mc.ones(3)
            mixed = USER[name](x) + derivative
            f_formula = USER_FUNCTIONS["f"][0]
            order = 1 if name == "f_prime" else 2
            u = sympy.Symbol("u")
            want = USER_FUNCTIONS[name][1](values[x]) + np.array([float(sympy.diff(f_formula, u, order).subs(u, v)) for v in values[x]])
            np.testing.assert_allclose(mc.evaluate(mixed, values).ravel(), want, rtol=1e-12, err_msg=f"{name}(x) + f{chr(39) * order}(x)")
            function = mc.lambdify([x], mixed)
            np.testing.assert_allclose(function(values[x]).ravel(), want, rtol=1e-12, err_msg=f"lambdify {name}(x) + f{chr(39) * order}(x)")


@pytest.mark.parametrize("form", ["A + B + Aᵀ", "Aᵀ + B + A", "A + Aᵀ + B", "(A + B + Aᵀ)x", "sum(A + B + Aᵀ)"])
def test_a_three_term_sum_with_a_transposed_term_has_its_value(form):
    """A sum whose last term transposes its first (the generated code once overwrote A before
    reading Aᵀ), through evaluate, lambdify and lambdify into out= buffers."""
    A, B, x = mc.matrix("A", 3, 3), mc.matrix("B", 3, 3), mc.vector("x", 3)
    rng = np.random.default_rng(0)
    values = {A: rng.normal(size=(3, 3)), B: rng.normal(size=(3, 3)), x: rng.normal(size=(3, 1))}
    a, b, v = values[A], values[B], values[x]
    expr, expected = {
        "A + B + Aᵀ": (A + B + A.T, a + b + a.T),
        "Aᵀ + B + A": (A.T + B + A, a.T + b + a),
        "A + Aᵀ + B": (A + A.T + B, a + a.T + b),
        "(A + B + Aᵀ)x": ((A + B + A.T) @ x, (a + b + a.T) @ v),
        "sum(A + B + Aᵀ)": (mc.sum(A + B + A.T), np.sum(a + b + a.T)),
    }[form]
    np.testing.assert_allclose(mc.evaluate(expr, values), expected, rtol=1e-12)
    function = mc.lambdify([A, B, x], [expr, mc.grad(mc.sum(expr * expr), A)])
    value, gradient = function(a, b, v)
    np.testing.assert_allclose(value, expected, rtol=1e-12)
    np.testing.assert_allclose(gradient, oracle(mc.grad(mc.sum(expr * expr), A), values), rtol=1e-12)
    buffers = (None if expr.is_scalar else np.full(np.shape(expected), np.nan), np.full((3, 3), np.nan))
    value, gradient = function(a, b, v, out=buffers)
    np.testing.assert_allclose(value, expected, rtol=1e-12)


@FUZZ
@given(st.data())
def test_simplified_gradient_equals_finite_differences(data):
    loss = generated(lambda: scalar_loss(chooser(data)))
    run(check_gradient, loss, random_values([loss], seed=0))


@FUZZ
@given(st.data())
def test_evaluated_gradients_equal_the_numpy_oracle(data):
    loss = generated(lambda: scalar_loss(chooser(data)))
    run(check_gradient_evaluation, loss, random_values([loss], seed=3))


@SMALL
@given(st.data())
def test_hvp_hessian_and_jacobian_equal_finite_differences_of_the_gradient(data):
    loss = generated(lambda: scalar_loss(chooser(data)))
    run(check_second_order, loss, random_values([loss], seed=8))


@FUZZ
@given(st.data(), st.sampled_from(SHAPES))
def test_simplification_keeps_the_value(data, shape):
    expr = generated(lambda: build(chooser(data), shape, depth=3))
    run(check_simplify, expr, random_values([expr], seed=1))


@FUZZ
@given(st.data(), st.sampled_from(SHAPES))
def test_evaluate_and_lambdify_equal_the_numpy_oracle(data, shape):
    expr = generated(lambda: build(chooser(data), shape, depth=3))
    run(check_evaluate, expr, random_values([expr], seed=1))


@SMALL
@given(st.data(), st.sampled_from(SHAPES))
def test_exported_source_equals_the_numpy_oracle(data, shape):
    expr = generated(lambda: build(chooser(data), shape, depth=3))
    run(check_exported_source, expr, random_values([expr], seed=4))


@SMALL
@given(st.data(), st.sampled_from([(3, 3), (3, 4), (3, 1), (1, 1), (N, 1)]))
def test_evaluate_equals_the_entrywise_meaning_of_every_operation(data, shape):
    """evaluate and the NumPy oracle both agree with each operation's sympy entrywise meaning."""
    from matcalc.numeric.check import _as_sympy_matrix, entrywise_value

    expr = generated(lambda: build(chooser(data), shape, depth=2))
    values = random_values([expr], seed=2)
    try:
        reference_numpy = usable_value(expr, values)
    except Unusable:
        assume(False)
    bindings = {s: _as_sympy_matrix(np.atleast_2d(np.asarray(values[s], dtype=float))) for s in symbols_of([expr])}
    reference = np.array(entrywise_value(expr, bindings, {N: N_SIZE}).evalf(), dtype=float)
    run(assert_close, reference_numpy, reference, expr, values, "the NumPy oracle against the entrywise meaning", 1e-7)
    run(assert_close, mc.evaluate(expr, values), reference, expr, values, "evaluate against the entrywise meaning", 1e-7)


@FUZZ
@given(st.data(), st.sampled_from(SHAPES))
def test_pickle_and_deepcopy_give_the_same_expression(data, shape):
    expr = generated(lambda: build(chooser(data), shape, depth=3))
    run(check_copies, expr, random_values([expr], seed=5))


@FUZZ
@given(st.data(), st.sampled_from(SHAPES))
def test_simplify_of_an_expression_minus_its_copy_is_zero(data, shape):
    expr = generated(lambda: build(chooser(data), shape, depth=3))
    check_copy_difference(expr, random_values([expr], seed=5))


@FUZZ
@given(st.data(), st.sampled_from(SHAPES))
def test_printed_form_parses_back_to_the_same_value(data, shape):
    """parse(to_syntax(e)) evaluates to the value of e, over the operations the syntax writes."""
    expr = generated(lambda: build(chooser(data), shape, depth=3, syntax=True))
    run(check_syntax_round_trip, expr, random_values([expr], seed=6))


@FUZZ
@given(st.data(), st.sampled_from(SHAPES))
def test_to_syntax_of_any_expression_round_trips_or_refuses_clearly(data, shape):
    expr = generated(lambda: build(chooser(data), shape, depth=3))
    run(check_syntax_round_trip, expr, random_values([expr], seed=7))


@SMALL
@given(st.data(), st.sampled_from(SHAPES))
def test_sympy_round_trip_keeps_the_value_or_refuses_clearly(data, shape):
    expr = generated(lambda: build(chooser(data), shape, depth=3))
    run(check_sympy_round_trip, expr, random_values([expr], seed=8))


@SMALL
@given(st.data())
def test_drawings_render_with_every_name_shown(data):
    loss = generated(lambda: scalar_loss(chooser(data), depth=3))
    run(check_drawing, loss, random_values([loss], seed=9))


# --- defects the fuzz found, reduced ----------------------------------------------------------------------


def _round_trip_value(expr, values, **types):
    text = mc.to_syntax(expr)
    parsed = mc.parse(text, **types)
    by_label = {s.label: v for s, v in values.items() if s.label in parsed.variables}
    return mc.evaluate(parsed, by_label)


def test_to_syntax_keeps_the_size_of_a_one_by_one_identity():
    A = mc.matrix("A", 3, 3)
    values = {A: np.arange(9.0).reshape(3, 3)}
    np.testing.assert_allclose(_round_trip_value(A + mc.eye(1), values), values[A] + 1)  # 'A + eye' → A + I


def test_to_syntax_writes_negative_ones_that_parse():
    x = mc.vector("x", 3)
    values = {x: np.array([1.0, 2.0, 3.0])}
    np.testing.assert_allclose(_round_trip_value(-1 - x, values).ravel(), -1 - values[x])
    np.testing.assert_allclose(_round_trip_value(x * (mc.ones(3) * -1), values).ravel(), -values[x])


def test_to_syntax_writes_rows_of_ones_that_parse():
    x, w = mc.vector("x", 3), mc.vector("w", 4)
    values = {x: np.array([1.0, 2.0, 3.0]), w: np.array([1.0, -1.0, 2.0, 0.5])}
    np.testing.assert_allclose(_round_trip_value(x @ mc.ones(1, 4) @ w, values).ravel(), values[x] * values[w].sum())
    np.testing.assert_allclose(_round_trip_value(mc.sum(x.T + 0.5), values), np.sum(values[x] + 0.5))
