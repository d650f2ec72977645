"""The layers of a transformer: LayerNorm, MultiheadAttention and TransformerEncoderLayer, counted as PyTorch counts.

PyTorch's modules hold (torch/nn/modules/activation.py, transformer.py, normalization.py):
- MultiheadAttention(E, h): in_proj_weight 3E×E and in_proj_bias 3E (or q/k/v_proj_weight E×E, E×kdim, E×vdim
  when kdim or vdim differ from E), out_proj E×E + E, and bias_k, bias_v of E each with add_bias_kv:
  4E² + 4E with the defaults. E must be divisible by h; the count does not depend on h.
- LayerNorm(d): weight γ and bias β of d each (elementwise_affine, bias): 2d.
- TransformerEncoderLayer(d, h, f): self_attn MultiheadAttention(d, h), linear1 d→f, linear2 f→d, norm1 and norm2
  LayerNorm(d), all with bias=bias: 4d² + 4d + (df + f) + (fd + d) + 4d = 4d² + 2df + 9d + f.
"""

from __future__ import annotations

import math

from symgraph.params.layers import (
    Count,
    Layer,
    Mismatch,
    Param,
    Refused,
    count,
    flag,
    optional,
    positive,
    probability,
    real,
)
from symgraph.params.sizes import Size, differ, is_letters, num_text, shape_text, size_text

__all__ = ["ATTENTION_LAYERS"]


def _normalized_shape(value):
    """An int or a tuple of ints (the last dimensions), as PyTorch takes normalized_shape."""
    if isinstance(value, tuple) and value:
        return tuple(positive(v) for v in value)
    return (positive(value),)


def _layer_norm_shape(args, shape):
    wanted = args["normalized_shape"]
    if len(wanted) > len(shape):
        raise Refused(f"normalized_shape {shape_text(wanted)} has more dimensions than the input {shape_text(shape)}")
    last = shape[len(shape) - len(wanted):]
    if len(wanted) == 1 and differ(last[0], wanted[0]):
        unit = "features" if len(shape) == 1 else "features in its last dimension"
        raise Mismatch("normalized_shape", last[0], unit)
    if any(differ(a, b) for a, b in zip(last, wanted)):
        raise Refused(f"normalized_shape {shape_text(wanted)} must be the input's last dimensions, {shape_text(last)}")
    return shape, ""


def _layer_norm_count(args) -> Count:
    d = math.prod(args["normalized_shape"])
    weights = d if args["elementwise_affine"] else 0
    biases = d if args["elementwise_affine"] and args["bias"] else 0
    return count(weights, biases, f"γ {size_text(weights)} + β {size_text(biases)}")


def _activation(value):
    if value in ("relu", "gelu"):
        return value
    raise ValueError("'relu' (the default) or 'gelu': PyTorch's layer always has one; leave activation out for relu")


def _check_heads(embed_dim: Size, heads: Size) -> None:
    rest = embed_dim % heads
    if rest != 0 and not is_letters(rest):
        raise Refused(f"embed_dim {size_text(embed_dim)} must be divisible by num_heads {size_text(heads)}; PyTorch refuses it")


def _sequence_shape(argument: str):
    def shape_rule(args, shape):
        if differ(shape[1], args[argument]):
            raise Mismatch(argument, shape[1], "features per step")
        return shape, ""
    return shape_rule


def _attention_parts(e: Size, bias: bool, kdim: Size | None = None, vdim: Size | None = None) -> tuple[Size, Size, str]:
    """Weights, biases and the working of MultiheadAttention(e, ·)."""
    k, v = (e if d is None else d for d in (kdim, vdim))
    same = not (differ(k, e) or differ(v, e))
    weights = 4 * e * e if same else 2 * e * e + e * k + e * v
    biases = 4 * e if bias else 0
    E = size_text(e)
    proj = f"3·{E}·{E}" if same else f"{E}·{E} + {E}·{size_text(k)} + {E}·{size_text(v)}"
    working = f"in_proj {proj}" + (f" + 3·{E}" if bias else "") + f", out_proj {E}·{E}" + (f" + {E}" if bias else "")
    return weights, biases, working


def _attention_count(args) -> Count:
    e = args["embed_dim"]
    _check_heads(e, args["num_heads"])
    weights, biases, working = _attention_parts(e, args["bias"], args["kdim"], args["vdim"])
    if args["add_bias_kv"]:
        biases += 2 * e
        working += f", bias_k, bias_v 2·{size_text(e)}"
    return count(weights, biases, working)


def _encoder_count(args) -> Count:
    d, f, bias = args["d_model"], args["dim_feedforward"], args["bias"]
    _check_heads(d, args["nhead"])
    attention_weights, attention_biases, _ = _attention_parts(d, bias)
    weights = attention_weights + 2 * d * f + 2 * d
    biases = attention_biases + (f + d + 2 * d if bias else 0)
    D, F = size_text(d), size_text(f)
    plus_d, plus_f = (f" + {text}" if bias else "" for text in (D, F))
    working = (f"self_attn {num_text(attention_weights + attention_biases)}, linear1 {D}·{F}{plus_f}, "
               f"linear2 {F}·{D}{plus_d}, norm1 and norm2 2·({D}{plus_d})")
    return count(weights, biases, working)


_NOTE_ATTENTION = ("nn.MultiheadAttention is counted as self-attention, attn(x, x, x); it returns (output, weights), "
                   "and the shapes follow output.")
_NOTE_ENCODER = "TransformerEncoderLayer's count does not depend on nhead, activation or norm_first."

ATTENTION_LAYERS = (
    Layer("LayerNorm", (Param("normalized_shape", _normalized_shape), Param("eps", real, 1e-5),
                        Param("elementwise_affine", flag, True), Param("bias", flag, True)),
          shape=_layer_norm_shape, count=_layer_norm_count),
    Layer("MultiheadAttention",
          (Param("embed_dim", positive), Param("num_heads", positive), Param("dropout", probability, 0.0),
           Param("bias", flag, True), Param("add_bias_kv", flag, False), Param("add_zero_attn", flag, False),
           Param("kdim", optional(positive), None), Param("vdim", optional(positive), None),
           Param("batch_first", flag, False)),
          ("L×d",), _sequence_shape("embed_dim"), _attention_count, _NOTE_ATTENTION),
    Layer("TransformerEncoderLayer",
          (Param("d_model", positive), Param("nhead", positive), Param("dim_feedforward", positive, 2048),
           Param("dropout", probability, 0.1), Param("activation", _activation, "relu"),
           Param("layer_norm_eps", real, 1e-5), Param("batch_first", flag, False), Param("norm_first", flag, False),
           Param("bias", flag, True)),
          ("L×d",), _sequence_shape("d_model"), _encoder_count, _NOTE_ENCODER),
)
