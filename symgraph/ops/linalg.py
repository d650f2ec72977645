"""Products and transposition: matmul (A B, W h, xᵀA), transpose, dot (aᵀb), outer (a bᵀ), diag and diagonal; one block
per op."""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from symgraph.notation import pretty_name
from symgraph.ops.tensor import (
    HEADS,
    call_notation,
    copying,
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

__all__: list[str] = []


# --- matmul: y = A B, written W h; a vector on the left is a row, xᵀA --------------------------------


def _matmul_shape(shapes, params):
    a, b = shapes
    what = f"matrix product @ of shapes {shape_text(a)} and {shape_text(b)}"
    more = "; index a tensor of more axes first (X[0] @ W) or reshape it to a matrix" if max(len(a), len(b)) > 2 else ""
    need(len(a) in (1, 2) and len(b) in (1, 2), f"{what}: @ takes vectors and matrices{more}")
    need(a[-1] == b[0], f"{what}: inner sizes {a[-1]} and {b[0]} differ")
    return a[:-1] + b[1:]


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


def _matmul_components(term, arrays, params):
    a, b = arrays
    shape = a.shape[:-1] + b.shape[1:]
    a2 = a if a.ndim == 2 else a[None, :]
    b2 = b if b.ndim == 2 else b[:, None]
    full = object_array((a2.shape[0], b2.shape[1]),
                        lambda ij: total(term, (term("mul", a2[ij[0], k], b2[k, ij[1]]) for k in range(a2.shape[1]))))
    return full.reshape(shape) if shape else full[0, 0]


def _matmul_notation(style, pieces, params):
    a, b = pieces
    if style == "source":
        return f"{a.wrapped} @ {b.wrapped}"
    left = transposed(a, style) if a.ndim == 1 else a.wrapped  # a vector on the left is a row: xᵀA
    return juxtapose(left, b.wrapped, style)


def _matmul_jacobian(shapes, args, params, y, position):
    """z = W x: ∂z/∂x = W;  z = xᵀA: ∂z/∂x = Aᵀ. By the matrix W the Jacobian has three axes: said in words."""
    (sa, sb), (a, b) = shapes, args
    if position == 1 and len(sa) == 2 and len(sb) == 1:
        return a
    if position == 0 and len(sa) == 1 and len(sb) == 2:
        return HEADS["transpose"](b)
    if position == 0 and len(sa) == 2 and len(sb) == 1:
        z, w, x = (pretty_name(str(s)) for s in (y, a, b))
        return f"∂{z}ᵢ/∂{w}ⱼₖ = 1(i = j)·{x}ₖ: row i of {w} meets {x}, so ∂L/∂{w} = ∂L/∂{z} {x}ᵀ"
    return None


_A, _X = sp.Wild("a"), sp.Wild("x")


def _quadratic_form():
    """∂(xᵀAx)/∂x: the two factors' A x + xᵀA collect as (A + Aᵀ)x (for a vector x; verified before shown)."""
    T, mm = HEADS["transpose"], HEADS["matmul"]
    return ((mm(_A, _X) + mm(_X, _A), lambda a, x: mm(a + T(a), x)),)


tensor_op("matmul", 2, rule="matrix-product rule", shape=_matmul_shape, numpy=np.matmul, vjp=_matmul_vjp,
          components=_matmul_components, notation=_matmul_notation, juxtaposed=True, jacobian=_matmul_jacobian,
          textbook=_quadratic_form,
          work=lambda shapes, out: math.prod(out) * shapes[1][0])  # each output entry sums k products


# --- transpose: Aᵀ, written A.T -------------------------------------------------------------------------


def _transpose_shape(shapes, params):
    (a,) = shapes
    need(len(a) in (1, 2), f".T takes a vector or a matrix, not shape {shape_text(a)}; index it first (X[0].T)")
    return a[::-1]


tensor_op("transpose", 1, rule="transpose rule", shape=_transpose_shape, numpy=np.transpose,
          vjp=lambda shapes, args, params, y, g, position: HEADS["transpose"](g),
          components=copying(lambda arrays, params: arrays[0].T),
          notation=lambda style, pieces, params: transposed(pieces[0], style))


# --- dot: aᵀb ------------------------------------------------------------------------------------------


def _dot_shape(shapes, params):
    a, b = shapes
    need_vector("dot", a)
    need_vector("dot", b)
    need(a == b, f"dot: vectors of lengths {a[0]} and {b[0]} differ")
    return ()


def _dot_components(term, arrays, params):
    a, b = arrays
    return scalar_array(total(term, (term("mul", u, v) for u, v in zip(a, b))))


def _dot_notation(style, pieces, params):
    a, b = pieces
    if style == "source":
        return f"dot({a}, {b})"
    return juxtapose(transposed(a, style), b.wrapped, style)  # aᵀb


tensor_op("dot", 2, rule="dot-product rule", shape=_dot_shape, numpy=np.dot,
          vjp=lambda shapes, args, params, y, g, position: g * args[1 - position],
          components=_dot_components, notation=_dot_notation, juxtaposed=True, work=lambda shapes, out: shapes[0][0])


# --- outer: a bᵀ ---------------------------------------------------------------------------------------


def _outer_shape(shapes, params):
    for s in shapes:
        need_vector("outer", s)
    return (shapes[0][0], shapes[1][0])


def _outer_vjp(shapes, args, params, y, g, position):
    mm = HEADS["matmul"]
    return mm(g, args[1]) if position == 0 else mm(HEADS["transpose"](g), args[0])  # ḡ b;  ḡᵀ a


def _outer_components(term, arrays, params):
    a, b = arrays
    return object_array((len(a), len(b)), lambda ij: term("mul", a[ij[0]], b[ij[1]]))


def _outer_notation(style, pieces, params):
    a, b = pieces
    if style == "source":
        return f"outer({a}, {b})"
    return juxtapose(a.wrapped, transposed(b, style), style)  # a bᵀ


tensor_op("outer", 2, rule="outer-product rule", shape=_outer_shape, numpy=np.outer, vjp=_outer_vjp,
          components=_outer_components, notation=_outer_notation, juxtaposed=True)


# --- diag(v): the diagonal matrix of a vector, and diagonal(A), its inverse (Jacobians of elementwise ops) -----


def _diag_shape(shapes, params):
    need_vector("diag", shapes[0])
    return (shapes[0][0], shapes[0][0])


def _diagonal_shape(shapes, params):
    (a,) = shapes
    need(len(a) == 2 and a[0] == a[1], f"diagonal takes a square matrix, not shape {shape_text(a)}")
    return a[:1]


tensor_op("diag", 1, rule="diagonal-matrix rule", shape=_diag_shape, numpy=np.diag,
          vjp=lambda shapes, args, params, y, g, position: HEADS["diagonal"](g),
          components=lambda term, arrays, params: object_array(
              (len(arrays[0]), len(arrays[0])), lambda ij: arrays[0][ij[0]] if ij[0] == ij[1] else sp.Integer(0)),
          notation=call_notation("diag", r"diag"))
tensor_op("diagonal", 1, rule="diagonal rule", shape=_diagonal_shape, numpy=lambda a: np.diagonal(a).copy(),
          vjp=lambda shapes, args, params, y, g, position: HEADS["diag"](g),
          components=copying(lambda arrays, params: np.diagonal(arrays[0]).copy()),
          notation=call_notation("diagonal"))
