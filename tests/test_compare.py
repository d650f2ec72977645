"""`compare`: the multiple-choice questions of ../shared/problems.md (P1–P4), answered and explained."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner

from symgraph.cli.app import App
from symgraph.cli.compare import compare as compare_command
from symgraph.engine.evaluate import evaluate
from symgraph.errors import InputError
from symgraph.notation import pretty_name
from symgraph.teach.compare import MAX_OPS, POINTS, _Judge, compare

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
    assert lines[2:] == ["  ↳ no common mistake explains it", "dy/dt = σ(t)"]
    data = json.loads(comparison.to_json())
    assert data["derivative"] == "sigmoid(t)"
    assert data["candidates"][0] == {
        "expr": "sigmoid(t)", "equal": True, "method": "symbolic", "reason": "the difference simplifies to 0",
        "points": None, "max_difference": None, "witness": None, "diagnosis": None, "error": None, "up_to": None,
    }
    assert {k: data["candidates"][1][k] for k in ("expr", "equal", "method", "points")} == {
        "expr": "sigmoid(-t)", "equal": False, "method": "numeric", "points": POINTS,
    }


# --- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "program, wrt, candidates, message",
    [
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


@pytest.mark.parametrize(
    "program, candidate, message",
    [
        (P2, "a*c", "unknown name 'c'; a candidate may use the inputs: x; assigned names: a, b, y"),
        ("tanh(s)", "__import__('os')", "unknown function '__import__'"),
        ("tanh(s)", "().__class__", ""),
        ("tanh(s)", "z = s", "write one expression, not assignments"),
        ("tanh(s)", "s + exp(1000)", "this constant is too large for a floating-point number"),
        ("x: 3; L = sum(x)", "ones(2) + x", "elementwise add: shapes 2 and 3 do not match"),
    ],
)
def test_an_unreadable_candidate_gets_its_error_and_the_others_are_judged(program, candidate, message):
    comparison = compare(program, None, ["0", candidate, "1"])
    first, bad, last = comparison.verdicts
    assert bad.error is not None and bad.error.startswith(message)
    assert (bad.equal, bad.method, bad.diagnosis) == (None, None, None)
    assert first.error is None and last.error is None and first.method is not None and last.method is not None
    assert comparison.errors() == [f"candidate 2: {bad.error}"]
    assert comparison.status == 2
    assert bad.expr not in comparison.to_text()  # its line is the error, on stderr


# --- the command line ------------------------------------------------------------------------------


@pytest.fixture
def run():
    def invoke(*args):
        return CliRunner().invoke(App(commands=[compare_command]), ["compare", *args], prog_name="symgraph")

    return invoke


def test_cli_softplus(run):
    result = run("softplus(t)", "--wrt", "t", "sigmoid(t)*(1-sigmoid(t))", "sigmoid(t)", "sigmoid(-t)")
    assert result.exit_code == 1  # a wrong candidate
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert [line[:2] for line in lines[:5]] == ["✗ ", "  ", "✓ ", "✗ ", "  "]
    assert lines[0].startswith("✗ σ(t)·(1 − σ(t))  not equal (numerically, at t = ")
    assert lines[1] == (f"  ↳ matches the derivative with σ′ where softplus′ belongs: ∂y/∂t taken as σ(t)·(1 − σ(t)) "
                        f"(at the same {POINTS} points)")
    assert lines[2] == "✓ σ(t)             equal (symbolically, the difference simplifies to 0)"
    assert lines[3].startswith("✗ σ(−t)            not equal (numerically, at t = ")
    assert lines[4] == "  ↳ no common mistake explains it"
    assert lines[5:] == ["dy/dt = σ(t)"]


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
    assert (result.exit_code, result.stderr) == (1, "")
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
        (["tanh(s)", "--wrt", "x", "1"], "error: --wrt x: not an input of the program; inputs: s\n"),
        (["tanh(s)", "1", "--formt", "json"], "error: no such option: --formt (see 'symgraph compare --help')\n"),
        (["tanh(s)", "1", "--format", "latex"], "error: Invalid value for '--format'"),
        (["tanh(s)"], "error: no candidates given"),
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
    assert result.verdicts[0].method == "numeric" and result.verdicts[0].points == POINTS
    assert "shape 2×2" in result.verdicts[2].reason and "entry [" in result.verdicts[1].reason


def test_softmax_cross_entropy_candidate_is_p_minus_onehot():
    result = compare("z: 4; L = cross_entropy(z, 1)", None, ["softmax(z) - onehot(1, 4)", "softmax(z)"])
    assert [v.equal for v in result.verdicts] == [True, False]


# --- mistake diagnosis -----------------------------------------------------------------------------


def diagnoses(program, wrt, *candidates, **options):
    """(mistake kind, explanation) per candidate; None for a right one."""
    verdicts = compare(program, wrt, candidates, **options).verdicts
    return [None if v.diagnosis is None else (v.diagnosis.kind, v.diagnosis.text) for v in verdicts]


def same(text):
    return f"{text} (at the same {POINTS} points)"


def operand_name(program, name, position=0):
    """The printed name of an operand of `name`'s node: generated names are the graph's to choose."""
    graph = compare(program, None, ["0"]).derivation.graph
    return pretty_name(graph.label(graph.operands(graph.names[name])[position]))


C = operand_name(P1, "y")  # y = exp(c), c = a + b


def test_p1_distractors_are_diagnosed():
    assert diagnoses(
        P1, "x", "(2*x + 1 - tanh(x)**2)*y", "(2*x + tanh(x)*(1 - tanh(x)))*exp(a + b)", "2*x + 1 - tanh(x)**2", "cos(pi) + 1",
    ) == [
        None,
        ("activation", same("matches the derivative with σ′ where tanh′ belongs: ∂b/∂x taken as b·(1 − b)")),
        ("factor", same(f"matches the derivative with the factor ∂y/∂{C} = y left out")),
        (None, "no common mistake explains it"),
    ]


def test_p2_distractors_are_diagnosed():
    assert diagnoses(
        P2, "x",
        "a*(3 + sigmoid(x)*(1 - sigmoid(x))) + b*(2*x + exp(-x))",
        "3 + sigmoid(x)*(1 - sigmoid(x)) + 2*x + exp(-x)",
        "0",
    ) == [
        ("product rule", same("matches the derivative with ∂y/∂a and ∂y/∂b exchanged (the product rule's factors swapped)")),
        ("factor", same("matches the derivative with the factors ∂y/∂a = b and ∂y/∂b = a left out")),
        (None, "no common mistake explains it"),
    ]


def test_p3_and_p4_distractors_are_diagnosed():
    assert diagnoses("softplus(t)", "t", "sigmoid(t)*(1 - sigmoid(t))", "sigmoid(-t)", "softplus(t)*(1 - softplus(t))") == [
        ("activation", same("matches the derivative with σ′ where softplus′ belongs: ∂y/∂t taken as σ(t)·(1 − σ(t))")),
        (None, "no common mistake explains it"),
        ("activation", same("matches the derivative with σ′ where softplus′ belongs: ∂y/∂t taken as y·(1 − y)")),
    ]
    # P4's "1 if s > 0 else 0", in the course's notation 1(s > 0)
    assert diagnoses("tanh(s)", "s", "tanh(s)*(1 - tanh(s))", "1(s > 0)") == [
        ("activation", same("matches the derivative with σ′ where tanh′ belongs: ∂y/∂s taken as y·(1 − y)")),
        ("activation", same("matches the derivative with relu′ where tanh′ belongs: ∂y/∂s taken as 1(s > 0)")),
    ]


def test_a_missing_chain_rule_path_is_named():
    # y = exp(x² + tanh x): the two paths are x → a → c → y (2x·y) and x → b → c → y ((1 − b²)·y), c = a + b.
    assert diagnoses(P1, "x", "2*x*y", "(1 - b**2)*y") == [
        ("missing path", same(f"matches the derivative with the path x → b → {C} → y left out")),
        ("missing path", same(f"matches the derivative with the path x → a → {C} → y left out")),
    ]


def test_signs_and_factors():
    assert diagnoses("x**2*sin(x)", "x", "-(2*x*sin(x) + x**2*cos(x))", "x*sin(x) + x**2*cos(x)/2", "4*x*sin(x) + 2*x**2*cos(x)") == [
        ("sign", same("matches the derivative with its sign flipped")),
        ("factor", same("matches the derivative with a factor 2 left out (half of it)")),
        ("factor", same("matches the derivative with a factor 2 too many (twice it)")),
    ]
    # b = x² − e^(−x): the −1 of ∂(−x)/∂x dropped gives 2x − e^(−x) in place of 2x + e^(−x).
    kind, text = diagnoses(P2, "x", "b*(3 + sigmoid(x)*(1 - sigmoid(x))) + a*(2*x - exp(-x))")[0]
    assert kind == "sign" and text.startswith("matches the derivative with ∂") and text.endswith(same(" = −1 taken as 1"))
    assert diagnoses("x**3", "x", "x**2", "1")[0] == (
        "factor", same("matches the derivative with the power rule's factor 3 of ∂y/∂x = 3x² left out"))
    assert diagnoses("x**3", "x", "1")[0] == ("factor", same("matches the derivative with the factor ∂y/∂x = 3x² left out"))


def test_tensor_mistakes_transposed_missing_branch_mean_and_sum():
    quadratic = "A: 2x2; x: 2; L = x @ A @ x"
    assert diagnoses(quadratic, "x", "2 * A.T @ x", "A @ x") == [
        ("transpose", same("matches the derivative with A and Aᵀ exchanged in the term of ∂/∂x through a")),
        ("missing path", same("matches the derivative with the branch x → L left out")),
    ]
    layer = "W: 2x3; x: 3; L = sum(tanh(W @ x))"
    assert diagnoses(layer, "W", "outer(x, 1 - tanh(W @ x)**2)", "outer(tanh(W @ x)*(1-tanh(W @ x)), x)") == [
        ("transpose", same("matches the derivative transposed")),
        ("activation", same("matches the derivative with σ′ where tanh′ belongs: ∂b/∂a taken as b ⊙ (1 − b)")),
    ]
    assert diagnoses("y: 4; t: 4; L = mean((y - t)**2)", "y", "2*(y - t)", "(y - t)/4") == [
        ("mean/sum", same("matches the derivative with the mean taken as a sum (its 1/4 left out)")),
        ("factor", same("matches the derivative with the power rule's factor 2 of ∂b/∂a = 2a left out")),
    ]
    assert diagnoses("y: 4; L = sum(y**3)", "y", "3*y**2/4")[0] == (
        "mean/sum", same("matches the derivative with the sum taken as a mean (a factor 1/4 too many)"))


def test_relu_at_zero_the_other_convention():
    assert diagnoses("relu(z)", "z", "(z >= 0)", "1(z > 0)", at={"z": 0}) == [
        ("convention", "matches the derivative with relu′(0) taken as 1 (--relu-at-zero 1) (at the given point)"),
        None,
    ]
    assert [v.equal for v in compare("relu(z)", "z", ["(z >= 0)", "step(z)"], at={"z": 0}, relu_at_zero=1).verdicts] == [True, True]
    # Away from the kink the conventions agree: both are right at the random points.
    assert [v.equal for v in compare("relu(z)", "z", ["(z >= 0)", "1(z > 0)", "step(z)"]).verdicts] == [True, True, True]


def test_the_sweep_unchanged_is_the_derivative():
    """The variants are built on the recorded sweep: with nothing changed it gives the true gradient (hand-written
    for P1), and the variants go into the judge's copy of the graph, never the derivation's."""
    p1 = lambda x: (2 * x + 1 - np.tanh(x) ** 2) * np.exp(x**2 + np.tanh(x))  # noqa: E731
    for program, reference in [(P1, p1), (P2, None)]:
        derivation = compare(program, "x", ["0"]).derivation
        size = len(derivation.graph)
        judge = _Judge(derivation, "x")
        unchanged = judge.mistakes.sweep({})
        assert judge.mistakes.variants() and len(derivation.graph) == size
        xs = np.linspace(-1.5, 1.5, 7)
        values = evaluate(judge.graph, {derivation.inputs["x"]: xs}, [unchanged, judge.gradient])
        assert np.allclose(values[unchanged], values[judge.gradient], rtol=1e-12)
        if reference is not None:
            assert np.allclose(values[unchanged], reference(xs), rtol=1e-12)


def test_witness_points_reproduce_by_hand():
    t = compare("softplus(t)", "t", ["sigmoid(-t)"]).verdicts[0].witness
    sigmoid = lambda u: 1 / (1 + np.exp(-u))  # noqa: E731
    assert np.isclose(t["derivative"], sigmoid(t["at"]["t"])) and np.isclose(t["candidate"], sigmoid(-t["at"]["t"]))
    verdict = compare("A: 2x2; x: 2; L = x @ A @ x", "x", ["2 * A @ x"]).verdicts[0]
    w = verdict.witness
    A, x, k = np.array(w["at"]["A"]), np.array(w["at"]["x"]), tuple(w["entry"])
    assert np.isclose(w["derivative"], ((A + A.T) @ x)[k]) and np.isclose(w["candidate"], (2 * A @ x)[k])
    assert verdict.reason.startswith("at x = [") and f"entry {list(k)}" in verdict.reason


def test_exit_status_rule():
    assert compare("tanh(s)", "s", ["1 - tanh(s)**2"]).status == 0
    assert compare("log(x)", "x", ["sqrt(-x)"]).status == 0  # undecided is not wrong
    assert compare("tanh(s)", "s", ["1 - tanh(s)**2", "step(s)"]).status == 1
    assert compare("tanh(s)", "s", ["step(s)", "tanh(z)"]).status == 2


def test_cli_diagnoses_an_exam_slip_in_text_and_json(run):
    args = (P1, "(2*x + 1 - tanh(x)**2)*y", "(2*x + tanh(x)*(1 - tanh(x)))*exp(a + b)", "2*x + 1 - tanh(x)**2")
    result = run(*args)
    assert (result.exit_code, result.stderr) == (1, "")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("✓ ") and lines[1].startswith("✗ exp(a + b)·(2x + tanh(x)·(1 − tanh(x)))  not equal")
    assert lines[2] == "  ↳ " + same("matches the derivative with σ′ where tanh′ belongs: ∂b/∂x taken as b·(1 − b)")
    assert lines[4] == "  ↳ " + same(f"matches the derivative with the factor ∂y/∂{C} = y left out")
    data = json.loads(run(*args, "--format", "json").stdout)
    assert [c["diagnosis"] for c in data["candidates"]] == [
        None,
        {"mistake": "activation", "explanation": lines[2][4:]},
        {"mistake": "factor", "explanation": lines[4][4:]},
    ]
    assert data["exit_status"] == 1
    assert data["candidates"][1]["witness"]["at"] == {"x": pytest.approx(float(lines[1].split("x = ")[1].split()[0].replace("−", "-")), abs=1e-4)}


def test_cli_an_unreadable_candidate_among_others(run):
    result = run("tanh(s)", "1 - tanh(s)**2", "tanh(z)", "__import__('os').system('id')", "step(s)")
    assert result.exit_code == 2
    errors = result.stderr.splitlines()
    assert errors[0] == "error: candidate 2: unknown name 'z'; a candidate may use the inputs: s"
    assert len(errors) == 2 and errors[1].startswith("error: candidate 3: ") and "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert [line[:2] for line in lines] == ["✓ ", "✗ ", "  ", "dy"]
    data = json.loads(run("tanh(s)", "tanh(z)", "1 - tanh(s)**2", "--format", "json").stdout)
    assert [c["error"] is not None for c in data["candidates"]] == [True, False] and data["exit_status"] == 2


def test_cli_relu_at_zero_and_at(run):
    result = run("relu(z)", "1(z >= 0)", "step(z)", "--at", "z=0")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1] == "  ↳ matches the derivative with relu′(0) taken as 1 (--relu-at-zero 1) (at the given point)"
    result = run("relu(z)", "1(z >= 0)", "step(z)", "--at", "z=0", "--relu-at-zero", "1")
    assert (result.exit_code, result.stdout.splitlines()[-1]) == (0, "dy/dz = 1(z ≥ 0)")
    assert run("relu(z)", "1", "--at", "z").stderr == "error: --at z: write NAME=VALUE, e.g. --at x=0.5\n"


def test_the_indicator_notation_is_the_comparison():
    from symgraph.api import derive

    for text in ("x * 1(x > 0)", "x * (x > 0)"):
        d = derive(text, at={"x": 2})
        assert d.gradient_value("x") == 1.0 and derive(text, at={"x": -2}).gradient_value("x") == 0.0
    with pytest.raises(InputError):
        derive("1(x) + 1.0(x > 0)")
