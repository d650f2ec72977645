"""The numerical check: symbolic derivatives against central finite differences.

Each derivative is compared with a Richardson-extrapolated central difference, whose own
error is estimated from two step sizes and floating-point rounding. The verdict is
honest: 'passed' only when the difference is within tolerance *and* the finite difference
is trustworthy; 'inconclusive' (with the reason) on a kink inside the step, a vanishing
gradient, or noisy differences; 'failed' when they disagree beyond every error bound.
The error maxima are reported as figures every CPU agrees on: below ERROR_FLOOR their digits are rounding,
which differs between CPUs, NumPy's vector paths and BLAS kernels, so the floor is given instead, as a bound.
The perturbed points of many inputs are evaluated in one vectorised sweep of the straight-line program.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from symgraph import ops
from symgraph.engine.evaluate import Conventions, evaluate, value_of
from symgraph.engine.graph import Graph, Operand, is_node
from symgraph.notation import number

__all__ = ["CheckReport", "ErrorFigure", "check", "merge", "sample_points", "RTOL", "ABS_FLOOR", "ERROR_FLOOR"]

RTOL = 1e-6  #: relative agreement required
ABS_FLOOR = 1e-10  #: below this a derivative "vanishes" and relative error means nothing
#: An error below this fraction of the derivative is rounding, whose digits change with the CPU's vector
#: instructions and the BLAS kernel: it is reported as the bound "< 10⁻⁷", the same on every machine.
ERROR_FLOOR = RTOL / 10
ERROR_DIGITS = 2  #: significant digits of an error figure above its floor
_EPS = np.finfo(float).eps
_ROWS = 6  # evaluations per point and input: x ± h, x ± h/2, x ± h/4
_SEED = 20261123
#: A reason names the point by its input values up to this many inputs, else by its number.
MAX_POINT_INPUTS = 8
_BATCH_FLOATS = 1 << 22  # node values per finite-difference sweep (32 MB of floats)
_STACK = 256  # nodes reduced at once when looking for the largest intermediate value


@dataclass(frozen=True)
class ErrorFigure:
    """An error maximum as reported: ERROR_DIGITS significant digits, or its floor when below it.

    At the floor (`bound`) the error is known only to be smaller; its own digits would be noise.
    """

    value: float
    floor: float
    bound: bool

    @classmethod
    def of(cls, error: float, floor: float) -> ErrorFigure:
        floor = _significant(floor)
        return cls(floor, floor, True) if error < floor else cls(_significant(error), floor, False)

    def text(self) -> str:
        return f"< {_error_text(self.value)}" if self.bound else _error_text(self.value)


def _error_text(value: float) -> str:
    """An error or tolerance for people: ERROR_DIGITS significant digits, and 10⁻⁷ rather than 1·10⁻⁷."""
    shown = number(value, ERROR_DIGITS)
    return shown.removeprefix("1·") if shown.startswith("1·10") else shown


def _significant(value: float) -> float:
    return float(f"{value:.{ERROR_DIGITS}g}")


@dataclass
class CheckReport:
    """The verdict and its reasons; `max_abs_error` and `max_rel_error` are the raw maxima, `figures()` as reported."""

    points: list[dict[str, float]]
    max_abs_error: float | None
    max_rel_error: float | None
    status: str  # passed | failed | inconclusive
    reasons: list[str] = field(default_factory=list)
    #: The first `failures` reasons are failures; the rest are inconclusive notes.
    failures: int = 0
    #: The largest derivative judged (the scale of its relative error): the absolute error's floor follows it.
    largest_derivative: float = 0.0

    @property
    def passed(self) -> bool | None:
        return {"passed": True, "failed": False}.get(self.status)

    def figures(self) -> tuple[ErrorFigure, ErrorFigure] | None:
        """(absolute, relative) error as reported, or None when no entry was judged.

        The relative floor is ERROR_FLOOR; the absolute one ERROR_FLOOR times the largest derivative, so an
        absolute error at or above it is at least ERROR_FLOOR of its own derivative too: signal, not rounding.
        """
        if self.max_abs_error is None or self.max_rel_error is None:
            return None
        return (ErrorFigure.of(self.max_abs_error, ERROR_FLOOR * self.largest_derivative),
                ErrorFigure.of(self.max_rel_error, ERROR_FLOOR))

    def summary(self) -> str:
        n = len(self.points)
        where = f"{n} point{'s' if n != 1 else ''}"
        errors = ""
        figures = self.figures()
        if figures is not None:
            absolute, relative = figures
            # Below the relative floor the absolute bound only restates the derivative's size: left out.
            shown = [] if relative.bound else [f"max abs error {absolute.text()}"]
            errors = ": " + ", ".join([*shown, f"max relative error {relative.text()}"])
        mark = {"passed": "✓ passed", "failed": "✗ FAILED", "inconclusive": "? inconclusive"}[self.status]
        return f"central differences (Richardson) at {where}{errors}  {mark}"


def sample_points(
    graph: Graph,
    targets: list[Operand],
    inputs: Mapping[str, int],
    fixed: Mapping[str, float | np.ndarray],
    conventions: Conventions,
    count: int = 3,
) -> dict[str, np.ndarray]:
    """Seeded random points where every target is finite and no kink is near."""
    rng = np.random.default_rng(_SEED)
    free = [name for name in inputs if name not in fixed]
    size = max(64, count)  # candidates drawn per range; 64 unless more points are asked for
    for low, high in ((-2.0, 2.0), (0.1, 3.0), (-10.0, 10.0)):
        candidates = {name: rng.uniform(low, high, size) for name in free}
        candidates.update({name: np.full(size, float(value)) for name, value in fixed.items()})
        values = evaluate(graph, {inputs[n]: candidates[n] for n in inputs}, targets, conventions)
        good = np.ones(size, dtype=bool)
        for node, value in values.items():
            good &= np.isfinite(value)
            for position, at, _ in ops.get(graph[node]["op"]).kinks(graph.operands(node)) if graph[node]["op"] else ():
                good &= np.abs(value_of(values, graph.operands(node)[position]) - value_of(values, at)) > 1e-3
        chosen = np.flatnonzero(good)[:count]
        if len(chosen):
            return {name: candidates[name][chosen] for name in inputs}
    return {name: np.empty(0) for name in inputs}


def check(
    graph: Graph,
    function: Operand,
    derivatives: Mapping[str, Operand],
    inputs: Mapping[str, int],
    points: Mapping[str, np.ndarray],
    conventions: Conventions = Conventions(),
) -> CheckReport:
    """Compare d function / d input (the `derivatives` nodes) with finite differences at `points`."""
    n_points = len(next(iter(points.values()))) if points else 0
    listed = [{name: float(points[name][k]) for name in inputs} for k in range(n_points)]
    if n_points == 0:
        return CheckReport(listed, None, None, "inconclusive", ["no point was found where the program is defined"])
    analytic = evaluate(graph, {inputs[n]: points[n] for n in inputs}, list(derivatives.values()), conventions)
    differences = _differences(graph, function, inputs, points, list(derivatives), conventions)
    tally = Tally()
    where = [_point_text(point, k) for k, point in enumerate(listed)]  # once per point, not per input and point
    for name, derivative in derivatives.items():
        g = np.broadcast_to(value_of(analytic, derivative), (n_points,)) if is_node(derivative) else np.full(
            n_points, float(derivative)
        )
        estimate, noise, kinked = differences[name]
        for k in range(n_points):
            if kinked[k]:
                tally.inconclusive(f"∂/∂{name} at {where[k]}: {kinked[k]}")
                continue
            error = abs(g[k] - estimate[k])
            tally.judge(name, where[k], g[k], estimate[k], error, max(abs(g[k]), abs(estimate[k])), noise[k])
    return tally.report(listed)


class Tally:
    """The verdicts of one check, their reasons and the errors of the entries judged.

    Failures are listed before inconclusive notes, so that a reader of the first lines, and the
    CLI's error line, meet them even among hundreds of kink notes.
    """

    def __init__(self):
        self.verdicts: list[str] = []
        self.failures: list[str] = []
        self.notes: list[str] = []
        self.abs_errors: list[float] = []
        self.rel_errors: list[float] = []
        self.scales: list[float] = []

    def inconclusive(self, reason: str) -> None:
        self.verdicts.append("inconclusive")
        self.notes.append(reason)

    def judge(self, name, at, g, estimate, error, scale, noise) -> None:
        reasons: list[str] = []
        verdict = _verdict(name, at, g, estimate, error, scale, noise, reasons)
        self.verdicts.append(verdict)
        (self.failures if verdict == "failed" else self.notes).extend(reasons)
        if verdict != "inconclusive" and np.isfinite(error):  # the maxima describe the entries judged
            self.abs_errors.append(error)
            self.rel_errors.append(error / scale if scale > 0 else 0.0)
            self.scales.append(scale)

    def report(self, points: list) -> CheckReport:
        return CheckReport(
            points,
            max(self.abs_errors, default=None),
            max(self.rel_errors, default=None),
            _overall(self.verdicts),
            self.failures + self.notes,
            len(self.failures),
            max(self.scales, default=0.0),
        )


def _overall(statuses: list[str]) -> str:
    """Any failure fails; otherwise anything inconclusive makes the whole inconclusive."""
    return "failed" if "failed" in statuses else "inconclusive" if "inconclusive" in statuses else "passed"


def merge(reports: list[CheckReport]) -> CheckReport:
    """One report for several checks at the same points (the gradient, then each Hessian row)."""
    abs_errors = [r.max_abs_error for r in reports if r.max_abs_error is not None]
    rel_errors = [r.max_rel_error for r in reports if r.max_rel_error is not None]
    return CheckReport(
        reports[0].points,
        max(abs_errors) if abs_errors else None,
        max(rel_errors) if rel_errors else None,
        _overall([r.status for r in reports]),
        [reason for r in reports for reason in r.reasons[: r.failures]]
        + [reason for r in reports for reason in r.reasons[r.failures :]],
        sum(r.failures for r in reports),
        max(r.largest_derivative for r in reports),
    )


def _verdict(name, at, g, estimate, error, scale, noise, reasons) -> str:
    tolerance = max(RTOL * scale, noise)
    if not np.isfinite(g) or not np.isfinite(estimate):
        reasons.append(f"∂/∂{name} at {at}: not finite (symbolic {number(g)}, numeric {number(estimate)})")
        return "failed" if np.isfinite(estimate) else "inconclusive"
    if error > tolerance:
        reasons.append(
            f"∂/∂{name} at {at}: symbolic {number(g)} but finite differences give {number(estimate)} "
            f"(error {_error_text(error)}, tolerance {_error_text(tolerance)})"
        )
        return "failed"
    if scale < ABS_FLOOR and scale > 0:
        reasons.append(
            f"∂/∂{name} at {at}: the derivative vanishes (below {_error_text(ABS_FLOOR)}), "
            "so relative error means nothing"
        )
        return "inconclusive"
    if noise > 1e-2 * scale and scale > 0:
        reasons.append(
            f"∂/∂{name} at {at}: finite differences are too noisy here (their error bound is over 1% of the derivative)"
        )
        return "inconclusive"
    return "passed"


def _differences(graph, function, inputs, points, names, conventions) -> dict[str, tuple]:
    """Per input in `names`: its Richardson-extrapolated central difference, error bound and kink notes.

    Three steps h, h/2, h/4 give two extrapolations; their disagreement bounds the error. Two
    steps alone can agree by accident, e.g. sin(x) at x = 10¹⁰ where every step spans many periods.
    The perturbed points of many inputs go through one sweep of the program (a block of columns
    per input), so the per-node cost of a sweep is paid once per batch rather than once per input.
    """
    n_points = len(next(iter(points.values())))
    needed = sorted(graph.upstream([function]))
    breaks = [(node, *found) for node in needed for found in _breaks(graph, node, conventions)]
    # Columns per sweep: enough inputs that the per-node overhead is shared, few enough that the
    # values of every node in the sweep (nodes × columns floats) stay within a few tens of MB.
    per_input = _ROWS * n_points
    batch_size = max(1, _BATCH_FLOATS // (per_input * max(len(needed), 1)))
    results = {}
    for first in range(0, len(names), batch_size):
        batch_names = names[first : first + batch_size]
        results.update(_sweep(graph, function, inputs, points, batch_names, breaks, conventions))
    return results


def _sweep(graph, function, inputs, points, names, breaks, conventions) -> dict[str, tuple]:
    """The differences along each of `names`, from one evaluation of `function` at all their perturbed points."""
    n_points, m = len(points[names[0]]), len(names)
    columns = _ROWS * n_points
    names_in = list(inputs)
    tiled = np.tile(np.array([points[n] for n in names_in], dtype=float).reshape(len(names_in), n_points), (1, _ROWS * m))
    batch = dict(zip(names_in, tiled))  # one row (a view) per input: every point, repeated per perturbation
    x = np.array([points[n] for n in names], dtype=float).reshape(m, n_points)
    # Relative to x below 1, so that 1/x at 10⁻⁶ is not differenced across its pole; never above
    # ε^(1/3), so that sin(x) at 10¹⁰ is not stepped across whole periods (it is judged noisy instead).
    h = _EPS ** (1 / 3) * np.clip(np.abs(x), 1e-3, 1.0)
    steps = [h, h / 2, h / 4]  # each (input, point)
    offsets = np.stack([sign * step for step in steps for sign in (1, -1)], axis=1).reshape(m, columns)
    for j, name in enumerate(names):
        batch[name][j * columns : (j + 1) * columns] += offsets[j]  # input j's block: x ± h, x ± h/2, x ± h/4
    values = evaluate(graph, {inputs[n]: batch[n] for n in inputs}, [function], conventions)
    f = np.broadcast_to(value_of(values, function), (m * columns,)).reshape(m, _ROWS, n_points)
    estimate, noise = richardson([f[:, row] for row in range(_ROWS)], steps, _magnitude(values, m, n_points))
    kinked = _kinks(graph, values, breaks, m, n_points)
    return {name: (estimate[j], noise[j], kinked[j]) for j, name in enumerate(names)}


def richardson(f, steps, magnitude):
    """The extrapolated derivative and its error bound from f at x ± h, x ± h/2, x ± h/4 (in that order).

    Two extrapolations; their disagreement, plus rounding relative to `magnitude` (the largest
    intermediate value), bounds the error. Works on floats and on arrays alike.
    """
    central = [(f[2 * i] - f[2 * i + 1]) / (2 * step) for i, step in enumerate(steps)]
    coarse = (4 * central[1] - central[0]) / 3
    estimate = (4 * central[2] - central[1]) / 3
    rounding = _EPS * magnitude / steps[-1]
    return estimate, 10 * np.abs(estimate - coarse) + 100 * rounding


def _magnitude(values, m, n_points) -> np.ndarray:
    """Per input block and point, the largest intermediate value: rounding in f is relative to it, not to f.

    (x/(x·w))·w with w = 10⁻¹⁰ passes through 10¹⁰ and loses that many digits, although f ≈ 1.)
    Nodes are reduced a few hundred at a time (stacked), not with a few NumPy calls per node.
    """
    shape = (m * _ROWS * n_points,)
    largest = np.zeros(shape)
    arrays = list(values.values())
    for first in range(0, len(arrays), _STACK):  # a few hundred nodes at a time keeps the copy small
        stacked = np.abs(np.stack([v if v.shape == shape else np.broadcast_to(v, shape) for v in arrays[first : first + _STACK]]))
        stacked[~np.isfinite(stacked)] = 0.0
        np.maximum(largest, stacked.max(axis=0), out=largest)
    return largest.reshape(m, _ROWS, n_points).max(axis=1)


def _kinks(graph, values, breaks, m, n_points) -> list[list[str]]:
    """Per input block and point, a note for each op whose operand crosses (or sits on) its kink within the step."""
    notes: list[list[dict[str, None]]] = [[{} for _ in range(n_points)] for _ in range(m)]
    for node, position, at, note in breaks:
        # Near the break relative to how far the step moves the operand: this catches a crossing
        # (relu(x) at 0) and a touch without crossing (sqrt(x²) at x ≈ 0) alike. An operand the input
        # does not move (relu(y) at y = 0 while z is stepped) is no kink for that input's difference.
        u = value_of(values, graph.operands(node)[position]) - value_of(values, at)
        u = np.broadcast_to(u, (m * _ROWS * n_points,)).reshape(m, _ROWS, n_points)
        spread = np.max(u, axis=1) - np.min(u, axis=1)
        near = (np.min(np.abs(u), axis=1) <= spread) & (spread > 0)
        for j, k in zip(*np.nonzero(near)):
            notes[j][k][note] = None
    return [
        ["; ".join(n) + ", so finite differences cannot confirm the derivative there" if n else "" for n in block]
        for block in notes
    ]


def _breaks(graph: Graph, node: int, conventions: Conventions) -> list[tuple[int, Operand, str]]:
    """(operand position, the number or operand it breaks at, note) where the node's derivative breaks: a kink or a pole."""
    op_name = graph[node]["op"]
    if op_name is None:
        return []
    op = ops.get(op_name)
    convention = op.kink_note.format(relu_at_zero=number(conventions.relu_at_zero))
    found: list[tuple[int, Operand, str]] = [
        (position, at, f"{op.name} has a kink {where} within the step ({convention})")
        for position, at, where in op.kinks(graph.operands(node))
    ]
    pole = op.pole(graph.operands(node)) if op.pole is not None else None
    if pole is not None:
        found.append((pole, sp.Integer(0), f"{op.name} is singular where its operand is 0, within the step"))
    return found


def _point_text(point: Mapping[str, float], k: int) -> str:
    """The point written out, or, past MAX_POINT_INPUTS inputs, its place in CheckReport.points: an MLP's
    point repeated in each of hundreds of reasons made megabytes of text."""
    if len(point) > MAX_POINT_INPUTS:
        return f"point {k + 1} (its {len(point):,} values: check.points[{k}])"
    return ", ".join(f"{name} = {number(value)}" for name, value in point.items())
