"""The JAX emitter: an optimised plan as Python source over jax.numpy.

The source imports only JAX and is pure: no array is written, nothing but jax.numpy is
called, so ``jax.jit``, ``jax.vmap`` (each argument one sample of a batch) and ``jax.grad``
all compose with it.  Its float type follows the arguments' (float64 once
``jax_enable_x64`` is set, float32 otherwise, as JAX decides).
"""

from __future__ import annotations

import sympy
from sympy.printing.numpy import JaxPrinter

from ..expr import Ones
from ..ops import ElementwiseFunction, Transpose
from . import runtime_jax
from .emit_pure import SAMPLE_POINTS, PureEmitter
from .plan import Instruction, Kind


class JaxEmitter(PureEmitter):
    """Source over jax.numpy for one plan."""

    backend = "jax"
    title = "JAX"
    imports = ("import jax", "import jax.numpy as jnp")
    runtime = runtime_jax
    KINDS = {
        Kind.NEGATE: "(-{0})",
        Kind.MATMUL: "({0} @ {1})",
        Kind.OUTER: "({0} * {1})",  # a column times a row, broadcast: XLA fuses it with its readers
        Kind.MULTI_DOT: "jnp.linalg.multi_dot([{all}])",
        Kind.SCALE_ROWS: "({0} * {1})",
        Kind.SCALE_COLUMNS: "({0} * {1}.T)",
        Kind.DIAGFLAT: "jnp.diagflat({0})",
    }

    def op_code(self, node, args: list[str]) -> str:
        return node.jax_code(args, self.size)

    def expression(self, instruction: Instruction, args: list[str]) -> str:
        if instruction.kind is Kind.MATMUL:
            first = self.plan[instruction.operands[0]]
            if first.kind is Kind.OP and isinstance(first.node, Transpose):
                # XLA on a CPU copies a transposed left factor before the product (Wᵀv takes 7×
                # as long as Wv at n = 256); a contraction over the first axis reads W in place
                return f"jnp.einsum('ji,jk->ik', {self.text[first.operands[0]]}, {args[1]})"
        return super().expression(instruction, args)

    def fill(self, node) -> str:
        if isinstance(node, Ones):
            return node.jax_code([], self.size)
        return f"jnp.full((1, 1), {self.literal(node)}, dtype=_dtype)"

    def conversions(self) -> list[str]:
        sig = self.plan.signature
        lines = [
            f"{name} = _as_matrix({name}, {symbol.label!r}, {symbol.shape[1] == 1})"
            for symbol, name in zip(self.plan.inputs, sig.arguments)
        ]
        return [*lines, f"_dtype = _float_type({', '.join(sig.arguments)})"]

    @staticmethod
    def template(function: ElementwiseFunction) -> str | None:
        return function.jax_template

    @staticmethod
    def print_formula(formula: sympy.Expr) -> str:
        return JaxPrinter({"fully_qualified_modules": True, "strict": True}).doprint(formula)

    @staticmethod
    def constant(body: str) -> str:
        return f"jax.numpy.full_like(u, {body})"

    @staticmethod
    def sample(namespace: dict):
        return namespace["jnp"].asarray(SAMPLE_POINTS)
