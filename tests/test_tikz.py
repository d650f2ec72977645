"""`render --format tikz`: a TikZ picture that compiles inside a Beamer frame, one named node per box of the scene.

Beamer is in texlive-latex-recommended and TikZ in texlive-pictures (`make test` installs both when pdflatex is missing).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from symgraph import derive
from symgraph.cli.commands import app
from symgraph.output.scene import scene
from symgraph.output.tikz import TIKZ_PACKAGES, math, text

#: Gallery-like programs: the exam's design card, a dense layer with a matrix, a shared weight over two steps.
PROGRAMS = [
    ("a = 3*x + sigmoid(x); b = x**2 - exp(-x); y = a*b", {"x": 0.5}),
    ("z = W @ h + c; g = log(1 + relu(z)); L = dot(v, g)",
     {"W": [[0, -1], [2, 0], [1, 1]], "h": [1, 2], "c": [0.5, -1, 0.2], "v": [1, 2, -1]}),
    ("h1 = tanh(w*x + b); h2 = tanh(w*h1 + b); L = (h2 - theta)**2", {"x": 1, "w": 0.5, "b": -0.2, "theta": 0.3}),
]
VIEWS = ("forward", "backward")
#: Overfull boxes allowed in a deck's log, and by how much: none beyond TeX's own rounding (0.5 pt).
OVERFULL_POINTS = 0.5
_PREAMBLE = [r"\documentclass{beamer}", rf"\usepackage{{{TIKZ_PACKAGES[0]}}}", r"\usetikzlibrary{fit,backgrounds}", r"\begin{document}"]


def _deck(fragments: list[str], folder: Path) -> str:
    """The fragments, one Beamer frame each, through pdflatex: its log, after checking it has one page a frame,
    no error and no overfull box wider than OVERFULL_POINTS."""
    assert shutil.which("pdflatex"), "pdflatex is missing: make test installs texlive-latex-recommended and texlive-pictures"
    frames = []
    for k, fragment in enumerate(fragments):
        (folder / f"g{k}.tex").write_text(fragment, encoding="utf-8")
        frames += [rf"\begin{{frame}}{{Picture {k + 1}}}", rf"\input{{g{k}.tex}}", r"\end{frame}"]
    (folder / "deck.tex").write_text("\n".join([*_PREAMBLE, *frames, r"\end{document}", ""]), encoding="utf-8")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "deck.tex"], cwd=folder,
                         capture_output=True, text=True, timeout=300)
    log = (folder / "deck.log").read_text(encoding="utf-8", errors="replace")
    assert run.returncode == 0 and not re.search(r"^! ", log, re.M), log[-3000:]
    assert f"Output written on deck.pdf ({len(fragments)} page" in log
    overfull = [float(points) for points in re.findall(r"Overfull \\[hv]box \(([\d.]+)pt too", log)]
    assert all(points <= OVERFULL_POINTS for points in overfull), overfull
    return log


def _nodes(tikz: str) -> list[str]:
    return re.findall(r"^  \\node\[[^\]]*\] \((n\d+)\) at \(-?[\d.]+,-?[\d.]+\)", tikz, re.M)


@pytest.mark.parametrize("program, at", PROGRAMS, ids=["design card", "dense layer", "shared weight"])
def test_forward_and_backward_pictures_compile_in_a_beamer_frame_with_every_box_a_node(program, at, tmp_path):
    d = derive(program, at=at)
    fragments = [d.render(view).pipe("tikz").decode("utf-8") for view in VIEWS]
    _deck(fragments, tmp_path)
    for view, tikz in zip(VIEWS, fragments):
        built = scene(d, view)
        assert _nodes(tikz) == [f"n{box.node}" for box in built.boxes]  # one \node per box, named as in the DOT
        draws = re.findall(r"^  \\draw\[[^\]]*\] \((n\d+)\) --.*\((n\d+)\);$", tikz, re.M)
        assert draws == [(f"n{w.source}", f"n{w.target}") for w in built.wires]
        assert tikz.count(r"\tikzset{") == 1 and r"\definecolor{sgline}" in tikz  # styles once, at the top


def test_labels_are_latex_math_from_the_printer_and_the_scene():
    d = derive("a = 3*x + sigmoid(x); b = x**2 - exp(-x); y = a*b", at={"x": 0.5})
    tikz = d.render("backward").pipe("tikz").decode("utf-8")
    assert r"${}= \sigma\left(x\right)$" in tikz and r"${}= x^{2}$" in tikz  # the LaTeX printer's definitions
    assert r"$\partial d/\partial x$${}= d\cdot (1 - d) = 0.235$" in tikz  # a wire's local partial and its value
    single = derive("exp(x**2 + tanh(x))", at={"x": 1}).render("backward").pipe("tikz").decode("utf-8")
    assert r"$\mathrm{d}y/\mathrm{d}x$" in single  # a total derivative's d's are upright


def test_the_scene_text_becomes_latex():
    assert math("∂y/∂h₁") == r"\partial y/\partial h_{1}"
    assert math("tanh²(x)·(1 − d)") == r"\operatorname{tanh}^{2}(x)\cdot (1 - d)"
    assert math("√(a + b) ⊙ Wᵀ") == r"\sqrt{a + b} \odot W^{\top}"
    assert math("∈ ℝ^(3×2)") == r"\in \mathbb{R}^{3\times 2}"
    assert math("1.5·10⁻⁷") == r"1.5\cdot 10^{-7}"
    assert math("log₂(θ)") == r"\operatorname{log}_{2}({\theta})"
    assert math("W_hx & 50%") == r"W_{hx} \& 50\%"
    assert text(r"layer_1 {50%} #2 \x ~ ^") == r"layer\_1 \{50\%\} \#2 \textbackslash{}x \textasciitilde{} \textasciicircum{}"


def test_clusters_highlights_and_a_user_label_with_tex_specials_compile(tmp_path):
    d = derive("h1 = tanh(w*x + b); h2 = tanh(w*h1 + b); L = (h2 - theta)**2", at={"x": 1, "w": 0.5, "b": -0.2, "theta": 0.3})
    clustered = d.render("forward", clusters={"step_1: 50% & #1 {x}": ["h1"], "step 2 \\ θ": ["h2"]}).pipe("tikz").decode()
    assert r"step\_1: 50\% \& \#1 \{x\}" in clustered and r"\textbackslash{} ${\theta}$" in clustered
    highlighted = d.render("backward", highlight="w").pipe("tikz").decode()
    assert "draw=sgpath0" in highlighted and "sg legend" in highlighted
    collapsed = d.render("combined", collapse=True).pipe("tikz").decode()
    _deck([clustered, highlighted, collapsed], tmp_path)


def test_the_cli_writes_tikz_by_the_tex_suffix_and_refuses_the_ops_style(tmp_path):
    runner = CliRunner()
    out = tmp_path / "g.tex"
    result = runner.invoke(app, ["render", "y = tanh(w*x)", "--at", "x=1", "--at", "w=0.5", "--view", "backward",
                                 "-o", str(out)], prog_name="symgraph")
    assert result.exit_code == 0, result.output
    tikz = out.read_text(encoding="utf-8")
    assert tikz.startswith("% symgraph's backward view as a TikZ picture") and len(_nodes(tikz)) == 4
    piped = runner.invoke(app, ["render", "y = tanh(w*x)", "--format", "tikz", "-o", "-"], prog_name="symgraph")
    assert piped.exit_code == 0 and _nodes(piped.stdout) == ["n0", "n1", "n2", "n3"]
    bad = runner.invoke(app, ["render", "x**2", "--style", "ops", "-o", str(out)], prog_name="symgraph")
    assert bad.exit_code == 2 and "values style" in bad.stderr and "Traceback" not in bad.output
    frames = runner.invoke(app, ["render", "x**2", "--frames", str(tmp_path / "f"), "--format", "tikz"], prog_name="symgraph")
    assert frames.exit_code == 2 and "svg, png or pdf" in frames.stderr
