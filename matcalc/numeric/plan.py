"""The plan: what a generated function computes, as data, before any text is written.

:func:`lower` turns the expression DAG into a list of :class:`Instruction` records, one per
value, each naming its operands by id.  The passes in :mod:`.passes` rewrite that list (sums
subtract, products scale by diagonals, dying buffers are reused) and an emitter
(:mod:`.emit_numpy`) formats it last.  Nothing here is NumPy's: a kind says what is computed,
an emitter says how its library spells it.
"""

from __future__ import annotations

import builtins
import enum
import keyword
import re
from dataclasses import dataclass, field

import sympy

from ..errors import EvaluationError
from ..expr import Const, Expr, Let, Ones, Symbol
from ..graph import postorder
from ..ops import Add, MatMul, negated


class Kind(enum.Enum):
    """What an instruction computes."""

    INPUT = "input"  # a function argument; ``node`` is its Symbol
    LITERAL = "literal"  # a number or 𝟏 (``node``): read as a number where it broadcasts, never computed
    FILL = "fill"  # the literal ``node`` as an array of its shape, for operations that do not broadcast
    OP = "op"  # the operation of ``node`` over the operands, by its own template
    NEGATE = "negate"  # −x
    SUM = "sum"  # ±t₁ ± t₂ ± …, a sign per term in ``subtracted``
    MATMUL = "matmul"  # A B
    OUTER = "outer"  # a column times a row
    MULTI_DOT = "multi_dot"  # a chain of three or more factors, multiplied in the cheapest order
    SCALE_ROWS = "scale_rows"  # diag(v) X, operands (v, X): row i of X times vᵢ
    SCALE_COLUMNS = "scale_columns"  # X diag(v), operands (X, v): column j of X times vⱼ
    DIAGFLAT = "diagflat"  # diag(v) as a matrix


_NOT_COMPUTED = (Kind.INPUT, Kind.LITERAL)


@dataclass(eq=False)
class Instruction:
    """One value of the plan and how it is computed."""

    id: int
    kind: Kind
    shape: tuple
    operands: tuple[int, ...] = ()  # ids of inputs, literals and earlier instructions
    node: Expr | None = None  # the expression (kinds INPUT, LITERAL, FILL, OP)
    subtracted: tuple[bool, ...] = ()  # SUM: which terms are subtracted
    # Memory facts (passes.declare_memory_effects), for targets whose arrays can be written:
    view: bool = False  # its value shares memory with an operand (a transpose does)
    writes_into: bool = False  # it can be computed into an existing array of its shape
    overwritable: tuple[int, ...] = ()  # computed operands (never inputs) that array may be: each is read before written
    read_late: tuple[int, ...] = ()  # operands read after the first write (a sum of three or more terms)
    inline: bool = False  # written where it is read, not as a statement of its own (a view read once)
    # Where the value is written: an output's array (passes.write_outputs_in_place), the buffer
    # of an operand that dies here (passes.reuse_dying_operands), or, when both are None, a new one.
    output: int | None = None
    reuses: int | None = None

    @property
    def computed(self) -> bool:
        return self.kind not in _NOT_COMPUTED


@dataclass
class OutputSlot:
    """How the function delivers one output (passes.output_slots)."""

    value: int  # the id of the value returned
    shape: tuple
    scalar: bool  # returned as a float
    written: bool  # an instruction computes it straight into the output array
    shared: bool  # an input, a view or an earlier output: without ``out`` the function hands out a copy
    guarded: tuple[int, ...]  # inputs still read after the array is written: a caller's array may not overlap them


@dataclass
class Signature:
    """The Python names of the generated function, its arguments and its dimensions."""

    function: str
    arguments: list[str]
    dims: dict  # sympy Symbol -> identifier
    inferred: dict  # sympy Symbol -> (argument index, axis) it is read from
    keyword_dims: list[str]  # dimensions no argument fixes: keyword arguments


@dataclass
class Plan:
    """The instructions of one function, its outputs (value ids) and its signature."""

    inputs: list[Symbol]
    outputs: list[int]
    instructions: list[Instruction]  # in execution order; inputs and literals first among them
    signature: Signature
    single: bool  # one output, returned bare
    checks: bool  # the function checks its arguments' shapes
    slots: list[OutputSlot] = field(default_factory=list)
    _by_id: dict = field(default_factory=dict, repr=False)
    _next_id: int = field(default=0, repr=False)

    def __post_init__(self):
        self.replace(self.instructions)

    def replace(self, instructions: list[Instruction]) -> None:
        """Make ``instructions`` the plan's list (a pass that adds or drops some calls this)."""
        self.instructions = instructions
        self._by_id = {instruction.id: instruction for instruction in instructions}
        self._next_id = max(self._next_id, max(self._by_id, default=-1) + 1)

    def __getitem__(self, value_id: int) -> Instruction:
        return self._by_id[value_id]

    def computed(self) -> list[Instruction]:
        return [instruction for instruction in self.instructions if instruction.computed]

    def new_instruction(self, kind: Kind, shape: tuple, operands=(), **facts) -> Instruction:
        """A new instruction with a fresh id, not yet in the list: the pass places it."""
        instruction = Instruction(self._next_id, kind, shape, tuple(operands), **facts)
        self._next_id += 1
        self._by_id[instruction.id] = instruction
        return instruction


_NOT_IDENTIFIER = re.compile(r"[^0-9A-Za-z_]")
# names generated code uses itself: modules (of every backend), and Python's builtins (max, abs, list, ...)
_RESERVED = {"np", "numpy", "functools", "scipy", "jax", "jnp", "torch"} | set(dir(builtins))


def identifier(name: str, taken: set) -> str:
    """A fresh, safe Python identifier for ``name``: ASCII letters, digits and underscores, no
    keyword, builtin or module name, and none of ``taken`` (to which it is added)."""
    base = _NOT_IDENTIFIER.sub("_", name).strip("_") or "v"
    if base[0].isdigit() or keyword.iskeyword(base) or base in _RESERVED or base.startswith("_"):
        base = "v_" + base
    candidate, counter = base, 1
    while candidate in taken:
        counter += 1
        candidate = f"{base}_{counter}"
    taken.add(candidate)
    return candidate


def _free_dims(nodes: list[Expr]) -> list[sympy.Symbol]:
    sizes = [d for node in nodes for d in node.shape + node.params if isinstance(d, sympy.Expr)]
    return sorted({symbol for size in sizes for symbol in size.free_symbols}, key=str)


def signature(inputs: list[Symbol], nodes: list[Expr], function_name: str) -> Signature:
    """Sanitised names for the function, its arguments and the dimensions the nodes use; each
    dimension read off the first argument that has it, the others keyword arguments."""
    taken: set = {"out"}
    function = identifier(function_name, taken)
    arguments = [identifier(symbol.label, taken) for symbol in inputs]
    free = _free_dims([*inputs, *nodes])  # an input no output reads still has its shape checked
    dims = {d: identifier("dim_" + str(d), taken) for d in free}
    inferred: dict = {}
    for index, symbol in enumerate(inputs):
        for axis, d in enumerate(symbol.shape):
            if isinstance(d, sympy.Symbol) and d in dims and d not in inferred:
                inferred[d] = (index, axis)
    keyword_dims = [dims[d] for d in free if d not in inferred]
    return Signature(function, arguments, dims, inferred, keyword_dims)


class _Lowering:
    """One instruction per node, in the order of the DAG walk; a named intermediate is its body."""

    def __init__(self, inputs: list[Symbol]):
        self.instructions: list[Instruction] = []
        self.ids: dict[Expr, int] = {}
        for symbol in inputs:
            self.ids[symbol] = self._add(Kind.INPUT, symbol.shape, node=symbol)

    def _add(self, kind: Kind, shape: tuple, operands=(), **facts) -> int:
        self.instructions.append(Instruction(len(self.instructions), kind, shape, tuple(operands), **facts))
        return len(self.instructions) - 1

    def visit(self, node: Expr) -> None:
        if node in self.ids:
            return
        if isinstance(node, Symbol):
            raise EvaluationError(f"no value for {node.kind} {node.label!r} (shape {node.shape[0]}×{node.shape[1]})")
        self.ids[node] = self._lowered(node)

    def _lowered(self, node: Expr) -> int:
        if isinstance(node, Let):
            return self.ids[node.args[0]]
        if isinstance(node, (Const, Ones)):
            return self._add(Kind.LITERAL, node.shape, node=node)
        operands = [self.ids[arg] for arg in node.args]
        if (body := negated(node)) is not None:
            return self._add(Kind.NEGATE, node.shape, [self.ids[body]])
        if isinstance(node, Add):
            return self._add(Kind.SUM, node.shape, operands, subtracted=(False,) * len(operands))
        if isinstance(node, MatMul):
            return self._add(Kind.MATMUL, node.shape, operands)
        return self._add(Kind.OP, node.shape, operands, node=node)


def lower(inputs: list[Symbol], outputs: list[Expr], function_name: str, checks: bool, single: bool) -> Plan:
    """The plan of a function of ``inputs`` that returns ``outputs``: one instruction per node."""
    nodes = postorder(outputs)
    lowering = _Lowering(inputs)
    for node in nodes:
        lowering.visit(node)
    return Plan(
        inputs=list(inputs),
        outputs=[lowering.ids[output] for output in outputs],
        instructions=lowering.instructions,
        signature=signature(inputs, nodes, function_name),
        checks=checks,
        single=single,
    )
