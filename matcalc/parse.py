"""The string syntax of the matrixcalculus.org web tool, parsed without eval and without recursion.

``*`` is the matrix product (scaling when a side is a scalar), ``.*`` ``./`` ``.^`` are
elementwise, ``^`` a power of a scalar, ``'`` the transpose.  A variable's type comes from
its first letter (a–g scalar, h–z vector, A–Z matrix) unless given explicitly; sizes are
inferred from how the variables are used, as the web tool does.

The functions are the registry's: each public function's syntax names, arity and shape
signatures (``"(n,n)->(1,1)"``) are all the parser knows of it, so an operation registered
with them parses with no change here.

Three passes, none recursive, so 10,000 nested parentheses are just long input: a
shunting-yard turns tokens into a postfix program; shape inference gives every item of the
program a (rows, cols) pair of dimension classes, joined by union-find; the build makes the
expression from the program.
"""

from __future__ import annotations

import difflib
import functools
import math
import operator
import re
from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple

import sympy

from .errors import ParseError, ShapeError
from .expr import Expr, const, eye, matrix, ones, scalar, vector
from .printing.syntax import CONSTRUCTORS, IDENTITY, SUGAR
from .registry import FUNCTIONS, PublicFunction, syntax_names

MAX_LENGTH = 100_000
TYPES = {"scalar", "vector", "matrix", "symmetric"}

_TOKEN = re.compile(
    r"(?P<space>[ \t\r\n]+)|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\.\*|\./|\.\^|[-+*/^'(),])"
)
# binary operators: precedence, right-associative
_BINARY = {"+": (1, False), "-": (1, False), "*": (2, False), "/": (2, False), ".*": (2, False), "./": (2, False),
           "^": (4, True), ".^": (4, True)}
_UNARY_MINUS = 3

ClassShape = tuple[int, int]  # (rows, cols) as dimension classes of the union-find


@dataclass(frozen=True)
class Token:
    kind: str  # number | name | op | end
    text: str
    position: int


class Item(NamedTuple):
    """One item of the postfix program (or, while it is built, of the operator stack)."""

    kind: str  # number | name | negate | transpose | binary | call (on the stack also: paren)
    text: str  # the number, name, operator or function as written
    position: int
    count: int = 0  # how many operands it takes from the program's stack


def _syntax_functions() -> dict[str, tuple[PublicFunction, ...]]:
    """Each function name of the syntax with the public functions it applies, innermost first.
    Read from the registry at each parse, so functions registered later are known."""
    functions = {spelling: (public,) for spelling, public in syntax_names().items()}
    functions.update({spelling: tuple(FUNCTIONS[name] for name in chain) for spelling, chain in SUGAR.items()})
    return functions


# --- shape signatures -------------------------------------------------------------------------------

_SHAPE = re.compile(r"\((1|[A-Za-z]\w*),(1|[A-Za-z]\w*)\)")
_COUNTS = {2: "two", 3: "three", 4: "four"}


@dataclass(frozen=True)
class Signature:
    """A public function's shapes, "(n,1),(n,1)->(1,1)": each shape a (rows, cols) pair of names.

    A letter stands for a size and a letter used twice for one size; ``1`` is one.
    """

    inputs: tuple[tuple[str, str], ...]
    output: tuple[str, str]

    def needs(self) -> str:
        """What it asks of its arguments, in words: "(n,n)" is "a square matrix"."""
        nouns = [_noun(shape) for shape in self.inputs]
        if len(nouns) == 1:
            words = f"a {nouns[0][0]}"
        elif len(set(nouns)) == 1:
            words = f"{_COUNTS.get(len(nouns), len(nouns))} {nouns[0][1]}"
        else:
            words = " and ".join(f"a {singular}" for singular, _ in nouns)
        uses = Counter(name for shape in self.inputs for name in set(shape) - {"1"})
        return words + (" of matching sizes" if any(count > 1 for count in uses.values()) else "")


def _noun(shape: tuple[str, str]) -> tuple[str, str]:
    """The kind of operand a shape asks for, singular and plural."""
    rows, cols = shape
    if cols == "1":
        return ("scalar", "scalars") if rows == "1" else ("vector", "vectors")
    if rows == "1":
        return "row vector", "row vectors"
    return ("square matrix", "square matrices") if rows == cols else ("matrix", "matrices")


@functools.cache
def signature(text: str) -> Signature:
    """The signature written ``text``, read once: ``signature("(n,n)->(1,1)").inputs == (("n", "n"),)``."""
    inputs, arrow, output = text.replace(" ", "").partition("->")
    shapes = tuple(_SHAPE.findall(inputs))
    result = _SHAPE.fullmatch(output)
    written = ",".join(f"({rows},{cols})" for rows, cols in shapes)
    if not arrow or written != inputs or result is None:
        raise ValueError(f"shape signature {text!r} is not written like '(n,n)->(1,1)'")
    if set(result.groups()) - {"1"} - {name for shape in shapes for name in shape}:
        raise ValueError(f"shape signature {text!r}: every size of the result must be one of the arguments'")
    return Signature(shapes, result.groups())


# --- tokens and the shunting-yard -------------------------------------------------------------------


def tokenize(text: str) -> list[Token]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            character = text[position]
            shown = repr(character) if character.isprintable() else f"U+{ord(character):04X}"
            raise ParseError(f"unexpected character {shown}", text, position)
        if match.lastgroup != "space":
            tokens.append(Token(match.lastgroup, match.group(), position))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def _abridged(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:12]}…{text[-6:]} ({len(text)} characters)"


def _suggest(name: str, keywords: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(keywords), n=1)
    return f"; did you mean {close[0]}?" if close else ""


class _ShuntingYard:
    """Tokens in, the postfix program out, in evaluation order."""

    def __init__(self, text: str, tokens: list[Token], keywords: set[str]):
        self.text = text
        self.tokens = tokens
        self.keywords = keywords
        self.index = 0
        self.output: list[Item] = []
        self.stack: list[Item] = []  # operators, unary minus, '(' and calls waiting for their operands
        self.argument_counts: list[int] = []  # for each open call, the arguments seen so far

    def run(self) -> list[Item]:
        expect_operand = True
        while True:
            token = self.tokens[self.index]
            self.index += 1
            if expect_operand:
                expect_operand = self.operand(token)
            elif token.kind == "end":
                return self.finish()
            else:
                expect_operand = self.operator(token)

    def operand(self, token: Token) -> bool:
        """Reads a token where an operand belongs; returns whether one is still expected."""
        if token.kind == "number":
            if not math.isfinite(float(token.text)):
                raise ParseError(f"the number {_abridged(token.text)} is too large for float64", self.text, token.position)
            self.output.append(Item("number", token.text, token.position))
            return False
        if token.kind == "name":
            return self.name(token)
        if token.text == "(":
            self.stack.append(Item("paren", "(", token.position))
            return True
        if token.text == "-":
            self.stack.append(Item("negate", "-", token.position, 1))
            return True
        if token.text == "+":  # unary plus changes nothing
            return True
        what = "the end of the input" if token.kind == "end" else repr(token.text)
        raise ParseError(f"expected a number, a name or '(' but found {what}", self.text, token.position)

    def name(self, token: Token) -> bool:
        if self.tokens[self.index].text == "(":
            self.call(token)
            return True
        if token.text in self.keywords and token.text != IDENTITY:
            raise ParseError(f"{token.text} is a function: write {token.text}(...)", self.text, token.position)
        self.output.append(Item("name", token.text, token.position))
        return False

    def call(self, token: Token) -> None:
        if token.text == IDENTITY:
            raise ParseError("eye is the identity matrix, its size inferred: write eye, not eye(...)", self.text, token.position)
        if token.text not in self.keywords:
            raise ParseError(f"unknown function {token.text!r}{_suggest(token.text, self.keywords)}", self.text, token.position)
        self.index += 1  # past '('
        self.stack.append(Item("call", token.text, token.position))
        self.argument_counts.append(1)
        if self.tokens[self.index].text == ")":
            raise ParseError(f"{token.text}() needs an argument", self.text, self.tokens[self.index].position)

    def operator(self, token: Token) -> bool:
        """Reads a token after an operand; returns whether an operand is expected next."""
        if token.text == "'":
            self.output.append(Item("transpose", "'", token.position, 1))
            return False
        if token.text in _BINARY:
            precedence, right_associative = _BINARY[token.text]
            while self.stack and self.stack[-1].kind in ("binary", "negate"):
                top = _UNARY_MINUS if self.stack[-1].kind == "negate" else _BINARY[self.stack[-1].text][0]
                if top < precedence or (top == precedence and right_associative):
                    break
                self.output.append(self.stack.pop())
            self.stack.append(Item("binary", token.text, token.position, 2))
            return True
        if token.text in (")", ","):
            return self.close(token)
        juxtaposed = token.kind in ("name", "number") or token.text == "("
        hint = " (juxtaposition is not multiplication here: write *)" if juxtaposed else ""
        raise ParseError(f"expected an operator but found {token.text!r}{hint}", self.text, token.position)

    def close(self, token: Token) -> bool:
        """')' ends a group or a call, ',' an argument; returns whether an operand is expected next."""
        self.pop_operators()
        if not self.stack:
            raise ParseError(f"unmatched {token.text!r}", self.text, token.position)
        if token.text == ",":
            if self.stack[-1].kind != "call":
                raise ParseError("',' outside a function's arguments", self.text, token.position)
            self.argument_counts[-1] += 1
            return True
        opener = self.stack.pop()
        if opener.kind == "call":
            self.output.append(Item("call", opener.text, opener.position, self.argument_counts.pop()))
        return False

    def finish(self) -> list[Item]:
        self.pop_operators()
        if self.stack:
            raise ParseError("unclosed '('", self.text, self.stack[-1].position)
        return self.output

    def pop_operators(self) -> None:
        while self.stack and self.stack[-1].kind in ("binary", "negate"):
            self.output.append(self.stack.pop())


# --- shapes by union-find ---------------------------------------------------------------------------


class _Dims:
    """Union-find over dimension classes.  A class is one (a size of 1) from its creation or
    never: every union joins two classes that the checks before it found both one or both not."""

    def __init__(self):
        self.parent: list[int] = []
        self.one: list[bool] = []

    def new(self, is_one: bool = False) -> int:
        self.parent.append(len(self.parent))
        self.one.append(is_one)
        return len(self.parent) - 1

    def find(self, a: int) -> int:
        root = a
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[a] != root:
            self.parent[a], a = root, self.parent[a]
        return root

    def union(self, a: int, b: int) -> None:
        a, b = self.find(a), self.find(b)
        if a != b:
            self.parent[b] = a

    def is_one(self, a: int) -> bool:
        return self.one[self.find(a)]


def _match(dims: _Dims, wanted: Signature, operands: list[ClassShape]) -> dict[str, list[int]] | None:
    """The operands' classes that each name of the signature meets, or None where they do not fit:
    a letter's classes must all be one or all not be, and a 1 meets only classes that are one."""
    met: dict[str, list[int]] = {}
    for pattern, shape in zip(wanted.inputs, operands):
        for name, dimension in zip(pattern, shape):
            met.setdefault(name, []).append(dimension)
    for name, classes in met.items():
        ones = {dims.is_one(dimension) for dimension in classes}
        if len(ones) > 1 or (name == "1" and ones != {True}):
            return None
    return met


def _bind(dims: _Dims, wanted: Signature, met: dict[str, list[int]]) -> ClassShape:
    """Joins the classes each name met and gives the result's shape."""
    for classes in met.values():
        for dimension in classes[1:]:
            dims.union(classes[0], dimension)
    rows, cols = (dims.new(is_one=True) if name == "1" else met[name][0] for name in wanted.output)
    return rows, cols


def _kind_of(name: str, types: dict) -> str:
    given = types.get(name)
    if given is not None:
        return given
    first = name[0]
    if first.isupper():
        return "matrix"
    return "scalar" if first.lower() in "abcdefg" else "vector"


def _located(message: str, text: str, position: int) -> str:
    return str(ParseError(message, text, position))


def _is_number(program: list[Item], k: int) -> bool:
    """Whether item ``k`` is a number or a negated number."""
    return program[k].kind == "number" or (program[k].kind == "negate" and program[k - 1].kind == "number")


class _ShapeInference:
    """Gives each item of the program a shape of dimension classes, and each variable its kind."""

    def __init__(self, text: str, program: list[Item], types: dict, functions: dict):
        self.text = text
        self.program = program
        self.types = types
        self.functions = functions
        self.dims = _Dims()
        self.shapes: list[ClassShape] = []  # per item of the program
        self.operands: list[list[int]] = []  # per item: the indices of the items it applies to
        self.variables: dict[str, tuple[str, ClassShape]] = {}  # name -> (kind, shape)
        self.rules = {"number": self.number, "name": self.name, "transpose": self.transpose,
                      "negate": self.negate, "binary": self.binary, "call": self.call}

    def run(self) -> int:
        """Infers every shape; returns the index of the program's last item, the expression."""
        stack: list[int] = []
        for item in self.program:
            # this and "incomplete expression" guard the shunting-yard's own invariants: a
            # defect there is reported as a parse error, not an IndexError
            if len(stack) < item.count:
                raise ParseError("an operator is missing an operand", self.text, item.position)
            operands = stack[len(stack) - item.count :]
            del stack[len(stack) - item.count :]
            self.shapes.append(self.rules[item.kind](item, operands))
            self.operands.append(operands)
            stack.append(len(self.shapes) - 1)
        if len(stack) != 1:
            raise ParseError("incomplete expression", self.text, len(self.text))
        return stack[0]

    def error(self, message: str, item: Item) -> ShapeError:
        return ShapeError(_located(message, self.text, item.position))

    def is_scalar(self, k: int) -> bool:
        rows, cols = self.shapes[k]
        return self.dims.is_one(rows) and self.dims.is_one(cols)

    def describe(self, k: int) -> str:
        item = self.program[k]
        if item.kind in ("name", "number"):
            return repr(item.text)
        return f"{item.text}(...)" if item.kind == "call" else "the expression before it"

    def number(self, item: Item, operands: list[int]) -> ClassShape:
        return self.dims.new(is_one=True), self.dims.new(is_one=True)

    def name(self, item: Item, operands: list[int]) -> ClassShape:
        if item.text == IDENTITY:
            size = self.dims.new()
            return size, size
        if item.text not in self.variables:
            kind = _kind_of(item.text, self.types)
            self.variables[item.text] = (kind, self.variable_shape(kind))
        return self.variables[item.text][1]

    def variable_shape(self, kind: str) -> ClassShape:
        new = self.dims.new
        if kind == "scalar":
            return new(is_one=True), new(is_one=True)
        if kind == "vector":
            return new(), new(is_one=True)
        rows = new()
        return (rows, rows) if kind == "symmetric" else (rows, new())

    def transpose(self, item: Item, operands: list[int]) -> ClassShape:
        rows, cols = self.shapes[operands[0]]
        return cols, rows

    def negate(self, item: Item, operands: list[int]) -> ClassShape:
        return self.shapes[operands[0]]

    def binary(self, item: Item, operands: list[int]) -> ClassShape:
        left, right = operands
        if item.text in ("^", ".^"):
            return self.power(item, left, right)
        if item.text in ("*", "/"):
            return self.product(item, left, right)
        return self.entrywise(item, left, right)

    def entrywise(self, item: Item, left: int, right: int) -> ClassShape:
        """+ - .* ./ broadcast as NumPy does: along each axis a size of 1 is spread over the
        other side's size (a scalar over everything, a column over a matrix's columns);
        sizes that are not 1 are one size."""
        shape = []
        for a, b in zip(self.shapes[left], self.shapes[right]):
            a_one, b_one = self.dims.is_one(a), self.dims.is_one(b)
            if a_one != b_one:
                shape.append(b if a_one else a)
            else:
                self.dims.union(a, b)
                shape.append(a)
        return tuple(shape)

    def product(self, item: Item, left: int, right: int) -> ClassShape:
        """* scales when a side is a scalar and is the matrix product otherwise; / divides by a scalar."""
        if self.is_scalar(left) and item.text == "*":
            return self.shapes[right]
        if self.is_scalar(right):
            return self.shapes[left]
        if item.text == "/":
            raise self.error("'/' divides by a scalar; use './' to divide elementwise", item)
        (rows, inner_left), (inner_right, cols) = self.shapes[left], self.shapes[right]
        left_one, right_one = self.dims.is_one(inner_left), self.dims.is_one(inner_right)
        if left_one != right_one:
            raise self.error(
                f"'*': {self.describe(left)} has {'1 column' if left_one else 'several columns'} "
                f"but {self.describe(right)} has {'1 row' if right_one else 'several rows'}", item)
        self.dims.union(inner_left, inner_right)
        return rows, cols

    def power(self, item: Item, base: int, exponent: int) -> ClassShape:
        if not (_is_number(self.program, exponent) or self.is_scalar(exponent)):
            raise self.error(f"'{item.text}': the exponent must be a number or a scalar", item)
        if item.text == "^" and not self.is_scalar(base):
            raise self.error(f"'^' raises a scalar to a power; use '.^' for {self.describe(base)}", item)
        return self.shapes[base]

    def check_count(self, item: Item, arity: int, count: int) -> None:
        if count != arity:
            plural = "" if arity == 1 else "s"
            raise ParseError(f"{item.text}() takes {arity} argument{plural}, got {count}", self.text, item.position)

    def call(self, item: Item, operands: list[int]) -> ClassShape:
        if item.text in CONSTRUCTORS:
            self.check_count(item, 1, len(operands))
            if self.program[operands[0]].kind != "number":
                raise self.error(f"{item.text}(c) takes a number", item)
            return self.dims.new(), self.dims.new(is_one=item.text == "vector")
        shapes = [self.shapes[k] for k in operands]
        for public in self.functions[item.text]:
            shapes = [self.signature_shape(item, public, shapes)]
        return shapes[0]

    def signature_shape(self, item: Item, public: PublicFunction, shapes: list[ClassShape]) -> ClassShape:
        """The result's shape from the first of the function's signatures that the operands fit."""
        self.check_count(item, public.arity, len(shapes))
        if not public.signatures:
            raise self.error(f"{item.text}() has no shape signature in the registry, so its shape cannot be inferred", item)
        alternatives = [signature(written) for written in public.signatures]
        for wanted in alternatives:
            met = _match(self.dims, wanted, shapes)
            if met is not None:
                return _bind(self.dims, wanted, met)
        raise self.error(f"{item.text}() needs {' or '.join(wanted.needs() for wanted in alternatives)}", item)


# --- building the expression ------------------------------------------------------------------------


def _number(text: str):
    return float(text) if any(c in text for c in ".eE") else int(text)


def _times(a: Expr, b: Expr) -> Expr:
    return a * b if (a.is_scalar or b.is_scalar) else a @ b


_OPERATORS = {"+": operator.add, "-": operator.sub, "*": _times, "/": operator.truediv,
              ".*": operator.mul, "./": operator.truediv}


class _Build:
    """The expression from the program, with a symbol for each dimension class not fixed to one."""

    def __init__(self, inferred: _ShapeInference):
        self.inferred = inferred
        self.names: dict[int, sympy.Symbol] = {}
        self.letters = iter(["n", "m", "k", "p", "q", "r"] + [f"n{i}" for i in range(1, 10_000)])
        self.symbols = {name: self.variable(name, kind, shape) for name, (kind, shape) in inferred.variables.items()}
        self.rules = {"number": self.number, "name": self.name, "transpose": self.transpose,
                      "negate": self.negate, "binary": self.binary, "call": self.call}

    def size(self, dimension: int):
        root = self.inferred.dims.find(dimension)
        if self.inferred.dims.one[root]:
            return 1
        if root not in self.names:
            self.names[root] = sympy.Symbol(next(self.letters), integer=True, positive=True)
        return self.names[root]

    def variable(self, name: str, kind: str, shape: ClassShape) -> Expr:
        if kind == "scalar":
            return scalar(name)
        if kind == "vector":
            return vector(name, self.size(shape[0]))
        return matrix(name, self.size(shape[0]), self.size(shape[1]), symmetric=kind == "symmetric")

    def run(self, root: int) -> Expr:
        built: list[Expr] = []
        for k, item in enumerate(self.inferred.program):
            arguments = [built[a] for a in self.inferred.operands[k]]
            try:
                built.append(self.rules[item.kind](k, item, arguments))
            except ShapeError as error:
                raise ShapeError(_located(str(error), self.inferred.text, item.position)) from None
        return built[root]

    def number(self, k: int, item: Item, arguments: list[Expr]) -> Expr:
        return const(_number(item.text))

    def name(self, k: int, item: Item, arguments: list[Expr]) -> Expr:
        return eye(self.size(self.inferred.shapes[k][0])) if item.text == IDENTITY else self.symbols[item.text]

    def transpose(self, k: int, item: Item, arguments: list[Expr]) -> Expr:
        return arguments[0].T

    def negate(self, k: int, item: Item, arguments: list[Expr]) -> Expr:
        return -arguments[0]

    def binary(self, k: int, item: Item, arguments: list[Expr]) -> Expr:
        if item.text in ("^", ".^"):
            exponent = self.inferred.operands[k][1]
            return arguments[0] ** (self.exponent(exponent) if _is_number(self.inferred.program, exponent) else arguments[1])
        return _OPERATORS[item.text](*arguments)

    def exponent(self, k: int):
        """The number item ``k`` writes (shape inference checked that it is one, or a negated one)."""
        program = self.inferred.program
        return -_number(program[k - 1].text) if program[k].kind == "negate" else _number(program[k].text)

    def call(self, k: int, item: Item, arguments: list[Expr]) -> Expr:
        if item.text in CONSTRUCTORS:
            rows, cols = (self.size(dimension) for dimension in self.inferred.shapes[k])
            return ones(rows, cols) * arguments[0]
        for public in self.inferred.functions[item.text]:
            arguments = [public.function(*arguments)]
        return arguments[0]


def parse(text: str, **types: str) -> Expr:
    """An expression from text in the syntax of the matrixcalculus.org web tool.

    ``*`` is the matrix product (scaling when a side is a scalar), ``.*`` ``./`` ``.^`` are
    elementwise, ``^`` a power of a scalar, ``'`` the transpose.  A variable's type comes from its
    first letter (a–g scalar, h–z vector, A–Z matrix) unless ``types`` gives it; sizes are
    inferred from how the variables are used.  The result's ``variables`` maps names to them.

    Parameters
    ----------
    text : str
        The expression, e.g. ``"0.5*norm2(A*x - b)^2"``.
    **types : str
        A type for a variable by its name: ``"scalar"``, ``"vector"``, ``"matrix"`` or
        ``"symmetric"`` (a symmetric matrix).

    Returns
    -------
    Expr
        The expression, its variables created with the inferred types and sizes.

    Raises
    ------
    ParseError
        For text that is not an expression, an unknown type, or text over 100,000 characters;
        the message gives the line and column.
    ShapeError
        For shapes that cannot fit together.

    Examples
    --------
    >>> e = mc.parse("x'*A*x")
    >>> print(e)
    xᵀAx
    >>> print(mc.grad(e, e.variables["x"]))
    (A + Aᵀ)x
    >>> mc.parse("0.5*norm2(A*x - b)^2").variables["b"].kind  # b is a scalar by its first letter
    'scalar'
    >>> mc.parse("0.5*norm2(A*x - b)^2", b="vector").variables["b"].kind
    'vector'
    """
    if not isinstance(text, str):
        raise ParseError(f"parse: expected a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ParseError(f"the expression is {len(text):,} characters long; the limit is {MAX_LENGTH:,}")
    for name, kind in types.items():
        if not isinstance(kind, str) or kind not in TYPES:
            raise ParseError(f"type of {name!r} must be one of {', '.join(sorted(TYPES))}, got {kind!r}")
    functions = _syntax_functions()
    keywords = set(functions) | set(CONSTRUCTORS) | {IDENTITY}
    program = _ShuntingYard(text, tokenize(text), keywords).run()
    inferred = _ShapeInference(text, program, types, functions)
    root = inferred.run()
    return _Build(inferred).run(root)
