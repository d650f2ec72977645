"""The commands: each parses options, calls the library and prints."""

from __future__ import annotations

import click

from symgraph import __version__
from symgraph.api import derive as derive_program
from symgraph.errors import CheckFailed, InputError
from symgraph.formats import FORMATS, render_format

from .app import App

__all__ = ["app"]

EXAMPLES = """
\b
Examples:
  symgraph derive "exp(x**2 + tanh(x))"
  symgraph derive "a = 3*x + sigmoid(x); b = x**2 - exp(-x); y = a*b" --at x=0.3 --format json
"""


@click.group(cls=App, help="Computation graphs and their derivatives, explained step by step.\n" + EXAMPLES)
@click.version_option(__version__, prog_name="symgraph")
def app() -> None:
    pass


def _read_program(program: str | None, file: str | None) -> str:
    if program is not None and file is not None:
        raise InputError("give the program either as an argument or with -f FILE, not both")
    if file is not None:
        try:
            with click.open_file(file, encoding="utf-8") as handle:
                return handle.read()
        except (OSError, UnicodeDecodeError) as e:
            raise InputError(f"-f {file}: cannot read it ({getattr(e, 'strerror', None) or e})") from None
    if program is None:
        raise InputError("no program given: write one, e.g. symgraph derive \"exp(x**2 + tanh(x))\", or use -f FILE")
    return program


def _parse_at(pairs: tuple[str, ...]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name or not value.strip():
            raise InputError(f"--at {pair}: write NAME=VALUE, e.g. --at x=0.5")
        if name in values:
            raise InputError(f"--at {name} is given twice")
        values[name] = value.strip()
    return values


@app.command(
    help="Differentiate PROGRAM: its graph, the local derivatives, the chain rule, the result and a numerical check.\n"
    + """
\b
PROGRAM is an expression or named assignments separated by ';' or newlines;
the last assignment is the output.
\b
Examples:
  symgraph derive "exp(x**2 + tanh(x))"
  symgraph derive "a = 3*x + sigmoid(x); b = x**2 - exp(-x); y = a*b" --at x=0.3
  symgraph derive "x**2*y + sin(y)" --order 2 --format markdown
"""
)
@click.argument("program", required=False)
@click.option("-f", "--file", "file", metavar="FILE", help="Read the program from FILE ('-' for standard input).")
@click.option("--wrt", multiple=True, metavar="NAME", help="Input to differentiate by (repeatable; default: all).")
@click.option("--at", "at", multiple=True, metavar="NAME=VALUE", help="Value of an input (repeatable).")
@click.option("--of", "of", metavar="NAME", help="Differentiate this assigned name instead of the last one.")
@click.option("--order", type=click.Choice(["1", "2"]), default="1", show_default=True, help="2: second derivatives too.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--check/--no-check", default=True, show_default=True, help="Compare with finite differences.")
@click.option(
    "--relu-at-zero", type=click.Choice(["0", "0.5", "1"]), default="0", show_default=True,
    help="Value of relu′(0) (the step at 0): 0 as in deep-learning frameworks, 0.5 as SymPy, 1 as 1(z ≥ 0).",
)
def derive(program, file, wrt, at, of, order, fmt, check, relu_at_zero) -> None:
    text = _read_program(program, file)
    derivation = derive_program(
        text, wrt=list(wrt) or None, at=_parse_at(at), order=int(order), of=of, relu_at_zero=float(relu_at_zero)
    )
    click.echo(render_format(derivation, fmt, include_check=check), nl=False)
    if check and derivation.check().status == "failed":
        raise CheckFailed("the symbolic derivative disagrees with finite differences: " + derivation.check().reasons[0])

