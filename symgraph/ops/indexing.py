"""Ops that move entries without arithmetic (concat, stack, slice, index, flatten, reshape), slice's gradient
unslice, and the constant tensors (ones, zeros, eye, onehot); one block per op."""

from __future__ import annotations

import numpy as np
import sympy as sp

from symgraph.ops.registry import REQUIRED
from symgraph.ops.tensor import HEADS, call_notation, copying, need, object_array, shape_text, tensor_op

__all__: list[str] = []


# --- concat(a, b, …) of scalars and vectors: one vector ----------------------------------------------------


def _length(shape) -> int:
    return shape[0] if shape else 1


def _concat_shape(shapes, params):
    for s in shapes:
        need(len(s) <= 1, f"concat takes scalars and vectors, not a tensor of shape {shape_text(s)}")
    return (sum(_length(s) for s in shapes),)


def _concat_vjp(shapes, args, params, y, g, position):
    start = sum(_length(s) for s in shapes[:position])
    if not shapes[position]:
        return HEADS["index"](g, start)  # a scalar's entry
    return HEADS["slice"](g, start, start + shapes[position][0])


def _concatenate(xs):
    return np.concatenate([np.atleast_1d(x) for x in xs])


tensor_op("concat", -1, rule="concatenation rule", shape=_concat_shape, numpy=lambda *xs: _concatenate(xs),
          vjp=_concat_vjp, components=copying(lambda arrays, params: _concatenate(arrays)),
          notation=call_notation("concat"))


# --- stack(a, b, …) of scalars (a vector) or of vectors of one length (a matrix, one row each) ----------------


def _stack_shape(shapes, params):
    for s in shapes:
        need(len(s) <= 1, f"stack takes scalars or vectors, not a tensor of shape {shape_text(s)}")
    need(len(set(shapes)) == 1, f"stack: shapes {' and '.join(sorted({shape_text(s) for s in shapes}))} differ; "
                                f"stack takes scalars or vectors of one length (concat joins vectors of any length)")
    return (len(shapes), *shapes[0])


tensor_op("stack", -1, rule="stacking rule", shape=_stack_shape, numpy=lambda *xs: np.stack(xs),
          vjp=lambda shapes, args, params, y, g, position: HEADS["index"](g, position),  # row k of ḡ
          components=copying(lambda arrays, params: np.stack(arrays)), notation=call_notation("stack"))


# --- slice: x[start:stop] along the first axis, X[a:b, c:d] along both ---------------------------------------


def _bounds(params) -> list[tuple[int, int]]:
    return list(zip(params[::2], params[1::2]))


def _bounds_text(params) -> str:
    return ", ".join(f"{start}:{stop}" for start, stop in _bounds(params))


def _slice_shape(shapes, params):
    (a,), bounds = shapes, _bounds(params)
    what = f"slice {_bounds_text(params)}"
    need(len(a) >= 1, f"{what}: a scalar cannot be sliced")
    need(len(a) >= len(bounds), f"{what} of shape {shape_text(a)}: it has only {len(a)} ax{'is' if len(a) == 1 else 'es'}")
    for axis, ((start, stop), n) in enumerate(zip(bounds, a)):
        where = f" on axis {axis}" if len(bounds) > 1 else ""
        need(0 <= start < stop <= n, f"{what} of shape {shape_text(a)}: use 0 ≤ start < stop ≤ {n}{where}")
    return tuple(stop - start for start, stop in bounds) + a[len(bounds):]


def _slice_vjp(shapes, args, params, y, g, position):
    """δ put back in place: concat(0, δ, 0) along a sliced vector, unslice(δ) into zeros of a tensor's shape."""
    (shape,) = shapes
    if len(shape) != 1:
        return HEADS["unslice"](g, *params, *shape)
    start, stop = params
    parts = ([HEADS["zeros"](start)] if start else []) + [g] + ([HEADS["zeros"](shape[0] - stop)] if stop < shape[0] else [])
    return parts[0] if len(parts) == 1 else HEADS["concat"](*parts)


def _sliced(x, params):
    return x[tuple(slice(start, stop) for start, stop in _bounds(params))]


tensor_op("slice", 1, rule="slicing rule", shape=_slice_shape, numpy=lambda x, *bounds: _sliced(x, bounds),
          vjp=_slice_vjp, components=copying(lambda arrays, params: _sliced(arrays[0], params)),
          notation=lambda style, pieces, params: f"{pieces[0].wrapped}[{_bounds_text(params)}]",
          keywords=(("*", None),), callable_=False)  # written x[2:5], X[0:2, 1:3]


# --- unslice(δ, bounds…, sizes…): δ placed at the slice in zeros of the sliced tensor's shape (slice's gradient) --


def _unslice_parts(params, ndim: int) -> tuple[list, tuple]:
    """(bounds, sizes): k slices of the n-axis tensor δ is placed in give 2k + n parameters, the sizes last."""
    return list(params[: len(params) - ndim]), tuple(params[len(params) - ndim:])


def _unslice_shape(shapes, params):
    (delta,) = shapes
    bounds, sizes = _unslice_parts(params, len(delta))
    need(len(delta) >= 1 and len(bounds) % 2 == 0 and 0 < len(bounds) <= 2 * len(delta),
         f"unslice(δ, start, stop[, start, stop …], sizes…): δ of shape {shape_text(delta)} "
         f"needs {len(delta)} size{'s' if len(delta) > 1 else ''} after the bounds")
    expected = _slice_shape([sizes], bounds)
    need(expected == delta, f"unslice: slice {_bounds_text(bounds)} of {shape_text(sizes)} is {shape_text(expected)}, "
                            f"but the gradient is {shape_text(delta)}")
    return sizes


def _unsliced(delta, params, zeros):
    bounds, sizes = _unslice_parts(params, np.ndim(delta))
    out = zeros(sizes)
    out[tuple(slice(start, stop) for start, stop in _bounds(bounds))] = delta
    return out


def _unslice_notation(style, pieces, params):
    if style == "source" or pieces[0].ndim is None:  # without shapes the sizes cannot be told from the bounds
        return f"unslice({pieces[0]}, {', '.join(map(str, params))})"
    bounds, sizes = _unslice_parts(params, pieces[0].ndim)
    return f"unslice({pieces[0]}; [{_bounds_text(bounds)}] of {shape_text(sizes)})"


tensor_op("unslice", 1, rule="slice's gradient (δ in zeros)", shape=_unslice_shape,
          numpy=lambda delta, *params: _unsliced(delta, params, np.zeros),
          components=lambda term, arrays, params: _unsliced(arrays[0], params, lambda s: object_array(s, lambda i: sp.Integer(0))),
          notation=_unslice_notation, keywords=(("*", None),), internal=True)


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
        return g * onehot(params[0], shape[0])
    if len(params) == 1 and len(shape) == 2:
        return outer(onehot(params[0], shape[0]), g)
    if len(shape) == 2:
        return g * outer(onehot(params[0], shape[0]), onehot(params[1], shape[1]))
    # From three axes on: δ with a size-1 axis for each index, put in place in zeros (as slicing's gradient).
    bounds = [b for i in params for b in (i, i + 1)]
    return HEADS["unslice"](HEADS["reshape"](g, *(1,) * len(params), *shape[len(params):]), *bounds, *shape)


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


# --- constants: ones(3, 2) is 𝟙, zeros(3) is 𝟎, onehot(k, n) is e[k] ---------------------------------------


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
    k, n = params
    need(0 <= k < n, f"onehot({k}, {n}): the index k must be 0 to {n - 1} (onehot(k, n) is 1 at index k of n entries,"
                     " as PyTorch's one_hot(k, n))")
    return (n,)


def _onehot(k, n):
    e = np.zeros(n)
    e[k] = 1.0
    return e


def _onehot_notation(style, pieces, params):
    k, n = params
    return {"unicode": f"e[{k}]", "latex": rf"e_{{[{k}]}}", "source": f"onehot({k}, {n})"}[style]


def _eye_notation(style, pieces, params):
    (n,) = params
    return {"unicode": f"I{str(n).translate(_SUBSCRIPTS)}", "latex": rf"I_{{{n}}}", "source": f"eye({n})"}[style]


_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")

def _eye_shape(shapes, params):
    (n,) = params
    need(n > 0, f"eye({n}): the size must be positive")
    return (n, n)


tensor_op("eye", 0, rule="identity matrix", shape=_eye_shape,
          numpy=lambda n: np.eye(n),
          components=lambda term, arrays, params: object_array((params[0],) * 2, lambda ij: sp.Integer(int(ij[0] == ij[1]))),
          notation=_eye_notation, keywords=(("n", REQUIRED),))


tensor_op("onehot", 0, rule="one-hot vector", shape=_onehot_shape, numpy=_onehot,
          components=lambda term, arrays, params: np.array([sp.Integer(int(i == params[0])) for i in range(params[1])], dtype=object),
          notation=_onehot_notation, keywords=(("k", REQUIRED), ("n", REQUIRED)))
