"""max(X) and min(X) of one tensor: the reductions reduce_max, reduce_min and their gradient masks; one block per op.

max(X) is the largest entry, max(X, axis=k) the largest along axis k (as NumPy's np.max; a call with
two or more arguments is the elementwise max of symgraph.ops.elementwise). The gradient goes to the
arg-max: ∂L/∂X = ḡ ⊙ max_mask(X), the 0/1 tensor with a 1 at each maximum (ḡ spread back over the
reduced axis as for sum). On a tie the first maximum in row-major order takes all of it (NumPy's
argmax, as max pooling does); the components agree, max(max(x₀, x₁), x₂) with the step at 0 taken as 0.
Where the arg-max changes within the check's step the tensor check reports a tie, like relu's kink.
"""

from __future__ import annotations

import numpy as np

from symgraph.ops.reductions import reduce_along, reduce_shape, spread_back
from symgraph.ops.tensor import HEADS, call_notation, tensor_op

__all__: list[str] = []

_AXIS = (("axis", None),)


def _axis(params) -> int | None:
    return params[0] if params else None


def _mask(choose):
    """The 0/1 tensor of the first extreme entry (over all entries, or along the axis)."""

    def mask(x, axis=None):
        x = np.asarray(x, dtype=float)
        if axis is None:
            out = np.zeros(x.size)
            out[choose(x.ravel())] = 1.0
            return out.reshape(x.shape)
        index = np.expand_dims(choose(x, axis=axis), axis)
        out = np.zeros_like(x)
        np.put_along_axis(out, index, 1.0, axis=axis)
        return out

    return mask


def _extreme(kind: str, reduce, choose) -> None:
    """reduce_{kind}(X[, axis]) and its mask {kind}_mask(X[, axis]); kind is max or min."""
    mask_name = f"{kind}_mask"

    def vjp(shapes, args, params, y, g, position):
        return spread_back(g, shapes[0], _axis(params)) * HEADS[mask_name](args[0], *params)  # ḡ ⊙ 1[arg-max]

    def components(term, arrays, params):
        def fold(items):
            best = items[0]
            for item in items[1:]:  # max(m, v): on a tie the step at 0 keeps the first
                best = term(kind, best, item)
            return best

        return reduce_along(arrays[0], _axis(params), fold)

    def selects(x, axis=None):
        return choose(np.asarray(x), axis=axis)

    tensor_op(f"reduce_{kind}", 1, rule=f"{kind} rule (the gradient to the arg-{kind})", shape=reduce_shape(kind),
              numpy=lambda x, axis=None: reduce(x, axis=axis), vjp=vjp, components=components,
              notation=call_notation(kind, keywords=("axis",)), keywords=_AXIS, text=kind, callable_=False,
              selects=selects)

    def mask_shape(shapes, params):
        reduce_shape(kind)(shapes, params)  # the axis must be one of the tensor's
        return shapes[0]

    tensor_op(mask_name, 1, rule=f"arg-{kind} mask", shape=mask_shape, numpy=_mask(choose),
              notation=call_notation(mask_name, keywords=("axis",)), keywords=_AXIS, internal=True)

_extreme("max", np.max, np.argmax)
_extreme("min", np.min, np.argmin)
