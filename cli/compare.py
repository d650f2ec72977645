"""`symgraph compare`: which candidate expressions equal a derivative, as in a multiple-choice question."""

from __future__ import annotations

import click

from symgraph.errors import InputError
from symgraph.teach.compare import FORMATS, POINTS
from symgraph.teach.compare import compare as compare_candidates

from .options import parse_at

__all__ = ["compare"]

HELP = f"""Which CANDIDATES equal the derivative of PROGRAM: symbolically where SymPy can
decide, otherwise numerically at {POINTS} seeded random points (the output says which).
A wrong candidate is tried against the common mistakes (a chain-rule path left out,
a sign, a factor, σ′ for tanh′, a transposed matrix, a mean for a sum …) and the
line under it says which one it equals, if any.

\b
A candidate is one expression in the program's inputs and the names it assigns,
in the course's notation too: 1(z > 0) or (z >= 0), max(0, z); a candidate that
starts with '-' can be written as it is (-sin(x)). Each candidate is judged on
its own: one that cannot be read gets an error line, and the others are judged.
Exit status: 2 if a candidate could not be read, else 1 if one is wrong, else 0.
\b
Examples:
  symgraph compare "softplus(t)" --wrt t "sigmoid(t)*(1-sigmoid(t))" "sigmoid(t)" "sigmoid(-t)"
  symgraph compare "a = 3*x + sigmoid(x); b = x**2 - exp(-x); y = a*b" "b*(3 + sigmoid(x)) + a*2*x" "0"
  symgraph compare "relu(z)" "1(z >= 0)" --at z=0 --relu-at-zero 1
  symgraph compare "tanh(s)" "1 - tanh(s)**2" "step(s)" --format json
"""


@click.command(help=HELP, context_settings={"ignore_unknown_options": True})
@click.argument("program")
@click.argument("candidates", nargs=-1)
@click.option("--wrt", metavar="NAME", help="Input to differentiate by (needed when there are several).")
@click.option("--at", "at", multiple=True, metavar="NAME=VALUE", help="Value of an input (repeatable); all of them: compare there only.")
@click.option(
    "--relu-at-zero", type=click.Choice(["0", "0.5", "1"]), default="0", show_default=True,
    help="Value of relu′(0) (the step at 0), as in symgraph derive.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.pass_context
def compare(ctx, program, candidates, wrt, at, relu_at_zero, fmt) -> None:
    comparison = compare_candidates(program, wrt, _candidates(candidates), at=parse_at(at), relu_at_zero=float(relu_at_zero))
    click.echo(comparison.render(fmt), nl=False)
    for line in comparison.errors():
        click.echo(f"error: {line}", err=True)
    ctx.exit(comparison.status)


def _candidates(candidates: tuple[str, ...]) -> tuple[str, ...]:
    """Unknown options arrive as candidates, so that -sin(x) can be one; a '--' one is a mistyped option."""
    for text in candidates:
        if text.startswith("--"):
            raise InputError(f"no such option: {text} (see 'symgraph compare --help')")
    return candidates
