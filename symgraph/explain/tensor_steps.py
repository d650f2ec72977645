"""Backpropagation steps of a tensor program, in matrix notation, output first.

Where a scalar program lists local partials and paths, a tensor program lists one equation per
node: ∂L/∂u = Σ_v (v's vector-Jacobian rule applied to ∂L/∂v), e.g. ∂L/∂h = Wᵀ ∂L/∂z and
∂L/∂z = ∂L/∂b ⊙ 1(z > 0). Elementwise ops contribute ∂L/∂v ⊙ (their local derivative), the
same partial the scalar engine shows, so one op's rule reads the same in both.
"""

from __future__ import annotations

import sympy as sp

from symgraph import ops
from symgraph.engine.backward import ADJOINT, Gradients
from symgraph.engine.graph import Graph
from symgraph.explain.steps import MAX_LOCAL_STEPS, Step, Writer
from symgraph.notation import latex_name, partial_symbol, partial_text

__all__ = ["backprop_steps", "adjoint_symbol"]


class Adjoint(sp.Symbol):
    """The symbol ∂L/∂u of an adjoint, as the backprop steps write it; `of` and `by` are the program's names."""

    def __new__(cls, of: str, by: str):
        return super().__new__(cls, f"∂{of}/∂{by}")

    def _parts(self) -> tuple[str, str]:
        of, by = self.name[1:].split("/∂", 1)
        return of, by

    def _latex(self, printer, exp=None):
        of, by = (latex_name(n) for n in self._parts())
        return rf"\frac{{\partial {of}}}{{\partial {by}}}"

    def _symgraph_unicode(self, printer):
        return partial_text(*self._parts())

    def _sympystr(self, printer):
        of, by = self._parts()
        return f"d{of}_d{by}"



def adjoint_symbol(graph: Graph, output: int, node: int) -> sp.Expr:
    """∂L/∂v as a symbol (1 for the output itself), known to the graph with v's shape."""
    if node == output:
        return sp.Integer(1)
    symbol = Adjoint(graph.label(output), graph.label(node))
    graph.display_shapes[symbol] = graph.shape(node)
    return symbol


def term(graph: Graph, gradients: Gradients, v: int, u: int) -> sp.Expr:
    """v's contribution to ∂L/∂u, with ∂L/∂v as a symbol, fitted to u's shape as the backward pass fits it."""
    adjoint = adjoint_symbol(graph, gradients.output, v)
    if (v, u) in gradients.vjp:
        contribution = gradients.vjp[(v, u)].xreplace({ADJOINT: adjoint})
    else:
        contribution = adjoint * gradients.local[(v, u)]
    return graph.fit(contribution, u)


def _why_nothing(graph: Graph, gradients: Gradients, u: int) -> str:
    """Why no gradient reaches u: its consumers' adjoints are 0 (terms that cancelled), or they are forward-only."""
    zero = [v for v in sorted(graph.dag.successors(u)) if v in gradients.order and gradients.of(v) == 0]
    if zero:
        return f"the terms cancel: {partial_symbol(graph.label(gradients.output), graph.label(zero[0]))[0]} = 0"
    return "it reaches the output through forward-only ops only"


def backprop_steps(graph: Graph, gradients: Gradients, writer: Writer) -> list[Step]:
    """One equation per node of the sweep, nearest the output first, each with its value."""
    steps = []
    nodes = [u for u in gradients.order if u != gradients.output]
    for u in nodes[:MAX_LOCAL_STEPS]:
        consumers = [v for v in sorted(graph.dag.successors(u)) if (v, u) in gradients.local or (v, u) in gradients.vjp]
        contributions = [term(graph, gradients, v, u) for v in consumers]
        lhs, lhs_tex = partial_symbol(graph.label(gradients.output), graph.label(u))
        rules = sorted({ops.get(graph[v]["op"]).rule for v in consumers})
        rhs, rhs_tex = writer.forms([sp.Add(*contributions)], writer.value_of(gradients.of(u)))
        why = ", ".join(rules) or _why_nothing(graph, gradients, u)
        steps.append(Step("backprop", lhs, f"{rhs}    ({why})", lhs_tex, rhs_tex))
    hidden = len(nodes) - MAX_LOCAL_STEPS
    if hidden > 0:
        note = f"… and {hidden:,} more adjoints (--format json lists every node)"
        steps.append(Step("backprop", "", note, "", rf"\text{{… and {hidden:,} more adjoints}}", note=True))
    return steps
