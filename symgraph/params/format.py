"""A Network (symgraph.params) laid out as an exam's table: text for terminals, Markdown, JSON.

These functions only lay out what the Network already holds; they compute no shapes or counts.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import sympy

from symgraph.params.network import Network, Row
from symgraph.params.sizes import Shape, Size, differ, num_text, shape_text

__all__ = ["FORMATS", "to_text", "to_markdown", "to_dict", "to_json", "render"]

FORMATS = ("text", "markdown", "json")
_HEADER = ("#", "layer", "output", "weights", "biases", "parameters")


def _pair(formula: Size | Shape, number: Size | Shape) -> str:
    """A cell: the formula, then ' = ' and its number when --size puts one in."""
    a, b = _text(formula), _text(number)
    return a if a == b else f"{a} = {b}"


def _text(value: Size | Shape) -> str:
    return shape_text(value) if isinstance(value, tuple) else num_text(value)


def _pairs(net: Network) -> list[tuple[Row, Row]]:
    return list(zip(net.rows, net.numbers.rows if net.numbers else net.rows))


def _title(net: Network) -> str:
    shapes = f"input {_total_cell(net, lambda n: n.input_shape)} → output {_total_cell(net, lambda n: n.output_shape)}"
    return f"{shapes}; shapes per example, in PyTorch's order"


def _total_cell(net: Network, value: Callable[[Network], Size | Shape]) -> str:
    return _pair(value(net), value(net.numbers or net))


def _sizes_line(net: Network) -> str:
    return ", ".join(f"{name} = {value:,}" for name, value in sorted(net.size.items()))


def _cells(net: Network) -> list[tuple[str, ...]]:
    """One row of strings per layer, then the totals."""
    columns: list[Callable[[Row], Size | Shape]] = [
        lambda r: r.output_shape, lambda r: r.count.weights, lambda r: r.count.biases, lambda r: r.params]
    rows: list[tuple[str, ...]] = [(r.call.name, r.call.text, *(_pair(cell(r), cell(n)) for cell in columns))
                                   for r, n in _pairs(net)]
    totals = (_total_cell(net, lambda n: n.total_weights), _total_cell(net, lambda n: n.total_biases),
              _total_cell(net, lambda n: n.total))
    return rows + [("", "total", "", *totals)]


def _working(net: Network) -> list[tuple[str, str, str]]:
    return [(r.call.name, r.call.layer.name, r.working) for r in net.rows if r.working]


def _total(net: Network) -> str:
    """The total, and which convention it follows when PyTorch would count otherwise."""
    line = f"{_total_cell(net, lambda n: n.total)} parameters"
    if not differ(net.total_pytorch, net.total):
        return line
    kinds = list(dict.fromkeys(f"nn.{r.call.layer.name}" for r in net.rows if differ(r.pytorch_params, r.params)))
    return (f"{line}, counting one bias vector per gate (the textbook count); PyTorch's parameters() hold "
            f"{_total_cell(net, lambda n: n.total_pytorch)}, since {', '.join(kinds)} "
            f"{'keeps' if len(kinds) == 1 else 'keep'} two (b_ih and b_hh)")


def to_text(net: Network) -> str:
    cells = [_HEADER, *_cells(net)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(_HEADER))]
    right = (True, False, False, True, True, True)
    lines = [f"Network  ({_title(net)})", *([f"Sizes  {_sizes_line(net)}"] if net.size else []), ""]
    for row in cells:
        padded = (c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right))
        lines.append(("  " + "  ".join(padded)).rstrip())
    working = _working(net)
    if working:
        name_width = max(len(n) for n, _, _ in working)
        kind_width = max(len(k) for _, k, _ in working)
        lines += ["", "Working"] + [f"  {n:>{name_width}}  {k:<{kind_width}}  {w}" for n, k, w in working]
    lines += ["", f"Total  {_total(net)}"]
    if net.notes:
        lines += ["", "Notes"] + [f"  {note}" for note in net.notes]
    return "\n".join(lines) + "\n"


def to_markdown(net: Network) -> str:
    sizes = [f"**Sizes** {_sizes_line(net)}", ""] if net.size else []
    lines = [f"**Network** ({_title(net)})", "", *sizes, "| " + " | ".join(_HEADER) + " |", "|---:|---|---|---:|---:|---:|"]
    *rows, totals = _cells(net)
    lines += [f"| {n} | `{text}` | {shape} | {w} | {b} | {p} |" for n, text, shape, w, b, p in rows]
    lines.append(f"| | **total** | | **{totals[3]}** | **{totals[4]}** | **{totals[5]}** |")
    working = _working(net)
    if working:
        lines += ["", "**Working**", ""] + [f"- {n} {k}: {w}" for n, k, w in working]
    lines += ["", f"**Total** {_total(net)}"]
    if net.notes:
        lines += [""] + [f"- {note}" for note in net.notes]
    return "\n".join(lines) + "\n"


def _json(value):
    """Numbers as numbers; a formula in letters as SymPy's text ('9*C*K + K'), which sympify reads back."""
    if isinstance(value, tuple):
        return [_json(v) for v in value]
    return sympy.sstr(value) if isinstance(value, sympy.Basic) else value


def _layer_dict(r: Row) -> dict:
    return {
        "name": r.call.name,
        "type": r.call.layer.name,
        "text": r.call.text,
        "input_shape": _json(r.input_shape),
        "output_shape": _json(r.output_shape),
        "weights": _json(r.count.weights),
        "biases": _json(r.count.biases),
        "params": _json(r.params),
        "pytorch_params": _json(r.pytorch_params),
        "working": r.working,
    }


_FORMULA_KEYS = ("input_shape", "output_shape", "weights", "biases", "params", "pytorch_params")


def to_dict(net: Network) -> dict:
    """The numbers (with --size put in) in the fields a table of numbers has; with letters, `formula` beside them."""
    shown = net.numbers or net
    layers = [_layer_dict(r) for r in shown.rows]
    if net.letters:
        for layer, (r, _) in zip(layers, _pairs(net)):
            formula = _layer_dict(r)
            layer["formula"] = {key: formula[key] for key in _FORMULA_KEYS} | {"working": formula["working"]}
    data = {
        "input_shape": _json(shown.input_shape),
        "batch": _json(shown.batch),
        "output_shape": _json(shown.output_shape),
        "layers": layers,
        "total": _json(shown.total),
        "total_weights": _json(shown.total_weights),
        "total_biases": _json(shown.total_biases),
        "total_pytorch": _json(shown.total_pytorch),
        "convention": "textbook: one bias vector per gate of a recurrent layer; total_pytorch counts PyTorch's two",
        "letters": list(net.letters),
        "size": dict(sorted(net.size.items())),
        "notes": list(net.notes),
    }
    if net.letters:
        data["formula"] = {key: _json(getattr(net, key)) for key in
                           ("input_shape", "output_shape", "total", "total_weights", "total_biases", "total_pytorch")}
    return data


def to_json(net: Network) -> str:
    return json.dumps(to_dict(net), indent=2, ensure_ascii=False) + "\n"


def render(net: Network, fmt: str) -> str:
    return {"text": to_text, "markdown": to_markdown, "json": to_json}[fmt](net)
