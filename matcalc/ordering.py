"""The ordering that makes simplification terminate: every rewrite it keeps makes the expression
smaller in it.

An expression's cost is a tuple compared lexicographically, each entry a sum over the nodes of
its tree (a shared node counts wherever it occurs; a named intermediate is one name), so no
part of an expression costs more than the whole:

1. explicit diagonal matrices diag(v) (a product scales by v instead);
2. how far transposes stand from the leaves: for each transpose, the size of what it
   transposes, less one (Xᵀ of a variable costs nothing, (AB)ᵀ costs |A| + |B|; X⁻ᵀ of a
   variable costs nothing either: it is one mark, and (XᵀA)⁻¹A = X⁻ᵀ must be able to get smaller);
3. the size: 2 for each occurrence of a variable (AX + BX has four, (A + B)X three), and
   each operation's weight: numbers, 0 and I are free, a scaling costs 1, a power 2, an
   inverse 3, the adjoint of a Kronecker factor 3, an operation of k arguments k; so factoring
   pays, and so does writing a deep
   nest of quotients as one rational function;
4. disorder: a scalar factor inside a product, a power, a trace or a sum instead of in front
   of it, a number behind a symbolic scalar, a sum that starts with a negative term, a
   transpose written before the term it transposes.

Entries are natural numbers, so there is no infinite descending chain.  The simplifier keeps a
rewrite only when its result costs less than every form the position had before, so each
position is rewritten finitely often, and since everything it then visits costs less than
where it came from, the whole simplification is finite.
"""

from __future__ import annotations

from .expr import Const, Expr, Identity, Let, Symbol, Zero
from .graph import postorder
from .ops import Add, DiagMat, Frob, Hadamard, Inverse, Kron, KronContract, MatMul, Power, Scale, Sum, Trace, Transpose

Cost = tuple[int, int, int, int]

# operations whose scalar factors belong in front of them: A(sB) = s(AB), (sX)ᵀ = sXᵀ, ...
_SCALARS_IN_FRONT = (MatMul, Hadamard, Frob, Kron, KronContract, Power, Trace, Sum, Transpose)


_NAME_WEIGHT = 2  # an occurrence of a variable or named intermediate, in units of an operation's weight


def _is_number(node: Expr) -> bool:
    return isinstance(node, Const) and not hasattr(node.value, "free_symbols")


def _inverse_of_a_name(node: Expr) -> bool:
    return isinstance(node, Inverse) and isinstance(node.args[0], (Symbol, Let))


def _leading_number(term: Expr):
    """The number a term starts with: −3 for −3X, 1 for X."""
    if _is_number(term):
        return term.value
    if isinstance(term, Scale) and _is_number(term.args[0]):
        return term.args[0].value
    return 1


def _weight(node: Expr) -> int:
    """An operation's own weight: numbers, 0 and I are free, a scaling costs less than a
    product, a power more than 𝟏 (so X⁰ = 𝟏 is smaller), an inverse more than a power, an
    operation of k arguments k (so flattening A(BC) into ABC pays)."""
    if isinstance(node, (Const, Zero, Identity)):
        return 0
    if isinstance(node, Power):
        return 2
    if isinstance(node, Inverse):
        return 3  # s⁻¹ of a scalar is the power s⁻¹
    if isinstance(node, KronContract):
        return 3  # a contraction over blocks, Σᵢⱼ Aᵢⱼ G₍ᵢⱼ₎: more than a product, so tr(A)I is smaller
    if isinstance(node, Scale) or not node.args:
        return 1
    return len(node.args)


class Costs:
    """Each node's cost, computed once per node (and the tree sizes and scalar chains it needs)."""

    def __init__(self):
        self._cost: dict[Expr, Cost] = {}
        self._size: dict[Expr, int] = {}
        self._scales: dict[Expr, int] = {}  # how many scalings stand one inside the other at the top

    def __call__(self, root: Expr) -> Cost:
        if root not in self._cost:
            for node in postorder([root], self._unpriced):  # priced nodes end the walk
                if node not in self._cost:
                    self._add(node)
        return self._cost[root]

    def _unpriced(self, node: Expr) -> bool:
        return node not in self._cost and not isinstance(node, Let)

    def _add(self, node: Expr) -> None:
        self._scales[node] = 1 + self._scales[node.args[1]] if isinstance(node, Scale) else 0
        if isinstance(node, (Symbol, Let)):  # a name, whatever it stands for
            self._size[node], self._cost[node] = 1, (0, 0, _NAME_WEIGHT, 0)
            return
        diagonals, transposes, size, disorder = int(isinstance(node, DiagMat)), 0, _weight(node), self._disorder(node)
        tree_size = 1
        for arg in node.args:
            d, t, s, o = self._cost[arg]
            diagonals, transposes, size, disorder = diagonals + d, transposes + t, size + s, disorder + o
            tree_size += self._size[arg]
        if isinstance(node, Transpose):  # X⁻ᵀ of a name is one mark, as Xᵀ is: (XᵀA)⁻¹A reaches X⁻ᵀ
            transposes += self._size[node.args[0]] - (2 if _inverse_of_a_name(node.args[0]) else 1)
        self._size[node] = tree_size
        self._cost[node] = (diagonals, transposes, size, disorder)

    def _disorder(self, node: Expr) -> int:
        """How far this node itself is from the written order (its arguments count on their own)."""
        if isinstance(node, _SCALARS_IN_FRONT):
            # a scalar caught inside an operation weighs more than scalars in the wrong order, so
            # pulling one out pays even when it leaves (st)u for combine_scalar_powers to nest
            scalar_factors = sum(arg.is_scalar for arg in node.args) if isinstance(node, MatMul) else 0
            return 2 * (scalar_factors + sum(self._scales[arg] for arg in node.args))
        if isinstance(node, Scale):
            return _scale_disorder(node)
        if isinstance(node, Add):
            return _sum_disorder(node)
        return 0


def _scale_disorder(node: Expr) -> int:
    """sX is in order with numbers in front and one symbolic factor after them: 2(hX), not
    (2h)X, h(2X), or h(kX) for a matrix X (that is (hk)X); a product of scalars nests to the right."""
    coefficient, body = node.args
    # (2h)X is 2(hX); a product of scalars nests to the right: s(tu), not (st)u
    disorder = int(isinstance(coefficient, Scale) and (node.is_scalar or _is_number(coefficient.args[0])))
    if not _is_number(coefficient) and _is_number(body):
        disorder += 1
    if not _is_number(coefficient) and isinstance(body, Scale):
        disorder += int(_is_number(body.args[0])) + 2 * int(not body.is_scalar)  # h(kX) is (hk)X
    return disorder


def _sum_disorder(node: Expr) -> int:
    """A sum is in order starting with a positive term, each term before its transpose (cA + Aᵀ)."""
    signs = [_leading_number(term) < 0 for term in node.args]
    disorder = 2 * int(signs[0] and not all(signs))  # a sign in front outweighs the order of a transposed pair
    seen = set()
    for term in node.args:
        core = term.args[1] if isinstance(term, Scale) and _is_number(term.args[0]) else term
        if isinstance(core, Transpose):
            seen.add(core.args[0])
        elif core in seen:
            disorder += 1
    return disorder
