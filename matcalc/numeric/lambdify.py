"""Compiled functions and standalone source from expressions, for NumPy, JAX or PyTorch."""

from __future__ import annotations

import inspect

from ..diff import grad
from ..errors import EvaluationError, OperandError
from ..expr import Expr, Symbol
from ..jacobians import Jacobian
from .backends import backend as find_backend
from .codegen import generate
from .emit_numpy import docstring
from .evaluate import symbols_of
from .plan import identifier


def inputs_and_outputs(inputs, outputs, where: str) -> tuple[list[Symbol], list[Expr], bool]:
    inputs = [inputs] if isinstance(inputs, Expr) else list(inputs)
    single = isinstance(outputs, (Expr, Jacobian))
    if not single and not isinstance(outputs, (list, tuple)):
        raise OperandError(f"{where}: outputs must be an expression or a list of expressions, got {outputs!r}")
    outputs = [outputs] if single else list(outputs)
    # a Jacobian or Hessian of matrices compiles to its matrix ∂vec F/∂vec X, as mc.evaluate gives it
    outputs = [output.matrix if isinstance(output, Jacobian) else output for output in outputs]
    if not outputs or not all(isinstance(o, Expr) for o in outputs):
        raise OperandError(f"{where}: outputs must be an expression or a list of expressions")
    for s in inputs:
        if not isinstance(s, Symbol):
            raise OperandError(f"{where}: inputs must be variables, got {s!r}")
    if len(set(inputs)) != len(inputs):
        raise OperandError(f"{where}: an input is listed twice")
    missing = [s for s in symbols_of(outputs) if s not in inputs]
    if missing:
        names = ", ".join(f"{s.kind} {s.label!r}" for s in missing)
        raise EvaluationError(f"{where}: the outputs use {names}, which is not among the inputs")
    return inputs, outputs, single


def lambdify(inputs: Symbol | list[Symbol], outputs: Expr | Jacobian | list, backend: str = "numpy") -> CompiledFunction:
    """A NumPy function (or a JAX or PyTorch one) of the inputs, in order, that returns the outputs.

    Shared subexpressions are computed once; there is no tree walking per call.  Scalars come
    back as floats, everything else as 2-D arrays; sizes are read off the arguments (sizes no
    argument fixes are keyword arguments named ``dim_<name>``).  The function's ``source``
    attribute holds its Python source.

    Each call returns new arrays; several array outputs are views of one new allocation, which is
    much faster than many separate large arrays (copy one to keep it apart).  To reuse memory
    across calls, as a training loop does, pass arrays to write into as ``out``, in the form the
    function returns (``None`` in place of a scalar); the outputs are computed straight into them.

    ``backend="jax"`` or ``"torch"`` compiles the same closed forms to jax.numpy or torch code.
    Those functions take and return the library's arrays (scalars as 0-d arrays), have no
    ``out``, and compose with the library: ``jax.jit``, ``jax.vmap``, ``jax.grad``;
    ``torch.autograd`` and ``torch.compile``.  A torch function computes on the device and in the
    float type of its tensor arguments.

    Parameters
    ----------
    inputs : Symbol or list of Symbol
        The function's arguments, in order; every variable the outputs use.
    outputs : Expr or list of Expr
        What it returns: one value, or a tuple of values for a list.  What :func:`jacobian` or
        :func:`hessian` returns for matrices compiles to its matrix ∂vec F/∂vec X, as
        :func:`evaluate` gives it.
    backend : {"numpy", "jax", "torch"}, optional
        The library of the generated code.  JAX and torch are optional extras
        (``pip install "matcalc-frobenius[jax]"``, ``[torch]``).

    Returns
    -------
    callable
        The compiled function.

    Raises
    ------
    OperandError
        For inputs that are not variables, an input listed twice, or an unknown backend.
    EvaluationError
        For outputs that use a variable not among the inputs.
    MatcalcError
        For a backend whose library is not installed (the message names the extra).

    Examples
    --------
    >>> W, a = mc.matrix("W", 2, 3), mc.vector("a", 3)
    >>> f = mc.lambdify([W, a], [mc.sum(W @ a), W @ a])
    >>> total, product = f([[1, 0, 0], [0, 1, 0]], [1, 2, 3])
    >>> total, product.shape
    (3.0, (2, 1))
    >>> results = f([[1, 0, 0], [0, 1, 0]], [1, 2, 3])
    >>> again = f([[0, 1, 0], [0, 0, 1]], [1, 2, 3], out=(None, results[1]))
    >>> again[1] is results[1], again[1].ravel().tolist()
    (True, [2.0, 3.0])
    """
    inputs, outputs, single = inputs_and_outputs(inputs, outputs, "lambdify")
    return CompiledFunction(inputs, outputs, single, find_backend(backend).name)


class CompiledFunction:
    """A function compiled from expressions; it pickles as its expressions and compiles again."""

    # __weakref__: jax.jit and torch.compile keep weak references to the functions they compile
    __slots__ = ("inputs", "outputs", "single", "backend", "source", "_function", "__signature__", "__weakref__")

    def __init__(self, inputs: list, outputs: list, single: bool, backend: str = "numpy"):
        chosen = find_backend(backend)
        generated = generate(inputs, outputs, "compiled", single=single, emitter=chosen.emitter)
        self.inputs, self.outputs, self.single, self.backend = tuple(inputs), tuple(outputs), single, chosen.name
        self._function, self.source = chosen.build(generated)
        self.__signature__ = inspect.signature(self._function)

    def __call__(self, *args, **kwargs):
        return self._function(*args, **kwargs)

    def __reduce__(self):
        return CompiledFunction, (list(self.inputs), list(self.outputs), self.single, self.backend)

    def __repr__(self) -> str:
        names = ", ".join(s.label for s in self.inputs)
        count = f"{len(self.outputs)} output{'s' if len(self.outputs) > 1 else ''}"
        return f"<compiled {self.backend} function of ({names}) → {count}>"


def _gradient_pairs(inputs: list, outputs: list) -> list[tuple[int, int]]:
    """(output index, input index) for every output that is the gradient of output 0."""
    if not outputs[0].is_scalar:
        return []
    present = symbols_of([outputs[0]])
    candidates = [s for s in inputs if s in present and not s.columns_sum_to_one]  # data is not differentiated
    gradients = dict(zip(candidates, grad(outputs[0], candidates))) if candidates else {}
    pairs = []
    for i, output in enumerate(outputs[1:], start=1):
        for j, symbol in enumerate(inputs):
            if gradients.get(symbol) is output:
                pairs.append((i, j))
                break
    return pairs


def _checked_pairs(pairs, inputs: list, outputs: list) -> list[tuple[int, int]]:
    """The caller's gradient pairs, each an output after the loss with its input's shape."""
    checked = []
    for pair in pairs:
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and all(type(k) is int for k in pair)):
            raise OperandError(f"to_numpy_source: a gradient pair is (output index, input index), got {pair!r}")
        i, j = pair
        if not (outputs[0].is_scalar and 1 <= i < len(outputs) and 0 <= j < len(inputs)):
            raise OperandError(f"to_numpy_source: {pair!r} names no gradient of a scalar output 0 among the outputs and inputs")
        if outputs[i].shape != inputs[j].shape:
            raise OperandError(f"to_numpy_source: output {i} cannot be the gradient for input {inputs[j].label!r}: their shapes differ")
        checked.append((i, j))
    return checked


def to_source(
    inputs: Symbol | list[Symbol], outputs: Expr | list[Expr], backend: str = "numpy", name: str = "f",
    gradient_pairs: list[tuple[int, int]] | None = None,
) -> str:
    """Standalone Python source for ``backend`` that imports only that library: the function
    :func:`lambdify` compiles, as text.

    For NumPy it is :func:`to_numpy_source`'s.  JAX and torch source defines ``name(...)`` with
    no ``out`` and no check function (the library's own autodiff checks it).

    Parameters
    ----------
    inputs : Symbol or list of Symbol
        The function's arguments, in order.
    outputs : Expr or list of Expr
        What it returns.
    backend : {"numpy", "jax", "torch"}, optional
        The library the source imports.
    name : str, optional
        The function's name.
    gradient_pairs : list of (int, int), optional
        As for :func:`to_numpy_source`.

    Returns
    -------
    str
        The source.

    Raises
    ------
    OperandError
        As for :func:`lambdify`, and for a bad gradient pair.
    EvaluationError
        For outputs that use a variable not among the inputs.

    Examples
    --------
    >>> x = mc.vector("x", 3)
    >>> source = mc.to_source([x], [x.T @ x, mc.grad(x.T @ x, x)], backend="jax", name="sq")
    >>> "import jax.numpy as jnp" in source and "def sq(x):" in source and "numpy as np" not in source
    True
    """
    chosen = find_backend(backend)
    where = "to_source" if chosen.name != "numpy" else "to_numpy_source"
    inputs, outputs, single = inputs_and_outputs(inputs, outputs, where)
    pairs = []
    if chosen.name == "numpy":
        pairs = _gradient_pairs(inputs, outputs) if gradient_pairs is None else _checked_pairs(gradient_pairs, inputs, outputs)
    generated = generate(inputs, outputs, name, single=single, emitter=chosen.emitter)
    shown = "\n".join(f"    {_shortened(str(output))}" for output in outputs)
    source = docstring(f"{generated.function_name}: generated by matcalc from\n{shown}") + "\n\n" + chosen.standalone(generated)
    if pairs:
        source += "\n\n" + _check_function(generated, pairs)
    return source


def to_numpy_source(
    inputs: Symbol | list[Symbol], outputs: Expr | list[Expr], name: str = "f",
    gradient_pairs: list[tuple[int, int]] | None = None,
) -> str:
    """Standalone Python source that imports only NumPy.

    It defines ``name(..., out=None)`` (shape checks on the inputs, temporaries named, ``out`` as
    in :func:`lambdify`) and, when the first output is a scalar loss and later outputs are its
    gradients, a ``check_<name>(...)`` function that compares them with central finite
    differences.  Every name in it is sanitised: no variable name can inject code.

    Parameters
    ----------
    inputs : Symbol or list of Symbol
        The function's arguments, in order.
    outputs : Expr or list of Expr
        What it returns.
    name : str, optional
        The function's name.
    gradient_pairs : list of (int, int), optional
        (output index, input index) for each output that is the gradient of output 0 with
        respect to that input.  A caller that built the gradients passes it; without it the
        gradients are found by differentiating output 0 again.

    Returns
    -------
    str
        The source.

    Raises
    ------
    OperandError
        As for :func:`lambdify`, and for a bad gradient pair.
    EvaluationError
        For outputs that use a variable not among the inputs.

    Examples
    --------
    >>> x = mc.vector("x", 3)
    >>> source = mc.to_numpy_source([x], [x.T @ x, mc.grad(x.T @ x, x)], name="sq")
    >>> "def sq(x, *, out=None):" in source and "def check_sq(" in source and "import" in source
    True
    """
    return to_source(inputs, outputs, "numpy", name, gradient_pairs)


def _shortened(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_function(generated, pairs: list) -> str:
    taken = set(generated.argument_names) | {generated.function_name}
    check_name = identifier("check_" + generated.function_name, taken)
    step, rtol = identifier("step", taken), identifier("rtol", taken)
    args = ", ".join(generated.argument_names)
    lines = [
        f"def {check_name}({args}, {step}=1e-6, {rtol}=1e-5):",
        '    """Compare the gradients with central finite differences of the loss; return the worst relative error."""',
        f"    arguments = [np.array(_as_matrix(value, 'argument', True), dtype=float) for value in ({args},)]",
        f"    results = {generated.function_name}(*arguments)",
        "    worst = 0.0",
        f"    for output_index, input_index in {pairs!r}:",
        "        base = arguments[input_index]",
        "        numeric = np.zeros_like(base)",
        "        for index in np.ndindex(base.shape):",
        f"            h = {step} * max(1.0, abs(base[index]))",
        "            plus, minus = list(arguments), list(arguments)",
        "            plus[input_index] = base.copy()",
        "            plus[input_index][index] += h",
        "            minus[input_index] = base.copy()",
        "            minus[input_index][index] -= h",
        f"            numeric[index] = ({generated.function_name}(*plus)[0] - {generated.function_name}(*minus)[0]) / (2 * h)",
        "        analytic = np.reshape(results[output_index], base.shape)",
        "        scale = max(1.0, float(np.max(np.abs(numeric))))",
        "        error = float(np.max(np.abs(analytic - numeric))) / scale",
        "        worst = max(worst, error)",
        f"        if error > {rtol}:",
        "            raise AssertionError(f'gradient {output_index} disagrees with finite differences: relative error {error:.2e}')",
        "    return worst",
    ]
    return "\n".join(lines) + "\n"
