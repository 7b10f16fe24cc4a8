"""Reverse accumulation over the expression DAG, with each node's Frobenius rule as pullback.

Read it as micrograd with matrices: sort the DAG, walk it from the loss backwards, and
hand each node's adjoint G to its arguments through the node's pullback (the rule
G:dY = Aᵢ:dXᵢ).  A node that is reached along several paths sums what arrives before it
passes anything on, so a variable used many times gets its total derivative and a
shared subexpression is differentiated once: a depth-L network costs O(L).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .errors import DifferentiationError
from .expr import Const, Expr, Symbol, Zero, make
from .ops import Add, Scale, Transpose
from .printing.common import postorder
from .shapes import shape_str
from .simplify import Simplifier


def _check_variables(wrt, where: str) -> tuple[list[Symbol], bool]:
    single = isinstance(wrt, Expr)
    variables = [wrt] if single else list(wrt) if isinstance(wrt, (list, tuple)) else None
    if not variables:
        raise DifferentiationError(f"{where}: give a variable or a non-empty list of variables, got {wrt!r}")
    for v in variables:
        if not isinstance(v, Symbol):
            what = str(v) if isinstance(v, Expr) else repr(v)
            raise DifferentiationError(
                f"{where}: can only differentiate with respect to a variable (matrix, vector or scalar), "
                f"not {what}"
            )
    return variables, single


def _check_loss(loss, where: str) -> Expr:
    if not isinstance(loss, Expr):
        raise DifferentiationError(f"{where}: the loss must be a matcalc expression, got {type(loss).__name__}")
    if not loss.is_scalar:
        raise DifferentiationError(
            f"{where}: loss has shape {shape_str(loss.shape)}; grad needs a scalar; see jacobian"
        )
    return loss


def depends_on(root: Expr, variables) -> set[Expr]:
    """The nodes below ``root`` (itself included) whose value depends on a variable."""
    targets = set(variables)
    dependent: set[Expr] = set()
    for node in postorder([root]):
        if node in targets or any(child in dependent for child in node.args):
            dependent.add(node)
    return dependent


@dataclass
class Adjoints:
    """The raw (unsimplified) adjoint ∂ℓ/∂node of every node that depends on a variable.

    ``order`` lists the nodes from the loss towards the leaves, as they were visited.
    """

    loss: Expr
    adjoint: dict
    order: list


def backward(loss: Expr, variables) -> Adjoints:
    """Accumulate adjoints from ``loss`` (a scalar) back to the nodes that reach ``variables``."""
    dependent = depends_on(loss, variables)
    arriving: dict[Expr, list[Expr]] = {loss: [make(Const, (), (1,))]}
    adjoint: dict[Expr, Expr] = {}
    visited = []
    for node in reversed(postorder([loss])):
        parts = arriving.pop(node, None)
        if parts is None or node not in dependent:
            continue
        g = parts[0] if len(parts) == 1 else make(Add, tuple(parts))
        adjoint[node] = g
        visited.append(node)
        for index, child in enumerate(node.args):
            if child in dependent:
                arriving.setdefault(child, []).append(node.pullback(index, g))
    return Adjoints(loss, adjoint, visited)


def symmetric_part(g: Expr) -> Expr:
    """sym(G) = (G + Gᵀ)/2: the gradient in the space of symmetric matrices."""
    return make(Scale, (make(Const, (), (Fraction(1, 2),)), make(Add, (g, make(Transpose, (g,))))))


def raw_gradient(adjoints: Adjoints, variable: Symbol) -> Expr:
    g = adjoints.adjoint.get(variable)
    if g is None:
        return make(Zero, (), variable.shape)
    return symmetric_part(g) if variable.is_symmetric and not variable.is_scalar else g


def grad(loss: Expr, wrt, simplify: bool = True):
    """The gradient of a scalar loss, in denominator layout (the shape of the variable).

    ``wrt`` is a variable or a list of them (then a list comes back).  For a symmetric
    matrix variable the gradient is sym(G) = (G + Gᵀ)/2, the gradient within symmetric
    matrices.

    >>> from matcalc import matrix, vector
    >>> A, x = matrix("A", 3, 3), vector("x", 3)
    >>> str(grad(x.T @ A @ x, x))
    '(A + Aᵀ)x'
    """
    loss = _check_loss(loss, "grad")
    variables, single = _check_variables(wrt, "grad")
    adjoints = backward(loss, variables)
    results = [raw_gradient(adjoints, v) for v in variables]
    if simplify:
        simplifier = Simplifier()
        results = [simplifier(r) for r in results]
    return results[0] if single else results
