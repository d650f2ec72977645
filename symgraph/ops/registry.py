"""The op registry: everything symgraph knows about one primitive lives in its entry.

An entry holds the SymPy form, the local partial derivatives written in the op's own
symbols (its operands and its output `y`, so exp' = y and σ' = y(1 − y) read as in a
textbook), a numerically stable NumPy implementation, the labels and the rule name.
The differentiator, the evaluator and the printers look ops up here and never branch
on op names. The families (symgraph.ops.scalar; linalg, reductions, indexing, conv and pool
on the tensor base symgraph.ops.tensor) register their entries with `register`;
`symgraph.ops` imports them all, in one direction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp

from symgraph.notation import number

__all__ = [
    "Op", "OPS", "FUNCTIONS", "ALIASES", "REQUIRED", "UnregisteredHead", "register", "get", "decompose", "unregistered_head",
    "op_of_function", "approximate", "parameter", "user_functions",
]

#: The default of a tensor op's parameter that must be given (cross_entropy's target class).
REQUIRED = -1


def parameter(value) -> int | float:
    """A tensor op's parameter as its rules read it: an integer (axis, stride) or a number such as eps = 1e-5."""
    number = float(value)
    return int(number) if number.is_integer() else number

Partials = Callable[[Sequence[sp.Expr], sp.Expr], tuple[sp.Expr, ...]]


@dataclass(frozen=True)
class Op:
    """One primitive. `arity` is -1 for n-ary ops (sum, product)."""

    name: str
    arity: int
    build: Callable[..., sp.Expr]
    #: None for tensor ops, which give a vector-Jacobian rule (`vjp`) instead.
    partials: Partials | None
    numpy: Callable[..., np.ndarray]
    text: str
    latex: str
    rule: str
    head: type | None = None
    kink: float | None = None
    kink_note: str = ""  # the convention used on the kink; {relu_at_zero} is filled in
    #: Kinks that are several or depend on the operands: operands → [(operand position, the number or operand
    #: where the derivative breaks, where that is in words)]: hardtanh at ±1, elu at 0 unless a = 1, max(a, b)
    #: where a = b. Without it, `kink` is the one kink (of operand 0).
    kinks_at: Callable[[Sequence], list[tuple[int, object, str]]] | None = None
    domain: str | None = None
    takes_relu_convention: bool = False
    is_function: bool = False  # called by name in programs, e.g. tanh(x)
    aliases: tuple[str, ...] = ()  # other names a program may call it by (ln for log)
    #: A gradient's op (sum_to, unslice, max_mask, conv2d_input_grad …): callable, so that a derivative's source
    #: form parses back, but not a function users are offered (in suggestions and lists of known functions).
    internal: bool = False
    #: Scalar functions: the values of the trailing operands a call may leave out (leaky_relu's slope 1/100).
    defaults: tuple[sp.Expr, ...] = ()
    #: operands → the position whose value 0 is a pole or a domain edge (1/v, log u, √u), or None
    pole: Callable[[Sequence], int | None] | None = None
    #: Tensor ops only (symgraph.ops.tensor): operand shapes and integer parameters → output shape.
    shape: Callable[[Sequence[tuple], Sequence[int]], tuple] | None = None
    #: Tensor ops only: (operand shapes, operands, parameters, output, its adjoint, position) → the
    #: vector-Jacobian product ∂L/∂operand as a SymPy expression over those symbols.
    vjp: Callable[..., sp.Expr] | None = None
    #: Tensor ops only: keyword parameters with their defaults (None: omitted), stored after the operands.
    #: ("*", None) takes any number of integers (the dimensions of ones(3, 2)).
    #: A float default (eps=1e-5) makes the parameter a number rather than an integer.
    keywords: tuple[tuple[str, int | float | None], ...] = ()
    #: Tensor ops only: (operand arrays of scalar terms, parameters) → the output's array of scalar terms,
    #: the op written component by component; the scalar engine differentiates it to verify `vjp`.
    components: Callable[..., np.ndarray] | None = None
    #: Tensor ops that route the gradient to one entry per window (max pooling): (operand, parameters) →
    #: the entry chosen in each window. Where the choice changes within the check's step, two entries tie
    #: and the derivative breaks, like relu's at 0.
    selects: Callable[..., np.ndarray] | None = None
    #: Tensor ops only, for the text of a Jacobian: (operand shapes, operands, parameters, output, position) →
    #: ∂output/∂operand as a matrix of the course's notation (z = W x: W; softmax: diag(p) − p pᵀ), for a
    #: vector output of a vector operand, or a sentence where it has more axes than a matrix (z = W x by W);
    #: None where the op has no such closed form.
    jacobian: Callable[..., sp.Expr | str | None] | None = None
    #: Tensor ops only: the result holds integers (an index: argmax, topk_indices), a forward value that may
    #: index the rest of the program (X[k]). It is piecewise constant: its derivative is 0 wherever it is
    #: defined, so the backward pass lets no gradient through it (with a note), and indexing sends none to it.
    integer: bool = False
    #: Calls that mean another op: (number of positional arguments, or a keyword that is an operand, its name).
    #: max(X) is the reduction reduce_max; conv2d(x, K, bias=b) is conv2d_bias.
    variants: tuple[tuple[int | str, str], ...] = ()
    #: A binary op called with more arguments applies left to right: max(a, b, c) = max(max(a, b), c).
    folds: bool = False
    #: Multiply-adds of one evaluation from the operand shapes and the output's (a matrix product's m·k·n), for the
    #: ops that do more than touch each entry; None: one per entry read and written.
    work: Callable[[Sequence[tuple], tuple], int] | None = None
    #: Textbook forms, as data symgraph.explain.textbook applies to a derivative that uses the op: () → pairs
    #: (pattern with SymPy Wilds, replacement: an expression or a callable of the Wilds' values), σ(−u) = 1 − σ(u)
    #: or A x + xᵀA = (A + Aᵀ)x; a callable, as the tensor heads exist only once registered. A rewrite is shown
    #: only when verified equal, so a pattern may over-match.
    textbook: Callable[[], Sequence[tuple[sp.Expr, sp.Expr | Callable[..., sp.Expr]]]] | None = None
    #: The op's derivative written in its output cancels poles of what follows it (σ′ = σ(1 − σ) against the
    #: 1/σ and 1/(1 − σ) of a cross-entropy): the textbook form cancels the derivative as a rational function
    #: of the op's forward names, so −(y log p + (1 − y) log(1 − p)) through p = σ(z) reads p − y.
    cancels: bool = False
    #: Scalar ops whose written partials cancel in floating point (σ′ = y(1 − y) is 0 at u = 40, the true value
    #: 4.25·10⁻¹⁸): (operand values, output value) → the same partials, evaluated stably. Only the numbers
    #: change; the partials are still shown as written.
    stable: Callable[[Sequence[np.ndarray], np.ndarray], tuple[np.ndarray, ...]] | None = None

    @property
    def is_tensor(self) -> bool:
        return self.shape is not None

    def split(self, operands: Sequence) -> tuple[tuple, list]:
        """A tensor op's operands and its parameters (stored after them)."""
        count = len(operands) if self.arity == -1 else self.arity
        return tuple(operands[:count]), [parameter(p) for p in operands[count:]]

    def kinks(self, operands: Sequence) -> list[tuple[int, object, str]]:
        """Where the derivative of the node with these operands jumps: (operand position, the number or operand
        it breaks at, where in words, e.g. "at 0" or "where its arguments tie")."""
        if self.kinks_at is not None:
            return self.kinks_at(operands)
        return [] if self.kink is None else [(0, sp.Float(self.kink), f"at {number(self.kink)}")]

    def partial(self, args: Sequence[sp.Expr], out: sp.Expr, position: int) -> sp.Expr:
        assert self.partials is not None, f"{self.name} is a tensor op: it has a vjp, not partials"
        return self.partials(args, out)[position]


OPS: dict[str, Op] = {}

#: Functions a program may call, by name or alias, with their number of arguments.
FUNCTIONS: dict[str, int] = {}

#: Another name of a function → its op's name (ln → log).
ALIASES: dict[str, str] = {}

_BY_HEAD: dict[type, Op] = {}


class UnregisteredHead(NotImplementedError):
    """A SymPy head that no op stands for (gamma, Max): symgraph cannot build, evaluate or differentiate it as a node."""

    def __init__(self, head: type):
        self.head = head
        super().__init__(f"symgraph has no op for SymPy's {head.__name__}")


def register(*entries: Op) -> None:
    """Add a family's entries, all or none: the registry stays closed under differentiation.

    A name or SymPy head registered twice is a programming error, and so is a scalar op whose
    local partials use a SymPy head with no op (gamma, say): symgraph could not differentiate
    through it. Entries of one call may use each other (softplus′ = σ). One level is enough:
    every head in a partial has an entry whose own partials passed this check, so by the chain
    rule the derivatives of every order stay in the registry (tests/test_registry.py walks the
    second order on every entry).
    """
    added: list[Op] = []
    try:
        for op in entries:
            _add(op)
            added.append(op)
        for op in entries:
            _require_closed(op)
    except Exception:
        for op in added:
            _remove(op)
        raise


def _add(op: Op) -> None:
    if op.name in OPS or (op.head is not None and op.head in _BY_HEAD) or any(n in FUNCTIONS for n in op.aliases):
        raise ValueError(f"op {op.name!r} is registered twice")
    OPS[op.name] = op
    if op.is_function:
        FUNCTIONS[op.name] = op.arity
    for alias in op.aliases:
        FUNCTIONS[alias] = op.arity
        ALIASES[alias] = op.name
    if op.head is not None:
        _BY_HEAD[op.head] = op


def _remove(op: Op) -> None:
    del OPS[op.name]
    FUNCTIONS.pop(op.name, None)
    for alias in op.aliases:
        del FUNCTIONS[alias], ALIASES[alias]
    if op.head is not None:
        del _BY_HEAD[op.head]


def _require_closed(op: Op) -> None:
    """Refuse an entry the engine could not differentiate through: partials outside the registry, or none at all.

    A tensor op's vector-Jacobian rule needs operand shapes to be written, so it is checked by
    the tests (on a program per op), not here.
    """
    if op.is_tensor:
        return
    if op.partials is None:
        raise ValueError(f"op {op.name!r} has neither local partials nor a shape rule")
    operands = [sp.Dummy(f"u{i}") for i in range(op.arity if op.arity >= 0 else 3)]
    # Written unevaluated, as the entry spells them: an evaluated Add would import SymPy's tensor
    # module (17 ms) while symgraph is imported. The tests walk the evaluated forms, to second order.
    with sp.evaluate(False):
        partials = op.partials(operands, sp.Dummy("y"))
    if len(partials) != len(operands):
        raise ValueError(f"op {op.name!r} gives {len(partials)} partials for {len(operands)} operands")
    for partial in partials:
        head = unregistered_head(partial)
        if head is not None:
            raise ValueError(f"op {op.name!r}: its derivative {partial} uses SymPy's {head.__name__}, which has no op")


def unregistered_head(expr: sp.Expr) -> type | None:
    """The first SymPy head in `expr` that no op stands for, walked as Graph.add_expr inserts it; None if all have one."""
    if expr.is_Symbol or expr.is_number:
        return None
    try:
        _, args = decompose(expr)
    except UnregisteredHead as error:
        return error.head
    for arg in args:
        head = unregistered_head(arg)
        if head is not None:
            return head
    return None


def user_functions() -> list[str]:
    """The functions a program is offered, by name and alias, sorted: every callable op but the gradients' own."""
    return sorted(name for name in FUNCTIONS if not get(name).internal)


def get(name: str) -> Op:
    """The entry of an op, by its name or an alias."""
    return OPS[ALIASES.get(name, name)]


def op_of_function(func: type) -> Op | None:
    """The entry of a SymPy head (sp.tanh, sigmoid, sp.Abs …), or None."""
    return _BY_HEAD.get(func)


def approximate(constant: sp.Expr, at: Mapping[sp.Symbol, float | np.ndarray] | None = None) -> float | np.ndarray:
    """The float value of a constant expression, op by op in NumPy: inf or nan when it does not fit.

    SymPy's evalf works in arbitrary precision, so exp(exp(exp(exp(3)))) would run for ever;
    floats overflow at once, which is the answer a limit needs. `at` gives symbols their values.
    """
    if at is not None and constant.is_Symbol:
        return at[constant]
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
        values = [approximate(a, at) for a in args]
        result = op.numpy(*values, at_zero=0.0) if op.takes_relu_convention else op.numpy(*values)
    return float(result) if np.ndim(result) == 0 else result  # a tensor constant, e.g. onehot(1, 3)


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
        raise UnregisteredHead(expr.func)
    return op, tuple(expr.args)
