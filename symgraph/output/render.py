"""Pictures of a Derivation: files and step frames (notebook.py shows them in a cell), and the one function that runs `dot`.

scene.py decides what a view shows and drawing.py writes it as DOT, which always works;
only SVG, PNG and PDF need Graphviz's `dot`, and its absence is one error saying how to
install it, with the DOT source written all the same.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path

import graphviz

from symgraph.errors import DrawingFailed, GraphvizMissing, InputError, LimitError
from symgraph.notation import latex_comment, one_line
from symgraph.output.drawing import DEFAULT_FONT, DEFAULT_FONTSIZE, RANKDIRS, STYLES, Drawing
from symgraph.output.forward_scene import kept_when_collapsed
from symgraph.output.notebook import picture_bundle
from symgraph.output.scene import VIEWS, scene
from symgraph.output.scene_types import Box, Scene, gradient_lines
from symgraph.output.stepper import stepper_page
from symgraph.output.tikz import to_tikz
from symgraph.output.view import DerivationView

__all__ = [
    "Picture", "render", "write_frames", "run_dot", "format_of", "write_file",
    "FORMATS", "STYLES", "RANKDIRS", "VIEWS", "DEFAULT_FONT", "DEFAULT_FONTSIZE", "DEFAULT_DPI", "MAX_BOXES",
]

FORMATS = ("svg", "png", "pdf", "dot", "tikz", "html")
#: File suffixes that name a format other than themselves.
SUFFIXES = {"tex": "tikz", "htm": "html"}
#: The most boxes and edge labels (dot lays a label out as a box of its own) that `dot` is asked to lay out:
#: about 25 s for the slowest shape measured (bench/bench_render.py); the time grows faster than linearly.
MAX_BOXES = 3_000
DEFAULT_DPI = 150
MISSING = "Graphviz's dot program is not installed"
INSTALL = (
    "install Graphviz with sudo apt-get install graphviz (Debian/Ubuntu), brew install graphviz (macOS) "
    "or conda install -c conda-forge graphviz"
)


def run_dot(source: str, fmt: str) -> bytes:
    """The only place symgraph runs Graphviz; a missing `dot` becomes one error that says how to install it,
    and a failing one an error with dot's own last words."""
    try:
        return graphviz.pipe("dot", fmt, source.encode("utf-8"), quiet=True)
    except graphviz.ExecutableNotFound:
        raise GraphvizMissing(f"{MISSING}; {INSTALL}") from None
    except graphviz.CalledProcessError as e:
        if e.returncode == -signal.SIGINT:  # Ctrl-C reached dot before us: an interruption, not a failure
            raise KeyboardInterrupt from None
        said = (e.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        raise DrawingFailed(f"Graphviz's dot could not draw the picture ({said[-1] if said else f'exit {e.returncode}'}); "
                            "--format dot writes its input") from None


def format_of(path: str | Path, fmt: str | None = None) -> str:
    """The format asked for, else the one the file's suffix names."""
    if fmt is not None and fmt not in FORMATS:
        raise InputError(f"unknown format; formats are {', '.join(FORMATS)}", parameter="fmt", value=fmt)
    fmt = fmt or SUFFIXES.get(Path(path).suffix.lstrip(".").lower(), Path(path).suffix.lstrip(".").lower())
    if fmt not in FORMATS:
        raise InputError(f"cannot draw {path} as '{fmt}': formats are {', '.join(FORMATS)} (name it by the file's suffix or give a format)")
    return fmt


class Picture:
    """One drawn view: `.source` is its DOT; `.save(path)` writes DOT, SVG, PNG, PDF, TikZ (symgraph.output.tikz)
    or the HTML stepper (symgraph.output.stepper).

    `too_large` says why `dot` is not run on it (it has more than MAX_BOXES boxes); `save` writes its DOT instead,
    and a notebook shows `collapsed()`, the same picture collapsed, when that fits."""

    def __init__(self, graph: graphviz.Digraph, too_large: str | None = None, tikz: Callable[[dict], str] | None = None,
                 html: Callable[[str], str] | None = None):
        self.graph = graph
        self.too_large = too_large
        self.tikz = tikz  # the TikZ writer, given dot's layout
        self.html = html  # the stepper's page, given dot's SVG
        self.collapsed: Callable[[], Picture] | None = None

    @property
    def source(self) -> str:
        return self.graph.source

    def pipe(self, fmt: str = "svg", dpi: float | None = None) -> bytes:
        if fmt == "dot":
            return self.source.encode("utf-8")
        if self.too_large:
            raise LimitError(self.too_large)
        graph = self.graph
        if fmt == "png":  # dpi scales bitmaps only; SVG and PDF stay vector
            graph = graph.copy()
            graph.graph_attr["dpi"] = str(dpi or DEFAULT_DPI)
        if fmt == "tikz":
            if self.tikz is None:
                raise InputError("this picture has no scene to write as TikZ: draw it with symgraph.output.render.render", parameter="fmt", value=fmt)
            return self.tikz(json.loads(run_dot(graph.source, "json"))).encode("utf-8")
        if fmt == "html":
            if self.html is None:
                raise InputError("this picture has no steps to page through: draw it with symgraph.output.render.render", parameter="fmt", value=fmt)
            return self.html(run_dot(graph.source, "svg").decode("utf-8")).encode("utf-8")
        return run_dot(graph.source, fmt)

    def save(self, path: str | Path, fmt: str | None = None, dpi: float | None = None) -> Path:
        """Write the picture; without `dot`, or when it is too large for `dot`, write the DOT source beside it
        and say so in the error."""
        path = Path(path)
        fmt = format_of(path, fmt)
        try:
            data = self.pipe(fmt, dpi)
        except (GraphvizMissing, LimitError) as not_drawn:
            source = write_file(path.with_suffix(".dot"), self.source.encode("utf-8"))
            if isinstance(not_drawn, LimitError):
                raise LimitError(f"{not_drawn}; {path} was not drawn, its DOT source is in {source}") from None
            raise GraphvizMissing(f"{MISSING}, so {path} was not drawn (its DOT source is in {source}); {INSTALL}") from None
        return write_file(path, data)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        """One display in a notebook: the SVG inline in HTML, or a message saying why there is none."""
        return picture_bundle(self)


def render(
    d: DerivationView,
    view: str = "forward",
    *,
    theme: str = "light",
    style: str = "values",
    highlight: str | None = None,
    rankdir: str = "LR",
    font: str = DEFAULT_FONT,
    fontsize: float = DEFAULT_FONTSIZE,
    clusters: Mapping[str, Sequence[str]] | None = None,
    collapse: bool = False,
) -> Picture:
    """Draw one view of a derivation: forward, backward, combined or symbolic.

    `clusters` maps a label to the names of a sub-graph, {"layer1": ["W1", "b1", "z1", "h1"]}, drawn as a
    labelled frame; by default those symgraph.teach.network left on the derivation (`d.clusters`).
    `collapse` draws only the inputs, the names the program assigns and the output (large graphs)."""
    drawing = Drawing(theme, style, rankdir, font, fontsize)
    built = scene(d, view, highlight, clusters=_clusters_of(d, clusters), collapse=collapse)
    picture = _picture(d, drawing, built, collapse)
    picture.tikz = partial(to_tikz, d, built, drawing.theme, view=view, fontsize=drawing.fontsize)
    picture.html = partial(stepper_page, d, built, drawing.theme, drawing.operations)
    if picture.too_large and not collapse:
        picture.collapsed = partial(render, d, view, theme=theme, style=style, highlight=highlight, rankdir=rankdir, font=font,
                                    fontsize=fontsize, clusters=clusters, collapse=True)
    return picture


def _picture(d: DerivationView, drawing: Drawing, built: Scene, collapsed: bool) -> Picture:
    graph = drawing.draw(built)
    return Picture(graph, _too_large(d, built, len(drawing.operations), collapsed))


def _too_large(d: DerivationView, built: Scene, operations: int, collapsed: bool) -> str | None:
    """Why a picture is not laid out, with the ways to a smaller one; None if it fits."""
    boxes, labels = len(built.boxes) + operations, sum(wire.label is not None for wire in built.wires)
    if boxes + labels <= MAX_BOXES:
        return None
    ways = []
    if not collapsed:
        kept = sum(kept_when_collapsed(d, box.node) for box in built.boxes)
        if kept < len(built.boxes):
            fits = "" if kept <= MAX_BOXES else ", still too many"
            ways.append(f"the collapsed view (symgraph render --collapse: {kept:,} boxes, one per name the program assigns{fits})")
    ways.append("the DOT text (--format dot) for a faster layout program such as sfdp")
    size = f"{boxes:,} boxes and {labels:,} edge labels" if labels else f"{boxes:,} boxes"
    return (f"the picture would have {size}, more than the {MAX_BOXES:,} that Graphviz's dot lays out "
            f"in half a minute: draw {' or '.join(ways)}")


def write_frames(
    d: DerivationView,
    directory: str | Path,
    fmt: str | None = None,
    dpi: float | None = None,
    view: str = "backward",
    highlight: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    **look,
) -> list[Path]:
    """One picture per step of the backward sweep (frame k reveals the k-th adjoint), a Markdown index and a
    Beamer snippet. `look` takes render's theme, style, rankdir, font, fontsize and clusters; `progress(k, n)`
    is called after each of the n frames."""
    if view not in ("backward", "combined"):
        raise InputError("frames step through the backward pass: use the backward or combined view", parameter="view", value=view)
    order = d.gradients.order
    if not order:
        raise InputError("the output does not depend on the inputs asked for, so there is no sweep to show", parameter="directory")
    fmt = format_of(directory, fmt or "svg")
    if fmt in ("dot", "tikz", "html"):
        raise InputError("frames are pictures: use svg, png or pdf (the html format is one page of every step)", parameter="fmt", value=fmt)
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot create it ({e.strerror or e})", parameter="directory", value=directory) from None
    clusters = _clusters_of(d, look.pop("clusters", None))
    collapse = look.pop("collapse", False)
    drawing = Drawing(**look)
    width, saved, captions = max(2, len(str(len(order)))), [], []
    for k in range(1, len(order) + 1):
        frame = scene(d, view, highlight, revealed=k, clusters=clusters, collapse=collapse)
        saved.append(_picture(d, drawing, frame, collapse).save(directory / f"frame-{k:0{width}d}.{fmt}", fmt, dpi))
        captions.append(_caption(next(box for box in frame.boxes if box.current)))
        if progress is not None:
            progress(k, len(order))
    write_file(directory / "index.md", _markdown_index(saved, captions).encode("utf-8"))
    write_file(directory / "frames.tex", _beamer_snippet(saved, directory).encode("utf-8"))
    return saved


def _clusters_of(d: DerivationView, clusters: Mapping[str, Sequence[str]] | None) -> Mapping[str, Sequence[str]] | None:
    """The clusters asked for, else the derivation's own (set by symgraph.teach.network); {} draws none."""
    return d.clusters if clusters is None else clusters


def write_file(path: Path, data: bytes) -> Path:
    """Write `data` to a temporary file beside `path` and rename it: an interruption (Ctrl-C) or a full disk
    never leaves a partial file, and a reader never sees one."""
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with open(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666), "wb") as handle:
            handle.write(data)
        os.replace(part, path)
    except BaseException as e:
        part.unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise InputError(f"cannot write {path} ({e.strerror or e})") from None
        raise
    return path


def _caption(box: Box) -> str:
    return " ".join(gradient_lines(box.rows))


def _markdown_index(frames: list[Path], captions: list[str]) -> str:
    lines = ["# The backward pass, one adjoint per frame", ""]
    for k, (frame, caption) in enumerate(zip(frames, captions), 1):
        lines += [f"{k}. {one_line(caption)}", "", f"   ![frame {k}]({frame.name})", ""]
    return "\n".join(lines)


def _beamer_snippet(frames: list[Path], directory: Path) -> str:
    lines = [
        latex_comment("The backward pass, one adjoint per overlay: \\input this inside a frame, with"),
        latex_comment(f"\\graphicspath{{{{{directory.as_posix()}/}}}}. pdflatex reads PDF or PNG frames (--format pdf)."),
        "\\centering",
    ]
    lines += [
        f"\\includegraphics<{k}>[width=\\linewidth,height=0.8\\textheight,keepaspectratio]{{{frame.stem}}}"
        for k, frame in enumerate(frames, 1)
    ]
    return "\n".join(lines) + "\n"
