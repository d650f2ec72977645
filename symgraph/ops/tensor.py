"""Tensor ops: for each, its shape rule, NumPy, its vector-Jacobian rule in matrix notation, and its components.

A tensor op's node reads its tensor operands first, then integer parameters (axis, index,
stride) stored as constants. Its `vjp` writes ∂L/∂operand from the output's adjoint ḡ as a
SymPy expression over tensor symbols, in the notation of a textbook: for y = W h,
∂L/∂W = ḡ hᵀ and ∂L/∂h = Wᵀ ḡ. Products of tensor symbols in those expressions are
elementwise (⊙), which is why plain SymPy algebra stays valid on them. `components` writes the
op one scalar at a time, so the scalar engine can verify every `vjp` independently.

Scalar primitives (tanh, +, · …) apply elementwise to tensors; they stay in symgraph.ops,
and broadcasting is between a scalar and a tensor only.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import numpy as np
import sympy as sp

from symgraph.errors import ShapeError
from symgraph.ops.registry import OPS, REQUIRED, Op, register

__all__ = ["TENSOR_ENTRIES", "TensorFunction", "shape_text", "broadcast", "REDUCTIONS"]

Shape = tuple[int, ...]


def shape_text(shape: Shape) -> str:
    return "×".join(map(str, shape)) if shape else "scalar"


def broadcast(what: str, shapes: Sequence[Shape]) -> Shape:
    """Elementwise ops take equal shapes, or a scalar with a tensor."""
    tensors = {s for s in shapes if s}
    if len(tensors) > 1:
        listed = " and ".join(shape_text(s) for s in shapes if s)
        raise ShapeError(f"{what}: shapes {listed} do not match (elementwise ops need equal shapes or a scalar)")
    return tensors.pop() if tensors else ()


# --- SymPy citizens ------------------------------------------------------------------------------


class TensorFunction(sp.Function):
    """A tensor op in an expression; printed by its entry's notation in every style."""

    op_name = ""

    def _write(self, printer, style: str) -> str:
        op = OPS[self.op_name]
        arity = op.arity if op.arity >= 0 else len(self.args)
        operands, params = self.args[:arity], [int(p) for p in self.args[arity:]]
        return _NOTATION[self.op_name](style, [_Piece(printer, a, style) for a in operands], params)

    def _symgraph_unicode(self, printer):
        return self._write(printer, "unicode")

    def _latex(self, printer, exp=None):
        text = self._write(printer, "latex")
        return text if exp is None else rf"\left({text}\right)^{{{exp}}}"

    def _sympystr(self, printer):
        return self._write(printer, "source")


class _Piece:
    """An operand as a notation needs it: printed in the style, bracketed when it is not atomic."""

    def __init__(self, printer, expr: sp.Expr, style: str):
        self.expr, self.style = expr, style
        self.text = printer._print(expr)
        shapes = getattr(printer, "shapes", None)  # symgraph's printers know shapes in tensor programs
        self.ndim = len(shapes(expr)) if shapes is not None else None

    @property
    def atomic(self) -> bool:
        e = self.expr
        if e.is_Symbol or e.is_Number:
            return True
        if isinstance(e, TensorFunction):
            return e.op_name not in _JUXTAPOSED
        return e.is_Function

    def __str__(self) -> str:
        return self.text

    @property
    def wrapped(self) -> str:
        if self.atomic:
            return self.text
        return rf"\left({self.text}\right)" if self.style == "latex" else f"({self.text})"


def _juxtapose(left: str, right: str, style: str) -> str:
    if style == "latex":
        return f"{left} {right}"
    return f"{left}{right}" if right.startswith("(") else f"{left} {right}"


def _transposed(piece: _Piece, style: str) -> str:
    if style == "latex":
        return rf"{piece.wrapped}^{{\top}}"
    return f"{piece.wrapped}.T" if style == "source" else f"{piece.wrapped}ᵀ"


def _call(name: str, latex_name: str | None = None, keywords: Sequence[str] = ()):
    """Notation name(a, b, k=v): the usual one for ops without a textbook symbol."""

    def write(style, pieces, params):
        args = [p.text for p in pieces]
        if keywords == ("*",):
            args += [str(p) for p in params]
        else:
            args += [f"{k}={v}" for k, v in zip(keywords, params)]
        if style == "latex":
            label = (latex_name or name).replace("_", r"\_")
            return rf"\operatorname{{{label}}}\left({', '.join(args)}\right)"
        return f"{name}({', '.join(args)})"

    return write


def _matmul_notation(style, pieces, params):
    a, b = pieces
    if style == "source":
        return f"{a.wrapped} @ {b.wrapped}"
    left = _transposed(a, style) if a.ndim == 1 else a.wrapped  # a vector on the left is a row: xᵀA
    return _juxtapose(left, b.wrapped, style)


def _dot_notation(style, pieces, params):
    a, b = pieces
    if style == "source":
        return f"dot({a}, {b})"
    return _juxtapose(_transposed(a, style), b.wrapped, style)  # aᵀb


def _outer_notation(style, pieces, params):
    a, b = pieces
    if style == "source":
        return f"outer({a}, {b})"
    return _juxtapose(a.wrapped, _transposed(b, style), style)  # a bᵀ


def _index_notation(style, pieces, params):
    (x,) = pieces
    inside = ", ".join(map(str, params))
    return rf"{x.wrapped}\left[{inside}\right]" if style == "latex" else f"{x.wrapped}[{inside}]"


def _ones_notation(style, pieces, params):
    return {"unicode": "𝟙", "latex": r"\mathbf{1}", "source": f"ones({', '.join(map(str, params))})"}[style]


def _zeros_notation(style, pieces, params):
    return {"unicode": "𝟎", "latex": r"\mathbf{0}", "source": f"zeros({', '.join(map(str, params))})"}[style]


def _onehot_notation(style, pieces, params):
    n, k = params
    return {"unicode": f"e[{k}]", "latex": rf"e_{{[{k}]}}", "source": f"onehot({n}, {k})"}[style]


# --- shape rules ---------------------------------------------------------------------------------


def _need(condition: bool, message: str) -> None:
    if not condition:
        raise ShapeError(message)


def _matmul_shape(shapes, params):
    a, b = shapes
    what = f"matrix product @ of shapes {shape_text(a)} and {shape_text(b)}"
    _need(len(a) in (1, 2) and len(b) in (1, 2), f"{what}: @ takes vectors and matrices")
    _need(a[-1] == b[0], f"{what}: inner sizes {a[-1]} and {b[0]} differ")
    return a[:-1] + b[1:]


def _vector(name: str, shape: Shape) -> None:
    _need(len(shape) == 1, f"{name} takes a vector, not a tensor of shape {shape_text(shape)}")


def _dot_shape(shapes, params):
    a, b = shapes
    _vector("dot", a)
    _vector("dot", b)
    _need(a == b, f"dot: vectors of lengths {a[0]} and {b[0]} differ")
    return ()


def _outer_shape(shapes, params):
    for s in shapes:
        _vector("outer", s)
    return (shapes[0][0], shapes[1][0])


def _transpose_shape(shapes, params):
    (a,) = shapes
    _need(len(a) in (1, 2), f".T takes a vector or a matrix, not shape {shape_text(a)}")
    return a[::-1]


def _axis(name: str, shape: Shape, params) -> int | None:
    axis = params[0] if params else None
    if axis is not None:
        _need(0 <= axis < len(shape), f"{name}(…, axis={axis}): shape {shape_text(shape)} has axes 0 to {len(shape) - 1}")
    return axis


def _reduce_shape(name):
    def shape(shapes, params):
        (a,) = shapes
        axis = _axis(name, a, params)
        if axis is not None:
            _need(len(a) <= 2, f"{name} along an axis takes a vector or a matrix, not shape {shape_text(a)}")
        return () if axis is None else a[:axis] + a[axis + 1 :]

    return shape


def _last_axis_shape(name, reduce: bool):
    def shape(shapes, params):
        (a,) = shapes
        _need(len(a) in (1, 2), f"{name} works over the last axis of a vector or a matrix, not shape {shape_text(a)}")
        return a[:-1] if reduce else a

    return shape


def _concat_shape(shapes, params):
    for s in shapes:
        _vector("concat", s)
    return (sum(s[0] for s in shapes),)


def _index_shape(shapes, params):
    (a,) = shapes
    _need(len(params) <= len(a), f"index {list(params)}: shape {shape_text(a)} has only {len(a)} axes")
    for axis, (i, n) in enumerate(zip(params, a)):
        _need(0 <= i < n, f"index {i} on axis {axis} of shape {shape_text(a)}: use 0 to {n - 1} (indices are 0-based)")
    return a[len(params) :]


def _argmax_shape(shapes, params):
    _vector("argmax", shapes[0])
    return ()


def _cross_entropy_shape(shapes, params):
    (a,) = shapes
    _vector("cross_entropy", a)
    (k,) = params
    _need(0 <= k < a[0], f"cross_entropy: class {k} of {a[0]} logits; use 0 to {a[0] - 1} (0-based)")
    return ()


def _mse_shape(shapes, params):
    a, b = shapes
    _need(a == b, f"mse: shapes {shape_text(a)} and {shape_text(b)} differ")
    return ()


def _flatten_shape(shapes, params):
    return (int(np.prod(shapes[0])),)


def _reshape_shape(shapes, params):
    (a,) = shapes
    _need(int(np.prod(a)) == int(np.prod(params)), f"reshape of {shape_text(a)} to {shape_text(tuple(params))}")
    return tuple(params)


def _ones_shape(shapes, params):
    _need(all(p > 0 for p in params), f"ones{tuple(params)}: sizes must be positive")
    return tuple(params)


def _onehot_shape(shapes, params):
    n, k = params
    _need(0 <= k < n, f"onehot({n}, {k}): the index must be 0 to {n - 1}")
    return (n,)


def _slice_shape(shapes, params):
    (a,) = shapes
    start, stop = params
    _need(len(a) >= 1, f"slice {start}:{stop}: a scalar cannot be sliced")
    _need(0 <= start < stop <= a[0], f"slice {start}:{stop} of shape {shape_text(a)}: use 0 ≤ start < stop ≤ {a[0]}")
    return (stop - start,) + a[1:]


# --- NumPy ---------------------------------------------------------------------------------------


def _softmax(z):
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def _logsumexp(z):
    m = np.max(z, axis=-1, keepdims=True)
    return np.squeeze(m, -1) + np.log(np.sum(np.exp(z - m), axis=-1))


def _log_softmax(z):
    return z - _logsumexp(z)[..., None]


def _onehot(n, k):
    e = np.zeros(n)
    e[k] = 1.0
    return e


# --- vector-Jacobian rules -----------------------------------------------------------------------
# Each: (operand shapes, operands, params, output, adjoint g, position) → ∂L/∂operand.


def _ones(shape: Shape) -> sp.Expr:
    return HEADS["ones"](*shape)


def _matmul_vjp(shapes, args, params, y, g, position):
    (sa, sb), (a, b) = shapes, args
    T, mm, outer = HEADS["transpose"], HEADS["matmul"], HEADS["outer"]
    if position == 0:
        if len(sa) == 1:  # aᵀB: ∂/∂a = B ḡ (or ḡ b when both are vectors)
            return g * b if len(sb) == 1 else mm(b, g)
        return outer(g, b) if len(sb) == 1 else mm(g, T(b))  # W h: ḡ hᵀ;  A B: ḡ Bᵀ
    if len(sa) == 1:
        return g * a if len(sb) == 1 else outer(a, g)
    return mm(T(a), g)  # Aᵀ ḡ


def _reduction_vjp(scale: Callable[[Shape, int | None], sp.Expr]):
    """sum and mean: ḡ spread back over the summed axis (𝟙 ḡᵀ for axis 0 of a matrix)."""

    def vjp(shapes, args, params, y, g, position):
        (shape,) = shapes
        axis = params[0] if params else None
        outer = HEADS["outer"]
        if axis is None:
            spread = g * _ones(shape)
        elif len(shape) == 1:
            spread = g * _ones(shape)
        elif axis == 0:
            spread = outer(_ones(shape[:1]), g)
        else:
            spread = outer(g, _ones(shape[1:]))
        return spread * scale(shape, axis)

    return vjp


def _rows(vector: sp.Expr, shape: Shape) -> sp.Expr:
    """A per-row quantity (one entry per row of a matrix) spread along the rows; a scalar for a vector."""
    return vector if len(shape) == 1 else HEADS["outer"](vector, _ones(shape[1:]))


def _row_sums(expr: sp.Expr, shape: Shape) -> sp.Expr:
    return HEADS["sum"](expr) if len(shape) == 1 else HEADS["sum"](expr, 1)


def _softmax_vjp(shapes, args, params, y, g, position):
    (shape,) = shapes
    return y * (g - _rows(_row_sums(y * g, shape), shape))  # p ⊙ (ḡ − (pᵀḡ)𝟙)


def _log_softmax_vjp(shapes, args, params, y, g, position):
    (shape,) = shapes
    return g - HEADS["softmax"](args[0]) * _rows(_row_sums(g, shape), shape)


def _logsumexp_vjp(shapes, args, params, y, g, position):
    (shape,) = shapes
    return _rows(g, shape) * HEADS["softmax"](args[0])


def _slice_vjp(shapes, args, params, y, g, position):
    """δ put back in place: concat(0, δ, 0) along the sliced vector."""
    (shape,), (start, stop) = shapes, params
    if len(shape) != 1:
        raise ShapeError(f"differentiating a slice of a {len(shape)}-axis tensor is not supported; slice vectors")
    parts = ([HEADS["zeros"](start)] if start else []) + [g] + ([HEADS["zeros"](shape[0] - stop)] if stop < shape[0] else [])
    return parts[0] if len(parts) == 1 else HEADS["concat"](*parts)


def _concat_vjp(shapes, args, params, y, g, position):
    start = sum(s[0] for s in shapes[:position])
    return HEADS["slice"](g, start, start + shapes[position][0])


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


def _cross_entropy_vjp(shapes, args, params, y, g, position):
    (shape,) = shapes
    return g * (HEADS["softmax"](args[0]) - HEADS["onehot"](shape[0], params[0]))  # p − e_y


def _mse_vjp(shapes, args, params, y, g, position):
    a, b = args
    n = int(np.prod(shapes[0]))
    sign = 1 if position == 0 else -1
    return sign * sp.Rational(2, n) * g * (a - b)


# --- components (the op written one scalar at a time, for verification) ---------------------------


def _each(shape: Shape):
    return itertools.product(*(range(n) for n in shape))


def _array(shape: Shape, entry: Callable) -> np.ndarray:
    out = np.empty(shape, dtype=object)
    for index in _each(shape):
        out[index] = entry(index)
    return out


def _total(term, items) -> object:
    items = list(items)
    return items[0] if len(items) == 1 else term("add", *items)


def _matmul_components(term, arrays, params):
    a, b = arrays
    shape = a.shape[:-1] + b.shape[1:]
    a2 = a if a.ndim == 2 else a[None, :]
    b2 = b if b.ndim == 2 else b[:, None]
    full = _array((a2.shape[0], b2.shape[1]), lambda ij: _total(term, (term("mul", a2[ij[0], k], b2[k, ij[1]]) for k in range(a2.shape[1]))))
    return full.reshape(shape) if shape else full[0, 0]


def _sum_components(mean: bool):
    def components(term, arrays, params):
        (x,) = arrays
        axis = params[0] if params else None
        scale = x.size if axis is None else x.shape[axis]

        def reduce(items):
            total = _total(term, items)
            return term("div", total, sp.Integer(scale)) if mean else total

        if axis is None:
            return reduce(x.ravel())
        moved = np.moveaxis(x, axis, -1)
        return _array(moved.shape[:-1], lambda i: reduce(moved[i]))

    return components


def _rowwise(entry: str | None):
    """Components of an op over the last axis: `entry(term, row, j)` per entry (j None: one per row)."""

    def components(term, arrays, params):
        x = arrays[0]
        rows = x if x.ndim == 2 else x[None, :]
        lse = [term("logsumexp", *row) for row in rows]
        width = None if entry is None else rows.shape[1]
        if width is None:
            out = _array((len(rows),), lambda i: lse[i[0]])
        else:
            out = _array(rows.shape, lambda ij: _ROW_ENTRIES[entry](term, rows[ij], lse[ij[0]]))
        return out if x.ndim == 2 else out[0]

    return components


_ROW_ENTRIES = {
    "softmax": lambda term, u, lse: term("exp", term("sub", u, lse)),
    "log_softmax": lambda term, u, lse: term("sub", u, lse),
}


def _scalar(value) -> np.ndarray:
    out = np.empty((), dtype=object)
    out[()] = value
    return out


def _dot_components(term, arrays, params):
    a, b = arrays
    return _scalar(_total(term, (term("mul", u, v) for u, v in zip(a, b))))


def _cross_entropy_components(term, arrays, params):
    (z,), (k,) = arrays, params
    return _scalar(term("sub", term("logsumexp", *z), z[k]))


def _mse_components(term, arrays, params):
    a, b = arrays
    squares = [term("pow", term("sub", u, v), sp.Integer(2)) for u, v in zip(a.ravel(), b.ravel())]
    return _scalar(term("div", _total(term, squares), sp.Integer(a.size)))


def _copying(function):
    """Components of an op that only moves entries (transpose, index, concat, flatten)."""
    return lambda term, arrays, params: np.asarray(function(arrays, params), dtype=object)


# --- the entries -----------------------------------------------------------------------------------

HEADS: dict[str, type] = {}


def _entry(name, arity, numpy, shape, vjp, components, notation, rule, keywords=(), text=None, callable_=True,
           **more) -> Op:
    head = type(name, (TensorFunction,), {"op_name": name, "__doc__": f"The tensor op {name} ({rule})."})
    HEADS[name] = head
    _NOTATION[name] = notation
    n_operands = arity

    def run(*values):
        operands = values if n_operands < 0 else values[:n_operands]
        params = () if n_operands < 0 else tuple(int(v) for v in values[n_operands:])
        return numpy(*operands, *params)

    return Op(
        name=name, arity=arity, build=head, partials=None, numpy=run, text=text or name, latex=name, rule=rule,
        head=head, is_function=callable_, shape=shape, vjp=vjp, keywords=keywords, components=components, **more,
    )


_NOTATION: dict[str, Callable] = {}
_JUXTAPOSED = {"matmul", "dot", "outer"}

#: Ops that take one tensor and reduce it: their axis parameter is a keyword.
REDUCTIONS = ("sum", "mean")

TENSOR_ENTRIES: list[Op] = [
    _entry("matmul", 2, np.matmul, _matmul_shape, _matmul_vjp, _matmul_components, _matmul_notation,
           "matrix-product rule"),
    _entry("transpose", 1, np.transpose, _transpose_shape, lambda s, a, p, y, g, i: HEADS["transpose"](g),
           _copying(lambda arrays, params: arrays[0].T), lambda style, pieces, params: _transposed(pieces[0], style),
           "transpose rule"),
    _entry("dot", 2, np.dot, _dot_shape, lambda s, a, p, y, g, i: g * a[1 - i], _dot_components,
           _dot_notation, "dot-product rule"),
    _entry("outer", 2, np.outer, _outer_shape,
           lambda s, a, p, y, g, i: HEADS["matmul"](g, a[1]) if i == 0 else HEADS["matmul"](HEADS["transpose"](g), a[0]),
           lambda term, arrays, params: _array((len(arrays[0]), len(arrays[1])), lambda ij: term("mul", arrays[0][ij[0]], arrays[1][ij[1]])),
           _outer_notation, "outer-product rule"),
    _entry("sum", 1, lambda x, axis=None: np.sum(x, axis=axis), _reduce_shape("sum"),
           _reduction_vjp(lambda shape, axis: sp.Integer(1)), _sum_components(False), _call("sum", keywords=("axis",)),
           "sum rule", keywords=(("axis", None),)),
    _entry("mean", 1, lambda x, axis=None: np.mean(x, axis=axis), _reduce_shape("mean"),
           _reduction_vjp(lambda shape, axis: sp.Rational(1, int(np.prod(shape)) if axis is None else shape[axis])),
           _sum_components(True), _call("mean", keywords=("axis",)), "mean rule", keywords=(("axis", None),)),
    _entry("softmax", 1, _softmax, _last_axis_shape("softmax", False), _softmax_vjp, _rowwise("softmax"),
           _call("softmax"), "softmax rule"),
    _entry("log_softmax", 1, _log_softmax, _last_axis_shape("log_softmax", False), _log_softmax_vjp,
           _rowwise("log_softmax"), _call("log_softmax"), "log-softmax rule"),
    _entry("reduce_logsumexp", 1, _logsumexp, _last_axis_shape("logsumexp", True), _logsumexp_vjp,
           _rowwise(None), _call("logsumexp"), "log-sum-exp rule", text="logsumexp",
           callable_=False),  # programs write logsumexp(z); a tensor operand makes it this reduction
    _entry("concat", -1, lambda *xs: np.concatenate(xs), _concat_shape, _concat_vjp,
           _copying(lambda arrays, params: np.concatenate(arrays)), _call("concat"), "concatenation rule"),
    _entry("slice", 1, lambda x, start, stop: x[start:stop], _slice_shape, _slice_vjp,
           _copying(lambda arrays, params: arrays[0][params[0]:params[1]]),
           lambda style, pieces, params: f"{pieces[0].wrapped}[{params[0]}:{params[1]}]", "slicing rule",
           keywords=(("start", REQUIRED), ("stop", REQUIRED)), callable_=False),  # written x[2:5]
    _entry("index", 1, lambda x, *i: x[tuple(i)], _index_shape, _index_vjp,
           _copying(lambda arrays, params: arrays[0][tuple(params)]), _index_notation, "indexing rule",
           keywords=(("*", None),)),
    _entry("argmax", 1, lambda x: np.asarray(float(np.argmax(x))), _argmax_shape, None, None, _call("argmax"),
           "argmax"),
    _entry("cross_entropy", 1, lambda z, k: _logsumexp(z) - z[k], _cross_entropy_shape, _cross_entropy_vjp,
           _cross_entropy_components, _call("cross_entropy", "CE", keywords=("target",)), "cross-entropy rule",
           keywords=(("target", REQUIRED),)),
    _entry("mse", 2, lambda a, b: np.mean((a - b) ** 2), _mse_shape, _mse_vjp, _mse_components, _call("mse"),
           "mean-squared-error rule"),
    _entry("flatten", 1, lambda x: np.reshape(x, -1), _flatten_shape,
           lambda s, a, p, y, g, i: HEADS["reshape"](g, *s[0]), _copying(lambda arrays, params: arrays[0].ravel()),
           _call("flatten"), "flatten rule"),
    _entry("reshape", 1, lambda x, *dims: np.reshape(x, dims), _reshape_shape,
           lambda s, a, p, y, g, i: HEADS["reshape"](g, *s[0]),
           _copying(lambda arrays, params: arrays[0].reshape(params)), _call("reshape", keywords=("*",)),
           "reshape rule", keywords=(("*", None),)),
    _entry("ones", 0, lambda *dims: np.ones(dims), _ones_shape, None,
           lambda term, arrays, params: _array(tuple(params), lambda i: sp.Integer(1)), _ones_notation, "ones",
           keywords=(("*", None),)),
    _entry("zeros", 0, lambda *dims: np.zeros(dims), _ones_shape, None,
           lambda term, arrays, params: _array(tuple(params), lambda i: sp.Integer(0)), _zeros_notation, "zeros",
           keywords=(("*", None),)),
    _entry("onehot", 0, _onehot, _onehot_shape, None,
           lambda term, arrays, params: np.array([sp.Integer(int(i == params[1])) for i in range(params[0])], dtype=object),
           _onehot_notation, "one-hot vector", keywords=(("n", REQUIRED), ("k", REQUIRED))),
]

register(*TENSOR_ENTRIES)
