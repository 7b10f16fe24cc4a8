"""matcalc's benchmark suite: one table, every library measured in the same run, one thread.

    python -m benchmarks             (or: python benchmarks/run.py)
    python -m benchmarks --quick     small sizes; a smoke run that the tests use

Ratios are matcalc's time over the other's (below 1 means matcalc is faster).  torch and
JAX rows appear when they are installed: the other libraries themselves, and matcalc's own
JAX and PyTorch backends (``mc.lambdify(..., backend="jax" | "torch")``) against those
libraries' autodiff.  Each result is checked against matcalc's before it is timed.  Every library runs on one core with one thread, and glibc's malloc keeps the
memory it frees (benchmarks/steady.py).
"""

from __future__ import annotations

import pathlib
import sys

_HERE = pathlib.Path(__file__).resolve().parent
sys.path[:0] = [str(_HERE), str(_HERE.parent)]

import steady  # noqa: E402 - before NumPy loads

# isort: split
import argparse  # noqa: E402
import datetime  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import timeit  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402
import peers  # noqa: E402
from derive_mlp import named_mlp, time_sympy  # noqa: E402
from networks import minibatch_network, tanh_mlp  # noqa: E402

import matcalc as mc  # noqa: E402

# tensorgrad is AGPL and not installed here; issue 8 gives its compiler sweep at L = 64.
TENSORGRAD_L64_SECONDS = 0.133


@dataclass
class Row:
    benchmark: str
    matcalc: float | str  # seconds, or a description
    other: str = ""
    other_value: float | str = ""
    goal: str = ""
    met: bool | None = None

    def cells(self) -> list[str]:
        ours = _duration(self.matcalc) if isinstance(self.matcalc, float) else self.matcalc
        theirs = _duration(self.other_value) if isinstance(self.other_value, float) else self.other_value
        ratio = ""
        if isinstance(self.matcalc, float) and isinstance(self.other_value, float):
            value = self.matcalc / self.other_value
            ratio = f"{value:.2f}×" if value >= 0.1 else f"{value:.2g}×"
        met = {True: "yes", False: "**no**", None: ""}[self.met]
        return [self.benchmark, ours, self.other, theirs, ratio, self.goal, met]


def _duration(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


ROUNDS = 7  # --quick sets 1


def compare(candidates: dict) -> dict:
    """The best per-call time of each function, measured in interleaved rounds (each round
    times every candidate once, for about 0.1 s), so that all see the same machine load."""
    timers = {name: timeit.Timer(function) for name, function in candidates.items()}
    if ROUNDS == 1:
        return {name: timer.timeit(number=1) for name, timer in timers.items()}
    numbers = {name: max(1, timer.autorange()[0] // 2) for name, timer in timers.items()}
    best = dict.fromkeys(timers, float("inf"))
    for _ in range(ROUNDS):
        for name, timer in timers.items():
            best[name] = min(best[name], timer.timeit(numbers[name]) / numbers[name])
    return best


def once(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def derivation_rows(depth: int, deep: int) -> list[Row]:
    named_loss, named_weights = named_mlp(depth)
    times = compare({
        "grad": lambda: mc.grad(*tanh_mlp(depth)[:2]),
        "derive": lambda: mc.derive(named_loss, named_weights),
        "one layer": lambda: mc.grad(*tanh_mlp(1)[:2]),
        "two layers": lambda: mc.grad(*tanh_mlp(2)[:2]),
    })
    view = str(mc.derive(named_loss, named_weights).view("backprop")).encode()
    limit = sys.getrecursionlimit()
    deep_time = once(lambda: mc.grad(*tanh_mlp(deep)[:2]))
    attempts = [time_sympy(1) for _ in range(3)]  # the first call also loads SymPy's matrix modules
    timed = [float(a.split()[0]) for a in attempts if a.endswith(" s") and not a.startswith(">")]
    sympy_one = min(timed) if timed else attempts[0]
    return [
        Row(f"gradient of a depth-{depth} tanh MLP wrt all {depth} weights (`mc.grad`)", times["grad"],
            "tensorgrad 0.3.0 compiler sweep (issue 8's figure)", TENSORGRAD_L64_SECONDS if depth == 64 else "",
            "≤ 15 ms", times["grad"] <= 0.015),
        Row("the same, every derivation step recorded (`mc.derive`)", times["derive"], goal="≤ 15 ms",
            met=times["derive"] <= 0.015),
        Row(f"its printed result (backprop view, δ recursion with names), L = {depth}", f"{len(view) / 1000:.1f} kB",
            "tensorgrad (issue 8's figure)", "12.4 M characters" if depth == 64 else "", "< 10 kB", len(view) < 10_000),
        Row(f"depth {deep}, Python's default recursion limit ({limit})", deep_time, goal="works", met=True),
        Row("depth 1 (SymPy manages one layer)", times["one layer"], "SymPy `MatrixSymbol.diff`", sympy_one),
        Row("depth 2", times["two layers"], "SymPy `MatrixSymbol.diff`", time_sympy(2)),
    ]


def backend_functions(torch, jax, inputs, outputs, arrays) -> dict:
    """matcalc's JAX function under jax.jit and its torch function, each bound to the arrays."""
    functions = {}
    if jax is not None:
        functions["matcalc JAX"] = peers.jax_bound(*jax, mc.lambdify(inputs, outputs, backend="jax"), arrays)
    if torch is not None:
        functions["matcalc torch"] = peers.torch_bound(torch, mc.lambdify(inputs, outputs, backend="torch"), arrays)
    return functions


def assert_equal_results(function, expected, rtol: float) -> None:
    results = function()
    for theirs, ours in zip(results if isinstance(results, (tuple, list)) else [results], expected):
        np.testing.assert_allclose(np.asarray(theirs), ours, rtol=rtol, atol=rtol)


def backend_rows(label: str, times: dict, goals: dict) -> list[Row]:
    """One row per matcalc backend against its library's autodiff: goals maps the backend's name
    to (that autodiff's name, the largest ratio that meets the goal)."""
    rows = []
    for name, (other, ratio) in goals.items():
        if name in times and other in times:
            backend = name.split()[1]
            rows.append(Row(f"{label}(backend=\"{backend.lower()}\")`" + (" under `jax.jit`" if backend == "JAX" else ""),
                            times[name], other, times[other], f"≤ {ratio:.2f}×", times[name] <= ratio * times[other]))
    return rows


def evaluation_rows(width: int, depths: list[int]) -> list[Row]:
    torch, jax = peers.torch_module(), peers.jax_modules()
    rng = np.random.default_rng(0)
    rows = []
    for depth in depths:
        loss, weights, x, t = tanh_mlp(depth)
        gradient = mc.lambdify([*weights, x, t], mc.grad(loss, weights))
        Ws = [rng.normal(size=(width, width)) / np.sqrt(width) for _ in range(depth)]
        xv, tv = rng.normal(size=(width, 1)), rng.normal(size=(width, 1))
        buffers = gradient(*Ws, xv, tv)
        expected = peers.numpy_backprop(Ws, xv, tv)
        candidates = {
            "NumPy backprop by hand": lambda: peers.numpy_backprop(Ws, xv, tv),
            "NumPy by hand into preallocated arrays": lambda: peers.numpy_backprop_into(Ws, xv, tv, buffers),
        }
        if torch is not None:
            candidates["torch.autograd"] = peers.torch_backprop(torch, Ws, xv, tv)
        if jax is not None:
            candidates["jax.jit(jax.grad)"] = peers.jax_backprop(*jax, Ws, xv, tv)
        for function in candidates.values():
            for theirs, ours in zip(function(), expected):
                np.testing.assert_allclose(np.asarray(theirs), ours, rtol=1e-9, atol=1e-12)
        gradient(*Ws, xv, tv, out=buffers)
        for ours, theirs in zip(buffers, expected):
            np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
        backends = backend_functions(torch, jax, [*weights, x, t], mc.grad(loss, weights), [*Ws, xv, tv])
        for function in backends.values():
            assert_equal_results(function, expected, 1e-10)
        times = compare({
            "out": lambda: gradient(*Ws, xv, tv, out=buffers),
            "fresh": lambda: gradient(*Ws, xv, tv),
            **candidates,
            **backends,
        })
        into_time, fresh_time = times.pop("out"), times.pop("fresh")
        backend_times = {name: times.pop(name) for name in backends}
        frameworks = {name: times[name] for name in ("torch.autograd", "jax.jit(jax.grad)") if name in times}
        fastest = min(frameworks, key=frameworks.get) if frameworks else None
        label = f"∇ of the MLP, width {width}, L = {depth}, `mc.lambdify`"
        for name, seconds in times.items():
            goal = "≤ 1.00× the faster of torch and JAX" if name == fastest else ""
            rows.append(Row(f"{label} with `out=`", into_time, name, seconds, goal, into_time <= seconds if goal else None))
        rows.append(Row(f"{label}, new arrays each call", fresh_time, fastest or "NumPy backprop by hand",
                        times[fastest or "NumPy backprop by hand"]))
        rows += backend_rows(f"∇ of the MLP, width {width}, L = {depth}, `mc.lambdify", {**times, **backend_times},
                             {"matcalc JAX": ("jax.jit(jax.grad)", 1.0), "matcalc torch": ("torch.autograd", 0.8)})
    return rows


def minibatch_rows(depth: int, width: int, batch: int) -> list[Row]:
    """The compiled gradient of networks.minibatch_network wrt all weights and biases, against
    hand-written NumPy, torch.autograd and jax.jit(jax.grad), all checked against hand NumPy."""
    torch, jax = peers.torch_module(), peers.jax_modules()
    rng = np.random.default_rng(0)
    loss, parameters, X, T = minibatch_network(depth)
    gradient = mc.lambdify([*parameters, X, T], mc.grad(loss, parameters))
    values = []
    for _ in range(depth):
        values += [rng.normal(size=(width, width)) / np.sqrt(width), rng.normal(size=(width, 1)) / 10]
    Xv, Tv = rng.normal(size=(width, batch)), np.eye(width)[:, rng.integers(0, width, batch)]
    expected = peers.numpy_minibatch_backprop(values, Xv, Tv)
    candidates = {"NumPy backprop by hand": lambda: peers.numpy_minibatch_backprop(values, Xv, Tv)}
    if torch is not None:
        candidates["torch.autograd"] = peers.torch_minibatch_backprop(torch, values, Xv, Tv)
    if jax is not None:
        candidates["jax.jit(jax.grad)"] = peers.jax_minibatch_backprop(*jax, values, Xv, Tv)
    for name, function in [("matcalc", lambda: gradient(*values, Xv, Tv)), *candidates.items()]:
        if name != "NumPy backprop by hand":  # the reference itself
            assert_equal_results(function, expected, 1e-9)
    times = compare({"matcalc": lambda: gradient(*values, Xv, Tv), **candidates})
    ours = times.pop("matcalc")
    label = f"∇ of a minibatch softmax network, width {width}, batch {batch}, L = {depth}, `mc.lambdify`"
    goals = {"NumPy backprop by hand": ("≤ 1.2×", 1.2), "torch.autograd": ("≤ 1.00×", 1.0)}
    rows = []
    for name, seconds in times.items():
        goal, limit = goals.get(name, ("", None))
        rows.append(Row(label, ours, name, seconds, goal, ours <= limit * seconds if limit else None))
    return rows


def import_rows(interpreters: int) -> list[Row]:
    """Issue 17: what ``import matcalc`` adds to ``import numpy, sympy``, in fresh interpreters
    (the best of several: the first pays for the disk cache)."""
    code = "import time, numpy, sympy; start = time.perf_counter(); import matcalc; print(time.perf_counter() - start)"
    times = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
             for _ in range(interpreters)]
    label = f"`import matcalc` after `import numpy, sympy`, best of {interpreters} fresh interpreters"
    return [Row(label, min(times), goal="≤ 150 ms", met=min(times) <= 0.15)]


def compile_rows(depth: int, width: int) -> list[Row]:
    """How long ``mc.lambdify`` takes to compile the depth-L gradient (already derived) for each
    backend, and a JAX function's first call under jax.jit (tracing and XLA's compilation)."""
    torch, jax = peers.torch_module(), peers.jax_modules()
    loss, weights, x, t = tanh_mlp(depth)
    inputs, gradients = [*weights, x, t], mc.grad(loss, weights)
    backends = ["numpy"] + (["jax"] if jax is not None else []) + (["torch"] if torch is not None else [])
    rows = []
    for backend in backends:
        seconds = min(once(lambda: mc.lambdify(inputs, gradients, backend=backend)) for _ in range(3))
        rows.append(Row(f"`mc.lambdify` of the depth-{depth} MLP gradient, {backend} backend (compile time)", seconds))
    if jax is not None:
        jax_module, jnp = jax
        rng = np.random.default_rng(3)
        Ws = [jnp.asarray(rng.normal(size=(width, width)) / np.sqrt(width)) for _ in range(depth)]
        xv, tv = jnp.asarray(rng.normal(size=(width, 1))), jnp.asarray(rng.normal(size=(width, 1)))
        ours = jax_module.jit(mc.lambdify(inputs, gradients, backend="jax"))
        theirs = peers.jax_mlp_gradient(jax_module, jnp)
        ours_first = once(lambda: jax_module.block_until_ready(ours(*Ws, xv, tv)))
        theirs_first = once(lambda: jax_module.block_until_ready(theirs(Ws, xv, tv)))
        for a, b in zip(ours(*Ws, xv, tv), theirs(Ws, xv, tv)):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-9, atol=1e-12)
        rows.append(Row(f"its first call under `jax.jit` (tracing, XLA compilation), width {width}", ours_first,
                        "jax.jit(jax.grad), first call", theirs_first))
    return rows


def hessian_rows(sizes: list[int], hvp_sizes: list[int]) -> list[Row]:
    jax = peers.jax_modules()
    (n,) = mc.dims("n")
    A, B, x, v = mc.matrix("A", n, n), mc.matrix("B", n, n), mc.vector("x", n), mc.vector("v", n)
    loss = x.T @ A @ x + mc.sum(mc.tanh(B @ x))
    hessian = mc.lambdify([A, B, x], mc.hessian(loss, x))
    hessian_jax = mc.lambdify([A, B, x], mc.hessian(loss, x), backend="jax") if jax is not None else None
    quadratic = mc.lambdify([A], mc.hessian(x.T @ A @ x, x))
    hvp = mc.lambdify([A, B, x, v], mc.hvp(loss, x, v))
    rng = np.random.default_rng(1)
    rows, hvp_times = [], []
    for size in sorted(set(sizes) | set(hvp_sizes)):
        Av, Bv = rng.normal(size=(size, size)), rng.normal(size=(size, size)) / np.sqrt(size)
        xv, vv = rng.normal(size=(size, 1)), rng.normal(size=(size, 1))
        expected = peers.numpy_hessian(Av, Bv, xv)
        np.testing.assert_allclose(hessian(Av, Bv, xv), expected, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(hvp(Av, Bv, xv, vv), peers.numpy_hvp(Av, Bv, xv, vv), rtol=1e-9, atol=1e-9)
        if size in hvp_sizes:
            candidates = {"NumPy closed form by hand": lambda: peers.numpy_hvp(Av, Bv, xv, vv)}
            if jax is not None:
                candidates["jax.jit(jvp of grad)"] = peers.jax_hvp(*jax, Av, Bv, xv, vv)
                jax_result = np.asarray(candidates["jax.jit(jvp of grad)"]()).reshape(-1, 1)
                np.testing.assert_allclose(jax_result, hvp(Av, Bv, xv, vv), rtol=1e-9, atol=1e-9)
            times = compare({"matcalc": lambda: hvp(Av, Bv, xv, vv), **candidates})
            ours = times.pop("matcalc")
            hvp_times.append((size, ours))
            for name, seconds in times.items():
                rows.append(Row(f"`mc.hvp` of xᵀAx + Σ tanh(Bx), n = {size}", ours, name, seconds))
        if size not in sizes:
            continue
        buffer = hessian(Av, Bv, xv)
        candidates = {"NumPy closed form by hand": lambda: peers.numpy_hessian(Av, Bv, xv)}
        backends = {}
        if jax is not None:
            candidates["jax.jit(jax.hessian)"] = peers.jax_hessian(*jax, Av, Bv, xv)
            np.testing.assert_allclose(np.asarray(candidates["jax.jit(jax.hessian)"]()), expected, rtol=1e-9, atol=1e-9)
            backends = {"matcalc JAX": peers.jax_bound(*jax, hessian_jax, [Av, Bv, xv])}
            assert_equal_results(backends["matcalc JAX"], [expected], 1e-9)
        times = compare({"matcalc": lambda: hessian(Av, Bv, xv, out=buffer), **candidates, **backends})
        ours = times.pop("matcalc")
        backend_times = {name: times.pop(name) for name in backends}
        for name, seconds in times.items():
            goal = "≤ 1.2×" if name.startswith("NumPy") else ""
            rows.append(Row(f"Hessian of xᵀAx + Σ tanh(Bx), n = {size}, `out=`", ours, name, seconds,
                            goal, ours <= 1.2 * seconds if goal else None))
        rows += backend_rows(f"Hessian of xᵀAx + Σ tanh(Bx), n = {size}, `mc.lambdify", {**times, **backend_times},
                             {"matcalc JAX": ("jax.jit(jax.hessian)", 0.5)})
        if jax is not None:
            plain = peers.jax_hessian(*jax, Av, Bv, xv, with_tanh=False)
            np.testing.assert_allclose(np.asarray(plain()), quadratic(Av), rtol=1e-12, atol=1e-12)
            times = compare({"matcalc": lambda: quadratic(Av), "jax": plain})
            rows.append(Row(f"Hessian of xᵀAx, n = {size}", times["matcalc"], "jax.jit(jax.hessian)", times["jax"]))
    if len(hvp_times) >= 2:
        (small, t_small), (large, t_large) = hvp_times[0], hvp_times[-1]
        growth, scale = t_large / t_small, large / small
        # Both sizes are far larger than the caches, so time follows the memory read: O(n²).
        rows.append(Row(f"`mc.hvp` time, n = {small} → {large}", f"{growth:.1f}× longer", "O(n²) predicts",
                        f"{scale ** 2:.0f}× (O(n³): {scale ** 3:.0f}×)", "O(n²)", growth < scale**2.5))
    return rows


def jacobian_rows(size: int) -> list[Row]:
    """The dense Jacobian ∂vec(AXB)/∂vec X = Bᵀ ⊗ A, evaluated, against NumPy's Kronecker product."""
    (n,) = mc.dims("n")
    A, X, B = mc.matrix("A", n, n), mc.matrix("X", n, n), mc.matrix("B", n, n)
    jacobian = mc.jacobian(A @ X @ B, X)
    rng = np.random.default_rng(3)
    values = {A: rng.normal(size=(size, size)), X: rng.normal(size=(size, size)), B: rng.normal(size=(size, size))}
    np.testing.assert_array_equal(mc.evaluate(jacobian, values), np.kron(values[B].T, values[A]))
    times = compare({"matcalc": lambda: mc.evaluate(jacobian, values), "NumPy": lambda: np.kron(values[B].T, values[A])})
    return [Row(f"dense Jacobian ∂vec(AXB)/∂vec X, n = {size} (`mc.evaluate` of `mc.jacobian`)", times["matcalc"],
                "`np.kron(B.T, A)`", times["NumPy"], "≤ 1.5×", times["matcalc"] <= 1.5 * times["NumPy"])]


def _size(text: str) -> str:
    return f"{len(text) / 1000:.1f} k characters ({len(text.encode()) / 1000:.1f} kB UTF-8)"


def readability_rows(depth: int, deep: int) -> list[Row]:
    """Issue 15: how long the printed results of the tanh MLP are, without mc.let (automatic names)
    and with one per layer, and how long deriving and printing the deep one takes."""
    rows = []
    for named in (False, True):
        loss, weights = named_mlp(depth) if named else tanh_mlp(depth)[:2]
        derivation = mc.derive(loss, weights)
        gradients = [derivation.gradient[w] for w in weights]
        view, every, first = str(derivation.view("backprop")), mc.text(gradients), str(gradients[0])
        label = "with mc.let per layer" if named else "without mc.let"
        view_goal = (4_400, "≤ 4.4 k characters (4,323 before issue 15)") if named else (10_000, "≤ 10 k characters")
        rows += [
            Row(f"depth-{depth} MLP {label}: backprop view", _size(view), goal=view_goal[1], met=len(view) <= view_goal[0]),
            Row(f"depth-{depth} MLP {label}: `mc.text` of all {depth} gradients", _size(every),
                goal="" if named else "≤ 15 k characters", met=None if named else len(every) <= 15_000),
            Row(f"depth-{depth} MLP {label}: `str` of the first layer's gradient", _size(first),
                goal="" if named else "≤ 6 k characters", met=None if named else len(first) <= 6_000),
        ]
    loss, weights = tanh_mlp(deep)[:2]
    printed: list = []

    def derive_and_print():
        derivation = mc.derive(loss, weights)
        printed[:] = [str(derivation.view("backprop")), str(derivation.gradient[weights[0]])]

    seconds = once(derive_and_print)
    characters = sum(len(text) for text in printed)
    rows += [
        Row(f"depth {deep} without mc.let: derive, backprop view and `str` of the first gradient", seconds,
            goal="≤ 1 s", met=seconds <= 1.0),
        Row(f"depth {deep}: their printed size", _size("".join(printed)), goal="≤ 250 k characters",
            met=characters <= 250_000),
    ]
    return rows


def check_rows(sizes: list[tuple[int, int]]) -> list[Row]:
    n, m = mc.dims("n m")
    W, a, b, t = mc.matrix("W", n, m), mc.vector("a", m), mc.vector("b", n), mc.vector("t", n)
    loss = mc.sum((mc.sigmoid(mc.let("z", W @ a + b)) - t) ** 2) / 2
    rows = []
    for (size_n, size_m), limit in zip(sizes, (2.0, 10.0)):
        start = time.perf_counter()  # the first call: nothing cached
        result = mc.check(loss, W, dims={n: size_n, m: size_m}, seed=0)
        seconds = time.perf_counter() - start
        assert result.ok
        rows.append(Row(f"`mc.check` (elementwise chain rule and finite differences), W is {size_n}×{size_m}", seconds,
                        goal=f"≤ {limit:g} s", met=seconds <= limit))
    return rows


def header() -> str:
    versions = [f"Python {platform.python_version()}", f"NumPy {np.__version__}", f"matcalc {mc.__version__}"]
    torch, jax = peers.torch_module(), peers.jax_modules()
    if torch is not None:
        versions.append(f"torch {torch.__version__}")
    if jax is not None:
        versions.append(f"JAX {jax[0].__version__}")
    return (
        f"{datetime.date.today().isoformat()}, {platform.system()} {platform.machine()}, {os.cpu_count()} cores; "
        + ", ".join(versions)
        + "; float64; one core, one thread for BLAS, OpenMP, XLA and torch"
        + ("; malloc keeps freed memory" if steady.STEADY_ALLOCATOR else "")
        + f"; best of {ROUNDS} interleaved rounds"
    )


def main(argv=None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run, not a measurement")
    args = parser.parse_args(argv)
    global ROUNDS
    ROUNDS = 1 if args.quick else 7
    if args.quick:
        plan = dict(depth=4, deep=50, width=16, depths=[2], sizes=[20], hvp_sizes=[20, 40], checks=[(3, 4)], jacobian=10,
                    batch=8, interpreters=1)
    else:
        plan = dict(depth=64, deep=1000, width=256, depths=[4, 16], sizes=[100, 1000], hvp_sizes=[2000, 4000],
                    checks=[(3, 4), (10, 10)], jacobian=50, batch=128,
                    interpreters=7)
    print(header() + (" (--quick: a smoke run, not a measurement)" if args.quick else ""))
    print()
    columns = ["benchmark", "matcalc", "compared with", "its figure", "ratio", "goal", "met"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    rows = []
    for section in (
        lambda: derivation_rows(plan["depth"], plan["deep"]),
        lambda: evaluation_rows(plan["width"], plan["depths"]),
        lambda: minibatch_rows(4, plan["width"], plan["batch"]),
        lambda: import_rows(plan["interpreters"]),
        lambda: compile_rows(plan["depth"], plan["width"]),
        lambda: hessian_rows(plan["sizes"], plan["hvp_sizes"]),
        lambda: jacobian_rows(plan["jacobian"]),
        lambda: check_rows(plan["checks"]),
        lambda: readability_rows(plan["depth"], plan["deep"]),
    ):
        for row in section():
            print("| " + " | ".join(row.cells()) + " |", flush=True)
            rows.append(row)
    return rows


if __name__ == "__main__":
    main()
