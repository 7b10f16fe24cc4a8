"""Jacobians of matrices with respect to matrices, and Hessians with respect to matrices.

Every value here is computed independently of matcalc: Kronecker products, commutation
matrices and inverses written with NumPy in the test, and central finite differences of vec F
(vec stacking columns, NumPy's order="F") of a NumPy function written in the test.

Sources of the printed forms:
- vec(AXB) = (Bᵀ ⊗ A) vec X: Magnus & Neudecker, Matrix Differential Calculus (3rd ed., 2019),
  ch. 2, Theorem 2; the Matrix Cookbook (Petersen & Pedersen, 2012), eq. (520).
- vec(Xᵀ) = K vec X, K the commutation matrix: Magnus & Neudecker, ch. 3, section 7.
- vec(A ⊙ X) = diag(vec A) vec X: entry by entry, (A ⊙ X)_ij = A_ij X_ij.
- d(X⁻¹) = −X⁻¹ dX X⁻¹ (Matrix Cookbook, eq. (59)), so vec d(X⁻¹) = −(X⁻ᵀ ⊗ X⁻¹) vec dX.
"""

from __future__ import annotations

import numpy as np
import pytest

import matcalc as mc
from matcalc import ops
from matcalc.expr import make
from matcalc.jacobians import DENSE_LIMIT
from tests.katex import missing_reason, render_failures

p, q, r, s = 3, 4, 2, 5
A, X, B = mc.matrix("A", r, p), mc.matrix("X", p, q), mc.matrix("B", q, s)
Xs = mc.matrix("X", p, p)  # a square X
rng = np.random.default_rng(7)
Av, Xv, Bv = rng.normal(size=(r, p)), rng.normal(size=(p, q)), rng.normal(size=(q, s))
Xsv = rng.normal(size=(p, p)) + 4 * np.eye(p)  # well away from singular


def vec(m):
    return np.asarray(m).reshape(-1, 1, order="F")


def finite_difference_jacobian(f, x0, step=1e-6):
    """∂vec f/∂vec x by central differences, x's entries taken in vec (column-major) order."""
    columns = []
    for k in range(x0.size):
        e = np.zeros(x0.size)
        e[k] = step
        moved = e.reshape(x0.shape, order="F")
        columns.append((vec(f(x0 + moved)) - vec(f(x0 - moved))).ravel() / (2 * step))
    return np.array(columns).T


def commutation(m, n):
    """K with K vec(M) = vec(Mᵀ) for every m×n M, built from that definition one entry at a time."""
    k = np.zeros((m * n, m * n))
    for i in range(m):
        for j in range(n):
            k[i * n + j, j * m + i] = 1.0  # vec(Mᵀ)[i·n + j] = M[i, j] = vec(M)[j·m + i]
    return k


def test_the_commutation_matrix_built_here_transposes():
    M = rng.normal(size=(3, 4))
    assert np.array_equal(commutation(3, 4) @ vec(M), vec(M.T))


# --- the four Cookbook / Magnus–Neudecker forms, printed --------------------------------------------


def test_product_prints_in_all_three_forms():
    J = mc.jacobian(A @ X @ B, X)
    assert J.view("linear") == "d(AXB) = A dX B"
    assert J.view("kronecker") == "vec(d(AXB)) = (Bᵀ ⊗ A) vec(dX)"
    assert J.view("index") == "∂(AXB)_ij/∂X_kl = A_ik B_lj"
    assert str(J) == "\n".join(J.view(name) for name in ("linear", "kronecker", "index"))
    assert str(J.matrix) == "Bᵀ ⊗ A"
    assert J.shape == (r * s, p * q)


@pytest.mark.parametrize(
    "build, kronecker, index",
    [
        (lambda: mc.jacobian(X.T, X), "vec(d(Xᵀ)) = K vec(dX)", "∂(Xᵀ)_ij/∂X_kl = δ_jk δ_il"),
        (lambda: mc.jacobian(mc.matrix("C", p, q) * X, X), "vec(d(C ⊙ X)) = diag(vec(C)) vec(dX)",
         "∂(C ⊙ X)_ij/∂X_kl = C_ij δ_ik δ_jl"),
        (lambda: mc.jacobian(mc.inv(Xs), Xs), "vec(d(X⁻¹)) = −(X⁻ᵀ ⊗ X⁻¹) vec(dX)",
         "∂(X⁻¹)_ij/∂X_kl = −(X⁻¹)_ik (X⁻¹)_lj"),
    ],
    ids=["transpose", "hadamard", "inverse"],
)
def test_textbook_forms_print_as_stated(build, kronecker, index):
    J = build()
    assert J.view("kronecker") == kronecker
    assert J.view("index") == index


def test_index_form_keeps_deltas_where_a_sum_shares_the_summed_index():
    """Σ_pq A_ip (dX_pq + dX_qp) B_qj: contracting p into k in one term would be wrong in the other."""
    J = mc.jacobian(A @ (Xs + Xs.T) @ mc.matrix("B", p, s), Xs)
    assert J.view("index") == "∂(A(X + Xᵀ)B)_ij/∂X_kl = Σ_pq A_ip (δ_pk δ_ql + δ_qk δ_pl) B_qj"
    assert J.view("kronecker") == "vec(d(A(X + Xᵀ)B)) = (Bᵀ ⊗ A) (I + K) vec(dX)"


def test_latex_of_every_form_renders():
    reason = missing_reason()
    assert reason is None, f"cannot render LaTeX: {reason}"
    derivatives = [mc.jacobian(A @ X @ B, X), mc.jacobian(mc.inv(Xs), Xs), mc.jacobian(mc.softmax(X), X),
                   mc.hessian(mc.trace(X.T @ mc.matrix("S", p, p) @ X), X), mc.hessian(mc.logdet(Xs), Xs)]
    strings = [d.latex() for d in derivatives] + [d.latex(view) for d in derivatives for view in ("linear", "kronecker", "index")]
    assert render_failures(strings) == []
    assert derivatives[0]._repr_latex_().startswith("$$\\begin{aligned}")
    assert derivatives[0].latex("index") == "\\frac{\\partial \\left(A X B\\right)_{ij}}{\\partial X_{kl}} = A_{ik} B_{lj}"


def test_an_unknown_view_is_refused_with_the_choices():
    with pytest.raises(mc.MatcalcError, match="linear, kronecker, index"):
        mc.jacobian(A @ X @ B, X).view("sideways")


def test_an_index_form_that_would_hide_dx_inside_a_whole_entry_is_not_written():
    """An entry of X ⊗ A has no index rule: "(dX ⊗ A)_ij" would read as a formula with dX left in it."""
    P, C = mc.matrix("P", 2, 2), mc.matrix("C", 2, 3)
    jacobian = mc.jacobian(mc.kron(P, C), P)
    assert str(jacobian).splitlines() == [jacobian.view("linear"), jacobian.view("kronecker")]
    assert "∂" not in str(jacobian) and "index" not in jacobian.latex()
    with pytest.raises(mc.MatcalcError, match="index form of this derivative is not written"):
        jacobian.view("index")
    P0, C0 = np.array([[1.0, 2.0], [3.0, 4.0]]), np.arange(6.0).reshape(2, 3)
    dense = np.zeros((24, 4))  # ∂vec(P ⊗ C)/∂vec P, column by column: the entries of P one at a time
    for k in range(4):
        unit = np.zeros(4)
        unit[k] = 1.0
        dense[:, k] = np.kron(unit.reshape(2, 2, order="F"), C0).reshape(-1, order="F")
    np.testing.assert_allclose(mc.evaluate(jacobian, {P: P0, C: C0}), dense)


# --- values: each against NumPy written here, and finite differences of vec F -----------------------


def test_product_evaluates_to_the_kronecker_product():
    expected = np.kron(Bv.T, Av)
    J = mc.jacobian(A @ X @ B, X)
    np.testing.assert_array_equal(mc.evaluate(J, {A: Av, X: Xv, B: Bv}), expected)
    np.testing.assert_allclose(expected, finite_difference_jacobian(lambda x: Av @ x @ Bv, Xv), atol=1e-8)


def test_transpose_evaluates_to_the_commutation_matrix():
    np.testing.assert_array_equal(mc.evaluate(mc.jacobian(X.T, X), {X: Xv}), commutation(p, q))


def test_inverse_evaluates_to_minus_the_kronecker_product_of_inverses():
    inverse = np.linalg.inv(Xsv)
    value = mc.evaluate(mc.jacobian(mc.inv(Xs), Xs), {Xs: Xsv})
    np.testing.assert_allclose(value, -np.kron(inverse.T, inverse), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(value, finite_difference_jacobian(np.linalg.inv, Xsv), atol=1e-7)


def _softmax_columns(x):
    e = np.exp(x - x.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


C = mc.matrix("C", p, q)
Cv = rng.normal(size=(p, q))
D = mc.matrix("D", q, p)
Dv = rng.normal(size=(q, p))
Pv = rng.normal(size=(2, 2))


@pytest.mark.parametrize(
    "F, numpy_f",
    [
        (C * X, lambda x: Cv * x),
        (mc.tanh(X), np.tanh),
        (mc.exp(X) * mc.sin(X), lambda x: np.exp(x) * np.sin(x)),
        (mc.softmax(X), _softmax_columns),
        (A @ mc.tanh(X @ D) @ X @ B, lambda x: Av @ np.tanh(x @ Dv) @ x @ Bv),
        (X @ D @ X, lambda x: x @ Dv @ x),
        ((C * X).T @ X, lambda x: (Cv * x).T @ x),
        (mc.trace(X @ D) * X, lambda x: np.trace(x @ Dv) * x),
        (mc.diag(mc.diag(X @ D)), lambda x: np.diag(np.diag(x @ Dv))),
        (mc.kron(X, mc.matrix("P", 2, 2)), lambda x: np.kron(x, Pv)),
    ],
    ids=["hadamard", "tanh", "exp-sin", "softmax", "chain", "XDX", "transposed-hadamard", "trace-scale",
         "diag-diag", "kron"],
)
def test_jacobians_of_matrices_equal_finite_differences_of_vec(F, numpy_f):
    values = {X: Xv, C: Cv, D: Dv, A: Av, B: Bv, mc.matrix("P", 2, 2): Pv}
    J = mc.jacobian(F, X)
    np.testing.assert_allclose(mc.evaluate(J, values), finite_difference_jacobian(numpy_f, Xv), rtol=1e-6, atol=1e-7)



def test_hadamard_and_elementwise_are_diagonal():
    np.testing.assert_array_equal(mc.evaluate(mc.jacobian(C * X, X), {X: Xv, C: Cv}), np.diag(Cv.ravel(order="F")))
    tanh_jacobian = mc.evaluate(mc.jacobian(mc.tanh(X), X), {X: Xv})
    np.testing.assert_allclose(tanh_jacobian, np.diag(1 - np.tanh(Xv).ravel(order="F") ** 2), rtol=1e-13)


def test_matrix_of_a_vector_and_scalar_of_a_matrix():
    """F = xxᵀ (n²×n) and ℓ = tr(AXB) (1×pq, the gradient AᵀBᵀ vec'd and transposed)."""
    v = mc.vector("v", p)
    vv = rng.normal(size=(p, 1))
    J = mc.jacobian(v @ v.T, v)
    assert J.view("kronecker") == "vec(d(vvᵀ)) = (v ⊗ I + I ⊗ v) vec(dv)"
    assert J.view("index") == "∂(vvᵀ)_ij/∂v_k = (δ_ik v_j + v_i δ_jk)"
    np.testing.assert_allclose(mc.evaluate(J, {v: vv}), finite_difference_jacobian(lambda u: u @ u.T, vv), atol=1e-8)
    square_b = mc.matrix("B", q, r)
    bv = rng.normal(size=(q, r))
    trace = mc.jacobian(mc.trace(A @ X @ square_b), X)
    assert trace.view("index") == "∂tr(AXB)/∂X_kl = Σ_p A_pk B_lp"
    np.testing.assert_allclose(mc.evaluate(trace, {A: Av, X: Xv, square_b: bv}), vec(Av.T @ bv.T).T, rtol=1e-12)


def test_symbolic_sizes_are_read_off_the_values():
    n, m = mc.dims("n m")
    An, Xn = mc.matrix("A", n, n), mc.matrix("X", n, m)
    value = mc.evaluate(mc.jacobian(An @ Xn, Xn), {An: Av[:, :2].T @ Av[:, :2], Xn: Xv[:2]})
    np.testing.assert_allclose(value, np.kron(np.eye(q), Av[:, :2].T @ Av[:, :2]))


def test_a_jacobian_constant_in_x_evaluates_without_a_value_for_x():
    """∂vec(AXB)/∂vec X = Bᵀ ⊗ A does not depend on X: its value is not asked for, only its sizes."""
    np.testing.assert_array_equal(mc.evaluate(mc.jacobian(A @ X @ B, X), {A: Av, B: Bv}), np.kron(Bv.T, Av))
    n, m = mc.dims("n m")
    Y = mc.matrix("Y", n, m)
    np.testing.assert_array_equal(mc.evaluate(mc.jacobian(2 * Y, Y), {"n": 2, "m": 3}), 2 * np.eye(6))
    with pytest.raises(mc.ShapeError, match="no size given for dimension m"):
        mc.evaluate(mc.jacobian(2 * Y, Y), {"n": 2})


# --- each operation's record: ∂vec(node)/∂vec(argument), against finite differences ----------------

G, F2, F3, g = mc.matrix("G", 6, 6), mc.matrix("F", 3, 2), mc.matrix("F", 2, 3), mc.vector("g", 6)
v3, t = mc.vector("v", 3), mc.scalar("t")
RECORDS = [
    (mc.trace(Xs), 0), (mc.sum(X), 0), (mc.diag(v3), 0), (mc.diag(Xs), 0), (X.T, 0),
    (make(ops.MatMul, (A, Xs, mc.matrix("E", p, 2))), 0), (make(ops.MatMul, (A, Xs, mc.matrix("E", p, 2))), 1),
    (make(ops.MatMul, (v3.T, Xs, v3)), 1), (make(ops.MatMul, (v3, t, v3.T)), 1),
    (make(ops.Scale, (t, X)), 0), (make(ops.Scale, (t, X)), 1), (make(ops.Hadamard, (C, X)), 1),
    (mc.frob(C, X), 1), (mc.kron(A, F2), 0), (mc.kron(A, F2), 1),
    (make(ops.KronContract, (G, F2), (0,)), 0), (make(ops.KronContract, (G, F2), (0,)), 1),
    (make(ops.KronContract, (G, F3), (1,)), 0), (make(ops.KronContract, (G, F3), (1,)), 1),
    (make(ops.Vec, (X,)), 0), (make(ops.Unvec, (g,), (2, 3)), 0),
]


@pytest.mark.parametrize("node, index", RECORDS, ids=[f"{type(n).__name__}-{i}" for n, i in RECORDS])
def test_each_records_vec_jacobian_equals_finite_differences(node, index):
    argument = node.args[index]
    values = {symbol: rng.normal(size=symbol.shape) for symbol in node.variables.values()}
    jacobian = node.vec_jacobian(index)
    size = int(np.prod(argument.shape))
    value = np.eye(size) if jacobian is None else np.atleast_2d(mc.evaluate(jacobian, values))
    numpy_node = mc.lambdify(list(values), node)  # the node's own value; its Jacobian by differences

    def moved(x):
        return numpy_node(*[x if symbol is argument else values[symbol] for symbol in values])

    expected = finite_difference_jacobian(lambda x: np.atleast_2d(moved(x)), values[argument])
    np.testing.assert_allclose(value, expected, atol=1e-7)


# --- Hessians with respect to matrices ----------------------------------------------------------------


def test_hessian_of_a_quadratic_form_is_identity_kron_the_symmetrised_matrix():
    S = mc.matrix("S", p, p)
    Sv = rng.normal(size=(p, p))
    H = mc.hessian(mc.trace(X.T @ S @ X), X)
    assert H.view("linear") == "d² tr(XᵀSX) = dX : (S + Sᵀ) dX"
    assert H.view("kronecker") == "d² tr(XᵀSX) = vec(dX)ᵀ (I ⊗ (S + Sᵀ)) vec(dX)"
    assert H.view("index") == "∂²tr(XᵀSX)/∂X_ij∂X_kl = (S_ik + S_ki) δ_jl"
    assert str(H.matrix) == "I ⊗ (S + Sᵀ)"
    np.testing.assert_allclose(mc.evaluate(H, {X: Xv, S: Sv}), np.kron(np.eye(q), Sv + Sv.T), rtol=1e-14)
    gradient_differences = finite_difference_jacobian(lambda x: (Sv + Sv.T) @ x, Xv)  # ∇ tr(XᵀSX) = (S + Sᵀ)X
    np.testing.assert_allclose(mc.evaluate(H, {X: Xv, S: Sv}), gradient_differences, atol=1e-8)


def test_hessian_of_log_det():
    """d log det X = tr(X⁻¹dX), so d² log det X = −tr(X⁻¹ dX X⁻¹ dX) = −vec(dXᵀ)ᵀ(X⁻ᵀ ⊗ X⁻¹) vec dX
    (tr(ABCD) = vec(Dᵀ)ᵀ(Cᵀ ⊗ A) vec B, Magnus & Neudecker ch. 2, Theorem 3) = −vec(dX)ᵀ K(X⁻ᵀ ⊗ X⁻¹) vec dX:
    H = −K(X⁻ᵀ ⊗ X⁻¹), symmetric since K(P ⊗ Q) = (Q ⊗ P)K; matcalc writes it −(X⁻¹ ⊗ X⁻ᵀ)K."""
    H = mc.hessian(mc.logdet(Xs), Xs)
    assert H.view("kronecker") == "d² log det(X) = −vec(dX)ᵀ (X⁻¹ ⊗ X⁻ᵀ) K vec(dX)"
    assert H.view("index") == "∂²log det(X)/∂X_ij∂X_kl = −(X⁻ᵀ)_il (X⁻ᵀ)_kj"
    inverse = np.linalg.inv(Xsv)
    expected = -commutation(p, p) @ np.kron(inverse.T, inverse)
    value = mc.evaluate(H, {Xs: Xsv})
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(value, finite_difference_jacobian(lambda x: np.linalg.inv(x).T, Xsv), atol=1e-7)


def test_hessian_of_a_squared_norm_of_a_product():
    """∇‖AXB‖² = 2Aᵀ(AXB)Bᵀ, whose Jacobian is 2(BBᵀ ⊗ AᵀA)."""
    H = mc.hessian(mc.norm(A @ X @ B) ** 2, X)
    value = mc.evaluate(H, {A: Av, X: Xv, B: Bv})
    np.testing.assert_allclose(value, finite_difference_jacobian(lambda x: 2 * Av.T @ Av @ x @ Bv @ Bv.T, Xv), atol=1e-6)
    np.testing.assert_allclose(value, 2 * np.kron(Bv @ Bv.T, Av.T @ Av), rtol=1e-12)


def test_hvp_is_unchanged_and_agrees_with_the_hessian():
    loss = mc.sum(mc.tanh(A @ X @ B))
    V = mc.matrix("V", p, q)
    Vv = rng.normal(size=(p, q))
    values = {A: Av, X: Xv, B: Bv, V: Vv}
    applied = mc.evaluate(mc.hvp(loss, X, V), values)
    np.testing.assert_allclose(vec(applied), mc.evaluate(mc.hessian(loss, X), values) @ vec(Vv), rtol=1e-10, atol=1e-12)


# --- checks --------------------------------------------------------------------------------------------


def test_check_jacobian_passes_correct_forms_and_catches_a_wrong_one():
    assert mc.check_jacobian(A @ X @ B, X).ok
    assert mc.check_jacobian(mc.softmax(X), X).ok
    assert mc.check_jacobian(A @ X @ B, X, jacobian=mc.kron(B.T, A)).ok
    wrong = mc.check_jacobian(A @ X @ B, X, jacobian=mc.kron(A, B.T))  # the Jacobian of row-major vec
    assert not wrong.ok
    assert "DISAGREES" in str(wrong)
    misshapen = mc.check_jacobian(A @ X @ B, X, jacobian=mc.kron(B, A))
    assert not misshapen.ok and misshapen.reports[0].oracle == "shapes"


def test_check_of_order_two_passes_matrix_hessians_and_catches_a_wrong_one():
    S = mc.matrix("S", p, p)
    assert mc.check(mc.trace(X.T @ S @ X), X, order=2).ok
    assert mc.check(mc.logdet(Xs), Xs, order=2).ok
    assert mc.check(mc.norm(A @ X @ B) ** 2, X, order=2).ok
    assert not mc.check(mc.trace(X.T @ S @ X), X, order=2, gradient=mc.kron(mc.eye(q), 2 * S)).ok
    assert mc.check(mc.trace(X.T @ S @ X), X, order=2, gradient=mc.kron(mc.eye(q), S + S.T)).ok


# --- bad input -----------------------------------------------------------------------------------------


def test_a_jacobian_too_large_to_write_out_is_refused_naming_the_shapes():
    (n,) = mc.dims("n")
    Xn = mc.matrix("X", n, n)
    size = int(np.ceil(DENSE_LIMIT ** 0.25)) + 1  # n⁴ entries, just over the limit
    with pytest.raises(mc.EvaluationError) as error:
        mc.evaluate(mc.jacobian(mc.inv(Xn), Xn), {Xn: np.eye(size)})
    message = str(error.value)
    assert f"({size}×{size})" in message and f"{size * size}×{size * size} matrix" in message
    assert "d(X⁻¹) = −X⁻¹ dX X⁻¹" in message and "mc.differential" in message
    assert "\n" not in message
    with pytest.raises(mc.EvaluationError, match="mc.hvp"):
        mc.evaluate(mc.hessian(mc.logdet(Xn), Xn), {Xn: np.eye(size)})


def test_symmetric_matrix_variables_are_refused_clearly():
    S = mc.matrix("S", p, p, symmetric=True)
    with pytest.raises(mc.DifferentiationError, match="symmetric matrix"):
        mc.jacobian(S @ S, S)
