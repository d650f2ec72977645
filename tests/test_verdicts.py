"""Verdicts that are honest at the edges (issues 16 §4, 19 §3): through the CLI as a user reads them, text and JSON."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from click.testing import CliRunner

from symgraph import derive, ops
from symgraph.cli.commands import app


def run(*args: str):
    return CliRunner().invoke(app, ["derive", *args], prog_name="symgraph")


def check_json(*args: str) -> dict:
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["check"]


def check_line(*args: str) -> tuple[int, list[str]]:
    """Exit status, and the Check line with the reasons under it."""
    result = run(*args)
    lines: list[str] = []
    for line in result.output.splitlines():  # a line wrapped at 100 columns is read back whole
        if line.startswith("    ") and lines:
            lines[-1] += " " + line.strip()
        else:
            lines.append(line)
    start = next(i for i, line in enumerate(lines) if line.startswith("Check"))
    return result.exit_code, lines[start:]


def test_a_softmax_over_ten_thousand_logits_passes():
    """Entries of 10⁻⁹ agree to 10⁻¹⁵: the input's own size (4) no longer sets the rounding of p (10⁻³)."""
    program = "z: 10000; L = softmax(z)[3]"
    status, lines = check_line(program, "--wrt", "z")
    assert status == 0 and lines == ["Check  central differences (Richardson) at 1 point: max relative error < 10⁻⁷  ✓ passed"]
    check = check_json(program, "--wrt", "z")
    assert check["status"] == "passed" and check["passed"] is True and check["reasons"] == []


@pytest.mark.parametrize("program, at", [
    ("L = x**2 + 0*b", ["x=0.7", "b=0.3"]),
    ("L = relu(-x**2 - 1)*b + x", ["x=0.7", "b=0.3"]),
    ("W: 2x2; b: 2; x: 2; L = sum(relu(W @ x + b - 100))", []),  # a dead layer: ∂L/∂W, ∂L/∂b, ∂L/∂x are exactly 0
])
def test_an_exact_zero_passes(program, at):
    d = derive(program, at={k: float(v) for k, v in (a.split("=") for a in at)} or None)
    d.check()
    assert d.gradients.of(d.wrt["b"]) == 0 or np.all(d.value(d.gradients.of(d.wrt["b"])) == 0) if at else True
    check = check_json(program, *[arg for a in at for arg in ("--at", a)])
    assert check["status"] == "passed" and check["reasons"] == []


@pytest.mark.parametrize("program, at, input_", [("sin(1e10*x)", "x=1", "x"), ("cos(exp(v))", "v=23.9", "v")])
def test_a_function_faster_than_the_step_is_inconclusive_not_failed(program, at, input_):
    status, lines = check_line(program, "--at", at)
    assert status == 0 and lines[0].endswith("? inconclusive")
    assert lines[1] == (f"  ∂/∂{input_} at {at.replace('=', ' = ')}: the function changes faster than the finite-difference "
                        "step can follow (smaller steps give different slopes), so the check cannot confirm the derivative")
    assert check_json(program, "--at", at)["passed"] is None


def test_a_wrong_rule_still_fails_through_the_cli(monkeypatch):
    tanh = ops.OPS["tanh"]
    monkeypatch.setitem(ops.OPS, "tanh", dataclasses.replace(tanh, partials=lambda a, y: (1 - y,)))
    result = run("tanh(x)", "--at", "x=0.5")
    assert result.exit_code == 1 and "✗ FAILED" in result.output
    assert "symbolic 0.537883 but finite differences give 0.786448" in result.output
    # and at a fast oscillation a wrong rule is still called wrong where the steps settle: sin(3x), 3× too small
    sin = ops.OPS["sin"]
    monkeypatch.setitem(ops.OPS, "sin", dataclasses.replace(sin, partials=lambda a, y: (sp_cos(a[0]) / 3,)))
    assert derive("sin(3*x)", at={"x": 0.2}).check().status == "failed"


def sp_cos(u):
    import sympy as sp

    return sp.cos(u)


def test_a_derivative_that_underflows_to_zero_is_not_passed():
    """σ′(800) = e⁻⁸⁰⁰ is below the smallest double: y(1 − y) = 0 is rounding, which the check says."""
    status, lines = check_line("sigmoid(x)", "--at", "x=800")
    assert status == 0 and lines[0].endswith("? inconclusive")
    assert lines[1] == ("  ∂/∂x at x = 800: the derivative rounds to 0 here (two equal numbers are subtracted), "
                        "so the check cannot tell a tiny derivative from 0")
    check = check_json("sigmoid(x)", "--at", "x=800")
    assert check["status"] == "inconclusive" and check["passed"] is None


@pytest.mark.parametrize("program, x, exact", [
    ("sigmoid(x)", 40, np.exp(-40) / (1 + np.exp(-40)) ** 2),  # σ(x)σ(−x), hand-written
    ("sigmoid(x)", -40, np.exp(-40) / (1 + np.exp(-40)) ** 2),
    ("tanh(x)", 20, 1 / np.cosh(20) ** 2),
    ("tanh(x)", -30, 1 / np.cosh(30) ** 2),
    ("sigmoid(2*x)*3", 25, 6 * np.exp(-50) / (1 + np.exp(-50)) ** 2),
])
def test_a_vanished_gradient_is_printed_with_its_tiny_true_value(program, x, exact):
    """σ′(40) = 4.25·10⁻¹⁸, not the 0 that y(1 − y) rounds to; the printed form stays y·(1 − y)."""
    result = run(program, "--at", f"x={x}", "--format", "json")
    assert result.exit_code == 0, result.output
    value = json.loads(result.output)["gradient"]["x"]["value"]
    assert value == pytest.approx(float(exact), rel=1e-12) and value > 0
    text = run(program, "--at", f"x={x}").output
    assert ("σ(x)·(1 − σ(x))" in text or "1 − tanh²(x)" in text or "σ(2x)" in text) and "rounds to 0" not in text
    status, lines = check_line(program, "--at", f"x={x}")
    assert status == 0 and "FAILED" not in lines[0]  # σ(−40) itself moves, so there the check passes


def test_sigmoid_at_40_reads_its_true_derivative():
    text = run("sigmoid(x)", "--at", "x=40").output
    assert "        = σ(x)·(1 − σ(x)) = 4.24835·10⁻¹⁸" in text
    assert "the derivative is too small here for finite differences to resolve" in text


def test_the_same_note_for_many_entries_is_one_line_with_count_and_list():
    status, lines = check_line("z: 18; L = sum(relu(z))", "--at", "z=" + json.dumps([0] * 18))
    assert status == 0 and lines[0].endswith("? inconclusive") and len(lines) == 2
    assert lines[1].startswith("  ∂/∂z[0], ∂/∂z[1], ∂/∂z[2], ∂/∂z[3], ∂/∂z[4], ∂/∂z[5], ∂/∂z[6], ∂/∂z[7] and 10 more "
                               "(18 times): relu has a kink at 0 within the step")
    assert len(check_json("z: 18; L = sum(relu(z))", "--at", "z=" + json.dumps([0] * 18))["reasons"]) == 1


def test_the_same_note_at_several_points_names_the_points_by_count():
    report = derive("sigmoid(800 + a**2) + b").check()  # σ′ underflows to 0 at every random point
    assert report.status == "inconclusive" and len(report.reasons) == 1 and len(report.notes) == 3
    assert report.reasons[0].startswith("∂/∂a at 3 points (3 times): the derivative rounds to 0 here")


def test_every_reason_is_one_short_sentence():
    cases = [("relu(x)", {"x": 0}), ("sigmoid(x)", {"x": 40}), ("sin(1e10*x)", {"x": 1}),
             ("exp(-x**2)", {"x": 10}), ("z: 30; L = sum(relu(z))", {"z": [0] * 30})]
    for program, at in cases:
        for reason in derive(program, at=at).check().reasons:
            sentence = reason.split(": ", 1)[1]
            assert sentence.count(". ") == 0 and len(sentence) <= 160, sentence


def test_a_tensor_entry_that_rounds_to_zero_is_named_and_the_others_pass():
    check = check_json("x: 2; L = sum(sigmoid(x))", "--at", "x=[800, 1]")  # σ′(800) underflows; σ′(40) no longer does
    assert check["status"] == "inconclusive" and check["reasons"] == [
        "∂/∂x[0]: the derivative rounds to 0 here (two equal numbers are subtracted), "
        "so the check cannot tell a tiny derivative from 0"]
