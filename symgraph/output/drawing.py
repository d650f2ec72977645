"""A scene as DOT text through the graphviz package: colours, shapes and HTML-like labels in Unicode math.

The drawing knows themes and styles, not derivatives. The DOT is deterministic
(structural ids n12, sorted attributes, nodes and edges in id order), so the same input
gives the same bytes and gallery pictures do not churn; the ids are the SVG's too (wire_id).
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from dataclasses import replace

import graphviz

from symgraph import ops
from symgraph.errors import InputError, shorten
from symgraph.notation import one_line
from symgraph.output.scene_types import Box, Cluster, Row, Scene, Wire
from symgraph.output.themes import Theme, get_theme

__all__ = ["Drawing", "STYLES", "RANKDIRS", "DEFAULT_FONT", "DEFAULT_FONTSIZE", "COPIES", "wire_id"]

STYLES = ("values", "ops")  # named values (exam style) or the bipartite value/operation graph
RANKDIRS = ("LR", "TB")
DEFAULT_FONT = "DejaVu Sans"  # ships ∂, σ, ², ᵀ, ⊙ and the sub- and superscript digits
DEFAULT_FONTSIZE = 14
#: Above this many nodes, a wire longer than SPAN ranks is drawn as a copy of its source beside its target.
LARGE, SPAN = 100, 6
COPIES = "dashed boxes repeat a node drawn elsewhere, to keep long edges out of a large picture"
#: The longest text of a label's line; Graphviz refuses an HTML label over 16 KB, and nobody reads one.
MAX_TEXT = 400

_THIN = "&#8201;"  # between a name and its '=': the cell gap alone runs them together
_EN = "&#8194;"  # between the columns of a matrix
_SUP = re.compile(r"\^(\([^()]*\)|[^\s()·+−/=]+)")
#: W_hx → W<SUB>hx</SUB>, also in W_hxᵀ and W_hx²; a word that names an op (cross_entropy) keeps its underscore.
_SUB = re.compile(r"(?<=[^\W\d_])_([^\W_ᵀ⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+)")
_WORD = re.compile(r"[^\W\d]\w*")
#: A font name as Graphviz and fontconfig spell them ("DejaVu Sans", "Helvetica-Bold", "Noto Sans:bold"): no quote,
#: backslash, markup or control character, which would end the DOT string or the SVG attribute it is copied into.
_FONT = re.compile(r"[^\W_]([\w .,:;=+'()-]{0,98}[\w)])?")
_OP_WORDS = frozenset(word for op in ops.OPS.values() for word in (op.name, op.text) if "_" in word)


class Drawing:
    """Boxes and wires to DOT for one theme and style; knows colours and shapes, not derivatives."""

    def __init__(
        self, theme: str = "light", style: str = "values", rankdir: str = "LR", font: str = DEFAULT_FONT,
        fontsize: float = DEFAULT_FONTSIZE,
    ):
        for value, allowed, parameter in ((style, STYLES, "style"), (rankdir, RANKDIRS, "rankdir")):
            if value not in allowed:
                raise InputError(f"use one of {', '.join(allowed)}", parameter=parameter, value=value)
        if not _FONT.fullmatch(font):
            raise InputError("name a font in letters, digits, spaces and - . , : ; = + ' ( ), e.g. 'DejaVu Sans'",
                             parameter="font", value=font)
        if not 4 <= float(fontsize) <= 72:
            raise InputError("use a size from 4 to 72 points", parameter="fontsize", value=fontsize)
        self.theme: Theme = get_theme(theme)
        self.style, self.rankdir, self.font, self.fontsize = style, rankdir, font, float(fontsize)

    def draw(self, built: Scene) -> graphviz.Digraph:
        t, size = self.theme, _points(self.fontsize)
        self.scene = built
        self.boxes = {box.node: box for box in built.boxes}
        self.wires = {(wire.source, wire.target): wire for wire in built.wires}
        self.far = _long_wires(built) if len(built.boxes) > LARGE else set()
        self.backward = any(wire.backward for wire in built.wires)
        self.operations = {box.node for box in built.boxes if box.op is not None} if self.style == "ops" else set()
        frames = [self.frame(i, cluster) for i, cluster in enumerate(built.clusters)]
        self.holders = {node: frame for frame, cluster in zip(frames, built.clusters) for node in cluster.nodes}
        graph = graphviz.Digraph(
            "symgraph",
            graph_attr={
                "bgcolor": t.background, "rankdir": self.rankdir, "fontname": self.font, "fontsize": size,
                "fontcolor": t.text, "nodesep": "0.3", "ranksep": "0.45", "pad": "0.25",
            },
            node_attr={
                "shape": "box", "style": "rounded,filled", "fontname": self.font, "fontsize": size,
                "fontcolor": t.text, "color": t.line, "fillcolor": t.fill, "penwidth": "1.2", "margin": "0.12,0.06",
            },
            edge_attr={
                "color": t.line, "fontname": self.font, "fontsize": _points(self.fontsize * 0.85),
                "arrowsize": "0.7", "penwidth": "1.2",
            },
        )
        for box in built.boxes:
            self.box(graph, box)
        for frame in frames:  # after the boxes, so each cluster's body lists its own nodes, in id order
            graph.subgraph(frame)
        for wire in built.wires:
            if wire.target not in self.operations:  # those come with their operation, in operand order
                self.wire(graph, wire)
        legend = built.legend + ([Row("", COPIES)] if self.far else [])
        if legend:
            graph.graph_attr.update(label=self.table(legend, self.theme.background), labelloc="b", labeljust="l")
        return graph

    # --- clusters --------------------------------------------------------------------------------
    def frame(self, index: int, cluster: Cluster) -> graphviz.Digraph:
        """A labelled, rounded frame around a sub-graph (a layer, a time step); its nodes are put in by `holder`."""
        t = self.theme
        label = _font(_markup(cluster.label), t.cluster_text)
        return graphviz.Digraph(
            name=f"cluster_{index}",
            graph_attr={
                "label": f"<{label}>", "labeljust": "l", "labelloc": "t", "style": "rounded,filled",
                "color": t.cluster_line, "fillcolor": t.cluster_fill, "penwidth": "1",
                "fontsize": _points(self.fontsize * 0.85), "margin": "10",
            },
        )

    def holder(self, graph: graphviz.Digraph, node: int) -> graphviz.Digraph:
        """Where a box's nodes are written: its cluster's frame, or the graph itself. Edges always go in the graph."""
        return self.holders.get(node, graph)

    # --- boxes -----------------------------------------------------------------------------------
    def box(self, graph: graphviz.Digraph, box: Box) -> None:
        t = self.theme
        op_label = box.op if self.style == "ops" else None  # the bipartite style draws the op as its own node
        rest = f"= {box.definition}" if box.definition and op_label is None else ""
        fill = {"input": t.input_fill, "gradient": t.gradient_fill}.get(box.kind, t.fill)
        attributes = {
            "label": self.table([Row(box.name, rest), *box.rows], fill, box.muted, title=True, shape=box.shape),
            "fillcolor": fill,
            "color": t.muted if box.muted else t.gradient if box.kind == "gradient" else t.line,
        }
        if box.kind == "output":
            attributes["peripheries"] = "2"
        if box.paths:  # a node on one path takes its colour; a shared one stays neutral, only heavier
            colour = self.path_colour(box.paths[0]) if len(box.paths) == 1 else attributes["color"]
            attributes.update(color=colour, penwidth="2.2")
        if box.current:
            attributes.update(color=t.gradient, penwidth="3")
        self.holder(graph, box.node).node(f"n{box.node}", id=f"n{box.node}", **attributes)
        if op_label is not None:
            self.operation(graph, box, op_label)

    def wire(self, graph: graphviz.Digraph, wire: Wire) -> None:
        source, target = self.ends(wire)
        if (wire.source, wire.target) in self.far:
            source = self.copy(graph, wire)
        graph.edge(source, target, id=wire_id(wire.source, wire.target), **self.wire_attributes(wire))

    def copy(self, graph: graphviz.Digraph, wire: Wire) -> str:
        """A dashed copy of the wire's source beside its target, instead of an edge across the whole picture."""
        box, name = self.boxes[wire.source], f"n{wire.source}c{wire.target}"
        fill = self.theme.background
        self.holder(graph, wire.target).node(name, label=self.table([Row(box.name, "")], fill, box.muted, title=True), style="rounded,dashed,filled",
                   fillcolor=fill)
        return name

    def operation(self, graph: graphviz.Digraph, box: Box, label: str) -> None:
        """The op as its own small node, with its constant operands, for the bipartite style."""
        t, op = self.theme, f"o{box.node}"
        colour = t.muted if box.muted else t.line
        self.holder(graph, box.node).node(op, id=op, label=f"<{_markup(label)}>", shape="circle", style="filled", fillcolor=t.background,
                   color=colour, fontcolor=t.muted if box.muted else t.text, margin="0.02", width="0.4", ordering="in")
        edge = {"dir": "back"} if self.backward else {}
        if box.paths:
            edge.update(color=self.path_colours(box.paths), penwidth="2.5")
        graph.edge(op, f"n{box.node}", id=f"{op}-n{box.node}", **edge)
        for i, operand in enumerate(dict.fromkeys(box.operands)):  # x·x reads x once
            if isinstance(operand, int):
                self.wire(graph, self.wires[(operand, box.node)])
                continue
            self.holder(graph, box.node).node(f"{op}k{i}", label=f"<{_markup(operand)}>", shape="plaintext", style="", fontcolor=colour)
            graph.edge(f"{op}k{i}", op, color=t.muted, arrowsize="0.5", **({"dir": "none"} if self.backward else {}))

    # --- wires -----------------------------------------------------------------------------------
    def ends(self, wire: Wire) -> tuple[str, str]:
        return f"n{wire.source}", f"{'o' if wire.target in self.operations else 'n'}{wire.target}"

    def wire_attributes(self, wire: Wire) -> dict[str, str]:
        t = self.theme
        colour = {"line": t.line, "gradient": t.gradient, "muted": t.muted}[wire.role]
        attributes = {"color": t.muted if self.scene.path_count and not wire.paths else colour}
        if wire.backward:
            attributes["dir"] = "back"
        if wire.label is not None:
            attributes["label"] = self.table([wire.label], t.background)
        if wire.paths:
            style = t.path_styles[wire.paths[0] % len(t.path_styles)]
            attributes.update(color=self.path_colours(wire.paths), penwidth="2.5", style=style)
        if wire.current:
            attributes["penwidth"] = "2.5"
        return attributes

    # --- colours and labels -----------------------------------------------------------------------
    def path_colour(self, index: int) -> str:
        palette = self.theme.paths
        return palette[index] if self.scene.path_count <= len(palette) else palette[0]

    def path_colours(self, indices: tuple[int, ...]) -> str:
        """Parallel strokes, one per path through the edge, so shared edges show every path."""
        return ":".join(dict.fromkeys(self.path_colour(i) for i in indices))

    def colour(self, row: Row, under: str, muted: bool) -> str:
        """A row's text colour; a hidden row takes the colour `under` it (dot writes 'transparent' text white)."""
        t = self.theme
        if row.role == "hidden":
            return under
        if muted:
            return t.muted
        if row.path is not None:
            return self.path_colour(row.path)
        return {"text": t.text, "value": t.value, "gradient": t.gradient}[row.role]

    def table(self, rows: list[Row], under: str, muted: bool = False, title: bool = False, shape: str | None = None) -> str:
        """An HTML-like label in two columns, lead right-aligned and the rest left, so '=' signs line up.
        A title may carry a tensor's shape after the name (z ∈ ℝ³); a matrix value is drawn in brackets."""
        rows = _join_title(rows) if title else rows
        cells = []
        for i, row in enumerate(rows):
            heading = title and i == 0  # the name: bold, in the text colour
            colour = self.colour(row, under, muted)
            lead = _font(_markup(row.lead), self.colour(Row("", ""), under, muted) if heading else colour, bold=heading)
            if heading and shape:
                lead += _font(f" {_markup(shape)}", self.colour(Row("", ""), under, muted))
            rest = _font(f"{_THIN}{_markup(shorten(row.rest, MAX_TEXT))}", colour) if row.rest else ""
            if row.matrix is not None:
                rest = _matrix(row.matrix, colour, self.fontsize)
            if heading and not rest:  # a name alone is centred over what follows
                cells.append(f'<TR><TD COLSPAN="2">{lead}</TD></TR>')
            else:
                cells.append(f'<TR><TD ALIGN="RIGHT">{lead}</TD><TD ALIGN="LEFT">{rest}</TD></TR>')
        return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{"".join(cells)}</TABLE>>'


def wire_id(source: int, target: int) -> str:
    """The id of a wire's edge in the DOT and so in dot's SVG (a box's is n12, its operation's o12): the stepper
    (stepper.py) and a page's own CSS find them by it."""
    return f"e{source}-{target}"


def _long_wires(built: Scene) -> set[tuple[int, int]]:
    """Wires spanning more than SPAN ranks: dot threads each through a chain of virtual nodes, which makes large
    graphs with shared inputs (an RNN's weights) take minutes to lay out instead of seconds."""
    into: dict[int, list[int]] = defaultdict(list)
    for wire in built.wires:
        into[wire.target].append(wire.source)
    rank: dict[int, int] = {}
    for box in built.boxes:  # in id order, which is topological
        rank[box.node] = max((rank[u] + 1 for u in into[box.node]), default=0)
    return {(w.source, w.target) for w in built.wires if rank[w.target] - rank[w.source] > SPAN}


def _join_title(rows: list[Row]) -> list[Row]:
    """'x' over '= 0.5' reads better as 'x = 0.5': a title without a right side takes the next row's."""
    if len(rows) > 1 and not rows[0].rest and not rows[1].lead:
        return [replace(rows[1], lead=rows[0].lead), *rows[2:]]
    return rows


def _matrix(cells: tuple[tuple[str, ...], ...], colour: str, fontsize: float) -> str:
    """'= ' and a matrix in brackets, columns right-aligned. Each bracket is one cell spanning the rows with three
    sides drawn; it has a fixed size, because dot spreads a cell's spare width over every column of a nested
    table, which would otherwise stretch the brackets' ticks. Spare width opens the gaps instead."""
    count, rows = len(cells), []
    height = round(count * fontsize * 1.25)
    bracket = f'<TD ROWSPAN="{count}" FIXEDSIZE="TRUE" WIDTH="5" HEIGHT="{height}" BORDER="1" SIDES="{{}}" COLOR="{colour}" ALIGN="{{}}"></TD>'
    for r, row in enumerate(cells):
        tr = f'<TD ROWSPAN="{count}" ALIGN="LEFT">{_font(f"{_THIN}= ", colour)}</TD>' + bracket.format("LTB", "RIGHT") if r == 0 else ""
        tr += "".join(f'<TD ALIGN="RIGHT">{_font((_EN if c else "") + _markup(x), colour)}</TD>' for c, x in enumerate(row))
        tr += bracket.format("RTB", "LEFT") if r == 0 else ""
        rows.append(f"<TR>{tr}</TR>")
    return f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{"".join(rows)}</TABLE>'


def _font(text: str, colour: str, bold: bool = False) -> str:
    if not text:
        return ""
    text = f"<B>{text}</B>" if bold else text
    return f'<FONT COLOR="{colour}">{text}</FONT>'


def _markup(text: str) -> str:
    """Escaped for an HTML-like label, with W_hx and x^(1/3) as real sub- and superscripts."""
    text = html.escape(one_line(text), quote=False)  # expat, which reads HTML-like labels, refuses control characters
    text = _SUP.sub(lambda m: f"<SUP>{m[1][1:-1] if m[1].startswith('(') else m[1]}</SUP>", text)
    return _WORD.sub(lambda m: m[0] if m[0] in _OP_WORDS else _SUB.sub(r"<SUB>\1</SUB>", m[0]), text)


def _points(size: float) -> str:
    return f"{size:g}"
