"""The layer table of `symgraph params`: one record per PyTorch layer type.

A record holds the layer's arguments in PyTorch's order (with their kinds and defaults), the input
layouts it reads, its shape rule and its count rule. Adding a layer type touches this table and its
row in the tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

__all__ = ["Shape", "Param", "Count", "Layer", "LAYERS", "Refused", "Mismatch", "shape_text", "MAX_SIZE", "REQUIRED"]

Shape = tuple[int, ...]
MAX_SIZE = 10**9  # largest whole number in SPEC or the input shape
REQUIRED = object()


def shape_text(shape: Shape) -> str:
    return "×".join(map(str, shape))


# --- argument kinds: each checks a literal and returns it normalised; a ValueError says what it expected ---
def _number(what: str, types: tuple[type[int | float], ...] = (int, float), low: float = -math.inf, high: float = math.inf) -> Callable:
    def check(value):
        if isinstance(value, types) and not isinstance(value, bool) and low <= value <= high and math.isfinite(value):
            return value
        raise ValueError(what)
    return check


_positive = _number("a positive whole number", (int,), low=1)
_natural = _number("a whole number ≥ 0", (int,), low=0)
_integer = _number("a whole number", (int,))
_real = _number("a number")
_probability = _number("a number from 0 to 1", low=0, high=1)


def _flag(value):
    if isinstance(value, bool):
        return value
    raise ValueError("True or False")


def _choice(*options) -> Callable:
    def check(value):
        if value in options and isinstance(value, type(options[0])):
            return value
        raise ValueError(" or ".join(map(repr, options)))
    return check


def _sizes(n: int, item: Callable) -> Callable:
    """An int stands for the same size in all n dimensions, as in PyTorch."""
    def check(value):
        try:
            if not isinstance(value, tuple):
                return (item(value),) * n
            if len(value) == n:
                return tuple(item(v) for v in value)
        except ValueError as e:
            raise ValueError(f"{e}, or a tuple of {n} of them") from None
        raise ValueError(f"a tuple of {n}")
    return check


def _either(*kinds: Callable) -> Callable:
    def check(value):
        wanted = []
        for kind in kinds:
            try:
                return kind(value)
            except ValueError as e:
                wanted.append(str(e))
        raise ValueError(" or ".join(wanted))
    return check


_none = _choice(None)


def _optional(kind: Callable) -> Callable:
    return _either(_none, kind)


# --- records ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    name: str
    kind: Callable
    default: object = REQUIRED


@dataclass(frozen=True)
class Count:
    weights: int
    biases: int  # the textbook count: one bias vector per gate
    pytorch_biases: int  # what PyTorch's parameters() hold
    working: str = ""


class Refused(Exception):
    """A layer cannot take its input; the message says why."""


class Mismatch(Exception):
    """An argument disagrees with the incoming shape; the caller names the layer that produced it."""

    def __init__(self, argument: str, value: int, unit: str, flat: int | None = None):
        super().__init__(argument)
        self.argument, self.value, self.unit, self.flat = argument, value, unit, flat  # flat: what Flatten() would give


def _same(args, shape):
    return shape, ""


def _free(args) -> Count:
    return Count(0, 0, 0)


@dataclass(frozen=True)
class Layer:
    """One layer type: arguments in PyTorch's positional order, the layouts it reads, its rules."""

    name: str
    params: tuple[Param, ...] = ()
    needs: tuple[str, ...] = ()  # e.g. ("C×H×W",); () reads any shape
    shape: Callable[[Mapping, Shape], tuple[Shape, str]] = _same  # → output shape, the working
    count: Callable[[Mapping], Count] = _free
    note: str = ""
    reads_ids: bool = False  # token ids: only the network's input can feed it


def _count(weights: int, biases: int, expr: str) -> Count:
    """A layer whose biases PyTorch counts as the textbook does."""
    return Count(weights, biases, biases, f"{expr} = {weights + biases:,}")


# --- shape and count rules -----------------------------------------------------------------------------
def _slide(dims, sizes, kernel, stride, pads, dilation, ceil=False) -> tuple[Shape, str]:
    """The output size of a sliding window along each dimension, and the working, as PyTorch computes it."""
    outs, texts = [], []
    for dim, size, k, s, p, d in zip(dims, sizes, kernel, stride, pads, dilation):
        span = d * (k - 1) + 1
        room = size + 2 * p - span
        if room < 0:
            padded = "padded " if p else ""
            raise Refused(f"the kernel ({span}) is larger than the {padded}input ({size + 2 * p}) along {dim}")
        out = (-(-room // s) if ceil else room // s) + 1
        kept = f"{d}·({k}−1) − 1" if d > 1 else str(span)
        inner = f"{size} + 2·{p} − {kept}" if p else f"{size} − {kept}"
        text = f"{inner} + 1" if s == 1 else f"{'⌈' if ceil else '⌊'}({inner})/{s}{'⌉' if ceil else '⌋'} + 1"
        if ceil and (out - 1) * s >= size + p:  # the last window would start in the right padding: dropped
            out -= 1
            text += " − 1"
        outs.append(out)
        texts.append(f"{text} = {out}")
    if len(set(texts)) == 1:
        return tuple(outs), f"{', '.join(dims)}: {texts[0]}"
    return tuple(outs), "; ".join(f"{dim}: {text}" for dim, text in zip(dims, texts))


def _conv_shape(dims, args, shape):
    if shape[0] != args["in_channels"]:
        raise Mismatch("in_channels", shape[0], "channels")
    if args["padding"] == "same":
        if set(args["stride"]) != {1}:
            raise Refused("padding='same' needs stride 1; PyTorch refuses it for strided convolutions")
        return (args["out_channels"], *shape[1:]), f"padding='same' keeps {', '.join(dims)}"
    pads = (0,) * len(dims) if args["padding"] == "valid" else args["padding"]
    spatial, working = _slide(dims, shape[1:], args["kernel_size"], args["stride"], pads, args["dilation"])
    return (args["out_channels"], *spatial), working


def _conv_count(args) -> Count:
    i, o, g = args["in_channels"], args["out_channels"], args["groups"]
    if i % g or o % g:
        raise Refused(f"groups={g} must divide in_channels ({i}) and out_channels ({o})")
    biases = o if args["bias"] else 0
    factors = [str(o), f"({i}/{g})" if g > 1 else str(i), *map(str, args["kernel_size"])]
    return _count(o * (i // g) * math.prod(args["kernel_size"]), biases, "·".join(factors) + (f" + {o}" if biases else ""))


def _pool_shape(dims, args, shape):
    kernel, dilation = args["kernel_size"], args.get("dilation", (1,) * len(dims))
    for k, p, d in zip(kernel, args["padding"], dilation):
        if 2 * p > d * (k - 1) + 1:
            raise Refused(f"padding {p} is more than half the kernel ({d * (k - 1) + 1}); PyTorch refuses it")
    stride = args["stride"] or kernel
    spatial, working = _slide(dims, shape[1:], kernel, stride, args["padding"], dilation, args["ceil_mode"])
    return (shape[0], *spatial), working


def _adaptive_shape(args, shape):
    return (shape[0], *args["output_size"]), f"H, W set to {shape_text(args['output_size'])}"


def _linear_shape(args, shape):
    if shape[-1] != args["in_features"]:
        if len(shape) == 1:
            raise Mismatch("in_features", shape[0], "features")
        raise Mismatch("in_features", shape[-1], "features in its last dimension", math.prod(shape))
    return (*shape[:-1], args["out_features"]), ""


def _linear_count(args) -> Count:
    i, o = args["in_features"], args["out_features"]
    biases = o if args["bias"] else 0
    return _count(o * i, biases, f"{o}·{i}" + (f" + {o}" if biases else ""))


def _flatten_shape(args, shape):
    rank = len(shape) + 1  # PyTorch's dims count the batch as dim 0
    start, end = (d + rank if d < 0 else d for d in (args["start_dim"], args["end_dim"]))
    if not 1 <= start <= end < rank:
        raise Refused(f"start_dim={args['start_dim']}, end_dim={args['end_dim']} do not fit a {len(shape)}-dimensional "
                       f"example (dim 0 is the batch, dims 1 to {len(shape)} the example)")
    merged = shape[start - 1 : end]
    working = f"{'·'.join(map(str, merged))} = {math.prod(merged):,}" if len(merged) > 1 else ""
    return (*shape[: start - 1], math.prod(merged), *shape[end:]), working


def _embedding_shape(args, shape):
    return (*shape, args["embedding_dim"]), ""


def _embedding_count(args) -> Count:
    n, e, pad = args["num_embeddings"], args["embedding_dim"], args["padding_idx"]
    if pad is not None and not -n <= pad < n:
        raise Refused(f"padding_idx={pad} is not a token id of the {n} embeddings")
    return _count(n * e, 0, f"{n}·{e}")


def _recurrent_shape(args, shape):
    steps, features = shape
    if features != args["input_size"]:
        raise Mismatch("input_size", features, "features per step")
    both = args["bidirectional"]
    width = (2 if both else 1) * args["hidden_size"]
    return (steps, width), f"output L×{'2h' if both else 'h'} = {steps}×{width}"


def _gated(gates: int, inner: str) -> str:
    return inner if gates == 1 else f"{gates}·({inner})"


def _recurrent_count(gates, args) -> Count:
    """Per layer and direction gates·(h(d+h)+h); layers after the first read the (both-way) output."""
    d, h, directions = args["input_size"], args["hidden_size"], 2 if args["bidirectional"] else 1
    inputs = [d] + [directions * h] * (args["num_layers"] - 1)
    weights = directions * sum(gates * h * (i + h) for i in inputs)
    biases = directions * len(inputs) * gates * h if args["bias"] else 0
    bias = f"+{h}" if biases else ""
    terms = " + ".join(_gated(gates, f"{h}·({i}+{h}){bias}") for i in inputs)
    shown = f"2·({terms})" if directions == 2 else terms
    working = f"{_gated(gates, 'h(d+h)' + ('+h' if biases else ''))} = {shown} = {weights + biases:,}"
    if biases:
        working += f"; PyTorch, with b_ih and b_hh: {_gated(gates, 'h(d+h)+2h')} → {weights + 2 * biases:,}"
    return Count(weights, biases, 2 * biases, working)


def _norm_shape(args, shape):
    if shape[0] != args["num_features"]:
        raise Mismatch("num_features", shape[0], "channels")
    return shape, ""


def _norm_count(args) -> Count:
    c = args["num_features"] if args["affine"] else 0
    return _count(c, c, f"γ {c} + β {c}")


# --- the layer table ---------------------------------------------------------------------------------------
_DIMS = {1: ("L",), 2: ("H", "W")}
_LAYOUT = {1: "C×L", 2: "C×H×W"}
_INPLACE = Param("inplace", _flag, False)
_DIM = Param("dim", _optional(_integer), None)
_NO_INDICES = Param("return_indices", _choice(False), False)  # True returns a tuple, which the next layer cannot take


def _conv(n: int) -> Layer:
    sizes = _sizes(n, _positive)
    return Layer(
        f"Conv{n}d",
        (Param("in_channels", _positive), Param("out_channels", _positive), Param("kernel_size", sizes),
         Param("stride", sizes, 1), Param("padding", _either(_choice("same", "valid"), _sizes(n, _natural)), 0),
         Param("dilation", sizes, 1), Param("groups", _positive, 1), Param("bias", _flag, True),
         Param("padding_mode", _choice("zeros", "reflect", "replicate", "circular"), "zeros")),
        (_LAYOUT[n],), partial(_conv_shape, _DIMS[n]), _conv_count,
    )


def _pool(kind: str, n: int) -> Layer:
    sizes = _sizes(n, _positive)
    tail = {
        "Max": (Param("dilation", sizes, 1), _NO_INDICES, Param("ceil_mode", _flag, False)),
        "Avg": (Param("ceil_mode", _flag, False), Param("count_include_pad", _flag, True),
                Param("divisor_override", _optional(_positive), None)),
    }[kind]
    params = (Param("kernel_size", sizes), Param("stride", _optional(sizes), None), Param("padding", _sizes(n, _natural), 0))
    return Layer(f"{kind}Pool{n}d", params + tail, (_LAYOUT[n],), partial(_pool_shape, _DIMS[n]))


def _recurrent(name: str, gates: int, returns: str, biases: str, extra: tuple[Param, ...] = ()) -> Layer:
    params = (Param("input_size", _positive), Param("hidden_size", _positive), Param("num_layers", _positive, 1), *extra,
              Param("bias", _flag, True), Param("batch_first", _flag, False), Param("dropout", _probability, 0.0),
              Param("bidirectional", _flag, False))
    note = (f"nn.{name} returns ({returns}); the shapes follow output, and batch_first moves only the batch. "
            f"In nn.Sequential the next layer would get the whole tuple. {biases}")
    return Layer(name, params, ("L×d",), _recurrent_shape, partial(_recurrent_count, gates), note)


_SUMMED = "Its two bias vectors per gate, b_ih and b_hh, only ever appear as a sum: one per gate is the textbook count."
_LAYERS = (
    _conv(1), _conv(2), _pool("Max", 1), _pool("Max", 2), _pool("Avg", 1), _pool("Avg", 2),
    Layer("AdaptiveAvgPool2d", (Param("output_size", _sizes(2, _positive)),), ("C×H×W",), _adaptive_shape),
    Layer("AdaptiveMaxPool2d", (Param("output_size", _sizes(2, _positive)), _NO_INDICES),
          ("C×H×W",), _adaptive_shape),
    Layer("Linear", (Param("in_features", _positive), Param("out_features", _positive), Param("bias", _flag, True)),
          shape=_linear_shape, count=_linear_count),
    Layer("Flatten", (Param("start_dim", _integer, 1), Param("end_dim", _integer, -1)), shape=_flatten_shape),
    Layer("Embedding", (Param("num_embeddings", _positive), Param("embedding_dim", _positive),
                        Param("padding_idx", _optional(_integer), None), Param("max_norm", _optional(_real), None),
                        Param("norm_type", _real, 2.0), Param("scale_grad_by_freq", _flag, False),
                        Param("sparse", _flag, False)),
          shape=_embedding_shape, count=_embedding_count, reads_ids=True,
          note="Embedding reads integer token ids: the input shape is the shape of the ids (L for one sequence)."),
    _recurrent("RNN", 1, "output, h_n", _SUMMED, (Param("nonlinearity", _choice("tanh", "relu"), "tanh"),)),
    _recurrent("LSTM", 4, "output, (h_n, c_n)", _SUMMED),
    _recurrent("GRU", 3, "output, h_n", "Of its two bias vectors per gate, b_hn sits inside r⊙(W_hn h + b_hn), so the "
               "second set is not all redundant; the textbook count still has one per gate."),
    *(Layer(f"BatchNorm{n}d", (Param("num_features", _positive), Param("eps", _real, 1e-5),
                               Param("momentum", _optional(_real), 0.1), Param("affine", _flag, True),
                               Param("track_running_stats", _flag, True)),
            needs, _norm_shape, _norm_count,
            note="BatchNorm's running mean and variance are buffers, not parameters: they are not counted.")
      for n, needs in ((1, ("C", "C×L")), (2, ("C×H×W",)))),
    *(Layer(name, (Param("p", _probability, 0.5), _INPLACE)) for name in ("Dropout", "Dropout1d", "Dropout2d")),
    *(Layer(name, (_INPLACE,)) for name in ("ReLU", "ReLU6", "SiLU", "Mish")),
    *(Layer(name) for name in ("Tanh", "Sigmoid", "Identity")),
    Layer("LeakyReLU", (Param("negative_slope", _real, 0.01), _INPLACE)),
    Layer("ELU", (Param("alpha", _real, 1.0), _INPLACE)),
    Layer("GELU", (Param("approximate", _choice("none", "tanh"), "none"),)),
    Layer("Softplus", (Param("beta", _real, 1.0), Param("threshold", _real, 20.0))),
    Layer("Softmax", (_DIM,)), Layer("LogSoftmax", (_DIM,)),
)
LAYERS: dict[str, Layer] = {layer.name: layer for layer in _LAYERS}
