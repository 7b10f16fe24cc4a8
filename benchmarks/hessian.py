"""Hessian speed: f(x) = xᵀAx + Σ tanh(Bx); matcalc's lambdified Hessian and HVP against a
hand-written closed form, ratios measured in one run (one BLAS thread).  JAX joins when installed.

    python benchmarks/hessian.py [--sizes 100,1000]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import timeit  # noqa: E402

import numpy as np  # noqa: E402

import matcalc as mc  # noqa: E402


def hand_hessian(A, B, x):
    t = np.tanh(B @ x)
    d = -2 * t * (1 - t * t)
    return A + A.T + (B.T * d.T) @ B


def hand_hvp(A, B, x, v):
    t = np.tanh(B @ x)
    d = -2 * t * (1 - t * t)
    return (A + A.T) @ v + B.T @ (d * (B @ v))


def best(fn, number):
    return min(timeit.repeat(fn, number=number, repeat=5)) / number


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000")
    args = parser.parse_args(argv)
    n = mc.dims("n")[0]
    A, B, x, v = mc.matrix("A", n, n), mc.matrix("B", n, n), mc.vector("x", n), mc.vector("v", n)
    loss = x.T @ A @ x + mc.sum(mc.tanh(B @ x))
    H = mc.hessian(loss, x)
    Hv = mc.hvp(loss, x, v)
    print(f"Hessian: {H}\nHVP:     {Hv}")
    hessian_f = mc.lambdify([A, B, x], H)
    hvp_f = mc.lambdify([A, B, x, v], Hv)
    print(f"{'n':>6} {'hand H':>10} {'matcalc H':>10} {'ratio':>6} {'hand Hv':>10} {'matcalc Hv':>11} {'ratio':>6}")
    rng = np.random.default_rng(0)
    for size in [int(s) for s in args.sizes.split(",")]:
        Av, Bv = rng.normal(size=(size, size)), rng.normal(size=(size, size)) / np.sqrt(size)
        xv, vv = rng.normal(size=(size, 1)), rng.normal(size=(size, 1))
        np.testing.assert_allclose(hessian_f(Av, Bv, xv), hand_hessian(Av, Bv, xv), rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(hvp_f(Av, Bv, xv, vv), hand_hvp(Av, Bv, xv, vv), rtol=1e-9, atol=1e-9)
        number = 200 if size <= 200 else 5
        th, tm = best(lambda: hand_hessian(Av, Bv, xv), number), best(lambda: hessian_f(Av, Bv, xv), number)
        vh, vm = best(lambda: hand_hvp(Av, Bv, xv, vv), number * 10), best(lambda: hvp_f(Av, Bv, xv, vv), number * 10)
        print(f"{size:>6} {th * 1e3:>8.3f}ms {tm * 1e3:>8.3f}ms {tm / th:>5.2f}× {vh * 1e6:>8.1f}µs {vm * 1e6:>9.1f}µs {vm / vh:>5.2f}×")


if __name__ == "__main__":
    main()
