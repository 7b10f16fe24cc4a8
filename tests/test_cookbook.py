"""The Matrix Cookbook's chapter 2 (Petersen & Pedersen, version of November 15, 2012) as a table:
each identity's gradient is checked against central finite differences of the loss computed in
NumPy here, and its printed form (with any "where" block) is at most 1.3 times as long as the
textbook's (spaces removed).  Equation numbers are the Cookbook's.

The Cookbook's derivatives for structured (symmetric) matrices, (138)–(141), use a convention
matcalc does not (see the README), and its entrywise forms ((60), (73)–(76), (90)) are not
gradients; they are left out.  Where the Cookbook states a family, a member is taken: (58) and
(121) with k = 2, 3, (91) with n = 2, 3, (92) with n = 1.
"""

from __future__ import annotations

import statistics

import numpy as np
import pytest

import matcalc as mc

RATIO = 1.3
N, M = 3, 2  # X is N×N, or N×M where the identity needs it not square
X, Xr = mc.matrix("X", N, N), mc.matrix("X", N, M)
A, B, C, D = (mc.matrix(name, N, N) for name in "ABCD")
As, Bs, Cs, W = (mc.matrix(name, N, N, symmetric=True) for name in "ABCW")
Am, Ams = mc.matrix("A", M, M), mc.matrix("A", M, M, symmetric=True)
a, b, c, d = (mc.vector(name, N) for name in "abcd")
x, s = mc.vector("x", N), mc.vector("s", N)
inv, det, tr = mc.inv, mc.det, mc.trace
L = np.linalg

# (equation, the loss, the variable, the textbook's gradient, the loss in NumPy of a dict by name)
ROWS = [
 ("49", lambda: det(X), X, "det(X)X⁻ᵀ", lambda v: L.det(v["X"])),
 ("51", lambda: det(A @ X @ B), X, "det(AXB)X⁻ᵀ", lambda v: L.det(v["A"] @ v["X"] @ v["B"])),
 ("52", lambda: det(X.T @ A @ X), X, "2det(XᵀAX)X⁻ᵀ", lambda v: L.det(v["X"].T @ v["A"] @ v["X"])),
 ("53", lambda: det(Xr.T @ As @ Xr), Xr, "2det(XᵀAX)AX(XᵀAX)⁻¹", lambda v: L.det(v["X"].T @ v["A"] @ v["X"])),
 ("54", lambda: det(Xr.T @ A @ Xr), Xr, "det(XᵀAX)(AX(XᵀAX)⁻¹ + AᵀX(XᵀAᵀX)⁻¹)", lambda v: L.det(v["X"].T @ v["A"] @ v["X"])),
 ("55", lambda: mc.logdet(Xr.T @ Xr), Xr, "2X(XᵀX)⁻¹", lambda v: np.log(L.det(v["X"].T @ v["X"]))),
 ("57", lambda: mc.log(mc.abs(det(X))), X, "X⁻ᵀ", lambda v: np.log(abs(L.det(v["X"])))),
 ("58, k = 2", lambda: det(X @ X), X, "2det(X)²X⁻ᵀ", lambda v: L.det(v["X"] @ v["X"])),
 ("58, k = 3", lambda: det(X @ X @ X), X, "3det(X)³X⁻ᵀ", lambda v: L.det(v["X"] @ v["X"] @ v["X"])),
 ("61", lambda: a.T @ inv(X) @ b, X, "−X⁻ᵀabᵀX⁻ᵀ", lambda v: v["a"].T @ L.inv(v["X"]) @ v["b"]),
 ("62", lambda: det(inv(X)), X, "−det(X⁻¹)X⁻ᵀ", lambda v: L.det(L.inv(v["X"]))),
 ("63", lambda: tr(A @ inv(X) @ B), X, "−X⁻ᵀAᵀBᵀX⁻ᵀ", lambda v: np.trace(v["A"] @ L.inv(v["X"]) @ v["B"])),
 ("64", lambda: tr(inv(X + A)), X, "−((X + A)⁻¹(X + A)⁻¹)ᵀ", lambda v: np.trace(L.inv(v["X"] + v["A"]))),
 ("67", lambda: tr(X), X, "I", lambda v: np.trace(v["X"])),
 ("68", lambda: det(X), X, "det(X)X⁻ᵀ", lambda v: L.det(v["X"])),
 ("69, xᵀa", lambda: x.T @ a, x, "a", lambda v: v["x"].T @ v["a"]),
 ("69, aᵀx", lambda: a.T @ x, x, "a", lambda v: v["a"].T @ v["x"]),
 ("70", lambda: a.T @ X @ b, X, "abᵀ", lambda v: v["a"].T @ v["X"] @ v["b"]),
 ("71", lambda: a.T @ X.T @ b, X, "baᵀ", lambda v: v["a"].T @ v["X"].T @ v["b"]),
 ("72, aᵀXa", lambda: a.T @ X @ a, X, "aaᵀ", lambda v: v["a"].T @ v["X"] @ v["a"]),
 ("72, aᵀXᵀa", lambda: a.T @ X.T @ a, X, "aaᵀ", lambda v: v["a"].T @ v["X"].T @ v["a"]),
 ("77", lambda: b.T @ X.T @ X @ c, X, "X(bcᵀ + cbᵀ)", lambda v: v["b"].T @ v["X"].T @ v["X"] @ v["c"]),
 ("78", lambda: (B @ x + b).T @ C @ (D @ x + d), x, "BᵀC(Dx + d) + DᵀCᵀ(Bx + b)", lambda v: (v["B"] @ v["x"] + v["b"]).T @ v["C"] @ (v["D"] @ v["x"] + v["d"])),
 ("81", lambda: x.T @ B @ x, x, "(B + Bᵀ)x", lambda v: v["x"].T @ v["B"] @ v["x"]),
 ("82", lambda: b.T @ X.T @ D @ X @ c, X, "DᵀXbcᵀ + DXcbᵀ", lambda v: v["b"].T @ v["X"].T @ v["D"] @ v["X"] @ v["c"]),
 ("83", lambda: (X @ b + c).T @ D @ (X @ b + c), X, "(D + Dᵀ)(Xb + c)bᵀ", lambda v: (v["X"] @ v["b"] + v["c"]).T @ v["D"] @ (v["X"] @ v["b"] + v["c"])),
 ("84", lambda: (x - A @ s).T @ W @ (x - A @ s), s, "−2AᵀW(x − As)", lambda v: (v["x"] - v["A"] @ v["s"]).T @ v["W"] @ (v["x"] - v["A"] @ v["s"])),
 ("85", lambda: (x - s).T @ W @ (x - s), x, "2W(x − s)", lambda v: (v["x"] - v["s"]).T @ v["W"] @ (v["x"] - v["s"])),
 ("86", lambda: (x - s).T @ W @ (x - s), s, "−2W(x − s)", lambda v: (v["x"] - v["s"]).T @ v["W"] @ (v["x"] - v["s"])),
 ("87", lambda: (x - A @ s).T @ W @ (x - A @ s), x, "2W(x − As)", lambda v: (v["x"] - v["A"] @ v["s"]).T @ v["W"] @ (v["x"] - v["A"] @ v["s"])),
 ("88", lambda: (x - A @ s).T @ W @ (x - A @ s), A, "−2W(x − As)sᵀ", lambda v: (v["x"] - v["A"] @ v["s"]).T @ v["W"] @ (v["x"] - v["A"] @ v["s"])),
 ("91, n = 2", lambda: a.T @ X @ X @ b, X, "abᵀXᵀ + Xᵀabᵀ", lambda v: v["a"].T @ v["X"] @ v["X"] @ v["b"]),
 ("91, n = 3", lambda: a.T @ X @ X @ X @ b, X, "abᵀXᵀXᵀ + XᵀabᵀXᵀ + XᵀXᵀabᵀ", lambda v: v["a"].T @ v["X"] @ v["X"] @ v["X"] @ v["b"]),
 ("92, n = 1", lambda: a.T @ X.T @ X @ b, X, "X(abᵀ + baᵀ)", lambda v: v["a"].T @ v["X"].T @ v["X"] @ v["b"]),
 ("94", lambda: (x.T @ A.T @ A @ x) / (x.T @ B.T @ B @ x), x, "2AᵀAx/(xᵀBᵀBx) − 2xᵀAᵀAxBᵀBx/(xᵀBᵀBx)²", lambda v: (v["x"].T @ v["A"].T @ v["A"] @ v["x"]) / (v["x"].T @ v["B"].T @ v["B"] @ v["x"])),
 ("95", lambda: x.T @ A @ x + b.T @ x, x, "(A + Aᵀ)x + b", lambda v: v["x"].T @ v["A"] @ v["x"] + v["b"].T @ v["x"]),
 ("99", lambda: tr(X), X, "I", lambda v: np.trace(v["X"])),
 ("100", lambda: tr(X @ A), X, "Aᵀ", lambda v: np.trace(v["X"] @ v["A"])),
 ("101", lambda: tr(A @ X @ B), X, "AᵀBᵀ", lambda v: np.trace(v["A"] @ v["X"] @ v["B"])),
 ("102", lambda: tr(A @ X.T @ B), X, "BA", lambda v: np.trace(v["A"] @ v["X"].T @ v["B"])),
 ("103", lambda: tr(X.T @ A), X, "A", lambda v: np.trace(v["X"].T @ v["A"])),
 ("104", lambda: tr(A @ X.T), X, "A", lambda v: np.trace(v["A"] @ v["X"].T)),
 ("105", lambda: tr(mc.kron(Am, X)), X, "tr(A)I", lambda v: np.trace(np.kron(v["A"], v["X"]))),
 ("106", lambda: tr(X @ X), X, "2Xᵀ", lambda v: np.trace(v["X"] @ v["X"])),
 ("107", lambda: tr(X @ X @ B), X, "(XB + BX)ᵀ", lambda v: np.trace(v["X"] @ v["X"] @ v["B"])),
 ("108", lambda: tr(X.T @ B @ X), X, "BX + BᵀX", lambda v: np.trace(v["X"].T @ v["B"] @ v["X"])),
 ("109", lambda: tr(B @ X @ X.T), X, "BX + BᵀX", lambda v: np.trace(v["B"] @ v["X"] @ v["X"].T)),
 ("110", lambda: tr(X @ X.T @ B), X, "BX + BᵀX", lambda v: np.trace(v["X"] @ v["X"].T @ v["B"])),
 ("111", lambda: tr(X @ B @ X.T), X, "XBᵀ + XB", lambda v: np.trace(v["X"] @ v["B"] @ v["X"].T)),
 ("112", lambda: tr(B @ X.T @ X), X, "XBᵀ + XB", lambda v: np.trace(v["B"] @ v["X"].T @ v["X"])),
 ("113", lambda: tr(X.T @ X @ B), X, "XBᵀ + XB", lambda v: np.trace(v["X"].T @ v["X"] @ v["B"])),
 ("114", lambda: tr(A @ X @ B @ X), X, "AᵀXᵀBᵀ + BᵀXᵀAᵀ", lambda v: np.trace(v["A"] @ v["X"] @ v["B"] @ v["X"])),
 ("115, XᵀX", lambda: tr(X.T @ X), X, "2X", lambda v: np.trace(v["X"].T @ v["X"])),
 ("115, XXᵀ", lambda: tr(X @ X.T), X, "2X", lambda v: np.trace(v["X"] @ v["X"].T)),
 ("116", lambda: tr(B.T @ X.T @ C @ X @ B), X, "CᵀXBBᵀ + CXBBᵀ", lambda v: np.trace(v["B"].T @ v["X"].T @ v["C"] @ v["X"] @ v["B"])),
 ("117", lambda: tr(X.T @ B @ X @ C), X, "BXC + BᵀXCᵀ", lambda v: np.trace(v["X"].T @ v["B"] @ v["X"] @ v["C"])),
 ("118", lambda: tr(A @ X @ B @ X.T @ C), X, "AᵀCᵀXBᵀ + CAXB", lambda v: np.trace(v["A"] @ v["X"] @ v["B"] @ v["X"].T @ v["C"])),
 ("119", lambda: tr((A @ X @ B + C) @ (A @ X @ B + C).T), X, "2Aᵀ(AXB + C)Bᵀ", lambda v: np.trace((v["A"] @ v["X"] @ v["B"] + v["C"]) @ (v["A"] @ v["X"] @ v["B"] + v["C"]).T)),
 ("120", lambda: tr(mc.kron(X, X)), X, "2tr(X)I", lambda v: np.trace(np.kron(v["X"], v["X"]))),
 ("121, k = 3", lambda: tr(X @ X @ X), X, "3(XX)ᵀ", lambda v: np.trace(v["X"] @ v["X"] @ v["X"])),
 ("122, k = 3", lambda: tr(A @ X @ X @ X), X, "(AXX + XAX + XXA)ᵀ", lambda v: np.trace(v["A"] @ v["X"] @ v["X"] @ v["X"])),
 ("123", lambda: tr(B.T @ X.T @ C @ X @ X.T @ C @ X @ B), X, "CXXᵀCXBBᵀ + CᵀXBBᵀXᵀCᵀX + CXBBᵀXᵀCX + CᵀXXᵀCᵀXBBᵀ", lambda v: np.trace(v["B"].T @ v["X"].T @ v["C"] @ v["X"] @ v["X"].T @ v["C"] @ v["X"] @ v["B"])),
 ("124", lambda: tr(A @ inv(X) @ B), X, "−(X⁻¹BAX⁻¹)ᵀ", lambda v: np.trace(v["A"] @ L.inv(v["X"]) @ v["B"])),
 ("125", lambda: tr(inv(Xr.T @ Cs @ Xr) @ Am), Xr, "−CX(XᵀCX)⁻¹(A + Aᵀ)(XᵀCX)⁻¹", lambda v: np.trace(L.inv(v["X"].T @ v["C"] @ v["X"]) @ v["A"])),
 ("126", lambda: tr(inv(Xr.T @ Cs @ Xr) @ (Xr.T @ Bs @ Xr)), Xr, "−2CX(XᵀCX)⁻¹XᵀBX(XᵀCX)⁻¹ + 2BX(XᵀCX)⁻¹", lambda v: np.trace(L.inv(v["X"].T @ v["C"] @ v["X"]) @ (v["X"].T @ v["B"] @ v["X"]))),
 ("127", lambda: tr(inv(Ams + Xr.T @ Cs @ Xr) @ (Xr.T @ Bs @ Xr)), Xr, "−2CX(A + XᵀCX)⁻¹XᵀBX(A + XᵀCX)⁻¹ + 2BX(A + XᵀCX)⁻¹", lambda v: np.trace(L.inv(v["A"] + v["X"].T @ v["C"] @ v["X"]) @ (v["X"].T @ v["B"] @ v["X"]))),
 ("129", lambda: mc.norm(x - a), x, "(x − a)/‖x − a‖", lambda v: L.norm(v["x"] - v["a"])),
 ("131, ‖x‖²", lambda: mc.norm(x) ** 2, x, "2x", lambda v: L.norm(v["x"]) ** 2),
 ("131, ‖xᵀx‖", lambda: mc.norm(x.T @ x), x, "2x", lambda v: abs((v["x"].T @ v["x"]).item())),
 ("132", lambda: mc.norm(X) ** 2, X, "2X", lambda v: L.norm(v["X"]) ** 2),
]



def _number(value) -> float:
    return float(np.squeeze(value))


def _values(loss, seed: int) -> dict:
    """Random values by name: symmetric ones symmetric and positive definite, others normal."""
    rng = np.random.default_rng(seed)
    values = {}
    for name, symbol in loss.variables.items():
        value = rng.normal(size=tuple(int(k) for k in symbol.shape))
        if symbol.is_symmetric and not symbol.is_scalar:
            value = value @ value.T + N * np.eye(symbol.shape[0])
        values[name] = value
    return values


def _finite_differences(numpy_loss, values: dict, name: str, step: float = 1e-6) -> np.ndarray:
    gradient = np.zeros_like(values[name])
    for index in np.ndindex(gradient.shape):
        plus, minus = dict(values), dict(values)
        plus[name], minus[name] = values[name].copy(), values[name].copy()
        plus[name][index] += step
        minus[name][index] -= step
        gradient[index] = (_number(numpy_loss(plus)) - _number(numpy_loss(minus))) / (2 * step)
    return gradient


def _printed_ratio(row) -> float:
    _, loss, variable, textbook, _ = row
    printed = mc.text(mc.grad(loss(), variable))
    return len(printed.replace(" ", "")) / len(textbook.replace(" ", ""))


def test_the_table_has_sixty_identities():
    assert len(ROWS) >= 60 and len({row[0] for row in ROWS}) == len(ROWS)


@pytest.mark.parametrize("row", ROWS, ids=[row[0] for row in ROWS])
def test_cookbook_identity(row):
    equation, loss, variable, textbook, numpy_loss = row
    expression = loss()
    gradient = mc.grad(expression, variable)
    values = _values(expression, seed=sum(map(ord, equation)))
    symbols = {v: values[v.label] for v in expression.variables.values()}
    expected = _finite_differences(numpy_loss, values, variable.label)
    np.testing.assert_allclose(np.asarray(mc.evaluate(gradient, symbols)).reshape(expected.shape), expected,
                               rtol=1e-5, atol=1e-6, err_msg=f"({equation}): {gradient}")
    assert _printed_ratio(row) <= RATIO, f"({equation}): {mc.text(gradient)} against {textbook}"


def test_printed_lengths_against_the_textbook():
    """The median ratio of printed to textbook length, and the five longest, for the record."""
    ratios = sorted((_printed_ratio(row), row[0]) for row in ROWS)
    assert statistics.median(r for r, _ in ratios) <= 1.0
    assert ratios[-1][0] <= RATIO, ratios[-5:]
