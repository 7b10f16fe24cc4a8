"""Reverse accumulation over the expression DAG, with each node's Frobenius rule as pullback.

Read it as micrograd with matrices: sort the DAG, walk it from the loss backwards, and
hand each node's adjoint G to its arguments through the node's pullback (the rule
G:dY = Aᵢ:dXᵢ).  A node that is reached along several paths sums what arrives before it
passes anything on, so a variable used many times gets its total derivative and a
shared subexpression is differentiated once: a depth-L network costs O(L).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from typing import overload

from .errors import DifferentiationError
from .expr import Const, Expr, Symbol, Zero, make
from .ops import Add, Scale, Transpose
from .printing.common import postorder
from .shapes import shape_str
from .simplify import Simplifier, named_intermediates


def validated_variables(wrt, where: str) -> tuple[list[Symbol], bool]:
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
        if v.columns_sum_to_one:
            raise DifferentiationError(
                f"{where}: {v.label} is declared to have columns that sum to one: it is data (targets, "
                "probabilities), not a variable to differentiate; declare it without that to differentiate it"
            )
    return variables, single


def validated_loss(loss, where: str) -> Expr:
    if not isinstance(loss, Expr):
        raise DifferentiationError(f"{where}: the loss must be a matcalc expression, got {type(loss).__name__}")
    if not loss.is_scalar:
        raise DifferentiationError(
            f"{where}: loss has shape {shape_str(loss.shape)}; a gradient needs a scalar loss; see jacobian"
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
    """The raw (unsimplified) adjoint ∂ℓ/∂node of every node that depends on a variable."""

    loss: Expr
    adjoint: dict


class Observer:
    """What a reverse sweep tells whoever watches it (derive records a derivation from it).

    Each method may be overridden; left as it is, each does what plain differentiation needs.
    """

    def gathered(self, node: Expr, parts: list[Expr]) -> Expr:
        """The adjoints that arrived at ``node`` along its paths, summed."""
        return parts[0] if len(parts) == 1 else make(Add, tuple(parts))

    def passing(self, node: Expr, adjoint: Expr) -> Expr:
        """The adjoint the node hands its arguments (derive names a let's: δ_z)."""
        return adjoint

    def pulled(self, node: Expr, contributions: list[tuple[Expr, Expr]]) -> list[tuple[Expr, Expr]]:
        """Each argument's share, (argument, adjoint), by the node's pullback rule."""
        return contributions

    def complete(self, variable: Symbol, adjoint: Expr) -> None:
        """Every contribution to ``variable`` has arrived: its gradient is ``adjoint``."""


_PLAIN = Observer()


def backward(loss: Expr, variables, observe: Observer = _PLAIN) -> Adjoints:
    """Accumulate adjoints from ``loss`` (a scalar) back to the nodes that reach ``variables``.

    Nodes are visited from the loss towards the leaves; a node passes its adjoint on once
    everything has arrived at it, and a variable is complete as soon as its last contribution
    arrives.  ``observe`` is told each of these events.
    """
    dependent = depends_on(loss, variables)
    order = [node for node in reversed(postorder([loss])) if node in dependent]
    targets = set(variables)
    pending = Counter(child for node in order for child in node.args if child in dependent)
    arriving: dict[Expr, list[Expr]] = {loss: [make(Const, (), (1,))]}
    adjoint: dict[Expr, Expr] = {}
    for node in order:
        parts = arriving.pop(node, None)
        if parts is None:
            continue
        adjoint[node] = observe.gathered(node, parts)
        if node in targets:  # the loss is itself a variable
            observe.complete(node, adjoint[node])
            continue
        passed = observe.passing(node, adjoint[node])
        shares = [(child, node.pullback(index, passed)) for index, child in enumerate(node.args) if child in dependent]
        for child, share in observe.pulled(node, shares):
            arriving.setdefault(child, []).append(share)
            pending[child] -= 1
            if child in targets and pending[child] == 0:
                adjoint[child] = observe.gathered(child, arriving.pop(child))
                observe.complete(child, adjoint[child])
    return Adjoints(loss, adjoint)


def symmetric_part(g: Expr) -> Expr:
    """sym(G) = (G + Gᵀ)/2: the gradient in the space of symmetric matrices."""
    return make(Scale, (make(Const, (), (Fraction(1, 2),)), make(Add, (g, make(Transpose, (g,))))))


def raw_gradient(adjoints: Adjoints, variable: Symbol) -> Expr:
    g = adjoints.adjoint.get(variable)
    if g is None:
        return make(Zero, (), variable.shape)
    return symmetric_part(g) if variable.is_symmetric and not variable.is_scalar else g


@overload
def grad(loss: Expr, wrt: Symbol, simplify: bool = True) -> Expr: ...
@overload
def grad(loss: Expr, wrt: list[Symbol] | tuple[Symbol, ...], simplify: bool = True) -> list[Expr]: ...
def grad(loss: Expr, wrt: Symbol | list[Symbol] | tuple[Symbol, ...], simplify: bool = True) -> Expr | list[Expr]:
    """The gradient of a scalar loss, in denominator layout (the shape of the variable).

    Reverse accumulation over the expression's DAG, each node's Frobenius rule as its pullback,
    then the named simplification rules.  For a symmetric matrix variable the gradient is the
    one within symmetric matrices, sym(G) = (G + Gᵀ)/2.

    Parameters
    ----------
    loss : Expr
        A scalar (1×1) expression.
    wrt : Symbol or list of Symbol
        The variable, or several (then one gradient each comes back, in a list).
    simplify : bool, optional
        Simplify the result (the default), or return the raw sum of pullbacks.

    Returns
    -------
    Expr or list of Expr
        ∂ℓ/∂X, of X's shape; a list for a list of variables.

    Raises
    ------
    DifferentiationError
        For a loss that is not a scalar, or something that is not a variable in ``wrt``.

    See Also
    --------
    derive : the same gradient, step by step.
    check : the gradient checked numerically.

    Examples
    --------
    >>> A, x = mc.matrix("A", 3, 3), mc.vector("x", 3)
    >>> print(mc.grad(x.T @ A @ x, x))
    (A + Aᵀ)x
    >>> [str(g) for g in mc.grad(x.T @ A @ x, [x, A])]
    ['(A + Aᵀ)x', 'xxᵀ']
    """
    loss = validated_loss(loss, "grad")
    variables, single = validated_variables(wrt, "grad")
    adjoints = backward(loss, variables)
    results = [raw_gradient(adjoints, v) for v in variables]
    if simplify:
        simplifier = Simplifier(names=named_intermediates([loss]))
        results = [simplifier(r) for r in results]
    return results[0] if single else results
