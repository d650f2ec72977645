"""Pooling as tensor ops: maxpool2d, avgpool2d and their gradient ops maxunpool2d, upsample2d; one block per op.

maxpool2d(x, size, stride=size) and avgpool2d(x, size, stride=size) take size×size windows of an
H×W or C×H×W input (there is no batch axis), each channel on its own, without padding.

Max pooling routes δ to the maximum of each window (maxunpool2d). On a tie the first maximum in
row-major order within the window takes all of it (NumPy's argmax), and the components agree:
max(m, v) = m + relu(v − m) with relu′(0) = 0. Max pooling has a kink where two entries of a window
tie: it declares the entry it passes on (`selects`), and the tensor check reports a window whose
choice changes within its step as a tie. Average pooling spreads
δ/size² over each window: ∂L/∂x = upsample2d(δ)/size².
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import sympy as sp

from symgraph.ops.registry import REQUIRED
from symgraph.ops.tensor import HEADS, need, object_array, shape_text, tensor_op, total
from symgraph.ops.window import apply, checked_positions, keyword_args, offsets, positions, scatter, source_call

__all__: list[str] = []

_SIZE = (("size", REQUIRED), ("stride", None))


def _pool_params(params) -> tuple[int, int]:
    size = params[0]
    return size, params[1] if len(params) > 1 else size


def _channels(x) -> tuple[np.ndarray, bool]:
    x = np.asarray(x)
    return (x, True) if x.ndim == 3 else (x[None], False)


# --- maxpool2d and avgpool2d: one value per size×size window ----------------------------------------------


def _pool_shape(name: str):
    def shape(shapes, params):
        (x,) = shapes
        size, stride = _pool_params(params)
        need(len(x) in (2, 3), f"{name}: x must be H×W or C×H×W (there is no batch axis), not {shape_text(x)}")
        need(size >= 1, f"{name}: the window size must be at least 1, got {size}")
        out = checked_positions(name, x[-2:], (size, size), stride, 0, f"window {size}×{size}", x)
        return (*x[:-2], *out)

    return shape


def _patches(x: np.ndarray, size: int, stride: int) -> np.ndarray:
    """The size² entries of every window, stacked in row-major order: (size², C, H′, W′)."""
    out = positions(x.shape[1:], (size, size), stride, 0)
    return np.stack([x[(slice(None), *window)] for _, window in offsets((size, size), out, stride)])


def _pool(reduce: Callable[[np.ndarray], np.ndarray]):
    def pool(x, size, stride=None):
        x, channels = _channels(x)
        y = reduce(_patches(x, size, size if stride is None else stride))
        return y if channels else y[0]

    return pool


def _pool_components(kind: str):
    def components(term, arrays, params):
        (x,) = arrays
        size, stride = _pool_params(params)
        xc = x if x.ndim == 3 else x[None]
        out = positions(xc.shape[1:], (size, size), stride, 0)

        def entry(index):
            c, i, j = index
            window = [xc[c, stride * i + a, stride * j + b] for a, b in np.ndindex(size, size)]
            if kind == "avg":
                return term("div", total(term, window), sp.Integer(size * size))
            largest = window[0]
            for v in window[1:]:  # max(m, v) = m + relu(v − m): a tie keeps the first maximum (relu′(0) = 0)
                largest = term("add", largest, term("relu", term("sub", v, largest)))
            return largest

        y = object_array((xc.shape[0], *out), entry)
        return y if x.ndim == 3 else y[0]

    return components


def _pool_notation(name: str):
    def write(style, pieces, params):
        return apply(name, [pieces[0].text, *keyword_args(("size", "stride"), params, style)], style)

    return write


#: The entry of each window that max pooling passes on: NumPy's argmax, the first maximum on a tie.
_winners = _pool(lambda p: np.argmax(p, axis=0))

tensor_op("maxpool2d", 1, rule="max-pooling rule", shape=_pool_shape("maxpool2d"), numpy=_pool(lambda p: np.max(p, axis=0)),
          vjp=lambda shapes, args, params, y, g, position: HEADS["maxunpool2d"](g, args[0], *_pool_params(params)),
          components=_pool_components("max"), notation=_pool_notation("maxpool2d"), keywords=_SIZE, selects=_winners)


def _avgpool_vjp(shapes, args, params, y, g, position):
    size, stride = _pool_params(params)
    return HEADS["upsample2d"](g, size, stride, *shapes[0][-2:]) / size**2


tensor_op("avgpool2d", 1, rule="average-pooling rule", shape=_pool_shape("avgpool2d"),
          numpy=_pool(lambda p: np.mean(p, axis=0)), vjp=_avgpool_vjp, components=_pool_components("avg"),
          notation=_pool_notation("avgpool2d"), keywords=_SIZE)


# --- the gradient ops: δ back to the windows ----------------------------------------------------------------


def _pool_grad_notation(name: str, keywords: Sequence[str]):
    """maxunpool2d(δ, x, size=2): the sizes to restore are left to the source form; stride shown when it is not the size."""
    source = source_call(name, keywords)

    def write(style, pieces, params):
        if style == "source":
            return source(pieces, params)
        size, stride = params[:2]
        shown = [("size", size)] + ([("stride", stride)] if stride != size else [])
        return apply(name, [p.text for p in pieces] + keyword_args([k for k, _ in shown], [v for _, v in shown], style), style)

    return write


# --- maxunpool2d(δ, x): δ to each window's first maximum --------------------------------------------------------


def _maxunpool_shape(shapes, params):
    delta, x = shapes
    expected = _pool_shape("maxunpool2d")([x], params)
    need(delta == expected, f"maxunpool2d: the output gradient is {shape_text(delta)} but maxpool2d of "
                            f"{shape_text(x)} gives {shape_text(expected)}")
    return x


def _maxunpool(delta, x, size, stride):
    x, channels = _channels(x)
    delta = np.asarray(delta) if channels else np.asarray(delta)[None]
    first = _winners(x, size, stride)
    g = np.zeros(x.shape, dtype=np.result_type(delta, float))
    for t, (_, window) in enumerate(offsets((size, size), delta.shape[1:], stride)):
        g[(slice(None), *window)] += np.where(first == t, delta, 0.0)
    return g if channels else g[0]


tensor_op("maxunpool2d", 2, rule="max unpooling (δ to each window's first maximum)", shape=_maxunpool_shape,
          numpy=_maxunpool, notation=_pool_grad_notation("maxunpool2d", ("size", "stride")),
          keywords=(("size", REQUIRED), ("stride", REQUIRED)), internal=True)


# --- upsample2d(δ): δ to every entry of its window ------------------------------------------------------------


def _upsample_shape(shapes, params):
    (delta,) = shapes
    size, stride, *spatial = params
    need(len(delta) in (2, 3), f"upsample2d: the gradient must be H′×W′ or C×H′×W′, not {shape_text(delta)}")
    x = (*delta[:-2], *spatial)
    expected = _pool_shape("upsample2d")([x], [size, stride])
    need(delta == expected, f"upsample2d: a gradient of {shape_text(delta)} does not come from pooling "
                            f"{shape_text(x)} (which gives {shape_text(expected)})")
    return x


def _upsample(delta, size, stride, height, width):
    delta, channels = _channels(delta)
    g = np.zeros((delta.shape[0], height, width), dtype=np.result_type(delta, float))
    for _, window in offsets((size, size), delta.shape[1:], stride):
        g[(slice(None), *window)] += delta
    return g if channels else g[0]


def _upsample_components(term, arrays, params):
    (delta,) = arrays
    size, stride, height, width = params
    dc = delta if delta.ndim == 3 else delta[None]
    uses = (
        ((c, stride * i + a, stride * j + b), dc[c, i, j])
        for c, i, j in np.ndindex(*dc.shape)
        for a, b in np.ndindex(size, size)
    )
    g = scatter(term, (dc.shape[0], height, width), uses)
    return g if delta.ndim == 3 else g[0]


tensor_op("upsample2d", 1, rule="upsampling (δ to every entry of its window)", shape=_upsample_shape, numpy=_upsample,
          components=_upsample_components,
          notation=_pool_grad_notation("upsample2d", ("size", "stride", "height", "width")),
          keywords=(("size", REQUIRED), ("stride", REQUIRED), ("height", REQUIRED), ("width", REQUIRED)), internal=True)
