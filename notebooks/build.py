"""Writes the notebooks from the cells below and executes them, so they are stored with outputs.

    python notebooks/build.py               # all of them
    python notebooks/build.py seed_003      # those whose name starts so

Conventions that tests/test_notebooks.py enforces, so that prose and outputs cannot drift apart:

- A formula that says what matcalc computes is written in backticks, exactly as matcalc prints
  it (`δ_h xᵀ`); the test finds every such formula in the notebook's outputs (printed text, or
  the text of a picture).  In a code comment it must appear in that cell's own output.
- LaTeX in $…$ is for definitions and identities the notebook does not compute (A:B = tr(AᵀB));
  it must render in KaTeX.  Outside backticks and $…$, prose and comments use no mathematical
  symbols (no ᵀ, ⊙, δ, σ, ‖, ∂, …), so a formula cannot hide there.
"""

from __future__ import annotations

import pathlib
import sys

import nbformat
from nbclient import NotebookClient

HERE = pathlib.Path(__file__).resolve().parent

SETUP = "import matcalc as mc\n"

SOURCES = {
    "seed_000": "https://math.stackexchange.com/questions/3546161/tensor-chain-rule-backprop-notation-that-is-compatible-with-the-chain-rule",
    "seed_001": "https://stats.stackexchange.com/search?q=%22What%27s+wrong+in+this+derivation+of+back-propagation+errors%22",
    "seed_002": "https://datascience.stackexchange.com/questions/18279/deriving-backpropagation-equations-natively-in-tensor-form",
    "seed_003": "https://math.stackexchange.com/search?q=%22Help+with+differentiation+chain+rule+with+tensors+in+backpropagation%22",
    "seed_004": "https://math.stackexchange.com/questions/3692728/from-derivatives-to-gradients-in-backpropagation",
}

PICTURE_KEY = (
    "How to read the picture: each box is one node of the computation, drawn once however often it is used, with "
    "its operation and its shape; the arrows run forward, from the inputs at the bottom to the loss at the top. "
    "In red, each node's adjoint, the matrix $G$ with $d\\ell = G : d(\\text{node})$. On each edge, the rule that "
    "passed the adjoint back down along it (in grey, with stand-in letters) and what it passed (in red)."
)

SEED_000 = [
    ("md", "# Backprop in a linear network, and why the order seems to flip\n\n"
           "**The question** ([Mathematics Stack Exchange: *Tensor chain rule: backprop notation that is compatible "
           f"with the chain rule?*]({SOURCES['seed_000']})). Take a linear network $y = ABx$ with the quadratic loss "
           "$L = \\tfrac12\\lVert t - y\\rVert^2$ and the hidden layer $h = Bx$. Backprop updates $B$ with "
           "$\\partial L/\\partial B = \\delta_h x^\\top$, where $\\delta_h$ is the error that reaches $h$. The chain "
           "rule, written out, is $\\frac{\\partial L}{\\partial B} = \\frac{\\partial L}{\\partial y}\\,"
           "\\frac{\\partial y}{\\partial h}\\,\\frac{\\partial h}{\\partial B}$: the factor that carries $x$ comes "
           "last, yet backprop writes $x^\\top$ last and the error first. Worse, $\\partial h/\\partial B$ maps an "
           "$n\\times n$ matrix to an $n$-vector (a (2,1)-tensor, in the asker's words), and backprop replaces it by the "
           "row $x^\\top$. Is backprop inconsistent with the chain rule?\n\n"
           "**The idea.** No. The chain rule is right, but the things worth carrying through it are not Jacobians. "
           "Carry the differential instead: for a scalar $L$ and a matrix $X$ write\n\n"
           "$$dL = G : dX, \\qquad A : B = \\operatorname{tr}(A^\\top B) = \\textstyle\\sum_{ij} A_{ij} B_{ij},$$\n\n"
           "and call $G$ the gradient. It has the shape of $X$, because the colon pairs entry with entry. All of the "
           "calculus for products is one rule for moving a factor across the colon,\n\n"
           "$$C : AB = A^\\top C : B = C B^\\top : A .$$\n\n"
           "A factor standing left of $dB$ moves to the left of $C$, transposed; a factor standing right of it moves "
           "to the right, transposed. That move is the whole order flip. No tensor is ever formed: the (2,1)-tensor "
           "$\\partial h/\\partial B$ is only ever applied to the vector $\\delta_h$, and applying it gives "
           "$\\delta_h x^\\top$, as the index form below shows."),
    ("code", SETUP + "\nn = mc.dims(\"n\")[0]                # a symbolic size\n"
             "A, B = mc.matrix(\"A\", n, n), mc.matrix(\"B\", n, n)\n"
             "x, t = mc.vector(\"x\", n), mc.vector(\"t\", n)\n"
             "h = mc.let(\"h\", B @ x)               # the hidden layer\n"
             "y = mc.let(\"y\", A @ h)               # the output\n"
             "L = mc.norm(t - y) ** 2 / 2\n"
             "d = mc.derive(L, [A, B], shapes=True)\n"
             "mc.draw(d)"),
    ("md", PICTURE_KEY + " Follow the red from the top: the loss hands `−(t − y)` to the output, named `δ_y`; "
           "the product $y = Ah$ hands `Aᵀ δ_y` to $h$ and `δ_y hᵀ` to $A$; and $h = Bx$ hands `δ_h xᵀ` to $B$. "
           "Both products use the matrix-product rule, `G : Cu = Guᵀ : C` for the matrix and `G : Cu = CᵀG : u` for "
           "the vector."),
    ("md", "**Step by step.** The same sweep as a derivation: each line applies one named rule to "
           "$dL = \\sum G : dX$, from the loss down. The last lines read the gradients off."),
    ("code", "d"),
    ("md", "Printed as text, with `shapes=True`, each note also says which shape the new adjoint has and that it "
           "matches the factor it multiplies: `δ_h xᵀ is n×n, like B`. That is the check that no step needed a "
           "tensor."),
    ("code", "print(d)"),
    ("md", "**The backprop view** names the adjoints of the intermediates, $\\delta_y := \\partial L/\\partial y$ "
           "and $\\delta_h := \\partial L/\\partial h$, and reads as the textbook recursion. The asker's formula "
           "`∂ℓ/∂B = δ_h xᵀ` comes out derived, not assumed; with the adjoints written out it is `−Aᵀ(t − y)xᵀ`."),
    ("code", "print(d.view(\"backprop\"))\nprint(mc.grad(L, B))"),
    ("md", "**The (2,1)-tensor, and why backprop never builds it.** `mc.jacobian` gives the derivative of $h = Bx$ "
           "with respect to $B$ in three forms: the linear map `d(Bx) = dB x`, its matrix in vec form "
           "`vec(d(Bx)) = (xᵀ ⊗ I) vec(dB)` (an $n \\times n^2$ matrix), and entry by entry "
           "`∂(Bx)_i/∂B_kl = δ_ik x_l`, where the delta is Kronecker's, 1 when $i = k$. Backprop contracts it with "
           "$\\delta_h$ at once: $\\sum_i (\\delta_h)_i\\,\\delta_{ik}\\,x_l = (\\delta_h)_k\\,x_l$, which is the "
           "$(k, l)$ entry of $\\delta_h x^\\top$. The cell checks that contraction with numbers."),
    ("code", "import numpy as np\n\n"
             "J = mc.jacobian(B @ x, B)\nprint(J)\n\n"
             "rng = np.random.default_rng(0)\n"
             "x0, delta_h = rng.normal(size=(3, 1)), rng.normal(size=(3, 1))\n"
             "dense = mc.evaluate(J, {\"B\": rng.normal(size=(3, 3)), \"x\": x0})   # the 3 by 9 matrix\n"
             "contracted = dense.T @ delta_h                     # the tensor applied to the error\n"
             "outer = (delta_h @ x0.T).reshape(-1, 1, order=\"F\")  # vec of the outer product\n"
             "print(dense.shape, np.allclose(contracted, outer))"),
    ("md", "**The tempting wrong formula.** Multiply in the order the chain rule is written, $x$ first: "
           "$x\\,\\delta_h^\\top$. With square $A$ and $B$ both orders are $n \\times n$, so a shape check cannot "
           "object. `mc.check` compares a formula with the elementwise chain rule (sympy, entry by entry) and with "
           "finite differences at a random point, and refuses it:"),
    ("code", "delta_h = -A.T @ (t - y)          # the error at h, written out\n"
             "print(mc.check(L, B, gradient=x @ delta_h.T))"),
    ("md", "When the layers differ in width ($B$ is $q \\times n$, $A$ is $p \\times q$), the shapes refuse it "
           "before any number is computed: the wrong order has the shape of $B^\\top$."),
    ("code", "p, q = mc.dims(\"p q\")\n"
             "A2, B2, t2 = mc.matrix(\"A\", p, q), mc.matrix(\"B\", q, n), mc.vector(\"t\", p)\n"
             "y2 = mc.let(\"y\", A2 @ mc.let(\"h\", B2 @ x))\n"
             "L2 = mc.norm(t2 - y2) ** 2 / 2\n"
             "print(mc.check(L2, B2, gradient=x @ (-A2.T @ (t2 - y2)).T))"),
    ("md", "**The numeric check** of the derived gradients, both at once:"),
    ("code", "print(mc.check(L, [A, B]))"),
    ("md", "**What to remember.** The gradient is the $G$ in $dL = G : dX$, and it has the shape of $X$. Moving a "
           "factor across the colon transposes it, $C : AB = A^\\top C : B = C B^\\top : A$; that is the order flip. "
           "Backprop is the chain rule applied to adjoints, one vector at a time, never to Jacobians or tensors."),
]

SEED_001 = [
    ("md", "# Why the backprop error is a transposed product and a Hadamard product\n\n"
           f"**The question** ([Cross Validated: *What's wrong in this derivation of back-propagation errors?*]"
           f"({SOURCES['seed_001']})). With $a^l = \\sigma(z^l)$ and $z^l = W^l a^{{l-1}} + b^l$, the asker applies "
           "the chain rule as it is written, $\\frac{\\partial C}{\\partial z^l} = \\frac{\\partial C}{\\partial "
           "z^{l+1}}\\,\\frac{\\partial z^{l+1}}{\\partial a^l}\\,\\frac{\\partial a^l}{\\partial z^l}$, gets "
           "$\\delta^{l+1} \\cdot W \\cdot \\sigma'(z^l)$, a product of two vectors, and cannot see the mistake. The "
           "known answer is $\\delta^l = ((W^{l+1})^\\top \\delta^{l+1}) \\odot \\sigma'(z^l)$. When is a product a "
           "Hadamard product, and when a matrix product?\n\n"
           "**The idea.** Three things hide in that line. First, $\\partial a^l/\\partial z^l$ for an elementwise "
           "$\\sigma$ is not the vector $\\sigma'(z^l)$ but the diagonal matrix $\\operatorname{diag}(\\sigma'(z^l))$: "
           "entry $i$ of $a$ depends on entry $i$ of $z$ only. Second, in the chain rule's layout "
           "$\\partial C/\\partial z$ is a row, $1 \\times n$; the error $\\delta$ is the column that is its transpose. "
           "Third, transposing a product reverses it and transposes each factor, so "
           "$\\delta^l = \\operatorname{diag}(\\sigma'(z^l))\\,(W^{l+1})^\\top \\delta^{l+1}$; and "
           "$\\operatorname{diag}(v)\\,u = v \\odot u$. That is where both the transpose and the Hadamard product "
           "come from. (Also, $\\partial z^{l+1}/\\partial a^l$ is $W^{l+1}$, not $W^l$.)\n\n"
           "The Frobenius route gets there without any Jacobian. An elementwise function multiplies the adjoint "
           "elementwise, $C : (\\sigma'(z) \\odot dz) = (C \\odot \\sigma'(z)) : dz$, and a matrix product transposes "
           "the factor it passes, $C : W\\,da = W^\\top C : da$."),
    ("code", SETUP + "\nn0, n1, n2 = mc.dims(\"n0 n1 n2\")      # three layer widths, all different\n"
             "x, t = mc.vector(\"x\", n0), mc.vector(\"t\", n2)\n"
             "W1, b1 = mc.matrix(\"W1\", n1, n0), mc.vector(\"b1\", n1)\n"
             "W2, b2 = mc.matrix(\"W2\", n2, n1), mc.vector(\"b2\", n2)\n"
             "z1 = mc.let(\"z1\", W1 @ x + b1); a1 = mc.let(\"a1\", mc.sigmoid(z1))\n"
             "z2 = mc.let(\"z2\", W2 @ a1 + b2); a2 = mc.let(\"a2\", mc.sigmoid(z2))\n"
             "C = mc.norm(a2 - t) ** 2 / 2\n"
             "d = mc.derive(C, [W1, b1, W2, b2], shapes=True)\n"
             "mc.draw(d)"),
    ("md", PICTURE_KEY + " The output $a_2$ receives `δ_a₂ = a₂ − t`. The sigmoid's rule, "
           "`G : d(σ(y)) = (G ⊙ σ'(y)) : dy`, multiplies the adjoint elementwise: `δ_z₂ = δ_a₂ ⊙ σ'(z₂)`. The "
           "product $z_2 = W_2 a_1 + b_2$ passes it down transposed, `δ_a₁ = W₂ᵀ δ_z₂`, and the next sigmoid "
           "multiplies elementwise again, `δ_z₁ = δ_a₁ ⊙ σ'(z₁)`. Put together, that is the textbook recursion "
           "`δ_z₁ = (W₂ᵀ δ_z₂) ⊙ σ'(z₁)` of the backprop view below."),
    ("md", "**Step by step**, one rule per line:"),
    ("code", "d"),
    ("code", "print(d.view(\"backprop\"))"),
    ("md", "**The Jacobian view.** The same gradient with respect to the input $x$, done the asker's way: multiply "
           "the numerator-layout Jacobians in the chain rule's order, then transpose. `mc.jacobian` confirms the "
           "first point above: the Jacobian of the elementwise sigmoid is `diag(σ'(z))`."),
    ("code", "dx = mc.derive(C, x)\ndx.view(\"jacobian\")"),
    ("code", "print(dx.view(\"jacobian\"))\nz = mc.vector(\"z\", n1)\nprint(mc.jacobian(mc.sigmoid(z), z))"),
    ("md", "Read the lines in order: the row `(a₂ − t)ᵀdiag(σ'(z₂))W₂diag(σ'(z₁))W₁` is the chain rule as written; "
           "its transpose `W₁ᵀdiag(σ'(z₁))W₂ᵀdiag(σ'(z₂))(a₂ − t)` has the order reversed and every matrix transposed "
           "(a diagonal matrix is its own transpose); and replacing each diagonal matrix times a vector by a "
           "Hadamard product gives `W₁ᵀ(σ'(z₁) ⊙ (W₂ᵀ(σ'(z₂) ⊙ (a₂ − t))))`, which is how backprop computes it, "
           "never building the diagonal matrix."),
    ("md", "**The tempting wrong formulas.** With layers of different widths, matcalc refuses both the asker's "
           "order and the untransposed weight when the expression is built:"),
    ("code", "delta2 = mc.vector(\"delta2\", n2)        # stands for the error at layer 2\n"
             "for attempt in (lambda: delta2 @ W2 * mc.sigmoid(z1),        # the chain rule's written order\n"
             "                lambda: (W2 @ delta2) * mc.sigmoid(z1)):     # W instead of its transpose\n"
             "    try:\n"
             "        attempt()\n"
             "    except mc.ShapeError as error:\n"
             "        print(\"ShapeError:\", error)"),
    ("md", "The first fails because a column times a matrix is undefined: `matmul: (n2×1) @ (n2×n1): inner "
           "dimensions 1 and n2 differ`. The second fails because $W_2$ maps layer 1 to layer 2, not back: "
           "`matmul: (n2×n1) @ (n2×1): inner dimensions n1 and n2 differ`. The transpose is what maps an error at "
           "layer 2 to layer 1."),
    ("md", "**The numeric check** against the elementwise chain rule and finite differences:"),
    ("code", "print(mc.check(C, [W1, b1, W2, b2]))"),
    ("md", "**What to remember.** An elementwise function has a diagonal Jacobian, and a diagonal matrix times a "
           "vector is a Hadamard product: that is when $\\odot$ appears. The gradient is the transpose of the chain "
           "rule's row, so the order reverses and each weight matrix is transposed: $\\delta^l = "
           "((W^{l+1})^\\top \\delta^{l+1}) \\odot \\sigma'(z^l)$."),
]

SEED_002 = [
    ("md", "# From the index form of backprop to the matrix form, derived rather than fitted\n\n"
           f"**The question** ([Data Science Stack Exchange: *Deriving backpropagation equations natively in tensor "
           f"form*]({SOURCES['seed_002']})). Entry by entry, backprop is easy: with $z_j = \\sum_i W_{{ij}} a_i$ and "
           "$a'_j = f(z_j)$ the chain rule gives $\\nabla z_j = \\nabla a'_j\\, f'(z_j)$, $\\nabla a_i = \\sum_j "
           "\\nabla z_j\\, W_{ij}$ and $\\nabla W_{ij} = \\nabla z_j\\, a_i$. The matrix forms $\\nabla z = \\nabla a' "
           "\\odot f'(z)$, $\\nabla a = W^\\top \\nabla z$, $\\nabla W = \\nabla z\\, a^\\top$ can be found by making "
           "the dimensions agree, but is there a native way to derive them?\n\n"
           "**The idea.** An index equation and a matrix equation are the same statement when the matrix "
           "expression's $(i, j)$ entry is the index expression. Three facts do all the work: "
           "$(u v^\\top)_{ij} = u_i v_j$, $(W^\\top u)_i = \\sum_j W_{ji} u_j$ and $(u \\odot v)_i = u_i v_i$. The "
           "native derivation is the differential, $dE = G : dX$, which works on whole matrices; matcalc derives the "
           "matrix form that way and then writes each equation entry by entry beside it, from the same derivation.\n\n"
           "Mind the convention: the question's $z_j = \\sum_i W_{ij} a_i$ is $z = W^\\top a$ (its $W_{ij}$ connects "
           "neuron $i$ below to neuron $j$ above), while its matrix equations use $z = Wa + b$. Each convention has its "
           "own gradient; both are computed below."),
    ("code", SETUP + "\nn, m = mc.dims(\"n m\")\n"
             "W, a, b, t = mc.matrix(\"W\", n, m), mc.vector(\"a\", m), mc.vector(\"b\", n), mc.vector(\"t\", n)\n"
             "z = mc.let(\"z\", W @ a + b)\n"
             "h = mc.let(\"h\", mc.tanh(z))          # the layer above, with f = tanh\n"
             "E = mc.norm(h - t) ** 2 / 2\n"
             "d = mc.derive(E, [W, a, b], shapes=True)\n"
             "mc.draw(d)"),
    ("md", PICTURE_KEY + " The three equations of the question are three kinds of edge: the tanh node multiplies "
           "its adjoint `δ_h = h − t` elementwise, `δ_z = δ_h ⊙ (𝟏 − h²)` (as $\\tanh' = 1 - \\tanh^2$ and $\\tanh(z) = h$); the product passes `Wᵀ δ_z` to $a$ "
           "and `δ_z aᵀ` to $W$."),
    ("md", "**The index view**: each equation entry by entry, with its sums written out, and beneath it the same "
           "equation as matrices. `(∂ℓ/∂W)_ij = (δ_z)_i a_j` is the $(i, j)$ entry of `δ_z aᵀ`; "
           "`(∂ℓ/∂a)_i = Σ_k W_ki (δ_z)_k` is entry $i$ of `Wᵀ δ_z`. Nothing is fitted: the matrix form is derived "
           "first, and the index form is read from it."),
    ("code", "d.view(\"index\")"),
    ("code", "print(d.view(\"index\"))"),
    ("md", "**Step by step**, the derivation itself:"),
    ("code", "d"),
    ("md", "**The question's own convention**, $z = W^\\top a$ with $W$ of shape $m \\times n$ (called $V$ in the "
           "code, to keep it apart from the $W$ above): the gradient becomes "
           "the transposed outer product `a δ_zᵀ`, and the index form reads `(∂ℓ/∂V)_ij = a_i (δ_z)_j`, exactly the "
           "asker's $\\nabla W_{ij} = \\nabla z_j\\, a_i$."),
    ("code", "V = mc.matrix(\"V\", m, n)\n"
             "zq = mc.let(\"z\", V.T @ a + b)\n"
             "dq = mc.derive(mc.norm(mc.tanh(zq) - t) ** 2 / 2, V)\n"
             "print(dq.view(\"backprop\"))\nprint(dq.view(\"index\"))"),
    ("md", "**The tempting wrong formulas.** Fitting by dimensions alone can go wrong two ways. Forgetting the "
           "transpose in $\\nabla a = W^\\top \\nabla z$ is refused when the expression is built; the outer product "
           "in the wrong order has the shape of $W^\\top$, and `mc.check` refuses it:"),
    ("code", "delta_z = (mc.tanh(z) - t) * (1 - mc.tanh(z) ** 2)\n"
             "try:\n    W @ delta_z\nexcept mc.ShapeError as error:\n    print(\"ShapeError:\", error)\n"
             "print(mc.check(E, W, gradient=a @ delta_z.T))"),
    ("md", "**The numeric check** of all three gradients:"),
    ("code", "print(mc.check(E, [W, a, b]))"),
    ("md", "**What to remember.** Derive with whole matrices, $dE = G : dX$; then each matrix equation is the "
           "index equation for all entries at once, because $(u v^\\top)_{ij} = u_i v_j$ and "
           "$(W^\\top u)_i = \\sum_j W_{ji} u_j$. Which index is summed, and so where the transpose goes, follows from "
           "how $z$ was written: $Wa$ or $W^\\top a$."),
]

SEED_003 = [
    ("md", "# A matrix gradient through a 4-tensor: the Frobenius route never needs it\n\n"
           f"**The question** ([Mathematics Stack Exchange: *Help with differentiation chain rule with tensors in "
           f"backpropagation*]({SOURCES['seed_003']})). $N$ feature vectors form $X \\in \\mathbb{{R}}^{{D \\times N}}$; "
           "$W = XX^\\top$, $Y = WX$ and $\\ell = \\lVert Y \\rVert_F$. The chain rule "
           "$\\frac{\\partial \\ell}{\\partial W} = \\frac{\\partial \\ell}{\\partial Y}\\,\\frac{\\partial Y}{\\partial "
           "W}$ seems to multiply a matrix by the 4-tensor $\\partial Y/\\partial W$, which gives a 4-tensor, not the "
           "matrix $\\partial \\ell/\\partial W$ must be. What is wrong?\n\n"
           "**The idea.** The accepted answer: the product is a double contraction, "
           "$\\frac{\\partial \\ell}{\\partial W_{ab}} = \\sum_{cd} \\frac{\\partial \\ell}{\\partial Y_{cd}}\\,"
           "\\frac{\\partial Y_{cd}}{\\partial W_{ab}}$, with the sum left unwritten. The other answer never forms the "
           "tensor. It works with the squared norm $\\ell = Y : Y$ and the differential $d\\ell = 2Y : dY = "
           "2Y : (dW\\,X + W\\,dX)$, moves factors across the colon, and reads off $\\partial \\ell/\\partial W = "
           "2YX^\\top$ (with $X$ held fixed) and $\\partial \\ell/\\partial X = 2W^\\top Y$ (with $W$ held fixed). Below, "
           "matcalc computes both, then the total derivative when $W = XX^\\top$ itself depends on $X$ (so $X$ appears "
           "three times), then the norm as asked, not squared, and last the 4-tensor itself, to see what the "
           "Frobenius route avoids."),
    ("md", "**The answer's formulas.** $W$ as a free matrix, the norm squared:"),
    ("code", SETUP + "\nD, N = mc.dims(\"D N\")\nX = mc.matrix(\"X\", D, N)\n"
             "Wf = mc.matrix(\"W\", D, D)                 # W as a free variable\n"
             "Yf = mc.let(\"Y\", Wf @ X)\n"
             "squared = mc.norm(Yf) ** 2\n"
             "print(mc.grad(squared, Wf))                # `2YXᵀ`\n"
             "print(mc.grad(squared, X))                 # `2WᵀY`"),
    ("md", "**The accepted answer's sum, written out.** The index view prints each gradient entry by entry beside "
           "its matrix form. The double sum over $c, d$ has become a single sum, `(∂ℓ/∂W)_ij = Σ_k (δ_Y)_ik X_jk`, "
           "because $\\partial Y_{cd}/\\partial W_{ab}$ is zero unless $c = a$; the sum that is left is the matrix "
           "product `δ_Y Xᵀ`, with `(δ_Y)_ij = 2 Y_ij`."),
    ("code", "print(mc.derive(squared, [Wf, X]).view(\"index\"))"),
    ("md", "**The total derivative.** Now $W = XX^\\top$ and $Y = WX$ are named intermediates and the norm is not "
           "squared, as in the question. $X$ reaches $\\ell$ along three edges of the picture: as the left factor of "
           "$XX^\\top$, through the transpose as its right factor, and as the right factor of $WX$. Its adjoint is the "
           "sum of the three shares, `W δ_Y`, `δ_W X` and `δ_Wᵀ X`. Because the norm is not squared, the first "
           "adjoint carries the norm in a denominator: `δ_Y = Y/‖Y‖_F`."),
    ("code", "W = mc.let(\"W\", X @ X.T)\nY = mc.let(\"Y\", W @ X)\nell = mc.norm(Y)\n"
             "d = mc.derive(ell, X, shapes=True)\nmc.draw(d)"),
    ("md", PICTURE_KEY),
    ("md", "**Step by step.** The step named `collect_terms` is where the paths meet: "
           "$G_1 : dX + G_2 : dX = (G_1 + G_2) : dX$."),
    ("code", "d"),
    ("code", "print(d.view(\"backprop\"))\n"
             "print(mc.grad(mc.norm(X @ X.T @ X), X))    # the same, without names: `3XXᵀXXᵀX/‖XXᵀX‖_F`"),
    ("md", "**The tempting wrong formula.** Treating the chain rule as a matrix product in the order it is written "
           "puts $X$ on the wrong side. For the squared norm with $W$ free, $2X^\\top Y$ has shape $N \\times N$, "
           "not the $D \\times D$ of $W$:"),
    ("code", "print(mc.check(squared, Wf, gradient=2 * X.T @ Yf))"),
    ("md", "**The numeric check** of the answer's formula and of the total derivative:"),
    ("code", "print(mc.check(squared, Wf))\nprint(mc.check(ell, X))"),
    ("md", "**The 4-tensor.** $\\partial Y/\\partial W$ for $Y = WX$ exists, and `mc.jacobian` writes it three ways: "
           "as the linear map `d(WX) = dW X`; in index form, `∂(WX)_ij/∂W_kl = δ_ik X_lj` (the asker's 4-tensor, "
           "with Kronecker's delta); and in vec form, `vec(d(WX)) = (Xᵀ ⊗ I) vec(dW)`, where vec stacks columns and "
           "the $DN \\times D^2$ Kronecker matrix is the tensor flattened. `mc.evaluate` gives that dense matrix; the "
           "cell compares it with NumPy's own Kronecker product."),
    ("code", "import numpy as np\n\n"
             "J = mc.jacobian(Wf @ X, Wf)\nprint(J)\n"
             "rng = np.random.default_rng(1)\n"
             "X0, W0 = rng.normal(size=(2, 3)), rng.normal(size=(2, 2))\n"
             "dense = mc.evaluate(J, {\"W\": W0, \"X\": X0})\n"
             "print(dense.shape, np.allclose(dense, np.kron(X0.T, np.eye(2))))\n"
             "print(np.round(dense, 2))"),
    ("md", "**Why the Frobenius route never needs it.** The chain rule contracts the tensor with the incoming "
           "adjoint $G = \\partial \\ell/\\partial Y$: $\\sum_{cd} G_{cd}\\,\\delta_{ca} X_{bd} = (G X^\\top)_{ab}$. In "
           "vec form that is $(X^\\top \\otimes I)^\\top \\operatorname{vec} G = \\operatorname{vec}(G X^\\top)$: the "
           "whole tensor collapses to one matrix product, which is the rule $G : dW\\,X = G X^\\top : dW$. The cell "
           "checks this with numbers, and then asks for the tensor at a realistic size: $D = 100$ features and "
           "$N = 1000$ samples make it $10^5 \\times 10^4$, a billion entries, and `mc.evaluate` refuses to write it "
           "out, pointing to the linear-map form instead, while $GX^\\top$ costs one $100 \\times 1000$ by "
           "$1000 \\times 100$ product."),
    ("code", "G0 = rng.normal(size=(2, 3))                                  # an adjoint for Y\n"
             "print(np.allclose(dense.T @ G0.reshape(-1, order=\"F\"), (G0 @ X0.T).reshape(-1, order=\"F\")))\n"
             "big = {\"W\": np.zeros((100, 100)), \"X\": np.zeros((100, 1000))}\n"
             "try:\n    mc.evaluate(J, big)\nexcept mc.EvaluationError as error:\n    print(\"EvaluationError:\", error)"),
    ("md", "**What to remember.** Never multiply by $\\partial Y/\\partial W$; contract with it, and the Frobenius "
           "rule $G : dW\\,X = GX^\\top : dW$ does that contraction in one matrix product. A variable used several "
           "times gets the sum of what arrives along each use. The norm itself, not squared, has "
           "$d\\lVert Y \\rVert_F = (Y/\\lVert Y \\rVert_F) : dY$."),
]

SEED_004 = [
    ("md", "# Why the gradient transposes every matrix and reverses the chain\n\n"
           f"**The question** ([Mathematics Stack Exchange: *From derivatives to gradients in backpropagation*]"
           f"({SOURCES['seed_004']})). Wikipedia writes the derivative of the loss of a network "
           "$C(y, f^L(W^L f^{L-1}(\\cdots f^1(W^1 x))))$ with respect to its input as the product "
           "$\\frac{dC}{da^L} \\cdot (f^L)' \\cdot W^L \\cdot (f^{L-1})' \\cdot W^{L-1} \\cdots (f^1)' \\cdot W^1$, "
           "and then the gradient as $\\nabla_x C = (W^1)^\\top (f^1)' \\cdots (W^L)^\\top (f^L)' \\nabla_{a^L} C$: "
           "every matrix transposed, the order reversed. Why?\n\n"
           "**The idea.** The derivative $dC/dx$ is a row, $1 \\times n_0$: it eats a column $dx$ and returns the "
           "number $dC$. The gradient is the column that represents the same thing, $dC = \\nabla_x C : dx$, so it is "
           "the transpose of that row. Transposing a product reverses it and transposes each factor, "
           "$(ABC)^\\top = C^\\top B^\\top A^\\top$; the $(f^l)'$ are diagonal matrices and stay as they are. That is "
           "all the reversal is. The answer on the site says it is about computation cost; cost decides something "
           "else, the order of evaluation. Evaluated from the loss end, every step is a matrix times a vector (a "
           "vector-Jacobian product); from the input end, every step is a matrix times a matrix."),
    ("code", SETUP + "\nwidths = mc.dims(\"n0 n1 n2 n3\")              # four layer widths, all different\n"
             "x, y = mc.vector(\"x\", widths[0]), mc.vector(\"y\", widths[3])\n"
             "a, weights = x, []\n"
             "for l in (1, 2, 3):\n"
             "    W = mc.matrix(f\"W{l}\", widths[l], widths[l - 1]); weights.append(W)\n"
             "    z = mc.let(f\"z{l}\", W @ a)\n"
             "    a = mc.let(f\"a{l}\", mc.tanh(z))\n"
             "C = mc.norm(a - y) ** 2 / 2\n"
             "d = mc.derive(C, x)\nmc.draw(d)"),
    ("md", PICTURE_KEY + " Read it from the top down and the reversed order appears by itself: the first matrix "
           "the adjoint meets is $W_3$, and it passes it on transposed, `W₃ᵀ δ_z₃`; the last is $W_1$, and the "
           "gradient is `∂ℓ/∂x = W₁ᵀ δ_z₁`."),
    ("md", "**The Jacobian view** does it Wikipedia's way: the chain rule multiplies numerator-layout Jacobians, "
           "the gradient is the transpose, and the diagonal matrices become Hadamard products."),
    ("code", "d.view(\"jacobian\")"),
    ("code", "print(d.view(\"jacobian\"))"),
    ("md", "The second line is Wikipedia's product: `(a₃ − y)ᵀdiag(𝟏 − tanh(z₃)²)W₃diag(𝟏 − tanh(z₂)²)W₂diag(𝟏 − "
           "tanh(z₁)²)W₁`. The third is its transpose, `W₁ᵀdiag(𝟏 − tanh(z₁)²)W₂ᵀdiag(𝟏 − tanh(z₂)²)W₃ᵀdiag(𝟏 − "
           "tanh(z₃)²)(a₃ − y)`, the order reversed and each weight transposed, exactly Wikipedia's gradient."),
    ("md", "**The backprop view** is the same product evaluated from the right, one vector at a time:"),
    ("code", "print(d.view(\"backprop\"))"),
    ("md", "**The tempting wrong formula.** Keep the derivative's order and skip the transposes, applying $W_1$ "
           "first. With layers of different widths it cannot even be built:"),
    ("code", "W1, W2, W3 = weights\ng3 = (a - y) * (1 - a ** 2)\n"
             "try:\n    W1 @ W2 @ W3 @ g3\nexcept mc.ShapeError as error:\n    print(\"ShapeError:\", error)"),
    ("md", "**Why evaluate from the loss end.** Both orders give the same numbers; the cost differs. From the "
           "input end the products are matrix by matrix (about $n^3$ operations each); from the loss end they are "
           "matrix by vector (about $n^2$). The cell computes the gradient both ways with NumPy for three layers of "
           "width 500, checks that they agree, and times each (the best of three runs)."),
    ("code", "import time\n\nimport numpy as np\n\n"
             "rng = np.random.default_rng(0)\nwidth = 500\n"
             "Ws = [rng.normal(size=(width, width)) / np.sqrt(width) for _ in range(3)]\n"
             "x0, y0 = rng.normal(size=(width, 1)), rng.normal(size=(width, 1))\n"
             "zs, a0 = [], x0\nfor W in Ws:\n    zs.append(W @ a0); a0 = np.tanh(zs[-1])\n"
             "slopes = [1 - np.tanh(z) ** 2 for z in zs]                 # the diagonals of the activation Jacobians\n\n"
             "def from_the_input():                                        # Jacobian times Jacobian, then transpose\n"
             "    J = np.eye(width)\n    for W, s in zip(Ws, slopes):\n        J = (s * W) @ J\n"
             "    return J.T @ (a0 - y0)\n\n"
             "def from_the_loss():                                         # one vector at a time\n"
             "    g = a0 - y0\n    for W, s in zip(reversed(Ws), reversed(slopes)):\n        g = W.T @ (s * g)\n"
             "    return g\n\n"
             "def best_of_three(f):\n"
             "    times = []\n    for _ in range(3):\n        start = time.perf_counter(); f(); times.append(time.perf_counter() - start)\n"
             "    return min(times)\n\n"
             "print(\"same gradient:\", np.allclose(from_the_input(), from_the_loss()))\n"
             "print(f\"from the input: {best_of_three(from_the_input) * 1e3:.1f} ms, \"\n"
             "      f\"from the loss: {best_of_three(from_the_loss) * 1e3:.2f} ms\")"),
    ("md", "**The numeric check** of the derived gradient:"),
    ("code", "print(mc.check(C, x))"),
    ("md", "**What to remember.** The derivative is a row and the gradient is the column $dC = \\nabla C : dx$, its "
           "transpose; $(ABC)^\\top = C^\\top B^\\top A^\\top$ is why the order reverses and each matrix is "
           "transposed. Evaluating that product from the loss end, one vector at a time, is what makes backprop "
           "cheap."),
]

WORKED_EXAMPLES = [
    ("md", "# Worked examples: the gradients people derive most\n\n"
           "Each example builds the loss, draws the derivation, prints the closed form and the backprop recursion, "
           "and checks the result against the elementwise chain rule and finite differences. Sizes are symbolic; "
           "the checks pick small ones at random. Conventions: vectors are columns, gradients have the shape of the "
           "variable ($d\\ell = G : dX$), and $A : B = \\operatorname{tr}(A^\\top B)$."),
    ("code", SETUP + "\nn, m, k = mc.dims(\"n m k\")"),
    ("md", "## Least squares and ridge regression\n\n"
           "$\\ell = \\tfrac12\\lVert Ax - b\\rVert^2 + \\tfrac{\\lambda}{2}\\lVert x\\rVert^2$. The residual "
           "$r = Ax - b$ is named, so the recursion reads `δ_r = r` and the gradient `λ x + Aᵀ δ_r`, that is `λx + Aᵀr`: "
           "the normal equations $A^\\top(Ax - b) + \\lambda x = 0$ set it to zero."),
    ("code", "A, x, b = mc.matrix(\"A\", m, n), mc.vector(\"x\", n), mc.vector(\"b\", m)\nlam = mc.scalar(\"λ\")\n"
             "r = mc.let(\"r\", A @ x - b)\n"
             "ridge = mc.norm(r) ** 2 / 2 + lam * mc.norm(x) ** 2 / 2\n"
             "d = mc.derive(ridge, x)\nprint(d.view(\"backprop\"))\nprint(mc.grad(ridge, x))\n"
             "print(mc.check(ridge, x).ok)\nmc.draw(d)"),
    ("md", "## Logistic regression\n\n"
           "Labels $t \\in \\{0, 1\\}^m$, rows of $X$ are samples, probabilities $\\sigma(Xw)$ and the "
           "cross-entropy $-\\sum t \\odot \\log \\sigma(Xw) + (1 - t) \\odot \\log(1 - \\sigma(Xw))$. The logit "
           "$s = Xw$ is named; its adjoint is the famous `δ_s = σ(s) − t`, prediction minus label, because "
           "$\\sigma' = \\sigma(1 - \\sigma)$ cancels the two quotients."),
    ("code", "X, w, t = mc.matrix(\"X\", m, n), mc.vector(\"w\", n), mc.vector(\"t\", m)\n"
             "s = mc.let(\"s\", X @ w)\n"
             "logistic = -mc.sum(t * mc.log(mc.sigmoid(s)) + (1 - t) * mc.log(1 - mc.sigmoid(s)))\n"
             "d = mc.derive(logistic, w)\nprint(d.view(\"backprop\"))\nprint(mc.check(logistic, w).ok)\nmc.draw(d)"),
    ("md", "## Softmax cross-entropy\n\n"
           "$\\ell = -t^\\top \\log \\operatorname{softmax}(Wx)$ for a target distribution $t$. The adjoint of the "
           "logits is `δ_z = sum(t)softmax(z) − t`; declared to sum to one (a one-hot label, or any distribution), "
           "$t$ gives the familiar `δ_z = softmax(z) − t`. The weight gradient is the outer product `δ_z xᵀ`."),
    ("code", "W, x, t = mc.matrix(\"W\", k, n), mc.vector(\"x\", n), mc.vector(\"t\", k)\n"
             "z = mc.let(\"z\", W @ x)\ncross_entropy = -t.T @ mc.log(mc.softmax(z))\n"
             "print(mc.derive(cross_entropy, W).view(\"backprop\"))\n"
             "p = mc.vector(\"t\", k, sums_to_one=True)      # a target distribution\n"
             "cross_entropy = -p.T @ mc.log(mc.softmax(z))\n"
             "d = mc.derive(cross_entropy, W)\nprint(d.view(\"backprop\"))\n"
             "print(mc.check(cross_entropy, W).ok)\nmc.draw(d)"),
    ("md", "## A Gaussian log-likelihood in the mean and a symmetric covariance\n\n"
           "$\\ell = -\\tfrac12 \\log\\det\\Sigma - \\tfrac12 e^\\top \\Sigma^{-1} e$ with the residual $e = y - \\mu$ "
           "named. In $\\mu$ the gradient is `Σ⁻¹e`. $\\Sigma$ is declared symmetric, so its gradient is taken within "
           "symmetric matrices, $\\operatorname{sym}(G) = (G + G^\\top)/2$; it comes out as `(Σ⁻¹eeᵀΣ⁻¹ − Σ⁻¹)/2`, "
           "which is zero at the familiar estimate $\\Sigma = ee^\\top$ for one sample."),
    ("code", "S = mc.matrix(\"Σ\", n, n, symmetric=True)\nmu, y = mc.vector(\"μ\", n), mc.vector(\"y\", n)\n"
             "e = mc.let(\"e\", y - mu)\n"
             "gaussian = -mc.logdet(S) / 2 - e.T @ mc.inv(S) @ e / 2\n"
             "d = mc.derive(gaussian, [mu, S])\nprint(d.view(\"backprop\"))\n"
             "print(mc.grad(gaussian, mu))\nprint(mc.grad(gaussian, S))\n"
             "print(mc.check(gaussian, [mu, S]).ok)\nmc.draw(d)"),
    ("md", "## A two-layer network\n\n"
           "$h = \\tanh(W_1 x + b_1)$, $\\ell = \\tfrac12 \\lVert W_2 h + b_2 - t\\rVert^2$. The backprop view is the "
           "textbook recursion: `δ_z₁ = (W₂ᵀ δ_z₂) ⊙ (𝟏 − tanh(z₁)²)`, with `∂ℓ/∂W₁ = δ_z₁ xᵀ`."),
    ("code", "x, t = mc.vector(\"x\", n), mc.vector(\"t\", k)\n"
             "W1, b1, W2, b2 = mc.matrix(\"W1\", m, n), mc.vector(\"b1\", m), mc.matrix(\"W2\", k, m), mc.vector(\"b2\", k)\n"
             "z1 = mc.let(\"z1\", W1 @ x + b1)\nz2 = mc.let(\"z2\", W2 @ mc.tanh(z1) + b2)\n"
             "network = mc.norm(z2 - t) ** 2 / 2\n"
             "d = mc.derive(network, [W1, b1, W2, b2])\nprint(d.view(\"backprop\"))\n"
             "print(mc.check(network, [W1, b1, W2, b2]).ok)\nmc.draw(d)"),
    ("md", "## Matrix factorisation\n\n"
           "$\\ell = \\lVert X - UV^\\top \\rVert_F^2$ with $U$ of shape $m \\times k$ and $V$ of shape $n \\times k$. "
           "The residual $R = X - UV^\\top$ is named; the gradients are `−2RV` and `−2RᵀU`, and alternating least "
           "squares sets each to zero in turn."),
    ("code", "X, U, V = mc.matrix(\"X\", m, n), mc.matrix(\"U\", m, k), mc.matrix(\"V\", n, k)\n"
             "R = mc.let(\"R\", X - U @ V.T)\nfactorisation = mc.norm(R) ** 2\n"
             "d = mc.derive(factorisation, [U, V])\nprint(d.view(\"backprop\"))\n"
             "print(mc.grad(factorisation, U))\nprint(mc.grad(factorisation, V))\n"
             "print(mc.check(factorisation, [U, V]).ok)\nmc.draw(d)"),
]

MINIBATCH = [
    ("md", "# Training a two-layer network on minibatches with the compiled gradient\n\n"
           "A minibatch is a matrix: $X$ holds one sample per column ($d \\times N$), and the one-hot labels $T$ "
           "($k \\times N$) likewise. The network is $Z_1 = W_1 X + b_1$, $A_1 = \\tanh(Z_1)$, "
           "$Z_2 = W_2 A_1 + b_2$, with the bias added to every column, and the loss is the mean cross-entropy "
           "$\\ell = -\\operatorname{sum}(T \\odot \\log \\operatorname{softmax}(Z_2))/N$, softmax taken column by "
           "column. matcalc derives the backprop recursion for the whole batch at once, `mc.lambdify` compiles "
           "loss and gradients into one NumPy function, and plain gradient descent trains it."),
    ("code", SETUP + "\nd, h, k, N = mc.dims(\"d h k N\")\n"
             "X = mc.matrix(\"X\", d, N)\n"
             "T = mc.matrix(\"T\", k, N, columns_sum_to_one=True)   # one-hot labels: each column sums to one\n"
             "W1, b1 = mc.matrix(\"W1\", h, d), mc.vector(\"b1\", h)\n"
             "W2, b2 = mc.matrix(\"W2\", k, h), mc.vector(\"b2\", k)\n"
             "Z1 = mc.let(\"Z1\", W1 @ X + b1)\nA1 = mc.let(\"A1\", mc.tanh(Z1))\nZ2 = mc.let(\"Z2\", W2 @ A1 + b2)\n"
             "loss = -mc.sum(T * mc.log(mc.softmax(Z2))) / N\n"
             "weights = [W1, b1, W2, b2]\n"
             "d_loss = mc.derive(loss, weights)\nprint(d_loss.view(\"backprop\"))"),
    ("md", "The recursion is the per-sample one with matrices in place of vectors: `δ_Z₂ = (softmax(Z₂) − T)/N`, "
           "the error at the output for every sample at once; the bias gradients sum it over the batch, `δ_Z₂ 𝟏`; "
           "and the weight gradients `δ_Z₂ A₁ᵀ` and `δ_Z₁ Xᵀ` add the outer products of all samples in one matrix "
           "product."),
    ("code", "mc.draw(d_loss)"),
    ("md", "**Checked, then compiled.** `mc.check` compares all four gradients with central finite differences "
           "at small random sizes, all different so that a misplaced transpose cannot hide; `mc.lambdify` turns the "
           "loss and the four closed forms into one function that shares their common subexpressions."),
    ("code", "print(mc.check(loss, weights, dims={d: 3, h: 4, k: 5, N: 6}, oracles=(\"finite differences\",)))\n"
             "step = mc.lambdify([*weights, X, T], [loss, *mc.grad(loss, weights)])"),
    ("md", "**The data**: three classes in the plane, drawn from Gaussian blobs around three centres, 600 samples "
           "for training and 300 held out. The network has 16 hidden units and is trained by plain gradient descent "
           "on minibatches of 30 samples, 20 steps per pass over the data, passing the previous gradients back as "
           "`out` so the loop allocates no new arrays. The table records the loss on the whole training set and the "
           "accuracy on the held-out samples as training goes on."),
    ("code", "import numpy as np\n\n"
             "rng = np.random.default_rng(0)\n"
             "centres = np.array([[0.0, 2.0], [-1.8, -1.0], [1.8, -1.0]])\n\n"
             "def blobs(count):\n"
             "    labels = rng.integers(0, 3, size=count)\n"
             "    points = centres[labels] + rng.normal(scale=0.9, size=(count, 2))\n"
             "    return points.T, np.eye(3)[:, labels]                 # samples and one-hot labels as columns\n\n"
             "X_train, T_train = blobs(600)\nX_test, T_test = blobs(300)\n"
             "params = [rng.normal(size=(16, 2)) * 0.5, np.zeros((16, 1)), rng.normal(size=(3, 16)) * 0.5, np.zeros((3, 1))]\n\n"
             "def accuracy(params, X_data, T_data):\n"
             "    W1v, b1v, W2v, b2v = params\n"
             "    scores = W2v @ np.tanh(W1v @ X_data + b1v) + b2v\n"
             "    return np.mean(scores.argmax(axis=0) == T_data.argmax(axis=0))\n\n"
             "def training_loss(params):\n"
             "    return step(*params, X_train, T_train)[0]\n\n"
             "history = [(0, 0, training_loss(params), accuracy(params, X_test, T_test))]\n"
             "grads, rate, batch, steps = None, 0.1, 30, 0\n"
             "for epoch in range(1, 21):\n"
             "    order = rng.permutation(X_train.shape[1])\n"
             "    for start in range(0, len(order), batch):\n"
             "        cols = order[start:start + batch]\n"
             "        value, *grads = step(*params, X_train[:, cols], T_train[:, cols], out=None if grads is None else (None, *grads))\n"
             "        for p, g in zip(params, grads):\n"
             "            p -= rate * g\n"
             "        steps += 1\n"
             "        if steps in (5, 10, 20, 50, 100, 200, 400):\n"
             "            history.append((epoch, steps, training_loss(params), accuracy(params, X_test, T_test)))\n\n"
             "print(\"epoch   step   training loss   held-out accuracy\")\n"
             "for epoch, at, value, acc in history:\n"
             "    print(f\"{epoch:5d}  {at:5d}   {value:13.4f}   {acc:17.1%}   \" + \"#\" * round(40 * value / history[0][2]))"),
    ("md", "The loss falls fastest in the first pass over the data and then levels off, as the held-out accuracy "
           "rises and levels off with it; the bars show the loss as a fraction of its starting value. The three "
           "blobs overlap a little, so no network classifies every held-out point. The cell below checks the "
           "compiled gradients at the trained weights against NumPy backprop written out by hand."),
    ("code", "W1v, b1v, W2v, b2v = params\nXb, Tb = X_train[:, :32], T_train[:, :32]\n"
             "A1v = np.tanh(W1v @ Xb + b1v)\nZ2v = W2v @ A1v + b2v\n"
             "S = np.exp(Z2v - Z2v.max(axis=0)) / np.exp(Z2v - Z2v.max(axis=0)).sum(axis=0)\n"
             "D2 = (S - Tb) / Xb.shape[1]\nD1 = (W2v.T @ D2) * (1 - A1v ** 2)\n"
             "by_hand = [D1 @ Xb.T, D1.sum(axis=1, keepdims=True), D2 @ A1v.T, D2.sum(axis=1, keepdims=True)]\n"
             "compiled = step(*params, Xb, Tb)[1:]\n"
             "print(all(np.allclose(c, b) for c, b in zip(compiled, by_hand)))"),
    ("md", "**What to remember.** A minibatch changes nothing in the derivation: vectors become matrices with one "
           "column per sample, an outer product becomes a matrix product that sums over the batch, and a bias "
           "gradient sums the error's columns."),
]

TOUR = [
    ("md", "# A tour of matcalc\n\n"
           "Expressions and derivations display as LaTeX in Jupyter; `print` gives the same as text. A few closed "
           "forms first, each with respect to the variable named beside it:"),
    ("code", "from IPython.display import Math, display\n\n" + SETUP + "\n"
             "n, m = mc.dims(\"n m\")\nA, X = mc.matrix(\"A\", n, n), mc.matrix(\"X\", n, n)\n"
             "x, y = mc.vector(\"x\", n), mc.vector(\"y\", n)\n"
             "for loss, v in [(x.T @ A @ x, x), (mc.logdet(X), X), (mc.det(X), X), (mc.trace(A @ X @ A), X),\n"
             "                (x.T @ mc.inv(X) @ y, X), (mc.sum(mc.exp(A @ x)), x), (mc.frob(X, A @ X), X)]:\n"
             "    display(Math(f\"\\\\frac{{\\\\partial}}{{\\\\partial {mc.latex(v)}}}\\\\,{mc.latex(loss)} = {mc.latex(mc.grad(loss, v))}\"))\n"
             "    print(f\"{str(loss):>22}   wrt {v.label}:   {mc.grad(loss, v)}\")"),
    ("md", "A symmetric variable gets the gradient within symmetric matrices, $\\operatorname{sym}(G) = "
           "(G + G^\\top)/2$:"),
    ("code", "S = mc.matrix(\"S\", n, n, symmetric=True)\nmc.grad(x.T @ S @ x, S)"),
    ("md", "Softmax cross-entropy, its gradient and its Hessian:"),
    ("code", "W, u, t = mc.matrix(\"W\", n, m), mc.vector(\"u\", m), mc.vector(\"t\", n)\nz = mc.vector(\"z\", n)\n"
             "ce = -t.T @ mc.log(mc.softmax(W @ u))\ndisplay(mc.grad(ce, W))\nmc.hessian(-t.T @ mc.log(mc.softmax(z)), z)"),
    ("code", "print(mc.hessian(x.T @ A @ x + mc.sum(mc.tanh(A @ x)), x))\n"
             "print(mc.check(x.T @ A @ x + mc.sum(mc.tanh(A @ x)), x, order=2).ok)"),
    ("md", "### Derivations\n\n"
           "`mc.derive` writes the derivation as data: one named rule per step, in four views. The differential view "
           "displays as LaTeX; the backprop view names the adjoints of the named intermediates."),
    ("code", "b = mc.vector(\"b\", n)\nzz = mc.let(\"z\", W @ u + b)\n"
             "loss = mc.sum((mc.sigmoid(zz) - t) ** 2) / 2\n"
             "d = mc.derive(loss, W)\nd"),
    ("code", "print(d.view(\"backprop\"))"),
    ("md", "### Pictures\n\n"
           "`mc.draw` draws the same derivation: each node once with its operation and shape, in red its adjoint, "
           "and on each edge the rule that carried the adjoint back. `mc.draw(expression)` draws the expression "
           "alone; `values=` adds each node's numeric shape and norm; `.save(\"picture.svg\")` writes SVG, PNG or "
           "PDF."),
    ("code", "import numpy as np\n\nrng = np.random.default_rng(0)\n"
             "mc.draw(d, values={\"W\": rng.normal(size=(3, 4)), \"u\": rng.normal(size=4), \"b\": rng.normal(size=3),\n"
             "                   \"t\": np.eye(3)[0]})"),
    ("md", "Strings in the matrixcalculus.org syntax:"),
    ("code", "e = mc.parse(\"sum(log(exp(-y.*(X*w)) + vector(1)))\")\nprint(e, \"→\", mc.grad(e, e.variables[\"w\"]))"),
    ("md", "Fast NumPy code, and standalone source to paste into a project:"),
    ("code", "f = mc.lambdify([W, u, t], [ce, mc.grad(ce, W)])\n"
             "value, gradient = f(rng.normal(size=(3, 4)), rng.normal(size=4), np.eye(3)[0])\nprint(value, gradient.shape)\n"
             "source = mc.to_numpy_source([W, u, t], [ce, mc.grad(ce, W)], name=\"cross_entropy\")\n"
             "print(source[source.index(\"def cross_entropy\"):].split(\"\\n\\n\\n\")[0])   # the function itself"),
]

NOTEBOOKS = {
    "seed_000_linear_network.ipynb": SEED_000,
    "seed_001_delta_recursion.ipynb": SEED_001,
    "seed_002_index_and_matrix_form.ipynb": SEED_002,
    "seed_003_frobenius_total_derivative.ipynb": SEED_003,
    "seed_004_transpose_reverses_the_chain.ipynb": SEED_004,
    "worked_examples.ipynb": WORKED_EXAMPLES,
    "minibatch_training.ipynb": MINIBATCH,
    "tour.ipynb": TOUR,
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


def main(prefixes: list[str]) -> None:
    for name, cells in NOTEBOOKS.items():
        if prefixes and not name.startswith(tuple(prefixes)):
            continue
        notebook = execute(build(name, cells))
        for cell in notebook.cells:  # stable files: ids from the position, no execution timestamps
            cell.id = f"cell-{notebook.cells.index(cell)}"
            cell.metadata.pop("execution", None)
        nbformat.write(notebook, HERE / name)
        print("wrote", name)


if __name__ == "__main__":
    main(sys.argv[1:])
