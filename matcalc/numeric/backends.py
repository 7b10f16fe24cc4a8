"""The backends generated code can target: NumPy, JAX and PyTorch.

A backend is an emitter (how the plan is spelled) and a way to build the function and its
standalone source.  The plan and its passes are shared; each emitter declares what its
library can do with memory.  JAX and torch are optional: :func:`backend` imports the library
only when it is asked for, and says which extra to install when it is missing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import MatcalcError, OperandError
from .emit_jax import JaxEmitter
from .emit_numpy import Generated, NumpyEmitter, compile_generated, standalone_source
from .emit_torch import TorchEmitter


def _numpy_build(generated: Generated) -> tuple:
    return compile_generated(generated), standalone_source(generated)


@dataclass(frozen=True)
class Backend:
    """One library that generated code can target."""

    name: str  # as lambdify takes it
    title: str  # as messages write it
    module: str  # what must import for the backend to work
    extra: str | None  # the pip extra that installs it
    emitter: type
    standalone: Callable[[Generated], str]  # source that imports only the library
    build: Callable[[Generated], tuple]  # the function and its standalone source


BACKENDS = {
    "numpy": Backend("numpy", "NumPy", "numpy", None, NumpyEmitter, standalone_source, _numpy_build),
    "jax": Backend("jax", "JAX", "jax.numpy", "jax", JaxEmitter, JaxEmitter.standalone, JaxEmitter.build),
    "torch": Backend("torch", "PyTorch", "torch", "torch", TorchEmitter, TorchEmitter.standalone, TorchEmitter.build),
}


def backend(name: str) -> Backend:
    """The backend called ``name``, with its library imported.

    >>> backend("numpy").title
    'NumPy'
    >>> backend("tensorflow")
    Traceback (most recent call last):
    matcalc.errors.OperandError: backend: 'tensorflow' is not one of 'numpy', 'jax', 'torch'
    """
    if not isinstance(name, str) or name not in BACKENDS:
        raise OperandError(f"backend: {name!r} is not one of {', '.join(map(repr, BACKENDS))}")
    chosen = BACKENDS[name]
    try:
        importlib.import_module(chosen.module)
    except ImportError as error:
        raise MatcalcError(
            f"the {chosen.title} backend needs {chosen.module.split('.')[0]}, which cannot be imported ({error}); "
            f'install it with: pip install "matcalc-frobenius[{chosen.extra}]"'
        ) from None
    return chosen
