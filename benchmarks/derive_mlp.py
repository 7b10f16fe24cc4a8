"""Derivation speed: the gradient of a depth-L tanh MLP with respect to all L weights.

Prints, per depth L, matcalc's derivation time (best of 3), the result's size in DAG
nodes, and SymPy's MatrixSymbol.diff on the same loss where it manages.  Both columns
should grow linearly in L.

    python benchmarks/derive_mlp.py [--depths 1,2,4,...] [--no-sympy]
"""

from __future__ import annotations

import argparse
import signal
import time

from networks import tanh_mlp

import matcalc as mc
from matcalc.printing.common import postorder


def named_mlp(depth: int):
    """(loss, weights) for the MLP with its layers named: z_l = W_l h_{l−1}, h_l = tanh(z_l)."""
    (n,) = mc.dims("n")
    x, t = mc.vector("x", n), mc.vector("t", n)
    weights = [mc.matrix(f"W{i + 1}", n, n) for i in range(depth)]
    h = x
    for i, W in enumerate(weights):
        h = mc.let(f"h{i + 1}", mc.tanh(mc.let(f"z{i + 1}", W @ h)))
    return mc.norm(h - t) ** 2 / 2, weights


def time_derive(depth: int) -> tuple[float, int, int]:
    """mc.derive with every step, on the MLP with named layers: seconds, steps, backprop-view characters."""
    loss, weights = named_mlp(depth)
    start = time.perf_counter()
    derivation = mc.derive(loss, weights)
    seconds = time.perf_counter() - start
    return seconds, len(derivation.steps), len(str(derivation.view("backprop")).encode())


def time_matcalc(depth: int, repeats: int = 3) -> tuple[float, int]:
    best, size = float("inf"), 0
    for _ in range(repeats):
        loss, weights, _, _ = tanh_mlp(depth)
        start = time.perf_counter()
        gradients = mc.grad(loss, weights)
        best = min(best, time.perf_counter() - start)
        size = len(postorder(gradients))
        del gradients
    return best, size


class _Timeout(Exception):
    pass


def time_sympy(depth: int, seconds: int = 30) -> str:
    import sympy as sp
    from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

    n = sp.Symbol("n", integer=True, positive=True)
    x, t = sp.MatrixSymbol("x", n, 1), sp.MatrixSymbol("t", n, 1)
    weights = [sp.MatrixSymbol(f"W{i + 1}", n, n) for i in range(depth)]
    h = x
    for W in weights:
        h = ElementwiseApplyFunction(sp.tanh, W * h)
    loss = (h - t).T * (h - t) / 2

    def alarm(signum, frame):
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    start = time.perf_counter()
    try:
        for W in weights:
            loss.diff(W)
        return f"{time.perf_counter() - start:.4f} s"
    except _Timeout:
        return f"> {seconds} s"
    except Exception as error:  # SymPy's own failures are the measurement here
        return f"fails ({type(error).__name__})"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", default="1,2,4,8,16,32,64,128,256")
    parser.add_argument("--no-sympy", action="store_true")
    args = parser.parse_args(argv)
    depths = [int(d) for d in args.depths.split(",")]
    print(f"{'L':>5} {'grad (ms)':>10} {'ms/layer':>9} {'DAG nodes':>10} {'nodes/L':>8} {'derive (ms)':>12} {'steps':>6} {'backprop view':>14}  SymPy MatrixSymbol.diff")
    for depth in depths:
        seconds, size = time_matcalc(depth)
        derive_seconds, steps, characters = time_derive(depth)
        sympy_column = "" if args.no_sympy or depth > 8 else time_sympy(depth)
        print(f"{depth:>5} {seconds * 1e3:>10.2f} {seconds * 1e3 / depth:>9.3f} {size:>10} {size / depth:>8.1f} "
              f"{derive_seconds * 1e3:>12.1f} {steps:>6} {characters:>12} B  {sympy_column}")


if __name__ == "__main__":
    main()
