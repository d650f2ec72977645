"""The tensor check along random directions: cheap when the gradient is right, entry by entry when it is not."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph
from symgraph.lang import limits
from symgraph.verify import tensor_check
from symgraph.verify.tensor_check import DIRECTIONS, MAX_CHECKED_ENTRIES, check_tensor


@pytest.fixture
def moves(monkeypatch):
    """Every direction the check moves the inputs along: ('direction' | 'entry', number of inputs moved)."""
    seen: list[tuple[str, int]] = []
    difference = tensor_check._Reach.difference

    def counted(reach, direction):
        entry = len(direction) == 1 and np.count_nonzero(direction[0]) == 1
        seen.append(("entry" if entry else "direction", len(direction)))
        return difference(reach, direction)

    monkeypatch.setattr(tensor_check._Reach, "difference", counted)
    return seen


def _wrong(program: str, wrong: dict[str, str], point: dict[str, np.ndarray]):
    """The check of `program`'s output with the derivatives taken from other named nodes of it (a wrong answer)."""
    d = symgraph.derive(program)
    derivatives = {name: d.graph.names[node] for name, node in wrong.items()}
    return check_tensor(d.graph, d.output, derivatives, d.inputs, point)


def test_a_right_gradient_is_confirmed_along_a_few_directions_instead_of_entry_by_entry(moves):
    report = symgraph.derive("W: 30x30; L = sum(W @ W)").check()
    assert report.passed and report.reasons == []
    assert moves == [("direction", 1)] * DIRECTIONS


def test_inputs_of_one_scale_share_their_directions(moves):
    program = "x: 8; W1: 8x8; b1: 8; W2: 8x8; b2: 8; h = tanh(W1 @ x + b1); L = sum(tanh(W2 @ h + b2))"
    report = symgraph.derive(program, at={"x": [0.5] * 8}).check()
    assert report.passed
    assert [kind for kind, _ in moves] == ["direction"] * DIRECTIONS and moves[0][1] >= 2


def test_an_input_whose_gradient_is_far_smaller_is_checked_apart():
    gradients = {name: tensor_check._Gradient(0, np.full(4, norm), np.zeros(4, dtype=bool))
                 for name, norm in (("a", 1.0), ("b", 1e-9), ("c", 0.5), ("d", 0.0))}
    assert tensor_check._groups(gradients) == [["a", "c"], ["b"], ["d"]]


def test_a_wrong_gradient_is_named_entry_by_entry(moves):
    rng = np.random.default_rng(1)
    point = {"W": rng.normal(size=(6, 6)), "M": np.full((6, 6), 0.5)}
    report = _wrong("W: 6x6; M: 6x6; G = 2*W + M; L = sum(W*W)", {"W": "G"}, point)
    assert report.status == "failed" and report.failures == 36
    assert report.reasons[0].startswith("∂/∂W[0, 0]: symbolic ") and "finite differences give" in report.reasons[0]
    assert moves.count(("entry", 1)) == 36


def test_a_failing_direction_that_no_sampled_entry_explains_is_reported_itself(moves):
    point = {"W": np.random.default_rng(2).normal(size=(20, 20)), "M": np.zeros((20, 20))}
    sampled = {i for i, _ in enumerate(np.ndindex(20, 20))}
    chosen = np.random.default_rng(tensor_check._SEED).choice(400, MAX_CHECKED_ENTRIES, replace=False)
    unsampled = sorted(sampled - set(chosen.tolist()))[0]
    point["M"].flat[unsampled] = 1.0  # one wrong entry the entry-by-entry sample does not look at
    report = _wrong("W: 20x20; M: 20x20; G = 2*W + M; L = sum(W*W)", {"W": "G"}, point)
    assert report.status == "failed"
    assert all(reason.startswith("∂/∂W along random direction ") for reason in report.reasons[: report.failures])
    assert moves.count(("entry", 1)) == MAX_CHECKED_ENTRIES


def test_a_wrong_gradient_of_a_tiny_input_is_not_hidden_by_a_large_one():
    rng = np.random.default_rng(3)
    point = {"W": rng.normal(size=(10, 10)), "V": rng.normal(size=(10, 10))}
    program = "W: 10x10; V: 10x10; G = 2*W; H = 3e-5*V; L = sum(W*W) + 1e-5*sum(V*V)"
    report = _wrong(program, {"W": "G", "V": "H"}, point)  # 3·10⁻⁵ V where 2·10⁻⁵ V is right
    assert report.status == "failed" and report.failures > 24
    assert all(reason.startswith("∂/∂V[") for reason in report.reasons[: report.failures])
    assert not any("∂/∂W" in reason for reason in report.reasons)


def test_a_small_input_is_checked_entry_by_entry(moves):
    assert symgraph.derive("x: 3; L = sum(x*x)").check().passed
    assert moves == [("entry", 1)] * 3


def test_the_entry_by_entry_check_samples_fewer_entries_to_stay_within_the_limit(monkeypatch, moves):
    point = {"W": np.random.default_rng(4).normal(size=(30, 30)), "M": np.full((30, 30), 0.5)}
    program = "W: 30x30; M: 30x30; G = W + M; L = sum(W @ W)"
    assert _wrong(program, {"W": "G"}, point).status == "failed"
    assert moves.count(("entry", 1)) == MAX_CHECKED_ENTRIES
    moves.clear()
    monkeypatch.setattr(limits, "LIMITS", limits.Limits(max_operations=2_000_000))
    assert _wrong(program, {"W": "G"}, point).status == "failed"
    assert 1 <= moves.count(("entry", 1)) < MAX_CHECKED_ENTRIES
