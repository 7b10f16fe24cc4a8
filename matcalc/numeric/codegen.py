"""Code generation: expressions to a plan to source for NumPy, JAX or PyTorch.

``evaluate``, ``lambdify`` and ``to_source`` all run through :func:`generate`:

1. :func:`.rewrites.prepare` rewrites the DAG for computing (stable logarithms, sums
   multiplied out against vectors);
2. :func:`.plan.lower` turns it into a plan, one instruction per node;
3. :func:`.passes.optimise` runs the passes over the plan (sums subtract, products scale by
   diagonals, outputs and dying temporaries are written in place);
4. the backend's emitter (:class:`.emit_numpy.NumpyEmitter`, :class:`.emit_jax.JaxEmitter`,
   :class:`.emit_torch.TorchEmitter`) formats the plan as source.  The rewrites and the first
   passes are the same for every backend; the memory passes ask the emitter what its library
   can write in place (JAX and the torch emitter: nothing, so they change nothing).

No user text reaches the generated code except through :func:`.plan.identifier`, which turns
any name into a safe Python identifier.
"""

from __future__ import annotations

from ..expr import Expr, Symbol
from .emit_numpy import Generated, NumpyEmitter
from .passes import optimise
from .plan import lower
from .rewrites import prepare


def generate(
    inputs: list[Symbol],
    outputs: list[Expr],
    function_name: str = "f",
    checks: bool = True,
    single: bool | None = None,
    emitter: type = NumpyEmitter,
) -> Generated:
    """Source for ``def f(<inputs>, *, <dims>, out=None)`` that returns the outputs.

    One output comes back bare when ``single`` (the default for one output), several as a
    tuple.  With NumPy, ``out`` takes arrays to write the outputs into, in the same form;
    outputs are computed directly into them, and temporaries that die are overwritten in
    place, so a call with ``out`` allocates only small intermediate arrays.  JAX and torch
    functions have no ``out``.
    """
    single = len(outputs) == 1 if single is None else single
    plan = optimise(lower(inputs, prepare(list(outputs)), function_name, checks, single), emitter)
    return emitter(plan).generated()
