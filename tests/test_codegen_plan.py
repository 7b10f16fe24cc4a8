"""The code generator's plan passes, each checked by value against NumPy written here.

Every generated function below is compared with the same computation written directly in
NumPy, called on copies of its inputs (which must come back unchanged), and called again with
``out=`` arrays.  A few tests also look at the plan itself, for properties no value shows: no
n×n diagonal is formed, no input is ever written over.
"""

from __future__ import annotations

import numpy as np
import pytest

import matcalc as mc
from matcalc.expr import make
from matcalc.numeric.emit_numpy import NumpyEmitter
from matcalc.numeric.passes import optimise
from matcalc.numeric.plan import Kind, lower
from matcalc.numeric.rewrites import prepare
from matcalc.ops import Add, DiagMat, MatMul

N = 4
X, Y, Z = mc.matrix("X", N, N), mc.matrix("Y", N, N), mc.matrix("Z", N, N)
u, v, w = mc.vector("u", N), mc.vector("v", N), mc.vector("w", N)
INPUTS = [X, Y, Z, u, v, w]


def point(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(N, N)) / 2 for _ in range(3)] + [rng.normal(size=(N, 1)) for _ in range(3)]


def assert_computes(outputs, expected, seed=0):
    """The generated function of ``outputs`` gives ``expected(*values)`` (a list of arrays or
    floats), leaves its inputs as they were, and writes the same values into ``out`` arrays."""
    f = mc.lambdify(INPUTS, outputs)
    values = point(seed)
    want = expected(*[value.copy() for value in values])
    given = [value.copy() for value in values]
    results = f(*given)
    for before, after in zip(values, given):
        np.testing.assert_array_equal(after, before)  # no input written over
    for result, value in zip(results, want):
        np.testing.assert_allclose(result, value, rtol=1e-12, atol=1e-12)
    buffers = tuple(None if np.ndim(value) == 0 else np.full(np.shape(value), np.nan) for value in want)
    again = f(*given, out=buffers)
    for result, buffer, value in zip(again, buffers, want):
        np.testing.assert_allclose(result, value, rtol=1e-12, atol=1e-12)
        assert buffer is None or result is buffer
    for before, after in zip(values, given):
        np.testing.assert_array_equal(after, before)
    return f


def plan_of(outputs):
    return optimise(lower(INPUTS, prepare(outputs), "f", True, False), NumpyEmitter)


# --- liveness and in-place work ------------------------------------------------------------


def test_shared_temporaries_views_and_three_term_sums():
    T = mc.tanh(X @ Y)  # shared by every output below
    S = make(Add, (T, T.T, X))  # a view of T read by the second statement of the sum
    R = make(Add, (mc.sigmoid(T), T * T, T.T))  # the third term reads T through a view, late
    Q = make(Add, (T @ u, -(Y @ u), T.T @ v))

    def numpy(X, Y, Z, u, v, w):
        T = np.tanh(X @ Y)
        return [T + T.T + X, 1 / (1 + np.exp(-T)) + T * T + T.T, T @ u - Y @ u + T.T @ v]

    assert_computes([S, R, Q], numpy)


def test_a_later_term_that_views_a_dying_operand_is_not_overwritten_first():
    A, B = mc.exp(X), mc.tanh(Y)  # both die in the sum; Bᵀ and Aᵀ are read by its later statements
    total = mc.tanh(make(Add, (B, A, B.T, -A.T)))

    def numpy(X, Y, Z, u, v, w):
        A, B = np.exp(X), np.tanh(Y)
        return [np.tanh(B + A + B.T - A.T)]

    assert_computes([total], numpy)


def test_a_view_keeps_its_base_alive():
    T = mc.tanh(X)  # Tᵀ is taken first; exp(T), the last direct read of T, must not overwrite it
    total = mc.sigmoid(make(Add, (T.T, mc.exp(T))))

    def numpy(X, Y, Z, u, v, w):
        T = np.tanh(X)
        return [1 / (1 + np.exp(-(T.T + np.exp(T))))]

    assert_computes([total], numpy)


def test_elementwise_chains_reuse_dying_buffers_and_never_inputs():
    chain = mc.sigmoid(mc.exp(mc.tanh(X @ Y) * 2 + 1) - Z)
    plan = plan_of([chain])
    for instruction in plan.computed():
        if instruction.reuses is not None:
            assert plan[instruction.reuses].kind is not Kind.INPUT and not plan[instruction.reuses].view
    assert any(instruction.reuses is not None for instruction in plan.computed())

    def numpy(X, Y, Z, u, v, w):
        return [1 / (1 + np.exp(-(np.exp(np.tanh(X @ Y) * 2 + 1) - Z)))]

    assert_computes([chain], numpy)


# --- negations, literals, diagonals, products ---------------------------------------------------


def test_negations_are_subtracted_and_formed_only_where_needed():
    P = X @ Y
    outputs = [make(Add, (-P, Z)), make(Add, (-P, -Z)), mc.tanh(-P), -Z]
    plan = plan_of(outputs)
    # −P for tanh and −Z as an output; the sums subtract P and Z instead
    assert len([i for i in plan.computed() if i.kind is Kind.NEGATE]) == 2

    def numpy(X, Y, Z, u, v, w):
        P = X @ Y
        return [Z - P, -P - Z, np.tanh(-P), -Z]

    assert_computes(outputs, numpy)


def test_numbers_and_ones_broadcast_or_become_arrays():
    ones = mc.ones(N)
    outputs = [X + 1, 2 * X - 3, mc.exp(mc.tanh(X) * 0 + 2), ones, ones - mc.tanh(u), mc.sum(ones) * u]

    def numpy(X, Y, Z, u, v, w):
        return [X + 1, 2 * X - 3, np.exp(np.tanh(X) * 0 + 2), np.ones((N, 1)), 1 - np.tanh(u), N * u]

    assert_computes(outputs, numpy)


@pytest.mark.parametrize(
    "build, numpy",
    [
        (lambda: mc.diag(u) @ X, lambda X, Y, u, v: u * X),
        (lambda: X @ mc.diag(u), lambda X, Y, u, v: X * u.T),
        (lambda: make(MatMul, (mc.diag(u), X, mc.diag(v), X.T)), lambda X, Y, u, v: (u * X * v.T) @ X.T),
        (lambda: make(MatMul, (X, mc.diag(u), mc.diag(v))), lambda X, Y, u, v: X * u.T * v.T),
        (lambda: mc.diag(u) @ mc.diag(v), lambda X, Y, u, v: np.diag((u * v).ravel())),
        (lambda: make(MatMul, (mc.diag(u), mc.diag(v), mc.diag(u))), lambda X, Y, u, v: np.diag((u * v * u).ravel())),
        (lambda: make(MatMul, (mc.diag(u), X, X, X)), lambda X, Y, u, v: u * (X @ X @ X)),
        (lambda: make(MatMul, (X.T, mc.diag(mc.tanh(u)), X)), lambda X, Y, u, v: X.T @ (np.tanh(u) * X)),
        (lambda: make(MatMul, (X, mc.diag(u), Y, mc.diag(v), X)), lambda X, Y, u, v: (X * u.T) @ (Y * v.T) @ X),
    ],
)
def test_products_with_diagonals_scale_rows_and_columns(build, numpy):
    product = build()
    assert not any(isinstance(i.node, DiagMat) for i in plan_of([product]).computed())  # no n×n diagonal
    assert_computes([product], lambda X, Y, Z, u, v, w: [numpy(X, Y, u, v)])


def test_a_diagonal_read_elsewhere_is_still_formed():
    D = mc.diag(u)
    assert_computes([D @ X, D + Y], lambda X, Y, Z, u, v, w: [u * X, np.diag(u.ravel()) + Y])


def test_outer_products_and_long_chains():
    outputs = [u @ v.T, make(MatMul, (X, Y, Z, u)), make(MatMul, (u.T, X, Y, v)), (X + Y) @ u, u.T @ (X - Z.T)]

    def numpy(X, Y, Z, u, v, w):
        return [np.outer(u, v), X @ Y @ Z @ u, (u.T @ X @ Y @ v).item(), (X + Y) @ u, u.T @ (X - Z.T)]

    f = assert_computes(outputs, numpy)
    assert "np.einsum('ik,kj->ij', u, v.T" in f.source and "np.linalg.multi_dot([X, Y, Z, u]" in f.source


# --- outputs ----------------------------------------------------------------------------------


def test_outputs_that_repeat_alias_or_view_inputs_are_delivered_apart():
    T = mc.tanh(X)
    outputs = [X, X.T, T, T, T.T, mc.sum(T)]

    def numpy(X, Y, Z, u, v, w):
        T = np.tanh(X)
        return [X, X.T, T, T, T.T, float(np.sum(T))]

    f = assert_computes(outputs, numpy)
    values = point(1)
    arrays = [a for a in f(*values) if isinstance(a, np.ndarray)]
    for i, first in enumerate(arrays):
        assert not any(np.shares_memory(first, other) for other in arrays[i + 1 :] + values)


def test_random_dags_match_numpy_and_never_write_their_inputs():
    # Each step builds a matcalc node and its NumPy value side by side, reusing earlier nodes, so
    # the DAG has shared temporaries, transposes of them, multi-term sums and negations.
    rng = np.random.default_rng(7)
    for trial in range(30):
        values = point(trial)
        pool = list(zip(INPUTS[:3], values[:3]))
        for _ in range(12):
            (a, av), (b, bv), (c, cv) = (pool[k] for k in rng.integers(len(pool), size=3))
            choice = rng.integers(8)
            if choice == 0:
                node, value = make(Add, (a, b, c.T, a.T)), av + bv + cv.T + av.T
            elif choice == 1:
                node, value = make(Add, (a, -b.T, c)), av - bv.T + cv
            elif choice == 2:
                node, value = mc.tanh(a @ b), np.tanh(av @ bv)
            elif choice == 3:
                node, value = make(Add, (a.T, mc.exp(a) * b)), av.T + np.exp(av) * bv
            elif choice == 4:
                node, value = mc.sigmoid(a) - b, 1 / (1 + np.exp(-av)) - bv
            elif choice == 5:
                node, value = 0.5 * a + 1, 0.5 * av + 1
            elif choice == 6:
                node, value = mc.diag(mc.tanh(a @ u)) @ b, np.tanh(av @ values[3]) * bv
            else:
                node, value = make(MatMul, (a, b, c)) / 4, av @ bv @ cv / 4
            pool.append((node, value))
        chosen = [pool[k] for k in rng.choice(len(pool), size=3, replace=False)]
        f = mc.lambdify(INPUTS, [node for node, _ in chosen])
        given = [value.copy() for value in values]
        for result, (_, value) in zip(f(*given), chosen):
            np.testing.assert_allclose(result, value, rtol=1e-10, atol=1e-10)
        for before, after in zip(values, given):
            np.testing.assert_array_equal(after, before)


def test_an_input_no_output_reads_is_still_checked():
    n, m = mc.dims("n m")
    W, a = mc.matrix("W", n, m), mc.vector("a", m)
    f = mc.lambdify([W, a], mc.sum(a))
    assert f(np.ones((3, 2)), [1.0, 2.0]) == 3.0
    with pytest.raises(mc.EvaluationError, match="a: expected shape"):
        f(np.ones((3, 2)), [1.0, 2.0, 3.0])
