"""The methods compared: symgraph, SymPy (naive and with cse), PyTensor's grad, JAX's make_jaxpr(grad).

Each method is a function Case → (seconds per stage, result). Only differentiation work is
timed: imports happen once, outside. PyTensor and JAX are optional; a method whose package
is missing is absent from METHODS. A method that cannot take a family at all (SymPy on a
tensor program) raises NotApplicable with the reason.
"""

from __future__ import annotations

import functools
import operator
import sys
import time
from collections.abc import Callable

import numpy as np
import sympy as sp
from families import Case, interpret, text

import symgraph

__all__ = ["METHODS", "NotApplicable", "symgraph_method", "end_to_end", "jax_disagreement", "versions"]

#: Python's recursion limit while PyTensor runs: enough for F1 at depth 1,000 and F3 at T = 500 (measured),
#: which is as far as the 30 s budget lets it go on 2 cores.
_PYTENSOR_RECURSION = 100_000
_JAX = "jax make_jaxpr(grad)"


class NotApplicable(Exception):
    """The method has no version of this family; the message says why (shown as n/a with a note)."""


def _add(*terms):
    return functools.reduce(operator.add, terms)


def _mul(*factors):
    return functools.reduce(operator.mul, factors)


def _table(**functions) -> dict[str, Callable]:
    """The ops every family uses; arithmetic is Python's operators, so it reads each library's overloads."""
    return {"add": _add, "mul": _mul, "sub": operator.sub, "square": lambda u: u**2, "matmul": operator.matmul, **functions}


def symgraph_method(case: Case) -> tuple[dict[str, float], symgraph.Derivation]:
    """derive at the case's point (parse, build, backward, evaluate), then the check; stage times from the Derivation."""
    d = symgraph.derive(text(case), wrt=case.wrt, at=case.point)
    d.check()
    return dict(d.timings), d


def end_to_end(case: Case) -> tuple[dict[str, float], symgraph.Derivation]:
    """What a user waits for: parse → derivation → JSON with the check → text, timed as one stage."""
    start = time.perf_counter()
    d = symgraph.derive(text(case), wrt=case.wrt, at=case.point)
    d.to_json()
    str(d)
    return {"end to end": time.perf_counter() - start}, d


def _sympy(case: Case, cse: bool) -> tuple[dict[str, float], object]:
    from symgraph.ops import sigmoid, softplus

    if case.shapes:
        raise NotApplicable(
            "sympy.diff differentiates scalar expressions; the tensor program written out in scalars is F2 at width 64, "
            "and F2 already exceeds the budget at width 4, depth 5"
        )

    start = time.perf_counter()
    symbols = {name: sp.Symbol(name) for name in case.inputs}
    f = interpret(case, _table(tanh=sp.tanh, sigmoid=sigmoid, softplus=softplus, exp=sp.exp, log=sp.log), symbols)
    built = time.perf_counter()
    gradient = [sp.diff(f, s) for s in symbols.values()]
    times = {"build": built - start, "diff": time.perf_counter() - built}
    if cse:
        start = time.perf_counter()
        gradient = sp.cse(gradient)
        times["cse"] = time.perf_counter() - start
    return times, gradient


def _pytensor(case: Case) -> tuple[dict[str, float], object]:
    """PyTensor's graph and grad. Both recurse once per level of the graph, so Python's default recursion
    limit (1,000) stops them at depth 1,000 (F1) or T = 500 (F3); the limit is raised while they run."""
    import pytensor
    import pytensor.tensor as pt

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, _PYTENSOR_RECURSION))
    try:
        start = time.perf_counter()
        # float64 scalars, vectors, matrices (pt.dscalar, pt.dvector, pt.dmatrix) by the declared shape
        inputs = {name: pt.tensor(name, dtype="float64", shape=(None,) * len(case.shapes.get(name, ()))) for name in case.inputs}
        table = _table(tanh=pt.tanh, sigmoid=pt.sigmoid, softplus=pt.softplus, exp=pt.exp, log=pt.log, sum=pt.sum)
        f = interpret(case, table, inputs)
        built = time.perf_counter()
        gradient = pytensor.grad(f, [inputs[name] for name in case.wrt])
        return {"build": built - start, "grad": time.perf_counter() - built}, gradient
    finally:
        sys.setrecursionlimit(limit)


def _jax_grad(case: Case) -> tuple[Callable, list]:
    """jax.grad of the case by its `wrt` inputs, and the point's values as jnp arrays (floats for scalars)."""
    import jax
    import jax.numpy as jnp

    table = _table(tanh=jnp.tanh, sigmoid=jax.nn.sigmoid, softplus=jax.nn.softplus, exp=jnp.exp, log=jnp.log, sum=jnp.sum)
    names = case.inputs

    def f(*values):
        return interpret(case, table, dict(zip(names, values)))

    values = [jnp.asarray(v) if name in case.shapes else v for name, v in case.point.items()]
    return jax.grad(f, argnums=tuple(names.index(name) for name in case.wrt)), values


def _jax(case: Case) -> tuple[dict[str, float], object]:
    import jax

    grad, values = _jax_grad(case)
    start = time.perf_counter()
    jaxpr = jax.make_jaxpr(grad)(*values)
    return {"make_jaxpr(grad)": time.perf_counter() - start}, jaxpr


def jax_disagreement(case: Case, derivation: symgraph.Derivation) -> float | None:
    """Largest |symgraph − JAX| over every gradient entry at the case's point (None without JAX): guards against
    timing a wrong program."""
    if _JAX not in METHODS:
        return None
    grad, values = _jax_grad(case)
    return max(
        float(np.max(np.abs(derivation.gradient_value(name) - np.asarray(g)))) for name, g in zip(case.wrt, grad(*values))
    )


METHODS: dict[str, Callable[[Case], tuple[dict[str, float], object]]] = {
    "symgraph": symgraph_method,
    "sympy.diff": functools.partial(_sympy, cse=False),
    "sympy.diff+cse": functools.partial(_sympy, cse=True),
}
try:
    import pytensor  # noqa: F401

    METHODS["pytensor.grad"] = _pytensor
except ImportError:
    pass
try:
    import jax

    jax.config.update("jax_enable_x64", True)
    METHODS[_JAX] = _jax
except ImportError:
    pass


def versions() -> dict[str, str]:
    """Versions of everything timed, for the machine note."""
    import importlib.metadata as metadata

    found = {}
    for package in ("symgraph", "sympy", "numpy", "pytensor", "jax", "jaxlib"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found
