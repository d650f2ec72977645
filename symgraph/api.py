"""derive() → Derivation: the one entry point that runs the whole flow.

parse → build → backward (twice for order 2) → values → forms and steps; the check runs
on demand and is cached. Formats, pictures and the CLI only read a Derivation.
"""

from __future__ import annotations

import base64
import gc
import json
import math
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
from symgraph.engine.graph import Graph, Operand, build, is_node
from symgraph.engine.tensor_graph import TensorGraph
from symgraph.errors import EvaluationError, InputError, ShapeError, shorten
from symgraph.explain.printing import unicode, value_text
from symgraph.explain.steps import Step, Writer, count_paths, local_steps, path_steps, result_steps
from symgraph.explain.tensor_steps import backprop_steps
from symgraph.lang.parse import Program, from_sympy, parse
from symgraph.notation import latex_name, partial_symbol, partial_text, pretty_name
from symgraph.ops.tensor import shape_text
from symgraph.verify.check import CheckReport, check, merge, sample_points
from symgraph.verify.tensor_check import check_tensor, random_point

__all__ = ["derive", "Derivation", "parse_value", "RELU_CONVENTIONS"]

RELU_CONVENTIONS = (0.0, 0.5, 1.0)


#: A tensor value given with --at may have at most this many entries.
MAX_VALUE_ENTRIES = 100_000


def parse_value(name: str, text: Any) -> float | np.ndarray:
    """A value given with --at: a number, or JSON text of a number or of nested lists (a tensor)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    elif isinstance(text, (list, tuple, np.ndarray)):
        return _tensor_value(name, text, text)
    else:
        if len(str(text)) > 20 * MAX_VALUE_ENTRIES:
            raise InputError(f"--at {name}: the value is too long")
        try:
            value = json.loads(str(text))
        except (ValueError, RecursionError):
            raise InputError(f"--at {name}={shorten(str(text))}: not a number or JSON list (write e.g. {name}=0.5 or {name}='[1, 2]')") from None
        if isinstance(value, list):
            return _tensor_value(name, value, text)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InputError(f"--at {name}={shorten(str(text))}: not a number (write e.g. {name}=0.5)")
        value = float(value)
    if not math.isfinite(value):
        raise InputError(f"--at {name}={text}: the value must be finite")
    return value


def _tensor_value(name: str, value: Any, text: Any) -> np.ndarray:
    """Nested lists of numbers, rectangular, finite, with at most 4 axes."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        array = value.astype(float)
    else:
        if not _rectangular(value):
            raise InputError(f"--at {name}: the lists must be nested evenly and hold numbers, e.g. [[0, -1], [2, 0]]")
        try:
            array = np.array(value, dtype=float)
        except ValueError:  # lists of equal length nested to different depths
            raise InputError(f"--at {name}: the lists must be nested evenly, e.g. [[0, -1], [2, 0]]") from None
    if array.size == 0:
        raise InputError(f"--at {name}: the value is empty")
    if array.ndim > 4:
        raise InputError(f"--at {name}: tensors have at most 4 axes, this value has {array.ndim}")
    if array.size > MAX_VALUE_ENTRIES:
        raise InputError(f"--at {name}: {array.size:,} entries; the limit is {MAX_VALUE_ENTRIES:,}")
    if not np.all(np.isfinite(array)):
        raise InputError(f"--at {name}: every entry must be finite")
    return array


def _rectangular(value: Any, depth: int = 0) -> bool:
    if isinstance(value, bool) or depth > 4:
        return False
    if isinstance(value, (int, float)):
        return True
    if not isinstance(value, (list, tuple)) or not value:
        return False
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return True
    if not all(isinstance(v, (list, tuple)) for v in value) or len({len(v) for v in value}) != 1:
        return False
    return all(_rectangular(v, depth + 1) for v in value)


class Derivation:
    """A program with its graph, gradients, explanation and numbers. Build it with `derive`."""

    def __init__(
        self,
        program: Program,
        graph: Graph,
        output: Operand,
        wrt: Sequence[str],
        at: Mapping[str, float],
        order: int,
        conventions: Conventions,
        timings: Mapping[str, float] | None = None,
    ):
        #: Seconds per stage (parse, build, backward, evaluate, check), for symgraph.stats.
        self.timings: dict[str, float] = dict(timings or {})
        self.program = program
        self.graph = graph
        self.output = output
        self.inputs: dict[str, int] = {name: graph.names[name] for name in program.inputs}
        self.wrt: dict[str, int] = {name: self.inputs[name] for name in wrt}
        self.at = dict(at)
        self.order = order
        self.conventions = conventions
        with _timed(self.timings, "backward"):
            self.gradients: Gradients = backward(graph, output, list(self.wrt.values()))
            self.second: dict[str, Gradients] = {}
            if order == 2:
                for name in self.wrt:
                    self.second[name] = backward(graph, self.gradients.of(self.wrt[name]), list(self.wrt.values()))
        with _timed(self.timings, "evaluate"):
            self.values = self._evaluate() if self.complete else None
        self._writer = Writer(conventions.relu_at_zero, self.value, graph.expr_shape if self.is_tensor else None)
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
        return isinstance(self.graph, TensorGraph)

    def value(self, operand: Operand) -> float | np.ndarray | None:
        """A node's (or constant's) value: a float, or an array in a tensor program; None without values."""
        if self.values is None:
            return None
        value = value_of(self.values, operand)
        return float(value) if np.ndim(value) == 0 else np.asarray(value)

    def gradient_value(self, name: str) -> float | np.ndarray | None:
        """∂output/∂name at the point, shaped like the input (zeros where the output does not depend on it)."""
        value = self.value(self.gradients.of(self.wrt[name]))
        if value is None or not self.is_tensor:
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
        if self.is_tensor:
            steps = backprop_steps(self.graph, self.gradients, self._writer)
        else:
            steps = local_steps(self.graph, self.gradients, self._writer)
            steps += path_steps(self.graph, self.gradients, self.wrt, self.total, self._writer)
        lhs = {name: partial_symbol(self.output_name, name, self.total) for name in self.wrt}
        forms, values = {}, {}
        for name, node in self.wrt.items():
            both = [self.in_terms_of_intermediates[name], self.gradient[name]]
            forms[name] = list(dict.fromkeys(f for f in both if f is not None)) or [self._too_large(name)]
            values[name] = self.gradient_value(name)
        steps += result_steps(lhs, forms, values, self._writer)
        if self.hessian is not None:
            for i, row in self.hessian.items():
                for j, expr in row.items():
                    lhs_text, lhs_tex = _second_symbol(self.output_name, i, j)
                    shown = [expr] if expr is not None else [self._too_large(i)]
                    rhs, rhs_tex = self._writer.forms(shown, self.value(self.second[i].of(self.wrt[j])))
                    steps.append(Step("result", lhs_text, rhs, lhs_tex, rhs_tex))
        return steps

    def _too_large(self, name: str) -> sp.Symbol:
        size = self.tree_size(name)
        return sp.Symbol(f"[written out, this derivative would be a tree of {size:,} nodes; see the graph]")

    # --- check --------------------------------------------------------------------------------------
    def check(self) -> CheckReport:
        """Finite differences at the --at point, or at seeded random points where the program is defined."""
        if getattr(self, "_check", None) is None:
            with _timed(self.timings, "check"):
                self._check = self._run_check()
        return self._check

    def _run_check(self) -> CheckReport:
        derivatives = {name: self.gradients.of(node) for name, node in self.wrt.items()}
        if self.is_tensor:
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
        from symgraph.output.formats import to_dict

        return to_dict(self, include_check)

    def to_json(self, include_check: bool = True) -> str:
        from symgraph.output.formats import to_json

        return to_json(self, include_check)

    def _repr_markdown_(self) -> str:
        from symgraph.output.formats import to_markdown

        return to_markdown(self, include_check=True)

    def _repr_latex_(self) -> str:
        from symgraph.output.formats import to_latex

        return to_latex(self, include_check=False)

    def __str__(self) -> str:
        from symgraph.output.formats import to_text

        return to_text(self, include_check=False)

    # --- pictures -----------------------------------------------------------------------------------
    def render(self, view: str = "forward", **options: Any):
        """A picture of one view, with `.save(path)` and `.source` (DOT); options as in symgraph.output.render.render."""
        from symgraph.output.render import render

        return render(self, view, **options)

    def _repr_svg_(self) -> str | None:
        from symgraph.output.render import inline_svg

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
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    """Record the wall time of one stage of the flow."""
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = time.perf_counter() - start


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while the graphs are built.

    A derivation allocates hundreds of thousands of SymPy objects and frees almost none, so every
    full collection walks the whole process (NumPy, SymPy, a notebook's own objects) and finds
    nothing: on an RNN of T = 2,000 that was a third of the time. Reference counting still frees
    what is dropped; the collector resumes afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _second_symbol(of: str, i: str, j: str) -> tuple[str, str]:
    if i == j:
        return f"∂²{pretty_name(of)}/∂{pretty_name(i)}²", rf"\frac{{\partial^2 {latex_name(of)}}}{{\partial {latex_name(i)}^2}}"
    return (
        f"∂²{pretty_name(of)}/∂{pretty_name(i)}∂{pretty_name(j)}",
        rf"\frac{{\partial^2 {latex_name(of)}}}{{\partial {latex_name(i)} \partial {latex_name(j)}}}",
    )


@_collector_paused()
def derive(
    program: str | sp.Expr,
    wrt: Sequence[str] | str | None = None,
    at: Mapping[str, Any] | None = None,
    order: int = 1,
    of: str | None = None,
    relu_at_zero: float = 0.0,
) -> Derivation:
    """Differentiate a program by symbol-to-symbol reverse mode.

    >>> d = derive("exp(x**2 + tanh(x))", at={"x": 0.5})
    >>> d.gradient["x"]
    (2*x - tanh(x)**2 + 1)*exp(x**2 + tanh(x))
    """
    timings: dict[str, float] = {}
    with _timed(timings, "parse"):
        parsed = parse(program) if isinstance(program, str) else from_sympy(program)
    if order not in (1, 2):
        raise InputError(f"--order {order}: use 1 (gradient) or 2 (second derivatives)")
    if float(relu_at_zero) not in RELU_CONVENTIONS:
        raise InputError(f"--relu-at-zero {relu_at_zero}: use 0, 0.5 or 1")
    values = {}
    for name, text in (at or {}).items():
        if name not in parsed.inputs:
            raise InputError(f"--at {name}: not an input of the program; inputs: {', '.join(parsed.inputs)}")
        values[name] = parse_value(name, text)
    tensor = parsed.uses_tensor_ops or any(np.ndim(v) for v in values.values())
    with _timed(timings, "build"):
        graph, output = build(parsed, of, TensorGraph(_shapes(parsed, values)) if tensor else None)
    if not is_node(output):
        raise InputError(f"the output{' ' + of if of else ''} is a constant; there is nothing to differentiate")
    if graph[output]["op"] is None:
        raise InputError(f"the output is just the input {graph.label(output)}; there is nothing to differentiate")
    if tensor:
        _check_tensor_output(graph, output, order)
    wrt_names = [wrt] if isinstance(wrt, str) else list(wrt or parsed.inputs)
    for name in wrt_names:
        if name not in parsed.inputs:
            hint = "it is an intermediate; " if name in graph.names else ""
            raise InputError(f"--wrt {name}: {hint}not an input of the program; inputs: {', '.join(parsed.inputs)}")
    return Derivation(
        parsed, graph, output, list(dict.fromkeys(wrt_names)), values, order, Conventions(float(relu_at_zero)), timings
    )


def _shapes(program: Program, values: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """Each input's shape: declared, or that of its value; a declaration and a value must agree."""
    shapes = dict(program.declarations)
    for name, value in values.items():
        shape = np.shape(value)
        if name in shapes and shapes[name] != shape:
            raise ShapeError(
                f"--at {name}: the value has shape {shape_text(shape)} but {name} is declared {shape_text(shapes[name])}"
            )
        shapes[name] = shape
    return shapes


def _check_tensor_output(graph: TensorGraph, output: int, order: int) -> None:
    shape = graph.shape(output)
    if shape:
        name = graph.label(output)
        new = "loss" if name != "loss" else "total"
        raise ShapeError(
            f"the output {name} has shape {shape_text(shape)}; a gradient needs a scalar output, "
            f"e.g. {new} = sum({name}), {new} = {name}[0] or a loss such as {new} = mse({name}, t)"
        )
    if order == 2:
        raise InputError("--order 2 is for scalar programs; tensor programs give the gradient")
