"""Render timings for graphs of about 500 nodes (run by hand: python bench/bench_render.py).

The issue asks that a 500-node graph render to SVG in a few seconds. Two shapes: a deep
chain (an unrolled recurrent cell, the long thin graph dot lays out fastest) and a
braided DAG in which every node reads the two before it (many crossings to untangle).
Each line splits the time into building the Derivation, building the DOT text, and `dot`.
"""

from __future__ import annotations

import re
import sys
import time

import symgraph
from symgraph.render import render


def rnn(steps: int) -> str:
    """h_t = tanh(w·h_{t−1} + b): three nodes a step."""
    lines = ["h0 = tanh(w*x + b)"] + [f"h{t} = tanh(w*h{t - 1} + b)" for t in range(1, steps)]
    return "; ".join(lines)


def braid(steps: int) -> str:
    """a_t = sin(a_{t−1})·a_{t−2} + x: every node has two readers, so the graph is wide and crossed."""
    lines = ["a0 = x", "a1 = x*w"] + [f"a{t} = sin(a{t - 1})*a{t - 2} + w" for t in range(2, steps)]
    return "; ".join(lines)


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def main(size: int = 500) -> None:
    print(f"{'program':<8} {'view':<9} {'nodes':>6} {'derive':>8} {'DOT':>8} {'dot→SVG':>8} {'SVG KiB':>8}")
    for name, program, at in (
        ("rnn", rnn(size // 3), {"x": 0.5, "w": 0.9, "b": 0.1}),
        ("braid", braid(size // 3), {"x": 0.5, "w": 0.9}),
    ):
        d, t_derive = timed(lambda: symgraph.derive(program, at=at))
        for view in ("forward", "backward", "symbolic"):
            picture, t_dot_text = timed(lambda: render(d, view))
            svg, t_layout = timed(lambda: picture.pipe("svg"))
            nodes = len(re.findall(r"^\tn\d+ \[", picture.source, re.MULTILINE))  # the graph's nodes, not copies
            print(f"{name:<8} {view:<9} {nodes:>6} {t_derive:>7.2f}s {t_dot_text:>7.2f}s {t_layout:>7.2f}s {len(svg) / 1024:>8.0f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
