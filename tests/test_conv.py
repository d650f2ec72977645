"""Convolution and pooling ops: forward against naive loops, components, vector-Jacobian rules against
finite differences, the textbook notation, shape errors, and gradients whose source parses back."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import sympy as sp

import symgraph
from symgraph import ops
from symgraph.engine.evaluate import evaluate
from symgraph.engine.graph import Graph, build
from symgraph.errors import InputError, ShapeError
from symgraph.lang.parse import parse
from symgraph.lang.source import source

RNG = np.random.default_rng(7)


# --- naive references: the definitions written as loops ---------------------------------------------


def naive_conv(x, k, stride=1, padding=0, d=2):
    """y[o, i…] = Σ_c Σ_a… k[o, c, a…] · pad(x)[c, s·i + a…]; no channel axes when x has d axes."""
    channels = x.ndim == d + 1
    x = x if channels else x[None]
    k = k if channels else k[None, None]
    xp = np.pad(x, [(0, 0)] + [(padding, padding)] * d)
    out = [(n - m) // stride + 1 for n, m in zip(xp.shape[1:], k.shape[2:])]
    y = np.zeros([k.shape[0], *out])
    for o in range(k.shape[0]):
        for position in itertools.product(*map(range, out)):
            total = 0.0
            for c in range(x.shape[0]):
                for offset in itertools.product(*map(range, k.shape[2:])):
                    at = tuple(stride * i + a for i, a in zip(position, offset))
                    total += k[(o, c, *offset)] * xp[(c, *at)]
            y[(o, *position)] = total
    return y if channels else y[0]


def naive_pool(x, size, stride, reduce):
    channels = x.ndim == 3
    x = x if channels else x[None]
    out = [(n - size) // stride + 1 for n in x.shape[1:]]
    y = np.zeros([x.shape[0], *out])
    for c, i, j in itertools.product(range(x.shape[0]), *map(range, out)):
        y[c, i, j] = reduce(x[c, stride * i : stride * i + size, stride * j : stride * j + size])
    return y if channels else y[0]


def numeric_gradient(f, value, h=1e-6):
    grad = np.zeros_like(value)
    for index in np.ndindex(*value.shape):
        up, down = value.copy(), value.copy()
        up[index] += h
        down[index] -= h
        grad[index] = (f(up) - f(down)) / (2 * h)
    return grad


def float_term(name, *args):
    """The `term` of components, computing floats: checks components against NumPy without the scalar engine."""
    return ops.get(name).numpy(*(float(a) for a in args))


def as_objects(a):
    return np.array(a, dtype=object)


# (x shape, kernel shape, stride, padding); d spatial axes from the kernel
CONV2D = [((4, 4), (2, 2), 1, 0), ((5, 6), (3, 2), 2, 1), ((1, 5, 5), (2, 1, 3, 3), 2, 1), ((2, 6, 5), (3, 2, 2, 3), 3, 0),
          ((3, 4, 4), (2, 3, 3, 3), 1, 2), ((3, 3), (2, 2), 1, 3)]
CONV1D = [((7,), (3,), 1, 0), ((8,), (3,), 2, 1), ((2, 9), (3, 2, 4), 2, 0), ((3, 6), (2, 3, 2), 3, 2)]
POOLS = [((4, 4), 2, None), ((5, 5), 2, 1), ((2, 6, 5), 3, 2), ((1, 4, 6), 2, None)]


def conv_cases():
    for x, k, s, p in CONV1D:
        yield 1, x, k, s, p
    for x, k, s, p in CONV2D:
        yield 2, x, k, s, p


CONV_CASES = list(conv_cases())


def pool_args(size, stride):
    return (size,) if stride is None else (size, stride)


# --- forward --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("d, xs, ks, stride, padding", CONV_CASES)
def test_convolution_forward_matches_the_loop_definition(d, xs, ks, stride, padding):
    x, k = RNG.normal(size=xs), RNG.normal(size=ks)
    op = ops.get(f"conv{d}d")
    y = op.numpy(x, k, stride, padding)
    np.testing.assert_allclose(y, naive_conv(x, k, stride, padding, d), atol=1e-12)
    assert y.shape == op.shape([xs, ks], [stride, padding])


def test_conv2d_is_pytorch_cross_correlation_on_a_worked_example():
    x = np.array([[1.0, 2, 0], [0, 1, 3], [2, 1, 1]])
    k = np.array([[1.0, -1], [0, 2]])
    # y[0, 0] = 1·1 − 1·2 + 0·0 + 2·1 = 1: the kernel is not flipped
    np.testing.assert_array_equal(ops.get("conv2d").numpy(x, k, 1, 0), [[1, 8], [1, 0]])


@pytest.mark.parametrize("xs, size, stride", POOLS)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_forward_matches_the_loop_definition(kind, xs, size, stride):
    x = RNG.normal(size=xs)
    op = ops.get(f"{kind}pool2d")
    y = op.numpy(x, *pool_args(size, stride))
    np.testing.assert_allclose(y, naive_pool(x, size, stride or size, np.max if kind == "max" else np.mean), atol=1e-12)
    assert y.shape == op.shape([xs], list(pool_args(size, stride)))


# --- components, computed in floats -------------------------------------------------------------------


@pytest.mark.parametrize("d, xs, ks, stride, padding", CONV_CASES[:3] + CONV_CASES[5:])
def test_convolution_components_and_gradient_components_agree_with_numpy(d, xs, ks, stride, padding):
    x, k = RNG.normal(size=xs), RNG.normal(size=ks)
    conv = ops.get(f"conv{d}d")
    y = conv.numpy(x, k, stride, padding)
    got = conv.components(float_term, [as_objects(x), as_objects(k)], [stride, padding])
    np.testing.assert_allclose(got.astype(float), y, atol=1e-12)
    delta = RNG.normal(size=y.shape)
    for name, arrays, params, value in [
        (f"conv{d}d_kernel_grad", [x, delta], [stride, padding, *ks[-d:]], None),
        (f"conv{d}d_input_grad", [delta, k], [stride, padding, *xs[-d:]], None),
    ]:
        op = ops.get(name)
        expected = op.numpy(*arrays, *params)
        got = op.components(float_term, [as_objects(a) for a in arrays], params)
        np.testing.assert_allclose(got.astype(float), expected, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("xs, size, stride", POOLS)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_components_agree_with_numpy(kind, xs, size, stride):
    x = RNG.normal(size=xs)
    op = ops.get(f"{kind}pool2d")
    params = list(pool_args(size, stride))
    got = op.components(float_term, [as_objects(x)], params)
    np.testing.assert_allclose(got.astype(float), op.numpy(x, *params), atol=1e-12)
    if kind == "avg":
        delta = RNG.normal(size=got.shape)
        up = ops.get("upsample2d")
        upsample_params = [size, stride or size, *xs[-2:]]
        got = up.components(float_term, [as_objects(delta)], upsample_params)
        np.testing.assert_allclose(got.astype(float), up.numpy(delta, *upsample_params), atol=1e-12)


def test_a_window_wholly_in_the_padding_is_a_zero_component():
    x, k = as_objects(sp.symbols("x0:4")).reshape(2, 2), as_objects(sp.symbols("k0:4")).reshape(2, 2)
    y = ops.get("conv2d").components(lambda name, *a: ops.get(name).build(*a), [x, k], [1, 2])
    assert y.shape == (5, 5) and y[0, 0] == 0 and y[1, 1] == sp.Symbol("k3") * sp.Symbol("x0")


# --- the gradient ops say what their notation says ---------------------------------------------------------


def dilate(delta, stride, d):
    """s − 1 zeros between the entries of the last d axes."""
    shape = (*delta.shape[:-d], *((n - 1) * stride + 1 for n in delta.shape[-d:]))
    out = np.zeros(shape)
    out[(Ellipsis, *(slice(None, None, stride),) * d)] = delta
    return out


def flip(k, d):
    return k[(Ellipsis, *(slice(None, None, -1),) * d)]


@pytest.mark.parametrize("d, xs, ks, stride, padding", CONV_CASES)
def test_kernel_gradient_is_padded_x_correlated_with_dilated_delta(d, xs, ks, stride, padding):
    """∂L/∂K = pad(x, p) ⋆ dilate(δ, s): for each (o, c), x[c] ⋆ δ[o]; K's lags kept."""
    x = RNG.normal(size=xs)
    delta = RNG.normal(size=ops.get(f"conv{d}d").shape([xs, ks], [stride, padding]))
    got = ops.get(f"conv{d}d_kernel_grad").numpy(x, delta, stride, padding, *ks[-d:])
    channels = len(xs) == d + 1
    xc, dc = (x, delta) if channels else (x[None], delta[None])
    xp = np.pad(xc, [(0, 0)] + [(padding, padding)] * d)
    expected = np.zeros((dc.shape[0], xc.shape[0], *ks[-d:]))
    for o, c in np.ndindex(dc.shape[0], xc.shape[0]):
        full = naive_conv(xp[c], dilate(dc[o], stride, d), d=d)  # x ⋆ δ is a correlation with δ as kernel
        expected[o, c] = full[tuple(slice(0, n) for n in ks[-d:])]
    np.testing.assert_allclose(got, expected if channels else expected[0, 0], atol=1e-12)


@pytest.mark.parametrize("d, xs, ks, stride, padding", CONV_CASES)
def test_input_gradient_is_the_full_convolution_with_the_flipped_kernel(d, xs, ks, stride, padding):
    """∂L/∂x = crop(dilate(δ, s) ∗ rot180(K), p): δ zero-padded by k − 1, correlated with rot180(K), summed over o."""
    k = RNG.normal(size=ks)
    delta = RNG.normal(size=ops.get(f"conv{d}d").shape([xs, ks], [stride, padding]))
    got = ops.get(f"conv{d}d_input_grad").numpy(delta, k, stride, padding, *xs[-d:])
    channels = len(ks) == d + 2
    kc, dc = (k, delta) if channels else (k[None, None], delta[None])
    window = kc.shape[2:]
    padded = [n + 2 * padding for n in xs[-d:]]
    expected = np.zeros((kc.shape[1], *padded))
    for o, c in np.ndindex(*kc.shape[:2]):
        spread = np.pad(dilate(dc[o], stride, d), [(m - 1, m - 1) for m in window])
        full = naive_conv(spread, flip(kc[o, c], d), d=d)
        expected[(c, *(slice(0, n) for n in full.shape))] += full  # rows no window reaches stay 0
    expected = expected[(slice(None), *(slice(padding, padding + n) for n in xs[-d:]))]
    np.testing.assert_allclose(got, expected if channels else expected[0], atol=1e-12)


# --- vector-Jacobian rules against finite differences, through derive ----------------------------------------


def loss_program(call: str, declarations: str) -> str:
    return f"{declarations}y = {call}; L = sum(y * R)"


GRADIENT_CASES = [
    ("conv2d(x, K)", {"x": (4, 4), "K": (2, 2)}),
    ("conv2d(x, K, stride=2, padding=1)", {"x": (5, 6), "K": (3, 2)}),
    ("conv2d(x, K, stride=2, padding=1)", {"x": (2, 4, 4), "K": (2, 2, 3, 3)}),
    ("conv2d(x, K, 3, 2)", {"x": (1, 6, 5), "K": (2, 1, 2, 3)}),
    ("conv1d(x, w)", {"x": (7,), "w": (3,)}),
    ("conv1d(x, w, stride=2, padding=1)", {"x": (2, 8), "w": (3, 2, 3)}),
    ("maxpool2d(x, 2)", {"x": (4, 4)}),
    ("maxpool2d(x, 3, stride=1)", {"x": (2, 5, 5)}),
    ("avgpool2d(x, 2)", {"x": (2, 4, 5)}),
    ("avgpool2d(x, size=3, stride=2)", {"x": (6, 7)}),
]


def forward(call: str, shapes: dict):
    """The NumPy value of a one-expression program as a function of its inputs' values; built once."""
    program = parse(call)
    graph, out = build(program, graph=Graph(shapes))
    return lambda values: evaluate(graph, {graph.names[n]: values[n] for n in program.inputs}, [out])[out]


def forward_value(call: str, values: dict) -> np.ndarray:
    return forward(call, {n: np.shape(v) for n, v in values.items()})(values)


@pytest.mark.parametrize("call, shapes", GRADIENT_CASES)
def test_gradients_match_central_differences(call, shapes):
    values = {n: RNG.normal(size=s) for n, s in shapes.items()}
    y = forward_value(call, values)
    values["R"] = RNG.normal(size=y.shape)
    d = symgraph.derive(loss_program(call, ""), at={n: v.tolist() for n, v in values.items()})
    f = forward(call, shapes)
    for name in shapes:
        def loss(v, name=name):
            return float(np.sum(f({**values, name: v}) * values["R"]))

        np.testing.assert_allclose(d.gradient_value(name), numeric_gradient(loss, values[name]), atol=1e-6, err_msg=name)
    assert d.check().status == "passed"


@pytest.mark.parametrize("call, shapes", GRADIENT_CASES[1::2])
def test_the_check_passes_at_random_values(call, shapes):
    y_shape = forward_value(call, {n: np.ones(s) for n, s in shapes.items()}).shape
    declared = "".join(f"{n}: {'x'.join(map(str, s))}; " for n, s in {**shapes, "R": y_shape}.items())
    d = symgraph.derive(loss_program(call, declared))
    report = d.check()
    assert report.status == "passed", report.reasons


def test_a_conv_layer_with_a_scalar_bias_and_relu_passes_the_check():
    d = symgraph.derive("x: 1x4x4; K: 2x1x3x3; b: scalar; v: 8; h = relu(conv2d(x, K, padding=1) + b); "
                        "p = avgpool2d(h, 2); L = dot(v, flatten(p))")
    assert d.check().status == "passed"
    assert "∂L/∂b = sum(" in "\n".join(s.text for s in d.steps)


def test_maxpool_sends_the_gradient_to_the_first_maximum_of_a_tie():
    x = [[1.0, 3.0], [3.0, 0.0]]  # 3 twice in one window: the first in row-major order wins
    d = symgraph.derive("L = sum(maxpool2d(x, 2))", at={"x": x})
    np.testing.assert_array_equal(d.gradient_value("x"), [[0, 1], [0, 0]])
    components = ops.get("maxpool2d").components(float_term, [as_objects(x)], [2])
    assert float(components[0, 0]) == 3.0


def test_overlapping_max_windows_add_their_gradients():
    x = [[0.0, 0.0, 0.0], [0.0, 9.0, 0.0], [0.0, 0.0, 0.0]]  # the centre is the maximum of all four windows
    d = symgraph.derive("L = sum(maxpool2d(x, 2, stride=1))", at={"x": x})
    np.testing.assert_array_equal(d.gradient_value("x"), [[0, 0, 0], [0, 4, 0], [0, 0, 0]])


def symbol_array(name: str, shape) -> np.ndarray:
    return as_objects([sp.Symbol(f"{name}_{'_'.join(map(str, i))}") for i in np.ndindex(*shape)]).reshape(shape)


@pytest.mark.parametrize("call, shapes", [GRADIENT_CASES[i] for i in (2, 5, 6, 9)])
def test_the_scalar_engine_on_the_components_agrees_with_the_matrix_rule(call, shapes):
    """Verification (a): the op written one scalar at a time, differentiated by symgraph's scalar reverse mode."""
    values = {n: RNG.normal(size=s) for n, s in shapes.items()}
    values["R"] = RNG.normal(size=forward_value(call, values).shape)
    matrix = symgraph.derive(loss_program(call, ""), at={n: v.tolist() for n, v in values.items()})
    term = parse(call).assignments[0].term
    arrays = [symbol_array(n, shapes[n]) for n in shapes]
    y = ops.get(term.op).components(lambda name, *a: ops.get(name).build(*a), arrays, [int(p) for p in term.args[len(arrays):]])
    loss = sp.Add(*(sp.Float(r) * e for r, e in zip(values["R"].ravel(), y.ravel())))
    used = loss.free_symbols  # entries no window reaches are not inputs of the scalar program
    at = {s.name: float(v) for a, n in zip(arrays, shapes) for s, v in zip(a.ravel(), values[n].ravel()) if s in used}
    scalar = symgraph.derive(loss, at=at)
    for array, name in zip(arrays, shapes):
        by_scalars = np.array([scalar.gradient_value(s.name) if s.name in scalar.wrt else 0.0 for s in array.ravel()])
        np.testing.assert_allclose(by_scalars.reshape(array.shape), matrix.gradient_value(name), atol=1e-9, err_msg=name)


# --- the textbook notation ----------------------------------------------------------------------------------


def steps_text(d) -> str:
    return "\n".join(step.text for step in d.steps)


def test_steps_read_like_the_textbook():
    d = symgraph.derive("x: 3x3; K: 2x2; R: 2x2; y = conv2d(x, K); L = sum(y * R)")
    text = steps_text(d)
    assert "∂L/∂K = x ⋆ ∂L/∂y" in text
    assert "∂L/∂x = ∂L/∂y ∗ rot180(K)" in text
    assert "(convolution rule)" in text
    latex = "\n".join(step.latex for step in d.steps)
    assert r"x \star \frac{\partial L}{\partial y}" in latex
    assert r"\frac{\partial L}{\partial y} \ast \operatorname{rot180}\left(K\right)" in latex


def test_stride_dilates_delta_and_padding_is_padded_and_cropped():
    d = symgraph.derive("x: 1x5x5; K: 2x1x3x3; R: 2x3x3; y = conv2d(x, K, stride=2, padding=1); L = sum(y * R)")
    text = steps_text(d)
    assert "∂L/∂K = pad(x, 1) ⋆ dilate(∂L/∂y, 2)" in text
    assert "∂L/∂x = crop(dilate(∂L/∂y, 2) ∗ rot180(K), 1)" in text
    d = symgraph.derive("x: 2x7; w: 3x2x3; R: 3x4; y = conv1d(x, w, stride=2, padding=1); L = sum(y * R)")
    assert "∂L/∂x = crop(dilate(∂L/∂y, 2) ∗ flip(w), 1)" in steps_text(d)


def test_pooling_steps_name_the_routing():
    d = symgraph.derive("x: 4x4; R: 2x2; p = maxpool2d(x, 2); q = avgpool2d(x, 2); L = sum(p * R) + sum(q * R)")
    text = steps_text(d)
    assert "maxunpool2d(∂L/∂p, x, size=2)" in text
    assert "upsample2d(∂L/∂q, size=2)/4" in text


def test_nested_correlations_are_bracketed():
    d = symgraph.derive("x: 5x5; A: 2x2; B: 2x2; R: 3x3; z = conv2d(x, A); L = sum(conv2d(z, B) * R)")
    result = [s.text for s in d.steps if s.kind == "result" and s.lhs == "∂L/∂A"][0]
    assert "x ⋆ (R ∗ rot180(B))" in result


def test_forward_notation_omits_default_stride_and_padding():
    d = symgraph.derive("x: 4x4; K: 2x2; a = conv2d(x, K, 1, 0); b = conv2d(x, K, 2); L = sum(a) + sum(b)")
    written = {d.graph.label(n): source(d.graph.expr(n)) for n in d.graph.nodes("forward")}
    assert written["a"] == "conv2d(x, K)" and written["b"] == "conv2d(x, K, stride=2)"
    written = symgraph.derive("x: 4x4; L = sum(maxpool2d(x, 2)) + sum(avgpool2d(x, 3, 1))").to_dict()["nodes"]
    assert {"maxpool2d(x, size=2)", "avgpool2d(x, size=3, stride=1)"} <= {n["expr"] for n in written}


# --- shapes ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "program, pieces",
    [
        ("x: 3x5x5; K: 4x2x3x3; L = sum(conv2d(x, K))", ["x has 3 channels but K expects 2", "3×5×5", "4×2×3×3"]),
        ("x: 2x2; K: 3x3; L = sum(conv2d(x, K))", ["larger than the input", "3×3", "2×2"]),
        ("x: 1x2x2; K: 1x1x5x5; L = sum(conv2d(x, K, padding=1))", ["padded input 4×4", "1×1×5×5", "1×2×2"]),
        ("x: 5x5; K: 4x1x3x3; L = sum(conv2d(x, K))", ["no channel axis", "5×5", "4×1×3×3"]),
        ("x: 1x5x5; K: 3x3; L = sum(conv2d(x, K))", ["O×C×kh×kw", "1×5×5", "3×3"]),
        ("x: 2x5x5x5; K: 2x2x1x1; L = sum(conv2d(x, K))", ["no batch axis", "2×5×5×5", "2×2×1×1"]),
        ("x: 2x5; w: 2x1x3; L = sum(conv1d(x, w))", ["x has 2 channels but w expects 1", "2×5", "2×1×3"]),
        ("x: 2x2; K: 2x2; L = sum(conv2d(x, K, stride=0))", ["stride must be at least 1"]),
        ("x: 3x3; L = sum(maxpool2d(x, 4))", ["window 4×4 is larger than the input x (3×3)"]),
        ("x: 6; L = sum(avgpool2d(x, 2))", ["H×W or C×H×W", "6"]),
        # NumPy's broadcasting aligns b with the last axis: a per-channel bias is reshape(b, O, 1, 1)
        ("x: 1x4x4; K: 2x1x3x3; b: 3; L = sum(conv2d(x, K) + b)", ["2×2×2 and 3"]),
    ],
)
def test_shape_errors_name_both_shapes(program, pieces):
    with pytest.raises(ShapeError) as caught:
        symgraph.derive(program)
    assert isinstance(caught.value, InputError)
    for piece in pieces:
        assert piece in str(caught.value)


def test_gradient_ops_check_their_shapes_too():
    with pytest.raises(ShapeError, match="output gradient is 3×3 but the convolution's output is 2×2"):
        symgraph.derive("x: 3x3; d: 3x3; L = sum(conv2d_kernel_grad(x, d, kh=2, kw=2))")
    with pytest.raises(ShapeError, match="maxpool2d of 4×4 gives 2×2"):
        symgraph.derive("x: 4x4; d: 3x3; L = sum(maxunpool2d(d, x, 2, 2))")


def test_pool_and_conv_parameters_are_keywords_with_defaults():
    assert parse("conv2d(x, K)").assignments[0].term.args[2:] == (1, 0)
    assert parse("maxpool2d(x, 2)").assignments[0].term.args[1:] == (2,)
    with pytest.raises(InputError, match="maxpool2d needs size"):
        parse("maxpool2d(x)")


# --- the source of a gradient parses back and computes the same numbers -----------------------------------------


@pytest.mark.parametrize("call, shapes", [GRADIENT_CASES[i] for i in (1, 2, 5, 7, 9)])
def test_gradient_source_parses_back_to_the_same_values(call, shapes):
    values = {n: RNG.normal(size=s) for n, s in shapes.items()}
    values["R"] = RNG.normal(size=forward_value(call, values).shape)
    d = symgraph.derive(f"z = tanh({call}); L = sum(z * R)", at={n: v.tolist() for n, v in values.items()})
    for name in shapes:
        text = source(d.gradient[name])
        assert "_grad(" in text or "unpool" in text or "upsample" in text, text
        np.testing.assert_allclose(forward_value(text, values), d.gradient_value(name), atol=1e-12, err_msg=text)


def test_a_tie_in_a_max_pooling_window_is_inconclusive_not_a_failure():
    tied = symgraph.derive("X: 2x2\nL = sum(maxpool2d(X, 2))", at={"X": [[1, 1], [1, 0]]}).check()
    assert tied.status == "inconclusive" and tied.failures == 0
    assert [r.split(": ")[0] for r in tied.reasons] == ["∂/∂X[0, 0], ∂/∂X[0, 1], ∂/∂X[1, 0] (3 times)"]  # one line
    assert all("maxpool2d passes on another entry of a window within the step (a tie)" in r for r in tied.reasons)
    clear = symgraph.derive("X: 2x2\nL = sum(maxpool2d(X, 2))", at={"X": [[1, 2], [1, 0]]}).check()
    assert clear.status == "passed" and clear.reasons == []
