"""The expression tree: immutable, interned nodes with shapes checked at construction.

Every node is built through :func:`make`, which interns it: two structurally equal
expressions are the same Python object.  Equality and hashing are therefore identity,
memo tables keyed by node are exact, and a DAG of shared subexpressions stays shared.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from fractions import Fraction
from typing import Any, ClassVar, TypeVar

import sympy

from .errors import DifferentiationError, OperandError, ShapeError
from .graph import postorder
from .printing.notation import NAME, NUMBER, Notation
from .registry import FUNCTIONS as PUBLIC_FUNCTIONS
from .registry import register_function, register_operation
from .shapes import Dim, Shape, as_dim, is_finite_number, is_scalar_shape, shape_str

# What the operators (@, *, +, ...) build, and how an expression prints, is defined by modules
# built on this one (matcalc.ops.build, matcalc.printing): they fill these tables when imported,
# so this module imports neither.
OPERATORS: dict[str, Callable] = {}
PRINTERS: dict[str, Callable] = {}

_interned: weakref.WeakValueDictionary[tuple, Expr] = weakref.WeakValueDictionary()
_E = TypeVar("_E", bound="Expr")


def make(cls: type[_E], args: tuple = (), params: tuple = ()) -> _E:
    """The unique node of class ``cls`` over ``args``; the class checks the shapes."""
    key = (cls, args, params)
    node = _interned.get(key)
    if node is None:
        shape = cls.shape_rule(args, params)
        node = object.__new__(cls)
        _set_slot(node, "args", args)
        _set_slot(node, "params", params)
        _set_slot(node, "shape", shape)
        _interned[key] = node
    return node  # type: ignore[return-value]  # the interned node of that class


_set_slot = object.__setattr__  # the one way to fill a node's fields; Expr.__setattr__ refuses


def _settle_symmetry(root: Expr) -> None:
    """Record is_symmetric for ``root`` and every argument below it not yet asked, arguments
    first, with an explicit stack: each rule then reads only recorded answers."""
    stack = [root]
    while stack:
        node = stack[-1]
        unsettled = [arg for arg in node.args if not hasattr(arg, "symmetric_answer")]
        if unsettled:
            stack.extend(unsettled)
            continue
        stack.pop()
        if not hasattr(node, "symmetric_answer"):
            _set_slot(node, "symmetric_answer", bool(node.symmetric_by_structure))


def _public_builder(cls: type[Expr]) -> Callable:
    """mc.<api> for an operation: a function of ``cls.arity`` operands (or of what the record's
    own ``build`` takes), documented by the class."""
    if "build" in vars(cls):

        def function(*operands: Expr | float, **options: Any) -> Expr:
            return cls.build(*operands, **options)

        function.__signature__ = inspect.signature(cls.build)  # type: ignore[attr-defined]
    elif cls.arity == 1:

        def function(x: Expr | float) -> Expr:  # type: ignore[misc]  # one signature per arity
            return cls.build(x)
    else:

        def function(a: Expr | float, b: Expr | float) -> Expr:  # type: ignore[misc]
            return cls.build(a, b)

    function.__doc__ = cls.__doc__
    return function


def _unpickle(records: list) -> Expr:
    """The interned DAG from the flat list ``Expr.__reduce__`` wrote: (class, argument
    positions, params) per node, each after its arguments.  Rebuilding through ``make``
    gives back the very nodes of this process, so equality stays identity."""
    nodes: list[Expr] = []
    for cls, positions, params in records:
        nodes.append(make(cls, tuple(nodes[k] for k in positions), params))
    return nodes[-1]


class Expr:
    """A matrix expression with a shape (rows, cols); vectors are columns, scalars 1×1.

    Expressions are built by the variables (:func:`matrix`, :func:`vector`, :func:`scalar`), the
    operators with NumPy's meaning (``@ * / ** + -`` and ``.T``) and the functions of this
    package; they are never constructed directly.  They are immutable and interned: two
    structurally equal expressions are the same object.  ``print`` shows the closed form,
    Jupyter shows it typeset, and ``expr.variables`` maps each variable's name to it.

    Subclasses are the operations.  Each holds everything about itself: its shape rule, its
    pullback (the Frobenius rule G:dY = adjoint:dX for each argument), its differential, its
    code templates and its printing.

    Examples
    --------
    >>> A, x = mc.matrix("A", 3, 3), mc.vector("x", 3)
    >>> e = x.T @ A @ x
    >>> e.shape, e.is_scalar
    ((1, 1), True)
    >>> print(e)
    xᵀAx
    >>> list(e.variables)
    ['x', 'A']
    """

    __slots__ = ("args", "params", "shape", "symmetric_answer", "__weakref__")
    __array_ufunc__ = None  # NumPy defers to our operators instead of broadcasting over us

    name: ClassVar[str] = "expr"
    family: ClassVar[str] = "leaf"  # leaf | linear | bilinear | nonlinear | display
    api: ClassVar[str | None] = None  # the public function mc.<api> that builds it, if it has one
    syntax: ClassVar[tuple[str, ...] | None] = None  # its names in the string syntax; (api,) if None
    arity: ClassVar[int] = 1
    signatures: ClassVar[tuple[str, ...]] = ()  # its public function's shapes, "(n,n)->(1,1)" (see registry)
    why: ClassVar[str] = ""  # the rule behind the pullback, as a derivation shows it
    why_latex: ClassVar[str] = ""  # the same rule's formula in LaTeX
    notation: ClassVar[Notation]  # how the printers write it
    index_rule: ClassVar[str] = "whole"  # how its entries are written in index notation (printing/index.py)
    # where its argument must lie for a finite value: "invertible" (inverses, determinants),
    # "positive" (log, square root, negative powers) or None; check picks random points by it
    argument_domain: ClassVar[str | None] = None

    args: tuple
    params: tuple
    shape: Shape
    symmetric_answer: bool  # is_symmetric's answer, kept once asked

    def __init_subclass__(cls, **kwargs):
        # Defining an operation registers it; one with an api becomes a public function.
        super().__init_subclass__(**kwargs)
        if "name" in vars(cls):
            register_operation(cls)
        if vars(cls).get("api"):
            spellings = (cls.api,) if cls.syntax is None else cls.syntax
            register_function(cls.api, _public_builder(cls), spellings, cls.arity, cls.signatures)

    # --- the record every operation fills in -------------------------------------------
    @classmethod
    def shape_rule(cls, args: tuple, params: tuple) -> Shape:
        raise NotImplementedError

    @classmethod
    def build(cls, *operands) -> Expr:
        """The node over these operands (numbers become constants); records override this
        where the public function chooses between operations (diag) or adds params."""
        return make(cls, tuple(as_expr(operand, cls.api or cls.name) for operand in operands))

    def pullback(self, index: int, adjoint: Expr) -> Expr:
        """The adjoint of ``args[index]`` given the adjoint of this node (G:dY = ·:dX)."""
        raise NotImplementedError(f"{self.name} has no pullback")

    def differential(self, dargs: list) -> Expr:
        """dY in terms of the arguments' differentials (``None`` where one is zero)."""
        raise NotImplementedError(f"{self.name} has no differential")

    def vec_jacobian(self, index: int) -> Expr | None:
        """∂vec(Y)/∂vec(Aᵢ) for the argument Aᵢ = ``args[index]``: the matrix J with
        vec(dY) = J vec(dAᵢ) when only Aᵢ moves (vec stacks columns), or None where J is the
        identity.  Linear and bilinear operations state it; a nonlinear operation needs none,
        because a Jacobian reads its differential, which is written in linear operations."""
        raise DifferentiationError(
            f"{self.name} is not linear in its arguments: a Jacobian is read off a differential, "
            "where only linear operations act on the direction"
        )

    def numpy_code(self, args: list[str], dim_code) -> str:
        raise NotImplementedError(f"{self.name} has no NumPy template")

    # The same value in jax.numpy (``jnp``) and in torch; torch templates create arrays with
    # the generated function's ``_dtype`` and ``_device``, read off its arguments.
    def jax_code(self, args: list[str], dim_code) -> str:
        raise NotImplementedError(f"{self.name} has no JAX template")

    def torch_code(self, args: list[str], dim_code) -> str:
        raise NotImplementedError(f"{self.name} has no PyTorch template")

    numpy_view: ClassVar[bool] = False  # the NumPy value may share memory with an argument

    def numpy_ufunc(self, args: list[str], dim_code) -> tuple[str, list[str]] | None:
        """The NumPy ufunc that computes the value and its operands, where one does."""
        return None

    def numpy_into(self, args: list[str], out: str, dim_code) -> str | None:
        """One NumPy ufunc call that writes the value into the existing array ``out``, or None.

        Ufuncs read their operands as if copied first, so ``out`` may be one of the arguments:
        generated code uses that to work in place.
        """
        call = self.numpy_ufunc(args, dim_code)
        return None if call is None else f"{call[0]}({', '.join(call[1])}, out={out})"

    def entrywise(self, args: list, size) -> sympy.Matrix:
        """The value as a sympy Matrix of scalar expressions, computed entry by entry.

        This is the elementwise oracle's meaning of the operation, written independently of
        the pullback; ``size`` turns a dimension into an int.
        """
        raise NotImplementedError(f"{self.name} has no entrywise rule")

    # --- structure -----------------------------------------------------------------------
    def rebuild(self, args: tuple) -> Expr:
        """The same operation over new arguments (the args must keep their shapes)."""
        return self if args == self.args else make(type(self), tuple(args), self.params)

    @property
    def rows(self) -> Dim:
        return self.shape[0]

    @property
    def cols(self) -> Dim:
        return self.shape[1]

    @property
    def is_scalar(self) -> bool:
        return is_scalar_shape(self.shape)

    @property
    def is_vector(self) -> bool:
        return self.shape[1] == 1 and not self.is_scalar

    @property
    def is_symmetric(self) -> bool:
        """True when the expression is symmetric by its structure (not by its values).

        Each operation states its rule in ``symmetric_by_structure`` from its arguments'
        answers; the answers are kept on the nodes (``symmetric_answer``) and settled deepest
        first, so a chain of any depth is asked without recursion."""
        if not hasattr(self, "symmetric_answer"):
            _settle_symmetry(self)
        return self.symmetric_answer

    @property
    def symmetric_by_structure(self) -> bool:
        """This operation's rule: whether it is symmetric, given its arguments' ``is_symmetric``."""
        return self.is_scalar

    @property
    def variables(self) -> dict:
        """The variables the expression uses, by name, in order of first appearance."""
        return {node.label: node for node in postorder([self]) if isinstance(node, Symbol)}

    @property
    def T(self) -> Expr:
        return OPERATORS["transpose"](self)

    # --- NumPy operator meaning -------------------------------------------------------------
    def __matmul__(self, other):
        return OPERATORS["matmul"](self, as_expr(other, "@"))

    def __rmatmul__(self, other):
        return OPERATORS["matmul"](as_expr(other, "@"), self)

    def __mul__(self, other):
        return OPERATORS["multiply"](self, as_expr(other, "*"))

    def __rmul__(self, other):
        return OPERATORS["multiply"](as_expr(other, "*"), self)

    def __truediv__(self, other):
        return OPERATORS["divide"](self, as_expr(other, "/"))

    def __rtruediv__(self, other):
        return OPERATORS["divide"](as_expr(other, "/"), self)

    def __pow__(self, exponent):
        return OPERATORS["power"](self, exponent)

    def __rpow__(self, base):
        return OPERATORS["power_of_number"](base, self)

    def __add__(self, other):
        return OPERATORS["add"](self, as_expr(other, "+"))

    def __radd__(self, other):
        return OPERATORS["add"](as_expr(other, "+"), self)

    def __sub__(self, other):
        return OPERATORS["subtract"](self, as_expr(other, "-"))

    def __rsub__(self, other):
        return OPERATORS["subtract"](as_expr(other, "-"), self)

    def __neg__(self):
        return OPERATORS["negate"](self)

    def __pos__(self):
        return self

    def __abs__(self):  # abs(X) is |X| entry by entry, as NumPy's abs
        return PUBLIC_FUNCTIONS["abs"].function(self)

    def __bool__(self):
        raise OperandError("an expression has no truth value; compare shapes or evaluate it instead")

    # --- immutability and interning ------------------------------------------------------------
    def __setattr__(self, name, value):
        raise OperandError(f"expressions are immutable: cannot set {name!r} of {type(self).__name__}; build a new one")

    def __delattr__(self, name):
        raise OperandError(f"expressions are immutable: cannot delete {name!r} of {type(self).__name__}")

    def __copy__(self):
        return self  # interned: a copy would be a second node equal to this one

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        # The DAG as a flat list in postorder, so pickling a deep expression does not recurse
        # and shared subexpressions are written once; unpickling re-interns every node.
        position: dict[Expr, int] = {}
        records = []
        for node in postorder([self]):
            position[node] = len(records)
            records.append((type(node), tuple(position[child] for child in node.args), node.params))
        return _unpickle, (records,)

    def __iter__(self):
        raise OperandError("an expression is not iterable; evaluate it to get an array")

    # --- display -----------------------------------------------------------------------------
    def __str__(self) -> str:
        return PRINTERS["text"](self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self} : {shape_str(self.shape)}>"

    def _repr_latex_(self) -> str:
        return f"${PRINTERS['latex'](self)}$"

    # SymPy's operators leave an operand with a higher _op_priority unconverted (sympy's
    # sympify_return), so n * X stays matcalc's although _sympy_ makes sympify(X) work.
    _op_priority = 20.0

    def _sympy_(self):
        """``sympy.sympify(expr)``: the SymPy matrix expression (see :func:`matcalc.to_sympy`)."""
        return PRINTERS["sympy"](self)  # matcalc.interop fills it in

    def sympy_form(self, args: list):
        """This node in SymPy, given its arguments in SymPy (``mc.to_sympy``); an operation
        without a counterpart there says so."""
        raise OperandError(f"to_sympy: {type(self).__name__} has no counterpart in SymPy: {str(self)[:80]}")


# --- leaves -------------------------------------------------------------------------------


class Symbol(Expr):
    """A variable, made by :func:`matrix`, :func:`vector` or :func:`scalar`.

    ``label`` is its name, ``kind`` one of "matrix", "vector" and "scalar", and ``is_symmetric``
    whether its values are symmetric.  Its params are (name, kind, symmetric, rows, cols,
    columns_sum_to_one).

    Examples
    --------
    >>> S = mc.matrix("S", 3, 3, symmetric=True)
    >>> S.label, S.kind, S.is_symmetric
    ('S', 'matrix', True)
    """

    __slots__ = ()
    name = "symbol"
    notation = NAME

    @classmethod
    def shape_rule(cls, args, params):
        return (params[3], params[4])

    @property
    def label(self) -> str:
        return self.params[0]

    @property
    def kind(self) -> str:
        return self.params[1]

    @property
    def symmetric_by_structure(self) -> bool:
        return self.params[2] or self.is_scalar

    @property
    def columns_sum_to_one(self) -> bool:
        """Whether each column's entries sum to 1, as targets and probabilities do: 𝟏ᵀT = 𝟏ᵀ."""
        return self.params[5]

    def numpy_code(self, args, dim_code):
        raise AssertionError("symbols are bound by the code generator")

    def entrywise(self, args, size):
        raise AssertionError("the oracle binds symbols itself")

    def sympy_form(self, args):
        return sympy.Symbol(self.label) if self.kind == "scalar" else sympy.MatrixSymbol(self.label, *self.shape)



class Const(Expr):
    """A scalar constant: a rational (kept exact), a float, or a sympy expression of dims."""

    __slots__ = ()
    name = "constant"
    notation = NUMBER
    index_rule = "scalar"

    @classmethod
    def shape_rule(cls, args, params):
        return (1, 1)

    @property
    def value(self):
        return self.params[0]

    def numpy_code(self, args, dim_code):
        value = self.value
        if isinstance(value, sympy.Expr):
            return f"float({dim_code(value)})"
        if isinstance(value, Fraction):
            return f"({value.numerator}/{value.denominator})"
        return repr(float(value)) if isinstance(value, float) else repr(value)

    def entrywise(self, args, size):
        value = self.value
        if isinstance(value, sympy.Expr):
            return sympy.Matrix([[size(value)]])
        return sympy.Matrix([[sympy_number(value)]])

    def sympy_form(self, args):
        return self.value if isinstance(self.value, sympy.Expr) else sympy_number(self.value)



class Identity(Expr):
    __slots__ = ()
    name = "eye"
    notation = Notation("fixed", "I", "I", "eye")
    index_rule = "kronecker"

    @classmethod
    def shape_rule(cls, args, params):
        return (params[0], params[0])

    @property
    def symmetric_by_structure(self):
        return True

    def numpy_code(self, args, dim_code):
        return f"np.eye({dim_code(self.params[0])})"

    def jax_code(self, args, dim_code):
        return f"jnp.eye({dim_code(self.params[0])}, dtype=_dtype)"

    def torch_code(self, args, dim_code):
        return f"torch.eye({dim_code(self.params[0])}, dtype=_dtype, device=_device)"

    def entrywise(self, args, size):
        return sympy.eye(size(self.shape[0]))

    def sympy_form(self, args):
        return sympy.Identity(self.shape[0])



class Ones(Expr):
    __slots__ = ()
    name = "ones"
    index_rule = "one"
    notation = Notation("fixed", "𝟏", "\\mathbf{1}")  # a column; matcalc.display makes rows 𝟏ᵀ and matrices 𝟏𝟏ᵀ

    @classmethod
    def shape_rule(cls, args, params):
        return (params[0], params[1])

    @property
    def symmetric_by_structure(self):
        return self.shape[0] == self.shape[1]

    def numpy_code(self, args, dim_code):
        return f"np.ones(({dim_code(self.shape[0])}, {dim_code(self.shape[1])}))"

    def jax_code(self, args, dim_code):
        return f"jnp.ones(({dim_code(self.shape[0])}, {dim_code(self.shape[1])}), dtype=_dtype)"

    def torch_code(self, args, dim_code):
        return f"torch.ones(({dim_code(self.shape[0])}, {dim_code(self.shape[1])}), dtype=_dtype, device=_device)"

    def entrywise(self, args, size):
        return sympy.ones(size(self.shape[0]), size(self.shape[1]))

    def sympy_form(self, args):
        return sympy.S.One if self.is_scalar else sympy.OneMatrix(*self.shape)


class Zero(Expr):
    __slots__ = ()
    name = "zero"
    notation = Notation("fixed", "0", "0")
    index_rule = "scalar"

    @classmethod
    def shape_rule(cls, args, params):
        return (params[0], params[1])

    @property
    def symmetric_by_structure(self):
        return self.shape[0] == self.shape[1]

    def numpy_code(self, args, dim_code):
        return f"np.zeros(({dim_code(self.shape[0])}, {dim_code(self.shape[1])}))"

    def jax_code(self, args, dim_code):
        return f"jnp.zeros(({dim_code(self.shape[0])}, {dim_code(self.shape[1])}), dtype=_dtype)"

    def torch_code(self, args, dim_code):
        return f"torch.zeros(({dim_code(self.shape[0])}, {dim_code(self.shape[1])}), dtype=_dtype, device=_device)"

    def entrywise(self, args, size):
        return sympy.zeros(size(self.shape[0]), size(self.shape[1]))

    def sympy_form(self, args):
        return sympy.S.Zero if self.is_scalar else sympy.ZeroMatrix(*self.shape)


class Let(Expr):
    """A named intermediate: prints as its name, evaluates and differentiates as its body."""

    __slots__ = ()
    name = "let"
    notation = NAME
    family = "linear"
    why = "a named intermediate passes its adjoint to its definition"
    why_latex = r"C:\mathrm{d}z = C:\mathrm{d}(\text{its definition})"

    @classmethod
    def shape_rule(cls, args, params):
        return args[0].shape

    @property
    def label(self) -> str:
        return self.params[0]

    @property
    def body(self) -> Expr:
        return self.args[0]

    @property
    def symmetric_by_structure(self):
        return self.args[0].is_symmetric

    def pullback(self, index, adjoint):
        return adjoint

    def differential(self, dargs):
        return dargs[0]

    def numpy_code(self, args, dim_code):
        return args[0]

    def entrywise(self, args, size):
        return args[0]

    def sympy_form(self, args):
        return args[0]



class Differential(Expr):
    """dX, for display in derivations and Jacobians (not an operation one differentiates)."""

    __slots__ = ()
    name = "differential"
    notation = Notation("prefix", "d", "\\mathrm{d}")

    @classmethod
    def shape_rule(cls, args, params):
        return args[0].shape


# --- building leaves ------------------------------------------------------------------------


def substitute(expr: Expr, mapping: dict, memo: dict | None = None) -> Expr:
    """``expr`` with each node that ``mapping`` holds replaced by its value, rebuilt bottom-up
    without recursion; a named intermediate keeps its definition (it is the user's).  A node is
    looked up before and after its arguments are rebuilt, so a definition is found again once its
    parts are replaced.  ``memo`` (node → rebuilt) may be shared by calls with one mapping."""
    rebuilt = {} if memo is None else memo
    stack = [expr]
    while stack:
        node = stack.pop()
        if node in rebuilt:
            continue
        if node in mapping:
            rebuilt[node] = mapping[node]
        elif not node.args or isinstance(node, Let):
            rebuilt[node] = node
        else:
            missing = [c for c in node.args if c not in rebuilt]
            if missing:
                stack.append(node)
                stack.extend(missing)
                continue
            new = node.rebuild(tuple([rebuilt[c] for c in node.args]))
            rebuilt[node] = mapping.get(new, new)
    return rebuilt[expr]


def not_a_let(node: Expr) -> bool:
    """For walks that stop at named intermediates (``descend=not_a_let``): a let is the user's definition."""
    return not isinstance(node, Let)


def sympy_number(value: int | float | Fraction) -> sympy.Expr:
    """A Python number as sympy's: exact for ints and Fractions."""
    return sympy.Rational(value.numerator, value.denominator) if isinstance(value, Fraction) else sympy.sympify(value)


_LARGEST_DENOMINATOR = 1000


def number_value(value, where: str = "constant"):
    """A Python number as an exact Fraction where it is one, else a finite float.

    Exact inputs (int, Fraction, sympy Rational) stay exact and print as fractions (1/100000).
    A float equal to a fraction with a denominator of at most 1000 (0.5, 0.25, 0.1, 0.001) is
    that fraction, so that arithmetic on it stays exact (0.1·3 is 3/10, not 0.30000000000000004)
    and it prints as one (x/2).  Any other float (1e-05, 1.00001) stays a float and prints as
    Python writes it, the shortest decimal that reads back the same, with its power of ten
    written out: 1e-05 prints as 10⁻⁵, 2.5e-07 as 2.5·10⁻⁷.
    """
    if isinstance(value, bool):
        raise OperandError(f"{where}: {value!r} is not a number")
    if isinstance(value, complex) or type(value).__name__.startswith("complex"):  # numpy's complex128 too
        raise OperandError(f"{where}: {value!r} is complex; matcalc computes with real numbers")
    if isinstance(value, sympy.Basic):
        if value.is_Rational:
            value = Fraction(int(value.p), int(value.q))
        elif value.is_Number:
            value = float(value)
        elif isinstance(value, sympy.Expr) and value.free_symbols and all(
            s.is_integer and s.is_positive for s in value.free_symbols
        ):
            return value
        else:
            raise OperandError(f"{where}: {value} is not a number or an expression of dims")
    if isinstance(value, (int, Fraction)):
        try:
            float(value)
        except OverflowError:
            digits = len(str(abs(int(value))))
            raise OperandError(f"{where}: a number of {digits} digits is too large for float64 (at most about 1.8e308)") from None
        return int(value) if isinstance(value, Fraction) and value.denominator == 1 else value
    if not is_finite_number(value):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise OperandError(f"{where}: {value!r} is not a number") from None
        if not is_finite_number(value):
            raise OperandError(f"{where}: {value!r} is not a finite number")
    if float(value).is_integer() and abs(value) < 2**53:
        return int(value)
    exact = Fraction(value).limit_denominator(_LARGEST_DENOMINATOR)
    if float(exact) == value and abs(exact.numerator) < 10**6:  # 0.5 is 1/2; 123456789.123 stays a float
        return exact
    return float(value)


def const(value) -> Const:
    return make(Const, (), (number_value(value),))


def as_expr(value, where: str) -> Expr:
    """An operand as an expression: expressions pass, finite numbers become constants."""
    if isinstance(value, Expr):
        return value
    if isinstance(value, (int, float, Fraction, sympy.Basic)) and not isinstance(value, bool):
        return const(value)
    raise OperandError(f"{where}: cannot combine a matrix expression with {type(value).__name__} {value!r}")


def _check_name(name, where: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise OperandError(f"{where}: a name must be a non-empty string, got {name!r}")
    if any(not ch.isprintable() for ch in name):
        raise OperandError(f"{where}: name {name!r} has control characters")
    return name


def matrix(name: str, rows: Dim, cols: Dim, symmetric: bool = False, columns_sum_to_one: bool = False) -> Symbol:
    """A matrix variable of shape rows×cols.

    Parameters
    ----------
    name : str
        Its name, as it prints (any non-empty printable text: ``"W1"``, ``"Σ"``).
    rows, cols : int or sympy.Symbol
        Its sizes: positive integers or symbols from :func:`dims`.
    symmetric : bool, optional
        Its values are symmetric; its gradient is then the one within symmetric matrices,
        sym(G) = (G + Gᵀ)/2.
    columns_sum_to_one : bool, optional
        Each column sums to 1, as one-hot targets or class probabilities do (𝟏ᵀT = 𝟏ᵀ); such a
        variable is data, not differentiated, and the simplifier may use the fact.

    Returns
    -------
    Symbol
        The variable.

    Raises
    ------
    OperandError
        For an empty name or a size that is not a positive integer or a dimension symbol.
    ShapeError
        For a symmetric matrix that is not square.

    Examples
    --------
    >>> n, m = mc.dims("n m")
    >>> mc.matrix("W", n, m).shape
    (n, m)
    >>> S = mc.matrix("S", n, n, symmetric=True)
    >>> print(mc.grad(mc.trace(S @ S), S))
    2S
    """
    _check_name(name, "matrix")
    rows, cols = as_dim(rows, f"matrix {name!r}"), as_dim(cols, f"matrix {name!r}")
    if symmetric and rows != cols:
        raise ShapeError(f"matrix {name!r}: a symmetric matrix must be square, got {shape_str((rows, cols))}")
    return make(Symbol, (), (name, "matrix", bool(symmetric), rows, cols, bool(columns_sum_to_one)))


def vector(name: str, n: Dim, sums_to_one: bool = False) -> Symbol:
    """A column vector variable of length n (shape n×1).

    Parameters
    ----------
    name : str
        Its name, as it prints.
    n : int or sympy.Symbol
        Its length: a positive integer or a symbol from :func:`dims`.
    sums_to_one : bool, optional
        Its entries sum to 1, as a one-hot target or a probability vector does (𝟏ᵀt = 1); such a
        variable is data, not differentiated.

    Returns
    -------
    Symbol
        The variable.

    Raises
    ------
    OperandError
        For an empty name or a length that is not a positive integer or a dimension symbol.

    Examples
    --------
    >>> x = mc.vector("x", 3)
    >>> x.shape
    (3, 1)
    >>> print(mc.grad(x.T @ x, x))
    2x
    """
    _check_name(name, "vector")
    return make(Symbol, (), (name, "vector", False, as_dim(n, f"vector {name!r}"), 1, bool(sums_to_one)))


def scalar(name: str) -> Symbol:
    """A scalar variable (shape 1×1).

    Parameters
    ----------
    name : str
        Its name, as it prints.

    Returns
    -------
    Symbol
        The variable.

    Raises
    ------
    OperandError
        For an empty name.

    Examples
    --------
    >>> s, X = mc.scalar("s"), mc.matrix("X", 2, 2)
    >>> s.shape
    (1, 1)
    >>> print(mc.grad(mc.sum(s * X), s))
    sum(X)
    """
    _check_name(name, "scalar")
    return make(Symbol, (), (name, "scalar", False, 1, 1, False))


def eye(n: Dim) -> Expr:
    """The n×n identity matrix.

    Parameters
    ----------
    n : int or sympy.Symbol
        Its size.

    Returns
    -------
    Expr
        I, n×n.

    Raises
    ------
    OperandError
        For a size that is not a positive integer or a dimension symbol.

    Examples
    --------
    >>> str(mc.eye(3) @ mc.vector("x", 3))
    'Ix'
    """
    return make(Identity, (), (as_dim(n, "eye"),))


def ones(rows: Dim, cols: Dim = 1) -> Expr:
    """The all-ones vector (rows×1) or matrix (rows×cols), 𝟏.

    Parameters
    ----------
    rows : int or sympy.Symbol
        Its number of rows.
    cols : int or sympy.Symbol, optional
        Its number of columns (1, a vector, by default).

    Returns
    -------
    Expr
        𝟏 of that shape.

    Raises
    ------
    OperandError
        For a size that is not a positive integer or a dimension symbol.

    Examples
    --------
    >>> mc.ones(3).shape
    (3, 1)
    >>> print(mc.ones(3).T @ mc.vector("x", 3))
    𝟏ᵀx
    """
    return make(Ones, (), (as_dim(rows, "ones"), as_dim(cols, "ones")))


def zeros(rows: Dim, cols: Dim = 1) -> Expr:
    """The zero vector (rows×1) or matrix (rows×cols).

    Parameters
    ----------
    rows : int or sympy.Symbol
        Its number of rows.
    cols : int or sympy.Symbol, optional
        Its number of columns (1, a vector, by default).

    Returns
    -------
    Expr
        0 of that shape.

    Raises
    ------
    OperandError
        For a size that is not a positive integer or a dimension symbol.

    Examples
    --------
    >>> x = mc.vector("x", 3)
    >>> print(mc.simplify(x + mc.zeros(3)))
    x
    """
    return make(Zero, (), (as_dim(rows, "zeros"), as_dim(cols, "zeros")))


def let(name: str, expr: Expr) -> Let:
    """A named intermediate: ``z = mc.let("z", W @ a + b)`` prints as ``z`` wherever it is used.

    It evaluates and differentiates as its definition; derivations name its adjoint δ_z, the
    textbook backprop recursion (``mc.derive(...).view("backprop")``).

    The simplifier keeps the name (it does not rewrite inside a definition), but a name does not
    stop it: scalar algebra reads ``y = mc.let("y", mc.sigmoid(X @ w))`` as σ(Xw), cancels
    σ'(Xw) = y(1 − y) against y, and writes what is left with the name, Xᵀ(y − t).  In a long
    result your names are kept, and automatic names (t₁, t₂, …) go only to what has none.

    Parameters
    ----------
    name : str
        The name it prints as.
    expr : Expr
        Its definition.

    Returns
    -------
    Expr
        The named expression, of the definition's shape.

    Raises
    ------
    OperandError
        For an empty name, or a definition that is not an expression.

    Examples
    --------
    >>> z = mc.let("z", mc.matrix("W", 2, 3) @ mc.vector("a", 3))
    >>> str(z * 2)
    '2z'
    >>> print(mc.grad(mc.sum(mc.tanh(z)), z.args[0].args[0]))
    (𝟏 − tanh(z)²)aᵀ
    """
    _check_name(name, "let")
    return make(Let, (as_expr(expr, "let"),), (name,))

