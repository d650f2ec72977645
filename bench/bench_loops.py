"""A loop unrolled by the parser against the same program written out (run by hand: python bench/bench_loops.py).

Issue 15 asks that an unrolled loop of 1,000 steps derives in the same time as the program written out: the
parser expands `for t in range(T)` into the straight-line program, so only parsing may differ. Each size is
timed end to end through the API (parse, derive, JSON with the check), best of three, scalar and tensor RNNs.
"""

from __future__ import annotations

import dataclasses
import time

import symgraph
import symgraph.lang.limits

SIZES = (250, 500, 1000)


def scalar(steps: int) -> tuple[str, str]:
    head = f"x: {steps}\n"
    loop = head + f"h = start\nfor t in range({steps}):\n    h = tanh(w*h + x[t])\nL = h"
    lines = [head + "h_0 = start"] + [f"h_{t + 1} = tanh(w*h_{t} + x[{t}])" for t in range(steps)] + [f"L = h_{steps}"]
    return loop, "\n".join(lines)


def tensor(steps: int) -> tuple[str, str]:
    head = f"W: 2x2; U: 2x2; xs: {steps}x2; start: 2\n"
    loop = head + f"h = start\nfor t in range({steps}):\n    h = tanh(W @ h + U @ xs[t])\nL = sum(h)"
    lines = ["h_0 = start"] + [f"h_{t + 1} = tanh(W @ h_{t} + U @ xs[{t}])" for t in range(steps)] + [f"L = sum(h_{steps})"]
    return loop, head + "\n".join(lines)


def best(text: str, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        symgraph.derive(text).to_json()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    symgraph.lang.limits.LIMITS = dataclasses.replace(symgraph.lang.limits.LIMITS, max_nodes=10**6)
    print("| T | scalar, loop | scalar, written out | tensor, loop | tensor, written out |")
    print("|---|---|---|---|---|")
    for steps in SIZES:
        row = [best(text) for family in (scalar, tensor) for text in family(steps)]
        print(f"| {steps:,} | " + " | ".join(f"{t:.2f} s" for t in row) + " |")


if __name__ == "__main__":
    main()
