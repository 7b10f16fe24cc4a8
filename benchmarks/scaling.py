"""Costs that should be linear: each case timed at two sizes (three where feasible), one table.

    python benchmarks/scaling.py            sizes 100 and 1,000 (10,000 for the deep chains)
    python benchmarks/scaling.py --quick    sizes 10 and 30: a smoke run, not a measurement

A cost linear in the size grows 10× from size 100 to size 1,000; the goal allows 12×, and
each case must take under 1 s.  Each case is checked (its result against an independent
count or value) before it is timed; a timing is the best processor time of a few runs when
one run is short, the first run when it is long.  Caches that outlive a call (the scalar-algebra
decisions) are cleared before each run, so every run does the whole work, and each run
gets a freshly built expression.
"""

from __future__ import annotations

import argparse
import gc
import pathlib
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

sys.path[:0] = [str(pathlib.Path(__file__).resolve().parent.parent)]

import numpy as np  # noqa: E402

import matcalc as mc  # noqa: E402
from matcalc import scalar_algebra  # noqa: E402
from matcalc.graph import postorder  # noqa: E402

GOAL_SECONDS = 1.0
GOAL_GROWTH = 12.0
LIMIT_SECONDS = 60  # a run that takes longer is stopped and shown as "> 60 s"

(n,) = mc.dims("n")
W, x = mc.matrix("W", n, n), mc.vector("x", n)


@dataclass
class Case:
    name: str
    prepare: Callable[[int], Callable[[], object]]  # size -> the call to time (checked first)
    sizes: tuple[int, ...]
    check: Callable[[int, object], None] | None = None  # size, the call's result -> raises if wrong


# --- the cases ------------------------------------------------------------------------------------


def tanh_chain(size: int):
    h = x
    for _ in range(size):
        h = mc.tanh(W @ h)
    loss = mc.sum(h)
    return lambda: mc.grad(loss, W)


def check_tanh_chain(size: int, gradient) -> None:
    """At a small width, the gradient's value against backpropagation by hand in NumPy."""
    if size > 1000:
        return
    rng = np.random.default_rng(size)
    Wv, xv = rng.normal(size=(3, 3)) / 2, rng.normal(size=(3, 1))
    hs = [xv]
    for _ in range(size):
        hs.append(np.tanh(Wv @ hs[-1]))
    delta, expected = np.ones((3, 1)), np.zeros((3, 3))
    for k in range(size, 0, -1):
        delta = delta * (1 - hs[k] ** 2)
        expected += delta @ hs[k - 1].T
        delta = Wv.T @ delta
    actual = mc.evaluate(gradient, {W: Wv, x: xv, n: 3})
    np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-12)


def product_chain(size: int):
    matrices = [mc.matrix(f"A{k + 1}", n, n) for k in range(size)]
    h = x
    for A in reversed(matrices):
        h = A @ h
    loss = mc.sum(h)
    return lambda: mc.grad(loss, [matrices[0], x])


def check_product_chain(size: int, gradients) -> None:
    """∂/∂A₁ = 𝟏(A₂⋯A_L x)ᵀ and ∂/∂x = (A₁⋯A_L)ᵀ𝟏: the number of matrices in each."""
    for gradient, expected in zip(gradients, (size - 1, size)):
        found = sum(1 for node in postorder([gradient]) if isinstance(node, mc.expr.Symbol) and node.label[0] == "A")
        assert found == expected, (found, expected)


def power_chain(size: int):
    h = x
    for _ in range(size):
        h = W @ h
    loss = mc.sum(h)
    return lambda: mc.grad(loss, W)


def check_power_chain(size: int, gradient) -> None:
    """At a small width, against Σₖ (Wᵀ)ᵏ𝟏 (W^(L−1−k) x)ᵀ in NumPy."""
    if size > 100:
        return
    rng = np.random.default_rng(size)
    Wv, xv = rng.normal(size=(3, 3)) / 2, rng.normal(size=(3, 1))
    powers = [np.eye(3)]
    for _ in range(size):
        powers.append(Wv @ powers[-1])
    expected = sum(powers[k].T @ np.ones((3, 1)) @ (powers[size - 1 - k] @ xv).T for k in range(size))
    np.testing.assert_allclose(mc.evaluate(gradient, {W: Wv, x: xv, n: 3}), expected, rtol=1e-9, atol=1e-9)


def sum_of_vectors(size: int):
    e = mc.vector("x0", n)
    for k in range(1, size):
        e = e + mc.vector(f"x{k}", n)
    return lambda: mc.simplify(e)


def sum_of_scaled_vectors(size: int):
    e = mc.scalar("c0") * mc.vector("x0", n)
    for k in range(1, size):
        e = e + mc.scalar(f"c{k}") * mc.vector(f"x{k}", n)
    return lambda: mc.simplify(e)


def sum_of_groups(size: int):
    """A xₖ + Bₖ xₖ for k < size: a group of terms per k, each to be factored, (A + Bₖ)xₖ."""
    A = mc.matrix("A", n, n)
    e = None
    for k in range(size):
        xk = mc.vector(f"x{k}", n)
        e = A @ xk + mc.matrix(f"B{k}", n, n) @ xk if e is None else e + A @ xk + mc.matrix(f"B{k}", n, n) @ xk
    return lambda: mc.simplify(e)


def check_sum(size: int, result) -> None:
    """One flat sum of all the terms."""
    assert isinstance(result, mc.ops.Add) and len(result.args) == size, type(result)


def transposes(size: int):
    e = x
    for _ in range(size):
        e = e.T
    return lambda: str(e)


def check_transposes(size: int, text) -> None:
    """x and one ᵀ per transpose, in whatever parentheses the printer uses."""
    assert text.strip("()ᵀ") == "x" and text.count("ᵀ") == size, text[:40]


def _losses(seeds) -> list:
    """The random losses benchmarks/fuzz.py draws for ``seeds``, with the variables it
    differentiates (all but the weights C, c)."""
    from tests.strategies import rng_chooser, scalar_loss

    losses = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        try:
            loss = scalar_loss(rng_chooser(rng), depth=int(rng.integers(2, 5)))
        except mc.MatcalcError:
            continue  # a refusal while building: fuzz.py skips it too
        variables = [v for v in loss.variables.values() if v.label not in ("C", "c") and not v.columns_sum_to_one]
        if variables:
            losses.append((seed, loss, variables))
    return losses


def _differentiate_each(losses: list):
    def run():
        slowest = (0.0, None)
        for seed, loss, variables in losses:
            scalar_algebra._DECISIONS.clear()
            start = time.process_time()
            mc.grad(loss, variables)
            slowest = max(slowest, (time.process_time() - start, seed))
        return slowest  # (seconds, seed)

    return run


def random_losses(size: int):
    """``size`` random losses (seeds 0, 1, ...), each differentiated; the slowest is kept."""
    return _differentiate_each(_losses(range(size)))


def nested_quotients() -> list:
    """Four losses the fuzz run drew (seeds 1251, 2614, 3254 and 4705 of benchmarks/fuzz.py,
    with tests/strategies.py as of issue 12) whose gradients took from 3.6 s to 45 s:
    quotients nested in quotients, ((u² + 1/2)⁻¹)² + 1/2)⁻¹, which sympy.cancel expanded as
    expression trees.  Written out here, since the strategies change and their seeds with them."""
    A, X, Z = mc.matrix("A", 3, 4), mc.matrix("X", 3, 4), mc.matrix("Z", 3, 4)
    Y, C, C4 = mc.matrix("Y", 4, 3), mc.matrix("C", 3, 4), mc.matrix("C", 4, 3)
    d, z, w, c = mc.vector("d", n), mc.vector("z", n), mc.vector("w", n), mc.vector("c", n)

    def q(t):  # (t² + 1/2)⁻¹, entry by entry
        return (t**2 + 0.5) ** -1

    seed_1251 = mc.exp(-0.6931471805599453 * mc.tanh(2 * Y)) * q((-3 * Z).T)
    seed_2614 = d * q(z) + mc.exp(0.4054651081081644 * mc.tanh(w))
    seed_3254 = (2 - (-1 - Z)) + ((2 * q(Z * q(X))) ** 2 + 0.5) ** -0.5
    seed_4705 = (q(-A * q(A + X + A)) ** 2 + 0.5) ** -0.5
    return [mc.sum(C4 * q(seed_1251)), mc.sum(c * q(seed_2614)), mc.sum(C * seed_3254), mc.sum(C * seed_4705)]


def slow_losses(size: int):
    """The first ``size`` of nested_quotients(), each differentiated; the slowest is kept."""
    losses = [(k, loss, [v for v in loss.variables.values() if v.label not in ("C", "c") and not v.columns_sum_to_one])
              for k, loss in enumerate(nested_quotients()[:size])]
    return _differentiate_each(losses)


CASES = [
    Case("tanh chain h = tanh(Wh), `mc.grad(sum(h), W)`", tanh_chain, (100, 1000, 10000), check_tanh_chain),
    Case("product chain A₁(A₂(⋯ A_L x)), `mc.grad` wrt A₁ and x", product_chain, (100, 1000), check_product_chain),
    Case("power chain W(W(⋯ W x)), `mc.grad(sum(h), W)`", power_chain, (100, 1000), check_power_chain),
    Case("`mc.simplify` of x₀ + x₁ + ⋯ (vectors)", sum_of_vectors, (100, 1000, 3000), check_sum),
    Case("`mc.simplify` of c₀x₀ + c₁x₁ + ⋯", sum_of_scaled_vectors, (100, 1000, 3000), check_sum),
    Case("`mc.simplify` of Ax₀ + B₀x₀ + Ax₁ + B₁x₁ + ⋯ (L groups to factor)", sum_of_groups, (100, 1000, 3000), check_sum),
    Case("`str` of x with L transposes", transposes, (100, 1000, 10000, 20000), check_transposes),
    Case("`mc.grad` of L random losses (tests/strategies.py), in all", random_losses, (100, 1000)),
]
SLOW_CASE = Case("`mc.grad` of 4 losses with nested quotients that the fuzz run found slow, each", slow_losses, (4,))


# --- timing ------------------------------------------------------------------------------------------


class _Timeout(Exception):
    pass


def timed(prepare: Callable[[], Callable[[], object]], rounds: int) -> tuple[float, object]:
    """The best processor time of at least ``rounds`` runs (more while they take under 0.3 s
    in all, at most 15; one when a run takes over a second, or when ``rounds`` is 1), and a
    result.

    Processor time, not wall time: the machine may be shared, and every case runs in one
    thread.  Each run differentiates or prints a freshly built expression, with garbage
    collected before: repeating a call on one expression would find its nodes in the
    processor's caches, which favours the small sizes and overstates the growth."""
    best, spent, result = float("inf"), 0.0, None
    for run in range(1, 16):
        result = None
        call = prepare()
        scalar_algebra._DECISIONS.clear()
        gc.collect()
        start = time.process_time()
        result = call()
        seconds = time.process_time() - start
        best, spent = min(best, seconds), spent + seconds
        if seconds > 1.0 or run >= rounds and (spent > 0.3 or rounds == 1):
            break
    return best, result


def measure(case: Case, size: int, rounds: int) -> tuple[float | str, object]:
    """(seconds, or why there is no time: past LIMIT_SECONDS, or an error; the result)."""

    def alarm(signum, frame):
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(LIMIT_SECONDS)
    try:
        seconds, result = timed(lambda: case.prepare(size), rounds)
    except _Timeout:
        return f"> {LIMIT_SECONDS} s", None
    except RecursionError:
        return "RecursionError", None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    if case.check is not None:
        case.check(size, result)
    return seconds, result


def _duration(seconds: float | str | None) -> str:
    if not isinstance(seconds, float):
        return seconds or ""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1e3:.3g} ms"


def slow_seeds_row(count: int) -> list[str]:
    seconds, result = measure(SLOW_CASE, count, 1)
    slowest, seed = result if result is not None else (None, None)
    note = f"{count} losses in {_duration(seconds)}; the slowest, number {seed}: {_duration(slowest)}"
    met = slowest is not None and slowest < GOAL_SECONDS
    return [SLOW_CASE.name, "", "", note, "", f"each < {GOAL_SECONDS:g} s", "yes" if met else "**no**"]


def row(case: Case, small: int, large: int, larger: list[int], rounds: int) -> list[str]:
    times, slowest, notes = {}, [], []
    for size in [small, large, *larger]:
        seconds, result = measure(case, size, rounds)
        times[size] = seconds
        if case.prepare is random_losses and result is not None:
            slowest.append(result[0])
            notes.append(f"slowest loss at {size}: seed {result[1]}, {_duration(result[0])}")
        if not isinstance(seconds, float):
            break  # a larger size would fail too
    t_small, t_large = times.get(small), times.get(large)
    timed_both = isinstance(t_small, float) and isinstance(t_large, float)
    growth = t_large / t_small if timed_both else None
    if case.prepare is random_losses:
        goal = f"≤ {GOAL_GROWTH:g}×, the slowest loss < {GOAL_SECONDS:g} s"
        met = growth is not None and growth <= GOAL_GROWTH and max(slowest) < GOAL_SECONDS
    else:
        goal = f"< {GOAL_SECONDS:g} s, ≤ {GOAL_GROWTH:g}×"
        met = growth is not None and growth <= GOAL_GROWTH and t_large < GOAL_SECONDS
    beyond = [f"{size:,}: {_duration(times[size])}" + (" (over 1 s)" if isinstance(times[size], float) and times[size] > GOAL_SECONDS else "")
              for size in larger if size in times]
    return [case.name, _duration(t_small), _duration(t_large), "; ".join(beyond + notes),
            f"{growth:.1f}×" if growth is not None else "", goal, "yes" if met else "**no**"]


def warm_up() -> None:
    """What happens once per process (sympy's polynomial modules load, caches fill) happens here."""
    t, z = mc.vector("t", n), mc.vector("z", n)
    mc.grad(mc.sum(-t * mc.log(mc.sigmoid(z)) - (1 - t) * mc.log(1 - mc.sigmoid(z))), z)
    str(mc.grad(mc.sum(mc.tanh(W @ x)), W))


def main(argv=None) -> list[list[str]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes 10 and 30: a smoke run, not a measurement")
    args = parser.parse_args(argv)
    small, large = (10, 30) if args.quick else (100, 1000)
    rounds = 1 if args.quick else 5
    sys.setrecursionlimit(1000)  # Python's default: no case may need more (RecursionError is shown)
    warm_up()
    print(f"Scaling: each case at size {small} and {large}, the best processor time of at least {rounds} runs (one over 1 s)"
          + (" (--quick: a smoke run, not a measurement)" if args.quick else ""))
    print()
    columns = ["case", f"size {small}", f"size {large}", "larger sizes, notes", f"growth {large}/{small}", "goal", "met"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    rows = []
    for case in CASES:
        larger = [] if args.quick else [size for size in case.sizes if size > large]
        cells = row(case, small, large, larger, rounds)
        print("| " + " | ".join(cells) + " |", flush=True)
        rows.append(cells)
    cells = slow_seeds_row(2 if args.quick else 4)
    print("| " + " | ".join(cells) + " |", flush=True)
    rows.append(cells)
    print()
    print("Goal met: both sizes under 1 s and the growth at most 12× (sizes beyond 1,000 are shown, not judged).")
    return rows


if __name__ == "__main__":
    main()
