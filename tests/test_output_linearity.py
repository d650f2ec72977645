"""The output path is linear in the program: printer calls per node, counted (never timed), stay flat as it grows.

Issue 18: printing re-derived each shared sub-expression for every derivative that contains it, and walked the
graph once per input. The printers memoise each sub-expression's text (symgraph.lang.source.Memoised), so the
number of `_print` calls for a program of 2n layers is at most about twice that for n layers, in every format
(text, Markdown and LaTeX list a bounded number of nodes and steps; JSON lists them all).
"""

from __future__ import annotations

import pytest
import sympy as sp
from sympy.printing.printer import Printer

import symgraph
from symgraph.explain import printing
from symgraph.lang import source
from symgraph.lang.source import Memoised
from symgraph.output.formats import FORMATS, render_format


def mlp(depth: int, width: int = 2) -> tuple[str, dict[str, float]]:
    """A scalar tanh MLP: every weight and bias an input, so the inputs grow with the depth."""
    lines, at, previous = [], {}, [f"x{j}" for j in range(width)]
    at.update({name: 0.1 * (j + 1) for j, name in enumerate(previous)})
    for layer in range(depth):
        current = []
        for j in range(width):
            terms = []
            for i, h in enumerate(previous):
                weight = f"w{layer}_{j}_{i}"
                at[weight] = 0.05 * ((3 * layer + 5 * j + 7 * i) % 11) - 0.25
                terms.append(f"{weight}*{h}")
            at[f"b{layer}_{j}"] = 0.1
            lines.append(f"h{layer}_{j} = tanh({' + '.join(terms)} + b{layer}_{j})")
            current.append(f"h{layer}_{j}")
        previous = current
    lines.append("L = " + " + ".join(f"{h}**2" for h in previous))
    return "\n".join(lines), at


def rnn(steps: int) -> tuple[str, dict[str, float]]:
    """An unrolled scalar RNN with a loss at every step: four inputs, however long."""
    lines = ["h_0 = h"] + [f"h_{t} = tanh(w*h_{t - 1} + u*{0.1 * (t % 5):.1f} + b)" for t in range(1, steps + 1)]
    lines.append("L = " + " + ".join(f"(h_{t} - 0.5)**2" for t in range(1, steps + 1)))
    return "\n".join(lines), {"w": 0.5, "u": -0.3, "b": 0.1, "h": 0.2}


def printed(monkeypatch, program: tuple[str, dict[str, float]]) -> dict[str, int]:
    """Calls of each printer's _print while the derivation is written in every format."""
    counts = {"unicode": 0, "latex": 0, "source": 0}
    printers = {"unicode": printing._UnicodePrinter, "latex": printing._LatexPrinter, "source": source._SourcePrinter}
    for name, cls in printers.items():
        def counted(self, expr, _name=name, **kwargs):
            counts[_name] += 1
            return Memoised._print(self, expr, **kwargs)
        monkeypatch.setattr(cls, "_print", counted)
    text, at = program
    d = symgraph.derive(text, at=at)
    for fmt in FORMATS:
        render_format(d, fmt, include_check=False)
    return counts


@pytest.mark.parametrize("family, n", [(mlp, 6), (rnn, 40)])
def test_printer_calls_grow_linearly(monkeypatch, family, n):
    small, large = printed(monkeypatch, family(n)), printed(monkeypatch, family(2 * n))
    for printer in small:
        ratio = large[printer] / small[printer]
        assert ratio <= 2.3, (printer, small[printer], large[printer])  # never super-linear


def test_memoised_printing_is_the_same_text():
    """A derivation's kept printers write every form exactly as a printer without the memo does."""
    plain_unicode = type("PlainUnicode", (printing._UnicodePrinter,), {"_print": Printer._print})
    plain_latex = type("PlainLatex", (printing._LatexPrinter,), {"_print": Printer._print})
    plain_source = type("PlainSource", (source._SourcePrinter,), {"_print": Printer._print})
    text, at = mlp(3)
    d = symgraph.derive(text, at=at)
    forms = [e for e in (*d.gradient.values(), *d.in_terms_of_intermediates.values()) if e is not None]
    forms += [d.graph.expr(n) for n in d.graph.nodes("forward")]
    assert len(forms) > 20
    write_source = source.source_writer()
    for expr in forms:
        assert d.writer.text(expr) == plain_unicode(0.0, None).doprint(expr)
        assert d.writer.latex(expr) == plain_latex(0.0, None).doprint(expr)
        assert write_source(expr) == plain_source({"order": None}).doprint(expr)
    assert write_source(sp.Float(0.1)) == plain_source({"order": None}).doprint(sp.Float(0.1))  # top-level Float
