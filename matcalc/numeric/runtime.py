"""NumPy helpers that generated code calls; their source is copied into exported code.

``HELPERS`` compute values (σ, softmax, ...); ``SUPPORT`` check arguments and deliver outputs.
"""

import numpy as np

from ..errors import EvaluationError

# What the support helpers raise on a caller's bad arguments: matcalc's EvaluationError (a
# ValueError) here, plain ValueError in exported source, which imports only NumPy.
_InvalidInput = EvaluationError


def _sigmoid(x, out=None):
    e = np.exp(-np.abs(x))
    return np.divide(np.where(x >= 0, 1.0, e), 1.0 + e, out=out)


def _sigmoid_prime(x, out=None):
    # σ(x)σ(−x) = e/(1 + e)² with e = exp(−|x|): s(1 − s) would lose every digit once σ(x) rounds to 1
    e = np.exp(-np.abs(x))
    return np.divide(e, np.square(1.0 + e), out=out)


def _softmax(x):
    # each column, shifted by its largest entry so that exp never overflows
    e = np.exp(x - np.max(x, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)


def _logsumexp(x):
    top = np.max(x, axis=0, keepdims=True)
    return top + np.log(np.sum(np.exp(x - top), axis=0, keepdims=True))


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


def _as_matrix(value, name, is_column):
    try:
        is_complex = np.iscomplexobj(value)
        array = np.asarray(value, dtype=float) if not is_complex else None
    except (TypeError, ValueError, OverflowError):  # not numbers, rows of different lengths, beyond float64
        raise _InvalidInput(f"{name}: expected real numbers within float64, got {type(value).__name__}") from None
    if is_complex:
        raise _InvalidInput(f"{name}: expected real numbers, got complex ones (the imaginary part would be lost)")
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


def _output_buffers(out, shapes, guarded):
    # guarded[k]: the inputs that are still read after output k is written
    if not isinstance(out, (tuple, list)) or len(out) != len(shapes):
        raise _InvalidInput(f"out: expected {len(shapes)} arrays, one per output, in the form the function returns")
    for k, (buffer, shape) in enumerate(zip(out, shapes)):
        if shape is None:
            if buffer is not None:
                raise _InvalidInput(f"out: output {k} is a scalar, returned as a float; pass None in its place")
            continue
        if not isinstance(buffer, np.ndarray) or buffer.dtype != np.float64 or buffer.shape != shape:
            got = f"a {buffer.dtype} array of shape {buffer.shape}" if isinstance(buffer, np.ndarray) else type(buffer).__name__
            raise _InvalidInput(f"out: output {k} needs a float64 array of shape {shape}, got {got}")
        if not buffer.flags.writeable:
            raise _InvalidInput(f"out: the array for output {k} is read-only")
        for other in out[:k]:
            if other is not None and np.may_share_memory(buffer, other):
                raise _InvalidInput(f"out: the arrays for outputs {out.index(other)} and {k} overlap")
        for other in guarded[k]:
            if np.may_share_memory(buffer, other):
                raise _InvalidInput(f"out: the array for output {k} overlaps an input it would overwrite")
    return out


def _new_arrays(shapes):
    # One allocation for all outputs: many separate large arrays cost a page fault per 4 kB
    # on every call, one block is mapped once (and in huge pages when large).
    block = np.empty(sum(rows * cols for rows, cols in shapes))
    arrays, start = [], 0
    for rows, cols in shapes:
        arrays.append(block[start : start + rows * cols].reshape(rows, cols))
        start += rows * cols
    return arrays


def _copy_into(buffer, value):
    np.copyto(buffer, value)
    return buffer


SUPPORT = {
    "_as_matrix": _as_matrix,
    "_check_shape": _check_shape,
    "_output_buffers": _output_buffers,
    "_new_arrays": _new_arrays,
    "_copy_into": _copy_into,
}
