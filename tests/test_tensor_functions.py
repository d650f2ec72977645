"""The tensor functions: max/min (elementwise and reductions), clip, where, dropout, norm, var, std, bce, layer_norm,
batch_norm, stack, concat of scalars, eye, 2-D slices and the convolution's bias.

Each is held against a NumPy reference written here (value), its gradient against central differences of that
reference (independent of symgraph's check), symgraph's own check, and the scalarised cross-check
(symgraph.verify.scalarize: the op's components differentiated by the scalar engine). Ties and kinks, shape errors
naming both shapes, parse errors and the CLI's JSON follow.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from symgraph import derive
from symgraph.cli.commands import app
from symgraph.errors import InputError, ParseError, ShapeError
from symgraph.lang.parse import parse
from symgraph.lang.source import source
from symgraph.verify.scalarize import compare


def _normalize(x, axis, eps=1e-5):
    centred = x - x.mean(axis=axis, keepdims=True)
    return centred / np.sqrt((centred**2).mean(axis=axis, keepdims=True) + eps)


def _bce(p, y):
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _conv2d(x, K, b, stride, padding):
    xp = np.pad(x, [(0, 0), (padding, padding), (padding, padding)])
    outs, _, kh, kw = K.shape
    H = (xp.shape[1] - kh) // stride + 1
    W = (xp.shape[2] - kw) // stride + 1
    y = np.zeros((outs, H, W))
    for o in range(outs):
        for i in range(H):
            for j in range(W):
                y[o, i, j] = np.sum(K[o] * xp[:, stride * i : stride * i + kh, stride * j : stride * j + kw]) + b[o]
    return y


# (program, input shapes, the output in NumPy from the inputs)
CASES = [
    ("L = dot(w, max(x, y)) + dot(v, min(x, 0.2, y))", {"x": (4,), "y": (4,), "w": (4,), "v": (4,)},
     lambda x, y, w, v: w @ np.maximum(x, y) + v @ np.minimum(np.minimum(x, 0.2), y)),
    ("L = max(a, b, c) * min(a, b)", {"a": (), "b": (), "c": ()}, lambda a, b, c: max(a, b, c) * min(a, b)),
    ("L = dot(v, max(X, axis=0)) + dot(w, min(X, axis=1)) + max(X) * min(X)", {"X": (3, 4), "v": (4,), "w": (3,)},
     lambda X, v, w: v @ X.max(axis=0) + w @ X.min(axis=1) + X.max() * X.min()),
    ("L = sin(max(x)) + norm(x) + norm(X, 1)", {"x": (5,), "X": (2, 3)},
     lambda x, X: np.sin(x.max()) + np.linalg.norm(x) + np.abs(X).sum()),
    ("L = var(X) + dot(v, var(X, axis=0)) + dot(w, std(X, axis=1)) + std(x)", {"X": (3, 4), "v": (4,), "w": (3,), "x": (5,)},
     lambda X, v, w, x: X.var() + v @ X.var(axis=0) + w @ X.std(axis=1) + x.std()),
    ("L = dot(w, clip(x, -0.5, 0.5)) + sum(clip(X, lo, hi)**2)", {"x": (5,), "w": (5,), "X": (2, 2), "lo": (), "hi": ()},
     lambda x, w, X, lo, hi: w @ np.clip(x, -0.5, 0.5) + np.sum(np.clip(X, lo, hi) ** 2)),
    ("L = dot(w, where(m, x, tanh(y)))", {"x": (4,), "y": (4,), "w": (4,), "m": (4,)},
     lambda x, y, w, m: w @ np.where(m != 0, x, np.tanh(y))),
    ("L = dot(w, dropout(tanh(x), m, 0.25))", {"x": (4,), "w": (4,), "m": (4,)},
     lambda x, w, m: w @ (np.tanh(x) * m / 0.75)),
    ("L = bce(sigmoid(z), y)", {"z": (5,), "y": (5,)}, lambda z, y: _bce(_sigmoid(z), y)),
    ("L = bce(sigmoid(Z), Y)", {"Z": (2, 3), "Y": (2, 3)}, lambda Z, Y: _bce(_sigmoid(Z), Y)),
    ("L = sum(R * tanh(layer_norm(X)))", {"X": (3, 4), "R": (3, 4)}, lambda X, R: np.sum(R * np.tanh(_normalize(X, -1)))),
    ("L = sum(R * tanh(layer_norm(X, g, b, eps=0.01)))", {"X": (3, 4), "R": (3, 4), "g": (4,), "b": (4,)},
     lambda X, R, g, b: np.sum(R * np.tanh(_normalize(X, -1, 0.01) * g + b))),
    ("L = dot(v, layer_norm(x, g, b)**2)", {"x": (4,), "g": (4,), "b": (4,), "v": (4,)},
     lambda x, g, b, v: v @ (_normalize(x, -1) * g + b) ** 2),
    ("L = sum(R * tanh(batch_norm(X)))", {"X": (4, 3), "R": (4, 3)}, lambda X, R: np.sum(R * np.tanh(_normalize(X, 0)))),
    ("L = sum(R * tanh(batch_norm(X, g, b, eps=0.1)))", {"X": (4, 3), "R": (4, 3), "g": (3,), "b": (3,)},
     lambda X, R, g, b: np.sum(R * np.tanh(_normalize(X, 0, 0.1) * g + b))),
    ("L = dot(v, tanh(batch_norm(x, g, b)))", {"x": (4,), "v": (4,), "g": (), "b": ()},
     lambda x, v, g, b: v @ np.tanh(_normalize(x, 0) * g + b)),
    ("L = dot(w, tanh(concat(dot(q, h1), dot(q, h2), s)))", {"q": (3,), "h1": (3,), "h2": (3,), "s": (), "w": (3,)},
     lambda q, h1, h2, s, w: w @ np.tanh([q @ h1, q @ h2, s])),
    ("L = dot(w, softmax(stack(dot(q, h1), dot(q, h2))))", {"q": (3,), "h1": (3,), "h2": (3,), "w": (2,)},
     lambda q, h1, h2, w: w @ (np.exp([q @ h1, q @ h2]) / np.exp([q @ h1, q @ h2]).sum())),
    ("L = sum(R * tanh(stack(a, b, a)))", {"a": (2,), "b": (2,), "R": (3, 2)}, lambda a, b, R: np.sum(R * np.tanh(np.stack([a, b, a])))),
    ("L = dot(v, tanh((eye(3) + X) @ x))", {"X": (3, 3), "x": (3,), "v": (3,)}, lambda X, x, v: v @ np.tanh((np.eye(3) + X) @ x)),
    ("L = sum(R * tanh(X[0:2, 1:3])) + sum(X[1:3] ** 2)", {"X": (3, 4), "R": (2, 2)},
     lambda X, R: np.sum(R * np.tanh(X[0:2, 1:3])) + np.sum(X[1:3] ** 2)),
    ("L = sum(R * tanh(conv2d(x, K, bias=b, stride=2, padding=1)))", {"x": (2, 5, 5), "K": (3, 2, 3, 3), "b": (3,), "R": (3, 3, 3)},
     lambda x, K, b, R: np.sum(R * np.tanh(_conv2d(x, K, b, 2, 1)))),
    ("L = sum(R * conv1d(x, w, bias=b))", {"x": (2, 6), "w": (3, 2, 3), "b": (3,), "R": (3, 4)},
     lambda x, w, b, R: np.sum(R * _conv2d(x[:, None], w[:, :, None], b, 1, 0)[:, 0])),
]


def _values(index: int) -> dict[str, np.ndarray]:
    _, shapes, _ = CASES[index]
    rng = np.random.default_rng(500 + index)
    values = {name: rng.normal(0.0, 1.0, shape) for name, shape in shapes.items()}
    for name in ("m",):  # masks and conditions are 0/1
        if name in values:
            values[name] = (rng.random(shapes[name]) < 0.5).astype(float)
    for name in ("y", "Y"):  # bce's targets are probabilities
        if name in values and CASES[index][0].startswith("L = bce"):
            values[name] = rng.random(shapes[name])
    if "hi" in values:
        values["lo"], values["hi"] = -abs(values["lo"]) - 0.1, abs(values["hi"]) + 0.1
    return values


def _numeric_gradient(function, values: dict, name: str, h: float = 1e-6) -> np.ndarray:
    base = {n: np.array(v, dtype=float) for n, v in values.items()}
    gradient = np.zeros(np.shape(base[name]))
    for index in np.ndindex(*np.shape(base[name])):
        up, down = dict(base), dict(base)
        up[name], down[name] = base[name].copy(), base[name].copy()
        up[name][index] += h
        down[name][index] -= h
        gradient[index] = (function(**up) - function(**down)) / (2 * h)
    return gradient


def _derive(index: int, **options):
    values = _values(index)
    return derive(CASES[index][0], at={n: v.tolist() if np.ndim(v) else float(v) for n, v in values.items()}, **options), values


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c[0] for c in CASES])
def test_value_and_gradient_against_numpy(index):
    d, values = _derive(index)
    reference = CASES[index][2]
    assert d.value(d.output) == pytest.approx(float(reference(**values)), rel=1e-10, abs=1e-12)
    for name in d.wrt:
        if name == "m":  # where's condition: the reference jumps where it leaves 0 (see test_where_condition_*)
            continue
        np.testing.assert_allclose(d.gradient_value(name), _numeric_gradient(reference, values, name),
                                   rtol=1e-5, atol=1e-7, err_msg=f"∂L/∂{name}")


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c[0] for c in CASES])
def test_gradient_agrees_with_the_scalar_engine_and_the_check(index):
    d, _ = _derive(index, **({"wrt": [n for n in CASES[index][1] if n != "m"]} if "where" in CASES[index][0] else {}))
    if d.is_tensor:
        v = compare(d)
        assert v.agrees(1e-9, 1e-12), v.max_abs_difference
    report = d.check()
    assert report.status == "passed", report.reasons


def test_every_case_derives_at_seeded_random_points_too():
    """The check at its own random points (no --at) passes for every op here."""
    for text, shapes, _ in CASES[:6]:
        declarations = "; ".join(f"{n}: {'x'.join(map(str, s)) if s else 'scalar'}" for n, s in shapes.items())
        assert derive(f"{declarations}; {text}").check().status == "passed", text


# --- ties and kinks --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("relu_at_zero, expected", [(0.0, (1.0, 0.0)), (1.0, (0.0, 1.0)), (0.5, (0.5, 0.5))])
def test_max_at_a_tie_follows_the_step_convention(relu_at_zero, expected):
    d = derive("L = max(a, b)", at={"a": 2.0, "b": 2.0}, relu_at_zero=relu_at_zero)
    assert (d.gradient_value("a"), d.gradient_value("b")) == expected
    report = d.check()
    assert report.status == "inconclusive"
    assert all("max has a kink where its arguments tie" in reason for reason in report.reasons)


def test_min_and_max_ties_in_a_tensor_program_are_reported_like_relu():
    d = derive("L = dot(w, max(x, 0.5)) + dot(w, min(x, y))", at={"x": [0.5, 1.0, -1.0], "y": [0.5, 2.0, 0.0], "w": [1.0, 2.0, 3.0]})
    np.testing.assert_allclose(d.gradient_value("x"), [1 + 1, 2 + 2, 0 + 3])  # the first argument takes a tie
    np.testing.assert_allclose(d.gradient_value("y"), [0, 0, 0])
    assert_agrees = compare(d)
    assert assert_agrees.agrees()
    report = d.check()
    assert report.status == "inconclusive"
    assert any("max has a kink where its arguments tie" in r for r in report.reasons)
    assert any("min has a kink where its arguments tie" in r for r in report.reasons)
    assert all("kink" in r for r in report.reasons)


def test_max_reduction_sends_a_tie_to_the_first_maximum():
    d = derive("L = max(x) + dot(v, max(X, axis=1))", at={"x": [3.0, 1.0, 3.0], "X": [[2.0, 2.0], [1.0, 4.0]], "v": [1.0, 2.0]})
    np.testing.assert_array_equal(d.gradient_value("x"), [1, 0, 0])
    np.testing.assert_array_equal(d.gradient_value("X"), [[1, 0], [0, 2]])
    assert compare(d).agrees()  # the components max(max(x₀, x₁), x₂) keep the first too
    report = d.check()
    assert report.status == "inconclusive" and all("a tie" in r for r in report.reasons)


def test_clip_at_a_bound_passes_the_gradient_to_x_as_torch_clamp():
    d = derive("L = dot(w, clip(x, 0, 1))", at={"x": [0.0, 1.0, 0.5, 2.0], "w": [1.0, 2.0, 3.0, 4.0]})
    np.testing.assert_array_equal(d.gradient_value("x"), [1, 2, 3, 0])
    report = d.check()
    assert report.status == "inconclusive"
    assert all("clip has a kink where x meets" in r for r in report.reasons)


def test_norm_1_at_zero_uses_the_minimum_norm_subgradient():
    d = derive("L = norm(x, 1)", at={"x": [0.0, -2.0, 3.0]})
    np.testing.assert_array_equal(d.gradient_value("x"), [0, -1, 1])
    report = d.check()
    assert report.status == "inconclusive" and all("norm has a kink where an entry of x is 0" in r for r in report.reasons)
    assert derive("L = norm(x)", at={"x": [0.0, -2.0, 3.0]}).check().status == "passed"  # the L2 norm is smooth there


def test_where_condition_gets_no_gradient_and_its_kink_is_said():
    d = derive("L = dot(w, where(m, x, 2*x))", at={"m": [1.0, 0.0], "x": [1.0, 1.0], "w": [1.0, 1.0]})
    np.testing.assert_array_equal(d.gradient_value("m"), [0, 0])
    np.testing.assert_array_equal(d.gradient_value("x"), [1, 2])
    report = d.check()
    assert report.status == "inconclusive"  # m[1] = 0: the value jumps as m leaves 0
    assert [r for r in report.reasons if "m[1]" in r] and not [r for r in report.reasons if "m[0]" in r]
    assert all("where has a kink where the condition leaves 0" in r for r in report.reasons)


def test_dropout_scales_the_kept_entries_by_one_over_the_keep_probability():
    d = derive("y = dropout(x, m, 0.2); L = sum(y)", at={"x": [1.0, 2.0, 3.0], "m": [1, 0, 1]})
    np.testing.assert_allclose(d.value(d.graph.names["y"]), [1.25, 0.0, 3.75])
    np.testing.assert_allclose(d.gradient_value("x"), [1.25, 0.0, 1.25])


def test_variance_is_numpys_ddof_zero_and_std_its_root():
    d = derive("a = var(x); b = std(x); L = a + b", at={"x": [1.0, 2.0, 3.0, 6.0]})
    assert d.value(d.graph.names["a"]) == pytest.approx(3.5)
    assert d.value(d.graph.names["b"]) == pytest.approx(np.sqrt(3.5))


def test_eps_is_a_number_parameter():
    d = derive("y = layer_norm(x, eps=0.5); L = sum(y * y)", at={"x": [1.0, 2.0, 3.0]})
    np.testing.assert_allclose(d.value(d.graph.names["y"]), _normalize(np.array([1.0, 2.0, 3.0]), -1, 0.5))
    assert "eps=0.5" in str(d)


# --- the notation parses back ----------------------------------------------------------------------------------------


def test_gradients_written_in_source_form_parse_back():
    two, square = [1.0, 2.0], [[1.0, 2.0, 0.5], [3.0, 4.0, -1.0], [0.0, 1.0, 2.0]]
    programs = [
        ("L = dot(v, layer_norm(x, g, b, eps=0.01))", {"v": two, "x": two, "g": two, "b": [0.5, 1.0]}),
        ("L = sum(R * tanh(X[0:2, 1:3]))", {"R": [[1.0, 2.0], [3.0, 4.0]], "X": square}),
        ("L = max(x) + dot(v, x) + dot(v, min(X, axis=0)[0:2])", {"x": two, "v": two, "X": square}),
        ("L = sum(R * conv2d(x, K, bias=b, padding=1))",
         {"x": np.ones((1, 3, 3)).tolist(), "K": np.ones((2, 1, 2, 2)).tolist(), "b": two, "R": np.ones((2, 4, 4)).tolist()}),
        ("L = norm(x, 1) + norm(x) + std(x) + var(x)", {"x": two}),
        ("L = max(a, b, c) + clip(a, b, c)", {"a": 1.0, "b": 2.0, "c": 3.0}),
    ]
    for text, at in programs:
        d = derive(text, at=at)
        for name in d.wrt:
            parse(f"L = {source(d.gradient[name])}")  # every op of every gradient has a form the parser reads


# --- shape and parse errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "program, pieces",
    [
        ("p: 3; y: 2; L = bce(p, y)", ["bce", "shape 3", "shape 2"]),
        ("a: 2; b: 3; L = sum(stack(a, b))", ["stack", "2 and 3"]),
        ("X: 2x2; L = sum(concat(X, X))", ["concat", "2×2"]),
        ("x: 3; g: 2; b: 3; L = sum(layer_norm(x, g, b))", ["layer_norm", "x is 3", "γ must have shape 3", "not 2"]),
        ("X: 4x3; g: 4; b: 3; L = sum(batch_norm(X, g, b))", ["batch_norm", "x is 4×3", "γ must have shape 3", "not 4"]),
        ("x: 2x3x4; L = sum(layer_norm(x))", ["layer_norm", "2×3×4"]),
        ("x: 1x4x4; K: 2x1x3x3; b: 3; L = sum(conv2d(x, K, bias=b))", ["conv2d", "shape 2", "not 3", "2×1×3×3"]),
        ("x: 4x4; K: 3x3; b: 1; L = sum(conv2d(x, K, bias=b))", ["conv2d", "O×C×kh×kw", "3×3"]),
        ("X: 3x4; L = sum(X[0:2, 2:5])", ["slice 0:2, 2:5", "3×4", "axis 1"]),
        ("x: 3; L = sum(x[0:2, 0:1])", ["slice 0:2, 0:1", "shape 3", "only 1 axis"]),
        ("X: 2x3; L = max(X, axis=2)", ["max(…, axis=2)", "2×3"]),
        ("a: 2; b: 3; L = sum(max(a, b))", ["max", "shapes 2 and 3"]),
        ("x: 3; L = norm(x, 3)", ["norm(x, 3)", "norm(x, 1)"]),
        ("x: 3; L = sum(layer_norm(x, eps=0))", ["eps must be positive"]),
    ],
)
def test_shape_errors_name_both_shapes(program, pieces):
    with pytest.raises(ShapeError) as error:
        derive(program)
    for piece in pieces:
        assert piece in str(error.value), (piece, str(error.value))


@pytest.mark.parametrize(
    "program, piece",
    [
        ("L = max()", "max takes at least 2 arguments, got 0"),
        ("L = max(a, b, axis=0)", "max takes no keyword arguments"),
        ("L = max(X, bins=3)", "bins is not a parameter of max"),
        ("L = sum(X[0:2, 1])", "slices are x[start:stop] or X[start:stop, start:stop, …], not mixed with indices"),
        ("L = sum(X[0:, 1:3])", "a slice is x[start:stop] with both bounds"),
        ("L = clip(x, 0)", "clip takes 3 arguments, got 2"),
        ("L = sum(layer_norm(x, eps=-1))", "expected a non-negative integer"),
    ],
)
def test_parse_errors(program, piece):
    with pytest.raises(ParseError) as error:
        parse(program)
    assert piece in str(error.value)


def test_positional_axis_is_elementwise_max_as_the_course_writes_relu():
    d = derive("L = sum(max(z, 0))", at={"z": [-1.0, 2.0]})
    assert d.value(d.output) == 2.0 and {d.graph[n]["op"] for n in d.graph.nodes("forward")} == {"max", "sum"}
    assert derive("L = max(2, 3) * x", at={"x": 1.0}).value(derive("L = max(2, 3) * x", at={"x": 1.0}).output) == 3.0


@pytest.mark.parametrize("p", ["1", "1.5"])
def test_dropout_refuses_a_drop_probability_of_one_or_more(p):
    with pytest.raises(InputError, match="the drop probability p must be at least 0 and below 1"):
        derive(f"L = dropout(x, m, {p})", at={"x": 1.0, "m": 1.0})
    result = _run("derive", f"L = sum(dropout(x, m, {p}))", "--at", "x=[1, 2]", "--at", "m=[1, 0]")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "drop probability" in result.stderr


# --- the command line --------------------------------------------------------------------------------------------


def _run(*args):
    return CliRunner().invoke(app, list(args), prog_name="symgraph")


def test_cli_json_of_attention_scores_with_concat_of_scalars():
    result = _run("derive", "s = concat(dot(q, h1), dot(q, h2)); L = dot(w, softmax(s))", "--at", "q=[1, 0.5]",
                  "--at", "h1=[0.2, -1]", "--at", "h2=[1, 1]", "--at", "w=[1, -1]", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    s = np.array([1 * 0.2 - 0.5, 1 + 0.5])
    p = np.exp(s) / np.exp(s).sum()
    assert data["gradient"]["q"]["shape"] == [2]
    ds = p * (np.array([1, -1]) - p @ [1, -1])
    np.testing.assert_allclose(data["gradient"]["q"]["value"], ds[0] * np.array([0.2, -1]) + ds[1] * np.array([1, 1]))
    assert data["check"]["status"] == "passed"


@pytest.mark.parametrize(
    "program, at, name, expected",
    [
        ("L = dot(w, layer_norm(x))", {"x": "[1, 2, 3]", "w": "[1, 0, -1]"}, "x", None),
        ("L = max(X) + min(X, axis=0)[1]", {"X": "[[1, 5], [3, 2]]"}, "X", [[0, 1], [0, 1]]),
        ("L = bce(p, y)", {"p": "[0.5, 0.25]", "y": "[1, 0]"}, "p", [-1.0, 1 / 1.5]),
        ("L = sum(R * X[0:2, 1:3])", {"X": "[[1, 2, 3], [4, 5, 6]]", "R": "[[1, 2], [3, 4]]"}, "X", [[0, 1, 2], [0, 3, 4]]),
        ("L = sum(conv1d(x, w, bias=b))", {"x": "[[1, 2, 3]]", "w": "[[[1, 1]], [[2, 0]]]", "b": "[0.5, -1]"}, "b", [2, 2]),
    ],
)
def test_cli_json(program, at, name, expected):
    args = [a for key, value in at.items() for a in ("--at", f"{key}={value}")]
    result = _run("derive", program, *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    if expected is not None:
        np.testing.assert_allclose(data["gradient"][name]["value"], expected)
    else:
        x = np.array([1.0, 2.0, 3.0])
        sigma = np.sqrt(x.var() + 1e-5)
        xhat = (x - x.mean()) / sigma
        w = np.array([1.0, 0.0, -1.0])
        np.testing.assert_allclose(data["gradient"]["x"]["value"], (w - w.mean() - xhat * (w @ xhat) / 3) / sigma)
    assert data["check"]["status"] in ("passed", "inconclusive")


def test_cli_shape_error_is_one_line_exit_2():
    result = _run("derive", "L = sum(stack(a, b))", "--at", "a=[1, 2]", "--at", "b=[1, 2, 3]")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("error:") and "2 and 3" in result.stderr
