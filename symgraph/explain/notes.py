"""The notes said under a derivation's graph: how a Jacobian or an upstream gradient is computed, what carries no
gradient (forward-only ops), why an infinite partial left the derivative finite, an output that is an input or a
constant, a constant's name taken as the user's variable."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from symgraph import ops
from symgraph.engine.backward import Gradients, Seed
from symgraph.engine.evaluate import Conventions, flat_zero
from symgraph.engine.graph import Graph, Operand, is_node
from symgraph.explain.printing import unicode
from symgraph.explain.steps import Writer
from symgraph.lang.program import Program
from symgraph.notation import partial_text, pretty_name
from symgraph.ops.tensor import shape_text

__all__ = ["derivation_notes", "Noted"]


class Noted(Protocol):
    """What the notes read of a derivation."""

    program: Program
    graph: Graph
    gradients: Gradients
    writer: Writer
    mode: str
    seed: Seed | None
    output: Operand
    values: dict[int, np.ndarray] | None
    conventions: Conventions

    @property
    def output_name(self) -> str: ...


def derivation_notes(d: Noted) -> list[str]:
    """Plain sentences said under the graph: what was asked and how it is answered."""
    notes = list(d.program.notes)
    graph = d.graph
    for v in d.gradients.blocked:
        notes.append(f"No gradient flows through {pretty_name(graph.label(v))} = {d.writer.text(graph.expr(v))}: it is forward only "
                     "(piecewise constant), so the backward pass treats its value as a constant.")
    notes.extend(_annihilated_notes(d))
    if d.seed is not None:
        y, seed, loss = graph.label(d.seed.of), graph.label(d.seed.node), graph.label(d.seed.loss)
        y_, seed_, loss_ = pretty_name(y), pretty_name(seed), pretty_name(loss)
        if d.mode == "jacobian":
            notes.append(f"{y_} has shape {shape_text(graph.shape(d.seed.of))}, so its derivative is a Jacobian. Reverse mode computes it with "
                         f"one backward pass from {loss_} = ⟨{seed_}, {y_}⟩, where {seed_} stands for any upstream "
                         f"gradient ∂{loss_}/∂{y_}: at {seed_} = eᵢ, ∂{loss_}/∂x is row i of ∂{y_}/∂x.")
        else:
            notes.append(f"{seed_} is the given upstream gradient ∂{loss_}/∂{y_}: the backward pass from "
                         f"{loss_} = ⟨{seed_}, {y_}⟩ is the vector-Jacobian product (∂{y_}/∂x)ᵀ {seed_}.")
    elif d.mode == "forward":
        if graph.shape(d.output):
            name = pretty_name(d.output_name)
            notes.append(f"{name} has shape {shape_text(graph.shape(d.output))}: this is its forward pass. For its Jacobian name "
                         f"the inputs (--wrt NAME); for a backward pass from a given gradient, --upstream {name}=VALUE.")
        elif is_node(d.output) and graph[d.output]["op"] and ops.get(graph[d.output]["op"]).integer:
            notes.append(f"{pretty_name(d.output_name)} is an index (piecewise constant): this is its forward pass; "
                         "its derivative would be 0 wherever it is defined.")
        else:
            notes.append("The forward pass only: no derivative was asked.")
    elif not is_node(d.output):
        notes.append(f"{pretty_name(d.output_name)} is a constant: its derivative with respect to every input is 0.")
    elif graph[d.output]["op"] is None:
        y, x = pretty_name(d.output_name), pretty_name(graph.label(d.output))
        notes.append(f"{y} is the input {x} itself: its derivative with respect to {x} is 1, and 0 with respect to any other input."
                     if y != x else f"The output is the input {x} itself: its derivative is 1.")
    return notes


def _annihilated_notes(d: Noted) -> list[str]:
    """Why an infinite local partial left the derivative finite: a flat zero (a step away from its kink) times it."""
    if d.values is None:
        return []
    graph, values, relu = d.graph, d.values, d.conventions.relu_at_zero
    edges = [(e, n) for e, n in d.gradients.local_node.items() if is_node(n) and n in values]
    flat = [e for e, n in edges if np.any(flat_zero(graph, values, n))]
    infinite = [e for e, n in edges if not np.all(np.isfinite(values[n]))]
    if not flat or not infinite:
        return []

    def text(edge: tuple[int, int]) -> str:
        return f"{partial_text(graph.label(edge[0]), graph.label(edge[1]))} = {unicode(d.gradients.local[edge], relu)}"
    return [f"{text(infinite[0])} is not finite here, but the paths through it also pass through {text(flat[0])}, "
            "which is 0 on a whole neighbourhood of the point (a step away from its kink): the function does not move "
            "along them, so they add 0 to the derivative."]
