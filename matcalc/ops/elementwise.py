"""Elementwise scalar functions: one table row each (name, f, f', NumPy, printing).

A function's derivative is either given in closed form over other expressions
(tanh' = 1 − tanh², log' = x⁻¹) or, when the row gives none, a new elementwise
function named f' whose formula sympy derives from f's.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import sympy

from ..errors import DifferentiationError, OperandError
from ..expr import Expr, Zero, as_expr, make
from ..printing.notation import call
from ..registry import FUNCTIONS as PUBLIC_FUNCTIONS
from ..registry import register_function, syntax_names
from ..sympy_forms import applied

ENTRY = sympy.Symbol("u", real=True)  # the entry u in every elementwise formula f(u)
_NOT_IDENTIFIER = re.compile(r"[^0-9A-Za-z_]")
# helper name in generated code -> its function: unique in the process, so no two functions
# ever share a helper (f' and a user's f_prime, or "ﬀ" and "ff", which Python reads as one name)
_IDENTIFIERS: dict[str, ElementwiseFunction] = {}


class ElementwiseFunction:
    """A scalar function applied entry by entry.

    ``numpy_template`` is a NumPy call with ``{x}`` for the argument and ``{out}`` where
    ``, out=<array>`` goes when generated code writes into an existing array; ``jax_template``
    and ``torch_template`` are the same call in jax.numpy and torch (no ``{out}``: those
    backends write no array in place).  A function with no template (a user's) gets a helper
    that sympy prints for each backend.
    """

    __slots__ = (
        "name", "text", "latex", "formula", "numpy_template", "_derivative", "_derived", "parent", "_identifier",
        "notation", "domain", "jax_template", "torch_template",
    )

    def __init__(
        self,
        name: str,
        formula: sympy.Expr,
        text: str,
        latex: str,
        numpy_template: str | None = None,
        derivative: Callable[[Expr, Expr], Expr] | None = None,
        domain: str | None = None,
        *,
        jax_template: str | None = None,
        torch_template: str | None = None,
    ):
        self.name = name
        self.formula = formula  # in the variable ENTRY
        self.text = text
        self.latex = latex
        self.numpy_template = numpy_template
        self.jax_template = jax_template
        self.torch_template = torch_template
        self._derivative = derivative
        self._derived: ElementwiseFunction | None = None
        self.parent: ElementwiseFunction | None = None  # f for f', whose formula sympy derived
        self._identifier: str | None = None
        self.notation = call(text, latex, name)
        self.domain = domain  # "positive" where the argument must be positive (log, sqrt)

    def __repr__(self):
        return f"<elementwise {self.name}>"

    def __reduce__(self):
        # Unpickled, a function is this process's function of that name (nodes are interned
        # by their params): a built-in by name, a derivative through its parent, a user
        # function re-registered from its formula.
        if self.parent is not None:
            return ElementwiseFunction.derived_function, (self.parent,)
        if _BUILT_IN.get(self.name) is self:
            return _built_in, (self.name,)
        return _user_function, (self.name, self.formula)

    def derivative_of(self, x: Expr, fx: Expr) -> Expr:
        """f'(x) as an expression, for the node fx = f(x)."""
        if self._derivative is not None:
            return self._derivative(x, fx)
        derived = self.derived_function()
        if derived.formula == 0:
            return make(Zero, (), x.shape)
        return make(Elementwise, (x,), (derived,))

    def derived_function(self) -> ElementwiseFunction:
        if self._derived is None:
            formula = sympy.simplify(sympy.diff(self.formula, ENTRY))
            derived = ElementwiseFunction(self.name + "'", formula, self.text + "'", _prime_latex(self.latex))
            derived.parent = self
            problem = derived.numpy_problem()
            if problem:
                raise DifferentiationError(f"the derivative of {self.name}, {derived.name}(u) = {formula}: {problem}")
            self._derived = derived
        return self._derived

    @property
    def identifier(self) -> str:
        """The generated helper's Python name, unique in the process: sigmoid'' → _fn_sigmoid_prime_prime."""
        if self._identifier is None:
            ascii_name = unicodedata.normalize("NFKC", self.name).replace("'", "_prime")
            base = "_fn_" + _NOT_IDENTIFIER.sub("_", ascii_name)
            candidate, counter = base, 1
            while candidate in _IDENTIFIERS:
                counter += 1
                candidate = f"{base}_{counter}"
            _IDENTIFIERS[candidate] = self
            self._identifier = candidate
        return self._identifier

    def code(self, arg: str, backend: str = "numpy") -> str:
        """f(arg) in the generated code of ``backend`` ("numpy", "jax" or "torch"): the row's
        template, or a call of the function's helper."""
        template = {"numpy": self.numpy_template, "jax": self.jax_template, "torch": self.torch_template}[backend]
        if template:
            return template.format(x=arg, out="")
        return f"{self.identifier}({arg})"

    def code_into(self, arg: str, out: str) -> str | None:
        """A call that writes f(arg) into the array ``out`` (None for user functions)."""
        if self.numpy_template:
            return self.numpy_template.format(x=arg, out=f", out={out}")
        return None

    def helper_source(self) -> str | None:
        """The definition generated code needs for a function without a NumPy template."""
        if self.numpy_template:
            return None
        body = _array_code(self.formula.subs(ENTRY, sympy.Symbol("u")))
        if self.formula.is_number:
            body = f"numpy.full(numpy.shape(u), {body}, dtype=float)"
        return f"def {self.identifier}(u):\n    return {body}\n"

    def numpy_problem(self) -> str:
        """Why generated code cannot compute this function on arrays, or "" when it can."""
        if self.numpy_template:
            return ""
        if self.formula.has(sympy.Derivative, sympy.Subs):
            return "sympy cannot write it in closed form"
        try:
            source = self.helper_source()
        except (NotImplementedError, ValueError, TypeError, KeyError) as error:  # sympy's printers: no array form (zoo)
            return f"{_first_line(error)}"
        namespace = helper_namespace(source)
        try:
            exec(compile(source, "<matcalc check>", "exec"), namespace)  # noqa: S102 - printed by sympy from a checked formula
            with _quiet_numpy():
                sample = namespace[self.identifier](_SAMPLE.copy())
        except Exception as error:  # noqa: BLE001 - any failure means: no array form
            return f"its NumPy form fails on arrays ({type(error).__name__}: {_first_line(error)})"
        if _numpy().shape(sample) != _SAMPLE.shape:
            return "its NumPy form does not work entry by entry"
        if _numpy().iscomplexobj(sample) and _numpy().any(_numpy().imag(sample) != 0):
            at = float(_SAMPLE[_numpy().flatnonzero(_numpy().imag(sample) != 0)[0], 0])
            return f"it takes complex values (at u = {at:g}), and matcalc computes with real numbers"
        return ""


def _numpy():
    import numpy

    return numpy


_SAMPLE = _numpy().array([[-1.5], [-0.25], [0.0], [0.5], [2.0]])


def _quiet_numpy():
    return _numpy().errstate(all="ignore")


def _first_line(error: BaseException) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0]


def _array_code(formula: sympy.Expr) -> str:
    """The formula as NumPy code over an array u; scipy.special for functions NumPy lacks."""
    from sympy.printing.numpy import NumPyPrinter, SciPyPrinter

    try:
        code = NumPyPrinter({"fully_qualified_modules": True}).doprint(formula)
        if "math." not in code:  # math.gamma, math.erf, ... take one number, not an array
            return code
    except NotImplementedError:
        pass
    return SciPyPrinter({"fully_qualified_modules": True}).doprint(formula)


def helper_namespace(source: str) -> dict:
    """The modules a generated helper refers to: numpy, and functools or scipy.special where used."""
    namespace = {"numpy": _numpy()}
    if "functools." in source:
        import functools

        namespace["functools"] = functools
    if "scipy." in source:
        import scipy.special

        namespace["scipy"] = scipy
    return namespace


def _prime_latex(latex: str) -> str:
    return latex + "'" if not latex.endswith("'") else latex + "'"


class Elementwise(Expr):
    """f(X) applied entry by entry."""

    __slots__ = ()
    name = "elementwise"
    index_rule = "apply"
    family = "nonlinear"
    why = "d f(X) = f'(X) ⊙ dX, so C:f'(X) ⊙ dX = (C ⊙ f'(X)):dX"
    why_latex = r"C:(f'(X) \odot \mathrm{d}X) = (C \odot f'(X)):\mathrm{d}X"

    @classmethod
    def shape_rule(cls, args, params):
        return args[0].shape

    @property
    def function(self) -> ElementwiseFunction:
        return self.params[0]

    @property
    def symmetric_by_structure(self):
        return self.args[0].is_symmetric

    def local_derivative(self) -> Expr:
        return self.function.derivative_of(self.args[0], self)

    def pullback(self, index, adjoint):
        return adjoint * self.local_derivative()

    def differential(self, dargs):
        return self.local_derivative() * dargs[0]

    def numpy_code(self, args, dim_code):
        return self.function.code(args[0])

    def numpy_into(self, args, out, dim_code):
        return self.function.code_into(args[0], out)

    def jax_code(self, args, dim_code):
        return self.function.code(args[0], "jax")

    def torch_code(self, args, dim_code):
        return self.function.code(args[0], "torch")

    def entrywise(self, args, size):
        formula = self.function.formula
        return args[0].applyfunc(lambda entry: formula.subs(ENTRY, entry))

    @property
    def notation(self):
        return self.function.notation

    @property
    def argument_domain(self):
        return self.function.domain

    def sympy_form(self, args):
        return applied(sympy.Lambda(ENTRY, self.function.formula), args[0], self.is_scalar)


FUNCTIONS: dict[str, ElementwiseFunction] = {}  # the functions users call, by name
_BUILT_IN: dict[str, ElementwiseFunction] = {}  # those and the derivatives written by hand (sigmoid', relu')


_BUILT_IN_DOC = """{name}(X): f(u) = {formula} applied to every entry, printed {text}(X).

Its derivative is elementwise too: C:d f(X) = (C ⊙ f'(X)):dX, so a gradient through it is a
Hadamard product with f'.

Parameters
----------
x : Expr or number
    Any expression.

Returns
-------
Expr
    f of every entry, of the shape of ``x``.

Examples
--------
>>> X = mc.matrix("X", 2, 3)
>>> mc.{name}(X).shape
(2, 3)
>>> mc.check(mc.sum(mc.{name}(X)), X).ok
True
"""


def _register(function: ElementwiseFunction) -> ElementwiseFunction:
    """A built-in function users call: mc.<name>, and <name>(...) in the string syntax."""
    FUNCTIONS[function.name] = _built_in_function(function)

    def builder(x: Expr | float) -> Expr:
        return apply(function, x)

    builder.__doc__ = _BUILT_IN_DOC.format(name=function.name, text=function.text, formula=function.formula)
    register_function(function.name, builder, (function.name,), signatures=("(a,b)->(a,b)",))
    return function


def _built_in_function(function: ElementwiseFunction) -> ElementwiseFunction:
    _BUILT_IN[function.name] = function
    return function


def _built_in(name: str) -> ElementwiseFunction:
    return _BUILT_IN[name]


def apply(function: ElementwiseFunction, x) -> Expr:
    return make(Elementwise, (as_expr(x, function.name),), (function,))


def _sigmoid_prime() -> ElementwiseFunction:
    return ElementwiseFunction(
        "sigmoid'",
        sympy.exp(-ENTRY) / (1 + sympy.exp(-ENTRY)) ** 2,  # d/du 1/(1 + e⁻ᵘ), written out: sympy.simplify costs 0.1 s at import
        "σ'",
        "\\sigma'",
        numpy_template="_sigmoid_prime({x}{out})",
        jax_template="_sigmoid_prime({x})",
        torch_template="_sigmoid_prime({x})",
    )


sigmoid_prime_f = _built_in_function(_sigmoid_prime())
_RELU_PRIME = _built_in_function(ElementwiseFunction(
    "relu'", sympy.Heaviside(ENTRY, 0), "relu'", "\\operatorname{relu}'", numpy_template="np.heaviside({x}, 0.0{out})",
    jax_template="jnp.heaviside({x}, 0.0)", torch_template="({x} > 0).to({x}.dtype)",
))
_RELU_PRIME._derivative = lambda x, fx: make(Zero, (), x.shape)
_SIGN = ElementwiseFunction(
    "sign", sympy.sign(ENTRY), "sign", "\\operatorname{sign}", "np.sign({x}{out})",
    jax_template="jnp.sign({x})", torch_template="torch.sign({x})",
)
_SIGN._derivative = lambda x, fx: make(Zero, (), x.shape)

exp_f = _register(ElementwiseFunction(
    "exp", sympy.exp(ENTRY), "exp", "\\exp", "np.exp({x}{out})", derivative=lambda x, fx: fx,
    jax_template="jnp.exp({x})", torch_template="torch.exp({x})",
))
log_f = _register(
    ElementwiseFunction(
        "log", sympy.log(ENTRY), "log", "\\log", "np.log({x}{out})", lambda x, fx: x**-1, "positive",
        jax_template="jnp.log({x})", torch_template="torch.log({x})",
    )
)
sin_f = _register(ElementwiseFunction(
    "sin", sympy.sin(ENTRY), "sin", "\\sin", "np.sin({x}{out})", lambda x, fx: apply(cos_f, x),
    jax_template="jnp.sin({x})", torch_template="torch.sin({x})",
))
cos_f = _register(
    ElementwiseFunction(
        "cos", sympy.cos(ENTRY), "cos", "\\cos", "np.cos({x}{out})", lambda x, fx: -apply(sin_f, x),
        jax_template="jnp.cos({x})", torch_template="torch.cos({x})",
    )
)
tan_f = _register(
    ElementwiseFunction(
        "tan", sympy.tan(ENTRY), "tan", "\\tan", "np.tan({x}{out})", lambda x, fx: 1 + fx**2,
        jax_template="jnp.tan({x})", torch_template="torch.tan({x})",
    )
)
tanh_f = _register(
    ElementwiseFunction(
        "tanh", sympy.tanh(ENTRY), "tanh", "\\tanh", "np.tanh({x}{out})", lambda x, fx: 1 - fx**2,
        jax_template="jnp.tanh({x})", torch_template="torch.tanh({x})",
    )
)
sigmoid_f = _register(
    ElementwiseFunction(
        "sigmoid",
        1 / (1 + sympy.exp(-ENTRY)),
        "σ",
        "\\sigma",
        "_sigmoid({x}{out})",
        derivative=lambda x, fx: make(Elementwise, (x,), (sigmoid_prime_f,)),
        jax_template="_sigmoid({x})",
        torch_template="torch.sigmoid({x})",
    )
)
relu_f = _register(
    ElementwiseFunction(
        "relu",
        sympy.Max(0, ENTRY),
        "relu",
        "\\operatorname{relu}",
        "np.maximum({x}, 0.0{out})",
        derivative=lambda x, fx: make(Elementwise, (x,), (_RELU_PRIME,)),
        jax_template="jnp.maximum({x}, 0.0)",
        torch_template="torch.relu({x})",
    )
)
sqrt_f = _register(
    ElementwiseFunction(
        "sqrt", sympy.sqrt(ENTRY), "√", "\\sqrt", "np.sqrt({x}{out})", lambda x, fx: 0.5 * fx**-1, "positive",
        jax_template="jnp.sqrt({x})", torch_template="torch.sqrt({x})",
    )
)
abs_f = _register(
    ElementwiseFunction(
        "abs", sympy.Abs(ENTRY), "abs", "\\operatorname{abs}", "np.abs({x}{out})",
        derivative=lambda x, fx: make(Elementwise, (x,), (_SIGN,)),
        jax_template="jnp.abs({x})", torch_template="torch.abs({x})",
    )
)
sign_f = _register(_SIGN)
softplus_f = _register(
    ElementwiseFunction(
        "softplus",
        sympy.log(1 + sympy.exp(ENTRY)),
        "softplus",
        "\\operatorname{softplus}",
        "np.logaddexp(0.0, {x}{out})",
        derivative=lambda x, fx: make(Elementwise, (x,), (FUNCTIONS["sigmoid"],)),
        jax_template="jnp.logaddexp(0.0, {x})",
        torch_template="_softplus({x})",
    )
)
logsigmoid_f = _register(
    ElementwiseFunction(
        "logsigmoid",
        -sympy.log(1 + sympy.exp(-ENTRY)),
        "log σ",
        "\\log\\sigma",
        "np.negative(np.logaddexp(0.0, -{x}){out})",  # −softplus(−u): finite where log(σ(u)) underflows
        derivative=lambda x, fx: apply(sigmoid_f, -x),
        jax_template="-jnp.logaddexp(0.0, -{x})",
        torch_template="-_softplus(-{x})",
    )
)

_USER_FUNCTIONS: dict[str, ElementwiseFunction] = {}  # by NFKC-normalised name, as Python reads identifiers


def function_with_formula(formula: sympy.Expr) -> ElementwiseFunction | None:
    """The elementwise function whose formula in :data:`ENTRY` is ``formula``, if there is one:
    built-in ones (σ, softplus, relu, σ', …) first, then the user's and the derivatives made so far."""
    candidates = [*_BUILT_IN.values(), *_USER_FUNCTIONS.values()]
    candidates += [f._derived for f in candidates if f._derived is not None]
    return next((f for f in candidates if f.formula == formula), None)


def elementwise(name: str, function: sympy.Lambda) -> Callable[[Expr], Expr]:
    """A user-defined elementwise function from a one-variable ``sympy.Lambda``.

    Its derivative comes from SymPy.  The formula and its derivative are compiled and run on
    sample points at once, so a function NumPy cannot compute is refused here, not later.

    Parameters
    ----------
    name : str
        Its name: an identifier that is not a built-in function's.  Defining the same name again
        with the same formula gives the same function.
    function : sympy.Lambda
        The scalar function, ``Lambda(u, expression in u)``.

    Returns
    -------
    callable
        ``f(x)``: the function applied to every entry of an expression, of its shape.

    Raises
    ------
    OperandError
        For a bad or taken name, a Lambda of more than one variable, a formula with other free
        symbols or undefined functions, or one that NumPy cannot compute.

    Examples
    --------
    >>> import sympy
    >>> u = sympy.Symbol("u")
    >>> cube = mc.elementwise("cube", sympy.Lambda(u, u**3))
    >>> x = mc.vector("x", 3)
    >>> str(cube(x))
    'cube(x)'
    >>> print(mc.grad(mc.sum(cube(x)), x))
    cube'(x)
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise OperandError(f"elementwise: the name must be an identifier, got {name!r}")
    key = unicodedata.normalize("NFKC", name)
    if key in FUNCTIONS or key in _BUILT_IN or key in PUBLIC_FUNCTIONS or key in syntax_names():
        # sum, tr, diag, …: it would print as the built-in and read back as it
        raise OperandError(f"elementwise: {name!r} is a built-in function; choose another name")
    if not isinstance(function, sympy.Lambda) or len(function.variables) != 1:
        raise OperandError("elementwise: give a sympy.Lambda of exactly one variable, e.g. Lambda(u, u**3)")
    fn = _user_function(name, function.expr.subs(function.variables[0], ENTRY))

    def builder(x):
        return apply(fn, x)

    builder.__name__ = key
    builder.__doc__ = f"The elementwise function {name}(u) = {fn.formula.subs(ENTRY, sympy.Symbol('u'))}."
    return builder


def _user_function(name: str, formula: sympy.Expr) -> ElementwiseFunction:
    """The registered function of that name and formula, checked and registered if new."""
    key = unicodedata.normalize("NFKC", name)
    existing = _USER_FUNCTIONS.get(key)
    if existing is not None:
        if existing.name != name:
            raise OperandError(
                f"elementwise: {name!r} is the name {existing.name!r} after Unicode normalisation (NFKC), "
                "as Python reads it; choose another name"
            )
        if sympy.simplify(existing.formula - formula) != 0:
            raise OperandError(f"elementwise: {name!r} is already defined with another formula")
        return existing
    unknown = formula.atoms(sympy.core.function.AppliedUndef)
    if unknown:
        raise OperandError(f"elementwise {name!r}: the formula uses undefined functions {sorted(map(str, unknown))}")
    foreign = sorted({type(node).__name__ for node in sympy.preorder_traversal(formula)
                      if not type(node).__module__.startswith("sympy.")})
    if foreign:  # their printers, not SymPy's, would write the generated code
        raise OperandError(f"elementwise {name!r}: the formula uses classes defined outside SymPy: {', '.join(foreign)}")
    extra = formula.free_symbols - {ENTRY}
    if extra:
        raise OperandError(f"elementwise {name!r}: the formula has free symbols {sorted(map(str, extra))}")
    fn = ElementwiseFunction(name, formula, name, f"\\operatorname{{{name}}}")
    problem = fn.numpy_problem()
    if problem:
        raise OperandError(f"elementwise {name!r}: {formula.subs(ENTRY, sympy.Symbol('u'))} cannot be computed: {problem}")
    try:
        fn.derived_function()
    except DifferentiationError as error:
        raise OperandError(f"elementwise {name!r}: {error}") from None
    _USER_FUNCTIONS[key] = fn
    return fn
