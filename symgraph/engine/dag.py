"""The directed graph under `Graph`: nodes and edges with attribute dicts, read as networkx's DiGraph reads.

It keeps the part of networkx's DiGraph interface the package uses (`nodes[n]`, `nodes(data=True)`,
`edges[u, v]`, iterating `edges`, `predecessors`, `successors`, `pred`, `has_edge`, `out_degree`,
`descendants`) over the same dict-of-dicts layout, so that building a graph does not import networkx,
which costs about a quarter of SymPy's own import time at every start of the command.
"""

from __future__ import annotations

from collections.abc import Iterator

__all__ = ["DiGraph"]


class _Nodes:
    """`dag.nodes[n]`: a node's attributes; `dag.nodes(data=True)`: (node, attributes) pairs in creation order."""

    def __init__(self, data: dict[int, dict]) -> None:
        self._data = data

    def __getitem__(self, node: int) -> dict:
        return self._data[node]

    def __call__(self, data: bool = False) -> Iterator:
        return iter(self._data.items()) if data else iter(self._data)

    def __iter__(self) -> Iterator[int]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


class _Edges:
    """`dag.edges[u, v]`: an edge's attributes; iterating gives (u, v) pairs, by u's then v's creation order."""

    def __init__(self, succ: dict[int, dict[int, dict]]) -> None:
        self._succ = succ

    def __getitem__(self, edge: tuple[int, int]) -> dict:
        u, v = edge
        return self._succ[u][v]

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return ((u, v) for u, readers in self._succ.items() for v in readers)

    def __len__(self) -> int:
        return sum(len(readers) for readers in self._succ.values())


class DiGraph:
    """A directed graph whose nodes and edges carry attribute dicts."""

    def __init__(self) -> None:
        self._node: dict[int, dict] = {}
        self._succ: dict[int, dict[int, dict]] = {}
        #: node → {predecessor: edge attributes}, as networkx's `pred`.
        self.pred: dict[int, dict[int, dict]] = {}
        self.nodes = _Nodes(self._node)
        self.edges = _Edges(self._succ)

    def add_node(self, node: int, **attributes) -> None:
        if node not in self._node:
            self._node[node] = {}
            self._succ[node] = {}
            self.pred[node] = {}
        self._node[node].update(attributes)

    def add_edge(self, u: int, v: int, **attributes) -> None:
        for node in (u, v):
            self.add_node(node)
        data = self._succ[u].setdefault(v, {})
        data.update(attributes)
        self.pred[v][u] = data

    def number_of_nodes(self) -> int:
        return len(self._node)

    def __len__(self) -> int:
        return len(self._node)

    def has_edge(self, u: int, v: int) -> bool:
        return v in self._succ.get(u, ())

    def predecessors(self, node: int) -> Iterator[int]:
        return iter(self.pred[node])

    def successors(self, node: int) -> Iterator[int]:
        return iter(self._succ[node])

    def out_degree(self, node: int) -> int:
        return len(self._succ[node])

    def descendants(self, node: int) -> set[int]:
        """Every node reachable from `node` along edges, `node` itself excluded."""
        seen: set[int] = set()
        stack = [node]
        while stack:
            for v in self._succ[stack.pop()]:
                if v not in seen:
                    seen.add(v)
                    stack.append(v)
        return seen
