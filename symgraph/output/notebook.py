"""What a notebook cell shows for a Derivation or a Picture: one HTML display with the picture inline once.

The SVG sits in the HTML itself (no second copy as an image, no base64), scaled down to the cell's width but
not below MIN_SCALE of its size, past which the cell scrolls. Drawing never fails silently: a missing `dot`, a
picture too large for it or any other error shows a readable message in the cell, then the collapsed view
when that fits, else the start of the DOT source; the steps of a derivation show all the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape
from typing import Protocol

from symgraph.errors import InputError, LimitError, SymgraphError
from symgraph.output.formats import to_text
from symgraph.output.view import DerivationView

__all__ = ["derivation_bundle", "picture_bundle", "picture_html", "inline_svg", "MIN_SCALE", "MAX_SOURCE_SHOWN", "MAX_HEIGHT"]

#: The least a picture is scaled down to fit the cell's width (its text stays readable); wider ones scroll.
MIN_SCALE = 0.5
#: The tallest a picture is shown before the cell scrolls, in CSS units.
MAX_HEIGHT = "80vh"
#: The most characters of DOT source a cell shows when there is no picture (`.source` has all of it).
MAX_SOURCE_SHOWN = 20_000
_CHAFF = re.compile(r"<!--.*?-->\n?|<title>[^<]*</title>\n?", re.DOTALL)
_WIDTH = re.compile(r'<svg\b[^>]*?\bwidth="([\d.]+)pt"')


class Drawn(Protocol):
    """What a cell reads of symgraph.output.render.Picture (which sits above this module and shows itself with it)."""

    @property
    def too_large(self) -> str | None: ...

    @property
    def collapsed(self) -> Callable[[], Drawn] | None: ...

    @property
    def source(self) -> str: ...

    def pipe(self, fmt: str = "svg", dpi: float | None = None) -> bytes: ...


def picture_bundle(picture: Drawn) -> dict[str, str]:
    """The display of one Picture: its SVG inline in HTML, or what went wrong."""
    return {"text/html": picture_html(picture), "text/plain": "symgraph Picture: .save(path) writes it, .source is its DOT"}


def derivation_bundle(d: DerivationView, draw: Callable[[], Drawn]) -> dict[str, str]:
    """The display of a Derivation: the picture `draw` makes (collapsed when the whole is too large), then the
    steps; each says what went wrong instead when it cannot be made."""
    try:
        picture = picture_html(draw())
    except Exception as error:  # every error: the cell must say what went wrong, never show <Derivation at 0x…>
        picture = _failure(f"No picture: {_reason(error)}")
    try:
        steps = to_text(d, include_check=True)
        shown = f'<pre class="symgraph-steps">{escape(steps, quote=False)}</pre>'
    except Exception as error:  # as above; the picture still shows
        steps = f"No steps: {_reason(error)}"
        shown = _failure(steps)
    return {"text/html": f'<div class="symgraph-derivation">{picture}{shown}</div>', "text/plain": steps}


def picture_html(picture: Drawn) -> str:
    """The picture inline; when it is too large the collapsed view with a note; when it cannot be drawn, why,
    with its DOT source."""
    try:
        return _drawn(picture)
    except Exception as error:  # every error: the cell must say what went wrong, never show <Picture at 0x…>
        return _failure(f"No picture: {_reason(error)}", picture.source)


def _drawn(picture: Drawn) -> str:
    try:
        return _figure(picture.pipe("svg").decode("utf-8"))
    except LimitError as too_large:
        smaller = _collapsed(picture)
        if smaller is None or smaller.too_large:
            return _failure(f"No picture: {too_large}", (smaller or picture).source)
        return _figure(smaller.pipe("svg").decode("utf-8"), f"The collapsed view, because {too_large}.")


def _collapsed(picture: Drawn) -> Drawn | None:
    """The collapsed view of the same picture, or None when that view cannot show it (the symbolic view)."""
    try:
        return picture.collapsed() if picture.collapsed is not None else None
    except InputError:
        return None


def _figure(svg: str, note: str | None = None) -> str:
    """The SVG inline, scaled to the cell's width down to MIN_SCALE, in a box that scrolls."""
    svg = inline_svg(svg)
    width = _WIDTH.search(svg)
    least = f"min-width:{float(width.group(1)) * MIN_SCALE:.0f}pt;" if width else ""
    svg = svg.replace("<svg", f'<svg style="max-width:100%;height:auto;{least}"', 1)
    shown = f'<div class="symgraph-picture" style="max-width:100%;max-height:{MAX_HEIGHT};overflow:auto">{svg}</div>'
    return shown + (f'<p class="symgraph-note"><em>{escape(note, quote=False)}</em></p>' if note else "")


def inline_svg(svg: str) -> str:
    """dot's SVG for inside an HTML page: without its XML prolog, comments and titles, on one line (SVG reads a
    newline as a space)."""
    return _CHAFF.sub("", svg[svg.index("<svg"):]).replace("\n", " ")


def _failure(message: str, source: str | None = None) -> str:
    """A readable message, with the start of the DOT source when there is one."""
    shown = f'<p class="symgraph-error"><strong>{escape(message, quote=False)}</strong></p>'
    if source is None:
        return shown
    if len(source) > MAX_SOURCE_SHOWN:
        source = source[:MAX_SOURCE_SHOWN] + f"\n… ({len(source) - MAX_SOURCE_SHOWN:,} more characters in .source)"
    return shown + f'<details><summary>DOT source</summary><pre class="symgraph-dot">{escape(source, quote=False)}</pre></details>'


def _reason(error: Exception) -> str:
    if isinstance(error, SymgraphError):
        return str(error)
    return f"{type(error).__name__}: {error} (a bug in symgraph: please report it)"
