"""derive(): the one entry point that runs the whole flow.

parse → values → build (a tensor graph when shapes are involved) → Derivation, which runs the
backward pass and the numbers. Errors name derive's own parameters (at["x"], wrt="z", order=3).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import sympy as sp

from symgraph.derivation import Derivation, timed
from symgraph.engine.evaluate import Conventions
from symgraph.engine.graph import Graph, build, is_node
from symgraph.errors import InputError, ShapeError
from symgraph.lang.from_sympy import from_sympy
from symgraph.lang.parse import parse
from symgraph.lang.program import Program
from symgraph.lang.values import parse_value
from symgraph.ops.tensor import shape_text

__all__ = ["derive", "Derivation", "parse_value", "RELU_CONVENTIONS"]

RELU_CONVENTIONS = (0.0, 0.5, 1.0)


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
    with timed(timings, "parse"):
        parsed = parse(program, variables=at or ()) if isinstance(program, str) else from_sympy(program)
    if order not in (1, 2):
        raise InputError("use 1 (gradient) or 2 (second derivatives)", parameter="order", value=order)
    if float(relu_at_zero) not in RELU_CONVENTIONS:
        raise InputError("use 0, 0.5 or 1", parameter="relu_at_zero", value=relu_at_zero)
    values = {}
    for name, text in (at or {}).items():
        if name not in parsed.inputs:
            raise InputError(f"not an input of the program; inputs: {', '.join(parsed.inputs)}", parameter="at", key=name)
        values[name] = parse_value(name, text)
    tensor = parsed.uses_tensor_ops or any(np.ndim(v) for v in values.values())
    with timed(timings, "build"):
        graph, output = build(parsed, of, Graph(_shapes(parsed, values)) if tensor else None)
    if not is_node(output):
        raise InputError(f"the output{' ' + of if of else ''} is a constant; there is nothing to differentiate")
    if graph[output]["op"] is None:
        raise InputError(f"the output is just the input {graph.label(output)}; there is nothing to differentiate")
    if graph.is_tensor:  # built as one when the program is a tensor program
        _check_tensor_output(graph, output, order)
    wrt_names = [wrt] if isinstance(wrt, str) else list(wrt or parsed.inputs)
    for name in wrt_names:
        if name not in parsed.inputs:
            hint = "it is an intermediate; " if name in graph.names else ""
            raise InputError(f"{hint}not an input of the program; inputs: {', '.join(parsed.inputs)}", parameter="wrt", value=name)
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
                f"the value has shape {shape_text(shape)} but {name} is declared {shape_text(shapes[name])}", parameter="at", key=name
            )
        shapes[name] = shape
    return shapes


def _check_tensor_output(graph: Graph, output: int, order: int) -> None:
    shape = graph.shape(output)
    if shape:
        name = graph.label(output)
        new = "loss" if name != "loss" else "total"
        raise ShapeError(
            f"the output {name} has shape {shape_text(shape)}; a gradient needs a scalar output, "
            f"e.g. {new} = sum({name}), {new} = {name}[0] or a loss such as {new} = mse({name}, t)"
        )
    if order == 2:
        raise InputError("second derivatives are for scalar programs; tensor programs give the gradient", parameter="order", value=2)
