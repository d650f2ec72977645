"""The textbook form of a derivative: the op's own rewrites applied, in the forward names, verified equal.

The chain rule's result in the named intermediates is right but is not always what a lecturer writes:
the cross-entropy of p = σ(z) gives p(1 − p)(−(y − 1)/(1 − p) − y/p), the textbook p − y; xᵀAx gives
A x + xᵀA, the textbook (A + Aᵀ)x. The ops carry the rewrites as data (symgraph.ops.Op.textbook and
.cancels); this module applies those of the ops the derivative uses, writes the forward values back under
their names (σ(z) → p), and keeps the result only when a rewrite fired or a pole cancelled and it is no longer, differs from the
forms already shown, and equals the derivative: symbolically where a cancellation decides it, otherwise at
seeded random points. Everything is bounded: nothing runs on an expression over MAX_TIDY_OPS operations.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from functools import cached_property

import numpy as np
import sympy as sp

from symgraph import ops
from symgraph.engine import expand
from symgraph.engine.graph import Graph

__all__ = ["Textbook", "POINTS"]

#: Random points at which a rewrite is compared with the derivative when SymPy does not decide.
POINTS = 6


class Textbook:
    """Textbook forms of one derivation's derivatives. What every one of them reads — each kept forward node in
    the other kept names (p → σ(z)), each written in the inputs — is computed once, not once per derivative.

    `named` writes nodes in the `kept` names, `written` in the inputs (symgraph.engine.expand.Inliner).
    """

    def __init__(self, graph: Graph, kept: Collection[int], named: expand.Inliner, written: expand.Inliner) -> None:
        self.graph, self.kept, self.named, self.written = graph, kept, named, written
        self.forward = [n for n in sorted(kept) if graph[n]["op"] is not None]

    def form(self, mid: sp.Expr | None, shown: Sequence[sp.Expr]) -> sp.Expr | None:
        """The textbook form of the derivative `mid` (written in the `kept` names), or None when there is none
        to add to the forms `shown`, or it cannot be verified equal."""
        if mid is None or mid.is_number or sp.count_ops(mid) > expand.MAX_TIDY_OPS:
            return None
        candidate = mid
        for op in _ops_in(mid):
            for pattern, replacement in op.textbook() if op.textbook is not None else ():
                candidate = _rewrite(candidate, pattern, replacement)
        fired = candidate != mid
        candidate = candidate.xreplace({expr: symbol for symbol, expr in self.names.items()})
        cancelled = not self.graph.is_tensor and self._cancels(candidate)
        if cancelled or (fired and not self.graph.is_tensor):
            candidate = sp.factor(sp.cancel(candidate))
        candidate = _leading_plus(candidate)
        if not (fired or cancelled) or sp.count_ops(candidate) > sp.count_ops(mid) or candidate in shown or candidate == mid:
            return None
        return candidate if self._equal(candidate, mid) else None

    @cached_property
    def names(self) -> dict[sp.Symbol, sp.Expr]:
        """Each kept forward node's symbol → its expression in the other kept names (p → σ(z))."""
        names = {}
        for node in self.forward:
            expr = self.named.through(node)
            if expr is not None and not expr.is_Symbol:
                names[self.graph.symbol(node)] = expr
        return names

    @cached_property
    def _cancelling(self) -> set[sp.Symbol]:
        return {self.graph.symbol(n) for n in self.forward if ops.get(self.graph[n]["op"]).cancels}

    def _cancels(self, expr: sp.Expr) -> bool:
        """The derivative divides by the forward name of an op whose derivative cancels it (1/p, p = σ(z))."""
        names = self._cancelling
        return any(sub.is_Pow and sub.exp.is_negative and sub.base.free_symbols & names for sub in sp.preorder_traversal(expr))

    @cached_property
    def _in_inputs(self) -> dict[sp.Symbol, sp.Expr] | None:
        """Each kept forward node's symbol → its expression in the inputs; None when one is too large."""
        written = {self.graph.symbol(n): self.written.inline(n) for n in self.forward}
        return None if any(e is None for e in written.values()) else written

    def _equal(self, candidate: sp.Expr, mid: sp.Expr) -> bool:
        """The two forms agree: their difference cancels to 0 (scalars), or at POINTS seeded random points."""
        graph = self.graph
        if not graph.is_tensor and sp.cancel(candidate - mid) == 0:
            return True
        written = self._in_inputs
        if written is None:
            return False
        a, b = candidate.xreplace(written), mid.xreplace(written)
        symbols = sorted(a.free_symbols | b.free_symbols, key=str)
        inputs = {graph.symbol(n): n for n in graph.nodes("input")}
        if any(s not in inputs for s in symbols):
            return False
        rng = np.random.default_rng(0)
        agreed = 0
        for _ in range(POINTS):
            at = {s: rng.uniform(0.1, 0.9, graph.shape(inputs[s])) * rng.choice([-1, 1]) for s in symbols}
            at = {s: float(v) if np.ndim(v) == 0 else v for s, v in at.items()}
            with np.errstate(all="ignore"):
                left, right = np.asarray(ops.approximate(a, at), dtype=float), np.asarray(ops.approximate(b, at), dtype=float)
            if not (np.all(np.isfinite(left)) and np.all(np.isfinite(right))):
                continue
            if left.shape != right.shape or not np.allclose(left, right, rtol=1e-9, atol=1e-12):
                return False
            agreed += 1
        return agreed >= POINTS // 2


def _leading_plus(expr: sp.Expr) -> sp.Expr:
    """−x(y − p) as x(p − y): a negative product takes its sign into its first sum."""
    if not (expr.is_Mul and expr.could_extract_minus_sign()):
        return expr
    factors = list((-expr).as_ordered_factors())
    for i, factor in enumerate(factors):
        if factor.is_Add:
            factors[i] = sp.expand(-factor)
            return sp.Mul(*factors)
    return expr


def _rewrite(expr: sp.Expr, pattern: sp.Expr, replacement) -> sp.Expr:
    """expr.replace(pattern, replacement), matching only where the head and, for a sum, the number of terms
    agree: SymPy tries a sum pattern against every sum (0.6 s on a dozen-layer network's gradient), and a sum
    pattern without a wild term matches only a sum of as many terms."""
    def fits(sub: sp.Basic) -> bool:
        return sub.func is pattern.func and (not sub.is_Add or len(sub.args) == len(pattern.args)) and \
            sub.match(pattern) is not None

    def value(sub: sp.Basic) -> sp.Expr:
        return replacement(**{str(wild)[:-1]: found for wild, found in sub.match(pattern).items()})
    return expr.replace(fits, value)


def _ops_in(expr: sp.Expr) -> list[ops.Op]:
    """The registered ops whose heads appear in `expr`, once each, in the order met."""
    found: dict[str, ops.Op] = {}
    for sub in sp.preorder_traversal(expr):
        op = ops.op_of_function(type(sub))
        if op is not None and op.name not in found:
            found[op.name] = ops.get(op.name)
    return list(found.values())
