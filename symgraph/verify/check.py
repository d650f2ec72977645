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

from symgraph import ops
from symgraph.engine.evaluate import Conventions, evaluate, value_of
from symgraph.engine.graph import Graph, Operand, is_node
from symgraph.notation import number
from symgraph.verify.differences import Cancellations, Ladder, converges, differences

__all__ = ["CheckReport", "ErrorFigure", "check", "merge", "sample_points", "RTOL", "ERROR_FLOOR", "Evidence", "Tally", "verdict"]

RTOL = 1e-6  #: relative agreement required
#: An error below this fraction of the derivative is rounding, whose digits change with the CPU's vector
#: instructions and the BLAS kernel: it is reported as the bound "< 10⁻⁷", the same on every machine.
ERROR_FLOOR = RTOL / 10
ERROR_DIGITS = 2  #: significant digits of an error figure above its floor
_EPS = np.finfo(float).eps
_SEED = 20261123
#: A reason names the point by its input values up to this many inputs, else by its number.
MAX_POINT_INPUTS = 8
#: A grouped note lists this many of the derivatives it is about, then counts the rest.
MAX_GROUPED = 8


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
    #: The inconclusive notes one by one (the reasons group them), so that merged reports group them together.
    notes: list[Note] = field(default_factory=list)

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
        nowhere = Note("", "", "no point was found where the program is defined")
        return CheckReport(listed, None, None, "inconclusive", [nowhere.sentence], notes=[nowhere])
    analytic = evaluate(graph, {inputs[n]: points[n] for n in inputs}, list(derivatives.values()), conventions)
    found = differences(graph, function, inputs, points, list(derivatives), conventions)
    tally = Tally()
    cancelling = Cancellations(graph, analytic, derivatives.values())
    where = [_point_text(point, k) for k, point in enumerate(listed)]  # once per point, not per input and point
    for name, derivative in derivatives.items():
        g = np.broadcast_to(value_of(analytic, derivative), (n_points,)) if is_node(derivative) else np.full(
            n_points, float(derivative)
        )
        rounded = np.zeros(n_points, dtype=bool)
        for cancelled in cancelling.of(derivative):
            rounded |= np.broadcast_to(cancelled, (n_points,))
        estimate, noise, resolution, notes, ladders = found[name]
        for k in range(n_points):
            if notes[k]:
                tally.inconclusive(name, where[k], f"{notes[k]}, so finite differences cannot confirm the derivative there")
                continue
            tally.judge(name, where[k], Evidence(float(g[k]), float(estimate[k]), float(noise[k]), float(resolution[k]),
                                                 max(abs(g[k]), abs(estimate[k])), ladders[k], bool(rounded[k])))
    return tally.report(listed)


@dataclass(frozen=True)
class Evidence:
    """What one entry's check rests on: the symbolic value, the differences, their error bound and resolution."""

    g: float
    estimate: float
    noise: float  #: the error bound of the estimate
    resolution: float  #: what rounding leaves: a derivative below it cannot be told from 0
    scale: float  #: what the relative error is relative to
    ladder: Ladder | None = None  #: differences at ever smaller steps, asked for before calling a failure
    rounded: bool = False  #: the symbolic value went through a sum that cancelled to exactly 0

    @property
    def error(self) -> float:
        return abs(self.g - self.estimate)


class Tally:
    """The verdicts of one check, their reasons and the errors of the entries judged.

    Failures are listed before inconclusive notes, so that a reader of the first lines, and the
    CLI's error line, meet them even among hundreds of kink notes; a note met by many entries is one line.
    """

    def __init__(self):
        self.verdicts: list[str] = []
        self.failures: list[str] = []
        self.notes: list[Note] = []
        self.abs_errors: list[float] = []
        self.rel_errors: list[float] = []
        self.scales: list[float] = []

    def inconclusive(self, label: str, where: str, sentence: str) -> None:
        self.verdicts.append("inconclusive")
        self.notes.append(Note(label, where, sentence))

    def judge(self, label: str, where: str, e: Evidence) -> None:
        status, sentence = verdict(e)
        self.verdicts.append(status)
        if status == "failed":
            self.failures.append(f"{Note(label, where, sentence).subject()}: {sentence}")
        elif status == "inconclusive":
            self.notes.append(Note(label, where, sentence))
        if status != "inconclusive" and np.isfinite(e.error):  # the maxima describe the entries judged
            self.abs_errors.append(e.error)
            self.rel_errors.append(e.error / e.scale if e.scale > 0 else 0.0)
            self.scales.append(e.scale)

    def report(self, points: list) -> CheckReport:
        return CheckReport(
            points,
            max(self.abs_errors, default=None),
            max(self.rel_errors, default=None),
            _overall(self.verdicts),
            self.failures + group(self.notes),
            len(self.failures),
            max(self.scales, default=0.0),
            self.notes,
        )


def _overall(statuses: list[str]) -> str:
    """Any failure fails; otherwise anything inconclusive makes the whole inconclusive."""
    return "failed" if "failed" in statuses else "inconclusive" if "inconclusive" in statuses else "passed"


def merge(reports: list[CheckReport]) -> CheckReport:
    """One report for several checks at the same points (the gradient, then each Hessian row)."""
    abs_errors = [r.max_abs_error for r in reports if r.max_abs_error is not None]
    rel_errors = [r.max_rel_error for r in reports if r.max_rel_error is not None]
    notes = [note for r in reports for note in r.notes]
    return CheckReport(
        reports[0].points,
        max(abs_errors) if abs_errors else None,
        max(rel_errors) if rel_errors else None,
        _overall([r.status for r in reports]),
        [reason for r in reports for reason in r.reasons[: r.failures]] + group(notes),
        sum(r.failures for r in reports),
        max(r.largest_derivative for r in reports),
        notes,
    )


def verdict(e: Evidence) -> tuple[str, str]:
    """passed, failed or inconclusive, with its reason: one sentence (empty when passed)."""
    tolerance = max(RTOL * e.scale, e.noise)
    if not np.isfinite(e.g) or not np.isfinite(e.estimate):
        return ("failed" if np.isfinite(e.estimate) else "inconclusive",
                f"the derivative is not finite here (symbolic {number(e.g)}, finite differences {number(e.estimate)})")
    if e.error > tolerance:
        if e.ladder is not None and not converges(*e.ladder(), e.g, e.estimate, tolerance):
            return "inconclusive", ("the function changes faster than the finite-difference step can follow "
                                    "(smaller steps give different slopes), so the check cannot confirm the derivative")
        return "failed", (f"symbolic {number(e.g)} but finite differences give {number(e.estimate)} "
                          f"(error {_error_text(e.error)}, tolerance {_error_text(tolerance)})")
    if e.g == 0 and e.rounded:
        return "inconclusive", ("the derivative rounds to 0 here (two equal numbers are subtracted), "
                                "so the check cannot tell a tiny derivative from 0")
    if e.g == 0:
        return "passed", ""  # an exact 0 needs no relative error: finite differences agree within their bound
    if e.scale < e.resolution:
        return "inconclusive", "the derivative is too small here for finite differences to resolve"
    if e.noise > 1e-2 * e.scale:
        return "inconclusive", "finite differences are too noisy here to confirm the derivative"
    return "passed", ""


@dataclass(frozen=True)
class Note:
    """An inconclusive note: whose derivative (label), at which point (empty for a tensor's one point), why."""

    label: str
    where: str
    sentence: str

    def subject(self) -> str:
        return f"∂/∂{self.label}" + (f" at {self.where}" if self.where else "")


def group(notes: list[Note]) -> list[str]:
    """One line per distinct sentence, in order of first appearance: who (listed up to MAX_GROUPED), how many, why."""
    by_sentence: dict[str, list[Note]] = {}
    for note in notes:
        by_sentence.setdefault(note.sentence, []).append(note)
    lines = []
    for sentence, same in by_sentence.items():
        if len(same) == 1:
            lines.append(f"{same[0].subject()}: {sentence}" if same[0].label else sentence)
            continue
        labels = list(dict.fromkeys(n.label for n in same))
        wheres = list(dict.fromkeys(n.where for n in same))
        shown = ", ".join(f"∂/∂{label}" for label in labels[:MAX_GROUPED])
        more = f" and {len(labels) - MAX_GROUPED} more" if len(labels) > MAX_GROUPED else ""
        at = f" at {wheres[0]}" if len(wheres) == 1 and wheres[0] else f" at {len(wheres)} points" if len(wheres) > 1 else ""
        count = f" ({len(same)} times)" if len(labels) > 1 or len(wheres) > 1 else ""
        lines.append(f"{shown}{more}{at}{count}: {sentence}")
    return lines


def _point_text(point: Mapping[str, float], k: int) -> str:
    """The point written out, or, past MAX_POINT_INPUTS inputs, its place in CheckReport.points: an MLP's
    point repeated in each of hundreds of reasons made megabytes of text."""
    if len(point) > MAX_POINT_INPUTS:
        return f"point {k + 1} (its {len(point):,} values: check.points[{k}])"
    return ", ".join(f"{name} = {number(value)}" for name, value in point.items())
