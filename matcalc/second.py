"""Jacobians, Hessians and Hessian-vector products as closed forms.

All three start from the forward differential: each node's ``differential`` rule gives
dY from its arguments' differentials.  A Hessian-vector product is the differential of
the gradient in a direction V.  A Jacobian is the differential df with dx left symbolic,
rewritten as J dx: the coefficient of dx is read off node by node (s ⊙ dx = diag(s) dx,
A dx, (aᵀdx) b = b aᵀ dx, ...), in numerator layout.
"""

from __future__ import annotations

from .diff import _check_loss, _check_variables, depends_on, grad
from .errors import DifferentiationError, ShapeError
from .expr import Expr, Identity, Let, Ones, Symbol, Zero, make, matrix, vector
from .ops import Add, DiagMat, Frob, Hadamard, MatMul, Scale, Sum, Trace, Transpose
from .printing.common import postorder
from .shapes import same_dim, shape_str
from .simplify import Simplifier


def differential(expr: Expr, variable: Symbol, direction: Expr) -> Expr:
    """d expr when ``variable`` moves by ``direction`` (same shape), unsimplified."""
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

    >>> X, V = mc.matrix("X", 3, 3), mc.matrix("V", 3, 3)
    >>> print(mc.hvp(mc.trace(X @ X @ X), X, V))
    3(VᵀXᵀ + XᵀVᵀ)
    """
    loss = _check_loss(loss, "hvp")
    (variable,), _ = _check_variables(variable, "hvp")
    direction = _check_direction(variable, direction, "hvp")
    gradient = grad(loss, variable)
    return Simplifier()(differential(gradient, variable, direction))


def _is_row(expr: Expr) -> bool:
    return expr.shape[0] == 1 and expr.shape[1] != 1


def _coefficients(linear: Expr, dx: Symbol) -> Expr:
    """M with linear = M dx (columns and scalars) or linear = (M dx)ᵀ (rows)."""
    n = dx.shape[0]
    dependent = depends_on(linear, [dx])
    coefficient: dict = {dx: make(Identity, (), (n,))}

    def fail(node):
        raise DifferentiationError(
            f"jacobian: cannot write {node} (shape {shape_str(node.shape)}) as a matrix times d{dx.label[1:]}; "
            "Jacobians need vector or scalar intermediates"
        )

    for node in postorder([linear]):
        if node is dx or node not in dependent:
            continue
        if node.shape[1] != 1 and node.shape[0] != 1:
            fail(node)
        args = node.args
        live = [i for i, a in enumerate(args) if a in dependent]
        if isinstance(node, (Let, Trace)):
            result = coefficient[args[0]]
        elif isinstance(node, Add):
            terms = [coefficient[args[i]] for i in live]
            result = terms[0] if len(terms) == 1 else make(Add, tuple(terms))
        elif isinstance(node, Transpose):
            result = coefficient[args[0]]
        elif isinstance(node, Scale):
            s, x = args
            if live == [1]:
                result = make(Scale, (s, coefficient[x]))
            elif live == [0]:
                body = make(Transpose, (x,)) if _is_row(x) else x
                result = make(MatMul, (body, coefficient[s]))
            else:
                fail(node)
        elif isinstance(node, Hadamard):
            if len(live) != 1:
                fail(node)
            other = args[1 - live[0]]
            weights = make(Transpose, (other,)) if _is_row(other) else other
            result = make(MatMul, (make(DiagMat, (weights,)), coefficient[args[live[0]]]))
        elif isinstance(node, Sum):
            inner = args[0]
            length = inner.shape[1] if _is_row(inner) else inner.shape[0]
            result = make(MatMul, (make(Transpose, (make(Ones, (), (length, 1)),)), coefficient[inner]))
        elif isinstance(node, Frob):
            if len(live) != 1:
                fail(node)
            other = args[1 - live[0]]
            row = other if _is_row(other) else make(Transpose, (other,))
            result = make(MatMul, (row, coefficient[args[live[0]]]))
        elif isinstance(node, MatMul):
            result = _product_coefficient(node, live, coefficient, fail)
        elif isinstance(node, Zero):
            result = make(Zero, (), (node.shape[1] if _is_row(node) else node.shape[0], n))
        else:
            fail(node)
        coefficient[node] = result
    return coefficient.get(linear, make(Zero, (), (linear.shape[0], n)))


def _product_coefficient(node: Expr, live: list, coefficient: dict, fail) -> Expr:
    if len(live) != 1:
        fail(node)
    index = live[0]
    factors = node.args
    left, middle, right = list(factors[:index]), factors[index], list(factors[index + 1 :])
    left_product = left[0] if len(left) == 1 else make(MatMul, tuple(left)) if left else None
    right_product = right[0] if len(right) == 1 else make(MatMul, tuple(right)) if right else None
    m = coefficient[middle]
    if _is_row(middle):
        # P (m dx)ᵀ Q: Q is a column, so (m dx)ᵀQ = Qᵀ m dx is a scalar, and P (or Pᵀ) carries it.
        if right_product is None or right_product.shape[1] != 1:
            fail(node)
        scalar = make(MatMul, (make(Transpose, (right_product,)), m))
        if left_product is None:
            return scalar
        carrier = make(Transpose, (left_product,)) if _is_row(left_product) else left_product
        return make(MatMul, (carrier, scalar))
    # middle is a column m dx: P (m dx) q with q a scalar (or nothing).
    result = m if left_product is None else make(MatMul, (left_product, m))
    if right_product is not None:
        if not right_product.is_scalar:
            if _is_row(node):
                # (m dx) Q with Q a row: the result is a row only when m dx is a scalar.
                return make(MatMul, (make(Transpose, (right_product,)), result))
            fail(node)
        result = make(Scale, (right_product, result))
    return result


def jacobian(f: Expr, x: Symbol) -> Expr:
    """∂f/∂x in numerator layout (rows follow f, columns follow x) for vector or scalar f and x.

    >>> z = mc.vector("z", 3)
    >>> print(mc.jacobian(mc.softmax(z), z))
    diag(softmax(z)) − softmax(z)softmax(z)ᵀ
    """
    if not isinstance(f, Expr):
        raise DifferentiationError("jacobian: f must be a matcalc expression")
    (x,), _ = _check_variables(x, "jacobian")
    if f.shape[1] != 1:
        raise DifferentiationError(f"jacobian: f has shape {shape_str(f.shape)}; it must be a column vector or a scalar")
    if x.shape[1] != 1:
        raise DifferentiationError(
            f"jacobian: {x.label} has shape {shape_str(x.shape)}; Jacobians are for vector or scalar variables "
            "(for a matrix variable use grad, or hvp for second derivatives)"
        )
    dx = vector("d" + x.label, x.shape[0]) if not x.is_scalar else matrix("d" + x.label, 1, 1)
    simplifier = Simplifier()
    linear = simplifier(differential(f, x, dx))
    return simplifier(_coefficients(linear, dx))


def hessian(loss: Expr, x: Symbol) -> Expr:
    """∂²ℓ/∂x² for a scalar loss and a vector (or scalar) variable: the Jacobian of the gradient.

    >>> A, x = mc.matrix("A", 3, 3), mc.vector("x", 3)
    >>> print(mc.hessian(x.T @ A @ x, x))
    A + Aᵀ
    """
    loss = _check_loss(loss, "hessian")
    (x,), _ = _check_variables(x, "hessian")
    return jacobian(grad(loss, x), x)
