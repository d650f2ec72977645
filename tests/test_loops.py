"""`for t in range(…):` blocks: unrolled by the parser into versions (h_1, h_2 … printed h₁, h₂), refused clearly.

The gradients of an unrolled loop are held against the same program written out by hand (same values to the
last bits), against the scalar engine on the expansion (symgraph.verify.scalarize) and against finite
differences.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from symgraph import derive
from symgraph.cli.commands import app
from symgraph.engine.graph import build
from symgraph.errors import LimitError, ParseError
from symgraph.lang.parse import parse
from symgraph.lang.program import Apply, Ref
from symgraph.notation import pretty_name
from symgraph.verify.scalarize import verify

RNN = """h = h0
for t in range(3):
    z = W @ h + U @ xs[t]
    h = tanh(z)
L = dot(v, h)"""

RNN_WRITTEN_OUT = """z1 = W @ h0 + U @ xs[0]
h1 = tanh(z1)
z2 = W @ h1 + U @ xs[1]
h2 = tanh(z2)
z3 = W @ h2 + U @ xs[2]
h3 = tanh(z3)
L = dot(v, h3)"""


def rnn_values(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {"W": rng.normal(size=(2, 2)).tolist(), "U": rng.normal(size=(2, 3)).tolist(),
            "xs": rng.normal(size=(3, 3)).tolist(), "h0": rng.normal(size=2).tolist(), "v": [1.0, -0.5]}


# --- unrolling ------------------------------------------------------------------------------------------------


def test_a_loop_unrolls_into_versions_with_their_iteration():
    program = parse(RNN)
    assert [a.name for a in program.assignments] == ["z_1", "h_1", "z_2", "h_2", "z_3", "h_3", "L"]
    assert [a.loop for a in program.assignments] == [(("t", 0),)] * 2 + [(("t", 1),)] * 2 + [(("t", 2),)] * 2 + [()]
    assert program.inputs == ("h0", "W", "U", "xs", "v")  # h = h0: version h₀ is the input h0 itself
    assert program.latest == {"z": "z_3", "h": "h_3"}
    # each version reads the one before; xs[t] is xs[0], xs[1], xs[2]
    second = program.assignments[2].term
    assert isinstance(second, Apply) and second.op == "add"
    matmul, recurrent = second.args
    assert isinstance(matmul, Apply) and matmul.args[1] == Ref("h_1", 3, 13)
    assert recurrent.args[1].args[1] == 1  # type: ignore[union-attr]
    assert [pretty_name(a.name) for a in program.assignments[:2]] == ["z₁", "h₁"]
    assert program.assignments[-1].term.args[1] == Ref("h_3", 5, 12)  # type: ignore[union-attr]  # h after the loop


def test_the_loop_variable_is_a_number_in_index_arithmetic_and_in_expressions():
    program = parse("s = 0*x[0]\nfor t in range(1, 4):\n    s = s + t*x[t - 1]\ny = s")
    d = derive("s = 0*x[0]\nfor t in range(1, 4):\n    s = s + t*x[t - 1]\ny = s", at={"x": [2.0, 3.0, 5.0]})
    assert d.value(d.output) == pytest.approx(1 * 2 + 2 * 3 + 3 * 5)
    np.testing.assert_allclose(d.gradient_value("x"), [1, 2, 3])
    assert [a.name for a in program.assignments][:2] == ["s_0", "s_1"]  # s = 0*x before the loop is version 0
    assert [a.loop for a in program.assignments][1:4] == [(("t", 1),), (("t", 2),), (("t", 3),)]


def test_nested_loops_and_a_negative_step():
    text = "s = x*0\nfor i in range(2):\n    for j in range(2, 0, -1):\n        s = s + X[i, j]*(i + j)\ny = s"
    program = parse(text)
    assert [a.loop for a in program.assignments if a.loop] == [
        (("i", 0), ("j", 2)), (("i", 0), ("j", 1)), (("i", 1), ("j", 2)), (("i", 1), ("j", 1))]
    X = np.arange(9.0).reshape(3, 3)
    d = derive(text, at={"X": X.tolist(), "x": 1.0})
    assert d.value(d.output) == pytest.approx(X[0, 2] * 2 + X[0, 1] * 1 + X[1, 2] * 3 + X[1, 1] * 2)
    expected = np.zeros((3, 3))
    expected[0, 2], expected[0, 1], expected[1, 2], expected[1, 1] = 2, 1, 3, 2
    np.testing.assert_allclose(d.gradient_value("X"), expected)


def test_unrolled_rnn_has_the_gradient_of_the_program_written_out():
    at = rnn_values()
    looped, written = derive(RNN, at=at), derive(RNN_WRITTEN_OUT, at=at)
    assert looped.value(looped.output) == written.value(written.output)
    for name in at:
        np.testing.assert_array_equal(looped.gradient_value(name), written.gradient_value(name))
    assert verify(looped) < 1e-12  # the scalar engine on the expansion
    assert looped.check().status == "passed"
    by_name = {looped.graph[n]["name"]: looped.graph[n] for n in looped.graph.nodes("forward")}
    assert by_name["h_2"]["loop"] == (("t", 1),) and by_name["L"]["loop"] == ()


def test_a_scalar_rnn_matches_its_written_out_form():
    loop = "h = h0\nfor t in range(4):\n    h = tanh(w*h + u*x[t])\nL = h"
    written = "h1 = tanh(w*h0 + u*x[0]); h2 = tanh(w*h1 + u*x[1]); h3 = tanh(w*h2 + u*x[2]); L = tanh(w*h3 + u*x[3])"
    at = {"h0": 0.3, "w": 0.8, "u": -0.6, "x": [0.5, -1.0, 2.0, 0.1]}
    a, b = derive(loop, at=at), derive(written, at=at)
    for name in at:
        np.testing.assert_array_equal(a.gradient_value(name), b.gradient_value(name))
    assert a.check().status == "passed"


def test_a_name_after_the_loop_and_of_are_its_last_version():
    program = parse("h = h0\nfor t in range(3):\n    h = tanh(w*h + x0*t)\nL = 2*h")
    graph, output = build(program, "h")
    assert graph.label(output) == "h_3"
    assert graph.names["h"] == graph.names["h_3"]
    d = derive("h = h0\nfor t in range(3):\n    h = tanh(w*h + x[t])\nL = 2*h", of="h", at={"h0": 0.2, "w": 0.5, "x": [1, 2, 3]})
    assert d.graph.label(d.output) == "h_3" and d.check().status == "passed"


def test_versions_never_print_like_the_users_names():
    # h1 is the user's, so h's versions are hv_0, hv_1 … (hv₀, hv₁), printed unlike h₁
    program = parse("y = h1*2\nh = x\nfor t in range(2):\n    h = h*x\nL = h + y")
    names = [a.name for a in program.assignments]
    assert names == ["y", "hv_0", "hv_1", "hv_2", "L"]
    shown = [pretty_name(n) for n in (*names, *program.inputs)]
    assert len(set(shown)) == len(shown)


def test_generated_names_never_print_like_versions():
    # 3 unnamed nodes per step run the generated letters past z into a1, b1 …, which would print like a_1
    d = derive("a = x\nfor t in range(12):\n    a = sin(a)*cos(a) + tanh(a)*t\ny = a", at={"x": 0.3})
    shown = [pretty_name(d.graph.label(n)) for n in d.graph.nodes("input", "forward")]
    assert len(set(shown)) == len(shown)
    assert "a₁" in shown


# --- refusals -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, message, column",
    [
        ("for t in range(-1, 2):\n    y = x[t]", "expected a non-negative integer; t is -1 on line 2 (at t = -1)", 11),
        ("for t in range(3):\n    y = x[t + 1] / (t - 1)", "division by zero on line 2 (at t = 1)", 9),
        ("for t in range(0):\n    y = x", "range(0) is empty: the loop would never run", 10),
        ("for t in range(n):\n    y = x", "range takes integer constants", 16),
        ("for t in range(1, 2, 0):\n    y = x", "the step of range cannot be 0", 22),
        ("for t in [1, 2]:\n    y = x", "a loop runs over range(…)", 10),
        ("for t in range(stop=3):\n    y = x", "range takes one to three integers", 10),
        ("for t, s in range(3):\n    y = x", "a loop variable is one name", 5),
        ("for _t in range(3):\n    y = x", "reserved", 5),
        ("for E in range(3):\n    y = x", "'E' is a built-in name and cannot be a loop variable", 5),
        ("for t in range(3):\n    pass", "Pass is not allowed", 5),
        ("for t in range(3):\n    y = x\nelse:\n    y = 2", "'for … else' is not allowed", 1),
        ("for t in range(3):\n    x*t", "a loop body holds assignments only", 5),
        ("for t in range(3):\n    W: 2x2\n    y = x", "a declaration inside a loop", 5),
        ("for t in range(2):\n    t = x", "'t' is a loop variable and cannot be assigned", 5),
        ("for t in range(2):\n    for t in range(2):\n        y = x", "already the variable of an enclosing loop", 9),
        ("for t in range(2):\n    y = x*t\nz = t", "'t' is the variable of the loop 'for t in range(2)'", 5),
        ("for t in range(2):\n    h = tanh(h)", "'h' is used at column 14 before it is assigned on line 2 (at t = 0)", 5),
        ("for t in range(2):\n    h = x*t\nh = 2*h", "'h' is assigned twice (first at column 5)", 1),
    ],
)
def test_loop_refusals_name_the_token_and_the_column(text, message, column):
    with pytest.raises(ParseError) as info:
        parse(text)
    assert message in str(info.value)
    assert info.value.column == column
    assert "\n" not in str(info.value)


def test_a_loop_before_its_starting_value_gets_a_hint():
    with pytest.raises(ParseError, match="give h its starting value before the loop, e.g. h = h0"):
        parse("for t in range(2):\n    h = tanh(h)")


@pytest.mark.parametrize(
    "text, message",
    [
        ("h = x\nfor t in range(6000):\n    h = tanh(w*h + u*x)",
         "the loop 'for t in range(6000)' on line 2 unrolls to 24,000 operations (the program to 24,000); the limit is 20,000"),
        ("for i in range(200):\n    for j in range(200):\n        a = X[i, j]",
         "the loop 'for i in range(200)' on line 1 unrolls to 40,000 assignments; the limit is 20,000"),
        ("for t in range(10**12):\n    a = x", "range takes integer constants"),
        ("for t in range(1000000000000):\n    a = x", "unrolls to 1,000,000,000,000 assignments"),
        ("for t in range(" + "9" * 60 + "):\n    a = x", "integer literal has more than 50 digits"),
    ],
)
def test_the_unrolled_size_is_bounded_before_anything_is_unrolled(text, message):
    with pytest.raises((LimitError, ParseError)) as info:
        parse(text)
    assert message in str(info.value)


# --- the command line -----------------------------------------------------------------------------------------


def test_cli_derives_a_loop_in_json_and_text():
    at = rnn_values(1)
    options = [option for name, value in at.items() for option in ("--at", f"{name}={json.dumps(value)}")]
    runner = CliRunner()
    result = runner.invoke(app, ["derive", RNN, *options, "--format", "json"], prog_name="symgraph")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    names = [node["name"] for node in data["nodes"]]
    assert {"h_1", "h_2", "h_3", "z_1"} <= set(names) and "h" not in names
    written = derive(RNN_WRITTEN_OUT, at=at)
    np.testing.assert_allclose(data["gradient"]["W"]["value"], written.gradient_value("W"), rtol=1e-14)
    assert data["check"]["passed"] is True
    text = runner.invoke(app, ["derive", RNN, *options], prog_name="symgraph")
    assert "h₃ = tanh(z₃)" in text.stdout and "∂L/∂h₂ = Wᵀ ∂L/∂" in text.stdout


def test_cli_of_a_name_after_the_loop_is_its_last_version():
    program = "h = h0\nfor t in range(3):\n    h = tanh(w*h + x0*t)\nL = 2*h"
    result = CliRunner().invoke(app, ["derive", program, "--of", "h", "--at", "h0=0.2", "--at", "w=0.5", "--at", "x0=1",
                                      "--format", "json"], prog_name="symgraph")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    h = 0.2
    for t in range(3):
        h = np.tanh(0.5 * h + t)
    value = next(node["value"] for node in data["nodes"] if node["name"] == "h_3")
    assert data["output"] == "h_3" and value == pytest.approx(h, rel=1e-15)
    assert data["check"]["passed"] is True  # the gradient of h₃ against finite differences


def test_cli_refuses_a_loop_past_the_limit_in_one_line():
    result = CliRunner().invoke(app, ["derive", "h = x\nfor t in range(30000):\n    h = h*x"], prog_name="symgraph")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: the loop 'for t in range(30000)' on line 2 unrolls to")
    assert result.stderr.count("\n") == 1


def test_a_version_read_by_name_after_the_loop_is_that_version():
    d = derive("k = x\nfor t in range(2):\n    k = tanh(w * k)\nL = k_1 + k_2", at={"x": 0.5, "w": 2.0})
    assert list(d.inputs) == ["x", "w"]
    k1 = np.tanh(2 * 0.5)
    assert d.value(d.output) == pytest.approx(k1 + np.tanh(2 * k1))
    assert d.check().passed
