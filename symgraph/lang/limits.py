"""The size limits every reader of program text checks, so that no input can hang the process.

Readers look `LIMITS` up here at call time (`limits.LIMITS.max_depth`), never bind it at import, so
assigning `symgraph.lang.limits.LIMITS = Limits(...)` changes them everywhere at once.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Limits", "LIMITS"]


@dataclass(frozen=True)
class Limits:
    """Size limits, adjustable by assigning a new `Limits` to `symgraph.lang.limits.LIMITS`."""

    max_text_length: int = 1_000_000
    max_depth: int = 100
    max_nodes: int = 20_000
    max_exponent: int = 1_000
    max_constant_digits: int = 300
    max_literal_digits: int = 50
    max_tensor_entries: int = 1_000_000
    max_operations: int = 20_000_000_000


LIMITS = Limits()
