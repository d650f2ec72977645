"""The course's tensor problems (../shared/problems.md), computed by symgraph from the problem's data.

Every number asserted here is what symgraph computes; the printed answers are compared with it,
never the other way round. Where a printed answer is wrong, the test asserts the correct value and
says so in a comment (P6: b_out). Node values are read as `d.value(d.graph.names[name])`.
Indices in programs are 0-based: the problem's class 2 is index 1.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from symgraph import derive
from symgraph.engine.evaluate import evaluate
from symgraph.verify.scalarize import compare


def value(d, name: str):
    return d.value(d.graph.names[name])


def verified(d):
    """Both verifications of the gradient, as for every tensor program."""
    assert compare(d).agrees(rtol=1e-9, atol=1e-12)
    report = d.check()
    assert report.status == "passed", report.reasons
    return d


# --- P7: quote attribution with an RNN ------------------------------------------------------------------------

P7 = {
    "Whx": [[0, -1, 2], [1, -2, 0]],
    "Whh": [[1, 0], [0, 1]],
    "Wyh": [[0, -1], [1, 0], [2, -1]],
    "x1": [0, 1, 1],  # AI
    "x2": [1, 0, -1],  # is
    "x3": [0, -1, 0],  # conscious
    "h0": [0, 0],
}
P7_CLASSES = ["Mark Twain", "Albert Einstein", "GPT-3"]
P7_RNN = """
h1 = relu(Whx @ x1 + Whh @ h0)
h2 = relu(Whx @ x2 + Whh @ h1)
h3 = relu(Whx @ x3 + Whh @ h2)
"""


def test_p7a_prediction_from_the_last_state():
    d = derive(P7_RNN + "o = Wyh @ h3; k = argmax(o); L = cross_entropy(o, 1)", at=P7)
    assert value(d, "h1").tolist() == [1, 0]
    assert value(d, "h2").tolist() == [0, 1]
    assert value(d, "h3").tolist() == [1, 3]
    assert value(d, "o").tolist() == [-3, 1, -1]
    assert value(d, "k") == 1 and P7_CLASSES[int(value(d, "k"))] == "Albert Einstein"  # class 2, as printed
    verified(d)


P7_ATTENTION = P7_RNN + """
H = reshape(concat(h1, h2, h3), 3, 2)
s = H @ q / sqrt(2)
p = softmax(s)
c = p @ H
o = Wyh @ c
k = argmax(o)
L = cross_entropy(o, 2)
"""


def test_p7b_attention_pooling():
    d = derive(P7_ATTENTION, at={**P7, "q": [2, -1]})
    assert value(d, "H").tolist() == [[1, 0], [0, 1], [1, 3]]  # rows h₁, h₂, h₃: keys = values
    np.testing.assert_allclose(value(d, "s"), np.array([2, -1, -1]) / math.sqrt(2))
    np.testing.assert_allclose(value(d, "p"), [0.807, 0.097, 0.097], atol=5e-4)
    np.testing.assert_allclose(value(d, "c"), [0.903, 0.387], atol=5e-4)
    np.testing.assert_allclose(value(d, "o"), [-0.387, 0.903, 1.420], atol=5e-4)
    assert P7_CLASSES[int(value(d, "k"))] == "GPT-3"  # class 3, as printed
    e = math.exp(3 / math.sqrt(2))  # exactly: p = [e, 1, 1]/(e + 2) with e = exp(3/√2)
    np.testing.assert_allclose(value(d, "p"), np.array([e, 1, 1]) / (e + 2), rtol=1e-12)
    verified(d)


def test_p7c_relu_states_keep_class_1_at_most_one_third():
    """logit₁ = −h[1] ≤ 0 ≤ h[0] and logit₃ = 2h[0] − h[1] ≥ logit₁ when h ≥ 0; tanh states can go negative."""
    d = derive("p = softmax(Wyh @ h); L = p[0]", at={"Wyh": P7["Wyh"], "h": [1.0, 3.0]})
    h, p = d.graph.names["h"], d.graph.names["p"]
    wyh = d.graph.names["Wyh"]
    rng = np.random.default_rng(7)
    states = np.abs(rng.normal(0, 3, (500, 2)))  # relu states are ≥ 0
    states[:3] = [[0, 0], [0, 10], [1e-3, 0]]
    largest = max(
        float(evaluate(d.graph, {h: s, wyh: np.array(P7["Wyh"], float)}, [p])[p][0]) for s in states
    )
    assert largest <= 1 / 3 + 1e-12
    tanh_state = np.tanh([-2.0, 2.0])  # within (−1, 1), a negative first entry
    p_tanh = evaluate(d.graph, {h: tanh_state, wyh: np.array(P7["Wyh"], float)}, [p])[p]
    assert p_tanh[0] > 1 / 3


# --- P8: image captioning with an RNN decoder -----------------------------------------------------------------

WORDS = ["<START>", "<STOP>", "fish", "seagull", "flying", "fishing"]
P8 = {
    "I": [[4, 0], [0, 4], [0, 0], [0, 0]],  # features i₁ … i₄, one per row
    "Emb": [[0, 0, 0], [1, 1, 1], [-1, 2, 0], [1, -2, 0], [0, -1, -1], [0, 2, 1]],  # rows in WORDS order
    "Whx": [[1, 0, 1, 1, 0], [0, 1, 1, 0, 1]],
    "Whh": [[0, 1], [1, 0]],
    "Wyh": [[-5, -5], [0, 3], [1, 2], [2, 2], [3, -1], [2.9, 0]],
    "h0": [0, 0],
}


def test_p8a_greedy_decoding_with_average_features():
    # The word fed at each step is the previous argmax; the test asserts that it is.
    d = derive(
        """
        c = mean(I, axis=0)
        h1 = relu(Whx @ concat(Emb[0], c) + Whh @ h0)
        o1 = Wyh @ h1
        k1 = argmax(o1)
        h2 = relu(Whx @ concat(Emb[3], c) + Whh @ h1)
        o2 = Wyh @ h2
        k2 = argmax(o2)
        h3 = relu(Whx @ concat(Emb[4], c) + Whh @ h2)
        o3 = Wyh @ h3
        k3 = argmax(o3)
        L = cross_entropy(o3, 1)
        """.replace("\n        ", "\n").strip(),
        at=P8,
    )
    assert value(d, "c").tolist() == [1, 1]
    assert value(d, "h1").tolist() == [1, 1] and WORDS[int(value(d, "k1"))] == "seagull"
    assert value(d, "h2").tolist() == [3, 0] and WORDS[int(value(d, "k2"))] == "flying"
    assert value(d, "h3").tolist() == [0, 2] and WORDS[int(value(d, "k3"))] == "<STOP>"
    np.testing.assert_allclose(value(d, "o1"), [-10, 3, 3, 4, 2, 2.9])
    np.testing.assert_allclose(value(d, "o2"), [-15, 0, 3, 6, 9, 8.7])
    np.testing.assert_allclose(value(d, "o3"), [-10, 6, 4, 4, -2, 0])
    # z₂ = [3, 0]: h₂'s second entry sits on relu's kink, so the check is inconclusive there, and says so.
    report = d.check()
    assert report.status == "inconclusive" and all("kink" in r for r in report.reasons)
    assert compare(d).agrees()


P8_ATTENTION = """
p1 = softmax(I @ h0 / sqrt(2))
c1 = p1 @ I
h1 = relu(Whx @ concat(Emb[0], c1) + Whh @ h0)
o1 = Wyh @ h1
k1 = argmax(o1)
p2 = softmax(I @ h1 / sqrt(2))
c2 = p2 @ I
h2 = relu(Whx @ concat(Emb[3], c2) + Whh @ h1)
o2 = Wyh @ h2
k2 = argmax(o2)
L = cross_entropy(o2, 5)
"""


def test_p8b_attention_at_t1_is_uniform():
    d = derive(P8_ATTENTION, at=P8)
    np.testing.assert_allclose(value(d, "p1"), [0.25] * 4)  # the query h₀ is 0
    np.testing.assert_allclose(value(d, "c1"), [1, 1])
    assert value(d, "h1").tolist() == [1, 1] and WORDS[int(value(d, "k1"))] == "seagull"


def test_p8c_attention_at_t2():
    d = derive(P8_ATTENTION, at=P8)
    p2 = value(d, "p2")
    np.testing.assert_allclose(p2, [0.472, 0.472, 0.028, 0.028], atol=5e-4)  # as printed
    e = math.exp(4 / math.sqrt(2))
    np.testing.assert_allclose(p2, np.array([e, e, 1, 1]) / (2 * e + 2), rtol=1e-12)
    np.testing.assert_allclose(value(d, "c2"), [1.888, 1.888], atol=5e-4)  # as printed
    np.testing.assert_allclose(value(d, "h2"), [3.888, 0.888], atol=5e-4)  # as printed
    o2 = value(d, "o2")
    assert WORDS[int(value(d, "k2"))] == "fishing"  # as printed: fishing (11.28) just beats flying (10.78)
    np.testing.assert_allclose(o2, np.array(P8["Wyh"]) @ value(d, "h2"), rtol=1e-12)
    np.testing.assert_allclose(o2[[4, 5]], [10.777, 11.276], atol=5e-4)
    verified(d)


# --- P9 and P13: self-attention ----------------------------------------------------------------------------------

P9 = {
    "WQ": [[1, 0], [0, 1], [0, 0], [0, 0]],
    "WK": [[1, 0], [0, 1], [0, 0], [0, 0]],
    "WV": [[0, 0], [0, 0], [1, 0], [0, 1]],
}


def _softmax_rows(a):
    e = np.exp(a - a.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_p9_self_attention_selects_features():
    rng = np.random.default_rng(9)
    X, R = rng.normal(size=(3, 4)), rng.normal(size=(3, 2))
    d = derive(
        "Q = X @ WQ; K = X @ WK; V = X @ WV; P = softmax(Q @ K.T / sqrt(2)); Z = P @ V; L = sum(R * Z)",
        at={**P9, "X": X, "R": R},
    )
    np.testing.assert_allclose(value(d, "Q"), X[:, :2])  # queries and keys: the first two features
    np.testing.assert_allclose(value(d, "K"), X[:, :2])
    np.testing.assert_allclose(value(d, "V"), X[:, 2:])  # values: the last two
    expected = _softmax_rows(X[:, :2] @ X[:, :2].T / math.sqrt(2)) @ X[:, 2:]
    np.testing.assert_allclose(value(d, "Z"), expected, rtol=1e-12)
    np.testing.assert_allclose(value(d, "P").sum(axis=1), 1.0)  # row-wise softmax
    assert sum(math.prod(d.graph.shape(d.graph.names[w])) for w in P9) == 24  # as printed
    verified(d)


def test_p13_negated_heads():
    rng = np.random.default_rng(13)
    values = {"X": rng.normal(size=(4, 3)), "WQ": rng.normal(size=(3, 2)), "WK": rng.normal(size=(3, 2)),
              "WV": rng.normal(size=(3, 2)), "R": rng.normal(size=(4, 2)), "S": rng.normal(size=(4, 2))}
    d = derive(
        """
        P1 = softmax((X @ WQ) @ (X @ WK).T / sqrt(2))
        Z1 = P1 @ (X @ WV)
        P2 = softmax((X @ (-WQ)) @ (X @ (-WK)).T / sqrt(2))
        Z2 = P2 @ (X @ (-WV))
        L = sum(R * Z1) + sum(S * Z2)
        """.replace("\n        ", "\n").strip(),
        at=values,
    )
    np.testing.assert_allclose(value(d, "P1"), value(d, "P2"), rtol=1e-12)  # P⁽¹⁾ = P⁽²⁾
    np.testing.assert_allclose(value(d, "Z1"), -value(d, "Z2"), rtol=1e-12)  # Z⁽¹⁾ = −Z⁽²⁾
    assert not np.allclose(value(d, "Z1"), 0)
    # So L = Σ (R − S) ⊙ Z⁽¹⁾: the gradient for S is −Z⁽¹⁾ … and for R it is Z⁽¹⁾.
    np.testing.assert_allclose(d.gradient_value("S"), -value(d, "Z1"), rtol=1e-12)
    verified(d)


# --- P12: an RNN that counts parity -----------------------------------------------------------------------------------

P12_PROGRAM = """
h1 = whh * h0 + dot(wx, X[0]) + bh
h2 = whh * h1 + dot(wx, X[1]) + bh
h3 = whh * h2 + dot(wx, X[2]) + bh
s = ws * h3 + bs
p = sigmoid(s)
"""
P12 = {"whh": 1.0, "wx": [0, 2], "bh": -1.0, "ws": 1.0, "bs": -0.5, "h0": 0.0}


def test_p12_parity_rnn():
    d = derive(P12_PROGRAM, at={**P12, "X": [[0, 0], [1, 0], [1, 1]]})  # inputs 00, 10, 11
    assert [value(d, h) for h in ("h1", "h2", "h3")] == [-1, -2, -1]
    assert value(d, "s") == -1.5
    assert value(d, "p") == pytest.approx(1 / (1 + math.exp(1.5))) and value(d, "p") < 0.5  # class 0
    parameters = sum(math.prod(d.graph.shape(d.graph.names[n])) or 1 for n in ("whh", "wx", "bh", "ws", "bs"))
    assert parameters == 6  # as printed
    verified(d)


def test_p12_counts_parity_on_every_sequence_of_three():
    """Class 1 exactly when more of the three numbers are odd (the last bit is 1) than even."""
    d = derive(P12_PROGRAM, at={**P12, "X": [[0, 0], [1, 0], [1, 1]]})
    names = d.graph.names
    fixed = {names[n]: np.asarray(v, dtype=float) for n, v in P12.items()}
    for bits in itertools.product([(0, 0), (0, 1), (1, 0), (1, 1)], repeat=3):
        p = evaluate(d.graph, {**fixed, names["X"]: np.array(bits, dtype=float)}, [names["p"]])[names["p"]]
        odd = sum(b[1] for b in bits)
        assert (float(p) > 0.5) == (odd > 3 - odd), bits


# --- P15 (and P6, P11, P14): identities and small computations -----------------------------------------------------


@pytest.fixture
def rng():
    return np.random.default_rng(15)


def test_p15_quadratic_form(rng):
    A, x = rng.normal(size=(3, 3)), rng.normal(size=3)
    d = derive("L = dot(x, A @ x)", at={"A": A, "x": x})
    np.testing.assert_allclose(d.gradient_value("x"), (A + A.T) @ x, rtol=1e-12)  # ∇ₓ(xᵀAx) = (A + Aᵀ)x
    np.testing.assert_allclose(d.gradient_value("A"), np.outer(x, x), rtol=1e-12)
    verified(d)


def test_p15_linear_form(rng):
    b, x = rng.normal(size=3), rng.normal(size=3)
    d = derive("L = dot(b, x)", at={"b": b, "x": x})
    np.testing.assert_allclose(d.gradient_value("x"), b)  # ∇ₓ(bᵀx) = b


def test_p15_squared_loss(rng):
    w, x, y = rng.normal(size=4), rng.normal(size=4), 0.7
    d = derive("yhat = dot(w, x); L = (y - yhat)**2 / 2", at={"w": w, "x": x, "y": y})
    np.testing.assert_allclose(d.gradient_value("w"), -(y - w @ x) * x, rtol=1e-12)  # −(y − ŷ)x
    verified(d)


@pytest.mark.parametrize("y", [0.0, 1.0])
def test_p15_binary_cross_entropy_with_a_sigmoid(rng, y):
    w, x = rng.normal(size=3), rng.normal(size=3)
    d = derive("z = dot(w, x); L = -(y * logsigmoid(z) + (1 - y) * logsigmoid(-z))", at={"w": w, "x": x, "y": y})
    sigma = 1 / (1 + math.exp(-(w @ x)))
    np.testing.assert_allclose(d.gradient_value("w"), (sigma - y) * x, rtol=1e-12)  # (σ(wᵀx) − y)x
    verified(d)


def test_p15_softmax_jacobian(rng):
    z = rng.normal(size=4)
    p = np.exp(z) / np.exp(z).sum()
    for i in range(4):
        d = derive(f"p = softmax(z); L = p[{i}]", at={"z": z})
        np.testing.assert_allclose(d.gradient_value("z"), p[i] * ((np.arange(4) == i) - p), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("program", ["L = cross_entropy(z, 2)", "L = -log_softmax(z)[2]", "L = -log(softmax(z)[2])",
                                     "L = logsumexp(z) - z[2]"])
def test_p15_softmax_cross_entropy(rng, program):
    z = rng.normal(size=5)
    d = derive(program, at={"z": z})
    p = np.exp(z) / np.exp(z).sum()
    np.testing.assert_allclose(d.gradient_value("z"), p - np.eye(5)[2], rtol=1e-12, atol=1e-15)  # p − e_y
    verified(d)


def test_p15_chain_rule_through_a_linear_map(rng):
    A, x = rng.normal(size=(3, 2)), rng.normal(size=2)
    d = derive("u = A @ x; L = logsumexp(u)", at={"A": A, "x": x})  # f = logsumexp, ∇f = softmax
    u = A @ x
    np.testing.assert_allclose(d.gradient_value("x"), A.T @ (np.exp(u) / np.exp(u).sum()), rtol=1e-12)  # Aᵀ∇f(Ax)
    assert d.to_dict()["gradient"]["x"]["in_terms_of_intermediates"].startswith("A.T @ ")
    verified(d)


def test_p15_residual_block(rng):
    W, x, v, lam = rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=3), 0.3
    d = derive("H = tanh(W @ x) + lam * x; L = dot(v, H)", at={"W": W, "x": x, "v": v, "lam": lam})
    # ∂L/∂x = (∂F/∂x)ᵀ ∂L/∂H + λ ∂L/∂H with ∂L/∂H = v
    expected = W.T @ (v * (1 - np.tanh(W @ x) ** 2)) + lam * v
    np.testing.assert_allclose(d.gradient_value("x"), expected, rtol=1e-12)
    verified(d)


def test_p15_ridge_regression_is_where_the_gradient_vanishes(rng):
    X, y, lam = rng.normal(size=(6, 3)), rng.normal(size=6), 0.5
    w = np.linalg.solve(X.T @ X + lam * np.eye(3), X.T @ y)  # w = (XᵀX + λI)⁻¹Xᵀy
    d = derive("r = X @ w - y; L = dot(r, r) / 2 + lam / 2 * dot(w, w)", at={"X": X, "y": y, "w": w, "lam": lam})
    np.testing.assert_allclose(d.gradient_value("w"), 0, atol=1e-12)


def test_p11_l2_regularisation(rng):
    theta, v, lam = rng.normal(size=4), rng.normal(size=4), 0.1
    d = derive("L = dot(v, tanh(theta)); Lnew = L + lam / 2 * dot(theta, theta)", at={"theta": theta, "v": v, "lam": lam})
    g = v * (1 - np.tanh(theta) ** 2)
    np.testing.assert_allclose(d.gradient_value("theta"), g + lam * theta, rtol=1e-12)  # g_k + λθ_k


def test_p6_one_sgd_step_of_logistic_regression():
    d = derive("z = dot(w, h) + b; L = -logsigmoid(z)", at={"w": [1, 2, 3, 4], "b": -5, "h": [1, 0, 0, 1]})
    assert value(d, "z") == 0
    np.testing.assert_allclose(d.gradient_value("w"), [-0.5, 0, 0, -0.5])  # (σ(z) − 1)h₁, as printed
    assert d.gradient_value("b") == -0.5  # as printed
    eta = 1.0
    np.testing.assert_allclose(np.array([1, 2, 3, 4]) - eta * d.gradient_value("w"), [1.5, 2, 3, 4.5])  # as printed
    # The printed b_out = 5.5 is wrong: b − η∇b = −5 − (−0.5) = −4.5 (a sign slip in the solution).
    assert -5 - eta * d.gradient_value("b") == -4.5


def test_p14_softmax_over_ten_thousand_logits():
    s = np.ones(10_000)
    s[0] = 0
    d = derive("p = softmax(s); L = p[0]", at={"s": s})
    assert value(d, "p")[0] == pytest.approx(1 / (1 + 9999 * math.e), rel=1e-12)  # as printed
