"""The ``matcalc`` command: derive, explain and check gradients from the shell.

Exit codes: 0 success, 1 a numeric check failed, 2 bad input (one line on stderr), 3 a bug
in matcalc (one line on stderr; set MATCALC_DEBUG=1 for the traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from . import __version__
from . import demo as demo_module
from .derivation import derive
from .diff import grad
from .errors import MatcalcError
from .expr import Expr
from .numeric.backends import BACKENDS
from .numeric.check import check, check_jacobian
from .numeric.lambdify import to_source
from .parse import parse
from .printing.latex import latex
from .second import hessian, jacobian
from .web import serve

EXAMPLES = """examples:
  matcalc grad "0.5*norm2(A*x - y)^2" --wrt x
  matcalc grad "tr(A*X'*B*X*C)" --wrt X --steps --latex
  matcalc grad "sum(log(exp(-y.*(X*w)) + vector(1)))" --wrt w --check --code numpy
  matcalc grad "0.5*norm2(A*x - y)^2" --wrt A --code jax
  matcalc grad "x'*S*x" --wrt x --var S=symmetric
  matcalc demo

types by first letter: a-g scalar, h-z vector, A-Z matrix (override with --var NAME=TYPE,
TYPE one of scalar, vector, matrix, symmetric)"""


DERIVATIVE_EXAMPLES = """examples:
  matcalc jacobian "softmax(z)" --wrt z
  matcalc jacobian "tanh(W*x)" --wrt x --check
  matcalc hessian "x'*A*x + sum(tanh(B*x))" --wrt x --latex
  matcalc hessian "0.5*norm2(A*x - y)^2" --wrt x --json"""


class _ArgumentParser(argparse.ArgumentParser):
    """argparse with its errors on one line ("matcalc grad: error: ..."), exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _expression_arguments(command: argparse.ArgumentParser, example: str) -> None:
    """The expression, --wrt and --var, which grad, jacobian and hessian share."""
    command.add_argument("expression", help=f"in matrixcalculus.org syntax, e.g. \"{example}\"")
    command.add_argument("--wrt", required=True, action="append", help="the variable (repeat for several)")
    command.add_argument("--var", action="append", default=[], metavar="NAME=TYPE", help="a variable's type")


def _parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog="matcalc",
        description="Symbolic matrix calculus: gradients by Frobenius differentials, derived, explained and checked.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"matcalc {__version__} (matcalc-frobenius)")
    commands = parser.add_subparsers(dest="command", parser_class=_ArgumentParser)
    grad = commands.add_parser("grad", help="the gradient of a scalar expression", epilog=EXAMPLES,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    _expression_arguments(grad, "0.5*norm2(A*x - y)^2")
    grad.add_argument("--steps", action="store_true", help="show the derivation step by step")
    grad.add_argument("--view", choices=["differential", "backprop", "index", "jacobian"], help="which derivation view")
    grad.add_argument("--latex", action="store_true", help="print LaTeX instead of text")
    grad.add_argument("--check", action="store_true", help="check numerically (exit 1 if the check fails)")
    grad.add_argument("--code", choices=list(BACKENDS), help="print standalone code for value and gradient, "
                      "importing only that library (jax and torch: pip install \"matcalc-frobenius[jax]\", [torch])")
    grad.add_argument("--json", action="store_true", help="print one JSON object")
    for name, help_text in (("jacobian", "the Jacobian of an expression, numerator layout (rows follow the function)"),
                            ("hessian", "the Hessian of a scalar expression")):
        second = commands.add_parser(name, help=help_text, epilog=DERIVATIVE_EXAMPLES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
        _expression_arguments(second, "softmax(z)")
        second.add_argument("--latex", action="store_true", help="print LaTeX instead of text")
        second.add_argument("--check", action="store_true", help="check numerically (exit 1 if the check fails)")
        second.add_argument("--json", action="store_true", help="print one JSON object")
    commands.add_parser("demo", help="derive and check the built-in examples")
    serve = commands.add_parser("serve", help="the web page, on this computer (http://127.0.0.1:8000/)")
    serve.add_argument("--port", type=int, default=8000, help="the port (0: any free one; default 8000)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="the address to listen on (default 127.0.0.1; any other is reachable from other machines)")
    serve.add_argument("--time-limit", type=float, default=10.0, metavar="SECONDS",
                       help="stop a derivation after this many seconds (default 10)")
    serve.add_argument("--workers", type=int, default=2, help="derivations at once, each in its own process (default 2)")
    serve.add_argument("--verbose", action="store_true", help="log every request")
    return parser


def _expression_and_variables(args) -> tuple:
    """The parsed expression, its --var types applied, and the variables --wrt names."""
    types = {}
    for item in args.var:
        name, sep, kind = item.partition("=")
        if not sep:
            raise MatcalcError(f"--var takes NAME=TYPE, got {item!r}")
        types[name.strip()] = kind.strip()
    expr = parse(args.expression, **types)
    variables = []
    for name in args.wrt:
        if name not in expr.variables:
            known = ", ".join(expr.variables) or "none"
            raise MatcalcError(f"--wrt {name}: the expression has no variable {name!r} (it has {known})")
        variables.append(expr.variables[name])
    return expr, variables


def _run_grad(args, out) -> int:
    expr, variables = _expression_and_variables(args)
    gradients = grad(expr, variables)
    result: dict = {"expression": str(expr), "gradients": {}, "latex": {}}
    for variable, gradient in zip(variables, gradients):
        result["gradients"][variable.label] = str(gradient)
        result["latex"][variable.label] = latex(gradient)
    status = 0
    lines = []
    if args.steps or args.view:
        view = derive(expr, variables).view(args.view or "differential")
        lines.append(view.latex() if args.latex else str(view))
        result["derivation"] = str(view)
    else:
        for variable, gradient in zip(variables, gradients):
            lines.append(f"∂/∂{variable.label} = " + (latex(gradient) if args.latex else str(gradient)))
    if args.check:
        report = check(expr, variables)
        lines.append(str(report))
        result["check"] = {"ok": report.ok, "max_abs_error": report.max_abs_error, "max_rel_error": report.max_rel_error}
        status = 0 if report.ok else 1
    if args.code:
        inputs = list(expr.variables.values())
        pairs = [(k + 1, inputs.index(variable)) for k, variable in enumerate(variables)]
        source = to_source(inputs, [expr, *gradients], args.code, name="value_and_grad", gradient_pairs=pairs)
        lines.append(source)
        result["code"] = source
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else "\n\n".join(lines), file=out)
    return status


def _run_serve(args) -> int:
    if not 0 <= args.port <= 65535 or args.workers < 1 or not args.time_limit > 0:
        raise MatcalcError("serve: --port must be 0 to 65535, --workers at least 1, --time-limit positive")
    try:
        serve(args.host, args.port, args.time_limit, args.workers, args.verbose)
    except OSError as error:
        raise MatcalcError(f"serve: cannot listen on {args.host}:{args.port}: {error.strerror or error}") from None
    return 0


def _run_second(args, out) -> int:
    """``matcalc jacobian`` and ``matcalc hessian``: one result per --wrt variable, checked on request."""
    expr, variables = _expression_and_variables(args)
    hessian_wanted = args.command == "hessian"
    key = "hessians" if hessian_wanted else "jacobians"
    result: dict = {"expression": str(expr), key: {}, "latex": {}}
    lines, status = [], 0
    for variable in variables:
        derivative = hessian(expr, variable) if hessian_wanted else jacobian(expr, variable)
        label = variable.label
        shown_latex = latex(derivative) if isinstance(derivative, Expr) else derivative.latex()
        result[key][label], result["latex"][label] = str(derivative), shown_latex
        name = f"∂²/∂{label}²" if hessian_wanted else f"∂/∂{label}"
        shown = shown_latex if args.latex else str(derivative)
        # a matrix variable's derivative is a linear map, shown in several lines (d f = …, vec, index)
        lines.append(f"{name}:\n" + "\n".join("  " + line for line in shown.splitlines()) if "\n" in shown
                     else f"{name} = {shown}")
        if args.check:
            report = (check(expr, variable, gradient=derivative, order=2) if hessian_wanted
                      else check_jacobian(expr, variable, derivative))
            lines.append(str(report))
            result.setdefault("check", {})[label] = {
                "ok": report.ok, "max_abs_error": report.max_abs_error, "max_rel_error": report.max_rel_error}
            status = status if report.ok else 1
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else "\n\n".join(lines), file=out)
    return status


def _one_line(error: Exception) -> str:
    """The message's first line; a ParseError's caret drawing is left out, its position kept."""
    lines = str(error).splitlines() or [type(error).__name__]
    return lines[0]


def _expressions_not_options(argv: list[str]) -> list[str]:
    """argv with an expression that starts with a minus ("-x'*A*x") kept from being read as an
    option: every option is long (--wrt) but -h, so such a word is an expression, and a leading
    space, which the parser skips, tells argparse so."""
    return [f" {word}" if word.startswith("-") and not word.startswith("--") and word != "-h" else word
            for word in argv]


def main(argv=None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(_expressions_not_options(sys.argv[1:] if argv is None else list(argv)))
    except SystemExit as exit_:
        return 2 if exit_.code else 0
    try:
        if args.command == "demo":
            return demo_module.run(sys.stdout)
        if args.command == "grad":
            return _run_grad(args, sys.stdout)
        if args.command in ("jacobian", "hessian"):
            return _run_second(args, sys.stdout)
        if args.command == "serve":
            return _run_serve(args)
    except MatcalcError as error:
        print(f"matcalc: {type(error).__name__}: {_one_line(error)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader (e.g. `head`) closed the pipe: stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as error:  # noqa: BLE001 - a bug: one line, not a traceback, unless asked
        if os.environ.get("MATCALC_DEBUG"):
            raise
        print(f"matcalc: internal error (a bug in matcalc; please report it): {type(error).__name__}: "
              f"{_one_line(error)}", file=sys.stderr)
        return 3
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
