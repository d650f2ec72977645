"""The scalar family: arithmetic, the elementary functions and the deep-learning primitives.

Each entry is one block: SymPy form, local partials in the op's own symbols, stable NumPy, labels,
rule name. sigmoid, softplus, relu … are SymPy functions too; their fdiff reads the registry, so
sympy.diff, symgraph and the printers agree.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import sympy as sp
from mpmath.libmp import prec_to_dps
from sympy.core.function import ArgumentIndexError

from symgraph.ops.registry import OPS, Op, register

__all__ = ["sigmoid", "softplus", "logsigmoid", "logsumexp", "relu", "step"]


# --- SymPy citizens for the deep-learning primitives ------------------------------------
# Their fdiff reads the registry, so sympy.diff, symgraph and the printers agree.


class _RegisteredFunction(sp.Function):
    op_name: str = ""

    def _reference(self) -> sp.Expr:
        """The same function in SymPy's own terms (for evalf only): its exp form unless overridden."""
        return self._eval_rewrite_as_exp(*self.args)

    def _eval_evalf(self, prec):
        return self._reference().evalf(prec_to_dps(prec))

    def fdiff(self, argindex=1):
        if not 1 <= argindex <= len(self.args):
            raise ArgumentIndexError(self, argindex)
        return OPS[self.op_name].partial(self.args, self, argindex - 1)

    def _latex(self, printer, exp=None):
        arg = ", ".join(printer._print(a) for a in self.args)
        name = OPS[self.op_name].latex
        if exp is not None:
            return rf"{name}^{{{exp}}}\left({arg}\right)"
        return rf"{name}\left({arg}\right)"


class sigmoid(_RegisteredFunction):
    """The logistic function σ(u) = 1 / (1 + e^(−u))."""

    op_name = "sigmoid"

    @classmethod
    def eval(cls, arg):
        if arg.is_zero:
            return sp.Rational(1, 2)
        return None

    def _eval_rewrite_as_exp(self, arg, **kwargs):
        return 1 / (1 + sp.exp(-arg))

    def _numpycode(self, printer):
        return f"(1/(1 + numpy.exp(-({printer._print(self.args[0])}))))"


class softplus(_RegisteredFunction):
    """softplus(u) = log(1 + e^u), a smooth relu."""

    op_name = "softplus"

    @classmethod
    def eval(cls, arg):
        if arg.is_zero:
            return sp.log(2)
        return None

    def _eval_rewrite_as_exp(self, arg, **kwargs):
        return sp.log(1 + sp.exp(arg))

    def _numpycode(self, printer):
        return f"numpy.logaddexp(0, {printer._print(self.args[0])})"


class logsigmoid(_RegisteredFunction):
    """log σ(u) = −softplus(−u), finite where log(sigmoid(u)) would underflow to log(0)."""

    op_name = "logsigmoid"

    def _eval_rewrite_as_exp(self, arg, **kwargs):
        return -sp.log(1 + sp.exp(-arg))

    def _numpycode(self, printer):
        return f"(-numpy.logaddexp(0, -({printer._print(self.args[0])})))"


class logsumexp(_RegisteredFunction):
    """log(e^a + e^b + …), computed without overflow; its partials are the softmax."""

    op_name = "logsumexp"

    def _eval_rewrite_as_exp(self, *args, **kwargs):
        return sp.log(sp.Add(*(sp.exp(a) for a in args)))

    def _numpycode(self, printer):
        code = printer._print(self.args[0])
        for arg in self.args[1:]:
            code = f"numpy.logaddexp({code}, {printer._print(arg)})"
        return code


class relu(_RegisteredFunction):
    """relu(u) = max(0, u)."""

    op_name = "relu"

    @classmethod
    def eval(cls, arg):
        if arg.is_number and arg.is_extended_real:
            return sp.Max(arg, 0)
        return None

    def _eval_rewrite_as_Max(self, arg, **kwargs):
        return sp.Max(arg, 0)

    def _reference(self):
        return sp.Max(self.args[0], 0)

    def _numpycode(self, printer):
        return f"numpy.maximum({printer._print(self.args[0])}, 0)"


class step(_RegisteredFunction):
    """The unit step 1(u > 0), relu's derivative; its value at 0 is a convention chosen at evaluation."""

    op_name = "step"

    @classmethod
    def eval(cls, arg):
        if arg.is_number and arg.is_extended_real and not arg.is_zero:
            return sp.Integer(1) if arg.is_positive else sp.Integer(0)
        return None

    def _eval_rewrite_as_Heaviside(self, arg, **kwargs):
        return sp.Heaviside(arg, 0)

    def _reference(self):
        return sp.Heaviside(self.args[0], 0)

    def _latex(self, printer, exp=None):
        at_zero = getattr(printer, "relu_at_zero", 0.0)  # symgraph's printer knows the convention
        relation = {0.0: ">", 1.0: r"\geq"}.get(at_zero)
        arg = printer._print(self.args[0])
        base = rf"\mathbf{{1}}\left({arg} {relation} 0\right)" if relation else rf"H\left({arg}\right)"
        return base if exp is None else rf"{base}^{{{exp}}}"

    def _numpycode(self, printer):
        return f"numpy.heaviside({printer._print(self.args[0])}, 0)"


# --- stable NumPy implementations ----------------------------------------------------------


#: A negated operand, in the textbook rewrites' patterns (a bare Wild would read z as −(−z)).
_NEGATED = sp.Wild("u", properties=[lambda e: e.could_extract_minus_sign()])


def _sigmoid(u):
    """σ without overflow: e^(−|u|) never exceeds 1, so both branches are finite at ±1000."""
    e = np.exp(-np.abs(u))
    return np.where(u >= 0, 1 / (1 + e), e / (1 + e))


def _sigmoid_partial(args, y):
    """σ′(u) = σ(u)σ(−u) = e^(−|u|)/(1 + e^(−|u|))², which y(1 − y) rounds to 0 once σ(u) rounds to 1."""
    e = np.exp(-np.abs(args[0]))
    return (e / (1 + e) ** 2,)


def _tanh_partial(args, y):
    """tanh′(u) = 1/cosh²(u) = 4e^(−2|u|)/(1 + e^(−2|u|))², which 1 − y² rounds to 0 once tanh(u) rounds to ±1."""
    e = np.exp(-2 * np.abs(args[0]))
    return (4 * e / (1 + e) ** 2,)


def _logsumexp(*values):
    """Pairwise log-add-exp: shifts by the larger argument, so finite at ±1000."""
    return functools.reduce(np.logaddexp, values)


def _step(u, at_zero=0.0):
    return np.where(u > 0, 1.0, np.where(u < 0, 0.0, at_zero))


def _product(*values):
    out = np.asarray(1.0)
    for v in values:
        out = out * v
    return out


def _sum(*values):
    out = np.asarray(0.0)
    for v in values:
        out = out + v
    return out


def _others(args: Sequence[sp.Expr], i: int) -> sp.Expr:
    return sp.Mul(*(a for j, a in enumerate(args) if j != i))


def _unary(name, head, numpy, partial, text, latex, rule, **extra) -> Op:
    """Entry for a function of one argument; `partial(u, y)` is its derivative."""
    return Op(
        name=name,
        arity=1,
        build=head,
        partials=lambda a, y: (partial(a[0], y),),
        numpy=numpy,
        text=text,
        latex=latex,
        rule=rule,
        head=head,
        is_function=True,
        **extra,
    )


_ENTRIES = [
    Op("add", -1, sp.Add, lambda a, y: (sp.Integer(1),) * len(a), _sum, "+", "+", "sum rule", head=sp.Add),
    Op("sub", 2, lambda u, v: u - v, lambda a, y: (sp.Integer(1), sp.Integer(-1)), np.subtract, "−", "-", "difference rule"),
    Op("neg", 1, lambda u: -u, lambda a, y: (sp.Integer(-1),), np.negative, "−", "-", "negation"),
    Op(
        "mul", -1, sp.Mul, lambda a, y: tuple(_others(a, i) for i in range(len(a))), _product, "·", r"\cdot",
        "product rule", head=sp.Mul,
    ),
    Op(
        "div", 2, lambda u, v: u / v, lambda a, y: (1 / a[1], -a[0] / a[1] ** 2), np.divide, "/", "/",
        "quotient rule", domain="division by zero", pole=lambda operands: 1,
    ),
    Op(
        "pow", 2, sp.Pow, lambda a, y: (a[1] * a[0] ** (a[1] - 1), y * sp.log(a[0])), np.power, "^", "^",
        "power rule", head=sp.Pow, domain="0 to a negative power divides by zero, and a negative base needs an integer exponent",
        pole=lambda operands: 0 if isinstance(operands[1], sp.Expr) and operands[1] < 1 else None,
    ),
    _unary("exp", sp.exp, np.exp, lambda u, y: y, "exp", r"\exp", "exp rule", domain="overflow"),
    _unary("log", sp.log, np.log, lambda u, y: 1 / u, "log", r"\log", "log rule", domain="log needs a positive argument",
           pole=lambda operands: 0, aliases=("ln",)),
    _unary(
        "sqrt", sp.sqrt, np.sqrt, lambda u, y: 1 / (2 * y), "√", r"\sqrt", "square-root rule",
        domain="sqrt needs a non-negative argument (and a positive one for its derivative)", pole=lambda operands: 0,
    ),
    _unary("sin", sp.sin, np.sin, lambda u, y: sp.cos(u), "sin", r"\sin", "sine rule"),
    _unary("cos", sp.cos, np.cos, lambda u, y: -sp.sin(u), "cos", r"\cos", "cosine rule"),
    _unary("tanh", sp.tanh, np.tanh, lambda u, y: 1 - y**2, "tanh", r"\tanh", "tanh rule", stable=_tanh_partial),
    _unary("sigmoid", sigmoid, _sigmoid, lambda u, y: y * (1 - y), "σ", r"\sigma", "sigmoid rule", stable=_sigmoid_partial,
           textbook=lambda: ((sigmoid(_NEGATED), lambda u: 1 - sigmoid(-u)),), cancels=True),  # σ(−z) = 1 − σ(z); σ′ cancels log's 1/σ
    _unary("softplus", softplus, lambda u: np.logaddexp(0.0, u), lambda u, y: sigmoid(u), "softplus",
           r"\operatorname{softplus}", "softplus rule"),
    _unary("logsigmoid", logsigmoid, lambda u: -np.logaddexp(0.0, -u), lambda u, y: sigmoid(-u), "log σ",
           r"\log\sigma", "log-sigmoid rule"),
    Op(
        "logsumexp", -1, logsumexp, lambda a, y: tuple(sp.exp(u - y) for u in a), _logsumexp, "logsumexp",
        r"\operatorname{logsumexp}", "log-sum-exp rule", head=logsumexp, is_function=True,
    ),
    _unary("relu", relu, lambda u: np.maximum(u, 0.0), lambda u, y: step(u), "relu", r"\operatorname{relu}",
           "relu rule", kink=0.0, kink_note="relu′(0) = {relu_at_zero} by the --relu-at-zero convention"),
    _unary("abs", sp.Abs, np.abs, lambda u, y: sp.sign(u), "abs", r"\operatorname{abs}", "absolute-value rule",
           kink=0.0, kink_note="abs′(0) = sign(0) = 0, the minimum-norm subgradient"),
    _unary("step", step, _step, lambda u, y: sp.Integer(0), "1", r"\mathbf{1}", "step rule", kink=0.0,
           kink_note="the step jumps at 0; its value there is {relu_at_zero}", takes_relu_convention=True),
    _unary("sign", sp.sign, np.sign, lambda u, y: sp.Integer(0), "sign", r"\operatorname{sign}", "sign rule",
           kink=0.0, kink_note="sign jumps at 0"),
]

register(*_ENTRIES)
