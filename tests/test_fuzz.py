"""Fuzzing the parser and the CLI: random text and random mutations of valid programs.

Whatever the input: exit status 0 or 2, never a traceback, never past the time limit. The default run is
short; `pytest -m fuzz` runs the long one (SYMGRAPH_FUZZ_EXAMPLES cases, 5,000 by default) and prints how
many cases it tried.
"""

from __future__ import annotations

import os
import time

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symgraph.cli.commands import app

SECONDS = 2.0
SEEDS = [
    "exp(x**2 + tanh(x))",
    "a = 3*x + sigmoid(x); b = x**2 - exp(-x); y = a*b",
    "g = log(1 + relu(z))",
    "z = w*x; L = -(y*log(sigmoid(z)) + (1 - y)*log(1 - sigmoid(z)))",
    "h1 = tanh(w*x + b)\nh2 = tanh(w*h1 + b)\nL = (h2 - t)**2",
    "logsumexp(a, b, c) - a",
    "sqrt(abs(x)) / (1 + softplus(-x))",
]
ALPHABET = "xyzabw0123456789.+-*/()=;,\n _eE^%@[]{}'\"#\\θσ²−" + "".join(sorted({c for s in SEEDS for c in s}))


@st.composite
def mutated(draw):
    """A valid program with a few characters inserted, deleted or replaced."""
    text = list(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        char = draw(st.sampled_from(ALPHABET))
        if action == "insert" or not text:
            text.insert(position, char)
        elif action == "delete":
            del text[min(position, len(text) - 1)]
        else:
            text[min(position, len(text) - 1)] = char
    return "".join(text)


INPUTS = st.one_of(mutated(), st.text(alphabet=ALPHABET, max_size=60), st.text(max_size=40))
TRIED: list[str] = []


def _fuzz(text: str) -> None:
    TRIED.append(text)
    started = time.perf_counter()
    result = CliRunner().invoke(app, ["derive", text, "--at", "x=0.7"], prog_name="symgraph")
    elapsed = time.perf_counter() - started
    assert result.exit_code in (0, 2), (text, result.exit_code, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    if result.exit_code == 2:
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, (text, result.stderr)
    assert elapsed < SECONDS, (text, elapsed)


_HEALTH = [HealthCheck.too_slow, HealthCheck.filter_too_much]


@settings(max_examples=int(os.environ.get("SYMGRAPH_FUZZ_SHORT", "300")), deadline=None, derandomize=True,
          suppress_health_check=_HEALTH)
@given(INPUTS)
def test_fuzz_short(text):
    _fuzz(text)


@pytest.mark.fuzz
@settings(max_examples=int(os.environ.get("SYMGRAPH_FUZZ_EXAMPLES", "5000")), deadline=None, suppress_health_check=_HEALTH)
@given(INPUTS)
def test_fuzz_long(text):
    _fuzz(text)


@pytest.fixture(autouse=True, scope="module")
def _report_count():
    yield
    print(f"\nfuzz cases tried in this run: {len(TRIED)}")
