"""Display rewrites: the closed form turned into what a person writes, before it is printed.

The printers only format.  Everything that changes what is written (a sign pulled in front,
a reciprocal written as a quotient, (X⁻¹)ᵀ as X⁻ᵀ, vᵀ − μᵀ as (v − μ)ᵀ, the shape of 𝟏 made
visible) is a named rule here that rewrites the expression into display operations
(−X, X/y, X⁻ᵀ).  Display operations have a value, so a display form can be evaluated and
compared with what it came from; they have no derivative and are never differentiated.
"""

from __future__ import annotations

from fractions import Fraction

import sympy

from .expr import Const, Expr, Let, Ones, make
from .ops import Add, Inverse, Power, Scale, Transpose
from .printing.notation import PREC_NEG, PREC_PRODUCT, Notation, postfix
from .strategies import bottom_up, do_one, typed


class DisplayOp(Expr):
    """An operation that exists only in what is printed."""

    __slots__ = ()
    family = "display"

    @classmethod
    def shape_rule(cls, args, params):
        return args[0].shape


class Negative(DisplayOp):
    """−X."""

    __slots__ = ()
    name = "negative"
    index_rule = "negative"
    notation = Notation("negative", "−", "-", "-", PREC_NEG, PREC_PRODUCT)

    def numpy_code(self, args, dim_code):
        return f"(-{args[0]})"

    def entrywise(self, args, size):
        return -args[0]


class Quotient(DisplayOp):
    """X/y for a scalar y."""

    __slots__ = ()
    name = "quotient"
    index_rule = "quotient"
    notation = Notation("quotient", "/", "\\frac", "/", PREC_PRODUCT, PREC_PRODUCT)

    def numpy_code(self, args, dim_code):
        return f"({args[0]} / {args[1]})"

    def entrywise(self, args, size):
        return args[0] / args[1][0, 0]


class InverseTranspose(DisplayOp):
    """X⁻ᵀ = (X⁻¹)ᵀ."""

    __slots__ = ()
    name = "inverse_transpose"
    notation = postfix("⁻ᵀ", "^{-\\top}", "")

    def numpy_code(self, args, dim_code):
        return f"np.linalg.inv({args[0]}).T"

    def entrywise(self, args, size):
        return args[0].inv().T


class OnesMatrix(DisplayOp):
    """𝟏𝟏ᵀ, the matrix of ones, written as one symbol."""

    __slots__ = ()
    name = "ones_matrix"
    notation = Notation("fixed", "𝟏𝟏ᵀ", "\\mathbf{1}\\mathbf{1}^\\top")
    index_rule = "one"

    @classmethod
    def shape_rule(cls, args, params):
        return params

    def numpy_code(self, args, dim_code):
        return f"np.ones(({dim_code(self.shape[0])}, {dim_code(self.shape[1])}))"

    def entrywise(self, args, size):
        return sympy.ones(size(self.shape[0]), size(self.shape[1]))


def _number(value) -> Expr:
    return make(Const, (), (value,))


def _is_number(node: Expr) -> bool:
    return isinstance(node, Const) and isinstance(node.value, (int, float, Fraction))


# --- the shape of 𝟏, and what the printer would otherwise take apart --------------------------


def ones_with_shape(e):
    """𝟏 is a column: a row of ones is 𝟏ᵀ, a matrix of ones 𝟏𝟏ᵀ, a 1×1 one the number 1."""
    rows, cols = e.shape
    if rows == 1 and cols == 1:
        return _number(1)
    if cols == 1:
        return None
    return make(Transpose, (make(Ones, (), (cols, 1)),)) if rows == 1 else make(OnesMatrix, (), (rows, cols))


def inverse_transpose(e):
    """(X⁻¹)ᵀ is written X⁻ᵀ."""
    inner = e.args[0]
    return make(InverseTranspose, (inner.args[0],)) if isinstance(inner, Inverse) else None


def untransposed_sum(e):
    """A row that sums transposed columns, vᵀ − μᵀ, is written (v − μ)ᵀ."""
    if e.shape[0] != 1 or e.shape[1] == 1:
        return None
    columns = []
    for term in e.args:
        coefficient, body = (term.args[0], term.args[1]) if isinstance(term, Scale) else (None, term)
        if not isinstance(body, Transpose) or body.args[0].shape[1] != 1:
            return None
        columns.append(body.args[0] if coefficient is None else make(Scale, (coefficient, body.args[0])))
    return make(Transpose, (make(Add, tuple(columns)),))


# --- signs and quotients ---------------------------------------------------------------------------


def negative_number(e):
    """A negative constant is −c."""
    value = e.value
    negative = value.could_extract_minus_sign() if isinstance(value, sympy.Expr) else value < 0
    return make(Negative, (_number(-value),)) if negative else None


def sign_in_front(e):
    """(−c)X is written −cX, and (−1)X as −X."""
    coefficient, body = e.args
    if not isinstance(coefficient, Negative):
        return None
    magnitude = coefficient.args[0]
    if _is_number(magnitude) and magnitude.value == 1:
        return make(Negative, (body,))
    positive = make(Scale, (magnitude, body))
    as_quotient = quotient(positive)  # −X/2: the new positive part is written as a quotient too
    return make(Negative, (positive if as_quotient is None else as_quotient,))


def quotient(e):
    """(p/q)X is written pX/q, and s⁻ᵏX as X/sᵏ."""
    coefficient, body = e.args
    if _is_number(coefficient) and isinstance(coefficient.value, Fraction):
        value = coefficient.value
        numerator = body if value.numerator == 1 else make(Scale, (_number(value.numerator), body))
        return make(Quotient, (numerator, _number(value.denominator)))
    if isinstance(coefficient, Power) and not isinstance(coefficient.exponent, float) and coefficient.exponent < 0:
        base, exponent = coefficient.args[0], -coefficient.exponent
        denominator = base if exponent == 1 else make(Power, (base,), (exponent,))
        return make(Quotient, (body, denominator))
    return None


_SHAPES = typed({Ones: ones_with_shape, Transpose: inverse_transpose, Add: untransposed_sum})
_SIGNS = typed({Const: negative_number, Scale: do_one(sign_in_front, quotient)})



def _not_a_let(node: Expr) -> bool:
    return not isinstance(node, Let)


_shape_pass = bottom_up(_SHAPES, _not_a_let)
_sign_pass = bottom_up(_SIGNS, _not_a_let)


def display(roots: list) -> list:
    """The roots as they are printed: shapes made visible first, then signs and quotients."""
    return _sign_pass(_shape_pass(roots))


def definition(e):
    """A named intermediate written as its definition (the string syntax has no names)."""
    return e.args[0]


_definitions_pass = bottom_up(typed({Let: definition}))


def display_unnamed(roots: list) -> list:
    """The roots with named intermediates written as their definitions: the display form of
    the string syntax, which writes every other node as it is, so parsing rebuilds it."""
    return _definitions_pass(roots)


RULES = (ones_with_shape, inverse_transpose, untransposed_sum, negative_number, sign_in_front, quotient, definition)
