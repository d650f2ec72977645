"""The input language: what it accepts, and how it refuses everything else."""

from __future__ import annotations

import pytest
import sympy as sp

from symgraph.errors import LimitError, ParseError
from symgraph.lang import limits
from symgraph.lang.from_sympy import from_sympy
from symgraph.lang.parse import parse
from symgraph.lang.program import Apply, Ref
from symgraph.notation import pretty_name


def test_single_expression_is_an_unnamed_output():
    program = parse("exp(x**2 + tanh(x))")
    assert program.inputs == ("x",)
    (assignment,) = program.assignments
    assert assignment.name is None
    assert isinstance(assignment.term, Apply) and assignment.term.op == "exp"


def test_assignments_keep_names_and_input_order():
    program = parse("a = 3*x + sigmoid(x); b = x**2 - exp(-w)\ny = a*b")
    assert program.names == ("a", "b", "y")
    assert program.inputs == ("x", "w")


def test_sums_and_products_are_flattened_in_written_order():
    term = parse("x + y + z").assignments[0].term
    assert term.op == "add" and [a.name for a in term.args] == ["x", "y", "z"]
    term = parse("x - y - z").assignments[0].term
    assert term.op == "sub" and term.args[0].op == "sub"


def test_constants_fold_exactly():
    term = parse("2*3*x + pi + E").assignments[0].term
    assert sp.Integer(6) in term.args[0].args
    assert sp.pi + sp.E in term.args or (sp.pi in term.args and sp.E in term.args)
    assert parse("0.1*x").assignments[0].term.args[0] == sp.Rational(1, 10)
    assert parse("2**10").assignments[0].term == 1024
    assert parse("+x").assignments[0].term == Ref("x", 1, 2)


@pytest.mark.parametrize(
    "text, message, column",
    [
        ("__import__('os').system('id')", "attribute access", 1),
        ("x.real", "attribute access", 1),
        ("foo(x)", "unknown function 'foo'", 1),
        ("tanh(x, y)", "tanh takes 1 argument, got 2", 1),
        ("tanh(x=1)", "no keyword arguments", None),
        ("lambda: 1", "lambda", 1),
        ("[x for x in y]", "comprehension", 1),
        ("x if y else z", "conditional", 1),
        ("x ^ 2", "write x**2", 1),
        ("x % 2", "operator '%' is not supported", 1),
        ("y = x; y = 2*x", "assigned twice", 8),
        ("y = x + 1; x = 2", "used at column 5 before it is assigned", 12),
        ("a = b = x", "chained assignment", 1),
        ("x[-1]", "non-negative integer", 3),
        ("'text'", "str constant", 1),
        ("True + x", "bool constant", 1),
        ("exp + 1", "'exp' is a function", 1),
        ("exp = 3", "built-in name", 1),
        ("_x * 2", "reserved", 1),
        ("x / 0", "division by zero", 1),
        ("c = log(1); y = x / c", "division by zero", 17),
        ("log(0) * x", "undefined", 1),
        ("sqrt(-1) * x", "not a real number", 1),
        ("2x", "write 2*x", None),
        ("(x + 1", "syntax error", None),
        ("x +", "syntax error", None),
        ("x; y", "only the last line", 1),
        ("import os", "import", 1),
        ("f'{x}'", "f-string", 1),
        ("x != 1", "comparison '!=' is not supported", 1),
        ("0 < x < 1", "chained comparison", 1),
        ("y = theta*θ + theta", "'θ' and 'theta' are both shown as θ", 11),
        ("theta1 = 2*x; y = θ1 + theta1", "'theta1' and 'θ1' are both shown as θ₁", 1),
        ("y = Α*x", "GREEK CAPITAL LETTER ALPHA) is not allowed at column 5 ('Α'); it looks like the Latin A", 5),
    ],
)
def test_refusals_name_the_problem_and_the_column(text, message, column):
    with pytest.raises(ParseError) as info:
        parse(text)
    assert message in str(info.value)
    if column is not None:
        assert info.value.column == column
    assert "\n" not in str(info.value)


def test_names_that_print_alike_only_when_they_are_spelled_alike():
    program = parse("y = theta*theta1 + x1*x_2 + θ2")
    assert program.inputs == ("theta", "theta1", "x1", "x_2", "θ2")
    # x_2 prints x₂ as a loop's versions do (LaTeX always wrote x_{2} for both spellings)
    assert [pretty_name(n) for n in program.inputs] == ["θ", "θ₁", "x₁", "x₂", "θ₂"]
    with pytest.raises(ParseError, match="'x_1' and 'x1' are both shown as x₁"):
        parse("y = x1*x_1")


def test_columns_count_characters_not_bytes():
    with pytest.raises(ParseError) as info:
        parse("θ + foo(x)")
    assert info.value.column == 5


@pytest.mark.parametrize("text", ["", "   ", "\n\n"])
def test_empty_program_is_refused(text):
    with pytest.raises(ParseError, match="empty program"):
        parse(text)


@pytest.mark.parametrize(
    "text, message",
    [
        ("10**10**10", "larger than 1000"),
        ("9**9**9**9", "larger than 1000"),
        ("x**(10**100)", "larger than 1000"),
        ("2**999 * x", "digits"),
        ("(" * 300 + "x" + ")" * 300, "nest"),
        ("+".join(["x"] * 30000), "nest"),
        ("x" * 1_100_000, "characters long"),
        ("1" * 60 + "*x", "digits"),
    ],
)
def test_limits_refuse_before_anything_is_evaluated(text, message):
    with pytest.raises((LimitError, ParseError), match=message):
        parse(text)


def test_depth_limit_is_adjustable(monkeypatch):
    text = "tanh(" * 20 + "x" + ")" * 20
    parse(text)
    monkeypatch.setattr(limits, "LIMITS", limits.Limits(max_depth=10))
    with pytest.raises(LimitError, match="deeper than 10"):
        parse(text)


def test_node_limit(monkeypatch):
    monkeypatch.setattr(limits, "LIMITS", limits.Limits(max_nodes=5))
    with pytest.raises(LimitError, match="program has 6 operations; the limit is 5"):
        parse("; ".join(f"a{i} = x*{i+2}" for i in range(6)))


def test_from_sympy_builds_the_same_terms():
    x = sp.Symbol("x")
    program = from_sympy(sp.exp(x**2 + sp.tanh(x)))
    assert program.inputs == ("x",)
    assert program.assignments[0].term.op == "exp"
