"""How a scene writes what it shows: numbers and tensors for a picture, partials, and the names of added nodes."""

from __future__ import annotations

import numpy as np

from symgraph.engine.graph import Operand, is_node
from symgraph.notation import number, partial_text, pretty_name
from symgraph.output.scene_types import Row
from symgraph.output.view import DerivationView

__all__ = ["MAX_TERMS", "DIGITS", "value_text", "shape_label", "tensor_value", "inline_value", "tensor_rows",
           "partial_label", "sweep_roles", "display_names"]

#: A sum with more terms than this shows its first and last ones.
MAX_TERMS = 6

#: Significant digits of the numbers in a picture: enough to check by hand, short enough for a slide.
DIGITS = 4
#: Tensors: fewer digits per entry; a vector of up to MAX_VECTOR entries is written out, a matrix of up to
#: MAX_MATRIX rows and columns is drawn as a matrix, anything larger as the range of its entries.
TENSOR_DIGITS, MAX_VECTOR, MAX_MATRIX = 3, 8, 6


def value_text(d: DerivationView, operand: Operand) -> str | None:
    """The operand's value for a picture, or None without values (or off the evaluated part)."""
    if d.values is None or (is_node(operand) and operand not in d.values):
        return None
    return number(d.value(operand), DIGITS)


def shape_label(shape: tuple[int, ...]) -> str | None:
    """ℝ^3 for a vector, ℝ^(3×2) for a matrix (the drawing makes them superscripts); nothing for a scalar."""
    if not shape:
        return None
    return f"∈ ℝ^{shape[0]}" if len(shape) == 1 else f"∈ ℝ^({'×'.join(map(str, shape))})"


def tensor_value(d: DerivationView, operand: Operand, shape: tuple[int, ...]) -> np.ndarray | None:
    """The operand's value in the node's shape (an adjoint may be a scalar spread over it), or None."""
    if d.values is None or (is_node(operand) and operand not in d.values):
        return None
    known = d.value(operand)  # None where no one value exists (what depends on the Jacobian's δy)
    if known is None:
        return None
    value = np.asarray(known, dtype=float)
    return np.broadcast_to(value, shape) if value.shape != tuple(shape) and value.ndim == 0 else value


def _entries(value: np.ndarray) -> str:
    return "[" + ", ".join(number(x, TENSOR_DIGITS) for x in value) + "]"


def _summary(value: np.ndarray) -> str:
    """A larger tensor by the range of its entries ('= 1' when they are all equal)."""
    low, high = number(value.min(), TENSOR_DIGITS), number(value.max(), TENSOR_DIGITS)
    return f"= {low}" if low == high else f"entries {low} … {high}"


def inline_value(d: DerivationView, operand: Operand, shape: tuple[int, ...], summarise: bool = True) -> str | None:
    """A value on one line, '= …': a number, a short vector, else the range of its entries (None unless `summarise`)."""
    value = tensor_value(d, operand, shape)
    if value is None:
        return None
    if value.ndim == 0:
        return f"= {number(value, DIGITS)}"
    if value.ndim == 1 and value.size <= MAX_VECTOR:
        return f"= {_entries(value)}"
    return _summary(value) if summarise else None


def tensor_rows(d: DerivationView, operand: Operand, shape: tuple[int, ...], role: str) -> list[Row]:
    """Value rows of a tensor program's node: a number, a vector, a matrix in brackets, or a range."""
    value = tensor_value(d, operand, shape)
    if value is None:
        return []
    if value.ndim == 2 and max(value.shape) <= MAX_MATRIX:
        cells = tuple(tuple(number(x, TENSOR_DIGITS) for x in row) for row in value)
        return [Row("", "= [" + ", ".join(_entries(row) for row in value) + "]", role, matrix=cells)]
    text = inline_value(d, operand, shape)
    assert text is not None  # the value exists (checked above) and is summarised when long
    return [Row("", text, role)]


def partial_label(d: DerivationView, of: Operand, by: int, total: bool = True) -> str:
    """∂of/∂by; d/d for the derivative of the output by the only input, as in the steps."""
    graph = d.graph
    whole = total and d.total and of == d.output and graph[by]["kind"] == "input"
    return partial_text(graph.label(of), graph.label(by), whole)


def sweep_roles(d: DerivationView) -> dict[int, list[str]]:
    """node → what it holds for the sweep: adjoints ∂y/∂u first (output end first), then local partials."""
    roles: dict[int, list[str]] = {}
    found = [(d.gradients.adjoint[u], partial_label(d, d.output, u)) for u in d.gradients.order]
    found += [(node, partial_label(d, v, u, total=False)) for (v, u), node in sorted(d.gradients.local_node.items())]
    for operand, role in found:
        if is_node(operand) and role not in roles.setdefault(operand, []):
            roles[operand].append(role)
    return roles


def display_names(d: DerivationView, roles: dict[int, list[str]]) -> dict[int, str]:
    """The user's names for the program's nodes; a role (∂y/∂a) or a fresh t₁, t₂ … for added nodes."""
    graph = d.graph
    names, fresh = {}, (f"t{k}" for k in range(1, len(graph) + 1) if f"t{k}" not in graph.names)
    for node in graph.nodes():
        data = graph[node]
        if data["kind"] != "gradient":
            names[node] = ", ".join(pretty_name(n) for n in (data["name"], *data["aliases"]))
        else:
            names[node] = roles[node][0] if node in roles else pretty_name(next(fresh))
    return names
