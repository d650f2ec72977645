"""Sizes of `symgraph params`: whole numbers, or SymPy expressions of letters (C, H, W, d_model, …).

A size is a Python int when it is a number, so a table of numbers never touches SymPy; a letter is a
positive-integer SymPy symbol, and the shape and count rules compute with it as they do with numbers
(H − 3 + 1 = H − 2, 9·C·K + K). What cannot be decided for letters (is the kernel larger than H?) is
left to the table of numbers that `--size` gives. `given` holds the sizes given for the letters while a
table of formulas is built, so that a layer written Conv2d(3, …) takes a C-channel input when C = 3.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeAlias

import sympy
from sympy.printing.str import StrPrinter

__all__ = ["Size", "Shape", "letter", "normal", "is_letters", "letters_of", "size_text", "num_text", "shape_text",
           "differ", "given_text", "negative", "nonnegative", "given_sizes", "substitute", "source_text"]

Size: TypeAlias = "int | sympy.Expr"
Shape: TypeAlias = "tuple[Size, ...]"

_GIVEN: ContextVar[Mapping[str, int]] = ContextVar("given", default={})


def letter(name: str) -> sympy.Symbol:
    """The symbol of a size letter: a positive whole number, the same object for the same name."""
    return sympy.Symbol(name, integer=True, positive=True)


def normal(value: Size) -> Size:
    """A SymPy number as a Python int, so that a size without letters is an int."""
    if isinstance(value, sympy.Basic) and value.is_Integer:
        return int(value)
    return value


def is_letters(value: object) -> bool:
    return isinstance(value, sympy.Basic) and bool(value.free_symbols)


def letters_of(values: Iterable[object]) -> set[str]:
    """The names of the letters in sizes, tuples of sizes and other arguments (which have none)."""
    found: set[str] = set()
    for value in values:
        if isinstance(value, tuple):
            found |= letters_of(value)
        elif isinstance(value, sympy.Basic):
            found |= {s.name for s in value.free_symbols if isinstance(s, sympy.Symbol)}
    return found


class _Printer(StrPrinter):
    def _print_floor(self, expr):
        return f"⌊{self._print(sympy.together(expr.args[0]))}⌋"

    def _print_ceiling(self, expr):
        return f"⌈{self._print(sympy.together(expr.args[0]))}⌉"


_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def size_text(value: Size) -> str:
    """3 → '3'; 9*C*K + K → '9·C·K + K'; d**2 → 'd²'; H - 2 → 'H − 2'."""
    if not isinstance(value, sympy.Basic):
        return str(value)
    text = _Printer().doprint(value)
    text = re.sub(r"\*\*(\d+)", lambda m: m[1].translate(_SUPERSCRIPTS), text)
    return text.replace("*", "·").replace("-", "−")


def num_text(value: Size) -> str:
    """A count: 1,606,144 with thousands separators, or its formula."""
    return f"{value:,}" if isinstance(value, int) else size_text(value)


def shape_text(shape: Shape) -> str:
    """(32, 20, 20) → '32×20×20'; (K, H − 2, W − 2) → 'K×(H − 2)×(W − 2)'."""
    return "×".join(f"({size_text(s)})" if isinstance(s, sympy.Add) else size_text(s) for s in shape)


def source_text(value: Size) -> str:
    """A size as it is written in SPEC or --input: 3, C, H - 2, 2*d."""
    return sympy.sstr(value) if isinstance(value, sympy.Basic) else repr(value)


def substitute(value: Size, sizes: Mapping[str, int]) -> Size:
    if not isinstance(value, sympy.Basic) or not sizes:
        return value
    return normal(sympy.expand(value.subs({letter(k): v for k, v in sizes.items()})))


def given_text(value: Size) -> str:
    """A size with the numbers given for its letters: 'H = 2', or 'H' when none is given."""
    got = substitute(value, _GIVEN.get())
    return size_text(value) if size_text(got) == size_text(value) else f"{size_text(value)} = {size_text(got)}"


def differ(a: Size, b: Size) -> bool:
    """Whether two sizes can differ: for letters, after the sizes given with --size are put in."""
    if isinstance(a, int) and isinstance(b, int):
        return a != b
    return substitute(sympy.expand(sympy.sympify(a) - b), _GIVEN.get()) != 0


def nonnegative(value: Size) -> bool | None:
    """Whether the size is ≥ 0; None when letters leave it open (after the sizes given are put in)."""
    value = substitute(value, _GIVEN.get())
    return value >= 0 if isinstance(value, int) else value.is_nonnegative


def negative(value: Size) -> bool:
    """True only when the size is surely below 0 (for letters: whatever positive values they take)."""
    return nonnegative(value) is False


@contextmanager
def given_sizes(sizes: Mapping[str, int]) -> Iterator[None]:
    token = _GIVEN.set(sizes)
    try:
        yield
    finally:
        _GIVEN.reset(token)
