"""Writes the notebooks from the cells below and executes them, so they are stored with outputs.

    python notebooks/build.py
"""

from __future__ import annotations

import pathlib

import nbformat
from nbclient import NotebookClient

HERE = pathlib.Path(__file__).resolve().parent

SETUP = "import matcalc as mc\n"

NOTEBOOKS = {
    "seed_000_linear_network.ipynb": [
        ("md", "# Backprop in a linear network y = ABx, and why the order flips\n\n"
               "The question: backprop writes ∂L/∂B = δ_h xᵀ for L = ½‖t − ABx‖², which seems to break the chain rule's "
               "order, and tensor notation ((2,1)-tensors) only adds confusion. The differential answers it in a few lines: "
               "dL = G:dB with the Frobenius product A:B = tr(AᵀB), and the rule C:AB = AᵀC:B = CBᵀ:A moves every factor to "
               "the side of the adjoint, transposed. That move is the whole \"order flip\"."),
        ("code", SETUP + "\nn = mc.dims('n')[0]\nA, B = mc.matrix('A', n, n), mc.matrix('B', n, n)\n"
                 "x, t = mc.vector('x', n), mc.vector('t', n)\nh = mc.let('h', B @ x)\ny = mc.let('y', A @ h)\n"
                 "L = mc.norm(t - y) ** 2 / 2\nd = mc.derive(L, [A, B])\nd"),
        ("md", "Each line applies one named rule. The matmul steps show where the transposes come from: the factor "
               "that stood left of dB (A) moves over as Aᵀ, and the one that stood right of it (x) as xᵀ."),
        ("code", "print(d.view('backprop'))"),
        ("code", "print(mc.grad(L, B))   # the closed form with the intermediates written out"),
        ("code", "mc.check(L, [A, B])"),
    ],
    "seed_001_delta_recursion.ipynb": [
        ("md", "# Why δˡ = ((Wˡ⁺¹)ᵀδˡ⁺¹) ⊙ σ'(zˡ), and when ⊙ rather than a matrix product\n\n"
               "Multiplying the chain rule's factors as written gives δ·W·σ', which has the wrong shape. The Jacobian view "
               "shows what happened: ∂a/∂z is diag(σ'(z)), a matrix, and the gradient is the transpose of the chain, so the "
               "order reverses and W becomes Wᵀ. Then diag(v)u = v ⊙ u, which is where the Hadamard product comes from."),
        ("code", SETUP + "\nn0, n1, n2 = mc.dims('n0 n1 n2')\nx, t = mc.vector('x', n0), mc.vector('t', n2)\n"
                 "W1, W2 = mc.matrix('W1', n1, n0), mc.matrix('W2', n2, n1)\nz1 = mc.let('z1', W1 @ x); a1 = mc.let('a1', mc.sigmoid(z1))\n"
                 "z2 = mc.let('z2', W2 @ a1); a2 = mc.let('a2', mc.sigmoid(z2))\nC = mc.norm(a2 - t) ** 2 / 2\n"
                 "print(mc.derive(C, [W2, W1]).view('backprop'))"),
        ("code", "mc.derive(C, x).view('jacobian')"),
        ("code", "print(mc.derive(C, x).view('jacobian'))"),
        ("code", "print(mc.check(C, [W1, W2]))"),
    ],
    "seed_002_index_and_matrix_form.ipynb": [
        ("md", "# From ∂E/∂W_ij = δ_i a_j to ∇W = δaᵀ, derived rather than fitted\n\n"
               "The scalar chain rule gives each entry; the matrix form is the same statement for all entries at once. "
               "The index view prints both side by side: (∂ℓ/∂W)_ij = (δ_z)_i a_j *is* the (i, j) entry of δ_z aᵀ, because "
               "an outer product's entries are products of entries. No dimension-fitting is needed."),
        ("code", SETUP + "\nn, m = mc.dims('n m')\nW, a, b, t = mc.matrix('W', n, m), mc.vector('a', m), mc.vector('b', n), mc.vector('t', n)\n"
                 "z = mc.let('z', W @ a + b); h = mc.let('h', mc.tanh(z))\nE = mc.norm(h - t) ** 2 / 2\n"
                 "d = mc.derive(E, [W, a])\nprint(d.view('index'))"),
        ("code", "d.view('index')"),
        ("code", "print(d.view('backprop'))\nprint(mc.check(E, [W, a]))"),
    ],
    "seed_003_frobenius_total_derivative.ipynb": [
        ("md", "# W = XXᵀ, Y = WX, ℓ = ‖Y‖_F: no 4-tensors needed\n\n"
               "∂Y/∂W is a 4-tensor, but the gradient never needs it: dℓ = (Y/‖Y‖):dY, and each product rule step moves "
               "factors across the colon. X appears three times; the derivation collects the three contributions into the "
               "total derivative. The norm here is not squared, so the adjoint carries 1/‖Y‖."),
        ("code", SETUP + "\nn, m = mc.dims('n m')\nX = mc.matrix('X', n, m)\nW = mc.let('W', X @ X.T)\nY = mc.let('Y', W @ X)\n"
                 "ell = mc.norm(Y)\nd = mc.derive(ell, X)\nd"),
        ("code", "print(d.gradient)\nprint(mc.grad(mc.norm(X @ X.T @ X), X))   # the same, without names"),
        ("code", "Wv = mc.matrix('W', n, n)\nprint(mc.grad(mc.norm(Wv @ X) ** 2, Wv))   # W as a free variable: 2YXᵀ"),
        ("code", "print(mc.check(ell, X))"),
    ],
    "seed_004_transpose_reverses_the_chain.ipynb": [
        ("md", "# Why the gradient transposes the matrices and reverses the chain\n\n"
               "The chain rule multiplies Jacobians in numerator layout: dC/dx = (dC/da_L)(da_L/dz_L)(dz_L/da_{L−1})⋯. "
               "That is a row vector. The gradient is its transpose, and (ABC)ᵀ = CᵀBᵀAᵀ, so the order reverses and each Wˡ "
               "becomes (Wˡ)ᵀ. Evaluating from the loss end is the vector-Jacobian product: cheap, and it never builds diag(f')."),
        ("code", SETUP + "\nn = mc.dims('n')[0]\nx, y = mc.vector('x', n), mc.vector('y', n)\nh = x\nweights = []\n"
                 "for l in (1, 2, 3):\n    W = mc.matrix(f'W{l}', n, n); weights.append(W)\n"
                 "    z = mc.let(f'z{l}', W @ h); h = mc.let(f'a{l}', mc.tanh(z))\nC = mc.norm(h - y) ** 2 / 2\n"
                 "print(mc.derive(C, x).view('jacobian'))"),
        ("code", "mc.derive(C, x).view('jacobian')"),
        ("code", "print(mc.check(C, x))"),
    ],
    "tour.ipynb": [
        ("md", "# A tour of matcalc"),
        ("code", SETUP + "\nn, m = mc.dims('n m')\nA, X = mc.matrix('A', n, n), mc.matrix('X', n, n)\nx, y = mc.vector('x', n), mc.vector('y', n)\n"
                 "for loss, v in [(x.T @ A @ x, x), (mc.logdet(X), X), (mc.det(X), X), (mc.trace(A @ X @ A), X),\n"
                 "                (x.T @ mc.inv(X) @ y, X), (mc.sum(mc.exp(A @ x)), x), (mc.frob(X, A @ X), X)]:\n"
                 "    print(f'{str(loss):>22}   wrt {v.label}:   {mc.grad(loss, v)}')"),
        ("md", "A symmetric variable gets the gradient within symmetric matrices, sym(G) = (G + Gᵀ)/2:"),
        ("code", "S = mc.matrix('S', n, n, symmetric=True)\nprint(mc.grad(x.T @ S @ x, S), '|', mc.grad(x.T @ S @ x, x))"),
        ("md", "Softmax cross-entropy, its gradient and its Hessian:"),
        ("code", "W, u, t = mc.matrix('W', n, m), mc.vector('u', m), mc.vector('t', n)\nz = mc.vector('z', n)\n"
                 "ce = -t.T @ mc.log(mc.softmax(W @ u))\nprint(mc.grad(ce, W))\nprint(mc.hessian(-t.T @ mc.log(mc.softmax(z)), z))"),
        ("code", "print(mc.hessian(x.T @ A @ x + mc.sum(mc.tanh(A @ x)), x))\nprint(mc.check(x.T @ A @ x + mc.sum(mc.tanh(A @ x)), x, order=2).ok)"),
        ("md", "Strings in the matrixcalculus.org syntax:"),
        ("code", "e = mc.parse(\"sum(log(exp(-y.*(X*w)) + vector(1)))\")\nprint(e, '→', mc.grad(e, e.variables['w']))"),
        ("md", "Fast NumPy code, and standalone source to paste into a project:"),
        ("code", "import numpy as np\n\nf = mc.lambdify([W, u, t], [ce, mc.grad(ce, W)])\nrng = np.random.default_rng(0)\n"
                 "value, gradient = f(rng.normal(size=(3, 4)), rng.normal(size=4), np.eye(3)[0])\nprint(value, gradient.shape)\n"
                 "print(mc.to_numpy_source([W, u, t], [ce, mc.grad(ce, W)], name='cross_entropy')[-900:])"),
    ],
}


def build(name: str, cells: list) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for kind, source in cells:
        notebook.cells.append(nbformat.v4.new_markdown_cell(source) if kind == "md" else nbformat.v4.new_code_cell(source))
    return notebook


def execute(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}).execute()
    return notebook


def main() -> None:
    for name, cells in NOTEBOOKS.items():
        notebook = execute(build(name, cells))
        nbformat.write(notebook, HERE / name)
        print("wrote", name)


if __name__ == "__main__":
    main()
