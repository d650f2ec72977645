"""The scene of one view: what a picture shows, as plain data (scene_types.py), with paths and clusters marked.

A scene reads a Derivation (names, definitions, local partials, adjoints, values, the
chain-rule paths) and never redoes algebra; turning boxes and wires into DOT is
render.py's business, so every view gets every theme and style for free.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from symgraph.engine.graph import is_node
from symgraph.errors import InputError
from symgraph.explain.steps import MAX_PATHS, chain, count_paths, paths
from symgraph.notation import pretty_name
from symgraph.output.backward_scene import BackwardScene, CombinedScene
from symgraph.output.forward_scene import ForwardScene, SymbolicScene
from symgraph.output.scene_text import partial_label
from symgraph.output.scene_types import Cluster, Row, Scene
from symgraph.output.view import DerivationView

__all__ = ["VIEWS", "scene"]

VIEWS = ("forward", "backward", "combined", "symbolic")


def scene(
    d: DerivationView, view: str, highlight: str | None = None, revealed: int | None = None,
    clusters: Mapping[str, Sequence[str]] | None = None, collapse: bool = False,
) -> Scene:
    """The scene of one view; `revealed` = k shows only the first k adjoints of the sweep (a frame);
    `clusters` maps a label to the names of a sub-graph (symgraph.teach.network sets `d.clusters`);
    `collapse` keeps only the boxes of the program's names (see `ForwardScene.collapsed`)."""
    if view not in VIEWS:
        raise InputError(f"unknown view; views: {', '.join(VIEWS)}", parameter="view", value=view)
    if view == "combined" and d.values is None:
        raise InputError("this view shows numbers: give every input a value", parameter="view", value=view)
    if collapse and view == "symbolic":
        raise InputError("collapsing keeps the program's names, and the symbolic view is the nodes added to them: "
                         "collapse the forward, backward or combined view", parameter="collapse", value=True)
    if collapse and revealed is not None:
        raise InputError("frames step through every node of the sweep: do not collapse them", parameter="collapse", value=True)
    _Scene = {"forward": ForwardScene, "backward": BackwardScene, "combined": CombinedScene, "symbolic": SymbolicScene}[view]
    built = (_Scene(d, revealed).collapsed if collapse else _Scene(d, revealed).build)()
    if highlight is not None:
        _highlight(d, built, highlight)
    if clusters:
        built.clusters = _clusters(d, clusters, {box.node for box in built.boxes})
    return built


def _clusters(d: DerivationView, named: Mapping[str, Sequence[str]], drawn: set[int]) -> list[Cluster]:
    """Each label's nodes: those of its names, and the unnamed nodes whose readers all lie in it (z = W x + b
    makes W x a node of its own, which belongs to the layer). A node named in two clusters stays in the first."""
    graph, owner = d.graph, dict[int, int]()
    for index, (label, names) in enumerate(named.items()):
        for name in names:
            if name not in graph.names:
                raise InputError(f"cluster {label!r}: {name} is not a name of the program")
            node = graph.names[name]
            if is_node(node):
                owner.setdefault(node, index)
    for node in reversed(list(graph.nodes("forward"))):
        if node in owner or graph[node]["user_named"]:
            continue
        readers = {owner.get(v) for v in graph.dag.successors(node) if graph[v]["kind"] != "gradient"}
        reader = readers.pop() if len(readers) == 1 else None
        if reader is not None:
            owner[node] = reader
    found = [
        Cluster(str(label), tuple(sorted(n for n, i in owner.items() if i == index and n in drawn)))
        for index, label in enumerate(named)
    ]
    return [cluster for cluster in found if cluster.nodes]


def _highlight(d: DerivationView, built: Scene, name: str) -> None:
    """Colour the paths from input `name` to the output, in the order of the chain-rule sum."""
    if name not in d.inputs:
        raise InputError(f"not an input of the program; inputs: {', '.join(d.inputs)}", parameter="highlight", value=name)
    source, out = d.inputs[name], d.output
    within = d.graph.ancestors_within(out, [source])
    count = count_paths(d.graph, source, out, within) if within else 0
    if count == 0:
        raise InputError(f"{pretty_name(name)} does not reach {pretty_name(d.output_name)}", parameter="highlight", value=name)
    lhs = partial_label(d, out, source)
    if count > MAX_PATHS:  # listing them would be the exponential blow-up the sweep avoids
        on: dict[int, tuple[int, ...]] = {node: (0,) for node in within}
        edges: dict[tuple[int, int], tuple[int, ...]] = {(w.source, w.target): (0,) for w in built.wires if w.source in within and w.target in within}
        built.legend = [Row(lhs, f": {count:,} paths from {pretty_name(name)}, summed node by node", path=0)]
        count = 1
    else:
        found = paths(d.graph, source, out, within)
        on = {node: tuple(i for i, p in enumerate(found) if node in p) for node in within}
        edges, drawn = dict[tuple[int, int], tuple[int, ...]](), {box.node for box in built.boxes}
        for i, path in enumerate(found):
            shown = [node for node in path if node in drawn]  # the collapsed view draws named nodes only
            for edge in zip(shown, shown[1:]):
                edges[edge] = edges.get(edge, ()) + (i,)
        built.legend = [
            Row(lhs if i == 0 else "", f"{'=' if i == 0 else '+'} {_chain(d, path)}", path=i) for i, path in enumerate(found)
        ]
    built.path_count = count
    for box in built.boxes:
        box.paths = on.get(box.node, ())
    for wire in built.wires:
        wire.paths = edges.get((wire.source, wire.target), ())


def _chain(d: DerivationView, path: list[int]) -> str:
    """The term of one path in the chain-rule sum, written as the steps write it."""
    return chain(d.graph, path)[1]
