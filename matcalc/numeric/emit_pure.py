"""Emitters for libraries whose generated code writes no array in place: JAX and PyTorch.

JAX arrays cannot be written at all; torch tensors can, but autograd cannot follow a write
into an ``out=`` tensor, and matcalc's torch code is meant to be differentiated again.  As
targets of the memory passes these emitters answer no to "can it write into an existing
array", so every value gets a new array and the memory passes change nothing.  The function
has no ``out`` parameter; it returns its outputs, scalars as 0-d arrays (``jax.grad`` and
``loss.backward()`` take those, a Python float would leave the traced computation).

A subclass names its library (its import lines, its runtime module), spells each
instruction kind (``KINDS``), reads the op records' templates (``op_code``) and prints user
functions with sympy's printer for its library.  What an emitter cannot express is an
:class:`EvaluationError` here, while compiling, never when the function is called.
"""

from __future__ import annotations

from types import ModuleType
from typing import ClassVar

import sympy

from ..errors import EvaluationError
from ..expr import Ones
from ..ops import Elementwise, ElementwiseFunction
from .emit_numpy import Generated, runtime_sources, shape_code, size_code, sum_expression
from .plan import Instruction, Kind, Plan

# helpers printed and checked once per (backend, function): functions are unique in the process
_CHECKED_HELPERS: dict[tuple[str, ElementwiseFunction], str] = {}
# the points a printed helper is tried on before any function uses it
SAMPLE_POINTS = [[-1.5], [-0.25], [0.0], [0.5], [2.0]]


def _first_line(error: BaseException) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0]


class PureEmitter:
    """Source for one plan in a library whose generated code writes no array in place."""

    backend: ClassVar[str]  # the name lambdify takes: "jax", "torch"
    title: ClassVar[str]  # the name messages use: "JAX", "PyTorch"
    imports: ClassVar[tuple[str, ...]]  # the import lines of its source
    runtime: ClassVar[ModuleType]  # its HELPERS and SUPPORT
    KINDS: ClassVar[dict]  # each kind but OP, FILL and SUM: a template over operands {0}, {1} or {all}

    @staticmethod
    def writes_into(instruction: Instruction) -> bool:
        return False

    @staticmethod
    def is_view(instruction: Instruction) -> bool:
        # Nothing is written, so no view can be overwritten; a transpose read once is still
        # best written where it is read (x.T @ y), as the NumPy emitter writes it.
        return instruction.kind is Kind.OP and instruction.node.numpy_view

    def __init__(self, plan: Plan):
        self.plan = plan
        self.dims = plan.signature.dims
        self.text: dict[int, str] = {}  # value id -> how code refers to it: a name, a literal, a view's expression
        self.fresh = 0
        self.sizes: dict = {}

    def size(self, dim) -> str:
        if dim not in self.sizes:
            self.sizes[dim] = size_code(dim, self.dims)
        return self.sizes[dim]

    # --- what a subclass says about its library ------------------------------------------
    def op_code(self, node, args: list[str]) -> str:
        """The op record's template for this library."""
        raise NotImplementedError

    def fill(self, node) -> str:
        """A literal (a number or 𝟏) as an array of its shape."""
        raise NotImplementedError

    def conversions(self) -> list[str]:
        """Statements that make each argument a 2-D array of the library and set ``_dtype``."""
        raise NotImplementedError

    @staticmethod
    def template(function: ElementwiseFunction) -> str | None:
        """The elementwise row's template for this library (None: the function needs a helper)."""
        raise NotImplementedError

    @staticmethod
    def print_formula(formula: sympy.Expr) -> str:
        """A user function's formula in this library, over an array ``u``, printed by sympy."""
        raise NotImplementedError

    @staticmethod
    def constant(body: str) -> str:
        """A constant formula as an array of the shape of ``u``."""
        raise NotImplementedError

    @staticmethod
    def sample(namespace: dict):
        """A column of sample points as this library's array."""
        raise NotImplementedError

    def handed_out(self, code: str, value: Instruction, repeated: bool) -> str:
        """How an output is returned: as it is (a library whose arrays are never written)."""
        return code

    # --- one instruction ---------------------------------------------------------------
    def literal(self, node) -> str:
        # a number's code is plain Python, the same in every library
        return "1.0" if isinstance(node, Ones) else node.numpy_code([], self.size)

    def expression(self, instruction: Instruction, args: list[str]) -> str:
        kind = instruction.kind
        if kind is Kind.OP:
            try:
                return self.op_code(instruction.node, args)
            except NotImplementedError as error:
                raise EvaluationError(f"the {self.title} backend cannot compute {instruction.node.name}: {error}") from None
        if kind is Kind.FILL:
            return self.fill(instruction.node)
        if kind is Kind.SUM:
            return sum_expression(args, instruction.subtracted)
        return self.KINDS[kind].format(*args, all=", ".join(args))

    def statements(self, instruction: Instruction) -> list[str]:
        """The instruction's statement; a view read once gets none, its reader spells it."""
        code = self.expression(instruction, [self.text[operand] for operand in instruction.operands])
        if instruction.inline:
            self.text[instruction.id] = code
            return []
        self.text[instruction.id] = f"_t{self.fresh}"
        self.fresh += 1
        return [f"{self.text[instruction.id]} = {code}"]

    # --- the function ------------------------------------------------------------------
    def header(self) -> list[str]:
        sig = self.plan.signature
        keywords = [f"{k}=None" for k in sig.keyword_dims]
        parameters = sig.arguments + (["*", *keywords] if keywords else [])
        lines = [f"def {sig.function}({', '.join(parameters)}):"]
        lines += ["    " + line for line in self.conversions()]
        for d, (index, axis) in sig.inferred.items():
            lines.append(f"    {sig.dims[d]} = {sig.arguments[index]}.shape[{axis}]")
        for k in sig.keyword_dims:
            lines.append(f"    if {k} is None:")
            lines.append(f"        raise _InvalidInput({('missing the size of dimension ' + k[4:])!r})")
        if self.plan.checks:
            for symbol, name in zip(self.plan.inputs, sig.arguments):
                lines.append(f"    _check_shape({name}, {shape_code(symbol.shape, self.size)}, {symbol.label!r})")
        return lines

    def delivery(self) -> list[str]:
        results, returned = [], set()
        for slot in self.plan.slots:
            value = self.text[slot.value]
            code = f"{value}[0, 0]" if slot.scalar else value
            results.append(self.handed_out(code, self.plan[slot.value], slot.value in returned))
            returned.add(slot.value)
        return [f"return {results[0] if self.plan.single else '(' + ', '.join(results) + ',)'}"]

    def function(self) -> str:
        """The function's source."""
        header = self.header()
        argument = dict(zip(self.plan.inputs, self.plan.signature.arguments))
        for instruction in self.plan.instructions:
            if instruction.kind is Kind.INPUT:
                self.text[instruction.id] = argument[instruction.node]
            elif instruction.kind is Kind.LITERAL:
                self.text[instruction.id] = self.literal(instruction.node)
        body = [line for instruction in self.plan.computed() for line in self.statements(instruction)]
        return "\n".join(header + ["    " + line for line in body + self.delivery()]) + "\n"

    # --- user functions ------------------------------------------------------------------
    def helpers(self) -> list[str]:
        """Definitions for the elementwise functions the library has no template for."""
        functions = dict.fromkeys(
            i.node.function for i in self.plan.instructions if i.kind is Kind.OP and isinstance(i.node, Elementwise)
        )
        return [self.helper_source(function) for function in functions if not self.template(function)]

    def helper_source(self, function: ElementwiseFunction) -> str:
        key = (self.backend, function)
        if key not in _CHECKED_HELPERS:
            _CHECKED_HELPERS[key] = self.checked_helper(function)
        return _CHECKED_HELPERS[key]

    def checked_helper(self, function: ElementwiseFunction) -> str:
        """The helper printed by sympy and tried on sample points, or an EvaluationError that
        says why this library cannot compute the function."""
        shown = f"the {self.title} backend cannot compute {function.name}(u) = {function.formula}"
        try:
            body = self.print_formula(function.formula)
        except (NotImplementedError, ValueError, TypeError) as error:  # sympy's printers: no form in this library
            raise EvaluationError(f"{shown}: {_first_line(error)}") from None
        if "math." in body:
            raise EvaluationError(f"{shown}: sympy writes it with Python's math module, which takes one number, not an array")
        if function.formula.is_number:
            body = self.constant(body)
        source = f"def {function.identifier}(u):\n    return {body}\n"
        namespace: dict = {}
        try:  # printed by sympy from a checked formula, never the user's text
            exec(compile("\n".join(self.imports_for(source)) + "\n" + source, "<matcalc check>", "exec"), namespace)  # noqa: S102
            sample = self.sample(namespace)
            result = namespace[function.identifier](sample)
        except Exception as error:  # noqa: BLE001 - any failure means: no array form in this library
            raise EvaluationError(f"{shown}: its form {body} fails on arrays ({type(error).__name__}: {_first_line(error)})") from None
        if tuple(getattr(result, "shape", ())) != tuple(sample.shape):
            raise EvaluationError(f"{shown}: its form {body} does not work entry by entry")
        return source

    def generated(self) -> Generated:
        sig = self.plan.signature
        source = self.function()
        return Generated(source, sig.function, sig.arguments, sig.dims, sig.inferred, self.helpers())

    # --- the source and the callable -----------------------------------------------------
    @classmethod
    def imports_for(cls, text: str) -> list[str]:
        """The library's imports, and functools where sympy printed max or min with it."""
        return [*cls.imports, *(["import functools"] if "functools." in text else [])]

    @classmethod
    def standalone(cls, generated: Generated) -> str:
        """Source that imports only the library: support helpers, function helpers, the function."""
        imports = cls.imports_for("".join(generated.helpers))
        parts = ["\n".join(imports) + "\n\n_InvalidInput = ValueError  # matcalc's own functions raise its EvaluationError\n"]
        parts.extend(runtime_sources({**cls.runtime.SUPPORT, **cls.runtime.HELPERS}, generated))
        parts.extend(generated.helpers)
        parts.append(generated.source)
        return "\n\n".join(parts)

    @classmethod
    def build(cls, generated: Generated) -> tuple:
        """The function and its standalone source; the function is built by running that
        source, so what is exported is what runs."""
        source = cls.standalone(generated)
        # no __name__: torch.compile would try to import a module of that name to guard its globals
        namespace: dict = {}
        exec(compile(source, f"<matcalc {generated.function_name}>", "exec"), namespace)  # noqa: S102 - generated from the plan
        namespace["_InvalidInput"] = EvaluationError
        return namespace[generated.function_name], source
