"""Messages that help, read as a user reads them: one `error:` line on stderr, exit status 2, the token and its
column, and the sentence that says what to type instead (symgraph.lang.hints)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner

from symgraph import derive, ops
from symgraph.cli.commands import app
from symgraph.errors import InputError
from symgraph.lang import hints
from symgraph.teach.layers import Network


def error_line(*args: str) -> str:
    """The one `error:` line the CLI prints for a refused input (exit 2, nothing on stdout, no traceback)."""
    result = CliRunner().invoke(app, list(args), prog_name="symgraph")
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def refused(program: str, *options: str) -> str:
    return error_line("derive", program, *options)


# --- unknown functions: the closest user-facing names ------------------------------------------------------


@pytest.mark.parametrize(
    "program, token, suggestion",
    [
        ("tahn(x)", "tahn", "did you mean tanh?"),  # a swap of two letters is one edit: tanh before tan
        ("Tanh(x)", "Tanh", "did you mean tanh?"),
        ("ReLU(z)", "ReLU", "did you mean relu?"),
        ("sigmod(x)", "sigmod", "did you mean sigmoid?"),
        ("sigma(x)", "sigma", "did you mean sigmoid?"),  # σ is sigmoid
        ("y = 2*x + softmx(x)", "softmx", "did you mean softmax?"),
        ("crossentropy(z, 1)", "crossentropy", "did you mean cross_entropy?"),
        ("avg_pool2d(x, 2)", "avg_pool2d", "did you mean avgpool2d?"),
    ],
)
def test_a_misspelt_function_gets_the_closest_name(program, token, suggestion):
    line = refused(program)
    column = program.index(token) + 1
    assert line == f"error: unknown function '{token}' at column {column} ('{token}'); {suggestion}"


def test_the_list_of_functions_is_the_user_facing_one():
    line = refused("foo(x)")
    listed = line.split("known functions: ", 1)[1].split(", ")
    assert listed == ops.user_functions()
    for internal in ("sum_to", "unslice", "max_mask", "min_mask", "conv2d_input_grad", "conv1d_kernel_grad",
                     "maxunpool2d", "upsample2d", "reduce_max", "onehot_at", "take", "slice"):
        assert internal not in listed
    assert {"tanh", "ln", "atan", "swish", "conv2d", "max", "onehot"} <= set(listed)  # with aliases


def test_internal_ops_are_never_suggested_and_stay_callable():
    """sum_t is nearest to the gradient op sum_to, which is not offered; sum_to itself still parses back."""
    assert "sum_to" not in refused("y = sum_t(x)") and "did you mean sum?" in refused("y = sum_t(x)")
    assert "max_mask" not in refused("max_mak(x)")
    d = derive("x: 2x3; L = sum(sum_to(x, 3))", at={"x": [[1, 2, 3], [4, 5, 6]]})
    assert d.value(d.output) == 21.0


@pytest.mark.parametrize(
    "program, hint",
    [
        ("reduce_max(x)", "write max(…)"),  # an op's internal name: as the language writes it
        ("conv2d_bias(x, K, b)", "write conv2d(…)"),
        ("add(x, y)", "write a + b"),
        ("take(x, 1)", "write X[k] (k = argmax(…))"),
    ],
)
def test_an_internal_op_name_says_how_it_is_written(program, hint):
    assert refused(program).endswith(f"; {hint}")


def test_a_variable_called_like_a_function_is_a_product_that_lost_its_star():
    assert refused("y = x(x + 1)").endswith(
        "('x'); 'x' is a variable and a program has no functions of its own; for a product write x*(…)")
    assert "for a product write f*(…)" in refused("f = x**2; y = f(3)")


@pytest.mark.parametrize(
    "program, token, hint",
    [
        ("torch.tanh(x)", "torch.tanh", "write tanh(…) without 'torch.'"),
        ("np.exp(-x)", "np.exp", "write exp(…) without 'np.'"),
        ("math.pi * x", "math.pi", "write pi"),
        ("np.e**x", "np.e", "write E"),
    ],
)
def test_library_prefixes(program, token, hint):
    assert refused(program) == f"error: attribute access is not allowed at column 1 ('{token}'); {hint}"


@pytest.mark.parametrize(
    "option, name, expected",
    [
        ("--wrt", "X", "error: --wrt X: not an input of the program; inputs: x, y, w1; did you mean x?"),
        ("--at", "W1=1", "error: --at W1: not an input of the program; inputs: x, y, w1; did you mean w1?"),
        ("--of", "los", "error: --of los: not an assigned name; assigned names: a, loss; did you mean loss?"),
    ],
)
def test_misspelt_option_names(option, name, expected):
    assert refused("a = tanh(x)*y*w1; loss = a*x", option, name) == expected


def test_no_guess_when_nothing_is_alike():
    assert refused("tanh(x)*y", "--wrt", "z") == "error: --wrt z: not an input of the program; inputs: x, y"


def test_closest_ranks_by_edits_then_length():
    assert hints.closest("tahn", ["tan", "tanh", "atan"]) == ["tanh"]
    assert hints.closest("xyz", ["tanh", "exp"]) == []
    assert hints.did_you_mean("lg", ["log", "ln"]) == "did you mean log?"  # ln is too unlike for difflib


# --- hints that match the mistake ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "program, expected",
    [
        ("f(x) = x**2",
         "error: 'f(x) = …' defines a function; a program names expressions instead at column 1 ('f(x)'); "
         "write f = x**2 (x stays an input), or x**2 alone"),
        ("y = 2; g(u, v) = u*v + 1",
         "error: 'g(u, v) = …' defines a function; a program names expressions instead at column 8 ('g(u, v)'); "
         "write g = u*v + 1 (u and v stay inputs), or u*v + 1 alone"),
        ("a = 1\nf(x) = tanh(x)",
         "error: 'f(x) = …' defines a function; a program names expressions instead on line 2 at column 1 ('f(x)'); "
         "write f = tanh(x) (x stays an input), or tanh(x) alone"),
        ("def f(x): return x**2",
         "error: a function definition (def) is not allowed in a program at column 1 ('def f(x): return x**2'); "
         "a program has no functions of its own: name the expression instead, f = x**2"),
    ],
)
def test_a_function_definition_says_what_to_write(program, expected):
    assert refused(program) == expected


def test_the_suggested_definition_is_a_program():
    d = derive("f = x**2", at={"x": 3})
    assert d.gradient["x"] == 2 * sp.Symbol("x")


@pytest.mark.parametrize(
    "program, hint",
    [
        ("lambda x: x**2", "name the expression instead, e.g. f = x**2"),
        ("x if x > 0 else 0", "for 'a if c else b' write where(c, a, b)"),
        ("if x > 0: y = x", "for a choice write where(c, a, b)"),
        ("x += 1", "assign a new name, e.g. y = x + 1"),
    ],
)
def test_other_python_has_its_spelling(program, hint):
    assert refused(program).endswith(f"; {hint}")


@pytest.mark.parametrize(
    "program, expected",
    [
        ("W @ x",
         "error: in the output: matrix product @ of shapes scalar and scalar: @ takes vectors and matrices; "
         "W and x are scalar because nothing gives them a shape: declare each in the program (e.g. W: 3x2) "
         "or give each a tensor value (--at W='[[…]]')"),
        ("W: 3x2; z = W @ x + b; L = sum(z)",
         "error: in z: matrix product @ of shapes 3×2 and scalar: @ takes vectors and matrices; x is scalar "
         "because nothing gives it a shape: declare it in the program (e.g. x: 3) or give it a tensor value "
         "(--at x='[…]')"),
        ("L = sum(softmax(z))",
         "error: in L: softmax works over the last axis of a vector or a matrix, not shape scalar; z is scalar "
         "because nothing gives it a shape: declare it in the program (e.g. z: 3) or give it a tensor value "
         "(--at z='[…]')"),
    ],
)
def test_a_tensor_op_on_an_undeclared_name_says_how_to_declare_it(program, expected):
    assert refused(program) == expected


def test_the_suggested_declaration_works():
    d = derive("W: 3x2; x: 2; z = W @ x; L = sum(z)", at={"W": np.ones((3, 2)), "x": [1.0, 2.0]})
    assert np.allclose(d.gradient_value("x"), [3.0, 3.0])


def test_a_declared_or_valued_name_gets_no_declaration_hint():
    line = refused("W: 3x2; x: 3; y = W @ x")
    assert "inner sizes" in line and "nothing gives" not in line
    assert "nothing gives" not in refused("W @ x", "--at", "W=[[1, 2], [3, 4]]", "--at", "x=[1, 2, 3]")


@pytest.mark.parametrize(
    "program, hint",
    [
        ("x: 32x32x3; K: 8x3x3x3; L = sum(conv2d(x, K))",
         "x has 32 channels but K expects 3 (x is 32×32×3, K is 8×3×3×3); x looks like H×W×C (channels last); "
         "symgraph uses PyTorch's C×H×W: give x as 3×32×32 (np.moveaxis(x, -1, 0) moves a value's channels first)"),
        ("x: 5x5x3; K: 3x3; L = sum(conv2d(x, K))",
         "x is C×H×W (5×5×3), so K must be O×C×kh×kw, not 3×3; x looks like H×W×C (channels last); symgraph uses "
         "PyTorch's C×H×W: give x as 3×5×5 and K as O×C×kh×kw, e.g. 1×3×3×3"),
        ("x: 10x3; w: 2x3x2; L = sum(conv1d(x, w))", "x looks like L×C (channels last); symgraph uses PyTorch's C×L: "
         "give x as 3×10"),
    ],
)
def test_channels_last_is_named(program, hint):
    assert hint in refused(program)


def test_channels_first_mismatch_has_no_layout_hint():
    assert "channels last" not in refused("x: 3x5x5; K: 8x4x3x3; L = sum(conv2d(x, K))")


def test_channels_last_advice_gives_the_right_convolution():
    """np.moveaxis(x, -1, 0), as the hint says, makes the H×W×C picture the C×H×W input of the same convolution."""
    rng = np.random.default_rng(0)
    picture, K = rng.normal(size=(4, 4, 3)), rng.normal(size=(2, 3, 2, 2))
    d = derive("y = sum(conv2d(x, K))", at={"x": np.moveaxis(picture, -1, 0), "K": K})
    by_hand = sum(np.sum(picture[i : i + 2, j : j + 2, :].transpose(2, 0, 1) * K[o])
                  for o in range(2) for i in range(3) for j in range(3))
    assert d.value(d.output) == pytest.approx(by_hand)


@pytest.mark.parametrize(
    "program, expected",
    [
        ("onehot(7, 3)",
         "error: onehot(7, 3) has 3 entries and no index 7 at column 1 ('onehot(7, 3)'); onehot(k, n) is n entries "
         "with the 1 at index k, as PyTorch's one_hot; for 7 entries with the 1 at index 3 write onehot(3, 7)"),
        ("onehot(3, 3)",
         "error: onehot(3, 3) has 3 entries and no index 3 at column 1 ('onehot(3, 3)'); onehot(k, n) is n entries "
         "with the 1 at index k, as PyTorch's one_hot; indices count from 0"),
        ("z: 3; e = onehot(3, argmax(z))",
         "error: a computed index comes first in onehot at column 21 ('argmax(z)'); write onehot(argmax(z), 3)"),
    ],
)
def test_onehot_arguments_swapped(program, expected):
    assert refused(program) == expected


def test_the_suggested_onehot_is_e3_of_seven():
    d = derive("e = onehot(3, 7); L = sum(e * x)", at={"x": np.arange(7.0)})
    assert d.value(d.output) == 3.0


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("RNN(10, 20, activation=None)",
         "error: PyTorch's RNN has no activation argument; its nonlinearity is nonlinearity='tanh' (the default) or "
         "'relu', and it always has one: write RNN(10, 20) at column 13 ('activation=None')"),
        ("RNN(10, 20, activation='relu')",
         "error: PyTorch's RNN has no activation argument; its nonlinearity is nonlinearity='tanh' (the default) or "
         "'relu', and it always has one: write RNN(10, 20, nonlinearity='relu') at column 13 ('activation='relu'')"),
    ],
)
def test_pytorch_rnn_activation_points_to_nonlinearity(spec, expected):
    assert error_line("params", spec, "--input", "5x10") == expected


def test_network_rnn_without_activation_is_linear():
    net = Network()
    x = net.input("x", 3)
    net.rnn("rnn", [x, x], 2, activation=None)
    assert "h2 = W_hh @ h1 + W_hx @ x + b_h" in net.program
    d = net.derive()
    assert d.check().status == "passed"
    W_hh, W_hx, b, x_value = (np.asarray(d.at[n], dtype=float) for n in ("W_hh", "W_hx", "b_h", "x"))
    h1 = W_hx @ x_value + b
    assert np.allclose(d.value(d.graph.names["h2"]), W_hh @ h1 + W_hx @ x_value + b)


def test_network_activation_misspelt():
    with pytest.raises(InputError, match=r"^activation 'tahn': did you mean tanh\?$"):
        net = Network()
        net.dense("layer1", net.input("x", 3), 4, activation="tahn")


# --- inf and nan; exact powers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "program, expected",
    [
        ("inf * x",
         "error: 'inf' (infinity) is not a value symgraph computes with at column 1 ('inf'); every value is finite: "
         "write a large number such as 1e6, or give a variable named inf a value (--at inf=…)"),
        ("y = x + NaN",
         "error: 'NaN' (not a number) is not a value symgraph computes with at column 9 ('NaN'); give a variable "
         "named NaN a value (--at NaN=…)"),
        ("1e400 * x", "error: number is too large for a floating-point number (at most about 1.8e308) at column 1 ('1e400')"),
    ],
)
def test_inf_and_nan_are_refused(program, expected):
    assert refused(program) == expected


def test_inf_made_the_programs_own_is_a_variable():
    d = derive("y = inf * x", at={"inf": 2.0, "x": 3.0})
    assert d.gradient_value("x") == 2.0
    d = derive("inf = 2*x; y = inf**2", at={"x": 1.5})
    assert d.gradient_value("x") == pytest.approx(8 * 1.5)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("inf", "error: --at x: inf: the value must be finite"),
        ("1,2", "error: --at x: 1,2 is not a number or JSON list (write a vector in brackets: [1,2])"),
        ("(1, 2)", "error: --at x: (1, 2) is not a number or JSON list (write a vector in brackets: [1, 2])"),
        ("[1 2]", "error: --at x: [1 2] is not a number or JSON list (separate the entries with commas, e.g. [1, 2])"),
        ("1/2", "error: --at x: 1/2 is not a number or JSON list (write a fraction as a decimal, e.g. 0.5)"),
    ],
)
def test_values_say_how_to_write_them(value, expected):
    assert refused("x*y", "--at", f"x={value}") == expected


def test_two_to_the_630_is_an_exact_integer():
    """190 digits, well inside the 300-digit limit; 2**999 (301 digits) is still refused."""
    result = CliRunner().invoke(app, ["derive", "y = 2**630 * x", "--format", "json"], prog_name="symgraph")
    assert result.exit_code == 0, result.output
    assert str(2**630) in result.stdout
    d = derive("y = 2**630 * x")
    assert d.gradient["x"] == sp.Integer(2) ** 630 and len(str(2**630)) == 190
    assert refused("2**999 * x") == "error: constant '2**999' would have about 301 digits; the limit is 300"
    assert derive("y = 0.5**900 * x").gradient["x"] == sp.Rational(1, 2**900)


def test_every_refusal_here_is_one_line_without_internal_names():
    """No message offers an internal op (words that are not functions of the language)."""
    for program in ("tahn(x)", "foo(x)", "sum_t(x)", "unslic(x)", "conv2d_input(x)"):
        line = refused(program)
        offered = set(re.findall(r"\w+", line.split(";", 1)[1]))
        assert not offered & {n for n in ops.FUNCTIONS if ops.get(n).internal}


def test_onehot_of_a_loop_variable_is_an_integer_onehot():
    d = derive("x: 4\nL = 0\nfor t in range(2):\n    L = L + sum(onehot(t, 4) * x)", at={"x": [5.0, 6.0, 7.0, 8.0]})
    assert d.value(d.output) == 11.0 and np.allclose(d.gradient_value("x"), [1, 1, 0, 0])
