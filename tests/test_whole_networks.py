"""Every construct of the language for whole networks, end to end: the API in every format and the CLI's JSON, with a
check that passes (or no check, for a forward pass). One program per construct, at a point away from kinks."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from symgraph import derive
from symgraph.cli.commands import app
from symgraph.output.formats import FORMATS, render_format

V3 = "[0.3, -0.8, 1.1]"
M23 = "[[0.5, -1.2, 0.7], [1.5, 0.2, -0.4]]"

#: (what, program, CLI options)
CONSTRUCTS = [
    ("forward pass of a layer", "h = relu(W @ x + b)", ["--at", f"W={M23}", "--at", f"x={V3}", "--at", "b=[0.1, -0.2]"]),
    ("Jacobian of a layer", "h = tanh(W @ x)", ["--wrt", "x", "--at", f"W={M23}", "--at", f"x={V3}"]),
    ("softmax Jacobian", "z: 3; p = softmax(z)", ["--wrt", "z", "--at", f"z={V3}"]),
    ("upstream gradient", "h = tanh(W @ x)", ["--upstream", "h=[1, -2]", "--at", f"W={M23}", "--at", f"x={V3}"]),
    ("an input as output", "y = x", ["--at", "x=2"]),
    ("a constant output", "y = 0*x + 3", ["--at", "x=2"]),
    ("--of an entry", "p = softmax(z); q = p[0]; L = sum(p * p)", ["--of", "q", "--at", f"z={V3}"]),
    ("SGD step with weight decay", "L = mse(W @ x, t)", ["--at", f"W={M23}", "--at", f"x={V3}", "--at", "t=[1, 0]",
                                                         "--wrt", "W", "--sgd", "0.1", "--weight-decay", "0.01"]),
    ("elementary functions", "tan(x) + sinh(x) + cosh(x) + arctan(x) + arcsin(x/2) + acos(x/2) + erf(x)", ["--at", "x=0.4"]),
    ("activations", "gelu(x) + gelu(x, approximate='tanh') + silu(x) + swish(x) + softsign(x) + hardtanh(x)"
                    " + leaky_relu(x, 0.1) + elu(x)", ["--at", "x=-0.4"]),
    ("logarithms", "ln(x) + log2(x) + log10(x) + log(x, 3)", ["--at", "x=2.5"]),
    ("elementwise max and min", "max(x, y, 0.5) + min(x, y)", ["--at", "x=0.2", "--at", "y=1.3"]),
    ("reductions max and min", "L = sum(max(X, axis=0)) + min(X)", ["--at", f"X={M23}"]),
    ("norm, var, std", "L = norm(x) + norm(x, 1) + var(x) + std(x)", ["--at", f"x={V3}"]),
    ("eye, clip, where", "L = sum(eye(3) @ clip(x, -0.5, 0.5)) + sum(where(c, x, x * x))",
     ["--wrt", "x", "--at", f"x={V3}", "--at", "c=[1, 0, 1]"]),
    ("stack and concat of scalars", "L = sum(stack(dot(q, a), dot(q, b)) * concat(dot(q, a), sum(b)))",
     ["--at", f"q={V3}", "--at", "a=[1, 2, 0]", "--at", "b=[0, 1, -1]"]),
    ("layer and batch norm", "L = sum(layer_norm(x) * v) + sum(batch_norm(X) * R)",
     ["--at", f"x={V3}", "--at", "v=[1, 2, 3]", "--at", f"X={M23}", "--at", "R=[[1, 0, 2], [0, 1, -1]]"]),
    ("dropout and bce", "L = bce(sigmoid(dropout(z, m, 0.5)), y)",
     ["--at", f"z={V3}", "--at", "m=[1, 0, 1]", "--at", "y=[1, 0, 1]"]),
    ("conv2d with a bias", "L = sum(conv2d(x, K, bias=b) * R)",
     ["--at", "x=[[[0.1, 0.5, -0.3], [0.7, -0.2, 0.4], [0.3, 0.8, -0.6]]]", "--at", "K=[[[[1, -1], [0.5, 2]]]]",
      "--at", "b=[0.25]", "--at", "R=[[[1, 2], [3, 4]]]"]),
    ("2-D slices", "L = sum(tanh(X[0:2, 1:3]))", ["--at", f"X={M23}"]),
    ("comparisons", "L = sum((z >= 0) * z * z + (z < 1) * z)", ["--at", f"z={V3}"]),
    ("argmax with an axis", "k = argmax(X, axis=1); L = sum(X[0] * X[0]) + sum(k)", ["--at", f"X={M23}"]),
    ("greedy decoding: E[argmax(o)]", "k = argmax(o); w = E[k]; L = sum(w * v)",
     ["--wrt", "E", "--at", f"o={V3}", "--at", "E=[[1, 2], [3, 4], [5, 6]]", "--at", "v=[1, -1]"]),
    ("topk and sort", "L = dot(v, topk(x, 2)) + sum(sort(x) * x)", ["--at", f"x={V3}", "--at", "v=[1, 2]"]),
    ("onehot of a computed index", "k = argmin(x); L = dot(onehot(k, 3), x * x)", ["--at", f"x={V3}"]),
    ("broadcasting a row over a matrix", "L = sum(tanh(b + X @ W))",
     ["--at", "b=[0.1, -0.1]", "--at", f"X={M23}", "--at", "W=[[1, 0], [0, 1], [1, 1]]"]),
    ("a loop over time", "h = h0\nfor t in range(3):\n    h = tanh(W @ h + U @ xs[t])\nL = sum(h)",
     ["--at", "h0=[0, 0]", "--at", "W=[[0.5, -0.2], [0.1, 0.3]]", "--at", "U=[[1, 0], [0, 1]]",
      "--at", "xs=[[0.1, 0.2], [0.3, -0.1], [0.5, 0.5]]"]),
]


@pytest.mark.parametrize("what, program, options", CONSTRUCTS, ids=[c[0] for c in CONSTRUCTS])
def test_each_construct_answers_in_every_format_with_a_passing_check(what, program, options):
    result = CliRunner().invoke(app, ["derive", program, *options, "--format", "json"], prog_name="symgraph")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    if data["mode"] == "forward":
        assert data["check"] is None and data["gradient"] == {}
    else:
        assert data["check"]["status"] == "passed", data["check"]["reasons"]
    pairs = list(zip(options[0::2], options[1::2]))
    values = dict(v.split("=", 1) for flag, v in pairs if flag == "--at")
    given = {flag: v for flag, v in pairs if flag != "--at"}
    d = derive(program, at=values, wrt=[v for flag, v in pairs if flag == "--wrt"] or None, of=given.get("--of"),
               upstream=dict([given["--upstream"].split("=", 1)]) if "--upstream" in given else None,
               sgd=given.get("--sgd"), weight_decay=given.get("--weight-decay", 0.0))
    for fmt in FORMATS:
        assert render_format(d, fmt).strip()
