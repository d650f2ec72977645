"""Expressions written back in the input language: what `symgraph derive` reads again.

The inverse of the parser for a single expression, used wherever a program is written out
(JSON `expr` strings, scalar expansions, candidate answers).
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp
from sympy.printing.str import StrPrinter

__all__ = ["source", "Memoised", "source_writer"]


class Memoised:
    """A printer mixin that writes each distinct sub-expression once per printer and reuses its text.

    Derivatives share sub-expressions (every gradient of an MLP repeats the layers above it), so a printer
    kept for a whole derivation prints each node's expression once however often it recurs. The text of an
    expression depends on it, the keyword arguments and (for StrPrinter's Floats) whether it is printed at
    the top level, so those are the key; `calls` counts the sub-expressions actually printed.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._memo: dict[tuple, str] = {}

    def _print(self, expr, **kwargs):
        if not isinstance(expr, sp.Basic):
            return super()._print(expr, **kwargs)  # type: ignore[misc]
        key = (expr, tuple(sorted(kwargs.items())), self._print_level == 0)  # type: ignore[attr-defined]
        text = self._memo.get(key)
        if text is None:
            text = self._memo[key] = super()._print(expr, **kwargs)  # type: ignore[misc]
        return text


class _SourcePrinter(Memoised, StrPrinter):
    def _print_Abs(self, expr):
        return f"abs({self._print(expr.args[0])})"


def source_writer() -> Callable[[sp.Expr], str]:
    """`source` with one printer kept, so that an expression shared by many written forms is printed once."""
    printer = _SourcePrinter({"order": None})
    return lambda expr: printer.doprint(sp.sympify(expr))


def source(expr: sp.Expr) -> str:
    return source_writer()(expr)
