"""matcalc's JAX and PyTorch backends on a CUDA GPU, against jax.grad and torch.autograd there.

    python benchmarks/gpu.py                  (float32)
    python benchmarks/gpu.py --dtype float64

Rows: the gradient of a depth-8 tanh MLP (ℓ = ½‖h_L − t‖², h_l = tanh(W_l h_{l−1})) wrt all
weights at widths 1024, 2048 and 4096, and the Hessian of xᵀAx + Σ tanh(Bx) at n = 2000.
matcalc's closed forms are compiled with ``mc.lambdify(..., backend="jax")`` (under
``jax.jit``) and ``backend="torch"`` (tensors on the GPU); each result is checked against the
library's own autodiff before it is timed.  Times wait for the device (block_until_ready,
torch.cuda.synchronize).  With no CUDA device this says so and exits 0.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import timeit

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import matcalc as mc  # noqa: E402

WIDTHS = (1024, 2048, 4096)
DEPTH = 8
HESSIAN_SIZE = 2000
DEVICE = "cuda"  # where torch tensors go


def cuda_torch():
    """torch, when it is installed and sees a CUDA device."""
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def cuda_jax(dtype: str):
    """(jax, jax.numpy), when JAX is installed and its default device is a GPU."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", dtype == "float64")
    return (jax, jnp) if jax.default_backend() == "gpu" else None


def best_time(function, sync) -> float:
    """The best time per call over five repeats, each call waiting for the device."""

    def call():
        sync(function())

    call()
    timer = timeit.Timer(call)
    number = max(1, timer.autorange()[0] // 2)
    return min(timer.repeat(5, number)) / number


def assert_close(ours, theirs, dtype: str) -> None:
    rtol = 1e-3 if dtype == "float32" else 1e-9
    for a, b in zip(ours, theirs):
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float).reshape(np.shape(a))
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * max(1.0, float(np.max(np.abs(b)))))


def mlp(width: int):
    """The network as matcalc expressions, and random weights and data for it."""
    x, t = mc.vector("x", width), mc.vector("t", width)
    weights = [mc.matrix(f"W{i + 1}", width, width) for i in range(DEPTH)]
    h = x
    for W in weights:
        h = mc.tanh(W @ h)
    loss = mc.norm(h - t) ** 2 / 2
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=(width, width)) / np.sqrt(width) for _ in range(DEPTH)]
    return loss, weights, x, t, arrays, rng.normal(size=(width, 1)), rng.normal(size=(width, 1))


def jax_mlp_rows(jax, jnp, dtype: str) -> list[tuple]:
    rows = []
    for width in WIDTHS:
        loss, weights, x, t, Ws, xv, tv = mlp(width)
        ours = jax.jit(mc.lambdify([*weights, x, t], mc.grad(loss, weights), backend="jax"))

        def reference_loss(ws, x, t):
            h = x
            for W in ws:
                h = jnp.tanh(W @ h)
            return 0.5 * jnp.sum((h - t) ** 2)

        theirs = jax.jit(jax.grad(reference_loss))
        jw = [jnp.asarray(W, dtype=dtype) for W in Ws]
        jx, jt = jnp.asarray(xv, dtype=dtype), jnp.asarray(tv, dtype=dtype)
        assert_close(ours(*jw, jx, jt), theirs(jw, jx, jt), dtype)
        mine = best_time(lambda: ours(*jw, jx, jt), jax.block_until_ready)
        other = best_time(lambda: theirs(jw, jx, jt), jax.block_until_ready)
        rows.append((f"∇ of the depth-{DEPTH} MLP, width {width}, JAX backend under jax.jit", mine, "jax.jit(jax.grad)", other))
    return rows


def torch_mlp_rows(torch, dtype: str) -> list[tuple]:
    rows = []
    kind = dict(dtype=getattr(torch, dtype), device=DEVICE)
    for width in WIDTHS:
        loss, weights, x, t, Ws, xv, tv = mlp(width)
        ours = mc.lambdify([*weights, x, t], mc.grad(loss, weights), backend="torch")
        tw = [torch.tensor(W, **kind, requires_grad=True) for W in Ws]
        tx, tt = torch.tensor(xv, **kind), torch.tensor(tv, **kind)

        def theirs():
            h = tx
            for W in tw:
                h = torch.tanh(W @ h)
            return torch.autograd.grad(0.5 * ((h - tt) ** 2).sum(), tw)

        plain = [W.detach() for W in tw]
        assert_close([g.cpu() for g in ours(*plain, tx, tt)], [g.cpu() for g in theirs()], dtype)
        mine = best_time(lambda: ours(*plain, tx, tt), lambda _: torch.cuda.synchronize())
        other = best_time(theirs, lambda _: torch.cuda.synchronize())
        rows.append((f"∇ of the depth-{DEPTH} MLP, width {width}, torch backend", mine, "torch.autograd", other))
    return rows


def hessian_problem():
    (n,) = mc.dims("n")
    A, B, x = mc.matrix("A", n, n), mc.matrix("B", n, n), mc.vector("x", n)
    rng = np.random.default_rng(1)
    arrays = (rng.normal(size=(HESSIAN_SIZE, HESSIAN_SIZE)), rng.normal(size=(HESSIAN_SIZE, HESSIAN_SIZE)) / np.sqrt(HESSIAN_SIZE),
              rng.normal(size=(HESSIAN_SIZE, 1)))
    return [A, B, x], mc.hessian(x.T @ A @ x + mc.sum(mc.tanh(B @ x)), x), arrays


def jax_hessian_rows(jax, jnp, dtype: str) -> list[tuple]:
    inputs, hessian, arrays = hessian_problem()
    Av, Bv, xv = (jnp.asarray(a, dtype=dtype) for a in arrays)
    ours = jax.jit(mc.lambdify(inputs, hessian, backend="jax"))
    theirs = jax.jit(jax.hessian(lambda x: x @ (Av @ x) + jnp.sum(jnp.tanh(Bv @ x))))
    assert_close([ours(Av, Bv, xv)], [theirs(xv.ravel())], dtype)
    mine = best_time(lambda: ours(Av, Bv, xv), jax.block_until_ready)
    other = best_time(lambda: theirs(xv.ravel()), jax.block_until_ready)
    return [(f"Hessian of xᵀAx + Σ tanh(Bx), n = {HESSIAN_SIZE}, JAX backend under jax.jit", mine, "jax.jit(jax.hessian)", other)]


def torch_hessian_rows(torch, dtype: str) -> list[tuple]:
    inputs, hessian, arrays = hessian_problem()
    kind = dict(dtype=getattr(torch, dtype), device=DEVICE)
    Av, Bv, xv = (torch.tensor(a, **kind) for a in arrays)
    ours = mc.lambdify(inputs, hessian, backend="torch")

    def theirs():
        return torch.autograd.functional.hessian(lambda x: x @ (Av @ x) + torch.sum(torch.tanh(Bv @ x)), xv.ravel(),
                                                 vectorize=True)

    assert_close([ours(Av, Bv, xv).cpu()], [theirs().cpu()], dtype)
    mine = best_time(lambda: ours(Av, Bv, xv), lambda _: torch.cuda.synchronize())
    other = best_time(theirs, lambda _: torch.cuda.synchronize())
    return [(f"Hessian of xᵀAx + Σ tanh(Bx), n = {HESSIAN_SIZE}, torch backend", mine, "torch.autograd.functional.hessian", other)]


def _duration(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.3g} µs"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    args = parser.parse_args(argv)
    torch, jax = cuda_torch(), cuda_jax(args.dtype)
    if torch is None and jax is None:
        print("No CUDA device: neither torch nor JAX sees a GPU here, so there is nothing to measure "
              "(the CPU figures are in `python -m benchmarks`).")
        return 0
    device = torch.cuda.get_device_name(0) if torch is not None else str(jax[0].devices()[0])
    print(f"{device}; {args.dtype}; matcalc {mc.__version__}" + (f", torch {torch.__version__}" if torch else "")
          + (f", JAX {jax[0].__version__}" if jax else "") + "\n")
    print("| benchmark | matcalc | compared with | its figure | ratio |")
    print("|---|---|---|---|---|")
    sections = []
    if jax is not None:
        sections += [lambda: jax_mlp_rows(*jax, args.dtype), lambda: jax_hessian_rows(*jax, args.dtype)]
    if torch is not None:
        sections += [lambda: torch_mlp_rows(torch, args.dtype), lambda: torch_hessian_rows(torch, args.dtype)]
    for section in sections:
        for name, mine, other_name, other in section():
            print(f"| {name} | {_duration(mine)} | {other_name} | {_duration(other)} | {mine / other:.2f}× |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
