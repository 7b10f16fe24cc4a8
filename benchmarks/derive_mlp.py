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

import matcalc as mc
from matcalc.printing.common import postorder


def mlp_loss(depth: int):
    (n,) = mc.dims("n")
    x, t = mc.vector("x", n), mc.vector("t", n)
    weights = [mc.matrix(f"W{i + 1}", n, n) for i in range(depth)]
    h = x
    for W in weights:
        h = mc.tanh(W @ h)
    return mc.norm(h - t) ** 2 / 2, weights


def time_matcalc(depth: int, repeats: int = 3) -> tuple[float, int]:
    best, size = float("inf"), 0
    for _ in range(repeats):
        loss, weights = mlp_loss(depth)
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
    print(f"{'L':>5} {'matcalc (ms)':>13} {'ms per layer':>13} {'DAG nodes':>10} {'nodes/L':>8}  SymPy MatrixSymbol.diff")
    for depth in depths:
        seconds, size = time_matcalc(depth)
        sympy_column = "" if args.no_sympy or depth > 8 else time_sympy(depth)
        print(f"{depth:>5} {seconds * 1e3:>13.2f} {seconds * 1e3 / depth:>13.3f} {size:>10} {size / depth:>8.1f}  {sympy_column}")


if __name__ == "__main__":
    main()
