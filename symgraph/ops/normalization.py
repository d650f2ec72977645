"""Normalisation layers: layer_norm and batch_norm, each with an affine variant; one factory, one block per layer.

    layer_norm(x, eps=1e-5)        over the last axis (a vector, or each row of a matrix), as torch's LayerNorm
    layer_norm(x, γ, β, eps=1e-5)  x̂ ⊙ γ + β with γ, β of the last axis' size (elementwise_affine)
    batch_norm(X, eps=1e-5)        over the batch axis 0 (each column of N×C, or a vector of N), training mode:
                                   the batch's own mean and biased variance, as torch's BatchNorm1d
    batch_norm(X, γ, β, eps=1e-5)  with γ, β of one sample's shape (C, or scalars for a vector)

x̂ = (x − μ)/σ with σ = √(var + eps) per normalised group. The backward rule, per group of n entries, with
d = ḡ ⊙ γ (ḡ without affine):  ∂L/∂x = (d − mean(d) − x̂ ⊙ mean(d ⊙ x̂))/σ,  ∂L/∂γ = Σ ḡ ⊙ x̂,  ∂L/∂β = Σ ḡ.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from symgraph.ops.reductions import spread_back
from symgraph.ops.tensor import HEADS, Shape, need, object_array, shape_text, tensor_op, total

__all__: list[str] = []

_EPS = (("eps", 1e-5),)


def _normalize(x, eps, axis: int):
    x = np.asarray(x, dtype=float)
    centred = x - np.mean(x, axis=axis, keepdims=True)
    return centred / np.sqrt(np.mean(centred * centred, axis=axis, keepdims=True) + eps)


def _layer(name: str, batch: bool) -> None:
    """`name` (normalising the last axis, or axis 0 when `batch`) and its affine variant `name`_affine."""
    what = "the batch axis 0 of N×C or of a vector" if batch else "the last axis of a vector or a matrix"

    def stats_axis(shape: Shape) -> int | None:
        """The axis the mean and variance run along, as sum's axis= (None: every entry of a vector)."""
        return None if len(shape) == 1 else (0 if batch else 1)

    def gain_shape(shape: Shape) -> Shape:
        return shape[1:] if batch else shape[-1:]

    def check(x: Shape, eps) -> None:
        need(len(x) in (1, 2), f"{name} works over {what}, not shape {shape_text(x)}")
        need(eps > 0, f"{name}: eps must be positive, got {eps}")

    def shape(shapes, params):
        check(shapes[0], params[0])
        return shapes[0]

    def affine_shape(shapes, params):
        x, gain, bias = shapes
        check(x, params[0])
        expected = gain_shape(x)
        for label, s in (("γ", gain), ("β", bias)):
            need(s == expected, f"{name}: x is {shape_text(x)}, so {label} must have shape {shape_text(expected)}, "
                                f"not {shape_text(s)}")
        return x

    axis = 0 if batch else -1

    def forward(x, eps):
        return _normalize(x, eps, axis)

    def forward_affine(x, gain, bias, eps):
        return _normalize(x, eps, axis) * gain + bias

    def spread_gain(gain: sp.Expr, x: Shape) -> sp.Expr:
        return HEADS["outer"](HEADS["ones"](x[0]), gain) if len(x) == 2 else gain

    def input_rule(x: sp.Expr, shape: Shape, eps, d: sp.Expr) -> sp.Expr:
        a = stats_axis(shape)
        mean, var = (HEADS["mean"], HEADS["var"])

        def reduced(e):
            return mean(e) if a is None else mean(e, a)

        epsilon = sp.Rational(repr(eps))
        sigma = sp.sqrt((var(x) if a is None else var(x, a)) + epsilon)
        normalized = HEADS[name](x, epsilon)
        inside = d - spread_back(reduced(d), shape, a) - normalized * spread_back(reduced(d * normalized), shape, a)
        return inside * spread_back(1 / sigma, shape, a)  # (d − mean d − x̂ ⊙ mean(d ⊙ x̂))/σ

    def vjp(shapes, args, params, y, g, position):
        return input_rule(args[0], shapes[0], params[0], g)

    def affine_vjp(shapes, args, params, y, g, position):
        (x, gain, _), shape, eps = args, shapes[0], params[0]
        if position == 0:
            return input_rule(x, shape, eps, g * spread_gain(gain, shape))
        scaled = g * HEADS[name](x, sp.Rational(repr(eps))) if position == 1 else g
        return HEADS["sum"](scaled, 0) if len(shape) == 2 else scaled  # over the rows γ is broadcast along

    def normalized_components(term, x: np.ndarray, eps) -> np.ndarray:
        moved = np.moveaxis(x, axis, -1) if x.ndim == 2 else x[None]
        epsilon = sp.Rational(repr(eps))

        def group(items):
            n = sp.Integer(len(items))
            mu = term("div", total(term, items), n)
            centred = [term("sub", u, mu) for u in items]
            variance = term("div", total(term, [term("pow", c, sp.Integer(2)) for c in centred]), n)
            sigma = term("sqrt", term("add", variance, epsilon))
            return [term("div", c, sigma) for c in centred]

        rows = [group(list(row)) for row in moved]
        out = object_array(moved.shape, lambda i: rows[i[0]][i[1]])
        return np.moveaxis(out, -1, axis) if x.ndim == 2 else out[0]

    def components(term, arrays, params):
        return normalized_components(term, arrays[0], params[0])

    def affine_components(term, arrays, params):
        x, gain, bias = arrays
        normalized = normalized_components(term, x, params[0])
        gains, biases = np.broadcast_to(gain, x.shape), np.broadcast_to(bias, x.shape)
        return object_array(x.shape, lambda i: term("add", term("mul", normalized[i], gains[i]), biases[i]))

    latex_name = name.replace("_", r"\_")

    def notation(style, pieces, params):
        args = [p.text for p in pieces] + ([f"eps={params[0]}"] if params[0] != _EPS[0][1] else [])
        if style == "latex":
            return rf"\operatorname{{{latex_name}}}\left({', '.join(args)}\right)"
        return f"{name}({', '.join(args)})"

    rule = f"{name.replace('_', '-')} rule"
    tensor_op(name, 1, rule=rule, shape=shape, numpy=forward, vjp=vjp, components=components, notation=notation,
              keywords=_EPS, variants=((3, f"{name}_affine"),))
    tensor_op(f"{name}_affine", 3, rule=rule, shape=affine_shape, numpy=forward_affine, vjp=affine_vjp,
              components=affine_components, notation=notation, keywords=_EPS, text=name, callable_=False)


_layer("layer_norm", batch=False)
_layer("batch_norm", batch=True)
