"""The default limits admit what the tool answers within seconds: the bench's largest programs (an RNN of
T = 2,000, a 10,000-stage chain) pass the parser, the API and the CLI's -f; what is far past them is refused."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from symgraph.cli.commands import app
from symgraph.errors import LimitError
from symgraph.lang import limits
from symgraph.lang.parse import parse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from families import FAMILIES, SIZES, text  # noqa: E402


@pytest.mark.parametrize("family", sorted(SIZES))
def test_the_benchs_largest_size_is_within_the_default_limits(family):
    program = parse(text(FAMILIES[family](SIZES[family][-1])))
    assert program.assignments


def test_an_rnn_of_2000_steps_is_read_with_f_and_derived(tmp_path):
    source = tmp_path / "rnn.txt"
    source.write_text(text(FAMILIES["F3"](2000)), encoding="utf-8")
    assert len(source.read_text()) > 200_000  # past the old text limit, within the new one
    result = CliRunner().invoke(app, ["derive", "-f", str(source), "--forward", "--no-check", "--format", "json"],
                                prog_name="symgraph")
    assert result.exit_code == 0, result.stderr


def test_far_past_the_limit_is_refused_with_the_size():
    with pytest.raises(LimitError, match=r"program has 37,500 operations; the limit is 20,000"):
        parse(text(FAMILIES["F1"](30_000)))
    assert limits.LIMITS.max_nodes == 20_000
