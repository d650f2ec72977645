"""Run every family at every size with every method; print Markdown tables and write bench/latest.md.

    python bench/run.py [--quick] [--families F1,F3] [--repeats 3]

Each measurement is the median of several runs (other work shares the machine), each
starting from an empty SymPy cache. A method is
skipped at a size when its previous size predicts more than the budget (30 s), or when a run
exceeded it; SymPy is interrupted by an alarm at the budget. symgraph's time is parse + build
+ backward + straight-line evaluation; the finite-difference check is reported separately. At every
size symgraph's gradient values are compared with JAX's at the same point, so that a wrong program
is not benchmarked unnoticed.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import signal
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import numpy as np  # noqa: E402
from families import FAMILIES, SIZES  # noqa: E402
from methods import METHODS, NotApplicable, end_to_end, jax_disagreement, symgraph_method, versions  # noqa: E402
from sympy.core.cache import clear_cache  # noqa: E402

import symgraph.lang.limits  # noqa: E402
from symgraph.output.stats import stats  # noqa: E402

BUDGET = 30.0
#: Largest |symgraph − JAX| gradient entry accepted without a warning (both in float64).
AGREEMENT = 1e-8
SYMGRAPH_STAGES = ("parse", "build", "backward", "evaluate")
#: The column of what a user waits for (methods.end_to_end); not a method compared with the others.
_E2E = "end to end"


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout


def measure(method, case, repeats: int) -> tuple[float, dict[str, float], object]:
    """Median total seconds, median per stage, and the last result; one run when a run is slow."""
    totals, stages, result = [], {}, None
    for _ in range(repeats):
        clear_cache()  # SymPy's global cache would make every repeat after the first a lookup
        signal.setitimer(signal.ITIMER_REAL, BUDGET)
        try:
            times, result = method(case)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        timed = {k: v for k, v in times.items() if k != "check"}
        totals.append(sum(timed.values()))
        for stage, seconds in times.items():
            stages.setdefault(stage, []).append(seconds)
        if totals[-1] > 5:
            break
    return statistics.median(totals), {k: statistics.median(v) for k, v in stages.items()}, result


def peak_memory(case) -> float:
    """Peak Python allocation of one symgraph run, in MB (tracemalloc slows the run 2–3×, so never timed
    and skipped where a run takes over 10 s)."""
    tracemalloc.start()
    try:
        symgraph_method(case)
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def slope(points: list[tuple[int, float]]) -> float | None:
    """Fitted exponent b of time ≈ a·size^b (log-log least squares), over sizes measured."""
    points = [(n, t) for n, t in points if t > 0]
    if len(points) < 2:
        return None
    x, y = np.log([n for n, _ in points]), np.log([t for _, t in points])
    return float(np.polyfit(x, y, 1)[0])


def run_family(family: str, sizes, repeats: int, report) -> dict:
    times: dict[str, list[tuple[int, float]]] = {name: [] for name in (*METHODS, _E2E)}
    skipped: dict[str, str] = {}
    not_applicable: dict[str, str] = {}
    rows, warnings = [], []
    load = [os.getloadavg()[0]]  # other jobs on the machine show here: 1-minute load average at start and end
    # Untimed: the first derive of a kind of program pays SymPy's one-time setup (F5 depth 1: backward 40 ms instead
    # of 1 ms), which a median of 3 hides but a single repeat would charge to the smallest size.
    symgraph_method(FAMILIES[family](sizes[0]))
    for size in sizes:
        case = FAMILIES[family](size)
        row = {"size": size}
        for name, method in METHODS.items():
            if name in not_applicable:
                row[name] = "n/a"
                continue
            if name in skipped:
                row[name] = None
                continue
            previous = times[name][-2:]
            if len(previous) == 2 and name != "symgraph":
                (n0, t0), (n1, t1) = previous
                exponent = max(1.0, math.log(t1 / t0) / math.log(n1 / n0)) if t0 > 0 and t1 > 0 else 1.0
                if t1 * (size / n1) ** exponent > BUDGET:
                    skipped[name] = f"skipped from size {size}: predicted {t1 * (size / n1) ** exponent:.0f} s"
                    row[name] = None
                    continue
            try:
                total, stages, result = measure(method, case, repeats)
            except NotApplicable as why:
                not_applicable[name] = str(why)
                row[name] = "n/a"
                continue
            except Timeout:
                skipped[name] = f"over {BUDGET:.0f} s at size {size}"
                row[name] = None
                continue
            except (RecursionError, MemoryError) as error:
                skipped[name] = f"{type(error).__name__} at size {size}"
                row[name] = None
                continue
            times[name].append((size, total))
            row[name] = total
            if name == "symgraph":
                row["stages"], row["stats"] = stages, stats(result)
                row["disagreement"] = jax_disagreement(case, result)
                row[_E2E] = _end_to_end(case, repeats, skipped)
                if row[_E2E] is not None:
                    times[_E2E].append((size, row[_E2E]))
        row["memory"] = peak_memory(case) if (row.get("symgraph") or 0) < 10 else None
        rows.append(row)
        report(f"{family} {size}: " + ", ".join(f"{k} {_fmt(row.get(k))}" for k in METHODS))
        if (row.get("disagreement") or 0) > AGREEMENT:
            warnings.append(f"WARNING: at size {size} symgraph's gradient differs from JAX's by {row['disagreement']:.2g}")
            report(warnings[-1])
    load.append(os.getloadavg()[0])
    return {
        "rows": rows, "slopes": {k: slope(v) for k, v in times.items()}, "skipped": skipped,
        "not_applicable": not_applicable, "warnings": warnings, "load": load,
    }


def _end_to_end(case, repeats: int, skipped: dict[str, str]) -> float | None:
    """Median seconds of parse → JSON with check → text, None (and noted) once a run exceeds the budget."""
    if _E2E in skipped:
        return None
    try:
        return measure(end_to_end, case, repeats)[0]
    except Timeout:
        skipped[_E2E] = f"over {BUDGET:.0f} s at size {case.size}"
        return None


def _fmt(t: float | str | None) -> str:
    if t is None:
        return "—"
    if isinstance(t, str):
        return t
    return f"{t * 1000:.1f} ms" if t < 1 else f"{t:.2f} s"


def markdown(results: dict) -> str:
    out = [machine(), ""]
    for family, result in results.items():
        first = FAMILIES[family](SIZES[family][0])
        label = first.family
        out += [f"### {label}", "", "| size | " + " | ".join(METHODS) + " | symgraph + check | end to end (parse → JSON with check → text) | symgraph stages (parse/build/backward/evaluate · check) | grad ops ÷ fwd ops | gradient DAG → tree | peak MB |"]
        out.append("|" + "---|" * (len(METHODS) + 7))
        for row in result["rows"]:
            s, st = row.get("stats"), row.get("stages", {})
            stage_text = "/".join(_fmt(st.get(k)) for k in SYMGRAPH_STAGES) + f" · {_fmt(st.get('check'))}"
            tree = max(s.tree_size.values()) if s else 0
            swell = f"{s.gradient_dag:,} → {_big(tree)}" if s else "—"
            ratio = f"{s.ratio:.2f}" if s else "—"
            with_check = row["symgraph"] + st["check"] if row.get("symgraph") is not None and "check" in st else None
            out.append(
                f"| {row['size']} | " + " | ".join(_fmt(row.get(k)) for k in METHODS)
                + f" | {_fmt(with_check)} | {_fmt(row.get(_E2E))} | {stage_text} | {ratio} | {swell} | {_mb(row['memory'])} |"
            )
        slopes = ", ".join(f"{k} {v:.2f}" for k, v in result["slopes"].items() if v is not None)
        out += ["", f"Growth exponent (log-log slope): {slopes}."]
        differences = [row["disagreement"] for row in result["rows"] if row.get("disagreement") is not None]
        if differences:
            out.append(f"symgraph's gradient against JAX's at the same point: max abs difference {max(differences):.2g}.")
        start, end = result["load"]
        out.append(f"Load average (1 min) at the start and end of this family: {start:.2f} / {end:.2f} on {os.cpu_count()} cores.")
        if first.shapes:
            out.append(
                "- op counts, gradient DAG and tree count tensor ops (a matrix product is one op); "
                f"the gradient is by {', '.join(first.wrt[:2])}, … ({', '.join(first.data)} is data, not differentiated)"
            )
        out += [f"- {name}: n/a — {why}" for name, why in result["not_applicable"].items()]
        out += [f"- {name}: {why}" for name, why in result["skipped"].items()]
        out += [f"- {warning}" for warning in result["warnings"]]
        out.append("")
    return "\n".join(out)


def _mb(megabytes: float | None) -> str:
    return "—" if megabytes is None else f"{megabytes:.1f}"


def _big(n: int) -> str:
    return f"{n:,}" if n < 10**9 else f"10^{len(str(n)) - 1}"


def machine() -> str:
    found = ", ".join(f"{k} {v}" for k, v in versions().items())
    return f"Machine: {platform.platform()}, nproc {os.cpu_count()}, Python {platform.python_version()}; {found}."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="the two smallest sizes only")
    args = parser.parse_args()
    symgraph.lang.limits.LIMITS = symgraph.lang.limits.Limits(max_nodes=1_000_000, max_depth=100, max_text_length=100_000_000)
    signal.signal(signal.SIGALRM, _alarm)
    results = {}
    start = time.perf_counter()
    for family in args.families.split(","):
        sizes = SIZES[family][:2] if args.quick else SIZES[family]
        results[family] = run_family(family, sizes, args.repeats, lambda line: print(line, flush=True))
    text = markdown(results)
    print(text)
    print(f"(bench took {time.perf_counter() - start:.0f} s)")
    (Path(__file__).parent / "latest.md").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
