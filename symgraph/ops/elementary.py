"""The elementary family: the trigonometric, hyperbolic and inverse functions, erf, and logarithms to bases 2 and 10.

Each entry is one block (SymPy form, local derivative in the op's own symbols, stable NumPy, labels,
rule name), as in symgraph.ops.scalar. erf is here so that the activations (GELU) can use it.
log₂ and log₁₀ are SymPy functions of their own, since SymPy writes log(u, 2) as log(u)/log(2).
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from symgraph.ops.registry import register
from symgraph.ops.scalar import _RegisteredFunction, _unary

__all__ = ["log2", "log10", "erf_numpy", "erfc_numpy"]

#: erf and erfc, entry by entry (NumPy has none; math's are correct to the last bits, and finite at ±∞).
erf_numpy = np.vectorize(math.erf, otypes=[float])
erfc_numpy = np.vectorize(math.erfc, otypes=[float])


class _LogToBase(_RegisteredFunction):
    base = 0

    def _reference(self) -> sp.Expr:
        return sp.log(self.args[0]) / sp.log(self.base)

    def _eval_rewrite_as_log(self, arg, **kwargs):
        return sp.log(arg) / sp.log(self.base)


class log2(_LogToBase):
    """The logarithm to base 2, log₂ u = log u / log 2."""

    op_name = "log2"
    base = 2


class log10(_LogToBase):
    """The logarithm to base 10, log₁₀ u = log u / log 10."""

    op_name = "log10"
    base = 10


_INVERSE_DOMAIN = "needs an argument in [−1, 1] (and inside (−1, 1) for its derivative)"
_LOG_DOMAIN = "needs a positive argument"

register(
    _unary("tan", sp.tan, np.tan, lambda u, y: 1 + y**2, "tan", r"\tan", "tangent rule",
           domain="tan has poles at π/2 + kπ"),
    _unary("sinh", sp.sinh, np.sinh, lambda u, y: sp.cosh(u), "sinh", r"\sinh", "sinh rule", domain="overflow"),
    _unary("cosh", sp.cosh, np.cosh, lambda u, y: sp.sinh(u), "cosh", r"\cosh", "cosh rule", domain="overflow"),
    _unary("arctan", sp.atan, np.arctan, lambda u, y: 1 / (1 + u**2), "arctan", r"\arctan", "arctangent rule",
           aliases=("atan",)),
    _unary("arcsin", sp.asin, np.arcsin, lambda u, y: 1 / sp.sqrt(1 - u**2), "arcsin", r"\arcsin", "arcsine rule",
           domain=f"arcsin {_INVERSE_DOMAIN}", aliases=("asin",)),
    _unary("arccos", sp.acos, np.arccos, lambda u, y: -1 / sp.sqrt(1 - u**2), "arccos", r"\arccos", "arccosine rule",
           domain=f"arccos {_INVERSE_DOMAIN}", aliases=("acos",)),
    _unary("erf", sp.erf, erf_numpy, lambda u, y: 2 / sp.sqrt(sp.pi) * sp.exp(-(u**2)), "erf",
           r"\operatorname{erf}", "error-function rule"),
    _unary("log2", log2, np.log2, lambda u, y: 1 / (u * sp.log(2)), "log₂", r"\log_2", "log₂ rule",
           domain=f"log₂ {_LOG_DOMAIN}", pole=lambda operands: 0),
    _unary("log10", log10, np.log10, lambda u, y: 1 / (u * sp.log(10)), "log₁₀", r"\log_{10}", "log₁₀ rule",
           domain=f"log₁₀ {_LOG_DOMAIN}", pole=lambda operands: 0),
)
