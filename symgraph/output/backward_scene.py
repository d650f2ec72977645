"""The backward and combined views' scenes: every adjoint as the sum over its children, wires labelled ∂v/∂u."""

from __future__ import annotations

from dataclasses import replace

import sympy as sp

from symgraph.engine.graph import is_node
from symgraph.explain.printing import unicode
from symgraph.explain.tensor_steps import term as tensor_term
from symgraph.output.forward_scene import ForwardScene
from symgraph.output.scene_text import MAX_TERMS, inline_value, partial_label, tensor_rows, value_text
from symgraph.output.scene_types import Row, Wire
from symgraph.output.view import DerivationView

__all__ = ["BackwardScene", "CombinedScene"]


class BackwardScene(ForwardScene):
    """The same boxes with every adjoint as the sum over children; wires point back, labelled ∂v/∂u."""

    def rows(self, node: int) -> list[Row]:
        return self.adjoint_rows(node)

    def collapsed_rows(self, node: int) -> list[Row]:
        return self.adjoint_value_rows(node)

    def muted(self, node: int) -> bool:
        return node not in self.d.gradients.adjoint

    def wire(self, u: int, v: int) -> Wire:
        return self.local_wire(u, v, backward=True, role="gradient")

    def plain_wire(self, u: int, v: int) -> Wire:
        return Wire(u, v, backward=True, role="muted" if self.muted(v) else "gradient")

    # --- the backward pass, shared by the views that show it -------------------------------------
    def adjoint_value_rows(self, node: int) -> list[Row]:
        """∂y/∂u = its value (no sum): the combined view's lower half and the collapsed backward view."""
        if node not in self.d.gradients.adjoint:
            return []
        lead = partial_label(self.d, self.d.output, node)
        if self.tensor:
            rows = tensor_rows(self.d, self.d.gradients.adjoint[node], self.graph.shape(node), "gradient")
            return self.unless_revealed(node, [replace(row, lead=lead if i == 0 else "") for i, row in enumerate(rows)])
        value = value_text(self.d, self.d.gradients.adjoint[node])
        return self.unless_revealed(node, [Row(lead, f"= {value}", "gradient")])

    def adjoint_rows(self, u: int) -> list[Row]:
        """∂y/∂u as the sum over u's children in the sweep, one term a line, then its value. A term is
        ∂y/∂v·∂v/∂u in a scalar program; in a tensor program it is v's rule in matrix notation (Wᵀ ∂L/∂z)."""
        if u not in self.d.gradients.adjoint:
            return []
        d, out = self.d, self.d.output
        lhs = partial_label(d, out, u)
        if u == out:
            return [Row(lhs, "= 1", "gradient")]
        children = [v for v in sorted(self.graph.dag.successors(u)) if _on_sweep(d, v, u)]
        terms = [self.term_text(v, u) if self.tensor else self.chain_term(v, u) for v in children]
        if len(terms) > MAX_TERMS:  # a weight shared by 100 steps: the sum's shape, not 100 lines
            terms = [*terms[: MAX_TERMS - 2], f"… ({len(terms) - MAX_TERMS + 1} more)", terms[-1]]
        rows = [Row(lhs, f"= {terms[0]}", "gradient")]
        rows += [Row("", f"− {t[1:]}" if t.startswith("−") else f"+ {t}", "gradient") for t in terms[1:]]
        if self.tensor:
            value = tensor_rows(d, d.gradients.adjoint[u], self.graph.shape(u), "gradient")
        else:
            number_ = value_text(d, d.gradients.adjoint[u])
            value = [Row("", f"= {number_}", "gradient")] if number_ is not None else []
        if [row.rest for row in value] != [row.rest for row in rows]:
            rows += value
        return self.unless_revealed(u, rows)

    def term_text(self, v: int, u: int) -> str:
        """v's term of ∂L/∂u in a tensor program, with ∂L/∂v as a symbol: the op's vector-Jacobian rule."""
        assert self.graph.is_tensor, "only tensor programs have vector-Jacobian terms"
        expr = tensor_term(self.graph, self.d.gradients, v, u)
        return unicode(expr, self.d.conventions.relu_at_zero, self.graph.expr_shape)

    def unless_revealed(self, u: int, rows: list[Row]) -> list[Row]:
        """Rows of an adjoint a frame has not reached yet stay, invisible, so every frame has the same layout."""
        return rows if u in self.revealed else [replace(row, role="hidden") for row in rows]

    def chain_term(self, v: int, u: int) -> str:
        """∂y/∂v·∂v/∂u; next to the output, ∂y/∂y = 1 drops and the local partial is written out."""
        if v == self.d.output:
            return self.local_text(v, u)
        return f"{partial_label(self.d, self.d.output, v)}·{partial_label(self.d, v, u)}"

    def local_text(self, v: int, u: int) -> str:
        """∂v/∂u in v's own names, as the registry writes it (∂d/∂x = d·(1 − d))."""
        local = self.d.gradients.local[(v, u)]
        if self.tensor:
            return unicode(local, self.d.conventions.relu_at_zero, self.graph.expr_shape)
        return unicode(local.xreplace(self.symbols_of(v)), self.d.conventions.relu_at_zero)

    def symbols_of(self, v: int) -> dict[sp.Symbol, sp.Symbol]:
        nodes = [v, *(o for o in self.graph.operands(v) if is_node(o))]
        return {self.graph.symbol(n): sp.Symbol(self.names[n]) for n in nodes}

    def local_wire(self, u: int, v: int, backward: bool, role: str) -> Wire:
        """An edge of the sweep labelled with ∂v/∂u once u's adjoint is revealed."""
        if self.tensor and (v, u) in self.d.gradients.vjp:  # a tensor op: its rule, ∂L/∂v put through it
            (label,) = self.unless_revealed(u, [Row("", self.term_text(v, u), "gradient")])
            return Wire(u, v, backward, role if u in self.revealed else "muted", label, current=u == self.current)
        if (v, u) not in self.d.gradients.local:
            return Wire(u, v, backward, "muted")
        if self.tensor:
            return self.tensor_local_wire(u, v, backward, role)
        text, value = self.local_text(v, u), value_text(self.d, self.d.gradients.local_node[(v, u)])
        shown = text if value is None or self.d.gradients.local[(v, u)].is_number else f"{text} = {value}"
        (label,) = self.unless_revealed(u, [Row(partial_label(self.d, v, u, total=False), f"= {shown}", "gradient")])
        return Wire(u, v, backward, role if u in self.revealed else "muted", label, current=u == self.current)

    def tensor_local_wire(self, u: int, v: int, backward: bool, role: str) -> Wire:
        """An elementwise edge of a tensor program: ∂v/∂u = its local derivative, entry by entry, and its value."""
        local = self.d.gradients.local[(v, u)]
        text = self.local_text(v, u)
        # a number or a short vector; a matrix on a wire would be unreadable, and the boxes carry it
        value = None if local.is_number else inline_value(self.d, self.d.gradients.local_node[(v, u)], self.graph.shape(v), False)
        shown = text if value is None else f"{text} {value}"
        (label,) = self.unless_revealed(u, [Row(partial_label(self.d, v, u, total=False), f"= {shown}", "gradient")])
        return Wire(u, v, backward, role if u in self.revealed else "muted", label, current=u == self.current)


class CombinedScene(BackwardScene):
    """Forward values above, gradients below, in two colours: the classic backprop diagram."""

    def rows(self, node: int) -> list[Row]:
        return self.value_rows(node) + self.adjoint_value_rows(node)

    def collapsed_rows(self, node: int) -> list[Row]:
        return self.rows(node)

    def wire(self, u: int, v: int) -> Wire:
        return self.local_wire(u, v, backward=False, role="line")

    def plain_wire(self, u: int, v: int) -> Wire:
        return Wire(u, v, role="line")


def _on_sweep(d: DerivationView, v: int, u: int) -> bool:
    return (v, u) in d.gradients.local or (v, u) in d.gradients.vjp


