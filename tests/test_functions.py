"""The elementary functions and activations (symgraph.ops.elementary, symgraph.ops.activations).

References are independent of symgraph's NumPy: mpmath at 30 digits for values and its high-precision
numerical derivative (mpmath.diff) for derivatives, SymPy's own diff of the textbook formulas, and
hand-computed numbers at the kinks in each --relu-at-zero convention.
"""

from __future__ import annotations

import json

import mpmath
import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner

from symgraph import derive, ops
from symgraph.cli.commands import app
from symgraph.errors import ParseError
from symgraph.ops.activations import elu, gelu, gelu_tanh, hardtanh, leaky_relu, silu, softsign
from symgraph.output.formats import to_latex
from symgraph.teach.layers import Network
from symgraph.verify.scalarize import compare

mp = mpmath.MPContext()  # a context of our own: 30 digits here, SymPy's precision untouched
mp.dps = 30
_K = mp.sqrt(2 / mp.pi)


def _gelu_tanh(x):
    return x * (1 + mp.tanh(_K * (x + mp.mpf("0.044715") * x**3))) / 2


#: program → (its reference in mpmath, points: ordinary ones and the extremes where the function is a finite float)
FUNCTIONS = {
    "tan(x)": (mp.tan, [-1.2, -0.4, 0.3, 1.0, -1000.0, 1000.0]),
    "sinh(x)": (mp.sinh, [-3.0, -0.7, 0.3, 2.5, -700.0, 700.0]),
    "cosh(x)": (mp.cosh, [-3.0, -0.7, 0.3, 2.5, -700.0, 700.0]),
    "arctan(x)": (mp.atan, [-2.5, -0.7, 0.3, 1.9, -1000.0, 1000.0]),
    "arcsin(x)": (mp.asin, [-0.999, -0.7, 0.3, 0.9, 0.999]),
    "arccos(x)": (mp.acos, [-0.999, -0.7, 0.3, 0.9, 0.999]),
    "erf(x)": (mp.erf, [-2.5, -0.7, 0.3, 1.9, -1000.0, 1000.0]),
    "ln(x)": (mp.log, [0.001, 0.3, 1.9, 1000.0]),
    "log2(x)": (lambda x: mp.log(x, 2), [0.001, 0.3, 1.9, 1000.0]),
    "log10(x)": (mp.log10, [0.001, 0.3, 1.9, 1000.0]),
    "log(x, 3)": (lambda x: mp.log(x, 3), [0.001, 0.3, 1.9, 1000.0]),
    "gelu(x)": (lambda x: x * mp.ncdf(x), [-4.0, -0.7, 0.3, 1.9, -1000.0, 1000.0]),
    "gelu_tanh(x)": (_gelu_tanh, [-4.0, -0.7, 0.3, 1.9, -1000.0, 1000.0]),
    "silu(x)": (lambda x: x / (1 + mp.exp(-x)), [-6.0, -0.7, 0.3, 1.9, -1000.0, 1000.0]),
    "leaky_relu(x)": (lambda x: x if x > 0 else x / 100, [-2.5, -0.7, 0.3, 1.9, -1000.0, 1000.0]),
    "leaky_relu(x, 0.2)": (lambda x: x if x > 0 else x / 5, [-2.5, -0.7, 0.3, 1.9]),
    "elu(x)": (lambda x: x if x > 0 else mp.expm1(x), [-2.5, -0.7, 0.3, 1.9, -1000.0, 1000.0]),
    "elu(x, 0.5)": (lambda x: x if x > 0 else mp.expm1(x) / 2, [-2.5, -0.7, 0.3, 1.9, -1000.0, 1000.0]),
    "softsign(x)": (lambda x: x / (1 + abs(x)), [-2.5, -0.7, 0.3, 1.9, -1000.0, 1000.0]),
    "hardtanh(x)": (lambda x: max(-1, min(1, x)), [-2.5, -0.7, 0.3, 0.9, -1000.0, 1000.0]),
}

CASES = [(program, x) for program, (_, points) in FUNCTIONS.items() for x in points]


@pytest.mark.parametrize("program, x", CASES)
def test_value_and_derivative_against_mpmath(program, x):
    reference, _ = FUNCTIONS[program]
    d = derive(program, at={"x": x})
    value, slope = d.value(d.output), d.gradient_value("x")
    assert value == pytest.approx(float(reference(mp.mpf(x))), rel=1e-12, abs=1e-300)
    assert slope == pytest.approx(float(mp.diff(reference, mp.mpf(x))), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name", ["tan", "arctan", "erf", "gelu", "gelu_tanh", "silu", "leaky_relu", "elu", "softsign",
                                  "hardtanh"])
def test_stable_implementations_raise_no_floating_point_error_at_the_extremes(name):
    op = ops.get(name)
    u = np.array([-1000.0, -40.0, -0.0, 0.0, 40.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is the right answer
        value = op.numpy(u, *(float(d) for d in op.defaults))
    assert np.isfinite(value).all()


@pytest.mark.parametrize("program", [p for p in FUNCTIONS if "1000.0" in str(FUNCTIONS[p][1])])
def test_the_check_passes_at_random_points(program):
    report = derive(program).check()
    assert report.status == "passed", report.reasons


# --- the kinks, in every convention ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "program, x, slopes",
    [  # (relu′(0) = 0, ½, 1): PyTorch's gradient is the first
        ("leaky_relu(x, 0.2)", 0.0, (0.2, 0.6, 1.0)),
        ("leaky_relu(x)", 0.0, (0.01, 0.505, 1.0)),
        ("elu(x, 0.5)", 0.0, (0.5, 0.75, 1.0)),
        ("hardtanh(x)", 1.0, (0.0, 0.5, 1.0)),
        ("hardtanh(x)", -1.0, (0.0, 0.5, 1.0)),
    ],
)
def test_derivative_at_a_kink_follows_the_convention_and_the_check_says_so(program, x, slopes):
    name = program.split("(")[0]
    for at_zero, slope in zip((0.0, 0.5, 1.0), slopes):
        d = derive(program, at={"x": x}, relu_at_zero=at_zero)
        assert d.gradient_value("x") == pytest.approx(slope, rel=1e-14)
        report = d.check()
        assert report.status == "inconclusive"
        assert f"{name} has a kink at" in report.reasons[0] and "--relu-at-zero convention" in report.reasons[0]


def test_elu_with_slope_one_has_no_kink_but_a_computed_slope_may():
    assert derive("elu(x)", at={"x": 0.0}).check().status == "passed"
    assert derive("elu(x, 1)", at={"x": 0.0}).gradient_value("x") == 1.0
    report = derive("elu(x, a)", at={"x": 0.0, "a": 1.0}).check()
    assert report.status == "inconclusive" and "elu has a kink at 0" in report.reasons[0]


def test_kinks_are_declared():
    def where(name, *operands):
        return [(position, float(at)) for position, at, _ in ops.get(name).kinks([sp.Symbol("u"), *operands])]

    assert where("leaky_relu", sp.Rational(1, 100)) == [(0, 0.0)]
    assert where("hardtanh") == [(0, -1.0), (0, 1.0)]
    assert where("elu", sp.Integer(1)) == []
    assert where("elu", sp.Rational(1, 2)) == [(0, 0.0)]
    assert where("gelu") == []


def test_the_slope_is_an_operand_with_its_own_gradient():
    """PReLU: ∂ leaky_relu(x, a)/∂a = min(x, 0) and ∂ elu(x, a)/∂a = e^min(x, 0) − 1, by hand."""
    d = derive("leaky_relu(x, a) + elu(x, a)", at={"x": -0.8, "a": 0.3})
    assert d.gradient_value("a") == pytest.approx(-0.8 + np.expm1(-0.8), rel=1e-14)
    d = derive("leaky_relu(x, a) + elu(x, a)", at={"x": 2.0, "a": 0.3})
    assert d.gradient_value("a") == 0.0


# --- SymPy citizens ---------------------------------------------------------------------------------------------

x, a = sp.symbols("x a", real=True)
TEXTBOOK = {  # written here from the definitions, not from the registry
    gelu(x): x * (1 + sp.erf(x / sp.sqrt(2))) / 2,
    gelu_tanh(x): x * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (x + sp.Rational(44715, 10**6) * x**3))) / 2,
    silu(x): x * (1 / (1 + sp.exp(-x))),
    leaky_relu(x, a): sp.Piecewise((x, x > 0), (a * x, True)),
    elu(x, a): sp.Piecewise((x, x > 0), (a * (sp.exp(x) - 1), True)),
    softsign(x): x / (1 + sp.Abs(x)),
    hardtanh(x): sp.Piecewise((-1, x < -1), (1, x > 1), (x, True)),
}


@pytest.mark.parametrize("function", list(TEXTBOOK), ids=lambda f: f.func.__name__)
def test_sympy_diff_through_the_registry_equals_the_textbook_derivative(function):
    formula = TEXTBOOK[function]
    for point in (-2.3, -0.6, 0.4, 1.7):
        at = {x: point, a: 0.3}
        assert float(function.subs(at).evalf()) == pytest.approx(float(formula.subs(at).evalf()), rel=1e-13)
        for symbol in function.free_symbols:
            ours = sp.diff(function, symbol).subs(at)
            theirs = sp.diff(formula, symbol).subs(at)
            assert float(ours.evalf()) == pytest.approx(float(theirs.evalf()), rel=1e-12, abs=1e-15)


def test_latex_labels():
    assert sp.latex(gelu(x)) == r"\operatorname{gelu}\left(x\right)"
    assert sp.latex(leaky_relu(x, a)) == r"\operatorname{leaky\_relu}\left(x, a\right)"
    assert sp.latex(ops.elementary.log2(x)) == r"\log_2\left(x\right)"
    text = to_latex(derive("gelu(x, approximate='tanh') + log10(x) + atan(x)", at={"x": 0.5}))
    assert r"\operatorname{gelu}_{\tanh}" in text and r"\log_{10}" in text and r"\arctan" in text


# --- the language: aliases, optional arguments, bases ------------------------------------------------------------


def test_aliases_are_the_same_ops():
    ours = derive("ln(x) + atan(x) + asin(x/2) + acos(x/3) + swish(x)").gradient["x"]
    assert ours == derive("log(x) + arctan(x) + arcsin(x/2) + arccos(x/3) + silu(x)").gradient["x"]


def test_gelu_spellings():
    assert derive('gelu(x, approximate="tanh")').gradient["x"] == derive("gelu_tanh(x)").gradient["x"]
    assert derive('gelu(x, approximate="none")').gradient["x"] == derive("gelu(x)").gradient["x"]
    assert derive("gelu(x)", at={"x": 0.8}).gradient_value("x") != derive("gelu_tanh(x)", at={"x": 0.8}).gradient_value("x")


def test_default_slopes_are_exact():
    assert str(derive("leaky_relu(x)").graph.expr(derive("leaky_relu(x)").output)) == "leaky_relu(x, 1/100)"
    assert str(derive("elu(x)").graph.expr(derive("elu(x)").output)) == "elu(x, 1)"


def test_log_to_a_base():
    assert derive("log(x, 2)").gradient["x"] == derive("log2(x)").gradient["x"]
    assert derive("log(x, 10)").gradient["x"] == derive("log10(x)").gradient["x"]
    d = derive("log(x, b)", at={"x": 5.0, "b": 3.0})  # ∂/∂b log x / log b = −log x / (b log² b)
    assert d.gradient_value("b") == pytest.approx(-np.log(5) / (3 * np.log(3) ** 2), rel=1e-14)
    assert derive("log(8, 2) * x", at={"x": 1.0}).gradient_value("x") == pytest.approx(3.0, rel=1e-15)


@pytest.mark.parametrize(
    "program, message",
    [
        ('gelu(x, approximate="fast")', 'approximate of gelu is "none" or "tanh"'),
        ("gelu(x, approximate=1)", 'approximate of gelu is "none" or "tanh"'),
        ('gelu(x, mode="tanh")', "gelu takes no keyword arguments"),
        ("leaky_relu(x, negative_slope=0.1)", "leaky_relu takes no keyword arguments"),
        ("leaky_relu(x, 1, 2)", "leaky_relu takes 1 or 2 arguments, got 3"),
        ("elu()", "elu takes 1 or 2 arguments, got 0"),
        ("tan(x, 2)", "tan takes 1 argument, got 2"),
        ("log(x, 2, 3)", r"log takes 1 or 2 arguments \(log\(x\) or log\(x, base\)\), got 3"),
        ("log(x, 1)", "the base of a logarithm must be positive and not 1"),
        ("log(x, -2)", "the base of a logarithm must be positive and not 1"),
        ("ln = 3; y = ln * x", "'ln' is a built-in name"),
        ("y = swish * x", "'swish' is a function"),
    ],
)
def test_refusals_say_what_to_write(program, message):
    with pytest.raises(ParseError, match=message):
        derive(program)


def test_a_domain_error_names_the_function():
    with pytest.raises(Exception, match="arcsin needs an argument in"):
        derive("arcsin(x)", at={"x": 2.0}).gradient_value("x")


# --- the command line ---------------------------------------------------------------------------------------------


def test_cli_json():
    args = ["derive", "gelu(x) + leaky_relu(x, 0.1) + log(x**2, 2)", "--at", "x=-0.5", "--format", "json"]
    result = CliRunner().invoke(app, args, prog_name="symgraph")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    slope = mp.diff(lambda t: t * mp.ncdf(t) + t / 10 + mp.log(t**2, 2), mp.mpf(-0.5))
    assert data["gradient"]["x"]["value"] == pytest.approx(float(slope), rel=1e-9)


def test_cli_refusal_is_one_error_line():
    result = CliRunner().invoke(app, ["derive", 'gelu(x, approximate="fast")'], prog_name="symgraph")
    assert result.exit_code == 2 and result.stderr.startswith("error: approximate of gelu is") and result.stderr.count("\n") == 1


# --- tensors: entry by entry --------------------------------------------------------------------------------------

TENSOR_PROGRAM = (
    "z = W @ x; h = gelu(z) + gelu_tanh(z) + silu(z) + leaky_relu(z, a) + elu(z, a) + softsign(z) + hardtanh(z); "
    "g = tan(z/4) + sinh(z) + cosh(z) + arctan(z) + arcsin(z/4) + arccos(z/4) + erf(z) + log2(1 + z**2) "
    "+ log10(2 + z) + ln(3 + z) + log(4 + z, 3); L = dot(v, h * g)"
)
TENSOR_AT = {"W": [[0.5, -0.3], [0.2, 0.8], [-0.7, 0.1]], "x": [1.2, -0.4], "v": [1.0, -2.0, 0.5], "a": 0.3}


def test_tensor_program_agrees_with_the_scalarised_program_and_with_finite_differences():
    d = derive(TENSOR_PROGRAM, at=TENSOR_AT)
    v = compare(d)
    for name, (matrix, scalar) in v.gradients.items():
        np.testing.assert_allclose(matrix, scalar, rtol=1e-10, atol=1e-12, err_msg=f"∂L/∂{name}")
    assert v.agrees(1e-10, 1e-12)
    assert d.check().status == "passed", d.check().reasons


def test_tensor_slope_gradient_is_summed_over_the_entries():
    z = np.array([-1.5, 0.4, -0.2])
    w = np.array([1.0, 2.0, -3.0])
    d = derive("L = dot(w, leaky_relu(z, a) + elu(z, a))", at={"z": z.tolist(), "w": w.tolist(), "a": 0.25})
    by_hand = np.sum(w * (np.minimum(z, 0) + np.expm1(np.minimum(z, 0))))
    assert d.gradient_value("a") == pytest.approx(by_hand, rel=1e-14)
    np.testing.assert_allclose(d.gradient_value("z"), w * np.where(z > 0, 2.0, 0.25 + 0.25 * np.exp(z)), rtol=1e-14)


def test_activations_with_a_default_slope_are_layer_activations():
    net = Network()
    net.dense("hidden", net.input("x", 3), 2, activation="leaky_relu")
    net.dense("out", "h", 2, activation="gelu", names={"W": "W2", "b": "b2", "z": "z2", "out": "y"})
    assert "h = leaky_relu(z)" in net.program and "y = gelu(z2)" in net.program
    assert derive(net.program + "\nL = sum(y)").check().status == "passed"
