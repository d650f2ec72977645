"""Render timings for graphs of about 500 (or 5,000) nodes (run by hand: python bench/bench_render.py [size] [--timeout s]).

The pictures issue asks that a 500-node graph render to SVG in a few seconds; the performance issue asks that
a 5,000-node graph either render within 30 s or be refused with a clear message. Each view is timed whole
(refused, as symgraph refuses it, above symgraph.output.render.MAX_BOXES boxes and edge labels) and collapsed. Two shapes: a deep
chain (an unrolled recurrent cell, the long thin graph dot lays out fastest) and a
braided DAG in which every node reads the two before it (many crossings to untangle).
Each line splits the time into building the Derivation, building the DOT text (scene + drawing), and `dot`;
`dot` runs as a subprocess with a time limit, so a layout that would take minutes is reported as over it.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import subprocess
import time

import symgraph
import symgraph.lang.limits
from symgraph.output.render import render


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


def layout(source: str, timeout: float) -> tuple[bytes | str, float]:
    """`dot -Tsvg` on the source, as symgraph.output.render.run_dot runs it, but stopped after `timeout` seconds.

    Returns the SVG, or why there is none (over the time limit, or dot's own error), and the seconds taken.
    """
    start = time.perf_counter()
    try:
        done = subprocess.run(["dot", "-Tsvg"], input=source.encode("utf-8"), capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"over {timeout:.0f} s", time.perf_counter() - start
    if done.returncode != 0:
        error = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return f"dot failed (exit {done.returncode}): {error[-1] if error else 'no message'}", time.perf_counter() - start
    return done.stdout, time.perf_counter() - start


def main(size: int = 500, timeout: float = 120.0, views: tuple[str, ...] = ("forward", "backward", "symbolic")) -> None:
    # The parser's default limits are for typed programs; these are generated, and larger.
    limits = symgraph.lang.limits.LIMITS
    symgraph.lang.limits.LIMITS = dataclasses.replace(
        limits, max_nodes=max(limits.max_nodes, 10 * size), max_text_length=max(limits.max_text_length, 100 * size)
    )
    print(f"{'program':<8} {'view':<19} {'nodes':>6} {'edges':>6} {'derive':>8} {'DOT':>8} {'dot→SVG':>9} {'SVG KiB':>8}")
    for name, program, at in (
        ("rnn", rnn(size // 3), {"x": 0.5, "w": 0.9, "b": 0.1}),
        ("braid", braid(size // 3), {"x": 0.5, "w": 0.9}),
    ):
        d, t_derive = timed(lambda: symgraph.derive(program, at=at))
        for view, collapse in [(v, False) for v in views] + [(v, True) for v in views if v != "symbolic"]:
            picture, t_dot_text = timed(lambda: render(d, view, collapse=collapse))
            source = picture.source
            nodes = len(re.findall(r"^\tn\d+ \[", source, re.MULTILINE))  # the graph's nodes, not copies
            edges = len(re.findall(r"^\t\S+ -> \S+", source, re.MULTILINE))  # copies of shared inputs included
            shown = f"{view}{' collapsed' if collapse else ''}"
            line = f"{name:<8} {shown:<19} {nodes:>6} {edges:>6} {t_derive:>7.2f}s {t_dot_text:>7.2f}s"
            if picture.too_large:  # what symgraph.render does: no layout, a message
                print(f"{line} {'refused':>9} {'—':>8}  (over symgraph.output.render.MAX_BOXES)", flush=True)
                continue
            svg, t_layout = layout(source, timeout)
            kib = f"{len(svg) / 1024:>8.0f}" if isinstance(svg, bytes) else f"{'—':>8}"
            line = f"{line} {t_layout:>8.2f}s {kib}"
            print(line if isinstance(svg, bytes) else f"{line}  ({svg})", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", nargs="?", type=int, default=500, help="nodes of the forward graph (about)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before a `dot` layout is stopped")
    parser.add_argument("--views", default="forward,backward,symbolic")
    args = parser.parse_args()
    main(args.size, args.timeout, tuple(args.views.split(",")))
