"""Every operation's pullback against central finite differences, from one table."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import matcalc as mc
from matcalc import ops
from matcalc.expr import Expr, Let, make
from tests.helpers import assert_gradient_correct, random_values

N, M, P = 3, 4, 2
X = mc.matrix("X", N, M)
Y = mc.matrix("Y", N, M)
C = mc.matrix("C", N, M)
Q = mc.matrix("Q", N, N)
R = mc.matrix("R", M, N)
S = mc.matrix("S", N, N, symmetric=True)
u = mc.vector("u", N)
v = mc.vector("v", N)
w = mc.vector("w", M)
s = mc.scalar("s")
g12 = mc.vector("g", N * M)
_t = sympy.Symbol("t")
cube_plus = mc.elementwise("cube_plus", sympy.Lambda(_t, _t**3 + sympy.sin(_t)))


def _kron_case():
    A, B = mc.matrix("A", 2, 3), mc.matrix("B", 3, 2)
    K = mc.matrix("K", 6, 6)
    return mc.frob(K, mc.kron(A, B)), [A, B]


def _kron_contract_case():
    G, B = mc.matrix("G", 6, 6), mc.matrix("B", 3, 2)
    K = mc.matrix("K", 2, 3)
    return mc.frob(K, make(ops.KronContract, (G, B), (0,))) + mc.sum(make(ops.KronContract, (G, mc.matrix("F", 2, 3)), (1,)) * mc.matrix("L", 3, 2)), [G, B]


# (the operation the row covers, loss, variables, options)
CASES = [
    (ops.Add, mc.frob(C, X + Y - 2 * X), [X, Y], {}),
    (ops.Transpose, mc.frob(R, X.T), [X], {}),
    (ops.Trace, mc.trace(Q @ Q), [Q], {}),
    (ops.Sum, mc.sum(C * X * X), [X], {}),
    (ops.DiagMat, mc.frob(Q, mc.diag(u)), [u], {}),
    (ops.DiagVec, v.T @ mc.diag(Q @ Q), [Q], {}),
    (ops.MatMul, mc.frob(C, Q @ X @ R @ X), [Q, X, R], {}),
    (ops.Scale, mc.frob(C, s * X) + s * s * mc.sum(X), [s, X], {}),
    (ops.Hadamard, mc.frob(C, X * Y * X), [X, Y], {}),
    (ops.Frob, mc.frob(X, Y @ R @ X), [X, Y, R], {}),
    (ops.Kron, *_kron_case(), {}),
    (ops.Vec, mc.sum(make(ops.Vec, (X,)) * make(ops.Vec, (Y * X,))), [X, Y], {}),
    (ops.Unvec, mc.frob(C, make(ops.Unvec, (g12,), (N, M)) * X), [g12, X], {}),
    (ops.KronContract, *_kron_contract_case(), {}),
    (ops.Power, mc.frob(C, X**3) + mc.sum(X**-1) + mc.sum(X**0.5), [X], {"positive": True}),
    (ops.PowerOf, mc.frob(C, X**s) + mc.sum(u ** (s * s)), [X, s, u], {"positive": True}),
    (ops.Inverse, mc.frob(Q, mc.inv(Q @ Q.T + mc.eye(N))), [Q], {}),
    (ops.Det, mc.det(Q), [Q], {}),
    (ops.LogDet, mc.logdet(Q @ Q.T), [Q], {}),
    (ops.Norm, mc.norm(X) + mc.norm(u) ** 3, [X, u], {}),
    (ops.Softmax, v.T @ mc.softmax(Q @ u), [Q, u], {}),
    (ops.LogSumExp, mc.logsumexp(Q @ u), [Q, u], {}),
    (Let, mc.sum(mc.let("h", X @ R) ** 2), [X, R], {}),
    (ops.Elementwise, mc.frob(C, mc.exp(X) + mc.sin(X) + mc.cos(X) + mc.tan(X / 4) + mc.tanh(X)), [X], {}),
    (ops.Elementwise, mc.frob(C, mc.sigmoid(X) + mc.softplus(X) + mc.relu(X) + mc.abs(X) + mc.sign(X) + mc.logsigmoid(X)), [X], {}),
    (ops.Elementwise, mc.frob(C, mc.log(X) + mc.sqrt(X) + cube_plus(X)), [X], {"positive": True}),
]


def _case_id(case):
    return case[0].__name__


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_pullback_matches_finite_differences(case):
    _, loss, variables, options = case
    values = random_values([loss], seed=1, positive=options.get("positive", False))
    assert_gradient_correct(loss, variables, values)


def test_every_operation_has_a_row():
    def subclasses(cls):
        stack, found = [cls], set()
        while stack:
            for sub in stack.pop().__subclasses__():
                if sub not in found:
                    found.add(sub)
                    stack.append(sub)
        return found

    operations = {c for c in subclasses(Expr) if c.family not in ("leaf", "display") and "name" in vars(c)}
    covered = {case[0] for case in CASES}
    assert operations - covered == set()


def test_symmetric_variable_gets_the_symmetric_gradient():
    loss = u.T @ S @ v + mc.trace(S @ Q @ S)
    values = random_values([loss], seed=2)
    assert_gradient_correct(loss, [S], values)
    gradient = mc.evaluate(mc.grad(loss, S), values)
    np.testing.assert_allclose(gradient, gradient.T)


def test_variable_used_many_times_gets_total_derivative():
    W = mc.let("W", X @ X.T)
    loss = mc.norm(W @ X) + mc.sum(mc.tanh(X)) * mc.trace(W)
    values = random_values([loss], seed=3)
    assert_gradient_correct(loss, [X], values)


def test_gradient_of_unused_variable_is_zero():
    assert str(mc.grad(mc.sum(X), Y)) == "0"
    assert mc.evaluate(mc.grad(mc.sum(X), Y), {X: np.ones((N, M)), Y: np.ones((N, M))}).shape == (N, M)


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_differential_matches_finite_differences(case):
    _, loss, variables, options = case
    values = random_values([loss], seed=5, positive=options.get("positive", False))
    rng = np.random.default_rng(6)
    for variable in variables:
        shape = np.shape(values[variable])
        direction_value = rng.normal(size=shape)
        if variable.is_symmetric and not variable.is_scalar:
            direction_value = (direction_value + direction_value.T) / 2
        direction = mc.matrix("V_dir", *variable.shape, symmetric=variable.is_symmetric and not variable.is_scalar)
        directional = mc.differential(loss, variable, direction)
        point = {**values, direction: direction_value}
        step = 1e-6
        plus, minus = dict(values), dict(values)
        plus[variable] = values[variable] + step * direction_value
        minus[variable] = values[variable] - step * direction_value
        expected = (mc.evaluate(loss, plus) - mc.evaluate(loss, minus)) / (2 * step)
        assert mc.evaluate(directional, point) == pytest.approx(expected, rel=1e-5, abs=1e-6)
