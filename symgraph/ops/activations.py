"""The activation family: GELU (exact, and its tanh approximation), SiLU, leaky ReLU, ELU, softsign, hardtanh.

Each entry is one block (SymPy form, local derivative in the op's own symbols, stable NumPy, labels,
rule name), as in symgraph.ops.scalar. The SymPy functions' fdiff reads the registry, so sympy.diff,
symgraph and the printers agree; `_reference` is the same function in SymPy's own terms (evalf).
leaky_relu and elu take their slope `a` as a second operand (default 1/100 and 1, as PyTorch's),
differentiable like any other: a learnt slope (PReLU) needs nothing more. The kinks take relu's
convention at 0: PyTorch's gradients are those of --relu-at-zero 0.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from symgraph.ops.elementary import erfc_numpy
from symgraph.ops.registry import Op, register
from symgraph.ops.scalar import _RegisteredFunction, _sigmoid, _unary, relu, sigmoid, step

__all__ = ["gelu", "gelu_tanh", "silu", "leaky_relu", "elu", "softsign", "hardtanh"]

#: GELU's tanh approximation (Hendrycks & Gimpel; PyTorch's approximate="tanh"): √(2/π) and 0.044715.
_K = sp.sqrt(2 / sp.pi)
_C = sp.Rational(44715, 1_000_000)
_K_FLOAT, _C_FLOAT = math.sqrt(2 / math.pi), 0.044715


def _tanh_inner(u):
    return _K * (u + _C * u**3)


class gelu(_RegisteredFunction):
    """GELU, exact: gelu(u) = u·Φ(u) = u·(1 + erf(u/√2))/2, Φ the standard normal CDF."""

    op_name = "gelu"

    def _reference(self):
        return self._eval_rewrite_as_erf(*self.args)

    def _eval_rewrite_as_erf(self, arg, **kwargs):
        return arg * (1 + sp.erf(arg / sp.sqrt(2))) / 2


class gelu_tanh(_RegisteredFunction):
    """GELU's tanh approximation: u·(1 + tanh(√(2/π)·(u + 0.044715·u³)))/2."""

    op_name = "gelu_tanh"

    def _reference(self):
        return self._eval_rewrite_as_tanh(*self.args)

    def _eval_rewrite_as_tanh(self, arg, **kwargs):
        return arg * (1 + sp.tanh(_tanh_inner(arg))) / 2


class silu(_RegisteredFunction):
    """SiLU (swish): silu(u) = u·σ(u)."""

    op_name = "silu"

    def _eval_rewrite_as_exp(self, arg, **kwargs):
        return arg / (1 + sp.exp(-arg))


class leaky_relu(_RegisteredFunction):
    """leaky_relu(u, a) = u for u > 0, a·u otherwise."""

    op_name = "leaky_relu"

    def _reference(self):
        u, a = self.args
        return sp.Piecewise((u, u > 0), (a * u, True))


class elu(_RegisteredFunction):
    """elu(u, a) = u for u > 0, a·(eᵘ − 1) otherwise."""

    op_name = "elu"

    def _reference(self):
        u, a = self.args
        return sp.Piecewise((u, u > 0), (a * (sp.exp(u) - 1), True))


class softsign(_RegisteredFunction):
    """softsign(u) = u / (1 + |u|)."""

    op_name = "softsign"

    def _reference(self):
        return self.args[0] / (1 + sp.Abs(self.args[0]))


class hardtanh(_RegisteredFunction):
    """hardtanh(u) = u clipped to [−1, 1]."""

    op_name = "hardtanh"

    def _reference(self):
        return sp.Max(-1, sp.Min(1, self.args[0]))


# --- stable NumPy implementations ----------------------------------------------------------


def _gelu(u):
    """u·Φ(u) with Φ(u) = erfc(−u/√2)/2: no cancellation in 1 + erf for u ≪ 0, and finite at ±1000."""
    return u * erfc_numpy(-u / math.sqrt(2)) / 2


def _gelu_tanh(u):
    """(1 + tanh t)/2 = σ(2t): no cancellation in 1 + tanh t for u ≪ 0, and finite at ±1000."""
    return u * _sigmoid(2 * _K_FLOAT * (u + _C_FLOAT * u**3))


def _elu(u, a):
    """expm1 of min(u, 0): the branch not taken never overflows at u = 1000."""
    return np.where(u > 0, u, a * np.expm1(np.minimum(u, 0)))


def _with_slope(name, head, numpy, partials, default, **extra) -> Op:
    """Entry for an activation with a slope `a` after its argument; `partials(u, a, y)` are ∂y/∂u and ∂y/∂a."""
    latex = name.replace("_", r"\_")
    return Op(name, 2, head, lambda args, y: partials(*args, y), numpy, name, rf"\operatorname{{{latex}}}",
              f"{name.replace('_', ' ')} rule", head=head, is_function=True, defaults=(default,), **extra)


def _elu_kinks(operands) -> list[tuple[int, object, str]]:
    """elu′ jumps at 0 from a to 1, unless a = 1 (a slope given as a number; a computed one may be anything)."""
    a = operands[1]
    return [] if isinstance(a, sp.Expr) and a == 1 else [(0, sp.Integer(0), "at 0")]


def _gelu_tanh_partial(u, y):
    t = sp.tanh(_tanh_inner(u))
    return (1 + t) / 2 + u * (1 - t**2) * _K * (1 + 3 * _C * u**2) / 2


register(
    _unary("gelu", gelu, _gelu, lambda u, y: (1 + sp.erf(u / sp.sqrt(2))) / 2 + u * sp.exp(-(u**2) / 2) / sp.sqrt(2 * sp.pi),
           "gelu", r"\operatorname{gelu}", "gelu rule"),
    _unary("gelu_tanh", gelu_tanh, _gelu_tanh, _gelu_tanh_partial, "gelu_tanh", r"\operatorname{gelu}_{\tanh}",
           "gelu (tanh) rule"),
    _unary("silu", silu, lambda u: u * _sigmoid(u), lambda u, y: sigmoid(u) + y * (1 - sigmoid(u)), "silu",
           r"\operatorname{silu}", "silu rule", aliases=("swish",)),
    _with_slope("leaky_relu", leaky_relu, lambda u, a: np.where(u > 0, u, a * u),
                lambda u, a, y: (a + (1 - a) * step(u), u - relu(u)), sp.Rational(1, 100), kink=0.0,
                kink_note="leaky_relu′(0) = a + (1 − a)·step(0), step(0) = {relu_at_zero} by the --relu-at-zero convention"),
    _with_slope("elu", elu, _elu, lambda u, a, y: (step(u) + (1 - step(u)) * (y + a), sp.exp(u - relu(u)) - 1),
                sp.Integer(1), kinks_at=_elu_kinks,
                kink_note="elu′(0) = step(0) + (1 − step(0))·a, step(0) = {relu_at_zero} by the --relu-at-zero convention"),
    _unary("softsign", softsign, lambda u: u / (1 + np.abs(u)), lambda u, y: 1 / (1 + sp.Abs(u)) ** 2, "softsign",
           r"\operatorname{softsign}", "softsign rule"),
    _unary("hardtanh", hardtanh, lambda u: np.clip(u, -1.0, 1.0), lambda u, y: step(u + 1) * step(1 - u), "hardtanh",
           r"\operatorname{hardtanh}", "hardtanh rule", kinks_at=lambda operands: [(0, sp.Integer(-1), "at −1"), (0, sp.Integer(1), "at 1")],
           kink_note="hardtanh′(±1) = step(0) = {relu_at_zero} by the --relu-at-zero convention"),
)
