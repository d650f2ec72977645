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

from symgraph import ops
from symgraph.derivation import Derivation, timed
from symgraph.engine.backward import add_upstream
from symgraph.engine.evaluate import Conventions
from symgraph.engine.graph import Graph, build, is_node
from symgraph.errors import InputError, ShapeError
from symgraph.lang.from_sympy import from_sympy
from symgraph.lang.hints import did_you_mean
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
    forward: bool = False,
    upstream: Mapping[str, Any] | None = None,
    sgd: float | None = None,
    weight_decay: float = 0.0,
) -> Derivation:
    """Differentiate a program by symbol-to-symbol reverse mode.

    A scalar output gets its gradient; a vector or matrix output its Jacobian with respect to the inputs
    in `wrt` (without `wrt`, its forward pass); `forward=True` asks for no derivative at all; `upstream`
    ({name: ∂L/∂name}) runs the backward pass from a given upstream gradient of that node (a
    vector-Jacobian product, L = ⟨upstream, node⟩). `sgd` (a learning rate η) adds one gradient-descent step
    w ← w − η(∂L/∂w + λw) for every input differentiated by, λ being `weight_decay`.

    >>> d = derive("exp(x**2 + tanh(x))", at={"x": 0.5})
    >>> d.gradient["x"]
    (2*x - tanh(x)**2 + 1)*exp(x**2 + tanh(x))
    """
    timings: dict[str, float] = {}
    _mapping(at, "at")
    _mapping(upstream, "upstream")
    with timed(timings, "parse"):
        parsed = parse(program, variables=at or ()) if isinstance(program, str) else from_sympy(program)
    if order not in (1, 2):
        raise InputError("use 1 (gradient) or 2 (second derivatives)", parameter="order", value=order)
    if isinstance(relu_at_zero, bool) or not isinstance(relu_at_zero, (int, float)) or relu_at_zero not in RELU_CONVENTIONS:
        raise InputError("use 0, 0.5 or 1", parameter="relu_at_zero", value=relu_at_zero)
    values = {}
    for name, text in (at or {}).items():
        if name not in parsed.inputs:
            raise InputError(f"not an input of the program; inputs: {', '.join(parsed.inputs)}{_guess(name, parsed.inputs)}",
                             parameter="at", key=name)
        values[name] = parse_value(name, text)
    given = _upstream(upstream, of, forward)
    if given is not None and given[0] in parsed.names:
        of = given[0]
    tensor = parsed.uses_tensor_ops or any(np.ndim(v) for v in values.values()) or (given is not None and np.ndim(given[1]) > 0)
    with timed(timings, "build"):
        graph, output = build(parsed, of, Graph(_shapes(parsed, values)) if tensor else None)
    if given is not None and given[0] != graph.label(output) and graph.names.get(given[0]) != output:
        names = list(dict.fromkeys([*(n for n in graph.names if n not in parsed.inputs), graph.label(output)]))
        raise InputError(f"not the output or an assigned name; names: {', '.join(names)}", parameter="upstream", key=given[0])
    wrt_names = _names(wrt)
    for name in wrt_names:
        if name not in parsed.inputs:
            hint = "it is an intermediate; " if name in graph.names else ""
            inputs = f"{', '.join(parsed.inputs)}{_guess(name, parsed.inputs)}"
            raise InputError(f"{hint}not an input of the program; inputs: {inputs}", parameter="wrt", value=name)
    shape = graph.shape(output)
    index = is_node(output) and graph[output]["op"] is not None and ops.get(graph[output]["op"]).integer
    mode = _mode(forward or (index and not wrt_names), given is not None, shape, bool(wrt_names))
    if mode in ("gradient", "upstream") and not wrt_names:
        wrt_names = list(parsed.inputs)
    if order == 2 and (graph.is_tensor or mode != "gradient"):
        raise InputError("second derivatives are for scalar programs with a scalar output", parameter="order", value=2)
    seed = None
    if mode in ("jacobian", "upstream"):
        seed = add_upstream(graph, output)
        if given is not None:
            value = np.asarray(given[1], dtype=float) if np.ndim(given[1]) else given[1]
            if np.shape(value) != shape:
                raise ShapeError(f"the upstream gradient has shape {shape_text(np.shape(value))} but "
                                 f"{graph.label(output)} has shape {shape_text(shape)}", parameter="upstream", key=given[0])
            values[graph.label(seed.node)] = value
    derivation = Derivation(
        parsed, graph, output, list(dict.fromkeys(wrt_names)), values, order, Conventions(float(relu_at_zero)), timings,
        mode=mode, seed=seed,
    )
    if wrt:
        _refuse_blocked(derivation)
    if sgd is not None:
        derivation.update = _update(derivation, sgd, weight_decay)
    return derivation


def _update(d: Derivation, rate: Any, decay: Any) -> tuple[float, float]:
    """The learning rate and weight decay of one gradient-descent step, which needs a scalar loss and values."""
    numbers = []
    for parameter, value in (("sgd", rate), ("weight_decay", decay)):
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            raise InputError("write a number, e.g. 0.1", parameter=parameter, value=value) from None
        if not np.isfinite(number) or number < 0:
            raise InputError("it must be a finite number ≥ 0", parameter=parameter, value=value)
        numbers.append(number)
    if d.mode not in ("gradient", "upstream"):
        raise InputError("a gradient-descent step needs a scalar loss (or an upstream gradient)", parameter="sgd", value=rate)
    if not d.complete:
        missing = [n for n in d.inputs if n not in d.at]
        raise InputError(f"a gradient-descent step needs every input's value; missing: {', '.join(missing)}",
                         parameter="sgd", value=rate)
    return numbers[0], numbers[1]


def _refuse_blocked(d: Derivation) -> None:
    """An input asked for by name that reaches the output only through forward-only ops has no gradient to give."""
    graph = d.graph
    for name, node in d.wrt.items():
        if d.gradients.blocked and d.gradients.of(node) == 0 and graph.ancestors_within(d.output, [node]):
            through = ", ".join(f"{graph.label(v)} = {graph[v]['op']}(…)" for v in d.gradients.blocked)
            raise InputError(f"every path from {name} to {d.output_name} passes through {through}, which is forward only "
                             "(piecewise constant: it carries no gradient)", parameter="wrt", value=name)


def _names(wrt: Any) -> list[str]:
    """wrt: one name, or a sequence of names."""
    names = [wrt] if isinstance(wrt, str) else [] if wrt is None else list(wrt) if isinstance(wrt, Sequence) else [wrt]
    if not all(isinstance(name, str) for name in names):
        raise InputError("name inputs by their names, e.g. wrt='x' or wrt=['x', 'w']", parameter="wrt", value=wrt)
    return names


def _mapping(given: Any, parameter: str) -> None:
    """`at` and `upstream` map input names to values."""
    if given is not None and not (isinstance(given, Mapping) and all(isinstance(k, str) for k in given)):
        raise InputError(f"give a mapping of names to values, e.g. {parameter}={{'x': 0.5}}", parameter=parameter, value=given)


def _upstream(upstream: Mapping[str, Any] | None, of: str | None, forward: bool) -> tuple[str, Any] | None:
    """The node named in `upstream` and its gradient's value; it becomes the output."""
    if not upstream:
        return None
    if len(upstream) != 1:
        raise InputError("give the upstream gradient of one node", parameter="upstream", value=", ".join(upstream))
    ((name, text),) = upstream.items()
    if of is not None and of != name:
        raise InputError(f"the upstream gradient is of {name}, which is then the output: leave out of= or make it {name}",
                         parameter="of", value=of)
    if forward:
        raise InputError("a backward pass from an upstream gradient is not a forward pass: leave out forward",
                         parameter="upstream", key=name)
    try:
        return name, parse_value(name, text)
    except InputError as error:
        raise InputError(error.detail, parameter="upstream", key=name) from None


def _mode(forward: bool, upstream: bool, shape: tuple[int, ...], wrt_given: bool) -> str:
    """forward (values only), gradient (a scalar output), jacobian (a tensor output with wrt) or upstream."""
    if forward:
        return "forward"
    if upstream:
        return "upstream"
    if shape:
        return "jacobian" if wrt_given else "forward"
    return "gradient"


def _guess(name: str, names: Sequence[str]) -> str:
    """'; did you mean x?' for a name spelt like one of `names`."""
    guess = did_you_mean(name, names)
    return f"; {guess}" if guess else ""


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
