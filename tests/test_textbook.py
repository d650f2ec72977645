"""Textbook forms after the chain-rule result, through the CLI (text and JSON), checked against NumPy."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner

from symgraph import ops
from symgraph.cli.commands import app
from symgraph.ops import registry

BCE = "z = w*x; p = sigmoid(z); L = -(y*log(p) + (1 - y)*log(1 - p))"
QUADRATIC = "L = x @ A @ x"
LOGISTIC = "z = dot(w, h) + b; L = -logsigmoid(z)"
A = [[2, -1, 0], [3, 1, 1], [0, -2, 4]]


def derive(program, *args):
    text = CliRunner().invoke(app, ["derive", program, *args], prog_name="symgraph")
    data = CliRunner().invoke(app, ["derive", program, *args, "--format", "json"], prog_name="symgraph")
    assert text.exit_code == 0 and data.exit_code == 0, text.output + data.output
    return text.output, json.loads(data.output)


def sig(z):
    return 1 / (1 + np.exp(-z))


def test_binary_cross_entropy_reads_x_times_p_minus_y():
    text, data = derive(BCE, "--wrt", "w", "--at", "w=0.5", "--at", "x=2", "--at", "y=0.25")
    assert "= x·(p − y)    (textbook form)" in text
    assert data["gradient"]["w"]["textbook"] == {"expr": "x*(p - y)", "latex": r"x \left(p - y\right)"}
    assert data["gradient"]["w"]["value"] == pytest.approx(2 * (sig(1.0) - 0.25), rel=1e-12)


def test_quadratic_form_reads_a_plus_a_transpose_times_x():
    x = [1, -1, 0.5]
    text, data = derive(QUADRATIC, "--wrt", "x", "--at", f"A={A}", "--at", f"x={x}")
    assert "= (A + Aᵀ) x    (textbook form)" in text
    assert data["gradient"]["x"]["textbook"]["expr"] == "(A + A.T) @ x"
    assert data["gradient"]["x"]["value"] == pytest.approx(list((np.array(A) + np.array(A).T) @ x), rel=1e-12)


def test_logistic_regression_reads_sigma_minus_label():
    text, data = derive(LOGISTIC, "--wrt", "w", "--wrt", "b", "--at", "w=[1,2,3,-1]", "--at", "b=-0.5",
                        "--at", "h=[1,0,2,1]")
    z = 1 + 6 - 1 - 0.5
    assert "= h·(σ(z) − 1)    (textbook form)" in text and "= σ(z) − 1    (textbook form)" in text
    assert data["gradient"]["b"]["textbook"]["expr"] == "sigmoid(z) - 1"
    assert data["gradient"]["w"]["value"] == pytest.approx(list((sig(z) - 1) * np.array([1, 0, 2, 1])), rel=1e-12)


@pytest.mark.parametrize("program, args, shown", [
    ("p = softmax(z); L = cross_entropy(z, 1)", ["--at", "z=[1,2,0.5,-1]"], "dL/dz = p − e"),
    ("L = mse(yhat, y)", ["--at", "yhat=[0.5,2,-1]", "--at", "y=[1,1.5,0]"], "∂L/∂ŷ = 2(ŷ − y)/3"),
    ("h = tanh(s)", ["--at", "s=0.5"], "dh/ds = 1 − h²"),
    ("s = sigmoid(z)", ["--at", "z=0.5"], "ds/dz = s·(1 − s)"),
    ("z = W @ x; h = tanh(z); L = sum(h)", ["--wrt", "W", "--at", "W=[[1,2],[3,4]]", "--at", "x=[1,-1]"], "(1 − h²) xᵀ"),
])
def test_forms_the_chain_rule_already_writes_as_the_textbook_get_no_second_line(program, args, shown):
    text, data = derive(program, *args)
    result = text[text.index("Result"):]
    assert shown in result.replace("h⊙h", "h²") and "textbook form" not in result
    assert all(g["textbook"] is None for g in data["gradient"].values())


def test_no_textbook_form_where_no_rule_applies():
    text, data = derive("y = x**2*exp(x)", "--at", "x=0.3")
    assert "textbook form" not in text and data["gradient"]["x"]["textbook"] is None


def test_a_rewrite_that_is_not_equal_is_not_shown(monkeypatch):
    """σ(−u) = σ(u) is false: the explainer finds it so at the random points and shows nothing."""
    op = ops.get("sigmoid")
    negated = sp.Wild("u", properties=[lambda e: e.could_extract_minus_sign()])
    wrong = dataclasses.replace(op, textbook=lambda: ((ops.sigmoid(negated), lambda u: ops.sigmoid(-u)),))
    monkeypatch.setitem(registry.OPS, "sigmoid", wrong)
    text, data = derive(LOGISTIC, "--wrt", "b", "--at", "w=[1,2]", "--at", "b=-0.5", "--at", "h=[1,0]")
    assert "textbook form" not in text and data["gradient"]["b"]["textbook"] is None
