"""Property tests: random programs from the grammar, reverse mode against sympy.diff and finite differences.

Each generated program is built twice, independently: as text for symgraph and as a SymPy
expression for the reference. Set SYMGRAPH_PROPERTY_EXAMPLES for a longer run.
"""

from __future__ import annotations

import functools
import os

import numpy as np
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from symgraph import LimitError, SymgraphError, derive, ops
from symgraph.lang.parse import parse
from symgraph.ops import relu, sigmoid, softplus, step

from .conftest import numeric

EXAMPLES = int(os.environ.get("SYMGRAPH_PROPERTY_EXAMPLES", "1000"))
#: The default run draws the same programs every time, so CI is repeatable; a longer run explores.
RANDOM = "SYMGRAPH_PROPERTY_EXAMPLES" in os.environ
INPUTS = ("x", "w")
UNARY = {
    "exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt, "sin": sp.sin, "cos": sp.cos, "tanh": sp.tanh,
    "sigmoid": sigmoid, "softplus": softplus, "relu": relu, "abs": sp.Abs, "step": step, "sign": sp.sign,
}
#: What a random program may legitimately be refused for: a limit, a domain error, or a constant.
ACCEPTABLE = ("undefined", "not a real number", "nothing to differentiate", "division by zero", "too large", "overflows")


def _acceptable(error: SymgraphError) -> bool:
    return isinstance(error, LimitError) or any(word in str(error) for word in ACCEPTABLE)
BINARY = {"+": sp.Add, "-": lambda a, b: a - b, "*": sp.Mul, "/": lambda a, b: a / b}


def _reference(function, *args) -> sp.Expr:
    """The reference SymPy expression; SymPy itself may fail on constants such as zoo**2 (then nan)."""
    if any(isinstance(a, sp.Basic) and a.has(sp.nan, sp.zoo) for a in args):
        return sp.nan
    try:
        return function(*args)
    except (ValueError, TypeError, AttributeError, KeyError, ZeroDivisionError):
        return sp.nan


@functools.cache
def expressions(names: tuple[str, ...]):
    """Pairs (text, build): build(env) makes the reference bottom-up. One strategy per name list, since
    hypothesis validates every new strategy and reads the source of its lambdas (most of the test's time)."""
    leaves = st.sampled_from(names).map(lambda n: (n, lambda env: env[n])) | st.integers(1, 3).map(
        lambda k: (str(k), lambda env: sp.Integer(k))
    )

    def extend(children):
        unary = st.tuples(st.sampled_from(sorted(UNARY)), children).map(
            lambda t: (f"{t[0]}({t[1][0]})", lambda env: _reference(UNARY[t[0]], t[1][1](env)))
        )
        binary = st.tuples(st.sampled_from(sorted(BINARY)), children, children).map(
            lambda t: (f"({t[1][0]} {t[0]} {t[2][0]})", lambda env: _reference(BINARY[t[0]], t[1][1](env), t[2][1](env)))
        )
        power = st.tuples(children, st.integers(2, 3)).map(
            lambda t: (f"({t[0][0]})**{t[1]}", lambda env: _reference(sp.Pow, t[0][1](env), t[1]))
        )
        # Terms that cancel: their derivative is symbolically zero (SymPy's reference folds them away).
        cancel = st.tuples(children, children).map(
            lambda t: (f"({t[0][0]} * {t[1][0]} - {t[0][0]} * {t[1][0]} + {t[1][0]})", lambda env: t[1][1](env))
        )
        return unary | binary | power | cancel

    return st.recursive(leaves, extend, max_leaves=6)


@st.composite
def programs(draw):
    """Named assignments over the inputs and earlier names: shared subexpressions by construction."""
    env = {n: sp.Symbol(n, real=True) for n in INPUTS}  # real, so the reference's |x|′ is sign(x)
    lines = []
    for i in range(draw(st.integers(1, 3))):
        text, build = draw(expressions(tuple(env)))
        name = f"v{i}"
        lines.append(f"{name} = {text}")
        env[name] = build(env)
    return "; ".join(lines), env[f"v{len(lines) - 1}"]


def _setup(program, point):
    """The text, the reference, the values of every input of the program, and both symbol lists."""
    text, reference = program
    try:
        inputs = parse(text).inputs
    except SymgraphError as error:
        assert _acceptable(error), error
        assume(False)
    assume(not reference.has(sp.nan, sp.zoo, sp.oo, -sp.oo))  # symgraph refuses these; tested elsewhere
    assume(sp.count_ops(reference) <= 60)  # keeps the reference's sympy.diff and lambdify quick
    at = {n: v for n, v in zip(INPUTS, point) if n in inputs}
    return text, reference, at, sp.symbols(INPUTS, real=True), sp.symbols(INPUTS)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(programs(), st.lists(st.floats(-2, 2), min_size=2, max_size=2))
def test_reverse_mode_equals_sympy_diff(program, point):
    """The gradient's straight-line value against sympy.diff of the whole expression."""
    text, reference, at, real, plain = _setup(program, point)
    d = _derive(text, at=at)
    for name in d.wrt:
        expected = _reference_value(sp.diff(reference, sp.Symbol(name, real=True)), real, point)
        ours = d.value(d.gradients.of(d.wrt[name]))
        assert np.isclose(ours, expected, rtol=1e-7, atol=_rounding(d)), (text, name, ours, expected)


@settings(max_examples=max(EXAMPLES // 5, 20), deadline=None, derandomize=not RANDOM, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(programs(), st.lists(st.floats(-2, 2), min_size=2, max_size=2))
def test_written_gradient_and_finite_differences_agree(program, point):
    """The gradient written out in the inputs, and the numerical check, on the same programs."""
    text, reference, at, real, plain = _setup(program, point)
    d = _derive(text, at=at)
    for name in d.wrt:
        if d.gradient[name] is not None:
            # In 50-digit arithmetic: an algebraically equal form may cancel catastrophically in floats.
            written = _precise(d.gradient[name], plain, point)
            exact = _precise(sp.diff(reference, sp.Symbol(name, real=True)), real, point)
            assert np.isclose(written, exact, rtol=1e-9, atol=1e-12), (text, name, written, exact)
    report = d.check()
    assert report.status != "failed", (text, report.reasons)


def _derive(text, **kwargs):
    with np.errstate(all="ignore"):
        try:
            d = derive(text, **kwargs)
        except SymgraphError as error:  # only domain errors at this point, or a constant program, are acceptable
            assert _acceptable(error), error
            assume(False)
    _away_from_kinks(d)
    return d


def _precise(expr, symbols, point) -> float:
    value = sp.N(expr.subs(dict(zip(symbols, map(sp.Float, point)))), 50)
    assume(value.is_real and value.is_finite)
    return float(value)


def _rounding(d) -> float:
    """Absolute tolerance of a float evaluation: x/(x·w) at w = 10⁻¹⁶ passes through 10³² and loses
    that many digits, although the result is small; the reference, written out by SymPy, does not."""
    finite = [abs(float(v)) for v in d.values.values() if np.isfinite(v)]
    return 1e-8 + 1e-12 * max(finite, default=0.0)


def _away_from_kinks(d) -> None:
    """At a kink (relu or abs of exactly 0) the derivative is a convention, not a fact to compare."""
    for node in d.graph.nodes("forward"):
        kink = ops.get(d.graph[node]["op"]).kink
        operand = d.graph.operands(node)[0]
        if kink is not None and isinstance(operand, int) and d.values is not None:
            assume(abs(d.value(operand) - kink) > 1e-6)


def _reference_value(exact, real, point):
    # Away from kinks the step and sign functions have zero derivative.
    exact = exact.replace(sp.DiracDelta, lambda *args: sp.Integer(0))
    exact = exact.replace(lambda e: isinstance(e, sp.Derivative) and isinstance(e.expr, sp.sign), lambda e: sp.Integer(0))
    with np.errstate(all="ignore"):
        value = float(numeric(exact, real)(*point))
    assume(np.isfinite(value) and abs(value) < 1e8)
    return value


@settings(max_examples=max(EXAMPLES // 10, 20), deadline=None, derandomize=not RANDOM, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.lists(st.floats(-2, 2), min_size=2, max_size=2))
def test_second_derivatives_equal_sympy_diff_twice(program, point):
    text, reference, at, real, plain = _setup(program, point)
    d = _derive(text, at=at, order=2)
    for i in d.wrt:
        for j in d.wrt:
            expected = _reference_value(sp.diff(reference, *sp.symbols(f"{i} {j}", real=True)), real, point)
            ours = d.value(d.second[i].of(d.wrt[j]))
            assert np.isclose(ours, expected, rtol=1e-6, atol=_rounding(d)), (text, i, j, ours, expected)
