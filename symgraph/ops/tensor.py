"""What every tensor op is made of: its SymPy citizen, the pieces its notation prints, shape checks, the builder.

A tensor op's node reads its tensor operands first, then integer parameters (axis, index,
stride) stored as constants. Its `vjp` writes ∂L/∂operand from the output's adjoint ḡ as a
SymPy expression over tensor symbols, in the notation of a textbook: for y = W h,
∂L/∂W = ḡ hᵀ and ∂L/∂h = Wᵀ ḡ. Products of tensor symbols in those expressions are
elementwise (⊙), which is why plain SymPy algebra stays valid on them. `components` writes the
op one scalar at a time, so the scalar engine can verify every `vjp` independently.

Each family module (linalg, reductions, indexing, conv, pool) writes one block per op, its shape
rule, NumPy, vector-Jacobian rule, components and notation side by side, and registers it right
there with `tensor_op`. Scalar primitives (tanh, +, · …) apply elementwise to tensors; they stay
in symgraph.ops.scalar, and broadcast their operands by NumPy's rules (`broadcast`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import sympy as sp

from symgraph.errors import ShapeError
from symgraph.ops.registry import OPS, Op, parameter, register

__all__ = [
    "HEADS", "Shape", "TensorFunction", "tensor_op", "shape_text", "broadcast", "need", "need_vector",
    "call_notation", "juxtapose", "transposed", "object_array", "total", "scalar_array", "copying",
]

Shape = tuple[int, ...]
#: (style, operand pieces, parameters) → the op written in that style: "unicode", "latex" or "source".
Notation = Callable[[str, list, list], str]

#: Each tensor op's SymPy head, by op name: vector-Jacobian rules build their results with these.
HEADS: dict[str, type] = {}
_NOTATION: dict[str, Notation] = {}
#: Ops written by juxtaposition or infix (W h, x ⋆ δ): bracketed when they are another notation's operand.
_JUXTAPOSED: set[str] = set()


# --- shapes ----------------------------------------------------------------------------------------


def shape_text(shape: Shape) -> str:
    return "×".join(map(str, shape)) if shape else "scalar"


def broadcast(what: str, shapes: Sequence[Shape]) -> Shape:
    """The shape of an elementwise op, by NumPy's rules: shapes aligned on their last axes, each size equal or 1
    (a scalar with anything, a row vector of n with an m×n matrix, an m×1 column with a row of n)."""
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        listed = " and ".join(shape_text(s) for s in shapes if s)
        raise ShapeError(f"{what}: shapes {listed} do not match (aligned from the last axis, each size must be "
                         "equal or 1, as in NumPy)") from None


def need(condition: bool, message: str) -> None:
    if not condition:
        raise ShapeError(message)


def need_vector(name: str, shape: Shape) -> None:
    need(len(shape) == 1, f"{name} takes a vector, not a tensor of shape {shape_text(shape)}")


# --- the SymPy citizen and its notation --------------------------------------------------------------


class TensorFunction(sp.Function):
    """A tensor op in an expression; printed by its entry's notation in every style."""

    op_name = ""

    def _write(self, printer, style: str) -> str:
        op = OPS[self.op_name]
        arity = op.arity if op.arity >= 0 else len(self.args)
        operands, params = self.args[:arity], [parameter(p) for p in self.args[arity:]]
        return _NOTATION[self.op_name](style, [_Piece(printer, a, style) for a in operands], params)

    def _eval_evalf(self, prec):
        """A tensor has no one number: SymPy must not ask mpmath (whose ones(3) is a matrix) for it."""
        return None

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


def juxtapose(left: str, right: str, style: str) -> str:
    if style == "latex":
        return f"{left} {right}"
    return f"{left}{right}" if right.startswith("(") else f"{left} {right}"


def transposed(piece: _Piece, style: str) -> str:
    if style == "latex":
        return rf"{piece.wrapped}^{{\top}}"
    return f"{piece.wrapped}.T" if style == "source" else f"{piece.wrapped}ᵀ"


def call_notation(name: str, latex_name: str | None = None, keywords: Sequence[str] = ()) -> Notation:
    """Notation name(a, b, k=v): the usual one for ops without a textbook symbol; ("*",) lists the integers."""

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


# --- components: an op written one scalar at a time ---------------------------------------------------


def object_array(shape: Shape, entry: Callable[[tuple], object]) -> np.ndarray:
    """The array of scalar terms whose entry at each index is `entry(index)`."""
    out = np.empty(shape, dtype=object)
    for index in itertools.product(*(range(n) for n in shape)):
        out[index] = entry(index)
    return out


def total(term, items: Iterable) -> object:
    """The sum of scalar terms; an empty sum (a window wholly in the padding) is 0."""
    items = list(items)
    if not items:
        return sp.Integer(0)
    return items[0] if len(items) == 1 else term("add", *items)


def scalar_array(value) -> np.ndarray:
    out = np.empty((), dtype=object)
    out[()] = value
    return out


def copying(function: Callable[[Sequence[np.ndarray], list[int]], np.ndarray]):
    """Components of an op that only moves entries (transpose, index, concat, flatten)."""
    return lambda term, arrays, params: np.asarray(function(arrays, params), dtype=object)


# --- the builder ---------------------------------------------------------------------------------------


def tensor_op(name: str, arity: int, *, rule: str, shape, numpy, notation: Notation, vjp=None, components=None,
              keywords: tuple = (), text: str | None = None, callable_: bool = True, juxtaposed: bool = False,
              precedence: int | None = None, **more) -> Op:
    """Make the op's SymPy head, keep its notation, and register its entry.

    `numpy` takes the operands then the integer parameters; `juxtaposed` brackets the op as another
    notation's operand, and `precedence` sets how SymPy's printers bracket it (a product's, for x ⋆ δ).
    """
    namespace: dict[str, object] = {"op_name": name, "__doc__": f"The tensor op {name} ({rule})."}
    if precedence is not None:
        namespace["precedence"] = precedence
    head = type(name, (TensorFunction,), namespace)
    HEADS[name] = head
    _NOTATION[name] = notation
    if juxtaposed:
        _JUXTAPOSED.add(name)

    def run(*values):
        operands = values if arity < 0 else values[:arity]
        params = () if arity < 0 else tuple(parameter(v) for v in values[arity:])
        return numpy(*operands, *params)

    op = Op(
        name=name, arity=arity, build=head, partials=None, numpy=run, text=text or name, latex=name, rule=rule,
        head=head, is_function=callable_, shape=shape, vjp=vjp, keywords=keywords, components=components, **more,
    )
    register(op)
    return op
