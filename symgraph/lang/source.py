"""Expressions written back in the input language: what `symgraph derive` reads again.

The inverse of the parser for a single expression, used wherever a program is written out
(JSON `expr` strings, scalar expansions, candidate answers).
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.str import StrPrinter

__all__ = ["source"]


class _SourcePrinter(StrPrinter):
    def _print_Abs(self, expr):
        return f"abs({self._print(expr.args[0])})"


def source(expr: sp.Expr) -> str:
    return _SourcePrinter({"order": None}).doprint(sp.sympify(expr))
