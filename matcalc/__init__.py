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
from .draw import Drawing, draw
from .errors import (
    DifferentiationError,
    EvaluationError,
    MatcalcError,
    OperandError,
    ParseError,
    ShapeError,
)
from .expr import Expr, Symbol, eye, let, matrix, ones, scalar, vector, zeros
from .interop import from_sympy, to_sympy
from .numeric.check import CheckResult, check, check_jacobian
from .numeric.custom_vjp import custom_vjp
from .numeric.evaluate import evaluate
from .numeric.lambdify import lambdify, to_numpy_source, to_source
from .ops import elementwise
from .parse import parse
from .printing.latex import latex
from .printing.syntax import to_syntax
from .printing.text import text
from .registry import FUNCTIONS
from .second import differential, hessian, hvp, jacobian
from .shapes import dims
from .simplify import simplify

# mc.trace, mc.tanh, ...: every operation's public function, as its record declares it
globals().update({name: public.function for name, public in FUNCTIONS.items()})

__version__ = "0.1.0"

__all__ = [
    "CheckResult", "Derivation", "DifferentiationError", "Drawing", "EvaluationError", "Expr", "MatcalcError", "OperandError",
    "ParseError", "ShapeError", "Step", "Symbol", "check", "check_jacobian", "custom_vjp", "derive", "differential",
    "dims", "draw", "elementwise", "evaluate", "eye", "from_sympy", "grad", "hessian", "hvp", "jacobian", "lambdify", "latex", "let",
    "matrix", "ones", "parse", "scalar", "simplify", "text", "to_numpy_source", "to_source", "to_sympy", "to_syntax", "vector",
    "zeros",
    *sorted(FUNCTIONS),
]
