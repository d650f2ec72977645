"""A Network (symgraph.params) laid out as an exam's table: text for terminals, Markdown, JSON.

These functions only lay out what the Network already holds; they compute no shapes or counts.
"""

from __future__ import annotations

import json

from symgraph.params.network import Network
from symgraph.params.sizes import shape_text

__all__ = ["FORMATS", "to_text", "to_markdown", "to_dict", "to_json", "render"]

FORMATS = ("text", "markdown", "json")
_HEADER = ("#", "layer", "output", "weights", "biases", "parameters")


def _title(net: Network) -> str:
    shapes = f"input {shape_text(net.input_shape)} → output {shape_text(net.output_shape)}"
    return f"{shapes}; shapes per example, in PyTorch's order"


def _cells(net: Network) -> list[tuple[str, ...]]:
    """One row of strings per layer, then the totals."""
    rows: list[tuple[str, ...]] = [
        (r.call.name, r.call.text, shape_text(r.output_shape), f"{r.count.weights:,}", f"{r.count.biases:,}",
         f"{r.params:,}") for r in net.rows]
    return rows + [("", "total", "", f"{net.total_weights:,}", f"{net.total_biases:,}", f"{net.total:,}")]


def _working(net: Network) -> list[tuple[str, str, str]]:
    return [(r.call.name, r.call.layer.name, r.working) for r in net.rows if r.working]


def _total(net: Network) -> str:
    """The total, and which convention it follows when PyTorch would count otherwise."""
    line = f"{net.total:,} parameters"
    if net.total_pytorch == net.total:
        return line
    kinds = list(dict.fromkeys(f"nn.{r.call.layer.name}" for r in net.rows if r.pytorch_params != r.params))
    return (f"{line}, counting one bias vector per gate (the textbook count); PyTorch's parameters() hold "
            f"{net.total_pytorch:,}, since {', '.join(kinds)} {'keeps' if len(kinds) == 1 else 'keep'} two (b_ih and b_hh)")


def to_text(net: Network) -> str:
    cells = [_HEADER, *_cells(net)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(_HEADER))]
    right = (True, False, False, True, True, True)
    lines = [f"Network  ({_title(net)})", ""]
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
    lines = [f"**Network** ({_title(net)})", "", "| " + " | ".join(_HEADER) + " |", "|---:|---|---|---:|---:|---:|"]
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


def to_dict(net: Network) -> dict:
    layers = [
        {
            "name": r.call.name,
            "type": r.call.layer.name,
            "text": r.call.text,
            "input_shape": list(r.input_shape),
            "output_shape": list(r.output_shape),
            "weights": r.count.weights,
            "biases": r.count.biases,
            "params": r.params,
            "pytorch_params": r.pytorch_params,
            "working": r.working,
        }
        for r in net.rows
    ]
    return {
        "input_shape": list(net.input_shape),
        "batch": net.batch,
        "output_shape": list(net.output_shape),
        "layers": layers,
        "total": net.total,
        "total_weights": net.total_weights,
        "total_biases": net.total_biases,
        "total_pytorch": net.total_pytorch,
        "convention": "textbook: one bias vector per gate of a recurrent layer; total_pytorch counts PyTorch's two",
        "notes": list(net.notes),
    }


def to_json(net: Network) -> str:
    return json.dumps(to_dict(net), indent=2, ensure_ascii=False) + "\n"


def render(net: Network, fmt: str) -> str:
    return {"text": to_text, "markdown": to_markdown, "json": to_json}[fmt](net)
