"""`import symgraph` is the documented API: `__all__` lists it, and README uses nothing else at the top level."""

from __future__ import annotations

import re
from pathlib import Path

import symgraph

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
#: Sub-packages README names by their dotted path (symgraph.output.render.MAX_BOXES …), not API functions.
PACKAGES = {"cli", "engine", "lang", "ops", "output", "teach", "verify", "explain", "params"}


def test_every_listed_name_exists():
    assert all(hasattr(symgraph, name) for name in symgraph.__all__)
    assert len(set(symgraph.__all__)) == len(symgraph.__all__)


def test_star_import_gives_exactly_the_listed_names():
    namespace: dict = {}
    exec("from symgraph import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(symgraph.__all__)


def test_readme_uses_only_listed_names():
    used = set(re.findall(r"\bsymgraph\.([A-Za-z_]\w*)", README)) - PACKAGES
    imported = {n.strip() for group in re.findall(r"from symgraph import ([\w, ]+)", README) for n in group.split(",")}
    assert used | imported <= set(symgraph.__all__), (used | imported) - set(symgraph.__all__)
