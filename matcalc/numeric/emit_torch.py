"""The PyTorch emitter: an optimised plan as Python source over torch.

The source imports only torch.  It computes on the device and in the float type of its
tensor arguments (``_tensor_kind``: the first float tensor's), so the same function runs on
a CPU or a GPU, in float32 or float64.  It writes no tensor in place, so ``torch.autograd``
can differentiate it again and ``torch.compile`` can trace it.  Outputs that would share
memory with an argument (the argument itself, a transpose of it) are handed out as copies,
as the NumPy backend's are.
"""

from __future__ import annotations

import sympy

from ..expr import Ones
from ..ops import ElementwiseFunction
from . import runtime_torch
from .emit_pure import SAMPLE_POINTS, PureEmitter
from .plan import Instruction, Kind


class TorchEmitter(PureEmitter):
    """Source over torch for one plan."""

    backend = "torch"
    title = "PyTorch"
    imports = ("import torch",)
    runtime = runtime_torch
    KINDS = {
        Kind.NEGATE: "(-{0})",
        Kind.MATMUL: "({0} @ {1})",
        Kind.OUTER: "({0} * {1})",  # a column times a row, broadcast: faster than a product with inner dimension 1
        Kind.MULTI_DOT: "torch.linalg.multi_dot([{all}])",
        Kind.SCALE_ROWS: "({0} * {1})",
        Kind.SCALE_COLUMNS: "({0} * {1}.T)",
        Kind.DIAGFLAT: "torch.diagflat({0})",
    }

    def op_code(self, node, args: list[str]) -> str:
        return node.torch_code(args, self.size)

    def fill(self, node) -> str:
        if isinstance(node, Ones):
            return node.torch_code([], self.size)
        return f"torch.full((1, 1), {self.literal(node)}, dtype=_dtype, device=_device)"

    def conversions(self) -> list[str]:
        sig = self.plan.signature
        arguments = "(" + "".join(f"{name}, " for name in sig.arguments) + ")"
        return [f"_dtype, _device = _tensor_kind({arguments})"] + [
            f"{name} = _as_matrix({name}, {symbol.label!r}, {symbol.shape[1] == 1}, _dtype, _device)"
            for symbol, name in zip(self.plan.inputs, sig.arguments)
        ]

    def handed_out(self, code: str, value: Instruction, repeated: bool) -> str:
        # an argument, a view of one, or an output returned twice: a copy, so that writing
        # into one result changes nothing else
        return f"{code}.clone()" if not value.computed or value.view or repeated else code

    @staticmethod
    def template(function: ElementwiseFunction) -> str | None:
        return function.torch_template

    @staticmethod
    def print_formula(formula: sympy.Expr) -> str:
        # sympy.printing.pytorch imports torch when it loads: only now, when torch is wanted
        from sympy.printing.pytorch import TorchPrinter

        return TorchPrinter({"fully_qualified_modules": True, "strict": True}).doprint(formula)

    @staticmethod
    def constant(body: str) -> str:
        return f"torch.full_like(u, {body})"

    @staticmethod
    def sample(namespace: dict):
        return namespace["torch"].tensor(SAMPLE_POINTS, dtype=namespace["torch"].float64)
