"""Operations, one class each (its record), grouped by family: linear, bilinear, nonlinear,
elementwise.  Importing this package registers every operation and public function in
:mod:`matcalc.registry`; the public functions are also attributes here (``ops.trace``)."""

from ..registry import FUNCTIONS
from .bilinear import Frob, Hadamard, Kron, KronContract, MatMul, Scale, negated
from .build import add, divide, matmul, multiply, negate, power, power_of_number, subtract
from .elementwise import Elementwise, ElementwiseFunction, apply, elementwise
from .linear import Add, Commutation, DiagMat, DiagVec, Sum, Trace, Transpose, Unvec, Vec, transpose_of
from .nonlinear import Det, Inverse, LogDet, LogSumExp, Norm, Power, PowerOf, Softmax

globals().update({name: public.function for name, public in FUNCTIONS.items()})
