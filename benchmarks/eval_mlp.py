"""Evaluation speed: matcalc's lambdified MLP gradient against hand-written NumPy backprop.

A width-W, depth-L tanh MLP, ℓ = ½‖h_L − t‖², gradient with respect to all L weights.
Ratios are matcalc / hand-written, measured in one run, one BLAS thread (set before NumPy
loads).  JAX's jit(grad) joins the table when JAX is installed.

    python benchmarks/eval_mlp.py [--width 256] [--depths 4,8,16]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import timeit  # noqa: E402

import numpy as np  # noqa: E402
from networks import tanh_mlp  # noqa: E402

import matcalc as mc  # noqa: E402


def hand_written(weights, x, t):
    hs = [x]
    for W in weights:
        hs.append(np.tanh(W @ hs[-1]))
    delta = (hs[-1] - t) * (1 - hs[-1] ** 2)
    grads = [None] * len(weights)
    for layer in range(len(weights) - 1, -1, -1):
        grads[layer] = delta @ hs[layer].T
        if layer:
            delta = (weights[layer].T @ delta) * (1 - hs[layer] ** 2)
    return grads


def best_time(fn, number: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=7)) / number


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--depths", default="4,8,16")
    args = parser.parse_args(argv)
    try:
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
    except ImportError:
        jax = None
    print(f"width {args.width}, float64, one thread")
    print(f"{'L':>4} {'hand-written':>14} {'matcalc':>10} {'ratio':>7} {'jax.jit(grad)':>15}")
    rng = np.random.default_rng(0)
    for depth in [int(d) for d in args.depths.split(",")]:
        loss, weights, x, t = tanh_mlp(depth)
        f = mc.lambdify([*weights, x, t], mc.grad(loss, weights))
        Ws = [rng.normal(size=(args.width, args.width)) / np.sqrt(args.width) for _ in range(depth)]
        xv, tv = rng.normal(size=(args.width, 1)), rng.normal(size=(args.width, 1))
        for ours, theirs in zip(f(*Ws, xv, tv), hand_written(Ws, xv, tv)):
            np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
        number = max(10, 2000 // depth)
        hand = best_time(lambda: hand_written(Ws, xv, tv), number)
        ours = best_time(lambda: f(*Ws, xv, tv), number)
        jax_column = "not installed"
        if jax is not None:
            def jloss(ws, x, t):
                h = x
                for W in ws:
                    h = jnp.tanh(W @ h)
                return 0.5 * jnp.sum((h - t) ** 2)

            jgrad = jax.jit(jax.grad(jloss))
            jws = [jnp.asarray(W) for W in Ws]
            jgrad(jws, xv, tv)[0].block_until_ready()
            jt = best_time(lambda: jgrad(jws, xv, tv)[0].block_until_ready(), number)
            jax_column = f"{jt * 1e6:.0f} µs ({jt / hand:.2f}×)"
        print(f"{depth:>4} {hand * 1e6:>11.0f} µs {ours * 1e6:>7.0f} µs {ours / hand:>6.2f}× {jax_column:>15}")


if __name__ == "__main__":
    main()
