"""Symbol-to-symbol reverse mode: differentiation adds gradient nodes to the graph.

For every node u on a path from an input of interest to the output, in reverse
topological order, the adjoint ū = Σ_v v̄ · ∂v/∂u is inserted as nodes: the local
partial ∂v/∂u (the registry's template instantiated in v's own symbols), the product
v̄·∂v/∂u and the accumulating sum. Each adjoint is built once, so the work is linear in
the graph. The result is a graph again, so applying `backward` to an adjoint gives
second derivatives.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import sympy as sp

from . import ops
from .graph import Graph, Operand, is_node

__all__ = ["Gradients", "backward"]


@dataclass
class Gradients:
    """What one reverse sweep added: adjoints and local partials, keyed by forward nodes."""

    output: Operand
    adjoint: dict[int, Operand] = field(default_factory=dict)
    #: (v, u) → ∂v/∂u in v's own symbols (operands and output), as the registry writes it.
    local: dict[tuple[int, int], sp.Expr] = field(default_factory=dict)
    #: (v, u) → the node (or constant) holding ∂v/∂u in the graph.
    local_node: dict[tuple[int, int], Operand] = field(default_factory=dict)
    #: nodes in the sweep, in the order their adjoints were completed (reverse topological).
    order: list[int] = field(default_factory=list)

    def of(self, node: int) -> Operand:
        """∂output/∂node; zero where the output does not depend on the node."""
        return self.adjoint.get(node, sp.Integer(0))


def backward(graph: Graph, output: Operand, wrt: list[int]) -> Gradients:
    """Add the adjoint of every node between `wrt` and `output` to the graph."""
    gradients = Gradients(output)
    if not is_node(output):
        return gradients
    relevant = graph.ancestors_within(output, wrt)
    terms: dict[int, list[sp.Expr]] = defaultdict(list)
    gradients.adjoint[output] = sp.Integer(1)
    for v in sorted(relevant, reverse=True):
        if v != output:
            gradients.adjoint[v] = graph.add_expr(sp.Add(*terms.pop(v, [])))
        gradients.order.append(v)
        op_name = graph[v]["op"]
        if op_name is None:
            continue
        adjoint = graph.operand_expr(gradients.adjoint[v])
        if adjoint == 0:
            continue
        args = tuple(graph.operand_expr(o) for o in graph.operands(v))
        partials = ops.get(op_name).partials(args, graph.symbol(v))
        for u in graph.dag.predecessors(v):
            if u not in relevant:
                continue
            positions = graph.dag.edges[u, v]["positions"]
            local = sp.Add(*(partials[p] for p in positions))
            local_node = graph.add_expr(local)
            gradients.local[(v, u)] = local
            gradients.local_node[(v, u)] = local_node
            terms[u].append(adjoint * graph.operand_expr(local_node))
    return gradients
