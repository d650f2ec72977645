"""What convolution and pooling share: a window sliding over the spatial axes, and their call notation.

Layouts are canonical here, x as (C, *spatial); an output position i of a window with stride s
starts at s·i of the zero-padded input, so an axis of n entries gives (n + 2p − k)//s + 1 positions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from symgraph.ops.tensor import Shape, need, object_array, shape_text, total

__all__ = ["checked_positions", "positions", "offsets", "scatter", "apply", "keyword_args", "source_call"]


def checked_positions(name: str, size: Shape, window: Shape, stride: int, padding: int, what: str, x: Shape) -> Shape:
    """Positions of a window sliding over the padded spatial axes `size` of x, or a ShapeError naming x."""
    need(stride >= 1, f"{name}: stride must be at least 1, got {stride}")
    padded = tuple(n + 2 * padding for n in size)
    if padding:
        where = f"the padded input {shape_text(padded)} (x is {shape_text(x)}, padding {padding})"
    else:
        where = f"the input x ({shape_text(x)})"
    need(all(k <= n for k, n in zip(window, padded)), f"{name}: the {what} is larger than {where}")
    return positions(size, window, stride, padding)


def positions(size: Shape, window: Shape, stride: int, padding: int) -> Shape:
    return tuple((n + 2 * padding - k) // stride + 1 for n, k in zip(size, window))


def offsets(window: Shape, out: Shape, stride: int):
    """Each offset within the window with the slices of the padded input that it meets, over all output positions."""
    for offset in np.ndindex(*window):
        yield offset, tuple(slice(a, a + stride * (n - 1) + 1, stride) for a, n in zip(offset, out))


def scatter(term, shape: Shape, contributions: Iterable[tuple[Sequence[int], object]]) -> np.ndarray:
    """An array whose entries are sums of the (index, term) contributions, in the order given."""
    items: dict[tuple, list] = {}
    for index, item in contributions:
        items.setdefault(tuple(index), []).append(item)
    return object_array(shape, lambda index: total(term, items.get(tuple(index), [])))


# --- notation: name(x, K, stride=2) with the keywords upright in LaTeX -------------------------------------


def _word(name: str, style: str) -> str:
    return rf"\operatorname{{{name}}}".replace("_", r"\_") if style == "latex" else name


def apply(name: str, args: Sequence[str], style: str) -> str:
    inside = ", ".join(args)
    return rf"{_word(name, style)}\left({inside}\right)" if style == "latex" else f"{name}({inside})"


def keyword_args(names: Sequence[str], values: Sequence[int], style: str) -> list[str]:
    return [f"{_word(n, style) if style == 'latex' else n}={v}" for n, v in zip(names, values)]


def source_call(name: str, keywords: Sequence[str]):
    """The source form of a gradient op, every parameter named, so that it parses back."""

    def write(pieces, params):
        return f"{name}({', '.join([p.text for p in pieces] + keyword_args(keywords, params, 'source'))})"

    return write
