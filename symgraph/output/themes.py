"""Colour themes for pictures: light (screens), dark (dark slides), print (grayscale, high contrast).

Colours come from the Okabe–Ito palette, which stays distinguishable under the common
colour-vision deficiencies; values and gradients always get different hues, and the
print theme tells paths apart by shade and line pattern alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from symgraph.errors import InputError

__all__ = ["Theme", "THEMES", "OKABE_ITO", "OKABE_ITO_DARK", "get_theme", "contrast"]

#: Okabe & Ito (2008), "Color Universal Design": the colour-blind-safe qualitative palette.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
}


#: The same hues darkened for text and lines on light backgrounds: each at least 4.5:1 on white (WCAG AA for
#: text), where Okabe–Ito's own orange, sky blue and vermillion are 2.2–3.9:1.
OKABE_ITO_DARK = {
    "orange": "#A36B00",
    "sky blue": "#1F7AB0",
    "bluish green": "#007A58",
    "blue": "#006399",
    "vermillion": "#A84A00",
    "reddish purple": "#A8537F",
}


@dataclass(frozen=True)
class Theme:
    """Everything a picture's colours depend on. `paths` colour the highlighted chain-rule paths in order."""

    name: str
    background: str
    text: str
    line: str  # node borders and edges
    muted: str  # what is not (yet) part of the story: dimmed edges, nodes outside the sweep
    fill: str
    input_fill: str
    gradient_fill: str  # the added nodes of the symbolic view
    value: str  # forward numbers
    gradient: str  # adjoints, local partials and their numbers
    paths: tuple[str, ...]
    path_styles: tuple[str, ...] = ("solid",)
    #: The frame of a named sub-graph (a layer, a time step): a faint fill, a light line, the label's colour.
    cluster_fill: str = "#FFFFFF"
    cluster_line: str = "#B3B3B3"
    cluster_text: str = "#4D4D4D"


THEMES: dict[str, Theme] = {
    theme.name: theme
    for theme in (
        Theme(
            name="light",
            background="#FFFFFF",
            text="#1A1A1A",
            line="#4D4D4D",
            muted="#B3B3B3",
            fill="#F7F7F7",
            input_fill="#E3F1FA",
            gradient_fill="#FBEBDD",
            value=OKABE_ITO_DARK["blue"],
            gradient=OKABE_ITO_DARK["vermillion"],
            # the highlighted paths use the hues values and gradients do not (yellow has no contrast on white)
            paths=tuple(OKABE_ITO_DARK[c] for c in ("orange", "bluish green", "reddish purple", "sky blue")),
            cluster_fill="#FBF9F4",
            cluster_line="#BDB8AC",
            cluster_text="#5C5C5C",
        ),
        Theme(
            name="dark",
            background="#1E1E1E",
            text="#F2F2F2",
            line="#BFBFBF",
            muted="#5C5C5C",
            fill="#2B2B2B",
            input_fill="#1F3440",
            gradient_fill="#402A1A",
            value=OKABE_ITO["sky blue"],
            gradient=OKABE_ITO["orange"],
            # values are sky blue and gradients orange: the highlighted paths take the other hues
            paths=tuple(OKABE_ITO[c] for c in ("bluish green", "yellow", "reddish purple", "vermillion")),
            cluster_fill="#242424",
            cluster_line="#6B6B6B",
            cluster_text="#BFBFBF",
        ),
        Theme(
            name="print",
            background="#FFFFFF",
            text="#000000",
            line="#000000",
            muted="#A6A6A6",
            fill="#FFFFFF",
            input_fill="#E6E6E6",
            gradient_fill="#F2F2F2",
            value="#000000",
            gradient="#404040",
            paths=("#000000", "#595959", "#000000", "#595959"),
            path_styles=("solid", "solid", "dashed", "dashed"),
            cluster_fill="#FFFFFF",
            cluster_line="#808080",
            cluster_text="#404040",
        ),
    )
}


def get_theme(name: str) -> Theme:
    try:
        return THEMES[name]
    except KeyError:
        raise InputError(f"unknown theme; themes: {', '.join(THEMES)}", parameter="theme", value=name) from None


def contrast(foreground: str, background: str) -> float:
    """WCAG 2's contrast ratio of two #RRGGBB colours (1 to 21; AA asks 4.5 for text, 3 for lines)."""

    def luminance(colour: str) -> float:
        channels = (int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4))
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)
