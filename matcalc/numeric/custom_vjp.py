"""matcalc's closed forms as the backward pass of an autodiff engine's function.

For f(X₁, …, Xₖ) and an incoming adjoint G of f's shape, the backward pass returns the
gradient of G:f with respect to each Xᵢ: the vector–Jacobian product, in the closed form
matcalc derives (Wᵀδ, δaᵀ, −X⁻ᵀGX⁻ᵀ, …), never a Jacobian.  :func:`custom_vjp` wraps the
forward and the backward function as a ``jax.custom_vjp`` function or a
``torch.autograd.Function``, so that ``jax.grad`` or ``loss.backward()`` run matcalc's
formula for that piece of a model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..diff import grad
from ..errors import OperandError
from ..expr import Expr, Symbol, make, matrix, scalar, vector
from ..ops import Frob
from .backends import backend as find_backend
from .evaluate import symbols_of
from .lambdify import CompiledFunction, inputs_and_outputs


def _adjoint_symbol(f: Expr, taken: set):
    """A variable of f's shape for the incoming adjoint, named apart from every variable used."""
    label = "G"
    while label in taken:
        label += "'"
    rows, cols = f.shape
    if f.is_scalar:
        return scalar(label)
    return vector(label, rows) if cols == 1 else matrix(label, rows, cols)


def vjp_functions(f: Expr, inputs: list, backend: str) -> tuple[CompiledFunction, CompiledFunction]:
    """f as a function of the inputs, and the function of (inputs, G) that returns the gradient
    of G:f with respect to each input, both compiled for ``backend``."""
    adjoint = _adjoint_symbol(f, {s.label for s in [*inputs, *symbols_of([f])]})
    vjps = grad(make(Frob, (adjoint, f)), list(inputs))
    forward = CompiledFunction(inputs, [f], True, backend)
    backward = CompiledFunction([*inputs, adjoint], vjps, False, backend)
    unfixed = [name for name, p in forward.__signature__.parameters.items() if p.kind is p.KEYWORD_ONLY]
    if unfixed:
        raise OperandError(f"custom_vjp: no input fixes the size {', '.join(unfixed)}; make it an input's dimension")
    return forward, backward


def custom_vjp(f: Expr, inputs: Symbol | list[Symbol], backend: str = "jax") -> Callable[..., Any]:
    """f as a function of ``inputs`` for JAX or PyTorch whose backward pass is matcalc's closed form.

    Either returns f's value (a 0-d array for a scalar f) and, asked for gradients, computes each
    input's as the gradient of G:f for the incoming adjoint G, never a Jacobian.  A symmetric
    input gets the gradient within symmetric matrices, as :func:`grad` gives it.

    Parameters
    ----------
    f : Expr
        The function's value.
    inputs : Symbol or list of Symbol
        Its arguments, in order.
    backend : {"jax", "torch"}, optional
        ``"jax"``: a ``jax.custom_vjp`` function of arrays, for ``jax.grad``, ``jax.jit`` and
        ``jax.vmap``.  ``"torch"``: ``apply`` of a ``torch.autograd.Function`` (tensors in, a
        tensor out), for ``loss.backward()`` and ``torch.autograd.grad``.

    Returns
    -------
    callable
        The function of the inputs.

    Raises
    ------
    OperandError
        For another backend, or inputs that are not variables.
    MatcalcError
        For a backend whose library is not installed.

    Examples
    --------
    >>> X = mc.matrix("X", 2, 2)
    >>> log_det = mc.custom_vjp(mc.logdet(X), [X], backend="numpy")
    Traceback (most recent call last):
    matcalc.errors.OperandError: custom_vjp: backend must be 'jax' or 'torch' (an autodiff engine), got 'numpy'
    """
    if backend not in ("jax", "torch"):
        raise OperandError(f"custom_vjp: backend must be 'jax' or 'torch' (an autodiff engine), got {backend!r}")
    find_backend(backend)
    inputs, (f,), _ = inputs_and_outputs(inputs, f, "custom_vjp")
    forward, backward = vjp_functions(f, inputs, backend)
    return _jax_function(forward, backward) if backend == "jax" else _torch_function(forward, backward)


def _jax_function(value, vjps):
    import jax  # an optional backend, imported when asked for

    @jax.custom_vjp
    def function(*args):
        return value(*args)

    def forward_pass(*args):
        return value(*args), args

    def backward_pass(args, cotangent):
        # each gradient in the shape its argument came in (a vector may come as n, not n×1)
        return tuple(jax.numpy.reshape(g, jax.numpy.shape(a)) for g, a in zip(vjps(*args, cotangent), args))

    function.defvjp(forward_pass, backward_pass)
    return function


def _torch_function(value, vjps):
    import torch  # an optional backend, imported when asked for

    class MatcalcFunction(torch.autograd.Function):
        """A matcalc closed form: its value forward, its vector–Jacobian product backward."""

        @staticmethod
        def forward(ctx, *args):
            ctx.save_for_backward(*args)
            return value(*args)

        @staticmethod
        def backward(ctx, cotangent):
            args = ctx.saved_tensors
            gradients = vjps(*args, cotangent)
            return tuple(
                g.reshape(a.shape) if needed else None for g, a, needed in zip(gradients, args, ctx.needs_input_grad)
            )

    return MatcalcFunction.apply
