"""The forward and symbolic views' scenes: the graph's boxes with definitions and values, plain wires.

The backward and combined views (backward_scene.py) extend the forward one with the sweep's adjoints.
"""

from __future__ import annotations

from collections.abc import Iterable

import sympy as sp

from symgraph import ops
from symgraph.engine.graph import Operand, is_node
from symgraph.explain.printing import unicode
from symgraph.output.scene_text import MAX_TERMS, display_names, shape_label, sweep_roles, tensor_rows, value_text
from symgraph.output.scene_types import Box, Row, Scene, Wire
from symgraph.output.view import DerivationView

__all__ = ["ForwardScene", "SymbolicScene", "kept_when_collapsed"]


class ForwardScene:
    """Inputs, intermediates and the output, each with its definition (and value); plain forward wires."""

    kinds: tuple[str, ...] = ("input", "forward")

    def __init__(self, d: DerivationView, revealed: int | None):
        self.d, self.graph = d, d.graph
        self.sweep = d.gradients.order if revealed is None else d.gradients.order[:revealed]
        self.revealed = set(self.sweep)
        self.current = self.sweep[-1] if revealed else None
        self.roles = sweep_roles(d)
        self.names = display_names(d, self.roles)
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
            shape=shape_label(self.graph.shape(node)) if self.tensor else None,
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
            return tensor_rows(self.d, node, self.graph.shape(node), "value")
        value = value_text(self.d, node)
        return [Row("", f"= {value}", "value")] if value is not None else []

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


class SymbolicScene(ForwardScene):
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

