"""Python/NumPy code built from the tree: one line per node, each from its op's template.

``evaluate``, ``lambdify`` and ``to_numpy_source`` all run through :func:`generate`, so a
template is written once.  No user text reaches the generated code except through
:func:`identifier`, which turns any name into a safe Python identifier.
"""

from __future__ import annotations

import builtins
import inspect
import keyword
import re
from dataclasses import dataclass

import numpy as np
import sympy

from ..errors import EvaluationError
from ..expr import Const, Expr, Let, Ones, Symbol, make
from ..ops import Add, DiagMat, Elementwise, Hadamard, LogSumExp, MatMul, Scale, Softmax, negate, negated, softplus
from ..ops.elementwise import exp_f, helper_namespace, log_f, sigmoid_f
from ..printing.common import postorder
from ..shapes import is_one, same_shape
from . import runtime

_BROADCASTING = (Add, Scale, Hadamard)
# What the support helpers raise on a caller's bad arguments: matcalc's EvaluationError (a
# ValueError) here, plain ValueError in exported source, which imports only NumPy.
_InvalidInput = EvaluationError
_NOT_IDENTIFIER = re.compile(r"[^0-9A-Za-z_]")
# names generated code uses itself: modules, and Python's builtins (max, abs, list, ...)
_RESERVED = {"np", "numpy", "functools", "scipy"} | set(dir(builtins))


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


@dataclass
class Generated:
    """Generated source and what it needs."""

    source: str
    function_name: str
    argument_names: list[str]
    dim_names: dict  # sympy Symbol -> identifier
    inferred_dims: dict  # sympy Symbol -> (argument index, axis)
    helpers: list[str]


# Code refers to steps (0, 1, ...) and inputs (−1, −2, ...) through placeholders until
# buffers are assigned; no name a user gives can contain NUL, so a placeholder is never
# confused with anything else.
_REF = "\x00{}\x00"
_REF_PATTERN = re.compile("\x00(-?[0-9]+)\x00")
_OUT = "\x00out\x00"


@dataclass
class _Step:
    """One value the function computes: a fresh expression and, where NumPy can, a
    statement that writes the value into an existing array (``_OUT`` marks the array)."""

    shape: tuple
    expression: str
    into: str | None
    overwritable: tuple[int, ...]  # steps the statement may write over: it reads them first
    read_late: tuple[int, ...]  # steps and inputs read after the first write (a sum of three or more terms)
    owns_memory: bool  # False for views such as a transpose
    reads: tuple[int, ...]  # steps and inputs (negative)


def _reference(code: str) -> int | None:
    """The step (or input, negative) a code string is, when it is exactly one value."""
    match = _REF_PATTERN.fullmatch(code)
    return int(match.group(1)) if match else None


def _dim_code(dim, dim_names: dict) -> str:
    if isinstance(dim, int):
        return str(dim)
    if isinstance(dim, sympy.Symbol):
        return dim_names[dim]
    if isinstance(dim, sympy.Integer):
        return str(int(dim))
    if isinstance(dim, sympy.Rational):
        return f"({dim.p}/{dim.q})"
    if isinstance(dim, sympy.Mul):
        return "(" + " * ".join(_dim_code(a, dim_names) for a in dim.args) + ")"
    if isinstance(dim, sympy.Add):
        return "(" + " + ".join(_dim_code(a, dim_names) for a in dim.args) + ")"
    if isinstance(dim, sympy.Pow) and dim.exp.is_Integer and dim.exp > 0:
        return "(" + " * ".join([_dim_code(dim.base, dim_names)] * int(dim.exp)) + ")"
    raise EvaluationError(f"cannot size dimension {dim}")


def generate(
    inputs: list[Symbol], outputs: list[Expr], function_name: str = "f", checks: bool = True, single: bool | None = None
) -> Generated:
    """Source for ``def f(<inputs>, *, <dims>, out=None)`` that returns the outputs.

    One output comes back bare when ``single`` (the default for one output), several as a
    tuple.  ``out`` takes arrays to write the outputs into, in the same form; outputs are
    computed directly into them, and temporaries that die are overwritten in place, so a
    call with ``out`` allocates only small intermediate arrays.
    """
    single = len(outputs) == 1 if single is None else single
    outputs = _distribute_sums_over_thin_products(_stable_logarithms(outputs))
    taken: set = {"out"}
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
    signature = ", ".join(argument_names + ["*"] + [f"{k}=None" for k in keyword_dims] + ["out=None"])

    lines = [f"def {function_name}({signature}):"]
    for symbol, name in zip(inputs, argument_names):
        lines.append(f"    {name} = _as_matrix({name}, {symbol.label!r}, {symbol.shape[1] == 1})")
    for d, (index, axis) in inferred.items():
        lines.append(f"    {dim_names[d]} = {argument_names[index]}.shape[{axis}]")
    for k in keyword_dims:
        lines.append(f"    if {k} is None:")
        lines.append(f"        raise _InvalidInput({('missing the size of dimension ' + k[4:])!r})")
    if checks:
        for symbol, name in zip(inputs, argument_names):
            lines.append(f"    _check_shape({name}, {_shape_code(symbol.shape, dim_names)}, {symbol.label!r})")

    def dim_code(d):
        return _dim_code(d, dim_names)

    steps: list[_Step] = []
    code: dict[Expr, str] = {}
    literals: dict[Expr, str] = {}  # numbers and 𝟏, which NumPy broadcasts in elementwise operations
    negations: dict[Expr, Expr] = {}  # −X, held back until something other than a sum needs it
    diagonals: dict[Expr, Expr] = {}  # diag(v), held back: products scale rows or columns by v instead
    helper_functions: dict[str, str] = {}
    bound = {symbol: _REF.format(-1 - k) for k, symbol in enumerate(inputs)}

    def emit(shape, expression: str, into: str | None = None, overwritable=(), owns_memory: bool = True, read_late=()) -> str:
        reads = tuple(sorted({int(k) for k in _REF_PATTERN.findall(expression)}))
        overwritable = tuple(j for j in map(_reference, overwritable) if j is not None and j >= 0) if into else ()
        read_late = tuple(sorted({int(k) for code in read_late for k in _REF_PATTERN.findall(code)}))
        steps.append(_Step(shape, expression, into, overwritable, read_late, owns_memory, reads))
        return _REF.format(len(steps) - 1)

    def operand(node: Expr) -> str:
        """A node's code, emitting on first need what was held back: a negation (sums subtract
        instead), or a constant or 𝟏 where broadcasting cannot take a number."""
        if node not in code:
            if node in negations:
                inner = operand(negations[node])
                code[node] = emit(node.shape, f"(-{inner})", f"np.negative({inner}, out={_OUT})", [inner])
            elif node in diagonals:
                code[node] = emit(node.shape, f"np.diagflat({operand(diagonals[node])})")
            elif isinstance(node, Ones):
                code[node] = emit(node.shape, node.numpy_code([], dim_code))
            else:
                code[node] = emit(node.shape, f"np.full((1, 1), {literals[node]}, dtype=float)")
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
        if (body := negated(node)) is not None:
            negations[node] = body
            continue
        if isinstance(node, DiagMat):
            diagonals[node] = node.args[0]
            continue
        if isinstance(node, Add):
            expression, into, overwritable, owns_memory, read_late = _sum_code(node, literals, operand)
            code[node] = emit(node.shape, expression, into, overwritable, owns_memory, read_late)
            continue
        if isinstance(node, MatMul):
            code[node] = emit(node.shape, *_product_code(node, diagonals, operand))
            continue
        inline = isinstance(node, _BROADCASTING) and any(c not in literals and c.shape == node.shape for c in node.args)
        arguments = [literals[c] if inline and c in literals else operand(c) for c in node.args]
        code[node] = emit(
            node.shape,
            node.numpy_code(arguments, dim_code),
            node.numpy_into(arguments, _OUT, dim_code),
            arguments,
            owns_memory=not node.numpy_view,
        )
    output_codes = [operand(o) for o in outputs]
    lines += _body(steps, outputs, output_codes, single, argument_names, dim_names)
    return Generated(
        source="\n".join(lines) + "\n",
        function_name=function_name,
        argument_names=argument_names,
        dim_names=dim_names,
        inferred_dims=inferred,
        helpers=list(helper_functions.values()),
    )


def _ones_like(node: Expr) -> bool:
    """𝟏, the number 1, or 1 times 𝟏."""
    if isinstance(node, Scale):
        return isinstance(node.args[1], Ones) and _ones_like(node.args[0])
    return isinstance(node, Ones) or (isinstance(node, Const) and node.value == 1)


def _one_plus(node: Expr) -> Expr | None:
    """X when the node is 𝟏 + X (in either order), else None."""
    if isinstance(node, Add) and len(node.args) == 2:
        first, second = node.args
        if _ones_like(first):
            return second
        if _ones_like(second):
            return first
    return None


def _stable_log(log_node: Expr) -> Expr | None:
    """log of σ(u), 𝟏 − σ(u), 𝟏 + exp(u) or softmax(x), written so no entry under- or overflows:
    log σ(u) = −softplus(−u), log(𝟏 − σ(u)) = −softplus(u), log(𝟏 + exp(u)) = softplus(u),
    log softmax(x) = x − logsumexp(x)𝟏.  (np.log(σ(−1000)) is −inf; −softplus(1000) is −1000.)"""
    inner = log_node.args[0]
    if isinstance(inner, Elementwise) and inner.function is sigmoid_f:
        return negate(softplus(negate(inner.args[0])))
    if isinstance(inner, Softmax):
        x = inner.args[0]
        return make(Add, (x, negate(make(Scale, (make(LogSumExp, (x,)), make(Ones, (), x.shape))))))
    rest = _one_plus(inner)
    if rest is None:
        return None
    if isinstance(rest, Elementwise) and rest.function is exp_f:
        return softplus(rest.args[0])
    body = negated(rest)
    if isinstance(body, Elementwise) and body.function is sigmoid_f:
        return negate(softplus(body.args[0]))
    return None


def _stable_logarithms(outputs: list[Expr]) -> list[Expr]:
    """The outputs with every logarithm that can under- or overflow computed stably (see
    :func:`_stable_log`); the printed closed form keeps log σ(z)."""
    rebuilt: dict[Expr, Expr] = {}
    for node in postorder(outputs):
        new = node.rebuild(tuple(rebuilt[child] for child in node.args))
        if isinstance(new, Elementwise) and new.function is log_f:
            stable = _stable_log(new)
            new = new if stable is None else stable
        rebuilt[node] = new
    return [rebuilt[o] for o in outputs]


def _distribute_sums_over_thin_products(outputs: list[Expr]) -> list[Expr]:
    """(A + B)v becomes Av + Bv in generated code, wherever a sum of matrices is used only by
    a product that ends in a vector (or starts with a row): two matrix-vector products read
    each matrix once, while forming A + B first writes a whole new matrix (and reads Aᵀ
    across its rows).  The printed closed form keeps (A + B)v."""
    nodes = postorder(outputs)
    consumers: dict[Expr, int] = {}
    for node in nodes:
        for child in node.args:
            consumers[child] = consumers.get(child, 0) + 1
    kept = set(outputs)
    rebuilt: dict[Expr, Expr] = {}
    for node in nodes:
        new = node.rebuild(tuple(rebuilt[child] for child in node.args))
        if isinstance(new, MatMul):
            for index, (original, factor) in enumerate(zip(node.args, new.args)):
                if isinstance(factor, Add) and consumers[original] == 1 and original not in kept:
                    distributed = _distributed(new, index)
                    new = new if distributed is None else distributed
                    break
        rebuilt[node] = new
    return [rebuilt[o] for o in outputs]


def _distributed(product: Expr, index: int) -> Expr | None:
    """The product with its sum factor at ``index`` multiplied out against the thin side."""
    factors = product.args
    left, total, right = factors[:index], factors[index], factors[index + 1 :]

    def chain(parts: tuple) -> Expr:
        return parts[0] if len(parts) == 1 else make(MatMul, parts)

    def times(term: Expr, side: Expr, on_right: bool) -> Expr:
        if isinstance(term, Scale):  # s(X)v = s(Xv): scale the vector, not the matrix
            return make(Scale, (term.args[0], times(term.args[1], side, on_right)))
        return make(MatMul, (term, side) if on_right else (side, term))

    if right and is_one(product.shape[1]):
        side = chain(right)
        summed = make(Add, tuple(times(term, side, True) for term in total.args))
        return chain((*left, summed))
    if left and is_one(product.shape[0]):
        side = chain(left)
        summed = make(Add, tuple(times(term, side, False) for term in total.args))
        return chain((summed, *right))
    return None


def _shape_code(shape, dim_names: dict) -> str:
    return "(" + ", ".join(_dim_code(d, dim_names) for d in shape) + ")"


def _body(steps: list[_Step], outputs: list[Expr], output_codes: list[str], single: bool, argument_names, dim_names):
    """The function's statements once every step has a buffer: each output written straight
    into its own array where its step can, and each elementwise step written over an operand
    that dies there."""
    written_out: dict[int, int] = {}  # step -> the output whose array it writes
    for k, (output, output_code) in enumerate(zip(outputs, output_codes)):
        j = _reference(output_code)
        if j is not None and j >= 0 and not output.is_scalar and steps[j].into is not None and j not in written_out:
            written_out[j] = k
    in_place = set(written_out.values())
    delivered = [k for k, o in enumerate(outputs) if k not in in_place and not o.is_scalar]
    write_time = {k: i for i, k in written_out.items()} | {k: len(steps) + d for d, k in enumerate(delivered)}

    # Memory a value may share (itself, or what a view looks at) and the last time each is read.
    holders: dict[int, set] = {-1 - k: {-1 - k} for k in range(len(argument_names))}
    for i, step in enumerate(steps):
        holders[i] = {i} if step.owns_memory else set().union(*(holders[j] for j in step.reads))
    last_use: dict[int, int] = {}

    def read(j: int, time: int) -> None:
        for holder in holders[j]:
            last_use[holder] = max(last_use.get(holder, -1), time)

    for i, step in enumerate(steps):
        for j in step.reads:
            read(j, i)
    for k, output_code in enumerate(output_codes):
        for j in map(int, _REF_PATTERN.findall(output_code)):
            read(j, write_time.get(k, len(steps) + len(delivered)))
            if j >= 0:  # returned: alive to the end
                read(j, len(steps) + len(delivered) + 1)

    out_names = [f"_o{k}" for k in range(len(outputs))]
    names: dict[int, str] = {-1 - k: name for k, name in enumerate(argument_names)}

    def resolve(text: str) -> str:
        return _REF_PATTERN.sub(lambda m: names[int(m.group(1))], text)

    lines = []
    for i, step in enumerate(steps):
        target = out_names[written_out[i]] if i in written_out else None
        if target is None and step.into is not None:
            target = next(
                (
                    names[j]
                    for j in step.overwritable
                    if steps[j].owns_memory
                    and last_use[j] == i
                    and same_shape(steps[j].shape, step.shape)
                    # a later statement of this step still reads that memory, perhaps through a view
                    and not any(j in holders[k] for k in step.read_late)
                ),
                None,
            )
        if target is None:
            names[i] = f"_t{i}"
            lines.append(f"    {names[i]} = {resolve(step.expression)}")
        else:
            names[i] = target
            lines.append("    " + resolve(step.into).replace(_OUT, target))

    # A caller's array must not overlap an input that is read once it has been written.
    specs, guarded = [], []
    for k, output in enumerate(outputs):
        specs.append("None" if output.is_scalar else _shape_code(output.shape, dim_names))
        late = [names[-1 - a] for a in range(len(argument_names)) if k in write_time and last_use.get(-1 - a, -1) >= write_time[k]]
        guarded.append("(" + "".join(f"{name}, " for name in late) + ")")
    prologue = ["    if out is None:"]
    fresh = [k for k in range(len(outputs)) if k in in_place]
    if fresh:
        shapes = ", ".join(_shape_code(outputs[k].shape, dim_names) for k in fresh)
        prologue.append(f"        {', '.join(out_names[k] for k in fresh)}, = _new_arrays(({shapes},))")
    prologue += [f"        {out_names[k]} = None" for k in range(len(outputs)) if k not in in_place]
    prologue += [
        "    else:",
        f"        {', '.join(out_names)}, = _output_buffers({'(out,)' if single else 'out'}, ({', '.join(specs)},), ({', '.join(guarded)},))",
    ]
    results, returned = [], set()
    for k, (output, output_code) in enumerate(zip(outputs, output_codes)):
        value = resolve(output_code)
        j = _reference(output_code)
        if output.is_scalar:
            results.append(f"float({value}[0, 0])")
            continue
        if k not in in_place:
            owned = j is not None and j >= 0 and steps[j].owns_memory and j not in returned
            fresh_value = value if owned else f"np.array({value})"
            lines.append(f"    {out_names[k]} = {fresh_value} if {out_names[k]} is None else _copy_into({out_names[k]}, {value})")
        returned.add(j)
        results.append(out_names[k])
    lines.append(f"    return {results[0] if single else '(' + ', '.join(results) + ',)'}")
    return prologue + lines


def _sum_code(node: Expr, literals: dict, operand) -> tuple:
    """A sum as additions and subtractions, numbers and 𝟏 broadcast as literals; written into
    an array, one ufunc per term after the first two."""
    bodies = [(False, term) if (body := negated(term)) is None else (True, body) for term in node.args]
    inline = any(body not in literals for _, body in bodies)  # one array term, and numbers broadcast
    terms = [(subtracted, literals[body] if inline and body in literals else operand(body)) for subtracted, body in bodies]
    pieces = []
    for subtracted, text in terms:
        pieces.append((" - " if subtracted else " + ") + text if pieces else ("-" if subtracted else "") + text)
    expression = "(" + "".join(pieces) + ")"
    (first_subtracted, first), (second_subtracted, second) = terms[:2]
    if first_subtracted and second_subtracted:
        return expression, None, (), True, ()
    if first_subtracted:
        first, second, second_subtracted = second, first, True
    statements = [f"np.{'subtract' if second_subtracted else 'add'}({first}, {second}, out={_OUT})"]
    for subtracted, text in terms[2:]:
        statements.append(f"np.{'subtract' if subtracted else 'add'}({_OUT}, {text}, out={_OUT})")
    later = [text for _, text in terms[2:]]
    return expression, "\n    ".join(statements), [c for c in (first, second) if c not in later], True, later


def _product_code(node: Expr, diagonals: dict, operand) -> tuple:
    """A matrix chain: diag(v) factors scale rows or columns, a column times a row is an
    outer product (not a BLAS product with inner dimension 1), and chains of three or more dense factors go through multi_dot,
    which picks the cheapest order."""
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
        dense.append((factor, operand(factor)))
    if dense or pending_rows:
        groups.append((pending_rows, dense, None))
    if len(groups) == 1:
        rows, factors, columns = groups[0]
        codes = [c for _, c in factors]
        if not rows and columns is None and len(factors) == 2:
            if is_one(factors[0][0].shape[1]):  # einsum writes an outer product fastest
                outer = f"np.einsum('ik,kj->ij', {codes[0]}, {codes[1]}"
                return outer + ")", outer + f", out={_OUT})", ()
            return f"({codes[0]} @ {codes[1]})", f"np.matmul({codes[0]}, {codes[1]}, out={_OUT})", ()
        if not rows and columns is None and len(factors) > 2:
            chain = f"[{', '.join(codes)}]"
            return f"np.linalg.multi_dot({chain})", f"np.linalg.multi_dot({chain}, out={_OUT})", ()
        if len(rows) == 1 and columns is None and len(factors) == 1:
            return f"({rows[0]} * {codes[0]})", f"np.multiply({rows[0]}, {codes[0]}, out={_OUT})", codes
    pieces = []
    for rows, factors, columns in groups:
        if not factors:
            pieces.append(f"np.diagflat({' * '.join(rows)})")
            continue
        codes = [c for _, c in factors]
        text = codes[0] if len(codes) == 1 else (
            f"({' @ '.join(codes)})" if len(codes) == 2 else f"np.linalg.multi_dot([{', '.join(codes)}])"
        )
        for vector in rows:
            text = f"({vector} * {text})"
        if columns is not None:
            text = f"({text} * {columns}.T)"
        pieces.append(text)
    return (pieces[0] if len(pieces) == 1 else "(" + " @ ".join(pieces) + ")"), None, ()


def _param_dims(node: Expr) -> tuple:
    return tuple(p for p in node.params if isinstance(p, sympy.Expr))


def _as_matrix(value, name, is_column):
    if np.iscomplexobj(value):
        raise _InvalidInput(f"{name}: expected real numbers, got complex ones (the imaginary part would be lost)")
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise _InvalidInput(f"{name}: expected real numbers within float64, got {type(value).__name__}") from None
    if array.ndim == 0:
        return array.reshape(1, 1)
    if array.ndim == 1:
        if not is_column:
            raise _InvalidInput(f"{name}: a matrix needs a 2-D array, got shape {array.shape}")
        return array.reshape(-1, 1)
    return array


def _check_shape(array, shape, name):
    if array.shape != shape:
        raise _InvalidInput(f"{name}: expected shape {shape}, got {array.shape}")


def _output_buffers(out, shapes, guarded):
    # guarded[k]: the inputs that are still read after output k is written
    if not isinstance(out, (tuple, list)) or len(out) != len(shapes):
        raise _InvalidInput(f"out: expected {len(shapes)} arrays, one per output, in the form the function returns")
    for k, (buffer, shape) in enumerate(zip(out, shapes)):
        if shape is None:
            if buffer is not None:
                raise _InvalidInput(f"out: output {k} is a scalar, returned as a float; pass None in its place")
            continue
        if not isinstance(buffer, np.ndarray) or buffer.dtype != np.float64 or buffer.shape != shape:
            got = f"a {buffer.dtype} array of shape {buffer.shape}" if isinstance(buffer, np.ndarray) else type(buffer).__name__
            raise _InvalidInput(f"out: output {k} needs a float64 array of shape {shape}, got {got}")
        if not buffer.flags.writeable:
            raise _InvalidInput(f"out: the array for output {k} is read-only")
        for other in out[:k]:
            if other is not None and np.may_share_memory(buffer, other):
                raise _InvalidInput(f"out: the arrays for outputs {out.index(other)} and {k} overlap")
        for other in guarded[k]:
            if np.may_share_memory(buffer, other):
                raise _InvalidInput(f"out: the array for output {k} overlaps an input it would overwrite")
    return out


def _new_arrays(shapes):
    # One allocation for all outputs: many separate large arrays cost a page fault per 4 kB
    # on every call, one block is mapped once (and in huge pages when large).
    block = np.empty(sum(rows * cols for rows, cols in shapes))
    arrays, start = [], 0
    for rows, cols in shapes:
        arrays.append(block[start : start + rows * cols].reshape(rows, cols))
        start += rows * cols
    return arrays


def _copy_into(buffer, value):
    np.copyto(buffer, value)
    return buffer


_SUPPORT = {
    "_as_matrix": _as_matrix,
    "_check_shape": _check_shape,
    "_output_buffers": _output_buffers,
    "_new_arrays": _new_arrays,
    "_copy_into": _copy_into,
}


def compile_generated(generated: Generated):
    """The Python function for generated source, built in a namespace of NumPy and helpers."""
    namespace = {"np": np, "numpy": np, "_InvalidInput": EvaluationError, **runtime.HELPERS, **_SUPPORT}
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
    imports = ["import numpy as np", "import numpy"]
    imports += [f"import {module}" for module in ("functools", "scipy.special") if module.split(".")[0] in helper_namespace("".join(generated.helpers))]
    parts = ["\n".join(imports) + "\n\n_InvalidInput = ValueError  # matcalc's own functions raise its EvaluationError\n"]
    parts.extend(available[n] for n in available if n in included)
    parts.extend(generated.helpers)
    parts.append(generated.source)
    return "\n\n".join(parts)
