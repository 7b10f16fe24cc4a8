"""NumPy helpers that generated code calls; their source is copied into exported code."""

import numpy as np


def _sigmoid(x, out=None):
    e = np.exp(-np.abs(x))
    return np.divide(np.where(x >= 0, 1.0, e), 1.0 + e, out=out)


def _sigmoid_prime(x, out=None):
    s = _sigmoid(x)
    return np.multiply(s, 1.0 - s, out=out)


def _softmax(x):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)


def _logsumexp(x):
    top = np.max(x)
    return (top + np.log(np.sum(np.exp(x - top)))).reshape(1, 1)


def _logdet(x):
    sign, log_magnitude = np.linalg.slogdet(x)
    # log det X as np.log(det X) would give it, without det's overflow: nan (with NumPy's
    # warning) when det X < 0, −inf when it is 0
    return (np.log(sign) + log_magnitude).reshape(1, 1)


def _kron_contract(g, other, side, rows, cols):
    if side == 0:
        p, q = other.shape
        blocks = g.reshape(rows, p, cols, q)
        return np.einsum("ikjl,kl->ij", blocks, other)
    p, q = other.shape
    blocks = g.reshape(p, rows, q, cols)
    return np.einsum("ikjl,ij->kl", blocks, other)


HELPERS = {
    "_sigmoid": _sigmoid,
    "_sigmoid_prime": _sigmoid_prime,
    "_softmax": _softmax,
    "_logsumexp": _logsumexp,
    "_logdet": _logdet,
    "_kron_contract": _kron_contract,
}
