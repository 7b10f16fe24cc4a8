"""Every rewrite rule: it fires on an example, keeps the value, and gives the form shown."""

from __future__ import annotations

import numpy as np
import pytest

import matcalc as mc
from matcalc.expr import Const, make
from matcalc.ops import (
    Add,
    Commutation,
    DiagMat,
    DiagVec,
    Frob,
    Hadamard,
    Inverse,
    Kron,
    MatMul,
    Power,
    Scale,
    Trace,
    Transpose,
    Vec,
)
from matcalc.ops.elementwise import FUNCTIONS
from matcalc.simplify import all_rules, simplify
from tests.helpers import random_values

A, B = mc.matrix("A", 3, 3), mc.matrix("B", 3, 3)
X = mc.matrix("X", 3, 4)
S = mc.matrix("S", 3, 3, symmetric=True)
x, y, v = mc.vector("x", 3), mc.vector("y", 3), mc.vector("v", 3)
s, r = mc.scalar("s"), mc.scalar("r")
I3 = mc.eye(3)
zero33 = mc.zeros(3, 3)


def T(e):
    return make(Transpose, (e,))


def mm(*factors):
    return make(MatMul, tuple(factors))


def sc(c, e):
    return make(Scale, (c if not isinstance(c, (int, float)) else mc.expr.const(c), e))


# rule name -> (expression the rule rewrites, text of the rewritten expression)
EXAMPLES = {
    "double_transpose": (T(T(A)), "A"),
    "transpose_of_symmetric": (T(S), "S"),
    "transpose_of_product": (T(mm(A, B, x)), "xᵀBᵀAᵀ"),
    "transpose_of_sum": (T(A + B), "Aᵀ + Bᵀ"),
    "transpose_of_scale": (T(sc(s, A)), "sAᵀ"),
    "transpose_of_hadamard": (T(make(Hadamard, (A, B))), "Aᵀ ⊙ Bᵀ"),
    "transpose_of_entrywise_of_transpose": (T(mc.tanh(T(X))), "tanh(X)"),
    "transpose_of_constant": (T(mc.ones(3, 4)), "𝟏𝟏ᵀ"),
    "flatten_product": (mm(mm(A, B), x), "ABx"),
    "product_with_identity": (mm(A, I3, B), "AB"),
    "product_with_zero": (mm(A, zero33, B), "0"),
    "scalar_out_of_product": (mm(A, sc(s, B)), "sAB"),
    "diagonal_product": (mm(A, mc.diag(v), x), "A(v ⊙ x)"),
    "ones_products": (mm(mc.ones(1, 3), mc.matrix("P", 3, 4, columns_sum_to_one=True)), "𝟏ᵀ"),
    "inverse_cancellation": (mm(A, mc.inv(B), B), "A"),
    "dot_with_hadamard": (mm(T(v), make(Hadamard, (x, make(Power, (v,), (-1,))))), "sum(x)"),
    "scale_by_one": (sc(1, A), "A"),
    "scale_by_zero": (sc(0, A), "0"),
    "fold_constant_product": (sc(2, mc.expr.const(3)), "6"),
    "merge_scales": (sc(2, sc(3, A)), "6A"),
    "combine_scalar_powers": (sc(s, sc(r, make(Power, (s,), (-1,)))), "r"),
    "flatten_sum": (make(Add, (make(Add, (A, B)), A.T)), "A + B + Aᵀ"),
    "sum_without_zeros": (make(Add, (A, zero33)), "A"),
    "collect_like_terms": (make(Add, (A, sc(2, A), B)), "3A + B"),
    "factor_common_scalar": (make(Add, (sc(s, A), sc(s, B))), "s(A + B)"),
    "factor_common_number": (make(Add, (sc(2, A), sc(2, B))), "2(A + B)"),
    "factor_common_factor": (make(Add, (mm(A, x), mm(B, x))), "(A + B)x"),
    "factor_common_hadamard": (make(Add, (make(Hadamard, (x, y)), make(Hadamard, (x, v)))), "x ⊙ (y + v)"),
    "positive_term_first": (make(Add, (sc(-1, x), y)), "y − x"),
    "order_transpose_pairs": (make(Add, (A.T, A)), "A + Aᵀ"),
    "hadamard_with_zero": (make(Hadamard, (A, zero33)), "0"),
    "hadamard_with_ones": (make(Hadamard, (A, mc.ones(3, 3))), "A"),
    "scalar_out_of_hadamard": (make(Hadamard, (sc(2, A), B)), "2(A ⊙ B)"),
    "hadamard_powers": (make(Hadamard, (make(Hadamard, (A, B)), make(Power, (A,), (2,)))), "A^∘3 ⊙ B"),
    "trivial_power": (make(Power, (A,), (1,)), "A"),
    "power_of_power": (make(Power, (make(Power, (x,), (3,)),), (2,)), "x⁶"),
    "power_of_number_factor": (make(Power, (sc(-2, x),), (2,)), "4x²"),
    "trace_of_simple": (make(Trace, (I3,)), "3"),
    "trace_of_scale": (make(Trace, (sc(s, A),)), "s tr(A)"),
    "sum_of_simple": (mc.sum(sc(s, A)), "s sum(A)"),
    "frob_of_simple": (make(Frob, (mc.ones(3, 3), A)), "sum(A)"),
    "diag_of_diag": (make(DiagVec, (make(DiagMat, (v,)),)), "v"),
    "inverse_of_simple": (make(Inverse, (make(Inverse, (A,)),)), "A"),
    "kron_with_zero": (make(Kron, (A, zero33)), "0"),
    "transpose_of_kron": (T(make(Kron, (A, X))), "Aᵀ ⊗ Xᵀ"),
    "kron_with_scalar": (make(Kron, (X, s)), "sX"),
    "kron_of_identities": (make(Kron, (I3, mc.eye(4))), "I"),
    "vec_of_column": (make(Vec, (T(x),)), "x"),
    "commutation_of_a_vector": (make(Commutation, (), (3, 1)), "I"),
    # issue 15's textbook forms
    "inverse_of_product_beside_factor": (mm(A, mc.inv(mm(B, A))), "B⁻¹"),
    "sign_and_absolute_value": (sc(r, sc(mc.sign(s), sc(s, make(Power, (mc.abs(s),), (-1,))))), "r"),
    "det_of_product": (mc.det(mm(A, A, A)), "det(A)³"),
    "norm_of_scalar": (mc.norm(mm(T(x), x)), "xᵀx"),
    "kron_adjoint_of_identity": (make(mc.ops.KronContract, (mc.eye(9), A), (1,)), "tr(A)I"),
    # the binary cross-entropy's gradient in σ(x), as the quotient rule leaves it
    "cancel_quotients": (
        make(Hadamard, ((1 - y) * (1 - mc.sigmoid(x)) ** -1 - y * mc.sigmoid(x) ** -1,
                        FUNCTIONS["sigmoid"].derivative_of(x, mc.sigmoid(x)))),
        "σ(x) − y",
    ),
}


def test_every_rule_has_an_example():
    assert {r.name for r in all_rules()} == set(EXAMPLES)


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.name)
def test_rule_fires_and_keeps_the_value(rule):
    before, expected_text = EXAMPLES[rule.name]
    after = rule.apply(before)
    assert after is not None, f"{rule.name} did not fire on {before}"
    assert after.shape == before.shape
    assert str(after).replace(" ", "") == expected_text.replace(" ", "")
    values = random_values([before, after, mc.vector("v", 3)], seed=4, positive=True, spd=(A, B))
    np.testing.assert_allclose(
        np.asarray(mc.evaluate(after, values)) * np.ones(before.shape if isinstance(before.shape[0], int) else (1, 1)),
        np.asarray(mc.evaluate(before, values)) * np.ones(before.shape),
        rtol=1e-10, atol=1e-12,
    )


@pytest.mark.parametrize(
    "before, expected_text",
    [(T(make(Power, (T(X),), (-1,))), "X^∘-1"), (sc(s, mc.eye(1)), "s"), (sc(mc.ones(1, 1), A), "A"),
     (mc.sum(X.T), "sum(X)")],
    ids=["reciprocal of a transpose, transposed", "a scalar times a 1×1 I", "a 1×1 𝟏 times A", "sum of a transpose"],
)
def test_second_forms_of_rules_keep_the_value(before, expected_text):
    after = simplify(before)
    assert str(after) == expected_text
    values = random_values([before, after], seed=5, positive=True)
    np.testing.assert_allclose(mc.evaluate(after, values), mc.evaluate(before, values), rtol=1e-12)


def test_rules_reach_a_fixed_point():
    once = simplify(make(Add, (A.T, A, sc(2, mm(A, I3)))))
    assert simplify(once) is once
    assert str(once) == "3A + Aᵀ"


def test_trace_of_identity_with_symbolic_size_is_the_dimension():
    (n,) = mc.dims("n")
    assert str(simplify(mc.trace(mc.eye(n)))) == "n"
    assert mc.evaluate(simplify(mc.trace(mc.eye(n))), {n: 5}) == 5.0


def test_rule_leaves_let_bodies_alone():
    z = mc.let("z", T(T(A)))
    assert simplify(z) is z
    assert isinstance(simplify(z).body, Transpose)


def test_constant_is_not_rewritten():
    c = Const
    assert simplify(mc.expr.const(2)) is make(c, (), (2,))


def test_competing_order_rules_terminate():
    assert str(simplify(make(Add, (sc(-1, A), A.T)))) == "Aᵀ − A"
    assert str(simplify(make(Add, (A.T, sc(-1, A))))) == "Aᵀ − A"


def test_transposed_difference_simplifies_without_looping():
    # seed 9374 of benchmarks/fuzz.py once looped forever on this shape of expression
    e = make(Hadamard, (mc.matrix("C", 3, 3), make(Add, (sc(-1, A), A.T)).T))
    assert str(simplify(e)) == "C ⊙ (A − Aᵀ)"
