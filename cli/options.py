"""Option values that several commands read the same way (derive, render and compare's --at)."""

from __future__ import annotations

from symgraph.errors import InputError

__all__ = ["parse_at", "parse_upstream"]


def _pair(option: str, pair: str, example: str) -> tuple[str, str]:
    """NAME=VALUE of one option, both sides non-empty and stripped."""
    name, sep, value = pair.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise InputError(f"{option} {pair}: write NAME=VALUE, e.g. {option} {example}")
    return name.strip(), value.strip()


def parse_at(pairs: tuple[str, ...]) -> dict[str, str]:
    """--at NAME=VALUE pairs → {name: value text}; a pair without '=' or given twice is refused."""
    values: dict[str, str] = {}
    for pair in pairs:
        name, value = _pair("--at", pair, "x=0.5")
        if name in values:
            raise InputError(f"--at {name} is given twice")
        values[name] = value
    return values


def parse_upstream(pair: str | None) -> dict[str, str] | None:
    """--upstream NAME=VALUE → {name: value text}, or None without it."""
    return None if pair is None else dict([_pair("--upstream", pair, "h='[1, -1]'")])
