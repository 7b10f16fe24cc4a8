"""Python/NumPy code built from the tree: one line per node, each from its op's template.

``evaluate``, ``lambdify`` and ``to_numpy_source`` all run through :func:`generate`, so a
template is written once.  No user text reaches the generated code except through
:func:`identifier`, which turns any name into a safe Python identifier.
"""

from __future__ import annotations

import inspect
import keyword
import re
from dataclasses import dataclass

import numpy as np
import sympy

from ..errors import EvaluationError
from ..expr import Const, Expr, Let, Ones, Symbol
from ..ops import Add, DiagMat, Elementwise, Hadamard, MatMul, Scale
from ..printing.common import postorder
from . import runtime

_BROADCASTING = (Add, Scale, Hadamard)
_NOT_IDENTIFIER = re.compile(r"[^0-9A-Za-z_]")
_RESERVED = {"np", "numpy", "float", "int"}


def identifier(name: str, taken: set) -> str:
    """A fresh, safe Python identifier for ``name``: letters, digits and underscores only."""
    base = _NOT_IDENTIFIER.sub("_", name).strip("_") or "v"
    if base[0].isdigit() or keyword.iskeyword(base) or base in _RESERVED or base.startswith("_"):
        base = "v_" + base
    candidate, counter = base, 1
    while candidate in taken:
        counter += 1
        candidate = f"{base}_{counter}"
    taken.add(candidate)
    return candidate


@dataclass
class Generated:
    """Generated source and what it needs."""

    source: str
    function_name: str
    argument_names: list[str]
    dim_names: dict  # sympy Symbol -> identifier
    inferred_dims: dict  # sympy Symbol -> (argument index, axis)
    helpers: list[str]


def _dim_code(dim, dim_names: dict) -> str:
    if isinstance(dim, int):
        return str(dim)
    if isinstance(dim, sympy.Symbol):
        return dim_names[dim]
    if isinstance(dim, sympy.Integer):
        return str(int(dim))
    if isinstance(dim, sympy.Mul):
        return "(" + " * ".join(_dim_code(a, dim_names) for a in dim.args) + ")"
    if isinstance(dim, sympy.Add):
        return "(" + " + ".join(_dim_code(a, dim_names) for a in dim.args) + ")"
    if isinstance(dim, sympy.Pow) and dim.exp.is_Integer and dim.exp > 0:
        return "(" + " * ".join([_dim_code(dim.base, dim_names)] * int(dim.exp)) + ")"
    raise EvaluationError(f"cannot size dimension {dim}")


def generate(inputs: list[Symbol], outputs: list[Expr], function_name: str = "f", checks: bool = True) -> Generated:
    """Source for ``def f(<inputs>, *, <dims>)`` that returns the outputs (a tuple if several)."""
    taken: set = set()
    function_name = identifier(function_name, taken)
    argument_names = [identifier(s.label, taken) for s in inputs]
    nodes = postorder(outputs)
    free_dims = sorted(
        {d for node in nodes for d in node.shape + _param_dims(node) if isinstance(d, sympy.Expr) for d in d.free_symbols},
        key=str,
    )
    dim_names = {d: identifier("dim_" + str(d), taken) for d in free_dims}
    inferred: dict = {}
    for index, symbol in enumerate(inputs):
        for axis, d in enumerate(symbol.shape):
            if isinstance(d, sympy.Symbol) and d in dim_names and d not in inferred:
                inferred[d] = (index, axis)
    keyword_dims = [dim_names[d] for d in free_dims if d not in inferred]
    signature = ", ".join(argument_names + (["*"] + [f"{k}=None" for k in keyword_dims] if keyword_dims else []))

    lines = [f"def {function_name}({signature}):"]
    for symbol, name in zip(inputs, argument_names):
        lines.append(f"    {name} = _as_matrix({name}, {symbol.label!r}, {symbol.shape[1] == 1})")
    for d, (index, axis) in inferred.items():
        lines.append(f"    {dim_names[d]} = {argument_names[index]}.shape[{axis}]")
    for k in keyword_dims:
        lines.append(f"    if {k} is None:")
        lines.append(f"        raise ValueError({('missing the size of dimension ' + k[4:])!r})")
    if checks:
        for symbol, name in zip(inputs, argument_names):
            shape = ", ".join(_dim_code(d, dim_names) for d in symbol.shape)
            lines.append(f"    _check_shape({name}, ({shape}), {symbol.label!r})")

    def dim_code(d):
        return _dim_code(d, dim_names)

    code: dict[Expr, str] = {}
    literals: dict[Expr, str] = {}  # numbers and 𝟏, which NumPy broadcasts in elementwise operations
    negations: dict[Expr, Expr] = {}  # −X, held back until something other than a sum needs it
    diagonals: dict[Expr, Expr] = {}  # diag(v), held back: products scale rows or columns by v instead
    helper_functions: dict[str, str] = {}
    bound = dict(zip(inputs, argument_names))

    def emit(expression: str) -> str:
        name = f"_t{len(lines)}"
        lines.append(f"    {name} = {expression}")
        return name

    def operand(node: Expr) -> str:
        """A node's code, emitting on first need what was held back: a negation (sums subtract
        instead), or a constant or 𝟏 where broadcasting cannot take a number."""
        if node not in code:
            if node in negations:
                code[node] = emit(f"(-{operand(negations[node])})")
            elif node in diagonals:
                code[node] = emit(f"np.diagflat({operand(diagonals[node])})")
            elif isinstance(node, Ones):
                code[node] = emit(node.numpy_code([], dim_code))
            else:
                code[node] = emit(f"np.full((1, 1), {literals[node]})")
        return code[node]

    for node in nodes:
        if node in bound:
            code[node] = bound[node]
            continue
        if isinstance(node, Symbol):
            raise EvaluationError(f"no value for {node.kind} {node.label!r} (shape {node.shape[0]}×{node.shape[1]})")
        if isinstance(node, Let):
            code[node] = operand(node.args[0])
            continue
        if isinstance(node, Elementwise):
            helper = node.function.helper_source()
            if helper:
                helper_functions[node.function.identifier] = helper
        if isinstance(node, Const):
            literals[node] = node.numpy_code([], dim_code)
            continue
        if isinstance(node, Ones):
            literals[node] = "1.0"
            continue
        if _negated(node) is not None:
            negations[node] = _negated(node)
            continue
        if isinstance(node, DiagMat):
            diagonals[node] = node.args[0]
            continue
        if isinstance(node, Add):
            code[node] = emit(_sum_code(node, literals, operand))
            continue
        if isinstance(node, MatMul):
            code[node] = emit(_product_code(node, diagonals, operand))
            continue
        inline = isinstance(node, _BROADCASTING) and any(c not in literals and c.shape == node.shape for c in node.args)
        arguments = [literals[c] if inline and c in literals else operand(c) for c in node.args]
        code[node] = emit(node.numpy_code(arguments, dim_code))
    results = [f"float({operand(o)}[0, 0])" if o.is_scalar else operand(o) for o in outputs]
    lines.append(f"    return {results[0] if len(results) == 1 else '(' + ', '.join(results) + ',)'}")
    return Generated(
        source="\n".join(lines) + "\n",
        function_name=function_name,
        argument_names=argument_names,
        dim_names=dim_names,
        inferred_dims=inferred,
        helpers=list(helper_functions.values()),
    )


def _negated(node: Expr) -> Expr | None:
    """X when the node is −X."""
    if isinstance(node, Scale) and isinstance(node.args[0], Const) and node.args[0].value == -1:
        return node.args[1]
    return None


def _sum_code(node: Expr, literals: dict, operand) -> str:
    """A sum as additions and subtractions, numbers and 𝟏 broadcast as literals."""
    inline = any(t not in literals for t in node.args)
    pieces = []
    for term in node.args:
        negated = _negated(term)
        body = negated if negated is not None else term
        text = literals[body] if inline and body in literals else operand(body)
        pieces.append((" - " if negated is not None else " + ") + text if pieces else ("-" if negated is not None else "") + text)
    return "(" + "".join(pieces) + ")"


def _product_code(node: Expr, diagonals: dict, operand) -> str:
    """A matrix chain: diag(v) factors scale rows or columns, and chains of three or more
    dense factors go through multi_dot, which picks the cheapest order."""
    groups: list = []  # each: [row scaling vector or None, dense factor codes, column scaling or None]
    pending_rows = []
    dense: list = []
    for factor in node.args:
        if factor in diagonals:
            vector = operand(diagonals[factor])
            if dense:
                groups.append((pending_rows, dense, vector))
                pending_rows, dense = [], []
            else:
                pending_rows.append(vector)
            continue
        dense.append(operand(factor))
    if dense or pending_rows:
        groups.append((pending_rows, dense, None))
    pieces = []
    for rows, factors, columns in groups:
        if not factors:
            pieces.append(f"np.diagflat({' * '.join(rows)})")
            continue
        text = factors[0] if len(factors) == 1 else (
            f"({' @ '.join(factors)})" if len(factors) == 2 else f"np.linalg.multi_dot([{', '.join(factors)}])"
        )
        for vector in rows:
            text = f"({vector} * {text})"
        if columns is not None:
            text = f"({text} * {columns}.T)"
        pieces.append(text)
    return pieces[0] if len(pieces) == 1 else "(" + " @ ".join(pieces) + ")"


def _param_dims(node: Expr) -> tuple:
    return tuple(p for p in node.params if isinstance(p, sympy.Expr))


def _as_matrix(value, name, is_column):
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        return array.reshape(1, 1)
    if array.ndim == 1:
        if not is_column:
            raise ValueError(f"{name}: a matrix needs a 2-D array, got shape {array.shape}")
        return array.reshape(-1, 1)
    return array


def _check_shape(array, shape, name):
    if array.shape != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {array.shape}")


_SUPPORT = {"_as_matrix": _as_matrix, "_check_shape": _check_shape}


def compile_generated(generated: Generated):
    """The Python function for generated source, built in a namespace of NumPy and helpers."""
    namespace = {"np": np, "numpy": np, **runtime.HELPERS, **_SUPPORT}
    for helper in generated.helpers:
        exec(compile(helper, "<matcalc helper>", "exec"), namespace)  # noqa: S102 - built from sympy trees
    exec(compile(generated.source, f"<matcalc {generated.function_name}>", "exec"), namespace)  # noqa: S102
    return namespace[generated.function_name]


def standalone_source(generated: Generated) -> str:
    """Source that imports only NumPy: support helpers, function helpers, the function."""
    available = {name: inspect.getsource(fn) for name, fn in {**_SUPPORT, **runtime.HELPERS}.items()}
    needed_by = generated.source + "".join(generated.helpers)
    included: dict[str, str] = {}
    while True:
        new = {n: t for n, t in available.items() if n not in included and n + "(" in needed_by}
        if not new:
            break
        included.update(new)
        needed_by += "".join(new.values())
    parts = ["import numpy as np\nimport numpy\n"]
    parts.extend(available[n] for n in available if n in included)
    parts.extend(generated.helpers)
    parts.append(generated.source)
    return "\n\n".join(parts)
