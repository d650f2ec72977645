"""Errors that carry their exit status, so the CLI reports them in one place."""

from __future__ import annotations

__all__ = [
    "SymgraphError",
    "InputError",
    "ParseError",
    "LimitError",
    "ShapeError",
    "EvaluationError",
    "GraphvizMissing",
    "DrawingFailed",
    "CheckFailed",
]


class SymgraphError(Exception):
    """Base of every error a user can cause; `exit_code` is what the CLI exits with."""

    exit_code = 2


class InputError(SymgraphError):
    """Bad input or usage that is not a syntax error (unknown name, bad value)."""


class ParseError(InputError):
    """The program text is not in the language; names the token and its column (1-based)."""

    def __init__(self, message: str, token: str | None = None, column: int | None = None, hint: str | None = None):
        self.token = token
        self.column = column
        where = ""
        if token is not None and column is not None:
            where = f" at column {column} ('{shorten(token)}')"
        elif column is not None:
            where = f" at column {column}"
        super().__init__(f"{message}{where}" + (f"; {hint}" if hint else ""))


class LimitError(InputError):
    """The input is legal but larger than a documented limit allows."""


class ShapeError(InputError):
    """Tensor shapes that do not fit an operation; found before anything is evaluated."""


class EvaluationError(InputError):
    """A value is undefined at the given point (log of a negative number, overflow)."""


class GraphvizMissing(InputError):
    """Drawing an image needs Graphviz's `dot` program, which is not installed; the message says how to get it."""


class DrawingFailed(SymgraphError):
    """Graphviz's `dot` refused or crashed on a picture; the message carries its own last line."""


class CheckFailed(SymgraphError):
    """The symbolic derivative disagrees with finite differences."""

    exit_code = 1


def shorten(token: str, width: int = 30) -> str:
    """A token cut to `width` characters with an ellipsis, on one line."""
    token = token.replace("\n", " ")
    return token if len(token) <= width else token[: width - 1] + "…"
