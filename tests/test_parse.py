"""The string syntax: 30+ expressions parse, differentiate and pass a numeric check; errors; hostile input."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import matcalc as mc

# (text, variable to differentiate, explicit types)
EXPRESSIONS = [
    ("0.5*x'*A*x", "x", {}), ("A*exp(x)", None, {}), ("(y.*v)'*x", "x", {}), ("norm1(A*x-y)", "x", {}),
    ("norm2(A*x-y)^2", "x", {}), ("sum(log(exp(-y.*(X*w)) + vector(1)))", "w", {}), ("tr(A*X'*B*X*C)", "X", {}),
    ("log(det(inv(X)))", "X", {}), ("0.5*norm2(A*x - b)^2", "A", {}), ("x'*S*x", "S", {"S": "symmetric"}),
    ("x'*S*x", "x", {"S": "symmetric"}), ("sum(tanh(W*x))", "W", {}), ("sum(sigmoid(W*x + v))", "v", {}),
    ("logsumexp(A*x)", "x", {}), ("-y'*log(softmax(A*x))", "A", {}), ("sum(softplus(-y.*(X*w)))", "w", {}),
    ("logdet(X'*X)", "X", {}), ("tr(inv(X)*A)", "X", {}), ("det(X)^2", "X", {}), ("a*sum(x.^2) + b*x'*y", "x", {}),
    ("sum(relu(W*x))", "x", {}), ("sum(sqrt(x.*x + vector(1)))", "x", {}), ("sum(abs(x - y))", "y", {}),
    ("norm2(X)", "X", {}), ("sum(diag(A)) + tr(diag(x))", "x", {}), ("x'*diag(y)*x", "y", {}),
    ("sum(exp(x)./(vector(1) + exp(x)))", "x", {}), ("tr(X*X*X)", "X", {}), ("sin(a)*cos(b) + a^3", "a", {}),
    ("sum(tan(0.1*x))", "x", {}), ("sum(sign(x).*x)", "x", {}), ("x'*(A + A')*x/2 - y'*x", "x", {}),
    ("norm2(W*tanh(V*x) - y)^2", "V", {}), ("sum(log(vector(1) + exp(-(X*w))))", "X", {}),
]


@pytest.mark.parametrize("text, wrt, types", EXPRESSIONS, ids=[e[0] for e in EXPRESSIONS])
def test_expression_parses_differentiates_and_checks(text, wrt, types):
    expr = mc.parse(text, **types)
    assert mc.parse(mc.to_syntax(expr), **types) is expr
    if wrt is None:
        assert expr.shape[1] == 1
        return
    result = mc.check(expr, expr.variables[wrt])
    assert result.ok, str(result)
    mc.latex(mc.grad(expr, expr.variables[wrt]))


def test_types_from_first_letters_and_inferred_sizes():
    e = mc.parse("tr(A*X'*B*X*C)")
    v = e.variables
    assert v["A"].shape[1] == v["X"].shape[1] and v["X"].shape[0] == v["B"].shape[0] == v["B"].shape[1]
    assert v["C"].shape == (v["X"].shape[1], v["A"].shape[0])
    assert mc.parse("a*x").variables["a"].kind == "scalar"
    assert mc.parse("x'*y").is_scalar


@pytest.mark.parametrize(
    "text, error, message, column",
    [
        ("tanhh(x)", mc.ParseError, "unknown function 'tanhh'; did you mean tanh?", 1),
        ("x +", mc.ParseError, "expected a number, a name or '(' but found the end of the input", 4),
        ("(x + y", mc.ParseError, "unclosed '('", 1),
        ("x + y)", mc.ParseError, "unmatched ')'", 6),
        ("x y", mc.ParseError, "expected an operator but found 'y' (juxtaposition is not multiplication here: write *)", 3),
        ("x $ y", mc.ParseError, "unexpected character '$'", 3),
        ("A^2", mc.ShapeError, "'^' raises a scalar to a power; use '.^' for 'A'", 2),
        ("x^y", mc.ShapeError, "'^': the exponent must be a number or a scalar", 2),
        ("sum()", mc.ParseError, "sum() needs an argument", 5),
        ("sum(x, y)", mc.ParseError, "sum() takes 1 argument, got 2", 1),
        ("exp", mc.ParseError, "exp is a function: write exp(...)", 1),
    ],
)
def test_parse_errors_point_at_the_spot(text, error, message, column):
    """Each error has its type and message, and points at its column with a caret under the spot."""
    with pytest.raises(mc.MatcalcError) as info:
        mc.parse(text)
    assert type(info.value) is error
    lines = str(info.value).split("\n")
    assert lines == [f"{message} (line 1, column {column})", f"  {text}", "  " + " " * (column - 1) + "^"]
    if error is mc.ParseError:
        assert (info.value.line, info.value.column, info.value.position) == (1, column, column - 1)


def test_caret_under_the_spot():
    with pytest.raises(mc.ParseError) as info:
        mc.parse("sum(x) + tanhh(x)")
    assert info.value.line == 1 and info.value.column == 10
    assert str(info.value).endswith("sum(x) + tanhh(x)\n           ^")


X = np.array([1.0, -2.0, 3.0])


@pytest.mark.parametrize(
    "text, outcome",
    [
        ("(" * 10_000 + "x" + ")" * 10_000, ("value", X)),
        ("(" * 10_000 + "x", ("error", mc.ParseError, "unclosed '('")),
        ("-" * 50_000 + "x", ("value", X)),
        ("-" * 49_999 + "x", ("value", -X)),
        ("x" + "'" * 50_000, ("shape", "column")),
        ("x" + "'" * 49_999, ("shape", "row")),
        ("x\x00y", ("error", mc.ParseError, "unexpected character U+0000")),
        ("\x1b[31mx", ("error", mc.ParseError, "unexpected character U+001B")),
        ("x" * 1_000_001, ("error", mc.ParseError, "the expression is 1,000,001 characters long; the limit is 100,000")),
        (("x+" * 40_000) + "x", ("sum", 40_001)),
    ],
    ids=["deep parens", "unclosed deep parens", "50000 minus signs", "49999 minus signs", "50000 transposes",
         "49999 transposes", "NUL", "escape sequence", "a megabyte", "40001 terms"],
)
def test_hostile_input_is_an_error_or_an_expression(text, outcome):
    """Each hostile input gives the expression it means (checked by value or shape) or the
    clear error that says what is wrong; nothing recurses, nothing is timed."""
    from tests.test_fuzz import assert_clear

    if outcome[0] == "error":
        with pytest.raises(mc.MatcalcError) as info:
            mc.parse(text)
        assert type(info.value) is outcome[1] and str(info.value).startswith(outcome[2])
        assert_clear(info.value)
        return
    expr = mc.parse(text)
    x = expr.variables["x"]
    assert list(expr.variables) == ["x"]
    if outcome[0] == "value":
        np.testing.assert_array_equal(mc.evaluate(expr, {x: X}).ravel(), outcome[1])
    elif outcome[0] == "shape":
        assert expr.shape == (x.shape if outcome[1] == "column" else x.shape[::-1])
    else:
        assert expr.shape == x.shape
        np.testing.assert_array_equal(mc.evaluate(mc.sum(expr), {x: X}), outcome[1] * X.sum())


def test_megabyte_is_refused_with_a_reason():
    with pytest.raises(mc.ParseError, match="the limit is 100,000"):
        mc.parse("x+" * 500_000 + "x")


_ATOMS = st.sampled_from(["x", "y", "A", "B", "a", "2", "0.5", "eye"])  # vector(1): see the issue note
_FUNCS = st.sampled_from(["exp", "log", "tanh", "sum", "norm2", "tr", "inv", "diag", "sigmoid", "abs"])


@st.composite
def expression_text(draw, depth=3):
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(_ATOMS)
    choice = draw(st.integers(0, 4))
    left = draw(expression_text(depth - 1))
    if choice == 0:
        return f"{left}'"
    if choice == 1:
        return f"{draw(_FUNCS)}({left})"
    if choice == 2:
        return f"-({left})"
    op = draw(st.sampled_from(["+", "-", "*", ".*", "./"]))
    return f"({left} {op} {draw(expression_text(depth - 1))})"


# What a parse error may say: each message names what was wrong (a character, a token, a
# function, the operands' shapes), never a bare "invalid syntax".
_QUOTED = r"""(?:'.+'|".+")"""  # a token as repr() shows it
PARSE_MESSAGES = [
    r"unexpected character (" + _QUOTED + r"|U\+[0-9A-F]{4})",
    r"unknown function '\w+'(; did you mean \w+\?)?",
    r"expected a number, a name or '\(' but found (" + _QUOTED + r"|the end of the input)",
    r"expected an operator but found " + _QUOTED + r"( \(juxtaposition is not multiplication here: write \*\))?",
    r"unclosed '\('",
    r"unmatched '[),]'",
    r"',' outside a function's arguments",
    r"\w+\(\) needs an argument",
    r"\w+\(\) takes 1 argument, got \d+",
    r"\w+ is a function: write \w+\(\.\.\.\)",
    r"\w+\(c\) takes a number",
    r"'\^' raises a scalar to a power; use '\.\^' for .+",
    r"'\.?\^': the exponent must be a number or a scalar",
    r"'.{1,2}': the two sides have different shapes \(a vector meets a matrix or a row\)",
    r"'\*': .+ has (1 column|several columns) but .+ has (1 row|several rows)",
    r"'/' divides by a scalar; use '\./' to divide elementwise",
    r"\w+\(\) needs .+",
    r"an operator is missing an operand",
    r"incomplete expression",
    r"the number .+ is too large for float64",
    r"(matmul|add|hadamard|inv|det|logdet|trace|diag|divide|subtract|scale): .+",
]


def assert_names_what_was_wrong(error: Exception, text: str):
    from tests.test_fuzz import assert_clear

    assert_clear(error)
    first = str(error).split("\n")[0]
    position = re.search(r" \(line (\d+), column (\d+)\)$", first)
    if position:
        first = first[: position.start()]
        line, column = int(position.group(1)), int(position.group(2))
        source_lines = text.split("\n")
        assert 1 <= line <= len(source_lines) and 1 <= column <= len(source_lines[line - 1]) + 1, f"{error} points outside {text!r}"
    assert any(re.fullmatch(pattern, first) for pattern in PARSE_MESSAGES), f"an error that does not say what is wrong: {first!r}"


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(alphabet="xyAa+-*/^.'()12 ,sumexpvectordiag\x00", max_size=40))
def test_every_string_gives_an_expression_or_a_clear_error(text):
    try:
        expr = mc.parse(text)
    except mc.MatcalcError as error:
        assert_names_what_was_wrong(error, text)
    else:
        assert isinstance(expr, mc.Expr) and len(expr.shape) == 2


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(expression_text())
def test_valid_expressions_round_trip(text):
    try:
        expr = mc.parse(text)
    except mc.MatcalcError as error:
        assert_names_what_was_wrong(error, text)
        assume(False)
    printed = mc.to_syntax(expr)
    # equal up to the names of inferred dimensions, which follow the order they are met in
    assert mc.to_syntax(mc.parse(printed)) == printed


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "matcalc", *args], capture_output=True, text=True, timeout=120)


def test_cli_grad_check_code_and_exit_codes():
    ok = _cli("grad", "0.5*norm2(A*x - b)^2", "--wrt", "x", "--check", "--code", "numpy")
    assert ok.returncode == 0, ok.stderr
    assert "∂/∂x = Aᵀ(Ax − b𝟏)" in ok.stdout and "OK" in ok.stdout and "def value_and_grad(" in ok.stdout
    bad = _cli("grad", "tanhh(x)", "--wrt", "x")
    assert bad.returncode == 2 and "did you mean tanh?" in bad.stderr
    missing = _cli("grad", "sum(x)", "--wrt", "y")
    assert missing.returncode == 2 and "has no variable 'y'" in missing.stderr
    steps = _cli("grad", "tr(A*X'*B*X*C)", "--wrt", "X", "--steps", "--latex")
    assert steps.returncode == 0 and steps.stdout.startswith("\\begin{align*}")
    view = _cli("grad", "sum(tanh(W*x))", "--wrt", "W", "--view", "index")
    assert "(∂ℓ/∂W)_ij" in view.stdout
    assert _cli("--help").returncode == 0 and "matcalc grad" in _cli("--help").stdout
    assert _cli("grad").returncode == 2
    negated = _cli("grad", "-x'*A*x", "--wrt", "x")  # an expression that starts with a minus is no option
    assert negated.returncode == 0 and "∂/∂x = −(A + Aᵀ)x" in negated.stdout, negated.stderr
