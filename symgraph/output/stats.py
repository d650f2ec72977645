"""The expression-swell meter: how large a derivation is as a graph, and how large it would be as a tree.

Reverse mode on the DAG keeps the gradient within a small constant factor of the forward
program; writing the same gradient out as one expression can be astronomically larger.
These numbers make that visible (`symgraph derive --stats`), next to the time of each stage.
The tree size is counted on the DAG (symgraph.engine.expand.Inliner.size), never built.
"""

from __future__ import annotations

from dataclasses import dataclass

from symgraph.notation import pretty_name
from symgraph.output.view import DerivationView

__all__ = ["Stats", "STAGES", "stats"]

#: The stages of the flow, in order, as recorded in Derivation.timings.
STAGES = ("parse", "build", "backward", "evaluate", "check")


@dataclass(frozen=True)
class Stats:
    """Sizes of the forward program and of its gradient, and seconds per stage."""

    forward_nodes: int  #: inputs and operations of the program
    forward_edges: int
    forward_ops: int
    gradient_ops: int  #: operations backward added (adjoints, local partials, products, sums)
    gradient_edges: int  #: edges into those operations
    gradient_dag: int  #: nodes evaluating the gradient reads, forward ones included
    tree_size: dict[str, int]  #: per input, nodes of the derivative written out as one expression
    timings: dict[str, float]  #: seconds per stage that ran

    @property
    def ratio(self) -> float:
        """Gradient operations per forward operation (reverse mode promises a small constant)."""
        return self.gradient_ops / self.forward_ops if self.forward_ops else 0.0

    def as_dict(self) -> dict:
        return {
            "forward": {"nodes": self.forward_nodes, "edges": self.forward_edges, "operations": self.forward_ops},
            "gradient": {
                "operations": self.gradient_ops,
                "edges": self.gradient_edges,
                "dag_nodes": self.gradient_dag,
                "tree_size": dict(self.tree_size),
                "operations_per_forward_operation": round(self.ratio, 3),
            },
            "seconds": dict(self.timings),
        }

    def text(self) -> str:
        largest = max(self.tree_size, key=self.tree_size.__getitem__, default=None)
        lines = [
            "Expression swell",
            f"  forward graph     {self.forward_nodes:,} nodes, {self.forward_edges:,} edges, "
            f"{self.forward_ops:,} operations",
            f"  gradient graph    {self.gradient_ops:,} operations added, {self.gradient_edges:,} edges "
            f"({self.ratio:.2f}× the forward operations)",
            f"  gradient as DAG   {self.gradient_dag:,} nodes evaluated",
        ]
        if largest is not None:
            tree = self.tree_size[largest]
            which = f"∂/∂{pretty_name(largest)}" + (f", the largest of {len(self.tree_size)}" if len(self.tree_size) > 1 else "")
            lines.append(f"  gradient as tree  {_count(tree)} nodes ({which}; {_ratio(tree / max(self.gradient_dag, 1))}× the DAG)")
        stages = " · ".join(f"{stage} {_seconds(self.timings[stage])}" for stage in STAGES if stage in self.timings)
        lines.append(f"  time              {stages}")
        return "\n".join(lines)


def stats(derivation: DerivationView) -> Stats:
    """The swell meter of a derivation; the check's time is included when the check has run."""
    graph = derivation.graph
    forward = set(graph.nodes("input", "forward"))
    added = set(graph.nodes("gradient"))
    derivatives = [derivation.gradients.of(node) for node in derivation.wrt.values()]
    return Stats(
        forward_nodes=len(forward),
        forward_edges=sum(1 for _, v in graph.dag.edges if v in forward),
        forward_ops=sum(1 for node in forward if graph[node]["op"] is not None),
        gradient_ops=len(added),
        gradient_edges=sum(1 for _, v in graph.dag.edges if v in added),
        gradient_dag=len(graph.upstream(derivatives)),
        tree_size={name: derivation.tree_size(name) for name in derivation.wrt},
        timings={stage: derivation.timings[stage] for stage in STAGES if stage in derivation.timings},
    )


def _count(n: int) -> str:
    """Exact with thousands separators up to 10¹², then as a power of ten (trees reach 10⁷⁹)."""
    return f"{n:,}" if n < 10**12 else f"{n / 10 ** (len(str(n)) - 1):.1f}e{len(str(n)) - 1}"


def _ratio(r: float) -> str:
    return f"{r:,.0f}" if r >= 100 else f"{r:.3g}"


def _seconds(t: float) -> str:
    return f"{t * 1000:.1f} ms" if t < 1 else f"{t:.2f} s"
