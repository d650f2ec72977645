"""Packaging: `pip install .` and `pip install -e .` both give a working `symgraph` command, and no top-level `cli`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("editable", [False, True], ids=["install", "editable"])
def test_fresh_venv_install(tmp_path, editable):
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", "__pycache__"))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    # The new venv sees this run's packages (sympy, setuptools …) through a .pth line: nothing is downloaded.
    here = next(p for p in sys.path if p.endswith("site-packages"))
    (next((env_dir / "lib").glob("python3*")) / "site-packages" / "deps.pth").write_text(here + "\n")
    command = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-build-isolation", "-q"]
    command += ["-e", str(source)] if editable else [str(source)]
    subprocess.run(command, check=True, capture_output=True, text=True, cwd=tmp_path)
    clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    result = subprocess.run(
        [str(env_dir / "bin" / "symgraph"), "derive", "exp(x**2 + tanh(x))"],
        capture_output=True, text=True, cwd=tmp_path, env=clean_env,
    )
    assert result.returncode == 0, result.stderr
    assert "dy/dx = y·(2x − tanh²(x) + 1)" in result.stdout
    probe = subprocess.run(
        [str(python), "-c", "import importlib.util as u; print(u.find_spec('cli'), u.find_spec('symgraph.cli') is not None)"],
        capture_output=True, text=True, cwd=tmp_path, env=clean_env,
    )
    assert probe.stdout.split() == ["None", "True"], probe.stdout + probe.stderr
