"""`symgraph render`: the pictures of a program (imported only when drawing: it brings graphviz and the scenes)."""

from __future__ import annotations

import click

from symgraph.errors import InputError
from symgraph.output.render import DEFAULT_DPI, DEFAULT_FONT, DEFAULT_FONTSIZE, MAX_BOXES, RANKDIRS, STYLES, VIEWS, format_of, write_frames
from symgraph.output.render import FORMATS as PICTURES
from symgraph.output.themes import THEMES

from .app import Progress
from .commands import _derive, _program_options, _relu_option

__all__ = ["render"]


@click.command(
    help="Draw PROGRAM: its computation graph, the backward pass, or both, for slides and notebooks.\n"
    + """
\b
Views: forward (the graph), backward (adjoints on the nodes, local partials on
the edges), combined (values and gradients; needs --at), symbolic (the graph
with the nodes that differentiation adds). The format follows -o's suffix
(.svg, .png, .pdf, .dot, .tex, .html) unless --format says otherwise; -o -
writes the picture to standard output (SVG unless --format says otherwise).
html is one self-contained page that steps through the forward and then the
backward pass node by node (arrow keys or buttons; the backward view unless
--view says otherwise).
\b
Examples:
  symgraph render "a = 3*x + sigmoid(x); b = x**2 - exp(-x); y = a*b" --view backward --at x=0.5 -o g.svg
  symgraph render "exp(x**2 + tanh(x))" --highlight x -o paths.png
  symgraph render "y = tanh(w*x)" --at x=1 --at w=0.5 --frames steps --format pdf
  symgraph render "x**2" --format png -o - > g.png
  symgraph render "y = tanh(w*x)" --at x=1 --at w=0.5 -o steps.html
"""
)
@_program_options
@_relu_option
@click.option("-o", "--output", "output", metavar="FILE", help="The picture to write ('-' for standard output).")
@click.option("--format", "fmt", type=click.Choice(PICTURES), help="svg, png, pdf, dot, tikz or html (default: from -o's suffix; .tex is tikz).")
@click.option("--view", type=click.Choice(VIEWS), help="What to draw  [default: forward; backward with --frames or html]")
@click.option("--highlight", metavar="NAME", help="Colour each path from input NAME to the output.")
@click.option("--theme", type=click.Choice(list(THEMES)), default="light", show_default=True)
@click.option("--style", type=click.Choice(STYLES), default="values", show_default=True,
              help="values: named values (exam style); ops: a node per operation too.")
@click.option("--rankdir", type=click.Choice(RANKDIRS), default="LR", show_default=True, help="Left to right, or top down.")
@click.option("--font", default=DEFAULT_FONT, show_default=True)
@click.option("--fontsize", type=float, default=DEFAULT_FONTSIZE, show_default=True)
@click.option("--dpi", type=click.FloatRange(10, 1200), help=f"PNG resolution  [default: {DEFAULT_DPI}]")
@click.option("--frames", metavar="DIR", help="Also write one picture per backward step to DIR, with index.md and frames.tex.")
@click.option("--collapse", is_flag=True,
              help="Draw only the inputs, the assigned names and the output, the steps between them folded in "
                   f"(for pictures of more than {MAX_BOXES:,} boxes and edge labels).")
def render(program, file, wrt, at, of, forward, upstream, relu_at_zero, output, fmt, view, highlight, theme, style,
           rankdir, font, fontsize, dpi, frames, collapse) -> None:
    if output is None and frames is None:
        raise InputError("say where to draw: -o FILE (e.g. -o graph.svg), or --frames DIR for the backward steps")
    derivation = _derive(program, file, wrt, at, of, forward, upstream, relu_at_zero)
    look = dict(highlight=highlight, theme=theme, style=style, rankdir=rankdir, font=font, fontsize=fontsize,
                collapse=collapse)
    to_stdout = output == "-"  # then standard output carries the picture's bytes, and the notes go to stderr
    if to_stdout:
        fmt = fmt or "svg"
        picture = derivation.render(view or _default_view(fmt), **look).pipe(fmt, dpi)
        click.echo(picture, nl=False)
    elif output is not None:
        fmt = format_of(output, fmt)
        derivation.render(view or _default_view(fmt), **look).save(output, fmt, dpi)
        click.echo(f"wrote {output}")
    if frames is not None:
        with Progress("drawing frames") as progress:
            written = write_frames(derivation, frames, fmt, dpi, view or "backward", progress=progress, **look)
        click.echo(f"wrote {len(written)} frames, index.md and frames.tex to {frames}", err=to_stdout)


def _default_view(fmt: str) -> str:
    """The stepper pages through the sweep, which the backward view draws; a picture shows the graph."""
    return "backward" if fmt == "html" else "forward"
