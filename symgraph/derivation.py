"""Derivation: what `derive` found, the object users hold.

It runs the backward pass (twice for order 2) and the values on construction; forms, steps and
the check on demand (cached). Formats and pictures read it through symgraph.output's
DerivationView protocol; this module sits above them and hands them itself.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
import sympy as sp

from symgraph import ops
from symgraph.engine import expand
from symgraph.engine.backward import Gradients, Seed, backward
from symgraph.engine.evaluate import Conventions, evaluate, first_invalid, jacobian, overflow, value_of
from symgraph.engine.graph import Graph, Operand, is_node
from symgraph.engine.shapes import afford, work
from symgraph.errors import EvaluationError
from symgraph.explain.jacobian import closed_form
from symgraph.explain.notes import derivation_notes
from symgraph.explain.printing import unicode, value_latex, value_text
from symgraph.explain.steps import Step, Writer, local_steps, path_steps, paths_to, result_steps, update_steps
from symgraph.explain.tensor_steps import backprop_steps
from symgraph.explain.textbook import Textbook
from symgraph.lang.program import Program
from symgraph.notation import latex_name, partial_symbol, partial_text, pretty_name
from symgraph.ops.tensor import shape_text
from symgraph.output.formats import to_dict, to_json, to_text
from symgraph.output.notebook import derivation_bundle
from symgraph.verify.check import CheckReport, check, merge, sample_points
from symgraph.verify.tensor_check import check_jacobian, check_tensor, checked_entries, random_point

if TYPE_CHECKING:
    from symgraph.output.render import Picture

__all__ = ["Derivation", "timed"]


class Derivation:
    """A program with its graph, gradients, explanation and numbers. Build it with `derive`."""

    #: Set only by symgraph.teach.network: the Network that wrote the program (Any: that layer sits above this one).
    network: Any

    def __init__(
        self,
        program: Program,
        graph: Graph,
        output: Operand,
        wrt: Sequence[str],
        at: Mapping[str, float | np.ndarray],
        order: int,
        conventions: Conventions,
        timings: Mapping[str, float] | None = None,
        mode: str = "gradient",
        seed: Seed | None = None,
    ):
        #: Seconds per stage (parse, build, backward, evaluate, check), for symgraph.output.stats.
        self.timings: dict[str, float] = dict(timings or {})
        #: Labelled sub-graphs that pictures frame; symgraph.teach.network sets them.
        self.clusters: Mapping[str, Sequence[str]] | None = None
        self.program = program
        self.graph = graph
        #: forward (values only), gradient (of a scalar output), jacobian (of a tensor output) or
        #: upstream (the backward pass from a given gradient of the output).
        self.mode = mode
        #: The upstream gradient δy and L = ⟨δy, y⟩ in the jacobian and upstream modes; then `output`
        #: is L and `seed.of` the program's output y.
        self.seed = seed
        #: (learning rate η, weight decay λ) of one gradient-descent step w ← w − η(∂L/∂w + λw), or None.
        self.update: tuple[float, float] | None = None
        self.output = seed.loss if seed is not None else output
        self.inputs: dict[str, int] = {name: graph.names[name] for name in program.inputs}
        if seed is not None and mode == "upstream":
            self.inputs[graph.label(seed.node)] = seed.node
        self.wrt: dict[str, int] = {name: self.inputs[name] for name in wrt}
        self.at = dict(at)
        self.order = order
        self.conventions = conventions
        with timed(self.timings, "backward"):
            self.gradients: Gradients = backward(graph, self.output, list(self.wrt.values()))
            self.second: dict[str, Gradients] = {}
            if order == 2:
                for name in self.wrt:
                    self.second[name] = backward(graph, self.gradients.of(self.wrt[name]), list(self.wrt.values()))
        with timed(self.timings, "evaluate"):
            self.values = self._evaluate() if self.complete else None
        self.writer = Writer(conventions.relu_at_zero, self.value, graph.expr_shape if graph.is_tensor else None)

    # --- numbers ----------------------------------------------------------------------------------
    def _targets(self) -> list[Operand]:
        targets = [*self.graph.nodes("input", "forward"), *self.gradients.adjoint.values(), *self.gradients.local_node.values()]
        for gradients in self.second.values():
            targets.extend(gradients.of(node) for node in self.wrt.values())
        return targets

    def _evaluate(self) -> dict[int, np.ndarray]:
        afford("evaluating the program and its derivatives", work(self.graph, self.graph.nodes()))
        values = evaluate(self.graph, self._point(), self._targets(), self.conventions)
        # A local partial that is infinite where a flat zero multiplies it (√relu(x) at −1) leaves the results finite.
        results = [*self.graph.nodes("input", "forward"), *(self.gradients.of(n) for n in self.wrt.values()),
                   *(g.of(n) for g in self.second.values() for n in self.wrt.values())]
        broken = [r for r in results if is_node(r) and r in values and not np.all(np.isfinite(values[r]))]
        bad = first_invalid(self.graph, values, self.graph.upstream(broken)) if broken else None
        if bad is not None:
            raise EvaluationError(self._describe_invalid(bad, values))
        return values

    def _describe_invalid(self, node: int, values: Mapping[int, np.ndarray]) -> str:
        graph, relu, data = self.graph, self.conventions.relu_at_zero, self.graph[node]
        operands = [o for o in data["operands"] if is_node(o) and graph[o]["kind"] == "forward"]  # never a _g node
        at = ", ".join(f"{unicode(graph.symbol(o))} = {value_text(values[o])}" for o in operands)
        point = ", ".join(f"{pretty_name(n)} = {value_text(v)}" for n, v in self.at.items())
        where, domain = (f"{point} ({at})" if at else point), ops.get(data["op"]).domain
        what, expr = ("the derivative", self._intermediate_form(node) or graph.expr(node)) if data["kind"] == "gradient" \
            else (pretty_name(data["name"]), graph.expr(node))
        for (v, u), local_node in self.gradients.local_node.items() if data["kind"] == "gradient" else ():
            if is_node(local_node) and node in graph.upstream([local_node]):  # the op being differentiated says why
                what, expr = partial_text(graph.label(v), graph.label(u)), self.gradients.local[(v, u)]
                domain = ops.get(graph[v]["op"]).domain or domain
                break
        size, written = overflow(graph, values, node), unicode(expr, relu)
        subject, needs = (what, f": it needs {written}") if what == "the derivative" else (f"{what} = {written}", "")
        if size is not None:
            return (f"{subject} overflows at {where}{needs or ': it'}{', which' if needs else ''} reaches about {size}, beyond the largest "
                    "floating-point number (about 1.8·10³⁰⁸); rescale the inputs or rewrite the formula")
        return f"{subject} is undefined at {where}{needs}" + (f": {domain}" if domain else "")

    def _point(self, seed: np.ndarray | None = None) -> dict[int, np.ndarray]:
        """The inputs' values by node; in the jacobian mode δy too (zeros unless given: it changes no forward value)."""
        point = {self.inputs[name]: np.asarray(value) for name, value in self.at.items()}
        if self.mode == "jacobian" and self.seed is not None:
            point[self.seed.node] = np.zeros(self.graph.shape(self.seed.node)) if seed is None else seed
        return point

    @cached_property
    def _seeded(self) -> set[int]:
        """In the jacobian mode, the nodes whose value depends on δy: they have no one value to show."""
        if self.mode != "jacobian" or self.seed is None:
            return set()
        return {self.seed.node} | set(nx.descendants(self.graph.dag, self.seed.node))

    @cached_property
    def jacobian(self) -> dict[str, np.ndarray] | None:
        """name → ∂y/∂name, of shape y's + name's (as jax.jacrev), in the jacobian mode with values; else None."""
        if self.mode != "jacobian" or self.seed is None or self.values is None:
            return None
        derivatives = {name: self.gradients.of(node) for name, node in self.wrt.items()}
        return jacobian(self.graph, self.seed, derivatives, self._point(), self.conventions)

    @property
    def step(self) -> dict[str, float | np.ndarray] | None:
        """name → its value after the gradient-descent step, or None when no step was asked."""
        if self.update is None:
            return None
        rate, decay = self.update
        step: dict[str, float | np.ndarray] = {}
        for name in self.wrt:
            value, gradient = np.asarray(self.at[name], dtype=float), self.gradient_value(name)
            new = value - rate * (np.asarray(gradient, dtype=float) + decay * value)
            step[name] = float(new) if new.ndim == 0 else new
        return step

    @cached_property
    def notes(self) -> list[str]:
        """Plain sentences said under the graph: what was asked and how it is answered."""
        return derivation_notes(self)

    @property
    def checked(self) -> bool:
        """A derivative was asked, so the finite-difference check applies."""
        return self.mode != "forward" and bool(self.wrt)

    @property
    def complete(self) -> bool:
        """Every input has a value: numbers are shown everywhere and the check runs at that point."""
        return bool(self.inputs) and set(self.at) == set(self.inputs)

    @property
    def is_tensor(self) -> bool:
        return self.graph.is_tensor

    def value(self, operand: Operand) -> float | np.ndarray | None:
        """A node's (or constant's) value: a float, or an array in a tensor program; None without values."""
        if self.values is None or operand in self._seeded:
            return None
        value = value_of(self.values, operand)
        return float(value) if np.ndim(value) == 0 else np.asarray(value)

    def gradient_value(self, name: str) -> float | np.ndarray | None:
        """∂output/∂name at the point, shaped like the input (zeros where the output does not depend on it);
        in the jacobian mode the Jacobian."""
        if self.mode == "jacobian":
            return None if self.jacobian is None else self.jacobian[name]
        value = self.value(self.gradients.of(self.wrt[name]))
        if value is None or not self.graph.is_tensor:
            return value
        return np.broadcast_to(value, self.graph.shape(self.wrt[name])).copy()

    # --- forms --------------------------------------------------------------------------------------
    @cached_property
    def _kept(self) -> set[int]:
        """Nodes that stay symbols in the 'in terms of intermediates' form: the user's names and the output."""
        kept = {n for n in self.graph.nodes("forward") if self.graph[n]["user_named"]}
        if is_node(self.output):
            kept.add(self.output)
        return kept

    @cached_property
    def _kept_symbols(self) -> dict[sp.Symbol, int]:
        """The kept nodes' symbols, in node order: what the intermediate forms are collected on."""
        return {self.graph.symbol(n): n for n in sorted(self._kept)}

    @cached_property
    def _named(self) -> expand.Inliner:
        """Nodes written in the kept names, each node once for every derivative."""
        return expand.Inliner(self.graph, self._kept)

    @cached_property
    def _written(self) -> expand.Inliner:
        """Nodes written in the inputs, each node once for every derivative."""
        return expand.Inliner(self.graph)

    def _intermediate_form(self, operand: Operand) -> sp.Expr | None:
        expr = self._named.inline(operand)
        if expr is None:
            return None
        return expand.tidy(expr, self._kept_symbols)

    def _input_form(self, operand: Operand) -> sp.Expr | None:
        expr = self._written.inline(operand)
        return None if expr is None else expand.tidy(expr)

    @cached_property
    def gradient(self) -> dict[str, sp.Expr | None]:
        """name → the derivative in the inputs (None when its tree would be too large to write)."""
        return {name: self._input_form(self.gradients.of(node)) for name, node in self.wrt.items()}

    @cached_property
    def in_terms_of_intermediates(self) -> dict[str, sp.Expr | None]:
        return {name: self._intermediate_form(self.gradients.of(node)) for name, node in self.wrt.items()}

    @cached_property
    def textbook(self) -> dict[str, sp.Expr | None]:
        """name → the derivative as a textbook writes it (p − y, (A + Aᵀ)x), verified equal; None where no op's
        rewrite gives one beyond the forms already shown."""
        book = Textbook(self.graph, self._kept, self._named, self._written)
        return {name: book.form(self.in_terms_of_intermediates[name], [f for f in (self.gradient[name],) if f is not None])
                for name in self.wrt}

    @cached_property
    def hessian(self) -> dict[str, dict[str, sp.Expr | None]] | None:
        if self.order != 2:
            return None
        return {
            i: {j: self._input_form(self.second[i].of(node)) for j, node in self.wrt.items()} for i in self.wrt
        }

    def tree_size(self, name: str) -> int:
        """Nodes of ∂output/∂name written out as one tree; counted once (the steps and JSON both ask)."""
        return self._written.size(self.gradients.of(self.wrt[name]))

    @property
    def output_name(self) -> str:
        """The output's name; an input that is the output (y = x) goes by the name assigned to it."""
        if not is_node(self.output):
            assigned = [a.name for a in self.program.assignments if a.name is not None]
            return assigned[-1] if assigned else "y"
        data = self.graph[self.output]
        return data["aliases"][-1] if data["op"] is None and data["aliases"] else self.graph.label(self.output)

    @property
    def total(self) -> bool:
        """One input: write dy/dx; several: ∂y/∂x."""
        return len(self.inputs) == 1

    def path_counts(self) -> dict[str, int]:
        reach = paths_to(self.graph, self.output)
        return {name: reach.get(node, 0) for name, node in self.wrt.items()}

    # --- explanation --------------------------------------------------------------------------------
    @cached_property
    def steps(self) -> list[Step]:
        if self.mode == "forward":
            return []
        if not is_node(self.output) or self.graph[self.output]["op"] is None:
            steps = []  # a constant or an input: its derivative is said in one line
        elif self.graph.is_tensor:
            steps = backprop_steps(self.graph, self.gradients, self.writer)
        else:
            steps = local_steps(self.graph, self.gradients, self.writer)
            steps += path_steps(self.graph, self.gradients, self.wrt, self.total, self.writer)
        lhs = {name: partial_symbol(self.output_name, name, self.total) for name in self.wrt}
        forms, values = {}, {}
        for name, node in self.wrt.items():
            both = [self.in_terms_of_intermediates[name], self.gradient[name]]
            forms[name] = list(dict.fromkeys(f for f in both if f is not None)) or [self._too_large(name)]
            values[name] = None if self.mode == "jacobian" else self.gradient_value(name)
        steps += result_steps(lhs, forms, values, self.writer, self.textbook)
        if self.update is not None and self.step is not None:
            steps += update_steps(self.update, self.step, self.at, {name: lhs[name] for name in self.wrt})
        if self.jacobian is not None and self.seed is not None:
            steps += self._jacobian_steps(self.seed)
        if self.hessian is not None:
            for i, row in self.hessian.items():
                for j, expr in row.items():
                    lhs_text, lhs_tex = _second_symbol(self.output_name, i, j)
                    shown = [expr] if expr is not None else [self._too_large(i)]
                    rhs, rhs_tex = self.writer.forms(shown, self.value(self.second[i].of(self.wrt[j])))
                    steps.append(Step("result", lhs_text, rhs, lhs_tex, rhs_tex))
        return steps

    def _jacobian_steps(self, seed: Seed) -> list[Step]:
        """∂y/∂x with its numbers, one line per input; row i is the sweep at δy = eᵢ."""
        assert self.jacobian is not None
        y = self.graph.label(seed.of)
        steps = []
        for name, value in self.jacobian.items():
            lhs, lhs_tex = partial_symbol(y, name, False)
            shape = shape_text(value.shape)
            form = self._closed_form(seed.of, self.wrt[name], value)
            if isinstance(form, sp.Expr):
                rhs, rhs_tex = self.writer.forms([form], value)
            else:
                rhs, rhs_tex = value_text(value), value_latex(value)
            steps.append(Step("result", lhs, f"{rhs}    ({shape}: row i is ∂{pretty_name(y)}ᵢ/∂{pretty_name(name)})",
                              lhs_tex, rhs_tex))
            if isinstance(form, str):
                steps.append(Step("result", "", form, "", rf"\text{{{form}}}", note=True))
        return steps

    def _closed_form(self, y: int, x: int, value: np.ndarray) -> sp.Expr | str | None:
        """∂y/∂x in matrix notation, shown only where it equals the Jacobian's numbers (or the op's rule in words)."""
        form = closed_form(self.graph, x, y)
        if not isinstance(form, sp.Expr) or self.values is None:
            return form
        at = {self.graph.symbol(n): np.asarray(v) for n, v in self.values.items() if self.graph[n]["kind"] != "gradient"}
        try:
            numbers = ops.approximate(form, at)
        except KeyError:  # a symbol without a value
            return None
        return form if np.shape(numbers) == value.shape and np.allclose(numbers, value, rtol=1e-9, atol=1e-12) else None

    def _too_large(self, name: str) -> sp.Symbol:
        size = self.tree_size(name)
        return sp.Symbol(f"[written out, this derivative would be a tree of {size:,} nodes; see the graph]")

    # --- check --------------------------------------------------------------------------------------
    def check(self) -> CheckReport:
        """Finite differences at the --at point, or at seeded random points where the program is defined."""
        if getattr(self, "_check", None) is None:
            with timed(self.timings, "check"):
                self._check = self._run_check()
        return self._check

    def _run_check(self) -> CheckReport:
        derivatives = {name: self.gradients.of(node) for name, node in self.wrt.items()}
        if self.mode == "jacobian" and self.seed is not None:
            point = dict(self.at) if self.complete else random_point(
                self.graph, self.inputs, self.at, [self.seed.of, self.output, *derivatives.values()])
            return check_jacobian(self.graph, self.seed, derivatives, self.inputs, point, self.conventions)
        if self.graph.is_tensor:
            afford("evaluating the program and its derivatives", work(self.graph, self.graph.nodes()))
            checked_entries(self.graph, self.output, derivatives, self.inputs)  # a check too large is refused now
            targets = [self.output, *derivatives.values()]
            point = self.at if self.complete else random_point(self.graph, self.inputs, self.at, targets)
            return check_tensor(self.graph, self.output, derivatives, self.inputs, point, self.conventions)
        checks = [(self.output, derivatives)]
        for i, gradients in self.second.items():
            checks.append((self.gradients.of(self.wrt[i]), {j: gradients.of(n) for j, n in self.wrt.items()}))
        targets = [t for function, row in checks for t in (function, *row.values())]
        if self.complete:
            points = {name: np.array([value]) for name, value in self.at.items()}
        else:
            points = sample_points(self.graph, targets, self.inputs, self.at, self.conventions)
        reports = [check(self.graph, f, row, self.inputs, points, self.conventions) for f, row in checks]
        return merge(reports)

    # --- output -------------------------------------------------------------------------------------
    def to_dict(self, include_check: bool = True) -> dict:
        return to_dict(self, include_check)

    def to_json(self, include_check: bool = True) -> str:
        return to_json(self, include_check)

    def __str__(self) -> str:
        return to_text(self, include_check=False)

    # --- pictures -----------------------------------------------------------------------------------
    def render(self, view: str = "forward", **options: Any) -> Picture:
        """A picture of one view, with `.save(path)` and `.source` (DOT); options as in symgraph.output.render.render."""
        from symgraph.output.render import render  # the drawing code (and graphviz) only when drawing

        return render(self, view, **options)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        """One display in a notebook: the backward picture inline once and the steps, or what went wrong."""
        return derivation_bundle(self, lambda: self.render("backward"))


@contextmanager
def timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    """Record the wall time of one stage of the flow."""
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = time.perf_counter() - start


def _second_symbol(of: str, i: str, j: str) -> tuple[str, str]:
    if i == j:
        return f"∂²{pretty_name(of)}/∂{pretty_name(i)}²", rf"\frac{{\partial^2 {latex_name(of)}}}{{\partial {latex_name(i)}^2}}"
    return (
        f"∂²{pretty_name(of)}/∂{pretty_name(i)}∂{pretty_name(j)}",
        rf"\frac{{\partial^2 {latex_name(of)}}}{{\partial {latex_name(i)} \partial {latex_name(j)}}}",
    )
