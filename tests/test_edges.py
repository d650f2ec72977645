"""Issue 19 §3–4 through the CLI as a user reads it: flat zeros, stable partials, overflow, exact compare verdicts."""

from __future__ import annotations

import json
import re

import mpmath
import numpy as np
import pytest
from click.testing import CliRunner

from symgraph.cli.commands import app
from tests.hostile_corpus import EDGE_VALUES

SUPERSCRIPT_DIGITS = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")


def run(*args: str):
    return CliRunner().invoke(app, list(args), prog_name="symgraph")


def test_a_flat_zero_times_an_infinite_partial_is_zero():
    """√relu(x) is 0 near x = −1, so its derivative is 0 (hand: the function is constant there)."""
    result = run("derive", "sqrt(relu(x))", "--at", "x=-1", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["gradient"]["x"]["value"] == 0.0
    text = run("derive", "sqrt(relu(x))", "--at", "x=-1").output
    assert "is 0 on a whole neighbourhood" in text and "✓ passed" in text
    mixed = json.loads(run("derive", "sqrt(relu(x)) + x**2", "--at", "x=-1", "--format", "json").output)
    assert mixed["gradient"]["x"]["value"] == -2.0  # only the path through relu is annihilated: 2x = −2 stays


@pytest.mark.parametrize("program, at", [("sqrt(x)", "x=0"), ("sqrt(relu(x))", "x=0"), ("sqrt(x)**3", "x=0")])
def test_a_genuinely_undefined_derivative_stays_an_error(program, at):
    result = run("derive", program, "--at", at)
    assert result.exit_code == 2 and result.output.startswith("error: ") and "undefined" in result.output


@pytest.mark.parametrize("program, at, size", [
    ("x**2", "x=1e308", "1·10⁶¹⁶"), ("1/x", "x=1e-310", "1·10³¹⁰"), ("exp(x)", "x=710", "2.23·10³⁰⁸"),
    ("x**3", "x=1e150", "1·10⁴⁵⁰"), ("exp(2*x)", "x=354.8", "2.99·10³⁰⁸"),
])
def test_overflow_is_called_overflow_with_its_size(program, at, size):
    result = run("derive", program, "--at", at)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and "overflows at x = " in result.output
    assert f"reaches about {size}" in result.output and "negative power" not in result.output
    assert "division by zero" not in result.output


@pytest.mark.parametrize("program, at", EDGE_VALUES)
def test_edge_values_end_cleanly_and_name_no_internal_node(program, at):
    result = run("derive", program, "--at", at)
    assert result.exit_code in (0, 1, 2), result.output
    assert "_g" not in result.output and "Warning" not in result.output and "internal error" not in result.output
    if result.exit_code == 2:
        assert result.output.count("\n") == 1 and ("overflow" in result.output or "undefined" in result.output)


@pytest.mark.parametrize("program, at, exact", [
    ("sigmoid(x)", "x=40", np.exp(-40) / (1 + np.exp(-40)) ** 2),
    ("tanh(x)", "x=20", 1 / np.cosh(20) ** 2),
])
def test_saturated_derivatives_print_their_true_value(program, at, exact):
    data = json.loads(run("derive", program, "--at", at, "--format", "json").output)
    assert data["gradient"]["x"]["value"] == pytest.approx(float(exact), rel=1e-12)
    assert data["check"]["status"] == "inconclusive"


@pytest.mark.parametrize("program, candidate, reason", [
    ("x**2", "2*x + 1e-300", "the derivative minus this is the constant −1·10⁻³⁰⁰"),
    ("exp(x)", "exp(x) + exp(-1000)*x", "the derivative minus this is −x·exp(−1000), a polynomial that is not 0"),
    ("exp(x)", "exp(x) + exp(-1000)", "the derivative minus this is the constant −exp(−1000)"),
])
def test_compare_never_calls_a_different_answer_equal(program, candidate, reason):
    result = run("compare", program, candidate)
    assert result.exit_code == 1, result.output
    first = result.output.splitlines()[0]
    assert first.startswith("✗") and "not equal (symbolically" in first and reason in first
    assert "000000000" not in result.output  # exact decimals print short
    data = json.loads(run("compare", program, candidate, "--format", "json").output)
    assert data["candidates"][0]["equal"] is False and data["candidates"][0]["method"] == "symbolic"


def test_compare_still_calls_equal_answers_equal():
    result = run("compare", "x**2", "2*x", "x + x")
    assert result.exit_code == 0 and result.output.count("✓") == 2


def test_compare_judges_a_float_agreement_relative_to_the_terms():
    # e⁻¹⁰⁰⁰ underflows: floats agree, 1000-digit arithmetic finds a difference of e⁻¹⁰⁰⁰·|sin x| ≤ 10⁻⁴³³ of exp(x).
    result = run("compare", "exp(x)", "exp(x) + exp(-1000)*sin(x)")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("≈ exp(x) + exp(−1000)·sin(x)  equal up to 10⁻⁴³³ (numerically, ")
    data = json.loads(run("compare", "exp(x)", "exp(x) + exp(-1000)*sin(x)", "--format", "json").output)
    verdict = data["candidates"][0]
    assert (verdict["equal"], verdict["method"], verdict["up_to"]) == (None, "numeric", "1e-433")
    # Tiny terms that differ by a factor are not equal, though both are 0 in floating point.
    result = run("compare", "exp(-1000)*x", "exp(-1000)*cos(x)")
    assert result.exit_code == 1 and "✗" in result.output and "in 1000-digit arithmetic" in result.output
    printed = re.search(r"at x = (\S+) the derivative is (\S+) but this is ([^\s)]+)", result.output)
    x = float(printed[1].replace("−", "-"))
    for text, exact in zip(printed.groups()[1:], (mpmath.exp(-1000), mpmath.exp(-1000) * mpmath.cos(x))):
        mantissa, exponent = text.replace("−", "-").split("·10")
        assert mpmath.mpf(mantissa) * mpmath.mpf(10) ** int(exponent.translate(SUPERSCRIPT_DIGITS)) == \
            pytest.approx(exact, rel=1e-5)
    data = json.loads(run("compare", "exp(-1000)*x", "exp(-1000)*cos(x)", "--format", "json").output)
    assert (data["candidates"][0]["equal"], data["exit_status"]) == (False, 1)


def test_compare_still_calls_an_equal_pair_sympy_cannot_simplify_equal():
    # relu(x) − relu(−x) = x for real x; SymPy cannot see it, the numbers agree to 1000 digits, tiny terms or not.
    for program, candidate in [("exp(x)", "exp(x) + relu(x) - relu(-x) - x"),
                               ("exp(-1000)*x", "exp(-1000)*(1 + relu(x) - relu(-x) - x)")]:
        result = run("compare", program, candidate)
        assert result.exit_code == 0 and result.output.startswith("✓") and "equal (numerically, at 200 random" in result.output
        data = json.loads(run("compare", program, candidate, "--format", "json").output)
        assert (data["candidates"][0]["equal"], data["candidates"][0]["up_to"]) == (True, None)
