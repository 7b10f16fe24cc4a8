"""The JAX runtime: helpers that generated JAX code calls, written in jax.numpy only.

Their source is what runs: the JAX backend copies the helpers a function needs into its
source, after ``import jax.numpy as jnp``, and both :func:`matcalc.lambdify` and exported
source execute that text.  This module itself never imports JAX (importing matcalc must not),
so ``jnp`` here is only a name the helpers' source refers to.

Every helper is a composition of jax.numpy functions, so ``jax.jit``, ``jax.vmap`` and
``jax.grad`` see through it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the helpers run where generated source has imported jax.numpy as jnp
    import jax.numpy as jnp

_InvalidInput = ValueError  # generated source rebinds it (matcalc's EvaluationError in lambdify)


def _sigmoid(x):
    # e = exp(−|x|) never overflows; σ(x) = 1/(1 + e) for x ≥ 0 and e/(1 + e) below
    e = jnp.exp(-jnp.abs(x))
    return jnp.where(x >= 0, 1.0, e) / (1.0 + e)


def _sigmoid_prime(x):
    # σ(x)σ(−x) = e/(1 + e)², which keeps its digits where σ(x) rounds to 1
    e = jnp.exp(-jnp.abs(x))
    return e / jnp.square(1.0 + e)


def _softmax(x):
    # each column, shifted by its largest entry so that exp never overflows
    e = jnp.exp(x - jnp.max(x, axis=0, keepdims=True))
    return e / jnp.sum(e, axis=0, keepdims=True)


def _logsumexp(x):
    top = jnp.max(x, axis=0, keepdims=True)
    return top + jnp.log(jnp.sum(jnp.exp(x - top), axis=0, keepdims=True))


def _logdet(x):
    # log det X as log(det X) gives it, without det's overflow: nan where det X < 0
    sign, log_magnitude = jnp.linalg.slogdet(x)
    return (jnp.log(sign) + log_magnitude).reshape(1, 1)


def _kron_contract(g, other, side, rows, cols):
    p, q = other.shape
    if side == 0:
        return jnp.einsum("ikjl,kl->ij", g.reshape(rows, p, cols, q), other)
    return jnp.einsum("ikjl,ij->kl", g.reshape(p, rows, q, cols), other)


HELPERS = {
    "_sigmoid": _sigmoid,
    "_sigmoid_prime": _sigmoid_prime,
    "_softmax": _softmax,
    "_logsumexp": _logsumexp,
    "_logdet": _logdet,
    "_kron_contract": _kron_contract,
}


def _as_matrix(value, name, is_column):
    try:
        array = jnp.asarray(value)
    except (TypeError, ValueError, OverflowError):
        raise _InvalidInput(f"{name}: expected real numbers, got {type(value).__name__}") from None
    if jnp.iscomplexobj(array):
        raise _InvalidInput(f"{name}: expected real numbers, got complex ones (the imaginary part would be lost)")
    if not jnp.issubdtype(array.dtype, jnp.floating):
        array = array.astype(jnp.result_type(float))
    if array.ndim == 0:
        return array.reshape(1, 1)
    if array.ndim == 1:
        if not is_column:
            raise _InvalidInput(f"{name}: a matrix needs a 2-D array, got shape {array.shape}")
        return array.reshape(-1, 1)
    return array


def _check_shape(array, shape, name):
    if array.shape != shape:
        raise _InvalidInput(f"{name}: expected shape {shape}, got {array.shape}")


def _float_type(*arrays):
    # the arguments' common float type: arrays the function creates (eye, ones) take it
    return jnp.result_type(*arrays) if arrays else jnp.result_type(float)


SUPPORT = {"_as_matrix": _as_matrix, "_check_shape": _check_shape, "_float_type": _float_type}
