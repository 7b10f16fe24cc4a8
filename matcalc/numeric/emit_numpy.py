"""The NumPy emitter: formats an optimised plan as Python source over NumPy, and nothing more.

Every decision (what to compute, in which array) is already in the plan; this module only
spells each instruction kind in NumPy, names the buffers, and writes the function around them:
argument checks, the ``out`` protocol and the return.  An operation's own template comes from
its class (``numpy_code``, ``numpy_into``), so a template is written once.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np
import sympy

from ..errors import EvaluationError
from ..expr import Ones
from ..ops import Elementwise
from ..ops.elementwise import helper_namespace
from . import runtime
from .plan import Instruction, Kind, Plan


@dataclass
class Generated:
    """Generated source and what it needs."""

    source: str
    function_name: str
    argument_names: list[str]
    dim_names: dict  # sympy Symbol -> identifier
    inferred_dims: dict  # sympy Symbol -> (argument index, axis)
    helpers: list[str]


def _size_part(part, codes: list[str], names: dict) -> str:
    if isinstance(part, sympy.Symbol):
        return names[part]
    if isinstance(part, sympy.Integer):
        return str(int(part))
    if isinstance(part, sympy.Rational):
        return f"({part.p}/{part.q})"
    if isinstance(part, sympy.Mul):
        return "(" + " * ".join(codes) + ")"
    if isinstance(part, sympy.Add):
        return "(" + " + ".join(codes) + ")"
    if isinstance(part, sympy.Pow) and part.exp.is_Integer and part.exp > 0:
        return "(" + " * ".join([codes[0]] * int(part.exp)) + ")"
    raise EvaluationError(f"cannot size dimension {part}")


def size_code(dim, names: dict) -> str:
    """A dimension (an int or a sympy expression of dimension symbols) as Python code."""
    if isinstance(dim, int):
        return str(dim)
    codes: dict = {}
    for part in sympy.postorder_traversal(dim):
        codes[part] = _size_part(part, [codes[arg] for arg in part.args], names)
    return codes[dim]


def shape_code(shape: tuple, size) -> str:
    """A shape as a Python tuple, each dimension written by ``size``."""
    return "(" + ", ".join(size(d) for d in shape) + ")"


# Each kind as an expression that makes a new array, and as a statement that writes into ``{out}``.
_EXPRESSIONS = {
    Kind.NEGATE: "(-{0})",
    Kind.MATMUL: "({0} @ {1})",
    Kind.OUTER: "np.einsum('ik,kj->ij', {0}, {1})",  # einsum writes an outer product fastest
    Kind.SCALE_ROWS: "({0} * {1})",
    Kind.SCALE_COLUMNS: "({0} * {1}.T)",
    Kind.DIAGFLAT: "np.diagflat({0})",
}
_INTO = {
    Kind.NEGATE: "np.negative({0}, out={out})",
    Kind.MATMUL: "np.matmul({0}, {1}, out={out})",
    Kind.OUTER: "np.einsum('ik,kj->ij', {0}, {1}, out={out})",
    Kind.MULTI_DOT: "np.linalg.multi_dot([{all}], out={out})",
    Kind.SCALE_ROWS: "np.multiply({0}, {1}, out={out})",
    Kind.SCALE_COLUMNS: "np.multiply({0}, {1}.T, out={out})",
}


class NumpyEmitter:
    """Python source over NumPy for one plan.

    As a :class:`~matcalc.numeric.passes.Target` it tells the memory passes which instructions
    NumPy can write into an existing array (ufuncs, ``matmul``, ``einsum``, ``multi_dot`` take
    ``out=``) and which values are views.
    """

    @staticmethod
    def writes_into(instruction: Instruction) -> bool:
        if instruction.kind is Kind.OP:  # the op's template says, asked with placeholder names
            names = [f"x{k}" for k in range(len(instruction.node.args))]
            return instruction.node.numpy_into(names, "out", str) is not None
        if instruction.kind is Kind.SUM:  # −a − b is no single ufunc
            return not (instruction.subtracted[0] and instruction.subtracted[1])
        return instruction.kind in _INTO

    @staticmethod
    def is_view(instruction: Instruction) -> bool:
        return instruction.kind is Kind.OP and instruction.node.numpy_view

    def __init__(self, plan: Plan):
        self.plan = plan
        self.dims = plan.signature.dims
        self.text: dict[int, str] = {}  # value id -> how code refers to it: a name, a literal, a view's expression
        self.fresh = 0
        self.sizes: dict = {}  # dimension -> its code; every shape repeats a few dimensions

    def size(self, dim) -> str:
        if dim not in self.sizes:
            self.sizes[dim] = size_code(dim, self.dims)
        return self.sizes[dim]

    # --- one instruction ---------------------------------------------------------------
    def literal(self, node) -> str:
        return "1.0" if isinstance(node, Ones) else node.numpy_code([], self.size)

    def expression(self, instruction: Instruction, args: list[str]) -> str:
        kind = instruction.kind
        if kind is Kind.OP:
            return instruction.node.numpy_code(args, self.size)
        if kind is Kind.FILL:
            node = instruction.node
            return node.numpy_code([], self.size) if isinstance(node, Ones) else f"np.full((1, 1), {self.literal(node)}, dtype=float)"
        if kind is Kind.SUM:
            return sum_expression(args, instruction.subtracted)
        if kind is Kind.MULTI_DOT:
            return f"np.linalg.multi_dot([{', '.join(args)}])"
        return _EXPRESSIONS[kind].format(*args)

    def into(self, instruction: Instruction, args: list[str], out: str) -> list[str]:
        if instruction.kind is Kind.OP:
            return [instruction.node.numpy_into(args, out, self.size)]
        if instruction.kind is Kind.SUM:
            return _sum_into(args, instruction.subtracted, out)
        return [_INTO[instruction.kind].format(*args, all=", ".join(args), out=out)]

    def statements(self, instruction: Instruction) -> list[str]:
        """The instruction's statements; a view read once gets none, its readers spell it."""
        args = [self.text[operand] for operand in instruction.operands]
        if instruction.inline:
            self.text[instruction.id] = self.expression(instruction, args)
            return []
        out = self.out_name(instruction)
        if out is None:
            self.text[instruction.id] = f"_t{self.fresh}"
            self.fresh += 1
            return [f"{self.text[instruction.id]} = {self.expression(instruction, args)}"]
        self.text[instruction.id] = out
        return self.into(instruction, args, out)

    def out_name(self, instruction: Instruction) -> str | None:
        if instruction.output is not None:
            return f"_o{instruction.output}"
        if instruction.reuses is not None:
            return self.text[instruction.reuses]
        return None

    # --- the function ------------------------------------------------------------------
    def header(self) -> list[str]:
        sig = self.plan.signature
        keywords = [f"{k}=None" for k in sig.keyword_dims]
        lines = [f"def {sig.function}({', '.join(sig.arguments + ['*'] + keywords + ['out=None'])}):"]
        for symbol, name in zip(self.plan.inputs, sig.arguments):
            lines.append(f"    {name} = _as_matrix({name}, {symbol.label!r}, {symbol.shape[1] == 1})")
        for d, (index, axis) in sig.inferred.items():
            lines.append(f"    {sig.dims[d]} = {sig.arguments[index]}.shape[{axis}]")
        for k in sig.keyword_dims:
            lines.append(f"    if {k} is None:")
            lines.append(f"        raise _InvalidInput({('missing the size of dimension ' + k[4:])!r})")
        if self.plan.checks:
            for symbol, name in zip(self.plan.inputs, sig.arguments):
                lines.append(f"    _check_shape({name}, {shape_code(symbol.shape, self.size)}, {symbol.label!r})")
        return lines

    def output_arrays(self) -> list[str]:
        """Without ``out``, one block for the outputs computed in place (the others are handed
        out at the end); with it, the caller's arrays, checked."""
        slots = self.plan.slots
        names = [f"_o{k}" for k in range(len(slots))]
        lines = ["if out is None:"]
        written = [k for k, slot in enumerate(slots) if slot.written]
        if written:
            shapes = ", ".join(shape_code(slots[k].shape, self.size) for k in written)
            lines.append(f"    {', '.join(names[k] for k in written)}, = _new_arrays(({shapes},))")
        lines += [f"    {names[k]} = None" for k, slot in enumerate(slots) if not slot.written]
        specs = ", ".join("None" if slot.scalar else shape_code(slot.shape, self.size) for slot in slots)
        guarded = ", ".join("(" + "".join(f"{self.text[i]}, " for i in slot.guarded) + ")" for slot in slots)
        given = "(out,)" if self.plan.single else "out"
        lines += ["else:", f"    {', '.join(names)}, = _output_buffers({given}, ({specs},), ({guarded},))"]
        return lines

    def delivery(self) -> list[str]:
        """Outputs not computed in place, copied into their arrays; then the return."""
        lines, results = [], []
        for k, slot in enumerate(self.plan.slots):
            value = self.text[slot.value]
            if slot.scalar:
                results.append(f"float({value}[0, 0])")
                continue
            if not slot.written:
                fresh = f"np.array({value})" if slot.shared else value
                lines.append(f"_o{k} = {fresh} if _o{k} is None else _copy_into(_o{k}, {value})")
            results.append(f"_o{k}")
        lines.append(f"return {results[0] if self.plan.single else '(' + ', '.join(results) + ',)'}")
        return lines

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
        lines = self.output_arrays() + body + self.delivery()
        return "\n".join(header + ["    " + line for line in lines]) + "\n"

    def helpers(self) -> list[str]:
        """Definitions for the elementwise functions NumPy has no template for."""
        functions = dict.fromkeys(
            i.node.function for i in self.plan.instructions if i.kind is Kind.OP and isinstance(i.node, Elementwise)
        )
        return [source for source in (f.helper_source() for f in functions) if source]

    def generated(self) -> Generated:
        sig = self.plan.signature
        source = self.function()
        return Generated(source, sig.function, sig.arguments, sig.dims, sig.inferred, self.helpers())


def sum_expression(args: list[str], subtracted: tuple) -> str:
    pieces = []
    for minus, text in zip(subtracted, args):
        pieces.append((" - " if minus else " + ") + text if pieces else ("-" if minus else "") + text)
    return "(" + "".join(pieces) + ")"


def _sum_into(args: list[str], subtracted: tuple, out: str) -> list[str]:
    """One ufunc for the first two terms, then one more per term, each reading ``out``."""
    (first, second), (first_minus, second_minus) = args[:2], subtracted[:2]
    if first_minus:  # −a + b = b − a
        first, second, second_minus = second, first, True
    statements = [f"np.{'subtract' if second_minus else 'add'}({first}, {second}, out={out})"]
    for minus, text in zip(subtracted[2:], args[2:]):
        statements.append(f"np.{'subtract' if minus else 'add'}({out}, {text}, out={out})")
    return statements


def compile_generated(generated: Generated):
    """The Python function for generated source, built in a namespace of NumPy and helpers."""
    namespace = {"np": np, "numpy": np, "_InvalidInput": EvaluationError, **runtime.HELPERS, **runtime.SUPPORT}
    namespace.update(helper_namespace("".join(generated.helpers)))
    for helper in generated.helpers:
        exec(compile(helper, "<matcalc helper>", "exec"), namespace)  # noqa: S102 - built from sympy trees
    exec(compile(generated.source, f"<matcalc {generated.function_name}>", "exec"), namespace)  # noqa: S102
    return namespace[generated.function_name]


def docstring(text: str) -> str:
    """``text`` as a triple-quoted Python literal: backslashes and every quote escaped, and
    characters that are not printable written as escapes, so no text can end the literal."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(ch if ch.isprintable() or ch == "\n" else ascii(ch)[1:-1] for ch in escaped)
    return f'"""{escaped}\n"""'


def runtime_sources(helpers: dict, generated: Generated) -> list[str]:
    """The source of each runtime helper (``helpers``: name -> function) that the generated
    function calls, directly or through another helper, in the order ``helpers`` lists them."""
    available = {name: inspect.getsource(fn) for name, fn in helpers.items()}
    needed_by = generated.source + "".join(generated.helpers)
    included: dict[str, str] = {}
    while True:
        new = {n: t for n, t in available.items() if n not in included and n + "(" in needed_by}
        if not new:
            break
        included.update(new)
        needed_by += "".join(new.values())
    return [available[n] for n in available if n in included]


def standalone_source(generated: Generated) -> str:
    """Source that imports only NumPy: support helpers, function helpers, the function."""
    modules = helper_namespace("".join(generated.helpers))
    imports = ["import numpy as np"] + (["import numpy"] if "numpy." in "".join(generated.helpers) else [])  # SymPy writes numpy.
    imports += [f"import {module}" for module in ("functools", "scipy.special") if module.split(".")[0] in modules]
    parts = ["\n".join(imports) + "\n\n_InvalidInput = ValueError  # matcalc's own functions raise its EvaluationError\n"]
    parts.extend(runtime_sources({**runtime.SUPPORT, **runtime.HELPERS}, generated))
    parts.extend(generated.helpers)
    parts.append(generated.source)
    return "\n\n".join(parts)
