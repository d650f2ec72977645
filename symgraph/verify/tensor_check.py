"""The numerical check of a tensor program: every gradient entry against central finite differences.

Each entry of each input is perturbed by ±h, ±h/2, ±h/4 and the output re-evaluated; two
Richardson extrapolations estimate the derivative and its error, as in the scalar check, and
the same verdict rules apply, with one difference: an entry is judged relative to at least 1% of
its input's largest gradient entry. Large inputs are checked on a seeded sample of their entries.
A kink (relu at 0) or pole met within the step makes that entry inconclusive, with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from symgraph import ops
from symgraph.engine.backward import Seed
from symgraph.engine.evaluate import Conventions, evaluate, recompute, value_of
from symgraph.engine.graph import Graph, Operand, is_node
from symgraph.engine.shapes import TOUCH, afford, work
from symgraph.lang import limits
from symgraph.verify.check import CheckReport, Evidence, Tally, merge
from symgraph.verify.differences import Cancellations, Ladder, breaks, ladder_steps, richardson

__all__ = ["check_tensor", "check_jacobian", "checked_entries", "random_point", "MAX_CHECKED_ENTRIES", "MAX_CHECKED_ROWS", "RELATIVE_FLOOR"]

#: At most this many entries of each input are perturbed (a seeded sample beyond).
MAX_CHECKED_ENTRIES = 48
#: A Jacobian is checked on at most this many of its rows (a seeded sample beyond).
MAX_CHECKED_ROWS = 16
#: Each entry is judged relative to itself, or to this fraction of its input's largest gradient entry.
RELATIVE_FLOOR = 0.01
_EPS = np.finfo(float).eps
_SEED = 20261123


def random_point(graph: Graph, inputs: Mapping[str, int], fixed: Mapping[str, float | np.ndarray], targets,
                 seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded values of every input not given, where every target is finite and no kink is near."""
    rng = np.random.default_rng([_SEED, seed])
    point: dict[str, np.ndarray] = {}
    for attempt in range(20):
        point = {n: np.asarray(fixed[n], dtype=float) if n in fixed else rng.normal(0.0, 1.0, graph.shape(node))
                 for n, node in inputs.items()}
        values = evaluate(graph, {inputs[n]: v for n, v in point.items()}, targets)
        if all(np.all(np.isfinite(v)) for v in values.values()) and not _near_kink(graph, values, 1e-3):
            return point
    return point


def check_tensor(
    graph: Graph,
    function: Operand,
    derivatives: Mapping[str, Operand],
    inputs: Mapping[str, int],
    point: Mapping[str, float | np.ndarray],
    conventions: Conventions = Conventions(),
    share: int = 1,
) -> CheckReport:
    """`share`: how many such checks split the limit on multiply-adds (the rows of a Jacobian)."""
    affordable = checked_entries(graph, function, derivatives, inputs, share)
    base = {inputs[n]: np.asarray(v, dtype=float) for n, v in point.items()}
    analytic = evaluate(graph, base, list(derivatives.values()), conventions)
    listed = [{n: np.asarray(v).tolist() for n, v in point.items()}]
    at_base = evaluate(graph, base, [function], conventions)
    rng = np.random.default_rng(_SEED)
    tally = Tally()
    cancelling = Cancellations(graph, analytic, derivatives.values())
    for name, derivative in derivatives.items():
        shape = graph.shape(inputs[name])
        g_all = np.broadcast_to(value_of(analytic, derivative), shape)  # a constant gradient (sum(x)) too
        # An entry far smaller than its neighbours is judged against 1% of the largest entry: differences
        # of a function whose other slopes are 10⁵ times steeper cannot confirm it to 10⁻⁶ of itself.
        floor = RELATIVE_FLOOR * float(np.max(np.abs(g_all), initial=0.0))
        rounded = np.zeros(shape, dtype=bool)
        for cancelled in cancelling.of(derivative):
            if np.shape(cancelled) == shape:  # entry by entry; a sum of another shape feeds many entries
                rounded |= cancelled
        reach = _Reach(graph, function, at_base, base, inputs[name], conventions)
        entries = list(np.ndindex(*shape)) if shape else [()]
        if len(entries) > affordable[name]:
            chosen = rng.choice(len(entries), affordable[name], replace=False)
            entries = [entries[i] for i in sorted(chosen)]
        for index in entries:
            label = f"{name}{list(index)}" if index else name
            estimate, noise, resolution, kink = reach.difference(index)
            if kink:
                tally.inconclusive(label, "", f"{kink}, so finite differences cannot confirm the derivative there")
                continue
            g = float(g_all[index])
            tally.judge(label, "", Evidence(g, estimate, noise, resolution, max(abs(g), abs(estimate), floor),
                                            reach.ladder(index), bool(rounded[index])))
    return tally.report(listed)


def checked_entries(graph: Graph, function: Operand, derivatives: Mapping[str, Operand], inputs: Mapping[str, int],
                    share: int = 1) -> dict[str, int]:
    """How many entries of each input the check perturbs: at most MAX_CHECKED_ENTRIES, and fewer when re-running
    what an entry reaches, six times each, would pass the limit on multiply-adds; refused, before anything runs,
    when even one entry would."""
    counts = {}
    for name in derivatives:
        node = inputs[name]
        reached = graph.ancestors_within(function, [node]) if is_node(function) else set()
        copied = sum(math.prod(graph.shape(n)) for n in reached | {node})  # copied and compared at each step
        per_entry = 6 * (work(graph, reached - {node}) + 2 * TOUCH * copied)
        counts[name] = min(MAX_CHECKED_ENTRIES, limits.LIMITS.max_operations // (share * len(derivatives) * max(per_entry, 1)))
        if counts[name] < 1:
            afford(f"checking ∂/∂{name} by finite differences", per_entry * share * len(derivatives),
                   "skip the check (--no-check), or use smaller shapes")
    return counts


def check_jacobian(
    graph: Graph,
    seed: Seed,
    derivatives: Mapping[str, Operand],
    inputs: Mapping[str, int],
    point: Mapping[str, float | np.ndarray],
    conventions: Conventions = Conventions(),
) -> CheckReport:
    """Each checked row of ∂y/∂x is ∂L/∂x at δy = eᵢ, against finite differences of yᵢ (the same entry checks)."""
    shape = graph.shape(seed.of)
    rows = list(np.ndindex(*shape))
    if len(rows) > MAX_CHECKED_ROWS:
        chosen = np.random.default_rng(_SEED).choice(len(rows), MAX_CHECKED_ROWS, replace=False)
        rows = [rows[i] for i in sorted(chosen)]
    seeded = {**inputs, graph.label(seed.node): seed.node}
    reports = []
    for index in rows:
        basis = np.zeros(shape)
        basis[index] = 1.0
        at = {**point, graph.label(seed.node): basis}
        reports.append(check_tensor(graph, seed.loss, derivatives, seeded, at, conventions, share=len(rows)))
    merged = merge(reports)
    merged.points = [{n: np.asarray(v).tolist() for n, v in point.items()}]
    return merged


class _Reach:
    """What moving one input changes: the nodes it reaches are re-run, every other value is the base one."""

    def __init__(self, graph: Graph, function: Operand, at_base: dict, base: dict, node: int,
                 conventions: Conventions):
        self.graph, self.function, self.at_base, self.node, self.conventions = graph, function, at_base, node, conventions
        self.start = base[node]
        reached = graph.ancestors_within(function, [node]) if node in at_base else set()
        self.changed = sorted(reached)
        self.operations = [n for n in self.changed if n != node]
        self.breaks = [(graph.operands(n)[position], at, note)
                       for n in self.operations for position, at, note in breaks(graph, n, conventions)]
        self.choices = []  # max pooling: the entry each window passes on, at the base point
        for n in self.operations:
            op = ops.get(graph[n]["op"])
            if op.selects is not None:
                (operand, *_), params = op.split(graph.operands(n))
                self.choices.append((operand, params, op.selects, op.selects(value_of(at_base, operand), *params),
                                     f"{op.name} passes on another entry of a window within the step (a tie)"))

    def difference(self, index) -> tuple[float, float, float, str]:
        """Richardson-extrapolated central difference along one entry, its error bound, resolution and kink notes."""
        # One step for every entry: entries near 0 are common in tensors, where a step relative to the entry
        # would only add rounding; a pole or kink within the step is reported by _crossed instead.
        h = _EPS ** (1 / 3)
        f, offsets, kinks, largest = self._at([h, h / 2, h / 4], index)
        estimate, noise, resolution = richardson(f, offsets, largest)
        return estimate, float(noise), float(resolution), "; ".join(kinks)

    def ladder(self, index) -> Ladder:
        def central() -> tuple[np.ndarray, np.ndarray]:
            f, offsets, _, largest = self._at(ladder_steps(_EPS ** (1 / 3)), index)
            widths = np.array(offsets[0::2]) - np.array(offsets[1::2])
            with np.errstate(divide="ignore", invalid="ignore"):
                return (np.array(f[0::2]) - np.array(f[1::2])) / widths, 200 * _EPS * largest / np.abs(widths)
        return central

    def _at(self, steps, index) -> tuple[list[float], list[float], dict[str, None], float]:
        """f at the entry moved by ± each step, the offsets as taken, kinks crossed, the largest value moved."""
        f, offsets, kinks, largest = [], [], {}, 0.0
        for step in steps:
            for sign in (1, -1):
                moved = dict(self.at_base)
                value = np.array(self.start, dtype=float)
                value[index] += sign * step
                offsets.append(float(value[index] - np.asarray(self.start, dtype=float)[index]))
                moved[self.node] = value
                recompute(self.graph, moved, self.operations, self.conventions)
                f.append(float(value_of(moved, self.function)))
                # The input moves over its exact step; a value the step does not move rounds alike each time.
                changed = [np.ravel(moved[n])[np.ravel(moved[n] != self.at_base[n])] for n in self.operations]
                if changed:
                    largest = max(largest, float(np.max(np.abs(np.concatenate(changed)), initial=0.0)))
                kinks.update(dict.fromkeys(self._crossed(moved)))
        return f, offsets, kinks, largest

    def _crossed(self, moved):
        """Notes for each kink or pole that an operand entry sits on or crosses between base and moved values,
        and for each max-pooling window whose maximum moves to another entry."""
        for operand, at, note in self.breaks:
            before = value_of(self.at_base, operand) - value_of(self.at_base, at)
            after = value_of(moved, operand) - value_of(moved, at)
            moves = np.broadcast_to(after != before, np.broadcast(before, after).shape)
            if np.any(moves & ((before == 0) | (np.sign(before) != np.sign(after)))):
                yield note
        for operand, params, selects, at_base, note in self.choices:
            if np.any(selects(value_of(moved, operand), *params) != at_base):
                yield note


def _near_kink(graph, values, margin) -> bool:
    for node in values:
        for position, at, _ in breaks(graph, node, Conventions()):
            if np.any(np.abs(value_of(values, graph.operands(node)[position]) - value_of(values, at)) <= margin):
                return True
    return False
