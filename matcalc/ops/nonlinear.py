"""Nonlinear operations: each states its local derivative as a Frobenius rule."""

from __future__ import annotations

from fractions import Fraction

import sympy

from ..errors import ShapeError
from ..expr import Const, Expr, make, sympy_number
from ..printing.notation import PREC_POSTFIX, Notation, call, postfix
from ..shapes import same_dim, shape_str
from .bilinear import Frob, Hadamard, MatMul, Scale
from .linear import Add, Trace, Transpose


def _neg(expr: Expr) -> Expr:
    return make(Scale, (make(Const, (), (-1,)), expr))


def _require_square(name: str, x: Expr) -> None:
    if not same_dim(x.shape[0], x.shape[1]):
        raise ShapeError(f"{name}: needs a square matrix, got {shape_str(x.shape)}")


def _require_vector(name: str, x: Expr) -> None:
    if x.shape[1] != 1:
        raise ShapeError(f"{name}: needs a column vector, got {shape_str(x.shape)}")


class Power(Expr):
    """X^p entry by entry, for a constant exponent p (NumPy's ``**``)."""

    __slots__ = ()
    name = "power"
    index_rule = "power"
    notation = Notation("power", "", "", ".^", PREC_POSTFIX)
    family = "nonlinear"
    why = "d(X^p) = pX^(p−1) ⊙ dX"
    why_latex = r"\mathrm{d}(X^{p}) = pX^{p-1} \odot \mathrm{d}X"

    @classmethod
    def shape_rule(cls, args, params):
        return args[0].shape

    @property
    def exponent(self):
        return self.params[0]

    @property
    def argument_domain(self):
        return None if isinstance(self.exponent, int) and self.exponent >= 0 else "positive"

    @property
    def is_symmetric(self):
        return self.args[0].is_symmetric

    def local_derivative(self) -> Expr:
        return self.exponent * self.args[0] ** (self.exponent - 1)

    def pullback(self, index, adjoint):
        return adjoint * self.local_derivative()

    def differential(self, dargs):
        return self.local_derivative() * dargs[0]

    def numpy_code(self, args, dim_code):
        ufunc, operands = self.numpy_ufunc(args, dim_code)
        return f"{ufunc}({', '.join(operands)})"

    def numpy_ufunc(self, args, dim_code):
        p = self.exponent
        if p == -1:
            return "np.divide", ["1.0", args[0]]
        if p == 2:
            return "np.multiply", [args[0], args[0]]
        return "np.power", [args[0], f"({p.numerator}/{p.denominator})" if isinstance(p, Fraction) else repr(p)]

    def entrywise(self, args, size):
        exponent = sympy_number(self.exponent)
        return args[0].applyfunc(lambda entry: entry**exponent)



class Inverse(Expr):
    """X⁻¹ of a square matrix."""

    __slots__ = ()
    name = "inv"
    argument_domain = "invertible"
    api = "inv"
    signatures = ("(n,n)->(n,n)",)
    notation = postfix("⁻¹", "^{-1}", "inv")
    family = "nonlinear"
    why = "dX⁻¹ = −X⁻¹ dX X⁻¹, so C:dX⁻¹ = −X⁻ᵀCX⁻ᵀ:dX"
    why_latex = r"C:\mathrm{d}X^{-1} = -X^{-\top} C X^{-\top}:\mathrm{d}X"

    @classmethod
    def shape_rule(cls, args, params):
        _require_square("inv", args[0])
        return args[0].shape

    @property
    def is_symmetric(self):
        return self.args[0].is_symmetric

    def pullback(self, index, adjoint):
        inverse_t = make(Transpose, (self,))
        return _neg(make(MatMul, (inverse_t, adjoint, inverse_t)))

    def differential(self, dargs):
        return _neg(make(MatMul, (self, dargs[0], self)))

    def numpy_code(self, args, dim_code):
        return f"np.linalg.inv({args[0]})"

    def entrywise(self, args, size):
        # One symbolic entry among floats: cancel keeps each entry a small rational function.
        return args[0].inv(method="ADJ").applyfunc(sympy.cancel)



class Det(Expr):
    """det(X) of a square matrix."""

    __slots__ = ()
    name = "det"
    argument_domain = "invertible"
    api = "det"
    signatures = ("(n,n)->(1,1)",)
    notation = call("det", "\\det")
    family = "nonlinear"
    why = "d det X = det(X) X⁻ᵀ:dX"
    why_latex = r"\mathrm{d}\det X = \det(X)\, X^{-\top}:\mathrm{d}X"

    @classmethod
    def shape_rule(cls, args, params):
        _require_square("det", args[0])
        return (1, 1)

    def pullback(self, index, adjoint):
        inverse_t = make(Transpose, (make(Inverse, (self.args[0],)),))
        return make(Scale, (make(Scale, (adjoint, self)), inverse_t))

    def differential(self, dargs):
        x = self.args[0]
        return make(Scale, (self, make(Trace, (make(MatMul, (make(Inverse, (x,)), dargs[0])),))))

    def numpy_code(self, args, dim_code):
        return f"np.linalg.det({args[0]}).reshape(1, 1)"

    def entrywise(self, args, size):
        return sympy.Matrix([[sympy.cancel(args[0].det(method="berkowitz"))]])



class LogDet(Expr):
    """log det X of a square matrix with det X > 0 (a covariance, say); nan where det X < 0 and
    −inf where det X = 0, as log is."""

    __slots__ = ()
    name = "logdet"
    argument_domain = "invertible"
    api = "logdet"
    signatures = ("(n,n)->(1,1)",)
    notation = call("log det", "\\log\\det", "logdet")
    family = "nonlinear"
    why = "d log det X = X⁻ᵀ:dX"
    why_latex = r"\mathrm{d}\log\det X = X^{-\top}:\mathrm{d}X"

    @classmethod
    def shape_rule(cls, args, params):
        _require_square("logdet", args[0])
        return (1, 1)

    def pullback(self, index, adjoint):
        inverse_t = make(Transpose, (make(Inverse, (self.args[0],)),))
        return make(Scale, (adjoint, inverse_t))

    def differential(self, dargs):
        return make(Trace, (make(MatMul, (make(Inverse, (self.args[0],)), dargs[0])),))

    def numpy_code(self, args, dim_code):
        return f"_logdet({args[0]})"

    def entrywise(self, args, size):
        return sympy.Matrix([[sympy.log(sympy.cancel(args[0].det(method="berkowitz")))]])



class Norm(Expr):
    """‖X‖: the 2-norm of a vector, the Frobenius norm of a matrix."""

    __slots__ = ()
    name = "norm"
    api = "norm"
    signatures = ("(a,b)->(1,1)",)
    syntax = ("norm2",)
    notation = Notation("norm", "‖", "\\lVert", "norm2")
    family = "nonlinear"
    why = "d‖X‖ = (X/‖X‖):dX"
    why_latex = r"\mathrm{d}\lVert X \rVert = \frac{X}{\lVert X \rVert}:\mathrm{d}X"

    @classmethod
    def shape_rule(cls, args, params):
        return (1, 1)

    def pullback(self, index, adjoint):
        return make(Scale, (make(Scale, (adjoint, self**-1)), self.args[0]))

    def differential(self, dargs):
        return make(Scale, (self**-1, make(Frob, (self.args[0], dargs[0]))))

    def numpy_code(self, args, dim_code):
        return f"np.sqrt(np.sum({args[0]} * {args[0]})).reshape(1, 1)"

    def entrywise(self, args, size):
        return sympy.Matrix([[sympy.sqrt(sympy.Add(*[e**2 for e in args[0]]))]])



class Softmax(Expr):
    """softmax(x) = exp(x)/𝟏ᵀexp(x) of a column vector."""

    __slots__ = ()
    name = "softmax"
    api = "softmax"
    signatures = ("(n,1)->(n,1)",)
    notation = call("softmax", "\\operatorname{softmax}")
    family = "nonlinear"
    why = "ds = s ⊙ dx − s(sᵀdx), so C:ds = (s ⊙ C − s(sᵀC)):dx"
    why_latex = r"C:\mathrm{d}s = (s \odot C - s\,s^\top C):\mathrm{d}x"

    @classmethod
    def shape_rule(cls, args, params):
        _require_vector("softmax", args[0])
        return args[0].shape

    def pullback(self, index, adjoint):
        s = self
        weighted = make(MatMul, (make(Transpose, (s,)), adjoint))
        return make(Add, (make(Hadamard, (s, adjoint)), _neg(make(Scale, (weighted, s)))))

    def differential(self, dargs):
        s, dx = self, dargs[0]
        weighted = make(MatMul, (make(Transpose, (s,)), dx))
        return make(Add, (make(Hadamard, (s, dx)), _neg(make(Scale, (weighted, s)))))

    def numpy_code(self, args, dim_code):
        return f"_softmax({args[0]})"

    def entrywise(self, args, size):
        exps = args[0].applyfunc(sympy.exp)
        return exps / sympy.Add(*exps)



class LogSumExp(Expr):
    """log 𝟏ᵀexp(x) of a column vector."""

    __slots__ = ()
    name = "logsumexp"
    api = "logsumexp"
    signatures = ("(n,1)->(1,1)",)
    notation = call("logsumexp", "\\operatorname{logsumexp}")
    family = "nonlinear"
    why = "d logsumexp(x) = softmax(x):dx"
    why_latex = r"\mathrm{d}\operatorname{logsumexp}(x) = \operatorname{softmax}(x):\mathrm{d}x"

    @classmethod
    def shape_rule(cls, args, params):
        _require_vector("logsumexp", args[0])
        return (1, 1)

    def pullback(self, index, adjoint):
        return make(Scale, (adjoint, make(Softmax, (self.args[0],))))

    def differential(self, dargs):
        return make(MatMul, (make(Transpose, (make(Softmax, (self.args[0],)),)), dargs[0]))

    def numpy_code(self, args, dim_code):
        return f"_logsumexp({args[0]})"

    def entrywise(self, args, size):
        return sympy.Matrix([[sympy.log(sympy.Add(*[sympy.exp(e) for e in args[0]]))]])


