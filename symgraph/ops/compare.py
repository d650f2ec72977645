"""The comparison family: `a < b`, `a <= b`, `a > b`, `a >= b`, `a == b` as 0/1 indicators, 1(z ≥ 0).

The parser writes `a ⋈ b` as the indicator of the difference, 1(a − b ⋈ 0) (just 1(z ≥ 0) when b is 0),
so that each is an elementwise op of one operand with its jump at 0, where the kink machinery looks.
They are forward only in effect: the derivative is 0 everywhere except at the jump, where it does not
exist (noted like step's). They print as the course writes them, 1(z ≥ 0) and 1(x < y), and in the
input language as (z >= 0), which the parser reads back.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sympy as sp
from sympy.core.function import ArgumentIndexError

from symgraph.ops.registry import OPS, Op, register

__all__ = ["Indicator", "INDICATORS", "FLIPPED"]


#: a ⋈ b is b ⋈′ a with the relation turned round: 0 < z is z > 0.
FLIPPED = {"lt": "gt", "gt": "lt", "le": "ge", "ge": "le", "eq": "eq"}


class Indicator(sp.Function):
    """1(u ⋈ 0) for one relation ⋈; a subclass per relation sets the words below."""

    op_name = ""
    relation: Callable[[sp.Expr, sp.Expr], sp.Basic] = sp.Ge
    source = ""  # the input language's operator, >=
    symbol = ""  # how people write it, ≥
    latex_symbol = ""

    @classmethod
    def eval(cls, arg):
        if arg.is_number and arg.is_extended_real:
            truth = cls.relation(arg, 0)
            if truth in (sp.true, sp.false):
                return sp.Integer(1 if truth else 0)
        return None

    def _eval_power(self, exponent):
        """1(·)ⁿ = 1(·) for n > 0: an indicator is 0 or 1."""
        return self if exponent.is_positive else None

    def fdiff(self, argindex=1):
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        return sp.Integer(0)

    def _eval_evalf(self, prec):
        return sp.Piecewise((1, self.relation(self.args[0], 0)), (0, True)).evalf(prec)

    def sides(self) -> tuple[sp.Expr, str, sp.Expr]:
        """x − y ⋈ 0 written x ⋈ y (terms with a minus sign go to the right), and −z ≥ 0 as z ≤ 0."""
        terms = sp.Add.make_args(self.args[0])
        left = sp.Add(*(t for t in terms if not t.could_extract_minus_sign()))
        right = sp.Add(*(-t for t in terms if t.could_extract_minus_sign()))
        if left == 0 and right != 0:
            return right, FLIPPED[self.op_name], left
        return left, self.op_name, right

    def _written(self, printer, words: str) -> str:
        left, relation, right = self.sides()
        return f"{printer._print(left)} {getattr(OPS[relation].head, words)} {printer._print(right)}"

    def _sympystr(self, printer):
        return f"({self._written(printer, 'source')})"

    def _symgraph_unicode(self, printer):
        return f"1({self._written(printer, 'symbol')})"

    def _latex(self, printer, exp=None):
        return rf"\mathbf{{1}}\left({self._written(printer, 'latex_symbol')}\right)"

    def _numpycode(self, printer):
        return f"numpy.where({printer._print(self.args[0])} {self.source} 0, 1.0, 0.0)"


def _indicator(name: str, relation, source: str, symbol: str, latex_symbol: str, numpy_test) -> Op:
    """One relation's SymPy citizen and its registry entry."""
    head = type(name, (Indicator,), {
        "op_name": name, "relation": staticmethod(relation), "source": source, "symbol": symbol,
        "latex_symbol": latex_symbol, "__doc__": f"1(u {symbol} 0): 1 where u {symbol} 0, else 0.",
    })
    return Op(
        name=name,
        arity=1,
        build=head,
        partials=lambda a, y: (sp.Integer(0),),
        numpy=lambda u: np.where(numpy_test(u, 0.0), 1.0, 0.0),
        text=f"1({symbol})",
        latex=r"\mathbf{1}",
        rule="comparison rule",
        head=head,
        kink=0.0,
        kink_note=f"1(u {symbol} 0) jumps at u = 0; its derivative is 0 elsewhere and does not exist there",
    )


_ENTRIES = [
    _indicator("lt", sp.Lt, "<", "<", "<", np.less),
    _indicator("le", sp.Le, "<=", "≤", r"\leq", np.less_equal),
    _indicator("gt", sp.Gt, ">", ">", ">", np.greater),
    _indicator("ge", sp.Ge, ">=", "≥", r"\geq", np.greater_equal),
    _indicator("eq", sp.Eq, "==", "=", "=", np.equal),
]

#: The parser's table: ast comparison operator name → op name.
INDICATORS = {"Lt": "lt", "LtE": "le", "Gt": "gt", "GtE": "ge", "Eq": "eq"}

register(*_ENTRIES)
