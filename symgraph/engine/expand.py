"""Writing a DAG node out as one expression, only when the tree stays small.

A gradient written out as a tree can be astronomically larger than its DAG (10⁷⁹ nodes
on a deep chain). The tree size is counted on the DAG first, without building anything;
only when it is under the limit is the expression built, node by node in topological
order (no recursion, so deep graphs do not hit Python's stack limit).
"""

from __future__ import annotations

from collections.abc import Collection

import sympy as sp

from symgraph.engine.graph import Graph, Operand, is_node
from symgraph.engine.shapes import constant_shape
from symgraph.ops.tensor import HEADS

__all__ = ["MAX_TREE_SIZE", "tree_size", "inline", "tidy"]

#: Largest tree (count of operations and leaves) that is written out.
MAX_TREE_SIZE = 800
#: Largest expression that gets the cheap simplification.
MAX_TIDY_OPS = 200


def tree_size(graph: Graph, operand: Operand, keep: Collection[int] = ()) -> int:
    """Size of the tree `operand` would be, nodes in `keep` (and inputs) staying symbols."""
    size: dict[int, int] = {}
    for node in sorted(graph.upstream([operand], keep)):
        data = graph[node]
        if node in keep or data["op"] is None:
            size[node] = 1
        else:
            size[node] = 1 + sum(size[o] if is_node(o) else 1 for o in data["operands"])
    return size[operand] if is_node(operand) else 1


def inline(graph: Graph, operand: Operand, keep: Collection[int] = ()) -> sp.Expr | None:
    """The expression of `operand` with every node outside `keep` substituted; None if too large."""
    if not is_node(operand):
        return operand
    if tree_size(graph, operand, keep) > MAX_TREE_SIZE:
        return None
    written: dict[int, sp.Expr] = {}
    for node in sorted(graph.upstream([operand], keep)):
        if node in keep or graph[node]["op"] is None:
            written[node] = graph.symbol(node)
        else:
            replacements = {graph.symbol(o): written[o] for o in graph.operands(node) if is_node(o)}
            written[node] = _shaped(graph, node, graph.expr(node).xreplace(replacements))
    return written[operand]


def _shaped(graph: Graph, node: int, expr: sp.Expr) -> sp.Expr:
    """A tensor node whose terms cancelled (n = a − a is SymPy's 0) written as its tensor: zeros(2, 4), c·ones(2, 4);
    a bare number would lose the shape, and n.T of it would be the transpose of a scalar."""
    shape = graph.shape(node) if graph.is_tensor else ()
    if not shape or expr.free_symbols or constant_shape(expr):
        return expr
    return HEADS["zeros"](*shape) if expr.is_zero else expr * HEADS["ones"](*shape)


def tidy(expr: sp.Expr, collect_on: Collection[sp.Symbol] = ()) -> sp.Expr:
    """Cheap, bounded simplification: collect on named intermediates, pull out common factors."""
    if sp.count_ops(expr) > MAX_TIDY_OPS:
        return expr
    present = [s for s in collect_on if expr.has(s)]
    if present:
        return sp.collect(expr, present)
    return sp.factor_terms(expr)

