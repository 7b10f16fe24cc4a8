"""SymPy interoperability: mc.from_sympy and mc.to_sympy.

Values are checked against SymPy's own explicit evaluation (the matrices substituted and
``doit``), and gradients against central finite differences, never against matcalc alone.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from sympy.matrices.expressions.matexpr import MatrixElement

import matcalc as mc
from tests.helpers import finite_difference_gradient, random_values

N = 3
n_sym = sympy.Symbol("n", integer=True, positive=True)
X_s, A_s, S_s = (sympy.MatrixSymbol(name, n_sym, n_sym) for name in "XAS")
x_s, y_s = sympy.MatrixSymbol("x", n_sym, 1), sympy.MatrixSymbol("y", n_sym, 1)
s_s = sympy.Symbol("s")


def sympy_value(expr, values: dict):
    """The value of a SymPy expression by the meaning of each SymPy class in NumPy, written here
    independently of matcalc's converters (SymPy's own ``doit`` cannot expand every class)."""
    from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
    from sympy.matrices.expressions.matexpr import MatrixElement

    def size(d):
        return int(sympy.sympify(d).subs(n_sym, N))

    def scalar(v):
        return float(np.asarray(v).reshape(()))

    def value(e):
        if isinstance(e, sympy.MatrixSymbol):
            return np.asarray(values[e.name], dtype=float)
        if isinstance(e, sympy.Identity):
            return np.eye(size(e.shape[0]))
        if isinstance(e, sympy.OneMatrix):
            return np.ones((size(e.shape[0]), size(e.shape[1])))
        if isinstance(e, sympy.ZeroMatrix):
            return np.zeros((size(e.shape[0]), size(e.shape[1])))
        if isinstance(e, sympy.Symbol):
            return float(N) if e == n_sym else scalar(values[e.name])
        if e.is_Number:
            return float(e)
        if isinstance(e, ElementwiseApplyFunction):
            f = e.function
            return np.vectorize(lambda t: float(f(sympy.Float(t)).evalf()))(value(e.expr))
        if isinstance(e, MatrixElement):
            return value(e.parent)[int(e.i), int(e.j)]
        args = [value(a) for a in e.args]
        if isinstance(e, sympy.MatMul):
            out = 1.0
            for a, arg in zip(e.args, args):
                out = out @ arg if isinstance(a, sympy.MatrixExpr) and not np.isscalar(out) else out * arg
            return out
        if isinstance(e, (sympy.MatAdd, sympy.Add)):
            return sum(args[1:], args[0])
        if isinstance(e, sympy.Mul):
            return np.prod([scalar(a) for a in args])
        if isinstance(e, sympy.HadamardProduct):
            return np.prod(args, axis=0)
        if isinstance(e, sympy.HadamardPower):
            return args[0] ** args[1]
        if isinstance(e, sympy.MatPow):
            return np.linalg.matrix_power(args[0], int(e.exp))
        if isinstance(e, sympy.Pow):
            return scalar(args[0]) ** scalar(args[1])
        table = {
            sympy.Transpose: lambda a: a.T, sympy.Inverse: np.linalg.inv, sympy.Trace: np.trace,
            sympy.Determinant: np.linalg.det, sympy.KroneckerProduct: np.kron,
            sympy.DiagMatrix: lambda v: np.diag(v.ravel()), sympy.DiagonalOf: lambda a: np.diag(a).reshape(-1, 1),
        }
        if type(e) in table:
            return table[type(e)](*args)
        if isinstance(e, sympy.Function) and len(args) == 1:
            return float(e.func(sympy.Float(scalar(args[0]))).evalf())
        raise NotImplementedError(type(e).__name__)

    result = value(expr)
    return np.asarray(result, dtype=float).reshape(np.shape(result) if np.ndim(result) == 2 else (1, 1))


def matcalc_value(expr: mc.Expr, values: dict) -> np.ndarray:
    used = {name: value for name, value in values.items() if name in expr.variables}
    shape = tuple(int(sympy.sympify(d).subs(mc.dims("n")[0], N)) for d in expr.shape)
    return np.asarray(mc.evaluate(expr, {**used, "n": N}), dtype=float).reshape(shape)


def values_for(*exprs, seed=0):
    """Random values by name, positive definite for X (so log det and inverses are defined)."""
    rng = np.random.default_rng(seed)
    values = {}
    for name in ("X", "A", "S"):
        a = rng.normal(size=(N, N))
        values[name] = a @ a.T + N * np.eye(N)
    values["x"], values["y"] = rng.uniform(0.5, 1.5, size=(N, 1)), rng.normal(size=(N, 1))
    values["s"] = np.array([[0.7]])
    return values


# --- SymPy → matcalc: the value SymPy computes is the value matcalc computes --------------

SYMPY_EXPRESSIONS = {
    "matmul": A_s * X_s * x_s,
    "scaled sum": 2 * X_s + A_s.T - s_s * X_s,
    "quadratic form": x_s.T * A_s * x_s,
    "inverse": y_s.T * X_s.I * x_s,
    "trace": sympy.Trace(A_s * X_s) + 1,
    "determinant": sympy.det(X_s) * sympy.Trace(X_s),
    "log det": sympy.log(sympy.det(X_s)),
    "hadamard": sympy.HadamardProduct(X_s, A_s),
    "hadamard power": sympy.HadamardPower(X_s, 2),
    "matrix power": X_s**2 + X_s**-1,
    "kronecker": sympy.KroneckerProduct(x_s, y_s),
    "identity and ones": X_s + sympy.Identity(n_sym) + sympy.OneMatrix(n_sym, n_sym),
    "applyfunc exp": X_s.applyfunc(sympy.exp),
    "applyfunc lambda": x_s.applyfunc(sympy.Lambda(sympy.Symbol("t"), 1 / (1 + sympy.exp(-sympy.Symbol("t"))))),
    "applyfunc composite": x_s.applyfunc(sympy.Lambda(sympy.Symbol("t"), sympy.Symbol("t") ** 2 + sympy.sin(sympy.Symbol("t")))),
    "logsumexp": sympy.log(sympy.OneMatrix(1, n_sym) * x_s.applyfunc(sympy.exp)),
    "diagonal": sympy.DiagMatrix(x_s) * y_s + sympy.DiagonalOf(X_s),
    "entry of a 1×1": MatrixElement(x_s.T * y_s, 0, 0) * sympy.Trace(X_s),  # (x.T*y)[0, 0] is an indexed Sum
    "scalar function": sympy.sqrt(sympy.Trace(X_s.T * X_s)),
}


@pytest.mark.parametrize("name", SYMPY_EXPRESSIONS)
def test_from_sympy_keeps_the_value(name):
    expr = SYMPY_EXPRESSIONS[name]
    converted = mc.from_sympy(expr)
    values = values_for()
    np.testing.assert_allclose(matcalc_value(converted, values), sympy_value(expr, values), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", SYMPY_EXPRESSIONS)
def test_sympy_round_trip_keeps_the_value(name):
    """SymPy → matcalc → SymPy is the same function (SymPy's own evaluation, both sides)."""
    expr = SYMPY_EXPRESSIONS[name]
    back = mc.to_sympy(mc.from_sympy(expr))
    values = values_for(seed=1)
    np.testing.assert_allclose(sympy_value(back, values), sympy_value(expr, values), rtol=1e-10, atol=1e-12)


def test_sympy_round_trip_is_exact_where_sympy_and_matcalc_agree_on_the_form():
    for expr in (A_s * X_s * x_s, x_s.T * A_s * x_s, X_s.I, sympy.log(sympy.det(X_s)) + sympy.Trace(X_s),
                 sympy.HadamardPower(X_s, 3), s_s * X_s, sympy.DiagMatrix(x_s), sympy.KroneckerProduct(A_s, X_s)):
        assert mc.to_sympy(mc.from_sympy(expr)) == expr


def test_dimensions_are_sizes_and_other_symbols_scalars():
    e = mc.from_sympy(n_sym * X_s + s_s * A_s)
    assert set(e.variables) == {"X", "A", "s"}
    values = values_for()
    np.testing.assert_allclose(matcalc_value(e, values), N * values["X"] + 0.7 * values["A"])


def test_vectors_matrices_and_scalars_by_shape():
    e = mc.from_sympy(sympy.MatrixSymbol("W", n_sym, 4).T * sympy.MatrixSymbol("v", n_sym, 1) * sympy.MatrixSymbol("c", 1, 1))
    kinds = {name: v.kind for name, v in e.variables.items()}
    assert kinds == {"v": "vector", "W": "matrix", "c": "scalar"}


def test_symmetric_names_give_the_gradient_within_symmetric_matrices():
    loss = mc.from_sympy(x_s.T * S_s * y_s, symmetric=["S"])
    S = loss.variables["S"]
    assert S.is_symmetric
    values = random_values([loss], {mc.dims("n")[0]: N}, seed=3)
    numeric = finite_difference_gradient(loss, S, values)
    np.testing.assert_allclose(mc.evaluate(mc.grad(loss, S), values), numeric, rtol=1e-6, atol=1e-8)
    with pytest.raises(mc.MatcalcError, match="not variables"):
        mc.from_sympy(x_s.T * S_s * y_s, symmetric=["T"])


# --- the three gradients SymPy 1.14 gets wrong (it returns 0) -----------------------------

SYMPY_ZERO_GRADIENTS = {
    "log det X": (sympy.log(sympy.det(X_s)), X_s),
    "logsumexp": (sympy.log(sympy.OneMatrix(1, n_sym) * x_s.applyfunc(sympy.exp)), x_s),
    "tr X + 1": (sympy.Trace(X_s) + 1, X_s),
}


@pytest.mark.parametrize("name", SYMPY_ZERO_GRADIENTS)
def test_matcalc_gets_the_gradients_sympy_returns_zero_for(name):
    expr, wrt = SYMPY_ZERO_GRADIENTS[name]
    if sympy.__version__.startswith("1.14"):
        assert str(expr.diff(wrt)) == "0"  # the bug this interoperability is for
    loss = mc.from_sympy(expr)
    variable = loss.variables[wrt.name]
    gradient = mc.grad(loss, variable)
    values = random_values([loss], {mc.dims("n")[0]: N}, seed=5, spd=[loss.variables.get("X")])
    values[mc.dims("n")[0]] = N  # the gradient of tr X + 1, I, has no variable to fix n
    numeric = finite_difference_gradient(loss, variable, values)
    computed = mc.evaluate(gradient, values)
    assert np.abs(numeric).max() > 0.1  # the true gradient is far from SymPy's 0
    np.testing.assert_allclose(computed, numeric, rtol=1e-6, atol=1e-8)


def test_the_closed_forms_read_as_a_person_writes_them():
    assert str(mc.grad(mc.from_sympy(sympy.log(sympy.det(X_s))), mc.matrix("X", *mc.dims("n n")))) == "X⁻ᵀ"
    lse = mc.from_sympy(SYMPY_ZERO_GRADIENTS["logsumexp"][0])
    assert str(mc.grad(lse, lse.variables["x"])) == "exp(x)/(𝟏ᵀexp(x))"
    assert str(mc.grad(mc.from_sympy(sympy.Trace(X_s) + 1), mc.matrix("X", *mc.dims("n n")))) == "I"


# --- matcalc → SymPy ---------------------------------------------------------------------

n = mc.dims("n")[0]
X, A, x, y, s = mc.matrix("X", n, n), mc.matrix("A", n, n), mc.vector("x", n), mc.vector("y", n), mc.scalar("s")

MATCALC_EXPRESSIONS = {
    "quadratic form": x.T @ A @ x,
    "log det": mc.logdet(X) + mc.trace(X) * s,
    "gradient with inverses": mc.grad(y.T @ mc.inv(X) @ x, X),
    "sigmoid and its derivative": mc.grad(mc.sum(mc.sigmoid(A @ x)), x),
    "norm": mc.grad(mc.norm(X @ X), X),
    "softmax of a vector": mc.softmax(x),
    "softmax by columns": mc.softmax(X),
    "softmax by rows": mc.softmax(X, axis=1),
    "logsumexp": mc.logsumexp(X) @ x + mc.logsumexp(y),
    "sums": mc.sum(X) + mc.sum(X, axis=0) @ x,
    "broadcast": X + 1 + x,
    "powers": X**2 + x.T @ x ** s,
    "diag": mc.diag(x) @ mc.diag(X),
    "frob and dot": mc.frob(A, X) + mc.dot(x, y),
    "kron": mc.kron(x, y),
    "hessian": mc.hessian(x.T @ A @ x + mc.sum(mc.tanh(A @ x)), x),
    "let": mc.let("z", A @ x) * 2,
    "jacobian": mc.jacobian(mc.softmax(x), x),
}


@pytest.mark.parametrize("name", MATCALC_EXPRESSIONS)
def test_to_sympy_keeps_the_value(name):
    expr = MATCALC_EXPRESSIONS[name]
    values = values_for(seed=2)
    np.testing.assert_allclose(sympy_value(mc.to_sympy(expr), values), matcalc_value(expr, values), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", MATCALC_EXPRESSIONS)
def test_matcalc_round_trip_keeps_the_value(name):
    expr = MATCALC_EXPRESSIONS[name]
    back = mc.from_sympy(mc.to_sympy(expr))
    values = values_for(seed=4)
    np.testing.assert_allclose(matcalc_value(back, values), matcalc_value(expr, values), rtol=1e-9, atol=1e-12)


def test_matcalc_round_trip_is_the_same_node_where_the_forms_agree():
    u = sympy.Symbol("u")  # a formula no other function has: a function comes back by its formula
    cube = mc.elementwise("interop_cube", sympy.Lambda(u, u**3 + 7 * u))
    for expr in (x.T @ A @ x, mc.logdet(X), mc.inv(X) @ x, s * X, mc.diag(x), mc.diag(X), X**2, x**s, A + A.T,
                 mc.sigmoid(X), mc.grad(mc.sum(mc.sigmoid(X)), X), mc.tanh(x) * mc.relu(y), cube(x),
                 mc.grad(mc.sum(cube(x)), x), mc.trace(X) * X):
        assert mc.from_sympy(mc.to_sympy(expr)) is expr, str(expr)


def test_sympify_converts_and_sympy_operators_leave_matcalc_alone():
    assert sympy.sympify(x.T @ A @ x) == x_s.T * A_s * x_s
    assert isinstance(n * X, mc.Expr) and isinstance(sympy.Integer(2) * X, mc.Expr)


def test_a_user_function_comes_back_as_an_elementwise_function_with_sympy_derivative():
    loss = mc.from_sympy(sympy.Trace(sympy.OneMatrix(1, n_sym) * x_s.applyfunc(sympy.erf)))
    assert str(loss) == "𝟏ᵀerf(x)"
    assert mc.check(loss, loss.variables["x"]).ok


# --- what has no counterpart -------------------------------------------------------------


@pytest.mark.parametrize(
    "expr, named",
    [
        (sympy.BlockMatrix([[X_s, A_s]]), "BlockMatrix"),
        (X_s[0:2, :], "MatrixSlice"),
        (X_s[0, 1], "MatrixElement"),
        (sympy.ImmutableMatrix([[1, 2], [3, 4]]), "ImmutableDenseMatrix"),
        (sympy.Sum(x_s[sympy.Symbol("i"), 0], (sympy.Symbol("i"), 0, n_sym - 1)), "Sum"),
        (X_s**sympy.Rational(1, 2), "MatPow"),
    ],
)
def test_from_sympy_names_what_has_no_counterpart(expr, named):
    with pytest.raises(mc.MatcalcError, match=named):
        mc.from_sympy(expr)


def test_to_sympy_names_what_has_no_counterpart():
    gradient = mc.grad(mc.sum(mc.kron(A, X)), X)  # the adjoint of a Kronecker factor
    with pytest.raises(mc.MatcalcError, match="KronContract"):
        mc.to_sympy(gradient)


def test_not_an_expression():
    with pytest.raises(mc.MatcalcError, match="expected a SymPy expression"):
        mc.from_sympy(object())
    with pytest.raises(mc.MatcalcError, match="expected a matcalc expression"):
        mc.to_sympy(X_s)


def test_deep_expressions_convert_without_recursion():
    """SymPy itself recurses over its trees (hashing, printing), so a few hundred levels deep is
    what it takes; the converters walk iteratively and add no recursion of their own."""
    e = x
    for _ in range(150):
        e = mc.tanh(A @ e)
    back = mc.from_sympy(mc.to_sympy(e))
    assert back is e


def test_every_operation_writes_itself_in_sympy_or_is_listed_as_having_no_counterpart():
    """Each record holds its SymPy form (``sympy_form``), as it holds its NumPy code: a new
    operation without one must be listed here, with why."""
    from matcalc.expr import Expr
    from matcalc.registry import OPERATIONS

    without = {
        "Unvec": "SymPy has no reshape of a matrix expression",
        "Commutation": "SymPy has no commutation matrix",
        "KronContract": "the adjoint of a Kronecker factor",
        "Negative": "display only", "Quotient": "display only", "InverseTranspose": "display only",
        "OnesMatrix": "display only", "Differential": "display only",
    }
    for operation in OPERATIONS:
        written = operation.sympy_form is not Expr.sympy_form
        assert written or operation.__name__ in without, f"{operation.__name__}: no sympy_form and not listed"
