"""matcalc: symbolic matrix calculus with Frobenius-product differentials.

Build an expression over shaped symbols, differentiate it, read the closed form a
person would write, and check it numerically.

>>> import matcalc as mc
>>> n, m = mc.dims("n m")
>>> W, a, b = mc.matrix("W", n, m), mc.vector("a", m), mc.vector("b", n)
>>> print(mc.grad(mc.sum(mc.tanh(W @ a + b)), W))
(𝟏 − tanh(Wa + b)²)aᵀ
"""

from .derivation import Derivation, Step, derive
from .diff import grad
from .errors import (
    DifferentiationError,
    EvaluationError,
    MatcalcError,
    OperandError,
    ParseError,
    ShapeError,
)
from .expr import Expr, Symbol, eye, let, matrix, ones, scalar, vector, zeros
from .numeric.check import CheckResult, check, check_jacobian
from .numeric.evaluate import evaluate
from .numeric.lambdify import lambdify, to_numpy_source
from .ops import (
    abs,
    cos,
    det,
    diag,
    dot,
    elementwise,
    exp,
    frob,
    inv,
    kron,
    log,
    logdet,
    logsumexp,
    norm,
    relu,
    sigmoid,
    sign,
    sin,
    softmax,
    softplus,
    sqrt,
    sum,
    tan,
    tanh,
    trace,
    transpose,
)
from .parse import parse, to_syntax
from .printing.latex import latex
from .printing.text import text
from .second import differential, hessian, hvp, jacobian
from .shapes import dims
from .simplify import simplify

__version__ = "0.1.0"

__all__ = [
    "DifferentiationError", "EvaluationError", "Expr", "MatcalcError", "OperandError", "ParseError",
    "CheckResult", "Derivation", "Step", "ShapeError", "Symbol", "abs", "check", "check_jacobian", "cos", "derive", "det", "diag", "differential", "dims", "dot", "elementwise", "evaluate", "exp",
    "eye", "frob", "grad", "hessian", "hvp", "inv", "jacobian", "kron", "lambdify", "latex", "let", "log", "logdet", "logsumexp", "matrix", "norm", "parse",
    "ones", "relu", "scalar", "sigmoid", "sign", "simplify", "sin", "softmax", "softplus", "sqrt", "sum",
    "tan", "tanh", "text", "to_numpy_source", "to_syntax", "trace", "transpose", "vector", "zeros",
]
