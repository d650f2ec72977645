"""Layer builders: each writes a program that parses, derives and passes the check on seeded random values, with
the shapes symgraph infers; RNN steps are clusters around shared weights; cells, attention and losses are the
textbook ones; the derivation carries the clusters to the picture."""

from __future__ import annotations

import re

import numpy as np
import pytest

import symgraph
from symgraph import ops
from symgraph.errors import InputError, ShapeError
from symgraph.teach.layers import Network, Var

needs_conv = pytest.mark.skipif(
    "conv2d" not in ops.OPS, reason="conv2d/maxpool2d are not registered yet (symgraph/conv_ops.py)"
)


def derived(net: Network, **options) -> symgraph.Derivation:
    """Derive, check, and compare every name's shape with the one symgraph infers."""
    d = net.derive(**options)
    report = d.check()
    assert report.status == "passed", report.reasons[:3]
    for name, shape in net.shapes.items():
        node = d.graph.names[name]
        assert d.graph.shape(node) == shape, name
    return d


def value(d: symgraph.Derivation, name: str):
    return d.value(d.graph.names[name])


def forward_readers(d: symgraph.Derivation, name: str) -> list[int]:
    """The program's nodes that read `name` (the backward pass adds readers of its own)."""
    return [v for v in d.graph.dag.successors(d.graph.names[name]) if d.graph[v]["kind"] == "forward"]


# --- dense, losses, residual --------------------------------------------------------------------------------


def test_dense_layers_write_the_program_the_clusters_and_the_declarations():
    net = Network()
    x = net.input("x", 3)
    h = net.dense("layer1", x, 4, activation="relu")
    z = net.dense("layer2", h, 2, activation=None)
    L = net.cross_entropy("loss", z, target=1)
    assert (h, z, L) == (Var("h1", (4,)), Var("z2", (2,)), Var("L", ()))
    lines = net.program.splitlines()
    for line in ("x: 3", "W1: 4x3", "b1: 4", "z1 = W1 @ x + b1", "h1 = relu(z1)", "z2 = W2 @ h1 + b2",
                 "L = cross_entropy(z2, target=1)", "# layer1"):
        assert line in lines
    assert net.clusters == {"layer1": ["W1", "b1", "z1", "h1"], "layer2": ["W2", "b2", "z2"], "loss": ["L"]}
    assert net.declarations == {"x": (3,), "W1": (4, 3), "b1": (4,), "W2": (2, 4), "b2": (2,)}
    assert net.parameter_count == 4 * 3 + 4 + 2 * 4 + 2
    d = derived(net)
    assert set(d.wrt) == {"x", "W1", "b1", "W2", "b2"}
    assert d.clusters == net.clusters and d.network is net
    assert symgraph.derive(net.program, at=net.random_values()).check().status == "passed"  # the text is the program


def test_random_values_are_seeded_shaped_and_rounded():
    net = Network(seed=3)
    net.dense("layer1", net.input("x", 3), 2)
    first, again = net.random_values(), net.random_values()
    assert all(np.array_equal(first[k], again[k]) for k in first)
    assert first["W1"].shape == (2, 3) and np.array_equal(first["W1"], np.round(first["W1"], 2))
    assert not np.array_equal(net.random_values(seed=4)["W1"], first["W1"])
    given = Network(seed=3)
    given.dense("layer1", given.input("x", 3, value=[1, 2, 3]), 2)
    assert np.array_equal(given.random_values()["x"], [1, 2, 3])
    assert np.array_equal(given.random_values()["W1"], first["W1"])  # a given value does not shift the others
    given.let("L", "sum(h1)")
    d = given.derive(at={"W1": np.ones((2, 3))})
    np.testing.assert_array_equal(value(d, "z1"), 6 + first["b1"])


def test_dense_on_rows_explicit_cross_entropy_mse_l2_residual_and_a_total():
    net = Network()
    X = net.input("X", 3, 2)
    H = net.dense("layer1", X, 2, activation="tanh")  # one example a row: Z = X Wᵀ + 1 bᵀ
    assert "z1 = X @ W1.T + outer(ones(3), b1)" in net.program and H.shape == (3, 2)
    f = net.flatten("flat", H)
    y = net.dense("layer2", f, 2, activation=None)
    r = net.residual("res", y, lambda v: net.dense("block3", v, 2, "tanh"))
    L = net.cross_entropy("loss", r, target=0, explicit=True)
    R = net.l2("reg", lam=0.1)
    J = net.add("total", L, R)
    assert "p = softmax(r)" in net.program and "L = -log(p[0])" in net.program
    assert "R = lam/2 * (sum(W1*W1) + sum(W2*W2) + sum(W3*W3))" in net.program
    assert net.output == J.name == "J" and "lam" not in net.differentiable
    d = derived(net)
    values = net.random_values()
    assert value(d, "R") == pytest.approx(0.05 * sum(np.sum(values[w] ** 2) for w in ("W1", "W2", "W3")))
    assert value(d, "r") == pytest.approx(value(d, "z2") + value(d, "h3"))

    fused = Network()
    z = fused.input("z", 3)
    fused.cross_entropy("loss", z, target=2)
    explicit = Network()
    explicit.cross_entropy("loss", explicit.input("z", 3), target=2, explicit=True)
    a, b = fused.derive(), explicit.derive()
    assert a.value(a.output) == pytest.approx(b.value(b.output))
    np.testing.assert_allclose(a.gradient_value("z"), b.gradient_value("z"))

    regression = Network()
    out = regression.dense("layer1", regression.input("x", 2), 3, activation="sigmoid")
    regression.mse("loss", out, [0.1, 0.5, 0.9])
    assert "L = mse(h1, y_true)" in regression.program and "y_true" not in regression.differentiable
    derived(regression)


# --- recurrent ----------------------------------------------------------------------------------------------


def test_rnn_unrolled_over_T_steps_has_T_clusters_around_weights_shared_by_every_step():
    T = 4
    net = Network()
    xs = net.sequence("x", T, 2)
    hs = net.rnn("rnn", xs, 3)
    net.cross_entropy("loss", net.dense("out", hs[-1], 2, None, names={"W": "W_y", "b": "b_y", "out": "y"}), 0)
    steps = [c for c in net.clusters if c.startswith("rnn")]
    assert steps == [f"rnn t={t}" for t in range(1, T + 1)]
    assert net.clusters["rnn t=2"] == ["x2", "a2", "h2"]
    assert "a1 = W_hx @ x1 + b_h" in net.program and "a2 = W_hh @ h1 + W_hx @ x2 + b_h" in net.program
    for weight in ("W_hh", "W_hx", "b_h"):
        assert net.program.count(f"{weight}: ") == 1
        assert not any(weight in names for names in net.clusters.values())  # outside every step
    d = derived(net)
    readers = {w: len(forward_readers(d, w)) for w in ("W_hh", "W_hx", "b_h")}
    assert readers == {"W_hh": T - 1, "W_hx": T, "b_h": T}  # one node each, read by every step (h₀ = 0)
    assert [value(d, f"h{t}").shape for t in range(1, T + 1)] == [(3,)] * T


def test_rnn_over_the_rows_of_a_matrix_with_an_initial_state():
    net = Network()
    X = net.input("X", 3, 2)
    h0 = net.input("h0", 2)
    hs = net.rnn("rnn", X, 2, activation="relu", h0=h0)
    net.let("L", f"sum({hs[-1]} * {hs[-1]})", cluster="loss")
    assert "a1 = W_hh @ h0 + W_hx @ X[0] + b_h" in net.program
    derived(net)
    bad = Network()
    with pytest.raises(ShapeError, match="h0 has shape 2, the hidden size is 3"):
        bad.rnn("rnn", [bad.input("x", 2)], 3, h0=bad.input("h0", 2))


def test_lstm_cell_is_the_textbook_cell_with_4_h_d_plus_h_plus_h_parameters():
    d_in, h = 3, 2
    net = Network()
    x, h0, c0 = net.input("x", d_in), net.input("h0", h), net.input("c0", h)
    h1, c1 = net.lstm_cell("lstm1", x, h0, c0)
    assert (h1, c1) == (Var("h1", (h,)), Var("c1", (h,)))
    for line in ("f1 = sigmoid(W_f @ x + U_f @ h0 + b_f)", "g1 = tanh(W_g @ x + U_g @ h0 + b_g)",
                 "c1 = f1 * c0 + i1 * g1", "h1 = o1 * tanh(c1)"):
        assert line in net.program
    assert net.parameter_count == 4 * (h * (d_in + h) + h) == 48
    x2 = net.input("x2", d_in)
    net.lstm_cell("lstm2", x2, h1, c1)  # the next step reads the same weights
    assert net.parameter_count == 48
    net.let("L", "sum(h2 * h2)", cluster="loss")
    d = derived(net)
    assert len(forward_readers(d, "W_f")) == 2


def test_gru_cell_with_3_h_d_plus_h_plus_h_parameters():
    net = Network()
    x, h0 = net.input("x", 2), net.input("h0", 3)
    h1 = net.gru_cell("gru1", x, h0)
    assert "n1 = tanh(W_n @ x + U_n @ (r1 * h0) + b_n)" in net.program
    assert "h1 = (1 - z1) * n1 + z1 * h0" in net.program
    assert net.parameter_count == 3 * (3 * (2 + 3) + 3)
    net.mse("loss", h1, [0.1, -0.2, 0.3])
    d = derived(net)
    z, n = value(d, "z1"), value(d, "n1")
    np.testing.assert_allclose(value(d, "h1"), (1 - z) * n + z * net.random_values()["h0"])


# --- attention ----------------------------------------------------------------------------------------------


def test_attention_probabilities_sum_to_one_per_row():
    net = Network()
    X = net.input("X", 3, 4)
    A = net.attention("attention", X, 4, d_v=2)
    net.let("L", f"sum({A} * {A})", cluster="loss")
    assert "S = Q @ K.T / 2" in net.program and "P = softmax(S)" in net.program
    d = derived(net)
    P = value(d, "P")
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert value(d, "A").shape == (3, 2) and np.all(P > 0)


@pytest.mark.parametrize("mask", ["multiplicative", "additive"])
def test_causal_mask_zeroes_the_future(mask):
    net = Network(mask=mask)
    X = net.input("X", 4, 3)
    A = net.attention("attention", X, 2, causal=True)
    net.let("L", f"sum({A} * {A})", cluster="loss")
    d = net.derive()
    P = value(d, "P")
    assert np.all(P[np.triu_indices(4, 1)] == 0.0) and np.all(P[np.tril_indices(4)] > 0)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert "M" not in d.wrt and "M" in net.clusters["attention"]
    if mask == "multiplicative":
        assert "U = exp(S) * M" in net.program and "P = U / outer(sum(U, axis=1), ones(4))" in net.program
        assert d.check().status == "passed"
    else:
        assert "S = Q @ K.T / sqrt(2) + M" in net.program and net.random_values()["M"][0, 1] == -1e9


def test_multi_head_attention_is_concat_of_the_heads_times_W_O():
    net = Network()
    X = net.input("X", 3, 4)
    Z = net.multi_head_attention("mha", X, heads=2, d_k=2, causal=True)
    net.let("L", f"mean({Z} * {Z})", cluster="loss")
    assert Z.shape == (3, 4) and "Z = A1 @ W_O1 + A2 @ W_O2" in net.program
    assert [c for c in net.clusters if "head" in c] == ["mha head 1", "mha head 2"]
    assert net.program.count("M: ") == 1  # one mask for both heads
    d = derived(net)
    values = net.random_values()
    concat = np.hstack([value(d, "A1"), value(d, "A2")])
    np.testing.assert_allclose(value(d, "Z"), concat @ np.vstack([values["W_O1"], values["W_O2"]]))


# --- convolution (needs symgraph/conv_ops.py) ----------------------------------------------------------------


@needs_conv
def test_conv2d_pool_flatten_dense():
    net = Network()
    x = net.input("x", 1, 5, 5)
    h = net.conv2d("conv1", x, 2, 2, activation="relu")
    m = net.maxpool2d("pool1", h, 2)
    f = net.flatten("flat", m)
    net.cross_entropy("loss", net.dense("fc", f, 3, None, names={"W": "W_fc", "b": "b_fc", "out": "y"}), 2)
    assert (h.shape, m.shape, f.shape) == ((2, 4, 4), (2, 2, 2), (8,))
    assert "z1 = conv2d(x, K1, stride=1, padding=0) + reshape(outer(b1, ones(16)), 2, 4, 4)" in net.program
    assert "m1 = maxpool2d(h1, size=2, stride=2)" in net.program
    derived(net)


@needs_conv
def test_conv1d_with_stride_padding_and_avgpool_on_one_channel():
    net = Network()
    x = net.input("x", 2, 7)
    h = net.conv1d("conv1", x, 3, 3, stride=2, padding=1, activation="tanh")
    assert h.shape == (3, 4) and "conv1d(x, K1, stride=2, padding=1) + outer(b1, ones(4))" in net.program
    net.let("L", f"sum({h} * {h})", cluster="loss")
    derived(net)
    single = Network()
    image = single.input("image", 4, 4)
    conv = single.conv2d("conv1", image, 1, 3, bias=True)  # one channel: K is kh×kw, the bias a scalar
    pooled = single.avgpool2d("pool1", conv, 2)
    assert single.shapes["K1"] == (3, 3) and single.shapes["b1"] == () and pooled.shape == (1, 1)
    single.let("L", "sum(m1)", cluster="loss")
    derived(single)


# --- errors and names -----------------------------------------------------------------------------------------


def test_names_taken_shapes_and_activations_are_clear_errors():
    net = Network()
    x = net.input("x", 3)
    net.dense("hidden", x, 2)  # no number: plain names W, b, z, h
    assert {"W", "b", "z", "h"} <= set(net.shapes)
    with pytest.raises(InputError, match=r"the name W is taken \(by 'hidden'\): number the layers"):
        net.dense("output", x, 2)
    net.dense("output", x, 2, names={"W": "W_o", "b": "b_o", "z": "z_o", "out": "y"})
    with pytest.raises(InputError, match="activation 'mish'"):
        net.dense("layer3", x, 2, activation="mish")
    with pytest.raises(InputError, match="built-in name"):
        net.input("exp", 2)
    with pytest.raises(ShapeError, match="x is 3 but F\\(x\\) is 2"):
        net.residual("res", x, "y")
    with pytest.raises(ShapeError, match="class 5 of 2"):
        net.cross_entropy("loss", "y", 5)
    with pytest.raises(InputError, match="q is not a name of this network"):
        net.dense("layer4", "q", 2)
    with pytest.raises(InputError, match="the network is empty"):
        Network().derive()


def test_let_infers_the_shape_of_any_line():
    net = Network()
    x = net.input("x", 3)
    net.input("unused_yet", 2)
    s = net.let("s", f"outer({x}, {x})")
    assert s.shape == (3, 3)


# --- pictures -----------------------------------------------------------------------------------------------


def test_the_derivation_draws_the_networks_clusters():
    net = Network()
    xs = net.sequence("x", 2, 2)
    hs = net.rnn("rnn", xs, 2)
    net.let("L", f"sum({hs[-1]} * {hs[-1]})", cluster="loss")
    d = net.derive()
    source = d.render("backward").source
    labels = re.findall(r"subgraph (cluster_\d+) \{\n\t\tgraph \[.*label=<<FONT[^>]*>([^<]*)</FONT>>", source)
    assert labels == [("cluster_0", "rnn t=1"), ("cluster_1", "rnn t=2"), ("cluster_2", "loss")]
    body = source[source.index("subgraph cluster_1"):source.index("subgraph cluster_2")]
    for name in ("x2", "a2", "h2"):
        assert f"\t\tn{d.graph.names[name]} [" in body
    assert f"\tn{d.graph.names['W_hh']} [" in source[:source.index("subgraph cluster_0")]  # shared: outside
    assert "subgraph" not in d.render("backward", clusters={}).source
    assert net.render("forward").source == d.render("forward").source  # deterministic
