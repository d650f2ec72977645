"""Convolution and pooling as tensor ops: conv1d, conv2d, maxpool2d, avgpool2d, and their gradient ops.

The deep-learning convention in PyTorch's layout, without a batch axis:

    conv2d(x, K, stride=s, padding=p)   x is H×W or C×H×W, K is kh×kw or O×C×kh×kw
        y[o, i, j] = Σ_c Σ_a Σ_b K[o, c, a, b] · pad(x, p)[c, s·i + a, s·j + b],   H′ = (H + 2p − kh)//s + 1

a cross-correlation (the kernel is not flipped) of the zero-padded input. conv1d(x, w, stride, padding)
is the same on one spatial axis (x is L or C×L, w is k or O×C×k). maxpool2d(x, size, stride=size)
and avgpool2d(x, size, stride=size) take size×size windows of an H×W or C×H×W input, each channel
on its own, without padding. A bias is added by the program, conv2d(x, K) + b with a scalar b; a
per-channel bias (an O-vector over O×H′×W′) is out of scope, since elementwise ops broadcast only
a scalar over a tensor.

The backprop rules read as in a textbook, with δ = ∂L/∂y, ⋆ the cross-correlation and ∗ the
full convolution of deep learning (δ zero-padded by k − 1 on each side, then cross-correlated):

    ∂L/∂K = x ⋆ δ              ∂L/∂K[o, c] = x[c] ⋆ δ[o]
    ∂L/∂x = δ ∗ rot180(K)      ∂L/∂x[c] = Σ_o δ[o] ∗ rot180(K[o, c])   (= δ[o] convolved with K[o, c])

With padding p the input side is pad(x, p) and the input gradient drops the border again,
crop(…, p). With stride s, δ is dilated (s − 1 zeros between its entries): ∂L/∂K = x ⋆ dilate(δ, s),
of which K's kh×kw lags are kept, and ∂L/∂x = dilate(δ, s) ∗ rot180(K), zero on trailing rows or
columns that no window reaches. For conv1d the kernel is flip(w). Each rule is one gradient op
(conv2d_kernel_grad, conv2d_input_grad, …) carrying stride, padding and the size to restore; they
are callable by name, so the source form of a gradient parses back.

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
from sympy.printing.precedence import PRECEDENCE

from symgraph.ops import tensor as tensor_ops
from symgraph.ops.registry import REQUIRED, Op, register
from symgraph.ops.tensor import HEADS, _array, _entry, _need, shape_text

__all__ = ["CONV_ENTRIES"]

Shape = tuple[int, ...]

#: The kernel's name in messages and notation, by number of spatial axes (conv1d(x, w), conv2d(x, K)).
_KERNEL = {1: "w", 2: "K"}
_AXES = {1: ("L",), 2: ("H", "W")}


# --- shapes --------------------------------------------------------------------------------------


def _dims(axes: Sequence[str]) -> str:
    return "×".join(axes)


def _conv_layout(name: str, d: int, x: Shape, k: Shape) -> tuple[bool, int, Shape, int, Shape]:
    """(has channels, C, spatial size, O, kernel size) of conv{d}d(x, kernel), or a ShapeError naming both shapes."""
    kname, axes = _KERNEL[d], _AXES[d]
    kaxes = ("k",) if d == 1 else ("kh", "kw")
    _need(len(x) in (d, d + 1), f"{name}: x must be {_dims(axes)} or C×{_dims(axes)} (there is no batch axis), "
                                f"not {shape_text(x)} ({kname} is {shape_text(k)})")
    _need(len(k) in (d, d + 2), f"{name}: {kname} must be {_dims(kaxes)} or O×C×{_dims(kaxes)}, not {shape_text(k)} "
                                f"(x is {shape_text(x)})")
    channels = len(x) == d + 1
    if channels:
        _need(len(k) == d + 2, f"{name}: x is C×{_dims(axes)} ({shape_text(x)}), so {kname} must be O×C×{_dims(kaxes)}, "
                               f"not {shape_text(k)}")
        _need(x[0] == k[1], f"{name}: x has {x[0]} channel{'s' if x[0] != 1 else ''} but {kname} expects {k[1]} "
                            f"(x is {shape_text(x)}, {kname} is {shape_text(k)})")
        return True, x[0], x[1:], k[0], k[2:]
    _need(len(k) == d, f"{name}: x is {_dims(axes)} ({shape_text(x)}) with no channel axis, so {kname} must be "
                       f"{_dims(kaxes)}, not {shape_text(k)}; write x as 1×{shape_text(x)} for a multi-channel kernel")
    return False, 1, x, 1, k


def _window_out(name: str, size: Shape, window: Shape, stride: int, padding: int, what: str, x: Shape) -> Shape:
    """Positions of a window sliding over the padded spatial axes `size` of x: (n + 2p − k)//s + 1 per axis."""
    _need(stride >= 1, f"{name}: stride must be at least 1, got {stride}")
    padded = tuple(n + 2 * padding for n in size)
    if padding:
        where = f"the padded input {shape_text(padded)} (x is {shape_text(x)}, padding {padding})"
    else:
        where = f"the input x ({shape_text(x)})"
    _need(all(k <= n for k, n in zip(window, padded)), f"{name}: the {what} is larger than {where}")
    return tuple((n - k) // stride + 1 for n, k in zip(padded, window))


def _conv_shape(d: int):
    name = f"conv{d}d"

    def shape(shapes, params):
        x, k = shapes
        stride, padding = params
        channels, _, size, out_channels, ks = _conv_layout(name, d, x, k)
        out = _window_out(name, size, ks, stride, padding, f"kernel {_KERNEL[d]} ({shape_text(k)})", x)
        return (out_channels, *out) if channels else out

    return shape


def _gradient_shape(name: str, d: int, delta: Shape, expected: Shape) -> None:
    _need(delta == expected, f"{name}: the output gradient is {shape_text(delta)} but the convolution's output is "
                             f"{shape_text(expected)}")


def _kernel_grad_shape(d: int):
    name = f"conv{d}d_kernel_grad"

    def shape(shapes, params):
        x, delta = shapes
        stride, padding, *ks = params
        kernel = (delta[0], x[0], *ks) if len(x) == d + 1 and delta else tuple(ks)
        _conv_layout(name, d, x, kernel)
        _gradient_shape(name, d, delta, _conv_shape(d)([x, kernel], [stride, padding]))
        return kernel

    return shape


def _input_grad_shape(d: int):
    name = f"conv{d}d_input_grad"

    def shape(shapes, params):
        delta, k = shapes
        stride, padding, *size = params
        x = (k[1], *size) if len(k) == d + 2 else tuple(size)
        _conv_layout(name, d, x, k)
        _gradient_shape(name, d, delta, _conv_shape(d)([x, k], [stride, padding]))
        return x

    return shape


def _pool_params(params) -> tuple[int, int]:
    size = params[0]
    return size, params[1] if len(params) > 1 else size


def _pool_shape(name: str):
    def shape(shapes, params):
        (x,) = shapes
        size, stride = _pool_params(params)
        _need(len(x) in (2, 3), f"{name}: x must be H×W or C×H×W (there is no batch axis), not {shape_text(x)}")
        _need(size >= 1, f"{name}: the window size must be at least 1, got {size}")
        out = _window_out(name, x[-2:], (size, size), stride, 0, f"window {size}×{size}", x)
        return (*x[:-2], *out)

    return shape


def _maxunpool_shape(shapes, params):
    delta, x = shapes
    expected = _pool_shape("maxunpool2d")([x], params)
    _need(delta == expected, f"maxunpool2d: the output gradient is {shape_text(delta)} but maxpool2d of "
                             f"{shape_text(x)} gives {shape_text(expected)}")
    return x


def _upsample_shape(shapes, params):
    (delta,) = shapes
    size, stride, *spatial = params
    _need(len(delta) in (2, 3), f"upsample2d: the gradient must be H′×W′ or C×H′×W′, not {shape_text(delta)}")
    x = (*delta[:-2], *spatial)
    expected = _pool_shape("upsample2d")([x], [size, stride])
    _need(delta == expected, f"upsample2d: a gradient of {shape_text(delta)} does not come from pooling "
                             f"{shape_text(x)} (which gives {shape_text(expected)})")
    return x


# --- NumPy: canonical layouts x (C, *S), kernel (O, C, *k), one loop over the kernel's offsets ----


def _canonical(x: np.ndarray, k: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray, bool]:
    channels = np.ndim(x) == d + 1
    return (np.asarray(x), np.asarray(k), True) if channels else (np.asarray(x)[None], np.asarray(k)[None, None], False)


def _pad(x: np.ndarray, padding: int) -> np.ndarray:
    return np.pad(x, [(0, 0)] + [(padding, padding)] * (x.ndim - 1)) if padding else x


def _offsets(window: Shape, out: Shape, stride: int):
    """Each kernel offset with the slices of the padded input that it meets, over all output positions."""
    for offset in np.ndindex(*window):
        yield offset, tuple(slice(a, a + stride * (n - 1) + 1, stride) for a, n in zip(offset, out))


def _out(size: Shape, window: Shape, stride: int, padding: int) -> Shape:
    return tuple((n + 2 * padding - k) // stride + 1 for n, k in zip(size, window))


def _correlate(d: int):
    def correlate(x, k, stride=1, padding=0):
        x, k, channels = _canonical(x, k, d)
        xp = _pad(x, padding)
        out = _out(x.shape[1:], k.shape[2:], stride, padding)
        y = np.zeros((k.shape[0], *out), dtype=np.result_type(x, k, float))
        for offset, window in _offsets(k.shape[2:], out, stride):
            y += np.tensordot(k[(slice(None), slice(None), *offset)], xp[(slice(None), *window)], axes=(1, 0))
        return y if channels else y[0]

    return correlate


def _kernel_grad(d: int):
    def kernel_grad(x, delta, stride, padding, *ks):
        channels = np.ndim(x) == d + 1
        x = np.asarray(x) if channels else np.asarray(x)[None]
        delta = np.asarray(delta) if channels else np.asarray(delta)[None]
        xp = _pad(x, padding)
        g = np.zeros((delta.shape[0], x.shape[0], *ks), dtype=np.result_type(x, delta, float))
        spatial = tuple(range(1, d + 1))
        for offset, window in _offsets(tuple(ks), delta.shape[1:], stride):
            g[(slice(None), slice(None), *offset)] = np.tensordot(delta, xp[(slice(None), *window)], axes=(spatial, spatial))
        return g if channels else g[0, 0]

    return kernel_grad


def _input_grad(d: int):
    def input_grad(delta, k, stride, padding, *size):
        channels = np.ndim(k) == d + 2
        delta = np.asarray(delta) if channels else np.asarray(delta)[None]
        k = np.asarray(k) if channels else np.asarray(k)[None, None]
        padded = tuple(n + 2 * padding for n in size)
        g = np.zeros((k.shape[1], *padded), dtype=np.result_type(delta, k, float))
        for offset, window in _offsets(k.shape[2:], delta.shape[1:], stride):
            g[(slice(None), *window)] += np.tensordot(k[(slice(None), slice(None), *offset)], delta, axes=(0, 0))
        g = g[(slice(None), *(slice(padding, padding + n) for n in size))]
        return g if channels else g[0]

    return input_grad


def _patches(x: np.ndarray, size: int, stride: int) -> np.ndarray:
    """The size² entries of every window, stacked in row-major order: (size², C, H′, W′)."""
    out = _out(x.shape[1:], (size, size), stride, 0)
    return np.stack([x[(slice(None), *window)] for _, window in _offsets((size, size), out, stride)])


def _channels(x) -> tuple[np.ndarray, bool]:
    x = np.asarray(x)
    return (x, True) if x.ndim == 3 else (x[None], False)


def _pool(reduce: Callable[[np.ndarray], np.ndarray]):
    def pool(x, size, stride=None):
        x, channels = _channels(x)
        y = reduce(_patches(x, size, size if stride is None else stride))
        return y if channels else y[0]

    return pool


#: The entry of each window that max pooling passes on: NumPy's argmax, the first maximum on a tie.
_winners = _pool(lambda p: np.argmax(p, axis=0))


def _maxunpool(delta, x, size, stride):
    x, channels = _channels(x)
    delta = np.asarray(delta) if channels else np.asarray(delta)[None]
    first = _winners(x, size, stride)
    g = np.zeros(x.shape, dtype=np.result_type(delta, float))
    for t, (_, window) in enumerate(_offsets((size, size), delta.shape[1:], stride)):
        g[(slice(None), *window)] += np.where(first == t, delta, 0.0)
    return g if channels else g[0]


def _upsample(delta, size, stride, height, width):
    delta, channels = _channels(delta)
    g = np.zeros((delta.shape[0], height, width), dtype=np.result_type(delta, float))
    for _, window in _offsets((size, size), delta.shape[1:], stride):
        g[(slice(None), *window)] += delta
    return g if channels else g[0]


# --- vector-Jacobian rules -----------------------------------------------------------------------


def _conv_vjp(d: int):
    def vjp(shapes, args, params, y, g, position):
        (sx, sk), (x, k) = shapes, args
        stride, padding = params
        if position == 0:
            return HEADS[f"conv{d}d_input_grad"](g, k, stride, padding, *sx[-d:])  # δ ∗ rot180(K)
        return HEADS[f"conv{d}d_kernel_grad"](x, g, stride, padding, *sk[-d:])  # x ⋆ δ

    return vjp


def _maxpool_vjp(shapes, args, params, y, g, position):
    return HEADS["maxunpool2d"](g, args[0], *_pool_params(params))


def _avgpool_vjp(shapes, args, params, y, g, position):
    size, stride = _pool_params(params)
    return HEADS["upsample2d"](g, size, stride, *shapes[0][-2:]) / size**2


# --- components: the ops one scalar at a time (the scalar engine differentiates them) --------------


def _total(term, items: list):
    if not items:
        return sp.Integer(0)  # a window that lies wholly in the padding
    return items[0] if len(items) == 1 else term("add", *items)


def _inside(index: Sequence[int], size: Shape) -> bool:
    return all(0 <= i < n for i, n in zip(index, size))


def _conv_components(d: int):
    def components(term, arrays, params):
        x, k = arrays
        stride, padding = params
        channels = x.ndim == d + 1
        xc, kc = (x, k) if channels else (x[None], k[None, None])
        size, window = xc.shape[1:], kc.shape[2:]

        def entry(index):
            o, position = index[0], index[1:]
            items = []
            for c in range(xc.shape[0]):
                for offset in np.ndindex(*window):
                    at = tuple(stride * i + a - padding for i, a in zip(position, offset))
                    if _inside(at, size):
                        items.append(term("mul", kc[(o, c, *offset)], xc[(c, *at)]))
            return _total(term, items)

        y = _array((kc.shape[0], *_out(size, window, stride, padding)), entry)
        return y if channels else y[0]

    return components


def _scatter(term, shape: Shape, contributions) -> np.ndarray:
    """An array whose entries are sums of the (index, term) contributions, in the order given."""
    items: dict[tuple, list] = {}
    for index, item in contributions:
        items.setdefault(tuple(index), []).append(item)
    return _array(shape, lambda index: _total(term, items.get(tuple(index), [])))


def _kernel_grad_components(d: int):
    def components(term, arrays, params):
        x, delta = arrays
        stride, padding, *ks = params
        channels = x.ndim == d + 1
        xc, dc = (x, delta) if channels else (x[None], delta[None])

        def contributions():
            for o, c, offset, position in _each_use(dc.shape[0], xc.shape[0], tuple(ks), dc.shape[1:]):
                at = tuple(stride * i + a - padding for i, a in zip(position, offset))
                if _inside(at, xc.shape[1:]):
                    yield (o, c, *offset), term("mul", dc[(o, *position)], xc[(c, *at)])

        g = _scatter(term, (dc.shape[0], xc.shape[0], *ks), contributions())
        return g if channels else g[0, 0]

    return components


def _input_grad_components(d: int):
    def components(term, arrays, params):
        delta, k = arrays
        stride, padding, *size = params
        channels = k.ndim == d + 2
        dc, kc = (delta, k) if channels else (delta[None], k[None, None])

        def contributions():
            for o, c, offset, position in _each_use(kc.shape[0], kc.shape[1], kc.shape[2:], dc.shape[1:]):
                at = tuple(stride * i + a - padding for i, a in zip(position, offset))
                if _inside(at, size):
                    yield (c, *at), term("mul", dc[(o, *position)], kc[(o, c, *offset)])

        g = _scatter(term, (kc.shape[1], *size), contributions())
        return g if channels else g[0]

    return components


def _each_use(outs: int, ins: int, window: Shape, positions: Shape):
    """Every (output channel, input channel, kernel offset, output position): one product of the convolution."""
    for o in range(outs):
        for c in range(ins):
            for offset in np.ndindex(*window):
                for position in np.ndindex(*positions):
                    yield o, c, offset, position


def _pool_components(kind: str):
    def components(term, arrays, params):
        (x,) = arrays
        size, stride = _pool_params(params)
        xc = x if x.ndim == 3 else x[None]
        out = _out(xc.shape[1:], (size, size), stride, 0)

        def entry(index):
            c, i, j = index
            window = [xc[c, stride * i + a, stride * j + b] for a, b in np.ndindex(size, size)]
            if kind == "avg":
                return term("div", _total(term, window), sp.Integer(size * size))
            largest = window[0]
            for v in window[1:]:  # max(m, v) = m + relu(v − m): a tie keeps the first maximum (relu′(0) = 0)
                largest = term("add", largest, term("relu", term("sub", v, largest)))
            return largest

        y = _array((xc.shape[0], *out), entry)
        return y if x.ndim == 3 else y[0]

    return components


def _upsample_components(term, arrays, params):
    (delta,) = arrays
    size, stride, height, width = params
    dc = delta if delta.ndim == 3 else delta[None]
    uses = (
        ((c, stride * i + a, stride * j + b), dc[c, i, j])
        for c, i, j in np.ndindex(*dc.shape)
        for a, b in np.ndindex(size, size)
    )
    g = _scatter(term, (dc.shape[0], height, width), uses)
    return g if delta.ndim == 3 else g[0]


# --- notation ------------------------------------------------------------------------------------


def _word(name: str, style: str) -> str:
    return rf"\operatorname{{{name}}}".replace("_", r"\_") if style == "latex" else name


def _apply(name: str, args: Sequence[str], style: str) -> str:
    inside = ", ".join(args)
    return rf"{_word(name, style)}\left({inside}\right)" if style == "latex" else f"{name}({inside})"


def _keywords(names: Sequence[str], values: Sequence[int], style: str) -> list[str]:
    return [f"{_word(n, style) if style == 'latex' else n}={v}" for n, v in zip(names, values)]


def _conv_notation(name: str):
    """conv2d(x, K), with stride and padding written only when they differ from 1 and 0."""

    def write(style, pieces, params):
        stride, padding = params
        shown = [(k, v) for k, v, default in (("stride", stride, 1), ("padding", padding, 0)) if v != default]
        args = [p.text for p in pieces] + _keywords([k for k, _ in shown], [v for _, v in shown], style)
        return _apply(name, args, style)

    return write


def _pool_notation(name: str):
    def write(style, pieces, params):
        return _apply(name, [pieces[0].text, *_keywords(("size", "stride"), params, style)], style)

    return write


def _source_call(name: str, keywords: Sequence[str]):
    def write(pieces, params):
        return f"{name}({', '.join([p.text for p in pieces] + _keywords(keywords, params, 'source'))})"

    return write


_STAR = {"unicode": " ⋆ ", "latex": r" \star ", "source": None}
_FULL = {"unicode": " ∗ ", "latex": r" \ast ", "source": None}


def _kernel_grad_notation(d: int):
    """x ⋆ δ; pad(x, p) ⋆ dilate(δ, s) with padding and stride."""
    source = _source_call(f"conv{d}d_kernel_grad", ("stride", "padding", *(("k",) if d == 1 else ("kh", "kw"))))

    def write(style, pieces, params):
        if style == "source":
            return source(pieces, params)
        x, delta = pieces
        stride, padding = params[:2]
        left = x.wrapped if not padding else _apply("pad", [x.text, str(padding)], style)
        right = delta.wrapped if stride == 1 else _apply("dilate", [delta.text, str(stride)], style)
        return left + _STAR[style] + right

    return write


def _input_grad_notation(d: int):
    """δ ∗ rot180(K) (flip(w) in 1-D); dilate(δ, s) with a stride, crop(…, p) with padding."""
    source = _source_call(f"conv{d}d_input_grad", ("stride", "padding", *(("length",) if d == 1 else ("height", "width"))))

    def write(style, pieces, params):
        if style == "source":
            return source(pieces, params)
        delta, k = pieces
        stride, padding = params[:2]
        left = delta.wrapped if stride == 1 else _apply("dilate", [delta.text, str(stride)], style)
        core = left + _FULL[style] + _apply("rot180" if d == 2 else "flip", [k.text], style)
        return core if not padding else _apply("crop", [core, str(padding)], style)

    return write


def _pool_grad_notation(name: str, keywords: Sequence[str]):
    """maxunpool2d(δ, x, size=2): the sizes to restore are left to the source form; stride shown when it is not the size."""
    source = _source_call(name, keywords)

    def write(style, pieces, params):
        if style == "source":
            return source(pieces, params)
        size, stride = params[:2]
        shown = [("size", size)] + ([("stride", stride)] if stride != size else [])
        return _apply(name, [p.text for p in pieces] + _keywords([k for k, _ in shown], [v for _, v in shown], style), style)

    return write


# --- the entries -----------------------------------------------------------------------------------

_CONV = (("stride", 1), ("padding", 0))


def _conv_entries(d: int) -> list[Op]:
    name = f"conv{d}d"
    sizes = ("k",) if d == 1 else ("kh", "kw")
    spatial = ("length",) if d == 1 else ("height", "width")
    return [
        _entry(name, 2, _correlate(d), _conv_shape(d), _conv_vjp(d), _conv_components(d), _conv_notation(name),
               "convolution rule", keywords=_CONV),
        _entry(f"{name}_kernel_grad", 2, _kernel_grad(d), _kernel_grad_shape(d), None, _kernel_grad_components(d),
               _kernel_grad_notation(d), "kernel gradient x ⋆ δ", text="⋆",
               keywords=(*_CONV, *((s, REQUIRED) for s in sizes))),
        _entry(f"{name}_input_grad", 2, _input_grad(d), _input_grad_shape(d), None, _input_grad_components(d),
               _input_grad_notation(d), "input gradient δ ∗ " + ("flip(w)" if d == 1 else "rot180(K)"), text="∗",
               keywords=(*_CONV, *((s, REQUIRED) for s in spatial))),
    ]


CONV_ENTRIES: list[Op] = [
    *_conv_entries(1),
    *_conv_entries(2),
    _entry("maxpool2d", 1, _pool(lambda p: np.max(p, axis=0)), _pool_shape("maxpool2d"), _maxpool_vjp,
           _pool_components("max"), _pool_notation("maxpool2d"), "max-pooling rule",
           keywords=(("size", REQUIRED), ("stride", None)), selects=_winners),
    _entry("avgpool2d", 1, _pool(lambda p: np.mean(p, axis=0)), _pool_shape("avgpool2d"), _avgpool_vjp,
           _pool_components("avg"), _pool_notation("avgpool2d"), "average-pooling rule",
           keywords=(("size", REQUIRED), ("stride", None))),
    _entry("maxunpool2d", 2, _maxunpool, _maxunpool_shape, None, None,
           _pool_grad_notation("maxunpool2d", ("size", "stride")), "max unpooling (δ to each window's first maximum)",
           keywords=(("size", REQUIRED), ("stride", REQUIRED))),
    _entry("upsample2d", 1, _upsample, _upsample_shape, None, _upsample_components,
           _pool_grad_notation("upsample2d", ("size", "stride", "height", "width")), "upsampling (δ to every entry of its window)",
           keywords=(("size", REQUIRED), ("stride", REQUIRED), ("height", REQUIRED), ("width", REQUIRED))),
]

register(*CONV_ENTRIES)

# The gradient ops written infix (x ⋆ δ, δ ∗ rot180(K)) bind like a product: SymPy's printers bracket
# them inside ⊙ and powers, and the tensor notations bracket them as operands, as they do W h.
for _name in ("conv1d_kernel_grad", "conv1d_input_grad", "conv2d_kernel_grad", "conv2d_input_grad"):
    HEADS[_name].precedence = PRECEDENCE["Mul"]
    tensor_ops._JUXTAPOSED.add(_name)
