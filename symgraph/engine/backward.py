"""Symbol-to-symbol reverse mode: differentiation adds gradient nodes to the graph.

For every node u on a path from an input of interest to the output, in reverse
topological order, the adjoint ū = Σ_v v̄ · ∂v/∂u is inserted as nodes: the local
partial ∂v/∂u (the registry's template instantiated in v's own symbols), the product
v̄·∂v/∂u and the accumulating sum. Each adjoint is built once, so the work is linear in
the graph. The result is a graph again, so applying `backward` to an adjoint gives
second derivatives.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import sympy as sp

from symgraph import ops
from symgraph.engine.graph import Graph, Operand, is_node
from symgraph.errors import InputError
from symgraph.ops.registry import UnregisteredHead, unregistered_head

__all__ = ["Gradients", "Seed", "backward", "add_upstream"]


@dataclass
class Gradients:
    """What one reverse sweep added: adjoints and local partials, keyed by forward nodes."""

    output: Operand
    adjoint: dict[int, Operand] = field(default_factory=dict)
    #: (v, u) → ∂v/∂u in v's own symbols (operands and output), as the registry writes it.
    local: dict[tuple[int, int], sp.Expr] = field(default_factory=dict)
    #: (v, u) → the node (or constant) holding ∂v/∂u in the graph.
    local_node: dict[tuple[int, int], Operand] = field(default_factory=dict)
    #: (v, u) → ∂L/∂u's term from a tensor op v, its vector-Jacobian product in v's symbols, where
    #: `adjoint_symbol` stands for ∂L/∂v (tensor ops have no local partial to show, only this rule).
    vjp: dict[tuple[int, int], sp.Expr] = field(default_factory=dict)
    #: nodes in the sweep, in the order their adjoints were completed (reverse topological).
    order: list[int] = field(default_factory=list)
    #: Forward-only nodes (argmax …) on a path: no gradient flows through them (their value is piecewise constant).
    blocked: list[int] = field(default_factory=list)

    def of(self, node: int) -> Operand:
        """∂output/∂node; zero where the output does not depend on the node."""
        return self.adjoint.get(node, sp.Integer(0))


@dataclass(frozen=True)
class Seed:
    """The upstream gradient δy of a node y, an input of the graph, and L = ⟨δy, y⟩, the scalar it seeds.

    ∂L/∂x = (∂y/∂x)ᵀ δy is the vector-Jacobian product; at δy = eᵢ it is row i of the Jacobian, which
    is how reverse mode computes a Jacobian: one symbolic sweep, evaluated at each basis vector.
    """

    node: int
    of: int
    loss: int


def add_upstream(graph: Graph, output: int) -> Seed:
    """Add δy (shaped like y) and L = ⟨δy, y⟩ to the forward graph, with names that are not taken."""
    base = graph.label(output)
    name = _free(graph, [f"δ{base}", f"δ{base}_up"])
    graph.declared[name] = graph.shape(output)
    seed = graph.add_input(name)
    product = graph.add("mul", (seed, output))
    loss = graph.add("sum", (product,)) if graph.shape(output) else product
    assert is_node(loss)
    graph.name_node(loss, _free(graph, ["L", "loss", "ℓ", "L_up"]))
    graph.name_generated(None)
    return Seed(seed, output, loss)


def _free(graph: Graph, names: list[str]) -> str:
    return next(n for n in names if n not in graph.names)


def backward(graph: Graph, output: Operand, wrt: list[int]) -> Gradients:
    """Add the adjoint of every node between `wrt` and `output` to the graph."""
    gradients = Gradients(output)
    if not is_node(output):
        return gradients
    relevant = graph.ancestors_within(output, wrt)
    terms: dict[int, list[sp.Expr]] = defaultdict(list)
    gradients.adjoint[output] = sp.Integer(1)
    for v in sorted(relevant, reverse=True):
        if v != output:
            gradients.adjoint[v] = graph.add_expr(_sum(terms.pop(v, [])))
        gradients.order.append(v)
        if graph[v]["op"] is None:
            continue
        op = ops.get(graph[v]["op"])
        if op.integer:  # piecewise constant: no gradient flows through it, whatever its adjoint
            gradients.blocked.append(v)
            continue
        adjoint = graph.operand_expr(gradients.adjoint[v])
        if adjoint == 0:
            continue
        try:
            _push(graph, v, op, adjoint, relevant, gradients, terms)
        except UnregisteredHead as error:
            raise InputError(_outside_registry(graph, v, op, error.head)) from None
    return gradients


def _push(graph: Graph, v: int, op: ops.Op, adjoint: sp.Expr, relevant: set[int], gradients: Gradients,
          terms: dict[int, list[sp.Expr]]) -> None:
    """v's adjoint times ∂v/∂u, added to the terms of each operand u on a path: vector-Jacobian rules for a tensor op."""
    if op.is_tensor:
        for u in graph.dag.predecessors(v):
            if u in relevant:
                rule = _vjp(graph, v, u, ADJOINT)
                head = unregistered_head(rule)
                if head is not None:  # caught here, where the op is known, not when the sum becomes nodes
                    raise UnregisteredHead(head)
                gradients.vjp[(v, u)] = rule
                terms[u].append(graph.fit(rule.xreplace({ADJOINT: adjoint}), u))
        return
    partial = _partials(graph, v)
    for u in graph.dag.predecessors(v):
        if u not in relevant:
            continue
        local = _sum([partial(p) for p in graph.dag.edges[u, v]["positions"]])
        local_node = graph.add_expr(local)
        if op.stable is not None and is_node(local_node) and graph[local_node]["kind"] == "gradient":
            graph[local_node]["stable"] = (v, graph.dag.edges[u, v]["positions"])  # evaluated by op.stable
        gradients.local[(v, u)] = local
        gradients.local_node[(v, u)] = local_node
        terms[u].append(graph.fit(_product(adjoint, graph.operand_expr(local_node)), u))


def _outside_registry(graph: Graph, v: int, op: ops.Op, head: type) -> str:
    """The op whose derivative left the registry, for an input error (exit status 2).

    Registration checks scalar partials on fresh symbols; a tensor op's rule, or an entry replaced
    after registration, is only seen here.
    """
    where = f"{graph.label(v)} = {op.name}(…)" if graph[v]["kind"] != "gradient" else f"{op.name} in the gradient"
    return f"cannot differentiate {where}: {op.name}'s derivative uses {head.__name__}, which symgraph has no op for"


#: Stands for ∂L/∂v in a vector-Jacobian rule until the adjoint's own symbol is put in.
ADJOINT = sp.Symbol("_adjoint")


def _vjp(graph: Graph, v: int, u: int, adjoint: sp.Expr) -> sp.Expr:
    """∂L/∂u's term through the tensor op v: the op's rule, summed over the positions where v reads u."""
    op = ops.get(graph[v]["op"])
    if op.vjp is None:
        raise InputError(
            f"{op.name} is not differentiable: {graph.label(v)} = {op.name}(…) lies between the inputs and the output"
        )
    assert graph.is_tensor  # tensor ops are built into tensor graphs only
    operands, params = op.split(graph.operands(v))
    shapes = [graph.shape(o) for o in operands]
    args = [graph.operand_expr(o) for o in operands]
    positions = graph.dag.edges[u, v]["positions"]
    return _sum([op.vjp(shapes, args, params, graph.symbol(v), adjoint, p) for p in positions])


def _sum(terms: list[sp.Expr]) -> sp.Expr:
    """sp.Add of the terms; one term is returned as it is, which is what Add would do, only cheaper."""
    return terms[0] if len(terms) == 1 else sp.Add(*terms)


def _product(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """a·b exactly as sp.Mul writes it, for the common case of two symbols or a symbol and a rational.

    Every adjoint term is such a product; Mul's general flattening was a third of the sweep. The
    canonical form is known here: a rational coefficient first (1 vanishes), two distinct symbols in
    SymPy's own `compare` order, a symbol times itself a square. Anything else goes through Mul.
    """
    if b.is_Symbol and a.is_Rational:
        a, b = b, a
    if a.is_Symbol and b.is_Rational:
        if b is sp.S.One:
            return a
        return sp.Integer(0) if b is sp.S.Zero else sp.Mul._from_args((b, a))
    if a.is_Symbol and b.is_Symbol and a != b:
        return sp.Mul._from_args((a, b) if a.compare(b) < 0 else (b, a))
    return a * b


#: (op entry, operand pattern) → (placeholder operands, placeholder output, the op's partials in them).
_TEMPLATES: dict[tuple, tuple[tuple[sp.Symbol, ...], sp.Symbol, tuple[sp.Expr, ...]]] = {}


def _partials(graph: Graph, v: int) -> Callable[[int], sp.Expr]:
    """∂v/∂(operand at a position), instantiated from a per-op template, one position at a time.

    The registry writes all partials of an op at once, and SymPy construction dominates the
    sweep: pow's ∂/∂exponent (y·log u) was built for every square although only ∂/∂base is
    used. The template is built once per op and pattern of repeated operands (x·x differs from
    x·y), in placeholder symbols; a position's partial is its template with the node's own
    symbols and constants substituted, which SymPy re-canonicalises as it rebuilds.
    """
    data = graph[v]
    operands = data["operands"]
    # A node read twice shares a placeholder; each constant has its own (2 and 2.0 are equal in SymPy).
    tags = [(True, o) if is_node(o) else (False, p) for p, o in enumerate(operands)]
    distinct = dict(zip(tags, operands))
    pattern = tuple(list(distinct).index(tag) for tag in tags)
    op = ops.get(data["op"])
    key = (op, pattern)  # the entry itself, not its name, so a replaced entry gets its own templates
    if key not in _TEMPLATES:
        places = tuple(sp.Symbol(f"_t{i}") for i in range(len(distinct)))
        out = sp.Symbol("_t")
        assert op.partials is not None  # a scalar op: tensor ops have vector-Jacobian rules instead
        _TEMPLATES[key] = places, out, op.partials([places[i] for i in pattern], out)
    places, out, templates = _TEMPLATES[key]
    replacements = dict(zip(places, (graph.operand_expr(o) for o in distinct.values())))
    replacements[out] = graph.symbol(v)
    return lambda position: templates[position].xreplace(replacements)
