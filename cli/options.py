"""Option values that several commands read the same way (derive, render and compare's --at)."""

from __future__ import annotations

from symgraph.errors import InputError

__all__ = ["parse_at"]


def parse_at(pairs: tuple[str, ...]) -> dict[str, str]:
    """--at NAME=VALUE pairs → {name: value text}; a pair without '=' or given twice is refused."""
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name or not value.strip():
            raise InputError(f"--at {pair}: write NAME=VALUE, e.g. --at x=0.5")
        if name in values:
            raise InputError(f"--at {name} is given twice")
        values[name] = value.strip()
    return values
