"""Pictures of the computation: an expression's DAG, or a derivation's adjoints on it (graphviz).

``mc.draw(loss)`` draws each node once, with its operation and its shape; ``mc.draw(mc.derive(loss,
W))`` adds, in red, each node's adjoint ∂ℓ/∂(node) (δ_z for a named intermediate) and, on each
edge, the Frobenius rule that carried the adjoint back along it and the share it carried.  With
``values=`` every node also shows its numeric shape and norm, and so does its adjoint.

The picture is a view of data the package already has: the DAG (:func:`matcalc.graph.postorder`),
each operation's name and printing, its pullback (the rule on an edge is the pullback applied to
stand-ins: G:AB = AᵀG:B), and the reverse sweep of :func:`matcalc.diff.backward`, watched by an
observer.  Nothing here differentiates or simplifies differently from ``mc.derive``.

The DOT text is built here (every label escaped); graphviz's ``dot`` lays it out and renders it,
called through the ``graphviz`` Python package (``pip install "matcalc-frobenius[draw]"`` and the
``dot`` program, ``apt-get install graphviz``).
"""

from __future__ import annotations

import html
import pathlib
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from .derivation import Derivation, placeholder, variable_kind
from .diff import Observer, backward, depends_on, symmetric_part
from .errors import MatcalcError, OperandError
from .expr import Const, Differential, Expr, Let, Symbol, make, substitute
from .graph import postorder
from .numeric.evaluate import evaluate, given_values
from .ops import Add
from .printing.common import let_layers
from .printing.text import TextPrinter
from .shapes import shape_str
from .simplify import Simplifier, named_intermediates

LIMIT = 40  # nodes drawn before repeated layers are collapsed
SMALLEST_LIMIT = 10  # fewer could not show both ends of a network and the box between
_TEXT_WIDTH = 30  # a node's expression longer than this gets an automatic name (v₁, v₂, ...)
_ADJOINT_WIDTH = 24  # and so does a node whose adjoint is longer than this (its adjoint is then δ_v₁)
_LINE = 40  # characters per line of a label
_LINES = 3  # lines of one label before it is cut with …
_FORMATS = ("svg", "png", "pdf")
_FONT = "DejaVu Sans"
_ADJOINT = "#b42318"
_FILL = {"variable": "#dbeafe", "leaf": "#f1f5f9", "loss": "#fef3c7", "op": "#ffffff", "named": "#ecfdf5"}


@dataclass
class Node:
    """One box of the picture: its id in the DOT text and its lines (title, expression, shape, ...)."""

    id: str
    expr: Expr | None
    title: str
    text: str
    shape: str
    adjoint: str = ""
    value: str = ""
    adjoint_value: str = ""
    kind: str = "op"


@dataclass
class Edge:
    """An arrow of the forward computation, ``tail`` → ``head``; for a derivation, the rule that
    passes the head's adjoint back to the tail, and the share it passes."""

    tail: str
    head: str
    rule: str = ""
    share: str = ""
    collapsed: bool = False


@dataclass
class Drawing:
    """A picture, made by :func:`draw`: ``source`` is its DOT text; it shows itself in Jupyter (SVG)
    and saves to SVG, PNG or PDF.

    Parameters
    ----------
    source : str
        The DOT text (graphviz's ``dot`` lays it out).
    nodes : list, optional
        The nodes drawn, each with its text (and adjoint, for a derivation).
    edges : list, optional
        The edges drawn, each with the rule that carried the adjoint back along it.
    note : str, optional
        What was left out (collapsed layers), if anything.

    Examples
    --------
    >>> picture = mc.draw(mc.vector("x", 3).T @ mc.vector("y", 3))
    >>> picture.source.startswith("digraph")
    True
    """

    source: str
    nodes: list = field(default_factory=list)
    edges: list = field(default_factory=list)
    note: str = ""

    def pipe(self, format: str = "svg") -> bytes:
        """The picture rendered by graphviz's ``dot``, in ``format`` (svg, png or pdf)."""
        if format not in _FORMATS:
            raise OperandError(f"draw: cannot render {format!r}; choose one of {', '.join(_FORMATS)}")
        graphviz = _graphviz()
        try:
            return graphviz.Source(self.source, engine="dot").pipe(format=format)
        except graphviz.ExecutableNotFound:
            raise MatcalcError(
                "draw: graphviz's `dot` program is not installed (Debian/Ubuntu: apt-get install graphviz; "
                "macOS: brew install graphviz; conda: conda install graphviz)"
            ) from None
        except graphviz.CalledProcessError as error:  # dot failed or was killed: a picture of too many nodes
            raise MatcalcError(
                f"draw: graphviz's `dot` could not lay out the picture of {len(self.nodes)} nodes (exit status "
                f"{error.returncode}); draw with a smaller limit"
            ) from None

    def svg(self) -> str:
        """The picture as SVG text."""
        return self.pipe("svg").decode("utf-8")

    def save(self, path, format: str | None = None) -> pathlib.Path:
        """Writes the picture to ``path``; the format is ``format`` or the path's suffix (.svg, .png, .pdf)."""
        path = pathlib.Path(path)
        format = format or path.suffix.lstrip(".").lower()
        picture = self.pipe(format)
        try:
            path.write_bytes(picture)
        except OSError as error:
            raise MatcalcError(f"draw: cannot write {str(path)!r}: {error.strerror}") from None
        return path

    def _repr_svg_(self) -> str:
        return self.svg()

    def __repr__(self) -> str:
        note = f"; {self.note}" if self.note else ""
        return f"<Drawing of {len(self.nodes)} nodes and {len(self.edges)} edges{note}>"


def _graphviz():
    try:
        import graphviz
    except ImportError:
        raise MatcalcError(
            'draw: the graphviz Python package is not installed: pip install "matcalc-frobenius[draw]" '
            "(and graphviz's `dot` program: apt-get install graphviz)"
        ) from None
    return graphviz


def draw(subject: Expr | Derivation, values: dict | None = None, *, limit: int = LIMIT, direction: str = "BT") -> Drawing:
    """A picture of an expression's DAG, or of a derivation: each node once, with its operation and
    shape; for a derivation, each node's adjoint and each edge's rule.

    Parameters
    ----------
    subject : Expr or Derivation
        What to draw: an expression, or ``mc.derive(...)``'s derivation (adds the adjoints).
    values : dict, optional
        Values as for :func:`evaluate`; each node then shows its numeric shape and norm.
    limit : int, optional
        Above this many nodes, repeated layers in the middle are drawn as one box that says what
        it holds.
    direction : {"BT", "LR", "TB", "RL"}, optional
        graphviz's rankdir: "BT" (inputs below, the loss on top, the default) or "LR" (inputs
        left), "TB", "RL".

    Returns
    -------
    Drawing
        Its DOT text, nodes and edges; it shows itself in Jupyter and saves to SVG, PNG or PDF.

    Raises
    ------
    OperandError
        For another direction, a limit below 10, or a subject that is neither an expression nor a derivation.

    Examples
    --------
    >>> n, m = mc.dims("n m")
    >>> W, a = mc.matrix("W", n, m), mc.vector("a", m)
    >>> picture = mc.draw(mc.derive(mc.sum(mc.tanh(W @ a)), W))
    >>> [node.text for node in picture.nodes]
    ['W', 'a', 'Wa', 'tanh(Wa)', 'ℓ = sum(tanh(Wa))']
    >>> picture.nodes[0].adjoint
    '∂ℓ/∂W = (𝟏 − tanh(Wa)²)aᵀ'
    >>> picture.edges[0].rule, picture.edges[0].share
    ('G : Ax = Gxᵀ : A', '(𝟏 − tanh(Wa)²)aᵀ')
    """
    if direction not in ("LR", "RL", "TB", "BT"):
        raise OperandError(f"draw: direction must be LR, RL, TB or BT, got {direction!r}")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < SMALLEST_LIMIT:
        raise OperandError(f"draw: limit is a number of nodes, at least {SMALLEST_LIMIT}, got {limit!r}")
    if values is not None and not isinstance(values, dict):
        raise OperandError(f"draw: values must be a dict from variables (or names) to arrays, got {type(values).__name__}")
    if isinstance(subject, Derivation):
        return _Picture(subject.loss, subject, values, limit, direction).drawing()
    if isinstance(subject, Expr):
        return _Picture(subject, None, values, limit, direction).drawing()
    raise OperandError(f"draw: give an expression or a derivation (mc.derive), got {type(subject).__name__}")


# --- the adjoints, as the reverse sweep passes them -------------------------------------------------


class _Watcher(Observer):
    """Records each node's adjoint and each edge's share, tidied as ``derive`` tidies them.  The
    adjoint a named intermediate passes on is written δ_z (the names ``derive`` gave them), and so
    is that of a node with an automatic name (δ_v₃), so that every adjoint stays short."""

    def __init__(self, derivation: Derivation, dependent: set, auto: dict, long=None):
        self.simplifier = Simplifier(names=named_intermediates([derivation.loss]))
        self.dependent = dependent
        self.auto = auto  # node -> its automatic name (a stand-in symbol)
        self.long = long  # long(node, adjoint): give the node a name, as its adjoint is too long to show
        self.deltas = iter(derivation.definitions)
        self.adjoint: dict = {}
        self.named: dict = {}  # node -> (δ, its value), from the loss back
        self.share: dict = {}  # (node, argument index) -> what the node passed to that argument
        self.gradient: dict = {}

    def gathered(self, node, parts):
        total = parts[0] if len(parts) == 1 else self.simplifier(make(Add, tuple(parts)))
        self.adjoint[node] = total
        return total

    def passing(self, node, adjoint):
        if isinstance(node, Let):  # derive's name for it; its value written with this sweep's names
            delta, value = next(self.deltas)[0], adjoint
        elif node in self.auto or (self.long is not None and self.long(node, adjoint)):
            delta, value = placeholder(node, "δ_" + self.auto[node].label), adjoint
        else:
            return adjoint
        self.named[node] = (delta, value)
        return delta

    def pulled(self, node, contributions):
        indices = [index for index, child in enumerate(node.args) if child in self.dependent]
        tidied = []
        for index, (child, share) in zip(indices, contributions):
            share = self.simplifier(share)
            self.share[(node, index)] = share
            tidied.append((child, share))
        return tidied

    def complete(self, variable, adjoint):
        symmetric = variable.is_symmetric and not variable.is_scalar
        self.gradient[variable] = self.simplifier(symmetric_part(adjoint)) if symmetric else adjoint


# --- the picture ----------------------------------------------------------------------------------


def _shape(node: Expr) -> str:
    return "scalar" if node.is_scalar else shape_str(node.shape)


def _d(expr: Expr) -> Expr:
    return make(Differential, (expr,))


def _is_constant_leaf(node: Expr) -> bool:
    return not node.args and not isinstance(node, Symbol)


class _Picture:
    """The boxes and arrows of one picture: which nodes are drawn (a let whose definition only it uses
    is one box), their names, their adjoints and the rules on the edges, what is collapsed, and the
    DOT text."""

    def __init__(self, root: Expr, derivation: Derivation | None, values, limit: int, direction: str):
        self.root, self.derivation, self.limit, self.direction = root, derivation, limit, direction
        self.layers = let_layers([root])
        self.all = postorder([root])
        self.parents: dict = {}
        for node in self.all:
            for index, child in enumerate(node.args):
                self.parents.setdefault(child, []).append((node, index))
        # A named intermediate whose definition is used only by it is drawn as one box, "z = Wa + b".
        self.merged = {
            node: node.args[0] for node in self.all
            if isinstance(node, Let) and node.args[0].args and not isinstance(node.args[0], Let)
            and self.parents.get(node.args[0]) == [(node, 0)]
        }
        self.name_of = {body: let for let, body in self.merged.items()}
        self.drawn = [n for n in self.all if n not in self.merged and not _is_constant_leaf(n)]
        self.ids = {node: f"n{k}" for k, node in enumerate(self.drawn)}
        self._edge_list: list | None = None
        self.watcher = None
        if derivation is not None:
            self.dependent = depends_on(root, derivation.variables)
        self.auto = self._automatic_names(set())
        if derivation is not None:
            # First sweep: which unnamed nodes have an adjoint too long to show.  Second: with those
            # named too (numbered in order, from the inputs up), every adjoint written by the names.
            self.auto = self._auto_without_root()  # the trial adds to it
            trial = _Watcher(derivation, self.dependent, self.auto, self._long_adjoint)
            backward(root, derivation.variables, trial)
            self.auto = self._automatic_names(set(trial.auto))
            self.watcher = _Watcher(derivation, self.dependent, self._auto_without_root())
            backward(root, derivation.variables, self.watcher)
        used = {n.label for n in self.all if isinstance(n, (Symbol, Let))} | {"G", "d", "g"}
        pools = {"matrix": "ABCDEFHKLMNPQRSUVZ", "vector": "xyuvwpqrabc", "scalar": "stcefhk"}
        self.letters = {kind: ([c for c in pool if c not in used] + list(pool))[:6] for kind, pool in pools.items()}
        self.hidden, self.note = self._collapse()
        self.values = self._numbers(values) if values is not None else None

    def rep(self, node: Expr) -> Expr:
        return self.merged[node] if node in self.merged else node

    def text(self, expr: Expr) -> str:
        return TextPrinter([expr], self.layers).render(expr)

    # --- names ----------------------------------------------------------------------------------
    def _auto_without_root(self) -> dict:
        return {node: name for node, name in self.auto.items() if node is not self.root}

    def _long_adjoint(self, node: Expr, adjoint: Expr) -> bool:
        if node is self.root or not node.args or node in self.name_of or len(self.written(adjoint)) <= _ADJOINT_WIDTH:
            return False
        self.auto[node] = placeholder(node, f"{self.prefix}{len(self.auto) + 1}")
        return True

    def _automatic_names(self, forced: set) -> dict:
        """Stand-ins v₁, v₂, ... for the unnamed nodes whose expression is too long to show (and
        the ``forced`` ones); each node is shown with its arguments' names (v₃ = tanh(W₃v₂))."""
        labels = {n.label for n in self.all if isinstance(n, (Symbol, Let))}
        prefix = self.prefix = next(p for p in ("v", "u", "q", "r", "ξ", "auto")
                                    if not any(_indexed(label, p) for label in labels))
        auto: dict = {}
        compact: dict = {}  # each node rebuilt over its arguments' stand-ins
        self.shown: dict = {}
        for node in self.all:
            if not node.args or isinstance(node, Let):
                compact[node] = node
                continue
            compact[node] = node.rebuild(tuple(auto.get(child, compact[child]) for child in node.args))
            shown = self.text(compact[node])
            self.shown[node] = shown
            if (len(shown) > _TEXT_WIDTH or node in forced) and node not in self.name_of:
                root_name = node is self.root and self.derivation is not None
                auto[node] = placeholder(node, "ℓ" if root_name else f"{prefix}{len(auto) + 1}")
        return auto

    def written(self, expr: Expr) -> str:
        """An adjoint or share as text, long subexpressions written by their automatic names."""
        return self.text(substitute(expr, self.auto) if self.auto else expr)

    def _label_text(self, node: Expr) -> str:
        if isinstance(node, Symbol):
            return self.text(node)
        if isinstance(node, Let):
            return f"{self.text(node)} := {self.written(node.args[0])}"
        shown = self.shown[node]
        if node in self.name_of:
            return f"{self.text(self.name_of[node])} = {shown}"
        if node is self.root and self.derivation is not None:
            return f"ℓ = {shown}"
        if node in self.auto:
            return f"{self.text(self.auto[node])} = {shown}"
        return shown

    def colon(self, left: Expr, right: Expr) -> str:
        """left : right, each side in parentheses when it is a sum or an infix operation."""
        sides = []
        for side in (left, right):
            written = self.text(side)
            sides.append(f"({written})" if side.notation.kind in ("sum", "infix") else written)
        return " : ".join(sides)

    def _title(self, node: Expr) -> str:
        if isinstance(node, Symbol):
            symmetric = " (symmetric)" if node.params[2] else ""
            role = "variable, " if self.derivation is not None and node in self.derivation.variables else ""
            return f"{role}{node.kind}{symmetric}"
        if isinstance(node, Let):
            return "let"
        name = node.name
        if name == "elementwise":
            name = f"{node.notation.text}, elementwise"
        return f"{name}, let" if node in self.name_of else name

    # --- adjoints ------------------------------------------------------------------------------------
    def _adjoint_text(self, node: Expr) -> str:
        watcher = self.watcher
        if watcher is None or node not in self.dependent:
            return ""
        if node is self.root:
            return "∂ℓ/∂ℓ = 1"
        if node in watcher.gradient:
            return f"∂ℓ/∂{self.text(node)} = {self.written(watcher.gradient[node])}"
        let = self.name_of.get(node, node)
        if let in watcher.named:
            delta, value = watcher.named[let]
            return f"{self.text(delta)} = {self.written(value)}"
        if node in watcher.adjoint:
            return f"adjoint {self.written(watcher.adjoint[node])}"
        return ""

    def _rule(self, node: Expr, index: int) -> str:
        """The rule that passes ``node``'s adjoint to argument ``index``: the node's pullback applied
        to stand-ins.  A linear or bilinear operation gets the identity G : AB = AᵀG : B; a nonlinear
        one the differential G : d(σ(x)) = (G ⊙ σ'(x)) : dx; one with a scalar value its
        differential alone, d(log det(A)) = A⁻ᵀ : dA (the incoming scalar g multiplies it)."""
        if isinstance(node, Let):
            return "a named intermediate passes its adjoint to its definition"
        taken: Counter = Counter()
        stand_ins = []
        for child in node.args:
            k, pool = taken[variable_kind(child)], self.letters[variable_kind(child)]
            stand_ins.append(placeholder(child, pool[k % len(pool)] + ("" if k < len(pool) else str(k))))
            taken[variable_kind(child)] += 1
        generic = make(type(node), tuple(stand_ins), node.params)
        try:
            if node.is_scalar:
                share = Simplifier()(generic.pullback(index, make(Const, (), (1,))))
                return f"{self.text(_d(generic))} = {self.colon(share, _d(stand_ins[index]))}"
            g = placeholder(node, "G")
            share = Simplifier()(generic.pullback(index, g))
            if node.family in ("linear", "bilinear"):
                return f"{self.colon(g, generic)} = {self.colon(share, stand_ins[index])}"
            return f"{self.colon(g, _d(generic))} = {self.colon(share, _d(stand_ins[index]))}"
        except MatcalcError:  # stand-ins that do not fit the operation's own rules: its rule in words
            return node.why.split(" — ")[0]

    # --- collapsing repeated layers ----------------------------------------------------------------
    def _edges(self) -> list:
        """(tail, head, argument index) for every drawn arrow: head's argument ``index`` is drawn as tail."""
        if self._edge_list is not None:
            return self._edge_list
        out = []
        for node in self.all:
            if node in self.merged or _is_constant_leaf(node):
                continue
            for index, child in enumerate(node.args):
                if _is_constant_leaf(child):
                    continue
                out.append((self.rep(child), node, index))
        self._edge_list = [(tail, head, index) for tail, head, index in out if tail is not head]
        return self._edge_list

    def _collapse(self) -> tuple[set, str]:
        if len(self.drawn) <= self.limit:
            return set(), ""
        depth = {self.root: 0}
        children: dict = {}
        for tail, head, _ in self._edges():
            children.setdefault(head, []).append(tail)
        for node in reversed(self.drawn):  # parents before their arguments
            for child in children.get(node, []):
                depth[child] = max(depth.get(child, 0), depth.get(node, 0) + 1)
        levels: dict = {}
        for node in self.drawn:
            levels.setdefault(depth.get(node, 0), []).append(node)
        signature = [tuple(sorted(self._title(n).split(",")[0] for n in levels.get(d, []))) for d in range(max(levels) + 1)]
        hidden_levels, description = self._periodic_middle(signature, levels)
        hidden = {n for d in hidden_levels for n in levels[d]}
        drawn_parents: dict = {}
        for tail, head, _ in self._edges():
            drawn_parents.setdefault(tail, set()).add(head)
        for node in self.drawn:  # a leaf stays with a drawn user; one used only in the middle goes
            users = drawn_parents.get(node, set())
            if not node.args and users:
                if users - hidden:
                    hidden.discard(node)
                else:
                    hidden.add(node)
        if not hidden:
            return set(), ""
        kinds = Counter(self._title(n).split(",")[0] for n in hidden)
        variables = sorted((n for n in hidden if isinstance(n, Symbol)), key=lambda n: -depth.get(n, 0))
        names = [self.text(n) for n in variables]
        span = f"; {names[0]} … {names[-1]}" if len(names) > 1 else ""
        contents = ", ".join(f"{name} ×{count}" for name, count in kinds.most_common())
        note = f"{description} ({len(hidden)} nodes: {contents}{span}) drawn as one box, as the picture has more than {self.limit} nodes"
        return hidden, note

    def _periodic_middle(self, signature: list, levels: dict) -> tuple[list, str]:
        """The middle levels to hide: whole periods of a repeating run of levels where there is one."""
        best = None
        for period in range(1, 9):
            start = None
            for d in range(len(signature) - period + 1):
                repeats = d + period < len(signature) and signature[d] == signature[d + period]
                if repeats and start is None:
                    start = d
                if not repeats and start is not None:
                    covered = d + period - start  # levels start .. d + period − 1
                    if best is None or covered > best[2] or (covered == best[2] and period < best[0]):
                        best = (period, start, covered)
                    start = None
        budget = self.limit
        count = {d: len(nodes) for d, nodes in levels.items()}
        if best is not None and best[2] // best[0] >= 4:
            period, start, covered = best
            repetitions = covered // period
            for keep in range(repetitions // 2, 0, -1):
                middle = range(start + keep * period, start + (repetitions - keep) * period)
                if len(middle) >= 2 * period and sum(count.values()) - sum(count[d] for d in middle) <= budget:
                    layers = len(middle) // period
                    return list(middle), f"{layers} repeated layers"
            middle = range(start + period, start + (repetitions - 1) * period)
            return list(middle), f"{len(middle) // period} repeated layers"
        # no repetition: the middle levels, keeping about half the budget at each end
        total, d = 0, 0
        while d in count and total + count[d] <= budget // 2:
            total += count[d]
            d += 1
        first = d
        total, d = 0, max(count)
        while d > first and total + count[d] <= budget // 2:
            total += count[d]
            d -= 1
        rest = list(range(first, d + 1))
        return rest, f"{len(rest)} levels" if rest else ""

    # --- numbers ----------------------------------------------------------------------------------
    def _bind(self, values: dict) -> tuple[dict, dict]:
        """values as evaluate reads them: checked arrays by symbol (a label names a symbol when it
        is unique), sizes by dimension, with the sizes the arrays fix added (for 𝟏/2, say)."""
        return given_values(values, [node for node in self.all if isinstance(node, Symbol)])

    def _adjoint_expression(self, watcher: _Watcher, node: Expr):
        """The expression of node's adjoint, or None where it has none (the loss's own is 1)."""
        if node in watcher.gradient:
            return watcher.gradient[node]
        let = self.name_of.get(node, node)
        return watcher.named[let][0] if let in watcher.named else watcher.adjoint.get(node)

    def _numbers(self, values: dict) -> dict:
        arrays, sizes = self._bind(values)

        def number(expr: Expr):
            needed = {s: arrays[s] for s in postorder([expr]) if isinstance(s, Symbol) and s in arrays}
            return np.atleast_2d(np.asarray(evaluate(expr, {**sizes, **needed}), dtype=float))

        out: dict = {}
        if self.watcher is not None:
            for delta, value in self.watcher.named.values():  # loss side first: each δ uses those before
                arrays[delta] = number(value)
        for node in self.drawn:
            if node in self.hidden:
                continue
            adjoint = None
            if self.watcher is not None and node in self.dependent:
                source = None if node is self.root else self._adjoint_expression(self.watcher, node)
                adjoint = np.ones((1, 1)) if node is self.root else None if source is None else number(source)
            out[node] = (number(node), adjoint)
        return out

    # --- output -------------------------------------------------------------------------------------
    def drawing(self) -> Drawing:
        nodes = []
        for node in self.drawn:
            if node in self.hidden:
                continue
            kind = ("loss" if node is self.root and self.derivation is not None else
                    "variable" if isinstance(node, Symbol) and (self.derivation is None or node in self.dependent) else
                    "leaf" if isinstance(node, Symbol) else "named" if node in self.name_of or isinstance(node, Let) else "op")
            box = Node(self.ids[node], node, self._title(node), self._label_text(node), _shape(node),
                       self._adjoint_text(node), kind=kind)
            if self.values is not None:
                value, adjoint = self.values[node]
                box.value = "value " + _magnitude(value)
                box.adjoint_value = "" if adjoint is None else "adjoint " + _magnitude(adjoint)
            nodes.append(box)
        edges, seen = [], set()
        middle = "collapsed"
        for tail, head, index in self._edges():
            hidden_tail, hidden_head = tail in self.hidden, head in self.hidden
            if hidden_tail and hidden_head:
                continue
            if hidden_tail or hidden_head:
                key = (middle if hidden_tail else self.ids[tail], middle if hidden_head else self.ids[head])
                if key not in seen:
                    seen.add(key)
                    edges.append(Edge(key[0], key[1], collapsed=True))
                continue
            edge = Edge(self.ids[tail], self.ids[head])
            if self.watcher is not None and (head, index) in self.watcher.share:
                edge.rule = self._rule(head, index)
                edge.share = self.written(self.watcher.share[(head, index)])
            edges.append(edge)
        return Drawing(self._dot(nodes, edges), nodes, edges, self.note)

    def _dot(self, nodes: list, edges: list) -> str:
        if self.derivation is not None:
            variables = self.derivation.variables
            names = ", ".join(f"∂ℓ/∂{self.text(v)}" for v in variables[:3])
            names += f", … ({len(variables)} variables)" if len(variables) > 3 else ""
            title = (f"{_escape(names)}: the arrows compute forward<BR/>in red, each node's adjoint ∂ℓ/∂(node), "
                     "passed back against the arrows by the rule on each edge")
        else:
            title = "the expression as a DAG: each node once, with its operation and shape"
        lines = [
            "digraph matcalc {",
            f'  graph [rankdir={self.direction}, fontname="{_FONT}", fontsize=12, labelloc=t, '
            f"nodesep=0.25, ranksep=0.4, label=<{title}>];",
            f'  node [shape=box, style="rounded,filled", fontname="{_FONT}", fontsize=11, margin="0.1,0.05", color="#64748b"];',
            f'  edge [fontname="{_FONT}", fontsize=9, color="#475569", arrowsize=0.7];',
        ]
        for box in nodes:
            lines.append(f'  {box.id} [label=<{_node_label(box)}>, fillcolor="{_FILL[box.kind]}"];')
        if self.hidden:
            lines.append(f'  collapsed [label=<{_wrapped("⋯ " + self.note, 60, 4)}>, shape=box, style="dashed", '
                         'fontcolor="#475569", fontsize=10];')
        for edge in edges:
            attributes = []
            if edge.collapsed:
                attributes.append('style="dashed"')
            elif edge.rule:
                label = (f'<FONT COLOR="#475569">{_wrapped(edge.rule)}</FONT><BR/>'
                         f'<FONT COLOR="{_ADJOINT}">{_wrapped("← " + edge.share)}</FONT>')
                attributes.append(f"label=<{label}>")
            suffix = f" [{', '.join(attributes)}]" if attributes else ""
            lines.append(f"  {edge.tail} -> {edge.head}{suffix};")
        lines.append("}")
        return "\n".join(lines) + "\n"


def _indexed(label: str, prefix: str) -> bool:
    return label.startswith(prefix) and label[len(prefix):].lstrip("_").isdigit()


def _magnitude(array: np.ndarray) -> str:
    if array.size == 1:
        return f"{float(array.reshape(-1)[0]):.4g}"
    return f"{array.shape[0]}×{array.shape[1]}, norm {np.linalg.norm(array):.4g}"


def _escape(text: str) -> str:
    """Text for a graphviz HTML-like label: markup characters as entities, and an invisible word
    joiner (U+2060) after each backslash, as graphviz would read \\N in a label as the node's id."""
    return html.escape(text, quote=True).replace("\\", "\\\u2060")


def _wrapped(text: str, width: int = _LINE, most: int = _LINES) -> str:
    """Escaped text broken into lines of about ``width`` characters, at most ``most`` of them."""
    lines: list[str] = []
    rest = text
    while rest and len(lines) < most:
        if len(rest) <= width:
            lines.append(rest)
            rest = ""
            break
        cut = rest.rfind(" ", width // 2, width)
        cut = width if cut < 0 else cut
        lines.append(rest[:cut])
        rest = rest[cut:].lstrip(" ")
    if rest:
        lines[-1] = lines[-1][: width - 1] + "…"
    return "<BR/>".join(_escape(line) for line in lines)


def _node_label(box: Node) -> str:
    rows = [
        f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="9" COLOR="#64748b">{_escape(box.title)}</FONT></TD>'
        f'<TD WIDTH="8"></TD><TD ALIGN="RIGHT"><FONT POINT-SIZE="9" COLOR="#64748b">{_escape(box.shape)}</FONT></TD></TR>',
        f'<TR><TD COLSPAN="3"><B>{_wrapped(box.text)}</B></TD></TR>',
    ]
    if box.value:
        rows.append(f'<TR><TD COLSPAN="3"><FONT POINT-SIZE="9">{_escape(box.value)}</FONT></TD></TR>')
    if box.adjoint:
        rows.append(f'<TR><TD COLSPAN="3"><FONT COLOR="{_ADJOINT}">{_wrapped(box.adjoint)}</FONT></TD></TR>')
    if box.adjoint_value:
        rows.append(f'<TR><TD COLSPAN="3"><FONT POINT-SIZE="9" COLOR="{_ADJOINT}">{_escape(box.adjoint_value)}</FONT></TD></TR>')
    return '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">' + "".join(rows) + "</TABLE>"
