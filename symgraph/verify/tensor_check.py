"""The numerical check of a tensor program: its gradients against central finite differences.

Each input is moved by ±h, ±h/2, ±h/4 along a few seeded random directions and the output
re-evaluated; two Richardson extrapolations estimate the directional derivative and its error, which
is judged against the gradient's dot product with the direction by the scalar check's rules, relative
to at least 1% of the gradient's norm — as fast-mode gradient checkers do, at a few re-evaluations per
input instead of six per entry. A small input, or one where a direction is not confirmed (it fails,
crosses a kink, or is too small or noisy to resolve: a batch norm's gradient can be nearly orthogonal to
a direction), is checked entry by entry instead (a seeded sample of a large input's entries), each judged
relative to at least 1% of its input's largest gradient entry, so the reasons name the entries, as they
did before directions; a failing direction that no entry explains is reported itself.
A kink (relu at 0) or pole met within the step makes that entry inconclusive, with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from symgraph import ops
from symgraph.engine.backward import Seed
from symgraph.engine.evaluate import Conventions, evaluate, recompute, value_of
from symgraph.engine.graph import Graph, Operand, is_node
from symgraph.engine.shapes import TOUCH, afford, work
from symgraph.lang import limits
from symgraph.verify.check import CheckReport, Evidence, Tally, merge, verdict
from symgraph.verify.differences import Cancellations, Ladder, breaks, ladder_steps, richardson

__all__ = ["check_tensor", "check_jacobian", "checked_entries", "random_point", "MAX_CHECKED_ENTRIES", "MAX_CHECKED_ROWS",
           "RELATIVE_FLOOR", "DIRECTIONS", "GROUP_RANGE"]

#: At most this many entries of each input are perturbed (a seeded sample beyond).
MAX_CHECKED_ENTRIES = 48
#: A Jacobian is checked on at most this many of its rows (a seeded sample beyond).
MAX_CHECKED_ROWS = 16
#: Inputs are first checked along this many random directions; at most this many entries, entry by entry.
DIRECTIONS = 3
#: Inputs whose gradient norms are within this factor are checked together (a direction through all of them).
GROUP_RANGE = 1e3
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
    cancelling = Cancellations(graph, analytic, derivatives.values())
    gradients = {}
    for name, derivative in derivatives.items():
        shape = graph.shape(inputs[name])
        rounded = np.zeros(shape, dtype=bool)
        for cancelled in cancelling.of(derivative):
            if np.shape(cancelled) == shape:  # entry by entry; a sum of another shape feeds many entries
                rounded |= cancelled
        # a constant gradient (sum(x)) is broadcast to its input's shape
        gradients[name] = _Gradient(inputs[name], np.broadcast_to(value_of(analytic, derivative), shape), rounded)
    checking = _Checking(graph, function, base, gradients, affordable, conventions)
    for group in _groups(gradients):
        checking.inputs(group)
    return checking.tally.report(listed)


@dataclass(frozen=True)
class _Gradient:
    node: int
    value: np.ndarray
    rounded: np.ndarray  #: the entries that went through a sum cancelling to exactly 0

    @property
    def norm(self) -> float:
        return _norm(self.value)


def _norm(values) -> float:
    """The Euclidean norm without overflow (an exploding gradient of 10²⁰⁰ has one too)."""
    largest = float(np.max(np.abs(values), initial=0.0))
    return largest * float(np.linalg.norm(np.asarray(values) / largest)) if 0 < largest < np.inf else largest


def _groups(gradients: Mapping[str, _Gradient]) -> list[list[str]]:
    """The inputs whose gradient norms lie within GROUP_RANGE of each other, in groups checked together;
    an input whose gradient is far smaller than another's is judged against its own."""
    by_norm = sorted(gradients, key=lambda name: -gradients[name].norm if np.isfinite(gradients[name].norm) else 0.0)
    groups: list[list[str]] = []
    for name in by_norm:
        norm = gradients[name].norm
        if groups and norm * GROUP_RANGE >= gradients[groups[-1][0]].norm and np.isfinite(norm):
            groups[-1].append(name)
        else:
            groups.append([name])
    order = list(gradients)
    return sorted((sorted(group, key=order.index) for group in groups), key=lambda group: order.index(group[0]))


class _Checking:
    """One tensor check: inputs checked together along random directions, then alone, then entry by entry."""

    def __init__(self, graph: Graph, function: Operand, base: dict, gradients: Mapping[str, _Gradient],
                 affordable: Mapping[str, int], conventions: Conventions):
        self.graph, self.function, self.base, self.conventions = graph, function, base, conventions
        self.gradients, self.affordable = gradients, affordable
        self.at_base = evaluate(graph, base, [function], conventions)
        self.tally = Tally()
        self.sampling = np.random.default_rng(_SEED)
        self.pointing = np.random.default_rng([_SEED, 1])

    def inputs(self, names: list[str]) -> None:
        """Along random directions of these inputs together; where one is not confirmed, each input apart
        (a group), then entry by entry (one input); a failing direction no finer check explains is reported."""
        size = sum(self.gradients[n].value.size for n in names)
        directions = [] if size <= DIRECTIONS else self._directional(names, min(DIRECTIONS, *(self.affordable[n] for n in names)))
        if directions and all(verdict(e)[0] == "passed" for _, e in directions):
            for label, e in directions:
                self.tally.judge(label, "", e)
            return
        failures = len(self.tally.failures)
        if len(names) > 1:
            for name in names:
                self.inputs([name])
        else:
            self._by_entry(names[0])
        if len(self.tally.failures) == failures:  # no finer check explains a failing direction: it is the evidence
            for label, e in directions:
                if verdict(e)[0] == "failed":
                    self.tally.judge(label, "", e)

    def _directional(self, names: list[str], count: int) -> list[tuple[str, Evidence]]:
        """The evidence along `count` random unit directions, or none when a direction crosses a kink."""
        gradients = [self.gradients[n] for n in names]
        reach = _Reach(self.graph, self.function, self.at_base, self.base, [g.node for g in gradients], self.conventions)
        norm = _norm([g.norm for g in gradients])
        floor = RELATIVE_FLOOR * norm  # |g·u| ≤ ‖g‖ for a unit direction u
        rounded = any(bool(np.any(g.rounded)) for g in gradients)
        who = names[0] if len(names) == 1 else "(" + ", ".join(names) + ")"
        found = []
        for k in range(count):
            direction = [self.pointing.normal(0.0, 1.0, g.value.shape) for g in gradients]
            length = float(np.sqrt(sum(np.sum(d * d) for d in direction)))
            direction = [d / length for d in direction]
            estimate, noise, resolution, kink = reach.difference(direction)
            if kink:
                return []
            with np.errstate(over="ignore", invalid="ignore"):  # not finite: judged so, then finer
                g = float(sum(np.sum(gradient.value * d) for gradient, d in zip(gradients, direction)))
            found.append((f"{who} along random direction {k + 1}",
                          Evidence(g, estimate, noise, resolution, max(abs(g), abs(estimate), floor),
                                   reach.ladder(direction), rounded)))
        return found

    def _by_entry(self, name: str) -> None:
        """Each entry (a seeded sample of a large input's) against its own central difference."""
        gradient = self.gradients[name]
        shape = gradient.value.shape
        reach = _Reach(self.graph, self.function, self.at_base, self.base, [gradient.node], self.conventions)
        # An entry far smaller than its neighbours is judged against 1% of the largest entry: differences
        # of a function whose other slopes are 10⁵ times steeper cannot confirm it to 10⁻⁶ of itself.
        floor = RELATIVE_FLOOR * float(np.max(np.abs(gradient.value), initial=0.0))
        entries = list(np.ndindex(*shape)) if shape else [()]
        if len(entries) > self.affordable[name]:
            chosen = self.sampling.choice(len(entries), self.affordable[name], replace=False)
            entries = [entries[i] for i in sorted(chosen)]
        for index in entries:
            label = f"{name}{list(index)}" if index else name
            basis = np.zeros(shape)
            basis[index] = 1.0
            estimate, noise, resolution, kink = reach.difference([basis])
            if kink:
                self.tally.inconclusive(label, "", f"{kink}, so finite differences cannot confirm the derivative there")
                continue
            g = float(gradient.value[index])
            self.tally.judge(label, "", Evidence(g, estimate, noise, resolution, max(abs(g), abs(estimate), floor),
                                                 reach.ladder([basis]), bool(gradient.rounded[index])))


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
    """What moving some inputs changes: the nodes they reach are re-run, every other value is the base one."""

    def __init__(self, graph: Graph, function: Operand, at_base: dict, base: dict, nodes: list[int],
                 conventions: Conventions):
        self.graph, self.function, self.at_base, self.nodes, self.conventions = graph, function, at_base, nodes, conventions
        self.starts = [base[node] for node in nodes]
        reaching = [node for node in nodes if node in at_base]
        reached = graph.ancestors_within(function, reaching) if reaching else set()
        self.operations = [n for n in sorted(reached) if n not in nodes]
        self.breaks = [(graph.operands(n)[position], at, note)
                       for n in self.operations for position, at, note in breaks(graph, n, conventions)]
        self.choices = []  # max pooling: the entry each window passes on, at the base point
        for n in self.operations:
            op = ops.get(graph[n]["op"])
            if op.selects is not None:
                (operand, *_), params = op.split(graph.operands(n))
                self.choices.append((operand, params, op.selects, op.selects(value_of(at_base, operand), *params),
                                     f"{op.name} passes on another entry of a window within the step (a tie)"))

    def difference(self, direction: list[np.ndarray]) -> tuple[float, float, float, str]:
        """Richardson-extrapolated central difference along a direction (an entry's: its basis vector; one
        array per input moved), its error bound, resolution and kink notes."""
        # One step for every entry: entries near 0 are common in tensors, where a step relative to the entry
        # would only add rounding; a pole or kink within the step is reported by _crossed instead.
        h = _EPS ** (1 / 3)
        f, offsets, kinks, largest = self._at([h, h / 2, h / 4], direction)
        estimate, noise, resolution = richardson(f, offsets, largest)
        return estimate, float(noise), float(resolution), "; ".join(kinks)

    def ladder(self, direction: list[np.ndarray]) -> Ladder:
        def central() -> tuple[np.ndarray, np.ndarray]:
            f, offsets, _, largest = self._at(ladder_steps(_EPS ** (1 / 3)), direction)
            widths = np.array(offsets[0::2]) - np.array(offsets[1::2])
            with np.errstate(divide="ignore", invalid="ignore"):
                return (np.array(f[0::2]) - np.array(f[1::2])) / widths, 200 * _EPS * largest / np.abs(widths)
        return central

    def _at(self, steps, direction: list[np.ndarray]) -> tuple[list[float], list[float], dict[str, None], float]:
        """f at the inputs moved by ± each step along a unit direction, the offsets as taken (the move
        as rounded, projected on the direction: exact along a basis vector), kinks crossed, the largest value moved."""
        f, offsets, kinks, largest = [], [], {}, 0.0
        starts = [np.asarray(start, dtype=float) for start in self.starts]
        for step in steps:
            for sign in (1, -1):
                moved = dict(self.at_base)
                offset = 0.0
                for node, start, along in zip(self.nodes, starts, direction):
                    moved[node] = value = start + sign * step * along
                    offset += float(np.sum((value - start) * along))
                offsets.append(offset)
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
