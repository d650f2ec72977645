"""`symgraph gallery build`: the worked examples of gallery/examples built into pages and pictures."""

from __future__ import annotations

from pathlib import Path

import click

from symgraph.teach.gallery import build as build_gallery

__all__ = ["gallery"]

#: The repository's gallery folder, which holds examples/ (the default for an editable install).
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "gallery"


@click.group(help="The gallery of worked course problems.")
def gallery() -> None:
    pass


@gallery.command(help=f"""Build DIR/examples/*.toml into DIR/<name>/index.md with pictures, and DIR/README.md.

\b
DIR defaults to the repository's gallery folder ({DEFAULT_DIR.name}/).
Each example is compared with its printed answer; a disagreement is reported, not an error.
\b
Example:
  symgraph gallery build
  symgraph gallery build /tmp/gallery
""")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def build(directory: Path | None) -> None:
    written = build_gallery(directory or DEFAULT_DIR)
    click.echo(f"wrote {len(written)} files to {written[-1].parent}")
