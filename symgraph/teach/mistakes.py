"""Mistake diagnosis: which common slip turns the true derivative into a wrong answer.

Each mistake is built on the true derivation, as a variant of its reverse sweep: the same local
partials and vector-Jacobian rules, with one of them changed (an activation's derivative for
another's, a factor left out, a sign dropped, a matrix transposed, a mean's 1/n lost) or one
chain-rule path left out, or the whole derivative changed (its sign, a factor 2, relu′(0)). The
variants become nodes of the judge's private graph and are evaluated at the points the candidate
was judged at; the first that equals the candidate at all of them names the mistake. The number
of variants is bounded (MAX_VARIANTS), so a diagnosis costs a few sweeps and evaluations.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np
import sympy as sp

from symgraph import ops
from symgraph.engine.backward import ADJOINT, Gradients
from symgraph.engine.evaluate import Conventions, evaluate, value_of
from symgraph.engine.graph import Graph, Operand, is_node
from symgraph.explain.steps import MAX_PATHS, Writer, paths
from symgraph.notation import number, partial_text, pretty_name
from symgraph.ops.tensor import HEADS

__all__ = ["Diagnosis", "Mistakes", "MAX_VARIANTS", "UNEXPLAINED", "RTOL", "ATOL", "close"]

RTOL = 1e-8  #: relative agreement the numbers need
ATOL = 1e-12  #: absolute floor, for derivatives that vanish at a point
MAX_VARIANTS = 60  #: mistakes tried per derivative, at most
MAX_NODES = 3000  #: a larger graph is not diagnosed: each variant is a sweep over it
UNEXPLAINED = "no common mistake explains it"

#: Batches of input values (input node → value): one batch of arrays for a scalar program, one point per batch
#: for a tensor program.
Points = Sequence[Mapping[int, Any]]


def close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Entry by entry, whether two values agree within the tolerance (NaN agrees with nothing)."""
    a, b = np.broadcast_arrays(a, b)
    return np.abs(a - b) <= RTOL * np.maximum(np.abs(a), np.abs(b)) + ATOL


@dataclass(frozen=True)
class Diagnosis:
    """The mistake a wrong candidate equals (`kind` None when none does), in a sentence."""

    kind: str | None
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"mistake": self.kind, "explanation": self.text}


@dataclass(frozen=True)
class _Variant:
    kind: str
    text: str  # completes "matches the derivative …": with its sign flipped, transposed
    operand: Operand
    relu_at_zero: float | None = None  # evaluated with this convention instead of the derivation's


#: Activations whose derivatives a student confuses: op → (its derivative's name, the derivative in the
#: operand u, the derivative in the output y where the course writes one).
_ACTIVATIONS: dict[str, tuple[str, Callable[[sp.Expr], sp.Expr], Callable[[sp.Expr], sp.Expr] | None]] = {
    "sigmoid": ("σ′", lambda u: ops.sigmoid(u) * (1 - ops.sigmoid(u)), lambda y: y * (1 - y)),
    "tanh": ("tanh′", lambda u: 1 - sp.tanh(u) ** 2, lambda y: 1 - y**2),
    "relu": ("relu′", ops.step, None),
    "softplus": ("softplus′", ops.sigmoid, None),
}


class Mistakes:
    """The common mistakes of one derivative ∂output/∂wrt, built once on `graph` (a private copy) when first asked."""

    def __init__(self, graph: Graph, gradients: Gradients, wrt: int, derivative: Operand, writer: Writer,
                 conventions: Conventions):
        self.graph, self.gradients, self.wrt = graph, gradients, wrt
        self.derivative, self.writer, self.conventions = derivative, writer, conventions
        self._variants: list[_Variant] | None = None

    def explain(self, candidate: Operand, points: Points, where: str) -> Diagnosis:
        """The first mistake that equals the candidate at every point (`where` says which points, for the text)."""
        shape = self.graph.shape(candidate)
        alive = [v for v in self.variants() if self.graph.shape(v.operand) == shape]
        for batch in points:
            if not alive:
                break
            alive = [v for v in alive if self._agrees(candidate, v, batch)]
        if not alive or not points:
            return Diagnosis(None, UNEXPLAINED)
        return Diagnosis(alive[0].kind, f"matches the derivative {alive[0].text} ({where})")

    def _agrees(self, candidate: Operand, variant: _Variant, batch: Mapping[int, Any]) -> bool:
        at_zero = self.conventions.relu_at_zero if variant.relu_at_zero is None else variant.relu_at_zero
        values = evaluate(self.graph, batch, [candidate, variant.operand], Conventions(at_zero))
        return bool(np.all(close(value_of(values, candidate), value_of(values, variant.operand))))

    def variants(self) -> list[_Variant]:
        if self._variants is None:
            small = len(self.graph) <= MAX_NODES and is_node(self.gradients.output)
            self._variants = list(islice(self._all(), MAX_VARIANTS)) if small else []
        return self._variants

    # --- the mistakes, most specific first ------------------------------------------------------------
    def _all(self) -> Iterator[_Variant]:
        d = self.graph.operand_expr(self.derivative)
        yield from self._convention()
        yield _Variant("sign", "with its sign flipped", self.graph.add_expr(-d))
        yield from self._activations()
        yield from self._left_out_factors()
        yield from self._exponents()
        yield from self._signs()
        yield from self._swapped_products()
        yield from self._missing_paths(d)
        yield from self._transposes(d)
        yield from self._reductions()
        yield _Variant("factor", "with a factor 2 left out (half of it)", self.graph.add_expr(d / 2))
        yield _Variant("factor", "with a factor 2 too many (twice it)", self.graph.add_expr(2 * d))

    def _convention(self) -> Iterator[_Variant]:
        """relu′(0) the other way: differs only where a step meets 0 (a given point on a kink)."""
        upstream = self.graph.upstream([self.derivative])
        if any(self.graph[n]["op"] and ops.get(self.graph[n]["op"]).takes_relu_convention for n in upstream):
            other = 0.0 if self.conventions.relu_at_zero == 1 else 1.0
            text = f"with relu′(0) taken as {number(other)} (--relu-at-zero {number(other)})"
            yield _Variant("convention", text, self.derivative, other)

    def _edges(self) -> dict[int, list[int]]:
        """Forward node v → its operands u that the sweep sent a term to, for the scalar (local) and tensor (vjp) rules."""
        edges: dict[int, list[int]] = defaultdict(list)
        for v, u in [*self.gradients.local, *self.gradients.vjp]:
            edges[v].append(u)
        return edges

    def _partial(self, v: int, u: int) -> str:
        return partial_text(self.graph.label(v), self.graph.label(u))

    def _activations(self) -> Iterator[_Variant]:
        """One activation's derivative where another's belongs, in the operand (σ(x)(1 − σ(x))) or the output (b(1 − b))."""
        for (v, u), local in self.gradients.local.items():
            belongs = _ACTIVATIONS.get(self.graph[v]["op"])
            if belongs is None:
                continue
            operand, output = self.graph.operand_expr(u), self.graph.symbol(v)
            for op, (name, of_operand, of_output) in _ACTIVATIONS.items():
                if op == self.graph[v]["op"]:
                    continue
                for form in (of_operand(operand), of_output(output) if of_output else None):
                    if form is not None:
                        text = f"with {name} where {belongs[0]} belongs: {self._partial(v, u)} taken as {self.writer.text(form)}"
                        yield _Variant("activation", text, self.sweep({(v, u): form}))

    def _left_out_factors(self) -> Iterator[_Variant]:
        """A node's local partials left out (taken as 1): the upstream gradient or a derivative forgotten."""
        for v, operands in self._edges().items():
            if not all((v, u) in self.gradients.local for u in operands):
                continue  # a tensor op: its rule is not a factor
            locals_ = {(v, u): self.gradients.local[(v, u)] for u in operands}
            if all(e.is_number for e in locals_.values()):
                continue
            said = " and ".join(f"{self._partial(*e)} = {self.writer.text(local)}" for e, local in locals_.items())
            text = f"with the factor{'s' if len(locals_) > 1 else ''} {said} left out"
            yield _Variant("factor", text, self.sweep({e: sp.Integer(1) for e in locals_}))

    def _exponents(self) -> Iterator[_Variant]:
        """The power rule's factor k of ∂(uᵏ)/∂u = k·uᵏ⁻¹ left out: d(x²)/dx taken as x."""
        for (v, u), local in self.gradients.local.items():
            operands = self.graph.operands(v)
            if self.graph[v]["op"] == "pow" and operands[0] == u and not is_node(operands[1]) and operands[1] not in (0, 1):
                k = operands[1]
                text = f"with the power rule's factor {self.writer.text(k)} of {self._partial(v, u)} = {self.writer.text(local)} left out"
                yield _Variant("factor", text, self.sweep({(v, u): local / k}))

    def _signs(self) -> Iterator[_Variant]:
        """A local partial's minus sign dropped: ∂c/∂x = −1 taken as 1, cos′ = −sin taken as sin."""
        for (v, u), local in self.gradients.local.items():
            if local.could_extract_minus_sign():
                text = f"with {self._partial(v, u)} = {self.writer.text(local)} taken as {self.writer.text(-local)}"
                yield _Variant("sign", text, self.sweep({(v, u): -local}))

    def _swapped_products(self) -> Iterator[_Variant]:
        """The product rule's factors exchanged: ∂(ab)/∂a taken as a rather than b."""
        for v, operands in self._edges().items():
            if self.graph[v]["op"] == "mul" and len(operands) == 2 and all((v, u) in self.gradients.local for u in operands):
                first, second = ((v, u) for u in operands)
                a, b = (self.gradients.local[e] for e in (first, second))
                text = f"with {self._partial(*first)} and {self._partial(*second)} exchanged (the product rule's factors swapped)"
                yield _Variant("product rule", text, self.sweep({first: b, second: a}))

    def _missing_paths(self, d: sp.Expr) -> Iterator[_Variant]:
        """One chain-rule path left out: scalar programs subtract the path's product; tensor programs (and scalar
        ones with many paths) leave one branch's term out where the gradient sums several."""
        graph, output = self.graph, self.gradients.output
        assert is_node(output)
        within = graph.ancestors_within(output, [self.wrt])
        found = [] if graph.is_tensor else paths(graph, self.wrt, output, within)[: MAX_PATHS + 1]
        if 2 <= len(found) <= MAX_PATHS:
            for path in found:
                edges = list(zip(path[1:], path[:-1]))
                if all(e in self.gradients.local_node for e in edges):
                    product = sp.Mul(*(graph.operand_expr(self.gradients.local_node[e]) for e in edges))
                    named = " → ".join(pretty_name(graph.label(n)) for n in path)
                    yield _Variant("missing path", f"with the path {named} left out", graph.add_expr(d - product))
            return
        consumers: dict[int, list[int]] = defaultdict(list)
        for v, operands in self._edges().items():
            for u in operands:
                consumers[u].append(v)
        for u, vs in consumers.items():
            if len(vs) > 1:
                for v in vs:
                    text = f"with the branch {pretty_name(graph.label(u))} → {pretty_name(graph.label(v))} left out"
                    yield _Variant("missing path", text, self.sweep({(v, u): None}))

    def _transposes(self, d: sp.Expr) -> Iterator[_Variant]:
        """A square matrix and its transpose exchanged in one vector-Jacobian rule, or the whole gradient transposed."""
        if not self.graph.is_tensor:
            return
        transpose = HEADS["transpose"]
        if len(self.graph.shape(self.derivative)) == 2:
            yield _Variant("transpose", "transposed", self.graph.add_expr(transpose(d)))
        for (v, u), rule in self.gradients.vjp.items():
            for m in sorted(rule.free_symbols - {ADJOINT}, key=str):
                shape = self.graph.expr_shape(m)
                if len(shape) == 2 and shape[0] == shape[1]:
                    held = sp.Dummy()
                    swapped = rule.xreplace({transpose(m): held}).xreplace({m: transpose(m)}).xreplace({held: m})
                    if swapped != rule:
                        text = f"with {pretty_name(str(m))} and {pretty_name(str(m))}ᵀ exchanged in the term of ∂/∂{pretty_name(self.graph.label(u))} through {pretty_name(self.graph.label(v))}"
                        yield _Variant("transpose", text, self.sweep({(v, u): swapped}))

    def _reductions(self) -> Iterator[_Variant]:
        """A mean taken as a sum (its 1/n left out), or a sum as a mean (1/n too many)."""
        for (v, u), rule in self.gradients.vjp.items():
            op = self.graph[v]["op"]
            if op not in ("mean", "sum", "mse"):
                continue
            operands, params = ops.get(op).split(self.graph.operands(v))
            shape = self.graph.shape(operands[0])
            n = int(np.prod(shape)) if not params or op == "mse" else shape[params[0]]
            if n < 2:
                continue
            if op == "sum":
                yield _Variant("mean/sum", f"with the sum taken as a mean (a factor 1/{n} too many)", self.sweep({(v, u): rule / n}))
            else:
                yield _Variant("mean/sum", f"with the {op} taken as a sum (its 1/{n} left out)", self.sweep({(v, u): rule * n}))

    # --- the sweep ----------------------------------------------------------------------------------------
    def sweep(self, changed: Mapping[tuple[int, int], sp.Expr | None]) -> Operand:
        """∂output/∂wrt by the recorded sweep, with some edges' rules `changed` (None: the edge left out).

        A local partial (scalar op) multiplies the adjoint; a vector-Jacobian rule reads it as ADJOINT.
        The unchanged edges reuse the derivation's own nodes, so a variant adds only what differs.
        """
        graph, gradients = self.graph, self.gradients
        edges = self._edges()
        adjoint: dict[int, Operand] = {}
        terms: dict[int, list[sp.Expr]] = defaultdict(list)
        for v in gradients.order:
            adjoint[v] = sp.Integer(1) if v == gradients.output else graph.add_expr(sp.Add(*terms.pop(v, [])))
            if v == self.wrt:
                return adjoint[v]
            a = graph.operand_expr(adjoint[v])
            if a == 0:
                continue
            for u in edges.get(v, ()):
                edge = (v, u)
                if edge in changed and changed[edge] is None:
                    continue
                if edge in gradients.vjp:
                    rule = changed.get(edge, gradients.vjp[edge])
                    assert rule is not None
                    terms[u].append(graph.fit(rule.xreplace({ADJOINT: a}), u))
                else:
                    new = changed.get(edge)
                    local = gradients.local_node[edge] if new is None else graph.add_expr(new)
                    terms[u].append(graph.fit(a * graph.operand_expr(local), u))
        return sp.Integer(0)
