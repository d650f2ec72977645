"""Comparisons `< <= > >= ==` as 0/1 indicators 1(z ≥ 0), and names of constants that are the user's variables."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner

from symgraph import derive, ops
from symgraph.cli.commands import app
from symgraph.errors import ParseError
from symgraph.explain.printing import latex, unicode
from symgraph.lang.parse import parse
from symgraph.lang.program import Apply, Ref
from symgraph.lang.source import source
from symgraph.verify.scalarize import verify

#: relation → NumPy's own comparison, the independent reference
REFERENCE = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal, "==": np.equal}
POINTS = [(-1.5, 0.5), (0.5, 0.5), (2.0, 0.5), (0.0, 0.0), (-0.25, -3.0)]  # below, at (the kink), above


@pytest.mark.parametrize("relation", sorted(REFERENCE))
@pytest.mark.parametrize("x, y", POINTS)
def test_a_comparison_is_its_indicator_with_derivative_zero(relation, x, y):
    d = derive(f"g = (x {relation} y)", at={"x": x, "y": y})
    assert d.value(d.output) == float(REFERENCE[relation](x, y))
    assert d.gradient_value("x") == 0 and d.gradient_value("y") == 0
    report = d.check()
    if x == y:  # on the jump: noted, never passed or failed
        assert report.status == "inconclusive"
        assert any("jumps at u = 0" in reason for reason in report.reasons)
    else:
        assert report.status == "passed"


@pytest.mark.parametrize("z", [-2.0, -1e-3, 0.0, 1e-3, 3.0])
def test_an_indicator_multiplies_in_as_the_course_writes_it(z):
    d = derive("g = (z >= 0) * d", at={"z": z, "d": 1.7})
    assert d.value(d.output) == (1.7 if z >= 0 else 0.0)
    assert d.gradient_value("d") == (1.0 if z >= 0 else 0.0)
    assert d.gradient_value("z") == 0
    assert unicode(d.gradient["d"]) == "1(z ≥ 0)"


def test_sides_are_written_as_the_user_wrote_them():
    z = sp.Symbol("z")
    cases = {
        "z >= 0": ("1(z ≥ 0)", r"\mathbf{1}\left(z \geq 0\right)", "(z >= 0)"),
        "0 < z": ("1(z > 0)", r"\mathbf{1}\left(z > 0\right)", "(z > 0)"),
        "x <= y": ("1(x ≤ y)", r"\mathbf{1}\left(x \leq y\right)", "(x <= y)"),
        "x == 2": ("1(x = 2)", r"\mathbf{1}\left(x = 2\right)", "(x == 2)"),
    }
    for text, (shown, tex, written) in cases.items():
        program = parse(f"g = {text}")
        expr = _expand(program.assignments[0].term)
        assert (unicode(expr), latex(expr), source(expr)) == (shown, tex, written), text
        assert _expand(parse(f"g = {source(expr)}").assignments[0].term) == expr  # the input language reads it back
    assert ops.get("ge").build(z) ** 2 == ops.get("ge").build(z)  # an indicator squared is itself
    assert ops.get("lt").build(sp.pi - 3) == 0 and ops.get("eq").build(sp.Integer(0)) == 1  # constants fold


def _expand(term):
    """A parsed term as one SymPy expression (inputs as symbols)."""
    if isinstance(term, Ref):
        return sp.Symbol(term.name)
    if isinstance(term, Apply):
        return ops.get(term.op).build(*(_expand(a) for a in term.args))
    return term


def test_comparisons_act_elementwise_on_tensors():
    at = {"z": [-1.0, 0.5, 2.0, -0.2], "d": [1.0, 2.0, 3.0, 4.0], "c": [0.0, 1.0, 1.5, -1.0]}
    d = derive("g = (z >= 0) * d * z + (z < c) * d; L = sum(g)", at=at)
    z, dd, c = (np.array(at[k]) for k in ("z", "d", "c"))
    assert d.value(d.output) == pytest.approx(float(np.sum((z >= 0) * dd * z + (z < c) * dd)))
    np.testing.assert_allclose(d.gradient_value("d"), (z >= 0) * z + (z < c))
    np.testing.assert_allclose(d.gradient_value("z"), (z >= 0) * dd)
    assert verify(d) < 1e-12  # the scalar engine on the expansion
    assert d.check().status == "passed"


def test_relu_backward_written_with_an_indicator():
    """The course's δ = 1(z ≥ 0) ⊙ ∂L/∂h, here inside a loss: relu's gradient away from the kink."""
    at = {"W": [[0.5, -1.0], [2.0, 0.3]], "x": [1.0, 2.0], "v": [1.0, -2.0]}
    with_indicator = derive("z = W @ x; h = (z >= 0) * z; L = dot(v, h)", at=at)
    with_relu = derive("z = W @ x; h = relu(z); L = dot(v, h)", at=at)
    for name in at:
        np.testing.assert_allclose(with_indicator.gradient_value(name), with_relu.gradient_value(name))


@pytest.mark.parametrize(
    "text, message, column",
    [
        ("y = 0 < x < 1", "chained comparison 'a < b < c' is not allowed", 5),
        ("y = x != 1", "comparison '!=' is not supported", 5),
        ("y = x is z", "comparison 'is' is not supported", 5),
        ("y = x in z", "comparison 'in' is not supported", 5),
    ],
)
def test_refused_comparisons_say_what_to_write(text, message, column):
    with pytest.raises(ParseError) as info:
        parse(text)
    assert message in str(info.value) and info.value.column == column
    if "chained" in message:
        assert "write (a < b) * (b < c)" in str(info.value)


def test_cli_json_of_a_comparison():
    result = CliRunner().invoke(app, ["derive", "g = (z >= 0) * d", "--at", "z=0.5", "--at", "d=2", "--format", "json"],
                                prog_name="symgraph")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["gradient"]["d"]["value"] == 1.0 and data["gradient"]["z"]["value"] == 0.0
    assert data["gradient"]["d"]["expr"] == "(z >= 0)"
    assert {node["op"] for node in data["nodes"]} >= {"ge"}


# --- a constant's name that is the user's -----------------------------------------------------------------------


def test_E_is_eulers_number_unless_the_program_makes_it_its_own():
    assert parse("y = E*x").inputs == ("x",) and parse("y = E*x").notes == ()
    assigned = parse("E = 2*x\ny = E + pi")
    assert assigned.inputs == ("x",) and [a.name for a in assigned.assignments] == ["E", "y"]
    assert assigned.notes == ("E is your variable here, not Euler's number",)
    declared = parse("E: 2x2\npi: 2\ny = sum(E @ pi)")
    assert declared.inputs == ("E", "pi")
    assert declared.notes == ("pi is your variable here, not the number π", "E is your variable here, not Euler's number")
    given = parse("y = E*x", variables=["E"])
    assert given.inputs == ("E", "x") and given.notes == ("E is your variable here, not Euler's number",)
    assert parse("y = pi*x", variables=["E"]).notes == ()  # E given but not in the program: nothing shadowed


def test_a_lowercase_e_raised_to_a_power_is_noted_as_the_users_variable_not_eulers_number():
    result = CliRunner().invoke(app, ["derive", "e**x", "--no-check"], prog_name="symgraph")
    assert result.exit_code == 0
    assert "Note  e is your variable here; Euler's number is E (e**x is exp(x))" in result.stdout
    assert parse("y = E**x").notes == () and parse("err = y - t\nL = err*e").notes == ()  # e used, not powered


def test_a_constant_given_a_value_is_an_input_of_derive():
    d = derive("y = E*x**2", at={"E": 3.0, "x": 2.0})
    assert d.value(d.output) == 12.0
    assert d.gradient_value("E") == 4.0 and d.gradient_value("x") == 12.0
    euler = derive("y = E*x**2", at={"x": 2.0})
    assert euler.value(euler.output) == pytest.approx(4 * np.e)
    assert d.program.notes == ("E is your variable here, not Euler's number",)


def test_cli_a_matrix_named_E():
    E = [[1.0, 2.0], [0.5, -1.0]]
    result = CliRunner().invoke(app, ["derive", "L = sum(E @ x)", "--at", f"E={json.dumps(E)}", "--at", "x=[1, 2]",
                                      "--format", "json"], prog_name="symgraph")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    np.testing.assert_allclose(data["gradient"]["E"]["value"], [[1, 2], [1, 2]])
    np.testing.assert_allclose(data["gradient"]["x"]["value"], np.sum(E, axis=0))
