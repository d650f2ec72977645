"""A scene as a TikZ picture for a Beamer frame: Graphviz's positions, labels in LaTeX math, editable by hand.

render.py runs `dot -Tjson` on the picture's DOT and hands the layout here. The picture has one named \\node
per box (n12, as in the DOT), one \\draw per wire, and its colours and styles defined once at the top, so a
box can be moved or restyled by editing one line. A node's definition is written by the LaTeX printer
(symgraph.explain.printing); what else a box shows (values, adjoints, partials) is the scene's text put into
LaTeX by `math`. The picture is scaled down, never up, to fit the frame's width and 80 % of its height.
"""

from __future__ import annotations

import re

from symgraph import ops
from symgraph.engine.graph import is_node
from symgraph.errors import InputError
from symgraph.explain.printing import latex
from symgraph.notation import latex_comment, latex_name, one_line
from symgraph.output.scene_text import MAX_TERMS
from symgraph.output.scene_types import Box, Row, Scene, Wire
from symgraph.output.themes import Theme
from symgraph.output.view import DerivationView

__all__ = ["to_tikz", "math", "text", "TIKZ_PACKAGES"]

#: What the picture needs: Beamer loads amsmath and amssymb (bmatrix, \mathbb{R}) itself; tikz it does not.
TIKZ_PACKAGES = ("tikz", "amsmath", "amssymb")
_CM_PER_POINT = 2.54 / 72
#: The size of a box's text (\small in a Beamer frame): dot's positions are scaled from the drawing's font size to it.
TEXT_POINTS = 10
#: dy/dx, the total derivative a lead may be (partial_text): its d's are upright, not a name dy.
_TOTAL = re.compile(r"^d(\w+)/d(\w+)$")
_OP_WORDS = frozenset(word for op in ops.OPS.values() for word in op.text.split() if len(word) > 1 and word.isidentifier())
_SYMBOLS = {
    "·": r"\cdot ", "−": "-", "⊙": r"\odot ", "×": r"\times ", "…": r"\ldots ", "≥": r"\geq ", "≤": r"\leq ",
    "≠": r"\neq ", "∈": r"\in ", "ℝ": r"\mathbb{R}", "∂": r"\partial ", "|": r"\vert ", "𝟙": r"\mathbf{1}",
    "ᵀ": r"^{\top}", "→": r"\to ", "∞": r"\infty ", "±": r"\pm ", "∑": r"\sum ", "{": r"\{", "}": r"\}",
    "%": r"\%", "#": r"\#", "&": r"\&", "$": r"\$", "_": r"\_", "~": r"\sim ", "\\": r"\backslash ",
}
_TEXT_SPECIALS = {char: _SYMBOLS[char] for char in "{}%#&$_"} | {
    "\\": r"\textbackslash{}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
_SUPERS, _SUBS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "₀₁₂₃₄₅₆₇₈₉"
_SUPER_DIGITS = str.maketrans(_SUPERS, "0123456789-")
_SUB_DIGITS = str.maketrans(_SUBS, "0123456789")


def to_tikz(d: DerivationView, built: Scene, theme: Theme, layout: dict, view: str, fontsize: float) -> str:
    """The scene as a TikZ fragment: positions from `layout` (dot's -Tjson of the picture's DOT, laid out with
    text of `fontsize` points)."""
    where = {thing["name"]: thing["pos"] for thing in layout.get("objects", ()) if "pos" in thing}
    if any(f"n{box.node}" not in where for box in built.boxes) or any(box.op and f"o{box.node}" in where for box in built.boxes):
        raise InputError("TikZ pictures are drawn in the values style: leave out --style ops", parameter="style")
    lines = [
        latex_comment(f"symgraph's {view} view as a TikZ picture; needs \\usepackage{{{','.join(TIKZ_PACKAGES)}}} "
                      "(Beamer loads amsmath and amssymb) and \\usetikzlibrary{fit,backgrounds}"),
        latex_comment("one \\node per box (named as in the DOT), one \\draw per edge; move a box by editing its 'at (x,y)', in cm"),
        *_colours(theme),
        *_STYLES,
        r"\ifdefined\symgraphbox\else\newsavebox\symgraphbox\fi",
        r"\sbox\symgraphbox{\begin{tikzpicture}",
    ]
    for box in built.boxes:
        x, y = (float(c) * _CM_PER_POINT * TEXT_POINTS / fontsize for c in where[f"n{box.node}"].split(","))
        lines.append(rf"  \node[{_box_style(box)}] (n{box.node}) at ({x:.2f},{y:.2f}) {{{_label(d, box)}}};")
    lines += [_wire(wire) for wire in built.wires]
    if built.clusters:
        lines.append(r"  \begin{scope}[on background layer]")
        for cluster in built.clusters:
            fit = " ".join(f"(n{node})" for node in cluster.nodes)
            lines.append(rf"    \node[sg cluster, fit={fit}, label={{[sg cluster label]north west:{text(cluster.label)}}}] {{}};")
        lines.append(r"  \end{scope}")
    if built.legend:
        rows = r" \\ ".join(_row(row) for row in built.legend)
        lines.append(rf"  \node[sg legend] at (current bounding box.south west) {{{_tabular(rows)}}};")
    lines += [
        r"\end{tikzpicture}}",
        r"\ifdim\wd\symgraphbox>\linewidth\sbox\symgraphbox{\resizebox{\linewidth}{!}{\usebox\symgraphbox}}\fi",
        r"\ifdim\ht\symgraphbox>0.8\textheight\sbox\symgraphbox{\resizebox{!}{0.8\textheight}{\usebox\symgraphbox}}\fi",
        r"\usebox\symgraphbox",
    ]
    return "\n".join(lines) + "\n"


def _colours(theme: Theme) -> list[str]:
    named = {
        "sgbg": theme.background, "sgtext": theme.text, "sgline": theme.line, "sgmuted": theme.muted, "sgfill": theme.fill,
        "sginput": theme.input_fill, "sggradfill": theme.gradient_fill, "sgvalue": theme.value, "sggradient": theme.gradient,
        "sgcluster": theme.cluster_fill, "sgclusterline": theme.cluster_line, "sgclustertext": theme.cluster_text,
    } | {f"sgpath{i}": colour for i, colour in enumerate(theme.paths)}
    return [rf"\definecolor{{{name}}}{{HTML}}{{{colour.lstrip('#').upper()}}}" for name, colour in named.items()]


_STYLES = (
    r"\tikzset{",
    r"  sg box/.style={draw=sgline, fill=sgfill, text=sgtext, rounded corners=3pt, inner sep=2pt, line width=0.6pt, font=\small},",
    r"  sg input/.style={sg box, fill=sginput},",
    r"  sg output/.style={sg box, double, double distance=1pt},",
    r"  sg gradient box/.style={sg box, fill=sggradfill, draw=sggradient},",
    r"  sg muted/.style={draw=sgmuted, text=sgmuted},",
    r"  sg current/.style={draw=sggradient, line width=1.6pt},",
    r"  sg on path/.style={line width=1.2pt},",
    r"  sg wire/.style={->, >=stealth, draw=sgline, line width=0.6pt},",
    r"  sg gradient/.style={draw=sggradient},",
    r"  sg muted wire/.style={draw=sgmuted},",
    r"  sg label/.style={font=\scriptsize, fill=sgbg, fill opacity=0.85, text opacity=1, inner sep=1pt},",
    r"  sg cluster/.style={draw=sgclusterline, fill=sgcluster, rounded corners=4pt, inner sep=6pt},",
    r"  sg cluster label/.style={font=\scriptsize, text=sgclustertext, inner sep=1pt},",
    r"  sg legend/.style={anchor=north west, font=\scriptsize, text=sgtext},",
    r"}",
)


def _box_style(box: Box) -> str:
    styles = [{"input": "sg input", "output": "sg output", "gradient": "sg gradient box"}.get(box.kind, "sg box")]
    if box.muted:
        styles.append("sg muted")
    if box.paths:
        styles.append("sg on path" + (f", draw=sgpath{box.paths[0]}" if len(box.paths) == 1 else ""))
    if box.current:
        styles.append("sg current")
    return ", ".join(styles)


def _wire(wire: Wire) -> str:
    styles = ["sg wire"] + (["<-"] if wire.backward else [])
    styles += {"gradient": ["sg gradient"], "muted": ["sg muted wire"]}.get(wire.role, [])
    if wire.paths:
        styles += ["sg on path", f"draw=sgpath{wire.paths[0]}"]
    if wire.current:
        styles.append("line width=1.2pt")
    label = f" node[sg label] {{{_row(wire.label, inline=True)}}}" if wire.label is not None else ""
    return rf"  \draw[{', '.join(styles)}] (n{wire.source}) --{label} (n{wire.target});"


def _label(d: DerivationView, box: Box) -> str:
    """The box's rows in two columns, so that the '=' signs line up; the first is the name and its definition."""
    rows, definition = list(box.rows), _definition(d, box)
    if definition is not None:
        rest = f"${{}}= {definition}$"
    elif rows and not rows[0].lead:  # 'x' over '= 0.5' reads better as 'x = 0.5'
        rest, rows = _colour(rows[0], _cell(rows[0])), rows[1:]
    else:
        rest = ""
    return _tabular(r" \\ ".join([f"${_title(d, box)}$ & {rest}", *(_row(row) for row in rows)]))


def _tabular(body: str) -> str:
    return rf"\begin{{tabular}}{{@{{}}r@{{}}l@{{}}}}{body}\end{{tabular}}"


def _title(d: DerivationView, box: Box) -> str:
    data = d.graph[box.node]
    if data["kind"] == "gradient" or not data["name"]:
        name = math(box.name)
    else:
        name = ", ".join(latex_name(n) for n in (data["name"], *data["aliases"]))
    return name + (rf"\ {math(box.shape)}" if box.shape else "")


def _definition(d: DerivationView, box: Box) -> str | None:
    """The printer's LaTeX of the node's expression; the scene's text where the box folds several steps
    (the collapsed view), elides a long sum, or reads nodes of the backward sweep (the symbolic view)."""
    if box.definition is None:
        return None
    graph = d.graph
    operands = graph.operands(box.node)
    printable = box.op is not None and len(operands) <= MAX_TERMS and all(
        graph[o]["kind"] != "gradient" and graph[o]["name"] for o in operands if is_node(o))
    if not printable:
        return math(box.definition)
    return latex(graph.expr(box.node), d.conventions.relu_at_zero, graph.expr_shape if d.is_tensor else None)


def _row(row: Row, inline: bool = False) -> str:
    total = _TOTAL.fullmatch(row.lead)
    lead = rf"$\mathrm{{d}}{math(total[1])}/\mathrm{{d}}{math(total[2])}$" if total else f"${math(row.lead)}$" if row.lead else ""
    if inline:
        return _colour(row, lead + _cell(row))
    return f"{_colour(row, lead)} & {_colour(row, _cell(row))}"


def _cell(row: Row) -> str:
    if row.matrix is not None:
        body = r" \\ ".join(" & ".join(math(x) for x in cells) for cells in row.matrix)
        return rf"${{}}= \begin{{bmatrix}}{body}\end{{bmatrix}}$"
    rest = math(row.rest)
    return f"${{}}{rest}$" if rest else ""


def _colour(row: Row, tex: str) -> str:
    if not tex:
        return tex
    if row.role == "hidden":  # kept in place, so that every frame has the same layout
        return rf"\phantom{{{tex}}}"
    colour = f"sgpath{row.path}" if row.path is not None else {"value": "sgvalue", "gradient": "sggradient"}.get(row.role)
    return rf"\textcolor{{{colour}}}{{{tex}}}" if colour else tex


def math(source: str) -> str:
    """The scene's Unicode math as LaTeX math: ∂y/∂x → \\partial y/\\partial x, x² → x^{2}, √(a + b) →
    \\sqrt{a + b}, tanh → \\operatorname{tanh}, h₁ → h_{1}; anything TeX would read as a command is escaped."""
    source = one_line(source)
    out, i = [], 0
    while i < len(source):
        char = source[i]
        if _letter(char):
            j = i
            while j < len(source) and (_letter(source[j]) or source[j] in "0123456789"
                                       or source[j] == "_" and j + 1 < len(source) and source[j + 1].isascii() and source[j + 1].isalnum()):
                j += 1
            k = j
            while k < len(source) and source[k] in _SUBS:
                k += 1
            out.append(_word(source[i:j], source[j:k].translate(_SUB_DIGITS)))
            i = k
        elif char in _SUPERS:
            j = i
            while j < len(source) and source[j] in _SUPERS:
                j += 1
            out.append("^{" + source[i:j].translate(_SUPER_DIGITS) + "}")
            i = j
        elif char in "√^":
            argument, i = _argument(source, i + 1)
            out.append(rf"\sqrt{{{argument}}}" if char == "√" else f"^{{{argument}}}")
        else:
            out.append(_SYMBOLS.get(char, char if char.isascii() else r"\text{?}"))
            i += 1
    return re.sub(" +", " ", "".join(out)).strip()


def _letter(char: str) -> bool:
    return char.isalpha() and char not in _SYMBOLS


def _word(word: str, subscript: str) -> str:
    if word in _OP_WORDS:
        op = r"\operatorname{" + word.replace("_", r"\_") + "}"
        return f"{op}_{{{subscript}}}" if subscript else op  # log₂
    name = latex_name(word + subscript)
    if not name.isascii():  # a letter pdfLaTeX has no glyph for in math (Greek ones are commands by now)
        return r"\text{?}"
    return rf"\mathit{{{name}}}" if name == word and len(word) > 1 else name


def _argument(source: str, start: int) -> tuple[str, int]:
    """What √ or ^ applies to: a parenthesised group (without its parentheses) or the next name or number."""
    if start < len(source) and source[start] == "(":
        depth = 0
        for j in range(start, len(source)):
            depth += {"(": 1, ")": -1}.get(source[j], 0)
            if depth == 0:
                return math(source[start + 1:j]), j + 1
        return math(source[start + 1:]), len(source)
    j = start
    while j < len(source) and (source[j].isascii() and source[j].isalnum() or source[j] == "." or _letter(source[j])):
        j += 1
    return math(source[start:j]), j


def text(source: str) -> str:
    """A user's string (a cluster's label) as LaTeX text: TeX's special characters escaped, other symbols as math."""
    out = []
    for char in one_line(source):
        if char in _TEXT_SPECIALS:
            out.append(_TEXT_SPECIALS[char])
        elif char.isascii():
            out.append(char)
        else:
            out.append(f"${math(char)}$")
    return "".join(out)
