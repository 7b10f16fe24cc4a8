"""SymPy interoperability: SymPy matrix expressions in, matcalc expressions out, and back.

:func:`from_sympy` reads what SymPy users write (``MatrixSymbol``, ``MatMul``, ``MatAdd``,
``Transpose``, ``Inverse``, ``Trace``, ``Determinant``, ``HadamardProduct``, ``applyfunc``, …)
so that matcalc can differentiate it; :func:`to_sympy` writes a matcalc expression, a gradient
say, as a SymPy matrix expression: each operation's record writes itself (``sympy_form``).  Both walk the tree iteratively (no recursion), so deep
expressions convert as easily as shallow ones.

The correspondence, one row per matcalc operation:

=========================  ==================================================================
matcalc                    SymPy
=========================  ==================================================================
matrix, vector             ``MatrixSymbol(name, rows, cols)`` (a vector has one column)
scalar                     ``Symbol(name)``
eye, ones, zeros           ``Identity``, ``OneMatrix``, ``ZeroMatrix``
A @ B, s * A               ``MatMul`` (a scalar is a coefficient)
A + B                      ``MatAdd`` (``Add`` for scalars)
A * B (same shapes)        ``HadamardProduct``
A ** p                     ``HadamardPower`` (SymPy's ``MatPow`` is a matrix power: it is read
                           as a product, or as an inverse for negative powers)
transpose, inv             ``Transpose``, ``Inverse``
trace, det, logdet         ``Trace``, ``Determinant``, ``log(Determinant(X))``
diag                       ``DiagMatrix`` (vector to matrix), ``DiagonalOf`` (matrix to vector)
kron                       ``KroneckerProduct``
frob, dot, sum, norm       written out: ``Trace(A.T*B)``, ``OneMatrix(1, n)*X*OneMatrix(m, 1)``,
                           ``sqrt(Trace(X.T*X))``
exp, log, tanh, σ, …       ``X.applyfunc(Lambda(u, f(u)))``; a 1×1 argument as a scalar ``f(s)``
softmax, logsumexp         written out with ``applyfunc`` and ``OneMatrix``
=========================  ==================================================================

A 1×1 matrix expression stands for a scalar: it is written ``Trace(M)`` where SymPy needs a scalar,
and ``Trace`` or ``M[0, 0]`` of a 1×1 ``M`` is read back as ``M``.
What has no counterpart (a ``BlockMatrix``, a slice, an entry of a larger matrix, an explicit
``Matrix``; matcalc's Kronecker-factor adjoint) raises :class:`~matcalc.errors.OperandError`
(a :class:`~matcalc.errors.MatcalcError`) that names it.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction

import sympy
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.diagonal import DiagMatrix, DiagonalMatrix, DiagonalOf
from sympy.matrices.expressions.matexpr import MatrixElement

from .errors import MatcalcError, OperandError
from .expr import PRINTERS, Expr, Identity, Ones, Symbol, Zero, const, make, matrix, scalar, vector
from .graph import postorder
from .ops.elementwise import ENTRY, apply, elementwise, function_with_formula
from .registry import FUNCTIONS
from .shapes import as_dim, shape_str

__all__ = ["from_sympy", "to_sympy"]

# SymPy's scalar functions that are matcalc's built-in elementwise functions
_SCALAR_FUNCTIONS = {
    sympy.exp: "exp", sympy.log: "log", sympy.sin: "sin", sympy.cos: "cos", sympy.tan: "tan",
    sympy.tanh: "tanh", sympy.Abs: "abs", sympy.sign: "sign",
}
_LEAVES = (sympy.MatrixSymbol, sympy.Identity, sympy.ZeroMatrix, sympy.OneMatrix, sympy.Symbol, sympy.Number,
           sympy.NumberSymbol)


# the SymPy classes read with arguments (leaves aside); _from_node says how
_READ = (
    sympy.MatMul, sympy.MatAdd, sympy.Add, sympy.Mul, sympy.HadamardProduct, sympy.HadamardPower, sympy.Pow,
    sympy.MatPow, sympy.Transpose, sympy.Adjoint, sympy.Inverse, sympy.Trace, sympy.Determinant, sympy.KroneckerProduct,
    DiagMatrix, DiagonalOf, DiagonalMatrix, ElementwiseApplyFunction, MatrixElement, sympy.Max, sympy.Function,
)


def _no_counterpart(node, direction: str) -> OperandError:
    name = type(node).__name__
    hints = {
        "MatrixElement": "only the entry [0, 0] of a 1×1 expression is read (matcalc works with whole matrices)",
        "Sum": "an indexed sum has no matrix form here; write it with OneMatrix (𝟏ᵀx) instead",
        "Lambda": "a Lambda is read only as the function of X.applyfunc(...)",
    }
    hint = hints.get(name, "")
    return OperandError(f"{direction}: {name} has no counterpart" + (f" ({hint})" if hint else "")
                        + f": {str(node)[:80]}")


# --- SymPy → matcalc ---------------------------------------------------------------------


def from_sympy(expr: sympy.Basic, symmetric: Iterable[str] = ()) -> Expr:
    """The matcalc expression of a SymPy matrix (or scalar) expression.

    A ``MatrixSymbol`` with one column becomes a vector, a 1×1 one a scalar, any other a
    matrix; a SymPy ``Symbol`` becomes a scalar variable, unless it is a dimension of one
    of the matrices (``n`` in ``MatrixSymbol("X", n, n)``) or declared a positive integer
    (as ``mc.dims`` makes sizes), when it is that size.  See the
    module's table for every operation.

    Parameters
    ----------
    expr : sympy.Basic
        A SymPy matrix expression (``MatrixExpr``), or a scalar expression built from
        ``Trace``, ``Determinant``, 1×1 matrix expressions, numbers and symbols.
    symmetric : iterable of str, optional
        Names of square ``MatrixSymbol`` variables to read as symmetric matrices
        (``mc.matrix(name, n, n, symmetric=True)``): SymPy's symbols carry no such flag.

    Returns
    -------
    Expr
        The same expression in matcalc.

    Raises
    ------
    OperandError
        For a SymPy construct with no counterpart in matcalc (``BlockMatrix``, a slice,
        an entry of a matrix larger than 1×1, an explicit ``Matrix``, an indexed ``Sum``…);
        the message names it.
    ShapeError
        For a symmetric name whose matrix is not square.

    See Also
    --------
    to_sympy : the way back.

    Examples
    --------
    SymPy 1.14 differentiates log det X to 0; matcalc gives X⁻ᵀ:

    >>> import sympy
    >>> n = sympy.Symbol("n", integer=True, positive=True)
    >>> X = sympy.MatrixSymbol("X", n, n)
    >>> sympy.log(sympy.det(X)).diff(X)
    0
    >>> loss = mc.from_sympy(sympy.log(sympy.det(X)))
    >>> print(loss)
    log det(X)
    >>> print(mc.grad(loss, loss.variables["X"]))
    X⁻ᵀ
    """
    if not isinstance(expr, sympy.Basic):
        try:
            expr = sympy.sympify(expr, strict=True)
        except (sympy.SympifyError, TypeError):
            raise OperandError(f"from_sympy: expected a SymPy expression, got {type(expr).__name__}") from None
    symmetric = {symmetric} if isinstance(symmetric, str) else set(symmetric)
    order, lambdas = _sympy_postorder(expr)
    dimension_names = {s.name for node in order if isinstance(node, sympy.MatrixExpr) and not node.args == ()
                       for d in node.shape for s in getattr(d, "free_symbols", ())}
    done: dict[sympy.Basic, object] = {}  # SymPy node -> matcalc Expr, or a Python number
    bound: dict[sympy.Basic, sympy.Basic] = {}  # a Lambda's variable -> the matrix it is applied to
    for eaf, (variable, _) in lambdas.items():
        bound[variable] = eaf.expr
    reading = _Reading(done, bound, lambdas, symmetric, dimension_names)
    for node in order:
        done[node] = _from_node(node, reading)
    result = done[expr]
    if not isinstance(result, Expr):
        result = const(result)
    unused = symmetric - {name for name in result.variables}
    if unused:
        raise OperandError(f"from_sympy: symmetric names {sorted(unused)} are not variables of the expression")
    return result


def _sympy_postorder(root: sympy.Basic) -> tuple[list, dict]:
    """Every SymPy node below ``root``, each after its arguments; an ``applyfunc``'s Lambda
    body is visited after its matrix, with the Lambda's variable renamed apart (a fresh
    Dummy per application, so two applications' bodies never share a node)."""
    order: list = []
    seen: set = set()
    lambdas: dict = {}
    stack: list = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        if isinstance(node, _LEAVES) or not node.args:
            continue
        if not isinstance(node, _READ):
            raise _no_counterpart(node, "from_sympy")
        if isinstance(node, ElementwiseApplyFunction):
            function = node.function
            if not isinstance(function, sympy.Lambda) or len(function.variables) != 1:
                function = sympy.Lambda(ENTRY, function(ENTRY))  # a function class, e.g. applyfunc(sympy.exp)
            variable = sympy.Dummy("u")
            body = function.expr.xreplace({function.variables[0]: variable})
            lambdas[node] = (variable, body)
            children = [node.expr, body]
        elif isinstance(node, MatrixElement):
            if node.parent.shape != (1, 1):
                raise _no_counterpart(node, "from_sympy")
            children = [node.parent]
        else:
            children = list(node.args)
        for child in reversed(children):
            if child not in seen:
                stack.append((child, False))
    return order, lambdas


def _number(value: sympy.Basic):
    if value.is_Integer:
        return int(value)
    if value.is_Rational:
        return Fraction(int(value.p), int(value.q))
    return float(value)


@dataclass(frozen=True)
class _Reading:
    """What reading one SymPy expression knows besides a node's arguments."""

    done: dict  # SymPy node -> matcalc Expr, or a Python number
    bound: dict  # a Lambda's variable -> the matrix it is applied to
    lambdas: dict  # an applyfunc -> (its variable, its body)
    symmetric: set  # names declared symmetric
    dimension_names: set  # names SymPy uses as sizes


def _read_matrix_symbol(node, args, reading):
    name, rows, cols = node.name, node.shape[0], node.shape[1]
    if name in reading.symmetric:
        return matrix(name, rows, cols, symmetric=True)
    if rows == 1 and cols == 1:
        return scalar(name)
    return vector(name, rows) if cols == 1 else matrix(name, rows, cols)


def _read_constant_matrix(operation: type) -> Callable:
    """Identity, ZeroMatrix, OneMatrix: matcalc's constant of that shape (an identity has one size)."""
    def read(node, args, reading):
        sizes = tuple(as_dim(d, type(node).__name__) for d in node.shape)
        return make(operation, (), sizes[:1] if operation is Identity else sizes)
    return read


def _read_bound_variable(node, args, reading):
    """The variable of an applyfunc's Lambda stands for the matrix it is applied to."""
    return reading.done[reading.bound[node]] if node in reading.bound else None


def _read_symbol(node, args, reading):
    if node.name in reading.dimension_names or (node.is_integer and node.is_positive):  # a size, as mc.dims makes them
        return as_dim(node, "from_sympy")
    return scalar(node.name)


def _read_number(node, args, reading):
    return _number(node)


def _read_applyfunc(node, args, reading):
    variable, body = reading.lambdas[node]
    function = function_with_formula(body.xreplace({variable: ENTRY}))
    if function is not None:
        return apply(function, reading.done[node.expr])
    entries, shape = _as_expr(reading.done[body]), reading.done[node.expr].shape
    # a formula without u (X.applyfunc(Lambda(u, 2))) is the same number in every entry
    return entries if entries.shape == shape else entries * make(Ones, (), shape)


def _read_entry(node, args, reading):
    parent = node.parent
    if parent.shape == (1, 1) and node.i == 0 and node.j == 0:
        return reading.done[parent]
    raise _no_counterpart(node, "from_sympy")


def _read_matrix_product(node, args, reading):
    coefficients = [a for a, b in zip(args, node.args) if not isinstance(b, sympy.MatrixExpr)]
    product = functools.reduce(operator.matmul, [a for a, b in zip(args, node.args) if isinstance(b, sympy.MatrixExpr)])
    return functools.reduce(operator.mul, coefficients, product) if coefficients else product


def _read_folded(combine: Callable) -> Callable:
    """A sum or an elementwise product of any number of arguments."""
    return lambda node, args, reading: functools.reduce(combine, args)


def _read_hadamard_power(node, args, reading):
    return _as_expr(args[0]) ** args[1]


def _read_power(node, args, reading):
    base, exponent = args
    if node.exp == sympy.S.Half:
        return FUNCTIONS["sqrt"].function(base)
    if isinstance(exponent, (Expr, sympy.Basic)):  # 3**n for a size n: a power with that exponent, evaluated
        return _as_expr(base) ** _as_expr(exponent)
    if isinstance(base, (Expr, sympy.Basic)):  # a size n becomes the constant n, so 1/n is n⁻¹ as mc writes x/n
        return _as_expr(base) ** exponent
    return base**exponent


def _read_matrix_power(node, args, reading):
    base, exponent = args
    if not isinstance(exponent, int):
        raise OperandError(f"from_sympy: MatPow {node}: only integer powers of a matrix have a counterpart")
    if exponent == 0:
        return make(Identity, (), (base.shape[0],))
    factor = base if exponent > 0 else FUNCTIONS["inv"].function(base)
    return functools.reduce(operator.matmul, [factor] * abs(exponent))


def _read_transpose(node, args, reading):  # real matrices: Xᴴ = Xᵀ
    return _as_expr(args[0]).T


def _read_as(*names: str) -> Callable:
    """The public functions ``names``, applied innermost first: Inverse is inv, DiagonalMatrix diag(diag(·))."""
    def read(node, args, reading):
        value = args[0]
        for name in names:
            value = FUNCTIONS[name].function(value)
        return value
    return read


def _read_trace(node, args, reading):  # the trace of a 1×1 matrix is the scalar it stands for
    return args[0] if node.arg.shape == (1, 1) else FUNCTIONS["trace"].function(args[0])


def _read_kronecker(node, args, reading):
    return functools.reduce(FUNCTIONS["kron"].function, args)


def _read_log(node, args, reading):
    """log det X is logdet; any other log is the scalar function, read below."""
    if isinstance(node.args[0], sympy.Determinant):
        return FUNCTIONS["logdet"].function(reading.done[node.args[0].arg])
    return None


def _read_relu(node, args, reading):
    if len(node.args) == 2 and 0 in node.args:
        other = node.args[1] if node.args[0] == 0 else node.args[0]
        return FUNCTIONS["relu"].function(reading.done[other])
    return None


def _read_function(node, args, reading):
    """exp, log, tanh, … of a scalar; another function of one argument (erf, cosh) becomes a user
    elementwise function, derived by SymPy.  A function of a matrix is SymPy's matrix function."""
    name = type(node).__name__
    if node.args and isinstance(node.args[0], sympy.MatrixExpr) and node.args[0].shape != (1, 1):
        raise OperandError(
            f"from_sympy: {node} applies {name} to a matrix, which SymPy reads as the matrix function "
            f"(exp(X) is the matrix exponential), not entry by entry; matcalc has no matrix functions: for "
            f"{name} of each entry write X.applyfunc({name})"
        )
    if len(args) != 1:
        return None
    if type(node) in _SCALAR_FUNCTIONS:
        return FUNCTIONS[_SCALAR_FUNCTIONS[type(node)]].function(args[0])
    if name.isidentifier():
        return elementwise(name, sympy.Lambda(ENTRY, type(node)(ENTRY)))(args[0])
    return None


# Each SymPy class and how it is read, first match first (a bound Dummy before other symbols, log det
# before other logs); a reader that gives None leaves the node to the next.
_READERS: list[tuple] = [
    (sympy.MatrixSymbol, _read_matrix_symbol),
    (sympy.Identity, _read_constant_matrix(Identity)),
    (sympy.ZeroMatrix, _read_constant_matrix(Zero)),
    (sympy.OneMatrix, _read_constant_matrix(Ones)),
    (sympy.Dummy, _read_bound_variable),
    (sympy.Symbol, _read_symbol),
    ((sympy.Number, sympy.NumberSymbol), _read_number),
    (ElementwiseApplyFunction, _read_applyfunc),
    (MatrixElement, _read_entry),
    (sympy.MatMul, _read_matrix_product),
    ((sympy.MatAdd, sympy.Add), _read_folded(operator.add)),
    ((sympy.Mul, sympy.HadamardProduct), _read_folded(operator.mul)),
    (sympy.HadamardPower, _read_hadamard_power),
    (sympy.Pow, _read_power),
    (sympy.MatPow, _read_matrix_power),
    ((sympy.Transpose, sympy.Adjoint), _read_transpose),
    (sympy.Inverse, _read_as("inv")),
    (sympy.Trace, _read_trace),
    (sympy.Determinant, _read_as("det")),
    (sympy.KroneckerProduct, _read_kronecker),
    ((DiagMatrix, DiagonalOf), _read_as("diag")),
    (DiagonalMatrix, _read_as("diag", "diag")),
    (sympy.log, _read_log),
    (sympy.Max, _read_relu),
    (sympy.Function, _read_function),
]


def _from_node(node, reading: _Reading):
    args = [reading.done.get(a) for a in node.args]
    for classes, reader in _READERS:
        if isinstance(node, classes):
            value = reader(node, args, reading)
            if value is not None:
                return value
    raise _no_counterpart(node, "from_sympy")


def _as_expr(value) -> Expr:
    return value if isinstance(value, Expr) else const(value)


# --- matcalc → SymPy ---------------------------------------------------------------------


def to_sympy(expr: Expr) -> sympy.Basic:
    """The SymPy expression of a matcalc expression.

    Variables become ``MatrixSymbol`` (matrices and vectors) or ``Symbol`` (scalars), with
    matcalc's dimensions as their sizes; each operation becomes its SymPy class, or is
    written out where SymPy has none (see the module's table).  A 1×1 result that SymPy
    writes as a matrix is returned as one (``x.T*A*x``); it is read as a scalar, ``Trace(M)``,
    only where SymPy needs a scalar.  SymPy has no symmetric flag: ``from_sympy(...,
    symmetric=...)`` gives it back.

    Parameters
    ----------
    expr : Expr
        A matcalc expression: one you built, or a result (``mc.grad``, ``mc.hessian``…).

    Returns
    -------
    sympy.Basic
        A SymPy ``MatrixExpr``, or a scalar SymPy expression (``Trace``, ``Determinant``,
        ``log``, a number…) for a scalar.

    Raises
    ------
    OperandError
        For an operation with no counterpart in SymPy (the adjoint of a Kronecker factor,
        which gradients of ``mc.kron`` contain), naming it.

    See Also
    --------
    from_sympy : the way back; ``sympy.sympify(expr)`` calls this function.

    Examples
    --------
    >>> n = mc.dims("n")[0]
    >>> X, a, b = mc.matrix("X", n, n), mc.vector("a", n), mc.vector("b", n)
    >>> gradient = mc.grad(a.T @ mc.inv(X) @ b, X)
    >>> print(gradient)
    −X⁻ᵀabᵀX⁻ᵀ
    >>> mc.to_sympy(gradient)
    -X.T**(-1)*a*b.T*X.T**(-1)
    >>> mc.to_sympy(mc.logdet(X) + mc.trace(X))
    log(Determinant(X)) + Trace(X)
    """
    if not isinstance(expr, Expr):
        raise OperandError(f"to_sympy: expected a matcalc expression, got {type(expr).__name__}")
    nodes = postorder([expr])
    dimensions = {d.name for node in nodes for d in node.shape if isinstance(d, sympy.Symbol)}
    clashing = sorted({n.label for n in nodes if isinstance(n, Symbol) and n.is_scalar and n.label in dimensions})
    if clashing:  # SymPy would read them as one symbol, and the variable would become the size
        raise OperandError(f"to_sympy: the scalar variable {clashing[0]} and the dimension {clashing[0]} share a name; "
                           "rename one")
    done: dict[Expr, sympy.Basic] = {}
    for node in nodes:
        try:
            form = node.sympy_form([done[a] for a in node.args])
        except MatcalcError:
            raise
        except (TypeError, ValueError, AttributeError, NotImplementedError) as error:  # SymPy refused what it was given
            raise OperandError(f"to_sympy: SymPy cannot write {type(node).__name__.lower()} here ({error})") from None
        done[node] = form if node.is_scalar or tuple(getattr(form, "shape", ())) == tuple(node.shape) else _reshaped_zero(node, form)
    return done[expr]


def _reshaped_zero(node: Expr, form: sympy.Basic) -> sympy.Basic:
    """SymPy collapses a product with a zero into a zero of the wrong shape (𝟏ᵀdiag(0) became a
    1×1 ZeroMatrix): a zero gets the node's shape back; any other change of shape is refused."""
    if form == 0 or isinstance(form, sympy.ZeroMatrix):
        return sympy.ZeroMatrix(*node.shape)
    raise OperandError(f"to_sympy: SymPy wrote {node} ({shape_str(node.shape)}) with shape {shape_str(tuple(form.shape))}")


PRINTERS["sympy"] = to_sympy  # Expr._sympy_, so that sympy.sympify(expr) works
