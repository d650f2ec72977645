"""Derivation: what `derive` found, the object users hold.

It runs the backward pass (twice for order 2) and the values on construction; forms, steps and
the check on demand (cached). Formats and pictures read it through symgraph.output's
DerivationView protocol; this module sits above them and hands them itself.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import Any

import numpy as np
import sympy as sp

from symgraph import ops
from symgraph.engine import expand
from symgraph.engine.backward import Gradients, backward
from symgraph.engine.evaluate import Conventions, evaluate, first_invalid, value_of
from symgraph.engine.graph import Graph, Operand, is_node
from symgraph.errors import EvaluationError
from symgraph.explain.printing import unicode, value_text
from symgraph.explain.steps import Step, Writer, count_paths, local_steps, path_steps, result_steps
from symgraph.explain.tensor_steps import backprop_steps
from symgraph.lang.program import Program
from symgraph.notation import latex_name, partial_symbol, partial_text, pretty_name
from symgraph.output.formats import to_dict, to_json, to_latex, to_markdown, to_text
from symgraph.output.render import Picture, inline_svg, render
from symgraph.verify.check import CheckReport, check, merge, sample_points
from symgraph.verify.tensor_check import check_tensor, random_point

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
    ):
        #: Seconds per stage (parse, build, backward, evaluate, check), for symgraph.output.stats.
        self.timings: dict[str, float] = dict(timings or {})
        #: Labelled sub-graphs that pictures frame; symgraph.teach.network sets them.
        self.clusters: Mapping[str, Sequence[str]] | None = None
        self.program = program
        self.graph = graph
        self.output = output
        self.inputs: dict[str, int] = {name: graph.names[name] for name in program.inputs}
        self.wrt: dict[str, int] = {name: self.inputs[name] for name in wrt}
        self.at = dict(at)
        self.order = order
        self.conventions = conventions
        with timed(self.timings, "backward"):
            self.gradients: Gradients = backward(graph, output, list(self.wrt.values()))
            self.second: dict[str, Gradients] = {}
            if order == 2:
                for name in self.wrt:
                    self.second[name] = backward(graph, self.gradients.of(self.wrt[name]), list(self.wrt.values()))
        with timed(self.timings, "evaluate"):
            self.values = self._evaluate() if self.complete else None
        self.writer = Writer(conventions.relu_at_zero, self.value, graph.expr_shape if graph.is_tensor else None)
        self._tree_sizes: dict[str, int] = {}

    # --- numbers ----------------------------------------------------------------------------------
    def _targets(self) -> list[Operand]:
        targets = [*self.graph.nodes("forward"), *self.gradients.adjoint.values(), *self.gradients.local_node.values()]
        for gradients in self.second.values():
            targets.extend(gradients.of(node) for node in self.wrt.values())
        return targets

    def _evaluate(self) -> dict[int, np.ndarray]:
        inputs = {self.inputs[name]: np.asarray(value) for name, value in self.at.items()}
        values = evaluate(self.graph, inputs, self._targets(), self.conventions)
        bad = first_invalid(self.graph, values)
        if bad is not None:
            raise EvaluationError(self._describe_invalid(bad, values))
        return values

    def _describe_invalid(self, node: int, values: Mapping[int, np.ndarray]) -> str:
        graph, relu = self.graph, self.conventions.relu_at_zero
        data = graph[node]
        op = ops.get(data["op"])
        operands = [o for o in data["operands"] if is_node(o) and graph[o]["op"] is not None]
        at = ", ".join(f"{unicode(graph.symbol(o))} = {value_text(values[o])}" for o in operands)
        why = f": {op.domain}" if op.domain else ""
        point = ", ".join(f"{pretty_name(n)} = {value_text(v)}" for n, v in self.at.items())
        where = f"{point} ({at})" if at else point
        if data["kind"] != "gradient":
            return f"{pretty_name(data['name'])} = {unicode(graph.expr(node), relu)} is undefined at {where}{why}"
        for (v, u), local in self.gradients.local.items():
            local_node = self.gradients.local_node[(v, u)]
            if is_node(local_node) and node in graph.upstream([local_node]):
                lhs = partial_text(graph.label(v), graph.label(u))
                domain = ops.get(graph[v]["op"]).domain  # the op being differentiated says why
                return f"{lhs} = {unicode(local, relu)} is undefined at {where}" + (f": {domain}" if domain else why)
        return f"the derivative is undefined at {where}: it needs {unicode(graph.expr(node), relu)}{why}"

    @property
    def complete(self) -> bool:
        """Every input has a value: numbers are shown everywhere and the check runs at that point."""
        return bool(self.inputs) and set(self.at) == set(self.inputs)

    @property
    def is_tensor(self) -> bool:
        return self.graph.is_tensor

    def value(self, operand: Operand) -> float | np.ndarray | None:
        """A node's (or constant's) value: a float, or an array in a tensor program; None without values."""
        if self.values is None:
            return None
        value = value_of(self.values, operand)
        return float(value) if np.ndim(value) == 0 else np.asarray(value)

    def gradient_value(self, name: str) -> float | np.ndarray | None:
        """∂output/∂name at the point, shaped like the input (zeros where the output does not depend on it)."""
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

    def _intermediate_form(self, operand: Operand) -> sp.Expr | None:
        expr = expand.inline(self.graph, operand, self._kept)
        if expr is None:
            return None
        return expand.tidy(expr, [self.graph.symbol(n) for n in sorted(self._kept)])

    def _input_form(self, operand: Operand) -> sp.Expr | None:
        expr = expand.inline(self.graph, operand)
        return None if expr is None else expand.tidy(expr)

    @cached_property
    def gradient(self) -> dict[str, sp.Expr | None]:
        """name → the derivative in the inputs (None when its tree would be too large to write)."""
        return {name: self._input_form(self.gradients.of(node)) for name, node in self.wrt.items()}

    @cached_property
    def in_terms_of_intermediates(self) -> dict[str, sp.Expr | None]:
        return {name: self._intermediate_form(self.gradients.of(node)) for name, node in self.wrt.items()}

    @cached_property
    def hessian(self) -> dict[str, dict[str, sp.Expr | None]] | None:
        if self.order != 2:
            return None
        return {
            i: {j: self._input_form(self.second[i].of(node)) for j, node in self.wrt.items()} for i in self.wrt
        }

    def tree_size(self, name: str) -> int:
        """Nodes of ∂output/∂name written out as one tree; counted once (the steps and JSON both ask)."""
        if name not in self._tree_sizes:
            self._tree_sizes[name] = expand.tree_size(self.graph, self.gradients.of(self.wrt[name]))
        return self._tree_sizes[name]

    @property
    def output_name(self) -> str:
        return self.graph.label(self.output) if is_node(self.output) else "y"

    @property
    def total(self) -> bool:
        """One input: write dy/dx; several: ∂y/∂x."""
        return len(self.inputs) == 1

    def path_counts(self) -> dict[str, int]:
        counts = {}
        for name, node in self.wrt.items():
            within = self.graph.ancestors_within(self.output, [node])
            counts[name] = count_paths(self.graph, node, self.output, within) if within else 0
        return counts

    # --- explanation --------------------------------------------------------------------------------
    @cached_property
    def steps(self) -> list[Step]:
        if self.graph.is_tensor:
            steps = backprop_steps(self.graph, self.gradients, self.writer)
        else:
            steps = local_steps(self.graph, self.gradients, self.writer)
            steps += path_steps(self.graph, self.gradients, self.wrt, self.total, self.writer)
        lhs = {name: partial_symbol(self.output_name, name, self.total) for name in self.wrt}
        forms, values = {}, {}
        for name, node in self.wrt.items():
            both = [self.in_terms_of_intermediates[name], self.gradient[name]]
            forms[name] = list(dict.fromkeys(f for f in both if f is not None)) or [self._too_large(name)]
            values[name] = self.gradient_value(name)
        steps += result_steps(lhs, forms, values, self.writer)
        if self.hessian is not None:
            for i, row in self.hessian.items():
                for j, expr in row.items():
                    lhs_text, lhs_tex = _second_symbol(self.output_name, i, j)
                    shown = [expr] if expr is not None else [self._too_large(i)]
                    rhs, rhs_tex = self.writer.forms(shown, self.value(self.second[i].of(self.wrt[j])))
                    steps.append(Step("result", lhs_text, rhs, lhs_tex, rhs_tex))
        return steps

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
        if self.graph.is_tensor:
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

    def _repr_markdown_(self) -> str:
        return to_markdown(self, include_check=True)

    def _repr_latex_(self) -> str:
        return to_latex(self, include_check=False)

    def __str__(self) -> str:
        return to_text(self, include_check=False)

    # --- pictures -----------------------------------------------------------------------------------
    def render(self, view: str = "forward", **options: Any) -> Picture:
        """A picture of one view, with `.save(path)` and `.source` (DOT); options as in symgraph.output.render.render."""
        return render(self, view, **options)

    def _repr_svg_(self) -> str | None:
        return inline_svg(self)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        """The backward picture and the Markdown steps. A notebook shows one type of a bundle, so the Markdown
        carries the picture too; without Graphviz the steps still show."""
        markdown = self._repr_markdown_()
        svg = self._repr_svg_()
        if svg is None:
            return {"text/markdown": markdown}
        picture = base64.b64encode(svg.encode("utf-8")).decode("ascii")
        return {"image/svg+xml": svg, "text/markdown": f"![backward pass](data:image/svg+xml;base64,{picture})\n\n{markdown}"}


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
