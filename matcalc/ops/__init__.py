"""Operations, one class each, grouped by family (linear, bilinear, nonlinear, elementwise)."""

from .bilinear import Frob, Hadamard, Kron, KronContract, MatMul, Scale, negated
from .build import (
    abs,
    add,
    cos,
    det,
    diag,
    divide,
    dot,
    exp,
    frob,
    inv,
    kron,
    log,
    logdet,
    logsumexp,
    matmul,
    multiply,
    negate,
    norm,
    power,
    power_of_number,
    relu,
    sigmoid,
    sign,
    sin,
    softmax,
    softplus,
    sqrt,
    subtract,
    sum,
    tan,
    tanh,
    trace,
    transpose,
    zeros_like,
)
from .elementwise import Elementwise, ElementwiseFunction, elementwise
from .linear import Add, DiagMat, DiagVec, Sum, Trace, Transpose
from .nonlinear import Det, Inverse, LogDet, LogSumExp, Norm, Power, Softmax
