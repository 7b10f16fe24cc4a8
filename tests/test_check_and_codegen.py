"""mc.check catches wrong formulas and passes right ones; lambdify and exported source."""

from __future__ import annotations

import ast
import inspect
import re

import numpy as np
import pytest
import sympy

import matcalc as mc
from matcalc import cli
from matcalc.numeric import lambdify as lambdify_module

n, m = mc.dims("n m")
W, a, b, t = mc.matrix("W", n, m), mc.vector("a", m), mc.vector("b", n), mc.vector("t", n)
z = mc.let("z", W @ a + b)
LOSS = mc.sum((mc.sigmoid(z) - t) ** 2) / 2
DELTA = (mc.sigmoid(z) - t) * mc.sigmoid(z) * (1 - mc.sigmoid(z))


def test_check_passes_matcalcs_own_gradient():
    result = mc.check(LOSS, [W, a], dims={n: 3, m: 4}, seed=0)
    assert result.ok
    assert result.max_rel_error < 1e-6
    assert [r.oracle for r in result.reports] == ["elementwise chain rule (sympy)", "central finite differences"]


def test_check_passes_a_correct_hand_formula():
    assert mc.check(LOSS, W, gradient=DELTA @ a.T).ok
    assert mc.check(LOSS, a, gradient=W.T @ DELTA).ok


@pytest.mark.parametrize(
    "wrong, what",
    [
        (2 * DELTA @ a.T, "a factor of 2"),
        ((mc.sigmoid(z) - t) @ a.T, "a dropped ⊙ σ' factor"),
        (DELTA @ mc.ones(m).T, "a wrong vector"),
    ],
)
def test_check_catches_wrong_formulas(wrong, what):
    result = mc.check(LOSS, W, gradient=wrong)
    assert not result.ok, what
    assert all(not r.ok for r in result.reports)
    assert "worst entry: W[" in str(result)
    assert "FAILED" in str(result)


def test_check_catches_a_missing_transpose_even_for_square_layers():
    A = mc.matrix("A", n, n)
    x = mc.vector("x", n)
    loss = x.T @ A @ A @ x
    assert mc.check(loss, A, gradient=(A.T @ x @ x.T + x @ x.T @ A.T)).ok
    assert not mc.check(loss, A, gradient=(A @ x @ x.T + x @ x.T @ A)).ok


def test_check_reports_a_misshapen_formula():
    result = mc.check(LOSS, W, gradient=a @ DELTA.T)
    assert not result.ok
    assert "the formula has shape m×n, the variable n×m" in str(result)


def test_check_uses_small_distinct_sizes_and_user_values():
    result = mc.check(LOSS, W)
    assert sorted(result.sizes.values()) == [3, 4]
    rng = np.random.default_rng(3)
    values = {W: rng.normal(size=(2, 5)), a: rng.normal(size=5), b: rng.normal(size=2), t: rng.normal(size=2)}
    assert mc.check(LOSS, W, values=values, dims={n: 2, m: 5}).ok


def test_check_handles_log_and_inverse_domains():
    X = mc.matrix("X", n, n)
    x = mc.vector("x", n)
    assert mc.check(mc.logdet(X) + x.T @ mc.inv(X) @ x + mc.sum(mc.log(x)), [X, x]).ok


def test_check_of_a_symmetric_variable():
    S = mc.matrix("S", n, n, symmetric=True)
    x = mc.vector("x", n)
    loss = x.T @ S @ S @ x
    assert mc.check(loss, S).ok
    G = x @ x.T @ S + S @ x @ x.T  # the unsymmetrised gradient differs off the diagonal
    assert not mc.check(loss, S, gradient=2 * G - G * mc.eye(n)).ok


def test_lambdify_matches_evaluate_and_shares_work():
    f = mc.lambdify([W, a, b, t], [LOSS, mc.grad(LOSS, W)])
    rng = np.random.default_rng(0)
    values = {W: rng.normal(size=(3, 4)), a: rng.normal(size=4), b: rng.normal(size=3), t: rng.normal(size=3)}
    loss, gradient = f(values[W], values[a], values[b], values[t])
    assert loss == pytest.approx(mc.evaluate(LOSS, values))
    np.testing.assert_allclose(gradient, mc.evaluate(mc.grad(LOSS, W), values))
    assert len(re.findall(r"_t\d+ = _sigmoid\(", f.source)) == 1  # σ(z) computed once for the loss and the gradient


def test_lambdify_rejects_missing_inputs_and_bad_shapes():
    with pytest.raises(mc.EvaluationError, match="the outputs use vector 't', which is not among the inputs"):
        mc.lambdify([W, a, b], LOSS)
    f = mc.lambdify([W, a], W @ a)
    with pytest.raises(ValueError, match="a: expected shape"):
        f(np.ones((3, 4)), np.ones(5))


def test_exported_source_imports_only_numpy_and_checks_itself():
    source = mc.to_numpy_source([W, a, b, t], [LOSS, mc.grad(LOSS, W)], name="loss_and_grad")
    tree = ast.parse(source)
    imports = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert imports == {"numpy"}
    assert not any(isinstance(node, ast.ImportFrom) for node in ast.walk(tree))
    namespace: dict = {}
    exec(compile(source, "exported", "exec"), namespace)
    rng = np.random.default_rng(1)
    args = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=3), rng.normal(size=3)
    assert namespace["check_loss_and_grad"](*args) < 1e-6
    loss, gradient = namespace["loss_and_grad"](*args)
    values = dict(zip([W, a, b, t], args))
    np.testing.assert_allclose(gradient, mc.evaluate(mc.grad(LOSS, W), values))


@pytest.mark.parametrize("name", ["W[1]", "x); import os #", "__import__('os')", "class", "1x", "λ", "np", "a b"])
def test_hostile_names_cannot_inject_code(name):
    X = mc.matrix(name, 2, 2)
    y = mc.vector("y", 2)
    loss = y.T @ X @ y
    source = mc.to_numpy_source([X, y], [loss, mc.grad(loss, X)], name=name)
    tree = ast.parse(source)
    for node in ast.walk(tree):
        assert not isinstance(node, ast.ImportFrom)
        if isinstance(node, ast.Import):
            assert [alias.name for alias in node.names] == ["numpy"]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in {"__import__", "eval", "exec", "open", "compile"}
    namespace: dict = {}
    exec(compile(source, "exported", "exec"), namespace)
    f = mc.lambdify([X, y], [loss])
    (value,) = f([[1, 2], [3, 4]], [1, 1])
    assert value == 10.0


def test_user_elementwise_function_in_generated_code():
    u = sympy.Symbol("u")
    cube = mc.elementwise("cube3", sympy.Lambda(u, u**3 - u))
    loss = mc.sum(cube(W @ a))
    source = mc.to_numpy_source([W, a], [loss, mc.grad(loss, W)])
    namespace: dict = {}
    exec(compile(source, "exported", "exec"), namespace)
    assert namespace["check_f"](np.ones((2, 3)) / 3, np.arange(3.0)) < 1e-6
    with pytest.raises(mc.OperandError, match="undefined functions"):
        mc.elementwise("evil", sympy.Lambda(u, sympy.Function("os.system")(u)))


def test_exported_source_takes_the_gradient_pairs_a_caller_knows():
    W_grad, a_grad = mc.grad(LOSS, [W, a])
    source = mc.to_numpy_source([W, a, b, t], [LOSS, a_grad, W_grad], name="f", gradient_pairs=[(1, 1), (2, 0)])
    namespace: dict = {}
    exec(compile(source, "exported", "exec"), namespace)
    rng = np.random.default_rng(2)
    args = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=3), rng.normal(size=3)
    assert namespace["check_f"](*args) < 1e-6
    wrong = mc.to_numpy_source([W, a, b, t], [LOSS, 2 * a_grad], gradient_pairs=[(1, 1)])
    exec(compile(wrong, "exported", "exec"), namespace)
    with pytest.raises(AssertionError, match="gradient 1 disagrees with finite differences"):
        namespace["check_f"](*args)
    assert "def check_f" not in mc.to_numpy_source([W, a, b, t], [LOSS, a_grad], gradient_pairs=[])


@pytest.mark.parametrize(
    "pairs, message",
    [([(1, 0)], "shapes differ"), ([(0, 1)], "names no gradient"), ([(1, 9)], "names no gradient"), ([1], "is \\(output index")],
)
def test_gradient_pairs_that_cannot_be_right_are_refused(pairs, message):
    with pytest.raises(mc.OperandError, match=message):
        mc.to_numpy_source([W, a, b, t], [LOSS, mc.grad(LOSS, a)], gradient_pairs=pairs)


def test_the_cli_exports_checked_code_without_differentiating_twice(capsys, monkeypatch):
    def differentiated_again(*args):
        raise AssertionError("to_numpy_source differentiated the loss again")

    monkeypatch.setattr(lambdify_module, "grad", differentiated_again)
    assert cli.main(["grad", "0.5*norm2(A*x - y)^2", "--wrt", "x", "--wrt", "A", "--code", "numpy"]) == 0
    source = capsys.readouterr().out.split("∂/∂A = ", 1)[1].split("\n", 1)[1]
    namespace: dict = {}
    exec(compile(source, "exported", "exec"), namespace)
    rng = np.random.default_rng(4)
    values = {"A": rng.normal(size=(3, 2)), "x": rng.normal(size=2), "y": rng.normal(size=3)}
    arguments = [values[name] for name in inspect.signature(namespace["value_and_grad"]).parameters if name in values]
    assert namespace["check_value_and_grad"](*arguments) < 1e-6
