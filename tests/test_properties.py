"""Property tests: random programs from the grammar, reverse mode against sympy.diff and finite differences.

Each generated program is built twice, independently: as text for symgraph and as a SymPy
expression for the reference. Set SYMGRAPH_PROPERTY_EXAMPLES for a longer run.
"""

from __future__ import annotations

import os

import numpy as np
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from symgraph import derive
from symgraph.parse import parse
from symgraph.ops import relu, sigmoid, softplus

from .conftest import numeric

EXAMPLES = int(os.environ.get("SYMGRAPH_PROPERTY_EXAMPLES", "100"))
INPUTS = ("x", "w")
UNARY = {
    "exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt, "sin": sp.sin, "cos": sp.cos, "tanh": sp.tanh,
    "sigmoid": sigmoid, "softplus": softplus, "relu": relu, "abs": sp.Abs,
}
#: What a random program may legitimately be refused for: a domain error or a constant.
ACCEPTABLE = ("undefined", "not a real number", "constant", "division by zero")
BINARY = {"+": sp.Add, "-": lambda a, b: a - b, "*": sp.Mul, "/": lambda a, b: a / b}


def expressions(names: tuple[str, ...], env: dict[str, sp.Expr]):
    leaves = st.sampled_from(names).map(lambda n: (n, env[n])) | st.integers(1, 3).map(lambda k: (str(k), sp.Integer(k)))

    def extend(children):
        unary = st.tuples(st.sampled_from(sorted(UNARY)), children).map(
            lambda t: (f"{t[0]}({t[1][0]})", UNARY[t[0]](t[1][1]))
        )
        binary = st.tuples(st.sampled_from(sorted(BINARY)), children, children).map(
            lambda t: (f"({t[1][0]} {t[0]} {t[2][0]})", BINARY[t[0]](t[1][1], t[2][1]))
        )
        power = st.tuples(children, st.integers(2, 3)).map(lambda t: (f"({t[0][0]})**{t[1]}", t[0][1] ** t[1]))
        return unary | binary | power

    return st.recursive(leaves, extend, max_leaves=6)


@st.composite
def programs(draw):
    """Named assignments over the inputs and earlier names: shared subexpressions by construction."""
    env = {n: sp.Symbol(n, real=True) for n in INPUTS}  # real, so the reference's |x|′ is sign(x)
    lines = []
    for i in range(draw(st.integers(1, 3))):
        text, expr = draw(expressions(tuple(env), env))
        name = f"v{i}"
        lines.append(f"{name} = {text}")
        env[name] = expr
    return "; ".join(lines), env[f"v{len(lines) - 1}"]


def _setup(program, point):
    """The text, the reference, the values of every input of the program, and both symbol lists."""
    text, reference = program
    at = {n: v for n, v in zip(INPUTS, point) if n in parse(text).inputs}
    return text, reference, at, sp.symbols(INPUTS, real=True), sp.symbols(INPUTS)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(programs(), st.lists(st.floats(-2, 2), min_size=2, max_size=2))
def test_reverse_mode_equals_sympy_diff_and_finite_differences(program, point):
    text, reference, at, real, plain = _setup(program, point)
    with np.errstate(all="ignore"):
        try:
            d = derive(text, at=at)
        except Exception as error:  # only domain errors at this point, or a constant program, are acceptable
            assert any(word in str(error) for word in ACCEPTABLE), error
            assume(False)
        for name in d.wrt:
            ours = d.value(d.gradients.of(d.wrt[name]))
            expected = float(numeric(sp.diff(reference, sp.Symbol(name, real=True)), real)(*point))
            assume(np.isfinite(expected) and abs(expected) < 1e8)
            assert np.isclose(ours, expected, rtol=1e-7, atol=1e-9), (text, name, ours, expected)
            if d.gradient[name] is not None:
                written = float(numeric(d.gradient[name], plain)(*point))
                assert np.isclose(written, expected, rtol=1e-7, atol=1e-9), (text, name, written, expected)
    report = d.check()
    assert report.status != "failed", (text, report.reasons)


@settings(max_examples=max(EXAMPLES // 3, 20), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.lists(st.floats(-2, 2), min_size=2, max_size=2))
def test_second_derivatives_equal_sympy_diff_twice(program, point):
    text, reference, at, real, plain = _setup(program, point)
    with np.errstate(all="ignore"):
        try:
            d = derive(text, at=at, order=2)
        except Exception as error:
            assert any(word in str(error) for word in ACCEPTABLE), error
            assume(False)
        for i in d.wrt:
            for j in d.wrt:
                ours = d.value(d.second[i].of(d.wrt[j]))
                exact = sp.diff(reference, *sp.symbols(f"{i} {j}", real=True))
                exact = exact.replace(sp.DiracDelta, lambda *args: sp.Integer(0))  # zero away from the kink
                expected = float(numeric(exact, real)(*point))
                assume(np.isfinite(expected) and abs(expected) < 1e8)
                assert np.isclose(ours, expected, rtol=1e-6, atol=1e-8), (text, i, j, ours, expected)
