"""What a picture shows, as plain data: a box per graph node and a wire per edge, for each view.

A scene reads a Derivation (names, definitions, local partials, adjoints, values, the
chain-rule paths) and never redoes algebra; turning boxes and wires into DOT is
render.py's business, so every view gets every theme and style for free.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import sympy as sp

from symgraph import ops
from symgraph.engine.graph import Operand, is_node
from symgraph.errors import InputError
from symgraph.explain.printing import unicode
from symgraph.explain.steps import MAX_PATHS, chain, count_paths, paths
from symgraph.explain.tensor_steps import term as tensor_term
from symgraph.notation import number, partial_text, pretty_name
from symgraph.output.view import DerivationView

__all__ = ["Row", "Box", "Wire", "Scene", "Cluster", "VIEWS", "scene"]

VIEWS = ("forward", "backward", "combined", "symbolic")

#: A sum with more terms than this shows its first and last ones.
MAX_TERMS = 6

#: Significant digits of the numbers in a picture: enough to check by hand, short enough for a slide.
DIGITS = 4
#: Tensors: fewer digits per entry; a vector of up to MAX_VECTOR entries is written out, a matrix of up to
#: MAX_MATRIX rows and columns is drawn as a matrix, anything larger as the range of its entries.
TENSOR_DIGITS, MAX_VECTOR, MAX_MATRIX = 3, 8, 6


@dataclass(frozen=True)
class Row:
    """One line of a label in two columns, so that the '=' signs line up: `lead` `rest`."""

    lead: str
    rest: str
    role: str = "text"  # text | value | gradient | hidden (kept in place, so frames share one layout)
    path: int | None = None  # a highlighted path's index: the row takes its colour
    matrix: tuple[tuple[str, ...], ...] | None = None  # a small matrix value, drawn in brackets; `rest` says it in text


@dataclass
class Box:
    node: int
    kind: str  # input | forward | output | gradient
    name: str
    definition: str | None  # the right-hand side, 'c + d'; None for an input
    op: str | None  # the op's label from the registry, for the bipartite style
    operands: tuple[int | str, ...]  # in order: node ids, and constants as text (the bipartite style draws both)
    rows: list[Row] = field(default_factory=list)  # what follows the title: values, adjoints, roles
    muted: bool = False
    current: bool = False  # the adjoint this animation frame reveals
    paths: tuple[int, ...] = ()
    shape: str | None = None  # a tensor node's shape after its name: ℝ^3, ℝ^(3×2)


@dataclass
class Wire:
    source: int
    target: int
    backward: bool = False  # the arrow points from target to source
    role: str = "line"  # line | gradient | muted
    label: Row | None = None
    current: bool = False
    paths: tuple[int, ...] = ()


@dataclass(frozen=True)
class Cluster:
    """A named sub-graph (a layer, a time step) drawn as a labelled frame around its boxes."""

    label: str
    nodes: tuple[int, ...]


@dataclass
class Scene:
    boxes: list[Box]
    wires: list[Wire]
    legend: list[Row] = field(default_factory=list)
    path_count: int = 0
    clusters: list[Cluster] = field(default_factory=list)


def scene(
    d: DerivationView, view: str, highlight: str | None = None, revealed: int | None = None,
    clusters: Mapping[str, Sequence[str]] | None = None, collapse: bool = False,
) -> Scene:
    """The scene of one view; `revealed` = k shows only the first k adjoints of the sweep (a frame);
    `clusters` maps a label to the names of a sub-graph (symgraph.layers sets `d.clusters`);
    `collapse` keeps only the boxes of the program's names (see `_collapse`)."""
    if view not in VIEWS:
        raise InputError(f"--view {view}: unknown view; views: {', '.join(VIEWS)}")
    if view == "combined" and d.values is None:
        raise InputError("--view combined shows numbers: give every input a value, e.g. --at x=0.5")
    if collapse and view == "symbolic":
        raise InputError("--collapse keeps the program's names, and the symbolic view is the nodes added to them: "
                         "collapse the forward, backward or combined view")
    if collapse and revealed is not None:
        raise InputError("--frames steps through every node of the sweep: drop --collapse")
    _Scene = {"forward": _Forward, "backward": _Backward, "combined": _Combined, "symbolic": _Symbolic}[view]
    built = (_Scene(d, revealed).collapsed if collapse else _Scene(d, revealed).build)()
    if highlight is not None:
        _highlight(d, built, highlight)
    if clusters:
        built.clusters = _clusters(d, clusters, {box.node for box in built.boxes})
    return built


class _Forward:
    """Inputs, intermediates and the output, each with its definition (and value); plain forward wires."""

    kinds: tuple[str, ...] = ("input", "forward")

    def __init__(self, d: DerivationView, revealed: int | None):
        self.d, self.graph = d, d.graph
        self.sweep = d.gradients.order if revealed is None else d.gradients.order[:revealed]
        self.revealed = set(self.sweep)
        self.current = self.sweep[-1] if revealed else None
        self.roles = _roles(d)
        self.names = _display_names(d, self.roles)
        self.upstream = self.graph.ancestors_within(d.output, self.graph.nodes("input")) | {d.output}
        self.tensor = d.is_tensor

    def build(self) -> Scene:
        boxes = [self.box(node) for node in self.graph.nodes(*self.kinds)]
        drawn = {box.node for box in boxes}
        wires = [self.wire(u, v) for u, v in sorted(self.graph.dag.edges) if u in drawn and v in drawn]
        return Scene(boxes, wires)

    def collapsed(self) -> Scene:
        """Only the boxes of the program's own names: each is defined in terms of the named values it reads,
        the unnamed steps between them folded into that definition (h₁ = tanh(b + h₀·w), not three boxes).
        Its wires span those steps, so they carry no local partial; the boxes keep values and adjoints."""
        keep = {node for node in self.graph.nodes(*self.kinds) if kept_when_collapsed(self.d, node)}
        boxes, wires = [], []
        for node in sorted(keep):
            box = self.box(node, rows=self.collapsed_rows(node))
            if box.kind != "input":
                # a scalar program folds in display names at once: rebuilding tanh(…) costs SymPy a millisecond
                symbol = self.graph.symbol if self.tensor else lambda n: sp.Symbol(self.names[n])
                expr, read = _folded(self.graph, node, keep, symbol)
                box.definition, box.op, box.operands = self.show(expr, read if self.tensor else ()), None, ()
                wires += [self.plain_wire(source, node) for source in read]
            boxes.append(box)
        return Scene(boxes, sorted(wires, key=lambda wire: (wire.source, wire.target)))

    def box(self, node: int, rows: list[Row] | None = None) -> Box:
        data = self.graph[node]
        op = ops.get(data["op"]) if data["op"] else None
        kind = "output" if node == self.d.output else data["kind"]
        return Box(
            node,
            kind,
            self.names[node],
            self.definition(node) if op and rows is None else None,
            op.text if op else None,
            tuple(o if is_node(o) else unicode(o) for o in data["operands"]),
            self.rows(node) if rows is None else rows,
            muted=self.muted(node),
            current=node == self.current,
            shape=_shape_label(self.graph.shape(node)) if self.tensor else None,
        )

    def definition(self, node: int) -> str:
        operands = self.graph.operands(node)
        if len(operands) > MAX_TERMS:  # a loss summed over 1,000 steps: the sum's shape, not 1,000 terms
            shown = [self.show(self.graph.operand_expr(o), [o] if is_node(o) else []) for o in operands]
            op = ops.get(self.graph[node]["op"]).text
            return f" {op} ".join([*shown[: MAX_TERMS - 2], "…", shown[-1]]) + f"  ({len(operands):,} terms)"
        return self.show(self.graph.expr(node), [o for o in operands if is_node(o)])

    def show(self, expr: sp.Expr, nodes: Iterable[int]) -> str:
        """An expression over the symbols of `nodes`, written with their display names."""
        symbols = {self.graph.symbol(n): sp.Symbol(self.names[n]) for n in nodes}
        if self.tensor:  # the printer asks for shapes (⊙ between tensors) in the graph's own symbols
            back = {shown: symbol for symbol, shown in symbols.items()}
            shapes = lambda expr: self.graph.expr_shape(expr.xreplace(back))  # noqa: E731
            return unicode(expr.xreplace(symbols), self.d.conventions.relu_at_zero, shapes)
        return unicode(expr.xreplace(symbols), self.d.conventions.relu_at_zero)

    def rows(self, node: int) -> list[Row]:
        return self.value_rows(node)

    def value_rows(self, node: int) -> list[Row]:
        if self.tensor:
            return _tensor_rows(self.d, node, self.graph.shape(node), "value")
        value = _number(self.d, node)
        return [Row("", f"= {value}", "value")] if value is not None else []

    def adjoint_value_rows(self, node: int) -> list[Row]:
        """∂y/∂u = its value (no sum): the combined view's lower half and the collapsed backward view."""
        if node not in self.d.gradients.adjoint:
            return []
        lead = _partial(self.d, self.d.output, node)
        if self.tensor:
            rows = _tensor_rows(self.d, self.d.gradients.adjoint[node], self.graph.shape(node), "gradient")
            return self.unless_revealed(node, [replace(row, lead=lead if i == 0 else "") for i, row in enumerate(rows)])
        value = _number(self.d, self.d.gradients.adjoint[node])
        return self.unless_revealed(node, [Row(lead, f"= {value}", "gradient")])

    def collapsed_rows(self, node: int) -> list[Row]:
        """A box's rows in the collapsed view, where the steps between named values are not drawn."""
        return self.value_rows(node)

    def muted(self, node: int) -> bool:
        return node not in self.upstream

    def wire(self, u: int, v: int) -> Wire:
        return self.plain_wire(u, v)

    def plain_wire(self, u: int, v: int) -> Wire:
        """A wire without a label, in this view's direction (the collapsed view's wires span several steps)."""
        return Wire(u, v, role="muted" if self.muted(v) else "line")

    # --- the backward pass, shared by the views that show it -------------------------------------
    def adjoint_rows(self, u: int) -> list[Row]:
        """∂y/∂u as the sum over u's children in the sweep, one term a line, then its value. A term is
        ∂y/∂v·∂v/∂u in a scalar program; in a tensor program it is v's rule in matrix notation (Wᵀ ∂L/∂z)."""
        if u not in self.d.gradients.adjoint:
            return []
        d, out = self.d, self.d.output
        lhs = _partial(d, out, u)
        if u == out:
            return [Row(lhs, "= 1", "gradient")]
        children = [v for v in sorted(self.graph.dag.successors(u)) if _on_sweep(d, v, u)]
        terms = [self.term_text(v, u) if self.tensor else self.chain_term(v, u) for v in children]
        if len(terms) > MAX_TERMS:  # a weight shared by 100 steps: the sum's shape, not 100 lines
            terms = [*terms[: MAX_TERMS - 2], f"… ({len(terms) - MAX_TERMS + 1} more)", terms[-1]]
        rows = [Row(lhs, f"= {terms[0]}", "gradient")]
        rows += [Row("", f"− {t[1:]}" if t.startswith("−") else f"+ {t}", "gradient") for t in terms[1:]]
        if self.tensor:
            value = _tensor_rows(d, d.gradients.adjoint[u], self.graph.shape(u), "gradient")
        else:
            number_ = _number(d, d.gradients.adjoint[u])
            value = [Row("", f"= {number_}", "gradient")] if number_ is not None else []
        if [row.rest for row in value] != [row.rest for row in rows]:
            rows += value
        return self.unless_revealed(u, rows)

    def term_text(self, v: int, u: int) -> str:
        """v's term of ∂L/∂u in a tensor program, with ∂L/∂v as a symbol: the op's vector-Jacobian rule."""
        expr = tensor_term(self.graph, self.d.gradients, v, u)
        return unicode(expr, self.d.conventions.relu_at_zero, self.graph.expr_shape)

    def unless_revealed(self, u: int, rows: list[Row]) -> list[Row]:
        """Rows of an adjoint a frame has not reached yet stay, invisible, so every frame has the same layout."""
        return rows if u in self.revealed else [replace(row, role="hidden") for row in rows]

    def chain_term(self, v: int, u: int) -> str:
        """∂y/∂v·∂v/∂u; next to the output, ∂y/∂y = 1 drops and the local partial is written out."""
        if v == self.d.output:
            return self.local_text(v, u)
        return f"{_partial(self.d, self.d.output, v)}·{_partial(self.d, v, u)}"

    def local_text(self, v: int, u: int) -> str:
        """∂v/∂u in v's own names, as the registry writes it (∂d/∂x = d·(1 − d))."""
        local = self.d.gradients.local[(v, u)]
        if self.tensor:
            return unicode(local, self.d.conventions.relu_at_zero, self.graph.expr_shape)
        return unicode(local.xreplace(self.symbols_of(v)), self.d.conventions.relu_at_zero)

    def symbols_of(self, v: int) -> dict[sp.Symbol, sp.Symbol]:
        nodes = [v, *(o for o in self.graph.operands(v) if is_node(o))]
        return {self.graph.symbol(n): sp.Symbol(self.names[n]) for n in nodes}

    def local_wire(self, u: int, v: int, backward: bool, role: str) -> Wire:
        """An edge of the sweep labelled with ∂v/∂u once u's adjoint is revealed."""
        if self.tensor and (v, u) in self.d.gradients.vjp:  # a tensor op: its rule, ∂L/∂v put through it
            (label,) = self.unless_revealed(u, [Row("", self.term_text(v, u), "gradient")])
            return Wire(u, v, backward, role if u in self.revealed else "muted", label, current=u == self.current)
        if (v, u) not in self.d.gradients.local:
            return Wire(u, v, backward, "muted")
        if self.tensor:
            return self.tensor_local_wire(u, v, backward, role)
        text, value = self.local_text(v, u), _number(self.d, self.d.gradients.local_node[(v, u)])
        shown = text if value is None or self.d.gradients.local[(v, u)].is_number else f"{text} = {value}"
        (label,) = self.unless_revealed(u, [Row(_partial(self.d, v, u, total=False), f"= {shown}", "gradient")])
        return Wire(u, v, backward, role if u in self.revealed else "muted", label, current=u == self.current)

    def tensor_local_wire(self, u: int, v: int, backward: bool, role: str) -> Wire:
        """An elementwise edge of a tensor program: ∂v/∂u = its local derivative, entry by entry, and its value."""
        local = self.d.gradients.local[(v, u)]
        text = self.local_text(v, u)
        # a number or a short vector; a matrix on a wire would be unreadable, and the boxes carry it
        value = None if local.is_number else _inline(self.d, self.d.gradients.local_node[(v, u)], self.graph.shape(v), False)
        shown = text if value is None else f"{text} {value}"
        (label,) = self.unless_revealed(u, [Row(_partial(self.d, v, u, total=False), f"= {shown}", "gradient")])
        return Wire(u, v, backward, role if u in self.revealed else "muted", label, current=u == self.current)


class _Backward(_Forward):
    """The same boxes with every adjoint as the sum over children; wires point back, labelled ∂v/∂u."""

    def rows(self, node: int) -> list[Row]:
        return self.adjoint_rows(node)

    def collapsed_rows(self, node: int) -> list[Row]:
        return self.adjoint_value_rows(node)

    def muted(self, node: int) -> bool:
        return node not in self.d.gradients.adjoint

    def wire(self, u: int, v: int) -> Wire:
        return self.local_wire(u, v, backward=True, role="gradient")

    def plain_wire(self, u: int, v: int) -> Wire:
        return Wire(u, v, backward=True, role="muted" if self.muted(v) else "gradient")


class _Combined(_Backward):
    """Forward values above, gradients below, in two colours: the classic backprop diagram."""

    def rows(self, node: int) -> list[Row]:
        return self.value_rows(node) + self.adjoint_value_rows(node)

    def collapsed_rows(self, node: int) -> list[Row]:
        return self.rows(node)

    def wire(self, u: int, v: int) -> Wire:
        return self.local_wire(u, v, backward=False, role="line")

    def plain_wire(self, u: int, v: int) -> Wire:
        return Wire(u, v, role="line")


class _Symbolic(_Forward):
    """The extended graph: the forward nodes plus every node the reverse sweep added."""

    kinds = ("input", "forward", "gradient")

    def rows(self, node: int) -> list[Row]:
        roles = self.roles.get(node, [])
        if self.graph[node]["kind"] == "gradient":
            roles = roles[1:]  # the first one is the box's name
        return [Row("", f"= {role}", "gradient") for role in roles] + self.value_rows(node)

    def muted(self, node: int) -> bool:
        return False

    def wire(self, u: int, v: int) -> Wire:
        return Wire(u, v, role="gradient" if self.graph[v]["kind"] == "gradient" else "line")


def kept_when_collapsed(d: DerivationView, node: int) -> bool:
    """The collapsed view keeps the inputs, the names the program assigns and the output."""
    data = d.graph[node]
    return data["kind"] == "input" or data["user_named"] or node == d.output


def _folded(graph, node: int, keep: set[int], symbol) -> tuple[sp.Expr, set[int]]:
    """The node's expression over the kept nodes it reads (as `symbol` writes them), with the unnamed nodes
    between written out."""
    memo: dict[int, sp.Expr] = {}
    read: set[int] = set()

    def written(operand: Operand) -> sp.Expr:
        if not is_node(operand):
            return operand
        if operand in keep and operand != node:
            read.add(operand)
            return symbol(operand)
        if operand not in memo:
            data = graph[operand]
            memo[operand] = ops.get(data["op"]).build(*(written(o) for o in data["operands"]))
        return memo[operand]

    return written(node), read


def _number(d: DerivationView, operand: Operand) -> str | None:
    """The operand's value for a picture, or None without values (or off the evaluated part)."""
    if d.values is None or (is_node(operand) and operand not in d.values):
        return None
    return number(d.value(operand), DIGITS)


def _on_sweep(d: DerivationView, v: int, u: int) -> bool:
    return (v, u) in d.gradients.local or (v, u) in d.gradients.vjp


def _shape_label(shape: tuple[int, ...]) -> str | None:
    """ℝ^3 for a vector, ℝ^(3×2) for a matrix (the drawing makes them superscripts); nothing for a scalar."""
    if not shape:
        return None
    return f"∈ ℝ^{shape[0]}" if len(shape) == 1 else f"∈ ℝ^({'×'.join(map(str, shape))})"


def _tensor_value(d: DerivationView, operand: Operand, shape: tuple[int, ...]) -> np.ndarray | None:
    """The operand's value in the node's shape (an adjoint may be a scalar spread over it), or None."""
    if d.values is None or (is_node(operand) and operand not in d.values):
        return None
    value = np.asarray(d.value(operand), dtype=float)
    return np.broadcast_to(value, shape) if value.shape != tuple(shape) and value.ndim == 0 else value


def _entries(value: np.ndarray) -> str:
    return "[" + ", ".join(number(x, TENSOR_DIGITS) for x in value) + "]"


def _summary(value: np.ndarray) -> str:
    """A larger tensor by the range of its entries ('= 1' when they are all equal)."""
    low, high = number(value.min(), TENSOR_DIGITS), number(value.max(), TENSOR_DIGITS)
    return f"= {low}" if low == high else f"entries {low} … {high}"


def _inline(d: DerivationView, operand: Operand, shape: tuple[int, ...], summarise: bool = True) -> str | None:
    """A value on one line, '= …': a number, a short vector, else the range of its entries (None unless `summarise`)."""
    value = _tensor_value(d, operand, shape)
    if value is None:
        return None
    if value.ndim == 0:
        return f"= {number(value, DIGITS)}"
    if value.ndim == 1 and value.size <= MAX_VECTOR:
        return f"= {_entries(value)}"
    return _summary(value) if summarise else None


def _tensor_rows(d: DerivationView, operand: Operand, shape: tuple[int, ...], role: str) -> list[Row]:
    """Value rows of a tensor program's node: a number, a vector, a matrix in brackets, or a range."""
    value = _tensor_value(d, operand, shape)
    if value is None:
        return []
    if value.ndim == 2 and max(value.shape) <= MAX_MATRIX:
        cells = tuple(tuple(number(x, TENSOR_DIGITS) for x in row) for row in value)
        return [Row("", "= [" + ", ".join(_entries(row) for row in value) + "]", role, matrix=cells)]
    return [Row("", _inline(d, operand, shape), role)]


def _clusters(d: DerivationView, named: Mapping[str, Sequence[str]], drawn: set[int]) -> list[Cluster]:
    """Each label's nodes: those of its names, and the unnamed nodes whose readers all lie in it (z = W x + b
    makes W x a node of its own, which belongs to the layer). A node named in two clusters stays in the first."""
    graph, owner = d.graph, {}
    for index, (label, names) in enumerate(named.items()):
        for name in names:
            if name not in graph.names:
                raise InputError(f"cluster {label!r}: {name} is not a name of the program")
            node = graph.names[name]
            if is_node(node):
                owner.setdefault(node, index)
    for node in reversed(list(graph.nodes("forward"))):
        if node in owner or graph[node]["user_named"]:
            continue
        readers = {owner.get(v) for v in graph.dag.successors(node) if graph[v]["kind"] != "gradient"}
        if len(readers) == 1 and None not in readers:
            owner[node] = readers.pop()
    found = [
        Cluster(str(label), tuple(sorted(n for n, i in owner.items() if i == index and n in drawn)))
        for index, label in enumerate(named)
    ]
    return [cluster for cluster in found if cluster.nodes]


def _partial(d: DerivationView, of: Operand, by: int, total: bool = True) -> str:
    """∂of/∂by; d/d for the derivative of the output by the only input, as in the steps."""
    graph = d.graph
    whole = total and d.total and of == d.output and graph[by]["kind"] == "input"
    return partial_text(graph.label(of), graph.label(by), whole)


def _roles(d: DerivationView) -> dict[int, list[str]]:
    """node → what it holds for the sweep: adjoints ∂y/∂u first (output end first), then local partials."""
    roles: dict[int, list[str]] = {}
    found = [(d.gradients.adjoint[u], _partial(d, d.output, u)) for u in d.gradients.order]
    found += [(node, _partial(d, v, u, total=False)) for (v, u), node in sorted(d.gradients.local_node.items())]
    for operand, role in found:
        if is_node(operand) and role not in roles.setdefault(operand, []):
            roles[operand].append(role)
    return roles


def _display_names(d: DerivationView, roles: dict[int, list[str]]) -> dict[int, str]:
    """The user's names for the program's nodes; a role (∂y/∂a) or a fresh t₁, t₂ … for added nodes."""
    graph = d.graph
    names, fresh = {}, (f"t{k}" for k in range(1, len(graph) + 1) if f"t{k}" not in graph.names)
    for node in graph.nodes():
        data = graph[node]
        if data["kind"] != "gradient":
            names[node] = ", ".join(pretty_name(n) for n in (data["name"], *data["aliases"]))
        else:
            names[node] = roles[node][0] if node in roles else pretty_name(next(fresh))
    return names


def _highlight(d: DerivationView, built: Scene, name: str) -> None:
    """Colour the paths from input `name` to the output, in the order of the chain-rule sum."""
    if name not in d.inputs:
        raise InputError(f"--highlight {name}: not an input of the program; inputs: {', '.join(d.inputs)}")
    source, out = d.inputs[name], d.output
    within = d.graph.ancestors_within(out, [source])
    count = count_paths(d.graph, source, out, within) if within else 0
    if count == 0:
        raise InputError(f"--highlight {name}: {pretty_name(name)} does not reach {pretty_name(d.output_name)}")
    lhs = _partial(d, out, source)
    if count > MAX_PATHS:  # listing them would be the exponential blow-up the sweep avoids
        on = {node: (0,) for node in within}
        edges = {(w.source, w.target): (0,) for w in built.wires if w.source in within and w.target in within}
        built.legend = [Row(lhs, f": {count:,} paths from {pretty_name(name)}, summed node by node", path=0)]
        count = 1
    else:
        found = paths(d.graph, source, out, within)
        on = {node: tuple(i for i, p in enumerate(found) if node in p) for node in within}
        edges, drawn = {}, {box.node for box in built.boxes}
        for i, path in enumerate(found):
            shown = [node for node in path if node in drawn]  # the collapsed view draws named nodes only
            for edge in zip(shown, shown[1:]):
                edges[edge] = edges.get(edge, ()) + (i,)
        built.legend = [
            Row(lhs if i == 0 else "", f"{'=' if i == 0 else '+'} {_chain(d, path)}", path=i) for i, path in enumerate(found)
        ]
    built.path_count = count
    for box in built.boxes:
        box.paths = on.get(box.node, ())
    for wire in built.wires:
        wire.paths = edges.get((wire.source, wire.target), ())


def _chain(d: DerivationView, path: list[int]) -> str:
    """The term of one path in the chain-rule sum, written as the steps write it."""
    return chain(d.graph, path)[1]
