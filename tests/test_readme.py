"""README's examples are run: a README that drifts from the program fails here.

A shell block is one whose first line starts with `$ ` (or a ```console block): each command (a line ending in
a backslash continues on the next) runs in bash in a fresh folder shared by the block, and must print exactly
the lines shown under it. Two marks stand for text that is never the same twice (the time of each stage):
a line `…` on its own stands for any number of lines, and a `…` inside a line for any text within that line.
A ```python block runs as a doctest in its own fresh folder.
"""

from __future__ import annotations

import doctest
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
ELISION = "…"


@dataclass
class Command:
    line: int  #: README's line number of the `$ `
    text: str  #: the command as bash reads it (continuation lines included)
    output: list[str]  #: the lines shown under it


def _blocks(language: str | None = None) -> list[tuple[int, str, str]]:
    """(line of the first line inside the fence, language, body) of README's fenced blocks."""
    text = README.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, match.start(2)) + 1, match.group(1), match.group(2))
        for match in FENCE.finditer(text)
        if language is None or match.group(1) == language
    ]


def _commands(first_line: int, body: str) -> list[Command]:
    commands: list[Command] = []
    lines = body.splitlines()
    k = 0
    while k < len(lines):
        start = k
        while lines[k].endswith("\\"):
            k += 1
        commands.append(Command(first_line + start, "\n".join(lines[start : k + 1]).removeprefix("$ "), []))
        k += 1
        while k < len(lines) and not lines[k].startswith("$ "):
            commands[-1].output.append(lines[k])
            k += 1
    return commands


SHELL_BLOCKS = [
    _commands(line, body)
    for line, language, body in _blocks()
    if language != "python" and (language == "console" or body.startswith("$ "))
]
PYTHON_BLOCKS = [(line, body) for line, _, body in _blocks("python")]


def _matches(shown: list[str], printed: list[str]) -> bool:
    """Whether the printed lines are the shown ones, where the shown ones may hold elision marks."""
    pattern = "".join(
        r"(?:[^\n]*\n)*?" if line == ELISION else ".*?".join(map(re.escape, line.split(ELISION))) + "\n"
        for line in shown
    )
    return re.fullmatch(pattern, "".join(line + "\n" for line in printed)) is not None


def _shell_environment() -> dict[str, str]:
    """The environment with this interpreter's scripts (symgraph) first on PATH, as in an activated venv."""
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def test_the_readme_has_the_examples_this_file_runs():
    assert len(SHELL_BLOCKS) >= 6 and sum(len(block) for block in SHELL_BLOCKS) >= 7
    assert len(PYTHON_BLOCKS) >= 2


@pytest.mark.parametrize("block", SHELL_BLOCKS, ids=[f"line {block[0].line}" for block in SHELL_BLOCKS])
def test_each_shell_example_prints_what_the_readme_shows(block, tmp_path):
    for command in block:
        result = subprocess.run(["bash", "-c", command.text], cwd=tmp_path, env=_shell_environment(),
                                capture_output=True, text=True, timeout=120)
        printed = result.stdout.splitlines()
        assert result.returncode == 0, f"README line {command.line}: exit {result.returncode}\n{result.stderr}"
        if any(ELISION in line for line in command.output):
            assert _matches(command.output, printed), f"README line {command.line} printed:\n{result.stdout}"
        else:
            assert printed == command.output, f"README line {command.line}"


def test_the_elision_marks_stand_for_lines_and_for_text_within_a_line():
    assert _matches(["a", ELISION, "d"], ["a", "b", "c", "d"]) and _matches(["a", ELISION, "b"], ["a", "b"])
    assert _matches(["time 1 · check …"], ["time 1 · check 2.5 ms"])
    assert not _matches(["a", ELISION, "d"], ["a", "b", "c"])
    assert not _matches(["time 1 · check …"], ["time 2 · check 2.5 ms"])
    assert not _matches(["a …"], ["a b", "c"])  # within a line only


@pytest.mark.parametrize("line, body", PYTHON_BLOCKS, ids=[f"line {line}" for line, _ in PYTHON_BLOCKS])
def test_each_python_example_runs_and_shows_what_it_prints(line, body, tmp_path, monkeypatch):
    if ".render(" in body and shutil.which("dot") is None:
        pytest.skip("needs Graphviz's dot")
    monkeypatch.chdir(tmp_path)  # an example may write a picture
    test = doctest.DocTestParser().get_doctest(body, {}, f"README.md line {line}", str(README), line - 1)
    assert test.examples, f"README line {line}: a Python example is written as a doctest (>>> and its output)"
    runner = doctest.DocTestRunner()
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0, f"README line {line}: see the doctest report above"
