"""What a picture shows, as plain data: a box per graph node, a wire per edge, the frames of named sub-graphs.

The views (forward_scene.py, backward_scene.py) fill these in; drawing.py and render.py turn them into DOT.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Row", "Box", "Wire", "Cluster", "Scene", "gradient_lines"]


@dataclass(frozen=True)
class Row:
    """One line of a label in two columns, so that the '=' signs line up: `lead` `rest`."""

    lead: str
    rest: str
    role: str = "text"  # text | value | gradient | hidden (kept in place, so frames share one layout)
    path: int | None = None  # a highlighted path's index: the row takes its colour
    matrix: tuple[tuple[str, ...], ...] | None = None  # a small matrix value, drawn in brackets; `rest` says it in text


@dataclass
class Box:
    node: int
    kind: str  # input | forward | output | gradient
    name: str
    definition: str | None  # the right-hand side, 'c + d'; None for an input
    op: str | None  # the op's label from the registry, for the bipartite style
    operands: tuple[int | str, ...]  # in order: node ids, and constants as text (the bipartite style draws both)
    rows: list[Row] = field(default_factory=list)  # what follows the title: values, adjoints, roles
    muted: bool = False
    current: bool = False  # the adjoint this animation frame reveals
    paths: tuple[int, ...] = ()
    shape: str | None = None  # a tensor node's shape after its name: ℝ^3, ℝ^(3×2)


@dataclass
class Wire:
    source: int
    target: int
    backward: bool = False  # the arrow points from target to source
    role: str = "line"  # line | gradient | muted
    label: Row | None = None
    current: bool = False
    paths: tuple[int, ...] = ()


@dataclass(frozen=True)
class Cluster:
    """A named sub-graph (a layer, a time step) drawn as a labelled frame around its boxes."""

    label: str
    nodes: tuple[int, ...]


@dataclass
class Scene:
    boxes: list[Box]
    wires: list[Wire]
    legend: list[Row] = field(default_factory=list)
    path_count: int = 0
    clusters: list[Cluster] = field(default_factory=list)


def gradient_lines(rows: list[Row]) -> list[str]:
    """A box's adjoint rows as lines of text: a frame's caption (render.py) and a step of the stepper."""
    return [f"{row.lead} {row.rest}".strip() for row in rows if row.role == "gradient"]
