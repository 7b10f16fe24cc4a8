"""The string syntax of the matrixcalculus.org web tool, parsed without eval and without recursion.

``*`` is the matrix product (scaling when a side is a scalar), ``.*`` ``./`` ``.^`` are
elementwise, ``^`` a power of a scalar, ``'`` the transpose.  A variable's type comes from
its first letter (a–g scalar, h–z vector, A–Z matrix) unless given explicitly; sizes are
inferred from how the variables are used, as the web tool does.

The parser is a shunting-yard: tokens in, a postfix program out, then one pass that infers
shapes by union-find over dimension classes and one pass that builds the expression.  No
step recurses, so 10,000 nested parentheses are just long input.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass

import sympy

from . import ops
from .errors import ParseError, ShapeError
from .expr import Expr, const, eye, matrix, ones, scalar, vector
from .registry import syntax_names

MAX_LENGTH = 100_000
# the functions of the string syntax: every registered operation's syntax names, and norm1
FUNCTIONS = {spelling: public.function for spelling, public in syntax_names().items()}
FUNCTIONS["norm1"] = lambda x: FUNCTIONS["sum"](FUNCTIONS["abs"](x))
CONSTRUCTORS = {"vector", "matrix"}
KEYWORDS = set(FUNCTIONS) | CONSTRUCTORS | {"eye"}
TYPES = {"scalar", "vector", "matrix", "symmetric"}

_TOKEN = re.compile(
    r"(?P<space>[ \t\r\n]+)|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\.\*|\./|\.\^|[-+*/^'(),])"
)
# binary operators: precedence, right-associative
_BINARY = {"+": (1, False), "-": (1, False), "*": (2, False), "/": (2, False), ".*": (2, False), "./": (2, False),
           "^": (4, True), ".^": (4, True)}
_UNARY_MINUS = 3


@dataclass(frozen=True)
class Token:
    kind: str  # number | name | op | end
    text: str
    position: int


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


def _suggest(name: str) -> str:
    close = difflib.get_close_matches(name, sorted(KEYWORDS), n=1)
    return f"; did you mean {close[0]}?" if close else ""


def to_postfix(text: str, tokens: list[Token]) -> list[tuple]:
    """Shunting-yard: ('num', v, pos) ('var', name, pos) ('bin', op, pos) ('neg', pos) ('tr', pos)
    ('call', name, argc, pos) in evaluation order."""
    output: list[tuple] = []
    stack: list[tuple] = []  # ('op', op, pos) | ('neg', pos) | ('paren', pos) | ('call', name, pos)
    argument_counts: list[int] = []
    expect_operand = True
    index = 0
    while True:
        token = tokens[index]
        index += 1
        if expect_operand:
            if token.kind == "number":
                if not math.isfinite(float(token.text)):
                    raise ParseError(f"the number {_abridged(token.text)} is too large for float64", text, token.position)
                output.append(("num", token.text, token.position))
                expect_operand = False
            elif token.kind == "name":
                following = tokens[index]
                if following.text == "(":
                    if token.text == "eye":
                        raise ParseError("eye is the identity matrix, its size inferred: write eye, not eye(...)", text, token.position)
                    if token.text not in KEYWORDS:
                        raise ParseError(f"unknown function {token.text!r}{_suggest(token.text)}", text, token.position)
                    index += 1
                    stack.append(("call", token.text, token.position))
                    argument_counts.append(1)
                    if tokens[index].text == ")":
                        raise ParseError(f"{token.text}() needs an argument", text, tokens[index].position)
                elif token.text in KEYWORDS and token.text != "eye":
                    raise ParseError(f"{token.text} is a function: write {token.text}(...)", text, token.position)
                else:
                    output.append(("var", token.text, token.position))
                    expect_operand = False
            elif token.text == "(":
                stack.append(("paren", token.position))
            elif token.text == "-":
                stack.append(("neg", token.position))
            elif token.text == "+":
                continue
            else:
                what = "the end of the input" if token.kind == "end" else repr(token.text)
                raise ParseError(f"expected a number, a name or '(' but found {what}", text, token.position)
            continue
        # after an operand
        if token.text == "'":
            output.append(("tr", token.position))
        elif token.text in _BINARY:
            precedence, right = _BINARY[token.text]
            while stack and stack[-1][0] in ("op", "neg"):
                top_precedence = _UNARY_MINUS if stack[-1][0] == "neg" else _BINARY[stack[-1][1]][0]
                if top_precedence > precedence or (top_precedence == precedence and not right):
                    _pop_operator(stack, output)
                else:
                    break
            stack.append(("op", token.text, token.position))
            expect_operand = True
        elif token.text in (")", ","):
            while stack and stack[-1][0] in ("op", "neg"):
                _pop_operator(stack, output)
            if not stack:
                raise ParseError(f"unmatched {token.text!r}", text, token.position)
            if token.text == ",":
                if stack[-1][0] != "call":
                    raise ParseError("',' outside a function's arguments", text, token.position)
                argument_counts[-1] += 1
                expect_operand = True
                continue
            opener = stack.pop()
            if opener[0] == "call":
                output.append(("call", opener[1], argument_counts.pop(), opener[2]))
        elif token.kind == "end":
            while stack:
                if stack[-1][0] in ("paren", "call"):
                    raise ParseError("unclosed '('", text, stack[-1][-1] if stack[-1][0] == "paren" else stack[-1][2])
                _pop_operator(stack, output)
            return output
        else:
            hint = " (juxtaposition is not multiplication here: write *)" if token.kind in ("name", "number") or token.text == "(" else ""
            raise ParseError(f"expected an operator but found {token.text!r}{hint}", text, token.position)


def _pop_operator(stack, output) -> None:
    item = stack.pop()
    output.append(("neg", item[1]) if item[0] == "neg" else ("bin", item[1], item[2]))


# --- shapes by union-find ---------------------------------------------------------------------------


class _Dims:
    """Union-find over dimension classes; a class may be fixed to 1."""

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

    def union(self, a: int, b: int) -> bool:
        a, b = self.find(a), self.find(b)
        if a != b:
            self.parent[b] = a
            self.one[a] = self.one[a] or self.one[b]
        return True

    def is_one(self, a: int) -> bool:
        return self.one[self.find(a)]


def _kind_of(name: str, types: dict) -> str:
    given = types.get(name)
    if given is not None:
        return given
    first = name[0]
    if first.isupper():
        return "matrix"
    return "scalar" if first.lower() in "abcdefg" else "vector"


def parse(text: str, **types: str) -> Expr:
    """An expression from matrixcalculus.org-style text.

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
        if kind not in TYPES:
            raise ParseError(f"type of {name!r} must be one of {', '.join(sorted(TYPES))}, got {kind!r}")
    program = to_postfix(text, tokenize(text))
    dims = _Dims()
    shapes: list = []  # per program item: (rows class, cols class)
    variables: dict[str, tuple] = {}
    stack: list[int] = []  # indices into program / shapes

    def new_shape(rows_one=False, cols_one=False):
        return (dims.new(rows_one), dims.new(cols_one))

    def scalar_shape(k) -> bool:
        r, c = shapes[k]
        return dims.is_one(r) and dims.is_one(c)

    def require(condition, message, position):
        if not condition:
            raise ShapeError(_located(message, text, position))

    def unify(a, b):
        for x, y in zip(a, b):
            dims.union(x, y)

    arguments_of: list = []
    for k, item in enumerate(program):
        kind = item[0]
        args = []
        if kind == "num":
            shape = new_shape(True, True)
        elif kind == "var":
            name = item[1]
            if name == "eye":
                d = dims.new()
                shape = (d, d)
            else:
                if name not in variables:
                    var_kind = _kind_of(name, types)
                    if var_kind == "scalar":
                        variables[name] = (var_kind, new_shape(True, True))
                    elif var_kind == "vector":
                        variables[name] = (var_kind, new_shape(False, True))
                    else:
                        rows = dims.new()
                        variables[name] = (var_kind, (rows, rows) if var_kind == "symmetric" else (rows, dims.new()))
                shape = variables[name][1]
        elif kind == "tr":
            args = [stack.pop()]
            shape = (shapes[args[0]][1], shapes[args[0]][0])
        elif kind == "neg":
            args = [stack.pop()]
            shape = shapes[args[0]]
        elif kind == "bin":
            if len(stack) < 2:
                raise ParseError("an operator is missing an operand", text, item[2])
            right, left = stack.pop(), stack.pop()
            args = [left, right]
            op, position = item[1], item[2]
            if op in ("+", "-", ".*", "./"):
                if scalar_shape(left):
                    shape = shapes[right]
                elif scalar_shape(right):
                    shape = shapes[left]
                else:
                    _check_compatible(dims, shapes[left], shapes[right], op, text, position)
                    unify(shapes[left], shapes[right])
                    shape = shapes[left]
            elif op == "*" or op == "/":
                if scalar_shape(left) and op == "*":
                    shape = shapes[right]
                elif scalar_shape(right):
                    shape = shapes[left]
                elif op == "/":
                    raise ShapeError(_located("'/' divides by a scalar; use './' to divide elementwise", text, position))
                else:
                    inner_left, inner_right = shapes[left][1], shapes[right][0]
                    if dims.is_one(inner_left) != dims.is_one(inner_right):
                        raise ShapeError(_located(
                            f"'*': {_describe(program, left)} has {'1 column' if dims.is_one(inner_left) else 'several columns'} "
                            f"but {_describe(program, right)} has {'1 row' if dims.is_one(inner_right) else 'several rows'}", text, position))
                    dims.union(inner_left, inner_right)
                    shape = (shapes[left][0], shapes[right][1])
            else:  # ^ and .^
                require(_is_number_program(program, right),
                        f"'{op}': the exponent must be a number", position)
                if op == "^":
                    require(scalar_shape(left), f"'^' raises a scalar to a power; use '.^' for {_describe(program, left)}", position)
                shape = shapes[left]
        else:  # call
            name, count, position = item[1], item[2], item[3]
            args = stack[len(stack) - count :]
            del stack[len(stack) - count :]
            expected = 1
            require(count == expected, f"{name}() takes {expected} argument, got {count}", position)
            (argument,) = args
            rows, cols = shapes[argument]
            if name in CONSTRUCTORS:
                require(program[argument][0] == "num", f"{name}(c) takes a number", position)
                shape = (dims.new(), dims.new(True)) if name == "vector" else (dims.new(), dims.new())
            elif name in ("sum", "norm1", "norm2", "det", "logdet", "tr", "logsumexp"):
                if name in ("det", "logdet", "tr"):
                    require(not dims.is_one(rows) or dims.is_one(cols), f"{name}() needs a square matrix", position)
                    dims.union(rows, cols)
                if name == "logsumexp":
                    require(dims.is_one(cols), "logsumexp() needs a vector", position)
                shape = new_shape(True, True)
            elif name == "inv":
                dims.union(rows, cols)
                shape = shapes[argument]
            elif name == "diag":
                if dims.is_one(cols):
                    shape = (rows, rows)
                else:
                    dims.union(rows, cols)
                    shape = (rows, dims.new(True))
            elif name == "softmax":
                require(dims.is_one(cols), "softmax() needs a vector", position)
                shape = shapes[argument]
            else:
                shape = shapes[argument]
        shapes.append(shape)
        arguments_of.append(args)
        stack.append(k)
    if len(stack) != 1:
        raise ParseError("incomplete expression", text, len(text))
    return _build(text, program, shapes, arguments_of, dims, variables, stack[0])


def _is_number_program(program, k) -> bool:
    return program[k][0] == "num" or (program[k][0] == "neg" and k > 0 and program[k - 1][0] == "num")


def _check_compatible(dims, a, b, op, text, position):
    for x, y in zip(a, b):
        if dims.is_one(x) != dims.is_one(y):
            raise ShapeError(_located(f"'{op}': the two sides have different shapes (a vector meets a matrix or a row)", text, position))


def _describe(program, k) -> str:
    item = program[k]
    return repr(item[1]) if item[0] in ("var", "num") else "the expression before it" if item[0] != "call" else f"{item[1]}(...)"


def _located(message: str, text: str, position: int) -> str:
    return str(ParseError(message, text, position))


def _build(text, program, shapes, arguments_of, dims, variables, root) -> Expr:
    names: dict[int, sympy.Symbol] = {}
    letters = iter(["n", "m", "k", "p", "q", "r"] + [f"n{i}" for i in range(1, 10_000)])

    def size(d):
        root_class = dims.find(d)
        if dims.one[root_class]:
            return 1
        if root_class not in names:
            names[root_class] = sympy.Symbol(next(letters), integer=True, positive=True)
        return names[root_class]

    symbols: dict[str, Expr] = {}
    for name, (kind, (rows, cols)) in variables.items():
        if kind == "scalar":
            symbols[name] = scalar(name)
        elif kind == "vector":
            symbols[name] = vector(name, size(rows))
        else:
            symbols[name] = matrix(name, size(rows), size(cols), symmetric=kind == "symmetric")
    built: list = [None] * len(program)
    try:
        for k, item in enumerate(program):
            args = [built[a] for a in arguments_of[k]]
            kind = item[0]
            if kind == "num":
                built[k] = const(float(item[1]) if any(c in item[1] for c in ".eE") else int(item[1]))
            elif kind == "var":
                built[k] = eye(size(shapes[k][0])) if item[1] == "eye" else symbols[item[1]]
            elif kind == "tr":
                built[k] = args[0].T
            elif kind == "neg":
                built[k] = -args[0]
            elif kind == "bin":
                built[k] = _binary(item[1], args[0], args[1])
            elif item[1] in CONSTRUCTORS:
                rows, cols = (size(d) for d in shapes[k])
                built[k] = ones(rows, cols) * args[0]
            else:
                built[k] = FUNCTIONS[item[1]](args[0])
    except ShapeError as error:
        raise ShapeError(_located(str(error), text, item[-1] if isinstance(item[-1], int) else 0)) from None
    return built[root]


def _binary(op: str, a: Expr, b: Expr) -> Expr:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b if (a.is_scalar or b.is_scalar) else a @ b
    if op == "/":
        return a / b
    if op == ".*":
        return a * b
    if op == "./":
        return a / b
    exponent = b.value if hasattr(b, "value") else None
    if exponent is None:
        from .simplify import simplify

        exponent = getattr(simplify(b), "value", None)
    return a**exponent


def to_syntax(expr: Expr) -> str:
    """The expression in the string syntax, fully parenthesised, so parse(to_syntax(e)) rebuilds e.

    >>> mc.to_syntax(mc.parse("x'*A*x + 2*sum(exp(x))"))
    "(((x)'*A)*x) + (2*sum(exp(x)))"
    """
    from fractions import Fraction

    from .expr import Const, Identity, Let, Ones, Symbol
    from .printing.common import postorder

    code: dict = {}

    def summand(term: Expr) -> str:
        """A scalar broadcast over a sum's shape is written as the scalar: parse broadcasts it back."""
        if isinstance(term, ops.Scale) and isinstance(term.args[1], Ones) and not isinstance(term.args[0], Const):
            return code[term.args[0]]
        return code[term]

    names = {"sum": "sum", "trace": "tr", "det": "det", "logdet": "logdet", "inv": "inv", "norm": "norm2",
             "softmax": "softmax", "logsumexp": "logsumexp", "diag": "diag"}
    for node in postorder([expr]):
        a = [code[c] for c in node.args]
        if isinstance(node, Symbol):
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", node.label) or node.label in KEYWORDS:
                raise ParseError(f"to_syntax: the name {node.label!r} cannot be written in the string syntax")
            code[node] = node.label
        elif isinstance(node, Const):
            value = node.value
            if isinstance(value, sympy.Expr):
                raise ParseError("to_syntax: a constant that is a dimension cannot be written in the string syntax")
            number = repr(float(value)) if isinstance(value, (Fraction, float)) else str(value)
            code[node] = f"(-{number.lstrip('-')})" if value < 0 else number
        elif isinstance(node, Identity):
            code[node] = "eye"
        elif isinstance(node, Ones):
            code[node] = "vector(1)" if node.shape[1] == 1 else "matrix(1)"
        elif isinstance(node, Let):
            code[node] = a[0]
        elif isinstance(node, ops.Scale) and isinstance(node.args[1], Ones) and isinstance(node.args[0], Const):
            code[node] = f"{'vector' if node.shape[1] == 1 else 'matrix'}({a[0]})"
        elif ops.negated(node) is not None:
            code[node] = f"(-{a[1]})"
        elif isinstance(node, ops.Add) and len(a) == 2 and ops.negated(node.args[1]) is not None:
            code[node] = f"({summand(node.args[0])} - {summand(ops.negated(node.args[1]))})"
        elif isinstance(node, ops.Add):
            code[node] = "(" + " + ".join(summand(t) for t in node.args) + ")"
        elif isinstance(node, ops.Scale):
            code[node] = f"({a[0]}*{a[1]})"
        elif isinstance(node, ops.MatMul):
            code[node] = "(" + "*".join(a) + ")"
        elif isinstance(node, ops.Hadamard):
            code[node] = f"({a[0]} .* {a[1]})"
        elif isinstance(node, ops.Transpose):
            code[node] = f"({a[0]})'"
        elif isinstance(node, ops.Power):
            p = node.exponent
            exponent = repr(float(p)) if isinstance(p, (Fraction, float)) else str(p)
            exponent = f"(-{exponent.lstrip('-')})" if p < 0 else exponent
            code[node] = f"({a[0]}{'^' if node.args[0].is_scalar else '.^'}{exponent})"
        elif isinstance(node, ops.Elementwise) and node.function.name in FUNCTIONS:
            code[node] = f"{node.function.name}({a[0]})"
        elif node.name in names:
            code[node] = f"{names[node.name]}({a[0]})"
        else:
            raise ParseError(f"to_syntax: {node.name} has no form in the string syntax")
    text = code[expr]
    return text[1:-1] if text.startswith("(") and _balanced_outer(text) else text


def _balanced_outer(text: str) -> bool:
    depth = 0
    for index, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and index < len(text) - 1:
            return False
    return True
