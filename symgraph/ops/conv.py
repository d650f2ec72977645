"""Convolution as tensor ops: conv1d, conv2d and their gradient ops; one block per op, for one and two spatial axes.

The deep-learning convention in PyTorch's layout, without a batch axis:

    conv2d(x, K, stride=s, padding=p)   x is H×W or C×H×W, K is kh×kw or O×C×kh×kw
        y[o, i, j] = Σ_c Σ_a Σ_b K[o, c, a, b] · pad(x, p)[c, s·i + a, s·j + b],   H′ = (H + 2p − kh)//s + 1

a cross-correlation (the kernel is not flipped) of the zero-padded input. conv1d(x, w, stride, padding)
is the same on one spatial axis (x is L or C×L, w is k or O×C×k). A per-output-channel bias is the
keyword bias=b, b of shape (O,): conv2d(x, K, bias=b) adds b[o] to channel o (the op conv2d_bias; a
positional third argument stays the stride), and ∂L/∂b[o] sums δ[o] over the positions. A scalar
bias is added by the program, conv2d(x, K) + b (NumPy's broadcasting: reshape(b, O, 1, 1) per channel too).

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
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from sympy.printing.precedence import PRECEDENCE

from symgraph.ops.registry import REQUIRED
from symgraph.ops.tensor import HEADS, Shape, need, object_array, shape_text, tensor_op, total
from symgraph.ops.window import apply, checked_positions, keyword_args, offsets, positions, scatter, source_call

__all__: list[str] = []

#: The kernel's name in messages and notation, by number of spatial axes (conv1d(x, w), conv2d(x, K)).
_KERNEL = {1: "w", 2: "K"}
_AXES = {1: ("L",), 2: ("H", "W")}
_KERNEL_SIZES = {1: ("k",), 2: ("kh", "kw")}
_INPUT_SIZES = {1: ("length",), 2: ("height", "width")}
_CONV = (("stride", 1), ("padding", 0))
#: The gradient ops are written infix (x ⋆ δ, δ ∗ rot180(K)) and bind like a product: SymPy's printers
#: bracket them inside ⊙ and powers, and the tensor notations bracket them as operands (juxtaposed), as W h.
_PRODUCT = PRECEDENCE["Mul"]


def _dims(axes: Sequence[str]) -> str:
    return "×".join(axes)


def _inside(index: Sequence[int], size: Shape) -> bool:
    return all(0 <= i < n for i, n in zip(index, size))


def _pad(x: np.ndarray, padding: int) -> np.ndarray:
    return np.pad(x, [(0, 0)] + [(padding, padding)] * (x.ndim - 1)) if padding else x


# --- conv1d(x, w), conv2d(x, K): the cross-correlation of pad(x, p) --------------------------------------


def _conv_layout(name: str, d: int, x: Shape, k: Shape) -> tuple[bool, int, Shape, int, Shape]:
    """(has channels, C, spatial size, O, kernel size) of conv{d}d(x, kernel), or a ShapeError naming both shapes."""
    kname, axes, kaxes = _KERNEL[d], _AXES[d], _KERNEL_SIZES[d]
    need(len(x) in (d, d + 1), f"{name}: x must be {_dims(axes)} or C×{_dims(axes)} (there is no batch axis), "
                               f"not {shape_text(x)} ({kname} is {shape_text(k)})")
    need(len(k) in (d, d + 2), f"{name}: {kname} must be {_dims(kaxes)} or O×C×{_dims(kaxes)}, not {shape_text(k)} "
                               f"(x is {shape_text(x)})")
    channels = len(x) == d + 1
    if channels:
        need(len(k) == d + 2, f"{name}: x is C×{_dims(axes)} ({shape_text(x)}), so {kname} must be O×C×{_dims(kaxes)}, "
                              f"not {shape_text(k)}{_channels_last(d, x, k)}")
        need(x[0] == k[1], f"{name}: x has {x[0]} channel{'s' if x[0] != 1 else ''} but {kname} expects {k[1]} "
                           f"(x is {shape_text(x)}, {kname} is {shape_text(k)}){_channels_last(d, x, k)}")
        return True, x[0], x[1:], k[0], k[2:]
    need(len(k) == d, f"{name}: x is {_dims(axes)} ({shape_text(x)}) with no channel axis, so {kname} must be "
                      f"{_dims(kaxes)}, not {shape_text(k)}; write x as 1×{shape_text(x)} for a multi-channel kernel")
    return False, 1, x, 1, k


def _channels_last(d: int, x: Shape, k: Shape) -> str:
    """The hint for x given channels last (H×W×C, as images are stored) where PyTorch's C×H×W is meant: its last
    size is the kernel's channel count, or a picture's (1, 3, 4) when the kernel has no channel axis."""
    c = x[-1]
    if len(k) == d + 2 and (k[1] != c or k[1] == x[0]) or len(k) == d and not (c in (1, 3, 4) and x[0] > c):
        return ""
    kernel = f" and {_KERNEL[d]} as O×C×{_dims(_KERNEL_SIZES[d])}, e.g. 1×{c}×{shape_text(k)}" if len(k) == d else ""
    return (f"; x looks like {_dims(_AXES[d])}×C (channels last); symgraph uses PyTorch's C×{_dims(_AXES[d])}: "
            f"give x as {shape_text((c, *x[:-1]))}{kernel} (np.moveaxis(x, -1, 0) moves a value's channels first)")


def _conv_shape(d: int):
    name = f"conv{d}d"

    def shape(shapes, params):
        x, k = shapes
        stride, padding = params
        channels, _, size, out_channels, ks = _conv_layout(name, d, x, k)
        out = checked_positions(name, size, ks, stride, padding, f"kernel {_KERNEL[d]} ({shape_text(k)})", x)
        return (out_channels, *out) if channels else out

    return shape


def _correlate(d: int):
    """NumPy in the canonical layouts x (C, *S), kernel (O, C, *k): one loop over the kernel's offsets."""

    def correlate(x, k, stride=1, padding=0):
        channels = np.ndim(x) == d + 1
        x, k = (np.asarray(x), np.asarray(k)) if channels else (np.asarray(x)[None], np.asarray(k)[None, None])
        xp = _pad(x, padding)
        out = positions(x.shape[1:], k.shape[2:], stride, padding)
        y = np.zeros((k.shape[0], *out), dtype=np.result_type(x, k, float))
        for offset, window in offsets(k.shape[2:], out, stride):
            y += np.tensordot(k[(slice(None), slice(None), *offset)], xp[(slice(None), *window)], axes=(1, 0))
        return y if channels else y[0]

    return correlate


def _conv_vjp(d: int):
    def vjp(shapes, args, params, y, g, position):
        (sx, sk), (x, k) = shapes, args
        stride, padding = params
        if position == 0:
            return HEADS[f"conv{d}d_input_grad"](g, k, stride, padding, *sx[-d:])  # δ ∗ rot180(K)
        return HEADS[f"conv{d}d_kernel_grad"](x, g, stride, padding, *sk[-d:])  # x ⋆ δ

    return vjp


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
            return total(term, items)

        y = object_array((kc.shape[0], *positions(size, window, stride, padding)), entry)
        return y if channels else y[0]

    return components


def _conv_notation(name: str):
    """conv2d(x, K), with stride and padding written only when they differ from 1 and 0."""

    def write(style, pieces, params):
        stride, padding = params
        shown = [(k, v) for k, v, default in (("stride", stride, 1), ("padding", padding, 0)) if v != default]
        args = [p.text for p in pieces] + keyword_args([k for k, _ in shown], [v for _, v in shown], style)
        return apply(name, args, style)

    return write


def _products(d: int, conv_out, kernel) -> int:
    """Multiply-adds of a convolution: each output entry sums a kernel's worth of products (its gradients the same)."""
    return math.prod(conv_out) * math.prod(kernel[1:] if len(kernel) == d + 2 else kernel)


for _d in (1, 2):
    tensor_op(f"conv{_d}d", 2, rule="convolution rule", shape=_conv_shape(_d), numpy=_correlate(_d),
              vjp=_conv_vjp(_d), components=_conv_components(_d), notation=_conv_notation(f"conv{_d}d"),
              keywords=_CONV, variants=(("bias", f"conv{_d}d_bias"),), work=lambda s, out, _d=_d: _products(_d, out, s[1]))


# --- conv2d(x, K, bias=b): plus b[o] on output channel o (b of shape (O,)) ---------------------------------------


def _bias_shape(d: int):
    def shape(shapes, params):
        x, k, b = shapes
        out = _conv_shape(d)([x, k], params)
        need(len(k) == d + 2, f"conv{d}d: a per-channel bias needs x as C×{_dims(_AXES[d])} and {_KERNEL[d]} as "
                              f"O×C×{_dims(_KERNEL_SIZES[d])} ({_KERNEL[d]} is {shape_text(k)}); add a scalar instead: conv{d}d(x, {_KERNEL[d]}) + b")
        need(b == k[:1], f"conv{d}d: the bias must have one entry per output channel, shape {k[0]}, not {shape_text(b)} "
                         f"({_KERNEL[d]} is {shape_text(k)})")
        return out

    return shape


def _bias_vjp(d: int):
    conv = _conv_vjp(d)

    def vjp(shapes, args, params, y, g, position):
        if position < 2:
            return conv(shapes[:2], args[:2], params, y, g, position)
        out = _conv_shape(d)(list(shapes[:2]), params)
        flat = g if d == 1 else HEADS["reshape"](g, out[0], out[1] * out[2])
        return HEADS["sum"](flat, 1)  # ∂L/∂b[o] = Σ over positions of δ[o]

    return vjp


def _bias_components(d: int):
    conv = _conv_components(d)

    def components(term, arrays, params):
        y = conv(term, arrays[:2], params)
        return object_array(y.shape, lambda i: term("add", y[i], arrays[2][i[0]]))

    return components


def _bias_notation(d: int):
    def write(style, pieces, params):
        x, k, b = pieces
        stride, padding = params
        shown = [(key, v) for key, v, default in (("stride", stride, 1), ("padding", padding, 0)) if v != default]
        bias = rf"\operatorname{{bias}}={b.text}" if style == "latex" else f"bias={b.text}"
        rest = keyword_args([key for key, _ in shown], [v for _, v in shown], style)
        return apply(f"conv{d}d", [x.text, k.text, bias, *rest], style)

    return write


for _d in (1, 2):
    tensor_op(f"conv{_d}d_bias", 3, rule="convolution rule", shape=_bias_shape(_d),
              numpy=lambda x, k, b, stride=1, padding=0, _d=_d: _correlate(_d)(x, k, stride, padding) + np.reshape(b, (-1,) + (1,) * _d),
              vjp=_bias_vjp(_d), components=_bias_components(_d), notation=_bias_notation(_d), keywords=_CONV,
              text=f"conv{_d}d", callable_=False, work=lambda s, out, _d=_d: _products(_d, out, s[1]))


# --- the gradient ops' shared parts ------------------------------------------------------------------------


def _gradient_shape(name: str, delta: Shape, expected: Shape) -> None:
    need(delta == expected, f"{name}: the output gradient is {shape_text(delta)} but the convolution's output is "
                            f"{shape_text(expected)}")


def _each_use(outs: int, ins: int, window: Shape, at: Shape):
    """Every (output channel, input channel, kernel offset, output position): one product of the convolution."""
    for o in range(outs):
        for c in range(ins):
            for offset in np.ndindex(*window):
                for position in np.ndindex(*at):
                    yield o, c, offset, position


def _stretched(delta, stride: int, style: str) -> str:
    """δ, or dilate(δ, s) with a stride."""
    return delta.wrapped if stride == 1 else apply("dilate", [delta.text, str(stride)], style)


# --- conv{d}d_kernel_grad(x, δ): ∂L/∂K = x ⋆ δ ---------------------------------------------------------------


def _kernel_grad_shape(d: int):
    name = f"conv{d}d_kernel_grad"

    def shape(shapes, params):
        x, delta = shapes
        stride, padding, *ks = params
        kernel = (delta[0], x[0], *ks) if len(x) == d + 1 and delta else tuple(ks)
        _conv_layout(name, d, x, kernel)
        _gradient_shape(name, delta, _conv_shape(d)([x, kernel], [stride, padding]))
        return kernel

    return shape


def _kernel_grad(d: int):
    def kernel_grad(x, delta, stride, padding, *ks):
        channels = np.ndim(x) == d + 1
        x = np.asarray(x) if channels else np.asarray(x)[None]
        delta = np.asarray(delta) if channels else np.asarray(delta)[None]
        xp = _pad(x, padding)
        g = np.zeros((delta.shape[0], x.shape[0], *ks), dtype=np.result_type(x, delta, float))
        spatial = tuple(range(1, d + 1))
        for offset, window in offsets(tuple(ks), delta.shape[1:], stride):
            g[(slice(None), slice(None), *offset)] = np.tensordot(delta, xp[(slice(None), *window)], axes=(spatial, spatial))
        return g if channels else g[0, 0]

    return kernel_grad


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

        g = scatter(term, (dc.shape[0], xc.shape[0], *ks), contributions())
        return g if channels else g[0, 0]

    return components


def _kernel_grad_notation(d: int):
    """x ⋆ δ; pad(x, p) ⋆ dilate(δ, s) with padding and stride."""
    source = source_call(f"conv{d}d_kernel_grad", ("stride", "padding", *_KERNEL_SIZES[d]))
    star = {"unicode": " ⋆ ", "latex": r" \star "}

    def write(style, pieces, params):
        if style == "source":
            return source(pieces, params)
        x, delta = pieces
        stride, padding = params[:2]
        left = x.wrapped if not padding else apply("pad", [x.text, str(padding)], style)
        return left + star[style] + _stretched(delta, stride, style)

    return write


for _d in (1, 2):
    tensor_op(f"conv{_d}d_kernel_grad", 2, rule="kernel gradient x ⋆ δ", shape=_kernel_grad_shape(_d),
              numpy=_kernel_grad(_d), components=_kernel_grad_components(_d), notation=_kernel_grad_notation(_d),
              text="⋆", keywords=(*_CONV, *((s, REQUIRED) for s in _KERNEL_SIZES[_d])), juxtaposed=True, precedence=_PRODUCT,
              internal=True, work=lambda s, out, _d=_d: _products(_d, s[1], out))


# --- conv{d}d_input_grad(δ, K): ∂L/∂x = δ ∗ rot180(K) (δ ∗ flip(w) in 1-D) --------------------------------------


def _input_grad_shape(d: int):
    name = f"conv{d}d_input_grad"

    def shape(shapes, params):
        delta, k = shapes
        stride, padding, *size = params
        x = (k[1], *size) if len(k) == d + 2 else tuple(size)
        _conv_layout(name, d, x, k)
        _gradient_shape(name, delta, _conv_shape(d)([x, k], [stride, padding]))
        return x

    return shape


def _input_grad(d: int):
    def input_grad(delta, k, stride, padding, *size):
        channels = np.ndim(k) == d + 2
        delta = np.asarray(delta) if channels else np.asarray(delta)[None]
        k = np.asarray(k) if channels else np.asarray(k)[None, None]
        padded = tuple(n + 2 * padding for n in size)
        g = np.zeros((k.shape[1], *padded), dtype=np.result_type(delta, k, float))
        for offset, window in offsets(k.shape[2:], delta.shape[1:], stride):
            g[(slice(None), *window)] += np.tensordot(k[(slice(None), slice(None), *offset)], delta, axes=(0, 0))
        g = g[(slice(None), *(slice(padding, padding + n) for n in size))]
        return g if channels else g[0]

    return input_grad


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

        g = scatter(term, (kc.shape[1], *size), contributions())
        return g if channels else g[0]

    return components


def _input_grad_notation(d: int):
    """δ ∗ rot180(K) (flip(w) in 1-D); dilate(δ, s) with a stride, crop(…, p) with padding."""
    source = source_call(f"conv{d}d_input_grad", ("stride", "padding", *_INPUT_SIZES[d]))
    full = {"unicode": " ∗ ", "latex": r" \ast "}

    def write(style, pieces, params):
        if style == "source":
            return source(pieces, params)
        delta, k = pieces
        stride, padding = params[:2]
        core = _stretched(delta, stride, style) + full[style] + apply("rot180" if d == 2 else "flip", [k.text], style)
        return core if not padding else apply("crop", [core, str(padding)], style)

    return write


for _d in (1, 2):
    tensor_op(f"conv{_d}d_input_grad", 2, rule="input gradient δ ∗ " + ("flip(w)" if _d == 1 else "rot180(K)"),
              shape=_input_grad_shape(_d), numpy=_input_grad(_d), components=_input_grad_components(_d),
              notation=_input_grad_notation(_d), text="∗",
              keywords=(*_CONV, *((s, REQUIRED) for s in _INPUT_SIZES[_d])), juxtaposed=True, precedence=_PRODUCT,
              internal=True, work=lambda s, out, _d=_d: _products(_d, s[0], s[1]))
