"""The same computations written by hand in NumPy, and in torch and JAX when they are installed.

Each builder returns a function of NumPy arrays whose results are NumPy-comparable; the
suite checks every one against matcalc's output before timing it.  ``jax_bound`` and
``torch_bound`` bind arrays to a function (matcalc's JAX or torch backend, say) the same way.
"""

from __future__ import annotations

import numpy as np


def numpy_backprop(weights, x, t):
    """Textbook backprop for h_l = tanh(W_l h_{l−1}), ℓ = ½‖h_L − t‖²: new arrays per call."""
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


def numpy_backprop_into(weights, x, t, out):
    """The same, with outer products broadcast into preallocated gradient arrays."""
    hs = [x]
    for W in weights:
        hs.append(np.tanh(W @ hs[-1]))
    delta = (hs[-1] - t) * (1 - hs[-1] ** 2)
    for layer in range(len(weights) - 1, -1, -1):
        np.multiply(delta, hs[layer].T, out=out[layer])
        if layer:
            delta = (weights[layer].T @ delta) * (1 - hs[layer] ** 2)
    return out


def numpy_hessian(A, B, x):
    """∇²(xᵀAx + Σ tanh(Bx)) = A + Aᵀ + Bᵀ diag(−2 tanh ⊙ (1 − tanh²)) B."""
    th = np.tanh(B @ x)
    d = -2 * th * (1 - th * th)
    return A + A.T + (B.T * d.T) @ B


def numpy_hvp(A, B, x, v):
    th = np.tanh(B @ x)
    d = -2 * th * (1 - th * th)
    return (A + A.T) @ v + B.T @ (d * (B @ v))


def torch_module():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set in this process
        pass
    return torch


def jax_modules():
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    return jax, jnp


def torch_backprop(torch, weights, x, t):
    """torch.autograd.grad of the MLP loss; returns a function of no arguments (data bound)."""
    tw = [torch.tensor(W, requires_grad=True) for W in weights]
    tx, tt = torch.tensor(x), torch.tensor(t)

    def gradients():
        h = tx
        for W in tw:
            h = torch.tanh(W @ h)
        loss = 0.5 * ((h - tt) ** 2).sum()
        return torch.autograd.grad(loss, tw)

    return gradients


def jax_mlp_gradient(jax, jnp):
    """jax.jit(jax.grad) of the MLP loss, a function of (weights, x, t), not yet compiled."""

    def loss(ws, x, t):
        h = x
        for W in ws:
            h = jnp.tanh(W @ h)
        return 0.5 * jnp.sum((h - t) ** 2)

    return jax.jit(jax.grad(loss))


def jax_backprop(jax, jnp, weights, x, t):
    """jax.jit(jax.grad) of the MLP loss, compiled before it is returned."""
    compiled = jax_mlp_gradient(jax, jnp)
    jw, jx, jt = [jnp.asarray(W) for W in weights], jnp.asarray(x), jnp.asarray(t)

    def gradients():
        result = compiled(jw, jx, jt)
        for g in result:
            g.block_until_ready()
        return result

    gradients()
    return gradients


def jax_hessian(jax, jnp, A, B, x, with_tanh: bool = True):
    def f(x):
        value = x @ (A @ x)
        return value + jnp.sum(jnp.tanh(B @ x)) if with_tanh else value

    compiled = jax.jit(jax.hessian(f))
    jx = jnp.asarray(x.ravel())

    def hessian():
        return compiled(jx).block_until_ready()

    hessian()
    return hessian


def jax_hvp(jax, jnp, A, B, x, v):
    def f(x):
        return x @ (A @ x) + jnp.sum(jnp.tanh(B @ x))

    compiled = jax.jit(lambda x, v: jax.jvp(jax.grad(f), (x,), (v,))[1])
    jx, jv = jnp.asarray(x.ravel()), jnp.asarray(v.ravel())

    def hvp():
        return compiled(jx, jv).block_until_ready()

    hvp()
    return hvp


def jax_bound(jax, jnp, function, arrays):
    """jax.jit(function) of the arrays, moved to JAX first, compiled before it is returned;
    each call waits for its results."""
    compiled = jax.jit(function)
    arguments = [jnp.asarray(a) for a in arrays]

    def call():
        return jax.block_until_ready(compiled(*arguments))

    call()
    return call


def torch_bound(torch, function, arrays):
    """function of the arrays as torch tensors (float64, on the CPU)."""
    arguments = [torch.tensor(a) for a in arrays]
    return lambda: function(*arguments)


def numpy_minibatch_backprop(parameters, X, T):
    """Textbook backprop for networks.minibatch_network: Δ_L = (softmax(Z_L) − T)/N,
    ∂ℓ/∂W_l = Δ_l A_{l−1}ᵀ, ∂ℓ/∂b_l = Δ_l 𝟏, Δ_{l−1} = (W_lᵀ Δ_l) ⊙ (1 − A_{l−1}²)."""
    weights, biases = parameters[0::2], parameters[1::2]
    activations = [X]
    for W, b in zip(weights[:-1], biases[:-1]):
        activations.append(np.tanh(W @ activations[-1] + b))
    Z = weights[-1] @ activations[-1] + biases[-1]
    P = np.exp(Z - Z.max(axis=0))
    P /= P.sum(axis=0)
    delta = (P - T) / X.shape[1]
    gradients = [None] * len(parameters)
    for layer in range(len(weights) - 1, -1, -1):
        gradients[2 * layer] = delta @ activations[layer].T
        gradients[2 * layer + 1] = delta.sum(axis=1, keepdims=True)
        if layer:
            delta = (weights[layer].T @ delta) * (1 - activations[layer] ** 2)
    return gradients


def _minibatch_loss(xp, log_softmax, parameters, X, T):
    """The same loss in torch or jax.numpy (xp), for their autodiff."""
    A = X
    for layer in range(0, len(parameters), 2):
        Z = parameters[layer] @ A + parameters[layer + 1]
        A = xp.tanh(Z) if layer + 2 < len(parameters) else Z
    return -(T * log_softmax(A)).sum() / X.shape[1]


def torch_minibatch_backprop(torch, parameters, X, T):
    """torch.autograd.grad of the minibatch loss; a function of no arguments (data bound)."""
    tp = [torch.tensor(p, requires_grad=True) for p in parameters]
    tX, tT = torch.tensor(X), torch.tensor(T)

    def gradients():
        loss = _minibatch_loss(torch, lambda Z: torch.log_softmax(Z, dim=0), tp, tX, tT)
        return torch.autograd.grad(loss, tp)

    return gradients


def jax_minibatch_backprop(jax, jnp, parameters, X, T):
    """jax.jit(jax.grad) of the minibatch loss, compiled before it is returned."""

    def loss(ps, X, T):
        return _minibatch_loss(jnp, lambda Z: jax.nn.log_softmax(Z, axis=0), ps, X, T)

    compiled = jax.jit(jax.grad(loss))
    jp, jX, jT = [jnp.asarray(p) for p in parameters], jnp.asarray(X), jnp.asarray(T)

    def gradients():
        return jax.block_until_ready(compiled(jp, jX, jT))

    gradients()
    return gradients
