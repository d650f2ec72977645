"""Three ways to write an expression: one-line Unicode math, the input language, and LaTeX.

The Unicode printer is what a terminal reader sees: 2x, tanh²(x), σ(x), √u, −, ·. The
input-language printer writes what `symgraph derive` reads back. Function labels come
from the op registry, so a new op prints correctly everywhere at once.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

from symgraph import ops
from symgraph.lang.source import Memoised
from symgraph.notation import SUPERSCRIPTS, latex_name, number, number_latex, pretty_name

__all__ = ["unicode", "latex", "latex_name", "number", "number_latex", "value_text", "value_latex", "pretty_name", "MAX_SHOWN_ENTRIES",
           "every_entry", "unicode_writer", "latex_writer"]

#: A tensor with more entries than this is elided in the middle of its long axes instead of written out.
MAX_SHOWN_ENTRIES = 36

_STEP_TEXT = {0.0: "1({} > 0)", 1.0: "1({} ≥ 0)"}


#: Whether large tensors are written whole (`--all-entries`) instead of elided in the middle.
_EVERY_ENTRY: contextvars.ContextVar[bool] = contextvars.ContextVar("symgraph_every_entry", default=False)
#: An elided axis keeps this many entries at each end, as NumPy's printing does.
EDGE_ENTRIES = 3


@contextmanager
def every_entry(whole: bool = True) -> Iterator[None]:
    """Inside the block, tensors of any size are written with every entry."""
    token = _EVERY_ENTRY.set(whole)
    try:
        yield
    finally:
        _EVERY_ENTRY.reset(token)


def value_text(value) -> str:
    """A number, or a tensor as nested brackets [[0, −1], [2, 0]]; past MAX_SHOWN_ENTRIES entries the middle of each
    long axis is elided as NumPy prints it, [1, 2, 3, …, 98, 99, 100], unless every entry is asked for."""
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        return number(array)
    elide = array.size > MAX_SHOWN_ENTRIES and not _EVERY_ENTRY.get()
    return _nested(array, number, elide)


def _nested(array: np.ndarray, write, elide: bool = False) -> str:
    if array.ndim == 0:
        return write(array)
    if elide and len(array) > 2 * EDGE_ENTRIES + 1:
        ends = [_nested(a, write, elide) for a in (*array[:EDGE_ENTRIES], *array[-EDGE_ENTRIES:])]
        return "[" + ", ".join([*ends[:EDGE_ENTRIES], "…", *ends[EDGE_ENTRIES:]]) + "]"
    return "[" + ", ".join(_nested(a, write, elide) for a in array) + "]"


def value_latex(value) -> str:
    """A number, or a vector (as a column) or matrix as a bmatrix."""
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        return number_latex(array)
    if array.size > MAX_SHOWN_ENTRIES or array.ndim > 2:
        shape = r" \times ".join(map(str, array.shape))
        return rf"\text{{({shape} tensor)}}"
    rows = array[:, None] if array.ndim == 1 else array
    body = r" \\ ".join(" & ".join(number_latex(x) for x in row) for row in rows)
    return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"


class _UnicodePrinter(Memoised, StrPrinter):
    printmethod = "_symgraph_unicode"

    def __init__(self, relu_at_zero: float = 0.0, shapes: ShapeOf | None = None):
        super().__init__({"order": None})
        self.relu_at_zero = relu_at_zero
        self.shapes = shapes

    def _print_Symbol(self, expr):
        return pretty_name(expr.name)

    def _print_Integer(self, expr):
        return str(expr.p).replace("-", "−")

    def _print_Rational(self, expr):
        return f"{expr.p}/{expr.q}".replace("-", "−")

    def _print_Float(self, expr):
        return number(expr)

    def _print_Pi(self, expr):
        return "π"

    def _print_Exp1(self, expr):
        return "e"

    def _print_Add(self, expr):
        parts = []
        terms = expr.as_ordered_terms()
        first = next((k for k, t in enumerate(terms) if not t.could_extract_minus_sign()), 0)
        terms.insert(0, terms.pop(first))  # ŷ − y, not −y + ŷ: a sum opens with a term that is not negated
        for i, term in enumerate(terms):
            negative = term.could_extract_minus_sign()
            text = self.parenthesize(-term if negative else term, PRECEDENCE["Add"], strict=False)
            if i == 0:
                parts.append(("−" if negative else "") + text)
            else:
                parts.append((" − " if negative else " + ") + text)
        return "".join(parts)

    def _print_Mul(self, expr):
        coefficient, rest = expr.as_coeff_Mul()
        sign = ""
        if coefficient.is_negative:
            sign, coefficient = "−", -coefficient
        numerator, denominator = [], []
        if coefficient != 1:
            if coefficient.is_Rational and coefficient.q != 1:
                denominator.append(sp.Integer(coefficient.q))
                if coefficient.p != 1:
                    numerator.append(sp.Integer(coefficient.p))
            else:
                numerator.append(coefficient)
        for factor in sp.Mul.make_args(rest):
            base, exponent = factor.as_base_exp()
            if factor.is_Pow and exponent.is_number and exponent.is_negative:
                denominator.append(base ** (-exponent))
            else:
                numerator.append(factor)
        _root_below(numerator, denominator)
        numerator.sort(key=lambda f: f.is_Add)  # σ(x)·(1 − σ(x)), not (1 − σ(x))·σ(x)
        top = self._join(numerator) if numerator else "1"
        if not denominator:
            return sign + top
        if numerator and _is_adjoint(numerator[-1]):  # ∂L/∂g ⊙ 1/d, not ∂L/∂g/d
            return sign + top + " ⊙ 1/" + self.parenthesize(sp.Mul(*denominator), PRECEDENCE["Mul"], strict=True)
        if len(denominator) == 1:
            bottom = self.parenthesize(denominator[0], PRECEDENCE["Mul"], strict=True)
        else:
            bottom = "(" + self._join(denominator) + ")"
        return f"{sign}{top}/{bottom}"

    def _join(self, factors):
        text = ""
        for i, factor in enumerate(factors):
            piece = self.parenthesize(factor, PRECEDENCE["Mul"], strict=False)
            if i == 0:
                text = piece
            elif factors[i - 1].is_Number and _reads_as_juxtaposed(factor, piece):
                text += piece
            elif _is_tensor(self.shapes, factor) and _is_tensor(self.shapes, factors[i - 1]):
                text += " ⊙ " + piece
            else:
                text += "·" + piece
        return text

    def _print_Pow(self, expr):
        base, exponent = expr.as_base_exp()
        if exponent == sp.Rational(1, 2):
            return "√" + self._atomic(base)
        if exponent.is_number and exponent.is_negative:
            return "1/" + self.parenthesize(base ** (-exponent), PRECEDENCE["Mul"], strict=True)
        if exponent.is_Integer:
            power = str(exponent.p).translate(SUPERSCRIPTS)
            op = ops.op_of_function(base.func) if base.is_Function else None
            if op is not None and len(base.args) == 1 and base.func not in (sp.exp, sp.Abs) and not op.takes_relu_convention:
                return f"{op.text}{power}({self._print(base.args[0])})"
            return self.parenthesize(base, PRECEDENCE["Pow"], strict=True) + power
        return self.parenthesize(base, PRECEDENCE["Pow"], strict=True) + "^" + self._atomic(exponent)

    def _atomic(self, expr):
        text = self._print(expr)
        simple = expr.is_Symbol or expr.is_Integer or expr.is_Function or expr.is_NumberSymbol
        return text if simple and " " not in text else f"({text})"  # √(dᵀ d): a product in notation is not atomic

    def _print_Function(self, expr):
        op = ops.op_of_function(expr.func)
        arg = self._print(expr.args[0]) if len(expr.args) == 1 else ", ".join(map(self._print, expr.args))
        if expr.func is sp.Abs:
            return f"|{arg}|"
        if op is not None and op.takes_relu_convention:
            return _STEP_TEXT.get(self.relu_at_zero, "H({})").format(arg)
        label = op.text if op is not None else expr.func.__name__
        return f"{label}({arg})"

    _print_exp = _print_Function
    _print_Abs = _print_Function
    _print_sign = _print_Function


def _root_below(numerator: list, denominator: list) -> None:
    """√n/n is written 1/√n, as the course writes the attention scale QKᵀ/√d (SymPy keeps √2/2)."""
    for factor in list(numerator):
        base, exponent = factor.as_base_exp()
        if base.is_Integer and exponent == sp.Rational(1, 2) and base in denominator:
            numerator.remove(factor)
            denominator[denominator.index(base)] = factor


def _reads_as_juxtaposed(factor: sp.Expr, piece: str) -> bool:
    """2x, 2x², 2σ(x), 2√x, 2(x + 1) — but 3·exp(x): a number never runs into a word."""
    base = factor.as_base_exp()[0]
    return base.is_Symbol or base.is_Add or piece[0] in "√σ|"


class _LatexPrinter(Memoised, LatexPrinter):
    """SymPy's LaTeX printer, carrying the relu′(0) convention that step's _latex reads, and ⊙ for tensors."""

    def __init__(self, relu_at_zero: float = 0.0, shapes: ShapeOf | None = None):
        super().__init__({"mul_symbol": None, "inv_trig_style": "full"})  # \arctan, not \operatorname{atan}: the op labels
        self.relu_at_zero = relu_at_zero
        self.shapes = shapes

    def _print_Symbol(self, expr, style="plain"):
        return latex_name(expr.name)

    def _print_Mul(self, expr):
        coefficient, rest = expr.as_coeff_Mul()
        roots = [f for f in sp.Mul.make_args(rest) if f.is_Pow and f.base.is_Integer and f.exp == sp.Rational(1, 2)]
        if coefficient.is_Rational and len(roots) == 1 and coefficient.q == roots[0].base:  # QKᵀ/√d, not √2 QKᵀ/2
            others = sp.Mul(*(f for f in sp.Mul.make_args(rest) if f is not roots[0]))
            sign, top = ("- " if coefficient < 0 else ""), self._print(abs(coefficient.p) * others)
            return rf"{sign}\frac{{{top}}}{{\sqrt{{{roots[0].base}}}}}"
        factors = [f for f in sp.Mul.make_args(expr) if not (f.is_Pow and f.exp.is_negative)]
        if sum(_is_tensor(self.shapes, f) for f in factors) < 2:
            return super()._print_Mul(expr)
        numerator, denominator = sp.fraction(expr)
        top = r" \odot ".join(self.parenthesize(f, PRECEDENCE["Mul"]) for f in sp.Mul.make_args(numerator))
        return top if denominator == 1 else rf"\frac{{{top}}}{{{self._print(denominator)}}}"


#: The shape of an expression over tensor symbols (Graph.expr_shape), for ⊙ between tensors.
ShapeOf = Callable[[sp.Expr], tuple]


def _is_adjoint(expr: sp.Expr) -> bool:
    """∂L/∂z, the only kind of symbol whose name holds a '/'."""
    return expr.is_Symbol and "/" in expr.name


def _is_tensor(shapes: ShapeOf | None, expr: sp.Expr) -> bool:
    return shapes is not None and bool(shapes(expr))


#: Writes an expression to a string.
Write = Callable[[sp.Expr], str]


def unicode_writer(relu_at_zero: float = 0.0, shapes: ShapeOf | None = None) -> Write:
    """`unicode` with one printer kept: a sub-expression met again is not printed again."""
    printer = _UnicodePrinter(relu_at_zero, shapes)
    return lambda expr: printer.doprint(sp.sympify(expr))


def latex_writer(relu_at_zero: float = 0.0, shapes: ShapeOf | None = None) -> Write:
    """`latex` with one printer kept: a sub-expression met again is not printed again."""
    printer = _LatexPrinter(relu_at_zero, shapes)
    return lambda expr: printer.doprint(sp.sympify(expr))


def unicode(expr: sp.Expr, relu_at_zero: float = 0.0, shapes: ShapeOf | None = None) -> str:
    return unicode_writer(relu_at_zero, shapes)(expr)


def latex(expr: sp.Expr, relu_at_zero: float = 0.0, shapes: ShapeOf | None = None) -> str:
    return latex_writer(relu_at_zero, shapes)(expr)
