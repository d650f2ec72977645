"""Packaging and the shell: the wheel installs whole into a fresh venv (gallery sources and tutorial included),
`python -m symgraph`, `-h`, `-o -`, completion, the progress bar, and Ctrl-C (exit 130, one line, no partial file)."""

from __future__ import annotations

import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import time
import venv
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import click
import pytest
from click.testing import CliRunner

from symgraph.cli.app import Progress
from symgraph.cli.commands import app
from symgraph.output import render as render_module
from symgraph.output.render import write_file

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p.name for p in (ROOT / "gallery" / "examples").glob("*.toml"))
#: Hand-written parts of gallery/ that a build neither reads nor writes (as in tests/test_gallery.py).
NOT_BUILT = {"examples", "readme", "tutorial.ipynb"}
#: An RNN-like loop whose backward picture takes `dot` a second or more, and whose frames take a few seconds.
BIG = "h = x\nfor t in range(350):\n    h = tanh(w*h + x)\ny = h"
STEPS = "h = x\nfor t in range(12):\n    h = tanh(w*h + x)\ny = h"
INTERRUPTED = "error: interrupted (Ctrl-C); no partial file is left\n"


# --- the wheel, installed into a fresh venv -----------------------------------------------------------
def _fresh_venv(tmp_path: Path) -> Path:
    """A venv without pip that sees this run's packages (sympy, setuptools …) through a .pth line: nothing is downloaded."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    here = next(p for p in sys.path if p.endswith("site-packages"))
    (next((env_dir / "lib").glob("python3*")) / "site-packages" / "deps.pth").write_text(here + "\n")
    return env_dir / "bin"


def _source(tmp_path: Path) -> Path:
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", "__pycache__"))
    return source


def _pip(*args: str, cwd: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args, "--no-deps", "--no-build-isolation", "-q"],
                   check=True, capture_output=True, text=True, cwd=cwd)


def _run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    clean_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([str(c) for c in command], capture_output=True, text=True, cwd=cwd, env=clean_env)


def _built_files(directory: Path) -> list[Path]:
    return sorted(p.relative_to(directory) for p in directory.rglob("*")
                  if p.is_file() and p.relative_to(directory).parts[0] not in NOT_BUILT)


def test_the_wheel_installs_whole_into_a_fresh_venv(tmp_path):
    _pip("wheel", "-w", str(tmp_path / "dist"), str(_source(tmp_path)), cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    assert wheel.name == "symgraph_backprop-0.1.0-py3-none-any.whl"
    names = zipfile.ZipFile(wheel).namelist()
    assert sorted(n.removeprefix("symgraph/gallery/examples/") for n in names if n.endswith(".toml")) == EXAMPLES
    assert "symgraph/gallery/tutorial.ipynb" in names and "symgraph/cli/gallery.py" in names
    assert {n.split("/")[0] for n in names} == {"symgraph", "symgraph_backprop-0.1.0.dist-info"}  # no top-level cli
    assert not [n for n in names if n.endswith((".svg", ".md"))]  # the built gallery stays in the repository

    bin_dir = _fresh_venv(tmp_path)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(bin_dir / "python"), "install", "--no-deps", "-q",
                    str(wheel)], check=True, capture_output=True, text=True, cwd=tmp_path)
    built = tmp_path / "my-gallery"
    result = _run(bin_dir / "symgraph", "gallery", "build", built, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote {len(_built_files(ROOT / 'gallery'))} files to {built}\n" and result.stderr == ""
    assert _built_files(built) == _built_files(ROOT / "gallery")
    for path in [*_built_files(built), Path("tutorial.ipynb"), *(Path("examples") / n for n in EXAMPLES)]:
        assert (built / path).read_bytes() == (ROOT / "gallery" / path).read_bytes(), path
    no_dir = _run(bin_dir / "symgraph", "gallery", "build", cwd=tmp_path)  # installed: nowhere to write by default
    assert no_dir.returncode == 2 and no_dir.stderr.startswith("error: Missing argument 'DIR'"), no_dir.stderr

    derived = _run(bin_dir / "python", "-m", "symgraph", "derive", "x**2", cwd=tmp_path)
    assert derived.returncode == 0, derived.stderr
    assert "dy/dx = 2x" in derived.stdout and "✓ passed" in derived.stdout
    probe = _run(bin_dir / "python", "-c", "import importlib.util as u, symgraph; print(u.find_spec('cli'), symgraph.__file__)",
                 cwd=tmp_path)
    assert probe.stdout.split() == ["None", str(next(bin_dir.parent.glob("lib/python3*/site-packages/symgraph/__init__.py")))]


def test_an_editable_install_runs_from_the_checkout(tmp_path):
    source = _source(tmp_path)
    bin_dir = _fresh_venv(tmp_path)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(bin_dir / "python"), "install", "--no-deps",
                    "--no-build-isolation", "-q", "-e", str(source)], check=True, capture_output=True, text=True, cwd=tmp_path)
    result = _run(bin_dir / "symgraph", "derive", "exp(x**2 + tanh(x))", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "dy/dx = y·(2x − tanh²(x) + 1)" in result.stdout
    probe = _run(bin_dir / "python", "-c", "import importlib.util as u; import symgraph.cli.gallery as g; "
                 "print(u.find_spec('cli'), g.SOURCES, g.CHECKOUT)", cwd=tmp_path)
    assert probe.stdout.split() == ["None", str(source / "gallery"), "True"], probe.stdout + probe.stderr


# --- -h, -o -, completion -----------------------------------------------------------------------------
def _command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    context = click.Context(group)
    for name in group.list_commands(context):  # the lazy commands too, each imported here
        command = group.get_command(context, name)
        paths += _command_paths(command, prefix + (name,)) if isinstance(command, click.Group) else [prefix + (name,)]
    return paths


@pytest.mark.parametrize("path", _command_paths(app), ids=lambda p: " ".join(p) or "symgraph")
def test_every_command_answers_h_as_help(path):
    short = CliRunner().invoke(app, [*path, "-h"], prog_name="symgraph")
    long = CliRunner().invoke(app, [*path, "--help"], prog_name="symgraph")
    assert short.exit_code == long.exit_code == 0, short.output
    assert short.stdout == long.stdout and short.stdout.startswith(f"Usage: {' '.join(('symgraph', *path))} ")
    assert "-h, --help" in short.stdout


@pytest.mark.parametrize("fmt, first", [("svg", b"<?xml"), ("png", b"\x89PNG\r\n\x1a\n"), ("pdf", b"%PDF"), ("dot", b"digraph")])
def test_o_dash_writes_the_pictures_bytes_to_standard_output(fmt, first, tmp_path, monkeypatch):
    runner = CliRunner()
    monkeypatch.chdir(tmp_path)
    args = ["render", "a = 3*x + sigmoid(x); y = a*x", "--view", "backward", "--format", fmt]
    piped = runner.invoke(app, [*args, "-o", "-"], prog_name="symgraph")
    saved = runner.invoke(app, [*args, "-o", f"g.{fmt}"], prog_name="symgraph")
    assert piped.exit_code == saved.exit_code == 0, piped.output + saved.output
    assert piped.stdout_bytes.startswith(first) and piped.stderr == ""
    if fmt != "pdf":  # a PDF carries its creation date
        assert piped.stdout_bytes == Path(f"g.{fmt}").read_bytes()
    assert sorted(os.listdir()) == [f"g.{fmt}"]  # no file named "-"


def test_o_dash_is_svg_by_default_and_frames_notes_go_to_stderr(tmp_path, monkeypatch):
    runner = CliRunner()
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["render", "y = tanh(w*x)", "--at", "x=1", "--at", "w=0.5", "-o", "-", "--frames", "f"],
                           prog_name="symgraph")
    assert result.exit_code == 0, result.output
    assert ElementTree.fromstring(result.stdout_bytes).tag == "{http://www.w3.org/2000/svg}svg"
    assert result.stderr == "wrote 4 frames, index.md and frames.tex to f\n"


def test_o_dash_refuses_a_picture_too_large_in_one_line_and_writes_nothing(tmp_path, monkeypatch):
    runner = CliRunner()
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["render", BIG.replace("350", "600"), "--view", "backward", "-o", "-"], prog_name="symgraph")
    assert result.exit_code == 2 and result.stdout == "" and os.listdir() == []
    assert result.stderr.startswith("error: the picture would have 1,802 boxes") and result.stderr.count("\n") == 1


def test_shell_completion_is_clicks():
    runner = CliRunner()
    script = runner.invoke(app, [], env={"_SYMGRAPH_COMPLETE": "bash_source"}, prog_name="symgraph")
    assert script.exit_code == 0 and "complete -o nosort -F _symgraph_completion symgraph" in script.stdout

    def complete(line: str) -> list[str]:
        words = line.split(" ")
        env = {"_SYMGRAPH_COMPLETE": "bash_complete", "COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1)}
        return runner.invoke(app, [], env=env, prog_name="symgraph").stdout.split()

    assert complete("symgraph ren") == ["plain,render"]
    assert complete("symgraph render --vi") == ["plain,--view"]
    assert complete("symgraph render --view ") == ["plain,forward", "plain,backward", "plain,combined", "plain,symbolic"]
    in_bash = subprocess.run(
        ["bash", "-c", 'eval "$(_SYMGRAPH_COMPLETE=bash_source symgraph)"; COMP_WORDS=(symgraph render --view b); '
         'COMP_CWORD=3; _symgraph_completion symgraph; echo "${COMPREPLY[@]}"'],
        capture_output=True, text=True, env={**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"},
    )
    assert in_bash.stdout == "backward\n", in_bash.stderr


# --- progress -----------------------------------------------------------------------------------------
FRAMES = ["render", "y = tanh(w*x)", "--at", "x=1", "--at", "w=0.5", "--frames"]


def test_progress_shows_on_a_terminal(tmp_path, monkeypatch):
    master, slave = pty.openpty()
    with open(slave, "w", encoding="utf-8") as terminal:
        monkeypatch.setattr(sys, "stderr", terminal)
        monkeypatch.setattr(Progress, "AFTER", 0.0)  # show it from the start, rather than wait 2 s
        with pytest.raises(SystemExit) as done:
            app.main([*FRAMES, str(tmp_path / "f")], prog_name="symgraph")
        terminal.flush()
        shown = b""
        while select.select([master], [], [], 0)[0]:
            shown += os.read(master, 65536)
    os.close(master)
    assert done.value.code == 0
    assert "drawing frames  [####" in shown.decode() and "4/4" in shown.decode()


def test_progress_is_quiet_when_stderr_is_not_a_terminal(tmp_path, monkeypatch):
    monkeypatch.setattr(Progress, "AFTER", 0.0)
    result = CliRunner().invoke(app, [*FRAMES, str(tmp_path / "f")], prog_name="symgraph")
    assert result.exit_code == 0 and result.stderr == ""
    assert result.stdout == f"wrote 4 frames, index.md and frames.tex to {tmp_path / 'f'}\n"


def test_progress_waits_about_2_seconds_before_it_shows(monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    progress = Progress("work")
    progress(1, 10)
    assert progress.bar is None
    progress.start -= Progress.AFTER
    progress(2, 10)
    assert progress.bar is not None and progress.bar.pos == 2


# --- Ctrl-C -------------------------------------------------------------------------------------------
def test_an_interrupt_is_exit_130_and_one_line(monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("symgraph.cli.commands.derive_program", interrupted)
    result = CliRunner().invoke(app, ["derive", "x**2"], prog_name="symgraph")
    assert (result.exit_code, result.stdout, result.stderr) == (130, "", INTERRUPTED)


def test_an_interrupted_write_keeps_the_old_file_and_leaves_no_part(tmp_path, monkeypatch):
    target = tmp_path / "g.svg"
    target.write_bytes(b"old")
    reference = tmp_path / "reference"
    reference.write_bytes(b"")

    def interrupted(source, destination):
        assert Path(source).read_bytes() == b"new" * 1000  # the whole picture went to the temporary file first
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(render_module.os, "replace", interrupted)
        with pytest.raises(KeyboardInterrupt):
            write_file(target, b"new" * 1000)
    assert target.read_bytes() == b"old" and sorted(tmp_path.iterdir()) == [target, reference]
    assert write_file(target, b"new") == target and target.read_bytes() == b"new"
    assert target.stat().st_mode == reference.stat().st_mode  # the umask's mode, as a plain write gives
    assert sorted(tmp_path.iterdir()) == [target, reference]


def _start(tmp_path: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "symgraph", "render", *args], cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def _wait_for(ready, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.01)


def test_ctrl_c_during_a_render_of_a_large_program(tmp_path):
    """SIGINT to the process group, as a terminal sends it: Python and `dot` both get it."""
    process = _start(tmp_path, BIG, "--view", "backward", "-o", "big.svg")
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    _wait_for(lambda: children.read_text().split(), process)  # dot is laying the picture out
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert (process.returncode, out, err) == (130, "", INTERRUPTED)
    assert os.listdir(tmp_path) == []


def test_ctrl_c_during_frames_leaves_only_whole_frames(tmp_path):
    process = _start(tmp_path, STEPS, "--at", "x=1", "--at", "w=0.5", "--frames", "f")
    _wait_for(lambda: (tmp_path / "f" / "frame-02.svg").exists(), process)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert (process.returncode, out, err) == (130, "", INTERRUPTED)
    written = sorted(os.listdir(tmp_path / "f"))
    assert 2 <= len(written) < 38 and all(name.startswith("frame-") and name.endswith(".svg") for name in written), written
    for name in written:  # each one whole: no .part file, no truncated SVG
        assert ElementTree.parse(tmp_path / "f" / name).getroot().tag == "{http://www.w3.org/2000/svg}svg"
