"""The PyTorch runtime: helpers that generated torch code calls, written in torch only.

Their source is what runs: the torch backend copies the helpers a function needs into its
source, after ``import torch``, and both :func:`matcalc.lambdify` and exported source execute
that text.  This module itself never imports torch (importing matcalc must not).

Generated torch code computes on the device and in the float type of its tensor arguments
(``_tensor_kind``); arrays it creates (eye, ones) take the same.  Every helper is a
composition of torch functions, so ``torch.autograd`` and ``torch.compile`` see through it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the helpers run where generated source has imported torch
    import torch

_InvalidInput = ValueError  # generated source rebinds it (matcalc's EvaluationError in lambdify)


def _sigmoid_prime(x):
    # σ(x)σ(−x) = e/(1 + e)² with e = exp(−|x|), which keeps its digits where σ(x) rounds to 1
    e = torch.exp(-torch.abs(x))
    return e / torch.square(1.0 + e)


def _softplus(x):
    # log(1 + exp(x)) with no overflow and no cut-off (torch's softplus is linear above 20)
    return torch.logaddexp(x, torch.zeros_like(x))


def _logdet(x):
    # log det X as log(det X) gives it, without det's overflow: nan where det X < 0
    sign, log_magnitude = torch.linalg.slogdet(x)
    return (torch.log(sign) + log_magnitude).reshape(1, 1)


def _kron_contract(g, other, side, rows, cols):
    p, q = other.shape
    if side == 0:
        return torch.einsum("ikjl,kl->ij", g.reshape(rows, p, cols, q), other)
    return torch.einsum("ikjl,ij->kl", g.reshape(p, rows, q, cols), other)


HELPERS = {
    "_sigmoid_prime": _sigmoid_prime,
    "_softplus": _softplus,
    "_logdet": _logdet,
    "_kron_contract": _kron_contract,
}


def _tensor_kind(values):
    # the float type and device of the first float tensor; float64 (as NumPy) on its device otherwise
    tensors = [value for value in values if isinstance(value, torch.Tensor)]
    for tensor in tensors:
        if tensor.is_floating_point():
            return tensor.dtype, tensor.device
    return torch.float64, tensors[0].device if tensors else torch.device("cpu")


def _as_matrix(value, name, is_column, dtype, device):
    tensor = value
    if not isinstance(value, torch.Tensor):
        try:
            tensor = torch.as_tensor(value)
            if not tensor.is_complex():  # again, so that a list of floats is read in ``dtype``, not float32
                tensor = torch.as_tensor(value, dtype=dtype, device=device)
        except (TypeError, ValueError, RuntimeError, OverflowError):
            raise _InvalidInput(f"{name}: expected real numbers, got {type(value).__name__}") from None
    if tensor.is_complex():
        raise _InvalidInput(f"{name}: expected real numbers, got complex ones (the imaginary part would be lost)")
    tensor = tensor.to(dtype=dtype, device=device)
    if tensor.dim() == 0:
        return tensor.reshape(1, 1)
    if tensor.dim() == 1:
        if not is_column:
            raise _InvalidInput(f"{name}: a matrix needs a 2-D tensor, got shape {tuple(tensor.shape)}")
        return tensor.reshape(-1, 1)
    return tensor


def _check_shape(tensor, shape, name):
    if tuple(tensor.shape) != shape:
        raise _InvalidInput(f"{name}: expected shape {shape}, got {tuple(tensor.shape)}")


SUPPORT = {"_tensor_kind": _tensor_kind, "_as_matrix": _as_matrix, "_check_shape": _check_shape}
