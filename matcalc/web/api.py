"""The web page's one computation: a request (expression, type declarations, variables) in,
everything the page shows out, as plain JSON data.

Everything returned is text or numbers: the page inserts text with ``textContent`` and
hands LaTeX strings to KaTeX (``trust: false``), so nothing here is markup.  Nothing is
``eval``'d: the expression goes through :func:`matcalc.parse`.

:func:`validate` runs in the server before any work (sizes and forms only);
:func:`derive_request` runs in a worker process under the server's time limit.
"""

from __future__ import annotations

import math
import re

from ..derivation import Derivation, derive
from ..diff import grad
from ..errors import MatcalcError, ParseError
from ..numeric.backends import BACKENDS, backend
from ..numeric.check import check
from ..numeric.lambdify import to_source
from ..parse import TYPES, parse
from ..printing.latex import latex
from ..shapes import shape_str

MAX_EXPRESSION = 2_000  # characters; the parser itself takes up to 100,000
MAX_TYPES = 1_000  # characters of type declarations
MAX_WRT = 16  # variables to differentiate by

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LOCATION = re.compile(r" \(line (\d+), column (\d+)\)$")
_SUGGESTION = re.compile(r"did you mean ([A-Za-z_][A-Za-z0-9_]*)\?")


class RequestError(MatcalcError):
    """A request the page should not have sent: its message is shown as it is."""

    def __init__(self, message: str, status: int = 400, field: str = "expression"):
        super().__init__(message)
        self.status = status
        self.field = field


def validate(payload) -> dict:
    """The request's three fields, checked for form and size; raises :class:`RequestError`.

    >>> validate({"expression": "x'*A*x", "types": "A=symmetric", "wrt": "x"})
    {'expression': "x'*A*x", 'types': 'A=symmetric', 'wrt': ['x']}
    """
    if not isinstance(payload, dict):
        raise RequestError("the request must be a JSON object")
    expression = payload.get("expression", "")
    types = payload.get("types", "") or ""
    wrt = payload.get("wrt", []) or []
    if not isinstance(expression, str) or not isinstance(types, str):
        raise RequestError("expression and types must be strings")
    if isinstance(wrt, str):
        wrt = [name for name in re.split(r"[\s,;]+", wrt) if name]
    if not isinstance(wrt, list) or not all(isinstance(name, str) for name in wrt):
        raise RequestError("wrt must be a list of variable names", field="wrt")
    if len(expression) > MAX_EXPRESSION:
        raise RequestError(f"the expression is {len(expression):,} characters long; this page takes at most "
                           f"{MAX_EXPRESSION:,} (use the Python API for longer ones)", status=413)
    if len(types) > MAX_TYPES:
        raise RequestError(f"the type declarations are {len(types):,} characters long; the limit is {MAX_TYPES:,}",
                           status=413, field="types")
    if len(wrt) > MAX_WRT or sum(map(len, wrt)) > MAX_EXPRESSION:
        raise RequestError(f"differentiate by at most {MAX_WRT} variables", status=413, field="wrt")
    if not expression.strip():
        raise RequestError("type an expression, e.g. x'*A*x")
    return {"expression": expression, "types": types, "wrt": wrt}


def declared_types(text: str) -> dict:
    """``"S=symmetric, b = vector"`` as ``{"S": "symmetric", "b": "vector"}``.

    >>> declared_types("S=symmetric, b = vector")
    {'S': 'symmetric', 'b': 'vector'}
    """
    types = {}
    for entry in re.split(r"[\s,;]+", re.sub(r"\s*=\s*", "=", text.strip())):
        if not entry:
            continue
        name, sep, kind = entry.partition("=")
        if not sep:
            raise RequestError(f"types: write NAME=TYPE, got {entry!r}", field="types")
        if not _NAME.fullmatch(name):
            raise RequestError(f"types: {name!r} is not a variable name", field="types")
        if kind not in TYPES:
            raise RequestError(f"types: the type of {name!r} must be one of {', '.join(sorted(TYPES))}, got {kind!r}",
                               field="types")
        types[name] = kind
    return types


def error_data(error: Exception, text: str = "", field: str = "expression") -> dict:
    """A matcalc error as the page shows it: the message, the caret drawing, a suggestion."""
    lines = str(error).splitlines() or [type(error).__name__]
    message, drawing = lines[0], "\n".join(lines[1:])
    data = {"kind": type(error).__name__, "message": message, "caret": drawing, "field": field}
    position = getattr(error, "position", None)
    location = _LOCATION.search(message)
    if location:
        data["line"], data["column"] = int(location.group(1)), int(location.group(2))
        if position is None and data["line"] == 1:
            position = data["column"] - 1
    if position is not None and text:
        data["position"] = position
    suggestion = _SUGGESTION.search(message)
    if suggestion and position is not None:
        written = _NAME.match(text, position)
        if written:
            data["suggestion"] = suggestion.group(1)
            data["fix"] = text[:position] + suggestion.group(1) + text[written.end():]
    return data


def _number(value: float) -> str:
    return f"{value:.2e}" if math.isfinite(value) else "∞"


def _check_data(expr, variables: list) -> dict:
    try:
        result = check(expr, variables)
    except MatcalcError as error:
        return {"error": f"{type(error).__name__}: {str(error).splitlines()[0]}"}
    reports = [
        {"oracle": r.oracle, "ok": r.ok, "max_abs_error": _number(r.max_abs_error),
         "max_rel_error": _number(r.max_rel_error), "worst": r.worst, "note": r.note}
        for r in result.reports
    ]
    sizes = ", ".join(f"{d} = {v}" for d, v in result.sizes.items())
    return {"ok": result.ok, "reports": reports, "sizes": sizes, "seed": result.seed, "text": str(result)}


def _views(derivation: Derivation) -> list:
    views = []
    for name in Derivation.VIEWS:
        try:
            view = derivation.view(name)
            views.append({"name": name, "title": view.title, "latex": view.latex(), "text": str(view)})
        except MatcalcError as error:
            views.append({"name": name, "title": name, "error": str(error).splitlines()[0]})
    return views


def _code(expr, variables: list, gradients: list) -> list:
    inputs = list(expr.variables.values())
    pairs = [(k + 1, inputs.index(variable)) for k, variable in enumerate(variables)]
    code = []
    for name, chosen in BACKENDS.items():
        entry = {"backend": name, "title": chosen.title}
        try:
            entry["source"] = to_source(inputs, [expr, *gradients], name, name="value_and_grad", gradient_pairs=pairs)
            entry["ok"] = True
        except MatcalcError as error:
            entry["ok"], entry["error"] = False, str(error).splitlines()[0]
        code.append(entry)
    return code


def derive_request(request: dict) -> dict:
    """Everything the page shows for a validated request; ``{"ok": False, "error": ...}`` for bad input.

    >>> result = derive_request({"expression": "x'*A*x", "types": "", "wrt": ["x"]})
    >>> result["gradients"][0]["text"], result["check"]["ok"]
    ('(A + Aᵀ)x', True)
    """
    text = request["expression"]
    try:
        types = declared_types(request["types"])
    except RequestError as error:
        return {"ok": False, "status": error.status, "error": error_data(error, field=error.field)}
    try:
        expr = parse(text, **types)
    except MatcalcError as error:
        return {"ok": False, "status": 400, "error": error_data(error, text)}
    known = expr.variables
    if not known:
        return {"ok": False, "status": 400, "error": error_data(ParseError("the expression has no variables"), text)}
    missing = [name for name in request["wrt"] if name not in known]
    if missing:
        message = (f"differentiate by {missing[0]!r}: the expression has no variable of that name "
                   f"(it has {', '.join(known)})")
        return {"ok": False, "status": 400, "error": error_data(MatcalcError(message), field="wrt")}
    names = list(dict.fromkeys(request["wrt"])) or [next(iter(known))]
    variables = [known[name] for name in names]
    try:
        gradients = grad(expr, variables)
        derivation = derive(expr, variables)
    except MatcalcError as error:
        return {"ok": False, "status": 400, "error": error_data(error, text)}
    return {
        "ok": True,
        "expression": {"text": str(expr), "latex": latex(expr)},
        "variables": [
            {"name": name, "kind": "symmetric" if v.kind == "matrix" and v.is_symmetric else v.kind,
             "shape": shape_str(v.shape), "declared": name in types}
            for name, v in known.items()
        ],
        "wrt": names,
        "gradients": [
            {"variable": v.label, "text": str(g), "latex": latex(g),
             "lhs_latex": f"\\frac{{\\partial \\ell}}{{\\partial {latex(v)}}}", "shape": shape_str(g.shape)}
            for v, g in zip(variables, gradients)
        ],
        "views": _views(derivation),
        "check": _check_data(expr, variables),
        "code": _code(expr, variables, gradients),
    }


def warm_up() -> None:
    """Import what the first request would (the backends' libraries), so it does not pay for it."""
    for name in BACKENDS:
        try:
            backend(name)
        except MatcalcError:
            pass
