"""Reverse mode against the course's derivative facts (../shared/problems.md) and its own promises."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgraph
from symgraph import derive
from symgraph.ops import relu, sigmoid, step

x, y, a, b, t, s, z = sp.symbols("x y a b t s z")


def equal(e1, e2) -> bool:
    return sp.simplify((e1 - e2).rewrite(sp.exp)) == 0


def test_p1_design_card(same_function):
    d = derive("exp(x**2 + tanh(x))")
    assert equal(d.in_terms_of_intermediates["x"], (2 * x + 1 - sp.tanh(x) ** 2) * y)
    assert equal(d.gradient["x"], (2 * x + 1 - sp.tanh(x) ** 2) * sp.exp(x**2 + sp.tanh(x)))
    # The printed distractors are not the derivative.
    wrong = (2 * x + sp.tanh(x) * (1 - sp.tanh(x))) * sp.exp(x**2 + sp.tanh(x))
    assert not equal(d.gradient["x"], wrong)
    assert not equal(d.gradient["x"], 2 * x + 1 - sp.tanh(x) ** 2)


def test_p1_local_partials_read_in_the_ops_own_symbols():
    d = derive("a = x**2; b = tanh(x); y = exp(a + b)")
    local = {(d.graph.label(v), d.graph.label(u)): e for (v, u), e in d.gradients.local.items()}
    assert local[("y", "c")] == y  # exp' = y
    assert local[("b", "x")] == 1 - b**2  # tanh' = 1 − b²
    assert local[("a", "x")] == 2 * x


def test_p2_product_graph_matches_the_printed_answer():
    d = derive("a = 3*x + sigmoid(x); b = x**2 - exp(-x); y = a*b")
    printed = b * (3 + sigmoid(x) * (1 - sigmoid(x))) + a * (2 * x + sp.exp(-x))
    assert sp.expand(d.in_terms_of_intermediates["x"] - printed) == 0
    # The other options are wrong.
    assert sp.expand(d.in_terms_of_intermediates["x"] - (a * (3 + sigmoid(x) * (1 - sigmoid(x))) + b * (2 * x + sp.exp(-x)))) != 0


def test_p3_softplus_derivative_is_sigmoid():
    assert derive("softplus(t)").gradient["t"] == sigmoid(t)


def test_p4_tanh_derivative():
    assert equal(derive("tanh(s)").gradient["s"], 1 - sp.tanh(s) ** 2)


@pytest.mark.parametrize("convention, at_kink", [(0.0, 0.0), (1.0, 1.0), (0.5, 0.5)])
def test_p5_log_one_plus_relu(convention, at_kink):
    d = derive("g = log(1 + relu(z))", relu_at_zero=convention)
    assert sp.simplify(d.gradient["z"] - step(z) / (1 + relu(z))) == 0
    assert derive("g = log(1 + relu(z))", at={"z": 0}, relu_at_zero=convention).value(
        d.gradients.of(d.wrt["z"])
    ) == at_kink
    assert derive("g = log(1 + relu(z))", at={"z": 2.0}).value(d.gradients.of(d.wrt["z"])) == pytest.approx(1 / 3)


def test_p15_binary_cross_entropy_with_sigmoid_gives_sigma_minus_y_times_x(same_function):
    d = derive("z = w*x; L = -(y*log(sigmoid(z)) + (1 - y)*log(1 - sigmoid(z)))", wrt=["w"])
    w = sp.Symbol("w")
    same_function(d.gradient["w"], (sigmoid(w * x) - y) * x, [w, x, y], low=0.1, high=0.9)


def test_p11_l2_regularisation_adds_lambda_theta(same_function):
    theta, lam, u = sp.symbols("theta lam u")
    plain = derive("L = softplus(u*theta)", wrt=["theta"]).gradient["theta"]
    regularised = derive("L = softplus(u*theta); Lnew = L + lam/2*theta**2", wrt=["theta"]).gradient["theta"]
    same_function(regularised, plain + lam * theta, [theta, lam, u])


def test_p6_sgd_step_and_the_printed_bias_slip():
    """The printed updated bias 5.5 has a sign slip: b − η·∇b = −5 − (−0.5) = −4.5."""
    program = "z = w1*h1 + w2*h2 + w3*h3 + w4*h4 + b; L = -log(sigmoid(z))"
    values = {"w1": 1, "w2": 2, "w3": 3, "w4": 4, "b": -5, "h1": 1, "h2": 0, "h3": 0, "h4": 1}
    d = derive(program, wrt=["w1", "w2", "w3", "w4", "b"], at=values)
    assert d.value(d.graph.names["z"]) == 0
    grads = {n: d.value(d.gradients.of(d.wrt[n])) for n in d.wrt}
    assert [grads[f"w{i}"] for i in range(1, 5)] == [-0.5, 0, 0, -0.5]
    assert grads["b"] == -0.5
    updated_b = values["b"] - 1.0 * grads["b"]
    assert updated_b == -4.5 and updated_b != 5.5
    assert [values[f"w{i}"] - grads[f"w{i}"] for i in range(1, 5)] == [1.5, 2, 3, 4.5]


def test_second_order_hessian_equals_sympy(same_function):
    d = derive("x**2*y + sin(y)*exp(x)", order=2)
    f = x**2 * y + sp.sin(y) * sp.exp(x)
    for i in (x, y):
        for j in (x, y):
            same_function(d.hessian[i.name][j.name], sp.diff(f, i, j), [x, y])


def test_second_order_through_the_sigmoid_uses_the_output_form():
    d = derive("sigmoid(x)", order=2)
    assert sp.simplify(d.hessian["x"]["x"] - sigmoid(x) * (1 - sigmoid(x)) * (1 - 2 * sigmoid(x))) == 0


def test_reverse_mode_never_calls_sympy_diff(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("sympy.diff was called")

    monkeypatch.setattr(sp, "diff", forbidden)
    monkeypatch.setattr(sp.Expr, "diff", forbidden)
    d = derive("a = 3*x + sigmoid(x); b = x**2 - exp(-x); y = a*b", order=2)
    assert d.gradient["x"] is not None and d.hessian["x"]["x"] is not None


@pytest.mark.parametrize("depth", [50, 400])
def test_gradient_nodes_grow_linearly_with_the_graph(depth):
    program = "; ".join(["h0 = x"] + [f"h{i} = tanh(w*h{i - 1})" for i in range(1, depth + 1)])
    d = derive(program, wrt=["w"])
    forward = sum(1 for _ in d.graph.nodes("input", "forward"))
    gradient = sum(1 for _ in d.graph.nodes("gradient"))
    assert gradient <= 4 * forward


def test_deep_chain_reports_tree_size_instead_of_swelling():
    program = "; ".join(["h0 = x"] + [f"h{i} = tanh(w*h{i - 1}) + h{i - 1}" for i in range(1, 60)])
    d = derive(program, wrt=["w"])
    assert d.gradient["w"] is None
    assert d.tree_size("w") > 10**15
    assert "would be a tree of" in d.steps[-1].text


def test_unreached_input_has_zero_gradient():
    d = derive("y = x**2 + 0*w", wrt=["x"])
    assert d.gradient["x"] == 2 * x


def test_sympy_expression_input():
    d = derive(sp.exp(x**2 + sp.tanh(x)))
    assert equal(d.gradient["x"], (2 * x + 1 - sp.tanh(x) ** 2) * sp.exp(x**2 + sp.tanh(x)))


def test_values_at_a_point():
    d = derive("exp(x**2 + tanh(x))", at={"x": 0.5})
    expected = (2 * 0.5 + 1 - np.tanh(0.5) ** 2) * np.exp(0.25 + np.tanh(0.5))
    assert d.value(d.gradients.of(d.wrt["x"])) == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"wrt": ["q"]}, "^wrt='q': not an input"),
        ({"wrt": ["a"]}, "it is an intermediate"),
        ({"at": {"q": 1}}, r"^at\['q'\]: not an input"),
        ({"at": {"x": "abc"}}, "not a number"),
        ({"upstream": {"q": 1}}, r"^upstream\['q'\]: not the output or an assigned name; names: a, y"),
        ({"upstream": {"y": "[1, 2]"}}, r"^upstream\['y'\]: the upstream gradient has shape 2 but y has shape scalar"),
        ({"at": {"x": "NaN"}}, "must be finite"),
        ({"order": 3}, "^order=3: "),
        ({"relu_at_zero": 2}, "^relu_at_zero=2: "),
        ({"of": "zz"}, "^of='zz': "),
    ],
)
def test_bad_arguments_are_input_errors(kwargs, message):
    """The library names its own parameters; the CLI names the same errors by their flags (test_cli)."""
    with pytest.raises(symgraph.InputError, match=message):
        derive("a = x**2; y = a + 1", **kwargs)


def test_domain_errors_name_the_node_and_the_value():
    with pytest.raises(symgraph.EvaluationError, match=r"y = log\(x\) is undefined at x = −1: log needs a positive"):
        derive("log(x)", at={"x": -1})
    with pytest.raises(symgraph.EvaluationError, match=r"∂y/∂x = 1/\(2y\) is undefined at x = 0 \(y = 0\): sqrt needs"):
        derive("sqrt(x)", at={"x": 0})


def test_unused_assignments_still_get_values():
    d = derive("v0 = abs(x); v1 = abs(w)", at={"x": -1, "w": 2})
    assert d.value(d.graph.names["v0"]) == 1 and d.value(d.graph.names["v1"]) == 2
    assert "v₀ = |x| = 1" in str(d)
