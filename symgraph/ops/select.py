"""Selection: forward-only integer results (argmax, argmin, argsort, topk_indices), indexing by them (X[k],
onehot(k, n)) and the ops that select entries by value (sort, topk); one block per op.

An integer op's node holds indices, a forward value (floats that are whole numbers, as NumPy's
argmax gives them once stored in a float array). It drives the rest of the program, as greedy
decoding's `w = E[argmax(o)]` and a DQN's `q[argmax(q)]` do, and no gradient flows through it: it
is constant wherever the choice does not change. A gradient through a selection flows to the
entries it selects: for w = E[k], ∂L/∂E = e[k] ∂L/∂wᵀ, with e[k] = onehot(k, n) evaluated at the
index node's value, and nothing to k. sort(x) and topk(x, k) are x indexed by argsort(x) and by
topk_indices(x, k), so their rules are Pᵀ ḡ with P = onehot(indices, n), a permutation (or the
first k rows of one).

Components (the scalar expansion of symgraph.verify.scalarize) take an index from the forward pass,
as every integer node is a constant there; sort and topk are written as a network of compare-exchanges
instead, max(a, b) = a + relu(b − a), which the scalar engine differentiates independently. An index
op declares its choice (`selects`), so the tensor check reports a tie that a step moves.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from symgraph.errors import EvaluationError
from symgraph.ops.registry import REQUIRED
from symgraph.ops.tensor import (
    HEADS,
    call_notation,
    copying,
    need,
    need_vector,
    object_array,
    shape_text,
    tensor_op,
)

__all__: list[str] = []


# --- argmax and argmin (axis=None: the flat index, as NumPy) --------------------------------------------------


def _arg_shape(name):
    def shape(shapes, params):
        (a,) = shapes
        need(len(a) >= 1, f"{name} of a scalar: give a vector or a matrix")
        if not params:
            return ()
        (axis,) = params
        need(axis < len(a), f"{name}(…, axis={axis}): shape {shape_text(a)} has axes 0 to {len(a) - 1}")
        return a[:axis] + a[axis + 1 :]

    return shape


def _arg(choose):
    """argmax or argmin as NumPy computes it (the first on a tie), as floats."""
    return lambda x, *params: np.asarray(choose(x, axis=params[0] if params else None), dtype=float)


for _name, _choose in (("argmax", np.argmax), ("argmin", np.argmin)):
    tensor_op(_name, 1, rule=_name, shape=_arg_shape(_name), numpy=_arg(_choose),
              notation=call_notation(_name, keywords=("axis",)), keywords=(("axis", None),), selects=_arg(_choose),
              integer=True)


# --- argsort(x) and topk_indices(x, k): the order of a vector's entries ---------------------------------------


def _argsort(x):
    return np.argsort(x, kind="stable").astype(float)


def _topk_indices(x, k):
    """The indices of the k largest entries, largest first; of equal entries the first index first."""
    return np.argsort(-np.asarray(x), kind="stable")[:k].astype(float)


def _order_shape(name):
    def shape(shapes, params):
        need_vector(name, shapes[0])
        return shapes[0]

    return shape


def _topk_shape(name):
    def shape(shapes, params):
        (a,), (k,) = shapes, params
        need_vector(name, a)
        need(1 <= k <= a[0], f"{name}(…, k={k}) of a vector of {a[0]} entries: use k = 1 to {a[0]}")
        return (k,)

    return shape


tensor_op("argsort", 1, rule="argsort", shape=_order_shape("argsort"), numpy=_argsort, notation=call_notation("argsort"),
          selects=_argsort, integer=True)

tensor_op("topk_indices", 1, rule="top-k indices", shape=_topk_shape("topk_indices"), numpy=_topk_indices,
          notation=call_notation("topk_indices", keywords=("k",)), keywords=(("k", REQUIRED),), selects=_topk_indices,
          integer=True)


# --- onehot(k, n) of a computed index: e[k], or one row e[k_i] per index of a vector k ----------------------


def _indices(k, n: int, what: str) -> np.ndarray:
    """A forward index value as integers, refused when it does not index an axis of size n."""
    k = np.asarray(k, dtype=float)
    if np.any(k != np.round(k)) or np.any(k < 0) or np.any(k >= n):
        bad = k[(k != np.round(k)) | (k < 0) | (k >= n)].ravel()[0]
        raise EvaluationError(f"{what}: index {bad:g} for an axis of size {n}; indices are 0 to {n - 1}")
    return k.astype(int)


def _onehot_shape(shapes, params):
    (k,), (n,) = shapes, params
    need(len(k) <= 1, f"onehot(k, {n}) takes an index or a vector of indices, not shape {shape_text(k)}")
    need(n > 0, f"onehot(k, {n}): the size must be positive")
    return k + (n,)


def _onehot(k, n):
    return np.eye(n)[_indices(k, n, f"onehot(k, {n})")]


def _onehot_components(term, arrays, params):
    (k,), (n,) = arrays, params
    chosen = _indices(np.vectorize(float, otypes=[float])(k), n, f"onehot(k, {n})")
    return object_array(chosen.shape + (n,), lambda index: sp.Integer(int(index[-1] == chosen[index[:-1]])))


def _onehot_notation(style, pieces, params):
    (k,) = pieces
    if style == "source" or k.ndim != 0:
        return call_notation("onehot", keywords=("*",))(style, pieces, params)
    return rf"e_{{[{k.text}]}}" if style == "latex" else f"e[{k.text}]"


tensor_op("onehot_at", 1, rule="one-hot vector", shape=_onehot_shape, numpy=_onehot,
          vjp=lambda shapes, args, params, y, g, position: sp.Integer(0), components=_onehot_components,
          notation=_onehot_notation, keywords=(("n", REQUIRED),), text="onehot", callable_=False)  # written onehot(k, n)


# --- take: X[k] with k a computed index (a row of a matrix, an entry of a vector; a vector k gathers) ------------


def _take_shape(shapes, params):
    x, k = shapes
    need(len(x) in (1, 2), f"indexing by a computed index takes a vector or a matrix, not shape {shape_text(x)}; "
                               f"index by integers first (X[0][k])")
    need(len(k) <= 1, f"an index of shape {shape_text(k)}: index by one integer or a vector of them")
    return k + x[1:]


def _take_vjp(shapes, args, params, y, g, position):
    """δ back to the selected entries: ḡ e[k] (an entry), e[k] ḡᵀ (a row), Pᵀ ḡ with P = onehot(k, n) (a gather)."""
    (x, k), (_, index) = shapes, args
    if position == 1:
        return sp.Integer(0)  # an index is a forward value: nothing flows to it
    chosen = HEADS["onehot_at"](index, x[0])
    if k:
        return HEADS["matmul"](HEADS["transpose"](chosen), g)
    return g * chosen if len(x) == 1 else HEADS["outer"](chosen, g)


def _take_components(arrays, params):
    x, k = arrays
    return x[_indices(np.vectorize(float, otypes=[float])(k), x.shape[0], "indexing")]


def _take_notation(style, pieces, params):
    x, k = pieces
    return rf"{x.wrapped}\left[{k.text}\right]" if style == "latex" else f"{x.wrapped}[{k.text}]"


tensor_op("take", 2, rule="indexing rule", shape=_take_shape,
          numpy=lambda x, k: np.asarray(x)[_indices(k, np.shape(x)[0], "indexing")], vjp=_take_vjp,
          components=copying(_take_components), notation=_take_notation, callable_=False)  # written X[k]


# --- sort(x) ascending and topk(x, k) largest first: x indexed by argsort(x), by topk_indices(x, k) --------------


def _exchange(term, a, b):
    """(max(a, b), min(a, b)) as max = a + relu(b − a), min = a − relu(a − b)."""
    return term("add", a, term("relu", term("sub", b, a))), term("sub", a, term("relu", term("sub", a, b)))


def _selected(term, entries, count: int, largest: bool) -> list:
    """The `count` largest (or smallest) entries in order, one bubbling pass of compare-exchanges each."""
    rest, chosen = list(entries), []
    for _ in range(count):
        for i in range(len(rest) - 1):
            high, low = _exchange(term, rest[i], rest[i + 1])
            rest[i], rest[i + 1] = (low, high) if largest else (high, low)
        chosen.append(rest.pop())
    return chosen


def _by_value(name: str, indices: str, choose, numpy, largest: bool, shape, keywords=()):
    """sort or topk: x[indices(x)] with the rule Pᵀ ḡ, components by compare-exchanges; `choose` computes the indices."""

    def vjp(shapes, args, params, y, g, position):
        chosen = HEADS[indices](args[0], *params)
        return HEADS["matmul"](HEADS["transpose"](HEADS["onehot_at"](chosen, shapes[0][0])), g)  # Pᵀ ḡ

    def components(term, arrays, params):
        (x,) = arrays
        count = params[0] if params else x.shape[0]
        return np.array(_selected(term, x, count, largest), dtype=object)

    tensor_op(name, 1, rule=f"{name} rule", shape=shape, numpy=numpy, vjp=vjp, components=components,
              notation=call_notation(name, keywords=tuple(k for k, _ in keywords)), keywords=keywords,
              selects=choose)


_by_value("sort", "argsort", _argsort, np.sort, False, _order_shape("sort"))
_by_value("topk", "topk_indices", _topk_indices, lambda x, k: np.asarray(x)[_topk_indices(x, k).astype(int)], True,
          _topk_shape("topk"), keywords=(("k", REQUIRED),))
