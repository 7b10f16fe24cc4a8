"""Bad input gets a clear MatcalcError that says what was wrong and where."""

from __future__ import annotations

import numpy as np
import pytest

import matcalc as mc

W = mc.matrix("W", 3, 4)
a = mc.vector("a", 4)
b = mc.vector("b", 3)


def test_matmul_shape_error_names_operation_and_shapes():
    with pytest.raises(mc.ShapeError, match=r"matmul: \(3×4\) @ \(3×1\): inner dimensions 4 and 3 differ"):
        W @ b


def test_add_shape_error():
    with pytest.raises(mc.ShapeError, match=r"add: \(3×4\) \+ \(4×1\)"):
        W + a


def test_hadamard_shape_error():
    with pytest.raises(mc.ShapeError, match=r"hadamard: \(3×1\) \* \(4×1\)"):
        b * a


def test_symbolic_dims_mismatch():
    n, m = mc.dims("n m")
    with pytest.raises(mc.ShapeError, match=r"inner dimensions m and n differ"):
        mc.matrix("A", n, m) @ mc.vector("x", n)


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: mc.trace(W), "trace: needs a square matrix, got 3×4"),
        (lambda: mc.det(W), "det: needs a square matrix"),
        (lambda: mc.inv(W), "inv: needs a square matrix"),
        (lambda: W ** a, "exponent must be a scalar"),
        (lambda: mc.dot(a, b), r"dot: \(4×1\) · \(3×1\): lengths differ"),
        (lambda: mc.matrix("S", 3, 4, symmetric=True), "symmetric matrix must be square"),
    ],
)
def test_operation_shape_errors(build, message):
    with pytest.raises(mc.ShapeError, match=message):
        build()


def test_grad_of_non_scalar():
    with pytest.raises(mc.DifferentiationError, match="loss has shape 3×1; a gradient needs a scalar loss; see jacobian"):
        mc.grad(W @ a, a)


def test_grad_wrt_non_symbol():
    with pytest.raises(mc.DifferentiationError, match="with respect to a variable"):
        mc.grad(mc.sum(W @ a), W @ a)


def test_grad_wrt_nothing():
    with pytest.raises(mc.DifferentiationError):
        mc.grad(mc.sum(W @ a), [])


def test_evaluate_missing_value_names_it():
    with pytest.raises(mc.EvaluationError, match="no value for vector 'a'"):
        mc.evaluate(W @ a, {W: np.ones((3, 4))})


def test_evaluate_wrong_shape_names_symbol_and_shapes():
    with pytest.raises(mc.EvaluationError, match=r"'W' expects shape 3×4, given an array of shape \(4, 3\)"):
        mc.evaluate(W @ a, {W: np.ones((4, 3)), a: np.ones(4)})


def test_evaluate_inconsistent_symbolic_sizes():
    n, m = mc.dims("n m")
    A, x = mc.matrix("A", n, m), mc.vector("x", m)
    with pytest.raises(mc.EvaluationError, match=r"'x' expects shape m×1 \(m = 4\), given an array of shape \(5, 1\)"):
        mc.evaluate(A @ x, {A: np.ones((3, 4)), x: np.ones(5)})


def test_evaluate_non_finite_value():
    with pytest.raises(mc.EvaluationError, match="not finite"):
        mc.evaluate(mc.sum(a), {a: [1.0, np.nan, 0.0, 1.0]})


def test_non_finite_constant():
    with pytest.raises(mc.MatcalcError, match="not a finite number"):
        W * float("inf")


def test_non_numeric_operand():
    with pytest.raises(mc.OperandError, match="cannot combine a matrix expression with str"):
        W + "x"


def test_an_axis_is_0_or_1():
    with pytest.raises(mc.OperandError, match="axis must be 0"):
        mc.softmax(W, axis=2)


def test_division_by_zero_constant():
    with pytest.raises(mc.OperandError, match="division by the constant 0"):
        a / 0


def test_bad_dimension():
    with pytest.raises(mc.ShapeError, match="not a positive integer"):
        mc.matrix("A", 0, 3)
    with pytest.raises(mc.OperandError):
        mc.vector("x", "n")


def test_bad_names():
    with pytest.raises(mc.OperandError):
        mc.matrix("", 2, 2)
    with pytest.raises(mc.OperandError):
        mc.dims("1n")


def test_expression_has_no_truth_value():
    with pytest.raises(mc.OperandError):
        bool(a)


def test_all_errors_share_the_base():
    for error in (mc.ShapeError, mc.ParseError, mc.DifferentiationError, mc.EvaluationError, mc.OperandError):
        assert issubclass(error, mc.MatcalcError)
