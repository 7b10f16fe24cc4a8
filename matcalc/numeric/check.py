"""``mc.check``: a closed-form gradient against two oracles that share no code with it.

(a) The elementwise chain rule: at small concrete sizes every entry of the variables
    becomes a sympy symbol, each operation computes its value entry by entry (its own
    ``entrywise`` rule, written apart from its pullback), and sympy differentiates the one
    scalar loss with respect to each entry.
(b) Central finite differences of the loss in float64, with a step scaled to each entry.
"""

from __future__ import annotations

import contextlib
import itertools
import signal
import threading
from dataclasses import dataclass, field

import numpy as np
import sympy

from ..diff import grad, validated_loss, validated_variables
from ..errors import EvaluationError, MatcalcError
from ..expr import Expr, Let, Symbol
from ..jacobians import Jacobian
from ..printing.common import postorder
from ..second import hessian
from ..second import jacobian as symbolic_jacobian
from ..shapes import dim_product, resolve_dim, shape_str
from .evaluate import (
    call_checked,
    compiled,
    given_values,
    not_finite_reason,
    prepare_arguments,
    symbols_of,
    values_and_sizes,
)

DEFAULT_SIZES = (3, 4, 5, 2, 6, 7, 8)
# The elementwise oracle's time at most, in seconds: SymPy's exact arithmetic on a 6×6 log det or
# on a 60×60 layer takes minutes; past this, finite differences decide and the report says so.
ORACLE_SECONDS = 15.0


class _OutOfTime(Exception):
    """The elementwise oracle ran past ORACLE_SECONDS."""


@contextlib.contextmanager
def _time_limit(seconds: float):
    """Interrupt the block after ``seconds`` with _OutOfTime, where a timer signal can: in the main
    thread, with no SIGALRM handler of the program's own (elsewhere the block runs unbounded)."""
    usable = (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
              and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None))
    if not usable:
        yield
        return

    def stop(signum, frame):
        raise _OutOfTime

    signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)


def _out_of_time(oracle: str) -> OracleReport:
    return OracleReport(oracle, True, float("nan"), float("nan"), note=f"did not finish in {ORACLE_SECONDS:g} s at these sizes",
                        ran=False)


@dataclass
class OracleReport:
    """How one oracle compares with the formula."""

    oracle: str
    ok: bool  # it agrees (an oracle that did not run contradicts nothing)
    max_abs_error: float
    max_rel_error: float
    worst: str = ""
    note: str = ""
    ran: bool = True  # False where it could not judge: its own value not finite at the point, or out of time


@dataclass
class CheckResult:
    """The outcome of :func:`check` and :func:`check_jacobian`: ``ok`` when every oracle agrees with
    every formula.  It is true or false as ``ok`` is, and prints as a table of the oracles.

    Parameters
    ----------
    ok : bool
        Whether every oracle agrees.
    max_abs_error, max_rel_error : float
        The largest absolute and relative errors over the oracles.
    reports : list
        One report per oracle (its name, whether it agrees, its errors, the worst entry).
    formulas : dict
        Each variable with the formula that was checked.
    sizes : dict
        The sizes the dimensions were given.
    values : dict
        The point the formulas were checked at.
    seed : int, optional
        The random point's seed.
    label : str, optional
        How the formula is named when printed (∂ℓ/∂).
    at_given_values : bool, optional
        Whether values were given (the report says where it checked).

    Examples
    --------
    >>> x = mc.vector("x", 3)
    >>> result = mc.check(x.T @ x, x)
    >>> bool(result), result.max_abs_error < 1e-6
    (True, True)
    """

    ok: bool
    max_abs_error: float
    max_rel_error: float
    reports: list
    formulas: dict
    sizes: dict
    values: dict = field(repr=False)
    seed: int = 0
    label: str = "∂ℓ/∂"
    at_given_values: bool = False

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return str(self)

    def __str__(self) -> str:
        sizes = ", ".join(f"{d} = {v}" for d, v in self.sizes.items())
        lines = []
        for variable, formula in self.formulas.items():
            suffix = "²" if self.label.startswith("∂²") else ""
            lines.append(f"{self.label}{variable.label}{suffix} = {formula}")
        where = (f"checked at the given values (any not given drawn with seed {self.seed})" if self.at_given_values
                 else f"checked at a random point (seed {self.seed})")
        lines.append(where + (f" with {sizes}" if sizes else ""))
        width = max(len(r.oracle) for r in self.reports)
        for r in self.reports:
            verdict = "did not run" if not r.ran else "agrees" if r.ok else "DISAGREES"
            errors = f": max abs error {r.max_abs_error:.2e}, max rel error {r.max_rel_error:.2e}"
            lines.append(f"  {r.oracle:<{width}}  {verdict}" + (errors if np.isfinite(r.max_abs_error) else ""))
            if r.note:
                lines.append(f"  {'':<{width}}  {r.note}")
            if not r.ok and r.worst:
                lines.append(f"  {'':<{width}}  worst entry: {r.worst}")
        lines.append("OK" if self.ok else "FAILED")
        return "\n".join(lines)


# --- the point -----------------------------------------------------------------------------


ORACLES = ("elementwise", "finite differences")


def _validate_options(dims, values, seed, oracles=ORACLES) -> None:
    """check's options, each refused with what was wrong."""
    if dims is not None and not isinstance(dims, dict):
        raise MatcalcError(f"check: dims must be a dict from dimensions (or their names) to sizes, got {type(dims).__name__}")
    for dim, size in (dims or {}).items():
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise MatcalcError(f"check: the size of dimension {dim} must be a positive integer, got {size!r}")
    if values is not None and not isinstance(values, dict):
        raise MatcalcError(f"check: values must be a dict from variables (or names) to arrays, got {type(values).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise MatcalcError(f"check: seed must be a non-negative integer, got {seed!r}")
    if not isinstance(oracles, (tuple, list)) or not oracles or any(o not in ORACLES for o in oracles):
        raise MatcalcError(f"check: oracles must name one or both of {ORACLES}, got {oracles!r}")


def _default_sizes(exprs, dims: dict | None, values: dict | None = None) -> dict:
    """A size for every dimension: as ``dims`` gives it (keyed by the dimension or its name), as
    the arrays in ``values`` fix it, else a small size no other dimension has."""
    free = sorted(
        {d for node in postorder(exprs) for dim in node.shape for d in getattr(dim, "free_symbols", ())},
        key=str,
    )
    by_name = {str(d): d for d in free}
    sizes = {by_name.get(key, key) if isinstance(key, str) else key: size for key, size in (dims or {}).items()}
    if values is not None:
        for dim, size in given_values(values, symbols_of(exprs))[1].items():
            sizes.setdefault(dim, size)
    used = set(sizes.values())
    choices = (s for s in itertools.chain(DEFAULT_SIZES, itertools.count(9)) if s not in used)  # distinct sizes
    for d in free:
        if d not in sizes:
            sizes[d] = next(choices)
    return sizes


def _roles(loss: Expr) -> tuple[set, set]:
    """Variables that sit (through transposes and names) under an operation whose argument must
    be invertible (inverses, determinants) or positive (logs, roots, negative powers), as each
    operation's record declares."""
    roles: dict[str, set] = {"invertible": set(), "positive": set()}
    for node in postorder([loss]):
        if node.argument_domain in roles:
            roles[node.argument_domain].update(n for n in postorder([node.args[0]]) if isinstance(n, Symbol))
    return roles["invertible"], roles["positive"]


def random_point(loss: Expr, formulas: list, sizes: dict, seed: int, attempt: int) -> dict:
    """Random values: symmetric variables symmetric, inverted ones well away from singular,
    positive entries where a log or root needs them (everywhere, after a failed attempt)."""
    rng = np.random.default_rng(seed + 7919 * attempt)
    inverted, positive = _roles(loss)
    values = {}
    for symbol in symbols_of([loss, *formulas]):
        shape = tuple(resolve_dim(d, sizes) for d in symbol.shape)
        if symbol in positive or attempt > 0:
            value = rng.uniform(0.5, 1.5, size=shape)
        else:
            value = rng.normal(size=shape)
        if symbol.columns_sum_to_one:  # positive columns scaled to sum to one, as probabilities are
            value = np.abs(value) + 0.1
            value = value / value.sum(axis=0, keepdims=True)
        if symbol.is_symmetric and not symbol.is_scalar:
            value = (value + value.T) / 2
        if symbol in inverted and shape[0] == shape[1]:
            value = value + (shape[0] + 1.0) * np.eye(shape[0])
        values[symbol] = value
    return values


# --- oracles ---------------------------------------------------------------------------------


def _loss_function(loss: Expr, values: dict, sizes: dict):
    """The loss as a function of some variables' values, the others and the sizes fixed."""
    symbols = symbols_of([loss])
    entry = compiled(symbols, [loss])

    def f(overrides: dict) -> float:
        arguments, found = prepare_arguments(symbols, {**values, **overrides})
        return call_checked(entry, arguments, {**sizes, **found})  # a size no variable fixes, n in sum(𝟏ₙ), from sizes

    return f


def finite_differences(loss: Expr, variable: Symbol, values: dict, sizes: dict) -> np.ndarray:
    """∂loss/∂variable by central differences at steps h and h/2, combined by Richardson
    extrapolation (error O(h⁴): a loss that turns fast, sin(det(X)), needs it); symmetric
    variables move (i, j) and (j, i) together and get the gradient within symmetric matrices."""
    f = _loss_function(loss, values, sizes)

    def central(point: np.ndarray, direction: np.ndarray, step: float) -> float:
        return (f({variable: point + step * direction}) - f({variable: point - step * direction})) / (2 * step)

    base = np.asarray(values[variable], dtype=float)
    result = np.zeros_like(base)
    symmetric = variable.is_symmetric and not variable.is_scalar
    for index in np.ndindex(base.shape):
        step = 6e-6 * max(1.0, abs(base[index]))
        direction = np.zeros_like(base)
        direction[index] = 1.0
        off_diagonal = symmetric and index[0] != index[1]
        if off_diagonal:
            direction[index[::-1]] = 1.0
        if symmetric and index[0] > index[1]:
            continue
        derivative = (4 * central(base, direction, step / 2) - central(base, direction, step)) / 3
        result[index] = derivative / 2 if off_diagonal else derivative
        if off_diagonal:
            result[index[::-1]] = result[index]
    return result


def entrywise_value(expr: Expr, bindings: dict, sizes: dict) -> sympy.Matrix:
    """The expression as a sympy Matrix, each operation computing its entries itself."""

    def size(dim):
        return int(sympy.sympify(dim).subs(sizes))

    computed: dict = {}
    for node in postorder([expr]):
        if isinstance(node, Symbol):
            computed[node] = bindings[node]
        elif isinstance(node, Let):
            computed[node] = computed[node.args[0]]
        else:
            computed[node] = node.entrywise([computed[c] for c in node.args], size)
    return computed[expr]


def _as_sympy_matrix(value: np.ndarray) -> sympy.Matrix:
    return sympy.Matrix(value.shape[0], value.shape[1], [sympy.Float(float(v), 17) for v in value.ravel()])


def elementwise_chain_rule(loss: Expr, variables: list, values: dict, sizes: dict) -> list[np.ndarray]:
    """∂loss/∂variable entry by entry, by sympy's scalar chain rule at the point.

    One entry at a time becomes a sympy symbol (for a symmetric variable, the pair (i, j),
    (j, i)); every other entry is its number.  Each operation computes the loss's value
    entry by entry, and sympy differentiates that one scalar expression.
    """
    numeric = {s: _as_sympy_matrix(np.atleast_2d(np.asarray(values[s], dtype=float))) for s in symbols_of([loss, *variables])}
    entry = sympy.Symbol("entry", real=True)
    results = []
    for variable in variables:
        value = np.atleast_2d(np.asarray(values[variable], dtype=float))
        symmetric = variable.is_symmetric and not variable.is_scalar
        derivative = np.zeros(value.shape)
        for i, j in np.ndindex(value.shape):
            if symmetric and i > j:
                continue
            grid = numeric[variable].copy()
            grid[i, j] = entry
            if symmetric:
                grid[j, i] = entry
            scalar = entrywise_value(loss, {**numeric, variable: grid}, sizes)[0, 0]
            number = complex(sympy.diff(scalar, entry).subs(entry, sympy.Float(float(value[i, j]), 17)).evalf(20))
            if abs(number.imag) > 1e-12:
                raise MatcalcError("check: the loss is not real at the check point")
            derivative[i, j] = number.real / (2 if symmetric and i != j else 1)
            if symmetric:
                derivative[j, i] = derivative[i, j]
        results.append(derivative)
    return results


# --- comparing ---------------------------------------------------------------------------------


def _compare(oracle: str, variables: list, formulas: list, expected: list, rtol: float, atol_scale: float) -> OracleReport:
    """Agreement when every entry is within rtol·|reference| + atol_scale·max(1, max|reference|)."""
    max_abs = max_rel = 0.0
    worst, worst_excess, ok = "", -np.inf, True
    for variable, reference in zip(variables, expected):
        if not np.all(np.isfinite(reference)):  # sympy's own arithmetic overflowed: log(1 − σ(900)), say
            row, col = (int(k) for k in np.argwhere(~np.isfinite(reference))[0])
            label = variable.label + (f"[{row}]" if variable.shape[1] == 1 else f"[{row}, {col}]")
            note = f"its own value for {label} is {reference[row, col]} at this point"
            return OracleReport(oracle, True, float("nan"), float("nan"), note=note, ran=False)
    for variable, actual, reference in zip(variables, formulas, expected):
        actual = np.asarray(actual, dtype=float).reshape(reference.shape)
        error = np.abs(actual - reference)
        scale = max(1.0, float(np.max(np.abs(reference))))
        excess = error - (rtol * np.abs(reference) + atol_scale * scale)
        index = np.unravel_index(int(np.argmax(excess)), error.shape)
        ok = ok and bool(np.all(excess <= 0))
        if excess[index] > worst_excess:
            worst_excess = excess[index]
            label = variable.label + (f"[{index[0]}]" if variable.shape[1] == 1 else f"[{index[0]}, {index[1]}]")
            worst = f"{label}: formula gives {actual[index]:.6g}, {oracle} gives {reference[index]:.6g}"
        max_abs = max(max_abs, float(np.max(error)))
        relative = np.where(error > 0, error / np.maximum(np.abs(reference), 1e-300), 0.0)
        max_rel = max(max_rel, float(np.max(relative)))
    return OracleReport(oracle, ok, max_abs, max_rel, worst)


def check(
    loss: Expr,
    wrt: Symbol | list[Symbol],
    gradient: Expr | Jacobian | list[Expr] | None = None,
    dims: dict | None = None,
    values: dict | None = None,
    seed: int = 0,
    oracles: tuple = ORACLES,
    order: int = 1,
) -> CheckResult:
    """Check a gradient formula numerically against the elementwise chain rule and finite differences.

    Without ``gradient`` it checks matcalc's own result; with it, your formula (a list when
    ``wrt`` is a list).  Sizes default to small distinct values so that a missing transpose
    cannot hide behind a square shape; values default to a random, well-conditioned point.
    ``order=2`` checks the Hessian (``gradient`` is then your Hessian formula) against SymPy's
    second derivatives and finite differences of the gradient; for a matrix variable X it is the
    pq×pq matrix ∂vec(∇ℓ)/∂vec X, vec stacking columns.

    Parameters
    ----------
    loss : Expr
        A scalar expression.
    wrt : Symbol or list of Symbol
        The variable(s).
    gradient : Expr or list of Expr, optional
        The formula to check; matcalc's own gradient (or Hessian) when omitted.
    dims : dict, optional
        Sizes for the dimension symbols (``{n: 4}``); small distinct ones by default.
    values : dict, optional
        Values for the variables (by variable or name), as for :func:`evaluate`; random by
        default, and for any variable not given.  Sizes are read off them.
    seed : int, optional
        The random point's seed.
    oracles : tuple of str, optional
        Which oracles to run: ``"elementwise"`` and/or ``"finite differences"``.
    order : {1, 2}, optional
        1 checks the gradient, 2 the Hessian.

    Returns
    -------
    CheckResult
        ``ok`` (also its truth value), the largest errors, and a report per oracle; it prints as
        a table.

    Raises
    ------
    MatcalcError
        For a loss that is not a scalar, an unknown variable, a formula of the wrong shape, or
        another ``order``.

    Examples
    --------
    >>> n, m = mc.dims("n m")
    >>> W, a = mc.matrix("W", n, m), mc.vector("a", m)
    >>> loss = mc.sum(mc.tanh(W @ a))
    >>> mc.check(loss, W).ok
    True
    >>> mc.check(loss, W, gradient=(1 - mc.tanh(W @ a) ** 2) @ a.T).ok
    True
    >>> mc.check(loss, W, gradient=mc.tanh(W @ a) @ a.T).ok
    False
    """
    loss = validated_loss(loss, "check")
    _validate_options(dims, values, seed, oracles)
    variables, single = validated_variables(wrt, "check")
    if order == 2:
        return _check_hessian(loss, variables, gradient, dims, values, seed)
    if order != 1:
        raise MatcalcError(f"check: order must be 1 (gradient) or 2 (Hessian), got {order!r}")
    if gradient is None:
        formulas = [grad(loss, variables[0])] if single else grad(loss, variables)
    else:
        formulas = [gradient] if single else list(gradient) if isinstance(gradient, (list, tuple)) else []
        if len(formulas) != len(variables) or not all(isinstance(f, Expr) for f in formulas):
            raise MatcalcError("check: give one gradient expression per variable")
    sizes = _default_sizes([loss, *formulas], dims, values)
    shape_notes = [
        f"∂ℓ/∂{v.label}: the formula has shape {shape_str(f.shape)}, the variable {shape_str(v.shape)}"
        for v, f in zip(variables, formulas)
        if tuple(resolve_dim(d, sizes) for d in f.shape) != tuple(resolve_dim(d, sizes) for d in v.shape)
    ]
    if shape_notes:
        report = OracleReport("shapes", False, float("inf"), float("inf"), note="; ".join(shape_notes))
        return CheckResult(False, float("inf"), float("inf"), [report], dict(zip(variables, formulas)), sizes, values or {}, seed)

    point, evaluated = _point_and_formulas(loss, [*formulas, *variables], sizes, values, seed)  # a variable ℓ does not use has ∇ = 0
    evaluated = evaluated[: len(formulas)]
    reports, too_deep = [], ""
    if "elementwise" in oracles:
        try:
            with _time_limit(ORACLE_SECONDS):
                expected = elementwise_chain_rule(loss, variables, point, sizes)
            reports.append(_compare("elementwise chain rule (sympy)", variables, evaluated, expected, 1e-8, 1e-10))
        except _OutOfTime:
            reports.append(_out_of_time("elementwise chain rule (sympy)"))
        except RecursionError:
            too_deep = "the elementwise oracle did not run: the loss nests too deeply for sympy"
            if "finite differences" not in oracles:
                raise EvaluationError(f"check: {too_deep}; check with oracles=('finite differences',)") from None
    if "finite differences" in oracles:
        expected = [finite_differences(loss, v, point, sizes) for v in variables]
        reports.append(_compare("central finite differences", variables, evaluated, expected, 1e-5, 1e-6))
        if too_deep:
            reports[-1].note = "; ".join(n for n in (reports[-1].note, too_deep) if n)
    return _result(reports, dict(zip(variables, formulas)), sizes, point, seed, values is not None)


def _result(reports: list, formulas: dict, sizes: dict, point: dict, seed: int, given: bool, label: str = "∂ℓ/∂") -> CheckResult:
    """The verdict of the oracles that ran: ok when at least one ran and none disagrees."""
    ran = [r for r in reports if r.ran]
    if not ran:
        reports[-1].note += "; no oracle could compute at this point: check at other values"
    max_abs = max((r.max_abs_error for r in ran), default=float("nan"))
    max_rel = max((r.max_rel_error for r in ran), default=float("nan"))
    return CheckResult(bool(ran) and all(r.ok for r in ran), max_abs, max_rel, reports, formulas,
                       {str(d): v for d, v in sizes.items()}, point, seed, label, given)


def _point_and_formulas(loss, formulas, sizes, values, seed):
    """A point where the loss and the formulas are finite, and the formulas' values there."""
    symbols = symbols_of([loss, *formulas])
    given = values_and_sizes(values, symbols)[0] if values is not None else {}
    attempts = 1 if len(given) == len(symbols) else 4  # variables not given are drawn at random
    for attempt in range(attempts):
        point = dict(values) if attempts == 1 else {**random_point(loss, formulas, sizes, seed, attempt), **given}
        arguments, _ = prepare_arguments(symbols, {**point, **sizes})
        point = dict(zip(symbols, arguments))
        outputs = call_checked(compiled(symbols, [loss, *formulas]), arguments, sizes)
        if all(np.all(np.isfinite(o)) for o in outputs):
            return point, list(outputs[1:])
    culprit = next(e for e, o in zip([loss, *formulas], outputs) if not np.all(np.isfinite(o)))
    reason = not_finite_reason(culprit, symbols, arguments, sizes)
    if values is not None:
        raise EvaluationError(f"check: at the given values, {reason}")
    raise EvaluationError(f"check: found no point where the loss and the gradient are finite in {attempts} tries "
                          f"(at the last, {reason}); pass values=")


# --- Jacobians and Hessians ------------------------------------------------------------------
# A Jacobian is compared as the matrix ∂vec f/∂vec x, vec stacking columns (Magnus and
# Neudecker's convention, as mc.jacobian's): entries of f and of x are listed column by column.


def _column_major(matrix: sympy.Matrix) -> list:
    return list(matrix.T)


def _entry_grid(value: np.ndarray) -> sympy.Matrix:
    """One sympy symbol for each entry of the variable."""
    return sympy.Matrix(value.shape[0], value.shape[1], lambda i, j: sympy.Symbol(f"x_{i}_{j}", real=True))


def _symbolic_jacobian(source: Expr, x: Symbol, point: dict, sizes: dict, second_order: bool) -> np.ndarray:
    """∂vec f/∂vec x at the point by sympy's scalar chain rule, from each operation's entrywise
    meaning; for second order, ``source`` is the loss, differentiated twice."""
    x_value = np.asarray(point[x], dtype=float)
    grid = _entry_grid(x_value)
    bindings = {s: (grid if s is x else _as_sympy_matrix(np.asarray(point[s], dtype=float))) for s in symbols_of([source])}
    entries, variables = _column_major(entrywise_value(source, bindings, sizes)), _column_major(grid)
    if second_order:
        entries = [sympy.diff(entries[0], g) for g in variables]
    at = {g: sympy.Float(float(v), 17) for g, v in zip(variables, x_value.T.ravel())}
    return np.array([[float(sympy.diff(e, g).xreplace(at).evalf(20)) for g in variables] for e in entries], dtype=float)


def _numeric_jacobian(function: Expr, x: Symbol, point: dict, sizes: dict) -> np.ndarray:
    """∂vec f/∂vec x at the point by central differences, one entry of x at a time, in vec order."""
    symbols = symbols_of([function, x])
    entry = compiled(symbols, [function])
    x_value = np.asarray(point[x], dtype=float)
    columns = []
    for index in [(i, j) for j in range(x_value.shape[1]) for i in range(x_value.shape[0])]:
        step = 6e-6 * max(1.0, abs(x_value[index]))
        shifted = []
        for sign in (1, -1):
            moved = x_value.copy()
            moved[index] += sign * step
            arguments, _ = prepare_arguments(symbols, {**point, x: moved})
            shifted.append(np.atleast_2d(np.asarray(call_checked(entry, arguments, sizes), dtype=float)).T.ravel())
        columns.append((shifted[0] - shifted[1]) / (2 * step))
    return np.array(columns).T


def _jacobian_check(function: Expr, x: Symbol, formula: Expr, sizes: dict, values, seed: int, second_order_of=None):
    """Compare ``formula`` (∂vec f/∂vec x for f = ``function``) with sympy and finite differences.

    With ``second_order_of`` (a scalar loss), the sympy oracle differentiates that loss twice
    and ``function`` is its gradient, whose finite differences give the other oracle.
    """
    second_order = second_order_of is not None
    source = second_order_of if second_order else function
    point, (value, _) = _point_and_formulas(source, [formula, x], sizes, values, seed)
    value = np.atleast_2d(np.asarray(value, dtype=float))
    what = "second derivatives" if second_order else "Jacobian"
    oracle = f"elementwise chain rule (sympy {what})"
    try:
        with _time_limit(ORACLE_SECONDS):
            symbolic = _symbolic_jacobian(source, x, point, sizes, second_order)
        first = _compare(oracle, [x], [value], [symbolic], 1e-8, 1e-10)
    except _OutOfTime:
        first = _out_of_time(oracle)
    numeric = _numeric_jacobian(function, x, point, sizes)
    reports = [
        first,
        _compare("central finite differences" + (" of the gradient" if second_order else ""), [x], [value], [numeric], 1e-5, 1e-6),
    ]
    return reports, point


def _as_formula(formula, where: str) -> Expr:
    """The matrix to check: a Jacobian's or Hessian's ∂vec f/∂vec x, or an expression as it is."""
    formula = formula.matrix if isinstance(formula, Jacobian) else formula
    if not isinstance(formula, Expr):
        raise MatcalcError(f"{where}: give the formula as a matcalc expression (or what mc.jacobian or mc.hessian returns)")
    return formula


def _checked(function: Expr, x: Symbol, formula: Expr, dims, values, seed: int, second_order_of=None) -> CheckResult:
    """The check of ∂vec f/∂vec x (or of the Hessian, when ``second_order_of`` is the loss), shapes first."""
    source = second_order_of if second_order_of is not None else function
    sizes = _default_sizes([source, formula], dims, values)
    shown = {str(d): v for d, v in sizes.items()}
    matrices = not (function.shape[1] == 1 and x.shape[1] == 1)
    label = ("∂²ℓ/∂" if second_order_of is not None else "∂vec f/∂vec " if matrices else "∂f/∂")
    expected = [dim_product(*function.shape), dim_product(*x.shape)]
    if [resolve_dim(d, sizes) for d in formula.shape] != [resolve_dim(d, sizes) for d in expected]:
        note = f"the formula has shape {shape_str(formula.shape)}; ∂vec f/∂vec {x.label} has {shape_str(tuple(expected))}"
        report = OracleReport("shapes", False, float("inf"), float("inf"), note=note)
        return CheckResult(False, float("inf"), float("inf"), [report], {x: formula}, shown, values or {}, seed, label)
    reports, point = _jacobian_check(function, x, formula, sizes, values, seed, second_order_of)
    return _result(reports, {x: formula}, sizes, point, seed, values is not None, label)


def check_jacobian(f: Expr, x: Symbol, jacobian: Expr | Jacobian | None = None, dims: dict | None = None, values: dict | None = None,
                   seed: int = 0) -> CheckResult:
    """Check a Jacobian (numerator layout) against SymPy and finite differences.

    For a matrix f or x the Jacobian is the matrix ∂vec f/∂vec x, vec stacking columns; give it
    as an expression or as what :func:`jacobian` returns.

    Parameters
    ----------
    f : Expr
        The function.
    x : Symbol
        The variable.
    jacobian : Expr or Jacobian, optional
        The formula to check; matcalc's own Jacobian when omitted.
    dims : dict, optional
        Sizes for the dimension symbols; small distinct ones by default.
    values : dict, optional
        Values for the variables; random by default.
    seed : int, optional
        The random point's seed.

    Returns
    -------
    CheckResult
        As for :func:`check`.

    Raises
    ------
    MatcalcError
        For a formula of the wrong shape, or what is not an expression.

    Examples
    --------
    >>> z = mc.vector("z", 3)
    >>> mc.check_jacobian(mc.softmax(z), z).ok
    True
    >>> A, X = mc.matrix("A", 2, 3), mc.matrix("X", 3, 4)
    >>> mc.check_jacobian(A @ X, X, jacobian=mc.kron(mc.eye(4), A)).ok
    True
    """
    if not isinstance(f, Expr):
        raise MatcalcError("check_jacobian: f must be a matcalc expression")
    (x,), _ = validated_variables(x, "check_jacobian")
    _validate_options(dims, values, seed)
    formula = _as_formula(symbolic_jacobian(f, x) if jacobian is None else jacobian, "check_jacobian")
    return _checked(f, x, formula, dims, values, seed)


def _check_hessian(loss: Expr, variables: list, formula, dims, values, seed) -> CheckResult:
    if len(variables) != 1:
        raise MatcalcError("check: order=2 needs one variable")
    (x,) = variables
    formula = _as_formula(hessian(loss, x) if formula is None else formula, "check")
    return _checked(grad(loss, x), x, formula, dims, values, seed, second_order_of=loss)
