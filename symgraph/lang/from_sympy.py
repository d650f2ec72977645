"""A Program from a SymPy expression the caller built (notebooks), within the parser's operation limit."""

from __future__ import annotations

import sympy as sp

from symgraph import ops
from symgraph.errors import InputError, LimitError
from symgraph.lang import limits
from symgraph.lang.program import Apply, Assignment, Program, Ref, Term

__all__ = ["from_sympy"]


def from_sympy(expr: sp.Expr) -> Program:
    """A one-expression program from a SymPy expression built by the caller (notebooks)."""
    if not isinstance(expr, sp.Expr):
        raise InputError(f"expected program text or a SymPy expression, got {type(expr).__name__}")
    inputs = sorted(expr.free_symbols, key=lambda s: s.name)
    for symbol in inputs:
        if not symbol.name.isidentifier() or symbol.name.startswith("_") or symbol.name in ops.FUNCTIONS:
            raise InputError(f"symbol name '{symbol.name}' cannot be used; use a plain identifier")
    nodes = 0

    def term(e: sp.Expr) -> Term:
        nonlocal nodes
        if e.is_Symbol:
            return Ref(e.name, 1, 1)
        if e.is_number:
            return e
        nodes += 1
        if nodes > limits.LIMITS.max_nodes:
            raise LimitError(f"expression has more than {limits.LIMITS.max_nodes:,} operations")
        try:
            op, args = ops.decompose(e)
        except NotImplementedError as error:
            raise InputError(str(error)) from None
        return Apply(op.name, tuple(term(a) for a in args))

    source = str(expr)
    return Program((Assignment(None, term(expr)),), tuple(s.name for s in inputs), source)
