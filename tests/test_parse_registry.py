"""The string syntax reads its functions from the registry: every function with syntax names
parses with its signature's shapes and evaluates to what NumPy gives; a signature that does not
fit says what the function needs; a function registered later parses with no change to the parser.
The signatures themselves are checked against the public functions they describe."""

from __future__ import annotations

import contextlib
import sys

import numpy as np
import pytest

import matcalc as mc
from matcalc import registry

signature = sys.modules["matcalc.parse"].signature  # mc.parse is the function; the module holds the rest

# Each public function with syntax names, written in plain NumPy (vectors are n×1 columns).
# A function registered without a row here fails test_every_syntax_function_evaluates_like_numpy.
NUMPY = {
    "trace": np.trace,
    "sum": np.sum,
    "mean": np.mean,
    "diag": lambda X: np.diagflat(X) if X.shape[1] == 1 else np.diag(X)[:, None],
    "exp": np.exp, "log": np.log, "sin": np.sin, "cos": np.cos, "tan": np.tan, "tanh": np.tanh,
    "sigmoid": lambda X: 1 / (1 + np.exp(-X)),
    "relu": lambda X: np.maximum(X, 0),
    "sqrt": np.sqrt, "abs": np.abs, "sign": np.sign,
    "softplus": lambda X: np.log(1 + np.exp(X)),
    "logsigmoid": lambda X: -np.log(1 + np.exp(-X)),
    "inv": np.linalg.inv,
    "det": np.linalg.det,
    "logdet": lambda X: np.log(np.linalg.det(X)),
    "norm": lambda X: np.sqrt((X**2).sum()),
    "softmax": lambda x: np.exp(x) / np.exp(x).sum(axis=0, keepdims=True),  # column by column
    "logsumexp": lambda x: np.log(np.exp(x).sum(axis=0, keepdims=True)),
}

# What a shape asks of an operand, in the words parse's messages use; a new pattern needs a row.
WORDING = {("n", "n"): "a square matrix", ("n", "1"): "a vector", ("a", "b"): "a matrix"}

# Operands written in the syntax, with whether their rows and their columns are one.
OPERANDS = {"a": (True, True), "x": (False, True), "x'": (True, False), "A": (False, False)}

SYNTAX_CASES = [
    (spelling, public, written)
    for spelling, public in registry.syntax_names().items()
    for written in public.signatures
]
SIGNED = [(public, written) for public in registry.FUNCTIONS.values() for written in public.signatures]


def _operand_text(index: int, shape: tuple[str, str]) -> tuple[str, str, str]:
    """An operand of this shape as text, its variable's name and the variable's type."""
    name = f"v{index}"
    rows, cols = shape
    if rows == cols == "1":
        return name, name, "scalar"
    if cols == "1":
        return name, name, "vector"
    if rows == "1":
        return f"{name}'", name, "vector"  # a row is a transposed column
    return name, name, "matrix"


def _sizes(written: str) -> dict[str, int]:
    """A concrete size per letter: distinct, none of them one."""
    letters = sorted({name for shape in signature(written).inputs for name in shape} - {"1"})
    return {letter: 2 + i for i, letter in enumerate(letters)}


def _concrete(shape: tuple[str, str], sizes: dict[str, int]) -> tuple[int, int]:
    return tuple(1 if name == "1" else sizes[name] for name in shape)


def _value(shape: tuple[str, str], sizes: dict[str, int], rng) -> np.ndarray:
    """Positive entries; a square operand is diagonally dominant, so its determinant is positive."""
    rows, cols = _concrete(shape, sizes)
    value = rng.uniform(0.5, 1.5, size=(rows, cols))
    return value + rows * np.eye(rows) if shape[0] == shape[1] != "1" else value


def _parse_with_signature(spelling: str, written: str):
    texts, types = [], {}
    for index, shape in enumerate(signature(written).inputs):
        text, name, kind = _operand_text(index, shape)
        texts.append(text)
        types[name] = kind
    return mc.parse(f"{spelling}({', '.join(texts)})", **types)


def _fits(shape: tuple[str, str], ones: tuple[bool, bool]) -> bool:
    """Whether an operand whose rows and columns are (or are not) one fits a shape: a 1 needs
    one, a letter used twice needs the same answer both times."""
    seen: dict[str, bool] = {}
    return all((name != "1" or one) and seen.setdefault(name, one) == one for name, one in zip(shape, ones))


@pytest.mark.parametrize("spelling, public, written", SYNTAX_CASES,
                         ids=[f"{spelling}{written}" for spelling, _, written in SYNTAX_CASES])
def test_every_syntax_function_parses_with_its_signatures_shapes(spelling, public, written):
    wanted = signature(written)
    expr = _parse_with_signature(spelling, written)
    dims: dict[str, object] = {}
    for index, shape in enumerate(wanted.inputs):
        variable = expr.variables[f"v{index}"]
        got = variable.shape[::-1] if shape[0] == "1" != shape[1] else variable.shape  # rows were written x'
        for name, dim in zip(shape, got):
            expected = 1 if name == "1" else dims.setdefault(name, dim)
            assert dim == expected, f"{spelling}: {variable} for {written}"
    assert len(set(dims.values())) == len(dims), f"{spelling}: letters of {written} were joined: {dims}"
    assert expr.shape == tuple(1 if name == "1" else dims[name] for name in wanted.output)


@pytest.mark.parametrize("spelling, public, written", SYNTAX_CASES,
                         ids=[f"{spelling}{written}" for spelling, _, written in SYNTAX_CASES])
def test_every_syntax_function_evaluates_like_numpy(spelling, public, written):
    assert public.name in NUMPY, f"{public.name}: add its NumPy form to NUMPY in this file"
    rng = np.random.default_rng(0)
    sizes = _sizes(written)
    wanted = signature(written)
    values, arrays = {}, []
    for index, shape in enumerate(wanted.inputs):
        array = _value(shape, sizes, rng)
        arrays.append(array)
        values[f"v{index}"] = array.T if shape[0] == "1" != shape[1] else array
    expr = _parse_with_signature(spelling, written)
    output = _concrete(wanted.output, sizes)
    reference = np.reshape(NUMPY[public.name](*arrays), output)
    np.testing.assert_allclose(np.reshape(mc.evaluate(expr, values), output), reference, rtol=1e-10, atol=1e-12)


UNARY = [(spelling, public) for spelling, public in registry.syntax_names().items() if public.arity == 1]


@pytest.mark.parametrize("spelling, public", UNARY, ids=[spelling for spelling, _ in UNARY])
def test_a_signature_that_does_not_fit_says_what_the_function_needs(spelling, public):
    """Each operand that fits one of the signatures parses; one that fits none gets the message."""
    alternatives = [signature(written).inputs[0] for written in public.signatures]
    needs = " or ".join(WORDING[shape] for shape in alternatives)
    for text, ones in OPERANDS.items():
        if any(_fits(shape, ones) for shape in alternatives):
            mc.parse(f"{spelling}({text})")
        else:
            with pytest.raises(mc.ShapeError) as info:
                mc.parse(f"{spelling}({text})")
            assert str(info.value).startswith(f"{spelling}() needs {needs} (line 1, column 1)")


@pytest.mark.parametrize(
    "text, message",
    [
        ("det(x)", "det() needs a square matrix"),
        ("tr(x')", "tr() needs a square matrix"),
        ("inv(x)", "inv() needs a square matrix"),
        ("diag(x')", "diag() needs a vector or a square matrix"),
        ("exp(x, y)", "exp() takes 1 argument, got 2"),
        ("norm1(x, y)", "norm1() takes 1 argument, got 2"),
        ("logsumexpp(x)", "unknown function 'logsumexpp'; did you mean logsumexp?"),
    ],
)
def test_messages_name_the_function_and_its_need(text, message):
    with pytest.raises(mc.MatcalcError) as info:
        mc.parse(text)
    assert str(info.value).startswith(message + " (line 1, column 1)")


def test_diag_picks_its_form_from_the_argument():
    assert mc.parse("diag(x)").shape[0] == mc.parse("diag(x)").shape[1] != 1  # a column: a diagonal matrix
    assert mc.parse("diag(A)").shape[1] == 1  # otherwise the diagonal of a square matrix
    assert mc.parse("diag(a)").shape == (1, 1)  # a scalar is a column of one


def test_norm1_is_the_sum_of_absolute_values():
    rng = np.random.default_rng(1)
    A, x = rng.normal(size=(3, 4)), rng.normal(size=(4, 1))
    np.testing.assert_allclose(mc.evaluate(mc.parse("norm1(A*x)"), {"A": A, "x": x}), np.abs(A @ x).sum())


@contextlib.contextmanager
def registered(name: str, function, syntax: tuple[str, ...], arity: int, signatures: tuple[str, ...]):
    """A public function in the registry for the length of a with block."""
    registry.register_function(name, function, syntax, arity, signatures)
    try:
        yield
    finally:
        del registry.FUNCTIONS[name]


def _outer(a, b):
    return a @ b.T


def test_a_function_registered_later_parses_and_is_gone_once_removed():
    with registered("throwaway_outer", _outer, ("outer_of",), 2, ("(n,1),(n,1)->(n,n)",)):
        expr = mc.parse("outer_of(x, y) + A")
        v = expr.variables
        assert v["x"].shape == v["y"].shape and expr.shape == v["A"].shape == (v["x"].shape[0],) * 2
        rng = np.random.default_rng(2)
        x, y, A = rng.normal(size=(3, 1)), rng.normal(size=(3, 1)), rng.normal(size=(3, 3))
        np.testing.assert_allclose(mc.evaluate(expr, {"x": x, "y": y, "A": A}), np.outer(x, y) + A)
        for text, message in [
            ("outer_of(x)", "outer_of() takes 2 arguments, got 1"),
            ("outer_of(x, A)", "outer_of() needs two vectors of matching sizes"),
            ("outer_of(x, a)", "outer_of() needs two vectors of matching sizes"),
            ("outer_off(x, y)", "unknown function 'outer_off'; did you mean outer_of?"),
        ]:
            with pytest.raises(mc.MatcalcError) as info:
                mc.parse(text)
            assert str(info.value).startswith(message + " (line 1, column "), text
    with pytest.raises(mc.ParseError, match="unknown function 'outer_of'"):
        mc.parse("outer_of(x, y)")


def test_signatures_are_read_into_shapes():
    assert signature("(n,1),(n,1)->(1,1)").inputs == (("n", "1"), ("n", "1"))
    assert signature("(n, n) -> (1, 1)").output == ("1", "1")
    assert signature("(n,n)->(n,1)").needs() == "a square matrix"
    assert signature("(a,b),(a,b)->(1,1)").needs() == "two matrices of matching sizes"
    assert signature("(1,1),(n,1)->(n,1)").needs() == "a scalar and a vector"
    for bad in ["n,n->1,1", "(n,n)", "(n,n)->(m,1)", "(n,2)->(n,1)", "(n,n),->(1,1)"]:
        with pytest.raises(ValueError, match="shape signature"):
            signature(bad)


def test_every_function_with_syntax_names_has_signatures_of_its_arity():
    for spelling, public in registry.syntax_names().items():
        assert public.signatures, f"{spelling}: the parser infers shapes from signatures; {public.name} has none"
    for public, written in SIGNED:
        assert len(signature(written).inputs) == public.arity, f"{public.name}: {written} for arity {public.arity}"


def _variable(index: int, shape: tuple[int, int]):
    rows, cols = shape
    if rows == cols == 1:
        return mc.scalar(f"s{index}")
    return mc.vector(f"v{index}", rows) if cols == 1 else mc.matrix(f"M{index}", rows, cols)


@pytest.mark.parametrize("public, written", SIGNED, ids=[f"{public.name}{written}" for public, written in SIGNED])
def test_public_functions_give_the_shapes_their_signatures_state(public, written):
    sizes = _sizes(written)
    wanted = signature(written)
    operands = [_variable(i, _concrete(shape, sizes)) for i, shape in enumerate(wanted.inputs)]
    assert public.function(*operands).shape == _concrete(wanted.output, sizes)
