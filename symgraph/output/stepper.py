"""The HTML stepper: one self-contained page that walks through the forward pass, then the backward pass, node by node.

The page holds dot's SVG of the picture once and the steps as JSON; a few lines of script highlight the step's
boxes and edges by their ids (drawing.wire_id) and show its chain-rule step beside the picture. The texts are the
ones the scenes and the steps already write (a frame's caption, symgraph.explain's steps). Nothing is fetched when
the page is viewed (no fonts, scripts or styles from elsewhere), so it works offline, on a projector.
"""

from __future__ import annotations

import json
import re
from html import escape

from symgraph.engine.graph import is_node
from symgraph.notation import one_line, partial_symbol
from symgraph.output.backward_scene import BackwardScene
from symgraph.output.drawing import wire_id
from symgraph.output.forward_scene import ForwardScene
from symgraph.output.notebook import inline_svg
from symgraph.output.scene_types import Scene, gradient_lines
from symgraph.output.themes import Theme
from symgraph.output.view import DerivationView

__all__ = ["stepper_page", "stepper_steps"]


def stepper_steps(d: DerivationView, built: Scene, operations: set[int]) -> list[dict]:
    """The page's steps, in order: the inputs, each forward node, then each adjoint of the backward sweep.
    A step names the SVG ids to highlight (`nodes`, `edges`), its equation (`lines`) and its chain-rule steps."""
    forward, backward = ForwardScene(d, None), BackwardScene(d, None)
    drawn = {box.node: box for box in built.boxes}
    into: dict[int, list[str]] = {}
    out_of: dict[int, list[str]] = {}
    for wire in built.wires:
        into.setdefault(wire.target, []).append(wire_id(wire.source, wire.target))
        if wire.target in d.gradients.adjoint:  # an edge the sweep comes back along
            out_of.setdefault(wire.source, []).append(wire_id(wire.source, wire.target))

    def ids(node: int) -> list[str]:
        return [f"n{node}", f"o{node}"] if node in operations else [f"n{node}"]

    def own_edges(node: int) -> list[str]:
        return [f"o{node}-n{node}"] if node in operations else []

    inputs = [box for box in built.boxes if box.kind == "input" and box.node in forward.upstream]
    found = []
    if inputs:
        found.append(_step("forward", "The inputs", [i for box in inputs for i in ids(box.node)], [],
                           [_line(box.name, forward.value_rows(box.node)) for box in inputs]))
    for box in built.boxes:
        if box.kind in ("forward", "output") and box.node in forward.upstream:
            equation = _line(f"{box.name} = {box.definition}" if box.definition else box.name, forward.value_rows(box.node))
            found.append(_step("forward", f"Computing {box.name}", ids(box.node), into.get(box.node, []) + own_edges(box.node), [equation]))
    chain = _chain_rule(d)
    for u in d.gradients.order:
        if u not in drawn:
            continue  # the collapsed view does not draw the unnamed nodes
        found.append(_step("backward", f"The gradient at {drawn[u].name}", ids(u), out_of.get(u, []),
                           gradient_lines(backward.adjoint_rows(u)), [line for key in _keys(d, u) for line in chain.get(key, [])]))
    return found


def _step(phase: str, title: str, nodes: list[str], edges: list[str], lines: list[str], steps: list[str] | None = None) -> dict:
    return {"phase": phase, "title": title, "nodes": nodes, "edges": edges, "lines": lines, "steps": steps or []}


def _line(lead: str, rows) -> str:
    return " ".join([lead, *(row.rest for row in rows)])


def _chain_rule(d: DerivationView) -> dict[tuple[str, str], list[str]]:
    """The derivation's steps as equations by (kind, left-hand side): a step and the lines continuing it."""
    found: dict[tuple[str, str], list[str]] = {}
    current: list[str] | None = None
    for step in d.steps:
        if step.note:
            current = None
        elif step.lhs:
            current = found.setdefault((step.kind, step.lhs), [])
            current.append(step.text)
        elif current is not None:
            current.append(f"= {step.rhs}")
    return found


def _keys(d: DerivationView, u: int) -> list[tuple[str, str]]:
    """Which of the derivation's equations belong to node u's step of the sweep: the local partials of the
    edges into u's readers (a scalar program), u's backpropagation rule (a tensor program), and for an input
    its sum over paths and its result."""
    graph, out = d.graph, d.gradients.output
    if d.is_tensor:
        keys = [("backprop", partial_symbol(graph.label(out), graph.label(u))[0])]
    else:
        readers = sorted(v for v in graph.dag.successors(u) if (v, u) in d.gradients.local)
        keys = [("local", partial_symbol(graph.label(v), graph.label(u))[0]) for v in readers]
    for name, node in d.wrt.items():
        if node == u and is_node(out):
            total = partial_symbol(d.output_name, name, d.total)[0]
            keys += [("path", total), ("result", total)]
    return keys


def stepper_page(d: DerivationView, built: Scene, theme: Theme, operations: set[int], svg: str) -> str:
    """The whole page: `svg` is dot's drawing of `built` in `theme`; `operations` are the nodes drawn with an
    operation node of their own (the ops style)."""
    steps = stepper_steps(d, built, operations)
    title = one_line(d.program.source)
    data = json.dumps({"title": title, "steps": steps}, ensure_ascii=False)
    # inside <script> only '</' could end the block: written as JSON escapes, the same string to JSON.parse
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    colours = {
        "--bg": theme.background, "--text": theme.text, "--muted": theme.muted, "--line": theme.line,
        "--value": theme.value, "--gradient": theme.gradient, "--panel": theme.fill,
    }
    style = ":root{" + ";".join(f"{k}:{v}" for k, v in colours.items()) + "}" + _CSS
    parts = {"TITLE": escape(title), "STYLE": style, "SVG": inline_svg(svg),
             "COUNT": str(len(steps)), "DATA": data, "SCRIPT": _SCRIPT}
    return re.sub(r"@([A-Z]+)@", lambda m: parts[m[1]], _PAGE)  # one pass: what is put in is never read again


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>@TITLE@ — symgraph stepper</title>
<style>@STYLE@</style>
</head>
<body>
<header>
  <h1 id="sg-title"></h1>
  <div id="sg-counter" aria-live="polite">1 / @COUNT@</div>
</header>
<main>
  <figure id="sg-picture">@SVG@</figure>
  <aside id="sg-panel">
    <div id="sg-phase"></div>
    <h2 id="sg-step-title"></h2>
    <div id="sg-lines"></div>
    <div id="sg-steps"></div>
  </aside>
</main>
<nav>
  <button id="sg-prev" type="button" aria-label="previous step">&#8592; Prev</button>
  <div id="sg-keys">&#8592; &#8594; step &#183; Home / End</div>
  <button id="sg-next" type="button" aria-label="next step">Next &#8594;</button>
</nav>
<script type="application/json" id="sg-data">@DATA@</script>
<script>@SCRIPT@</script>
</body>
</html>
"""

_CSS = """
*{box-sizing:border-box}
html,body{margin:0;height:100%;background:var(--bg);color:var(--text);
  font-family:"DejaVu Sans","Segoe UI",Helvetica,Arial,sans-serif;font-size:clamp(16px,1.7vw,34px)}
body{display:flex;flex-direction:column;height:100vh}
header{display:flex;align-items:baseline;gap:1em;padding:.4em .8em .2em}
h1{flex:1;margin:0;font-size:1em;font-weight:normal;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
#sg-counter{font-size:1.1em;font-weight:bold;font-variant-numeric:tabular-nums}
main{flex:1;display:flex;min-height:0;gap:.6em;padding:0 .8em}
#sg-picture{flex:1.6;margin:0;min-width:0;display:flex;align-items:center;justify-content:center}
#sg-picture svg{width:100%;height:100%}
#sg-panel{flex:1;min-width:0;overflow:auto;background:var(--panel);border-radius:.4em;padding:.6em .8em;
  border-left:.3em solid var(--accent,var(--value))}
#sg-phase{font-size:.8em;text-transform:uppercase;letter-spacing:.08em;color:var(--accent,var(--value))}
h2{margin:.2em 0 .5em;font-size:1.1em}
#sg-lines div{font-size:1.15em;line-height:1.35;margin:.2em 0;white-space:pre-wrap;overflow-wrap:anywhere;
  color:var(--accent,var(--value))}
#sg-steps{margin-top:.8em}
#sg-steps:not(:empty)::before{content:"chain rule";display:block;font-size:.75em;color:var(--line);
  text-transform:uppercase;letter-spacing:.08em}
#sg-steps div{font-size:.9em;line-height:1.35;margin:.15em 0;white-space:pre-wrap;overflow-wrap:anywhere}
nav{display:flex;align-items:center;justify-content:space-between;padding:.3em .8em .5em}
#sg-keys{font-size:.7em;color:var(--line)}
button{font:inherit;font-size:1em;padding:.2em .9em;border-radius:.3em;border:2px solid var(--line);
  background:var(--panel);color:var(--text);cursor:pointer}
button:disabled{opacity:.35;cursor:default}
body.backward{--accent:var(--gradient)}
g.node,g.edge{transition:opacity .2s}
g.sg-todo{opacity:.28}
g.sg-on{filter:drop-shadow(0 0 .35em var(--accent,var(--value)))}
g.node.sg-on>path,g.node.sg-on>polygon,g.node.sg-on>ellipse{stroke:var(--accent,var(--value));stroke-width:4}
g.edge.sg-on>path{stroke:var(--accent,var(--value));stroke-width:4}
g.edge.sg-on>polygon{stroke:var(--accent,var(--value));fill:var(--accent,var(--value))}
"""

_SCRIPT = """
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("sg-data").textContent), steps = data.steps;
  document.getElementById("sg-title").textContent = data.title;
  var picture = document.getElementById("sg-picture");
  var svg = picture.querySelector("svg");
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  var shown = picture.querySelectorAll("g.node, g.edge");
  var at = 0;

  function lines(box, texts) {
    box.replaceChildren();
    texts.forEach(function (text) {
      var line = document.createElement("div");
      line.textContent = text;
      box.appendChild(line);
    });
  }

  function show(k) {
    at = Math.max(0, Math.min(steps.length - 1, k));
    var step = steps[at], reached = {}, on = {};
    steps.slice(0, at + 1).forEach(function (s) {
      if (s.phase === step.phase) { s.nodes.concat(s.edges).forEach(function (id) { reached[id] = true; }); }
    });
    step.nodes.concat(step.edges).forEach(function (id) { on[id] = true; });
    shown.forEach(function (g) {
      g.classList.toggle("sg-on", on[g.id] === true);
      g.classList.toggle("sg-todo", reached[g.id] !== true);
    });
    document.body.className = step.phase;
    document.getElementById("sg-phase").textContent = step.phase === "forward" ? "Forward pass" : "Backward pass";
    document.getElementById("sg-step-title").textContent = step.title;
    lines(document.getElementById("sg-lines"), step.lines);
    lines(document.getElementById("sg-steps"), step.steps);
    document.getElementById("sg-counter").textContent = (at + 1) + " / " + steps.length;
    document.getElementById("sg-prev").disabled = at === 0;
    document.getElementById("sg-next").disabled = at === steps.length - 1;
  }

  document.getElementById("sg-prev").addEventListener("click", function () { show(at - 1); });
  document.getElementById("sg-next").addEventListener("click", function () { show(at + 1); });
  document.addEventListener("keydown", function (e) {
    var to = {ArrowRight: at + 1, ArrowDown: at + 1, PageDown: at + 1, " ": at + 1,
              ArrowLeft: at - 1, ArrowUp: at - 1, PageUp: at - 1, Home: 0, End: steps.length - 1}[e.key];
    if (to !== undefined) { e.preventDefault(); show(to); }
  });
  show(0);
})();
"""
