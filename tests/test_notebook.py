"""The tutorial notebook runs in a real kernel (nbclient + ipykernel) and shows its pictures inline as SVG."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbclient
import nbformat
import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "gallery" / "tutorial.ipynb"


@pytest.mark.needs_dot
@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")
def test_tutorial_notebook_executes_and_shows_svg(tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    pictures = [output.data["image/svg+xml"] for output in outputs if "image/svg+xml" in output.get("data", {})]
    assert len(pictures) == 7 and all("<svg" in svg and "</svg>" in svg for svg in pictures)
    derivation = notebook.cells[1].outputs[0].data  # `d` on its own: the picture and the steps
    assert "<svg" in derivation["image/svg+xml"] and "**Chain rule" in derivation["text/markdown"]
    printed = "".join(output.get("text", "") for output in outputs if output.output_type == "stream")
    assert "9 frames: frame-01.svg" in printed and "digraph symgraph {" in printed
    assert "updated b: -4.5 (printed: 5.5)" in printed  # the gallery walk-through: P6's sign slip
    assert "p − e[1]" in printed or "p - e[1]" in printed or "onehot" in printed
    assert "Backpropagation" in printed and "✓ passed" in printed
