"""A floating-point agreement re-checked in exact arithmetic, relative to the size of the terms.

Floating point calls exp(x) and exp(x) + e⁻¹⁰⁰⁰·sin(x) equal (e⁻¹⁰⁰⁰ underflows), and e⁻¹⁰⁰⁰ and e⁻¹⁰⁰⁰·cos(x) too
(both are 0 in floats). At a few of the points the numbers agreed at, SymPy's evalf, which raises its working
precision until it knows the difference to 15 digits or to DIGITS digits of the terms that cancel in it, tells
them apart: a difference large relative to the terms is "not equal", one small relative to them is "equal up to"
its size, and only a difference that vanishes to DIGITS digits leaves the candidate equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from symgraph.notation import SUPERSCRIPTS, number, pretty_name
from symgraph.teach.mistakes import RTOL

__all__ = ["Recheck", "recheck", "power_text", "PRECISE_POINTS", "DIGITS", "MAX_PRECISE_OPS"]

PRECISE_POINTS = 8  #: points of the floating-point agreement re-checked exactly
DIGITS = 1000  #: digits of the terms a difference must vanish to, for "equal"
MAX_PRECISE_OPS = 400  #: a larger difference keeps its floating-point verdict


@dataclass(frozen=True)
class Recheck:
    """What exact arithmetic found: not equal (`equal` False) or equal only up to 10^`power` (`equal` None)."""

    equal: bool | None
    reason: str
    power: int | None = None  # the largest difference found is at most 10^power times the terms


def recheck(derivative: sp.Expr, difference: sp.Expr, points: Mapping[str, np.ndarray]) -> Recheck | None:
    """None when the difference vanishes to DIGITS digits at every point re-checked (or cannot be re-checked)."""
    if sp.count_ops(difference) > MAX_PRECISE_OPS:
        return None
    symbols = {s.name: s for s in difference.free_symbols}
    derivative = derivative.xreplace({sp.Symbol(n): s for n, s in symbols.items()})
    largest, count = mpmath.mpf(0), 0
    for k in range(min(PRECISE_POINTS, len(next(iter(points.values()))))):
        at = {symbols[n]: sp.Rational(float(p[k])) for n, p in points.items() if n in symbols}
        found = [_exact(e.xreplace(at)) for e in (difference, derivative, derivative - difference)]
        gap, d, c = found
        if gap is None or d is None or c is None:
            continue
        count += 1
        scale = max(abs(d), abs(c))
        if gap and (not scale or abs(gap) > RTOL * scale):
            where = ", ".join(f"{pretty_name(n)} = {number(p[k])}" for n, p in points.items())
            return Recheck(False, f"in {DIGITS}-digit arithmetic, at {where} the derivative is {_text(d)} "
                                  f"but this is {_text(c)}")
        largest = max(largest, abs(gap) / scale if gap else mpmath.mpf(0))
    if not largest:
        return None
    power = int(mpmath.ceil(mpmath.log10(largest)))
    return Recheck(None, f"the largest difference relative to the terms, at {count} point{'s' if count != 1 else ''}"
                         f" in {DIGITS}-digit arithmetic", power)


def _exact(expr: sp.Expr) -> mpmath.mpf | None:
    """The value to 15 digits; 0 when it vanishes to DIGITS digits of its terms; None when it is not a real number."""
    value = sp.N(expr, 15, maxn=DIGITS)
    if value == 0:
        return mpmath.mpf(0)
    if not isinstance(value, sp.Float):
        return None
    return mpmath.mpf(0) if value._prec < 10 else mpmath.mpf(value._mpf_)


def _text(value: mpmath.mpf) -> str:
    """6 significant digits at any size: 1.05457·10⁻⁴³⁴ is beyond a float."""
    if not value or 1e-300 < abs(value) < 1e300:
        return number(float(value))
    mantissa, exponent = mpmath.nstr(value, 6, min_fixed=1, max_fixed=0).split("e")
    return f"{mantissa}·10{str(int(exponent)).translate(SUPERSCRIPTS)}".replace("-", "−")


def power_text(power: int) -> str:
    """10⁻⁴³⁴."""
    return f"10{str(power).translate(SUPERSCRIPTS)}"
