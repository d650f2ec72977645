"""`symgraph compare`: which candidate expressions equal a derivative, as in a multiple-choice question."""

from __future__ import annotations

import click

from symgraph.errors import InputError
from symgraph.teach.compare import FORMATS, POINTS
from symgraph.teach.compare import compare as compare_candidates

__all__ = ["compare"]

HELP = f"""Which CANDIDATES equal the derivative of PROGRAM: symbolically where SymPy can
decide, otherwise numerically at {POINTS} seeded random points (the output says which).

\b
A candidate is one expression in the program's inputs and the names it assigns;
a candidate that starts with '-' can be written as it is (-sin(x)).
The exit status is 0 whenever the comparison ran, whatever the answers.
\b
Examples:
  symgraph compare "softplus(t)" --wrt t "sigmoid(t)*(1-sigmoid(t))" "sigmoid(t)" "sigmoid(-t)"
  symgraph compare "a = 3*x + sigmoid(x); b = x**2 - exp(-x); y = a*b" "b*(3 + sigmoid(x)) + a*2*x" "0"
  symgraph compare "tanh(s)" "1 - tanh(s)**2" "step(s)" --format json
"""


@click.command(help=HELP, context_settings={"ignore_unknown_options": True})
@click.argument("program")
@click.argument("candidates", nargs=-1)
@click.option("--wrt", metavar="NAME", help="Input to differentiate by (needed when there are several).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
def compare(program, candidates, wrt, fmt) -> None:
    click.echo(compare_candidates(program, wrt, _candidates(candidates)).render(fmt), nl=False)


def _candidates(candidates: tuple[str, ...]) -> tuple[str, ...]:
    """Unknown options arrive as candidates, so that -sin(x) can be one; a '--' one is a mistyped option."""
    for text in candidates:
        if text.startswith("--"):
            raise InputError(f"no such option: {text} (see 'symgraph compare --help')")
    return candidates
