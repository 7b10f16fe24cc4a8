"""Derivations as data: the steps of dℓ = G:dX, each naming its rule, in four views.

The steps are produced by the same machinery that computes gradients: the nodes'
pullbacks and the named rewrite rules.  The differential view starts at dℓ and applies
one rule per step; the backprop view names the adjoints of ``let`` intermediates (δ_z)
and reads as the textbook recursion; the index view writes each equation entry by entry;
the Jacobian view multiplies numerator-layout Jacobians and shows how transposing turns
diag(σ'(z)) into ⊙ and reverses the order.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace

from .diff import Observer, backward, depends_on, grad, symmetric_part, validated_loss, validated_variables
from .display import automatic_names, named_subexpressions
from .errors import DifferentiationError
from .expr import Const, Differential, Expr, Let, Symbol, Zero, make, substitute
from .ops import (
    Add,
    Elementwise,
    Frob,
    MatMul,
    Transpose,
)
from .printing.common import compact_names, let_layers, postorder
from .printing.index import IndexPrinter, fresh_indices
from .printing.latex import LatexPrinter, latex_name
from .printing.text import TextPrinter, text
from .second import jacobian
from .shapes import shape_str
from .simplify import (
    Simplifier,
    double_transpose,
    named_intermediates,
    transpose_of_product,
    transpose_of_symmetric,
)


def variable_kind(node: Expr) -> str:
    """The kind of variable that could stand for ``node``: scalar, vector or matrix."""
    return "scalar" if node.is_scalar else "vector" if node.shape[1] == 1 else "matrix"


def placeholder(node: Expr, label: str) -> Symbol:
    """A variable named ``label`` with the shape of ``node``: δ_z for z, G for an adjoint."""
    return make(Symbol, (), (label, variable_kind(node), False, node.shape[0], node.shape[1], False))


@dataclass(frozen=True)
class Step:
    """One step of a derivation: ``rule`` turned dℓ = ``before`` into dℓ = ``after``.

    Parameters
    ----------
    rule : str
        The rule's name (an operation's pullback, or a simplification rule).
    why_pieces : tuple
        The rule's reason, as text and expressions (printed only when shown).
    before, after : Expr or None
        The expression before and after the step.
    note : str, optional
        More about the step.
    why_latex : str, optional
        The rule's formula in LaTeX.
    subject : Expr or None, optional
        The variable a step that reads off a gradient reads off.

    Examples
    --------
    >>> x = mc.vector("x", 3)
    >>> step = mc.derive(mc.sum(mc.exp(x)), x).steps[1]
    >>> step.rule, step.why
    ('sum', 'sum(A) = 𝟏:A')
    """

    rule: str
    why_pieces: tuple  # text and expressions; printed only when shown, so deriving stays cheap
    before: Expr | None
    after: Expr | None
    note: str = ""
    why_latex: str = ""
    subject: Expr | None = None  # the variable a read_off step reads off

    @property
    def why(self) -> str:
        """The rule as text, with the step's expressions printed in it."""
        return "".join(piece if isinstance(piece, str) else text(piece) for piece in self.why_pieces)


@dataclass(frozen=True)
class Line:
    """One displayed equation: lhs = rhs, with a remark."""

    lhs: str
    lhs_latex: str
    rhs: Expr | None
    note: str = ""
    note_latex: str = ""
    rhs_text: str = ""
    rhs_latex: str = ""
    adjoint_of: Expr | None = None  # a δ's line reads δ = ∂ℓ/∂(z) = its value


@dataclass
class View:
    """A derivation shown one way: a title and aligned equations."""

    name: str
    title: str
    lines: list = field(default_factory=list)
    layers: dict = field(default_factory=dict)  # intermediates sharing a name, numbered across the view

    def printed(self, printer_class: type) -> list:
        """Each line's right-hand side, and what a δ is the adjoint of: the lines whose names are
        all one letter by one printer (AB), the others by another (A hidden)."""
        groups: dict = {}
        for line in self.lines:
            exprs = [e for e in (line.rhs, line.adjoint_of) if e is not None]
            groups.setdefault(compact_names(exprs), []).extend(exprs)
        written: dict = {}
        for exprs in groups.values():
            written.update(zip(exprs, printer_class(exprs, self.layers).pieces(exprs)))
        return [tuple(None if e is None else str(written[e]) for e in (line.rhs, line.adjoint_of)) for line in self.lines]

    def __str__(self) -> str:
        def shown(line: Line, rhs: str | None, z: str | None) -> str:
            if z is None:
                return rhs or ""
            return f"∂ℓ/∂{z if isinstance(line.adjoint_of, (Symbol, Let)) else '(' + z + ')'} = {rhs}"

        rendered = [(line.lhs, line.rhs_text or shown(line, *texts), line.note)
                    for line, texts in zip(self.lines, self.printed(TextPrinter))]
        width = max((len(lhs) for lhs, _, _ in rendered), default=0)
        out = [self.title]
        for lhs, rhs, note in rendered:
            out.append(f"  {lhs:>{width}} = {rhs}" if rhs else f"  {lhs}")
            if note:
                out.append(f"  {'':>{width}}   ⟵ {note}")
        return "\n".join(out)

    def latex(self) -> str:
        rows = []
        for line, (rhs, z) in zip(self.lines, self.printed(LatexPrinter)):
            rhs = line.rhs_latex or rhs or ""
            if z is not None:
                rhs = f"\\frac{{\\partial \\ell}}{{\\partial \\left({z}\\right)}} = {rhs}"
            row = f"{line.lhs_latex} &= {rhs}" if rhs else f"&{line.lhs_latex}"
            if line.note_latex:
                row += f" && {line.note_latex}"
            rows.append(row)
        return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"

    def _repr_latex_(self) -> str:
        return self.latex()

    def __repr__(self) -> str:
        return str(self)


def _text_note(rule: str, latex_formula: str = "") -> str:
    label = "\\text{" + rule.replace("_", " ") + "}"
    return f"{label}\\;\\; {latex_formula}" if latex_formula else label


def with_names(lines: list, separate: bool = False, preferred: dict | None = None, adjoints: dict | None = None,
               decided: dict | None = None) -> list:
    """The lines with automatic names (matcalc.display.automatic_names) for what their
    expressions repeat or nest deeply, each defined once in a line of its own before them.

    ``separate`` judges each line alone (the steps of the differential view); ``preferred``
    labels some names (δ₁ for an adjoint), and ``adjoints`` maps such a subexpression to the
    node it is the adjoint of, shown in its line: δ₁ = ∂ℓ/∂(W₁x) = …; ``decided``, the names
    already decided for these lines (matcalc.display.named_subexpressions).
    """
    naming = automatic_names([line.rhs for line in lines if line.rhs is not None], separate, preferred, decided)
    if not naming.definitions:
        return lines
    named = iter(naming.roots)
    of = {name: adjoints[node] for node, name in naming.names.items() if adjoints and node in adjoints}
    names = [name for name, _ in naming.definitions]
    written = zip(TextPrinter(names).pieces(names), LatexPrinter(names).pieces(names))
    definitions = [
        Line(str(name_text), str(name_latex), body, adjoint_of=naming.written(of[name]) if name in of else None)
        for (name, body), (name_text, name_latex) in zip(naming.definitions, written)
    ]
    return definitions + [replace(line, rhs=next(named)) if line.rhs is not None else line for line in lines]


class Derivation:
    """The derivation of ∂ℓ/∂X for each variable, as steps, with four views; made by :func:`derive`.

    ``gradient`` is the closed form (a dict when several variables were given); ``steps`` is the
    list of :class:`Step`; ``print(d)`` and ``d.latex()`` show the differential view;
    ``d.view(name)`` gives "differential", "backprop", "index" or "jacobian".  In Jupyter a
    derivation shows itself typeset.

    Parameters
    ----------
    loss : Expr
        The loss.
    variables : list of Symbol
        The variables.
    single : bool
        Whether one variable was asked for (``gradient`` is then one expression).
    steps : list of Step
        The steps, from dℓ to each gradient.
    definitions : list
        The δ names of the backprop view with their values, loss side first.
    finals : dict
        Each variable's gradient written with the δ names.
    show_shapes : bool
        Whether views note each factor's shape.
    adjoints : dict, optional
        Each node the sweep passed through, with its adjoint.

    Examples
    --------
    >>> A, x = mc.matrix("A", 3, 3), mc.vector("x", 3)
    >>> d = mc.derive(x.T @ A @ x, x)
    >>> print(d.gradient)
    (A + Aᵀ)x
    >>> d.steps[0].rule
    'differential'
    """

    VIEWS = ("differential", "backprop", "index", "jacobian")

    def __init__(self, loss: Expr, variables: list[Symbol], single: bool, steps: list[Step], definitions: list,
                 finals: dict, show_shapes: bool, adjoints: dict | None = None) -> None:
        self.loss = loss
        self.adjoints: dict = adjoints or {}  # each node the sweep passed through -> its adjoint, tidied
        self.variables = variables
        self.steps: list[Step] = steps
        self.definitions: list = definitions  # (δ placeholder, its value), loss side first
        self.finals: dict = finals  # variable -> gradient written with the δ names
        self.show_shapes = show_shapes
        self._single = single
        self.layers = let_layers([loss])  # intermediates that share a name print as h⁽¹⁾, h⁽²⁾ throughout

    @functools.cached_property
    def gradient(self):
        """The closed form of ∂ℓ/∂X (a dict for several variables), computed when first asked."""
        gradients = grad(self.loss, self.variables)
        return gradients[0] if self._single else dict(zip(self.variables, gradients))

    def __repr__(self) -> str:
        names = ", ".join(v.label for v in self.variables)
        return f"<Derivation of ∂ℓ/∂({names}) in {len(self.steps)} steps>"

    def __str__(self) -> str:
        return str(self.view("differential"))

    def latex(self) -> str:
        r"""The differential view in LaTeX: an ``align*`` block, one step a line.

        Returns
        -------
        str
            The LaTeX.

        Examples
        --------
        >>> x = mc.vector("x", 3)
        >>> "\\mathrm{d}" in mc.derive(x.T @ x, x).latex()
        True
        """
        return self.view("differential").latex()

    def _repr_latex_(self) -> str:
        return self.latex()

    def view(self, name: str = "differential") -> View:
        """One view of the derivation.

        Parameters
        ----------
        name : {"differential", "backprop", "index", "jacobian"}, optional
            "differential" (the default): dℓ = G:dX, one rule per step; "backprop": δ for every
            ``let`` intermediate, the textbook recursion; "index": each equation entry by entry;
            "jacobian": numerator-layout Jacobians, transposed into the gradient.

        Returns
        -------
        View
            It prints as text, ``.latex()`` gives LaTeX, and Jupyter shows it typeset.

        Raises
        ------
        DifferentiationError
            For an unknown view.

        Examples
        --------
        >>> W, a = mc.matrix("W", 2, 3), mc.vector("a", 3)
        >>> index = mc.derive(mc.sum(W @ a), W).view("index")
        >>> print(str(index).splitlines()[1])
          (∂ℓ/∂W)_ij = a_j
        """
        builders = {
            "differential": self._differential_view,
            "backprop": self._backprop_view,
            "index": self._index_view,
            "jacobian": self._jacobian_view,
        }
        if name not in builders:
            raise DifferentiationError(f"derive: unknown view {name!r}; choose one of {', '.join(self.VIEWS)}")
        return builders[name]()

    # --- views ---------------------------------------------------------------------------------
    def _differential_view(self) -> View:
        view = View("differential", "Differential: dℓ = G:dX, one rule per step (A:B = tr(AᵀB))", layers=self.layers)
        for index, step in enumerate(self.steps):
            lhs, lhs_latex = ("dℓ", "\\mathrm{d}\\ell") if index == 0 else ("", "")
            note = "" if step.rule == "differential" else f"{step.rule}: {step.why}"
            if step.note:
                note = f"{note}; {step.note}" if note else step.note
            note_latex = "" if step.rule == "differential" else _text_note(step.rule, step.why_latex)
            if step.rule == "read_off":
                variable = step.subject
                symmetric = variable.is_symmetric and not variable.is_scalar
                view.lines.append(Line(f"∂ℓ/∂{text(variable)}", f"\\frac{{\\partial \\ell}}{{\\partial {latex_name(variable.label)}}}",
                                       self.finals[variable],
                                       "read off dℓ = G:dX ⇒ ∂ℓ/∂X = G" + (" (symmetric: sym(G) = (G + Gᵀ)/2)" if symmetric else ""),
                                       _text_note("read off", step.why_latex)))
                if step.after is not None:
                    view.lines.append(Line("dℓ", "\\mathrm{d}\\ell", step.after, "what is left of dℓ", _text_note("remaining terms")))
            elif step.after is not None:
                view.lines.append(Line(lhs, lhs_latex, step.after, note, note_latex))
        for placeholder_symbol, value in self.definitions:
            view.lines.append(Line(text(placeholder_symbol), LatexPrinter([placeholder_symbol]).render(placeholder_symbol), value,
                                   "the adjoint named above", _text_note("named adjoint")))
        view.lines = with_names(view.lines, separate=True)
        return view

    def backprop_equations(self) -> tuple[list, dict]:
        """The δ definitions and the gradients; a δ used once, by another δ, is written in place."""
        deltas = {delta for delta, _ in self.definitions}
        if not deltas:
            return [], dict(self.finals)

        def references(expr: Expr) -> set:
            return {node for node in postorder([expr], into_lets=False) if node in deltas}

        values = dict(self.definitions)
        refs = {delta: references(value) for delta, value in values.items()}
        final_refs = set().union(*(references(g) for g in self.finals.values())) if self.finals else set()
        simplifier = Simplifier()
        kept = []
        for delta, _ in self.definitions:
            users = [other for other in values if other is not delta and delta in refs[other]]
            if len(users) == 1 and delta not in final_refs:
                (user,) = users
                values[user] = simplifier(substitute(values[user], {delta: values[delta]}))
                refs[user] = (refs[user] - {delta}) | refs[delta]
                del values[delta], refs[delta]
            else:
                kept.append(delta)
        return [(delta, values[delta]) for delta in kept], dict(self.finals)

    def _backprop_view(self) -> View:
        view = View("backprop", "Backprop: the adjoints of the named intermediates, δ_z := ∂ℓ/∂z, from the loss back",
                    layers=self.layers)
        definitions, finals = self.backprop_equations()
        for delta, value in definitions:
            view.lines.append(Line(text(delta), LatexPrinter([delta]).render(delta), value))
        for variable in self.variables:
            view.lines.append(Line(f"∂ℓ/∂{text(variable)}", f"\\frac{{\\partial \\ell}}{{\\partial {latex_name(variable.label)}}}", finals[variable]))
        view.lines = self.named_adjoints(view.lines)
        return view

    def named_adjoints(self, lines: list) -> list:
        """The lines with automatic names, those that are adjoints of the loss's nodes called δ₁,
        δ₂, … in the order of those nodes, loss side last (δ₁ = ∂ℓ/∂(W₁x) for the first layer)."""
        adjoint_of: dict = {}
        for node, adjoint in self.adjoints.items():  # from the loss back: the first node an adjoint reaches
            if not isinstance(node, (Symbol, Let)) and not adjoint.is_scalar:
                adjoint_of.setdefault(adjoint, node)
        decided = named_subexpressions([line.rhs for line in lines if line.rhs is not None])
        named = [node for node in decided if node in adjoint_of]
        position = {node: k for k, node in enumerate(postorder([self.loss], into_lets=False))}
        named.sort(key=lambda adjoint: position.get(adjoint_of[adjoint], 0))
        preferred = {adjoint: f"δ{k}" for k, adjoint in enumerate(named, 1)}
        return with_names(lines, preferred=preferred, adjoints={a: adjoint_of[a] for a in named}, decided=decided)

    def _index_view(self) -> View:
        view = View("index", "Index form: each equation entry by entry (the scalar chain rule), beside its matrix form",
                    layers=self.layers)
        definitions, finals = self.backprop_equations()
        equations = [(delta, value) for delta, value in definitions] + [(v, finals[v]) for v in self.variables]
        named = self.named_adjoints([Line("", "", value) for _, value in equations])  # names defined first
        view.lines += named[: len(named) - len(equations)]
        for (target, _), value in zip(equations, [line.rhs for line in named[len(named) - len(equations) :]]):
            indices = fresh_indices(target.shape)
            is_gradient = not (isinstance(target, Symbol) and target.label.startswith("δ_"))
            base_text = f"∂ℓ/∂{text(target)}" if is_gradient else text(target)
            base_latex = (f"\\partial \\ell/\\partial {latex_name(target.label)}" if is_gradient
                          else LatexPrinter([target]).render(target))
            entry_text, entry_latex = IndexPrinter(False, self.layers).entry(value, indices), IndexPrinter(True, self.layers).entry(value, indices)
            sub_text = "".join(i for i in indices if i)
            sub_latex = "".join(i for i in indices if i)
            view.lines.append(Line(f"({base_text})_{sub_text}" if sub_text else base_text,
                                   f"\\left({base_latex}\\right)_{{{sub_latex}}}" if sub_latex else base_latex,
                                   None, "", "", entry_text, entry_latex))
            view.lines.append(Line("", "", value, "the same, as matrices", _text_note("matrix form")))
        return view

    def _jacobian_view(self) -> View:
        return jacobian_view(self.loss, self.variables)


# --- the derivation: a record of the reverse sweep ------------------------------------------------------


def _frontier(terms: list) -> Expr:
    parts = [make(Frob, (g, make(Differential, (node,)))) for g, node in terms]
    return parts[0] if len(parts) == 1 else make(Add, tuple(parts))


class _Recorder(Observer):
    """Writes down the reverse sweep as steps of dℓ = Σ G:dX: the terms still to be pushed back
    (the frontier), and for each event the rule that changed them.  Each contribution is tidied
    by the simplifier, and the rules that tidied it are named in the step's note."""

    def __init__(self, loss: Expr, show_shapes: bool):
        self.simplifier = Simplifier(record=True, names=named_intermediates([loss]))
        self.show_shapes = show_shapes
        self.terms = [(make(Const, (), (1,)), loss)]  # the frontier: (G, X) for each G:dX
        self.steps = [Step("differential", (), None, _frontier(self.terms))]
        self.definitions: list = []  # (δ_z, its value), from the loss back
        self.finals: dict = {}
        self.adjoints: dict = {}  # each node passed through -> its adjoint, from the loss back
        self.layers = let_layers([loss])

    def tidy(self, expr: Expr) -> tuple[Expr, str]:
        start = len(self.simplifier.trace)
        result = self.simplifier(expr)
        used = list(dict.fromkeys(r.rule for r in self.simplifier.trace[start:]))
        return result, ("tidied by " + ", ".join(used)) if used else ""

    def position(self, node: Expr) -> int:
        return next(k for k, (_, term_node) in enumerate(self.terms) if term_node is node)

    def gathered(self, node, parts):
        if len(parts) == 1:
            return parts[0]
        before = self.steps[-1].after
        total, note = self.tidy(make(Add, tuple(parts)))
        first = self.position(node)
        self.terms = [t for k, t in enumerate(self.terms) if t[1] is not node or k == first]
        self.terms[first] = (total, node)
        self.steps.append(Step("collect_terms", (node, f" is reached along {len(parts)} paths: G₁:dX + G₂:dX = (G₁ + G₂):dX"),
                               before, _frontier(self.terms), note, "G_1:\\mathrm{d}X + G_2:\\mathrm{d}X = (G_1 + G_2):\\mathrm{d}X"))
        return total

    def passing(self, node, adjoint):
        self.adjoints[node] = adjoint
        if not isinstance(node, Let):
            return adjoint
        delta = placeholder(node, _delta_label(node, self.layers.get(node)))
        self.definitions.append((delta, adjoint))
        self.terms[self.position(node)] = (delta, node)
        self.steps.append(Step("name_adjoint", (delta, " := ∂ℓ/∂", node, " = ", adjoint), None, _frontier(self.terms), "",
                               f"{latex_name(delta.label)} := \\partial\\ell/\\partial {latex_name(node.label)}"))
        return delta

    def pulled(self, node, contributions):
        before = self.steps[-1].after
        tidied, notes = [], []
        for child, share in contributions:
            share, note = self.tidy(share)
            tidied.append((child, share))
            notes += [note] if note else []
            if self.show_shapes:
                notes.append(f"{text(share)} is {shape_str(share.shape)}, like {text(child)}")
        at = self.position(node)
        self.terms = self.terms[:at] + [(share, child) for child, share in tidied] + self.terms[at + 1 :]
        self.steps.append(Step(node.name, (node.why,), before, _frontier(self.terms), "; ".join(notes), node.why_latex))
        return tidied

    def complete(self, variable, adjoint):
        gradient = adjoint
        if variable.is_symmetric and not variable.is_scalar:
            gradient = self.simplifier(symmetric_part(adjoint))
        self.finals[variable] = gradient
        del self.terms[self.position(variable)]
        self.steps.append(Step("read_off", ("dℓ = G:d", variable, " ⇒ ∂ℓ/∂", variable, " = ", gradient), None,
                               _frontier(self.terms) if self.terms else None, "",
                               "\\mathrm{d}\\ell = G:\\mathrm{d}X \\Rightarrow \\partial\\ell/\\partial X = G", variable))


_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _delta_label(let: Let, layer: int | None) -> str:
    """δ_z, or δ_h⁽²⁾ for the second of several intermediates named h."""
    return f"δ_{let.label}" + ("" if layer is None else f"⁽{str(layer).translate(_SUPERSCRIPT)}⁾")


def derive(loss: Expr, wrt: Symbol | list[Symbol], shapes: bool = False) -> Derivation:
    """Derive ∂ℓ/∂X step by step with Frobenius differentials: the reverse sweep of
    :func:`matcalc.diff.backward`, written down, each step naming its rule.

    Parameters
    ----------
    loss : Expr
        A scalar (1×1) expression.
    wrt : Symbol or list of Symbol
        The variable, or several.
    shapes : bool, optional
        Note each factor's shape beside the steps.

    Returns
    -------
    Derivation
        The steps, the closed form (``.gradient``) and four views: ``print(d)`` and
        ``d.latex()`` show the differential view, ``d.view("backprop")`` the δ recursion,
        ``"index"`` index notation and ``"jacobian"`` numerator-layout Jacobians.

    Raises
    ------
    DifferentiationError
        For a loss that is not a scalar, or something that is not a variable in ``wrt``.

    Examples
    --------
    >>> n, m = mc.dims("n m")
    >>> W, a, t = mc.matrix("W", n, m), mc.vector("a", m), mc.vector("t", n)
    >>> z = mc.let("z", W @ a)
    >>> d = mc.derive(mc.sum((mc.sigmoid(z) - t) ** 2) / 2, W)
    >>> print(d.view("backprop"))
    Backprop: the adjoints of the named intermediates, δ_z := ∂ℓ/∂z, from the loss back
        δ_z = (σ(z) − t) ⊙ σ'(z)
      ∂ℓ/∂W = δ_z aᵀ
    """
    loss = validated_loss(loss, "derive")
    variables, single = validated_variables(wrt, "derive")
    recorder = _Recorder(loss, shapes)
    backward(loss, variables, recorder)
    finals = {v: recorder.finals.get(v, make(Zero, (), v.shape)) for v in variables}
    return Derivation(loss, variables, single, recorder.steps, recorder.definitions, finals, shapes, recorder.adjoints)


# --- the Jacobian view ---------------------------------------------------------------------------------


def jacobian_view(loss: Expr, variables: list) -> View:
    """The chain rule as a product of numerator-layout Jacobians, from the loss down through the
    named vector intermediates (and an elementwise function applied to one, σ(z), whose
    Jacobian diag(σ'(z)) is what becomes ⊙), transposed into a gradient.  A matrix variable W
    ends the chain at the last intermediate z: δ_z = (∂ℓ/∂z)ᵀ, and ∂ℓ/∂W is read off dℓ = δ_z : dz."""
    view = View("jacobian", "Jacobians (numerator layout) multiplied by the chain rule, then transposed into a gradient")
    chain = _let_chain(loss, variables[0]) if len(variables) == 1 else None
    if chain is None:
        view.lines.append(Line("(needs one variable and a chain of named vector intermediates from it to the loss, mc.let)",
                               "\\text{needs a chain of named vector intermediates (mc.let)}", None))
        return view
    (variable,) = variables
    stages = _stages(loss, chain)
    factors, names = _jacobian_factors(loss, stages, variable)
    complete = len(factors) == len(stages) + 1  # down to the variable: it is a vector
    end_text, end_latex = (text(variable), latex_name(variable.label)) if complete else (chain[-1].label, latex_name(chain[-1].label))
    chained = make(MatMul, tuple(factors)) if len(factors) > 1 else factors[0]
    view.lines.append(Line(f"∂ℓ/∂{end_text}", f"\\frac{{\\partial \\ell}}{{\\partial {end_latex}}}", None,
                           "the chain rule: a 1×n row times Jacobians", _text_note("chain rule"),
                           " ".join(f"({n})" for n, _ in names), " ".join(latex for _, latex in names)))
    view.lines.append(Line("", "", chained, "each factor in numerator layout (diag(f'(z)) for an elementwise f)",
                           _text_note("numerator layout")))
    reversed_chain = make(MatMul, tuple(make(Transpose, (f,)) for f in reversed(factors))) if len(factors) > 1 else make(Transpose, (factors[0],))
    lhs = ("∇ℓ", "\\nabla \\ell") if complete else (f"δ_{end_text}", f"\\delta_{{{end_latex}}}")
    view.lines.append(Line(*lhs, _transposes_only(reversed_chain),
                           "the gradient is the transpose: (ABC)ᵀ = CᵀBᵀAᵀ reverses the order",
                           _text_note("transpose", "(ABC)^\\top = C^\\top B^\\top A^\\top")))
    view.lines.append(Line("", "", Simplifier()(reversed_chain), "diag(v)u = v ⊙ u: the vector-Jacobian product never builds diag",
                           _text_note("diagonal product", "\\operatorname{diag}(v)\\,u = v \\odot u")))
    if not complete:
        view.lines.append(_read_off_matrix(chain[-1], variable))
    return view


def _read_off_matrix(z: Let, variable: Symbol) -> Line:
    """∂ℓ/∂W from dℓ = δ_z : dz, for the last intermediate z = f(W): its pullback, δ_z aᵀ for z = Wa + b."""
    delta = placeholder(z, f"δ_{z.label}")
    gradient = grad(make(Frob, (delta, z.body)), variable)
    return Line(f"∂ℓ/∂{text(variable)}", f"\\frac{{\\partial \\ell}}{{\\partial {latex_name(variable.label)}}}", gradient,
                f"dℓ = δ_{z.label} : d{z.label} with {z.label} = {text(z.body)}: a matrix variable is read off the "
                f"differential (C:AB = CBᵀ:A), not a Jacobian",
                _text_note("read off", "\\mathrm{d}\\ell = \\delta_z : \\mathrm{d}z,\\; C:AB = CB^\\top:A"))


def _stage_label(stage: Expr) -> str:
    return stage.label if isinstance(stage, Let) else text(stage)


def _stages(loss: Expr, chain: list) -> list:
    """The chain's intermediates, each with the elementwise function applied to it above it,
    σ(z), where that is all the expression above uses of it."""
    stages, outer = [], loss
    for let in chain:
        applied = [n for n in postorder([outer], into_lets=False) if isinstance(n, Elementwise) and n.args[0] is let]
        if len(applied) == 1 and applied[0] is not outer:  # a = let("a", σ(z)) is a stage already
            cut = substitute(outer, {applied[0]: placeholder(applied[0], "·")})
            if all(n is not let for n in postorder([cut], into_lets=False)):
                stages.append(applied[0])
        stages.append(let)
        outer = let.body
    return stages


def _jacobian_factors(loss: Expr, stages: list, variable: Symbol) -> tuple[list, list]:
    """The row ∂ℓ/∂(first stage), then each stage's Jacobian with respect to the next (the last
    with respect to the variable, if it is a vector), with their names in text and LaTeX."""
    stand_in = {stage: placeholder(stage, _stage_label(stage)) for stage in stages}
    stand_in[variable] = variable
    first = stages[0]
    factors = [make(Transpose, (grad(substitute(loss, {first: stand_in[first]}), stand_in[first]),))]
    names = [(f"∂ℓ/∂{_stage_label(first)}", f"\\frac{{\\partial \\ell}}{{\\partial {latex_name(_stage_label(first))}}}")]
    for stage, inner in zip(stages, [*stages[1:], variable]):
        if inner.shape[1] != 1:
            break
        expression = substitute(stage.body if isinstance(stage, Let) else stage, {inner: stand_in[inner]})
        factors.append(jacobian(expression, stand_in[inner]))
        label, inner_label = _stage_label(stage), _stage_label(inner) if inner is not variable else variable.label
        names.append((f"∂{label}/∂{inner_label}", f"\\frac{{\\partial {latex_name(label)}}}{{\\partial {latex_name(inner_label)}}}"))
    written = {symbol: stage for stage, symbol in stand_in.items() if stage is not variable}  # σ(z) written as σ(z)
    return [substitute(factor, written) for factor in factors], names


def _transposes_only(expr: Expr) -> Expr:
    """Transposes pushed to the leaves and nothing else, to show the reversed order."""
    rules = (double_transpose, transpose_of_symmetric, transpose_of_product)
    rebuilt: dict = {}
    for node in postorder([expr]):
        current = node.rebuild(tuple(rebuilt[c] for c in node.args))
        for _ in range(8):
            for rule in rules:
                result = rule(current) if isinstance(current, Transpose) else None
                if result is not None:
                    current = result
                    break
            else:
                break
        rebuilt[node] = current
    return rebuilt[expr]


def _let_chain(loss: Expr, variable: Symbol) -> list | None:
    """The named vector intermediates from the loss down to the variable, if they form a chain."""
    dependent = depends_on(loss, [variable])
    lets = [n for n in reversed(postorder([loss])) if isinstance(n, Let) and n in dependent]
    if not lets or any(let.shape[1] != 1 for let in lets):
        return None
    outer = loss
    for let in lets:
        cut = substitute(outer, {let: placeholder(let, let.label + "′")})
        if depends_on(cut, [variable]) & {cut}:
            return None
        outer = let.body
    return lets


