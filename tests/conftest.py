"""Shared helpers: numeric comparison of SymPy expressions at seeded random points."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from symgraph import ops


def numeric(expr: sp.Expr, symbols: list[sp.Symbol]):
    """A NumPy function of `expr`; our functions map to the registry's stable implementations."""
    modules = [{op.head.__name__: op.numpy for op in ops.OPS.values() if op.head is not None and op.head.__module__ == ops.__name__}, "numpy"]
    return sp.lambdify(symbols, expr, modules=modules)


def assert_same_function(a: sp.Expr, b: sp.Expr, symbols: list[sp.Symbol], low=-2.0, high=2.0, seed=0, rtol=1e-9):
    rng = np.random.default_rng(seed)
    points = [rng.uniform(low, high, 25) for _ in symbols]
    fa = np.broadcast_to(numeric(a, symbols)(*points), points[0].shape)
    fb = np.broadcast_to(numeric(b, symbols)(*points), points[0].shape)
    np.testing.assert_allclose(fa, fb, rtol=rtol, atol=1e-12)


@pytest.fixture
def same_function():
    return assert_same_function
