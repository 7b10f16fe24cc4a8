"""Bilinear operations: one adjoint per argument, each linear in the incoming adjoint G."""

from __future__ import annotations

import sympy

from .. import sympy_forms
from ..errors import OperandError, ShapeError
from ..expr import Const, Expr, Identity, make
from ..printing.notation import PREC_HADAMARD, PREC_POSTFIX, PREC_PRODUCT, Notation, infix, template
from ..shapes import dim_product, is_one, same_dim, shape_str
from .linear import Add, Commutation, DiagMat, Transpose, Unvec, Vec, transpose_of


def product_rule(node: Expr, dargs: list) -> Expr:
    """d op(A₁, …, Aₖ) = Σᵢ op(A₁, …, dAᵢ, …, Aₖ) for an operation linear in each argument."""
    terms = []
    for index, d in enumerate(dargs):
        if d is not None:
            terms.append(make(type(node), node.args[:index] + (d,) + node.args[index + 1 :], node.params))
    return terms[0] if len(terms) == 1 else make(Add, tuple(terms))


def _product(factors: list) -> Expr:
    return factors[0] if len(factors) == 1 else make(MatMul, tuple(factors))


class MatMul(Expr):
    """A chain of matrix products A₁A₂⋯Aₖ."""

    __slots__ = ()
    name = "matmul"
    index_rule = "contraction"
    notation = Notation("product", "", "", "*", PREC_PRODUCT)
    family = "bilinear"
    why = "C:AB = CBᵀ:A = AᵀC:B — the adjoint of a factor is what stands left of it, transposed, times C, times what stands right of it, transposed"
    why_latex = r"C:AB = CB^\top:A = A^\top C:B"

    @classmethod
    def shape_rule(cls, args, params):
        for left, right in zip(args, args[1:]):
            if not same_dim(left.shape[1], right.shape[0]):
                raise ShapeError(
                    f"matmul: ({shape_str(left.shape)}) @ ({shape_str(right.shape)}): "
                    f"inner dimensions {left.shape[1]} and {right.shape[0]} differ"
                )
        return (args[0].shape[0], args[-1].shape[1])

    @property
    def symmetric_by_structure(self):
        # A chain that reads the same backwards with every factor transposed, e.g. AᵀA or XᵀSX.
        factors = self.args
        return self.is_scalar or all(
            transpose_of(a) is b for a, b in zip(factors, reversed(factors))
        )

    def pullback(self, index, adjoint):
        left, right = self.args[:index], self.args[index + 1 :]
        factors = []
        if left:
            factors.append(make(Transpose, (_product(list(left)),)))
        factors.append(adjoint)
        if right:
            factors.append(make(Transpose, (_product(list(right)),)))
        return _product(factors)

    differential = product_rule

    def vec_jacobian(self, index):
        """vec(P dA Q) = (Qᵀ ⊗ P) vec(dA), P and Q the products left and right of the factor (I
        where there is none).  For a column P and a row Qᵀ that Kronecker product is the outer
        product PQᵀ, and is written so: the two forms cost the same, so no rewrite would choose."""
        factor = self.args[index]
        left, right = list(self.args[:index]), list(self.args[index + 1 :])
        before = _product(left) if left else make(Identity, (), (factor.shape[0],))
        after = transpose_of(_product(right)) if right else make(Identity, (), (factor.shape[1],))
        if is_one(after.shape[0]) and is_one(before.shape[1]):
            return make(MatMul, (before, after))
        return make(Kron, (after, before))

    def numpy_code(self, args, dim_code):
        return "(" + " @ ".join(args) + ")"

    def entrywise(self, args, size):
        result = args[0]
        for factor in args[1:]:
            result = result * factor
        return result

    def sympy_form(self, args):  # SymPy's * is the matrix product, and a 1×1 factor a coefficient
        return sympy_forms.product([a.is_scalar for a in self.args], args, sympy_forms.matrix_product)



def negated(node: Expr) -> Expr | None:
    """X when the node is −X (a scale by the constant −1), else None."""
    if isinstance(node, Scale) and isinstance(node.args[0], Const) and node.args[0].value == -1:
        return node.args[1]
    return None


class Scale(Expr):
    """s·X: a scalar (1×1) expression s times X of any shape."""

    __slots__ = ()
    name = "scale"
    index_rule = "scale"
    notation = Notation("scale", "", "", "*", PREC_PRODUCT)
    family = "bilinear"
    why = "C:(sX) = s(C:X) — a scalar factor passes through; the scalar itself receives C:X"
    why_latex = r"C:(sX) = s\,(C:X)"

    @classmethod
    def shape_rule(cls, args, params):
        if args[0].shape != (1, 1):
            raise ShapeError(f"scale: the factor must be a scalar, got {shape_str(args[0].shape)}")
        return args[1].shape

    @property
    def symmetric_by_structure(self):
        return self.args[1].is_symmetric

    def pullback(self, index, adjoint):
        coefficient, body = self.args
        if index == 1:
            return make(Scale, (coefficient, adjoint))
        if body.shape == (1, 1):
            return make(Scale, (adjoint, body))
        return make(Frob, (adjoint, body))

    differential = product_rule

    def vec_jacobian(self, index):
        """vec(ds X) = vec(X) ds; vec(s dX) = s vec(dX)."""
        coefficient, body = self.args
        if index == 0:
            return make(Vec, (body,))
        return make(Scale, (coefficient, make(Identity, (), (dim_product(*body.shape),))))

    def numpy_code(self, args, dim_code):
        return f"({args[0]} * {args[1]})"

    def numpy_ufunc(self, args, dim_code):
        return "np.multiply", args

    def jax_code(self, args, dim_code):
        return f"({args[0]} * {args[1]})"

    def torch_code(self, args, dim_code):
        return f"({args[0]} * {args[1]})"

    def entrywise(self, args, size):
        return args[0][0, 0] * args[1]

    def sympy_form(self, args):
        return sympy_forms.scalar_of(args[0]) * args[1]



class Hadamard(Expr):
    """A ⊙ B: the elementwise product of two matrices of one shape."""

    __slots__ = ()
    name = "hadamard"
    index_rule = "entrywise_product"
    notation = infix(" ⊙ ", " \\odot ", ".*", PREC_HADAMARD, PREC_POSTFIX, chain=True)
    family = "bilinear"
    why = "C:(A ⊙ B) = (C ⊙ B):A — an elementwise factor multiplies the adjoint elementwise"
    why_latex = r"C:(A \odot B) = (C \odot B):A"

    @classmethod
    def shape_rule(cls, args, params):
        a, b = args
        if not (same_dim(a.shape[0], b.shape[0]) and same_dim(a.shape[1], b.shape[1])):
            raise ShapeError(
                f"hadamard: ({shape_str(a.shape)}) * ({shape_str(b.shape)}): shapes differ "
                "(elementwise products need equal shapes; only scalars broadcast)"
            )
        return a.shape

    @property
    def symmetric_by_structure(self):
        return all(arg.is_symmetric for arg in self.args)

    def pullback(self, index, adjoint):
        return make(Hadamard, (adjoint, self.args[1 - index]))

    differential = product_rule

    def vec_jacobian(self, index):
        """vec(dA ⊙ B) = diag(vec B) vec(dA)."""
        return make(DiagMat, (make(Vec, (self.args[1 - index],)),))

    def numpy_code(self, args, dim_code):
        return f"({args[0]} * {args[1]})"

    def numpy_ufunc(self, args, dim_code):
        return "np.multiply", args

    def jax_code(self, args, dim_code):
        return f"({args[0]} * {args[1]})"

    def torch_code(self, args, dim_code):
        return f"({args[0]} * {args[1]})"

    def entrywise(self, args, size):
        return args[0].multiply_elementwise(args[1])

    def sympy_form(self, args):
        if self.is_scalar:
            return sympy.Mul(*[sympy_forms.scalar_of(a) for a in args])
        return sympy.HadamardProduct(*args)



class Frob(Expr):
    """A:B = tr(AᵀB), the Frobenius inner product: the sum of the entrywise products.

    Parameters
    ----------
    a, b : Expr or number
        Two expressions of one shape.

    Returns
    -------
    Expr
        A scalar.

    Raises
    ------
    ShapeError
        For shapes that differ.

    Examples
    --------
    >>> A, X = mc.matrix("A", 2, 3), mc.matrix("X", 2, 3)
    >>> print(mc.grad(mc.frob(A, X), X))
    A
    """

    __slots__ = ()
    name = "frob"
    index_rule = "frobenius"
    api = "frob"
    signatures = ("(a,b),(a,b)->(1,1)",)
    syntax = ()
    arity = 2
    notation = infix(" : ", " : ", "", PREC_HADAMARD, PREC_PRODUCT)
    family = "bilinear"
    why = "g(A:B) = gB:A = gA:B"
    why_latex = r"g\,(A:B) = gB:A = gA:B"

    @classmethod
    def shape_rule(cls, args, params):
        a, b = args
        if not (same_dim(a.shape[0], b.shape[0]) and same_dim(a.shape[1], b.shape[1])):
            raise ShapeError(f"frob: ({shape_str(a.shape)}) : ({shape_str(b.shape)}): shapes differ")
        return (1, 1)

    def pullback(self, index, adjoint):
        return make(Scale, (adjoint, self.args[1 - index]))

    differential = product_rule

    def vec_jacobian(self, index):
        """B:dA = vec(B)ᵀ vec(dA)."""
        return make(Transpose, (make(Vec, (self.args[1 - index],)),))

    def numpy_code(self, args, dim_code):
        return f"np.sum({args[0]} * {args[1]}).reshape(1, 1)"

    def jax_code(self, args, dim_code):
        return f"jnp.sum({args[0]} * {args[1]}).reshape(1, 1)"

    def torch_code(self, args, dim_code):
        return f"torch.sum({args[0]} * {args[1]}).reshape(1, 1)"

    def entrywise(self, args, size):
        a, b = args
        return sympy.Matrix([[sympy.Add(*[a[k] * b[k] for k in range(len(a))])]])

    def sympy_form(self, args):
        a, b = args
        if sympy_forms.is_matrix(a) and sympy_forms.is_matrix(b):
            return sympy.Trace(sympy.Transpose(a) * b)
        return sympy_forms.scalar_of(a) * sympy_forms.scalar_of(b)



class Kron(Expr):
    """A ⊗ B, the Kronecker product.

    Parameters
    ----------
    a, b : Expr or number
        Any two expressions, m×n and p×q.

    Returns
    -------
    Expr
        The mp×nq block matrix [a_ij B].

    Examples
    --------
    >>> A, B = mc.matrix("A", 2, 3), mc.matrix("B", 4, 5)
    >>> mc.kron(A, B).shape
    (8, 15)
    >>> mc.check(mc.sum(mc.kron(A, B)), B).ok
    True
    """

    __slots__ = ()
    name = "kron"
    api = "kron"
    syntax = ()
    arity = 2
    notation = infix(" ⊗ ", " \\otimes ", "", PREC_HADAMARD, PREC_POSTFIX)
    family = "bilinear"
    why = "C:(A ⊗ B) contracts each block of C with B (for A) or each block entry with A (for B)"
    why_latex = r"C:(A \otimes B) = C_B:A = C_A:B"

    @classmethod
    def shape_rule(cls, args, params):
        a, b = args
        return (dim_product(a.shape[0], b.shape[0]), dim_product(a.shape[1], b.shape[1]))

    def pullback(self, index, adjoint):
        return make(KronContract, (adjoint, self.args[1 - index]), (index,))

    differential = product_rule

    def vec_jacobian(self, index):
        """vec(dA ⊗ B) = P(I ⊗ vec B) vec(dA), vec(A ⊗ dB) = P(vec A ⊗ I) vec(dB), with P of _kron_reordering."""
        return _kron_factor_jacobian(self.args[index].shape, self.args[1 - index], index)

    def numpy_code(self, args, dim_code):
        return f"np.kron({args[0]}, {args[1]})"

    def jax_code(self, args, dim_code):
        return f"jnp.kron({args[0]}, {args[1]})"

    def torch_code(self, args, dim_code):
        return f"torch.kron({args[0]}, {args[1]})"

    def entrywise(self, args, size):
        a, b = args
        p, q = b.shape
        return sympy.Matrix(a.rows * p, a.cols * q, lambda r, c: a[r // p, c // q] * b[r % p, c % q])

    def sympy_form(self, args):  # a ⊗ B = aB for a 1×1 factor a
        return sympy_forms.product([a.is_scalar for a in self.args], args, sympy_forms.kronecker_product)



class KronContract(Expr):
    """The adjoint of a Kronecker factor: G contracted with the other factor F.

    side 0 (the adjoint of A in A ⊗ F): result[i, j] = Σ_kl G[i·p + k, j·q + l] F[k, l].
    side 1 (the adjoint of B in F ⊗ B): result[k, l] = Σ_ij G[i·p + k, j·q + l] F[i, j].
    """

    __slots__ = ()
    name = "kron_contract"

    @property
    def notation(self):
        side = self.params[0] + 1
        # G₍ᵢⱼ₎ is G's (i, j) block, of the other factor's shape: side 0 is the matrix of the
        # blocks' inner products with B, side 1 the sum of the blocks weighted by A's entries
        if side == 1:
            return template("[{0}₍ᵢⱼ₎ : {1}]ᵢⱼ", "\\left[{0}_{(ij)} : {1}\\right]_{ij}")
        return template("Σᵢⱼ {1}ᵢⱼ{0}₍ᵢⱼ₎", "\\sum_{ij} {1}_{ij} {0}_{(ij)}")
    family = "bilinear"
    why = "C:(A ⊗ B) = C_B:A where C_B contracts each block of C with B"
    why_latex = r"C:\operatorname{kron}^*(G, B) = G:(C \otimes B)"

    @classmethod
    def shape_rule(cls, args, params):
        adjoint, other = args
        (side,) = params
        rows = sympy.simplify(sympy.sympify(adjoint.shape[0]) / other.shape[0])
        cols = sympy.simplify(sympy.sympify(adjoint.shape[1]) / other.shape[1])
        if not (rows.is_integer and cols.is_integer) or (rows.is_number and rows < 1):
            raise ShapeError(
                f"kron_contract: ({shape_str(adjoint.shape)}) does not split into blocks of "
                f"({shape_str(other.shape)})"
            )
        rows = int(rows) if rows.is_Integer else rows
        cols = int(cols) if cols.is_Integer else cols
        return (rows, cols)

    def pullback(self, index, adjoint):
        (side,) = self.params
        _, other = self.args
        if index == 0:
            pair = (adjoint, other) if side == 0 else (other, adjoint)
            return make(Kron, pair)
        return make(KronContract, (self.args[0], adjoint), (1 - side,))

    differential = product_rule

    def vec_jacobian(self, index):
        """In G it is the adjoint of the Kronecker factor's map, whose matrix is transposed.  In F,
        entry e of the result is ⟨the factor E_e ⊗ F (or F ⊗ E_e), G⟩ = hᵀ(e ⊗ I) vec F (or
        hᵀ(I ⊗ e) vec F) with h = Pᵀ vec G: its rows are h cut into blocks (or strided)."""
        (side,) = self.params
        g, other = self.args
        if index == 0:
            return make(Transpose, (_kron_factor_jacobian(self.shape, other, side),))
        shapes = (self.shape, other.shape) if side == 0 else (other.shape, self.shape)
        h = make(MatMul, (make(Transpose, (_kron_reordering(*shapes),)), make(Vec, (g,))))
        own, others = dim_product(*self.shape), dim_product(*other.shape)
        if side == 0:
            return make(Transpose, (make(Unvec, (h,), (others, own)),))
        return make(Unvec, (h,), (own, others))

    def numpy_code(self, args, dim_code):
        rows, cols = (dim_code(d) for d in self.shape)
        (side,) = self.params
        return f"_kron_contract({args[0]}, {args[1]}, {side}, {rows}, {cols})"

    jax_code = numpy_code  # each backend's runtime has its own _kron_contract
    torch_code = numpy_code

    def entrywise(self, args, size):
        g, other = args
        p, q = other.shape
        rows, cols = size(self.shape[0]), size(self.shape[1])
        if self.params[0] == 0:
            return sympy.Matrix(rows, cols, lambda i, j: sympy.Add(*[g[i * p + k, j * q + c] * other[k, c] for k in range(p) for c in range(q)]))
        return sympy.Matrix(rows, cols, lambda k, c: sympy.Add(*[g[i * rows + k, j * cols + c] * other[i, j] for i in range(p) for j in range(q)]))

    def sympy_form(self, args):
        raise OperandError(f"to_sympy: KronContract has no counterpart in SymPy (it is the adjoint of a Kronecker "
                           f"factor, which SymPy does not write): {str(self)[:80]}")


def _kron_reordering(a_shape, b_shape) -> Expr:
    """P with vec(A ⊗ B) = P(vec A ⊗ vec B) for A m×n and B p×q: P = I_n ⊗ K(q, m) ⊗ I_p
    (Magnus and Neudecker, Matrix Differential Calculus, ch. 3, the commutation matrix)."""
    (m, n), (p, q) = a_shape, b_shape
    inner = make(Kron, (make(Identity, (), (n,)), make(Commutation, (), (q, m))))
    return make(Kron, (inner, make(Identity, (), (p,))))


def _kron_factor_jacobian(factor_shape, other: Expr, side: int) -> Expr:
    """∂vec(F₀ ⊗ F₁)/∂vec(F_side), where the factor at ``side`` has ``factor_shape`` and ``other`` is the other factor."""
    identity = make(Identity, (), (dim_product(*factor_shape),))
    if side == 0:
        return make(MatMul, (_kron_reordering(factor_shape, other.shape), make(Kron, (identity, make(Vec, (other,))))))
    return make(MatMul, (_kron_reordering(other.shape, factor_shape), make(Kron, (make(Vec, (other,)), identity))))
