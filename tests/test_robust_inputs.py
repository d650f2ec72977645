"""Bad values, specs and SymPy input that once ended in an internal error (exit 3): each is now a clear error or an
answer. Through the API (the library's parameter names) and the CLI (exit 2, one `error:` line)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner

from symgraph import InputError, LimitError, derive
from symgraph.cli.commands import app

x = sp.Symbol("x")


@pytest.mark.parametrize("call, piece", [
    (lambda: derive("x**2", at=3), "at=3: give a mapping of names to values"),
    (lambda: derive("x**2", at=[3]), "at=[3]: give a mapping"),
    (lambda: derive("x: 2; tanh(x)", upstream=[1, 2]), "upstream=[1, 2]: give a mapping"),
    (lambda: derive("x**2", wrt=3), "wrt=3: name inputs by their names"),
    (lambda: derive("x**2", wrt=[1]), "wrt=[1]: name inputs by their names"),
    (lambda: derive("relu(x)", relu_at_zero=10**400), "use 0, 0.5 or 1"),
    (lambda: derive("x**2", at={"x": 10**400}), "is too large for a float"),
    (lambda: derive("x**2", at={"x": 10**5000}), "a number of over 4,000 digits is too large for a float"),
    (lambda: derive("x**2", at={"x": "9" * 5000}), "is too large for a float"),
    (lambda: derive("x**2", at={"x": sp.Integer(10**5000)}), "is too large for a float"),
    (lambda: derive(x**sp.Integer(10**10)), "exponent 10000000000 is larger than 1000"),
    (lambda: derive(sp.I * x), "the constant I is not a real number"),
    (lambda: derive(x**sp.I), "not a real number"),
    (lambda: derive(sp.zoo * x), "infinite or undefined"),
    (lambda: derive(x + sp.oo), "infinite or undefined"),
    (lambda: derive(x + sp.nan), "infinite or undefined"),
    (lambda: derive(x * sp.Float("1e400")), "the constant 1.00e+400 is too large for a floating-point number"),
    (lambda: derive(x * sp.Integer(10**400), at={"x": 1}), "too large for a floating-point number"),
])
def test_bad_values_and_sympy_input_are_clear_errors(call, piece):
    with pytest.raises((InputError, LimitError)) as error:
        call()
    assert piece in str(error.value)


def test_small_and_ordinary_sympy_constants_are_answered():
    d = derive(x * sp.Float("1e-400") + sp.sqrt(2) * x, at={"x": 1})
    assert d.value(d.gradients.of(d.wrt["x"])) == pytest.approx(np.sqrt(2))
    assert derive("x**2", wrt=("x",)).wrt == {"x": derive("x**2").wrt["x"]}


@pytest.mark.parametrize("spec", ["# only a comment", "#", "\n# a\n\n# b\n", "nn.Sequential()", "()"])
def test_a_spec_without_layers_is_refused(spec):
    result = CliRunner().invoke(app, ["params", spec, "--input", "3x32x32"], prog_name="symgraph")
    assert result.exit_code == 2
    assert result.stderr == "error: SPEC has no layers: write layers such as nn.Sequential(nn.Linear(784, 10), nn.ReLU())\n"


@pytest.mark.parametrize("program", [
    "X0: 2x4; n1 = (X0 - X0) * ones(2, 4); n2 = n1 - n1; v: 4; L = dot(logsumexp(n2.T), v) + sum(tanh(n1) * X0)",
    "x: 3; w: 3; L = dot(0*x + w, w) + dot(x*0, w)",
    "X: 2x2x2; L = sum(X - X + ones(2, 2, 2))",
])
def test_cancelled_tensors_keep_their_shape(program):
    """A tensor whose terms cancel is a tensor of zeros, also when the gradient is written out in the inputs."""
    at = {n: np.ones(s).tolist() for n, s in (("X0", (2, 4)), ("v", (4,)), ("x", (3,)), ("w", (3,)), ("X", (2, 2, 2)))
          if f"{n}:" in program}
    result = CliRunner().invoke(app, ["derive", program, "--format", "json"], prog_name="symgraph")
    assert result.exit_code == 0, result.stderr
    d = derive(program, at=at)
    assert d.check().status == "passed"
    for name in d.wrt:
        assert np.shape(d.gradient_value(name)) == np.shape(at[name])
    if "dot(0*x" in program:  # dL/dw = 2w from dot(w, w); 0 from both zero terms
        np.testing.assert_allclose(d.gradient_value("w"), 2 * np.ones(3))
        np.testing.assert_allclose(d.gradient_value("x"), np.zeros(3))


def test_an_adjoint_that_cancels_says_so():
    d = derive("X: 2x4; n1 = (X - X) * ones(2, 4); n2 = n1 - n1; L = sum(n2.T)")
    texts = [s.text for s in d.steps]
    assert "∂L/∂X = 0    (the terms cancel: ∂L/∂a = 0)" in texts, texts
    assert not any("forward-only" in t for t in texts)


def test_zero_times_a_scalar_still_folds():
    assert list(derive("y = 0*x + x**2").graph.nodes("forward")) == list(derive("y = x**2").graph.nodes("forward"))
    assert derive("y = 0*x", at={"x": 1}).gradient_value("x") == 0


def test_three_axis_indexing_and_reductions_through_the_cli():
    """X of 2×2×3: L = sum(X[1]²) + X[0, 1, 1] + sum(mean(X, axis=2)); ∂L/∂X by hand: 2X on channel 1, 1 at
    [0, 1, 1], and 1/3 everywhere from the mean."""
    X = np.arange(12.0).reshape(2, 2, 3) / 4
    result = CliRunner().invoke(app, ["derive", "X: 2x2x3; L = sum(X[1]**2) + X[0, 1, 1] + sum(mean(X, axis=2))",
                                      "--at", f"X={X.tolist()}", "--format", "json"], prog_name="symgraph")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    expected = np.full((2, 2, 3), 1 / 3)
    expected[1] += 2 * X[1]
    expected[0, 1, 1] += 1
    np.testing.assert_allclose(data["gradient"]["X"]["value"], expected, rtol=1e-12)
    assert data["gradient"]["X"]["shape"] == [2, 2, 3] and data["check"]["passed"] is True
    assert data["nodes"][-1]["value"] == pytest.approx(np.sum(X[1] ** 2) + X[0, 1, 1] + np.sum(X.mean(axis=2)))
