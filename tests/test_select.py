"""Computed indices (argmax, argmin, argsort, topk_indices), indexing by them, sort and topk, and broadcasting by
NumPy's rules: values against NumPy, gradients against hand-computed ones, finite differences and the scalar
expansion, the errors, and the CLI's JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from symgraph import derive
from symgraph.cli.commands import app
from symgraph.errors import EvaluationError, InputError, ParseError, ShapeError
from symgraph.output.formats import WRITERS
from symgraph.verify.scalarize import compare, scalarize_program

RNG = np.random.default_rng(15)


def values(shapes: dict) -> dict:
    return {n: RNG.normal(0.0, 1.0, s).tolist() for n, s in shapes.items()}


def node_value(d, name: str) -> np.ndarray:
    return np.asarray(d.value(d.graph.names[name]))


def verified(d) -> None:
    """Both verifications: the scalar engine on the expansion, and finite differences."""
    assert compare(d).agrees(1e-9, 1e-12)
    report = d.check()
    assert report.status == "passed", report.reasons


# --- values against NumPy ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_index_ops_give_numpys_values(seed):
    rng = np.random.default_rng(seed)
    X, x = rng.normal(size=(3, 4)), rng.normal(size=5)
    program = ("a = argmax(X); b = argmin(X); c = argmax(X, axis=0); e = argmin(X, axis=1); f = argsort(x); "
               "g = topk_indices(x, 3); s = sort(x); t = topk(x, 3); L = sum(X) + sum(x)")
    d = derive(program, at={"X": X.tolist(), "x": x.tolist()})
    expected = {"a": np.argmax(X), "b": np.argmin(X), "c": np.argmax(X, axis=0), "e": np.argmin(X, axis=1),
                "f": np.argsort(x), "g": np.argsort(-x)[:3], "s": np.sort(x), "t": np.sort(x)[::-1][:3]}
    for name, want in expected.items():
        np.testing.assert_array_equal(node_value(d, name), want, err_msg=name)


def test_ties_choose_the_first_index_as_numpy():
    d = derive("a = argmax(x); b = argmin(x); g = topk_indices(x, 2); L = sum(x)", at={"x": [1.0, 3.0, 3.0, 1.0]})
    assert node_value(d, "a") == 1 and node_value(d, "b") == 0
    np.testing.assert_array_equal(node_value(d, "g"), [1, 2])


def test_indexing_by_a_computed_index_selects_as_numpy():
    X, x = RNG.normal(size=(4, 3)), RNG.normal(size=4)
    d = derive("k = argmax(x); r = X[k]; e = x[k]; m = topk_indices(x, 2); G = X[m]; h = onehot(k, 4); "
               "P = onehot(m, 4); L = sum(r) + e + sum(G) + sum(h) + sum(P)", at={"X": X.tolist(), "x": x.tolist()})
    k, m = int(np.argmax(x)), np.argsort(-x)[:2]
    np.testing.assert_array_equal(node_value(d, "r"), X[k])
    assert node_value(d, "e") == x[k]
    np.testing.assert_array_equal(node_value(d, "G"), X[m])
    np.testing.assert_array_equal(node_value(d, "h"), np.eye(4)[k])
    np.testing.assert_array_equal(node_value(d, "P"), np.eye(4)[m])


# --- gradients: through the selected entries, never through the index ---------------------------------------


GREEDY = "k = argmax(o); w = Em[k]; L = sum(w * v)"


def test_greedy_decoding_sends_the_gradient_to_row_k_only():
    at = {"o": [0.1, 2.0, -0.3, 0.5], "Em": values({"Em": (4, 3)})["Em"], "v": [1.0, -2.0, 0.5]}
    d = derive(GREEDY, at=at, wrt=["Em", "v"])
    expected = np.zeros((4, 3))
    expected[1] = at["v"]  # ∂L/∂Em = e[k] vᵀ with k = 1
    np.testing.assert_allclose(d.gradient_value("Em"), expected)
    np.testing.assert_allclose(d.gradient_value("v"), np.asarray(at["Em"])[1])
    verified(d)
    text = WRITERS["text"](d)
    assert "∂L/∂Em = e[k] ∂L/∂wᵀ" in text and "(indexing rule)" in text


def test_greedy_decoding_gives_no_gradient_to_the_scores():
    d = derive(GREEDY, at={"o": [0.1, 2.0, -0.3], "Em": [[1, 2], [3, 4], [5, 6]], "v": [1, -1]})
    np.testing.assert_array_equal(d.gradient_value("o"), [0, 0, 0])
    assert d.value(d.gradients.of(d.graph.names["k"])) == 0


def test_dqn_action_value_gradient_is_the_chosen_row():
    s, W = np.array([0.5, -1.0, 2.0]), values({"W": (4, 3)})["W"]
    d = derive("q = W @ s; a = argmax(q); L = (q[a] - 1)**2", at={"W": W, "s": s.tolist()}, wrt=["W"])
    q = np.asarray(W) @ s
    a = int(np.argmax(q))
    expected = np.zeros((4, 3))
    expected[a] = 2 * (q[a] - 1) * s  # ∂L/∂W = 2(q_a − 1) e[a] sᵀ
    np.testing.assert_allclose(d.gradient_value("W"), expected)
    verified(d)


@pytest.mark.parametrize(
    "program, shapes",
    [
        ("L = dot(w, tanh(sort(x)))", {"x": (5,), "w": (5,)}),
        ("L = dot(w, sin(topk(x, 2)))", {"x": (5,), "w": (2,)}),
        ("k = topk_indices(x, 3); L = sum(R * tanh(X[k])) + dot(x, x)", {"x": (5,), "X": (5, 2), "R": (3, 2)}),
        ("k = argmin(X, axis=1); L = sum(tanh(x[k])) + sum(X * X)", {"X": (3, 4), "x": (4,)}),
        ("k = argmax(x); L = dot(w, onehot(k, 4) * exp(x))", {"x": (4,), "w": (4,)}),
    ],
)
def test_selection_gradients_pass_both_verifications(program, shapes):
    verified(derive(program, at=values(shapes)))


def test_sort_gradient_is_the_permutation_transposed():
    x, w = np.array([0.3, -1.0, 2.0, 0.5]), np.array([1.0, 2.0, 3.0, 4.0])
    d = derive("L = dot(w, sort(x)**2)", at={"x": x.tolist(), "w": w.tolist()})
    order = np.argsort(x)
    expected = np.zeros(4)
    expected[order] = 2 * w * x[order]  # Pᵀ (w ⊙ 2 sort(x))
    np.testing.assert_allclose(d.gradient_value("x"), expected)
    assert "onehot(argsort(x), 4)ᵀ" in WRITERS["text"](d)


def test_the_expansion_takes_an_index_from_the_forward_values():
    with pytest.raises(InputError, match="k = argmax.*index, a forward value"):
        scalarize_program("o: 3; Em: 3x2; " + GREEDY.replace("v)", "Em[0])"))


# --- errors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "program, message",
    [
        ("x: 3; L = x[j]", "an index is an integer or a computed index"),
        ("x: 3; k = argmax(x); L = x[k + 1]", "an index is an integer or a computed index"),
        ("x: 4; L = sum(onehot(x, 4))", "an index is an integer or a computed index"),
        ("o: 3; X: 3x2; k = argmax(o); L = sum(X[k, 0])", r"write X\[k\] and index the result"),
    ],
)
def test_an_index_that_is_not_computed_is_refused(program, message):
    with pytest.raises(ParseError, match=message):
        derive(program)


@pytest.mark.parametrize(
    "program, message",
    [
        ("x: 4; L = sum(topk(x, 5))", "topk.*4 entries"),
        ("X: 2x3; L = sum(argmax(X, axis=2))", "axis=2.*2×3"),
        ("s: scalar; L = argmax(s)", "argmax of a scalar"),
        ("X: 2x3x2; L = sum(X[argmax(X)])", "2×3×2"),
        ("X: 2x3; L = sum(sort(X))", "sort takes a vector"),
    ],
)
def test_selection_shape_errors(program, message):
    with pytest.raises(ShapeError, match=message):
        derive(program)


def test_an_index_out_of_range_is_an_evaluation_error():
    with pytest.raises(EvaluationError, match="index 4 for an axis of size 3"):
        derive("k = argmax(o); L = sum(X[k])", at={"o": [0, 0, 0, 0, 1], "X": [[1, 2], [3, 4], [5, 6]]})


# --- broadcasting by NumPy's rules ---------------------------------------------------------------------------


def test_row_vector_plus_matrix_sums_the_gradient_over_rows():
    at = values({"b": (3,), "X": (2, 4), "W": (4, 3)})
    d = derive("z = b + X @ W; L = sum(tanh(z))", at=at)
    z = np.asarray(at["b"]) + np.asarray(at["X"]) @ np.asarray(at["W"])
    delta = 1 - np.tanh(z) ** 2
    np.testing.assert_allclose(node_value(d, "z"), z)
    np.testing.assert_allclose(d.gradient_value("b"), delta.T @ np.ones(2))  # δᵀ𝟙
    np.testing.assert_allclose(d.gradient_value("W"), np.asarray(at["X"]).T @ delta)
    verified(d)
    assert "∂L/∂b = ∂L/∂zᵀ 𝟙" in WRITERS["text"](d)


@pytest.mark.parametrize(
    "program, shapes",
    [
        ("L = sum(sin(c + r) * c)", {"c": (3, 1), "r": (4,)}),  # column + row → 3×4
        ("L = sum(tanh(A * B - A / (2 + B**2)))", {"A": (2, 1, 3), "B": (4, 1)}),  # 3 axes
        ("L = sum(R * (s * X + X ** 2 / (1 + s**2)))", {"s": (), "X": (2, 3), "R": (2, 3)}),  # a scalar
        ("L = sum(R * (b - X) ** 2)", {"b": (1, 3), "X": (2, 3), "R": (2, 3)}),  # a 1×n row
        ("L = sum(R * (X / (2 + tanh(b)) + exp(X * b)))", {"b": (3,), "X": (4, 3), "R": (4, 3)}),
        ("L = sum(relu(X + c) * R)", {"c": (2, 1), "X": (2, 3), "R": (2, 3)}),
    ],
)
def test_broadcast_shapes_pass_both_verifications(program, shapes):
    at = values(shapes)
    d = derive(program, at=at)
    for name, shape in shapes.items():
        assert np.shape(d.gradient_value(name)) == shape
    (summed,) = d.graph.operands(d.output)
    assert d.graph.shape(summed) == np.broadcast_shapes(*shapes.values())
    verified(d)


def test_sum_to_against_numpy():
    X = RNG.normal(size=(2, 3, 4))
    d = derive("a = sum_to(X, 4); b = sum_to(X, 3, 1); c = sum_to(X, 1, 1, 4); L = sum(a) + sum(b) + sum(c)",
               at={"X": X.tolist()})
    np.testing.assert_allclose(node_value(d, "a"), X.sum(axis=(0, 1)))
    np.testing.assert_allclose(node_value(d, "b"), X.sum(axis=(0, 2))[:, None])
    np.testing.assert_allclose(node_value(d, "c"), X.sum(axis=(0, 1), keepdims=True))


@pytest.mark.parametrize(
    "program, shapes",
    [
        ("a: 2; B: 3x3; L = sum(a + B)", ["2", "3×3"]),
        ("A: 2x3; B: 3x2; L = sum(A * B)", ["2×3", "3×2"]),
        ("c: 3x1; R: 2x4; L = sum(c - R)", ["3×1", "2×4"]),
    ],
)
def test_a_broadcast_mismatch_names_both_shapes(program, shapes):
    with pytest.raises(ShapeError, match="do not match") as error:
        derive(program)
    assert all(shape in str(error.value) for shape in shapes)


# --- the command line -------------------------------------------------------------------------------------


def run(*args):
    return CliRunner().invoke(app, list(args), prog_name="symgraph")


def test_cli_json_of_greedy_decoding():
    result = run("derive", GREEDY, "--at", "o=[0.1, 2, 0.3]", "--at", "Em=[[1, 2], [3, 4], [5, 6]]",
                 "--at", "v=[1, -1]", "--wrt", "Em", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    nodes = {n["name"]: n for n in data["nodes"]}
    assert nodes["k"]["op"] == "argmax" and nodes["k"]["value"] == 1
    assert nodes["w"]["op"] == "take" and nodes["w"]["value"] == [3, 4]
    assert data["gradient"]["Em"]["value"] == [[0, 0], [1, -1], [0, 0]]
    assert data["check"]["passed"] is True
    again = derive(f"d = {data['gradient']['Em']['expr']}; L = sum(d)", at={"o": [0.1, 2, 0.3], "v": [1, -1]})
    np.testing.assert_array_equal(node_value(again, "d"), [[0, 0], [1, -1], [0, 0]])  # expr is in the language


def test_cli_json_of_a_row_broadcast():
    result = run("derive", "z = b + X @ W; L = sum(z * z)", "--at", "b=[1, -1]", "--at", "X=[[1, 0], [0, 1], [1, 1]]",
                 "--at", "W=[[2, 0], [0, 3]]", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    z = np.array([1, -1]) + np.array([[1, 0], [0, 1], [1, 1]]) @ np.array([[2, 0], [0, 3]])
    assert data["gradient"]["b"]["value"] == (2 * z).sum(axis=0).tolist()
    assert data["gradient"]["b"]["shape"] == [2]
    assert data["check"]["passed"] is True


def test_cli_index_out_of_range_is_one_error_line():
    result = run("derive", "k = argmax(o); L = sum(X[k])", "--at", "o=[0, 0, 0, 1]", "--at", "X=[[1], [2]]")
    assert result.exit_code == 2
    assert result.stderr.startswith("error:") and result.stderr.count("\n") == 1
