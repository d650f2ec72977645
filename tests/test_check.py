"""The numerical check: honest verdicts — passed, failed, or inconclusive with the reason."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from symgraph import derive, ops
from symgraph.output.formats import MAX_LISTED_REASONS, to_markdown, to_text
from symgraph.verify.check import ERROR_FLOOR, CheckReport, ErrorFigure, merge


def test_smooth_function_passes_at_random_points():
    report = derive("exp(x**2 + tanh(x))").check()
    assert report.status == "passed" and report.passed is True
    assert len(report.points) == 3
    assert report.max_rel_error < 1e-8


def test_random_points_stay_inside_the_domain():
    report = derive("log(x) + sqrt(x)").check()
    assert report.status == "passed"
    assert all(p["x"] > 0 for p in report.points)


def test_check_runs_at_the_given_point():
    report = derive("sin(x)*y", at={"x": 0.3, "y": 2}).check()
    assert report.points == [{"x": 0.3, "y": 2.0}]


def test_a_wrong_derivative_fails(monkeypatch):
    tanh = ops.OPS["tanh"]
    wrong = dataclasses.replace(tanh, partials=lambda a, y: (1 - y,))  # the distractor tanh(1 − tanh)-style slip
    monkeypatch.setitem(ops.OPS, "tanh", wrong)
    report = derive("tanh(x)").check()
    assert report.status == "failed" and report.passed is False
    assert "finite differences give" in report.reasons[0]
    assert report.reasons[0].endswith("(error 1.9, tolerance 1.9·10⁻⁶)")  # 2 digits: the tolerance holds noise


def test_kink_is_reported_with_the_convention():
    report = derive("relu(x)", at={"x": 0}).check()
    assert report.status == "inconclusive" and report.passed is None
    assert "relu has a kink at 0" in report.reasons[0] and "relu′(0) = 0" in report.reasons[0]
    report = derive("relu(x)", at={"x": 0}, relu_at_zero=1).check()
    assert "relu′(0) = 1" in report.reasons[0]


def test_near_a_kink_is_reported_too():
    report = derive("abs(x)", at={"x": 1e-9}).check()
    assert report.status == "inconclusive" and "abs has a kink" in report.reasons[0]


def test_vanishing_gradient_is_inconclusive_not_passed():
    report = derive("exp(-x**2)", at={"x": 10}).check()
    assert report.status == "inconclusive"
    assert report.reasons[0] == "∂/∂x at x = 10: the derivative is too small here for finite differences to resolve"


@pytest.mark.parametrize("program, point", [("exp(10*x)", 2.0), ("1/x", 0.001), ("x**7", 30.0), ("tanh(50*x)", 0.01)])
def test_steep_functions_do_not_false_fail(program, point):
    report = derive(program, at={"x": point}).check()
    assert report.status in ("passed", "inconclusive"), report.reasons


def test_second_order_is_checked_against_differences_of_the_gradient():
    report = derive("x**3*y + exp(x*y)", order=2).check()
    assert report.status == "passed"


def test_nowhere_defined_program_is_inconclusive():
    report = derive("log(-x**2 - 1)").check()
    assert report.status == "inconclusive" and "no point" in report.reasons[0]


@pytest.mark.parametrize("logits", [(1000.0, 0.0, -1000.0), (-1000.0, 0.0, 1000.0), (0.0, 0.0, 0.0), (1000.0, 1000.0, 1000.0)])
def test_softmax_and_cross_entropy_are_finite_at_the_extremes(logits):
    """Written with logsumexp, a softmax probability and a cross-entropy never overflow."""
    at = dict(zip("abc", logits))
    softmax = derive("p = exp(a - logsumexp(a, b, c))", at=at)
    shifted = np.array(logits) - max(logits)
    expected = np.exp(shifted[0]) / np.exp(shifted).sum()
    assert softmax.value(softmax.output) == pytest.approx(expected, rel=1e-12, abs=1e-300)
    grads = [softmax.value(softmax.gradients.of(softmax.wrt[n])) for n in "abc"]
    assert np.isfinite(grads).all()
    loss = derive("L = logsumexp(a, b, c) - a", at=at)
    assert np.isfinite(loss.value(loss.output))
    # ∂L/∂z = p − e_y (P15): the gradient is the softmax minus the one-hot label.
    probabilities = np.exp(shifted) / np.exp(shifted).sum()
    gradient = [loss.value(loss.gradients.of(loss.wrt[n])) for n in "abc"]
    assert gradient == pytest.approx(probabilities - np.array([1.0, 0.0, 0.0]), abs=1e-12)
    assert loss.check().status in ("passed", "inconclusive")
    assert loss.check().status != "failed"


def test_log_of_sigmoid_underflows_but_logsigmoid_does_not():
    import symgraph

    with pytest.raises(symgraph.EvaluationError, match="log needs a positive argument"):
        derive("log(sigmoid(x))", at={"x": -1000})
    d = derive("logsigmoid(x)", at={"x": -1000})
    assert d.value(d.output) == -1000 and d.value(d.gradients.of(d.wrt["x"])) == 1


@pytest.mark.parametrize(
    "program, point, allowed",
    [
        ("1/x", 1e-6, {"passed"}),  # the step shrinks with x: no differencing across the pole
        ("x**-2", 1e-7, {"passed", "inconclusive"}),
        ("1/(x - 1)", 1.000001, {"inconclusive"}),  # the pole lies inside the step
        ("sin(x)", 1e10, {"passed"}),  # differenced over the steps x really takes (whole units of its last place)
        ("log(x)", 1e-6, {"passed", "inconclusive"}),
    ],
)
def test_poles_and_extreme_points_are_never_false_failures(program, point, allowed):
    report = derive(program, at={"x": point}).check()
    assert report.status in allowed, report.reasons
    assert report.max_abs_error is None or np.isfinite(report.max_abs_error)


def test_errors_in_json_are_numbers_or_null():
    import json

    from symgraph.output.formats import to_json

    data = json.loads(to_json(derive("log(x)", at={"x": 1e-6})), parse_constant=lambda c: pytest.fail(c))
    assert data["check"]["max_abs_error"] is None or np.isfinite(data["check"]["max_abs_error"])


def test_a_point_of_many_inputs_is_named_by_its_number_in_each_reason():
    names = [f"x{i}" for i in range(25)]
    d = derive(" + ".join(f"relu({n})" for n in names), at={n: 0 for n in names})
    report = d.check()
    assert report.status == "inconclusive" and len(report.reasons) == 1 and len(report.notes) == 25
    assert report.reasons[0].startswith("∂/∂x0, ∂/∂x1, ∂/∂x2, ∂/∂x3, ∂/∂x4, ∂/∂x5, ∂/∂x6, ∂/∂x7 and 17 more at point 1 "
                                        "(its 25 values: check.points[0]) (25 times): relu has a kink at 0")
    assert all(note.where == "point 1 (its 25 values: check.points[0])" for note in report.notes)
    assert report.points[0] == {n: 0.0 for n in names}
    few = derive("relu(a) + relu(b)", at={"a": 0, "b": 0}).check()
    assert few.reasons[0].startswith("∂/∂a, ∂/∂b at a = 0, b = 0 (2 times): relu has a kink")


def test_text_lists_the_first_reasons_and_counts_the_rest_json_lists_all(monkeypatch):
    """Distinct reasons (one failure each) beyond MAX_LISTED_REASONS are counted in text; JSON lists them all."""
    tanh = ops.OPS["tanh"]
    monkeypatch.setitem(ops.OPS, "tanh", dataclasses.replace(tanh, partials=lambda a, y: (1 - y,)))
    names = [f"x{i}" for i in range(MAX_LISTED_REASONS + 5)]
    d = derive(" + ".join(f"tanh({n})" for n in names), at={n: 0.1 * (i + 1) for i, n in enumerate(names)})
    for shown in (to_text(d), to_markdown(d)):
        assert sum("finite differences give" in line for line in shown.splitlines()) == MAX_LISTED_REASONS
        assert "… and 5 more (--format json lists every reason)" in shown
    assert len(json.loads(d.to_json())["check"]["reasons"]) == MAX_LISTED_REASONS + 5


def test_failures_are_listed_before_inconclusive_notes(monkeypatch):
    tanh = ops.OPS["tanh"]
    monkeypatch.setitem(ops.OPS, "tanh", dataclasses.replace(tanh, partials=lambda a, y: (1 - y,)))
    names = [f"x{i}" for i in range(MAX_LISTED_REASONS + 5)]
    d = derive(" + ".join(f"relu({n})" for n in names) + " + tanh(z)", at={**{n: 0 for n in names}, "z": 0.5})
    report = d.check()
    assert report.status == "failed" and report.failures == 1 and len(report.reasons) == 2  # the kinks: one line
    assert report.reasons[0].startswith("∂/∂z at point 1") and "finite differences give" in report.reasons[0]
    assert "relu has a kink" in report.reasons[1] and f"({len(names)} times)" in report.reasons[1]
    assert "finite differences give" in to_text(d)  # within the first MAX_LISTED_REASONS lines


def test_tensor_failures_come_first_too(monkeypatch):
    tanh = ops.OPS["tanh"]
    monkeypatch.setitem(ops.OPS, "tanh", dataclasses.replace(tanh, partials=lambda a, y: (1 - y,)))
    report = derive("y: 30\nz: 2\nL = sum(relu(y)) + sum(tanh(z))", at={"y": [0] * 30, "z": [0.5, 0.2]}).check()
    assert report.status == "failed" and report.failures == 2
    assert all(r.startswith("∂/∂z[") for r in report.reasons[:2]) and "relu has a kink" in report.reasons[2]


def test_a_kink_counts_only_for_the_inputs_that_move_it():
    report = derive("relu(y) + tanh(z)", at={"y": 0, "z": 0.5}).check()
    assert report.status == "inconclusive" and len(report.reasons) == 1
    assert report.reasons[0].startswith("∂/∂y at") and "relu has a kink" in report.reasons[0]
    assert report.max_rel_error is not None and report.max_rel_error < 1e-8  # ∂/∂z was judged, and passed


def test_an_error_below_the_floor_is_a_bound_that_rounding_cannot_change():
    """Two runs that differ only in rounding (x = 0.3 with and without NumPy's AVX-512 paths) report alike."""
    runs = [CheckReport([{"x": 0.3}], 1.41e-10, 1.05e-9, "passed", largest_derivative=0.1346),
            CheckReport([{"x": 0.3}], 1.61e-10, 1.20e-9, "passed", largest_derivative=0.1346)]
    assert {run.figures() for run in runs} == {(ErrorFigure(1.3e-8, 1.3e-8, True), ErrorFigure(1e-7, 1e-7, True))}
    assert {run.summary() for run in runs} == {
        "central differences (Richardson) at 1 point: max relative error < 10⁻⁷  ✓ passed"}
    assert ERROR_FLOOR == 1e-7


def test_an_error_above_the_floor_is_signal_in_two_digits():
    report = derive("x**-2", at={"x": 1e-7}).check()  # a step of 6% of x: truncation error, not rounding
    assert report.status == "passed" and report.max_rel_error > 5 * ERROR_FLOOR
    assert report.summary().endswith(": max abs error 1.3·10¹⁵, max relative error 6.3·10⁻⁷  ✓ passed")
    absolute, relative = report.figures()
    assert (absolute.value, absolute.bound, relative.value, relative.bound) == (1.3e15, False, 6.3e-7, False)


def test_the_absolute_floor_follows_the_largest_derivative():
    """∂/∂a = 100 agrees to 10⁻⁷ absolute (far below its floor, 10⁻⁵), ∂/∂b = 10⁻³ only to 3·10⁻⁶ of itself."""
    report = CheckReport([{"a": 1.0, "b": 1.0}], 1e-7, 3e-6, "passed", largest_derivative=100.0)
    assert report.summary().endswith(": max abs error < 10⁻⁵, max relative error 3·10⁻⁶  ✓ passed")
    rows = merge([report, CheckReport([{"a": 1.0, "b": 1.0}], 2e-7, 5e-8, "passed", largest_derivative=1e3)])
    assert rows.largest_derivative == 1e3 and rows.figures()[0] == ErrorFigure(1e-4, 1e-4, True)


def test_no_entry_judged_means_no_error_figures():
    d = derive("relu(x)", at={"x": 0})
    assert d.check().figures() is None and d.check().summary().endswith("at 1 point  ? inconclusive")
    check = json.loads(d.to_json())["check"]
    assert [check[key] for key in ("max_abs_error", "max_rel_error", "error_floor", "below_floor")] == [None] * 4


def test_rounding_of_a_large_intermediate_is_named_without_its_figure():
    """(x + 10⁸)·y − 10⁸·y passes through 10⁸: the slopes (10⁻³, 0.3) are below what its rounding resolves."""
    reason = derive("(x + 100000000)*y - 100000000*y", at={"x": 0.3, "y": 1e-3}).check().reasons
    assert reason == ["∂/∂x, ∂/∂y at x = 0.3, y = 0.001 (2 times): "
                      "the derivative is too small here for finite differences to resolve"]
