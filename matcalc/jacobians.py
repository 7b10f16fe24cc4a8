"""Derivatives of matrices with respect to matrices: objects with three printed forms.

∂F/∂X for F m×n and X p×q is the linear map dX ↦ dF.  A :class:`Jacobian` prints it

- as that linear map, d(AXB) = A dX B (the differential, with dX left symbolic);
- in vec (Kronecker) form, vec(d(AXB)) = (Bᵀ ⊗ A) vec(dX): the mn×pq matrix ∂vec F/∂vec X;
- in index form, ∂(AXB)_ij/∂X_kl = A_ik B_lj.

vec stacks columns, as in Magnus and Neudecker, *Matrix Differential Calculus* (ch. 2 and 9):
vec(AXB) = (Bᵀ ⊗ A) vec X, vec(Xᵀ) = K vec X with K the commutation matrix, vec(A ⊙ X) =
diag(vec A) vec X, vec(X⁻¹) = −(X⁻ᵀ ⊗ X⁻¹) vec X.  So the rows of ∂vec F/∂vec X follow F's
entries in the order F₁₁, F₂₁, …, F_m1, F₁₂, … and its columns X's in the same order: NumPy's
``reshape(-1, order="F")``, not its row-major default.  ``mc.evaluate`` of a Jacobian gives that
matrix; a :class:`Hessian` is the Jacobian of a gradient, printed as the bilinear form d²ℓ.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .diff import depends_on
from .display import display
from .errors import EvaluationError, MatcalcError
from .expr import Differential, Expr, Identity, Symbol, Zero, make, substitute
from .graph import postorder
from .ops import Frob, MatMul, Transpose, Vec
from .printing.index import EntryRequest, IndexPrinter, fresh_indices
from .printing.latex import latex
from .printing.text import text
from .shapes import resolve_dim, shape_str
from .simplify import scaled, split_number

# The most entries mc.evaluate writes out for a dense Jacobian (80 MB of float64); beyond it the
# linear-map form, or the map applied to a direction (mc.differential, mc.hvp), is the way.
DENSE_LIMIT = 10**7

VIEWS = ("linear", "kronecker", "index")


@dataclass(frozen=True)
class Jacobian:
    """∂F/∂X for matrices: the differential ``linear`` (dF, in ``direction`` = dX) and its matrix
    ``matrix`` = ∂vec F/∂vec X (vec stacks columns).  ``view("linear" | "kronecker" | "index")``
    prints one form, ``str`` all three, ``latex()`` them in LaTeX; ``mc.evaluate`` gives the matrix.

    >>> A, X, B = mc.matrix("A", 2, 3), mc.matrix("X", 3, 4), mc.matrix("B", 4, 5)
    >>> print(mc.jacobian(A @ X @ B, X))
    d(AXB) = A dX B
    vec(d(AXB)) = (Bᵀ ⊗ A) vec(dX)
    ∂(AXB)_ij/∂X_kl = A_ik B_lj
    """

    function: Expr
    variable: Symbol
    direction: Symbol
    linear: Expr
    matrix: Expr

    @property
    def shape(self) -> tuple:
        return self.matrix.shape

    def view(self, name: str = "kronecker", latex: bool = False) -> str:
        """One printed form: "linear" (dF = …), "kronecker" (vec(dF) = … vec(dX)) or "index" (∂F_ij/∂X_kl = …)."""
        return " = ".join(self._sides(name, latex))

    def latex(self, view: str | None = None) -> str:
        """One form in LaTeX, or all three as an aligned block."""
        if view is not None:
            return self.view(view, latex=True)
        lines = [" &= ".join(self._sides(name, True)) for name in self._views()]
        return "\\begin{aligned}" + " \\\\ ".join(lines) + "\\end{aligned}"

    def _repr_latex_(self) -> str:
        return f"$${self.latex()}$$"

    def __str__(self) -> str:
        return "\n".join(self.view(name) for name in self._views())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {text(self._subject)} wrt {self.variable.label}: {shape_str(self.shape)}>"

    def _views(self) -> list[str]:
        """The views that can be written: the index form needs an entry rule for every operation dX passes through."""
        return [name for name in VIEWS if name != "index" or _unwritten_in_indices(self.linear, self.direction) is None]

    def _sides(self, name: str, as_latex: bool) -> tuple[str, str]:
        forms = {"linear": self._linear_form, "kronecker": self._kronecker_form, "index": self._index_form}
        if name not in forms:
            raise MatcalcError(f"view: {name!r} is not a view; choose one of {', '.join(VIEWS)}")
        return forms[name](_Dialect(as_latex, self.direction, self.variable))

    def _linear_form(self, dialect: _Dialect) -> tuple[str, str]:
        return dialect.differential(self.function), dialect.write(self.linear)

    def _kronecker_form(self, dialect: _Dialect) -> tuple[str, str]:
        changed = dialect.call("vec", dialect.differential(self.function))
        return changed, dialect.write(_applied(self.matrix, make(Vec, (self.direction,))))

    def _index_form(self, dialect: _Dialect) -> tuple[str, str]:
        entry, indices = self._entry(dialect)
        plain = IndexPrinter(dialect.as_latex)
        written = self.function
        numerator = dialect.operand(written) if written.is_scalar else plain.rule_whole(written, fresh_indices(written.shape))[0]
        return dialect.partial(numerator, plain.rule_whole(self.variable, indices)[0]), entry

    def _entry(self, dialect: _Dialect) -> tuple[str, tuple]:
        """dF's entry (i, j) with dX's entries as Kronecker deltas, and X's indices (k, l)."""
        unwritten = _unwritten_in_indices(self.linear, self.direction)
        if unwritten is not None:
            raise MatcalcError(
                f"view: the index form of this derivative is not written, as an entry of {text(unwritten)} has no "
                f"index rule; its linear and Kronecker forms are: {self.view('linear')}; {self.view('kronecker')}"
            )
        return _delta_entry(self.linear, self.direction, dialect.as_latex)

    def check_dense_size(self, sizes: dict) -> None:
        """Refuse a dense matrix of more than DENSE_LIMIT entries, naming the shapes, offering the linear-map form."""
        rows, cols = (resolve_dim(d, sizes) for d in self.matrix.shape)
        if rows * cols <= DENSE_LIMIT:
            return
        shapes = [shape_str(tuple(resolve_dim(d, sizes) for d in e.shape)) for e in (self._subject, self.variable)]
        raise EvaluationError(
            f"evaluate: the {type(self).__name__} of {text(self._subject)} ({shapes[0]}) with respect to "
            f"{self.variable.label} ({shapes[1]}) is a dense {rows}×{cols} matrix, {rows * cols:,} entries, over the "
            f"limit of {DENSE_LIMIT:,}; use its linear-map form, {self.view('linear')}, or apply it to a direction "
            f"V with {self._applying}"
        )

    @property
    def _subject(self) -> Expr:
        """What is differentiated: F."""
        return self.function

    @property
    def _applying(self) -> str:
        return f"mc.differential(F, {self.variable.label}, V)"


@dataclass(frozen=True, repr=False)
class Hessian(Jacobian):
    """∂²ℓ/∂X² for a scalar ℓ and a matrix X: the Jacobian of the gradient ``function`` = ∇ℓ, printed
    as the bilinear form d²ℓ = dX : H[dX], in vec form d²ℓ = vec(dX)ᵀ H vec(dX) with H the pq×pq
    matrix ``matrix``, and entry by entry ∂²ℓ/∂X_ij∂X_kl.

    >>> A, X = mc.matrix("A", 3, 3), mc.matrix("X", 3, 2)
    >>> print(mc.hessian(mc.trace(X.T @ A @ X), X).view("kronecker"))
    d² tr(XᵀAX) = vec(dX)ᵀ (I ⊗ (A + Aᵀ)) vec(dX)
    """

    loss: Expr

    def _linear_form(self, dialect: _Dialect) -> tuple[str, str]:
        return dialect.differential(self.loss, 2), dialect.write(make(Frob, (self.direction, self.linear)))

    def _kronecker_form(self, dialect: _Dialect) -> tuple[str, str]:
        column = make(Vec, (self.direction,))
        return dialect.differential(self.loss, 2), dialect.write(_applied(self.matrix, column, make(Transpose, (column,))))

    def _index_form(self, dialect: _Dialect) -> tuple[str, str]:
        entry, indices = self._entry(dialect)
        plain = IndexPrinter(dialect.as_latex)
        first, second = (plain.rule_whole(self.variable, i)[0] for i in (fresh_indices(self.variable.shape), indices))
        return dialect.partial(dialect.operand(self.loss), first, second), entry

    @property
    def _subject(self) -> Expr:
        """What is differentiated: the loss ℓ (``function`` is its gradient)."""
        return self.loss

    @property
    def _applying(self) -> str:
        return f"mc.hvp(ℓ, {self.variable.label}, V)"


def _applied(matrix: Expr, column: Expr, row: Expr | None = None) -> Expr:
    """[row] M column, written with M's number in front (−(X⁻ᵀ ⊗ X⁻¹)vec(dX), not (−(…))vec(dX))
    and not simplified further: simplifying would turn diag(vec A)vec(dX) into vec(A) ⊙ vec(dX)."""
    number, core = split_number(matrix)
    if isinstance(core, Zero) or number == 0:
        return make(Zero, (), (1 if row is not None else matrix.shape[0], 1))
    factors = ([row] if row is not None else []) + ([] if isinstance(core, Identity) else [core]) + [column]
    body = factors[0] if len(factors) == 1 else make(MatMul, tuple(factors))
    return scaled(number, body, body.shape)


@dataclass(frozen=True)
class _Dialect:
    """The few marks a view writes around expressions, as text or as LaTeX."""

    as_latex: bool
    direction: Symbol
    variable: Symbol

    def write(self, expr: Expr) -> str:
        if not self.as_latex:
            return text(expr)  # dX is a name there, spaced as one: A dX B
        return latex(substitute(expr, {self.direction: make(Differential, (self.variable,))}))  # \mathrm{d}X

    def operand(self, expr: Expr) -> str:
        """``expr`` written to stand after ∂: parenthesised unless it is a name or a function's value,
        ∂(X : A)/∂X_kl, not ∂X : A/∂X_kl."""
        written = self.write(expr)
        if expr.notation.kind in ("name", "call", "norm", "fixed", "number"):
            return written
        return f"\\left({written}\\right)" if self.as_latex else f"({written})"

    def call(self, name: str, inner: str) -> str:
        return f"\\operatorname{{{name}}}\\left({inner}\\right)" if self.as_latex else f"{name}({inner})"

    def differential(self, expr: Expr, order: int = 1) -> str:
        """dF for a name, d tr(…) for a function, d(AXB) for anything else; d² for order 2."""
        mark = ("\\mathrm{d}" if self.as_latex else "d") + ("" if order == 1 else ("^{2}" if self.as_latex else "²"))
        written, kind = self.write(expr), expr.notation.kind
        if kind == "name":
            return f"{mark}{written}" if not self.as_latex else f"{mark} {written}"
        if kind in ("call", "norm"):
            return f"{mark} {written}" if not self.as_latex else f"{mark}\\,{written}"
        return f"{mark}\\left({written}\\right)" if self.as_latex else f"{mark}({written})"

    def partial(self, numerator: str, *denominators: str) -> str:
        """∂F_ij/∂X_kl, or ∂²ℓ/∂X_ij∂X_kl with two denominators."""
        power = "" if len(denominators) == 1 else ("^{2}" if self.as_latex else "²")
        if self.as_latex:
            below = " ".join(f"\\partial {d}" for d in denominators)
            return f"\\frac{{\\partial{power} {numerator}}}{{{below}}}"
        return f"∂{power}{numerator}/" + "".join(f"∂{d}" for d in denominators)


def _variable_indices(shape) -> tuple:
    """The indices of an entry of X: (k, l) for a matrix, (k, None) for a column, as fresh_indices gives (i, j)."""
    return tuple({"i": "k", "j": "l"}.get(index) if index else None for index in fresh_indices(shape))


def _unwritten_in_indices(linear: Expr, direction: Symbol) -> Expr | None:
    """The first node on dX's way to dF that the index dialect writes whole, (dX ⊗ A)_ij, hiding dX; None if none."""
    dependent = depends_on(linear, [direction])
    for node in postorder([linear]):
        if node is not direction and node in dependent and IndexPrinter.writes_whole(node):
            return node
    return None


def _delta_entry(linear: Expr, direction: Symbol, as_latex: bool) -> tuple[str, tuple]:
    """Entry (i, j) of dF with dX's entries written as Kronecker deltas and contracted, once to
    find where dX is asked for and which summations a delta can absorb, and again to write it.
    Returns the entry and X's indices (k, l)."""
    free, targets = fresh_indices(linear.shape), _variable_indices(direction.shape)
    dependent = depends_on(display([linear])[0], [direction])  # the nodes the printer meets: the display form's
    first = _DeltaPrinter(as_latex, direction, targets, dependent)
    first.entry(linear, free)
    renamed = first.contractions(set(free))
    return _DeltaPrinter(as_latex, direction, targets, dependent, renamed).entry(linear, free), targets


class _DeltaPrinter(IndexPrinter):
    """The index dialect for a linear form dF, written for ∂F_ij/∂X_kl: each entry dX_ab of the
    direction is δ_ak δ_bl, and a summation index that a delta fixes is contracted into it
    (Σ_a A_ia δ_ak = A_ik).  Contracting renames the summed letter, which is exact where the
    direction meets that letter once and not inside a sum of terms (A(dX + dXᵀ)B keeps its δs)."""

    def __init__(self, as_latex: bool, direction: Symbol, targets: tuple, dependent: set, renamed: dict | None = None):
        super().__init__(as_latex)
        self.used |= {t for t in targets if t}
        self.direction, self.targets = direction, targets
        self.renamed = renamed or {}  # a summed letter -> the index of X it becomes
        self.occurrences: list[tuple] = []  # the indices dX is asked for at, each time
        self.blocked: set[str] = set()  # letters that reach dX through a sum of terms
        self.dependent = dependent  # the nodes whose entries depend on dX

    def contractions(self, free: set) -> dict:
        """Each summed letter that meets dX once, outside any sum of terms, and the index of X it becomes."""
        uses = Counter(letter for indices in self.occurrences for letter in set(indices) if letter)
        renamed: dict = {}
        for indices in self.occurrences:
            for letter, target in zip(indices, self.targets):
                if letter and letter not in free | self.blocked | renamed.keys() and uses[letter] == 1:
                    renamed[letter] = target
        return renamed

    def vanishes(self, part) -> bool:
        """A factor 1, left out of products: an entry of 𝟏 (its index rule "one"), or of dX (or dXᵀ)
        whose deltas are all contracted."""
        if not isinstance(part, EntryRequest):
            return False
        node, indices = part.node, part.indices
        while isinstance(node, Transpose):
            node, indices = node.args[0], indices[::-1]
        return node.index_rule == "one" or node is self.direction and all(
            self.renamed.get(letter) == target for letter, target in zip(indices, self.targets) if letter
        )

    def without_ones(self, parts: list) -> list:
        factors = [part for part in parts if isinstance(part, EntryRequest)]
        if len(factors) < 2 or all(self.vanishes(part) for part in factors):
            return parts
        kept, drop_space = [], False
        for part in parts:
            if self.vanishes(part):
                if kept and kept[-1] == " ":
                    kept.pop()
                else:
                    drop_space = True
            elif drop_space and part == " ":
                drop_space = False
            else:
                kept.append(part)
        return kept

    # --- the index dialect's rules, adapted ---------------------------------------------------------
    def subscripted(self, name_text, indices):
        return super().subscripted(name_text, tuple(self.renamed.get(i, i) if i else i for i in indices))

    def summed(self, links, parts):
        return super().summed([k for k in links if k not in self.renamed], parts)

    def rule_whole(self, node, indices):
        if node is not self.direction:
            return super().rule_whole(node, indices)
        self.occurrences.append(tuple(indices))
        delta = "\\delta" if self.latex else "δ"
        deltas = [
            self.subscripted(delta, (letter, target))
            for letter, target in zip(indices, self.targets)
            if letter and self.renamed.get(letter, letter) != target
        ]
        return [" ".join(deltas) if deltas else "1"]

    def rule_sum(self, node, indices):
        if node in self.dependent:
            self.blocked.update(i for i in indices if i)
        return super().rule_sum(node, indices)

    def rule_contraction(self, node, indices):
        return self.without_ones(super().rule_contraction(node, indices))

    def rule_scale(self, node, indices):
        return self.without_ones(super().rule_scale(node, indices))

    def rule_entrywise_product(self, node, indices):
        return self.without_ones(super().rule_entrywise_product(node, indices))

    def rule_frobenius(self, node, indices):
        return self.without_ones(super().rule_frobenius(node, indices))
