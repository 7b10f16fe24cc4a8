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
from dataclasses import dataclass, field

from .diff import Observer, _check_loss, _check_variables, backward, depends_on, grad, symmetric_part
from .errors import DifferentiationError
from .expr import Const, Expr, Let, Symbol, Zero, make
from .ops import (
    Add,
    Frob,
    MatMul,
    Transpose,
)
from .printing.common import let_layers, postorder
from .printing.index import IndexPrinter, fresh_indices
from .printing.latex import LatexPrinter, latex_name
from .printing.notation import Notation
from .printing.text import TextPrinter, text
from .second import jacobian
from .shapes import shape_str
from .simplify import (
    Simplifier,
    double_transpose,
    transpose_of_product,
    transpose_of_symmetric,
)


class Differential(Expr):
    """dX, for display in derivations (not an operation one differentiates)."""

    __slots__ = ()
    name = "differential"
    notation = Notation("prefix", "d", "\\mathrm{d}")

    @classmethod
    def shape_rule(cls, args, params):
        return args[0].shape



def substitute(expr: Expr, mapping: dict) -> Expr:
    """``expr`` with the nodes in ``mapping`` replaced, rebuilt bottom-up without recursion."""
    rebuilt: dict = {}
    for node in postorder([expr], into_lets=False):
        if node in mapping:
            rebuilt[node] = mapping[node]
        elif isinstance(node, Let):
            rebuilt[node] = node  # a named intermediate keeps its definition
        else:
            rebuilt[node] = node.rebuild(tuple(rebuilt[c] for c in node.args))
    return rebuilt[expr]


def placeholder(node: Expr, label: str) -> Symbol:
    kind = "scalar" if node.is_scalar else "vector" if node.shape[1] == 1 else "matrix"
    return make(Symbol, (), (label, kind, False, node.shape[0], node.shape[1], False))


@dataclass(frozen=True)
class Step:
    """One step: ``rule`` turned dℓ = ``before`` into dℓ = ``after``; ``note`` says more."""

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


@dataclass
class View:
    """A derivation shown one way: a title and aligned equations."""

    name: str
    title: str
    lines: list = field(default_factory=list)
    layers: dict = field(default_factory=dict)  # intermediates sharing a name, numbered across the view

    def __str__(self) -> str:
        def shown(line: Line) -> str:
            return TextPrinter([line.rhs], self.layers).render(line.rhs) if line.rhs is not None else ""

        rendered = [(line.lhs, line.rhs_text or shown(line), line.note) for line in self.lines]
        width = max((len(lhs) for lhs, _, _ in rendered), default=0)
        out = [self.title]
        for lhs, rhs, note in rendered:
            out.append(f"  {lhs:>{width}} = {rhs}" if rhs else f"  {lhs}")
            if note:
                out.append(f"  {'':>{width}}   ⟵ {note}")
        return "\n".join(out)

    def latex(self) -> str:
        rows = []
        for line in self.lines:
            rhs = line.rhs_latex or (LatexPrinter([line.rhs], self.layers).render(line.rhs) if line.rhs is not None else "")
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


class Derivation:
    """The derivation of ∂ℓ/∂X for each variable, as steps, with four views.

    ``gradient`` is the closed form (a dict when several variables were given); ``steps``
    is the list of :class:`Step`; ``print(d)`` and ``d.latex()`` show the differential
    view; ``d.view(name)`` gives "differential", "backprop", "index" or "jacobian".
    """

    VIEWS = ("differential", "backprop", "index", "jacobian")

    def __init__(self, loss, variables, single, steps, definitions, finals, show_shapes):
        self.loss = loss
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
        return self.view("differential").latex()

    def _repr_latex_(self) -> str:
        return self.latex()

    def view(self, name: str = "differential") -> View:
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
        return view

    def backprop_equations(self) -> tuple[list, dict]:
        """The δ definitions and the gradients; a δ used once, by another δ, is written in place."""
        deltas = {delta for delta, _ in self.definitions}

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
        return view

    def _index_view(self) -> View:
        view = View("index", "Index form: each equation entry by entry (the scalar chain rule), beside its matrix form",
                    layers=self.layers)
        definitions, finals = self.backprop_equations()
        equations = [(delta, value) for delta, value in definitions] + [(v, finals[v]) for v in self.variables]
        for target, value in equations:
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
        self.simplifier = Simplifier(record=True)
        self.show_shapes = show_shapes
        self.terms = [(make(Const, (), (1,)), loss)]  # the frontier: (G, X) for each G:dX
        self.steps = [Step("differential", (), None, _frontier(self.terms))]
        self.definitions: list = []  # (δ_z, its value), from the loss back
        self.finals: dict = {}
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


def derive(loss: Expr, wrt, shapes: bool = False) -> Derivation:
    """Derive ∂ℓ/∂X step by step with Frobenius differentials: the reverse sweep of
    :func:`matcalc.diff.backward`, written down.

    >>> n, m = mc.dims("n m")
    >>> W, a, t = mc.matrix("W", n, m), mc.vector("a", m), mc.vector("t", n)
    >>> z = mc.let("z", W @ a)
    >>> d = mc.derive(mc.sum((mc.sigmoid(z) - t) ** 2) / 2, W)
    >>> print(d.view("backprop"))
    Backprop: the adjoints of the named intermediates, δ_z := ∂ℓ/∂z, from the loss back
        δ_z = (σ(z) − t) ⊙ σ'(z)
      ∂ℓ/∂W = δ_z aᵀ
    """
    loss = _check_loss(loss, "derive")
    variables, single = _check_variables(wrt, "derive")
    recorder = _Recorder(loss, shapes)
    backward(loss, variables, recorder)
    finals = {v: recorder.finals.get(v, make(Zero, (), v.shape)) for v in variables}
    return Derivation(loss, variables, single, recorder.steps, recorder.definitions, finals, shapes)


# --- the Jacobian view ---------------------------------------------------------------------------------


def jacobian_view(loss: Expr, variables: list) -> View:
    view = View("jacobian", "Jacobians (numerator layout) multiplied by the chain rule, then transposed into a gradient")
    chain = _let_chain(loss, variables[0]) if len(variables) == 1 else None
    if chain is None:
        view.lines.append(Line("(needs one variable and a chain of named vector intermediates from it to the loss, mc.let)",
                               "\\text{needs a chain of named vector intermediates (mc.let)}", None))
        return view
    (variable,) = variables
    simplifier = Simplifier()
    stand_ins = [placeholder(let, let.label) for let in chain]
    outer = substitute(loss, {chain[0]: stand_ins[0]})
    factors = [make(Transpose, (grad(outer, stand_ins[0]),))]
    names_text = [f"∂ℓ/∂{chain[0].label}"]
    names_latex = [f"\\frac{{\\partial \\ell}}{{\\partial {latex_name(chain[0].label)}}}"]
    for k, let in enumerate(chain):
        body = let.body
        if k + 1 < len(chain):
            body = substitute(body, {chain[k + 1]: stand_ins[k + 1]})
            inner, inner_label = stand_ins[k + 1], chain[k + 1].label
        else:
            inner, inner_label = variable, variable.label
        if inner.shape[1] != 1:
            break
        factors.append(jacobian(body, inner))
        names_text.append(f"∂{let.label}/∂{inner_label}")
        names_latex.append(f"\\frac{{\\partial {latex_name(let.label)}}}{{\\partial {latex_name(inner_label)}}}")
    chained = make(MatMul, tuple(factors)) if len(factors) > 1 else factors[0]
    view.lines.append(Line("∂ℓ/∂" + variable.label, f"\\frac{{\\partial \\ell}}{{\\partial {latex_name(variable.label)}}}", None,
                           "the chain rule: a 1×n row times Jacobians", _text_note("chain rule"),
                           " ".join(f"({n})" for n in names_text), " ".join(names_latex)))
    view.lines.append(Line("", "", chained, "each factor in numerator layout (diag(f'(z)) for an elementwise f)",
                           _text_note("numerator layout")))
    reversed_chain = make(MatMul, tuple(make(Transpose, (f,)) for f in reversed(factors))) if len(factors) > 1 else make(Transpose, (factors[0],))
    plain = simplifier(reversed_chain)
    if variable.shape[1] == 1 and len(factors) == len(chain) + 1:
        view.lines.append(Line("∇ℓ", "\\nabla \\ell", _transposes_only(reversed_chain),
                               "the gradient is the transpose: (ABC)ᵀ = CᵀBᵀAᵀ reverses the order",
                               _text_note("transpose", "(ABC)^\\top = C^\\top B^\\top A^\\top")))
        view.lines.append(Line("", "", plain, "diag(v)u = v ⊙ u: the vector-Jacobian product never builds diag",
                               _text_note("diagonal product", "\\operatorname{diag}(v)\\,u = v \\odot u")))
    else:
        view.lines.append(Line(f"∂ℓ/∂{chain[-1].label}", f"\\partial\\ell/\\partial {latex_name(chain[-1].label)}", _transposes_only(reversed_chain),
                               "transposed into a column; the variable is a matrix, so the last step is C:(Wa) = Caᵀ:W",
                               _text_note("transpose")))
        view.lines.append(Line("", "", plain, "diag(v)u = v ⊙ u", _text_note("diagonal product")))
    return view


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


