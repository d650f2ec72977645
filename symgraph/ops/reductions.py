"""Reductions and the ops over a last axis: sum, mean, sum_to (a broadcast operand's gradient), softmax, log_softmax, logsumexp, the losses
cross_entropy and mse; one block per op, after the helpers a family of them shares."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sympy as sp

from symgraph.ops.registry import REQUIRED
from symgraph.ops.tensor import (
    HEADS,
    Shape,
    call_notation,
    juxtapose,
    need,
    need_vector,
    object_array,
    scalar_array,
    shape_text,
    tensor_op,
    total,
    transposed,
)

__all__ = ["spread_back", "reduce_shape", "reduce_along"]


def _ones(shape: Shape) -> sp.Expr:
    return HEADS["ones"](*shape)


# --- sum and mean (axis=None: every entry) ------------------------------------------------------------


def reduce_shape(name):
    def shape(shapes, params):
        (a,) = shapes
        axis = params[0] if params else None
        if axis is not None:
            need(0 <= axis < len(a), f"{name}(…, axis={axis}): shape {shape_text(a)} has axes 0 to {len(a) - 1}")
        return () if axis is None else a[:axis] + a[axis + 1 :]

    return shape


def spread_back(g: sp.Expr, shape: Shape, axis: int | None) -> sp.Expr:
    """A reduction's ḡ spread back over the reduced axis of `shape` (𝟙 ḡᵀ for axis 0 of a matrix); from three
    axes on, ḡ given a size-1 axis there and broadcast, reshape(ḡ, C, 1, W) ⊙ 𝟙 for axis 1 of C×H×W."""
    outer = HEADS["outer"]
    if axis is None or len(shape) == 1:
        return g * _ones(shape)
    if len(shape) > 2:
        return HEADS["reshape"](g, *shape[:axis], 1, *shape[axis + 1 :]) * _ones(shape)
    return outer(_ones(shape[:1]), g) if axis == 0 else outer(g, _ones(shape[1:]))


def _reduction_vjp(scale: Callable[[Shape, int | None], sp.Expr]):
    """ḡ spread back over the summed axis, times the mean's 1/n."""

    def vjp(shapes, args, params, y, g, position):
        (shape,) = shapes
        axis = params[0] if params else None
        return spread_back(g, shape, axis) * scale(shape, axis)

    return vjp


def _sum_components(mean: bool):
    def components(term, arrays, params):
        (x,) = arrays
        axis = params[0] if params else None
        scale = x.size if axis is None else x.shape[axis]

        def reduce(items):
            summed = total(term, items)
            return term("div", summed, sp.Integer(scale)) if mean else summed

        return reduce_along(x, axis, reduce)

    return components


def reduce_along(x: np.ndarray, axis: int | None, reduce: Callable[[np.ndarray], object]) -> np.ndarray | object:
    """Components of a reduction: `reduce` of every entry (axis None, in row-major order) or of each line along the axis."""
    if axis is None:
        return reduce(x.ravel())
    moved = np.moveaxis(x, axis, -1)
    return object_array(moved.shape[:-1], lambda i: reduce(moved[i]))


tensor_op("sum", 1, rule="sum rule", shape=reduce_shape("sum"), numpy=lambda x, axis=None: np.sum(x, axis=axis),
          vjp=_reduction_vjp(lambda shape, axis: sp.Integer(1)), components=_sum_components(False),
          notation=call_notation("sum", keywords=("axis",)), keywords=(("axis", None),))

tensor_op("mean", 1, rule="mean rule", shape=reduce_shape("mean"), numpy=lambda x, axis=None: np.mean(x, axis=axis),
          vjp=_reduction_vjp(lambda shape, axis: sp.Rational(1, int(np.prod(shape)) if axis is None else shape[axis])),
          components=_sum_components(True), notation=call_notation("mean", keywords=("axis",)),
          keywords=(("axis", None),))


# --- sum_to(X, *shape): X summed over the axes a broadcast spread an operand of that shape along ---------------


def _sum_to_axes(shape: Shape, target: Shape) -> tuple[int, ...]:
    """The axes of `shape` that broadcasting `target` to it added (leading) or stretched (size 1)."""
    lead = len(shape) - len(target)
    return tuple(range(lead)) + tuple(lead + i for i, n in enumerate(target) if n == 1 and shape[lead + i] != 1)


def _sum_to_shape(shapes, params):
    (a,), target = shapes, tuple(params)
    fits = len(target) <= len(a) and all(n in (1, m) for n, m in zip(reversed(target), reversed(a)))
    need(fits, f"sum_to: shape {shape_text(a)} is not a broadcast of shape {shape_text(target)}")
    return target


def _sum_to_components(term, arrays, params):
    (x,), target = arrays, tuple(params)
    lead = x.ndim - len(target)
    groups: dict[tuple, list] = {}
    for index in np.ndindex(*x.shape):
        groups.setdefault(tuple(0 if n == 1 else i for i, n in zip(index[lead:], target)), []).append(x[index])
    return object_array(target, lambda t: total(term, groups[t]))


def _sum_to_notation(style, pieces, params):
    """Σ over rows as a textbook writes it: δᵀ𝟙 for a row vector's gradient, δ𝟙 for a column's; else the call."""
    (x,), ones = pieces, {"latex": r"\mathbf{1}", "unicode": "𝟙"}.get(style)
    if ones is not None and x.ndim == 2 and len(params) == 1:
        return juxtapose(transposed(x, style), ones, style)
    if ones is not None and x.ndim == 2 and len(params) == 2 and params[1] == 1:
        return juxtapose(x.wrapped, ones, style)
    return call_notation("sum_to", keywords=("*",))(style, pieces, params)


tensor_op("sum_to", 1, rule="broadcast-sum rule", shape=_sum_to_shape,
          numpy=lambda x, *target: np.reshape(np.sum(x, axis=_sum_to_axes(np.shape(x), target)), target),
          vjp=lambda shapes, args, params, y, g, position: g * _ones(shapes[0]), components=_sum_to_components,
          notation=_sum_to_notation, keywords=(("*", None),), internal=True)


# --- over the last axis of a vector or of each row of a matrix ---------------------------------------------


def _last_axis_shape(name, reduce: bool):
    def shape(shapes, params):
        (a,) = shapes
        rows = f"; index the tensor first ({name}(X[0])) or make its last axis rows ({name}(reshape(X, {int(np.prod(a[:-1]))}, "
        need(len(a) in (1, 2), f"{name} works over the last axis of a vector or a matrix, not shape {shape_text(a)}"
                               + (f"{rows}{a[-1]})))" if len(a) > 2 else ""))
        return a[:-1] if reduce else a

    return shape


def _rows(vector: sp.Expr, shape: Shape) -> sp.Expr:
    """A per-row quantity (one entry per row of a matrix) spread along the rows; a scalar for a vector."""
    return vector if len(shape) == 1 else HEADS["outer"](vector, _ones(shape[1:]))


def _row_sums(expr: sp.Expr, shape: Shape) -> sp.Expr:
    return HEADS["sum"](expr) if len(shape) == 1 else HEADS["sum"](expr, 1)


def _rowwise(entry: Callable | None):
    """Components over the last axis: `entry(term, u, lse)` per entry with its row's logsumexp (None: one per row)."""

    def components(term, arrays, params):
        x = arrays[0]
        rows = x if x.ndim == 2 else x[None, :]
        lse = [term("logsumexp", *row) for row in rows]
        if entry is None:
            out = object_array((len(rows),), lambda i: lse[i[0]])
        else:
            out = object_array(rows.shape, lambda ij: entry(term, rows[ij], lse[ij[0]]))
        return out if x.ndim == 2 else out[0]

    return components


def _logsumexp(z):
    m = np.max(z, axis=-1, keepdims=True)
    return np.squeeze(m, -1) + np.log(np.sum(np.exp(z - m), axis=-1))


# --- softmax: p = exp(z − logsumexp z) ----------------------------------------------------------------------


def _softmax(z):
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def _softmax_vjp(shapes, args, params, y, g, position):
    (shape,) = shapes
    return y * (g - _rows(_row_sums(y * g, shape), shape))  # p ⊙ (ḡ − (pᵀḡ)𝟙)


def _softmax_jacobian(shapes, args, params, y, position):
    """∂p/∂z = diag(p) − p pᵀ for a vector z."""
    return HEADS["diag"](y) - HEADS["outer"](y, y) if len(shapes[0]) == 1 else None


tensor_op("softmax", 1, rule="softmax rule", shape=_last_axis_shape("softmax", False), numpy=_softmax,
          vjp=_softmax_vjp, components=_rowwise(lambda term, u, lse: term("exp", term("sub", u, lse))),
          notation=call_notation("softmax"), jacobian=_softmax_jacobian)


# --- log_softmax: z − logsumexp z ---------------------------------------------------------------------------


def _log_softmax_vjp(shapes, args, params, y, g, position):
    (shape,) = shapes
    return g - HEADS["softmax"](args[0]) * _rows(_row_sums(g, shape), shape)  # ḡ − p (𝟙ᵀḡ)


tensor_op("log_softmax", 1, rule="log-softmax rule", shape=_last_axis_shape("log_softmax", False),
          numpy=lambda z: z - _logsumexp(z)[..., None], vjp=_log_softmax_vjp,
          components=_rowwise(lambda term, u, lse: term("sub", u, lse)), notation=call_notation("log_softmax"))


# --- logsumexp of a tensor: programs write logsumexp(z), and a tensor operand makes it this reduction --------


tensor_op("reduce_logsumexp", 1, rule="log-sum-exp rule", shape=_last_axis_shape("logsumexp", True),
          numpy=_logsumexp, vjp=lambda shapes, args, params, y, g, position: _rows(g, shapes[0]) * HEADS["softmax"](args[0]),
          components=_rowwise(None), notation=call_notation("logsumexp"), text="logsumexp", callable_=False)


# --- cross_entropy(z, target=k) = logsumexp z − z[k] ------------------------------------------------------------


def _cross_entropy_shape(shapes, params):
    (a,) = shapes
    need_vector("cross_entropy", a)
    (k,) = params
    need(0 <= k < a[0], f"cross_entropy: class {k} of {a[0]} logits; use 0 to {a[0] - 1} (0-based)")
    return ()


def _cross_entropy_vjp(shapes, args, params, y, g, position):
    (shape,) = shapes
    return g * (HEADS["softmax"](args[0]) - HEADS["onehot"](params[0], shape[0]))  # p − e_y


def _cross_entropy_components(term, arrays, params):
    (z,), (k,) = arrays, params
    return scalar_array(term("sub", term("logsumexp", *z), z[k]))


tensor_op("cross_entropy", 1, rule="cross-entropy rule", shape=_cross_entropy_shape,
          numpy=lambda z, k: _logsumexp(z) - z[k], vjp=_cross_entropy_vjp, components=_cross_entropy_components,
          notation=call_notation("cross_entropy", "CE", keywords=("target",)), keywords=(("target", REQUIRED),))


# --- mse(a, b): the mean of (a − b)² ---------------------------------------------------------------------------


def _mse_shape(shapes, params):
    a, b = shapes
    need(a == b, f"mse: shapes {shape_text(a)} and {shape_text(b)} differ")
    return ()


def _mse_vjp(shapes, args, params, y, g, position):
    a, b = args
    n = int(np.prod(shapes[0]))
    sign = 1 if position == 0 else -1
    return sign * sp.Rational(2, n) * g * (a - b)


def _mse_components(term, arrays, params):
    a, b = arrays
    squares = [term("pow", term("sub", u, v), sp.Integer(2)) for u, v in zip(a.ravel(), b.ravel())]
    return scalar_array(term("div", total(term, squares), sp.Integer(a.size)))


tensor_op("mse", 2, rule="mean-squared-error rule", shape=_mse_shape, numpy=lambda a, b: np.mean((a - b) ** 2),
          vjp=_mse_vjp, components=_mse_components, notation=call_notation("mse"))
