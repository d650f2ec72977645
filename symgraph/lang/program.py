"""The Program: what the parser produces and the engine builds a graph from, as plain frozen data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

import sympy as sp

from symgraph import ops

__all__ = ["Ref", "Apply", "Term", "Assignment", "Program", "CONSTANTS"]

#: The language's named constants, folded into every use.
CONSTANTS: dict[str, sp.Expr] = {"pi": sp.pi, "E": sp.E}


@dataclass(frozen=True)
class Ref:
    """A use of a name: an input or an earlier assignment."""

    name: str
    line: int
    column: int


@dataclass(frozen=True)
class Apply:
    """An op applied to terms, in the order written."""

    op: str
    args: tuple[Term, ...]


Term: TypeAlias = Apply | Ref | sp.Expr


@dataclass(frozen=True)
class Assignment:
    name: str | None  # None: the unnamed output of a bare expression
    term: Term
    #: the iteration it belongs to, when a loop made it: (loop variable, value) pairs, outermost first
    loop: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Program:
    """Ordered named assignments; `inputs` in order of first use; declared shapes (`W: 3x2`) by name.

    A name a loop assigns is versioned (h_0, h_1 …, see symgraph.lang.loops); `latest` maps it to its
    last version, which is what the name means after the loop. `notes` are plain sentences for the
    reader about how the program was read (a constant's name that is the user's variable).
    """

    assignments: tuple[Assignment, ...]
    inputs: tuple[str, ...]
    source: str
    declarations: dict[str, tuple[int, ...]] = field(default_factory=dict)
    #: Plain sentences for the reader about how the program was read (a constant's name taken as a variable).
    notes: tuple[str, ...] = ()
    latest: dict[str, str] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.assignments if a.name is not None)

    @property
    def uses_tensor_ops(self) -> bool:
        """Declares a tensor or applies a tensor op (@, .T, indexing, sum …): a tensor program."""
        if any(self.declarations.values()):
            return True
        stack = [a.term for a in self.assignments]
        while stack:
            term = stack.pop()
            if isinstance(term, Apply):
                if ops.get(term.op).is_tensor:
                    return True
                stack.extend(term.args)
        return False
