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

from .diff import _check_loss, _check_variables, depends_on, grad, symmetric_part
from .errors import DifferentiationError
from .expr import Const, Expr, Identity, Let, Ones, Symbol, Zero, make
from .ops import (
    Add,
    DiagMat,
    DiagVec,
    Elementwise,
    Frob,
    Hadamard,
    MatMul,
    Power,
    Scale,
    Sum,
    Trace,
    Transpose,
)
from .printing.common import postorder
from .printing.latex import LatexPrinter, latex_name
from .printing.notation import Notation
from .printing.text import TextPrinter, text
from .second import jacobian
from .shapes import shape_str
from .simplify import (
    Simplifier,
    double_transpose,
    scaled,
    split_number,
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
    return make(Symbol, (), (label, kind, False, node.shape[0], node.shape[1]))


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

    def __str__(self) -> str:
        rendered = [(line.lhs, line.rhs_text or (text(line.rhs) if line.rhs is not None else ""), line.note) for line in self.lines]
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
            rhs = line.rhs_latex or (LatexPrinter([line.rhs]).render(line.rhs) if line.rhs is not None else "")
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
        view = View("differential", "Differential: dℓ = G:dX, one rule per step (A:B = tr(AᵀB))")
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
        view = View("backprop", "Backprop: the adjoints of the named intermediates, δ_z := ∂ℓ/∂z, from the loss back")
        definitions, finals = self.backprop_equations()
        for delta, value in definitions:
            view.lines.append(Line(text(delta), LatexPrinter([delta]).render(delta), value))
        for variable in self.variables:
            view.lines.append(Line(f"∂ℓ/∂{text(variable)}", f"\\frac{{\\partial \\ell}}{{\\partial {latex_name(variable.label)}}}", finals[variable]))
        return view

    def _index_view(self) -> View:
        view = View("index", "Index form: each equation entry by entry (the scalar chain rule), beside its matrix form")
        definitions, finals = self.backprop_equations()
        equations = [(delta, value) for delta, value in definitions] + [(v, finals[v]) for v in self.variables]
        for target, value in equations:
            indices = _fresh_indices(target.shape)
            is_gradient = not (isinstance(target, Symbol) and target.label.startswith("δ_"))
            base_text = f"∂ℓ/∂{text(target)}" if is_gradient else text(target)
            base_latex = (f"\\partial \\ell/\\partial {latex_name(target.label)}" if is_gradient
                          else LatexPrinter([target]).render(target))
            entry_text, entry_latex = IndexPrinter(False).entry(value, indices), IndexPrinter(True).entry(value, indices)
            sub_text = "".join(i for i in indices if i)
            sub_latex = "".join(i for i in indices if i)
            view.lines.append(Line(f"({base_text})_{sub_text}" if sub_text else base_text,
                                   f"\\left({base_latex}\\right)_{{{sub_latex}}}" if sub_latex else base_latex,
                                   None, "", "", entry_text, entry_latex))
            view.lines.append(Line("", "", value, "the same, as matrices", _text_note("matrix form")))
        return view

    def _jacobian_view(self) -> View:
        return jacobian_view(self.loss, self.variables)


# --- building the differential steps ---------------------------------------------------------------


def _frontier(terms: list) -> Expr:
    parts = [make(Frob, (g, make(Differential, (node,)))) for g, node in terms]
    return parts[0] if len(parts) == 1 else make(Add, tuple(parts))


def derive(loss: Expr, wrt, shapes: bool = False) -> Derivation:
    """Derive ∂ℓ/∂X step by step with Frobenius differentials.

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
    simplifier = Simplifier(record=True)
    dependent = depends_on(loss, variables)
    order = [node for node in reversed(postorder([loss])) if node in dependent]
    terms = [(make(Const, (), (1,)), loss)]
    steps = [Step("differential", (), None, _frontier(terms))]
    definitions = []

    def tidy(expr: Expr) -> tuple[Expr, str]:
        start = len(simplifier.trace)
        result = simplifier(expr)
        used = list(dict.fromkeys(r.rule for r in simplifier.trace[start:]))
        return result, ("tidied by " + ", ".join(used)) if used else ""

    waiting = {v: 0 for v in variables}  # contributions still to arrive at each variable
    for node in order:
        for child in node.args:
            if child in waiting:
                waiting[child] += 1
    finals: dict = {}

    def collect(node) -> None:
        nonlocal terms
        positions = [k for k, (_, n) in enumerate(terms) if n is node]
        if len(positions) > 1:
            before = steps[-1].after  # every step ends on the current terms
            adjoint, note = tidy(make(Add, tuple(terms[k][0] for k in positions)))
            terms = [t for k, t in enumerate(terms) if k not in positions[1:]]
            terms[positions[0]] = (adjoint, node)
            steps.append(Step("collect_terms", (node, f" is reached along {len(positions)} paths: G₁:dX + G₂:dX = (G₁ + G₂):dX"),
                              before, _frontier(terms), note, "G_1:\\mathrm{d}X + G_2:\\mathrm{d}X = (G_1 + G_2):\\mathrm{d}X"))

    def read_off(variable) -> None:
        nonlocal terms
        collect(variable)
        position = next(k for k, (_, n) in enumerate(terms) if n is variable)
        g = terms[position][0]
        if variable.is_symmetric and not variable.is_scalar:
            g = simplifier(symmetric_part(g))
        finals[variable] = g
        terms = terms[:position] + terms[position + 1 :]
        steps.append(Step("read_off", ("dℓ = G:d", variable, " ⇒ ∂ℓ/∂", variable, " = ", g),
                          None, _frontier(terms) if terms else None, "", "\\mathrm{d}\\ell = G:\\mathrm{d}X \\Rightarrow \\partial\\ell/\\partial X = G", variable))

    for node in order:
        if node in waiting or not any(n is node for _, n in terms):
            continue
        collect(node)
        position = next(k for k, (_, n) in enumerate(terms) if n is node)
        adjoint = terms[position][0]
        if isinstance(node, Let):
            delta = placeholder(node, "δ_" + node.label)
            definitions.append((delta, adjoint))
            terms[position] = (delta, node)
            steps.append(Step("name_adjoint", (f"δ_{node.label} := ∂ℓ/∂{node.label} = ", adjoint),
                              None, _frontier(terms), "", f"\\delta_{{{latex_name(node.label)}}} := \\partial\\ell/\\partial {latex_name(node.label)}"))
            adjoint = delta
        before = steps[-1].after
        new_terms, notes, arrived = [], [], []
        for index, child in enumerate(node.args):
            if child in dependent:
                contribution, note = tidy(node.pullback(index, adjoint))
                new_terms.append((contribution, child))
                if note:
                    notes.append(note)
                if shapes:
                    notes.append(f"{text(contribution)} is {shape_str(contribution.shape)}, like {text(child)}")
                if child in waiting:
                    waiting[child] -= 1
                    if waiting[child] == 0:
                        arrived.append(child)
        terms = terms[:position] + new_terms + terms[position + 1 :]
        steps.append(Step(node.name, (node.why,), before, _frontier(terms), "; ".join(notes), node.why_latex))
        for variable in arrived:
            read_off(variable)
    for variable in variables:
        finals.setdefault(variable, make(Zero, (), variable.shape))
    return Derivation(loss, variables, single, steps, definitions, finals, shapes)


# --- the index view ----------------------------------------------------------------------------------

_INDEX_LETTERS = "ijklpqrsuvw"


def _fresh_indices(shape) -> tuple:
    rows, cols = shape
    return ("i" if rows != 1 else None, ("j" if rows != 1 else "i") if cols != 1 else None)


class IndexPrinter:
    """An expression's (row, col) entry in index notation, sums written out."""

    MAX_DEPTH = 200

    def __init__(self, latex: bool):
        self.latex = latex
        self.used = set("ij")

    def fresh(self) -> str:
        for letter in _INDEX_LETTERS:
            if letter not in self.used:
                self.used.add(letter)
                return letter
        letter = f"k{len(self.used)}"
        self.used.add(letter)
        return letter

    def symbol(self, name_text: str, name_latex: str, indices: tuple) -> str:
        sub = "".join(i for i in indices if i)
        if self.latex:
            return f"{name_latex}_{{{sub}}}" if sub else name_latex
        return f"{name_text}_{sub}" if sub else name_text

    def entry(self, expr: Expr, indices: tuple, depth: int = 0) -> str:
        if depth > self.MAX_DEPTH:
            raise DifferentiationError("derive: the expression is too deep for the index view")
        text_of = TextPrinter([expr]).render
        latex_of = LatexPrinter([expr]).render
        nested = depth + 1
        if isinstance(expr, (Symbol, Let)):
            name_latex, name_text = latex_of(expr), text_of(expr)
            if any(ch in name_latex for ch in "_^"):
                name_latex = f"\\left({name_latex}\\right)"
            if "_" in name_text:
                name_text = f"({name_text})"
            return self.symbol(name_text, name_latex, indices)
        if isinstance(expr, Const):
            return text_of(expr) if not self.latex else latex_of(expr)
        if isinstance(expr, Ones):
            return "1"
        if isinstance(expr, Zero):
            return "0"
        if isinstance(expr, Identity):
            return self.symbol("δ", "\\delta", indices)
        if isinstance(expr, Transpose):
            return self.entry(expr.args[0], (indices[1], indices[0]), nested)
        if isinstance(expr, Add):
            body = ""
            for term in expr.args:
                coefficient, core = split_number(term)
                magnitude = abs(coefficient)
                part = self.entry(core if magnitude == 1 else scaled(magnitude, core, core.shape), indices, nested) if core is not None else str(magnitude)
                sign = "-" if self.latex else "−"
                body += (f" {sign} " if coefficient < 0 else " + ") + part if body else (sign if coefficient < 0 else "") + part
            return f"\\left({body}\\right)" if self.latex else f"({body})"
        if isinstance(expr, Scale):
            return self.entry(expr.args[0], (None, None), nested) + " " + self.entry(expr.args[1], indices, nested)
        if isinstance(expr, Hadamard):
            return " ".join(self.entry(a, indices, nested) for a in expr.args)
        if isinstance(expr, Elementwise):
            f = expr.function
            name = f.latex if self.latex else f.text
            inner = self.entry(expr.args[0], indices, nested)
            return f"{name}\\left({inner}\\right)" if self.latex else f"{name}({inner})"
        if isinstance(expr, Power) and isinstance(expr.exponent, int):
            inner = self.entry(expr.args[0], indices, nested)
            return f"\\left({inner}\\right)^{{{expr.exponent}}}" if self.latex else f"({inner})^{expr.exponent}"
        if isinstance(expr, DiagMat):
            return self.symbol("δ", "\\delta", indices) + " " + self.entry(expr.args[0], (indices[0], None), nested)
        if isinstance(expr, DiagVec):
            return self.entry(expr.args[0], (indices[0], indices[0]), nested)
        if isinstance(expr, MatMul):
            factors = expr.args
            links = [self.fresh() if f.shape[1] != 1 else None for f in factors[:-1]]
            rows = [indices[0]] + links
            cols = links + [indices[1]]
            body = " ".join(self.entry(f, (r, c), nested) for f, r, c in zip(factors, rows, cols))
            return self.sum(links, body)
        if isinstance(expr, (Sum, Trace)):
            inner = expr.args[0]
            if isinstance(expr, Trace):
                k = self.fresh()
                return self.sum([k], self.entry(inner, (k, k), nested))
            links = [self.fresh() if d != 1 else None for d in inner.shape]
            return self.sum(links, self.entry(inner, tuple(links), nested))
        if isinstance(expr, Frob):
            links = [self.fresh() if d != 1 else None for d in expr.args[0].shape]
            body = " ".join(self.entry(a, tuple(links), nested) for a in expr.args)
            return self.sum(links, body)
        whole = latex_of(expr) if self.latex else text_of(expr)
        return self.symbol(f"({whole})", f"\\left({whole}\\right)", indices) if any(indices) else whole

    def sum(self, links, body: str) -> str:
        letters = [k for k in links if k]
        if not letters:
            return body
        if self.latex:
            return f"\\sum_{{{','.join(letters)}}} {body}"
        return f"Σ_{''.join(letters)} {body}"


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


