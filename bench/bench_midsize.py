"""Seeded random mid-size programs, symgraph derive + JSON (no check) against JAX make_jaxpr(grad) (run by hand).

Issue 18 asks for the sizes users actually write: random scalar programs of 50–200 operations and tensor programs
of 10–20 steps. Each program is a `families.Case`, so JAX runs the same function; both sides are timed in one
process, median over the programs (each program best of `--repeats`). The finite-difference check, which JAX
does not do, is its own column.
Run: .venv/bin/python bench/bench_midsize.py [--programs 15] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from families import Case, text
from methods import METHODS, jax_disagreement

import symgraph

_UNARY = ("tanh", "sigmoid", "softplus", "square")
_BINARY = ("add", "mul", "sub")


def scalar_program(seed: int) -> Case:
    """50–200 one-op lines over 5 inputs (line i < 5 reads x_i); operands drawn from the 8 latest values, so the graph is deep and shared."""
    rng = np.random.default_rng(seed)
    values = [f"x{i}" for i in range(5)]
    lines = []
    for i in range(int(rng.integers(50, 201)) - 1):
        recent = values[-8:]
        if rng.random() < 0.5:
            op, args = str(rng.choice(_UNARY)), (str(rng.choice(recent)),)
        else:
            op, args = str(rng.choice(_BINARY)), tuple(str(a) for a in rng.choice(recent, 2, replace=False))
        if i < 5 and f"x{i}" not in args:  # every input is used
            args = (f"x{i}", *args[1:])
        lines.append((f"v{i}", op, args))
        values.append(f"v{i}")
    lines.append(("L", "add", tuple(values[-4:])))
    return Case("random scalar", len(lines), tuple(values[:5]), tuple(lines))


def tensor_program(seed: int, width: int = 16) -> Case:
    """10–20 tensor steps: a layer W h + b, an activation, or an elementwise product with an earlier vector."""
    rng = np.random.default_rng(seed)
    shapes: dict[str, tuple[int, ...]] = {"x": (width,)}
    lines: list[tuple[str, str, tuple[str, ...]]] = []
    vectors = ["x"]
    steps = int(rng.integers(10, 21))
    for i in range(steps):
        kind = rng.random()
        if kind < 0.4:
            shapes |= {f"W{i}": (width, width), f"b{i}": (width,)}
            lines += [(f"a{i}", "matmul", (f"W{i}", vectors[-1])), (f"v{i}", "add", (f"a{i}", f"b{i}"))]
        elif kind < 0.8:
            lines.append((f"v{i}", str(rng.choice(("tanh", "sigmoid"))), (vectors[-1],)))
        else:
            lines.append((f"v{i}", "mul", (vectors[-1], str(rng.choice(vectors)))))
        vectors.append(f"v{i}")
    lines += [("q", "mul", (vectors[-1], vectors[-1])), ("L", "sum", ("q",))]
    return Case("random tensor", steps, tuple(shapes), tuple(lines), shapes, data=("x",))


def best(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def compare(make, programs: int, repeats: int) -> tuple[float, float, float, float, int, int, float]:
    """Median seconds of symgraph derive, of derive + JSON without the check, of the check alone and of JAX
    make_jaxpr(grad), the size range, and the largest gradient difference from JAX relative to the gradient's size."""
    derived, ours, checks, theirs, sizes, worst = [], [], [], [], [], 0.0
    jax = METHODS["jax make_jaxpr(grad)"]
    for seed in range(programs):
        case = make(seed)
        source = text(case)
        derived.append(best(lambda: symgraph.derive(source, wrt=case.wrt, at=case.point), repeats))
        ours.append(best(lambda: symgraph.derive(source, wrt=case.wrt, at=case.point).to_json(include_check=False), repeats))
        d = symgraph.derive(source, wrt=case.wrt, at=case.point)
        checks.append(best(lambda: (d.__dict__.pop("_check", None), d.check()), repeats))  # not the cached report
        theirs.append(best(lambda: jax(case), repeats))
        scale = max(1.0, *(float(np.max(np.abs(d.gradient_value(name)))) for name in case.wrt))
        worst = max(worst, (jax_disagreement(case, d) or 0.0) / scale)
        sizes.append(case.size)
    median = statistics.median
    return median(derived), median(ours), median(checks), median(theirs), min(sizes), max(sizes), worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    print(
        "| family | programs (ops or steps) | symgraph derive | derive + JSON (no check) | check | JAX make_jaxpr(grad) "
        "| JAX ÷ (derive + JSON) | max difference from JAX, relative |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for label, make in (("random scalar", scalar_program), ("random tensor (16 wide)", tensor_program)):
        derived, ours, checked, theirs, low, high, worst = compare(make, options.programs, options.repeats)
        print(
            f"| {label} | {options.programs} ({low}–{high}) | {derived * 1e3:.1f} ms | {ours * 1e3:.1f} ms "
            f"| {checked * 1e3:.1f} ms | {theirs * 1e3:.1f} ms | {theirs / ours:.2f}× | {worst:.1e} |"
        )

if __name__ == "__main__":
    main()
