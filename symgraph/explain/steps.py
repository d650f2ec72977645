"""Chain-rule steps as plain data, in the order a teacher writes them.

First each local partial ∂v/∂u (the registry's form in the operand, then in the output
when that reads better: ∂y/∂s = exp(s) = y), then for each input the sum over paths of
the products of local partials, then the result. With values, every line carries its
number. A step is text and LaTeX; the formats only lay steps out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import sympy as sp

from symgraph.engine.backward import Gradients
from symgraph.engine.graph import Graph, Operand, is_node
from symgraph.explain.printing import ShapeOf, latex, latex_writer, unicode, unicode_writer, value_latex, value_text
from symgraph.notation import latex_name, number, number_latex, partial_symbol, pretty_name

__all__ = ["Step", "Writer", "MAX_PATHS", "MAX_PATH_EDGES", "MAX_LOCAL_STEPS", "chain", "local_steps", "path_steps", "result_steps", "update_steps", "count_paths", "paths_to", "paths"]

#: More paths than this are summarised rather than listed.
MAX_PATHS = 8
#: A path with more edges than this is summarised rather than written out.
MAX_PATH_EDGES = 12
#: More local derivatives than this are counted rather than listed.
MAX_LOCAL_STEPS = 60


@dataclass(frozen=True)
class Step:
    kind: str  # local | path | result
    lhs: str
    rhs: str
    lhs_latex: str
    rhs_latex: str
    note: bool = False  # a remark about the steps (e.g. how many are not listed), not an equation

    @property
    def text(self) -> str:
        return f"{self.lhs} = {self.rhs}" if self.lhs else self.rhs

    @property
    def latex(self) -> str:
        return f"{self.lhs_latex} = {self.rhs_latex}" if self.lhs_latex else self.rhs_latex


class Writer:
    """Shared formatting: expressions in Unicode and LaTeX, with an optional value appended.

    `shapes` gives the shape of an expression in a tensor program, so that products of tensors
    print as ⊙; it is None for scalar programs.
    """

    def __init__(self, relu_at_zero: float, value_of: Callable[[Operand], object], shapes: ShapeOf | None = None):
        self.relu_at_zero = relu_at_zero
        self.value_of = value_of
        self.shapes = shapes
        # one printer each for the whole derivation: a sub-expression shared by many lines is printed once
        self._text, self._latex = unicode_writer(relu_at_zero, shapes), latex_writer(relu_at_zero, shapes)

    def text(self, expr: sp.Expr) -> str:
        return self._text(expr)

    def latex(self, expr: sp.Expr) -> str:
        return self._latex(expr)

    def forms(self, exprs: list[sp.Expr], value) -> tuple[str, str]:
        text = " = ".join(self.text(e) for e in exprs)
        tex = " = ".join(self.latex(e) for e in exprs)
        if value is not None and not all(e.is_number for e in exprs):
            text += f" = {value_text(value)}"
            tex += f" = {value_latex(value)}"
        return text, tex


def local_steps(graph: Graph, gradients: Gradients, writer: Writer) -> list[Step]:
    """∂v/∂u for the edges of the sweep, nearest the output first, as a teacher reads a graph.

    A large graph lists the first MAX_LOCAL_STEPS and says how many more there are: nobody reads
    thousands of lines, and writing them would make a large program slow to explain.
    """
    steps = []
    edges = sorted(gradients.local, key=_teaching_order(graph, gradients))
    for v, u in edges[:MAX_LOCAL_STEPS]:
        in_output = gradients.local[(v, u)]
        in_operand = in_output.xreplace({graph.symbol(v): graph.expr(v)})
        exprs = [in_operand] if in_operand == in_output else [in_operand, in_output]
        lhs, lhs_tex = partial_symbol(graph.label(v), graph.label(u))
        rhs, rhs_tex = writer.forms(exprs, writer.value_of(gradients.local_node[(v, u)]))
        steps.append(Step("local", lhs, rhs, lhs_tex, rhs_tex))
    hidden = len(edges) - MAX_LOCAL_STEPS
    if hidden > 0:
        note = f"… and {hidden:,} more local derivatives, one per edge (symgraph render --view backward draws them)"
        steps.append(Step("local", "", note, "", rf"\text{{… and {hidden:,} more local derivatives}}", note=True))
    return steps


def _teaching_order(graph: Graph, gradients: Gradients):
    """Key for edges (v, u): v's distance from the output, then v, then u's position in v."""
    distance = {gradients.output: 0}
    for v in gradients.order:  # reverse topological: every child is done before its operands
        for u in graph.dag.predecessors(v):
            if (v, u) in gradients.local:
                distance[u] = min(distance.get(u, 1 << 62), distance[v] + 1)
    return lambda edge: (distance[edge[0]], edge[0], graph.dag.edges[edge[1], edge[0]]["positions"][0])


def count_paths(graph: Graph, source: int, target: int, within: set[int]) -> int:
    """Number of paths source → target, counted on the DAG (never enumerated)."""
    paths = {source: 1}
    for node in sorted(within):
        if node == source:
            continue
        paths[node] = sum(paths.get(u, 0) for u in graph.dag.predecessors(node) if u in within)
    return paths.get(target, 0)


def paths_to(graph: Graph, target: Operand) -> dict[int, int]:
    """Number of paths from each node to `target` (0 where none), in one sweep for every source at once:
    counting them per input would walk the graph once per input."""
    if not is_node(target):
        return {}
    counts = {target: 1}
    for node in sorted(graph.upstream([target]), reverse=True):  # every child before its operands
        if node != target:
            counts[node] = sum(counts.get(child, 0) for child in graph.dag.successors(node))
    return counts


def paths(graph: Graph, source: int, target: int, within: set[int]) -> list[list[int]]:
    """Every path source → target inside `within`, in the order the chain-rule sum lists its terms."""
    found, stack = [], [[source]]
    while stack:
        path = stack.pop()
        if path[-1] == target:
            found.append(path)
            continue
        children = sorted((c for c in graph.dag.successors(path[-1]) if c in within), reverse=True)
        stack.extend(path + [c] for c in children)
    return found


def path_steps(
    graph: Graph, gradients: Gradients, wrt: Mapping[str, int], total: bool, writer: Writer
) -> list[Step]:
    output = gradients.output
    steps = []
    reach = paths_to(graph, output)
    within = {node for node, count in reach.items() if count}
    for name, node in wrt.items():
        lhs, lhs_tex = partial_symbol(graph.label(output), name, total)
        count = reach.get(node, 0)
        if count == 0:
            steps.append(Step("path", lhs, f"0  ({pretty_name(name)} does not reach {graph.label(output)})", lhs_tex, "0"))
            continue
        found = paths(graph, node, output, within) if count <= MAX_PATHS else []
        if not found or max(len(p) for p in found) > MAX_PATH_EDGES + 1:
            y, what = pretty_name(graph.label(output)), f"{count:,} path{'s' if count != 1 else ''}"
            note = (
                f"{what} from {pretty_name(name)} to {y}, too many or too long to list; reverse mode sums them "
                f"node by node, ∂{y}/∂u = Σ_v ∂{y}/∂v·∂v/∂u, once per node"
            )
            steps.append(Step("path", lhs, note, lhs_tex, rf"\text{{{what}, summed by reverse accumulation}}"))
            continue
        chains = [chain(graph, path) for path in found]
        steps.append(Step("path", lhs, " + ".join(c[1] for c in chains), lhs_tex, " + ".join(c[2] for c in chains)))
        # Reverse mode records no local partials below a node whose adjoint is 0 (under 1(x < y), say):
        # the paths through it sum to 0, and each is written 0.
        products = [sp.Mul(*(gradients.local.get(e, sp.Integer(0)) for e in edges)) for edges, _, _ in chains]
        rhs = _signed_sum(products, lambda e: unicode(e, writer.relu_at_zero), "({})", " − ")
        rhs_tex = _signed_sum(products, lambda e: latex(e, writer.relu_at_zero), r"\left({}\right)", " - ")
        value = writer.value_of(gradients.of(node))
        if value is not None:
            rhs += f" = {number(value)}"
            rhs_tex += f" = {number_latex(value)}"
        steps.append(Step("path", "", rhs, "", rhs_tex))
    return steps


def chain(graph: Graph, path: list[int]) -> tuple[list[tuple[int, int]], str, str]:
    """A path's edges (v, u), output end first, and its product of partials in text and LaTeX."""
    edges = list(zip(path[1:], path[:-1]))[::-1]
    symbols = [partial_symbol(graph.label(v), graph.label(u)) for v, u in edges]
    return edges, "·".join(s[0] for s in symbols), " ".join(s[1] for s in symbols)


def _signed_sum(terms: list[sp.Expr], write, parenthesised: str, minus: str) -> str:
    """One written term per path, in path order: a − b rather than a + −b; a sum term in parentheses."""
    text = ""
    for i, term in enumerate(terms):
        negative = i > 0 and term.could_extract_minus_sign()
        shown = -term if negative else term
        piece = parenthesised.format(write(shown)) if shown.is_Add and len(terms) > 1 else write(shown)
        text += piece if i == 0 else (minus if negative else " + ") + piece
    return text


def result_steps(
    lhs_for: Mapping[str, tuple[str, str]], forms: Mapping[str, list[sp.Expr]], values: Mapping[str, float | np.ndarray | None],
    writer: Writer, textbook: Mapping[str, sp.Expr | None] | None = None,
) -> list[Step]:
    """One line per form (in the named intermediates, then in the inputs), the value on the last; then the
    textbook form on a line of its own where one was verified equal (symgraph.explain.textbook)."""
    steps = []
    for name, exprs in forms.items():
        lhs, lhs_tex = lhs_for[name]
        for k, expr in enumerate(exprs):
            last = k == len(exprs) - 1
            rhs, rhs_tex = writer.forms([expr], values.get(name) if last else None)
            steps.append(Step("result", lhs if k == 0 else "", rhs, lhs_tex if k == 0 else "", rhs_tex))
        form = (textbook or {}).get(name)
        if form is not None:
            steps.append(Step("result", "", f"{writer.text(form)}    (textbook form)", "",
                              rf"{writer.latex(form)} \quad \text{{(textbook form)}}"))
    return steps


def update_steps(
    update: tuple[float, float], after: Mapping[str, float | np.ndarray], before: Mapping[str, float | np.ndarray],
    gradient_symbols: Mapping[str, tuple[str, str]],
) -> list[Step]:
    """One gradient-descent step per input, as the course writes it: w ← w − η ∂L/∂w (+ λw with weight decay)."""
    rate, decay = update
    steps = []
    for name, new in after.items():
        grad, grad_tex = gradient_symbols[name]
        w, w_tex = pretty_name(name), latex_name(name)
        if decay:
            rule = f"{w} − {number(rate)}·({grad} + {number(decay)}·{w})"
            rule_tex = rf"{w_tex} - {number_latex(rate)}\left({grad_tex} + {number_latex(decay)}\,{w_tex}\right)"
        else:
            rule, rule_tex = f"{w} − {number(rate)}·{grad}", rf"{w_tex} - {number_latex(rate)}\,{grad_tex}"
        steps.append(Step("update", f"{w} ← {rule}", value_text(new), rf"{w_tex} \leftarrow {rule_tex}", value_latex(new)))
    return steps
