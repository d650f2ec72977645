"""The op registry: everything symgraph knows about one primitive lives in its entry.

An entry holds the SymPy form, the local partial derivatives written in the op's own
symbols (its operands and its output `y`, so exp' = y and σ' = y(1 − y) read as in a
textbook), a numerically stable NumPy implementation, the labels and the rule name.
The differentiator, the evaluator and the printers look ops up here and never branch
on op names; adding a primitive touches this file and the op test table.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import sympy as sp
from mpmath.libmp import prec_to_dps
from sympy.core.function import ArgumentIndexError

__all__ = [
    "Op",
    "OPS",
    "FUNCTIONS",
    "sigmoid",
    "softplus",
    "logsigmoid",
    "logsumexp",
    "relu",
    "step",
    "get",
    "decompose",
    "op_of_function",
    "approximate",
]

#: The default of a tensor op's parameter that must be given (cross_entropy's target class).
REQUIRED = -1

Partials = Callable[[Sequence[sp.Expr], sp.Expr], tuple[sp.Expr, ...]]


@dataclass(frozen=True)
class Op:
    """One primitive. `arity` is -1 for n-ary ops (sum, product)."""

    name: str
    arity: int
    build: Callable[..., sp.Expr]
    partials: Partials
    numpy: Callable[..., np.ndarray]
    text: str
    latex: str
    rule: str
    head: type | None = None
    kink: float | None = None
    kink_note: str = ""  # the convention used on the kink; {relu_at_zero} is filled in
    domain: str | None = None
    takes_relu_convention: bool = False
    is_function: bool = False  # called by name in programs, e.g. tanh(x)
    #: operands → the position whose value 0 is a pole or a domain edge (1/v, log u, √u), or None
    pole: Callable[[Sequence], int | None] | None = None
    #: Tensor ops only (symgraph.tensor_ops): operand shapes and integer parameters → output shape.
    shape: Callable[[Sequence[tuple], Sequence[int]], tuple] | None = None
    #: Tensor ops only: (operand shapes, operands, parameters, output, its adjoint, position) → the
    #: vector-Jacobian product ∂L/∂operand as a SymPy expression over those symbols.
    vjp: Callable[..., sp.Expr] | None = None
    #: Tensor ops only: keyword parameters with their defaults (None: omitted), stored after the operands.
    #: ("*", None) takes any number of integers (the dimensions of ones(3, 2)).
    keywords: tuple[tuple[str, int | None], ...] = ()
    #: Tensor ops only: (operand arrays of scalar terms, parameters) → the output's array of scalar terms,
    #: the op written component by component; the scalar engine differentiates it to verify `vjp`.
    components: Callable[..., np.ndarray] | None = None
    #: Tensor ops that route the gradient to one entry per window (max pooling): (operand, parameters) →
    #: the entry chosen in each window. Where the choice changes within the check's step, two entries tie
    #: and the derivative breaks, like relu's at 0.
    selects: Callable[..., np.ndarray] | None = None

    @property
    def is_tensor(self) -> bool:
        return self.shape is not None

    def split(self, operands: Sequence) -> tuple[tuple, list[int]]:
        """A tensor op's operands and its integer parameters (stored after them)."""
        count = len(operands) if self.arity == -1 else self.arity
        return tuple(operands[:count]), [int(p) for p in operands[count:]]

    def partial(self, args: Sequence[sp.Expr], out: sp.Expr, position: int) -> sp.Expr:
        return self.partials(args, out)[position]


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
        base = rf"\mathbb{{1}}\left({arg} {relation} 0\right)" if relation else rf"H\left({arg}\right)"
        return base if exp is None else rf"{base}^{{{exp}}}"

    def _numpycode(self, printer):
        return f"numpy.heaviside({printer._print(self.args[0])}, 0)"


# --- stable NumPy implementations ----------------------------------------------------------


def _sigmoid(u):
    """σ without overflow: e^(−|u|) never exceeds 1, so both branches are finite at ±1000."""
    e = np.exp(-np.abs(u))
    return np.where(u >= 0, 1 / (1 + e), e / (1 + e))


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
           pole=lambda operands: 0),
    _unary(
        "sqrt", sp.sqrt, np.sqrt, lambda u, y: 1 / (2 * y), "√", r"\sqrt", "square-root rule",
        domain="sqrt needs a non-negative argument (and a positive one for its derivative)", pole=lambda operands: 0,
    ),
    _unary("sin", sp.sin, np.sin, lambda u, y: sp.cos(u), "sin", r"\sin", "sine rule"),
    _unary("cos", sp.cos, np.cos, lambda u, y: -sp.sin(u), "cos", r"\cos", "cosine rule"),
    _unary("tanh", sp.tanh, np.tanh, lambda u, y: 1 - y**2, "tanh", r"\tanh", "tanh rule"),
    _unary("sigmoid", sigmoid, _sigmoid, lambda u, y: y * (1 - y), "σ", r"\sigma", "sigmoid rule"),
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
    _unary("step", step, _step, lambda u, y: sp.Integer(0), "1", r"\mathbb{1}", "step rule", kink=0.0,
           kink_note="the step jumps at 0; its value there is {relu_at_zero}", takes_relu_convention=True),
    _unary("sign", sp.sign, np.sign, lambda u, y: sp.Integer(0), "sign", r"\operatorname{sign}", "sign rule",
           kink=0.0, kink_note="sign jumps at 0"),
]

from .tensor_ops import TENSOR_ENTRIES  # noqa: E402  (they are Op entries too, built from the class above)
from .conv_ops import CONV_ENTRIES  # noqa: E402

_ENTRIES += TENSOR_ENTRIES + CONV_ENTRIES

OPS: dict[str, Op] = {op.name: op for op in _ENTRIES}

#: Functions a program may call, by name, with their number of arguments.
FUNCTIONS: dict[str, int] = {op.name: op.arity for op in _ENTRIES if op.is_function}

_BY_HEAD: dict[type, Op] = {op.head: op for op in _ENTRIES if op.head is not None}


def get(name: str) -> Op:
    return OPS[name]


def op_of_function(func: type) -> Op | None:
    """The entry of a SymPy head (sp.tanh, sigmoid, sp.Abs …), or None."""
    return _BY_HEAD.get(func)


def approximate(constant: sp.Expr) -> float:
    """The float value of a constant expression, op by op in NumPy: inf or nan when it does not fit.

    SymPy's evalf works in arbitrary precision, so exp(exp(exp(exp(3)))) would run for ever;
    floats overflow at once, which is the answer a limit needs.
    """
    if constant.is_Rational or constant.is_Float:
        return float(constant)
    if constant.is_NumberSymbol:
        return float(constant.evalf(17))
    if constant.has(sp.I, sp.zoo, sp.nan, sp.oo, -sp.oo):
        return float("nan")
    try:
        op, args = decompose(constant)
    except NotImplementedError:  # a head with no op (e.g. Max): small by construction here
        return float(sp.N(constant, 17))
    with np.errstate(all="ignore"):
        values = [approximate(a) for a in args]
        result = op.numpy(*values, at_zero=0.0) if op.takes_relu_convention else op.numpy(*values)
    return float(result) if np.ndim(result) == 0 else result  # a tensor constant, e.g. onehot(3, 1)


def decompose(expr: sp.Expr) -> tuple[Op, tuple[sp.Expr, ...]]:
    """Split a SymPy expression into its top op and operands (sqrt is Pow(u, 1/2) in SymPy)."""
    if isinstance(expr, sp.Pow) and expr.exp == sp.Rational(1, 2):
        return OPS["sqrt"], (expr.base,)
    if isinstance(expr, sp.Add) and len(expr.args) == 2:
        # SymPy writes u − v as u + (−1)·v; one sub node instead of a mul and an add.
        first, second = expr.args
        for kept, negated in ((first, second), (second, first)):
            if negated.is_Mul and negated.args[0] == -1 and not kept.could_extract_minus_sign():
                return OPS["sub"], (kept, -negated)
    op = _BY_HEAD.get(expr.func)
    if op is None:
        raise NotImplementedError(f"symgraph has no op for SymPy's {expr.func.__name__}")
    return op, tuple(expr.args)
