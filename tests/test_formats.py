"""Every output format against golden text (line by line, so the failing line shows) and the JSON contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from symgraph import derive
from symgraph.output.formats import render_format

GOLDEN = Path(__file__).parent / "golden"
CARD = "exp(x**2 + tanh(x))"
PRODUCT = "a = 3*x + sigmoid(x); b = x**2 - exp(-x); y = a*b"


@pytest.mark.parametrize(
    "golden, program, fmt, at",
    [
        ("design_card.txt", CARD, "text", {}),
        ("design_card.tex", CARD, "latex", {}),
        ("product_graph.md", PRODUCT, "markdown", {"x": 0.3}),
        ("product_graph.json", PRODUCT, "json", {"x": 0.3}),
    ],
)
def test_golden(golden, program, fmt, at):
    produced = render_format(derive(program, at=at), fmt).splitlines()
    expected = (GOLDEN / golden).read_text(encoding="utf-8").splitlines()
    for number, (got, want) in enumerate(zip(produced, expected), 1):
        assert got == want, f"{golden} line {number}"
    assert len(produced) == len(expected)


def test_design_card_shows_graph_partials_paths_result_and_check():
    text = render_format(derive(CARD), "text")
    for line in [
        "Graph  (input x → output y)",
        "∂y/∂c = exp(c) = y",
        "∂b/∂x = 1 − tanh²(x) = 1 − b²",
        "Chain rule: 2 paths from x to y",
        "dy/dx = ∂y/∂c·∂c/∂a·∂a/∂x + ∂y/∂c·∂c/∂b·∂b/∂x",
        "dy/dx = y·(2x − tanh²(x) + 1)",
        "✓ passed",
    ]:
        assert line in text
    assert "**" not in text and "sigmoid(" not in text


def test_json_contract():
    data = json.loads(render_format(derive(PRODUCT, at={"x": 0.3}), "json"))
    assert {"output", "inputs", "nodes", "gradient", "steps", "check"} <= set(data)
    assert data["output"] == "y" and data["inputs"] == ["x"]
    for node in data["nodes"]:
        assert set(node) >= {"id", "name", "op", "expr", "args", "value"}
        assert isinstance(node["value"], float)
    names = [n["name"] for n in data["nodes"]]
    assert {"a", "b", "y", "x"} <= set(names)
    gradient = data["gradient"]["x"]
    assert set(gradient) >= {"expr", "in_terms_of_intermediates", "latex", "value"}
    assert gradient["value"] == pytest.approx(-0.134593, rel=1e-5)
    assert {s["kind"] for s in data["steps"]} == {"local", "path", "result"}
    assert all(set(s) == {"kind", "text", "latex"} for s in data["steps"])
    assert set(data["check"]) >= {"points", "max_abs_error", "max_rel_error", "error_floor", "below_floor", "passed"}
    assert data["check"]["passed"] is True
    # The errors are under their floors, so the figures are the floors: bounds the CPU's rounding cannot change.
    assert data["check"]["below_floor"] == {"abs": True, "rel": True}
    assert data["check"]["max_rel_error"] == data["check"]["error_floor"]["rel"] == 1e-7
    assert data["check"]["max_abs_error"] == data["check"]["error_floor"]["abs"] == 1.3e-8  # 10⁻⁷·|dy/dx|


def test_json_values_are_null_without_every_input():
    data = json.loads(render_format(derive("x*y", at={"x": 1}), "json"))
    assert all(n["value"] is None for n in data["nodes"])
    assert data["gradient"]["x"]["value"] is None


def test_expr_strings_feed_back_into_derive():
    data = json.loads(render_format(derive(PRODUCT), "json", include_check=False))
    again = derive(data["gradient"]["x"]["expr"])
    assert again.inputs.keys() == {"x"}
    for node in data["nodes"]:
        derive(node["expr"]) if node["op"] != "input" else None


def test_output_is_deterministic():
    first = render_format(derive(PRODUCT), "json")
    assert render_format(derive(PRODUCT), "json") == first


def test_notebook_reprs():
    d = derive(CARD)
    assert "Local derivatives" in d._repr_mimebundle_()["text/html"]  # one display: tests/test_notebook.py
    assert "Chain rule" in str(d)


def test_large_programs_are_listed_in_part_and_counted():
    program = "; ".join(["a0 = x"] + [f"a{i} = tanh(a{i - 1})*w" for i in range(1, 200)])
    d = derive(program)
    text = render_format(d, "text", include_check=False)
    assert "… and 338 more nodes (--format json lists every node)" in text
    assert "more local derivatives, one per edge" in text
    assert "1 path from x to a₁₉₉, too many or too long to list" in text
    assert len(text.splitlines()) < 160
    data = json.loads(render_format(d, "json", include_check=False))
    assert len(data["nodes"]) == 2 + 398  # every node is in the JSON


def test_relu_convention_reaches_every_format():
    assert r"\mathbf{1}\left(x \geq 0\right)" in render_format(derive("relu(x)*x", relu_at_zero=1), "latex")
    assert "1(x ≥ 0)" in render_format(derive("relu(x)*x", relu_at_zero=1), "text")
    assert "H(x)" in render_format(derive("relu(x)*x", relu_at_zero=0.5), "text")
    assert "1(x > 0)²" in render_format(derive("relu(x)**2", order=2, at={"x": 0.5}), "text")


def test_a_negative_path_term_is_subtracted():
    assert "= cos(x) − 1" in render_format(derive("sin(x) - x"), "text", include_check=False)


def test_lambdify_agrees_for_step_and_logsumexp():
    import numpy as np
    import sympy as sp

    from symgraph.ops import logsumexp, relu

    x, y = sp.symbols("x y")
    assert sp.lambdify(x, sp.diff(relu(x), x))(np.array([-1.0, 2.0])).tolist() == [0.0, 1.0]
    assert sp.lambdify([x, y], logsumexp(x, y))(1000.0, 0.0) == pytest.approx(1000.0)


def test_greek_names_are_latex_commands_and_subscripts_stay_latex():
    latex = render_format(derive("y = θ2*x + theta3 + λ*h1"), "latex")
    assert r"{\theta}_{2}" in latex and r"\theta_{3}" in latex and r"{\lambda}" in latex and "h_{1}" in latex
    assert not any("\u0370" <= c <= "\u03ff" or "\u2080" <= c <= "\u2089" for c in latex)  # pdfLaTeX-safe names


def test_tensor_adjoints_write_names_in_latex_and_pretty_in_text():
    d = derive("W: 2x2\nx: 2\nh1 = tanh(W @ x)\ny = sum(h1*h1)")
    step = next(s for s in d.steps if s.text.startswith("∂y/∂a"))
    assert "∂y/∂h₁" in step.text and r"\frac{\partial y}{\partial h_{1}}" in step.latex and "₁" not in step.latex


def test_second_derivatives_and_aligned_names_write_greek_as_commands():
    latex = render_format(derive("u = θ2*x; y = u**2", order=2, at={"θ2": 1, "x": 2}), "latex")
    assert r"\frac{\partial^2 y}{\partial {\theta}_{2} \partial x}" in latex
    assert not any("\u0370" <= c <= "\u03ff" for c in latex)
