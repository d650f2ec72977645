"""No input ends in an internal error (exit status 3): the random programs of the test suite through the CLI.

The scalar programs of tests/test_properties.py (step, sign and terms that cancel included) and the tensor
programs of tests/test_tensor.py's generator with `hostile=True` (flat functions, cancellation, 3-axis tensors,
values from 10⁻³⁰⁰ to 10¹⁵⁰) go through `symgraph derive PROGRAM --format json`, with and without values.
Whatever the program: exit status 0, 1 (a failed check) or 2 (one `error:` line), never 3 and never a
traceback. The default run is seeded and short; `pytest -m fuzz` runs the long one (SYMGRAPH_ROBUST_EXAMPLES
programs of each kind, 2,000 by default); both print how the runs ended.
A tensor program without values, valid by construction, must be answered (exit 0 or 1).
"""

from __future__ import annotations

import collections
import json
import os

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symgraph import SymgraphError
from symgraph.cli.commands import app
from symgraph.lang.parse import parse

from .test_properties import programs
from .test_tensor import RandomProgram

SHORT = 40  # programs of each kind in the default run
LONG = int(os.environ.get("SYMGRAPH_ROBUST_EXAMPLES", "2000"))
#: Values of every size: the ordinary, and the ones that overflow, underflow or sit on a kink.
POINTS = st.one_of(st.floats(-2, 2), st.sampled_from([0.0, 1e-300, -1e-8, 1e8, 1e150, -1e300, 709.0, 1e-310]))
ENDINGS: collections.Counter = collections.Counter()


def _derive(args: list[str]) -> int:
    result = CliRunner().invoke(app, ["derive", *args, "--format", "json"], prog_name="symgraph")
    ENDINGS[result.exit_code] += 1
    assert result.exit_code in (0, 1, 2), (args, result.exit_code, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr, args
    if result.exit_code == 2:
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, (args, result.stderr)
    else:
        json.loads(result.stdout)
    return result.exit_code


def _scalar(program, point) -> None:
    text, _ = program
    _derive([text])
    try:
        inputs = parse(text).inputs
    except SymgraphError:
        return
    _derive([text, *(f"--at={name}={value!r}" for name, value in zip(("x", "w"), point) if name in inputs)])


def _tensor(seed: int) -> None:
    program = RandomProgram(seed, hostile=True)
    # Valid by construction (shapes fit, every input used): answered, however much of it cancels or is flat.
    assert _derive([program.text]) in (0, 1), program
    _derive([program.text, *(f"--at={name}={json.dumps(value)}" for name, value in program.at.items())])


_HEALTH = [HealthCheck.too_slow, HealthCheck.filter_too_much]


@settings(max_examples=SHORT, deadline=None, derandomize=True, suppress_health_check=_HEALTH)
@given(programs(), st.lists(POINTS, min_size=2, max_size=2))
def test_scalar_programs_never_end_in_an_internal_error(program, point):
    _scalar(program, point)


@pytest.mark.parametrize("seed", range(SHORT))
def test_tensor_programs_never_end_in_an_internal_error(seed):
    _tensor(seed)


def test_the_hostile_generator_draws_what_it_should():
    """Flat functions, cancellation, 3-axis tensors and extreme values all occur in the default run."""
    texts = [RandomProgram(seed, hostile=True) for seed in range(SHORT)]
    joined = " ".join(p.text for p in texts)
    for piece in ("step(", "sign(", " - ", "ones(", "axis="):
        assert piece in joined, piece
    assert sum(1 for p in texts for s in p.shapes.values() if len(s) == 3) >= 10
    sizes = [abs(v) for p in texts for value in p.values.values() for v in np.ravel(value) if v]
    assert min(sizes) < 1e-250 and max(sizes) > 1e100
    assert RandomProgram(5).text == RandomProgram(5, hostile=False).text  # the verified programs are unchanged


@pytest.mark.fuzz
@settings(max_examples=LONG, deadline=None, suppress_health_check=_HEALTH)
@given(programs(), st.lists(POINTS, min_size=2, max_size=2))
def test_scalar_programs_long(program, point):
    _scalar(program, point)


@pytest.mark.fuzz
@settings(max_examples=LONG, deadline=None, suppress_health_check=_HEALTH)
@given(st.integers(0, 2**32 - 1))
def test_tensor_programs_long(seed):
    _tensor(seed)


@pytest.fixture(autouse=True, scope="module")
def _report_counts():
    yield
    print(f"\nCLI runs by exit status: {dict(sorted(ENDINGS.items()))}")
