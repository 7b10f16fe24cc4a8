"""The JAX and PyTorch backends: the same closed forms as the NumPy backend, checked two ways.

On a sample of the fuzz corpus (tests/strategies.py) and on every closed form of the tests,
each backend's value and gradients (float64) must equal the NumPy backend's, and matcalc's
gradient computed by the backend must equal the backend's own autodiff (``jax.grad``,
``torch.autograd.grad``) of the same loss compiled by the same backend.  The autodiff engine
knows nothing of matcalc's closed forms, so the second comparison is independent of them.
"""

from __future__ import annotations

import ast
import functools
import inspect
import os
import pathlib
import pickle
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy
import torch

import matcalc as mc
from matcalc.numeric.evaluate import symbols_of
from matcalc.printing.common import postorder
from tests.helpers import random_values as closed_form_values
from tests.strategies import N_SIZE, WEIGHT_LABELS, random_values, rng_chooser, scalar_loss
from tests.test_closed_forms import CASES, _sigmoid_and_log_losses

jax.config.update("jax_enable_x64", True)  # float64, as NumPy computes

ROOT = pathlib.Path(__file__).resolve().parent.parent
BACKENDS = ["jax", "torch"]
# Relative to the largest intermediate value (cancellation sets how far two correct results may
# differ); the largest difference seen on this corpus and these forms is 3e-16 of it.
RTOL = 1e-12  # backend against NumPy: the same formula, computed in another order
AUTODIFF_RTOL = 1e-11  # matcalc's closed form against the engine's own chain rule
CORPUS_SEEDS = range(40)
n, m, k = mc.dims("n m k")


# --- the two libraries, side by side --------------------------------------------------------


def as_backend(backend: str, value):
    return jnp.asarray(value) if backend == "jax" else torch.tensor(np.asarray(value, dtype=float))


def as_numpy(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def keyword_sizes(function) -> dict:
    """The sizes a compiled function takes as keywords (dimensions no argument fixes)."""
    return {
        name: N_SIZE
        for name, p in inspect.signature(function).parameters.items()
        if p.kind is p.KEYWORD_ONLY and name != "out"
    }


def jitted(function):
    """A JAX function compiled whole, its keyword sizes bound (one XLA compilation, not one per operation)."""
    return jax.jit(functools.partial(function, **keyword_sizes(function)))


def autodiff(backend: str, function, args: list, indices: list[int]) -> list[np.ndarray]:
    """The gradients of the scalar ``function`` wrt the arguments at ``indices``, by the backend's own autodiff."""
    keywords = keyword_sizes(function)
    if backend == "jax":
        gradient = jax.jit(jax.grad(functools.partial(function, **keywords), argnums=tuple(indices)))
        return [as_numpy(g) for g in gradient(*args)]
    leaves = [arg.clone().requires_grad_(i in indices) for i, arg in enumerate(args)]
    gradients = torch.autograd.grad(function(*leaves, **keywords), [leaves[i] for i in indices])
    return [as_numpy(g) for g in gradients]


def within_symmetric(gradient: np.ndarray, variable) -> np.ndarray:
    """A full-matrix gradient as matcalc gives it for a symmetric variable: sym(G) = (G + Gᵀ)/2."""
    return (gradient + gradient.T) / 2 if variable.is_symmetric and not variable.is_scalar else gradient


def assert_agrees(actual, expected, scale: float, rtol: float, what: str) -> None:
    actual = np.asarray(actual, dtype=float).reshape(np.shape(expected))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, err_msg=what)


def compare_backend(backend: str, loss, variables: list, values: dict) -> bool:
    """The backend's value and gradients equal NumPy's, and its gradients equal its autodiff's.
    False (nothing compared) where NumPy's values are not finite or too large to compare."""
    symbols = symbols_of([loss])
    gradients = mc.grad(loss, variables)
    reference = mc.lambdify(symbols, [loss, *gradients])
    keywords = keyword_sizes(reference)
    expected = [np.asarray(r, dtype=float) for r in reference(*[values[s] for s in symbols], **keywords)]
    if not all(np.all(np.isfinite(e)) and np.max(np.abs(e)) < 1e6 for e in expected):
        return False
    scale = magnitude([loss, *gradients], symbols, values, keywords)
    args = [as_backend(backend, values[s]) for s in symbols]
    compiled = mc.lambdify(symbols, [loss, *gradients], backend=backend)
    results = jitted(compiled)(*args) if backend == "jax" else compiled(*args, **keywords)
    for k_, (result, want) in enumerate(zip(results, expected)):
        assert_agrees(as_numpy(result), want, scale, RTOL, f"{backend} output {k_} of [ℓ, ∇ℓ], ℓ = {loss}")
    engine = autodiff(backend, mc.lambdify(symbols, loss, backend=backend), args, [symbols.index(v) for v in variables])
    for variable, ours, theirs in zip(variables, results[1:], engine):
        assert_agrees(as_numpy(ours), within_symmetric(theirs.reshape(variable_shape(variable, values)), variable),
                      scale, AUTODIFF_RTOL, f"{backend}: matcalc's ∂ℓ/∂{variable.label} against its autodiff, ℓ = {loss}")
    return True


def magnitude(exprs: list, symbols: list, values: dict, keywords: dict) -> float:
    """The largest magnitude among the expressions' intermediate values: cancellation between
    them sets how far two correct computations of the same formula may differ."""
    nodes = [node for node in postorder(exprs) if not isinstance(node, mc.Symbol)]
    with np.errstate(all="ignore"):
        intermediate = mc.lambdify(symbols, nodes)(*[values[s] for s in symbols], **keywords)
    finite = [np.asarray(v, dtype=float) for v in intermediate]
    return max([1.0, *(float(np.max(np.abs(v[np.isfinite(v)]), initial=0.0)) for v in finite)])


def variable_shape(variable, values) -> tuple:
    return np.shape(values[variable])


# --- the fuzz corpus ----------------------------------------------------------------------------


def corpus_cases() -> list:
    cases = []
    for seed in CORPUS_SEEDS:
        try:
            loss = scalar_loss(rng_chooser(np.random.default_rng(seed)), depth=3)
        except mc.MatcalcError:
            continue
        variables = [s for s in symbols_of([loss]) if s.label not in WEIGHT_LABELS and not s.columns_sum_to_one][:3]
        if variables:
            cases.append((seed, loss, variables, random_values([loss], seed)))
    return cases


@pytest.fixture(scope="module")
def corpus():
    return corpus_cases()


@pytest.mark.parametrize("backend", BACKENDS)
def test_on_the_fuzz_corpus_each_backend_agrees_with_numpy_and_its_own_autodiff(backend, corpus):
    compared = 0
    for seed, loss, variables, values in corpus:
        try:
            compared += compare_backend(backend, loss, variables, values)
        except AssertionError as error:
            raise AssertionError(f"corpus seed {seed}: {error}") from None
    assert compared >= 0.6 * len(CORPUS_SEEDS), f"only {compared} corpus losses had finite values to compare"


# --- every closed form of the tests --------------------------------------------------------------


def extra_closed_forms() -> list:
    """(name, loss, variables, values) beyond tests/test_closed_forms.py: networks, likelihoods, attention."""
    W1, W2, x, t = mc.matrix("W1", n, m), mc.matrix("W2", k, n), mc.vector("x", m), mc.vector("t", k)
    h = mc.let("h", mc.tanh(W1 @ x))
    mlp = mc.sum((mc.sigmoid(W2 @ h) - t) ** 2) / 2
    S, mu, y = mc.matrix("S", n, n), mc.vector("mu", n), mc.vector("y", n)
    covariance = mc.let("Σ", S @ S.T + mc.eye(n))
    gaussian = -mc.logdet(covariance) / 2 - (y - mu).T @ mc.inv(covariance) @ (y - mu) / 2
    Q, K, V, T = mc.matrix("Q", m, n), mc.matrix("K", m, n), mc.matrix("V", k, n), mc.matrix("T", k, n)
    attention = mc.sum(T * (V @ mc.softmax(K.T @ Q / np.sqrt(3.0))))
    A, B = mc.matrix("A", 2, 3), mc.matrix("B", 3, 2)
    X, Xs, z = mc.matrix("X", n, m), mc.matrix("X", n, n), mc.vector("z", n)
    forms = [
        ("two-layer network", mlp, [W1, W2, x]),
        ("Gaussian log-likelihood", gaussian, [S, mu]),
        ("attention", attention, [Q, K, V]),
        ("kron", mc.sum(mc.kron(A, B) * mc.matrix("C", 6, 6)), [A, B]),
        ("‖XXᵀX‖", mc.norm(X @ X.T @ X), [X]),
        ("softmax cross-entropy", -t.T @ mc.log(mc.softmax(W2 @ h)), [W1, W2]),
        ("logsumexp of a matrix", mc.sum(mc.logsumexp(Xs @ Xs)), [Xs]),
        ("tr, det, diag", mc.trace(Xs @ Xs) * mc.det(Xs) + mc.sum(mc.diag(Xs) ** 3) + z.T @ mc.diag(z) @ z, [Xs, z]),
        ("relu, softplus, abs, sqrt", mc.sum(mc.relu(X) + mc.softplus(-X) + mc.sqrt(mc.abs(X) + 1)), [X]),
        ("powers", mc.sum((X * X + 1) ** 1.5) + mc.sum(mc.exp(z) ** mc.scalar("s")), [X, z, mc.scalar("s")]),
    ]
    return [(name, loss, variables, closed_form_values([loss], sizes={n: 3, m: 4, k: 2}, seed=11)) for name, loss, variables in forms]


def closed_forms() -> list:
    forms = []
    for name, loss, variables, which, _ in CASES:
        spd = [variables[which]] if name == "log det X" else []
        forms.append((name, loss, [variables[which]], closed_form_values([loss], sizes={n: 3, m: 4}, seed=5, spd=spd)))
    for name, loss, variable, _ in _sigmoid_and_log_losses():
        forms.append((name, loss, [variable], closed_form_values([loss], sizes={n: 4, m: 3}, seed=10, positive=True)))
    return forms + extra_closed_forms()


CLOSED_FORMS = closed_forms()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("form", CLOSED_FORMS, ids=[form[0] for form in CLOSED_FORMS])
def test_every_closed_form_agrees_with_numpy_and_the_backends_autodiff(backend, form):
    name, loss, variables, values = form
    assert compare_backend(backend, loss, variables, values), f"{name}: no finite values to compare"


def test_second_derivatives_agree_with_the_engines_own():
    """Hessian, Jacobian and hvp closed forms against jax.hessian, jax.jacobian, torch.autograd.functional."""
    A, B, x, v = mc.matrix("A", n, n), mc.matrix("B", n, n), mc.vector("x", n), mc.vector("v", n)
    loss = x.T @ A @ x + mc.sum(mc.tanh(B @ x))
    values = closed_form_values([loss, v], sizes={n: 5}, seed=3)
    Av, Bv, xv, vv = (values[s] for s in (A, B, x, v))
    hessians = {b: mc.lambdify([A, B, x], mc.hessian(loss, x), backend=b) for b in BACKENDS}
    expected = jax.hessian(lambda x_: x_ @ (Av @ x_) + jnp.sum(jnp.tanh(Bv @ x_)))(jnp.asarray(xv.ravel()))
    assert_agrees(as_numpy(hessians["jax"](Av, Bv, xv)), expected, 1.0, AUTODIFF_RTOL, "hessian, jax")
    torch_expected = torch.autograd.functional.hessian(
        lambda x_: x_ @ (torch.tensor(Av) @ x_) + torch.sum(torch.tanh(torch.tensor(Bv) @ x_)), torch.tensor(xv.ravel()))
    assert_agrees(as_numpy(hessians["torch"](*(torch.tensor(a) for a in (Av, Bv, xv)))), as_numpy(torch_expected), 1.0,
                  AUTODIFF_RTOL, "hessian, torch")
    product = mc.lambdify([A, B, x, v], mc.hvp(loss, x, v), backend="jax")
    gradient = mc.lambdify([A, B, x], mc.grad(loss, x), backend="jax")
    _, directional = jax.jvp(lambda x_: gradient(Av, Bv, x_), (jnp.asarray(xv),), (jnp.asarray(vv),))
    assert_agrees(as_numpy(product(Av, Bv, xv, vv)), as_numpy(directional), 1.0, AUTODIFF_RTOL, "hvp against jvp of grad")
    s = mc.softmax(x)
    jacobian = mc.lambdify([x], mc.jacobian(s, x), backend="torch")
    softmax = mc.lambdify([x], s, backend="torch")
    engine = torch.autograd.functional.jacobian(softmax, torch.tensor(xv)).reshape(5, 5)
    assert_agrees(as_numpy(jacobian(torch.tensor(xv))), as_numpy(engine), 1.0, AUTODIFF_RTOL, "jacobian of softmax")


# --- JAX: jit, vmap, grad ----------------------------------------------------------------------------


def mlp_loss():
    W1, W2, x, t = mc.matrix("W1", 4, 3), mc.matrix("W2", 2, 4), mc.vector("x", 3), mc.vector("t", 2)
    loss = mc.sum((mc.tanh(W2 @ mc.tanh(W1 @ x)) - t) ** 2) / 2
    return loss, [W1, W2, x, t]


def test_jax_functions_compose_with_jit_vmap_and_grad():
    loss, (W1, W2, x, t) = mlp_loss()
    rng = np.random.default_rng(0)
    W1v, W2v = rng.normal(size=(4, 3)), rng.normal(size=(2, 4))
    X, T = rng.normal(size=(16, 3)), rng.normal(size=(16, 2))  # a batch of 16 samples, one per row
    value_and_grads = mc.lambdify([W1, W2, x, t], [loss, *mc.grad(loss, [W1, W2])], backend="jax")
    reference = mc.lambdify([W1, W2, x, t], [loss, *mc.grad(loss, [W1, W2])])
    batched = jax.jit(jax.vmap(value_and_grads, in_axes=(None, None, 0, 0)))
    losses, G1, G2 = batched(W1v, W2v, X, T)
    assert losses.shape == (16,) and G1.shape == (16, 4, 3)
    for i in range(16):
        expected = reference(W1v, W2v, X[i], T[i])
        assert_agrees(losses[i], expected[0], 1.0, RTOL, f"sample {i}: loss")
        assert_agrees(G1[i], expected[1], 1.0, RTOL, f"sample {i}: ∇W1")
        assert_agrees(G2[i], expected[2], 1.0, RTOL, f"sample {i}: ∇W2")
    # jax.grad of the mean loss over the batch equals the mean of matcalc's per-sample gradients
    single = mc.lambdify([W1, W2, x, t], loss, backend="jax")
    mean_loss = jax.jit(lambda W1_, W2_: jnp.mean(jax.vmap(single, in_axes=(None, None, 0, 0))(W1_, W2_, X, T)))
    engine_G1, engine_G2 = jax.grad(mean_loss, argnums=(0, 1))(W1v, W2v)
    assert_agrees(engine_G1, np.mean(G1, axis=0), 1.0, AUTODIFF_RTOL, "jax.grad of the mean loss, W1")
    assert_agrees(engine_G2, np.mean(G2, axis=0), 1.0, AUTODIFF_RTOL, "jax.grad of the mean loss, W2")


def test_jax_functions_follow_the_float_type_of_their_arguments():
    loss, symbols = mlp_loss()
    f = mc.lambdify(symbols, [loss, mc.grad(loss, symbols[0])], backend="jax")
    values = [np.ones(s.shape, dtype=np.float32) for s in symbols]
    value, gradient = f(*values)
    assert value.dtype == jnp.float32 and gradient.dtype == jnp.float32 and value.shape == ()


# --- PyTorch: device, dtype, torch.compile ------------------------------------------------------------


def torch_devices() -> list[str]:
    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", torch_devices())
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_torch_functions_run_on_the_device_and_dtype_of_their_tensors(device, dtype):
    loss, symbols = mlp_loss()
    f = mc.lambdify(symbols, [loss, *mc.grad(loss, symbols[:2]), mc.eye(3) + symbols[2] @ symbols[2].T], backend="torch")
    rng = np.random.default_rng(1)
    values = [rng.normal(size=s.shape) for s in symbols]
    results = f(*[torch.tensor(v, dtype=dtype, device=device) for v in values])
    expected = mc.lambdify(symbols, [loss, *mc.grad(loss, symbols[:2]), mc.eye(3) + symbols[2] @ symbols[2].T])(*values)
    for result, want in zip(results, expected):
        assert result.dtype == dtype and result.device.type == device
        tolerance = 1e-5 if dtype == torch.float32 else RTOL
        assert_agrees(as_numpy(result), want, 1.0, tolerance, f"torch {dtype} on {device}")


def test_torch_functions_map_over_a_batch_with_torch_func_vmap():
    loss, (W1, W2, x, t) = mlp_loss()
    rng = np.random.default_rng(3)
    W1v, W2v, X, T = rng.normal(size=(4, 3)), rng.normal(size=(2, 4)), rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
    outputs = [loss, *mc.grad(loss, [W1, W2])]
    batched = torch.func.vmap(mc.lambdify([W1, W2, x, t], outputs, backend="torch"), in_dims=(None, None, 0, 0))
    losses, G1, G2 = batched(*(torch.tensor(v) for v in (W1v, W2v, X, T)))
    reference = mc.lambdify([W1, W2, x, t], outputs)
    for i in range(8):
        for result, want in zip((losses[i], G1[i], G2[i]), reference(W1v, W2v, X[i], T[i])):
            assert_agrees(as_numpy(result), want, 1.0, RTOL, f"sample {i}")


def test_torch_functions_compile_with_torch_compile_into_one_graph():
    loss, symbols = mlp_loss()
    f = mc.lambdify(symbols, [loss, *mc.grad(loss, symbols[:2])], backend="torch")
    compiled = torch.compile(f, fullgraph=True)  # fullgraph: an error for any graph break
    rng = np.random.default_rng(2)
    values = [torch.tensor(rng.normal(size=s.shape)) for s in symbols]
    for result, want in zip(compiled(*values), f(*values)):
        assert_agrees(as_numpy(result), as_numpy(want), 1.0, RTOL, "torch.compile")


def test_torch_outputs_that_are_arguments_are_copies():
    x = mc.vector("x", 3)
    f = mc.lambdify([x], [x, x.T, x], backend="torch")
    given = torch.zeros(3, 1)
    first, transposed, again = f(given)
    first += 1
    assert float(given.sum()) == 0.0 and float(transposed.sum()) == 0.0 and float(again.sum()) == 0.0


# --- custom_vjp: matcalc's backward pass inside the engines --------------------------------------------------


def custom_vjp_forms() -> list:
    X, S = mc.matrix("X", 3, 3), mc.matrix("S", 3, 3)
    mu, y = mc.vector("mu", 3), mc.vector("y", 3)
    covariance = S @ S.T + mc.eye(3)
    Q, K, V = mc.matrix("Q", 2, 4), mc.matrix("K", 2, 4), mc.matrix("V", 3, 4)
    return [
        ("log det", mc.logdet(X @ X.T + mc.eye(3)), [X]),
        ("inverse", mc.inv(X + 3 * mc.eye(3)), [X]),
        ("Gaussian log-likelihood", -mc.logdet(covariance) / 2 - (y - mu).T @ mc.inv(covariance) @ (y - mu) / 2, [S, mu, y]),
        ("attention", V @ mc.softmax(K.T @ Q), [Q, K, V]),
    ]


CUSTOM = custom_vjp_forms()


def downstream(backend: str, value):
    """A loss the model computes from the matcalc function's output: sin, so the adjoint G varies."""
    return (jnp.sum(jnp.sin(value)) if backend == "jax" else torch.sum(torch.sin(value)))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("form", CUSTOM, ids=[form[0] for form in CUSTOM])
def test_gradients_through_custom_vjp_equal_the_engines_own(backend, form):
    _, f, inputs = form
    values = closed_form_values([f], seed=4)
    args = [as_backend(backend, values[s]) for s in inputs]
    wrapped = mc.custom_vjp(f, inputs, backend=backend)
    plain = mc.lambdify(inputs, f, backend=backend)  # the engine differentiates this one itself
    ours = autodiff(backend, lambda *a: downstream(backend, wrapped(*a)), args, list(range(len(inputs))))
    theirs = autodiff(backend, lambda *a: downstream(backend, plain(*a)), args, list(range(len(inputs))))
    for variable, mine, engine in zip(inputs, ours, theirs):
        assert_agrees(mine, engine, 1.0, AUTODIFF_RTOL, f"∂/∂{variable.label} through custom_vjp")


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_backward_pass_through_custom_vjp_is_matcalcs(backend):
    """For a symmetric S, matcalc's gradient of tr(AS) is the one within symmetric matrices,
    (A + Aᵀ)/2, where the engine's own would be Aᵀ: the engine runs matcalc's closed form."""
    A, S = mc.matrix("A", 3, 3), mc.matrix("S", 3, 3, symmetric=True)
    f = mc.custom_vjp(mc.trace(A @ S), [A, S], backend=backend)
    Av = np.arange(9.0).reshape(3, 3)
    args = [as_backend(backend, Av), as_backend(backend, np.eye(3))]
    _, gradient = autodiff(backend, f, args, [0, 1])
    np.testing.assert_allclose(gradient, (Av + Av.T) / 2, rtol=1e-12)


def test_custom_vjp_composes_with_jit_and_vmap():
    X = mc.matrix("X", 3, 3)
    log_det = mc.custom_vjp(mc.logdet(X), [X], backend="jax")
    batch = np.eye(3) + 0.1 * np.random.default_rng(7).normal(size=(5, 3, 3))
    gradients = jax.jit(jax.vmap(jax.grad(log_det)))(batch)
    np.testing.assert_allclose(gradients, np.linalg.inv(batch).transpose(0, 2, 1), rtol=1e-10)


@pytest.mark.parametrize("form", CUSTOM, ids=[form[0] for form in CUSTOM])
def test_torch_gradcheck_passes_through_custom_vjp(form):
    _, f, inputs = form
    values = closed_form_values([f], seed=6)
    wrapped = mc.custom_vjp(f, inputs, backend="torch")
    args = tuple(torch.tensor(values[s], requires_grad=True) for s in inputs)
    assert torch.autograd.gradcheck(wrapped, args)


def test_a_loss_with_custom_vjp_trains_with_backward():
    X = mc.matrix("X", 3, 3)
    log_det = mc.custom_vjp(mc.logdet(X), [X], backend="torch")
    weight = torch.tensor(np.eye(3) * 2.0, requires_grad=True)
    loss = -log_det(weight) + torch.sum(weight * weight) / 2
    loss.backward()
    np.testing.assert_allclose(weight.grad.numpy(), -np.eye(3) / 2 + np.eye(3) * 2.0, rtol=1e-12)


def test_custom_vjp_refuses_numpy():
    X = mc.matrix("X", 2, 2)
    with pytest.raises(mc.OperandError, match="'jax' or 'torch'"):
        mc.custom_vjp(mc.logdet(X), [X], backend="numpy")


# --- errors at compile time, and a clear one for a missing library --------------------------------------------


def test_an_unknown_backend_is_refused_with_the_valid_names():
    x = mc.vector("x", 2)
    with pytest.raises(mc.OperandError, match="'numpy', 'jax', 'torch'"):
        mc.lambdify([x], x, backend="tensorflow")


@pytest.mark.parametrize(("backend", "module", "extra"), [("jax", "jax.numpy", "jax"), ("torch", "torch", "torch")])
def test_a_backend_that_is_not_installed_names_the_extra(monkeypatch, backend, module, extra):
    monkeypatch.setitem(sys.modules, module, None)  # import of it now raises ImportError
    x = mc.vector("x", 2)
    with pytest.raises(mc.MatcalcError, match=rf'pip install "matcalc-frobenius\[{extra}\]"'):
        mc.lambdify([x], x, backend=backend)


def test_a_user_function_a_backend_cannot_express_is_refused_when_compiling():
    u = sympy.Symbol("u")
    bessel = mc.elementwise("bessel_j0_backend_test", sympy.Lambda(u, sympy.besselj(0, u)))
    gamma = mc.elementwise("gamma_backend_test", sympy.Lambda(u, sympy.gamma(u)))
    x = mc.vector("x", 3)
    assert np.isfinite(mc.lambdify([x], mc.sum(bessel(x)))(np.ones(3)))  # NumPy computes it with scipy
    for backend, function in (("jax", bessel), ("torch", bessel), ("jax", gamma)):
        with pytest.raises(mc.EvaluationError, match="backend cannot compute"):
            mc.lambdify([x], mc.grad(mc.sum(function(x)), x), backend=backend)


def test_user_functions_are_printed_for_each_backend():
    u = sympy.Symbol("u")
    wave = mc.elementwise("wave_backend_test", sympy.Lambda(u, sympy.sin(u) * u**2 + 3))
    x = mc.vector("x", 3)
    loss = mc.sum(wave(x))
    values = {x: np.array([[0.5], [-1.0], [2.0]])}
    for backend in BACKENDS:
        assert compare_backend(backend, loss, [x], values)


# --- exported source and the command line ------------------------------------------------------------


@pytest.mark.parametrize(("backend", "modules"), [("jax", {"jax", "jax.numpy"}), ("torch", {"torch"})])
def test_exported_source_imports_only_its_backend_and_runs(backend, modules):
    W, a = mc.matrix("W", 3, 2), mc.vector("a", 2)
    loss = mc.sum(mc.softplus(W @ a)) + mc.logdet(W.T @ W)
    source = mc.to_source([W, a], [loss, mc.grad(loss, W)], backend=backend, name="value_and_grad")
    imported = {alias.name for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Import) for alias in node.names}
    assert imported == modules
    namespace: dict = {}
    exec(compile(source, "<exported>", "exec"), namespace)  # noqa: S102 - the point of the test
    rng = np.random.default_rng(5)
    Wv, av = rng.normal(size=(3, 2)), rng.normal(size=(2, 1))
    expected = mc.lambdify([W, a], [loss, mc.grad(loss, W)])(Wv, av)
    results = namespace["value_and_grad"](as_backend(backend, Wv), as_backend(backend, av))
    for result, want in zip(results, expected):
        assert_agrees(as_numpy(result), want, 1.0, RTOL, f"exported {backend} source")


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_command_line_prints_backend_code(backend):
    result = subprocess.run(
        [sys.executable, "-m", "matcalc", "grad", "sum(log(exp(-y.*(X*w)) + vector(1)))", "--wrt", "w", "--code", backend],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert ("import jax.numpy as jnp" if backend == "jax" else "import torch") in result.stdout
    assert "def value_and_grad(" in result.stdout and "import numpy" not in result.stdout


def test_a_pickled_backend_function_compiles_again_for_its_backend():
    loss, symbols = mlp_loss()
    f = pickle.loads(pickle.dumps(mc.lambdify(symbols, loss, backend="torch")))
    assert f.backend == "torch" and "import torch" in f.source
    assert isinstance(f(*[torch.ones(s.shape, dtype=torch.float64) for s in symbols]), torch.Tensor)


def test_the_gpu_benchmark_says_so_and_exits_0_without_a_gpu():
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present: benchmarks/gpu.py would measure, not say so")
    result = subprocess.run([sys.executable, "benchmarks/gpu.py"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("No CUDA device")


# --- many devices -------------------------------------------------------------------------------------------


SHARDED = textwrap.dedent('''
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec
    import matcalc as mc

    W1, W2 = mc.matrix("W1", 8, 5), mc.matrix("W2", 3, 8)
    x, t = mc.vector("x", 5), mc.vector("t", 3)
    loss = mc.sum((mc.tanh(W2 @ mc.tanh(W1 @ x)) - t) ** 2) / 2
    per_sample = mc.lambdify([W1, W2, x, t], mc.grad(loss, [W1, W2]), backend="jax")

    @jax.jit
    def minibatch_gradient(W1v, W2v, X, T):
        G1, G2 = jax.vmap(per_sample, in_axes=(None, None, 0, 0))(W1v, W2v, X, T)
        return G1.mean(axis=0), G2.mean(axis=0)

    rng = np.random.default_rng(0)
    W1v, W2v = rng.normal(size=(8, 5)), rng.normal(size=(3, 8))
    X, T = rng.normal(size=(64, 5)), rng.normal(size=(64, 3))
    one_device = minibatch_gradient(W1v, W2v, X, T)

    devices = jax.devices()
    assert len(devices) == 8, devices
    batch = NamedSharding(Mesh(np.array(devices), ("batch",)), PartitionSpec("batch"))
    Xs, Ts = jax.device_put(X, batch), jax.device_put(T, batch)
    assert len(Xs.sharding.device_set) == 8
    sharded = minibatch_gradient(W1v, W2v, Xs, Ts)
    for a, b in zip(sharded, one_device):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-14)
    print("sharded over", len(Xs.sharding.device_set), "devices: equal")
''')


def test_a_minibatch_gradient_sharded_over_eight_devices_equals_one_device():
    environment = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=8", "JAX_PLATFORMS": "cpu"}
    result = subprocess.run([sys.executable, "-c", SHARDED], cwd=ROOT, env=environment, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "sharded over 8 devices: equal" in result.stdout
