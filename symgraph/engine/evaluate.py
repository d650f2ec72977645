"""Straight-line NumPy evaluation: one assignment per node, in topological order.

Values may be arrays (one entry per point), so the finite-difference check evaluates
all its perturbed points in one sweep. A value that is not finite where its operands
are is a domain error, reported with the node and the operand values.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import sympy as sp

from symgraph import ops
from symgraph.engine.backward import Seed
from symgraph.engine.graph import Graph, Operand, is_node
from symgraph.errors import EvaluationError
from symgraph.notation import SUPERSCRIPTS, number

__all__ = ["Conventions", "evaluate", "recompute", "constant_value", "first_invalid", "flat_zero", "overflow", "value_of"]


@dataclass(frozen=True)
class Conventions:
    """Choices a derivative does not fix: relu′(0), i.e. the value of the step at 0."""

    relu_at_zero: float = 0.0


@functools.lru_cache(maxsize=4096)
def constant_value(constant: sp.Expr) -> float | np.ndarray:
    """The float (or array: ones(3, 2)) of a folded constant; cached, since the same few constants recur."""
    value = ops.approximate(constant)
    if not np.all(np.isfinite(value)):
        raise EvaluationError(f"the constant {constant} is too large for a floating-point number")
    return value


def value_of(values: Mapping[int, np.ndarray], operand: Operand) -> np.ndarray:
    return values[operand] if is_node(operand) else np.asarray(constant_value(operand))


def evaluate(
    graph: Graph,
    inputs: Mapping[int, float | np.ndarray],
    targets: Iterable[Operand],
    conventions: Conventions = Conventions(),
) -> dict[int, np.ndarray]:
    """Values of every node that the targets need, inputs given by node id."""
    needed = sorted(graph.upstream(targets))
    values = {node: np.asarray(inputs[node], dtype=float) for node in needed if graph[node]["op"] is None}
    return recompute(graph, values, [node for node in needed if node not in values], conventions)


def recompute(
    graph: Graph,
    values: dict[int, np.ndarray],
    nodes: Iterable[int],
    conventions: Conventions = Conventions(),
) -> dict[int, np.ndarray]:
    """Write the values of `nodes` (operations, in topological order) into `values`, which hold their operands.

    The tensor check moves one input and re-runs only the nodes it reaches, keeping the rest.
    """
    with np.errstate(all="ignore"):
        for node in nodes:
            data = graph[node]
            op = ops.get(data["op"])
            args = [value_of(values, o) for o in data["operands"]]
            if op.takes_relu_convention:
                values[node] = op.numpy(*args, at_zero=conventions.relu_at_zero)
            else:
                values[node] = op.numpy(*args)
            if data["kind"] == "gradient" and data["op"] == "mul":
                values[node] = _annihilated(graph, values, node)
            if "stable" in data:
                values[node] = _stable_partial(graph, values, values[node], *data["stable"])
    return values


def _stable_partial(graph: Graph, values: Mapping[int, np.ndarray], written: np.ndarray, v: int,
                    positions: tuple[int, ...]) -> np.ndarray:
    """∂v/∂(the operand at `positions`) from the op's stable evaluation, σ′ = σ(u)σ(−u) rather than y(1 − y),
    where the two agree within the written form's rounding (its terms are of size 1): there the written form
    has only lost digits, so a wrong written partial is still seen as wrong."""
    stable = ops.get(graph[v]["op"]).stable
    assert stable is not None  # backward tags only the partials of ops that have one
    partials = stable([value_of(values, o) for o in graph.operands(v)], values[v])
    better = sum((partials[p] for p in positions), np.asarray(0.0))
    return np.where(np.abs(better - written) <= 1e-8 * (1 + np.abs(written)), better, written)


def _annihilated(graph: Graph, values: Mapping[int, np.ndarray], node: int) -> np.ndarray:
    """A product in the gradient with 0 where a factor is a flat zero, whatever the other factors are.

    ∂(relu(x))/∂x = 1(x > 0) is 0 on a whole neighbourhood of x = −1: relu(x) is constant there, so nothing
    downstream of it can move, and ∂y/∂relu = 1/(2√relu) = ∞ times that 0 is 0 (√relu(x) is 0 near −1), not nan.
    """
    value = values[node]
    if np.all(np.isfinite(value)):
        return value
    flat = np.zeros(np.shape(value), dtype=bool)
    for operand in graph.operands(node):
        flat |= np.broadcast_to(flat_zero(graph, values, operand), flat.shape)
    return np.where(flat, 0.0, value)


def flat_zero(graph: Graph, values: Mapping[int, np.ndarray], operand: Operand) -> np.ndarray:
    """Where `operand` is 0 on a whole neighbourhood: a piecewise-constant op (a step) that is 0 away from its kinks,
    or a product or negation of one. Elsewhere (and for constants, which fold away) False."""
    if not is_node(operand) or graph[operand]["op"] is None or operand not in values:
        return np.asarray(False)
    op, operands = ops.get(graph[operand]["op"]), graph.operands(operand)
    zero = np.asarray(values[operand]) == 0
    if op.name in ("mul", "neg"):
        return zero & functools.reduce(np.logical_or, [flat_zero(graph, values, o) for o in operands], np.asarray(False))
    if not _piecewise_constant(op):
        return np.asarray(False)
    for position, at, _ in op.kinks(operands):
        zero = zero & (value_of(values, operands[position]) != value_of(values, at))
    return zero


@functools.cache
def _piecewise_constant(op: ops.Op) -> bool:
    """A scalar op whose every partial is 0 (step, sign, comparisons): constant between its kinks."""
    if op.partials is None or op.is_tensor:
        return False
    symbols = [sp.Dummy() for _ in range(max(op.arity, 1))]
    return all(p == 0 for p in op.partials(symbols, sp.Dummy()))


def overflow(graph: Graph, values: Mapping[int, np.ndarray], node: int) -> str | None:
    """The size of an infinite value whose operands are finite (x² at 10³⁰⁸: "1·10⁶¹⁶"), or None when the value
    is undefined rather than too large (1/0, √−1, log 0): SymPy evaluates the op at the first bad entry."""
    value = np.asarray(values[node])
    if ops.get(graph[node]["op"]).is_tensor:
        return None  # a matrix product or reduction has no one entry's operands to evaluate
    bad = np.argwhere(~np.isfinite(value))
    if not len(bad) or not np.isinf(value[tuple(bad[0])]):
        return None
    entry = []
    for operand in graph.operands(node):
        given = value_of(values, operand)
        if np.ndim(given) and np.shape(given) != value.shape:
            return None  # a tensor op's operand: no one entry to evaluate
        entry_value = float(given[tuple(bad[0])] if np.ndim(given) else given)
        entry.append(sp.Float(repr(entry_value), 30) if is_node(operand) else operand)
    try:
        exact = sp.N(ops.get(graph[node]["op"]).build(*entry), 30)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not (isinstance(exact, sp.Float) and exact.is_finite and exact != 0):
        return None
    exponent = int(sp.floor(sp.log(abs(exact), 10)))
    mantissa = float(f"{float(exact / sp.Integer(10) ** exponent):.3g}")
    if abs(mantissa) >= 10:  # 9.9999·10³⁰⁹ rounds up to 1·10³¹⁰
        mantissa, exponent = mantissa / 10, exponent + 1
    return f"{number(mantissa, 3)}·10{str(exponent).translate(SUPERSCRIPTS)}"


def first_invalid(graph: Graph, values: Mapping[int, np.ndarray], among: Iterable[int] | None = None) -> int | None:
    """The first node (of `among`, else of all) whose value is not finite although its operands are, or None."""
    for node in sorted(values if among is None else among):
        if not np.all(np.isfinite(values[node])):
            operands = [o for o in graph.operands(node) if is_node(o)]
            if all(np.all(np.isfinite(values[o])) for o in operands):
                return node
    return None


def jacobian(graph: Graph, seed: Seed, derivatives: Mapping[str, Operand], point: Mapping[int, np.ndarray],
             conventions: Conventions = Conventions()) -> dict[str, np.ndarray]:
    """name → ∂y/∂name, of shape y's + name's (as jax.jacrev), from the sweep of L = ⟨δy, y⟩.

    `derivatives` are ∂L/∂name, linear in δy: at δy = eᵢ they are row i, so one symbolic sweep gives every row.
    """
    shape = graph.shape(seed.of)
    rows: dict[str, list[np.ndarray]] = {name: [] for name in derivatives}
    for index in np.ndindex(*shape):
        basis = np.zeros(shape)
        basis[index] = 1.0
        values = evaluate(graph, {**point, seed.node: basis}, list(derivatives.values()), conventions)
        for name, target in derivatives.items():
            rows[name].append(np.broadcast_to(value_of(values, target), graph.shape(graph.names[name])))
    return {name: np.stack(rows[name]).reshape(shape + graph.shape(graph.names[name])) for name in derivatives}
