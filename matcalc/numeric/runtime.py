"""NumPy helpers that generated code calls; their source is copied into exported code."""

import numpy as np


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _sigmoid_prime(x):
    s = _sigmoid(x)
    return s * (1.0 - s)


def _softmax(x):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)


def _logsumexp(x):
    top = np.max(x)
    return (top + np.log(np.sum(np.exp(x - top)))).reshape(1, 1)


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
    "_kron_contract": _kron_contract,
}
