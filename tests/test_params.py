"""`symgraph params`: shapes and parameter counts of PyTorch layer text, checked against hand-worked tables."""

from __future__ import annotations

import json
import shlex

import pytest
from click.testing import CliRunner

from symgraph.cli.app import App
from symgraph.cli.params import params
from symgraph.errors import InputError, ParseError
from symgraph.params.format import to_dict, to_markdown, to_text
from symgraph.params.network import network
from symgraph.params.spec import LAYERS, parse_spec

DQN = """nn.Sequential(
    nn.Conv2d(4, 32, 8, stride=4), nn.ReLU(),
    nn.Conv2d(32, 64, 4, stride=2), nn.ReLU(),
    nn.Conv2d(64, 64, 3, stride=1), nn.ReLU(),
    nn.Flatten(),
    nn.Linear(3136, 512), nn.ReLU(),
    nn.Linear(512, 18),
)"""

DQN_TEXT = """\
Network  (input 4×84×84 → output 18; shapes per example, in PyTorch's order)

  #  layer                        output      weights  biases  parameters
  0  Conv2d(4, 32, 8, stride=4)   32×20×20      8,192      32       8,224
  1  ReLU()                       32×20×20          0       0           0
  2  Conv2d(32, 64, 4, stride=2)  64×9×9       32,768      64      32,832
  3  ReLU()                       64×9×9            0       0           0
  4  Conv2d(64, 64, 3, stride=1)  64×7×7       36,864      64      36,928
  5  ReLU()                       64×7×7            0       0           0
  6  Flatten()                    3136              0       0           0
  7  Linear(3136, 512)            512       1,605,632     512   1,606,144
  8  ReLU()                       512               0       0           0
  9  Linear(512, 18)              18            9,216      18       9,234
     total                                  1,692,672     690   1,693,362

Working
  0  Conv2d   H, W: ⌊(84 − 8)/4⌋ + 1 = 20;  32·4·8·8 + 32 = 8,224
  2  Conv2d   H, W: ⌊(20 − 4)/2⌋ + 1 = 9;  64·32·4·4 + 64 = 32,832
  4  Conv2d   H, W: 9 − 3 + 1 = 7;  64·64·3·3 + 64 = 36,928
  6  Flatten  64·7·7 = 3,136
  7  Linear   512·3136 + 512 = 1,606,144
  9  Linear   18·512 + 18 = 9,234

Total  1,693,362 parameters
"""


@pytest.fixture
def run():
    """The command inside the project's App group, so errors become one `error:` line."""
    group = App(commands=[params])

    def invoke(*args, input=None):
        return CliRunner().invoke(group, ["params", *args], input=input, prog_name="symgraph")

    return invoke


# --- P10: the DQN -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "index, kind, shape, weights, biases",
    [
        (0, "Conv2d", (32, 20, 20), 8_192, 32),
        (2, "Conv2d", (64, 9, 9), 32_768, 64),
        (4, "Conv2d", (64, 7, 7), 36_864, 64),
        (6, "Flatten", (3136,), 0, 0),
        (7, "Linear", (512,), 1_605_632, 512),
        (9, "Linear", (18,), 9_216, 18),
    ],
)
def test_dqn_rows(index, kind, shape, weights, biases):
    row = network(DQN, "4x84x84").rows[index]
    assert (row.call.layer.name, row.output_shape, row.count.weights, row.count.biases) == (kind, shape, weights, biases)


def test_dqn_printed_counts_and_total():
    net = network(DQN, "4x84x84")
    assert [r.params for r in net.rows if r.params] == [8_224, 32_832, 36_928, 1_606_144, 9_234]
    assert net.total == net.total_pytorch == 1_693_362


def test_dqn_golden_text_line_by_line(run):
    result = run(DQN, "--input", "4x84x84")
    assert result.exit_code == 0 and result.stderr == ""
    for got, want in zip(result.stdout.splitlines(), DQN_TEXT.splitlines(), strict=True):
        assert got == want


@pytest.mark.parametrize(
    "first, total",
    [
        ("Linear(28224, 3136)", 90_128_978),  # what the network really has
        ("Linear(28224, 3136, bias=False)", 90_125_842),  # P10's printed number: the 3,136 new biases left out
    ],
)
def test_dqn_with_one_linear_instead_of_the_convolutions(first, total):
    spec = f"Flatten()\n{first}\nReLU()\nLinear(3136, 512)\nReLU()\nLinear(512, 18)"
    net = network(spec, "4x84x84")
    assert net.rows[1].count.weights == 28_224 * 3_136
    assert net.total == total


def test_a_batch_dimension_is_reported_and_left_out():
    net = network(DQN, "1x4x84x84")
    assert (net.batch, net.input_shape, net.total) == (1, (4, 84, 84), 1_693_362)
    assert net.notes[0].startswith("The input's batch size 1 is left out")
    assert to_dict(net)["batch"] == 1 and to_dict(network(DQN, "4x84x84"))["batch"] is None


# --- recurrent layers: the textbook count and PyTorch's ----------------------------------------------------
@pytest.mark.parametrize("kind, gates", [("RNN", 1), ("GRU", 3), ("LSTM", 4)])
@pytest.mark.parametrize("d, h", [(1, 1), (3, 5), (64, 128), (300, 256)])
def test_recurrent_counts_follow_the_textbook_formula(kind, gates, d, h):
    net = network(f"nn.{kind}({d}, {h})", f"7x{d}")
    assert net.total == gates * (h * (d + h) + h)  # P15: 4(h(d + h) + h) for an LSTM
    assert net.total_pytorch == gates * (h * (d + h) + 2 * h)  # b_ih and b_hh
    assert net.output_shape == (7, h)


@pytest.mark.parametrize(
    "spec, shape, textbook, pytorch",
    [
        # PyTorch's shapes: layer 0 reads d, later layers read 2h (both directions); 8h biases per layer and direction.
        ("LSTM(300, 256, num_layers=2, bidirectional=True, batch_first=True)", (20, 512), 2_715_648, 2_719_744),
        ("GRU(8, 4, 3, bias=False)", (20, 4), 336, 336),
        ("RNN(10, 20, nonlinearity='relu')", (20, 20), 620, 640),
    ],
)
def test_stacked_bidirectional_and_biasless_recurrent_layers(spec, shape, textbook, pytorch):
    net = network(spec, f"20x{parse_spec(spec)[0].args['input_size']}")
    assert (net.output_shape, net.total, net.total_pytorch) == (shape, textbook, pytorch)


def test_lstm_output_names_both_conventions():
    text = to_text(network("nn.LSTM(64, 128)", "20x64"))
    assert "4·(h(d+h)+h) = 4·(128·(64+128)+128) = 98,816; PyTorch, with b_ih and b_hh: 4·(h(d+h)+2h) → 99,328" in text
    assert "Total  98,816 parameters, counting one bias vector per gate (the textbook count); " \
           "PyTorch's parameters() hold 99,328, since nn.LSTM keeps two (b_ih and b_hh)" in text


# --- every layer type: shape and count rules ----------------------------------------------------------------
ACTIVATIONS = ["ReLU()", "ReLU6(inplace=True)", "Tanh()", "Sigmoid()", "GELU(approximate='tanh')", "LeakyReLU(0.2)",
               "ELU(alpha=1.0)", "SiLU()", "Mish()", "Softplus(beta=2)", "Softmax(dim=-1)", "LogSoftmax(dim=1)",
               "Identity()", "Dropout(p=0.1)", "Dropout1d()", "Dropout2d(0.2)"]

SHAPES = [
    ("Conv1d(3, 16, 5)", "3x100", (16, 96), 256),
    ("Conv1d(3, 16, 5, padding='same')", "3x100", (16, 100), 256),
    ("Conv1d(16, 4, 3, dilation=2, groups=4)", "16x50", (4, 46), 52),
    ("Conv2d(3, 8, (3, 5), stride=(1, 2), padding=(1, 2))", "3x32x32", (8, 32, 16), 368),
    ("Conv2d(3, 8, kernel_size=[3, 3], padding=1)", "3x10x10", (8, 10, 10), 224),
    ("Conv2d(3, 8, 3, padding='valid', bias=False)", "3x10x10", (8, 8, 8), 216),
    ("MaxPool2d(2)", "16x13x15", (16, 6, 7), 0),
    ("MaxPool2d(2, ceil_mode=True)", "16x13x15", (16, 7, 8), 0),
    ("MaxPool2d(3, stride=2, padding=1)", "64x112x112", (64, 56, 56), 0),
    ("AvgPool2d(2, stride=1, padding=1)", "8x5x2", (8, 6, 3), 0),
    ("MaxPool1d(2)", "16x100", (16, 50), 0),
    ("AvgPool1d(3, stride=2)", "4x9", (4, 4), 0),
    ("AdaptiveAvgPool2d((2, 3))", "8x6x3", (8, 2, 3), 0),
    ("AdaptiveMaxPool2d(1)", "512x7x7", (512, 1, 1), 0),
    ("BatchNorm2d(8)", "8x6x3", (8, 6, 3), 16),
    ("BatchNorm1d(20, affine=False)", "20", (20,), 0),
    ("Flatten(start_dim=2)", "4x5x6", (4, 30), 0),
    ("Embedding(10000, 300)", "20", (20, 300), 3_000_000),
    ("Linear(10, 2, bias=False)", "20x10", (20, 2), 20),
    ("LSTM(64, 128)", "20x64", (20, 128), 98_816),
    ("GRU(10, 20)", "5x10", (5, 20), 1_860),
    ("RNN(10, 20)", "5x10", (5, 20), 620),
    *((activation, "7", (7,), 0) for activation in ACTIVATIONS),
]


@pytest.mark.parametrize("spec, input_shape, output, total", SHAPES)
def test_shape_and_count_rules(spec, input_shape, output, total):
    net = network(spec, input_shape)
    assert (net.output_shape, net.total) == (output, total)


def test_every_layer_type_has_a_row_in_the_shape_table():
    tested = {call.layer.name for spec, *_ in SHAPES for call in parse_spec(spec)}
    assert tested == set(LAYERS)


def test_working_shows_the_arithmetic():
    lines = to_text(network("Conv2d(3, 16, 5, padding=3)\nMaxPool2d(2, ceil_mode=True)", "3x11x13")).splitlines()
    assert "  0  Conv2d     H: 11 + 2·3 − 5 + 1 = 13; W: 13 + 2·3 − 5 + 1 = 15;  16·3·5·5 + 16 = 1,216" in lines
    assert "  1  MaxPool2d  H: ⌈(13 − 2)/2⌉ + 1 = 7; W: ⌈(15 − 2)/2⌉ + 1 = 8" in lines


# --- the ways people write a network ------------------------------------------------------------------------
DQN_LINES = ["Conv2d(4, 32, 8, stride=4)", "ReLU()", "Conv2d(32, 64, 4, stride=2)", "ReLU()", "Conv2d(64, 64, 3, stride=1)",
             "ReLU()", "Flatten()", "Linear(3136, 512)", "ReLU()", "Linear(512, 18)"]


@pytest.mark.parametrize(
    "spec",
    [
        DQN,
        "\n".join(DQN_LINES),
        "\n".join(f"nn.{line}" for line in DQN_LINES),
        "\n".join(f"torch.nn.{line}," for line in DQN_LINES),  # pasted from inside a Sequential
        "; ".join(DQN_LINES),
        f"Sequential({', '.join(DQN_LINES)})",
        "model = " + DQN.replace("nn.Conv2d(4, 32, 8, stride=4)", "nn.Conv2d(in_channels=4, out_channels=32, kernel_size=8, stride=4)"),
    ],
    ids=["Sequential", "lines", "lines with nn.", "torch.nn. with commas", "semicolons", "Sequential without nn.", "named"],
)
def test_every_form_gives_the_dqn_table(spec):
    net = network(spec, "4x84x84")
    assert [r.call.layer.name for r in net.rows] == [line.split("(")[0] for line in DQN_LINES]
    assert net.total == 1_693_362


def test_names_follow_pytorch():
    spec = "self.features = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Sequential(nn.ReLU()))\nnn.Flatten()\nfc = nn.Linear(8, 4)"
    assert [c.name for c in parse_spec(spec)] == ["features.0", "features.1.0", "1", "fc"]
    assert [c.name for c in parse_spec(DQN)] == [str(i) for i in range(10)]


def test_calls_are_shown_as_written_without_nn():
    assert parse_spec("nn.Conv2d(3, 8, kernel_size=(3, 3), padding='same', bias=False)")[0].text == \
        "Conv2d(3, 8, kernel_size=(3, 3), padding='same', bias=False)"


# --- formats ---------------------------------------------------------------------------------------------
def test_markdown_table():
    lines = to_markdown(network(DQN, "4x84x84")).splitlines()
    assert lines[2:4] == ["| # | layer | output | weights | biases | parameters |", "|---:|---|---|---:|---:|---:|"]
    assert "| 7 | `Linear(3136, 512)` | 512 | 1,605,632 | 512 | 1,606,144 |" in lines
    assert "| | **total** | | **1,692,672** | **690** | **1,693,362** |" in lines
    assert "**Total** 1,693,362 parameters" in lines


def test_json_output(run):
    result = run(DQN, "--input", "4x84x84", "--format", "json")
    assert result.exit_code == 0 and result.stderr == ""
    data = json.loads(result.stdout)
    assert data["input_shape"] == [4, 84, 84] and data["total"] == 1_693_362 and data["total_pytorch"] == 1_693_362
    first = data["layers"][0]
    assert {k: first[k] for k in ("name", "type", "output_shape", "weights", "biases")} == {
        "name": "0", "type": "Conv2d", "output_shape": [32, 20, 20], "weights": 8_192, "biases": 32}
    assert [layer["output_shape"] for layer in data["layers"]][-4:] == [[3136], [512], [512], [18]]
    assert run(DQN, "--input", "4x84x84", "--format", "json").stdout == result.stdout  # same bytes every run


def test_help_examples_run(run):
    examples = [line.strip() for line in params.help.splitlines() if line.strip().startswith("symgraph params")]
    assert len(examples) == 3
    for example in examples[:2]:  # the third reads a file
        result = run(*shlex.split(example)[2:])
        assert result.exit_code == 0 and result.stderr == "", example


def test_spec_from_a_file_and_from_stdin(run, tmp_path):
    path = tmp_path / "dqn.txt"
    path.write_text(DQN, encoding="utf-8")
    assert run("-f", str(path), "--input", "4x84x84").stdout == DQN_TEXT
    assert run("-f", "-", "--input", "4x84x84", input=DQN).stdout == DQN_TEXT


# --- errors: exit status 2, one line, no traceback ----------------------------------------------------------
ERRORS = [
    ([DQN.replace("Linear(3136, 512)", "Linear(3000, 512)"), "--input", "4x84x84"],
     "error: Linear(3000, 512) (layer 7) after Flatten: the flatten produces 3136 features (64×7×7); "
     "use Linear(3136, 512)\n"),
    (["Conv2d(3, 16, 3)\nConv2d(32, 64, 3)", "--input", "3x32x32"],
     "error: Conv2d(32, 64, 3) (layer 1) after Conv2d(3, 16, 3): the conv2d produces 16 channels (16×30×30); "
     "use Conv2d(16, 64, 3)\n"),
    (["Conv2d(3, 16, 5), Linear(576, 10)", "--input", "3x10x10"],
     "error: Linear(576, 10) (layer 1) after Conv2d(3, 16, 5): the conv2d produces 6 features in its last dimension "
     "(16×6×6); add Flatten() before it\n"),
    (["LSTM(32, 64)", "--input", "20x64"],
     "error: LSTM(32, 64) (layer 0) on the input: it has 64 features per step (20×64); use LSTM(64, 64)\n"),
    (["Conv2d(3, 16, 5)", "--input", "3x4x10"],
     "error: Conv2d(3, 16, 5) (layer 0): the kernel (5) is larger than the input (4) along H\n"),
    (["Conv2d(3, 16, 9, padding=2)", "--input", "3x4x4"], "error: Conv2d(3, 16, 9, padding=2) (layer 0): the kernel (9) "),
    (["Conv2d(3, 16, 3)", "--input", "784"], "error: Conv2d(3, 16, 3) (layer 0): needs a C×H×W input but gets 784\n"),
    (["Conv1d(3, 16, 5)", "--input", "1x3x100"], "error: Conv1d(3, 16, 5) (layer 0): needs a C×L input but gets 1×3×100; "
     "give the input shape of one example, without the batch size\n"),
    (["Conv2d(3, 16, 5, stride=2, padding='same')", "--input", "3x9x9"], "error: Conv2d(3, 16, 5, stride=2, padding='same')"),
    (["MaxPool2d(2, padding=2)", "--input", "3x8x8"], "error: MaxPool2d(2, padding=2) (layer 0): padding 2 is more than half"),
    (["Conv2d(3, 6, 3, groups=4)", "--input", "3x8x8"], "error: Conv2d(3, 6, 3, groups=4) (layer 0): groups=4 must divide"),
    (["Flatten(start_dim=0)", "--input", "3x8x8"], "error: Flatten(start_dim=0) (layer 0): start_dim=0, end_dim=-1 do not fit"),
    (["Linear(3, 4), Embedding(10, 3)", "--input", "3"], "error: Embedding(10, 3) (layer 1): Embedding reads token ids"),
    (["nn.Conv3d(1, 2, 3)", "--input", "1x4x4"], "error: unknown layer 'Conv3d' (did you mean Conv2d?); known layers: "),
    (["Linear(1, 2)\nFoo()", "--input", "1"], "error: unknown layer 'Foo'; known layers: "),
    (["__import__('os').system('id')", "--input", "4"],
     "error: attribute access is not allowed; write a layer as nn.Conv2d(...) or Conv2d(...) at column 1 "
     "('__import__('os').system')\n"),
    (["nn.Linear(__import__('os').system('id'), 3)", "--input", "4"], "error: a call is not allowed as an argument"),
    (["os.system('id')", "--input", "4"], "error: attribute access is not allowed"),
    (["nn.functional.relu()", "--input", "4"], "error: attribute access is not allowed"),
    (["exec('import os')", "--input", "4"], "error: unknown layer 'exec'"),
    (["import os", "--input", "4"], "error: import is not allowed"),
    (["class Net(nn.Module): pass", "--input", "4"], "error: a class definition is not allowed"),
    (["lambda: 0", "--input", "4"], "error: lambda is not a layer"),
    (["Sequential(*layers)", "--input", "4"], "error: Sequential takes layers"),
    (["Linear(n, 10)", "--input", "4"], "error: a name is not allowed as an argument"),
    (["Linear(2**10, 10)", "--input", "4"], "error: arithmetic is not allowed as an argument"),
    (["Linear(1000000000000, 10)", "--input", "4"], "error: numbers are limited to 1,000,000,000"),
    (["nn.ReLU", "--input", "4"], "error: a layer is called: add ()"),
    (["Linear(4, 3, foo=1)", "--input", "4"], "error: Linear argument 'foo' is not supported; supported: in_features, "),
    (["Linear(4, 3, in_features=4)", "--input", "4"], "error: Linear got 'in_features' twice"),
    (["Linear(4)", "--input", "4"], "error: Linear needs out_features"),
    (["Tanh(1)", "--input", "4"], "error: Tanh takes no arguments"),
    (["Linear(4, 3, bias=1)", "--input", "4"], "error: Linear bias=1: expected True or False at column 19 ('1')\n"),
    (["Conv2d(3, 8, (3, 3, 3))", "--input", "3x9x9"], "error: Conv2d kernel_size=(3, 3, 3): expected a tuple of 2"),
    (["Dropout(1.5)", "--input", "4"], "error: Dropout p=1.5: expected a number from 0 to 1"),
    (["Linear(4, 3", "--input", "4"], "error: syntax error: '(' was never closed"),
    (["fc = Linear(4, 3)\nfc = Linear(3, 2)", "--input", "4"], "error: 'fc' names two layers"),
    (["", "--input", "4"], "error: empty SPEC"),
    (["Linear(4, 3)"], "error: Missing option '--input'"),
    (["--input", "4"], "error: no SPEC given"),
    (["Linear(4, 3)", "-f", "-", "--input", "4"], "error: give SPEC either as an argument or with -f FILE, not both"),
    (["-f", "/nonexistent/spec", "--input", "4"], "error: Invalid value for '-f' / '--file'"),
    (["Linear(4, 3)", "--input", "4xx84"], "error: input shape '4xx84': write up to 4 sizes separated by 'x'"),
    (["Linear(4, 3)", "--input", "1x2x3x4x5"], "error: input shape '1x2x3x4x5': write up to 4 sizes"),
    (["Linear(4, 3)", "--input", "0x4"], "error: input shape '0x4': every size must be from 1 to 1,000,000,000\n"),
    (["Linear(4, 3)", "--input", "4", "--format", "latex"], "error: Invalid value for '--format'"),
]


@pytest.mark.parametrize("args, message", ERRORS)
def test_bad_input_is_one_error_line_with_exit_status_2(run, args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(message), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_multi_line_errors_name_the_line():
    with pytest.raises(ParseError, match=r"unknown layer 'Foo'.* \(line 3\) at column 5 \('Foo'\)$"):
        parse_spec("nn.Sequential(\n    nn.Linear(1, 2),\n    Foo(),\n)")


def test_library_errors_are_input_errors():
    with pytest.raises(InputError, match="after Flatten"):
        network("Flatten()\nLinear(10, 2)", "3x2x2")
    with pytest.raises(InputError, match="SPEC is text"):
        parse_spec(None)
