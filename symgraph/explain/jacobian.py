"""A Jacobian in the course's matrix notation: the product of its links' Jacobians along the one path from x to y.

For h = tanh(W x) the chain is ∂h/∂x = diag(1 − h²) W: an elementwise op contributes diag(f′) (the
registry's local partial), a tensor op its own closed form (z = W x: W; softmax: diag(p) − p pᵀ). Only
vectors of vectors, along a single path, have such a form; the caller verifies it against the
Jacobian's numbers before showing it.
"""

from __future__ import annotations

import sympy as sp

from symgraph import ops
from symgraph.engine.graph import Graph
from symgraph.explain.steps import count_paths
from symgraph.ops.tensor import HEADS

__all__ = ["closed_form"]


def closed_form(graph: Graph, x: int, y: int) -> sp.Expr | str | None:
    """∂y/∂x as a matrix expression over the nodes' symbols (a sentence where y is one op of a matrix x that has
    one), or None when there is no such form."""
    within = graph.ancestors_within(y, [x])
    if len(graph.shape(x)) == 2 and graph.dag.has_edge(x, y) and graph[y]["op"] is not None:
        said = _tensor_rule(graph, x, y)
        return said if isinstance(said, str) else None
    if len(graph.shape(x)) != 1 or count_paths(graph, x, y, within) != 1:
        return None
    chain = sorted(within)
    factor: sp.Expr = sp.Integer(1)  # a scalar times the identity until a matrix appears
    matrix: sp.Expr | None = None
    for u, v in zip(chain, chain[1:]):
        link = _link(graph, u, v)
        if not isinstance(link, sp.Expr):
            return None
        if link.is_number:
            factor *= link
        else:
            matrix = link if matrix is None else HEADS["matmul"](link, matrix)
    if matrix is None:
        return None  # the identity (times a number) is said plainly elsewhere
    return factor * matrix if factor != 1 else matrix


def _tensor_rule(graph: Graph, u: int, v: int) -> sp.Expr | str | None:
    """The tensor op v's own closed form of ∂v/∂u (read at u's one position)."""
    positions = graph.dag.edges[u, v]["positions"]
    op = ops.get(graph[v]["op"])
    if len(positions) != 1 or not op.is_tensor or op.jacobian is None:
        return None
    tensors, params = op.split(graph.operands(v))
    shapes = [graph.shape(o) for o in tensors]
    return op.jacobian(shapes, [graph.operand_expr(o) for o in tensors], params, graph.symbol(v), positions[0])


def _link(graph: Graph, u: int, v: int) -> sp.Expr | str | None:
    """∂v/∂u for one edge of the chain: a number (times I) or a matrix; None without a closed form."""
    positions = graph.dag.edges[u, v]["positions"]
    if len(positions) != 1 or len(graph.shape(v)) != 1:
        return None
    op = ops.get(graph[v]["op"])
    if op.is_tensor:
        return _tensor_rule(graph, u, v)
    args = [graph.operand_expr(o) for o in graph.operands(v)]
    if graph.shape(u) != graph.shape(v):
        return None  # a scalar broadcast over the vector: its Jacobian is a column, not a matrix
    partial = op.partial(args, graph.symbol(v), positions[0])
    return partial if partial.is_number else HEADS["diag"](partial)
