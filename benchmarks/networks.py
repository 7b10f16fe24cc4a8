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


def minibatch_network(depth: int):
    """(loss, parameters, X, T) for a softmax classifier over a minibatch of N columns:
    Z_l = W_l A_{l−1} + b_l (b_l broadcast along the batch), A_0 = X, A_l = tanh(Z_l) below the
    top, ℓ = −sum(T ⊙ log softmax(Z_L))/N with softmax per column; all layers of width n.
    parameters is [W_1, b_1, …, W_L, b_L]."""
    n, N = mc.dims("n N")
    X, T = mc.matrix("X", n, N), mc.matrix("T", n, N, columns_sum_to_one=True)
    parameters = []
    A = X
    for layer in range(1, depth + 1):
        W, b = mc.matrix(f"W{layer}", n, n), mc.vector(f"b{layer}", n)
        parameters += [W, b]
        Z = W @ A + b
        A = mc.tanh(Z) if layer < depth else Z
    return -mc.sum(T * mc.log(mc.softmax(A))) / N, parameters, X, T
