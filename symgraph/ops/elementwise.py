"""Elementwise functions of several arguments: max, min, clip, where, nonzero, dropout; one block per op.

They are scalar ops, so they apply entry by entry to tensors and a scalar argument broadcasts. Their
derivatives break where arguments tie (max(a, b) at a = b, clip(x, lo, hi) at the bounds): the
partials are written with the unit step, whose value at 0 is the --relu-at-zero convention. With the
default 0 a tie sends the whole gradient to the first argument of max and min (the first index, as
max pooling and NumPy's argmax choose), and clip passes it to x at a bound, as torch.clamp does.
The check reports such a tie within its step as a kink, like relu's.

max(a, b, c) applies left to right, max(max(a, b), c); max(X) and max(X, axis=k) of one tensor are the
reductions of symgraph.ops.extrema. where(c, a, b) is NumPy's: a where c ≠ 0, else b; the condition
(a 0/1 indicator) gets no gradient. dropout(x, m, p) = x ⊙ m / (1 − p) with a given 0/1 mask m
(inverted dropout, as in training mode); m and p get their partials as any operand does.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sympy as sp

from symgraph.errors import InputError
from symgraph.ops.registry import Op, register
from symgraph.ops.scalar import _RegisteredFunction, step

__all__: list[str] = []


def _head(name: str, reference: Callable[..., sp.Expr], code: str, evaluate: Callable[..., sp.Expr | None] | None = None,
          unicode: Callable[[list[str]], str] | None = None, latex: Callable[[list[str]], str] | None = None) -> type:
    """The op's SymPy function, named as programs call it (so the source printer writes max(a, b)).

    `reference` is the function in SymPy's own terms (evalf), `code` its NumPy form for lambdify
    ("numpy.maximum({0}, {1})"); `evaluate` folds constant arguments (see _folded).
    """
    namespace: dict[str, object] = {"op_name": name, "__doc__": f"The elementwise function {name}."}
    namespace["_reference"] = lambda self: reference(*self.args)
    namespace["_numpycode"] = lambda self, printer: code.format(*(printer._print(a) for a in self.args))
    if evaluate is not None:
        namespace["eval"] = classmethod(lambda cls, *args: evaluate(*args))
    if unicode is not None:
        namespace["_symgraph_unicode"] = lambda self, printer: unicode([printer._print(a) for a in self.args])
    if latex is not None:
        namespace["_latex"] = lambda self, printer, exp=None: (
            latex([printer._print(a) for a in self.args]) if exp is None
            else rf"\left({latex([printer._print(a) for a in self.args])}\right)^{{{exp}}}")
    return type(name, (_RegisteredFunction,), namespace)


def _folded(function: Callable[..., sp.Expr]) -> Callable[..., sp.Expr | None]:
    """SymPy's eval: the value when every argument is a number, else None (the call stays)."""
    return lambda *args: function(*args) if all(a.is_number for a in args) else None


def _entry(name: str, arity: int, head: type, partials, numpy, latex: str, rule: str, **extra) -> Op:
    return Op(name=name, arity=arity, build=head, partials=partials, numpy=numpy, text=name, latex=latex, rule=rule,
              head=head, is_function=True, **extra)


def _tie_note(first: str) -> str:
    return f"at a tie {first} gets 1 − {{relu_at_zero}} of the gradient, by the --relu-at-zero convention"


# --- max(a, b) and min(a, b): the larger (smaller) argument; a tie is a kink -------------------------------


maximum = _head("max", sp.Max, "numpy.maximum({0}, {1})", evaluate=_folded(sp.Max))
minimum = _head("min", sp.Min, "numpy.minimum({0}, {1})", evaluate=_folded(sp.Min))

_MAX = _entry("max", 2, maximum, lambda a, y: (1 - step(a[1] - a[0]), step(a[1] - a[0])), np.maximum, r"\max",
              "max rule", kinks_at=lambda operands: [(0, operands[1], "where its arguments tie")],
              kink_note=_tie_note("the first argument"), folds=True, variants=((1, "reduce_max"),))
_MIN = _entry("min", 2, minimum, lambda a, y: (1 - step(a[0] - a[1]), step(a[0] - a[1])), np.minimum, r"\min",
              "min rule", kinks_at=lambda operands: [(0, operands[1], "where its arguments tie")],
              kink_note=_tie_note("the first argument"), folds=True, variants=((1, "reduce_min"),))


# --- clip(x, lo, hi): x held within [lo, hi] ------------------------------------------------------------------


def _clip_partials(a, y):
    x, lo, hi = a
    below, above = step(lo - x), step(x - hi)
    return 1 - below - above, below, above


clip = _head("clip", lambda x, lo, hi: sp.Min(sp.Max(x, lo), hi), "numpy.minimum(numpy.maximum({0}, {1}), {2})",
            evaluate=_folded(lambda x, lo, hi: sp.Min(sp.Max(x, lo), hi)))

_CLIP = _entry("clip", 3, clip, _clip_partials, lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi),
               r"\operatorname{clip}", "clip rule",
               kinks_at=lambda operands: [(0, operands[1], "where x meets lo"), (0, operands[2], "where x meets hi")],
               kink_note=_tie_note("x"))


# --- nonzero(u) = 1(u ≠ 0): where's selector ------------------------------------------------------------------


nonzero = _head("nonzero", lambda u: sp.Piecewise((0, sp.Eq(u, 0)), (1, True)), "(1.0*numpy.not_equal({0}, 0))",
                evaluate=_folded(lambda u: sp.Integer(0 if u.is_zero else 1)),
                unicode=lambda args: f"1({args[0]} ≠ 0)", latex=lambda args: rf"\mathbf{{1}}\left({args[0]} \neq 0\right)")

_NONZERO = _entry("nonzero", 1, nonzero, lambda a, y: (sp.Integer(0),), lambda u: np.not_equal(u, 0).astype(float),
                  r"\mathbf{1}", "indicator rule", kink=0.0, kink_note="nonzero jumps at 0")


# --- where(c, a, b): a where c ≠ 0, else b --------------------------------------------------------------------


def _where_partials(a, y):
    chosen = nonzero(a[0])
    return sp.Integer(0), chosen, 1 - chosen


where = _head("where", lambda c, a, b: sp.Piecewise((b, sp.Eq(c, 0)), (a, True)), "numpy.where(numpy.not_equal({0}, 0), {1}, {2})",
              evaluate=lambda c, a, b: (b if c.is_zero else a) if c.is_number else None)

_WHERE = _entry("where", 3, where, _where_partials, lambda c, a, b: np.where(np.not_equal(c, 0), a, b),
                r"\operatorname{where}", "selection rule",
                kinks_at=lambda operands: [(0, sp.Integer(0), "where the condition leaves 0")],
                kink_note="the condition is an indicator and gets no gradient")


# --- dropout(x, m, p) = x ⊙ m / (1 − p): inverted dropout with a given mask --------------------------------------


def _keep(p: sp.Expr) -> sp.Expr:
    """1 − p, the keep probability; a given p outside [0, 1) is refused before anything divides by 1 − p."""
    if p.is_number and not 0 <= p < 1:
        raise InputError(f"dropout(x, m, p): the drop probability p must be at least 0 and below 1, got {p}")
    return 1 - p


def _dropout_partials(a, y):
    x, m, p = a
    keep = _keep(p)
    return m / keep, x / keep, y / keep


def _dropout_eval(x, m, p):
    keep = _keep(p)
    return x * m / keep if x.is_number and m.is_number and p.is_number else None


dropout = _head("dropout", lambda x, m, p: x * m / (1 - p), "(({0})*({1})/(1 - ({2})))", evaluate=_dropout_eval)

_DROPOUT = _entry("dropout", 3, dropout, _dropout_partials, lambda x, m, p: x * m / (1 - np.asarray(p, dtype=float)),
                  r"\operatorname{dropout}", "dropout rule", domain="dropout needs a keep probability 1 − p above 0")

register(_MAX, _MIN, _CLIP, _NONZERO, _WHERE, _DROPOUT)
