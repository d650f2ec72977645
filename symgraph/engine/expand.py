"""Writing a DAG node out as one expression, only when the tree stays small.

A gradient written out as a tree can be astronomically larger than its DAG (10⁷⁹ nodes
on a deep chain). The tree size is counted on the DAG first, without building anything;
only when it is under the limit is the expression built, node by node in topological
order (no recursion, so deep graphs do not hit Python's stack limit).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import sympy as sp

from symgraph.engine.graph import Graph, Operand, is_node
from symgraph.engine.shapes import constant_shape
from symgraph.ops.tensor import HEADS

__all__ = ["MAX_TREE_SIZE", "Inliner", "tree_size", "inline", "tidy"]

#: Largest tree (count of operations and leaves) that is written out.
MAX_TREE_SIZE = 800
#: Largest expression that gets the cheap simplification.
MAX_TIDY_OPS = 200


class Inliner:
    """Nodes written out as trees, the nodes in `keep` (and inputs) staying symbols, memoised per node.

    Every node's tree size and written form are computed once, however many derivatives share it, so that
    writing the gradient of every one of a program's inputs is linear in the graph, not a walk per input.
    The graph may grow after; the nodes already seen never change.
    """

    def __init__(self, graph: Graph, keep: Collection[int] = ()) -> None:
        self.graph, self.keep = graph, keep
        self._sizes: dict[int, int] = {}
        self._written: dict[int, sp.Expr] = {}

    def size(self, operand: Operand) -> int:
        """Size of the tree `operand` would be (count of operations and leaves)."""
        if not is_node(operand):
            return 1
        for node in self._unseen(operand, self._sizes):
            data = self.graph[node]
            leaf = node in self.keep or data["op"] is None
            self._sizes[node] = 1 if leaf else 1 + sum(self._sizes[o] if is_node(o) else 1 for o in data["operands"])
        return self._sizes[operand]

    def inline(self, operand: Operand) -> sp.Expr | None:
        """The expression of `operand` with every node outside `keep` substituted; None if too large."""
        if not is_node(operand):
            return operand
        if self.size(operand) > MAX_TREE_SIZE:
            return None
        graph = self.graph
        for node in self._unseen(operand, self._written):
            if node in self.keep or graph[node]["op"] is None:
                self._written[node] = graph.symbol(node)
            else:
                self._written[node] = self._through(node)
        return self._written[operand]

    def through(self, node: int) -> sp.Expr | None:
        """`node` written out although it is kept, its operands as `inline` writes them; None if too large."""
        if 1 + sum(self.size(o) for o in self.graph.operands(node)) > MAX_TREE_SIZE:
            return None
        for operand in self.graph.operands(node):
            self.inline(operand)
        return self._through(node)

    def _through(self, node: int) -> sp.Expr:
        graph = self.graph
        replacements = {graph.symbol(o): self._written[o] for o in graph.operands(node) if is_node(o)}
        return _shaped(graph, node, graph.expr(node).xreplace(replacements))

    def _unseen(self, operand: int, seen: Collection[int]) -> list[int]:
        """The nodes `operand` reads (itself included) not yet in `seen`, in topological order; kept nodes are
        reached but not looked through."""
        if operand in seen:
            return []
        found, stack = {operand}, [operand]
        while stack:
            node = stack.pop()
            if node in self.keep:
                continue
            for o in self.graph.operands(node):
                if is_node(o) and o not in found and o not in seen:
                    found.add(o)
                    stack.append(o)
        return sorted(found)


def tree_size(graph: Graph, operand: Operand, keep: Collection[int] = ()) -> int:
    """Size of the tree `operand` would be, nodes in `keep` (and inputs) staying symbols."""
    return Inliner(graph, keep).size(operand)


def inline(graph: Graph, operand: Operand, keep: Collection[int] = ()) -> sp.Expr | None:
    """The expression of `operand` with every node outside `keep` substituted; None if too large."""
    return Inliner(graph, keep).inline(operand)


def _shaped(graph: Graph, node: int, expr: sp.Expr) -> sp.Expr:
    """A tensor node whose terms cancelled (n = a − a is SymPy's 0) written as its tensor: zeros(2, 4), c·ones(2, 4);
    a bare number would lose the shape, and n.T of it would be the transpose of a scalar."""
    shape = graph.shape(node) if graph.is_tensor else ()
    if not shape or expr.free_symbols or constant_shape(expr):
        return expr
    return HEADS["zeros"](*shape) if expr.is_zero else expr * HEADS["ones"](*shape)


def tidy(expr: sp.Expr, collect_on: Mapping[sp.Symbol, int] | None = None) -> sp.Expr:
    """Cheap, bounded simplification: collect on named intermediates (symbol → rank, in the order of their
    ranks), pull out common factors. Only the expression's own symbols are looked up, however many are named."""
    if sp.count_ops(expr) > MAX_TIDY_OPS:
        return expr
    ranks = collect_on or {}
    present = sorted((s for s in expr.atoms(sp.Symbol) if s in ranks), key=ranks.__getitem__)
    if present:
        return sp.collect(expr, present)
    return sp.factor_terms(expr)

