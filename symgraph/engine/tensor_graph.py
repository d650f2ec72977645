"""The computation DAG of a tensor program: the same hash-consed graph, every node with its shape.

Shapes are inferred as nodes are added, from declarations and given values, so a mismatch
is reported before anything is evaluated, naming both shapes. Backward terms are fitted to
their operand's shape: a scalar broadcast over a tensor gets the sum of its adjoint.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache

import sympy as sp

from symgraph import ops
from symgraph.engine.graph import Graph, Operand, is_node
from symgraph.errors import LimitError
from symgraph.lang import limits
from symgraph.ops.tensor import HEADS, TensorFunction, broadcast, shape_text

__all__ = ["TensorGraph", "Shape", "constant_shape"]

Shape = tuple[int, ...]


class TensorGraph(Graph):
    """A Graph whose nodes carry `shape`; inputs take theirs from declarations (scalar otherwise)."""

    def __init__(self, shapes: Mapping[str, Shape]):
        super().__init__()
        self.declared = dict(shapes)
        #: Symbols that stand for tensors in explanations (∂L/∂z), with their shapes.
        self.display_shapes: dict[sp.Symbol, Shape] = {}

    def add_input(self, name: str) -> int:
        node = super().add_input(name)
        self.dag.nodes[node]["shape"] = tuple(self.declared.get(name, ()))
        return node

    def add(self, op: str, operands: tuple[Operand, ...], kind: str = "forward") -> Operand:
        shapes = [self.shape(o) for o in operands]
        if op == "logsumexp" and len(operands) == 1 and shapes[0]:
            op = "reduce_logsumexp"  # logsumexp(z) of one tensor reduces over its last axis
        shape = _apply_shape(ops.get(op), shapes, operands)
        result = super().add(op, operands, kind)
        if is_node(result):
            self.dag.nodes[result].setdefault("shape", shape)
        return result

    def shape(self, operand: Operand) -> Shape:
        return self.dag.nodes[operand]["shape"] if is_node(operand) else constant_shape(operand)

    def expr_shape(self, expr: sp.Expr) -> Shape:
        """Shape of an expression over node symbols (a backward term before it becomes nodes)."""
        if expr.is_Symbol:
            if expr in self.display_shapes:
                return self.display_shapes[expr]
            return self.shape(self._by_symbol_lookup(expr))
        if not expr.free_symbols:
            return constant_shape(expr)
        op, args = ops.decompose(expr)
        return _apply_shape(op, [self.expr_shape(a) for a in args], args)

    def fit(self, term: sp.Expr, node: int) -> sp.Expr:
        term = self._without_ones(term)
        if self.expr_shape(term) != self.shape(node) and not self.shape(node):
            return HEADS["sum"](term)  # a scalar broadcast over a tensor: its adjoint is the sum
        return term

    def _without_ones(self, term: sp.Expr) -> sp.Expr:
        """𝟙 ⊙ X = X when X already has 𝟙's shape (the adjoint of a sum is 𝟙)."""
        if not term.is_Mul:
            return term
        ones = [f for f in term.args if isinstance(f, HEADS["ones"])]
        rest = [f for f in term.args if not isinstance(f, HEADS["ones"])]
        if ones and rest and self.expr_shape(sp.Mul(*rest)) == constant_shape(ones[0]):
            return sp.Mul(*rest)
        return term


def _apply_shape(op: ops.Op, shapes: list[Shape], operands) -> Shape:
    if not op.is_tensor:
        return broadcast(f"elementwise {op.name}", shapes)
    assert op.shape is not None  # what makes it a tensor op
    tensors, params = op.split(tuple(operands))
    shape = op.shape(shapes[: len(tensors)], params)
    if math.prod(shape) > limits.LIMITS.max_tensor_entries:
        raise LimitError(f"{op.name} would make a tensor of shape {shape_text(shape)}, "
                         f"{math.prod(shape):,} entries; the limit is {limits.LIMITS.max_tensor_entries:,}")
    return shape


@lru_cache(maxsize=1024)
def constant_shape(constant: sp.Expr) -> Shape:
    """ones(3, 2) is 3×2; a number is a scalar."""
    if not constant.has(TensorFunction):
        return ()
    op, args = ops.decompose(constant)
    return _apply_shape(op, [constant_shape(a) for a in args], args)
