"""Display rewrites: the closed form turned into what a person writes, before it is printed.

The printers only format.  Everything that changes what is written (a sign pulled in front,
a reciprocal written as a quotient, (X⁻¹)ᵀ as X⁻ᵀ, vᵀ − μᵀ as (v − μ)ᵀ, the shape of 𝟏 made
visible) is a named rule here that rewrites the expression into display operations
(−X, X/y, X⁻ᵀ).  Display operations have a value, so a display form can be evaluated and
compared with what it came from; they have no derivative and are never differentiated.

Automatic names are display too (:func:`automatic_names`): a long expression is written as a
body and a "where" block, naming what it uses more than once and what it nests deeply, so that
a network's gradient reads as the δ recursion instead of one nested expression.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction

import sympy

from .expr import Const, Expr, Let, Ones, Symbol, make, not_a_let, substitute
from .graph import postorder
from .ops import Add, Frob, Hadamard, Inverse, Kron, MatMul, Power, Scale, Trace, Transpose, transpose_of
from .printing.notation import PREC_NEG, PREC_PRODUCT, Notation, operand_precedence, postfix, split_name
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


def _untransposed_term(term: Expr) -> Expr | None:
    """T for a term Tᵀ: a transpose, or a product (times a number) of transposes; else None."""
    coefficient, body = (term.args[0], term.args[1]) if isinstance(term, Scale) and _is_number(term.args[0]) else (None, term)
    if isinstance(body, Transpose):
        inner = body.args[0]
    elif isinstance(body, MatMul) and all(isinstance(f, Transpose) for f in body.args):
        inner = make(MatMul, tuple(f.args[0] for f in reversed(body.args)))
    else:
        return None
    return inner if coefficient is None else make(Scale, (coefficient, inner))


def transposed_sum(e):
    """A sum of products of transposes, BᵀXᵀ + XᵀBᵀ, is written as one transpose, (XB + BX)ᵀ."""
    if not any(isinstance(term, MatMul) or isinstance(term, Scale) and isinstance(term.args[1], MatMul) for term in e.args):
        return None
    terms = [_untransposed_term(term) for term in e.args]
    return None if any(term is None for term in terms) else make(Transpose, (make(Add, tuple(terms)),))


# --- signs and quotients ---------------------------------------------------------------------------


def negative_number(e):
    """A negative constant is −c."""
    value = e.value
    negative = value.could_extract_minus_sign() if isinstance(value, sympy.Expr) else value < 0
    return make(Negative, (_number(-value),)) if negative else None


def sign_in_front(e):
    """(−c)X is written −cX, (−1)X as −X, and (−c)(−X) as cX.  (c(−X) stays as written: the
    sign belongs to the factor the user negated.)"""
    coefficient, body = e.args
    if not isinstance(coefficient, Negative):
        return None
    magnitude = coefficient.args[0]
    body_negated = isinstance(body, Negative)
    if body_negated:
        body = body.args[0]
    positive = body
    if not (_is_number(magnitude) and magnitude.value == 1):
        positive = make(Scale, (magnitude, body))
        as_quotient = quotient(positive)  # −X/2: the new positive part is written as a quotient too
        if isinstance(as_quotient, Negative):  # −(−sx/t) = sx/t
            positive, body_negated = as_quotient.args[0], not body_negated
        elif as_quotient is not None:
            positive = as_quotient
    return positive if body_negated else make(Negative, (positive,))


def _reciprocal(node: Expr) -> bool:
    return isinstance(node, Power) and not isinstance(node.exponent, float) and node.exponent < 0


def _as_fraction(factor: Expr, scalars_commute: bool) -> tuple[bool, Expr, Expr | None]:
    """A factor as (negated, numerator, denominator or None): −a/b, p/q, s⁻ᵏ as 1/sᵏ."""
    negated = isinstance(factor, Negative)
    if negated:
        factor = factor.args[0]
    if isinstance(factor, Quotient):
        return negated, factor.args[0], factor.args[1]
    value = factor.value if isinstance(factor, Const) else None
    if isinstance(value, Fraction) and value.denominator != 1:
        return negated, _number(value.numerator), _number(value.denominator)
    if scalars_commute and isinstance(factor, Power) and _reciprocal(factor):
        base, exponent = factor.args[0], -factor.exponent
        return negated, _number(1), base if exponent == 1 else make(Power, (base,), (exponent,))
    return negated, factor, None


def _times(a: Expr, b: Expr) -> Expr:
    """ab, with 1 left out and two numbers multiplied."""
    a_value, b_value = (f.value if isinstance(f, Const) and _is_number(f) else None for f in (a, b))
    if a_value is not None and b_value is not None:
        return _number(a_value * b_value)
    if a_value == 1:
        return b
    if b_value == 1:
        return a
    return make(Scale, (a, b))


def quotient(e):
    """A scaling with a reciprocal in it is written as one quotient, its sign in front: (p/q)X as
    pX/q, s⁻ᵏX as X/sᵏ, (a/b)X as aX/b and s(X/b) as sX/b (a/bX would read as a/(bX)), −x/2 for (−x)/2."""
    coefficient, body = e.args
    negated, above, below = _as_fraction(coefficient, True)
    body_negated, body_above, body_below = _as_fraction(body, body.is_scalar)
    if below is None and body_below is None:
        return None
    if below is None or body_below is None:
        denominator = below if body_below is None else body_below
    else:
        denominator = _times(below, body_below)
    if isinstance(denominator, Negative):  # x/(−s) = −x/s
        denominator, negated = denominator.args[0], not negated
    written = make(Quotient, (_times(above, body_above), denominator))
    return make(Negative, (written,)) if negated != body_negated else written


def _without_sign(factor: Expr) -> Expr | None:
    """X for a factor −X, and A + B for −A − B; None for a factor that is not negated."""
    if isinstance(factor, Negative):
        return factor.args[0]
    if isinstance(factor, Add) and all(isinstance(term, Negative) for term in factor.args):
        return make(Add, tuple(term.args[0] for term in factor.args))
    return None


def sign_out_of_product(e):
    """A product with negative factors is written with the sign in front: (−A)B as −AB,
    (−a) ⊙ b as −a ⊙ b, (−G) : dX as −G : dX (so that a sum subtracts it: dℓ = A − G : dX),
    and (−A − Aᵀ)x as −(A + Aᵀ)x."""
    unsigned = [_without_sign(arg) for arg in e.args]
    negatives = sum(factor is not None for factor in unsigned)
    if negatives == 0:
        return None
    positive = make(type(e), tuple(arg if factor is None else factor for arg, factor in zip(e.args, unsigned)), e.params)
    return make(Negative, (positive,)) if negatives % 2 else positive


def inner_product_of_vectors(e):
    """u : v of two columns is written uᵀv, and of two rows uvᵀ: xᵀ : yᵀ is xᵀy."""
    a, b = e.args
    if any(arg.notation.kind == "prefix" for arg in e.args):  # G : dX in a derivation stays as it is
        return None
    if a.shape[1] == 1 and a.shape[0] != 1:
        return make(MatMul, (transpose_of(a), b))
    if a.shape[0] == 1 and a.shape[1] != 1:
        return make(MatMul, (a, transpose_of(b)))
    return None


_SHAPES = typed({
    Ones: ones_with_shape, Transpose: inverse_transpose, Add: do_one(untransposed_sum, transposed_sum),
    Frob: inner_product_of_vectors,
})
_SIGNS = typed({
    Const: negative_number, Scale: do_one(sign_in_front, quotient),
    **dict.fromkeys((MatMul, Hadamard, Frob, Kron), sign_out_of_product),
})




_shape_pass = bottom_up(_SHAPES, not_a_let)
_sign_pass = bottom_up(_SIGNS, not_a_let)


def inner_product_as_trace(e):
    """In an expression that writes tr(…), A : B is written tr(AᵀB): one notation for inner
    products (a derivation's G : dX is left as it is)."""
    a, b = e.args
    if any(arg.notation.kind == "prefix" for arg in e.args) or a.is_scalar:
        return None
    return make(Trace, (make(MatMul, (transpose_of(a), b)),))


_traces_pass = bottom_up(typed({Frob: inner_product_as_trace}), not_a_let)


def _one_inner_product(roots: list) -> list:
    """The roots, each that writes both tr(…) and A : B with A : B as tr(AᵀB)."""
    if not {Trace, Frob} <= {type(node) for node in postorder(roots, not_a_let)}:
        return roots  # one walk for all, where no root writes both (the usual case)
    written = []
    for root in roots:
        kinds = {type(node) for node in postorder([root], not_a_let)}
        written.append(_traces_pass([root])[0] if {Trace, Frob} <= kinds else root)
    return written


def display(roots: list) -> list:
    """The roots as they are printed: one notation for inner products, shapes made visible,
    then signs and quotients."""
    return _sign_pass(_shape_pass(_one_inner_product(list(roots))))


def definition(e):
    """A named intermediate written as its definition (the string syntax has no names)."""
    return e.args[0]


_definitions_pass = bottom_up(typed({Let: definition}))


def display_unnamed(roots: list) -> list:
    """The roots with named intermediates written as their definitions: the display form of
    the string syntax, which writes every other node as it is, so parsing rebuilds it."""
    return _definitions_pass(roots)


RULES = (
    ones_with_shape, inverse_transpose, untransposed_sum, transposed_sum, inner_product_of_vectors,
    inner_product_as_trace, negative_number, sign_in_front, quotient, sign_out_of_product, definition,
)


# --- automatic names ---------------------------------------------------------------------------------


class AutomaticName(Let):
    """A name the printer gives a subexpression (t₁, t₂, …): it prints as its name, and the
    "where" block defines it; like a named intermediate, it evaluates as its definition."""

    __slots__ = ()
    name = "automatic_name"
    family = "display"


# An expression (or a list of them) of at most this many nodes, counted with every repeat
# written out, is printed whole: a line of about 80 characters reads at a glance.
_LONGEST_WHOLE = 40
_SMALLEST_NAMED = 4  # tanh(Wx), xᵀx: smaller repeats are written out (Ax, Xᵀ, −t)
_DEEPEST_NESTING = 1  # parenthesised subexpressions inside a parenthesised subexpression
_LETTERS = "tuvwsrqpgh"  # names are the first of these letters that no name of the user's is written with


def shared_subexpression(uses: int, size: int) -> bool:
    """A subexpression used more than once, of at least _SMALLEST_NAMED nodes, is named: it is
    written once, in the "where" block (tanh(W₁x), used by the next layer and by 𝟏 − tanh(W₁x)²)."""
    return uses > 1 and size >= _SMALLEST_NAMED


def nested_subexpression(nesting: int) -> bool:
    """An operand whose parentheses would stand inside other parentheses of the same line is
    named (no line nests them deeper than _DEEPEST_NESTING): in W₂ᵀ((W₃ᵀδ₃) ⊙ f'(z₂)) the
    operand of W₂ᵀ becomes δ₂, so that a network's gradient reads as the δ recursion."""
    return nesting > _DEEPEST_NESTING


NAMING_RULES = (shared_subexpression, nested_subexpression)


@dataclass
class Naming:
    """What :func:`automatic_names` decided: the roots and the definitions, with names in them.

    ``definitions`` are (name, definition) in order of definition, each using only names
    defined before it; ``rules`` gives the rule that named each (a name -> the rule's name);
    ``names`` each named subexpression, as it was given, -> its name."""

    roots: list
    definitions: list = field(default_factory=list)
    rules: dict = field(default_factory=dict)
    names: dict = field(default_factory=dict)
    _rewritten: dict = field(default_factory=dict)  # written's work, kept across calls

    def everything(self) -> list:
        """The roots and the definitions' names and bodies: all that is printed."""
        return [*self.roots, *(name for name, _ in self.definitions), *(body for _, body in self.definitions)]

    def written(self, expr: Expr) -> Expr:
        """Another expression with the same names in it (what a δ is the adjoint of, say)."""
        return substitute(expr, self.names, self._rewritten)


def automatic_names(roots: list, separate: bool = False, preferred: dict | None = None, decided: dict | None = None) -> Naming:
    """Names for the subexpressions of a long expression (or list of expressions) that it uses
    more than once or nests deeply, by the rules in NAMING_RULES; an expression of at most
    _LONGEST_WHOLE nodes, repeats counted, is printed whole.

    Names are t₁, t₂, … numbered in order of definition, with the first letter of "tuvwsrqpgh"
    that starts none of the user's names, so they never clash with them; a named intermediate
    (mc.let) keeps its own name, and its definition is not looked into.  With ``separate`` each
    root is judged alone (the lines of a derivation), but a subexpression gets one name in all.
    ``preferred`` gives some subexpressions the label their name should have, if they get one
    (the backprop view calls an adjoint δ₁); ``decided`` is what named_subexpressions gave for
    these roots, if it was asked already.
    """
    order = postorder(roots, not_a_let)
    decided = _decisions(roots, order, separate) if decided is None else decided
    return _named(roots, order, decided, preferred or {}) if decided else Naming(list(roots))


def named_subexpressions(roots: list, separate: bool = False) -> dict:
    """What :func:`automatic_names` would name, each with the rule that names it, in order of
    definition (without building the named expressions)."""
    return _decisions(roots, postorder(roots, not_a_let), separate)


def _decisions(roots: list, order: list, separate: bool) -> dict:
    sizes = _expanded_sizes(roots, order)
    if separate or len(roots) == 1:
        long_roots = [root for root, size in zip(roots, sizes) if size > _LONGEST_WHOLE]
    else:
        long_roots = list(roots) if sum(sizes) > _LONGEST_WHOLE else []
    if not long_roots:
        return {}
    if len(long_roots) < len(roots):
        order = postorder(long_roots, not_a_let)
    return _decide(order, _uses(long_roots, order, separate), set(roots))


def _expanded_sizes(roots: list, order: list) -> list:
    """The number of nodes each root prints, every repeat written out, up to _LONGEST_WHOLE + 1."""
    size: dict = {}
    for node in order:
        inner = 0 if isinstance(node, Let) else sum(size[arg] for arg in node.args)
        size[node] = min(_LONGEST_WHOLE + 1, 1 + inner)
    return [size[root] for root in roots]


def _operands(order: list) -> Counter:
    return Counter(arg for node in order if not isinstance(node, Let) for arg in node.args)


def _uses(roots: list, order: list, separate: bool) -> Counter:
    """How often each node is an operand: in all roots together, or in the root that uses it most."""
    if not separate:
        return _operands(order)
    most: Counter = Counter()
    for root in roots:
        most |= _operands(postorder([root], not_a_let))
    return most


def _decide(order: list, uses: Counter, roots: set) -> dict:
    """Bottom-up, each node's size and nesting with the names decided below it: the nodes to
    name, in order of definition, each with the rule that names it.  Roots are not named."""
    decided: dict = {}
    size: dict = {}
    nesting: dict = {}
    for node in order:
        if isinstance(node, Let) or not node.args:
            size[node], nesting[node] = 1, 0
            continue
        size[node] = 1 + sum(1 if arg in decided else size[arg] for arg in node.args)
        nesting[node] = _nesting(node, decided, nesting, roots)
        if node not in roots and shared_subexpression(uses[node], size[node]):
            decided[node] = shared_subexpression.__name__
    return decided


def _nesting(node: Expr, decided: dict, nesting: dict, roots: set) -> int:
    """How deep parentheses nest in the node's text; an operand that would take it past
    _DEEPEST_NESTING is named on the spot (nested_subexpression)."""
    need = operand_precedence(node.notation)
    deepest = 0
    for arg in node.args:
        if arg in decided:
            continue
        depth = nesting[arg] + _parenthesised(node, arg, need)
        if nested_subexpression(depth) and arg not in roots:
            decided[arg] = nested_subexpression.__name__
        else:
            deepest = max(deepest, depth)
    return deepest


def _parenthesised(node: Expr, arg: Expr, need: int) -> int:
    """1 where the operand is written in parentheses (ABC and A ⊙ B ⊙ C chain without them)."""
    chained = type(arg) is type(node) and (node.notation.chain or node.notation.kind == "product")
    return int(arg.notation.precedence < need and not chained)


def _named(roots: list, order: list, decided: dict, preferred: dict) -> Naming:
    """The roots and definitions rebuilt with each decided node replaced by its name."""
    labels = _labels(order)
    naming = Naming([])
    rebuilt: dict = {}
    for node in order:
        body = node if isinstance(node, Let) else node.rebuild(tuple(rebuilt[arg] for arg in node.args))
        if node in decided:
            name = make(AutomaticName, (body,), (preferred[node] if node in preferred else next(labels),))
            naming.definitions.append((name, body))
            naming.rules[name], naming.names[node] = decided[node], name
            body = name
        rebuilt[node] = body
    naming.roots = [rebuilt[root] for root in roots]
    return naming




def _labels(order: list):
    """t1, t2, … (printed t₁, t₂, …) with the first letter of _LETTERS that no name of the
    user's is written with (in what is printed, or in a named intermediate's definition),
    skipping any name in use."""
    lets = [node for node in order if isinstance(node, Let) and not isinstance(node, AutomaticName)]
    seen = order + postorder(lets, lambda node: not isinstance(node, AutomaticName)) if lets else order
    used = {split_name(node.label) for node in seen if isinstance(node, (Symbol, Let))}
    letters = {letters for letters, _ in used}
    letter = next((c for c in _LETTERS if c not in letters), _LETTERS[0])
    index = 0
    while True:
        index += 1
        if (letter, str(index)) not in used:
            yield f"{letter}{index}"
