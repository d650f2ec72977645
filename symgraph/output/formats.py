"""A Derivation as text (terminal), Markdown (notebooks, pages), LaTeX (slides) and JSON (programs).

These functions only lay out what the Derivation already holds; they do no algebra.
"""

from __future__ import annotations

import itertools
import json
import re
import textwrap

import numpy as np
import sympy as sp

from symgraph import ops
from symgraph.explain.printing import latex, value_latex, value_text
from symgraph.explain.steps import Step
from symgraph.lang.source import source_writer
from symgraph.notation import latex_comment, latex_name, markdown_cell, markdown_math, number, pretty_name
from symgraph.ops.tensor import shape_text
from symgraph.output.view import DerivationView

__all__ = ["to_text", "to_markdown", "to_latex", "to_json", "to_dict", "WRITERS", "FORMATS", "render_format"]



def _op_word(d: DerivationView, node: int) -> str:
    op_name = d.graph[node]["op"]
    word = "input" if op_name is None else ops.get(op_name).rule.removesuffix(" rule")
    return f"{word}, {shape_text(d.graph.shape(node))}" if d.is_tensor else word


#: Text, Markdown and LaTeX list this many graph nodes, then count the rest (JSON lists all).
MAX_LISTED_NODES = 60


def _forward_rows(d: DerivationView):
    """(names, definition in Unicode, LaTeX, op word, value) for the first MAX_LISTED_NODES forward nodes."""
    graph, writer = d.graph, d.writer
    for node in itertools.islice(graph.nodes("forward"), MAX_LISTED_NODES):
        data = graph[node]
        names = (data["name"], *data["aliases"])
        expr = graph.expr(node)
        yield names, writer.text(expr), writer.latex(expr), _op_word(d, node), d.value(node)


def _more_nodes(d: DerivationView) -> list[str]:
    hidden = sum(1 for _ in d.graph.nodes("forward")) - MAX_LISTED_NODES
    return [f"… and {hidden:,} more nodes (--format json lists every node)"] if hidden > 0 else []


#: Text and Markdown list this many of the check's reasons, then count the rest (JSON lists all).
MAX_LISTED_REASONS = 20


def _check_reasons(d: DerivationView) -> list[str]:
    reasons = d.check().reasons
    hidden = len(reasons) - MAX_LISTED_REASONS
    more = [f"… and {hidden:,} more (--format json lists every reason)"] if hidden > 0 else []
    return reasons[:MAX_LISTED_REASONS] + more


def _header(d: DerivationView) -> str:
    inputs = ", ".join(_input_text(d, n) for n in d.inputs) or "none"
    noun = "input" if len(d.inputs) == 1 else "inputs"
    return f"{noun} {inputs} → output {pretty_name(d.output_name)}"


def _input_text(d: DerivationView, name: str) -> str:
    text = pretty_name(name)
    if d.is_tensor and d.graph.shape(d.inputs[name]):
        text += f" ({shape_text(d.graph.shape(d.inputs[name]))})"
    return text + (f" = {value_text(d.at[name])}" if name in d.at else "")


def _chain_title(d: DerivationView) -> str:
    counts = d.path_counts()
    if len(counts) == 1:
        (name, count), = counts.items()
        return f"Chain rule: {count:,} path{'s' if count != 1 else ''} from {pretty_name(name)} to {pretty_name(d.output_name)}"
    return f"Chain rule: sum over the paths from each input to {pretty_name(d.output_name)}"


def _sections(d: DerivationView):
    """(title, steps) in reading order."""
    by_kind: dict[str, list[Step]] = {"local": [], "path": [], "result": [], "backprop": [], "update": []}
    for step in d.steps:
        by_kind[step.kind].append(step)
    if d.is_tensor:
        sections = [("Backpropagation, from the output (matrix notation; ⊙ is the elementwise product)", by_kind["backprop"]),
                    ("Result", by_kind["result"])]
    else:
        sections = [
            ("Local derivatives", by_kind["local"]),
            (_chain_title(d), by_kind["path"]),
            ("Result" if d.order == 1 else "Result (gradient, then second derivatives)", by_kind["result"]),
        ]
    if d.update is not None:
        rate, decay = d.update
        decayed = f", weight decay λ = {number(decay)}" if decay else ""
        sections.append((f"One gradient-descent step (learning rate η = {number(rate)}{decayed})", by_kind["update"]))
    return [(title, steps) for title, steps in sections if steps]


#: Text lines wrap at this width in files (the CLI uses the terminal's width on a terminal).
TEXT_WIDTH = 100


def _wrapped(line: str, width: int) -> list[str]:
    """A long line broken at spaces, its continuation lines hanging under the right-hand side of its first '='."""
    if len(line) <= width:
        return [line]
    indent = len(line) - len(line.lstrip())
    equals, label = line.find(" = "), re.match(r"\s*\S+  (?=\S)", line)  # "Note  …", "Check  …"
    if indent <= equals < width // 2 and not (label and label.end() <= equals):
        hang = equals + 3
    else:
        hang = label.end() if label else indent + 4
    kept = line.replace("  ✓ ", "  ✓\xa0").replace("  ✗ ", "  ✗\xa0").replace("  ? ", "  ?\xa0")  # a verdict stays whole
    pieces = textwrap.wrap(kept, width, subsequent_indent=" " * hang, break_long_words=False, break_on_hyphens=False)
    return [piece.replace("\xa0", " ") for piece in pieces]


def to_text(d: DerivationView, include_check: bool = True, width: int = TEXT_WIDTH) -> str:
    lines = [f"Graph  ({_header(d)})"]
    rows = []
    for names, expr, _, word, value in _forward_rows(d):
        shown = f"{_pretty(names)} = {expr}" + (f" = {value_text(value)}" if value is not None else "")
        rows.append((shown, word))
    # the op words line up in a column, unless a row too long for the width would push them all out
    column = max((len(shown) for shown, _ in rows if len(shown) + 20 <= width), default=0)
    lines += [f"  {shown:<{column}}    {word}" for shown, word in rows]
    lines += [f"  {note}" for note in _more_nodes(d)]
    lines += [f"\nNote  {note}" for note in d.notes]
    for title, steps in _sections(d):
        lines += ["", title]
        indent = 0
        for step in steps:
            if step.lhs or step.note:
                indent = len(step.lhs)
                lines.append(f"  {step.text}")
            else:
                lines.append(f"  {'':<{indent}} = {step.rhs}")
    if include_check and d.checked:
        lines += ["", f"Check  {d.check().summary()}"]
        lines += [f"  {reason}" for reason in _check_reasons(d)]
    return "\n".join(wrapped for line in "\n".join(lines).split("\n") for wrapped in _wrapped(line, width)) + "\n"


def to_markdown(d: DerivationView, include_check: bool = True) -> str:
    lines = [f"**Graph** ({_header(d)})", "", "| node | definition | op | value |", "|---|---|---|---|"]
    for names, _, tex, word, value in _forward_rows(d):
        cells = (markdown_cell(_pretty(names)), f"${markdown_math(tex)}$", markdown_cell(word), _markdown_value(value))
        lines.append(f"| {' | '.join(cells)} |")
    lines += [f"| {note} | | | |" for note in _more_nodes(d)]
    lines += [f"\n> {note}" for note in d.notes]
    for title, steps in _sections(d):
        lines += ["", f"**{title}**", ""]
        lines += [_markdown_step(step) for step in steps]
    if include_check and d.checked:
        lines += ["", f"**Check** {d.check().summary()}"]
        lines += [f"- {reason}" for reason in _check_reasons(d)]
    return "\n".join(lines) + "\n"


def _markdown_value(value) -> str:
    """A number as text; a small tensor as a LaTeX matrix."""
    if value is None:
        return ""
    return markdown_cell(value_text(value)) if getattr(value, "ndim", 0) == 0 else f"${markdown_math(value_latex(value))}$"


def _markdown_step(step) -> str:
    if step.note:
        return f"- {step.text}"
    return f"- ${step.latex}$" if step.lhs else f"  $= {step.rhs_latex}$"


#: What the LaTeX needs beyond LaTeX itself: align*, bmatrix, \operatorname and \text are amsmath's.
LATEX_PACKAGES = ("amsmath",)
_STANDALONE = (r"\documentclass{article}", rf"\usepackage{{{','.join(LATEX_PACKAGES)}}}",
               r"\allowdisplaybreaks  % a long derivation continues on the next page", r"\begin{document}")


def to_latex(d: DerivationView, include_check: bool = True, standalone: bool = False) -> str:
    """An align* fragment that names its packages in its first line; `standalone` wraps it in a document."""
    lines = [rf"% needs \usepackage{{{','.join(LATEX_PACKAGES)}}}", r"\begin{align*}"]
    for names, _, tex, _, value in _forward_rows(d):
        tail = f" = {value_latex(value)}" if value is not None else ""
        lines.append(rf"  {', '.join(latex_name(n) for n in names)} &= {tex}{tail} \\")
    for _, steps in _sections(d):
        for step in steps:
            if step.note:
                lines.append(rf"  & {step.rhs_latex} \\")
            else:
                lines.append(rf"  {step.lhs_latex} &= {step.rhs_latex} \\")
    lines[-1] = lines[-1].removesuffix(r" \\")
    lines.append(r"\end{align*}")
    lines += [latex_comment(f"note: {note}") for note in d.notes]
    if include_check and d.checked:
        summary = d.check().summary().replace("✓", r"$\checkmark$").replace("✗", "").replace("?", "")
        lines.append(latex_comment(f"check: {summary}"))
    if standalone:
        lines = [*_STANDALONE, *lines[1:], r"\end{document}"]
    return "\n".join(lines) + "\n"


def _pretty(names: tuple[str, ...]) -> str:
    return ", ".join(pretty_name(n) for n in names)


def _textbook_json(d: DerivationView, form: sp.Expr | None, source) -> dict | None:
    """The textbook form (verified equal to the derivative), or None where there is none beyond the others."""
    return None if form is None else {"expr": source(form), "latex": d.writer.latex(form)}


def to_dict(d: DerivationView, include_check: bool = True) -> dict:
    graph = d.graph
    source = source_writer()  # one printer for the document: a sub-expression shared by many forms is printed once
    nodes = []
    for node in graph.nodes("input", "forward"):
        data = graph[node]
        nodes.append(
            {
                "id": node,
                "name": data["name"],
                "aliases": list(data["aliases"]),  # the node's other names: nq = din*dk; nk = din*dk is one node
                "op": data["op"] or "input",
                "expr": source(graph.expr(node)),
                "args": [graph.label(o) if isinstance(o, int) else source(o) for o in data["operands"]],
                "value": _json_value(d.value(node)),
            }
        )
        if d.is_tensor:
            nodes[-1]["shape"] = list(graph.shape(node))
        if data.get("loop"):
            nodes[-1]["loop"] = dict(data["loop"])  # the iteration that made it: {"t": 2}
    gradient = {}
    for name, node in d.wrt.items():
        expr, mid = d.gradient[name], d.in_terms_of_intermediates[name]
        gradient[name] = {
            "expr": source(expr) if expr is not None else None,
            "in_terms_of_intermediates": source(mid) if mid is not None else None,
            "latex": d.writer.latex(expr) if expr is not None else None,
            "value": _json_value(d.gradient_value(name)),
            "tree_size": d.tree_size(name),
            "textbook": _textbook_json(d, d.textbook[name], source),
        }
        if d.is_tensor:
            value = gradient[name]["value"]
            gradient[name]["shape"] = list(np.shape(value)) if d.mode == "jacobian" and value is not None else list(graph.shape(node))
    hessian = None
    if d.hessian is not None:
        hessian = {
            i: {
                j: {
                    "expr": source(e) if e is not None else None,
                    "latex": latex(e, d.conventions.relu_at_zero) if e is not None else None,
                    "value": d.value(d.second[i].of(d.wrt[j])),
                }
                for j, e in row.items()
            }
            for i, row in d.hessian.items()
        }
    result = {
        "mode": d.mode,
        "output": graph.label(d.seed.of) if d.seed is not None else d.output_name,
        "upstream": {"name": graph.label(d.seed.node), "loss": d.output_name} if d.seed is not None else None,
        "inputs": list(d.inputs),
        "wrt": list(d.wrt),
        "order": d.order,
        "nodes": nodes,
        "gradient": gradient,
        "hessian": hessian,
        "steps": [{"kind": s.kind, "text": s.text, "latex": s.latex} for s in d.steps],
        "check": None,
        "conventions": {"relu_at_zero": d.conventions.relu_at_zero},
        "notes": d.notes,
        "step": None if d.step is None else {name: _json_value(value) for name, value in d.step.items()},
    }
    if include_check and d.checked:
        report = d.check()
        result["check"] = {
            "points": report.points,
            **_check_errors(report),
            "passed": report.passed,
            "status": report.status,
            "reasons": report.reasons,
        }
    return result


def _check_errors(report) -> dict:
    """The error figures as the text reports them, the same on every CPU: 2 significant digits, or the floor
    (then `below_floor` is true and the figure is a bound)."""
    figures = report.figures()
    if figures is None:
        return dict.fromkeys(("max_abs_error", "max_rel_error", "error_floor", "below_floor"))
    absolute, relative = figures
    return {
        "max_abs_error": absolute.value,
        "max_rel_error": relative.value,
        "error_floor": {"abs": absolute.floor, "rel": relative.floor},
        "below_floor": {"abs": absolute.bound, "rel": relative.bound},
    }


def _json_value(value):
    """A float, nested lists for a tensor, or None."""
    return value.tolist() if hasattr(value, "tolist") else value


def to_json(d: DerivationView, include_check: bool = True) -> str:
    return json.dumps(to_dict(d, include_check), indent=2, ensure_ascii=False) + "\n"


#: Every output format by name: the CLI's --format choices are these.
WRITERS = {"text": to_text, "markdown": to_markdown, "latex": to_latex, "json": to_json}
FORMATS = tuple(WRITERS)


def render_format(d: DerivationView, fmt: str, include_check: bool = True, width: int = TEXT_WIDTH,
                  standalone: bool = False) -> str:
    """The derivation in one format; `width` is where text lines wrap, `standalone` makes LaTeX a whole document."""
    if fmt == "text":
        return to_text(d, include_check, width)
    if fmt == "latex":
        return to_latex(d, include_check, standalone)
    return WRITERS[fmt](d, include_check)
