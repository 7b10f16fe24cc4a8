"""The built-in examples: the questions behind matcalc, derived and checked."""

from __future__ import annotations

import matcalc as mc


def examples():
    """(title, loss, variables) for each built-in example."""
    n, m = mc.dims("n m")
    W, a = mc.matrix("W", n, m), mc.vector("a", m)
    b, t = mc.vector("b", n), mc.vector("t", n)
    z = mc.let("z", W @ a + b)
    yield "a sigmoid layer with squared error: ℓ = ½‖σ(Wa + b) − t‖²", mc.sum((mc.sigmoid(z) - t) ** 2) / 2, [W, a]

    A, B, x = mc.matrix("A", n, n), mc.matrix("B", n, n), mc.vector("x", n)
    h = mc.let("h", B @ x)
    yield "a linear network y = ABx: ℓ = ½‖t − ABx‖²", mc.norm(t - A @ h) ** 2 / 2, [A, B]

    X = mc.matrix("X", n, m)
    Wx = mc.let("W", X @ X.T)
    Y = mc.let("Y", Wx @ X)
    yield "W = XXᵀ, Y = WX, ℓ = ‖Y‖_F (X appears three times)", mc.norm(Y), [X]


def run(out) -> int:
    failures = 0
    for title, loss, variables in examples():
        print(f"== {title}", file=out)
        print(f"ℓ = {loss}", file=out)
        derivation = mc.derive(loss, variables)
        print(derivation, file=out)
        print(derivation.view("backprop"), file=out)
        result = mc.check(loss, variables)
        print(result, file=out)
        print(file=out)
        failures += not result.ok
    return 1 if failures else 0
