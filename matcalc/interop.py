"""SymPy interoperability: SymPy matrix expressions in, matcalc expressions out, and back.

:func:`from_sympy` reads what SymPy users write (``MatrixSymbol``, ``MatMul``, ``MatAdd``,
``Transpose``, ``Inverse``, ``Trace``, ``Determinant``, ``HadamardProduct``, ``applyfunc``, …)
so that matcalc can differentiate it; :func:`to_sympy` writes a matcalc expression, a gradient
say, as a SymPy matrix expression.  Both walk the tree iteratively (no recursion), so deep
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
from collections.abc import Iterable
from fractions import Fraction

import sympy
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.diagonal import DiagMatrix, DiagonalMatrix, DiagonalOf
from sympy.matrices.expressions.matexpr import MatrixElement

from .errors import MatcalcError, OperandError
from .expr import PRINTERS, Const, Expr, Identity, Let, Ones, Symbol, Zero, const, make, matrix, scalar, vector
from .graph import postorder
from .ops import (
    Add,
    Det,
    DiagMat,
    DiagVec,
    Elementwise,
    Frob,
    Hadamard,
    Inverse,
    Kron,
    LogDet,
    LogSumExp,
    MatMul,
    Norm,
    Power,
    PowerOf,
    Scale,
    Softmax,
    Sum,
    Trace,
    Transpose,
    Vec,
)
from .ops.elementwise import ENTRY, apply, elementwise, function_with_formula
from .registry import FUNCTIONS
from .shapes import as_dim

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
        "KronContract": "it is the adjoint of a Kronecker factor, which SymPy does not write",
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
    for node in order:
        done[node] = _from_node(node, done, bound, lambdas, symmetric, dimension_names)
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


def _from_node(node, done, bound, lambdas, symmetric, dimension_names):  # noqa: C901 - one case per class
    if isinstance(node, sympy.MatrixSymbol):
        name, rows, cols = node.name, node.shape[0], node.shape[1]
        if name in symmetric:
            return matrix(name, rows, cols, symmetric=True)
        if rows == 1 and cols == 1:
            return scalar(name)
        return vector(name, rows) if cols == 1 else matrix(name, rows, cols)
    if isinstance(node, sympy.Identity):
        return make(Identity, (), (as_dim(node.shape[0], "Identity"),))
    if isinstance(node, sympy.ZeroMatrix):
        return make(Zero, (), (as_dim(node.shape[0], "ZeroMatrix"), as_dim(node.shape[1], "ZeroMatrix")))
    if isinstance(node, sympy.OneMatrix):
        return make(Ones, (), (as_dim(node.shape[0], "OneMatrix"), as_dim(node.shape[1], "OneMatrix")))
    if isinstance(node, sympy.Dummy) and node in bound:
        return done[bound[node]]
    if isinstance(node, sympy.Symbol):
        if node.name in dimension_names or (node.is_integer and node.is_positive):  # a size, as mc.dims makes them
            return as_dim(node, "from_sympy")
        return scalar(node.name)
    if isinstance(node, sympy.Number) or isinstance(node, sympy.NumberSymbol):
        return _number(node)
    args = [done.get(a) for a in node.args]
    if isinstance(node, ElementwiseApplyFunction):
        variable, body = lambdas[node]
        function = function_with_formula(body.xreplace({variable: ENTRY}))
        if function is not None:
            return apply(function, done[node.expr])
        entries, shape = _as_expr(done[body]), done[node.expr].shape
        # a formula without u (X.applyfunc(Lambda(u, 2))) is the same number in every entry
        return entries if entries.shape == shape else entries * make(Ones, (), shape)
    if isinstance(node, MatrixElement):
        parent = node.parent
        if parent.shape == (1, 1) and node.i == 0 and node.j == 0:
            return done[parent]
        raise _no_counterpart(node, "from_sympy")
    if isinstance(node, sympy.MatMul):
        coefficients = [a for a, b in zip(args, node.args) if not isinstance(b, sympy.MatrixExpr)]
        product = functools.reduce(operator.matmul, [a for a, b in zip(args, node.args) if isinstance(b, sympy.MatrixExpr)])
        return functools.reduce(operator.mul, coefficients, product) if coefficients else product
    if isinstance(node, sympy.MatAdd) or isinstance(node, sympy.Add):
        return functools.reduce(operator.add, args)
    if isinstance(node, sympy.Mul) or isinstance(node, sympy.HadamardProduct):
        return functools.reduce(operator.mul, args)
    if isinstance(node, sympy.HadamardPower):
        return _as_expr(args[0]) ** args[1]
    if isinstance(node, sympy.Pow):
        base, exponent = args
        if node.exp == sympy.S.Half:
            return FUNCTIONS["sqrt"].function(base)
        if isinstance(base, (Expr, sympy.Basic)):  # a size n becomes the constant n, so 1/n is n⁻¹ as mc writes x/n
            return _as_expr(base) ** exponent
        return base**exponent
    if isinstance(node, sympy.MatPow):
        base, exponent = args
        if not isinstance(exponent, int):
            raise OperandError(f"from_sympy: MatPow {node}: only integer powers of a matrix have a counterpart")
        if exponent == 0:
            return make(Identity, (), (base.shape[0],))
        factor = base if exponent > 0 else FUNCTIONS["inv"].function(base)
        return functools.reduce(operator.matmul, [factor] * abs(exponent))
    if isinstance(node, sympy.Transpose) or isinstance(node, sympy.Adjoint):  # real matrices: Xᴴ = Xᵀ
        return _as_expr(args[0]).T
    if isinstance(node, sympy.Inverse):
        return FUNCTIONS["inv"].function(args[0])
    if isinstance(node, sympy.Trace):  # the trace of a 1×1 matrix is the scalar it stands for
        return args[0] if node.arg.shape == (1, 1) else FUNCTIONS["trace"].function(args[0])
    if isinstance(node, sympy.Determinant):
        return FUNCTIONS["det"].function(args[0])
    if isinstance(node, sympy.KroneckerProduct):
        return functools.reduce(FUNCTIONS["kron"].function, args)
    if isinstance(node, DiagMatrix):
        return FUNCTIONS["diag"].function(args[0])
    if isinstance(node, DiagonalOf):
        return FUNCTIONS["diag"].function(args[0])
    if isinstance(node, DiagonalMatrix):
        return FUNCTIONS["diag"].function(FUNCTIONS["diag"].function(args[0]))
    if isinstance(node, sympy.log) and isinstance(node.args[0], sympy.Determinant):
        return FUNCTIONS["logdet"].function(done[node.args[0].arg])
    if isinstance(node, sympy.Max) and len(node.args) == 2 and 0 in node.args:
        other = node.args[1] if node.args[0] == 0 else node.args[0]
        return FUNCTIONS["relu"].function(done[other])
    if isinstance(node, sympy.Function) and isinstance(node.args[0], sympy.MatrixExpr) and node.args[0].shape != (1, 1):
        raise OperandError(
            f"from_sympy: {node} applies {type(node).__name__} to a matrix, which SymPy reads as the matrix function "
            f"(exp(X) is the matrix exponential), not entry by entry; matcalc has no matrix functions: for "
            f"{type(node).__name__} of each entry write X.applyfunc({type(node).__name__})"
        )
    if isinstance(node, sympy.Function) and type(node) in _SCALAR_FUNCTIONS and len(args) == 1:
        return FUNCTIONS[_SCALAR_FUNCTIONS[type(node)]].function(args[0])
    if isinstance(node, sympy.Function) and len(args) == 1 and type(node).__name__.isidentifier():
        # another function of one argument (erf, cosh, …): a user elementwise function, derived by sympy
        name = type(node).__name__
        user = elementwise(name, sympy.Lambda(ENTRY, type(node)(ENTRY)))
        return user(args[0])
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
            done[node] = _to_node(node, [done[a] for a in node.args])
        except MatcalcError:
            raise
        except (TypeError, ValueError, AttributeError, NotImplementedError) as error:  # SymPy refused what it was given
            raise OperandError(f"to_sympy: SymPy cannot write {type(node).__name__.lower()} here ({error})") from None
    return done[expr]


def _coefficient_and_matrices(children: tuple, args: list) -> tuple:
    """A product's 1×1 factors as one SymPy scalar, and its other factors, in order."""
    coefficient, matrices = sympy.S.One, []
    for child, arg in zip(children, args):
        if child.is_scalar:
            coefficient *= _scalar(arg)
        elif isinstance(arg, sympy.MatMul):  # SymPy's Kronecker product fails on a MatMul with a coefficient
            factor, factors = arg.as_coeff_matrices()
            coefficient *= factor
            matrices.append(sympy.MatMul(*factors) if len(factors) > 1 else factors[0])
        else:
            matrices.append(arg)
    return coefficient, matrices


def _scalar(value: sympy.Basic) -> sympy.Basic:
    """A 1×1 SymPy matrix expression as the scalar it stands for, its trace.  (``M[0, 0]``
    would do as well, but SymPy expands an entry of a product into an indexed ``Sum``.)"""
    return sympy.Trace(value) if isinstance(value, sympy.MatrixExpr) else value


def _is_matrix(value) -> bool:
    return isinstance(value, sympy.MatrixExpr)


def _ones(rows, cols) -> sympy.Basic:
    return sympy.OneMatrix(rows, cols)


def _apply(function, x: sympy.Basic, scalar_result: bool) -> sympy.Basic:
    """f applied entry by entry: f(s) for a scalar, X.applyfunc(Lambda(u, f(u))) otherwise."""
    if not _is_matrix(x) or scalar_result:
        return function(_scalar(x))
    u = sympy.Symbol("u")
    return ElementwiseApplyFunction(sympy.Lambda(u, function(u)), x)


def _to_node(node: Expr, args: list) -> sympy.Basic:  # noqa: C901 - one case per class
    is_scalar = node.is_scalar
    if isinstance(node, Symbol):
        return sympy.Symbol(node.label) if node.kind == "scalar" else sympy.MatrixSymbol(node.label, *node.shape)
    if isinstance(node, Const):
        value = node.value
        if isinstance(value, Fraction):
            return sympy.Rational(value.numerator, value.denominator)
        return sympy.sympify(value)
    if isinstance(node, Identity):
        return sympy.Identity(node.shape[0])
    if isinstance(node, Ones):
        return sympy.S.One if is_scalar else _ones(*node.shape)
    if isinstance(node, Zero):
        return sympy.S.Zero if is_scalar else sympy.ZeroMatrix(*node.shape)
    if isinstance(node, Let):
        return args[0]
    if isinstance(node, Add):
        if is_scalar and not all(_is_matrix(a) for a in args):
            return sympy.Add(*[_scalar(a) for a in args])
        return functools.reduce(operator.add, args)
    if isinstance(node, MatMul):  # SymPy's * is the matrix product, and a 1×1 factor a coefficient
        coefficient, matrices = _coefficient_and_matrices(node.args, args)
        return coefficient * functools.reduce(operator.mul, matrices) if matrices else coefficient
    if isinstance(node, Scale):
        return _scalar(args[0]) * args[1]
    if isinstance(node, Hadamard):
        if is_scalar:
            return sympy.Mul(*[_scalar(a) for a in args])
        return sympy.HadamardProduct(*args)
    if isinstance(node, Transpose):
        return args[0] if not _is_matrix(args[0]) else sympy.Transpose(args[0])
    if isinstance(node, Trace):
        return args[0] if not _is_matrix(args[0]) else sympy.Trace(args[0])
    if isinstance(node, Sum):
        x = node.args[0]
        if x.is_scalar:
            return args[0]
        return sympy.Trace(_ones(1, x.shape[0]) * args[0] * _ones(x.shape[1], 1))
    if is_scalar and isinstance(node, (DiagMat, DiagVec)):  # the diagonal of a 1×1 is itself
        return _scalar(args[0])
    if isinstance(node, DiagMat):
        return DiagMatrix(args[0])
    if isinstance(node, DiagVec):
        return DiagonalOf(args[0])
    if isinstance(node, Frob):
        a, b = args
        if not _is_matrix(a) or not _is_matrix(b):
            return _scalar(a) * _scalar(b)
        return sympy.Trace(sympy.Transpose(a) * b)
    if isinstance(node, Vec) and 1 in node.args[0].shape:  # vec of a column is the column, of a row its transpose
        return args[0] if node.args[0].shape[1] == 1 else sympy.Transpose(args[0])
    if isinstance(node, Kron):  # a ⊗ B = aB for a 1×1 factor a
        coefficient, matrices = _coefficient_and_matrices(node.args, args)
        if not matrices:
            return coefficient
        return coefficient * (sympy.KroneckerProduct(*matrices) if len(matrices) == 2 else matrices[0])
    if isinstance(node, Elementwise):
        formula = node.function.formula
        return _apply(sympy.Lambda(ENTRY, formula), args[0], is_scalar)
    if isinstance(node, Power):
        exponent = node.exponent
        p = sympy.Rational(exponent.numerator, exponent.denominator) if isinstance(exponent, Fraction) else sympy.sympify(exponent)
        return _scalar(args[0]) ** p if not _is_matrix(args[0]) or is_scalar else sympy.HadamardPower(args[0], p)
    if isinstance(node, PowerOf):
        base, exponent = args
        if is_scalar:
            return _scalar(base) ** _scalar(exponent)
        return sympy.HadamardPower(base, _scalar(exponent))
    if isinstance(node, Inverse):
        return 1 / args[0] if not _is_matrix(args[0]) else sympy.Inverse(args[0])
    if isinstance(node, Det):
        return args[0] if not _is_matrix(args[0]) else sympy.Determinant(args[0])
    if isinstance(node, LogDet):
        return sympy.log(args[0] if not _is_matrix(args[0]) else sympy.Determinant(args[0]))
    if isinstance(node, Norm):
        x = args[0]
        if not _is_matrix(x):
            return sympy.Abs(x)
        return sympy.sqrt(sympy.Trace(sympy.Transpose(x) * x))
    if isinstance(node, (Softmax, LogSumExp)):
        x, (rows, cols) = args[0], node.args[0].shape
        if not _is_matrix(x):  # of a scalar: softmax is 1, logsumexp the scalar itself
            return sympy.S.One if isinstance(node, Softmax) else x
        exp_x = _apply(sympy.exp, x, False)
        sums = _ones(1, rows) * exp_x  # each column's sum of exponentials, 1×cols
        if isinstance(node, LogSumExp):
            return _apply(sympy.log, sums, cols == 1)
        reciprocal = _apply(sympy.Lambda(ENTRY, 1 / ENTRY), sums, cols == 1)
        if cols == 1:
            return reciprocal * exp_x
        return sympy.HadamardProduct(exp_x, _ones(rows, 1) * reciprocal)
    raise _no_counterpart(node, "to_sympy")


PRINTERS["sympy"] = to_sympy  # Expr._sympy_, so that sympy.sympify(expr) works
