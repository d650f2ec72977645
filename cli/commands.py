"""The commands: each parses options, calls the library and prints."""

from __future__ import annotations

import json
import shutil
import sys

import click

from symgraph import __version__
from symgraph.api import derive as derive_program
from symgraph.errors import CheckFailed, InputError, LimitError
from symgraph.explain.printing import every_entry
from symgraph.lang import limits
from symgraph.notation import digits
from symgraph.output.formats import FORMATS, TEXT_WIDTH, render_format
from symgraph.output.stats import stats

from .app import CONTEXT, App
from .options import parse_at as _parse_at
from .options import parse_upstream as _parse_upstream

__all__ = ["app", "main"]

EXAMPLES = """
\b
Examples:
  symgraph derive "exp(x**2 + tanh(x))"
  symgraph derive "a = 3*x + sigmoid(x); b = x**2 - exp(-x); y = a*b" --at x=0.3 --format json
  symgraph render "a = 3*x + sigmoid(x); b = x**2 - exp(-x); y = a*b" --view backward --at x=0.5 -o g.svg
\b
Shell completion (bash; zsh_source or fish_source for those shells):
  eval "$(_SYMGRAPH_COMPLETE=bash_source symgraph)"
"""


#: The commands other than derive, imported only when invoked (or listed by --help and completion).
LAZY = {"render": "symgraph.cli.render:render", "params": "symgraph.cli.params:params",
        "compare": "symgraph.cli.compare:compare", "gallery": "symgraph.cli.gallery:gallery"}


@click.group(cls=App, lazy=LAZY, context_settings=CONTEXT, help="Computation graphs and their derivatives, explained step by step.\n" + EXAMPLES)
@click.version_option(__version__, prog_name="symgraph")
def app() -> None:
    pass


def _read_program(program: str | None, file: str | None) -> str:
    if program is not None and file is not None:
        raise InputError("give the program either as an argument or with -f FILE, not both")
    if file is not None:
        try:
            with click.open_file(file, encoding="utf-8") as handle:
                text = handle.read(limits.LIMITS.max_text_length + 1)  # an endless stream (/dev/zero) stops here
        except (OSError, UnicodeDecodeError) as e:
            raise InputError(f"-f {file}: cannot read it ({getattr(e, 'strerror', None) or e})") from None
        if len(text) > limits.LIMITS.max_text_length:
            raise LimitError(f"-f {file} is longer than the limit of {limits.LIMITS.max_text_length:,} characters")
        return text
    if program is None:
        raise InputError("no program given: write one, e.g. symgraph derive \"exp(x**2 + tanh(x))\", or use -f FILE")
    return program


def _program_options(command):
    """PROGRAM and the options that say what to differentiate: the same for derive and render."""
    options = [
        click.argument("program", required=False),
        click.option("-f", "--file", "file", metavar="FILE", help="Read the program from FILE ('-' for standard input)."),
        click.option("--wrt", multiple=True, metavar="NAME", help="Input to differentiate by (repeatable; default: all)."),
        click.option("--at", "at", multiple=True, metavar="NAME=VALUE", help="Value of an input (repeatable)."),
        click.option("--of", "of", metavar="NAME", help="Differentiate this assigned name instead of the last one."),
        click.option("--forward", is_flag=True, help="The forward pass only: every node's value, no derivative."),
        click.option("--upstream", "upstream", metavar="NAME=VALUE",
                     help="The backward pass from a given gradient ∂L/∂NAME (a vector-Jacobian product)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


_relu_option = click.option(
    "--relu-at-zero", type=click.Choice(["0", "0.5", "1"]), default="0", show_default=True,
    help="Value of relu′(0) (the step at 0): 0 as in deep-learning frameworks, 0.5 as SymPy, 1 as 1(z ≥ 0).",
)


def _derive(program, file, wrt, at, of, forward, upstream, relu_at_zero, order=1, sgd=None, weight_decay="0"):
    return derive_program(
        _read_program(program, file), wrt=list(wrt) or None, at=_parse_at(at), order=order, of=of,
        relu_at_zero=float(relu_at_zero), forward=forward, upstream=_parse_upstream(upstream), sgd=sgd,
        weight_decay=weight_decay,
    )


def _text_width() -> int:
    """The terminal's width on a terminal (at least 60), else the width of files."""
    if sys.stdout.isatty():
        return max(60, shutil.get_terminal_size((TEXT_WIDTH, 24)).columns)
    return TEXT_WIDTH


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
@_program_options
@click.option("--order", type=click.Choice(["1", "2"]), default="1", show_default=True, help="2: second derivatives too.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--check/--no-check", default=True, show_default=True, help="Compare with finite differences.")
@_relu_option
@click.option("--render", "picture", metavar="FILE", help="Also draw the backward pass to FILE (.svg, .png, .pdf, .dot).")
@click.option("--stats", "show_stats", is_flag=True, help="Also print graph and tree sizes and the time of each stage.")
@click.option("--digits", "shown_digits", type=click.IntRange(1, 17), default=6, show_default=True,
              help="Significant digits of the numbers shown (whole numbers are always written in full; JSON keeps all).")
@click.option("--standalone", is_flag=True, help="With --format latex: a whole document (preamble and all), ready for pdflatex.")
@click.option("--all-entries", "all_entries", is_flag=True, help="Write every entry of large tensors (default: elide the middle).")
@click.option("--sgd", "sgd", metavar="LR", help="Also take one gradient-descent step w ← w − LR·∂L/∂w (needs --at).")
@click.option("--weight-decay", "weight_decay", metavar="λ", default="0", help="L2 weight decay of the --sgd step: w ← w − LR·(∂L/∂w + λw).")
def derive(program, file, wrt, at, of, forward, upstream, order, fmt, check, relu_at_zero, picture, show_stats,
           shown_digits, standalone, all_entries, sgd, weight_decay) -> None:
    if standalone and fmt != "latex":
        raise InputError("--standalone makes a LaTeX document: give it with --format latex")
    with digits(shown_digits), every_entry(all_entries):
        _derive_and_print(program, file, wrt, at, of, forward, upstream, order, fmt, check, relu_at_zero, picture,
                          show_stats, sgd, weight_decay, standalone)


def _derive_and_print(program, file, wrt, at, of, forward, upstream, order, fmt, check, relu_at_zero, picture,
                      show_stats, sgd, weight_decay, standalone) -> None:
    derivation = _derive(program, file, wrt, at, of, forward, upstream, relu_at_zero, order=int(order), sgd=sgd,
                         weight_decay=weight_decay)
    check = check and derivation.checked
    if check:
        derivation.check()  # first, so that --stats includes its time
    meter = stats(derivation) if show_stats else None
    if fmt == "json":
        data = derivation.to_dict(include_check=check) | ({"stats": meter.as_dict()} if meter else {})
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        click.echo(render_format(derivation, fmt, include_check=check, width=_text_width(), standalone=standalone),
                   nl=False)
        if meter:
            click.echo("\n" + meter.text())
    if picture:
        derivation.render("backward").save(picture)
    if check and derivation.check().status == "failed":
        raise CheckFailed("the symbolic derivative disagrees with finite differences: " + derivation.check().reasons[0])


def main() -> None:
    app(prog_name="symgraph")
