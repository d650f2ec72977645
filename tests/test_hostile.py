"""The hostile-input corpus: every input refused with exit 2 and one `error:` line (or, if large but legal,
answered), within 2 s, with bounded memory, no traceback, and no side effect."""

from __future__ import annotations

import resource
import time

import pytest
from click.testing import CliRunner

from symgraph.cli.commands import app

from .hostile_corpus import CATEGORIES, LEGAL_ODDITIES, PATHOLOGICAL

SECONDS = 2.0
PEAK_MIB = 1536
CASES = [(category, text) for category, texts in CATEGORIES.items() for text in texts]
SLOWEST: list[tuple[float, str]] = []


def test_corpus_is_large_and_covers_every_category():
    assert len(CASES) >= 200
    assert all(len(texts) >= 10 for texts in CATEGORIES.values())


def _run(args, canary):
    started = time.perf_counter()
    result = CliRunner().invoke(app, args, prog_name="symgraph")
    elapsed = time.perf_counter() - started
    SLOWEST.append((elapsed, args[1][:40] if len(args) > 1 else ""))
    assert not canary.exists(), "an input was executed"
    assert "Traceback" not in result.stdout + result.stderr
    assert elapsed < SECONDS, f"took {elapsed:.2f} s"
    assert _peak_mib() < PEAK_MIB, f"peak memory {_peak_mib():.0f} MiB"
    return result


def _peak_mib() -> float:
    """The process's peak so far: checked after every input, as pytest-xdist spreads them over processes."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("category, text", CASES, ids=[f"{c}-{i}" for i, (c, _) in enumerate(CASES)])
def test_hostile_input_is_refused_cleanly(category, text, tmp_path):
    canary = tmp_path / "CANARY"
    result = _run(["derive", text.replace("CANARY", str(canary))], canary)
    if text in PATHOLOGICAL and result.exit_code == 0:
        return  # large but legal, and answered in time
    assert result.exit_code == 2, (text[:80], result.stdout[:200], result.stderr)
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""


@pytest.mark.parametrize("text", LEGAL_ODDITIES)
def test_legal_oddities_are_answered_or_refused(text, tmp_path):
    result = _run(["derive", text], tmp_path / "CANARY")
    assert result.exit_code in (0, 2), result.stderr
    assert result.exit_code == 0 or result.stderr.startswith("error: ")


@pytest.mark.parametrize(
    "option",
    [
        ["--at", "x=__import__('os').system('touch CANARY')"],
        ["--upstream", "nothere=1"],
        ["--at", "x=[[1, 2], [3]]"],
        ["--at", "x=[[1, 2], 3]"],
        ["--at", "x=[]"],
        ["--at", "x=[[[[[1]]]]]"],
        ["--at", "x=[true, false]"],
        ["--at", "x=[\"a\"]"],
        ["--at", "x=[1e999]"],
        ["--at", "x=" + "[" * 100_000 + "]" * 100_000],
        ["--at", "x=[" + ", ".join(["1"] * 200_000) + "]"],
        ["--at", "x=1e999"],
        ["--at", "x={\"a\": 1}"],
        ["--at", "__class__=1"],
        ["--wrt", "__class__"],
        ["--of", "__import__('os')"],
        ["--order", "3"],
        ["--relu-at-zero", "2"],
        ["--format", "'; touch CANARY"],
        ["-f", "CANARY/../../etc/shadow"],
    ],
)
def test_hostile_option_values_are_refused(option, tmp_path):
    canary = tmp_path / "CANARY"
    args = ["derive", "x**2"] + [part.replace("CANARY", str(canary)) for part in option]
    result = _run(args, canary)
    assert result.exit_code == 2 and result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


def test_memory_stays_bounded_and_report_the_slowest():
    """Runs last in this module: the inputs above that ran in this process (all, without pytest-xdist)."""
    peak_mib = _peak_mib()
    assert peak_mib < PEAK_MIB, f"peak memory {peak_mib:.0f} MiB"
    if SLOWEST:
        elapsed, text = max(SLOWEST)
        print(f"\nslowest of {len(SLOWEST)} hostile inputs: {elapsed:.3f} s ({text!r}); peak memory {peak_mib:.0f} MiB")
