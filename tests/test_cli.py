"""The command line through click's CliRunner: exit status, stdout and stderr asserted separately."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from symgraph import ops
from symgraph.cli.commands import app


@pytest.fixture
def run():
    def invoke(*args, input=None):
        return CliRunner().invoke(app, list(args), input=input, prog_name="symgraph")

    return invoke


def test_derive_design_card(run):
    result = run("derive", "exp(x**2 + tanh(x))")
    assert result.exit_code == 0, result.stderr
    assert "Chain rule: 2 paths from x to y" in result.stdout
    assert "✓ passed" in result.stdout
    assert result.stderr == ""


def test_derive_json_at_a_point(run):
    result = run("derive", "a = 3*x + sigmoid(x); b = x**2 - exp(-x); y = a*b", "--at", "x=0.3", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["gradient"]["x"]["value"] == pytest.approx(-0.134593, rel=1e-5)


def test_wrt_of_order_and_no_check(run):
    result = run("derive", "a = x*w; L = a**2", "--wrt", "w", "--of", "a", "--order", "2", "--no-check")
    assert result.exit_code == 0
    assert "∂²a/∂w² = 0" in result.stdout and "Check" not in result.stdout


def test_program_from_file_and_stdin(run, tmp_path):
    path = tmp_path / "p.sg"
    path.write_text("a = x**2\ny = tanh(a)\n")
    assert "dy/dx" in run("derive", "-f", str(path)).stdout
    assert "dy/dx" in run("derive", "-f", "-", input="y = sin(x)").stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["derive", "__import__('os').system('id')"], "error: attribute access is not allowed"),
        (["derive", "foo(x)"], "error: unknown function 'foo'"),
        (["derive", "lgamma(x) + x"], "error: unknown function 'lgamma'"),
        (["derive"], "error: no program given"),
        (["derive", "x", "-f", "p"], "error: give the program either"),
        (["derive", "-f", "/nonexistent/p"], "error: -f /nonexistent/p: cannot read it"),
        (["derive", "x**2", "--at", "x"], "error: --at x: write NAME=VALUE"),
        (["derive", "x**2", "--at", "x=1", "--at", "x=2"], "error: --at x is given twice"),
        (["derive", "x**2", "--at", "q=1"], "error: --at q: not an input of the program"),
        (["derive", "x**2", "--at", "x=abc"], "error: --at x: abc is not a number"),
        (["derive", "x**2", "--wrt", "q"], "error: --wrt q: not an input of the program"),
        (["derive", "a = x**2; y = a + 1", "--of", "zz"], "error: --of zz: not an assigned name"),
        (["derive", "x**2", "--bogus"], "error: No such option '--bogus'"),
        (["derive", "x**2", "--format", "pdf"], "error: Invalid value for '--format'"),
        (["derive", "log(x)", "--at", "x=-1"], "error: y = log(x) is undefined at x = −1"),
        (["derive", "10**10**10"], "error: exponent"),
        (["nonsense"], "error: No such command 'nonsense'"),
    ],
)
def test_bad_input_exits_2_with_one_error_line(run, args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith(message), result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr + result.stdout


def test_failed_check_exits_1_after_printing_the_derivation(run, monkeypatch):
    import dataclasses

    monkeypatch.setitem(ops.OPS, "tanh", dataclasses.replace(ops.OPS["tanh"], partials=lambda a, y: (1 - y,)))
    result = run("derive", "tanh(x)")
    assert result.exit_code == 1
    assert "✗ FAILED" in result.stdout
    assert result.stderr.startswith("error: the symbolic derivative disagrees with finite differences")


@pytest.mark.parametrize(
    "args, op, message",
    [
        (["derive", "tanh(x)"], "tanh", "cannot differentiate y = tanh(…): tanh's derivative uses gamma"),
        (["derive", "sin(x)", "--order", "2"], "cos", "cannot differentiate cos in the gradient: cos's derivative uses gamma"),
        (["derive", "z: 3; w: 3; L = dot(w, softmax(z))"], "softmax",
         "cannot differentiate a = softmax(…): softmax's derivative uses gamma"),
    ],
)
def test_a_derivative_outside_the_registry_exits_2_naming_the_op(run, monkeypatch, args, op, message):
    """An entry swapped in after registration, whose derivative SymPy writes with gamma (which has no op)."""
    import dataclasses

    import sympy as sp

    entry = ops.OPS[op]
    if entry.is_tensor:
        swapped = dataclasses.replace(entry, vjp=lambda shapes, args, params, y, g, position: sp.gamma(g))
    else:
        swapped = dataclasses.replace(entry, partials=lambda a, y: (sp.gamma(a[0]),))
    monkeypatch.setitem(ops.OPS, op, swapped)
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr == f"error: {message}, which symgraph has no op for\n"


def test_internal_errors_never_show_a_traceback(run, monkeypatch):
    import symgraph.cli.commands as commands

    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(commands, "derive_program", broken)
    result = run("derive", "x")
    assert result.exit_code == 3
    assert result.stderr == "error: internal error (ZeroDivisionError: boom); please report it with the command you ran\n"


def test_help_shows_a_worked_example(run):
    for args in (["--help"], ["derive", "--help"]):
        result = run(*args)
        assert result.exit_code == 0
        assert 'symgraph derive "exp(x**2 + tanh(x))"' in result.stdout


def test_no_arguments_prints_help(run):
    result = run()
    assert result.exit_code == 0 and "Commands:" in result.stdout


def test_stats_prints_the_swell_meter_in_text_and_json(run):
    program = "; ".join(["h0 = x"] + [f"h{i} = tanh(w*h{i - 1}) + h{i - 1}" for i in range(1, 30)])
    result = run("derive", program, "--wrt", "w", "--stats", "--no-check")
    assert result.exit_code == 0
    assert "Expression swell" in result.stdout and "gradient as tree" in result.stdout
    data = json.loads(run("derive", program, "--wrt", "w", "--stats", "--format", "json").stdout)
    assert data["stats"]["gradient"]["tree_size"]["w"] > 10**9
    assert set(data["stats"]["seconds"]) == {"parse", "build", "backward", "evaluate", "check"}
    assert data["check"]["status"] in ("passed", "inconclusive")


def test_program_starting_with_minus_gets_a_hint(run):
    result = run("derive", "-log(sigmoid(z))", "--at", "z=1")
    assert result.exit_code == 2 and "write it as 'L = -…', or put it last after '--'" in result.stderr
    assert run("derive", "--at", "z=1", "--", "-log(sigmoid(z))").exit_code == 0
