"""The LaTeX output compiles: a fragment names its packages, --standalone is a document pdflatex turns into one page.

pdflatex comes from TeX Live (`make test` installs texlive-latex-base when it is missing).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from symgraph import derive
from symgraph.cli.commands import app
from symgraph.output.formats import LATEX_PACKAGES, render_format

PROGRAMS = [
    ("exp(x**2 + tanh(x))", {}),
    ("a = 3*x + sigmoid(x); b = x**2 - exp(-x); y = a*b", {"x": 0.3}),
    ("z = W @ h + c; g = log(1 + relu(z)); L = dot(v, g)",
     {"W": [[0, -1], [2, 0], [1, 1]], "h": [1, 2], "c": [0.5, -1, 0.2], "v": [1, 2, -1]}),
    ("z: 3; p = softmax(z)", {"z": [1, 2, 3]}),
    ("L = sum((z >= 0) * z * z)", {"z": [0.5, -1, 2]}),
]


def _pdflatex(source: str, folder: Path) -> str:
    assert shutil.which("pdflatex"), "pdflatex is missing: make test installs TeX Live (texlive-latex-base)"
    (folder / "doc.tex").write_text(source, encoding="utf-8")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=folder,
                         capture_output=True, text=True, timeout=120)
    log = (folder / "doc.log").read_text(encoding="utf-8", errors="replace")
    assert run.returncode == 0, log[-2000:]
    return log


@pytest.mark.parametrize("program, at", PROGRAMS, ids=[p for p, _ in PROGRAMS])
def test_the_standalone_document_compiles_without_overfull_pages(program, at, tmp_path):
    log = _pdflatex(render_format(derive(program, at=at), "latex", standalone=True), tmp_path)
    assert "Output written on doc.pdf" in log and "Overfull \\vbox" not in log


def test_a_fragment_names_its_packages_and_compiles_with_them(tmp_path):
    fragment = render_format(derive("relu(x)*y + step(x)", at={"x": 0.5, "y": 2}), "latex")
    assert fragment.splitlines()[0] == r"% needs \usepackage{amsmath}" and LATEX_PACKAGES == ("amsmath",)
    assert r"\mathbb" not in fragment and r"\mathbf{1}" in fragment  # 𝟙: a glyph every TeX distribution has
    document = "\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n" + fragment + "\\end{document}\n"
    _pdflatex(document, tmp_path)


def test_the_cli_writes_a_standalone_document_and_refuses_it_for_other_formats():
    runner = CliRunner()
    result = runner.invoke(app, ["derive", "x**2", "--format", "latex", "--standalone"], prog_name="symgraph")
    assert result.exit_code == 0 and result.stdout.startswith("\\documentclass{article}")
    assert result.stdout.rstrip().endswith("\\end{document}")
    bad = runner.invoke(app, ["derive", "x**2", "--standalone"], prog_name="symgraph")
    assert bad.exit_code == 2 and "--format latex" in bad.stderr
