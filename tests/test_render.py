"""Pictures: DOT structure and labels per view, highlight colours, themes, SVG/PNG output, determinism, frames,
the missing-`dot` path and the render CLI."""

from __future__ import annotations

import re
import shutil
import struct
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

import symgraph.output.render
from symgraph import derive
from symgraph.cli.commands import app
from symgraph.errors import DrawingFailed, GraphvizMissing, InputError, LimitError
from symgraph.output.drawing import COPIES, STYLES, _markup
from symgraph.output.render import FORMATS, VIEWS, format_of, render, run_dot, write_frames
from symgraph.output.scene_text import MAX_TERMS
from symgraph.output.themes import OKABE_ITO, OKABE_ITO_DARK, THEMES, contrast


def needs_dot(test):
    """Marked (pytest -m needs_dot) and skipped where Graphviz is not installed."""
    return pytest.mark.needs_dot(pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")(test))


PRODUCT = "a = 3*x + sigmoid(x); b = x**2 - exp(-x); y = a*b"
CARD = "exp(x**2 + tanh(x))"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def product():
    return derive(PRODUCT, at={"x": 0.5})


def node_line(source: str, node: str) -> str:
    return next(line for line in source.splitlines() if line.strip().startswith(f"{node} ["))


def edge_line(source: str, u: str, v: str) -> str:
    return next(line for line in source.splitlines() if line.strip().startswith(f"{u} -> {v} "))


def text_of(source: str) -> str:
    """The visible text of a DOT source's HTML labels, tags removed."""
    return re.sub(r"<[^<>]*>", "", source).replace("&#8201;", " ")


# --- DOT structure ---------------------------------------------------------------------------------


def test_forward_nodes_names_definitions_and_shared_input(product):
    source = render(product, "forward").source
    names = {product.graph.label(n): n for n in product.graph.nodes("input", "forward")}
    for name, node in names.items():
        assert f"<B>{name}</B>" in node_line(source, f"n{node}")
    assert "= c + d" in node_line(source, f"n{names['a']}") and "= σ(x)" in node_line(source, f"n{names['d']}")
    assert "= x²" in node_line(source, f"n{names['f']}")
    # x is one node with an edge to each of its four readers
    readers = [line for line in source.splitlines() if line.strip().startswith(f"n{names['x']} -> ")]
    assert len(readers) == 4
    assert "peripheries=2" in node_line(source, f"n{names['y']}")
    assert "**" not in source and "sigmoid(" not in source and "_g" not in source


def test_backward_reverses_edges_labels_partials_and_shows_the_sum(product):
    source = render(product, "backward").source
    x, a, y = 0, product.graph.names["a"], product.output
    edge = text_of(edge_line(source, f"n{a}", f"n{y}"))
    assert "dir=back" in edge and "∂y/∂a = b = −0.3565" in edge
    assert "∂d/∂x = d·(1 − d) = 0.235" in text_of(source)
    label = text_of(node_line(source, f"n{x}"))
    # the sum over x's four children, one term a line, and its value (the gradient)
    for term in ("dy/dx = ∂y/∂c·∂c/∂x", "+ ∂y/∂d·∂d/∂x", "+ ∂y/∂f·∂f/∂x", "+ ∂y/∂g·∂g/∂x", "= 2.256"):
        assert term in label
    assert "∂y/∂y = 1" in text_of(node_line(source, f"n{y}"))


def test_backward_without_values_is_symbolic():
    source = text_of(render(derive(CARD), "backward").source)
    assert "∂b/∂x = 1 − b²" in source and "∂y/∂c = y" in source
    assert not re.search(r"= −?\d+\.\d", source)


def test_combined_needs_values_and_colours_them_apart(product):
    with pytest.raises(InputError, match="view=.combined.: this view shows numbers: give every input a value"):
        render(derive(PRODUCT), "combined")
    light = THEMES["light"]
    label = node_line(render(product, "combined").source, "n3")
    assert f'<FONT COLOR="{light.value}">&#8201;= 2.122</FONT>' in label
    assert f'<FONT COLOR="{light.gradient}">∂y/∂a</FONT>' in label
    assert label.index(light.value) < label.index(light.gradient)  # values above, gradients below


def test_symbolic_adds_the_gradient_nodes(product):
    source = render(product, "symbolic").source
    graph = product.graph
    for node in graph.nodes("gradient"):
        assert f"n{node} [" in source
    gradient = product.gradients.adjoint[0]
    assert "<B>dy/dx</B>" in node_line(source, f"n{gradient}")
    assert "fillcolor=\"#FBEBDD\"" in node_line(source, f"n{gradient}")
    assert "t₁" in text_of(source) and "_g" not in source


def test_ops_style_is_bipartite_with_registry_labels_and_ordered_operands(product):
    source = render(product, "forward", style="ops").source
    assert "o2 [label=<σ>" in source and "o3 [label=<+>" in source and "o6 [label=<exp>" in source
    assert "o1k0 [label=<3>" in source  # the constant of 3x
    node = {product.graph.label(n): n for n in product.graph.nodes()}
    into_b = [line.split()[0] for line in source.splitlines() if re.search(rf"-> o{node['b']}\b", line)]
    assert into_b == [f"n{node['f']}", f"n{node['h']}"]  # b = f − h: operands in order
    assert "ordering=in" in node_line(source, f"o{node['b']}")


def test_highlight_colours_each_path_in_the_order_of_the_chain_rule_sum(product):
    source = render(product, "forward", highlight="x").source
    palette = THEMES["light"].paths
    chain = next(step.rhs for step in product.steps if step.kind == "path" and step.lhs)
    legend = re.findall(r'<FONT COLOR="(#[0-9A-F]{6})">(?:&#8201;)?[=+] ([^<]+)</FONT>', node_line(source, "graph"))
    assert [term for _, term in legend] == chain.split(" + ")
    assert [colour for colour, _ in legend] == list(palette[:4])
    # x→c→a→y is path 0, x→d→a→y path 1: the shared edge a→y carries both colours
    assert f'color="{palette[0]}"' in edge_line(source, "n0", "n1")
    assert f'color="{palette[1]}"' in edge_line(source, "n0", "n2")
    assert f'color="{palette[0]}:{palette[1]}"' in edge_line(source, "n3", "n8")
    assert f'color="{palette[2]}:{palette[3]}"' in edge_line(source, "n7", "n8")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"highlight": "a"}, "highlight='a': not an input"),
        ({"view": "sideways"}, "view='sideways': unknown view"),
        ({"theme": "neon"}, "theme='neon': unknown theme; themes: light, dark, print"),
        ({"style": "boxes"}, "style='boxes': use one of values, ops"),
        ({"rankdir": "RL"}, "rankdir='RL': use one of LR, TB"),
        ({"fontsize": 200}, "fontsize=200: "),
    ],
)
def test_bad_options_are_input_errors(product, kwargs, message):
    with pytest.raises(InputError, match=re.escape(message)):
        render(product, **kwargs)


def test_highlight_of_an_input_that_does_not_reach_the_output():
    with pytest.raises(InputError, match="w does not reach a"):
        render(derive("a = x**2; y = a*w", of="a"), highlight="w")


@pytest.mark.parametrize("theme", list(THEMES))
@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("style", STYLES)
def test_every_view_theme_and_style_builds(product, view, theme, style):
    source = render(product, view, theme=theme, style=style, highlight="x").source
    assert f'bgcolor="{THEMES[theme].background}"' in source
    assert source.startswith("digraph symgraph {")


def test_palettes_are_okabe_ito_and_print_is_gray():
    assert set(THEMES["light"].paths) <= set(OKABE_ITO_DARK.values())
    assert set(THEMES["dark"].paths) <= set(OKABE_ITO.values())
    for colour in (THEMES["print"].text, THEMES["print"].value, THEMES["print"].gradient, *THEMES["print"].paths):
        assert colour[1:3] == colour[3:5] == colour[5:7]  # gray: equal channels


def test_font_size_and_rankdir_reach_the_dot(product):
    source = render(product, rankdir="TB", font="Liberation Serif", fontsize=18).source
    assert "rankdir=TB" in source and 'fontname="Liberation Serif"' in source and "fontsize=18" in source


def test_markup_escapes_and_writes_sub_and_superscripts():
    assert _markup("W_hx·x^(1/3) < 2 & y") == "W<SUB>hx</SUB>·x<SUP>1/3</SUP> &lt; 2 &amp; y"


def test_long_sums_show_their_first_and_last_terms():
    program = "; ".join(["h0 = tanh(w*x)"] + [f"h{t} = tanh(w*h{t - 1})" for t in range(1, 12)])
    d = derive(program)
    label = text_of(node_line(render(d, "backward").source, f"n{d.inputs['w']}"))  # w, read by 12 steps
    assert "… (7 more)" in label and label.count("∂h₁₁/∂") == MAX_TERMS  # lhs, 4 first terms, the last


def test_large_graphs_draw_far_readers_of_a_shared_node_as_copies():
    program = "; ".join(["h0 = tanh(w*x + b)"] + [f"h{t} = tanh(w*h{t - 1} + b)" for t in range(1, 40)])
    d = derive(program)
    source = render(d, "forward").source
    assert re.search(rf"n{d.inputs['w']}c\d+ \[.*style=\"rounded,dashed,filled\"", source) and COPIES in source
    assert "dashed" not in render(derive(PRODUCT), "forward").source


def test_dot_is_deterministic():
    assert render(derive(PRODUCT, at={"x": 0.5}), "symbolic", highlight="x").source == render(
        derive(PRODUCT, at={"x": 0.5}), "symbolic", highlight="x"
    ).source


# --- images ---------------------------------------------------------------------------------------


def svg_root(path):
    return ET.parse(path).getroot()


@needs_dot
def test_svg_is_xml_with_the_node_names(product, tmp_path):
    path = render(product, "backward").save(tmp_path / "g.svg")
    texts = {t.text.strip() for t in svg_root(path).iter(f"{SVG}text") if t.text}
    assert {"x", "a", "b", "y", "∂y/∂a", "dy/dx"} <= texts
    assert {"symgraph", "n0", "n8", "n3->n8"} <= {t.text for t in svg_root(path).iter(f"{SVG}title")}


@needs_dot
def test_png_size_follows_the_dpi(product, tmp_path):
    def size(path):
        header = path.read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n"
        return struct.unpack(">II", header[16:24])

    small = size(render(product, "forward").save(tmp_path / "a.png", dpi=72))
    large = size(render(product, "forward").save(tmp_path / "b.png", dpi=144))
    assert small[0] > small[1] > 100  # left to right: wider than tall
    assert large[0] == pytest.approx(2 * small[0], rel=0.02) and large[1] == pytest.approx(2 * small[1], rel=0.02)


@needs_dot
@pytest.mark.parametrize("fmt, magic", [("svg", b"<?xml"), ("pdf", b"%PDF"), ("png", b"\x89PNG"), ("dot", b"digraph")])
def test_each_format(product, tmp_path, fmt, magic):
    assert fmt in FORMATS
    assert render(product).save(tmp_path / f"g.{fmt}").read_bytes().startswith(magic)
    assert render(product).save(tmp_path / "g", fmt).read_bytes().startswith(magic)  # --format without a suffix


@needs_dot
def test_svg_bytes_are_identical_across_runs(tmp_path):
    first = render(derive(PRODUCT, at={"x": 0.5}), "backward", highlight="x").save(tmp_path / "1.svg").read_bytes()
    second = render(derive(PRODUCT, at={"x": 0.5}), "backward", highlight="x").save(tmp_path / "2.svg").read_bytes()
    assert first == second


@needs_dot
def test_frames_reveal_one_adjoint_each_on_one_layout(product, tmp_path):
    frames = write_frames(product, tmp_path / "steps")
    order = product.gradients.order
    assert [f.name for f in frames] == [f"frame-{k:02d}.svg" for k in range(1, len(order) + 1)]
    sizes = {(svg_root(f).get("width"), svg_root(f).get("height")) for f in frames}
    assert len(sizes) == 1  # hidden rows keep their place, so nothing jumps between frames
    # frame k shows exactly the first k adjoints in colour
    gradient = THEMES["light"].gradient.lower()
    shown = [sum(1 for t in svg_root(f).iter(f"{SVG}text") if t.get("fill") == gradient and t.text.startswith(("∂y/", "dy/")) and "·" not in t.text) for f in frames]
    assert shown[0] >= 1 and shown == sorted(shown) and shown[-1] > shown[0]
    index = (tmp_path / "steps" / "index.md").read_text()
    assert index.count("](frame-") == len(order) and "1. ∂y/∂y = 1" in index
    beamer = (tmp_path / "steps" / "frames.tex").read_text()
    assert all(f"\\includegraphics<{k}>" in beamer for k in range(1, len(order) + 1))


def test_frames_need_a_backward_view(product, tmp_path):
    with pytest.raises(InputError, match="view='forward': frames step through the backward pass"):
        write_frames(product, tmp_path, view="forward")


# --- without Graphviz -------------------------------------------------------------------------------


def test_missing_dot_is_one_clear_error_and_the_dot_source_is_still_written(product, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(GraphvizMissing) as error:
        render(product).save(tmp_path / "g.svg")
    message = str(error.value)
    assert "\n" not in message
    assert all(hint in message for hint in ("apt-get install graphviz", "brew install graphviz", "conda install"))
    assert (tmp_path / "g.dot").read_text().startswith("digraph symgraph")
    assert render(product).save(tmp_path / "only.dot").exists()  # DOT alone never needs dot
    assert "No picture: Graphviz's dot program is not installed" in product._repr_mimebundle_()["text/html"]  # tests/test_notebook.py


# --- the command line ------------------------------------------------------------------------------


@pytest.fixture
def run():
    def invoke(*args):
        return CliRunner().invoke(app, list(args), prog_name="symgraph")

    return invoke


@needs_dot
def test_cli_render_the_issue_example(run, tmp_path):
    out = tmp_path / "g.svg"
    result = run("render", PRODUCT, "--view", "backward", "--at", "x=0.5", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"wrote {out}\n" and result.stderr == ""
    texts = "".join(t.text or "" for t in svg_root(out).iter(f"{SVG}text"))
    assert "∂y/∂a" in texts and "2.256" in texts


@needs_dot
def test_cli_frames_format_and_derive_shortcut(run, tmp_path):
    result = run("render", CARD, "--at", "x=0.5", "--frames", str(tmp_path / "f"), "--format", "png", "--theme", "print")
    assert result.exit_code == 0, result.stderr
    assert len(list((tmp_path / "f").glob("frame-*.png"))) == 5
    result = run("render", CARD, "-o", str(tmp_path / "g.picture"), "--format", "dot", "--style", "ops")
    assert result.exit_code == 0 and (tmp_path / "g.picture").read_text().startswith("digraph")
    result = run("derive", CARD, "--render", str(tmp_path / "d.svg"), "--no-check")
    assert result.exit_code == 0 and "Chain rule" in result.stdout and (tmp_path / "d.svg").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["render", CARD], "error: say where to draw: -o FILE"),
        (["render", CARD, "-o", "g.gif"], "error: cannot draw g.gif as 'gif'"),
        (["render", CARD, "-o", "g.svg", "--view", "up"], "error: Invalid value for '--view'"),
        (["render", CARD, "-o", "g.svg", "--theme", "neon"], "error: Invalid value for '--theme'"),
        (["render", CARD, "-o", "g.svg", "--highlight", "q"], "error: --highlight q: not an input of the program"),
        (["render", CARD, "-o", "g.svg", "--view", "combined"], "error: --view combined: this view shows numbers: give every input a value"),
        (["render", CARD, "--frames", "f", "--view", "symbolic"], "error: --view symbolic: frames step through the backward pass"),
        (["render", CARD, "-o", "/nonexistent/dir/g.dot"], "error: cannot write /nonexistent/dir/g.dot"),
    ],
)
def test_cli_render_errors_exit_2_with_one_line(run, args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith(message), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr + result.stdout


def test_cli_without_dot_writes_the_source_and_says_how_to_install(run, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = run("render", CARD, "-o", str(tmp_path / "g.png"))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: Graphviz's dot program is not installed, so")
    assert result.stderr.count("\n") == 1 and "apt-get install graphviz" in result.stderr
    assert (tmp_path / "g.dot").exists()


# --- tensor programs and clusters --------------------------------------------------------------------------

LAYER = "z = W @ h + c; g = log(1 + relu(z)); L = dot(v, g)"
LAYER_AT = {"W": "[[0,-1],[2,0],[1,1]]", "h": "[1, 2]", "c": "[0.5, -1, 0.2]", "v": "[1, 2, -1]"}


@pytest.fixture(scope="module")
def layer():
    return derive(LAYER, at=LAYER_AT)


def test_tensor_boxes_show_their_shape_and_small_values(layer):
    source = render(layer, "forward").source
    names = layer.graph.names
    w = node_line(source, f"n{names['W']}")
    assert "<B>W</B></FONT><FONT COLOR=\"#1A1A1A\"> ∈ ℝ<SUP>3×2</SUP>" in w
    assert w.count('SIDES="LTB"') == 1 and w.count('SIDES="RTB"') == 1  # a 3×2 matrix in brackets
    assert [cell for cell in re.findall(r'<TD ALIGN="RIGHT"><FONT COLOR="#006399">(?:&#8194;)?([^<]*)</FONT>', w)] == [
        "0", "−1", "2", "0", "1", "1"]
    z = text_of(node_line(source, f"n{names['z']}"))
    assert "z ∈ ℝ3" in z and "= [−1.5, 1, 3.2]" in z  # (the superscript's tags removed)
    assert "ℝ" not in text_of(node_line(source, f"n{layer.output}"))  # a scalar has no shape to show


def test_tensor_backward_view_shows_vector_jacobian_rules_and_local_partials(layer):
    source = render(layer, "backward").source
    names = layer.graph.names
    a = next(n for n in layer.graph.nodes("forward") if layer.graph[n]["op"] == "matmul")
    assert "Wᵀ ∂L/∂a" in text_of(edge_line(source, f"n{names['h']}", f"n{a}"))  # the matrix-product rule
    assert "∂L/∂a hᵀ" in text_of(edge_line(source, f"n{names['W']}", f"n{a}"))
    relu = next(n for n in layer.graph.nodes("forward") if layer.graph[n]["op"] == "relu")
    assert "∂b/∂z = 1(z &gt; 0) = [0, 1, 1]" in text_of(edge_line(source, f"n{names['z']}", f"n{relu}"))
    z = text_of(node_line(source, f"n{names['z']}"))
    assert "∂L/∂z = ∂L/∂b ⊙ 1(z &gt; 0)" in z and "= [0, 1, −0.238]" in z
    h = text_of(node_line(source, f"n{names['h']}"))
    assert "∂L/∂h = Wᵀ ∂L/∂a" in h and "= [1.76, −0.238]" in h
    assert 'SIDES="LTB"' in node_line(source, f"n{names['W']}")  # ∂L/∂W is a matrix


@pytest.mark.parametrize("view", VIEWS)
def test_every_view_of_a_tensor_program_builds(layer, view):
    source = render(layer, view, theme="dark", style="ops").source
    assert source.startswith("digraph symgraph {") and "subgraph" not in source and "_g" not in source
    if view != "combined":  # without values: shapes and rules, no numbers
        symbolic = text_of(render(derive("W: 3x2\nh: 2\nc: 3\nv: 3\n" + LAYER), view).source)
        assert "∈ ℝ3×2" in symbolic and "= [" not in symbolic


def test_large_tensors_are_summarised_by_their_range():
    d = derive("X: 3x7\nv: 7\nL = sum(tanh(X @ v))", at={"X": [[0.5] * 7] * 3, "v": [float(i) for i in range(7)]})
    source = text_of(render(d, "combined").source)
    assert "X ∈ ℝ3×7 = 0.5" in source  # all equal
    assert "entries 0 … 6" not in source and "= [0, 1, 2, 3, 4, 5, 6]" in source  # a vector of 7 is written out


def test_clusters_are_labelled_subgraphs_with_the_layers_unnamed_nodes(layer):
    clusters = {"layer": ["W", "c", "z"], "loss": ["g", "L"]}
    source = render(layer, "backward", clusters=clusters).source
    first = source[source.index("subgraph cluster_0 {"):source.index("subgraph cluster_1 {")]
    second = source[source.index("subgraph cluster_1 {"):]
    light = THEMES["light"]
    assert f'label=<<FONT COLOR="{light.cluster_text}">layer</FONT>>' in first and f'fillcolor="{light.cluster_fill}"' in first
    graph = layer.graph
    a = next(n for n in graph.nodes("forward") if graph[n]["op"] == "matmul")  # W h, read only by z
    for node in (graph.names["W"], graph.names["c"], graph.names["z"], a):
        assert f"\t\tn{node} [" in first
    for node in (graph.names["g"], layer.output):
        assert f"\t\tn{node} [" in second.split("}")[0]
    outside = source[:source.index("subgraph cluster_0")]
    assert f"\tn{graph.names['h']} [" in outside and f"\tn{graph.names['v']} [" in outside
    assert " -> " not in first  # edges stay in the graph, so no node is pulled into a frame
    assert render(layer, "backward", clusters=clusters).source == source


def test_clusters_with_an_unknown_name_are_an_input_error(layer):
    with pytest.raises(InputError, match="cluster 'layer': q is not a name of the program"):
        render(layer, clusters={"layer": ["q"]})


def test_scalar_pictures_take_clusters_too(product):
    source = render(product, "forward", clusters={"left": ["a"], "right": ["b"]}).source
    assert source.count("subgraph cluster_") == 2 and "ℝ" not in source
    assert "subgraph" not in render(product, "forward").source


@needs_dot
def test_a_clustered_tensor_picture_draws(layer, tmp_path):
    path = render(layer, "combined", clusters={"layer": ["W", "c", "z"]}).save(tmp_path / "g.svg")
    titles = {t.text for t in svg_root(path).iter(f"{SVG}title")}
    assert "cluster_0" in titles
    texts = {t.text.strip() for t in svg_root(path).iter(f"{SVG}text") if t.text}
    assert {"layer", "W", "−1", "∂L/∂W"} <= texts


# --- large graphs: the collapsed view and the size limit ------------------------------------------------


def boxes_of(source: str) -> dict[int, str]:
    """Node id → its label line, for the graph's own boxes (not the dashed copies)."""
    return {int(m[1]): m[0] for m in re.finditer(r"^\tn(\d+) \[.*$", source, re.MULTILINE)}


def test_the_collapsed_view_keeps_the_names_and_folds_the_steps_between(product):
    graph = product.graph
    full, collapsed = render(product, "combined").source, render(product, "combined", collapse=True).source
    named = {graph.names[n] for n in ("x", "a", "b", "y")}
    assert set(boxes_of(collapsed)) == named and len(boxes_of(full)) == 9
    a, b, y, x = (boxes_of(collapsed)[graph.names[n]] for n in "abyx")
    assert "= 3x + σ(x)" in a and "= x² − exp(−x)" in b and "= a·b" in y
    for node, line in boxes_of(collapsed).items():  # the same values and adjoints as in the whole picture
        numbers = re.findall(r"= (−?[\d.]+)<", boxes_of(full)[node])
        assert numbers and numbers == re.findall(r"= (−?[\d.]+)<", line)
    edges = set(re.findall(r"^\tn(\d+) -> n(\d+)", collapsed, re.MULTILINE))
    ids = {name: str(graph.names[name]) for name in "xaby"}
    assert edges == {(ids["x"], ids["a"]), (ids["x"], ids["b"]), (ids["a"], ids["y"]), (ids["b"], ids["y"])}
    assert "label=<" not in "".join(line for line in collapsed.splitlines() if " -> " in line)  # no partials on wires


def test_the_collapsed_backward_view_shows_each_adjoint_as_one_value(product):
    source = render(product, "backward", collapse=True).source
    a = boxes_of(source)[product.graph.names["a"]]
    assert "∂y/∂a" in a and "2.256" not in a and "·" not in a.split("∂y/∂a")[1]  # a value, not the chain sum
    assert " -> " in source and "dir=back" in source


def test_the_collapsed_view_of_a_tensor_program_keeps_its_notation(layer):
    source = render(layer, "forward", collapse=True).source
    z = boxes_of(source)[layer.graph.names["z"]]
    assert "= c + W h<" in z and "∈ ℝ<SUP>3</SUP>" in z
    assert len(boxes_of(source)) < len(boxes_of(render(layer, "forward").source))


def test_highlight_colours_the_collapsed_wires_of_each_path(product):
    source = render(product, "forward", highlight="x", collapse=True).source
    wires = [line for line in source.splitlines() if " -> " in line]
    assert len(wires) == 4 and all("color=" in line for line in wires)
    assert len({re.search(r'color="([^"]+)"', line)[1] for line in wires}) == 2  # two paths, two colours


@pytest.mark.parametrize(
    "kwargs, message",
    [({"view": "symbolic"}, "the symbolic view is the nodes added"), ({"view": "backward", "frames": True}, "frames step through every node")],
)
def test_what_the_collapsed_view_cannot_show(product, tmp_path, kwargs, message):
    with pytest.raises(InputError, match=message):
        if kwargs.get("frames"):
            write_frames(product, tmp_path / "f", collapse=True)
        else:
            render(product, kwargs["view"], collapse=True)


def test_a_picture_over_the_limit_is_refused_with_the_ways_to_a_smaller_one(product, tmp_path, monkeypatch):
    monkeypatch.setattr(symgraph.output.render, "MAX_BOXES", 6)
    picture = render(product, "backward")  # 9 boxes and 11 partials on its wires
    with pytest.raises(LimitError, match=r"9 boxes and 11 edge labels, more than the 6 .*--collapse: 4 boxes.*"
                                          r"g.svg was not drawn, its DOT source is in .*g.dot"):
        picture.save(tmp_path / "g.svg")
    assert not (tmp_path / "g.svg").exists()
    assert (tmp_path / "g.dot").read_text() == picture.source  # nothing is lost
    assert picture.save(tmp_path / "h.dot").read_text() == picture.source
    monkeypatch.setattr(symgraph.output.render, "MAX_BOXES", 3)
    with pytest.raises(LimitError, match="4 boxes, one per name the program assigns, still too many"):
        render(product, "forward").pipe("png")
    with pytest.raises(LimitError) as refused:
        render(product, "forward", collapse=True).pipe("svg")
    assert "--collapse" not in str(refused.value) and "--format dot" in str(refused.value)


@needs_dot
def test_a_failing_dot_is_an_error_with_its_own_words():
    with pytest.raises(DrawingFailed, match=r"Graphviz's dot could not draw the picture \(.*syntax error"):
        run_dot("digraph { a -> }", "svg")


def test_a_sum_of_many_terms_shows_its_shape_in_the_box():
    d = derive("y = " + " + ".join(f"x{k}**2" for k in range(40)))
    line = boxes_of(render(d, "forward").source)[d.output]
    assert "…" in line and "(40 terms)" in line and line.count(" + ") == MAX_TERMS - 1


@needs_dot
def test_cli_collapse_and_the_refusal(run, tmp_path, monkeypatch):
    out = tmp_path / "g.svg"
    result = run("render", PRODUCT, "--at", "x=0.5", "--view", "backward", "--collapse", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert svg_root(out) is not None
    monkeypatch.setattr(symgraph.output.render, "MAX_BOXES", 6)
    result = run("render", PRODUCT, "--at", "x=0.5", "-o", str(out))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: the picture would have 9 boxes, more than the 6")
    assert result.stderr.rstrip().endswith(f"its DOT source is in {out.with_suffix('.dot')}")
    assert out.with_suffix(".dot").read_text().startswith("digraph")


def test_a_format_is_named_by_the_parameter_when_given_and_by_the_suffix_otherwise():
    assert format_of("g.PNG") == "png" and format_of("g.svg", "pdf") == "pdf"
    with pytest.raises(InputError, match=re.escape("fmt='gif': unknown format; formats are svg, png, pdf, dot")):
        format_of("g.svg", "gif")
    with pytest.raises(InputError, match=re.escape("cannot draw g.gif as 'gif'")) as error:
        format_of("g.gif")
    assert error.value.parameter is None



@pytest.mark.parametrize("name", list(THEMES))
def test_every_theme_passes_wcag_aa_and_paths_differ_from_values_and_gradients(name):
    theme = THEMES[name]
    fills = (theme.background, theme.fill, theme.input_fill, theme.gradient_fill, theme.cluster_fill)
    for colour in (theme.text, theme.value, theme.gradient, theme.cluster_text):
        assert min(contrast(colour, fill) for fill in fills) >= 4.5, (name, colour)  # text
    for colour in theme.paths:
        assert contrast(colour, theme.background) >= 3, (name, colour)  # lines
    if name != "print":  # print tells paths apart by shade and dash, values and gradients by position
        assert not {theme.value, theme.gradient} & set(theme.paths)
