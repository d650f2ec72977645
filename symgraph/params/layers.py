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

import sympy

from symgraph.params.sizes import Shape, Size, differ, given_text, is_letters, negative, nonnegative, num_text, shape_text, size_text

__all__ = ["Param", "Count", "Layer", "BASE_LAYERS", "Refused", "Mismatch", "MAX_SIZE", "REQUIRED", "count",
           "positive", "natural", "flag", "real", "probability", "choice", "optional", "sizes_of", "exact_div"]

MAX_SIZE = 10**9  # largest whole number in SPEC or the input shape
REQUIRED = object()


# --- argument kinds: each checks a literal and returns it normalised; a ValueError says what it expected ---
def _number(what: str, types: tuple[type[int | float], ...] = (int, float), low: float = -math.inf, high: float = math.inf) -> Callable:
    def check(value):
        if isinstance(value, types) and not isinstance(value, bool) and low <= value <= high and math.isfinite(value):
            return value
        raise ValueError(what)
    return check


def _size(what: str, low: int) -> Callable:
    """A size: a whole number from `low`, or a formula of letters (C, H − 2, 2·d)."""
    number = _number(what, (int,), low=low)

    def check(value):
        return value if is_letters(value) else number(value)
    return check


positive = _size("a positive whole number or a letter", 1)
natural = _size("a whole number ≥ 0 or a letter", 0)
_positive = _number("a positive whole number", (int,), low=1)  # counts of things: groups, layers
_integer = _number("a whole number", (int,))
real = _number("a number")
probability = _number("a number from 0 to 1", low=0, high=1)


def flag(value):
    if isinstance(value, bool):
        return value
    raise ValueError("True or False")


def choice(*options) -> Callable:
    def check(value):
        if value in options and isinstance(value, type(options[0])):
            return value
        raise ValueError(" or ".join(map(repr, options)))
    return check


def sizes_of(n: int, item: Callable) -> Callable:
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


_none = choice(None)


def optional(kind: Callable) -> Callable:
    return _either(_none, kind)


# --- records ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    name: str
    kind: Callable
    default: object = REQUIRED


@dataclass(frozen=True)
class Count:
    weights: Size
    biases: Size  # the textbook count: one bias vector per gate
    pytorch_biases: Size  # what PyTorch's parameters() hold
    working: str = ""


class Refused(Exception):
    """A layer cannot take its input; the message says why."""


class Mismatch(Exception):
    """An argument disagrees with the incoming shape; the caller names the layer that produced it."""

    def __init__(self, argument: str, value: Size, unit: str, flat: Size | None = None):
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


def count(weights: Size, biases: Size, expr: str) -> Count:
    """A layer whose biases PyTorch counts as the textbook does."""
    return Count(weights, biases, biases, f"{expr} = {num_text(weights + biases)}")


def factor(value: Size) -> str:
    """A size as a factor of a product: a sum in parentheses."""
    return f"({size_text(value)})" if isinstance(value, sympy.Add) else size_text(value)


def exact_div(a: Size, b: Size) -> Size:
    """a / b for a count that b divides (checked where the numbers are known)."""
    return a // b if isinstance(a, int) and isinstance(b, int) else a / b


def _divides(b: Size, a: Size) -> bool:
    """False only when b surely does not divide a."""
    rest = a % b
    return rest == 0 or is_letters(rest)


# --- shape and count rules -----------------------------------------------------------------------------
def _slide(dims, sizes, kernel, stride, pads, dilation, ceil=False) -> tuple[Shape, str]:
    """The output size of a sliding window along each dimension, and the working, as PyTorch computes it."""
    outs, texts = [], []
    for dim, size, k, s, p, d in zip(dims, sizes, kernel, stride, pads, dilation):
        span = d * (k - 1) + 1
        room = size + 2 * p - span
        if negative(room):
            padded = "padded " if p else ""
            raise Refused(f"the kernel ({given_text(span)}) is larger than the {padded}input "
                          f"({given_text(size + 2 * p)}) along {dim}")
        out = (-(-room // s) if ceil else room // s) + 1
        kept = f"{factor(d)}·({size_text(k)}−1) − 1" if d != 1 else factor(span)
        inner = f"{size_text(size)} + 2·{factor(p)} − {kept}" if p else f"{size_text(size)} − {kept}"
        text = f"{inner} + 1" if s == 1 else f"{'⌈' if ceil else '⌊'}({inner})/{factor(s)}{'⌉' if ceil else '⌋'} + 1"
        dropped = nonnegative((out - 1) * s - size - p) if ceil else False
        if dropped is None:
            raise Refused(f"with ceil_mode=True the size along {dim} depends on the numbers: give them with --size")
        if dropped:  # the last window would start in the right padding: dropped
            out -= 1
            text += " − 1"
        outs.append(out)
        texts.append(f"{text} = {size_text(out)}")
    if len(set(texts)) == 1:
        return tuple(outs), f"{', '.join(dims)}: {texts[0]}"
    return tuple(outs), "; ".join(f"{dim}: {text}" for dim, text in zip(dims, texts))


def _conv_shape(dims, args, shape):
    if differ(shape[0], args["in_channels"]):
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
    if not (_divides(g, i) and _divides(g, o)):
        raise Refused(f"groups={g} must divide in_channels ({size_text(i)}) and out_channels ({size_text(o)})")
    biases = o if args["bias"] else 0
    factors = [factor(o), f"({size_text(i)}/{g})" if g > 1 else factor(i), *map(factor, args["kernel_size"])]
    weights = o * exact_div(i, g) * math.prod(args["kernel_size"])
    return count(weights, biases, "·".join(factors) + (f" + {size_text(o)}" if biases else ""))


def _pool_shape(dims, args, shape):
    kernel, dilation = args["kernel_size"], args.get("dilation", (1,) * len(dims))
    for k, p, d in zip(kernel, args["padding"], dilation):
        if negative(d * (k - 1) + 1 - 2 * p):
            raise Refused(f"padding {size_text(p)} is more than half the kernel ({size_text(d * (k - 1) + 1)}); "
                          "PyTorch refuses it")
    stride = args["stride"] or kernel
    spatial, working = _slide(dims, shape[1:], kernel, stride, args["padding"], dilation, args["ceil_mode"])
    return (shape[0], *spatial), working


def _adaptive_shape(args, shape):
    return (shape[0], *args["output_size"]), f"H, W set to {shape_text(args['output_size'])}"


def _linear_shape(args, shape):
    if differ(shape[-1], args["in_features"]):
        if len(shape) == 1:
            raise Mismatch("in_features", shape[0], "features")
        raise Mismatch("in_features", shape[-1], "features in its last dimension", math.prod(shape))
    return (*shape[:-1], args["out_features"]), ""


def _linear_count(args) -> Count:
    i, o = args["in_features"], args["out_features"]
    biases = o if args["bias"] else 0
    return count(o * i, biases, f"{factor(o)}·{factor(i)}" + (f" + {size_text(o)}" if biases else ""))


def _flatten_shape(args, shape):
    rank = len(shape) + 1  # PyTorch's dims count the batch as dim 0
    start, end = (d + rank if d < 0 else d for d in (args["start_dim"], args["end_dim"]))
    if not 1 <= start <= end < rank:
        raise Refused(f"start_dim={args['start_dim']}, end_dim={args['end_dim']} do not fit a {len(shape)}-dimensional "
                       f"example (dim 0 is the batch, dims 1 to {len(shape)} the example)")
    merged = shape[start - 1 : end]
    working = f"{'·'.join(map(factor, merged))} = {num_text(math.prod(merged))}" if len(merged) > 1 else ""
    return (*shape[: start - 1], math.prod(merged), *shape[end:]), working


def _embedding_shape(args, shape):
    return (*shape, args["embedding_dim"]), ""


def _embedding_count(args) -> Count:
    n, e, pad = args["num_embeddings"], args["embedding_dim"], args["padding_idx"]
    if pad is not None and (negative(n + pad) if pad < 0 else negative(n - pad - 1)):
        raise Refused(f"padding_idx={pad} is not a token id of the {size_text(n)} embeddings")
    return count(n * e, 0, f"{factor(n)}·{factor(e)}")


def _recurrent_shape(args, shape):
    steps, features = shape
    if differ(features, args["input_size"]):
        raise Mismatch("input_size", features, "features per step")
    both = args["bidirectional"]
    width = (2 if both else 1) * args["hidden_size"]
    return (steps, width), f"output L×{'2h' if both else 'h'} = {shape_text((steps, width))}"


def _gated(gates: int, inner: str) -> str:
    return inner if gates == 1 else f"{gates}·({inner})"


def _recurrent_count(gates, args) -> Count:
    """Per layer and direction gates·(h(d+h)+h); layers after the first read the (both-way) output."""
    d, h, directions = args["input_size"], args["hidden_size"], 2 if args["bidirectional"] else 1
    inputs = [d] + [directions * h] * (args["num_layers"] - 1)
    weights = directions * sum(gates * h * (i + h) for i in inputs)
    biases = directions * len(inputs) * gates * h if args["bias"] else 0
    bias = f"+{size_text(h)}" if biases else ""
    terms = " + ".join(_gated(gates, f"{factor(h)}·({size_text(i)}+{size_text(h)}){bias}") for i in inputs)
    shown = f"2·({terms})" if directions == 2 else terms
    working = f"{_gated(gates, 'h(d+h)' + ('+h' if biases else ''))} = {shown} = {num_text(weights + biases)}"
    if biases:
        working += f"; PyTorch, with b_ih and b_hh: {_gated(gates, 'h(d+h)+2h')} → {num_text(weights + 2 * biases)}"
    return Count(weights, biases, 2 * biases, working)


def _norm_shape(args, shape):
    if differ(shape[0], args["num_features"]):
        raise Mismatch("num_features", shape[0], "channels")
    return shape, ""


def _norm_count(args) -> Count:
    c = args["num_features"] if args["affine"] else 0
    return count(c, c, f"γ {size_text(c)} + β {size_text(c)}")


# --- the layer table ---------------------------------------------------------------------------------------
_DIMS = {1: ("L",), 2: ("H", "W")}
_LAYOUT = {1: "C×L", 2: "C×H×W"}
_INPLACE = Param("inplace", flag, False)
_DIM = Param("dim", optional(_integer), None)
_NO_INDICES = Param("return_indices", choice(False), False)  # True returns a tuple, which the next layer cannot take


def _conv(n: int) -> Layer:
    sizes = sizes_of(n, positive)
    return Layer(
        f"Conv{n}d",
        (Param("in_channels", positive), Param("out_channels", positive), Param("kernel_size", sizes),
         Param("stride", sizes, 1), Param("padding", _either(choice("same", "valid"), sizes_of(n, natural)), 0),
         Param("dilation", sizes, 1), Param("groups", _positive, 1), Param("bias", flag, True),
         Param("padding_mode", choice("zeros", "reflect", "replicate", "circular"), "zeros")),
        (_LAYOUT[n],), partial(_conv_shape, _DIMS[n]), _conv_count,
    )


def _pool(kind: str, n: int) -> Layer:
    sizes = sizes_of(n, positive)
    tail = {
        "Max": (Param("dilation", sizes, 1), _NO_INDICES, Param("ceil_mode", flag, False)),
        "Avg": (Param("ceil_mode", flag, False), Param("count_include_pad", flag, True),
                Param("divisor_override", optional(_positive), None)),
    }[kind]
    params = (Param("kernel_size", sizes), Param("stride", optional(sizes), None), Param("padding", sizes_of(n, natural), 0))
    return Layer(f"{kind}Pool{n}d", params + tail, (_LAYOUT[n],), partial(_pool_shape, _DIMS[n]))


def _recurrent(name: str, gates: int, returns: str, biases: str, extra: tuple[Param, ...] = ()) -> Layer:
    params = (Param("input_size", positive), Param("hidden_size", positive), Param("num_layers", _positive, 1), *extra,
              Param("bias", flag, True), Param("batch_first", flag, False), Param("dropout", probability, 0.0),
              Param("bidirectional", flag, False))
    note = (f"nn.{name} returns ({returns}); the shapes follow output, and batch_first moves only the batch. "
            f"In nn.Sequential the next layer would get the whole tuple. {biases}")
    return Layer(name, params, ("L×d",), _recurrent_shape, partial(_recurrent_count, gates), note)


_SUMMED = "Its two bias vectors per gate, b_ih and b_hh, only ever appear as a sum: one per gate is the textbook count."
_LAYERS = (
    _conv(1), _conv(2), _pool("Max", 1), _pool("Max", 2), _pool("Avg", 1), _pool("Avg", 2),
    Layer("AdaptiveAvgPool2d", (Param("output_size", sizes_of(2, positive)),), ("C×H×W",), _adaptive_shape),
    Layer("AdaptiveMaxPool2d", (Param("output_size", sizes_of(2, positive)), _NO_INDICES),
          ("C×H×W",), _adaptive_shape),
    Layer("Linear", (Param("in_features", positive), Param("out_features", positive), Param("bias", flag, True)),
          shape=_linear_shape, count=_linear_count),
    Layer("Flatten", (Param("start_dim", _integer, 1), Param("end_dim", _integer, -1)), shape=_flatten_shape),
    Layer("Embedding", (Param("num_embeddings", positive), Param("embedding_dim", positive),
                        Param("padding_idx", optional(_integer), None), Param("max_norm", optional(real), None),
                        Param("norm_type", real, 2.0), Param("scale_grad_by_freq", flag, False),
                        Param("sparse", flag, False)),
          shape=_embedding_shape, count=_embedding_count, reads_ids=True,
          note="Embedding reads integer token ids: the input shape is the shape of the ids (L for one sequence)."),
    _recurrent("RNN", 1, "output, h_n", _SUMMED, (Param("nonlinearity", choice("tanh", "relu"), "tanh"),)),
    _recurrent("LSTM", 4, "output, (h_n, c_n)", _SUMMED),
    _recurrent("GRU", 3, "output, h_n", "Of its two bias vectors per gate, b_hn sits inside r⊙(W_hn h + b_hn), so the "
               "second set is not all redundant; the textbook count still has one per gate."),
    *(Layer(f"BatchNorm{n}d", (Param("num_features", positive), Param("eps", real, 1e-5),
                               Param("momentum", optional(real), 0.1), Param("affine", flag, True),
                               Param("track_running_stats", flag, True)),
            needs, _norm_shape, _norm_count,
            note="BatchNorm's running mean and variance are buffers, not parameters: they are not counted.")
      for n, needs in ((1, ("C", "C×L")), (2, ("C×H×W",)))),
    *(Layer(name, (Param("p", probability, 0.5), _INPLACE)) for name in ("Dropout", "Dropout1d", "Dropout2d")),
    *(Layer(name, (_INPLACE,)) for name in ("ReLU", "ReLU6", "SiLU", "Mish")),
    *(Layer(name) for name in ("Tanh", "Sigmoid", "Identity")),
    Layer("LeakyReLU", (Param("negative_slope", real, 0.01), _INPLACE)),
    Layer("ELU", (Param("alpha", real, 1.0), _INPLACE)),
    Layer("GELU", (Param("approximate", choice("none", "tanh"), "none"),)),
    Layer("Softplus", (Param("beta", real, 1.0), Param("threshold", real, 20.0))),
    Layer("Softmax", (_DIM,)), Layer("LogSoftmax", (_DIM,)),
)
BASE_LAYERS: dict[str, Layer] = {layer.name: layer for layer in _LAYERS}
