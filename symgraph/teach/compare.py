"""Multiple-choice derivative questions: which candidate expressions equal the derivative.

A candidate is parsed like a program (one expression over the program's inputs and the names
it assigns) and compared with the derivative, the way an exam question is answered: first by
cheap, bounded SymPy steps, then numerically at seeded random points where both are defined
and no kink is near. SymPy's costly `simplify` runs only when the numbers found no difference,
so wrong options stay fast. Every verdict says how it was reached.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from symgraph import ops
from symgraph.api import Derivation, derive
from symgraph.engine import expand
from symgraph.engine.evaluate import evaluate, value_of
from symgraph.engine.graph import Graph, Operand, build
from symgraph.errors import InputError
from symgraph.explain.printing import unicode, value_text
from symgraph.lang.parse import parse
from symgraph.lang.program import Program
from symgraph.lang.source import source
from symgraph.notation import number, partial_text, pretty_name
from symgraph.ops.tensor import shape_text
from symgraph.teach.mistakes import ATOL, RTOL, Diagnosis, Mistakes, close
from symgraph.teach.precise import power_text, recheck
from symgraph.verify.check import sample_points
from symgraph.verify.tensor_check import random_point

__all__ = ["compare", "Comparison", "Verdict", "FORMATS", "POINTS", "RTOL", "ATOL"]

FORMATS = ("text", "json")
POINTS = 200  #: random points of the numerical comparison (a tensor program's are evaluated one by one)
MAX_WITNESS_NUMBERS = 12  #: a witness point with more numbers than this is given in JSON only
MAX_OPS = 200  #: a larger difference is left to the numbers
MAX_SIMPLIFY_OPS = 40  #: simplify only what cancel left this small: simplify's cost grows fast
MAX_ALIGN = 40  #: candidates up to this wide line their verdicts up
#: Functions whose exponential form is real, so rational-function steps see through them
#: (sin and cos would turn complex; they are left to simplify's trigsimp).
_EXP_FORMS = (ops.sigmoid, ops.softplus, ops.logsigmoid, ops.logsumexp, sp.tanh)

_MARKS = {True: "✓", False: "✗", None: "?"}
_LABELS = {True: "equal", False: "not equal", None: "undecided"}
_ADVERBS = {"symbolic": "symbolically", "numeric": "numerically"}


@dataclass(frozen=True)
class Verdict:
    """One candidate's answer; `equal` is None when neither SymPy nor the numbers could decide, or when the
    candidate could not be read (`error` says why). A wrong candidate carries its `diagnosis`."""

    expr: str  # as the user wrote it
    shown: str  # in Unicode math
    equal: bool | None
    reason: str
    method: str | None  # symbolic | numeric; None for a candidate that could not be read
    points: int | None = None
    max_difference: float | None = None
    witness: dict[str, Any] | None = None  # where a numeric comparison found them different
    diagnosis: Diagnosis | None = None
    error: str | None = None
    up_to: int | None = None  # equal only up to 10^up_to relative to the terms: all that the numbers show

    def lines(self, width: int) -> list[str]:
        if self.method is None:
            return []  # its error line is on stderr
        how = _ADVERBS[self.method]
        mark, label = ("≈", f"equal up to {power_text(self.up_to)}") if self.up_to is not None else (
            _MARKS[self.equal], _LABELS[self.equal])
        line = f"{mark} {self.shown.ljust(width)}  {label} ({how}, {self.reason})"
        return [line] if self.diagnosis is None else [line, f"  ↳ {self.diagnosis.text}"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "expr": self.expr,
            "equal": self.equal,
            "method": self.method,
            "reason": self.reason,
            "points": self.points,
            "max_difference": self.max_difference,
            "witness": self.witness,
            "diagnosis": None if self.diagnosis is None else self.diagnosis.to_dict(),
            "error": self.error,
            "up_to": None if self.up_to is None else f"1e{self.up_to}",
        }


@dataclass(frozen=True)
class Comparison:
    """The candidates' verdicts and the derivative they were compared with."""

    derivation: Derivation
    wrt: str
    verdicts: tuple[Verdict, ...]

    @property
    def status(self) -> int:
        """The exit status: 2 when a candidate could not be read, else 1 when one is wrong, else 0."""
        if any(v.error is not None for v in self.verdicts):
            return 2
        return 1 if any(v.equal is False for v in self.verdicts) else 0

    def errors(self) -> list[str]:
        """One line per candidate that could not be read: `candidate 2: unknown name 'z' …`."""
        return [f"candidate {k}: {v.error}" for k, v in enumerate(self.verdicts, 1) if v.error is not None]

    def derivative_line(self) -> str:
        d = self.derivation
        lhs = partial_text(d.output_name, self.wrt, d.total)
        expr = d.gradient[self.wrt]
        if expr is None:
            return f"{lhs}: written out, a tree of {d.tree_size(self.wrt):,} nodes (see symgraph derive)"
        return f"{lhs} = {d.writer.text(expr)}"

    def to_text(self) -> str:
        read = [v for v in self.verdicts if v.error is None]
        width = min(max((len(v.shown) for v in read), default=0), MAX_ALIGN)
        return "\n".join([*(line for v in read for line in v.lines(width)), self.derivative_line()]) + "\n"

    def to_dict(self) -> dict[str, Any]:
        d = self.derivation
        expr = d.gradient[self.wrt]
        return {
            "program": d.program.source,
            "of": d.output_name,
            "wrt": self.wrt,
            "derivative": None if expr is None else source(expr),
            "candidates": [v.to_dict() for v in self.verdicts],
            "exit_status": self.status,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def render(self, fmt: str) -> str:
        if fmt not in FORMATS:
            raise InputError(f"use one of {', '.join(FORMATS)}", parameter="format", value=fmt)
        return self.to_json() if fmt == "json" else self.to_text()


#: A numeric comparison: (equal, reason, points, largest difference, witness, the batches of points it used).
_Numbers = tuple[bool | None, str, int, float | None, dict[str, Any] | None, list[dict[int, Any]]]


class _Judge:
    """Compares candidates with one derivative on a private copy of the derivation's graph.

    Candidates become nodes of the copy, so their names resolve to the program's nodes and
    one straight-line sweep evaluates the derivative and the candidate together. The random
    points are drawn once and shared by every candidate and every mistake tried.
    """

    def __init__(self, derivation: Derivation, wrt: str):
        self.d = derivation
        self.wrt = wrt
        self.graph = copy.deepcopy(derivation.graph)
        self.gradient = derivation.gradients.of(derivation.wrt[wrt])
        self.derivative = derivation.gradient[wrt]
        self.mistakes = Mistakes(self.graph, derivation.gradients, derivation.wrt[wrt], self.gradient,
                                 derivation.writer, derivation.conventions)
        self._sampled: dict[str, np.ndarray] | list[Mapping[str, Any]] | None = None

    def _shapes(self, program: Program) -> dict[str, tuple[int, ...]] | None:
        """The shapes of the names a candidate reads, in a tensor derivation (None in a scalar one)."""
        if not self.graph.is_tensor:
            return None
        return {name: self.graph.shape(self.graph.names[name]) for name in program.inputs if name in self.graph.names}

    def __call__(self, text: str) -> Verdict:
        program = self._parse(text)
        candidate = self.graph.add_term(program.assignments[0].term)  # a shape error inside is an InputError
        shown = _shown(program, self._shapes(program), text, self.d.writer.text)
        difference = self._difference(candidate)
        decided = _symbolic(difference, _CHEAP_STEPS, set(self.d.at))
        if decided is not None and decided[0]:
            return Verdict(text, shown, *decided, "symbolic")
        equal, reason, points, largest, witness, batches = self._numeric(candidate)
        if decided is None and equal is not False:
            decided = _symbolic(difference, (_simplify,), set(self.d.at))
        if decided is None and equal and self._exactly_checkable(difference):
            exact = recheck(self.derivative, difference, {n: batches[0][v] for n, v in self.d.inputs.items()})
            if exact is not None:  # floating point agreed where exact arithmetic does not: no mistake is sought
                return Verdict(text, shown, exact.equal, exact.reason, "numeric", points, largest, up_to=exact.power)
        diagnosis = None
        if (equal if decided is None else decided[0]) is False:
            diagnosis = self.mistakes.explain(candidate, batches, self._where(batches))
        if decided is not None:
            return Verdict(text, shown, *decided, "symbolic", diagnosis=diagnosis)
        return Verdict(text, shown, equal, reason, "numeric", points, largest, witness, diagnosis)

    def _parse(self, text: str) -> Program:
        program = parse(text)
        if len(program.assignments) != 1 or program.assignments[0].name is not None:
            raise InputError("write one expression, not assignments")
        for name in program.inputs:
            if name not in self.graph.names:
                raise InputError(f"unknown name '{name}'; {self._allowed()}")
        return program

    def _allowed(self) -> str:
        program = self.d.program
        names = f"; assigned names: {', '.join(program.names)}" if program.names else ""
        return f"a candidate may use the inputs: {', '.join(program.inputs)}{names}"

    def _difference(self, candidate: Operand) -> sp.Expr | None:
        """Derivative minus candidate in real inputs; None when either is too large to write out.

        Inputs are real numbers; telling SymPy so lets it see |σ(x)| = σ(x) and √(σ²) = σ.
        """
        written = expand.inline(self.graph, candidate)
        if written is None or self.derivative is None:
            return None
        difference = self.derivative - written
        return difference.xreplace({s: sp.Symbol(s.name, real=True) for s in difference.free_symbols})

    def _exactly_checkable(self, difference: sp.Expr | None) -> bool:
        """Scalar programs, away from a step's jump (its value there is a convention exact arithmetic does not know)."""
        return difference is not None and not self.d.is_tensor and not (
            self._at_one_point() and difference.has(ops.step))

    def _at_one_point(self) -> bool:
        """--at gives every input: the numbers are compared there only."""
        return self.d.complete

    def _where(self, batches: list[dict[int, Any]]) -> str:
        if self._at_one_point():
            return "at the given point"
        count = len(next(iter(batches[0].values()))) if batches and not self.d.is_tensor else len(batches)
        return f"at the same {count} point{'s' if count != 1 else ''}"

    def _numeric(self, candidate: Operand) -> _Numbers:
        if self.d.is_tensor:
            return self._numeric_tensor(candidate)
        inputs = self.d.inputs
        targets = [self.gradient, candidate]
        points = self._points()
        values = evaluate(self.graph, {inputs[n]: points[n] for n in inputs}, targets, self.d.conventions)
        count = len(points[next(iter(inputs))])
        derivative, other = (np.broadcast_to(value_of(values, t), (count,)) for t in targets)
        defined = np.isfinite(derivative) & np.isfinite(other)
        if not defined.any():
            return None, "no point was found where both are defined", 0, None, None, []
        kept = {n: p[defined] for n, p in points.items()}
        batches = [{inputs[n]: kept[n] for n in inputs}]
        return (*self._agreement(kept, derivative[defined], other[defined]), batches)

    def _numeric_tensor(self, candidate: Operand) -> _Numbers:
        """Tensors: the whole gradient against the candidate, entry by entry, at each point in turn."""
        graph, inputs = self.graph, self.d.inputs
        shape, found = graph.shape(self.d.wrt[self.wrt]), graph.shape(candidate)
        points = self._tensor_points()
        every = [{inputs[n]: v for n, v in point.items()} for point in points]
        if found != shape:
            return False, f"it has shape {shape_text(found)}, the gradient {shape_text(shape)}", 0, None, None, every
        largest, used, batches = 0.0, 0, []
        for k, (point, batch) in enumerate(zip(points, every)):
            values = evaluate(graph, batch, [self.gradient, candidate], self.d.conventions)
            derivative, other = (np.broadcast_to(value_of(values, t), shape) for t in (self.gradient, candidate))
            if not (np.all(np.isfinite(derivative)) and np.all(np.isfinite(other))):
                continue
            used += 1
            batches.append(batch)
            difference = np.abs(derivative - other)
            largest = max(largest, float(difference.max(initial=0.0)))
            if not np.all(close(derivative, other)):
                entry = tuple(int(i) for i in np.unravel_index(int(np.argmax(difference)), shape)) if shape else ()
                reason = (f"{self._point_text(point, k, len(points))}, entry {list(entry)}: the derivative is "
                          f"{number(derivative[entry])} but this is {number(other[entry])}")
                witness = {"at": {n: np.asarray(v).tolist() for n, v in point.items()}, "entry": list(entry),
                           "derivative": float(derivative[entry]), "candidate": float(other[entry])}
                # The mistakes are tried at every point, not only at those before the first difference.
                return False, reason, used, largest, witness, every
        if not used:
            return None, "no point was found where both are defined", 0, None, None, []
        where = "at the given point" if self._at_one_point() else f"at {used} random points"
        return True, where, used, largest, None, batches

    def _point_text(self, point: Mapping[str, Any], k: int, count: int) -> str:
        """The inputs of a witness point when they are few numbers; else which random point it is."""
        if self._at_one_point():
            return "at the given point"
        if sum(np.size(v) for v in point.values()) <= MAX_WITNESS_NUMBERS:
            return "at " + ", ".join(f"{pretty_name(n)} = {value_text(v)}" for n, v in point.items())
        return f"at random point {k + 1} of {count} (the witness in --format json)"

    def _points(self) -> dict[str, np.ndarray]:
        """The --at point when it gives every input, else seeded random points away from kinks.

        The program itself must be defined there too: log(x)'s derivative 1/x is not, at x < 0.
        """
        if self._sampled is None:
            if self._at_one_point():
                self._sampled = {name: np.array([value]) for name, value in self.d.at.items()}
            else:
                targets = [self.d.output, self.gradient]
                self._sampled = sample_points(self.graph, targets, self.d.inputs, self.d.at, self.d.conventions, POINTS)
        assert isinstance(self._sampled, dict)
        return self._sampled

    def _tensor_points(self) -> list[Mapping[str, Any]]:
        if self._sampled is None:
            targets = [self.d.output, self.gradient]
            self._sampled = [self.d.at] if self._at_one_point() else [
                random_point(self.graph, self.d.inputs, self.d.at, targets, seed) for seed in range(POINTS)]
        assert isinstance(self._sampled, list)
        return self._sampled

    def _agreement(self, points, derivative, other) -> tuple[bool, str, int, float, dict[str, Any] | None]:
        """Equal when every point agrees within the tolerance; else the first point that does not."""
        difference = np.abs(derivative - other)
        count, largest = len(difference), float(difference.max())
        off = np.flatnonzero(~close(derivative, other))
        if off.size:
            k = off[0]
            where = ", ".join(f"{pretty_name(name)} = {number(p[k])}" for name, p in points.items())
            values = f"the derivative is {number(derivative[k])} but this is {number(other[k])}"
            witness = {"at": {n: float(p[k]) for n, p in points.items()}, "derivative": float(derivative[k]),
                       "candidate": float(other[k])}
            return False, f"at {where} {values}", count, largest, witness
        if self._at_one_point():
            return True, "at the given point", count, largest, None
        return True, f"at {count} random point{'s' if count != 1 else ''}", count, largest, None


def _shown(program: Program, shapes: Mapping[str, tuple[int, ...]] | None, text: str,
           write: Callable[[sp.Expr], str]) -> str:
    """The candidate in Unicode math, in the names it was written in (`write` is the derivation's printer)."""
    graph, output = build(program, graph=Graph(shapes) if shapes is not None else None)
    written = expand.inline(graph, output)
    if written is None or written.has(sp.zoo, sp.nan) or _long_rationals(written):  # 1/(t - t) reads better
        return text.strip()  # as written than as zoo, and so does 1e-300 than a 300-digit fraction
    return write(written)


def _simplify(expr: sp.Expr) -> sp.Expr:
    cancelled = sp.cancel(expr)
    return sp.simplify(cancelled) if sp.count_ops(cancelled) <= MAX_SIMPLIFY_OPS else cancelled


_CHEAP_STEPS: tuple[Callable[[sp.Expr], sp.Expr], ...] = (lambda e: e, sp.expand, sp.cancel)


def _symbolic(difference: sp.Expr | None, steps: Sequence[Callable[[sp.Expr], sp.Expr]],
              fixed: set[str]) -> tuple[bool, str] | None:
    """A verdict when one of the steps reduces the difference to a constant, or to a polynomial in inputs that
    --at leaves free (`fixed` are the others); None when none does."""
    if difference is None:
        return None
    form = difference.rewrite(_EXP_FORMS, sp.exp)
    if sp.count_ops(form) > MAX_OPS:
        return None
    for step in steps:
        reduced = step(form)
        if reduced == 0:
            return True, "the difference simplifies to 0"
        if reduced.is_number:
            return _constant(reduced)
        if reduced.is_polynomial() and reduced.free_symbols and not {v.name for v in reduced.free_symbols} & fixed:
            return _polynomial(reduced)
    return None


def _constant(difference: sp.Expr) -> tuple[bool, str] | None:
    """Not equal when a constant difference is a nonzero real number, however small (2x + 10⁻³⁰⁰ is not 2x)."""
    value = sp.N(difference, 30)
    if value.is_real is not True or value.is_zero is not False:
        return None
    return False, f"the derivative minus this is the constant {_short(difference)}"


def _polynomial(difference: sp.Expr) -> tuple[bool, str] | None:
    """Not equal when the difference is a polynomial in the inputs with a nonzero exact coefficient (e⁻¹⁰⁰⁰·x)."""
    coefficients = sp.Poly(difference, *sorted(difference.free_symbols, key=str)).coeffs()
    if not any(sp.N(c, 30).is_real and sp.N(c, 30).is_zero is False for c in coefficients):
        return None
    return False, f"the derivative minus this is {_short(difference)}, a polynomial that is not 0"


def _short(expr: sp.Expr) -> str:
    """An exact number prints short: 10⁻³⁰⁰, not a 300-digit fraction (an exact decimal is a Rational)."""
    long = {r: sp.Float(r, 15) for r in _long_rationals(expr)}
    return unicode(expr.xreplace(long) if long else expr)


def _long_rationals(expr: sp.Expr) -> list[sp.Rational]:
    return [r for r in expr.atoms(sp.Rational) if len(str(r)) > 20]


def compare(
    program: str,
    wrt: str | None,
    candidates: Sequence[str],
    at: Mapping[str, Any] | None = None,
    relu_at_zero: float = 0.0,
) -> Comparison:
    """Which candidates equal d(program)/d(wrt): symbolically where SymPy decides, else numerically.

    Each candidate is judged on its own: one that cannot be read gets its `error`, and the others are
    still judged; a wrong one gets the common mistake it equals, if any (symgraph.teach.mistakes).

    >>> [v.equal for v in compare("softplus(t)", "t", ["sigmoid(t)", "sigmoid(-t)"]).verdicts]
    [True, False]
    """
    if not candidates:
        raise InputError('no candidates given: write expressions after the program, e.g. "sigmoid(t)"')
    derivation = derive(program, wrt=wrt, at=at, relu_at_zero=relu_at_zero)
    if len(derivation.wrt) != 1:
        raise InputError(f"say which input: the program has inputs {', '.join(derivation.wrt)}", parameter="wrt")
    name = next(iter(derivation.wrt))
    judge = _Judge(derivation, name)
    return Comparison(derivation, name, tuple(_judged(judge, text) for text in candidates))


def _judged(judge: _Judge, text: str) -> Verdict:
    """The candidate's verdict, or its error (a parse or shape error, a constant beyond floating point)."""
    try:
        return judge(text)
    except InputError as error:
        return Verdict(text, text.strip(), None, "", None, error=str(error))
