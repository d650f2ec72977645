"""Nothing live in what symgraph writes, nothing unbounded in what it reads: hostile strings in LaTeX, Markdown,
DOT and SVG; endless input streams; names that print alike; programs too large to evaluate in seconds."""

from __future__ import annotations

import io
import re
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

import symgraph
from symgraph.cli.commands import app
from symgraph.engine.shapes import work
from symgraph.errors import InputError, LimitError, ParseError
from symgraph.lang import limits
from symgraph.notation import latex_comment, markdown_cell, markdown_math, spelling
from symgraph.output.formats import to_latex, to_markdown
from symgraph.output.render import render

HOSTILE = ["\n\\immediate\\write18{touch CANARY}\n", "a\\", 'a"b', "x|y", "<b>&amp;]]>", "\r\\input{/etc/passwd}", "\u2028%\x00\x1b"]


def _run(*args, **kwargs):
    return CliRunner().invoke(app, list(args), prog_name="symgraph", **kwargs)


def _cells(row: str) -> int:
    """Cells of a Markdown table row: split at every '|' not escaped by a backslash."""
    return len(re.split(r"(?<!\\)\|", row.strip())) - 2


# --- LaTeX -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE)
def test_a_latex_comment_is_one_line(text):
    comment = latex_comment(text)
    assert comment.startswith("% ") and "\n" not in comment and "\r" not in comment and "\u2028" not in comment
    assert not re.search(r"[\x00-\x1f]", comment)


def test_a_frames_directory_named_like_latex_stays_a_comment(tmp_path):
    directory = tmp_path / "evil\n\\immediate\\write18{touch CANARY}\n"
    result = _run("render", "y = abs(x)*x", "--at", "x=0.5", "--frames", str(directory), "-o", str(tmp_path / "g.svg"))
    assert result.exit_code == 0, result.stderr
    live = [line for line in (directory / "frames.tex").read_text().splitlines() if not line.startswith("%")]
    assert live[0] == "\\centering"
    assert all(re.fullmatch(r"\\includegraphics<\d+>\[[^\]]*\]\{frame-\d+\}", line) for line in live[1:]), live
    assert len(live) == 1 + 3
    assert not (tmp_path / "CANARY").exists()


def test_latex_output_has_no_live_line_outside_the_align():
    tex = to_latex(symgraph.derive("pi = 3; y = abs(x)*pi", at={"x": 0.5}))
    after = tex.split("\\end{align*}\n", 1)[1]
    assert after and all(line.startswith("% ") for line in after.splitlines())


# --- Markdown ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("program", ["y = abs(x)*x", "a = abs(x); b = abs(a - 1); y = a*b", "x: 3; L = sum(abs(x))",
                                     "x: 2; h = abs(x); L = norm(h)", "y = abs(abs(x) - abs(x - 1))"])
def test_markdown_table_rows_keep_four_cells(program):
    table = [line for line in to_markdown(symgraph.derive(program)).splitlines() if line.startswith("|")]
    assert len(table) >= 3
    assert all(_cells(row) == 4 for row in table), table
    assert "\\vert" in "".join(table)


def test_markdown_cells_escape_pipes_and_line_breaks():
    cells = markdown_cell("a|b"), markdown_cell("c\nd")
    assert _cells(f"| {cells[0]} | {cells[1]} |") == 2 and "\n" not in cells[1]
    assert markdown_math(r"\left|x\right| + \|y\|") == r"\left\vert x\right\vert  + \Vert y\Vert "


# --- DOT and SVG -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("font", ["a\\", 'a"b', "a\nb", "", "<b>", "a&b", "x" * 200, "\\", '"'])
def test_a_font_that_would_break_dot_is_refused(font, tmp_path):
    with pytest.raises(InputError) as e:
        render(symgraph.derive("x**2"), font=font)
    assert e.value.parameter == "font"
    result = _run("render", "x**2", "--font", font, "-o", str(tmp_path / "g.dot"))
    assert result.exit_code == 2 and result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert not (tmp_path / "g.dot").exists()


@pytest.mark.parametrize("font", ["DejaVu Sans", "Helvetica-Bold", "Noto Sans:bold", "Times New Roman's (x)"])
def test_fonts_people_name_are_drawn_and_parse(font):
    svg = render(symgraph.derive("x**2"), font=font).pipe("svg")
    ET.fromstring(svg)


@pytest.mark.parametrize("label", HOSTILE)
def test_hostile_cluster_labels_give_dot_that_parses_and_svg_that_is_xml(label):
    d = symgraph.derive("a = abs(x)*2; y = a*x", at={"x": 0.5})
    source = render(d, "backward", clusters={label: ["a"]}).source
    done = subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True)
    assert done.returncode == 0, done.stderr
    ET.fromstring(done.stdout)


# --- reading -----------------------------------------------------------------------------------------------------


class _Endless(io.RawIOBase):
    """An endless stream of a character, like /dev/zero on standard input."""

    def readable(self):
        return True

    def readinto(self, buffer):
        buffer[:] = b"x" * len(buffer)
        return len(buffer)


@pytest.mark.parametrize("source", ["/dev/zero", "-"])
def test_an_endless_stream_stops_at_the_size_limit(source):
    started = time.perf_counter()
    result = _run("derive", "-f", source, input=io.BufferedReader(_Endless()) if source == "-" else None)
    assert time.perf_counter() - started < 1.0
    assert result.exit_code == 2
    assert result.stderr == f"error: -f {source} is longer than the limit of {limits.LIMITS.max_text_length:,} characters\n"


def test_a_file_at_the_limit_is_read(tmp_path):
    program = tmp_path / "p.txt"
    program.write_text("x" + " " * (limits.LIMITS.max_text_length - 1))
    assert _run("derive", "-f", str(program), "--format", "json").exit_code == 0


# --- names that print alike --------------------------------------------------------------------------------------


@pytest.mark.parametrize("a, b", [("x1", "x_1"), ("lamda", "λ"), ("Theta", "Θ"), ("x__1", "x_1"), ("x_12", "x_1_2"),
                                  ("lam", "λ"), ("theta1", "θ1"), ("omicron", "o"), ("Alpha", "A"), ("h_2", "h2"),
                                  ("alpha_beta", "α_β"), ("x", "x_")])
def test_names_that_print_alike_are_refused(a, b):
    assert spelling(a) == spelling(b)
    with pytest.raises(ParseError, match=f"'{b}' and '{a}'"):
        symgraph.derive(f"{a}*z + {b}")
    result = _run("derive", f"{a}*z + {b}")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1


@pytest.mark.parametrize("a, b", [("W_hx", "Whx"), ("x1_y", "x1y"), ("theta", "Theta"), ("x_1", "x_2"), ("ab", "a_b")])
def test_names_that_print_differently_are_kept(a, b):
    assert spelling(a) != spelling(b)
    assert symgraph.derive(f"{a}*z + {b}", at={a: 1, b: 2, "z": 3}).gradient_value(a) == 3


# --- work estimated from shapes ----------------------------------------------------------------------------------


def test_work_counts_the_multiply_adds_of_a_matrix_product():
    graph = symgraph.derive("A: 30x40; B: 40x50; L = sum(A @ B)").graph
    products = [n for n in graph.nodes() if graph[n]["op"] == "matmul"]
    forward = products[0]
    assert work(graph, [forward]) == 30 * 40 * 50 + 20 * (30 * 40 + 40 * 50 + 30 * 50)


def test_a_program_too_large_to_evaluate_is_refused_up_front_with_its_size():
    started = time.perf_counter()
    text = "W: 1000x1000; L = sum(" + " @ ".join(["W"] * 12) + ")"
    with pytest.raises(LimitError, match=r"^evaluating .* would take about [\d,]+ multiply-adds .*the limit is 20,000,000,000"):
        symgraph.derive(text).check()
    result = _run("derive", text)
    assert result.exit_code == 2 and result.stderr.startswith("error: evaluating the program") and result.stdout == ""
    assert time.perf_counter() - started < 2.0


def test_a_check_too_large_even_for_one_entry_is_refused(monkeypatch):
    monkeypatch.setattr(limits, "LIMITS", limits.Limits(max_operations=500_000))
    d = symgraph.derive("W: 30x30; L = sum(W @ W)")
    with pytest.raises(LimitError, match="checking ∂/∂W by finite differences .*--no-check"):
        d.check()
