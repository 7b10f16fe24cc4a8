"""Regression tests for the defects an adversarial audit found (issue 12): each reproducer,
asserted against a value computed here, independently of matcalc (NumPy written in the test,
scipy, finite differences of that NumPy code, or a textbook value)."""

from __future__ import annotations

import ast
import copy
import math
import pickle
import re
import subprocess
import sys

import numpy as np
import pytest
import scipy.special
import sympy

import matcalc as mc

u = sympy.Symbol("u")


def numpy_gradient(f, value, step=1e-6, symmetric=False):
    """Central differences of the plain-NumPy function f; symmetric: (i, j) and (j, i) move
    together and the result is the gradient within symmetric matrices."""
    value = np.asarray(value, dtype=float)
    result = np.zeros_like(value)
    for index in np.ndindex(value.shape):
        direction = np.zeros_like(value)
        direction[index] = 1.0
        off_diagonal = symmetric and index[0] != index[1]
        if off_diagonal:
            direction[index[::-1]] = 1.0
        derivative = (f(value + step * direction) - f(value - step * direction)) / (2 * step)
        result[index] = derivative / 2 if off_diagonal else derivative
    return result


# --- 1. a wrong gradient for a symmetric variable: generated code overwrote a buffer that a
#        later term of the same sum still read through a transpose -------------------------------


def test_the_audits_symmetric_gradient_is_right():
    n = 3
    S = mc.matrix("S", n, n, symmetric=True)
    A, x, s = mc.matrix("A", n, n), mc.vector("x", n), mc.scalar("s")
    M = mc.sigmoid(s.T * A) + mc.diag(mc.ones(n) + x)
    loss = mc.frob(mc.abs(S.T), M * mc.abs(S.T - mc.inv(S @ S.T + 3 * mc.eye(n))))
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(n, n))
    S0, A0, x0, s0 = (raw + raw.T) / 2, rng.normal(size=(n, n)), rng.normal(size=(n, 1)), rng.normal()

    def plain(S_):
        M_ = 1 / (1 + np.exp(-s0 * A0)) + np.diag(1 + x0.ravel())
        return np.sum(np.abs(S_.T) * M_ * np.abs(S_.T - np.linalg.inv(S_ @ S_.T + 3 * np.eye(n))))

    expected = numpy_gradient(plain, S0, symmetric=True)
    actual = mc.evaluate(mc.grad(loss, S), {S: S0, A: A0, x: x0, s: s0})
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-6)
    assert mc.check(loss, S).ok


def test_a_sum_whose_last_term_is_a_view_of_its_first_is_computed_right():
    X, Y = mc.matrix("X", 3, 3), mc.matrix("Y", 3, 3)
    first = mc.tanh(X)  # a temporary the sum may overwrite, and a transpose of it read later
    f = mc.lambdify([X, Y], first + 2 * Y + first.T)
    X0, Y0 = np.arange(9.0).reshape(3, 3) / 9, np.ones((3, 3))
    np.testing.assert_allclose(f(X0, Y0), np.tanh(X0) + 2 * Y0 + np.tanh(X0).T)


# --- 2. generated helper names for user functions ------------------------------------------------


def test_user_functions_with_colliding_helper_names_stay_apart():
    x = mc.vector("x", 3)
    cube = mc.elementwise("cube_c2", sympy.Lambda(u, u**3))
    cube_prime = mc.elementwise("cube_c2_prime", sympy.Lambda(u, sympy.sin(u)))  # f' of cube is "cube_c2'"
    loss = mc.sum(cube(x)) + mc.sum(cube_prime(x))
    x0 = np.array([0.3, -1.2, 2.0])
    f = mc.lambdify([x], [loss, mc.grad(loss, x)])
    value, gradient = f(x0)
    assert value == pytest.approx(np.sum(x0**3) + np.sum(np.sin(x0)))
    np.testing.assert_allclose(gradient.ravel(), 3 * x0**2 + np.cos(x0))
    source = mc.to_numpy_source([x], [loss, mc.grad(loss, x)])
    namespace: dict = {}
    exec(source, namespace)  # noqa: S102 - our own generated source, under test
    np.testing.assert_allclose(namespace["f"](x0)[1].ravel(), 3 * x0**2 + np.cos(x0))


def test_names_equal_after_nfkc_normalisation_are_refused():
    mc.elementwise("ﬀ_lig", sympy.Lambda(u, u**2))  # the ligature ﬀ
    with pytest.raises(mc.OperandError, match="NFKC"):
        mc.elementwise("ff_lig", sympy.Lambda(u, u**4))


def test_a_name_defined_twice_with_another_formula_is_refused():
    mc.elementwise("twice_defined", sympy.Lambda(u, u**2))
    assert mc.elementwise("twice_defined", sympy.Lambda(u, u * u)) is not None  # the same formula
    with pytest.raises(mc.OperandError, match="another formula"):
        mc.elementwise("twice_defined", sympy.Lambda(u, u**3))


# --- 3. copies and pickles are the interned nodes ------------------------------------------------


def test_pickled_copied_and_deep_copied_expressions_are_the_same_nodes():
    x, A = mc.vector("x", 3), mc.matrix("A", 3, 3)
    e = x.T @ A @ x
    for clone in (pickle.loads(pickle.dumps(e)), copy.copy(e), copy.deepcopy(e)):
        assert clone is e
        x0, A0 = np.array([1.0, 2.0, -1.0]), np.arange(9.0).reshape(3, 3)
        np.testing.assert_allclose(mc.evaluate(mc.grad(clone, x), {x: x0, A: A0}).ravel(), (A0 + A0.T) @ x0)


def test_a_deep_expression_pickles_without_recursion():
    x, W = mc.vector("x", 2), mc.matrix("W", 2, 2)
    h = x
    for _ in range(5000):
        h = mc.tanh(W @ h)
    assert pickle.loads(pickle.dumps(h)) is h


def test_user_functions_compiled_functions_and_derivations_round_trip():
    x = mc.vector("x", 3)
    bump = mc.elementwise("bump_p", sympy.Lambda(u, sympy.exp(-(u**2))))
    loss = mc.sum(bump(x))
    assert pickle.loads(pickle.dumps(loss)) is loss
    assert pickle.loads(pickle.dumps(mc.grad(loss, x))) is mc.grad(loss, x)
    f = mc.lambdify([x], [loss, mc.grad(loss, x)])
    g = pickle.loads(pickle.dumps(f))
    x0 = np.array([0.1, -0.7, 1.3])
    value, gradient = g(x0)
    assert value == pytest.approx(np.sum(np.exp(-(x0**2))))
    np.testing.assert_allclose(gradient.ravel(), -2 * x0 * np.exp(-(x0**2)))
    d = pickle.loads(pickle.dumps(mc.derive(loss, x)))
    assert d.gradient is mc.grad(loss, x)


# --- 4. nodes are immutable ---------------------------------------------------------------------------


def test_nodes_refuse_assignment_and_deletion():
    x, y = mc.vector("x", 3), mc.vector("y", 3)
    t = mc.tanh(x)
    with pytest.raises(mc.OperandError, match="immutable"):
        t.args = (y,)
    with pytest.raises(mc.OperandError, match="immutable"):
        del t.shape
    assert mc.tanh(x).args == (x,)


# --- 5. no user text reaches generated code except as an escaped literal -------------------------------


@pytest.mark.parametrize(
    "name",
    ['x"""; __import__("os").system("touch pwned"); """', "x'''; import os; '''", "a\\b", "x\\", 'q"', "λ", "W₁", "ﬀ"],
)
def test_hostile_names_reach_exported_source_only_as_escaped_text(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    x = mc.vector(name, 3)
    loss = mc.sum(x * x)
    source = mc.to_numpy_source([x], [loss, mc.grad(loss, x)])
    assert name in ast.get_docstring(ast.parse(source))
    namespace: dict = {}
    exec(source, namespace)  # noqa: S102 - our own generated source, under test
    assert namespace["check_f"](np.array([1.0, 2.0, 3.0])) < 1e-6
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["step", "rtol", "max", "abs", "list", "float", "np", "out"])
def test_variables_named_like_the_generated_codes_own_names_work(name):
    v = mc.vector(name, 3)
    loss = mc.sum(mc.sin(v))
    namespace: dict = {}
    exec(mc.to_numpy_source([v], [loss, mc.grad(loss, v)], name="g"), namespace)  # noqa: S102
    v0 = np.array([0.5, 1.0, -2.0])
    value, gradient = namespace["g"](v0)
    assert value == pytest.approx(np.sum(np.sin(v0)))
    np.testing.assert_allclose(gradient.ravel(), np.cos(v0))
    assert namespace["check_g"](v0) < 1e-6


# --- 6. raw crashes -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, message",
    [("9" * 5000, "too large for float64"), ("1e999 * x", "too large for float64"), ("eye(x'*x)", "write eye, not eye(...)")],
)
def test_parser_crashes_are_parse_errors(text, message):
    with pytest.raises(mc.ParseError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        mc.parse(text)


def test_numbers_beyond_float64_are_refused():
    x = mc.vector("x", 3)
    with pytest.raises(mc.OperandError, match="too large for float64"):
        x * 10**400
    with pytest.raises(mc.EvaluationError, match="float64"):
        mc.evaluate(x.T @ x, {x: [10**400, 1, 1]})


def test_the_cli_answers_bad_input_with_exit_code_2_and_one_line():
    for arguments in (["grad", "9" * 5000, "--wrt", "x"], ["grad", "eye(x'*x)", "--wrt", "x"], ["grad"],
                      ["grad", "x'*x", "--wrt", "x", "--view", "nope"], ["grad", "sum(A)", "--wrt", "A", "--var", "A=tensor"]):
        run = subprocess.run([sys.executable, "-m", "matcalc", *arguments], capture_output=True, text=True, timeout=120)
        assert run.returncode == 2, (arguments, run.stderr)
        assert run.stdout == "" and run.stderr.count("\n") == 1 and run.stderr.startswith("matcalc"), run.stderr


def test_user_functions_numpy_lacks_run_through_scipy():
    x = mc.vector("x", 3)
    x0 = np.array([0.5, 1.5, 2.5])
    bessel = mc.elementwise("bessel0", sympy.Lambda(u, sympy.besselj(0, u)))
    gamma = mc.elementwise("gamma_fn", sympy.Lambda(u, sympy.gamma(u)))
    hinge = mc.elementwise("hinge_max", sympy.Lambda(u, sympy.Max(u, 1)))
    assert mc.evaluate(mc.sum(bessel(x)), {x: x0}) == pytest.approx(np.sum(scipy.special.jv(0, x0)))
    assert mc.evaluate(mc.sum(gamma(x)), {x: x0}) == pytest.approx(sum(math.gamma(v) for v in x0))
    assert mc.evaluate(mc.sum(hinge(x)), {x: x0}) == pytest.approx(np.sum(np.maximum(x0, 1)))
    # d/du J0(u) = −J1(u) (Abramowitz & Stegun 9.1.28)
    np.testing.assert_allclose(mc.evaluate(mc.grad(mc.sum(bessel(x)), x), {x: x0}).ravel(), -scipy.special.jv(1, x0))


def test_user_functions_without_an_array_form_are_refused_when_defined():
    with pytest.raises(mc.OperandError, match="Mod"):
        mc.elementwise("wrap2", sympy.Lambda(u, sympy.Mod(u, 2)))  # sympy cannot differentiate it


def test_an_overflow_is_an_error_not_a_silent_inf():
    x = mc.vector("x", 3)
    huge = mc.elementwise("huge_pow", sympy.Lambda(u, u**1000000))
    with pytest.raises(mc.EvaluationError, match="inf"):
        mc.evaluate(mc.sum(huge(x)), {x: [1.0, 2.0, 3.0]})


# --- 7. silent numeric problems --------------------------------------------------------------------------------


def test_complex_values_are_refused():
    x = mc.vector("x", 3)
    with pytest.raises(mc.EvaluationError, match="complex"):
        mc.evaluate(x.T @ x, {x: np.array([1j, 1, 1])})
    with pytest.raises(mc.EvaluationError, match="complex"):
        mc.lambdify([x], x.T @ x)(np.array([1j, 1, 1]))


def test_logdet_is_log_det_for_positive_determinants_and_an_error_elsewhere():
    X = mc.matrix("X", 3, 3)
    assert mc.evaluate(mc.logdet(X), {X: np.diag([1.0, 2.0, 3.0])}) == pytest.approx(math.log(6.0))
    with pytest.raises(mc.EvaluationError, match="log det"):
        mc.evaluate(mc.logdet(X), {X: -np.eye(3)})


def test_log_sigmoid_and_friends_are_evaluated_stably():
    a, z = mc.scalar("a"), mc.vector("z", 3)
    assert mc.evaluate(mc.log(mc.sigmoid(a)), {a: -1000}) == pytest.approx(-1000)
    assert mc.evaluate(mc.log(1 - mc.sigmoid(a)), {a: 1000}) == pytest.approx(-1000)
    z0 = np.array([1000.0, 0.0, -1000.0])
    assert mc.evaluate(mc.sum(mc.log(1 + mc.exp(z))), {z: z0}) == pytest.approx(1000 + math.log(2))
    # log softmax(z) = z − logsumexp(z); logsumexp = 1000 here to double precision
    assert mc.evaluate(mc.sum(mc.log(mc.softmax(z))), {z: z0}) == pytest.approx(-3000)


def test_a_gradient_that_does_not_exist_is_an_error_that_says_where():
    x = mc.vector("x", 3)
    with pytest.raises(mc.EvaluationError, match="‖x‖ = 0"):
        mc.evaluate(mc.grad(mc.norm(x), x), {x: np.zeros(3)})
    with pytest.raises(mc.EvaluationError, match="at the given values"):
        mc.check(mc.norm(x), x, values={x: np.zeros(3)})


# --- 10. printed formulas mean what the expression means -------------------------------------------------------------


def test_ones_print_with_their_shape():
    N = mc.dims("N")[0]
    Z, b, x = mc.matrix("Z", 3, N), mc.vector("b", 3), mc.vector("x", 3)
    assert str(mc.ones(3)) == "𝟏" and str(mc.ones(1, 3)) == "𝟏ᵀ" and str(mc.ones(3, 4)) == "𝟏𝟏ᵀ"
    assert str(mc.ones(3).T @ x) == "𝟏ᵀx"
    assert str(mc.grad(mc.sum(mc.tanh(Z + b @ mc.ones(N).T)), b)) == "(𝟏𝟏ᵀ − tanh(Z + b𝟏ᵀ)^∘2)𝟏"
    assert mc.latex(mc.ones(1, 3)) == "{\\mathbf{1}}^\\top"


def test_a_coefficient_of_numbers_and_dimensions_prints_and_evaluates_as_itself():
    (n,) = mc.dims("n")
    z = mc.vector("z", n)
    e = (3 + n) / 2 * mc.log(1 + z.T @ z)
    assert str(e) == "(n/2 + 3/2)log(1 + zᵀz)"
    assert mc.evaluate(e, {z: np.ones(3), n: 3}) == pytest.approx(3 * math.log(4))


# --- found by the second audit -------------------------------------------------------------------------


def test_a_negated_factor_after_a_scalar_is_not_a_subtraction():
    c, A, x = mc.scalar("c"), mc.matrix("A", 3, 3), mc.vector("x", 3)
    assert str(c * -3) == "c(−3)" and str(c * (-A)) == "c(−A)" and str(mc.det(A) * -1) == "det(A)(−1)"
    assert mc.latex(c * -3) == "c \\left(-3\\right)"
    assert str(mc.derive(mc.sum(x) * (-mc.sum(x * x)), x).steps[0].after) == "1 : d(sum(x)(−sum(x ⊙ x)))"


def test_a_number_after_a_name_is_not_glued_to_it():
    c, A = mc.scalar("c"), mc.matrix("A", 3, 3)
    assert str(c * (2 * A)) == "c·2A"


def test_a_float_that_no_small_fraction_is_stays_a_float():
    A = mc.matrix("A", 3, 3)
    assert str(123456789.123 * A) == "123456789.123A" and str(0.1 * A) == "A/10"


@pytest.mark.parametrize(
    "build, values",
    [
        (lambda s, t, x: mc.sum(s * mc.ones(3) + t * mc.ones(3)), {"s": 1.0, "t": 2.0}),
        (lambda s, t, x: mc.simplify(mc.ones(3).T @ x), {"x": [1.0, 2.0, 4.0]}),
        (lambda s, t, x: -3 * mc.ones(3) + x, {"x": [1.0, 2.0, 4.0]}),
        (lambda s, t, x: x + s, {"x": [1.0, 2.0, 4.0], "s": 0.5}),
    ],
)
def test_the_string_syntax_means_what_the_expression_means(build, values):
    s, t, x = mc.scalar("s"), mc.scalar("t"), mc.vector("x", 3)
    e = build(s, t, x)
    back = mc.parse(mc.to_syntax(e), **{name: v.kind for name, v in e.variables.items()})
    expected = mc.evaluate(e, {name: values[name] for name in e.variables})
    # the parser infers sizes; one that nothing fixes (vector(1) alone) is given by name
    np.testing.assert_allclose(mc.evaluate(back, {**values, "n": 3}), expected)


def test_a_sum_of_a_scalar_is_the_scalar_not_a_power_of_one():
    e = mc.parse("sum(" * 20 + "x" + ")" * 20)
    assert str(mc.grad(e, e.variables["x"])) == "𝟏"


def test_zero_to_a_negative_power_is_refused():
    with pytest.raises(mc.OperandError, match="divides by zero"):
        mc.parse("0^-1*a")


def test_a_plain_sympy_symbol_is_the_dimension_of_its_name():
    A = mc.matrix("A", sympy.Symbol("n"), sympy.Symbol("n"))
    x = mc.vector("x", mc.dims("n")[0])
    assert (A @ x).shape == x.shape


def test_lets_that_share_a_name_print_apart_in_the_order_they_are_defined():
    Ws = [mc.matrix(f"W{i}", 3, 3) for i in range(3)]
    x, t = mc.vector("x", 3), mc.vector("t", 3)
    h = x
    for W in Ws:
        h = mc.let("h", mc.tanh(W @ h))
    loss = mc.sum((h - t) ** 2) / 2
    assert str(loss) == "sum((h⁽³⁾ − t)²)/2"
    assert "h^{(3)}" in mc.latex(loss)
    written = str(mc.grad(loss, Ws[0]))  # tanh' = 1 − tanh², written with each layer's name
    assert set(re.findall("h⁽.⁾", written)) == {"h⁽¹⁾", "h⁽²⁾", "h⁽³⁾"} and "tanh" not in written


def test_the_sigmoids_derivative_keeps_its_digits_far_from_zero():
    z = mc.vector("z", 4)
    z0 = np.array([30.0, 35.0, 40.0, -45.0])
    expected = np.exp(-np.abs(z0)) / (1 + np.exp(-np.abs(z0))) ** 2  # σ(u)σ(−u), exact in float64 here
    np.testing.assert_allclose(mc.evaluate(mc.grad(mc.sum(mc.sigmoid(z)), z), {z: z0}).ravel(), expected, rtol=1e-12)


def test_a_derivation_keeps_lets_that_share_a_name_apart():
    x = mc.vector("x", 3)
    A, B = mc.matrix("A", 3, 3), mc.matrix("B", 3, 3)
    loss = mc.sum(mc.tanh(mc.let("z", A @ x))) + mc.sum(mc.sigmoid(mc.let("z", B @ x)))
    view = str(mc.derive(loss, x).view("backprop"))
    assert "∂ℓ/∂x = Bᵀ δ_z⁽²⁾ + Aᵀ δ_z⁽¹⁾" in view and "δ_z⁽²⁾ = σ'(z⁽²⁾)" in view and "δ_z⁽¹⁾ = 𝟏 − tanh(z⁽¹⁾)²" in view
    x0 = np.array([0.3, -0.2, 0.5])
    A0, B0 = np.arange(9.0).reshape(3, 3) / 10, np.eye(3) - 0.2
    s = 1 / (1 + np.exp(-B0 @ x0))
    expected = A0.T @ (1 - np.tanh(A0 @ x0) ** 2) + B0.T @ (s * (1 - s))
    np.testing.assert_allclose(mc.evaluate(mc.derive(loss, x).gradient, {x: x0, A: A0, B: B0}).ravel(), expected)


def test_constant_folding_keeps_numbers_float64_can_hold():
    """(10x)⁴⁰⁰ is not written 10⁴⁰⁰x⁴⁰⁰, which would overflow when evaluated (second audit)."""
    x = mc.vector("x", 3)
    x0 = np.array([0.05, 0.06, 0.07])
    gradient = mc.evaluate(mc.grad(mc.sum((10 * x) ** 400), x), {x: x0}).ravel()
    np.testing.assert_allclose(gradient, 4000 * (10 * x0) ** 399, rtol=1e-9)
    x1 = np.array([20.0, 21.0, 22.0])
    gradient = mc.evaluate(mc.grad(mc.sum((x / 10) ** 400), x), {x: x1}).ravel()
    np.testing.assert_allclose(gradient, 40 * (x1 / 10) ** 399, rtol=1e-9)


# --- found by the long fuzz run (100,000 expressions) ----------------------------------------------------------------


def test_an_expression_minus_itself_is_zero_whatever_the_order_of_its_scalar_factors():
    """Scalars commute: ab𝟏𝟏ᵀ − ba𝟏𝟏ᵀ is 0 (fuzz seed 13498 left (ﬀ·log det − log det·ﬀ)𝟏𝟏ᵀ)."""
    a, Sigma = mc.scalar("ﬀ"), mc.matrix("Σ", 3, 3)
    b = mc.logdet(Sigma + 5 * mc.eye(3))
    J = mc.ones(3) @ mc.ones(3).T
    assert mc.simplify((a * b) * J - (b * a) * J) == mc.zeros(3, 3)
    assert mc.simplify(a * b - b * a) == mc.zeros(1, 1)
    a0 = 0.7
    S0 = np.array([[2.0, 0.3, 0.1], [0.2, 1.5, 0.4], [0.0, 0.6, 3.0]])
    twice_minus_once = mc.evaluate(mc.simplify(2 * a * b - b * a), {a: a0, Sigma: S0})
    np.testing.assert_allclose(np.ravel(twice_minus_once), [a0 * np.linalg.slogdet(S0 + 5 * np.eye(3))[1]], rtol=1e-12)


# --- found by the audit of matrix Jacobians, SymPy interop, means and printing (third audit) --------------------------


def test_sympys_function_of_a_matrix_is_refused_not_read_entry_by_entry():
    """SymPy's exp(X) is the matrix exponential; reading it as exp of each entry was silently wrong."""
    X = sympy.MatrixSymbol("X", 2, 2)
    for function in (sympy.exp, sympy.sin, sympy.log):
        with pytest.raises(mc.OperandError, match="applyfunc"):
            mc.from_sympy(function(X))
    M = np.array([[0.3, 1.0], [-0.5, 0.2]])
    entrywise = mc.from_sympy(X.applyfunc(sympy.exp))
    np.testing.assert_allclose(mc.evaluate(entrywise, {"X": M}), np.exp(M))


@pytest.mark.parametrize("body, expected", [(2, 6.0), (u + 1, 9.0)])
def test_applyfunc_of_a_constant_is_that_constant_in_every_entry(body, expected):
    """tr(X.applyfunc(u ↦ 2)) is 2·3 for a 3×3 X, as SymPy itself computes; it was read as tr(2) = 2."""
    X = sympy.MatrixSymbol("X", 3, 3)
    written = sympy.Trace(X.applyfunc(sympy.Lambda(u, body)))
    M = np.diag([1.0, 2.0, 3.0])
    by_sympy = float(written.xreplace({X: sympy.ImmutableMatrix(M)}).doit())
    assert by_sympy == expected
    assert float(mc.evaluate(mc.from_sympy(written), {"X": M})) == pytest.approx(by_sympy)


def test_hvp_of_a_symmetric_variable_needs_a_symmetric_direction():
    S, V = mc.matrix("S", 3, 3, symmetric=True), mc.matrix("V", 3, 3)
    with pytest.raises(mc.DifferentiationError, match="direction must be symmetric"):
        mc.hvp(mc.logdet(S), S, V)
    rng = np.random.default_rng(3)
    S0 = rng.normal(size=(3, 3))
    S0 = S0 @ S0.T + 3 * np.eye(3)
    V0 = rng.normal(size=(3, 3))
    V0 = (V0 + V0.T) / 2
    inverse = np.linalg.inv(S0)
    for direction in ((V + V.T) / 2, mc.matrix("W", 3, 3, symmetric=True)):
        value = mc.evaluate(mc.hvp(mc.logdet(S), S, direction), {S: S0, V: V0, "W": V0})
        np.testing.assert_allclose(value, -inverse @ V0 @ inverse, rtol=1e-10)  # d(S⁻¹) = −S⁻¹ dS S⁻¹


def test_a_scalar_variable_named_like_a_dimension_is_refused_by_to_sympy():
    """SymPy would read both as one symbol n, and the variable would become the size."""
    n = mc.dims("n")[0]
    with pytest.raises(mc.OperandError, match="share a name"):
        mc.to_sympy(mc.scalar("n") * mc.matrix("X", n, n))


def test_values_of_variables_an_expression_does_not_use_are_left_aside():
    X = mc.matrix("X", 2, 2)
    np.testing.assert_allclose(mc.evaluate(X.T, {"X": np.eye(2) * 2, "A": np.ones((2, 2))}), np.eye(2) * 2)


def test_a_sum_of_column_or_row_sums_is_the_sum():
    X = mc.matrix("X", 3, 4)
    assert mc.simplify(mc.sum(mc.sum(X, axis=0))) == mc.sum(X) == mc.simplify(mc.sum(mc.sum(X, axis=1)))
    assert mc.grad(mc.sum(mc.mean(X, axis=0) / mc.mean(X)), X) == mc.zeros(3, 4)  # the sum of the ratios is 3·4/3 = 4


@pytest.mark.parametrize("limit", [0, -5, True, 2.5, "40"])
def test_a_drawing_limit_that_is_not_a_number_of_nodes_is_refused(limit):
    with pytest.raises(mc.OperandError, match="limit"):
        mc.draw(mc.sum(mc.vector("x", 3)), limit=limit)


def test_a_number_inside_a_product_of_scalars_does_not_keep_like_terms_apart():
    """a·(2b) − 2(ba) is 0 (fuzz seed 202493 left (t·I·2·I − 2t·I²)·X)."""
    a, b = mc.scalar("a"), mc.scalar("b")
    assert mc.simplify(a * (2 * b) - 2 * (b * a)) == mc.zeros(1, 1)
    X = mc.matrix("X", 2, 2)
    assert mc.simplify((a * (3 * b)) * X - 3 * (b * a) * X) == mc.zeros(2, 2)


def test_a_power_with_a_size_for_exponent_reads_back_and_evaluates():
    """SymPy's 3**n for a size n (what tr(𝟏𝟏ᵀ) in an exponent becomes) was a constant no size could evaluate."""
    n = sympy.Symbol("n", integer=True, positive=True)
    x = sympy.MatrixSymbol("x", n, 1)
    read = mc.from_sympy(3**n * sympy.Trace(x.T * x))
    np.testing.assert_allclose(mc.evaluate(read, {"x": np.arange(1.0, 5.0)}), 3**4 * 30.0)


def test_symmetry_of_a_deep_expression_is_settled_without_recursion():
    """is_symmetric asked each argument in turn, recursively: 5,000 nested tanh of a symmetric S
    raised RecursionError, and so did its gradient, whose pullbacks ask it."""
    S = mc.matrix("S", 2, 2, symmetric=True)
    depth = 5000
    chain = S
    for _ in range(depth):
        chain = mc.tanh(chain)
    assert chain.is_symmetric and not (chain @ mc.matrix("A", 2, 2)).is_symmetric
    S0 = np.array([[0.3, -0.2], [-0.2, 0.5]])
    value, slope = S0.copy(), np.ones_like(S0)  # d tanh^k(s)/ds = Π (1 − tanh²) along the chain, entry by entry
    for _ in range(depth):
        value = np.tanh(value)
        slope *= 1 - value**2
    np.testing.assert_allclose(mc.evaluate(mc.grad(mc.sum(chain), S), {S: S0}), slope, rtol=1e-9)


def _numpy_log_softmax_rows(R):
    shifted = R - R.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def test_log_softmax_along_rows_is_computed_stably():
    """log softmax(R, axis=1), written log(softmax(Rᵀ)ᵀ), was computed as log of a softmax that
    underflowed to 0: −inf (the ML audit; log softmax of columns was already stable)."""
    R, T = mc.matrix("R", 2, 4), mc.matrix("T", 2, 4)
    loss = -mc.sum(T * mc.log(mc.softmax(R, axis=1)))
    R0, T0 = np.array([[0, -800, 1, 2], [2, 1, -800, 0.0]]), np.full((2, 4), 0.25)
    expected = -np.sum(T0 * _numpy_log_softmax_rows(R0))
    assert mc.evaluate(loss, {R: R0, T: T0}) == pytest.approx(expected, rel=1e-12)
    assert mc.lambdify([R, T], loss)(R0, T0) == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_of_a_one_row_softmax_cancels_the_reciprocal():
    """For a 1×n row the reciprocal of the softmax, ((softmax(rᵀ)ᵀ)^∘-1)ᵀ, stayed in the gradient
    and the compiled function gave nan where an entry of the softmax underflows."""
    r, t = mc.matrix("r", 1, 4), mc.matrix("t", 1, 4)
    gradient = mc.grad(-mc.sum(t * mc.log(mc.softmax(r, axis=1))), r)
    assert str(gradient) == "sum(t)softmax(rᵀ)ᵀ − t"
    r0, t0 = np.array([[0, -800, 1, 2.0]]), np.array([[0.1, 0.2, 0.3, 0.4]])
    softmax = np.exp(_numpy_log_softmax_rows(r0))
    np.testing.assert_allclose(mc.lambdify([r, t], gradient)(r0, t0), t0.sum() * softmax - t0, rtol=1e-12, atol=1e-300)


def test_a_subtracted_negative_term_is_written_with_one_sign():
    """The entropy of a softmax printed "−(…) − −(…)softmax(z)"."""
    z = mc.vector("z", 4)
    p = mc.softmax(z)
    gradient = mc.grad(-mc.sum(p * mc.log(p)), z)
    assert "− −" not in str(gradient) and "−−" not in str(gradient)
    z0 = np.array([0.3, -1.2, 2.0, 0.5])
    p0 = np.exp(z0) / np.exp(z0).sum()
    log_p = np.log(p0) + 1  # −Σ p log p: ∂/∂z = −(J)(log p + 1), J = diag(p) − ppᵀ symmetric
    expected = -(np.diag(p0) - np.outer(p0, p0)) @ log_p
    np.testing.assert_allclose(mc.evaluate(gradient, {z: z0}).ravel(), expected, rtol=1e-12)


def test_an_oracle_that_cannot_compute_at_the_point_does_not_fail_a_right_gradient():
    """At z = ±900 SymPy's own arithmetic gives nan for log(1 − σ(z)); check reported
    "DISAGREES: max abs error 0" (max() dropped the nan) and FAILED a right gradient."""
    X, w, y = mc.matrix("X", 2, 2), mc.vector("w", 2), mc.vector("y", 2)
    z = X @ w
    loss = -mc.sum(y * mc.log(mc.sigmoid(z)) + (1 - y) * mc.log(1 - mc.sigmoid(z)))
    values = {"X": np.diag([30.0, -30.0]), "w": np.full((2, 1), 30.0), "y": np.array([[0.0], [1.0]])}
    result = mc.check(loss, w, values=values)
    assert result.ok and "did not run" in str(result) and "checked at the given values" in str(result)
    # the gradient of binary cross-entropy, Xᵀ(σ(Xw) − y), written here: [30·(1 − 0), −30·(0 − 1)]
    np.testing.assert_allclose(mc.evaluate(mc.grad(loss, w), values).ravel(), [30.0, 30.0])
    wrong = mc.check(loss, w, gradient=2 * mc.grad(loss, w), values=values)
    assert not wrong.ok and "DISAGREES" in str(wrong)


def test_check_reads_sizes_off_the_given_values_and_dims_by_name():
    h, k = mc.dims("h k")
    W, a = mc.matrix("W", k, h), mc.vector("a", h)
    loss = mc.sum(mc.tanh(W @ a))
    result = mc.check(loss, W, values={"W": np.full((3, 5), 0.1), "a": np.ones((5, 1))})
    assert result.ok and result.sizes == {"h": 5, "k": 3}
    assert mc.check(loss, W, dims={"k": 3, "h": 5}).sizes == {"h": 5, "k": 3}


def test_a_jacobian_of_matrices_compiles_to_its_vec_matrix():
    """lambdify and to_source of what mc.jacobian returns raised a raw TypeError."""
    A, X, B = mc.matrix("A", 2, 3), mc.matrix("X", 3, 4), mc.matrix("B", 4, 5)
    rng = np.random.default_rng(3)
    A0, X0, B0 = rng.normal(size=(2, 3)), rng.normal(size=(3, 4)), rng.normal(size=(4, 5))
    jacobian = mc.jacobian(A @ X @ B, X)
    np.testing.assert_allclose(mc.lambdify([A, X, B], jacobian)(A0, X0, B0), np.kron(B0.T, A0))  # Magnus–Neudecker
    namespace: dict = {}
    exec(compile(mc.to_numpy_source([A, X, B], jacobian, name="J"), "J", "exec"), namespace)  # our own generated source
    np.testing.assert_allclose(namespace["J"](A0, X0, B0), np.kron(B0.T, A0))


def test_check_draws_the_variables_whose_values_are_not_given():
    W, a = mc.matrix("W", 3, 2), mc.vector("a", 2)
    loss = mc.sum(mc.tanh(W @ a))
    result = mc.check(loss, W, values={"a": np.array([0.5, -1.0])})
    assert result.ok
    W0 = result.values[W]
    expected = (1 - np.tanh(W0 @ [[0.5], [-1.0]]) ** 2) @ [[0.5, -1.0]]  # (𝟏 − tanh(Wa)²)aᵀ, written here
    np.testing.assert_allclose(mc.evaluate(mc.grad(loss, W), {W: W0, a: [0.5, -1.0]}), expected, rtol=1e-12)
    np.testing.assert_array_equal(result.values[a].ravel(), [0.5, -1.0])


# --- found by the hostile-input audit of this stop ------------------------------------------------------


@pytest.mark.parametrize("name", ["sum", "tr", "diag", "norm2", "trace"])
def test_a_user_function_may_not_take_a_built_in_name(name):
    """A user function named sum printed as sum(x) and read back as the built-in: 6 where it was 14."""
    with pytest.raises(mc.OperandError, match="built-in"):
        mc.elementwise(name, sympy.Lambda(u, u**2))


@pytest.mark.parametrize("body", [sympy.I * u + u, sympy.LambertW(u)], ids=["i·u + u", "LambertW"])
def test_a_user_function_with_complex_values_is_refused(body):
    """Its imaginary part was dropped by evaluate with only NumPy's warning."""
    with pytest.raises(mc.OperandError, match="complex"):
        mc.elementwise("complexvalued", sympy.Lambda(u, body))


def test_a_user_function_of_a_class_defined_outside_sympy_is_refused(tmp_path):
    """Its own _numpycode wrote the generated code (the audit's marker file was created)."""
    marker = tmp_path / "ran"

    class Printed(sympy.Function):
        def _numpycode(self, printer):
            return f"__import__('pathlib').Path({str(marker)!r}).touch()"

    with pytest.raises(mc.OperandError, match="outside SymPy: Printed"):
        mc.elementwise("printed", sympy.Lambda(u, Printed(u)))
    assert not marker.exists()


def test_finite_differences_follow_a_loss_that_turns_fast():
    """sin(det(SSᵀ + I)) with det ≈ 2300: plain central differences were off by 1e-4 relative, and
    check failed a right gradient (the elementwise chain rule agreed to 1e-11)."""
    S = mc.matrix("S", 3, 3, symmetric=True)
    loss = mc.sin(mc.det(S @ S.T + mc.eye(3)))
    result = mc.check(loss, S)
    assert result.ok
    S0 = result.values[S]

    def plain(M):
        return np.sin(np.linalg.det(M @ M.T + np.eye(3)))

    # d det(M) = det(M) tr(M⁻¹ dM) (Jacobi's formula), with M = SSᵀ + I, dM = dS Sᵀ + S dSᵀ; S symmetric
    M = S0 @ S0.T + np.eye(3)
    G = np.cos(np.linalg.det(M)) * np.linalg.det(M) * np.linalg.inv(M).T
    unconstrained = G @ S0 + G.T @ S0
    np.testing.assert_allclose(mc.evaluate(mc.grad(loss, S), {S: S0}), (unconstrained + unconstrained.T) / 2, rtol=1e-9)
    assert plain(S0) == pytest.approx(mc.evaluate(loss, {S: S0}), rel=1e-12)


def test_check_gives_sizes_to_any_number_of_dimensions():
    dims = mc.dims(" ".join(f"n{i}" for i in range(70)))
    loss = sum((mc.sum(mc.vector(f"v{i}", d)) for i, d in enumerate(dims)), mc.scalar("c"))
    result = mc.check(loss, mc.vector("v0", dims[0]), oracles=("finite differences",))
    assert result.ok and len(set(result.sizes.values())) == 70


def test_a_number_beyond_float64_is_not_folded_into_the_result():
    """grad((a²)^1e308) printed inf(a²)^(1e+308)a, and its code raised NameError: inf."""
    a = mc.scalar("a")
    gradient = mc.grad((a**2) ** 1e308, a)
    assert "inf" not in str(gradient)
    assert mc.evaluate(gradient, {a: 0.5}) == 0.0  # 2e308 · 0.25^1e308 · 0.5 underflows to 0 in float64
    assert mc.evaluate(mc.grad((a**2) ** 3, a), {a: 0.5}) == pytest.approx(6 * 0.5**5)


@pytest.mark.parametrize(
    "options, message",
    [({"oracles": ()}, "oracles"), ({"oracles": None}, "oracles"), ({"seed": -1}, "seed"), ({"seed": "x"}, "seed"),
     ({"dims": [2]}, "dims"), ({"values": [1]}, "values")],
)
def test_check_refuses_bad_options_with_what_was_wrong(options, message):
    x = mc.vector("x", 3)
    with pytest.raises(mc.MatcalcError, match=message):
        mc.check(mc.sum(x), x, **options)


def test_check_with_respect_to_a_variable_the_loss_does_not_use_finds_zero():
    x, y = mc.vector("x", 3), mc.vector("y", 3)
    result = mc.check(mc.sum(x), y)
    assert result.ok and mc.evaluate(result.formulas[y], {y: np.ones(3)}).tolist() == [[0.0], [0.0], [0.0]]


def test_finite_differences_know_a_size_no_variable_fixes():
    """sum(𝟏ₙ)·xᵀx: finite differences asked for n although dims gave it."""
    x, (n,) = mc.vector("x", 3), mc.dims("n")
    result = mc.check(mc.sum(mc.ones(n, 1) * (x.T @ x)), x, dims={n: 10})
    assert result.ok
    np.testing.assert_allclose(mc.evaluate(mc.grad(mc.sum(mc.ones(n, 1) * (x.T @ x)), x), {x: [1.0, 2.0, 3.0], n: 10}).ravel(),
                               [20.0, 40.0, 60.0])  # 2n·x


def test_arrays_too_large_for_memory_are_an_evaluation_error():
    (n,) = mc.dims("n")
    with pytest.raises(mc.EvaluationError, match="do not fit in memory"):
        mc.evaluate(mc.sum(mc.ones(n, 1)), {"n": 10**12})


def test_an_elementwise_oracle_past_its_time_leaves_the_verdict_to_finite_differences(monkeypatch):
    """SymPy took minutes on a 6×6 log det or a 60×60 layer; its time is now bounded."""
    from matcalc.numeric import check as check_module

    monkeypatch.setattr(check_module, "ORACLE_SECONDS", 0.001)
    W, a = mc.matrix("W", 3, 4), mc.vector("a", 4)
    loss = mc.sum(mc.tanh(W @ a))
    result = mc.check(loss, W)
    assert result.ok and "did not finish in 0.001 s" in str(result)
    assert not mc.check(loss, W, gradient=mc.tanh(W @ a) @ a.T).ok  # finite differences still judge
    assert not mc.check(loss, W, oracles=("elementwise",)).ok  # no oracle ran: not a pass


@pytest.mark.parametrize(
    "call, error",
    [(lambda: mc.dims(3), mc.OperandError), (lambda: mc.parse("x", x=[1]), mc.ParseError),
     (lambda: mc.lambdify([mc.vector("x", 2)], 3), mc.OperandError)],
    ids=["dims of a number", "parse with a list for a type", "lambdify of a number"],
)
def test_raw_type_errors_the_audit_found_are_matcalc_errors(call, error):
    with pytest.raises(error):
        call()


def test_pythons_abs_of_an_expression_is_the_entrywise_absolute_value():
    A = mc.matrix("A", 2, 2)
    np.testing.assert_array_equal(mc.evaluate(abs(A), {A: [[-1.0, 2.0], [3.0, -4.0]]}), [[1.0, 2.0], [3.0, 4.0]])


def test_drawing_with_bad_values_or_to_a_missing_folder_is_a_matcalc_error(tmp_path):
    W, a = mc.matrix("W", 2, 3), mc.vector("a", 3)
    loss = mc.sum(mc.tanh(W @ a))
    with pytest.raises(mc.EvaluationError, match="'W' is not real numbers"):
        mc.draw(loss, values={W: "abc"})
    with pytest.raises(mc.OperandError, match="values must be a dict"):
        mc.draw(loss, values=[1])
    with pytest.raises(mc.MatcalcError, match="cannot write"):
        mc.draw(loss).save(tmp_path / "missing" / "picture.svg")


def test_a_scalar_to_the_power_zero_is_the_number_one():
    """P⁰ for a 1×1 P was a 1×1 𝟏 that like terms did not meet: P⁰ − P⁰ gave 1 − 1 (fuzz seed 600285)."""
    s, x = mc.scalar("s"), mc.vector("x", 2)
    assert mc.simplify(s**0 - s**0) == mc.zeros(1, 1)
    assert mc.simplify((x.T @ x) ** 0 + 2) == mc.expr.const(3)
    assert mc.simplify(mc.ones(1, 1) - 1) == mc.zeros(1, 1)


def test_to_sympy_keeps_the_shape_sympy_drops_in_a_product_with_zero():
    """SymPy wrote 𝟏ᵀdiag(0) as a 1×1 ZeroMatrix, so x(𝟏ᵀdiag(0)/4) came back 3×1, not 3×4 (fuzz seed 600207)."""
    from matcalc.expr import Zero, make

    x = mc.vector("x", 3)
    e = x @ (mc.ones(4, 1).T @ mc.diag(make(Zero, (), (4, 1))) / 4)
    written = mc.to_sympy(e)
    assert tuple(written.shape) == (3, 4)
    np.testing.assert_array_equal(mc.evaluate(mc.from_sympy(written), {}), np.zeros((3, 4)))
