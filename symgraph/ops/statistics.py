"""Norms, spread and the binary cross-entropy: norm, var, std, bce; one block per op.

norm(x) is the L2 norm ‖x‖ = √(Σ x²) of all entries (Frobenius for a matrix), norm(x, 1) the sum of
absolute values ‖x‖₁ (of all entries, as torch.norm(x, p=1); not NumPy's matrix 1-norm). var and std
are NumPy's, with ddof = 0 (the mean of squared deviations), over all entries or along axis=k as
sum and mean. bce(p, y) is PyTorch's BCELoss: the mean over entries of −(y log p + (1 − y) log(1 − p)).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from symgraph.ops.reductions import reduce_along, reduce_shape, spread_back
from symgraph.ops.tensor import HEADS, call_notation, need, scalar_array, shape_text, tensor_op, total

__all__: list[str] = []


# --- norm(x) = ‖x‖ and norm(x, 1) = ‖x‖₁ ------------------------------------------------------------------


def _norm_shape(shapes, params):
    (order,) = params
    need(order in (1, 2), f"norm(x, {order}): use norm(x) for the L2 norm or norm(x, 1) for the L1 norm")
    return ()


def _norm(x, order):
    x = np.asarray(x, dtype=float)
    return np.sum(np.abs(x)) if order == 1 else np.sqrt(np.sum(x * x))


def _norm_vjp(shapes, args, params, y, g, position):
    (x,), (order,) = args, params
    return g * sp.sign(x) if order == 1 else g * x / y  # ḡ sign(x);  ḡ x/‖x‖


def _norm_components(term, arrays, params):
    entries, (order,) = arrays[0].ravel(), params
    if order == 1:
        return scalar_array(total(term, (term("abs", u) for u in entries)))
    return scalar_array(term("sqrt", total(term, (term("pow", u, sp.Integer(2)) for u in entries))))


def _norm_notation(style, pieces, params):
    (x,), (order,) = pieces, params
    if style == "source":
        return f"norm({x})" if order == 2 else f"norm({x}, 1)"
    if style == "latex":
        return rf"\left\lVert {x} \right\rVert" + ("_1" if order == 1 else "")
    return f"‖{x}‖" + ("₁" if order == 1 else "")


tensor_op("norm", 1, rule="norm rule", shape=_norm_shape, numpy=_norm, vjp=_norm_vjp, components=_norm_components,
          notation=_norm_notation, keywords=(("ord", 2),),
          kinks_at=lambda operands: [(0, sp.Integer(0), "where an entry of x is 0")] if operands[1] == 1 else [],
          kink_note="|u|′(0) = sign(0) = 0, the minimum-norm subgradient")


# --- var(x) and std(x): ddof = 0, over all entries or along an axis ------------------------------------------


def _centred(x: sp.Expr, shape, axis) -> sp.Expr:
    """x − mean(x), the mean spread back over the reduced axis."""
    mean = HEADS["mean"](x) if axis is None else HEADS["mean"](x, axis)
    return x - spread_back(mean, shape, axis)


def _count(shape, axis) -> int:
    return int(np.prod(shape)) if axis is None else shape[axis]


def _spread_components(root: bool):
    def components(term, arrays, params):
        (x,) = arrays
        axis = params[0] if params else None
        n = sp.Integer(x.size if axis is None else x.shape[axis])

        def reduce(items):
            mean = term("div", total(term, items), n)
            squares = [term("pow", term("sub", u, mean), sp.Integer(2)) for u in items]
            variance = term("div", total(term, squares), n)
            return term("sqrt", variance) if root else variance

        return reduce_along(x, axis, reduce)

    return components


def _var_vjp(shapes, args, params, y, g, position):
    (shape,), axis = shapes, (params[0] if params else None)
    return spread_back(g, shape, axis) * _centred(args[0], shape, axis) * sp.Rational(2, _count(shape, axis))


def _std_vjp(shapes, args, params, y, g, position):
    (shape,), axis = shapes, (params[0] if params else None)
    return spread_back(g / y, shape, axis) * _centred(args[0], shape, axis) / _count(shape, axis)  # (x − μ)/(n σ)


tensor_op("var", 1, rule="variance rule", shape=reduce_shape("var"), numpy=lambda x, axis=None: np.var(x, axis=axis),
          vjp=_var_vjp, components=_spread_components(False), notation=call_notation("var", keywords=("axis",)),
          keywords=(("axis", None),))

tensor_op("std", 1, rule="standard-deviation rule", shape=reduce_shape("std"),
          numpy=lambda x, axis=None: np.std(x, axis=axis), vjp=_std_vjp, components=_spread_components(True),
          notation=call_notation("std", keywords=("axis",)), keywords=(("axis", None),))


# --- bce(p, y): the mean of −(y log p + (1 − y) log(1 − p)) ---------------------------------------------------


def _bce_shape(shapes, params):
    a, b = shapes
    need(a == b, f"bce: the probabilities p have shape {shape_text(a)} but the targets y have shape {shape_text(b)}")
    return ()


def _bce(p, y):
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    return -np.mean(y * np.log(p) + (1 - y) * np.log1p(-p))


def _bce_vjp(shapes, args, params, y, g, position):
    p, target = args
    n = int(np.prod(shapes[0]))
    if position == 0:
        return g * (p - target) / (p * (1 - p)) / n  # ḡ (p − y)/(p(1 − p)n)
    return g * (sp.log(1 - p) - sp.log(p)) / n


def _bce_components(term, arrays, params):
    p, target = (a.ravel() for a in arrays)
    one = sp.Integer(1)
    losses = [term("add", term("mul", t, term("log", u)), term("mul", term("sub", one, t), term("log", term("sub", one, u))))
              for u, t in zip(p, target)]
    return scalar_array(term("neg", term("div", total(term, losses), sp.Integer(len(losses)))))


tensor_op("bce", 2, rule="binary-cross-entropy rule", shape=_bce_shape, numpy=_bce, vjp=_bce_vjp,
          components=_bce_components, notation=call_notation("bce", "BCE"), pole=lambda operands: 0,
          domain="bce needs probabilities strictly between 0 and 1")
