"""Program → computation DAG: a hash-consed networkx DiGraph in which equal subexpressions are one node.

Node ids are integers in creation order. Every node is created after its operands, so
ascending id order is a topological order: traversal is deterministic without sorting.
A node's SymPy expression is short — its op applied to its operands' symbols — so no
nested SymPy tree is ever built while constructing the graph. Every node carries its shape,
inferred once when it is added (a scalar program's nodes are all scalars), so a mismatch is
reported before anything is evaluated, naming both shapes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import TypeAlias

import networkx as nx
import sympy as sp

from symgraph import ops
from symgraph.engine.shapes import Shape, constant_shape, infer, resolve
from symgraph.errors import InputError, ShapeError
from symgraph.lang import hints
from symgraph.lang.program import Apply, Program, Ref, Term
from symgraph.notation import pretty_name
from symgraph.ops.tensor import HEADS

__all__ = ["Graph", "Operand", "build", "is_node"]

#: What an op reads: a node id, or a constant folded into the reader.
Operand: TypeAlias = int | sp.Expr

_GENERATED_LETTERS = "abcdfghkmnpqrstuvwz"
_OUTPUT_NAMES = ("y", "f", "L", "out")


def is_node(operand: Operand) -> bool:
    return isinstance(operand, int)


class Graph:
    """The DAG and its indexes. Kinds: 'input', 'forward' (the program), 'gradient' (added by backward).

    `shapes` (input name → shape) makes it the graph of a tensor program, explained in matrix
    notation; inputs it does not name are scalars.
    """

    def __init__(self, shapes: Mapping[str, Shape] | None = None) -> None:
        self.dag = nx.DiGraph()
        self.names: dict[str, Operand] = {}
        self.is_tensor = shapes is not None
        self.declared: dict[str, Shape] = dict(shapes or {})
        #: Symbols that stand for tensors in explanations (∂L/∂z), with their shapes.
        self.display_shapes: dict[sp.Symbol, Shape] = {}
        self._by_key: dict[tuple, int] = {}
        self._by_symbol: dict[sp.Symbol, int] = {}
        self._expr_shapes: dict[sp.Expr, Shape] = {}

    # --- construction ---------------------------------------------------------------------------
    def add_input(self, name: str) -> int:
        shape = tuple(self.declared.get(name, ()))
        node = self._new(kind="input", op=None, operands=(), name=name, user_named=True, shape=shape)
        self.names[name] = node
        return node

    def add(self, op: str, operands: tuple[Operand, ...], kind: str = "forward") -> Operand:
        """The node for `op(operands)`, reusing an equal one; constants fold into a constant."""
        shapes = [self.shape(o) for o in operands]
        op = resolve(op, shapes)
        if not any(is_node(o) for o in operands):
            return ops.get(op).build(*operands)
        # Tag operands: SymPy's Integer(3) == 3 would otherwise collide with node 3.
        key = (op, tuple((is_node(o), o) for o in operands))
        found = self._by_key.get(key)
        if found is not None:
            return found
        shape = infer(ops.get(op), shapes, operands)
        node = self._new(kind=kind, op=op, operands=operands, name=None, user_named=False, shape=shape)
        self._by_key[key] = node
        for position, operand in enumerate(operands):
            if is_node(operand):
                if self.dag.has_edge(operand, node):
                    self.dag.edges[operand, node]["positions"] += (position,)
                else:
                    self.dag.add_edge(operand, node, positions=(position,))
        return node

    def add_expr(self, expr: sp.Expr, kind: str = "gradient") -> Operand:
        """Insert a SymPy expression over node symbols as nodes, op by op (used by backward)."""
        if expr.is_Symbol:
            return self._by_symbol_lookup(expr)
        if expr.is_number:
            return expr
        op, args = ops.decompose(expr)
        return self.add(op.name, tuple(self.add_expr(a, kind) for a in args), kind)

    def add_term(self, term: Term) -> Operand:
        if isinstance(term, Ref):
            return self.names[term.name]
        if isinstance(term, Apply):
            operands = tuple(self.add_term(a) for a in term.args)
            zero = [o for o in operands if isinstance(o, sp.Expr) and o.is_zero]
            if term.op == "mul" and zero and not any(self.shape(o) for o in operands):
                return sp.Integer(0)  # 0·x of scalars is 0; 0·X of a tensor stays a tensor (of zeros), with X's shape
            if term.op == "add" and zero and len(zero) < len(operands):  # x + 0·y, once 0·y of scalars is 0
                operands = tuple(o for o in operands if not (isinstance(o, sp.Expr) and o.is_zero))
                if len(operands) == 1:
                    return operands[0]
            return self.add(term.op, operands)
        return term

    def _new(self, **attributes) -> int:
        node = self.dag.number_of_nodes()
        self.dag.add_node(node, aliases=(), **attributes)
        return node

    def name_node(self, node: int, name: str) -> None:
        data = self.dag.nodes[node]
        if data["name"] is None:
            data["name"] = name
            data["user_named"] = True
        else:
            data["aliases"] += (name,)
        self.names[name] = node

    def name_generated(self, output: int | None) -> None:
        """Give unnamed forward nodes short letters that neither clash with the user's names nor share their initials."""
        taken = set(self.names) | {data["name"] for _, data in self.dag.nodes(data=True) if data["name"] is not None}
        taken |= {variable for _, data in self.dag.nodes(data=True) for variable, _ in data.get("loop", ())}  # t of a loop
        taken |= {pretty_name(name) for name in taken}  # a1 would print like a loop's version a_1, a₁
        letters = _letters(taken, {name[0] for name in self.names})
        if output is not None and self.dag.nodes[output]["name"] is None:
            free = [n for n in _OUTPUT_NAMES if n not in taken]
            self.dag.nodes[output]["name"] = free[0] if free else next(letters)
            taken.add(self.dag.nodes[output]["name"])
        for node in self.nodes("forward"):
            if self.dag.nodes[node]["name"] is None:
                name = next(letters)
                while name in taken or pretty_name(name) in taken:
                    name = next(letters)
                self.dag.nodes[node]["name"] = name

    # --- reading ----------------------------------------------------------------------------------
    def __getitem__(self, node: int) -> dict:
        return self.dag.nodes[node]

    def __len__(self) -> int:
        return self.dag.number_of_nodes()

    def nodes(self, *kinds: str) -> Iterator[int]:
        """Node ids in topological (creation) order, optionally of some kinds only."""
        for node in range(len(self)):
            if not kinds or self.dag.nodes[node]["kind"] in kinds:
                yield node

    def shape(self, operand: Operand) -> Shape:
        return self.dag.nodes[operand]["shape"] if is_node(operand) else constant_shape(operand)

    def expr_shape(self, expr: sp.Expr) -> Shape:
        """Shape of an expression over node symbols (a backward term before it becomes nodes), memoised.

        The printers ask it of every sub-expression they write, so each is inferred once per graph.
        """
        shape = self._expr_shapes.get(expr)
        if shape is None:
            if expr.is_Symbol:
                known = self.display_shapes.get(expr)
                shape = known if known is not None else self.shape(self._by_symbol_lookup(expr))
            elif expr.is_number or not expr.free_symbols:
                shape = constant_shape(expr)
            else:
                op, args = ops.decompose(expr)
                shape = infer(op, [self.expr_shape(a) for a in args], args)
            self._expr_shapes[expr] = shape
        return shape

    def fit(self, term: sp.Expr, node: int) -> sp.Expr:
        """A backward term fitted to `node`'s shape: an operand an elementwise op broadcast (NumPy's rules) gets its
        adjoint summed over the broadcast axes — a scalar the sum, a row b in b + X W the sum over rows δᵀ𝟙."""
        if not self.is_tensor:
            return term
        term = self._without_ones(term)
        shape, spread = self.shape(node), self.expr_shape(term)
        if len(spread) <= len(shape) and all(n in (1, m) for n, m in zip(spread[::-1], shape[::-1])):
            return term  # the term has the node's shape, or broadcasts to it
        return HEADS["sum_to"](term, *shape) if shape else HEADS["sum"](term)

    def _without_ones(self, term: sp.Expr) -> sp.Expr:
        """𝟙 ⊙ X = X when X already has 𝟙's shape (the adjoint of a sum is 𝟙)."""
        if not term.is_Mul:
            return term
        ones = [f for f in term.args if isinstance(f, HEADS["ones"])]
        rest = [f for f in term.args if not isinstance(f, HEADS["ones"])]
        if ones and rest and self.expr_shape(sp.Mul(*rest)) == constant_shape(ones[0]):
            return sp.Mul(*rest)
        return term

    def operands(self, node: int) -> tuple[Operand, ...]:
        return self.dag.nodes[node]["operands"]

    def symbol(self, node: int) -> sp.Symbol:
        data = self.dag.nodes[node]
        symbol = data.get("symbol")
        if symbol is None:
            symbol = sp.Symbol(data["name"] or f"_g{node}")
            data["symbol"] = symbol
            self._by_symbol[symbol] = node
        return symbol

    def operand_expr(self, operand: Operand) -> sp.Expr:
        return self.symbol(operand) if is_node(operand) else operand

    def expr(self, node: int) -> sp.Expr:
        """The node's definition over its operands' symbols (an input is its own symbol)."""
        data = self.dag.nodes[node]
        if data["op"] is None:
            return self.symbol(node)
        return ops.get(data["op"]).build(*(self.operand_expr(o) for o in data["operands"]))

    def label(self, node: int) -> str:
        return self.dag.nodes[node]["name"] or f"_g{node}"

    def upstream(self, targets: Iterable[Operand], keep: Collection[int] = ()) -> set[int]:
        """Every node the targets read, targets included, in one sweep shared by all targets.

        Nodes in `keep` are reached but not looked through. One walk over the operands is linear
        in the graph, where an `ancestors` call per target would be quadratic.
        """
        seen = {t for t in targets if is_node(t)}
        stack = list(seen)
        while stack:
            node = stack.pop()
            if node in keep:
                continue
            for operand in self.dag.nodes[node]["operands"]:
                if is_node(operand) and operand not in seen:
                    seen.add(operand)
                    stack.append(operand)
        return seen

    def ancestors_within(self, target: int, sources: Iterable[int]) -> set[int]:
        """Nodes on some path from a source to target, both ends included.

        One forward sweep in id (topological) order over target's upstream: a node is on a path
        when it is a source or reads a node that is, whatever the number of sources.
        """
        upstream = self.upstream([target])
        reach = {source for source in sources if source in upstream}
        predecessors = self.dag.pred
        for node in sorted(upstream):
            if node not in reach and any(u in reach for u in predecessors[node]):
                reach.add(node)
        return reach

    def _by_symbol_lookup(self, symbol: sp.Symbol) -> int:
        try:
            return self._by_symbol[symbol]
        except KeyError:
            raise KeyError(f"symbol {symbol} is not a node of this graph") from None


def _letters(taken: set[str], initials: set[str]) -> Iterator[str]:
    """a, b, c …, then a1, b1 …: never a letter a user's name begins with (a user's c and a generated c₁ would
    read as one family), unless the user has taken every letter."""
    family = [letter for letter in _GENERATED_LETTERS if letter not in initials] or list(_GENERATED_LETTERS)
    for letter in family:
        if letter not in taken:
            yield letter
    index = 1
    while True:
        for letter in family:
            name = f"{letter}{index}"
            if name not in taken:
                yield name
        index += 1


def build(program: Program, output: str | None = None, graph: Graph | None = None) -> tuple[Graph, Operand]:
    """The forward graph of a program and the node of its output (the last assignment, or `output`).

    `graph` is an empty graph to build into (one given the input shapes for tensor programs).
    """
    graph = Graph() if graph is None else graph
    for name in program.inputs:
        graph.add_input(name)
    last: Operand | None = None
    for assignment in program.assignments:
        first = len(graph)
        try:
            operand = graph.add_term(assignment.term)
        except ShapeError as error:
            unshaped = hints.unshaped(assignment.term, (n for n in program.inputs if n not in graph.declared))
            hint = f"; {hints.missing_declaration(unshaped)}" if unshaped and "scalar" in str(error) else ""
            raise ShapeError(f"in {assignment.name or 'the output'}: {error}{hint}") from None
        for node in range(first, len(graph)):
            graph[node]["loop"] = assignment.loop  # the iteration that made it, () outside loops
        if assignment.name is not None:
            if is_node(operand):
                graph.name_node(operand, assignment.name)
            else:
                graph.names[assignment.name] = operand
        last = operand
    for name, version in program.latest.items():
        graph.names[name] = graph.names[version]  # after a loop, h is its last version (and no generated name)
    if output is not None:
        if output not in graph.names or output in program.inputs:
            choices = ", ".join(program.names) or "none"
            guess = hints.did_you_mean(output, program.names)
            raise InputError(f"not an assigned name; assigned names: {choices}" + (f"; {guess}" if guess else ""),
                             parameter="of", value=output)
        last = graph.names[output]
    assert last is not None
    graph.name_generated(last if is_node(last) else None)
    return graph, last
