"""Shape inference, op by op: a node's shape is computed once, when the graph adds it.

A scalar op broadcasts its operands (all scalars in a scalar program); a tensor op applies its
shape rule. A tensor larger than the limit is refused here, before anything is evaluated.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from functools import lru_cache

import sympy as sp

from symgraph import ops
from symgraph.errors import LimitError
from symgraph.lang import limits
from symgraph.ops.tensor import Shape, TensorFunction, broadcast, shape_text

__all__ = ["Shape", "infer", "resolve", "constant_shape", "work", "afford", "TOUCH"]


def resolve(op: str, shapes: Sequence[Shape]) -> str:
    """The op a call means given its operands' shapes: logsumexp(z) of one tensor reduces over its last axis."""
    if op == "logsumexp" and len(shapes) == 1 and shapes[0]:
        return "reduce_logsumexp"
    return op


def infer(op: ops.Op, shapes: Sequence[Shape], operands: Sequence) -> Shape:
    """The shape of `op(operands)` from its operands' shapes (a ShapeError names both when they do not fit)."""
    if not op.is_tensor:
        return broadcast(f"elementwise {op.name}", shapes) if any(shapes) else ()
    assert op.shape is not None  # what makes it a tensor op
    tensors, params = op.split(tuple(operands))
    shape = op.shape(list(shapes[: len(tensors)]), params)
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
    return infer(op, [constant_shape(a) for a in args], args)


#: What reading or writing one entry costs in multiply-adds: NumPy's elementwise work is bound by memory, about
#: 20 times slower per entry than the multiply-adds of a matrix product (measured on W @ h and W @ W).
TOUCH = 20


def work(graph, nodes: Iterable[int]) -> int:
    """Multiply-adds to evaluate these nodes once, estimated from their shapes before anything runs: an op's own
    `work` rule (m·k·n for a matrix product), plus TOUCH for each entry it reads and writes."""
    total = 0
    for node in nodes:
        name = graph[node]["op"]
        if name is None:
            continue
        op = ops.get(name)
        shapes, out = [graph.shape(o) for o in op.split(graph.operands(node))[0]], graph.shape(node)
        total += (op.work(shapes, out) if op.work else 0) + TOUCH * (math.prod(out) + sum(math.prod(s) for s in shapes))
    return total


def afford(what: str, operations: int, hint: str = "use smaller shapes") -> None:
    """Refuse, before it starts, work estimated at more multiply-adds than the limit (about 3 s on one core)."""
    limit = limits.LIMITS.max_operations
    if operations > limit:
        about = int(float(f"{operations:.2g}"))
        raise LimitError(f"{what} would take about {about:,} multiply-adds (estimated from the shapes); "
                         f"the limit is {limit:,}: {hint}")
