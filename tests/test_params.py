"""`symgraph params`: shapes and parameter counts of PyTorch layer text, checked against hand-worked tables."""

from __future__ import annotations

import json
import shlex

import pytest
import sympy
from click.testing import CliRunner

from symgraph.cli.app import App
from symgraph.cli.params import params
from symgraph.errors import InputError, ParseError
from symgraph.params.format import to_dict, to_markdown, to_text
from symgraph.params.network import network
from symgraph.params.sizes import letter
from symgraph.params.spec import BLOCKS, LAYERS, parse_spec

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
    ("LayerNorm(64)", "20x64", (20, 64), 128),  # γ and β
    ("LayerNorm((5, 6), elementwise_affine=False)", "4x5x6", (4, 5, 6), 0),
    ("LayerNorm([5, 6], bias=False)", "4x5x6", (4, 5, 6), 30),
    ("MultiheadAttention(512, 8)", "10x512", (10, 512), 4 * 512**2 + 4 * 512),  # 1,050,624
    ("MultiheadAttention(8, 2, bias=False, add_bias_kv=True)", "3x8", (3, 8), 4 * 64 + 2 * 8),
    ("MultiheadAttention(8, 2, kdim=4, vdim=6)", "3x8", (3, 8), 64 + 8 * 4 + 8 * 6 + 64 + 4 * 8),
    # PyTorch: self_attn 4d² + 4d, linear1 df + f, linear2 fd + d, norm1 and norm2 2d each
    ("TransformerEncoderLayer(512, 8)", "10x512", (10, 512), 3_152_384),
    ("TransformerEncoderLayer(512, 8, bias=False)", "10x512", (10, 512), 4 * 512**2 + 2 * 512 * 2048 + 2 * 512),
    ("TransformerEncoderLayer(d_model=64, nhead=4, dim_feedforward=256, activation='gelu')", "7x64", (7, 64),
     4 * 64**2 + 2 * 64 * 256 + 9 * 64 + 256),
    *((activation, "7", (7,), 0) for activation in ACTIVATIONS),
]


@pytest.mark.parametrize("spec, input_shape, output, total", SHAPES)
def test_shape_and_count_rules(spec, input_shape, output, total):
    net = network(spec, input_shape)
    assert (net.output_shape, net.total) == (output, total)


def test_every_layer_type_has_a_row_in_the_shape_table():
    tested = {call.layer.name for spec, *_ in SHAPES for call in parse_spec(spec)}
    assert tested == set(LAYERS)
    assert set(LAYERS).isdisjoint(BLOCKS)


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
    assert len(examples) == 4
    for example in examples[:3]:  # the last reads a file
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
    (["Linear(n, 10)", "--input", "4"], "error: Linear(n, 10) (layer 0) on the input: it has 4 features; use Linear(4, 10)\n"),
    (["Linear(_n, 10)", "--input", "4"], "error: a name is not allowed in a size; write a whole number or a letter"),
    (["Linear(2**10, 10)", "--input", "4"], "error: '**' is not allowed in a size; sizes are whole numbers and letters "
     "with + - * and // at column 8 ('2**10')\n"),
    (["Linear(d/2, 10)", "--input", "4"], "error: '/' is not allowed in a size"),
    (["Linear(d, 10, bias=b)", "--input", "d"], "error: Linear bias=b: expected True or False"),
    (["Linear(2.5*d, 10)", "--input", "d"], "error: a constant is not allowed in a size; write a whole number or a letter"),
    (["Linear(d//0, 10)", "--input", "d"], "error: division by zero"),
    (["Linear(" + "d+" * 30 + "d, 10)", "--input", "d"], "error: a size formula has more than 20 operators"),
    (["Linear(d, 3)", "--input", "d", "--size", "e=3"], "error: --size e: no size e in --input or SPEC (its letters are d)\n"),
    (["Linear(4, 3)", "--input", "4", "--size", "d=3"], "error: --size d: no size d in --input or SPEC (it has no letters)\n"),
    (["Linear(d, 3)", "--input", "d", "--size", "d=three"], "error: --size d=three: write a letter and a whole number, "
     "e.g. --size C=3\n"),
    (["Linear(d, 3)", "--input", "d", "--size", "d=3,d=4"], "error: --size d is given twice\n"),
    (["Linear(d, 3)", "--input", "d", "--size", "d=0"], "error: Linear in_features=0: expected a positive whole number or a letter at column 8 ('d')\n"),
    (["Linear(d, 3)", "--input", "d", "--size", "d=9999999999"], "error: --size d 9999999999: a size is a whole number"),
    # the input in the order of the exams' figures, H×W×C, where PyTorch reads C×H×W
    (["Conv2d(3, 16, 3)", "--input", "32x32x3"], "error: Conv2d(3, 16, 3) (layer 0) on the input: it has 32 channels "
     "(32×32×3); the input looks like H×W×C; symgraph uses PyTorch's C×H×W: --input 3x32x32\n"),
    (["Conv2d(4, 32, 8, stride=4)", "--input", "1x84x84x4"], "error: Conv2d(4, 32, 8, stride=4) (layer 0) on the input: "
     "it has 84 channels (84×84×4); the input looks like H×W×C; symgraph uses PyTorch's C×H×W: --input 1x4x84x84\n"),
    (["Conv2d(C, 1, 1)", "--input", "HxWxC"], "error: Conv2d(C, 1, 1) (layer 0) on the input: it has H channels (H×W×C); "
     "the input looks like H×W×C; symgraph uses PyTorch's C×H×W: --input CxHxW\n"),
    (["Conv1d(3, 8, 3)", "--input", "100x3"], "error: Conv1d(3, 8, 3) (layer 0) on the input: it has 100 channels (100×3); "
     "the input looks like L×C; symgraph uses PyTorch's C×L: --input 3x100\n"),
    (["BatchNorm2d(3)", "--input", "32x32x3"], "error: BatchNorm2d(3) (layer 0) on the input: it has 32 channels (32×32×3); "
     "the input looks like H×W×C"),
    # activation=None and Keras's spellings
    (["TransformerEncoderLayer(512, 8, activation=None)", "--input", "10x512"],
     "error: TransformerEncoderLayer activation=None: expected 'relu' (the default) or 'gelu': PyTorch's layer always "
     "has one; leave activation out for relu at column 44 ('None')\n"),
    (["Linear(784, 10, activation=None)", "--input", "784"], "error: PyTorch's Linear has no activation argument; "
     "for no activation write Linear(784, 10) at column 17 ('activation=None')\n"),
    (["Conv2d(3, 16, 3, padding=1, activation='relu')", "--input", "3x8x8"], "error: PyTorch's Conv2d has no activation "
     "argument; write the activation as a layer of its own: Conv2d(3, 16, 3, padding=1), ReLU() at column 29"),
    (["Linear(784, 10, activation='softmax')", "--input", "784"], "error: PyTorch's Linear has no activation argument; "
     "write the activation as a layer of its own: Linear(784, 10), Softmax(dim=-1)"),
    (["Dense(10, activation='relu')", "--input", "784"], "error: unknown layer 'Dense' (Keras's Dense(units) is PyTorch's "
     "Linear(in_features, out_features)); known layers: "),
    (["MultiHeadAttention(8, 2)", "--input", "3x8"], "error: unknown layer 'MultiHeadAttention' (PyTorch spells it "
     "MultiheadAttention(embed_dim, num_heads))"),
    # the transformer's layers and the blocks
    (["MultiheadAttention(512, 7)", "--input", "10x512"], "error: MultiheadAttention(512, 7) (layer 0): embed_dim 512 must "
     "be divisible by num_heads 7; PyTorch refuses it\n"),
    (["MultiheadAttention(64, 8)", "--input", "10x32"], "error: MultiheadAttention(64, 8) (layer 0) on the input: it has "
     "32 features per step (10×32); use MultiheadAttention(32, 8)\n"),
    (["MultiheadAttention(64, 8)", "--input", "64"], "error: MultiheadAttention(64, 8) (layer 0): needs a L×d input"),
    (["Linear(d, h), LayerNorm(d)", "--input", "d"], "error: LayerNorm(d) (layer 1) after Linear(d, h): the linear produces "
     "h features; use LayerNorm(h)\n"),
    (["LayerNorm((4, 5))", "--input", "3x5x4"], "error: LayerNorm((4, 5)) (layer 0): normalized_shape 4×5 must be the "
     "input's last dimensions, 5×4\n"),
    (["Residual(Linear(d, h))", "--input", "Lxd"], "error: Residual(…) (layer 0): its branch gives L×h but x + f(x) needs "
     "the input's shape L×d; end the branch with a layer back to L×d\n"),
    (["Residual()", "--input", "4"], "error: Residual takes the layers of its branch f in x + f(x), e.g. "
     "Residual(Linear(d, d), ReLU())"),
    (["Residual(Linear(4, 4), dim=1)", "--input", "4"], "error: Residual argument 'dim' is not supported; supported: none"),
    (["Concat(Linear(4, 4))", "--input", "4"], "error: Concat takes two or more branches side by side"),
    (["Concat(Linear(4, 4), 3)", "--input", "4"], "error: Concat takes layers, such as nn.ReLU(), one per argument"),
    (["Concat(Conv2d(C, 1, 1), MaxPool2d(3, padding=1))", "--input", "CxHxW"], "error: Concat(…) (layer 0): the "
     "branches give 1×H×W, C×(⌊(H − 1)/3⌋ + 1)×(⌊(W − 1)/3⌋ + 1); to concatenate along dim 1 they must agree in every "
     "other dimension\n"),
    (["Concat(Linear(d, h), Linear(d, k), dim=2)", "--input", "d"], "error: Concat(…, dim=2) (layer 0): the branches give "
     "h, k; a 1-dimensional example has no dim 2"),
    (["Conv2d(C, K, 3)", "--input", "CxHxW", "--size", "H=2"], "error: Conv2d(C, K, 3) (layer 0): the kernel (3) is larger "
     "than the input (H = 2) along H\n"),
    (["Conv2d(C, K, 3), MaxPool2d(2, ceil_mode=True)", "--input", "CxHxW"], "error: MaxPool2d(2, ceil_mode=True) (layer 1): "
     "with ceil_mode=True the size along H depends on the numbers: give them with --size\n"),
    (["Conv2d(3, K, 3)", "--input", "CxHxW"], "error: Conv2d(3, K, 3) (layer 0) on the input: it has C channels (C×H×W); "
     "use Conv2d(C, K, 3)\n"),
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


# --- sizes as letters: formulas, and numbers with --size ---------------------------------------------------
C, H, W, K, P, S, d, f, h = map(letter, "CHWKPSdfh")


def test_a_convolution_in_letters_gives_the_course_formulas():
    row = network("Conv2d(C, K, 3)", "CxHxW").rows[0]
    assert row.output_shape == (K, H - 2, W - 2)
    assert (row.count.weights, row.count.biases, row.params) == (9 * C * K, K, 9 * C * K + K)
    assert row.working == "H: H − 3 + 1 = H − 2; W: W − 3 + 1 = W − 2;  K·C·3·3 + K = 9·C·K + K"


@pytest.mark.parametrize("spec", ["Conv2d(C, K, k, stride=S, padding=P)", "MaxPool2d(k, stride=S, padding=P)"])
def test_the_sliding_window_formula_is_the_textbook_one_and_agrees_with_the_numbers(spec):
    """⌊(H + 2P − k)/S⌋ + 1 as a formula, and the same number as the integer table for each size put in."""
    k = letter("k")
    net = network(spec, "CxHxW")
    height = net.output_shape[1]
    assert sympy.simplify(height - (sympy.floor((H + 2 * P - k) / S) + 1)) == 0
    for sizes in ({"C": 3, "K": 8, "H": 32, "W": 20, "k": 3, "S": 1, "P": 1}, {"C": 1, "K": 2, "H": 84, "W": 84, "k": 8, "S": 4, "P": 0},
                  {"C": 2, "K": 5, "H": 13, "W": 7, "k": 3, "S": 2, "P": 1}):
        numeric = network(spec.replace("C, K, k", "{C}, {K}, {k}").replace("(k,", "({k},").replace("S,", "{S},")
                          .replace("=S", "={S}").replace("=P", "={P}").format(**sizes), "{C}x{H}x{W}".format(**sizes))
        substituted = network(spec, "CxHxW", {n: v for n, v in sizes.items() if n in net.letters}).numbers
        assert substituted.rows[0].output_shape == numeric.output_shape == (
            sizes["K"] if "Conv" in spec else sizes["C"], (sizes["H"] + 2 * sizes["P"] - sizes["k"]) // sizes["S"] + 1,
            (sizes["W"] + 2 * sizes["P"] - sizes["k"]) // sizes["S"] + 1)
        assert substituted.total == numeric.total == sympy.sympify(net.total).subs({letter(n): v for n, v in sizes.items()})


def test_dqn_in_letters_and_with_the_exam_numbers():
    spec = "Conv2d(C, 32, 8, stride=4), ReLU(), Conv2d(32, 64, 4, stride=2), ReLU(), Conv2d(64, 64, 3), ReLU(), Flatten()"
    net = network(spec, "CxHxW", {"C": 4, "H": 84, "W": 84})
    assert net.rows[0].params == 32 * C * 64 + 32 and net.numbers.rows[0].params == 8_224
    assert net.numbers.output_shape == (3136,) and net.numbers.total == 8_224 + 32_832 + 36_928


def test_exam_2023_01_25_problem_1_2_the_inception_block():
    """Every convolution has one output channel and a ReLU; stride 1, padding 0 unless stated (the 3×3 and 5×5
    keep H×W, so padding 1 and 2; the 3×3 max pooling too: stride 1, padding 1). The exam writes H×W×C; PyTorch's
    order is C×H×W, so its "H × W" is 1×H×W here and its "H × W × 4" is 4×H×W."""
    spec = """Concat(
        Sequential(Conv2d(C, 1, 1), ReLU()),
        Sequential(Conv2d(C, 1, 1), ReLU(), Conv2d(1, 1, 3, padding=1), ReLU()),
        Sequential(Conv2d(C, 1, 1), ReLU(), Conv2d(1, 1, 5, padding=2), ReLU()),
        Sequential(MaxPool2d(3, stride=1, padding=1), Conv2d(C, 1, 1), ReLU()),
    )"""
    rows = {r.call.name: r for r in network(spec, "CxHxW").rows}
    table = {  # the exam's table: element → (# param., dimension)
        "h1": ("0.0.0", C + 1, (1, H, W)),
        "h2": ("0.1.0", C + 1, (1, H, W)),
        "h2'": ("0.1.2", 3 * 3 + 1, (1, H, W)),
        "h3": ("0.2.0", C + 1, (1, H, W)),
        "h3'": ("0.2.2", 5 * 5 + 1, (1, H, W)),
        "h4": ("0.3.0", 0, (C, H, W)),
        "h4'": ("0.3.1", C + 1, (1, H, W)),
        "h": ("0", 0, (4, H, W)),
    }
    for element, (name, count, shape) in table.items():
        assert (rows[name].params, rows[name].output_shape) == (count, shape), element
    assert network(spec, "CxHxW").total == 4 * C + 40
    assert network(spec, "CxHxW", {"C": 2, "H": 3, "W": 3}).numbers.total == 48  # Problem 1.3's 3×3×2 input


def test_transformer_formulas_follow_pytorch():
    net = network("MultiheadAttention(d, h)\nLayerNorm(d)\nTransformerEncoderLayer(d, h, f)", "Lxd")
    assert [r.params for r in net.rows] == [4 * d**2 + 4 * d, 2 * d, 4 * d**2 + 2 * d * f + 9 * d + f]
    assert network("TransformerEncoderLayer(d, h, f, bias=False)", "Lxd").total == 4 * d**2 + 2 * d * f + 2 * d
    assert network("MultiheadAttention(d, h, bias=False)", "Lxd").total == 4 * d**2
    numbers = network("TransformerEncoderLayer(d, h)", "Lxd", {"d": 512, "h": 8, "L": 10}).numbers
    assert numbers.total == 3_152_384 and numbers.output_shape == (10, 512)


def test_a_pre_norm_block_written_out_counts_as_pytorchs_encoder_layer():
    """Two residual branches (LayerNorm, self-attention; LayerNorm, d → f → d) hold what TransformerEncoderLayer holds."""
    written = network("Residual(LayerNorm(d), MultiheadAttention(d, h))\n"
                      "Residual(LayerNorm(d), Linear(d, f), ReLU(), Linear(f, d))", "Lxd")
    assert sympy.expand(written.total - network("TransformerEncoderLayer(d, h, f)", "Lxd").total) == 0


def test_residual_branches():
    net = network("Residual(Linear(d, d), ReLU())\nResidual(LayerNorm(d), Linear(d, f), ReLU(), Linear(f, d))", "Lxd")
    assert [r.call.name for r in net.rows] == ["0.0", "0.1", "0", "1.0", "1.1", "1.2", "1.3", "1"]
    assert net.total == (d * d + d) + (2 * d) + (d * f + f) + (f * d + d)
    assert net.rows[2].output_shape == (letter("L"), d) and net.rows[2].working == "x + f(x): L×d"
    convolutional = network("Residual(Conv2d(64, 64, 3, padding=1), ReLU(), Conv2d(64, 64, 3, padding=1))", "64x8x8")
    assert convolutional.total == 2 * (64 * 64 * 9 + 64) and convolutional.output_shape == (64, 8, 8)


def test_concat_along_features_and_names():
    net = network("Concat(Linear(d, h), Sequential(Linear(d, f), Tanh()), dim=-1)\nLinear(h + f, 1)", "d")
    assert [r.call.name for r in net.rows] == ["0.0", "0.1.0", "0.1.1", "0", "1"]
    assert net.rows[3].output_shape == (h + f,) and net.output_shape == (1,)


def test_arithmetic_in_sizes():
    net = network("Linear(7*7*64, 512)\nLinear(512, 512//2)\nLinear(256, n - 1)", "3136", {"n": 11})
    assert [r.output_shape for r in net.rows] == [(512,), (256,), (letter("n") - 1,)]
    assert net.numbers.output_shape == (10,)


def test_given_sizes_make_a_number_and_a_letter_agree():
    assert network("Conv2d(3, K, 3)", "CxHxW", {"C": 3}).rows[0].params == 27 * K + K
    with pytest.raises(InputError, match=r"it has C channels .*; use Conv2d\(C, K, 3\)"):
        network("Conv2d(3, K, 3)", "CxHxW", {"C": 4})


SYMBOLIC_TEXT = """\
Network  (input C×H×W = 3×32×32 → output K×(H − 2)×(W − 2) = 16×30×30; shapes per example, in PyTorch's order)
Sizes  C = 3, H = 32, K = 16, W = 32

  #  layer            output                            weights  biases       parameters
  0  Conv2d(C, K, 3)  K×(H − 2)×(W − 2) = 16×30×30  9·C·K = 432  K = 16  9·C·K + K = 448
  1  ReLU()           K×(H − 2)×(W − 2) = 16×30×30            0       0                0
     total                                          9·C·K = 432  K = 16  9·C·K + K = 448

Working
  0  Conv2d  H: H − 3 + 1 = H − 2; W: W − 3 + 1 = W − 2;  K·C·3·3 + K = 9·C·K + K

Total  9·C·K + K = 448 parameters
"""


def test_cli_text_with_sizes(run):
    result = run("Conv2d(C, K, 3); ReLU()", "--input", "CxHxW", "--size", "C=3,K=16", "--size", "H=32", "--size", "W=32")
    assert result.exit_code == 0 and result.stderr == ""
    assert result.stdout == SYMBOLIC_TEXT
    assert network("Conv2d(3, 16, 3); ReLU()", "3x32x32").total == 448  # the same number from a table of numbers


def test_cli_markdown_with_sizes(run):
    lines = run("Conv2d(C, K, 3)", "--input", "CxHxW", "--size", "C=3", "--format", "markdown").stdout.splitlines()
    assert lines[2] == "**Sizes** C = 3"
    assert "| 0 | `Conv2d(C, K, 3)` | K×(H − 2)×(W − 2) | 9·C·K = 27·K | K | 9·C·K + K = 28·K |" in lines
    assert "**Total** 9·C·K + K = 28·K parameters" in lines


def test_cli_json_keeps_its_fields_and_adds_the_formulas(run):
    result = run("Conv2d(C, K, 3); ReLU(); Flatten(); Linear(K*(H-2)*(W-2), 10)", "--input", "CxHxW",
                 "--size", "C=3,K=16,H=32,W=32", "--format", "json")
    assert result.exit_code == 0 and result.stderr == ""
    data = json.loads(result.stdout)
    assert data["input_shape"] == [3, 32, 32] and data["total"] == 448 + 16 * 30 * 30 * 10 + 10
    first = data["layers"][0]
    assert {k: first[k] for k in ("name", "type", "output_shape", "weights", "biases")} == {
        "name": "0", "type": "Conv2d", "output_shape": [16, 30, 30], "weights": 432, "biases": 16}
    assert first["formula"]["output_shape"] == ["K", "H - 2", "W - 2"] and first["formula"]["params"] == "9*C*K + K"
    assert sympy.sympify(data["formula"]["total"]).subs({"C": 3, "K": 16, "H": 32, "W": 32}) == data["total"]
    assert data["letters"] == ["C", "H", "K", "W"] and data["size"] == {"C": 3, "H": 32, "K": 16, "W": 32}
    open_letters = json.loads(run("Linear(d, h)", "--input", "d", "--format", "json").stdout)
    assert open_letters["total"] == "d*h + h" and open_letters["layers"][0]["output_shape"] == ["h"]
    plain = json.loads(run("Linear(4, 2)", "--input", "4", "--format", "json").stdout)
    assert "formula" not in plain and plain["letters"] == [] and plain["size"] == {}
