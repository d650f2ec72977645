"""`symgraph params`: the shape and parameter table of a network written as PyTorch layers."""

from __future__ import annotations

import re

import click

from symgraph.errors import InputError
from symgraph.params.format import FORMATS, render
from symgraph.params.network import network

__all__ = ["params"]

HELP = """Shapes and parameter counts of SPEC, a network written as PyTorch layers.

\b
SPEC is nn.Sequential(...) or one layer per line, with or without 'nn.',
as pasted from code; it is read, never run. --input is one example,
channels first: CxHxW (4x84x84), CxL, LxD (a sequence), or a feature
count (784). Sizes may be letters, in --input (CxHxW, 3xHxW) and in
SPEC (Conv2d(C, K, 3), Linear(d, 4*d)): the table then shows formulas,
and --size C=3 (repeated, or C=3,H=32) puts numbers in beside them.
Four sizes NxCxHxW carry a batch size N, which is left out
of the shapes: no count depends on it. LSTM, GRU and RNN are counted
with one bias vector per gate, e.g. 4(h(d+h)+h) for an LSTM; PyTorch's
count, with b_ih and b_hh, is shown alongside.
\b
Examples:
  symgraph params "Conv2d(4, 32, 8, stride=4); ReLU(); Flatten(); Linear(12800, 18)" --input 4x84x84
  symgraph params "LSTM(64, 128)" --input 20x64 --format json
  symgraph params "Conv2d(C, K, 3); ReLU()" --input CxHxW --size C=3,K=16
  symgraph params -f model.txt --input 1x3x224x224 --format markdown
"""


@click.command(help=HELP)
@click.argument("spec", required=False)
@click.option("-f", "--file", "file", type=click.File("r", encoding="utf-8"), metavar="FILE",
              help="Read SPEC from FILE ('-' for standard input).")
@click.option("--input", "input_shape", required=True, metavar="SHAPE", help="Shape of one example, e.g. 4x84x84.")
@click.option("--size", "sizes", multiple=True, metavar="LETTER=N",
              help="A number for a size letter, e.g. --size C=3 (repeat it, or C=3,H=32).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
def params(spec, file, input_shape, sizes, fmt) -> None:
    click.echo(render(network(_spec_text(spec, file), input_shape, _sizes(sizes)), fmt), nl=False)


def _sizes(options: tuple[str, ...]) -> dict[str, int]:
    """('C=3', 'H=32,W=32') → {'C': 3, 'H': 32, 'W': 32}."""
    sizes: dict[str, int] = {}
    for item in (part.strip() for option in options for part in option.split(",")):
        name, _, value = (s.strip() for s in item.partition("="))
        if not re.fullmatch(r"[^\W\d]\w*", name) or not re.fullmatch(r"[0-9]{1,10}", value):
            raise InputError(f"--size {item}: write a letter and a whole number, e.g. --size C=3")
        if name in sizes:
            raise InputError(f"--size {name} is given twice")
        sizes[name] = int(value)
    return sizes


def _spec_text(spec: str | None, file) -> str:
    if spec is not None and file is not None:
        raise InputError("give SPEC either as an argument or with -f FILE, not both")
    if file is None:
        if spec is None:
            example = 'symgraph params "nn.Linear(784, 10)" --input 784'
            raise InputError(f"no SPEC given: write one, e.g. {example}, or use -f FILE")
        return spec
    try:
        return file.read()
    except UnicodeDecodeError as e:
        raise InputError(f"-f {file.name}: not UTF-8 text ({e.reason})") from None
