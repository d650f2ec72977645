"""Ops that move entries without arithmetic (concat, slice, index, flatten, reshape) and the constant tensors
their gradients and the reductions' are written with (ones, zeros, onehot); one block per op."""

from __future__ import annotations

import numpy as np
import sympy as sp

from symgraph.errors import ShapeError
from symgraph.ops.registry import REQUIRED
from symgraph.ops.tensor import HEADS, call_notation, copying, need, need_vector, object_array, shape_text, tensor_op

__all__: list[str] = []


# --- concat(a, b, …) of vectors ----------------------------------------------------------------------------


def _concat_shape(shapes, params):
    for s in shapes:
        need_vector("concat", s)
    return (sum(s[0] for s in shapes),)


def _concat_vjp(shapes, args, params, y, g, position):
    start = sum(s[0] for s in shapes[:position])
    return HEADS["slice"](g, start, start + shapes[position][0])


tensor_op("concat", -1, rule="concatenation rule", shape=_concat_shape, numpy=lambda *xs: np.concatenate(xs),
          vjp=_concat_vjp, components=copying(lambda arrays, params: np.concatenate(arrays)),
          notation=call_notation("concat"))


# --- slice: x[start:stop] along the first axis --------------------------------------------------------------


def _slice_shape(shapes, params):
    (a,) = shapes
    start, stop = params
    need(len(a) >= 1, f"slice {start}:{stop}: a scalar cannot be sliced")
    need(0 <= start < stop <= a[0], f"slice {start}:{stop} of shape {shape_text(a)}: use 0 ≤ start < stop ≤ {a[0]}")
    return (stop - start,) + a[1:]


def _slice_vjp(shapes, args, params, y, g, position):
    """δ put back in place: concat(0, δ, 0) along the sliced vector."""
    (shape,), (start, stop) = shapes, params
    if len(shape) != 1:
        raise ShapeError(f"differentiating a slice of a {len(shape)}-axis tensor is not supported; slice vectors")
    parts = ([HEADS["zeros"](start)] if start else []) + [g] + ([HEADS["zeros"](shape[0] - stop)] if stop < shape[0] else [])
    return parts[0] if len(parts) == 1 else HEADS["concat"](*parts)


tensor_op("slice", 1, rule="slicing rule", shape=_slice_shape, numpy=lambda x, start, stop: x[start:stop],
          vjp=_slice_vjp, components=copying(lambda arrays, params: arrays[0][params[0]:params[1]]),
          notation=lambda style, pieces, params: f"{pieces[0].wrapped}[{params[0]}:{params[1]}]",
          keywords=(("start", REQUIRED), ("stop", REQUIRED)), callable_=False)  # written x[2:5]


# --- index: x[i], A[i, j] (0-based) -----------------------------------------------------------------------


def _index_shape(shapes, params):
    (a,) = shapes
    need(len(params) <= len(a), f"index {list(params)}: shape {shape_text(a)} has only {len(a)} axes")
    for axis, (i, n) in enumerate(zip(params, a)):
        need(0 <= i < n, f"index {i} on axis {axis} of shape {shape_text(a)}: use 0 to {n - 1} (indices are 0-based)")
    return a[len(params) :]


def _index_vjp(shapes, args, params, y, g, position):
    (shape,) = shapes
    onehot, outer = HEADS["onehot"], HEADS["outer"]
    if len(params) == 1 and len(shape) == 1:
        return g * onehot(shape[0], params[0])
    if len(params) == 1 and len(shape) == 2:
        return outer(onehot(shape[0], params[0]), g)
    if len(params) == 2:
        return g * outer(onehot(shape[0], params[0]), onehot(shape[1], params[1]))
    raise ShapeError(f"differentiating through indexing of a {len(shape)}-axis tensor is not supported")


def _index_notation(style, pieces, params):
    (x,) = pieces
    inside = ", ".join(map(str, params))
    return rf"{x.wrapped}\left[{inside}\right]" if style == "latex" else f"{x.wrapped}[{inside}]"


tensor_op("index", 1, rule="indexing rule", shape=_index_shape, numpy=lambda x, *i: x[tuple(i)], vjp=_index_vjp,
          components=copying(lambda arrays, params: arrays[0][tuple(params)]), notation=_index_notation,
          keywords=(("*", None),))


# --- flatten and reshape: the same entries in row-major order; the gradient is reshaped back ----------------


def _reshape_back(shapes, args, params, y, g, position):
    return HEADS["reshape"](g, *shapes[0])


tensor_op("flatten", 1, rule="flatten rule", shape=lambda shapes, params: (int(np.prod(shapes[0])),),
          numpy=lambda x: np.reshape(x, -1), vjp=_reshape_back,
          components=copying(lambda arrays, params: arrays[0].ravel()), notation=call_notation("flatten"))


def _reshape_shape(shapes, params):
    (a,) = shapes
    need(int(np.prod(a)) == int(np.prod(params)), f"reshape of {shape_text(a)} to {shape_text(tuple(params))}")
    return tuple(params)


tensor_op("reshape", 1, rule="reshape rule", shape=_reshape_shape, numpy=lambda x, *dims: np.reshape(x, dims),
          vjp=_reshape_back, components=copying(lambda arrays, params: arrays[0].reshape(params)),
          notation=call_notation("reshape", keywords=("*",)), keywords=(("*", None),))


# --- constants: ones(3, 2) is 𝟙, zeros(3) is 𝟎, onehot(n, k) is e[k] ---------------------------------------


def _filled_shape(shapes, params):
    need(all(p > 0 for p in params), f"ones{tuple(params)}: sizes must be positive")
    return tuple(params)


def _filled(name: str, value: int, fill, unicode: str, latex: str):
    """ones or zeros: `value` in every entry; a symbol in text and LaTeX, the call with its sizes in source form."""

    def notation(style, pieces, params):
        return {"unicode": unicode, "latex": latex, "source": f"{name}({', '.join(map(str, params))})"}[style]

    tensor_op(name, 0, rule=name, shape=_filled_shape, numpy=lambda *dims: fill(dims),
              components=lambda term, arrays, params: object_array(tuple(params), lambda i: sp.Integer(value)),
              notation=notation, keywords=(("*", None),))


_filled("ones", 1, np.ones, "𝟙", r"\mathbf{1}")
_filled("zeros", 0, np.zeros, "𝟎", r"\mathbf{0}")


def _onehot_shape(shapes, params):
    n, k = params
    need(0 <= k < n, f"onehot({n}, {k}): the index must be 0 to {n - 1}")
    return (n,)


def _onehot(n, k):
    e = np.zeros(n)
    e[k] = 1.0
    return e


def _onehot_notation(style, pieces, params):
    n, k = params
    return {"unicode": f"e[{k}]", "latex": rf"e_{{[{k}]}}", "source": f"onehot({n}, {k})"}[style]


tensor_op("onehot", 0, rule="one-hot vector", shape=_onehot_shape, numpy=_onehot,
          components=lambda term, arrays, params: np.array([sp.Integer(int(i == params[1])) for i in range(params[0])], dtype=object),
          notation=_onehot_notation, keywords=(("n", REQUIRED), ("k", REQUIRED)))
