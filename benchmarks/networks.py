"""The network the benchmarks share: a depth-L tanh MLP with ℓ = ½‖h_L − t‖²."""

import matcalc as mc


def tanh_mlp(depth: int):
    """(loss, weights, x, t) for h_l = tanh(W_l h_{l−1}), h_0 = x, all of size n."""
    (n,) = mc.dims("n")
    x, t = mc.vector("x", n), mc.vector("t", n)
    weights = [mc.matrix(f"W{i + 1}", n, n) for i in range(depth)]
    h = x
    for W in weights:
        h = mc.tanh(W @ h)
    return mc.norm(h - t) ** 2 / 2, weights, x, t
