"""Passes over the plan, each a small function that rewrites or annotates its instructions.

:func:`optimise` runs them in order.  The first five reshape the computation and hold for any
target; the rest decide memory and ask the target two questions (:class:`Target`): whether an
instruction can write into an existing array, and whether its value is a view.  A target whose
arrays cannot be written (JAX) answers no to both, and the memory passes change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..ops import DiagMat, Hadamard, Scale
from ..shapes import is_one, is_scalar_shape, same_shape
from .plan import Instruction, Kind, OutputSlot, Plan


class Target(Protocol):
    """What the memory passes need to know of an emitter's library."""

    @staticmethod
    def writes_into(instruction: Instruction) -> bool: ...

    @staticmethod
    def is_view(instruction: Instruction) -> bool: ...


def subtract_negations(plan: Plan) -> None:
    """−x is held back: a sum subtracts x instead of adding a negated copy of it.  (The negation
    is still computed where something other than a sum reads it.)"""
    for instruction in plan.instructions:
        if instruction.kind is not Kind.SUM:
            continue
        terms, subtracted = [], []
        for term, minus in zip(instruction.operands, instruction.subtracted):
            if plan[term].kind is Kind.NEGATE:
                term, minus = plan[term].operands[0], not minus
            terms.append(term)
            subtracted.append(minus)
        instruction.operands, instruction.subtracted = tuple(terms), tuple(subtracted)


_ELEMENTWISE_PRODUCTS = (Scale, Hadamard)


def _broadcasts(plan: Plan, instruction: Instruction) -> bool:
    """Whether the instruction reads its literal operands as numbers: a sum with a term that is
    an array, or an elementwise product with an operand that is an array of its shape."""
    arrays = [plan[operand] for operand in instruction.operands if plan[operand].kind is not Kind.LITERAL]
    if instruction.kind is Kind.SUM:
        return bool(arrays)
    if instruction.kind is Kind.OP and isinstance(instruction.node, _ELEMENTWISE_PRODUCTS):
        return any(array.shape == instruction.shape for array in arrays)
    return False


def broadcast_literals(plan: Plan) -> None:
    """Numbers and 𝟏 stay literals wherever an operation broadcasts them (X + 1, 2X); anything
    else reads an array of the literal, filled once, just before its first reader."""
    filled: dict[int, int] = {}
    placed: list[Instruction] = []

    def as_array(value_id: int) -> int:
        literal = plan[value_id]
        if literal.kind is not Kind.LITERAL:
            return value_id
        if value_id not in filled:
            fill = plan.new_instruction(Kind.FILL, literal.shape, node=literal.node)
            placed.append(fill)
            filled[value_id] = fill.id
        return filled[value_id]

    for instruction in plan.instructions:
        if instruction.computed and not _broadcasts(plan, instruction):
            instruction.operands = tuple(as_array(operand) for operand in instruction.operands)
        placed.append(instruction)
    plan.outputs = [as_array(output) for output in plan.outputs]
    plan.replace(placed)


def _is_diagonal(plan: Plan, value_id: int) -> bool:
    value = plan[value_id]
    return value.kind is Kind.OP and isinstance(value.node, DiagMat)


def _groups(plan: Plan, factors: tuple) -> list[tuple[list, list, list]]:
    """A product's factors as groups (row vectors, dense factors, column vectors): each run of
    dense factors with the diagonals just before it, which scale its rows, and just after it,
    which scale its columns.  A product of diagonals only is one group with no dense factor."""
    groups: list[tuple[list, list, list]] = [([], [], [])]
    for factor in factors:
        rows, dense, columns = groups[-1]
        if _is_diagonal(plan, factor):
            (columns if dense else rows).append(plan[factor].operands[0])
        elif columns:
            groups.append(([], [factor], []))
        else:
            dense.append(factor)
    return groups


def _scaled_product(plan: Plan, product: Instruction) -> list[Instruction]:
    """Instructions that compute ``product`` without forming its diagonal factors; the last is
    ``product`` itself, so its readers keep their operand."""
    made: list[Instruction] = []

    def add(kind: Kind, shape: tuple, operands: tuple) -> int:
        made.append(plan.new_instruction(kind, shape, operands))
        return made[-1].id

    pieces = []
    for rows, dense, columns in _groups(plan, product.operands):
        if not dense:  # diag(u)diag(v) = diag(u ⊙ v)
            value = rows[0]
            for vector in rows[1:]:
                value = add(Kind.SCALE_ROWS, plan[value].shape, (vector, value))
            pieces.append(add(Kind.DIAGFLAT, (plan[value].shape[0],) * 2, (value,)))
            continue
        value = dense[0]
        if len(dense) > 1:
            value = add(Kind.MATMUL, (plan[dense[0]].shape[0], plan[dense[-1]].shape[1]), tuple(dense))
        for vector in rows:
            value = add(Kind.SCALE_ROWS, plan[value].shape, (vector, value))
        for vector in columns:
            value = add(Kind.SCALE_COLUMNS, plan[value].shape, (value, vector))
        pieces.append(value)
    if len(pieces) > 1:
        product.operands = tuple(pieces)
    else:
        last = made.pop()
        product.kind, product.operands = last.kind, last.operands
    return [*made, product]


def scale_by_diagonals(plan: Plan) -> None:
    """diag(v) is held back: a product scales rows or columns by v instead of multiplying by
    an n×n diagonal matrix.  (diag(v) is still formed where something else reads it.)"""
    placed: list[Instruction] = []
    for instruction in plan.instructions:
        if instruction.kind is Kind.MATMUL and any(_is_diagonal(plan, f) for f in instruction.operands):
            placed.extend(_scaled_product(plan, instruction))
        else:
            placed.append(instruction)
    plan.replace(placed)


def choose_products(plan: Plan) -> None:
    """A column times a row is an outer product, not a BLAS product with inner dimension 1; a
    chain of three or more factors is multiplied in the cheapest order."""
    for instruction in plan.instructions:
        if instruction.kind is not Kind.MATMUL:
            continue
        if len(instruction.operands) > 2:
            instruction.kind = Kind.MULTI_DOT
        elif is_one(plan[instruction.operands[0]].shape[1]):
            instruction.kind = Kind.OUTER


def drop_unread(plan: Plan) -> None:
    """Instructions that no output needs (a negation every sum subtracts, a diagonal every
    product scales by) are dropped; inputs stay, they are the function's arguments."""
    needed = set(plan.outputs)
    for instruction in reversed(plan.instructions):
        if instruction.id in needed:
            needed.update(instruction.operands)
    plan.replace([i for i in plan.instructions if i.kind is Kind.INPUT or i.id in needed])


# Elementwise kinds read each entry of an operand before they write that entry, so the array
# they write may be any operand of their shape; products and chains (BLAS) may not overlap.
_MAY_OVERWRITE_OPERANDS = (Kind.OP, Kind.NEGATE, Kind.SCALE_ROWS)


def _overwritable_and_read_late(plan: Plan, instruction: Instruction) -> tuple[tuple, tuple]:
    # Only computed operands may be written over: an input is the caller's array.
    computed = [operand for operand in instruction.operands if plan[operand].computed]
    if instruction.kind is Kind.SUM:
        # one statement for the first two terms, then one more per term, reading the array written
        later = instruction.operands[2:]
        late = tuple(term for term in later if plan[term].kind is not Kind.LITERAL)
        return tuple(t for t in instruction.operands[:2] if t in computed and t not in later), late
    if instruction.kind in _MAY_OVERWRITE_OPERANDS:
        return tuple(computed), ()
    if instruction.kind is Kind.SCALE_COLUMNS:  # X diag(v) may be written over X, not over the vector v
        return tuple(x for x in instruction.operands[:1] if plan[x].computed), ()
    return (), ()


def declare_memory_effects(plan: Plan, target: Target) -> None:
    """Each instruction's memory facts: a view, able to write into an array, which operands
    that array may be, and which it reads after its first write."""
    for instruction in plan.computed():
        instruction.view = target.is_view(instruction)
        instruction.writes_into = target.writes_into(instruction)
        if instruction.writes_into:
            instruction.overwritable, instruction.read_late = _overwritable_and_read_late(plan, instruction)


def _readers(plan: Plan) -> dict[int, set]:
    readers: dict[int, set] = {instruction.id: set() for instruction in plan.instructions}
    for instruction in plan.instructions:
        for operand in instruction.operands:
            readers[operand].add(instruction.id)
    return readers


def inline_views(plan: Plan) -> None:
    """A view that one instruction reads (xᵀ in x.T @ y) is written where it is read, with no
    statement of its own.  Liveness still follows it to the memory it looks at."""
    readers = _readers(plan)
    outputs = set(plan.outputs)
    for instruction in plan.computed():
        # a view of an inlined view gets a statement: 5,000 transposes must not nest 5,000 deep
        # in one expression, which Python's compiler refuses
        over_inlined = any(plan[operand].inline for operand in instruction.operands)
        instruction.inline = (
            instruction.view and not over_inlined and instruction.id not in outputs and len(readers[instruction.id]) == 1
        )


def write_outputs_in_place(plan: Plan) -> None:
    """Each array output is computed straight into its array where its instruction can write
    into one (the first output of a value that is returned twice)."""
    for index, value_id in enumerate(plan.outputs):
        instruction = plan[value_id]
        if instruction.writes_into and instruction.output is None and not is_scalar_shape(instruction.shape):
            instruction.output = index


@dataclass
class Liveness:
    """When each buffer is last read, counting reads through views."""

    time: dict[int, int]  # instruction id -> its place among the computed instructions
    holders: dict[int, set]  # value id -> the buffers (inputs and instructions) whose memory it is
    last_read: dict[int, int]  # buffer id -> the time of its last read
    write_time: dict[int, int]  # output index -> when its array is written (after the last instruction: copied)


def _holders(plan: Plan) -> dict[int, set]:
    holders: dict[int, set] = {}
    for instruction in plan.instructions:
        if instruction.kind is Kind.LITERAL:
            holders[instruction.id] = set()
        elif instruction.view:  # a transpose keeps its base alive
            holders[instruction.id] = set().union(*(holders[operand] for operand in instruction.operands))
        else:
            holders[instruction.id] = {instruction.id}
    return holders


def liveness(plan: Plan) -> Liveness:
    """The last read of every buffer: by instructions, by outputs copied at the end, and by
    the return (an output's own buffer lives past the last statement)."""
    computed = plan.computed()
    time = {instruction.id: t for t, instruction in enumerate(computed)}
    live = Liveness(time, _holders(plan), {}, {})

    def read(value_id: int, at: int) -> None:
        for holder in live.holders[value_id]:
            live.last_read[holder] = max(live.last_read.get(holder, -1), at)

    for instruction in computed:
        for operand in instruction.operands:
            read(operand, time[instruction.id])
    outputs = [plan[value_id] for value_id in plan.outputs]
    copied = [k for k, value in enumerate(outputs) if not is_scalar_shape(value.shape) and value.output != k]
    live.write_time = {k: time[value.id] for k, value in enumerate(outputs) if value.output == k}
    live.write_time.update((k, len(computed) + d) for d, k in enumerate(copied))
    returned = len(computed) + len(copied)
    for k, value in enumerate(outputs):
        read(value.id, live.write_time.get(k, returned))
        if value.computed:
            read(value.id, returned + 1)
    return live


def _can_take_over(plan: Plan, live: Liveness, instruction: Instruction, operand: int) -> bool:
    """Whether the instruction may write over the operand's buffer (an instruction's, never an
    input's): its own memory, not a view, of its shape, read for the last time here, and not
    read by a later statement of this instruction, directly or through a view."""
    value = plan[operand]
    return (
        not value.view
        and live.last_read[operand] == live.time[instruction.id]
        and same_shape(value.shape, instruction.shape)
        and not any(operand in live.holders[late] for late in instruction.read_late)
    )


def reuse_dying_operands(plan: Plan, live: Liveness) -> None:
    """Elementwise work is written over an operand that dies there, not into a new array."""
    for instruction in plan.computed():
        if instruction.writes_into and instruction.output is None:
            candidates = (operand for operand in instruction.overwritable if _can_take_over(plan, live, instruction, operand))
            instruction.reuses = next(candidates, None)


def output_slots(plan: Plan, live: Liveness) -> None:
    """How each output is delivered, and which inputs a caller's array for it must not overlap."""
    inputs = [instruction.id for instruction in plan.instructions if instruction.kind is Kind.INPUT]
    returned: set[int] = set()
    plan.slots = []
    for k, value_id in enumerate(plan.outputs):
        value = plan[value_id]
        scalar = is_scalar_shape(value.shape)
        owned = value.computed and not value.view and value_id not in returned
        written_at = live.write_time.get(k)
        guarded = () if written_at is None else tuple(i for i in inputs if live.last_read.get(i, -1) >= written_at)
        plan.slots.append(OutputSlot(value_id, value.shape, scalar, value.output == k, not scalar and not owned, guarded))
        if not scalar:
            returned.add(value_id)


def optimise(plan: Plan, target: Target) -> Plan:
    """The plan after every pass, ready for ``target``'s emitter."""
    for reshape in (subtract_negations, broadcast_literals, scale_by_diagonals, choose_products, drop_unread):
        reshape(plan)
    declare_memory_effects(plan, target)
    inline_views(plan)
    write_outputs_in_place(plan)
    live = liveness(plan)
    reuse_dying_operands(plan, live)
    output_slots(plan, live)
    return plan
