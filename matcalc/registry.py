"""The registry of operations and public functions, filled as their modules are imported.

An operation's class is its record (see :class:`matcalc.expr.Expr`); defining the class
registers it.  One whose record names a public function (``api = "trace"``) becomes
``mc.trace``, the string syntax's ``tr`` (its ``syntax`` name), and a row the generic tests
require.  Elementwise functions register their table rows here too.  Nothing else keeps a
list of operations: the exports, the parser and the tests read this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

OPERATIONS: list[type] = []  # every operation class, in the order defined


@dataclass(frozen=True)
class PublicFunction:
    """``mc.<name>``: the function users call, and the names the string syntax knows it by."""

    name: str
    function: Callable
    syntax: tuple[str, ...]  # names in the string syntax ("tr" for trace); () when it has none
    arity: int = 1
    # Shape signatures, tried in order, as "(n,n)->(1,1)": a letter is a dimension, 1 is one,
    # and a letter used twice must be the same dimension.  The parser infers shapes from them.
    signatures: tuple[str, ...] = ()


FUNCTIONS: dict[str, PublicFunction] = {}


def register_operation(cls: type) -> None:
    OPERATIONS.append(cls)


def register_function(
    name: str, function: Callable, syntax: tuple[str, ...] = (), arity: int = 1, signatures: tuple[str, ...] = ()
) -> Callable:
    """Make ``function`` public as ``mc.<name>``, written ``syntax`` in the string syntax."""
    function.__name__ = function.__qualname__ = name
    FUNCTIONS[name] = PublicFunction(name, function, tuple(syntax), arity, tuple(signatures))
    return function


def public(
    name: str | None = None, syntax: tuple[str, ...] | None = None, arity: int = 1, signatures: tuple[str, ...] = ()
) -> Callable:
    """Decorator: a function built from operations (dot, say) made public under its own name."""

    def register(function: Callable) -> Callable:
        public_name = name or function.__name__
        spellings = (public_name,) if syntax is None else syntax
        return register_function(public_name, function, spellings, arity, signatures)

    return register


def syntax_names() -> dict[str, PublicFunction]:
    """The string syntax's function names, each with its public function."""
    return {spelling: f for f in FUNCTIONS.values() for spelling in f.syntax}
