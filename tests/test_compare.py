"""`compare`: the multiple-choice questions of ../shared/problems.md (P1–P4), answered and explained."""

from __future__ import annotations

import json

import pytest
import sympy as sp
from click.testing import CliRunner

from symgraph.cli.app import App
from symgraph.cli.compare import compare as compare_command
from symgraph.errors import InputError
from symgraph.teach.compare import MAX_OPS, POINTS, compare

P1 = "a = x**2; b = tanh(x); y = exp(a + b)"
P2 = "a = 3*x + sigmoid(x); b = x**2 - exp(-x); y = a*b"


def answers(program, wrt, *candidates, **options):
    """(equal, method) per candidate."""
    return [(v.equal, v.method) for v in compare(program, wrt, candidates, **options).verdicts]


# --- the course's questions ----------------------------------------------------------------------


def test_p1_printed_answer_and_distractors():
    assert answers(
        P1,
        "x",
        "(2*x + 1 - tanh(x)**2)*y",  # printed answer, in the output y
        "(2*x + tanh(x)*(1 - tanh(x)))*exp(a + b)",
        "2*x + 1 - tanh(x)**2",
        "cos(pi) + 1",  # exp(iπ) + 1, which is 0, in the language's real numbers
    ) == [(True, "symbolic"), (False, "numeric"), (False, "numeric"), (False, "numeric")]


def test_p2_options_written_in_the_intermediates():
    assert answers(
        P2,
        "x",
        "b*(3 + sigmoid(x)*(1 - sigmoid(x))) + a*(2*x + exp(-x))",
        "a*(3 + sigmoid(x)*(1 - sigmoid(x))) + b*(2*x + exp(-x))",
        "3 + sigmoid(x)*(1 - sigmoid(x)) + 2*x + exp(-x)",
        "0",
    ) == [(True, "symbolic"), (False, "numeric"), (False, "numeric"), (False, "numeric")]


def test_p3_softplus_options():
    assert answers(
        "softplus(t)", "t", "sigmoid(t)*(1 - sigmoid(t))", "sigmoid(t)", "sigmoid(-t)", "softplus(t)*(1 - softplus(t))"
    ) == [(False, "numeric"), (True, "symbolic"), (False, "numeric"), (False, "numeric")]


def test_p4_tanh_options():
    assert answers("tanh(s)", "s", "1 - tanh(s)**2", "tanh(s)*(1 - tanh(s))", "step(s)") == [
        (True, "symbolic"),
        (False, "numeric"),
        (False, "numeric"),
    ]


def test_two_different_looking_correct_candidates_are_both_found():
    assert answers("sigmoid(x)", "x", "sigmoid(x)*(1 - sigmoid(x))", "sigmoid(x)*sigmoid(-x)") == [
        (True, "symbolic"),
        (True, "symbolic"),
    ]


def test_real_inputs_let_sympy_drop_absolute_values_and_roots():
    assert answers("sigmoid(x)", "x", "abs(sigmoid(x))*sigmoid(-x)", "sqrt(sigmoid(x)**2)*sigmoid(-x)") == [
        (True, "symbolic"),
        (True, "symbolic"),
    ]


# --- how a verdict is reached ----------------------------------------------------------------------


def test_a_constant_difference_is_decided_symbolically():
    verdict = compare("softplus(t)", "t", ["sigmoid(t) + 1"]).verdicts[0]
    assert (verdict.equal, verdict.method) == (False, "symbolic")
    assert verdict.reason == "the derivative minus this is the constant −1"


def test_what_sympy_cannot_simplify_is_decided_numerically():
    # relu(t) − relu(−t) = t holds for real t, but SymPy knows nothing about relu.
    verdict = compare("softplus(t)", "t", ["sigmoid(t) + relu(t) - relu(-t) - t"]).verdicts[0]
    assert (verdict.equal, verdict.method, verdict.points) == (True, "numeric", POINTS)
    assert verdict.reason == f"at {POINTS} random points"
    assert verdict.max_difference < 1e-12


def test_a_difference_too_large_for_sympy_goes_to_the_numbers():
    candidate = "sigmoid(t) + " + " + ".join(f"sin({k}*t)**2 + cos({k}*t)**2 - 1" for k in range(1, 40))
    assert sp.count_ops(sp.sympify(candidate)) > MAX_OPS  # trusted test text, so sympify is fine here
    assert answers("softplus(t)", "t", candidate) == [(True, "numeric")]


def test_a_wrong_candidate_names_a_point_where_it_differs():
    verdict = compare("softplus(t)", "t", ["sigmoid(-t)"]).verdicts[0]
    assert verdict.reason.startswith("at t = ") and " the derivative is " in verdict.reason
    assert verdict.max_difference > 0.1


def test_a_derivative_too_large_to_write_is_compared_numerically():
    chain = "; ".join(["h0 = x", *(f"h{i} = tanh(w*h{i - 1})" for i in range(1, 60))])
    comparison = compare(chain, "x", ["h59"])
    assert [(v.equal, v.method) for v in comparison.verdicts] == [(False, "numeric")]
    assert comparison.to_dict()["derivative"] is None
    assert "written out, a tree of" in comparison.to_text()


def test_candidates_outside_the_derivatives_domain_are_undecided():
    verdict = compare("log(x)", "x", ["sqrt(-x)"]).verdicts[0]
    assert (verdict.equal, verdict.method, verdict.points) == (None, "numeric", 0)
    assert verdict.reason == "no point was found where both are defined"
    assert compare("log(x)", "x", ["sqrt(-x)"]).to_text().startswith("? √(−x)  undecided (numerically, no point")
    # Nowhere defined: shown as written, not as SymPy's zoo.
    assert compare("softplus(t)", "t", ["1/(t - t)"]).to_text().startswith("? 1/(t - t)  undecided")


def test_at_fixes_inputs():
    assert answers("w*x", "x", "w", "2", "3", at={"w": 2}) == [
        (True, "symbolic"),
        (True, "numeric"),
        (False, "numeric"),
    ]
    verdict = compare("w*x", "x", ["2"], at={"w": 2, "x": 0.5}).verdicts[0]
    assert (verdict.equal, verdict.points, verdict.reason) == (True, 1, "at the given point")


def test_the_derivation_is_left_as_it_was():
    comparison = compare(P2, "x", ["a*b*x"])
    assert len(comparison.derivation.graph) == len(compare(P2, "x", ["0"]).derivation.graph)


def test_text_and_json():
    comparison = compare("softplus(t)", "t", ["sigmoid(t)", "sigmoid(-t)"])
    lines = comparison.to_text().splitlines()
    assert lines[0] == "✓ σ(t)   equal (symbolically, the difference simplifies to 0)"
    assert lines[1].startswith("✗ σ(−t)  not equal (numerically, at t = ")
    assert lines[2] == "dy/dt = σ(t)"
    data = json.loads(comparison.to_json())
    assert data["derivative"] == "sigmoid(t)"
    assert data["candidates"][0] == {
        "expr": "sigmoid(t)", "equal": True, "method": "symbolic", "reason": "the difference simplifies to 0",
        "points": None, "max_difference": None,
    }
    assert {k: data["candidates"][1][k] for k in ("expr", "equal", "method", "points")} == {
        "expr": "sigmoid(-t)", "equal": False, "method": "numeric", "points": POINTS,
    }


# --- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "program, wrt, candidates, message",
    [
        (P2, "x", ["a*c"], "candidate 1: unknown name 'c'; a candidate may use the inputs: x; assigned names: a, b, y"),
        ("tanh(s)", "s", ["1", "__import__('os')"], "candidate 2: unknown function '__import__'"),
        ("tanh(s)", "s", ["().__class__"], "candidate 1: "),
        ("tanh(s)", "s", ["z = s"], "candidate 1: write one expression, not assignments"),
        ("tanh(s)", "x", ["1"], "wrt='x': not an input of the program; inputs: s"),
        (P2, "a", ["1"], "wrt='a': it is an intermediate; not an input"),
        ("w*x", None, ["w"], "wrt: say which input: the program has inputs w, x"),
        ("tanh(s)", "s", [], "no candidates given"),
    ],
)
def test_bad_input(program, wrt, candidates, message):
    with pytest.raises(InputError) as error:
        compare(program, wrt, candidates)
    assert str(error.value).startswith(message)


# --- the command line ------------------------------------------------------------------------------


@pytest.fixture
def run():
    def invoke(*args):
        return CliRunner().invoke(App(commands=[compare_command]), ["compare", *args], prog_name="symgraph")

    return invoke


def test_cli_softplus(run):
    result = run("softplus(t)", "--wrt", "t", "sigmoid(t)*(1-sigmoid(t))", "sigmoid(t)", "sigmoid(-t)")
    assert result.exit_code == 0
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert [line[:2] for line in lines[:3]] == ["✗ ", "✓ ", "✗ "]
    assert lines[0].startswith("✗ σ(t)·(1 − σ(t))  not equal (numerically, at t = ")
    assert lines[1] == "✓ σ(t)             equal (symbolically, the difference simplifies to 0)"
    assert lines[2].startswith("✗ σ(−t)            not equal (numerically, at t = ")
    assert lines[3:] == ["dy/dt = σ(t)"]


def test_cli_sigmoid_both_equal(run):
    result = run("sigmoid(x)", "--wrt", "x", "sigmoid(x)*(1-sigmoid(x))", "sigmoid(x)*sigmoid(-x)")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "✓ σ(x)·(1 − σ(x))  equal (symbolically, the difference simplifies to 0)\n"
        "✓ σ(x)·σ(−x)       equal (symbolically, the difference simplifies to 0)\n"
        "dy/dx = σ(x)·(1 − σ(x))\n"
    )


def test_cli_json_and_a_candidate_starting_with_minus(run):
    result = run("cos(x)", "-sin(x)", "sin(x)", "--format", "json")
    assert (result.exit_code, result.stderr) == (0, "")
    data = json.loads(result.stdout)
    assert [(c["expr"], c["equal"], c["method"]) for c in data["candidates"]] == [
        ("-sin(x)", True, "symbolic"),
        ("sin(x)", False, "numeric"),
    ]


def test_cli_numeric_verdict_says_how_many_points(run):
    result = run("softplus(t)", "sigmoid(t) + relu(t) - relu(-t) - t")
    assert result.exit_code == 0
    assert f"equal (numerically, at {POINTS} random points)" in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["tanh(s)", "tanh(z)"], "error: candidate 1: unknown name 'z'; a candidate may use the inputs: s\n"),
        (["tanh(s)", "__import__('os').system('id')"], "error: candidate 1: "),
        (["tanh(s)", "--wrt", "x", "1"], "error: --wrt x: not an input of the program; inputs: s\n"),
        (["tanh(s)", "1", "--formt", "json"], "error: no such option: --formt (see 'symgraph compare --help')\n"),
        (["tanh(s)", "1", "--format", "latex"], "error: Invalid value for '--format'"),
        (["tanh(s)"], "error: no candidates given"),
        (["tanh(s)", "1", "s + exp(1000)"], "error: candidate 2: this constant is too large for a floating-point number"),
        ([], "error: Missing argument 'PROGRAM'"),
    ],
)
def test_cli_bad_input(run, args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_tensor_candidates_are_compared_entry_by_entry():
    """(A + Aᵀ)x is ∇ₓ(xᵀAx); 2Ax only for a symmetric A; a matrix has the wrong shape."""
    result = compare("A: 2x2; x: 2; L = x @ A @ x", "x", ["(A + A.T) @ x", "2 * A @ x", "A"])
    equal = [v.equal for v in result.verdicts]
    assert equal == [True, False, False]
    assert result.verdicts[0].method == "numeric" and result.verdicts[0].points == 20
    assert "shape 2×2" in result.verdicts[2].reason and "entry [" in result.verdicts[1].reason


def test_softmax_cross_entropy_candidate_is_p_minus_onehot():
    result = compare("z: 4; L = cross_entropy(z, 1)", None, ["softmax(z) - onehot(1, 4)", "softmax(z)"])
    assert [v.equal for v in result.verdicts] == [True, False]
