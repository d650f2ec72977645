"""A Program from a SymPy expression the caller built (notebooks), within the parser's operation limit."""

from __future__ import annotations

import numpy as np
import sympy as sp

from symgraph import ops
from symgraph.errors import InputError, LimitError
from symgraph.lang import limits
from symgraph.lang.program import Apply, Assignment, Program, Ref, Term
from symgraph.lang.values import short_text

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
            return _constant(e)
        if e.is_Pow and e.exp.is_number:
            _exponent(e.exp)
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


def _constant(e: sp.Expr) -> sp.Expr:
    """The limits the parser applies to constants in text, for a constant the caller built in SymPy."""
    if e.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
        raise InputError(f"the constant {short_text(e)} is infinite or undefined; symgraph works with finite real numbers")
    if e.has(sp.I):
        raise InputError(f"the constant {short_text(e)} is not a real number; symgraph works with real numbers")
    value = ops.approximate(e)
    if np.isinf(value):
        written = short_text(e if e.is_Integer or not e.is_Number else e.evalf(3))  # 1.00e+400, not its 400 digits
        raise InputError(f"the constant {written} is too large for a floating-point number")
    if np.isnan(value):
        raise InputError(f"the constant {short_text(e)} is undefined or not a real number")
    return e


def _exponent(exponent: sp.Expr) -> None:
    """A power's constant exponent: real and within the parser's limit (x**Integer(10**10) is refused as in text)."""
    _constant(exponent)
    if abs(float(ops.approximate(exponent))) > limits.LIMITS.max_exponent:
        raise LimitError(f"exponent {short_text(exponent)} is larger than {limits.LIMITS.max_exponent}")
