"""Notebooks: one display per Derivation or Picture (the SVG inline once, capped at the cell's width), a message in
the cell for every failure (no dot, too large, a dot that fails, any other error), and the tutorial notebook run by
a real kernel (nbclient + ipykernel), saved small with no picture stored twice."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import graphviz
import nbclient
import nbformat
import pytest
from IPython.core.formatters import DisplayFormatter

import symgraph.output.notebook
import symgraph.output.render
from symgraph import derive
from symgraph.output.render import Picture, render

NOTEBOOK = Path(__file__).resolve().parents[1] / "gallery" / "tutorial.ipynb"
PRODUCT = "a = 3*x + sigmoid(x); b = x**2 - exp(-x); y = a*b"
#: The tutorial saved after a run: 262,322 bytes when each Derivation stored its SVG twice (as an image and again
#: base64 in Markdown) and dot's SVG kept its comments, titles and line breaks; 187,322 bytes with one copy.
SAVED_AT_MOST = 200_000


def needs_dot(test):
    """Marked (pytest -m needs_dot) and skipped where Graphviz is not installed."""
    return pytest.mark.needs_dot(pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")(test))


@pytest.fixture(scope="module")
def product():
    return derive(PRODUCT, at={"x": 0.5})


def shown(obj) -> dict[str, str]:
    """What IPython stores for `obj` in a cell: its own bundle plus every other _repr_* it finds."""
    data, _ = DisplayFormatter().format(obj)
    return data


def nodes(html: str) -> int:
    return html.count('class="node"')


# --- the display when all is well ------------------------------------------------------------------------------


@needs_dot
def test_a_derivation_is_one_html_display_with_its_picture_inline_once(product):
    data = shown(product)
    assert set(data) == {"text/html", "text/plain"}  # no image/svg+xml, Markdown or LaTeX copy beside it
    html, svg = data["text/html"], render(product, "backward").pipe("svg").decode()
    assert html.count("<svg") == 1 and "base64" not in html and "<?xml" not in html and "<!DOCTYPE" not in html
    assert nodes(html) == nodes(svg) == 9
    assert "Chain rule: 4 paths from x to y" in html and "✓ passed" in html  # the steps, with the check
    assert "Chain rule: 4 paths from x to y" in data["text/plain"]
    assert len(html) < len(svg) + len(data["text/plain"]) + 1_000  # the picture once, the steps once
    assert "<title>" not in html and "<!--" not in html and "\n<" not in html.split("<pre")[0]  # one line


@needs_dot
def test_a_picture_is_capped_at_the_cells_width_and_scrolls_past_half_size(product):
    picture = product.render(view="combined", theme="dark")
    data = shown(picture)
    assert set(data) == {"text/html", "text/plain"} and ".source is its DOT" in data["text/plain"]
    html = data["text/html"]
    width = float(re.search(r'<svg[^>]*width="([\d.]+)pt"', picture.pipe("svg").decode()).group(1))
    assert f'<svg style="max-width:100%;height:auto;min-width:{width / 2:.0f}pt;"' in html
    assert 'style="max-width:100%;max-height:80vh;overflow:auto"' in html
    assert html.count("<svg") == 1 and nodes(html) == nodes(picture.pipe("svg").decode())


# --- every failure says so in the cell -------------------------------------------------------------------------


def test_without_dot_the_cell_says_how_to_install_it_and_shows_the_dot_source(product, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    for obj, source in [(product, render(product, "backward").source), (product.render(view="forward"), product.render(view="forward").source)]:
        html = shown(obj)["text/html"]
        assert "<svg" not in html
        assert "No picture: Graphviz's dot program is not installed; install Graphviz with sudo apt-get install graphviz" in html
        assert "<summary>DOT source</summary>" in html and "digraph symgraph {" in html
        assert html.count("-&gt;") == source.count("->") > 0  # the whole source, escaped
    assert "Chain rule: 4 paths from x to y" in shown(product)["text/html"]  # the steps show all the same


@needs_dot
def test_too_large_for_dot_shows_the_collapsed_view_with_a_note(product, monkeypatch):
    monkeypatch.setattr(symgraph.output.render, "MAX_BOXES", 6)  # the backward view: 9 boxes and 11 partials
    for obj in (product, product.render(view="backward")):
        html = shown(obj)["text/html"]
        assert nodes(html) == 4 and html.count("<svg") == 1  # x, a, b and y
        assert "The collapsed view, because the picture would have 9 boxes and 11 edge labels, more than the 6" in html


@needs_dot
def test_too_large_even_collapsed_shows_the_message_and_the_collapsed_dot(product, monkeypatch):
    monkeypatch.setattr(symgraph.output.render, "MAX_BOXES", 3)
    html = shown(product)["text/html"]
    collapsed = render(product, "backward", collapse=True).source
    assert "<svg" not in html and "No picture: the picture would have 9 boxes and 11 edge labels, more than the 3" in html
    assert html.count("-&gt;") == collapsed.count("->") and "Chain rule" in html
    symbolic = shown(product.render(view="symbolic"))["text/html"]  # a view with no collapsed form
    assert "<svg" not in symbolic and "No picture: the picture would have" in symbolic and "<summary>DOT source" in symbolic


def test_a_long_dot_source_is_cut_in_the_cell(product, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(symgraph.output.notebook, "MAX_SOURCE_SHOWN", 100)
    picture = product.render(view="forward")
    html = shown(picture)["text/html"]
    assert f"… ({len(picture.source) - 100:,} more characters in .source)</pre>" in html


@needs_dot
def test_a_dot_that_fails_shows_its_own_words():
    html = shown(Picture(graphviz.Digraph(body=["a -> \n"])))["text/html"]
    assert re.search(r"No picture: Graphviz's dot could not draw the picture \(.*syntax error", html)
    assert "a -&gt;" in html


def test_any_other_error_is_a_message_not_a_silent_repr(monkeypatch):
    product = derive(PRODUCT, at={"x": 0.5})

    def broken(*args, **kwargs):
        raise RuntimeError("no layout today")

    monkeypatch.setattr(symgraph.output.render, "run_dot", broken)
    html = shown(product)["text/html"]
    assert "No picture: RuntimeError: no layout today (a bug in symgraph: please report it)" in html
    assert "digraph symgraph" in html and "Chain rule" in html
    monkeypatch.setattr(symgraph.output.notebook, "to_text", broken)
    data = shown(product)
    assert "No steps: RuntimeError: no layout today" in data["text/html"] and data["text/plain"].startswith("No steps: ")
    monkeypatch.setattr(product, "render", broken)  # the picture cannot even be built
    assert "No picture: RuntimeError: no layout today" in shown(product)["text/html"]


# --- the tutorial, run by a real kernel --------------------------------------------------------------------------


@needs_dot
def test_tutorial_notebook_executes_small_with_each_picture_once(tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    displays = [output.data for output in outputs if "data" in output]
    assert len(displays) == 7 and all(set(data) == {"text/html", "text/plain"} for data in displays)
    pictures = [data["text/html"] for data in displays]
    assert all(html.count("<svg") == 1 == html.count("</svg>") for html in pictures)
    assert len(set(pictures)) == 7
    derivation = notebook.cells[1].outputs[0].data  # `d` on its own: the picture and the steps
    assert "Chain rule: 4 paths from x to y" in derivation["text/html"]
    printed = "".join(output.get("text", "") for output in outputs if output.output_type == "stream")
    assert "9 frames: frame-01.svg" in printed and "digraph symgraph {" in printed
    assert "updated b: -4.5 (printed: 5.5)" in printed  # the gallery walk-through: P6's sign slip
    assert "p − e[1]" in printed or "p - e[1]" in printed or "onehot" in printed
    assert "Backpropagation" in printed and "✓ passed" in printed
    saved = tmp_path / "tutorial.ipynb"
    nbformat.write(notebook, saved)
    text = saved.read_text(encoding="utf-8")
    assert text.count("<svg") == 7 and "base64" not in text and "image/svg+xml" not in text  # each picture once
    assert saved.stat().st_size < SAVED_AT_MOST
