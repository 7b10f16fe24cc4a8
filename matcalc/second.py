"""Jacobians, Hessians and Hessian-vector products as closed forms.

All three start from the forward differential: each node's ``differential`` rule gives
dY from its arguments' differentials.  A Hessian-vector product is the differential of
the gradient in a direction V.  A Jacobian is the differential df with dX left symbolic,
rewritten as vec(df) = J vec(dX): the coefficient of dX is read off node by node, each
operation's record giving its own factor (vec(P dA Q) = (Qᵀ ⊗ P) vec(dA), vec(dAᵀ) = K vec(dA),
vec(s ⊙ dA) = diag(vec s) vec(dA), ...), in numerator layout.  For vectors the Kronecker
forms simplify to the familiar ones (I₁ ⊗ A = A, vec(x) = x, K(n, 1) = I).
"""

from __future__ import annotations

from .diff import depends_on, grad, validated_loss, validated_variables
from .errors import DifferentiationError, ShapeError
from .expr import Expr, Identity, Symbol, Zero, make, matrix, vector
from .jacobians import Hessian, Jacobian
from .ops import Add, MatMul
from .printing.common import postorder
from .shapes import dim_product, is_one, same_dim, shape_str
from .simplify import Simplifier, named_intermediates


def differential(expr: Expr, variable: Symbol, direction: Expr) -> Expr:
    """d expr when ``variable`` moves by ``direction``: the forward derivative, unsimplified.

    Each operation's record gives its own differential (d(AB) = dA B + A dB, d f(X) =
    f'(X) ⊙ dX, d(X⁻¹) = −X⁻¹ dX X⁻¹); they are chained children first, once per node.

    Parameters
    ----------
    expr : Expr
        Any expression.
    variable : Symbol
        The variable that moves.
    direction : Expr
        How it moves: an expression of the variable's shape (a symbol ``dX``, say).

    Returns
    -------
    Expr
        d expr, of ``expr``'s shape, linear in ``direction``; ``mc.simplify`` tidies it.

    Examples
    --------
    >>> X, V = mc.matrix("X", 3, 3), mc.matrix("V", 3, 3)
    >>> print(mc.simplify(mc.differential(X @ X, X, V)))
    VX + XV
    """
    dependent = depends_on(expr, [variable])
    d: dict = {variable: direction}
    for node in postorder([expr]):
        if node is variable or node not in dependent:
            continue
        d[node] = node.differential([d.get(child) if child in dependent else None for child in node.args])
    return d.get(expr, make(Zero, (), expr.shape))


def _check_direction(variable: Symbol, direction, where: str) -> Expr:
    if not isinstance(direction, Expr):
        raise DifferentiationError(f"{where}: the direction must be a matcalc expression")
    if not (same_dim(direction.shape[0], variable.shape[0]) and same_dim(direction.shape[1], variable.shape[1])):
        raise ShapeError(
            f"{where}: the direction has shape {shape_str(direction.shape)}, "
            f"the variable {variable.label} {shape_str(variable.shape)}"
        )
    return direction


def hvp(loss: Expr, variable: Symbol, direction: Expr) -> Expr:
    """The Hessian applied to a direction: d(∇ℓ)[V], for a variable of any shape.

    It never forms the Hessian: for n×n X it costs what the gradient costs, O(n²) memory
    where the Hessian would take O(n⁴).

    Parameters
    ----------
    loss : Expr
        A scalar expression.
    variable : Symbol
        The variable of the Hessian.
    direction : Expr
        V, an expression of the variable's shape.

    Returns
    -------
    Expr
        H[V], of the variable's shape, simplified.

    Raises
    ------
    ShapeError
        When ``direction``'s shape is not the variable's.

    Examples
    --------
    >>> X, V = mc.matrix("X", 3, 3), mc.matrix("V", 3, 3)
    >>> print(mc.hvp(mc.trace(X @ X @ X), X, V))
    3(XV + VX)ᵀ
    """
    loss = validated_loss(loss, "hvp")
    (variable,), _ = validated_variables(variable, "hvp")
    direction = _check_direction(variable, direction, "hvp")
    if variable.is_symmetric and not variable.is_scalar and not direction.is_symmetric:
        # the gradient within symmetric matrices changes only along symmetric directions
        raise DifferentiationError(
            f"hvp: {variable.label} is a symmetric matrix, so the direction must be symmetric too: declare it "
            f"symmetric=True, or pass (V + V.T)/2"
        )
    gradient = grad(loss, variable)
    return Simplifier(names=named_intermediates([loss]))(differential(gradient, variable, direction))


def _coefficients(linear: Expr, direction: Symbol) -> Expr:
    """∂vec(linear)/∂vec(direction) for an expression linear in ``direction``: the M with
    vec(linear) = M vec(direction).  Children first, each node's M is the chain rule Σᵢ Jᵢ Mᵢ over
    the arguments that depend on the direction, Jᵢ = ∂vec(node)/∂vec(argᵢ) as the operation's
    record states it (``vec_jacobian``): (Qᵀ ⊗ P) for P dA Q, K for a transpose, diag(vec B) for
    dA ⊙ B, vec(B)ᵀ for B:dA, …"""
    size = dim_product(*direction.shape)
    dependent = depends_on(linear, [direction])
    coefficient: dict = {direction: make(Identity, (), (size,))}
    for node in postorder([linear]):
        if node is direction or node not in dependent:
            continue
        terms = [
            _chained(node.vec_jacobian(index), coefficient[arg])
            for index, arg in enumerate(node.args)
            if arg in dependent
        ]
        coefficient[node] = terms[0] if len(terms) == 1 else make(Add, tuple(terms))
    return coefficient.get(linear, make(Zero, (), (dim_product(*linear.shape), size)))


def _chained(jacobian: Expr | None, coefficient: Expr) -> Expr:
    return coefficient if jacobian is None else make(MatMul, (jacobian, coefficient))


def _is_column(expr: Expr) -> bool:
    return is_one(expr.shape[1])


def _linearized(f: Expr, x: Symbol, where: str) -> tuple[Symbol, Expr, Expr]:
    """The direction dX, the differential df in it and ∂vec f/∂vec X, each simplified."""
    if x.is_symmetric and not x.is_scalar:
        raise DifferentiationError(
            f"{where}: {x.label} is a symmetric matrix, whose Jacobian depends on how its symmetric directions "
            f"are written; differentiate with respect to a plain matrix, or use mc.hvp with a symmetric direction"
        )
    label = "d" + x.label
    while label in f.variables:  # a variable of f already has that name
        label = "d" + label
    direction = vector(label, x.shape[0]) if x.is_vector else matrix(label, *x.shape)
    simplifier = Simplifier(names=named_intermediates([f]))
    linear = simplifier(differential(f, x, direction))
    return direction, linear, simplifier(_coefficients(linear, direction))


def jacobian(f: Expr, x: Symbol) -> Expr | Jacobian:
    """∂f/∂x in numerator layout (rows follow f, columns follow x).

    For a vector (or scalar) f and x, the Jacobian matrix itself, an expression.  For a matrix f
    or x, a :class:`~matcalc.jacobians.Jacobian`: the linear map df = … in dx, the matrix
    ∂vec f/∂vec x (vec stacks columns; Bᵀ ⊗ A for AXB), and the index form; ``mc.evaluate``
    gives that matrix.

    Parameters
    ----------
    f : Expr
        The function: a scalar, a vector or a matrix.
    x : Symbol
        The variable: a scalar, a vector or a matrix.

    Returns
    -------
    Expr or Jacobian
        The Jacobian matrix, or for a matrix f or x the :class:`~matcalc.jacobians.Jacobian`.

    Raises
    ------
    DifferentiationError
        When ``x`` is not a variable.

    Examples
    --------
    >>> z = mc.vector("z", 3)
    >>> print(mc.jacobian(mc.softmax(z), z))
    diag(softmax(z)) − softmax(z)softmax(z)ᵀ
    >>> A, X = mc.matrix("A", 2, 3), mc.matrix("X", 3, 3)
    >>> print(mc.jacobian(A @ X.T, X).view("kronecker"))
    vec(d(AXᵀ)) = (I ⊗ A) K vec(dX)
    """
    if not isinstance(f, Expr):
        raise DifferentiationError("jacobian: f must be a matcalc expression")
    (x,), _ = validated_variables(x, "jacobian")
    direction, linear, coefficients = _linearized(f, x, "jacobian")
    if _is_column(f) and _is_column(x):
        return coefficients
    return Jacobian(f, x, direction, linear, coefficients)


def hessian(loss: Expr, x: Symbol) -> Expr | Hessian:
    """∂²ℓ/∂x² for a scalar loss: the Jacobian of the gradient.

    For a vector (or scalar) x, the Hessian matrix, an expression.  For a matrix X, a
    :class:`~matcalc.jacobians.Hessian`: the bilinear form d²ℓ = dX : H[dX], its pq×pq matrix
    H = ∂vec(∇ℓ)/∂vec X in vec form d²ℓ = vec(dX)ᵀ H vec(dX), and ∂²ℓ/∂X_ij∂X_kl.

    Parameters
    ----------
    loss : Expr
        A scalar expression.
    x : Symbol
        The variable: a scalar, a vector or a matrix.

    Returns
    -------
    Expr or Hessian
        The Hessian matrix, or for a matrix x the :class:`~matcalc.jacobians.Hessian`.

    Raises
    ------
    DifferentiationError
        When ``loss`` is not a scalar or ``x`` not a variable.

    Examples
    --------
    >>> A, x = mc.matrix("A", 3, 3), mc.vector("x", 3)
    >>> print(mc.hessian(x.T @ A @ x, x))
    A + Aᵀ
    >>> X = mc.matrix("X", 3, 2)
    >>> print(mc.hessian(mc.trace(X.T @ A @ X), X).view("linear"))
    d² tr(XᵀAX) = dX : (A + Aᵀ) dX
    """
    loss = validated_loss(loss, "hessian")
    (x,), _ = validated_variables(x, "hessian")
    gradient = grad(loss, x)
    direction, linear, coefficients = _linearized(gradient, x, "hessian")
    if _is_column(x):
        return coefficients
    return Hessian(gradient, x, direction, linear, coefficients, loss)
