"""Independent numeric oracles for the tests: central finite differences of the loss."""

from __future__ import annotations

import numpy as np

import matcalc as mc
from matcalc.numeric.evaluate import symbols_of
from matcalc.shapes import resolve_dim


def random_values(exprs, sizes=None, seed=0, positive=False, spd=()):
    """Random values for every variable in ``exprs``: symmetric ones symmetric, ``spd`` ones
    symmetric positive definite, all entries positive when ``positive``."""
    rng = np.random.default_rng(seed)
    sizes = sizes or {}
    values = {}
    for symbol in symbols_of(list(exprs)):
        shape = tuple(resolve_dim(d, sizes) for d in symbol.shape)
        if symbol in spd:
            a = rng.normal(size=shape)
            value = a @ a.T + shape[0] * np.eye(shape[0])
        elif positive:
            value = rng.uniform(0.5, 2.0, size=shape)
        else:
            value = rng.normal(size=shape)
        if symbol.is_symmetric and not symbol.is_scalar:
            value = (value + value.T) / 2
        if symbol.columns_sum_to_one:  # positive columns that sum to one, as probabilities do
            value = np.abs(value) + 0.1
            value = value / value.sum(axis=0, keepdims=True)
        values[symbol] = value
    return values


def finite_difference_gradient(loss, variable, values, step=1e-6):
    """∂loss/∂variable entry by entry, by central differences of the evaluated loss.

    For a symmetric variable, entries (i, j) and (j, i) move together and the result is
    the gradient within symmetric matrices (off-diagonal derivative halved on each side).
    """
    base = np.array(values[variable], dtype=float).reshape(variable.shape if all(isinstance(d, int) for d in variable.shape) else np.shape(values[variable]))
    grad = np.zeros_like(base)
    symmetric = variable.is_symmetric and not variable.is_scalar
    for index in np.ndindex(base.shape):
        direction = np.zeros_like(base)
        direction[index] = 1.0
        if symmetric and index[0] != index[1]:
            direction[index[::-1]] = 1.0
        plus = dict(values)
        minus = dict(values)
        plus[variable] = base + step * direction
        minus[variable] = base - step * direction
        derivative = (mc.evaluate(loss, plus) - mc.evaluate(loss, minus)) / (2 * step)
        grad[index] = derivative / 2 if symmetric and index[0] != index[1] else derivative
    return grad


def assert_gradient_correct(loss, variables, values, rtol=1e-5, atol=1e-6):
    gradients = mc.grad(loss, list(variables))
    mc.latex(loss)  # recorded: the final test renders every LaTeX string with KaTeX
    for variable, gradient in zip(variables, gradients):
        mc.latex(gradient)
        expected = finite_difference_gradient(loss, variable, values)
        actual = mc.evaluate(gradient, values)
        actual = np.asarray(actual, dtype=float).reshape(expected.shape)
        np.testing.assert_allclose(
            actual, expected, rtol=rtol, atol=atol,
            err_msg=f"gradient wrt {variable.label}: {gradient}",
        )
