"""`symgraph gallery build`: the worked examples of gallery/examples built into pages and pictures."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from symgraph.errors import InputError
from symgraph.teach.gallery import build as build_gallery

from .app import Progress

__all__ = ["gallery"]

#: The gallery's sources (examples/*.toml and tutorial.ipynb): the repository's gallery/ folder in a checkout,
#: symgraph/gallery/ in an installed package (pyproject.toml installs gallery/ there).
SOURCES = Path(__file__).resolve().parent.parent / "gallery"
#: A checkout builds its own gallery by default; an installed package needs a folder to write to.
CHECKOUT = (SOURCES.parent / "pyproject.toml").is_file()


@click.group(help="The gallery of worked course problems.")
def gallery() -> None:
    pass


def _seed(directory: Path) -> None:
    """Give DIRECTORY symgraph's examples and the tutorial, unless it has examples of its own."""
    if any((directory / "examples").glob("*.toml")):
        return
    try:
        shutil.copytree(SOURCES / "examples", directory / "examples", dirs_exist_ok=True)
        if not (directory / "tutorial.ipynb").exists():
            shutil.copy2(SOURCES / "tutorial.ipynb", directory / "tutorial.ipynb")
    except OSError as e:
        raise InputError(f"cannot copy the gallery's examples into {directory} ({e.strerror or e})") from None


@gallery.command(help="""Build DIR/examples/*.toml into DIR/<name>/index.md with pictures, and DIR/README.md.

\b
When DIR has no examples/*.toml, the examples that come with symgraph and the
tutorial notebook are copied into it first. In a checkout, DIR defaults to the
repository's gallery folder.
Each example is compared with its printed answer; a disagreement is reported, not an error.
\b
Example:
  symgraph gallery build my-gallery
""")
@click.argument("directory", required=not CHECKOUT, metavar="[DIR]" if CHECKOUT else "DIR", type=click.Path(file_okay=False, path_type=Path))
def build(directory: Path | None) -> None:
    directory = directory or SOURCES
    _seed(directory)
    with Progress("building the gallery") as progress:
        written = build_gallery(directory, progress=progress)
    click.echo(f"wrote {len(written)} files to {written[-1].parent}")
