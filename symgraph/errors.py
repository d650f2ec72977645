"""Errors that carry their exit status, so the CLI reports them in one place."""

from __future__ import annotations

from collections.abc import Callable

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
    """Bad input or usage that is not a syntax error (unknown name, bad value).

    An error about one parameter names it as the library spells it (at["x"], order=3); the CLI
    names the same parameter by its flag (--at x, --order 3) through `subject(flags)`.
    """

    def __init__(self, message: str, parameter: str | None = None, key: str | None = None, value: object = None):
        self.detail, self.parameter, self.key, self.value = message, parameter, key, value
        super().__init__(f"{self.subject()}: {message}" if parameter else message)

    def subject(self, flag: Callable[[str], str] | None = None) -> str:
        """The parameter in library terms, or with `flag` (parameter → its flag) in the CLI's terms."""
        if self.parameter is None:
            return ""
        if flag is None:
            key = f"[{self.key!r}]" if self.key is not None else ""
            return self.parameter + key + (f"={shorten(repr(self.value))}" if self.value is not None else "")
        words = [flag(self.parameter), self.key, None if self.value is None else shorten(str(self.value))]
        return " ".join(w for w in words if w is not None)

    def message(self, flag: Callable[[str], str]) -> str:
        """The whole message with the parameter named by its flag."""
        return f"{self.subject(flag)}: {self.detail}" if self.parameter else str(self)


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
