"""Outputs of any kind: forward passes, Jacobians of tensor outputs, backward passes from a given upstream gradient,
and outputs that are an input or a constant (issue 15, section 1)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from symgraph import derive
from symgraph.cli.commands import app
from symgraph.errors import InputError, ShapeError
from symgraph.output.formats import render_format

W = [[0.5, -1.0], [2.0, 0.25], [1.0, 1.0]]
H = [1.0, 2.0]


def _softmax(z):
    e = np.exp(z - np.max(z))
    return e / e.sum()


def test_the_softmax_jacobian_is_diag_p_minus_p_p_transposed():
    z = np.array([1.0, 2.0, 3.0])
    d = derive("z: 3; p = softmax(z)", wrt="z", at={"z": z.tolist()})
    p = _softmax(z)
    assert d.mode == "jacobian"
    np.testing.assert_allclose(d.jacobian["z"], np.diag(p) - np.outer(p, p), rtol=1e-12)
    assert d.check().passed
    text = render_format(d, "text", width=1000)
    assert "∂p/∂z = diag(p) − p pᵀ = [[0.0819251, −0.022033, −0.059892]" in text and "(3×3: row i is ∂pᵢ/∂z)" in text
    assert "one backward pass from L = ⟨δp, p⟩" in text


def test_the_jacobian_of_a_matrix_product_has_the_output_and_input_axes_as_jacrev():
    d = derive("z = W @ h", wrt=["W", "h"], at={"W": W, "h": H})
    np.testing.assert_allclose(d.jacobian["h"], W)  # ∂(Wh)/∂h = W
    expected = np.einsum("ij,k->ijk", np.eye(3), H)  # ∂zᵢ/∂W_jk = δᵢⱼ h_k
    np.testing.assert_allclose(d.jacobian["W"], expected)
    data = d.to_dict()
    assert data["gradient"]["W"]["shape"] == [3, 3, 2] and data["gradient"]["h"]["shape"] == [3, 2]
    np.testing.assert_allclose(data["gradient"]["W"]["value"], expected)
    assert data["mode"] == "jacobian" and data["output"] == "z" and data["upstream"] == {"name": "δz", "loss": "L"}
    assert data["check"]["passed"] is True


def test_the_jacobian_of_an_elementwise_function_is_diagonal_and_is_checked_entry_by_entry():
    x = np.array([0.3, -1.2, 2.0])
    d = derive("x: 3; h = tanh(x)", wrt="x", at={"x": x.tolist()})
    np.testing.assert_allclose(d.jacobian["x"], np.diag(1 - np.tanh(x) ** 2), rtol=1e-12)
    assert d.check().passed and len(d.check().points) == 1


def test_a_jacobian_with_a_wrong_rule_fails_the_check(monkeypatch):
    """The row-by-row check can fail: a tanh rule off by a factor is caught."""
    import dataclasses

    from symgraph import ops

    entry = ops.OPS["tanh"]
    monkeypatch.setitem(ops.OPS, "tanh", dataclasses.replace(entry, partials=lambda a, y: (2 * (1 - y**2),)))
    d = derive("x: 3; h = tanh(x)", wrt="x", at={"x": [0.3, -1.2, 2.0]})
    assert d.check().status == "failed"


def test_a_tensor_output_without_wrt_and_forward_give_values_only():
    for d in (derive("z = W @ h", at={"W": W, "h": H}), derive("L = sum(W @ h)", at={"W": W, "h": H}, forward=True)):
        assert d.mode == "forward" and d.steps == [] and not d.checked
        data = d.to_dict()
        assert data["gradient"] == {} and data["check"] is None
        assert [n["value"] for n in data["nodes"]][-1] is not None
    text = render_format(derive("z = W @ h", at={"W": W, "h": H}), "text")
    assert "Check" not in text and "Backpropagation" not in text and "z = W h = [−1.5, 2.5, 3]" in text


def test_the_backward_pass_from_a_given_upstream_gradient_is_the_vector_jacobian_product():
    delta = np.array([1.0, -1.0, 0.5])
    d = derive("h = tanh(W @ x)", at={"W": W, "x": H}, upstream={"h": delta.tolist()})
    h = np.tanh(np.array(W) @ H)
    assert d.mode == "upstream" and set(d.wrt) == {"W", "x"}
    np.testing.assert_allclose(d.gradient_value("x"), np.array(W).T @ (delta * (1 - h**2)))
    np.testing.assert_allclose(d.gradient_value("W"), np.outer(delta * (1 - h**2), H))
    assert d.check().passed
    assert "δh is the given upstream gradient ∂L/∂h" in d.notes[0]


def test_upstream_errors_name_the_parameter():
    with pytest.raises(ShapeError, match=r"^upstream\['h'\]: the upstream gradient has shape 2 but h has shape 3"):
        derive("h = tanh(W @ x)", at={"W": W, "x": H}, upstream={"h": [1, 2]})
    with pytest.raises(InputError, match=r"^of='a': the upstream gradient is of h"):
        derive("a = W @ x; h = tanh(a)", at={"W": W, "x": H}, upstream={"h": [1, 2, 3]}, of="a")
    with pytest.raises(InputError, match=r"^upstream\[.h.\]: abc is not a number"):
        derive("h = tanh(W @ x)", at={"W": W, "x": H}, upstream={"h": "abc"})


@pytest.mark.parametrize(
    "program, at, gradient, note",
    [
        ("y = x", {"x": 2.0}, {"x": 1.0}, "y is the input x itself"),
        ("y = 0*x", {"x": 2.0}, {"x": 0.0}, "y is a constant"),
        ("y = 3", {}, {}, "y is a constant"),
        ("a = x; y = a*0 + 3", {"x": 1.0}, {"x": 0.0}, "y is a constant"),
    ],
)
def test_an_output_that_is_an_input_or_a_constant_is_answered(program, at, gradient, note):
    d = derive(program, at=at)
    assert {name: d.gradient_value(name) for name in d.wrt} == gradient
    assert any(note in n for n in d.notes)
    render_format(d, "text")  # every format lays it out
    render_format(d, "latex")


def test_of_selects_an_indexed_entry_of_a_vector():
    z = np.array([0.5, -1.0, 2.0])
    d = derive("p = softmax(z); q = p[0]; L = sum(p * p)", of="q", at={"z": z.tolist()})
    p = _softmax(z)
    np.testing.assert_allclose(d.gradient_value("z"), p[0] * (np.eye(3)[0] - p))
    assert d.check().passed


def run(*args):
    return CliRunner().invoke(app, list(args), prog_name="symgraph")


def test_the_cli_answers_forward_jacobian_and_upstream():
    at = ["--at", "W=[[0.5,-1],[2,0.25],[1,1]]", "--at", "h=[1,2]"]
    forward = run("derive", "z = W @ h", *at)
    assert forward.exit_code == 0 and "its forward pass" in forward.stdout and "Check" not in forward.stdout
    jacobian = json.loads(run("derive", "z = W @ h", *at, "--wrt", "h", "--format", "json").stdout)
    np.testing.assert_allclose(jacobian["gradient"]["h"]["value"], W)
    upstream = run("derive", "z = W @ h", *at, "--upstream", "z=[1,0,-1]", "--format", "json")
    assert upstream.exit_code == 0
    np.testing.assert_allclose(json.loads(upstream.stdout)["gradient"]["h"]["value"], np.array(W).T @ [1, 0, -1])
    only = run("derive", "x**2", "--at", "x=3", "--forward", "--format", "json")
    assert only.exit_code == 0 and json.loads(only.stdout)["nodes"][-1]["value"] == 9.0
    bad = run("derive", "x**2", "--upstream", "z")
    assert bad.exit_code == 2 and bad.stderr.startswith("error: --upstream z: write NAME=VALUE")


def test_one_sgd_step_of_logistic_regression_p6_and_the_printed_bias_slip():
    """P6: w_out = [1, 2, 3, 4], b_out = −5, h₁ = [1, 0, 0, 1], loss −log σ(z), η = 1."""
    d = derive("z = dot(w, h) + b; L = -log(sigmoid(z))", wrt=["w", "b"],
               at={"w": [1, 2, 3, 4], "h": [1, 0, 0, 1], "b": -5}, sgd=1)
    np.testing.assert_allclose(d.step["w"], [1.5, 2, 3, 4.5])
    assert d.step["b"] == pytest.approx(-4.5)  # printed 5.5: a sign slip (−5 − 1·(−0.5) = −4.5)
    data = d.to_dict()
    assert data["step"] == {"w": [1.5, 2.0, 3.0, 4.5], "b": -4.5}
    assert "b ← b − 1·∂L/∂b = −4.5" in render_format(d, "text")
    assert r"b \leftarrow b - 1\,\frac{\partial L}{\partial b} &= -4.5" in render_format(d, "latex")


def test_weight_decay_adds_lambda_w_to_the_gradient():
    d = derive("L = (w - 3)**2", at={"w": 1}, sgd=0.1, weight_decay=0.5)
    assert d.step["w"] == pytest.approx(1 - 0.1 * (2 * (1 - 3) + 0.5 * 1))
    assert "w ← w − 0.1·(dL/dw + 0.5·w)" in render_format(d, "text")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sgd": "fast", "at": {"x": 1}}, r"^sgd='fast': write a number"),
        ({"sgd": -1, "at": {"x": 1}}, r"^sgd=-1: it must be a finite number ≥ 0"),
        ({"sgd": 0.1, "weight_decay": "nan", "at": {"x": 1}}, r"^weight_decay='nan': it must be"),
        ({"sgd": 0.1}, r"^sgd=0.1: a gradient-descent step needs every input's value; missing: x"),
        ({"sgd": 0.1, "at": {"x": 1}, "forward": True}, r"needs a scalar loss"),
    ],
)
def test_sgd_errors_name_the_parameter(kwargs, message):
    with pytest.raises(InputError, match=message):
        derive("x**2", **kwargs)


def test_the_cli_takes_one_sgd_step():
    result = run("derive", "x**2", "--at", "x=3", "--sgd", "0.1", "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)["step"] == {"x": pytest.approx(2.4)}
    bad = run("derive", "x**2", "--sgd", "0.1")
    assert bad.exit_code == 2 and bad.stderr.startswith("error: --sgd 0.1: a gradient-descent step needs")


WX = {"W": [[1, 2], [3, -4]], "x": [0.1, 0.2]}


@pytest.mark.parametrize(
    "program, wrt, at, form",
    [
        ("z: 3; p = softmax(z)", "z", {"z": [1, -0.5, 2]}, "∂p/∂z = diag(p) − p pᵀ = "),
        ("h = tanh(W @ x)", "x", WX, "∂h/∂x = diag(1 − h²) W = "),
        ("z = W @ x", "x", WX, "∂z/∂x = W = "),
        ("h = relu(W @ x + b)", "b", {**WX, "b": [0.5, -1]}, "∂h/∂b = diag(1(c > 0)) = "),
        ("z: 2; h = 3 * sigmoid(z)", "z", {"z": [1, -0.5]}, "∂h/∂z = 3·diag(a ⊙ (1 − a)) = "),
    ],
)
def test_a_jacobian_is_written_in_matrix_notation_where_a_closed_form_exists(program, wrt, at, form):
    assert form in render_format(derive(program, wrt=wrt, at=at), "text")


def test_a_jacobian_without_a_matrix_form_is_said_in_words_or_shown_as_numbers():
    d = derive("z = W @ x", wrt="W", at={"W": [[1, 2], [3, -4]], "x": [0.1, 0.2]})
    assert "∂zᵢ/∂Wⱼₖ = 1(i = j)·xₖ" in render_format(d, "text")
    two_paths = derive("x: 2; h = x * tanh(x)", wrt="x", at={"x": [0.3, -0.7]})
    text = render_format(two_paths, "text")
    assert "∂h/∂x = [[" in text and "diag" not in text.split("∂h/∂x = ")[1].split("\n")[0]


def test_json_nodes_made_in_a_loop_carry_their_iteration():
    program = "h = h0\nfor t in range(2):\n    h = tanh(w*h + x)\nL = h"
    nodes = derive(program, at={"h0": 0.1, "w": 0.5, "x": 0.2}).to_dict()["nodes"]
    assert {n["name"]: n.get("loop") for n in nodes if n["name"] in ("h_1", "h_2", "x")} == {
        "x": None, "h_1": {"t": 0}, "h_2": {"t": 1}}


def test_numbers_keep_the_course_s_integers_and_short_decimals_and_digits_chooses_the_rest():
    d = derive("z = W @ h; L = sum(z)", at={"W": [[10234, 0.125], [1, 2]], "h": [1, 0.5]})
    text = render_format(d, "text")
    assert "z = W h = [10234.1, 2]" in text and "[[10234, 0.125], [1, 2]]" in text
    result = run("derive", "x/3", "--at", "x=1", "--digits", "3")
    assert "y = x/3 = 0.333" in result.stdout
    assert run("derive", "x/3", "--at", "x=1").stdout.count("0.333333") >= 1


def test_large_tensors_are_elided_in_the_middle_unless_every_entry_is_asked():
    at = ["--at", "x=[" + ", ".join(str(i) for i in range(50)) + "]"]
    elided = run("derive", "L = sum(x * x)", *at).stdout
    assert "[0, 1, 2, …, 47, 48, 49]" in elided
    whole = run("derive", "L = sum(x * x)", *at, "--all-entries").stdout
    assert "[0, 1, 2, 3, 4, 5, 6" in whole and "…" not in whole.split("\n")[0]


def test_long_lines_wrap_at_100_columns_with_a_hanging_indent():
    text = render_format(derive("z: 3; p = softmax(z)", wrt="z", at={"z": [1, 2, 3]}), "text", width=100)
    assert max(len(line) for line in text.splitlines()) <= 100
    jacobian = [line for line in text.splitlines() if "∂p/∂z = diag" in line][0]
    following = text.splitlines()[text.splitlines().index(jacobian) + 1]
    assert following.startswith(" " * (jacobian.index(" = ") + 3) + "[")


def test_every_name_of_a_shared_node_survives_in_text_and_json():
    d = derive("nq = din*dk; nk = din*dk; L = nq + nk", at={"din": 2, "dk": 3})
    assert "nq, nk = din·dk = 6" in render_format(d, "text")
    node = [n for n in d.to_dict()["nodes"] if n["name"] == "nq"][0]
    assert node["aliases"] == ["nk"]


@pytest.mark.parametrize(
    "program, text, latex",
    [
        ("Q: 2x2; K: 2x2; L = sum(Q @ K.T / sqrt(2))", "b/√2", r"\frac{b}{\sqrt{2}}"),
        ("d: 3; L = sqrt(dot(d, d))", "d/√(dᵀ d)", r"\sqrt{d^{\top} d}"),
    ],
)
def test_precedence_is_unambiguous_and_the_attention_scale_reads_as_the_course_writes_it(program, text, latex):
    d = derive(program, at={"Q": [[1, 0], [0, 1]], "K": [[1, 2], [3, 4]]} if "Q" in program else {"d": [1, 2, 2]})
    assert text in render_format(d, "text", width=1000) and latex in render_format(d, "latex")


def test_an_index_as_the_output_is_its_forward_pass():
    d = derive("k = argmax(z)", at={"z": [1, 3, 2]})
    assert d.mode == "forward" and d.value(d.output) == 1.0 and "is an index" in d.notes[-1]


def test_generated_names_avoid_a_loop_variable():
    d = derive("s = x\nfor t in range(2):\n    s = concat(s, c)\nL = sum(s)", at={"x": [1.0], "c": [2.0]})
    assert "t" not in {d.graph[n]["name"] for n in d.graph.nodes("forward")}


def test_onehot_takes_k_then_n_as_pytorch_s_one_hot():
    d = derive("z: 3; L = dot(z, onehot(1, 3))", at={"z": [4, 5, 6]})
    assert d.value(d.output) == 5.0
    with pytest.raises(InputError, match=r"onehot\(3, 1\) has 1 entries and no index 3 .* write onehot\(1, 3\)"):
        derive("z: 3; L = dot(z, onehot(3, 1))")


@pytest.mark.parametrize("program", ["c = x*y + x; L = c*sin(x*y)", "a1 = x*y; L = a1 + exp(x*y + 1)"])
def test_generated_names_never_share_a_letter_with_the_user_s(program):
    d = derive(program)
    initials = {name[0] for name in d.graph.names}
    generated = [d.graph[n]["name"] for n in d.graph.nodes("forward") if not d.graph[n]["user_named"]]
    assert generated and not any(name[0] in initials for name in generated), generated


def test_accented_names_print_as_latex_writes_them_and_sums_open_with_a_positive_term():
    from symgraph.notation import pretty_name

    assert [pretty_name(n) for n in ("yhat", "xbar", "thetahat", "h1", "W_hx")] == ["y\u0302", "x\u0304", "θ\u0302", "h₁", "W_hx"]
    d = derive("L = mse(yhat, y)", at={"yhat": [0.5, 2, -1], "y": [1, 1.5, 0]})
    assert "∂L/∂y\u0302 = 2(y\u0302 − y)/3" in render_format(d, "text")  # the textbook's 2(ŷ − y)/n
