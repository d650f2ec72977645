"""`symgraph derive` imports only what deriving and printing need: no drawing code, no graphviz,
no network tables or gallery (they are imported when their command runs), checked in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: Modules the derive path must not import (a prefix stands for its submodules too).
DRAWING = ("graphviz", "symgraph.output.render", "symgraph.output.drawing", "symgraph.output.scene",
           "symgraph.output.forward_scene", "symgraph.output.backward_scene", "symgraph.output.themes",
           "symgraph.teach", "symgraph.params", "symgraph.cli.render", "symgraph.cli.params", "symgraph.cli.compare",
           "symgraph.cli.gallery", "tomllib")

_PROBE = """
import json, sys
from symgraph.cli import main
sys.argv = ["symgraph", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit as e:
    code = e.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def _imported(args: list[str]) -> tuple[int, str, list[str]]:
    run = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(args)], capture_output=True, text=True, timeout=120)
    report = json.loads(run.stderr.strip().splitlines()[-1])
    return report["code"], run.stdout, report["modules"]


def _drawing(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == d or m.startswith(d + ".") for d in DRAWING)]


@pytest.mark.parametrize("fmt", ["text", "json", "latex", "markdown"])
def test_derive_does_not_import_the_drawing_code(fmt):
    code, out, modules = _imported(["derive", "exp(x**2 + tanh(x))", "--format", fmt])
    assert code == 0 and "tanh" in out
    assert "symgraph.output.formats" in modules and "sympy" in modules  # the probe saw the derive path
    assert _drawing(modules) == []


def test_render_imports_the_drawing_code_when_it_draws(tmp_path):
    code, out, modules = _imported(["render", "x**2", "-o", str(tmp_path / "g.dot")])
    assert code == 0 and (tmp_path / "g.dot").read_text().startswith("digraph")
    assert {"graphviz", "symgraph.output.render", "symgraph.cli.render"} <= set(modules)


def test_import_symgraph_leaves_the_network_builders_until_used():
    probe = "import sys, symgraph; before = 'symgraph.teach.layers' in sys.modules; symgraph.layers.Network; " \
            "print(before, 'symgraph.teach.layers' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert run.stdout.split() == ["False", "True"], run.stderr
