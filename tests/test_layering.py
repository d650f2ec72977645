"""The package tree is the flow: every module imports only its own layer and the layers before it, with no circles.

Every import counts, at the top of a module or inside a function, and type-only ones too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent
#: The layers in the order of the flow; a module may import from its own layer and the ones above it in this list.
LAYERS = [
    ("symgraph.errors", "symgraph.notation"),
    ("symgraph.ops",),
    ("symgraph.lang",),
    ("symgraph.engine",),
    ("symgraph.verify",),
    ("symgraph.explain",),
    ("symgraph.output",),
    ("symgraph.derivation", "symgraph.api"),
    ("symgraph.teach", "symgraph.params"),
    ("symgraph",),
    ("symgraph.cli", "symgraph.__main__"),
]


def _module_name(path: Path) -> str:
    if path.parts[len(ROOT.parts)] == "cli":
        parts = ["symgraph", "cli", *path.relative_to(ROOT / "cli").with_suffix("").parts]
    else:
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for d in ("symgraph", "cli") for p in sorted((ROOT / d).rglob("*.py"))}


def _layer(module: str) -> int:
    ranks = [(len(prefix), rank) for rank, prefixes in enumerate(LAYERS) for prefix in prefixes
             if module == prefix or module.startswith(prefix + ".")]
    assert ranks, f"{module} belongs to no layer: add it to LAYERS"
    return max(ranks)[1]


def _imports(module: str) -> set[str]:
    """The package's modules that `module` imports, resolving relative imports and `from package import module`."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


GRAPH = nx.DiGraph((m, target) for m in MODULES for target in _imports(m))


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_imports_only_its_layer_and_earlier_ones(module):
    later = sorted(t for t in _imports(module) if _layer(t) > _layer(module) and not module.startswith(t + "."))
    assert not later, f"{module} (layer {_layer(module)}) imports later layers: {later}"


def test_no_import_circles():
    # A package's __init__ importing its own modules is the package's face, not a circle back into it.
    faces = [(a, b) for a, b in GRAPH.edges if b.startswith(a + ".") and MODULES[a].name == "__init__.py"]
    inner = GRAPH.copy()
    inner.remove_edges_from(faces)
    inner.remove_edges_from([(a, b) for a, b in GRAPH.edges if a.startswith(b + ".")])  # a module naming its package
    assert list(nx.simple_cycles(inner)) == []


def test_no_module_is_over_450_lines():
    long = {m: n for m, p in MODULES.items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > 450}
    assert not long, long
