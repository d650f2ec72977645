"""The op registry: every entry complete, every local derivative right, stable implementations finite."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from symgraph import ops
from symgraph.engine.evaluate import Conventions

# op, where to sample its operands (low, high) per operand; one row per registry entry.
TABLE = {
    "add": [(-3, 3)] * 3,
    "sub": [(-3, 3)] * 2,
    "neg": [(-3, 3)],
    "mul": [(-3, 3)] * 3,
    "div": [(-3, 3), (0.5, 3)],
    "pow": [(0.5, 3), (-2, 2)],
    "exp": [(-3, 3)],
    "log": [(0.1, 5)],
    "sqrt": [(0.1, 5)],
    "sin": [(-3, 3)],
    "cos": [(-3, 3)],
    "tanh": [(-3, 3)],
    "sigmoid": [(-6, 6)],
    "softplus": [(-6, 6)],
    "logsigmoid": [(-6, 6)],
    "logsumexp": [(-3, 3)] * 3,
    "relu": [(-3, 3)],
    "abs": [(-3, 3)],
    "step": [(-3, 3)],
    "sign": [(-3, 3)],
    "tan": [(-1.2, 1.2)],
    "sinh": [(-3, 3)],
    "cosh": [(-3, 3)],
    "arctan": [(-3, 3)],
    "arcsin": [(-0.9, 0.9)],
    "arccos": [(-0.9, 0.9)],
    "erf": [(-3, 3)],
    "log2": [(0.1, 5)],
    "log10": [(0.1, 5)],
    "gelu": [(-4, 4)],
    "gelu_tanh": [(-4, 4)],
    "silu": [(-6, 6)],
    "leaky_relu": [(-3, 3), (0, 0.5)],
    "elu": [(-3, 3), (0.1, 2)],
    "softsign": [(-3, 3)],
    "hardtanh": [(-2, 2)],
    "max": [(-3, 3)] * 2,
    "min": [(-3, 3)] * 2,
    "clip": [(-3, 3), (-1, -0.5), (0.5, 1)],
    "where": [(0.5, 2), (-3, 3), (-3, 3)],
    "nonzero": [(-3, 3)],
    "dropout": [(-3, 3), (0, 1), (0, 0.9)],
    "lt": [(-3, 3)],
    "le": [(-3, 3)],
    "gt": [(-3, 3)],
    "ge": [(-3, 3)],
    "eq": [(-3, 3)],
}


def test_every_op_has_every_field_and_a_row_in_the_table():
    scalar_ops = {name for name, op in ops.OPS.items() if not op.is_tensor}
    assert set(TABLE) == scalar_ops  # tensor ops are tested in test_tensor.py
    for op in (ops.OPS[name] for name in scalar_ops):
        assert op.text and op.latex and op.rule.endswith(("rule", "negation")), op.name
        assert callable(op.build) and callable(op.partials) and callable(op.numpy)


@pytest.mark.parametrize("name", sorted(TABLE))
def test_local_partials_agree_with_finite_differences(name):
    """The registry's partial, written in the op's own symbols, against its own NumPy implementation."""
    op = ops.get(name)
    domains = TABLE[name]
    rng = np.random.default_rng(1)
    args = [rng.uniform(low, high, 50) for low, high in domains]
    symbols = sp.symbols(f"u0:{len(domains)}")
    out = sp.Symbol("y")
    partials = op.partials(symbols, out)
    assert len(partials) == len(domains)
    conv = {"at_zero": 0.0} if op.takes_relu_convention else {}
    value = op.numpy(*args, **conv)
    for i, partial in enumerate(partials):
        f = sp.lambdify([*symbols, out], partial, modules=[_custom_numpy(), "numpy"])
        analytic = np.broadcast_to(f(*args, value), value.shape)
        h = 1e-6
        up = [a + (h if j == i else 0) for j, a in enumerate(args)]
        down = [a - (h if j == i else 0) for j, a in enumerate(args)]
        numeric = (op.numpy(*up, **conv) - op.numpy(*down, **conv)) / (2 * h)
        smooth = np.ones_like(value, dtype=bool)
        for position, at, _ in op.kinks(args):  # at: a number, or another operand (max(a, b) where a = b)
            smooth &= np.abs(args[position] - (at if isinstance(at, np.ndarray) else float(at))) > 1e-3
        np.testing.assert_allclose(analytic[smooth], numeric[smooth], rtol=1e-6, atol=1e-8, err_msg=f"{name} ∂/∂u{i}")


def _custom_numpy():
    """symgraph's own SymPy functions, and erf (NumPy has none), by the names lambdify prints."""
    own = {op.head.__name__: op.numpy for op in ops.OPS.values() if op.head is not None and op.head.__module__.startswith("symgraph.")}
    return {**own, "erf": ops.get("erf").numpy}


@pytest.mark.parametrize("name", ["relu", "abs", "step", "sign", "lt", "le", "gt", "ge", "eq"])
def test_kinks_are_declared_at_zero_with_the_convention(name):
    op = ops.get(name)
    assert op.kink == 0.0 and op.kink_note


def test_relu_derivative_at_zero_follows_the_convention():
    step = ops.get("step")
    for at_zero in (0.0, 0.5, 1.0):
        assert step.numpy(np.array([0.0]), at_zero=at_zero)[0] == at_zero
    assert Conventions().relu_at_zero == 0.0


@pytest.mark.parametrize("x", [-1000.0, -40.0, 0.0, 40.0, 1000.0])
def test_stable_implementations_are_finite_and_right_at_the_extremes(x):
    u = np.array(x)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = ops.get("sigmoid").numpy(u)
        softplus = ops.get("softplus").numpy(u)
        log_sigmoid = ops.get("logsigmoid").numpy(u)
        lse = ops.get("logsumexp").numpy(u, u - 1.0, u + 2.0)
    assert 0 <= s <= 1
    assert s == pytest.approx(1 / (1 + np.exp(-np.float64(x))) if abs(x) < 700 else float(x > 0), abs=1e-15)
    assert softplus == pytest.approx(max(x, 0.0) + np.log1p(np.exp(-abs(x))), rel=1e-12)
    assert log_sigmoid == pytest.approx(-(max(-x, 0.0) + np.log1p(np.exp(-abs(x)))), rel=1e-12)  # −softplus(−x)
    assert lse == pytest.approx(x + 2 + np.log1p(np.exp(-2.0) + np.exp(-3.0)), rel=1e-12)
    assert np.isfinite([s, softplus, log_sigmoid, lse]).all()


def test_custom_functions_are_sympy_citizens():
    x = sp.Symbol("x")
    for f in (ops.sigmoid, ops.softplus, ops.logsigmoid):
        rewritten = f(x).rewrite(sp.exp)
        assert not rewritten.has(f)
        # sympy.diff through fdiff (the registry) equals the derivative of the exp form (independent).
        difference = sp.diff(f(x), x).rewrite(sp.exp) - sp.diff(rewritten, x)
        for value in (-1.3, 0.2, 2.5):
            assert abs(float(difference.subs(x, value))) < 1e-12
    assert sp.diff(ops.softplus(x), x) == ops.sigmoid(x)
    assert sp.diff(ops.relu(x), x) == ops.step(x)
    assert sp.latex(ops.sigmoid(x)) == r"\sigma\left(x\right)"
    assert ops.sigmoid(0) == sp.Rational(1, 2) and ops.relu(-2) == 0 and ops.step(3) == 1
    assert "sigmoid" in str(ops.sigmoid(x)) and not ops.sigmoid(x).has(sp.exp)


def test_decompose_maps_sympy_heads_back_to_ops():
    x, y = sp.symbols("x y")
    assert ops.decompose(sp.sqrt(x))[0].name == "sqrt"
    assert ops.decompose(x * y)[0].name == "mul"
    assert ops.decompose(ops.sigmoid(x))[0].name == "sigmoid"
    assert ops.decompose(sp.asin(x))[0].name == "arcsin"
    with pytest.raises(NotImplementedError, match="gamma"):
        ops.decompose(sp.gamma(x))
