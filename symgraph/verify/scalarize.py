"""A tensor program written one scalar at a time: the independent verification of the matrix-notation rules.

Every tensor input becomes scalar inputs (W[1][0] is the scalar input `W_1_0`), and every node of
the tensor program becomes its components: a tensor op's from its registry entry's `components`
(the op written one scalar at a time), a scalar op's (tanh, +, · …) by applying it to each entry,
its operands broadcast by NumPy's rules (a scalar over a tensor, a row over a matrix's rows). An
integer node (k = argmax(o)) is a forward value: its components are the constants it holds at the
derivation's values, so X[k] expands to the selected entries. Each component is a named assignment, so
shared subterms (a row's log-sum-exp, an entry read by many products) stay one node: the scalar
program is a DAG as large as the tensor program's entries, not a tree.

The scalar engine (graph.build + backward + evaluate, the path every scalar program takes)
then differentiates that program, and `compare` sets its gradient, entry by entry, beside the
matrix-notation one (`Derivation.gradient_value`). Nothing here reads a vector-Jacobian rule,
so the two answers are computed independently from the same program.

The Program is built directly, so the parser's operation limit (`symgraph.lang.limits.LIMITS`) does
not apply to it; `ScalarProgram.text()` writes it in the input language for small programs.

>>> from symgraph import derive
>>> v = compare(derive("z = W @ h; L = sum(tanh(z))", at={"W": [[1, 2], [0, 1]], "h": [1, -1]}))
>>> v.max_abs_difference < 1e-12
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import sympy as sp

from symgraph import ops
from symgraph.engine.backward import backward
from symgraph.engine.evaluate import Conventions, evaluate, value_of
from symgraph.engine.graph import Graph, Operand, build, is_node
from symgraph.errors import InputError
from symgraph.lang.parse import parse
from symgraph.lang.program import Apply, Assignment, Program, Ref, Term
from symgraph.lang.source import source
from symgraph.ops.tensor import TensorFunction


class Derived(Protocol):
    """What the verification reads of a derivation (symgraph.derive's result)."""

    graph: Graph
    output: Operand
    wrt: Mapping[str, int]
    at: Mapping[str, Any]
    conventions: Conventions

    @property
    def complete(self) -> bool: ...

    def value(self, operand: Operand) -> float | np.ndarray | None: ...

    def gradient_value(self, name: str) -> float | np.ndarray | None: ...

__all__ = ["ScalarProgram", "Verification", "scalarize", "scalarize_program", "scalar_gradients", "compare", "verify"]


@dataclass
class ScalarProgram:
    """A tensor program's scalar expansion, and where each tensor's entries went."""

    program: Program
    #: tensor input name → array (0-d for a scalar) of the names of its scalar inputs.
    inputs: dict[str, np.ndarray]
    #: tensor node → array of its components: a Ref to an assignment, or a constant.
    components: dict[int, np.ndarray]
    #: the name of the scalar output (the last assignment).
    output: str
    #: tensor node → its label in the tensor program.
    labels: dict[int, str] = field(default_factory=dict)

    def input_values(self, values: Mapping[str, Any]) -> dict[str, float]:
        """Scalar input name → float, from the tensor program's values (name → number or nested lists)."""
        scalars: dict[str, float] = {}
        for name, names in self.inputs.items():
            if name not in values:
                raise InputError(f"no value for the input {name}")
            array = np.asarray(values[name], dtype=float)
            if array.shape != names.shape:
                raise InputError(f"{name}: a value of shape {array.shape} for an input of shape {names.shape}")
            for index in np.ndindex(*names.shape):
                scalars[str(names[index])] = float(array[index])
        return scalars

    def text(self) -> str:
        """The program in the input language, one assignment per line (for `symgraph.derive` on small programs)."""
        return "\n".join(f"{a.name} = {_term_text(a.term)}" for a in self.program.assignments)

    @property
    def operations(self) -> int:
        """Assignments that apply an op (the size the parser's operation limit would count)."""
        return sum(isinstance(a.term, Apply) for a in self.program.assignments)


def scalarize(graph: Graph, output: Operand, value: Callable[[int], Any] | None = None) -> ScalarProgram:
    """The scalar program of a tensor graph's forward part, up to `output` (which must be a scalar).

    `value` (node → its forward value) gives the integer nodes (argmax …) their constants.
    """
    if not is_node(output):
        raise InputError("the output is a constant; there is nothing to expand")
    shape_of = graph.shape if graph.is_tensor else (lambda operand: ())
    if shape_of(output) != ():
        raise InputError(f"the output {graph.label(output)} has shape {shape_of(output)}; expand a scalar output")
    if graph[output]["op"] is None:
        raise InputError(f"the output is the input {graph.label(output)}; there is nothing to expand")
    writer = _Writer({graph.label(n) for n in graph.nodes()})
    inputs: dict[str, np.ndarray] = {}
    components: dict[int, np.ndarray] = {}
    for node in graph.nodes("input"):
        name = graph.label(node)
        shape = shape_of(node)
        if shape:
            names = _object_array(shape, lambda index: writer.fresh(_component_name(name, index)))
        else:
            names = _as_array(name)  # a scalar input keeps its name
        inputs[name] = names
        components[node] = _object_array(shape, lambda index: Ref(names[index], 0, 0))
    needed = graph.upstream([output])
    for node in sorted(needed):
        data = graph[node]
        if data["op"] is None:
            continue
        if data["kind"] != "forward":
            raise InputError(f"node {graph.label(node)} is not part of the forward program")
        writer.prefix = graph.label(node)
        op = ops.get(data["op"])
        if op.integer:
            result = _forward_value(graph, node, op, value)
        else:
            arrays = [components[o] if is_node(o) else None for o in data["operands"]]
            result = _apply(op, data["operands"], arrays, writer.term)
        if result.shape != shape_of(node):
            raise AssertionError(f"{op.name}: components of shape {result.shape}, the node has shape {shape_of(node)}")
        components[node] = result
    label = graph.label(output)
    # The output's label is reserved for this last assignment: intermediates are named label__k.
    writer.assignments.append(Assignment(label, components[output][()]))
    program = Program(
        tuple(writer.assignments),
        tuple(n for names in inputs.values() for n in names.ravel()),
        source=f"scalar expansion of {label}",
    )
    labels = {n: graph.label(n) for n in components}
    return ScalarProgram(program, inputs, components, label, labels)


def scalarize_program(program: str | Program, shapes: Mapping[str, tuple[int, ...]] | None = None, of: str | None = None) -> ScalarProgram:
    """The scalar expansion of tensor program text; shapes from its declarations and `shapes` (name → shape)."""
    parsed = parse(program) if isinstance(program, str) else program
    declared = dict(parsed.declarations)
    declared.update({name: tuple(shape) for name, shape in (shapes or {}).items()})
    graph, output = build(parsed, of, Graph(declared))
    return scalarize(graph, output)


# --- the scalar engine ---------------------------------------------------------------------------------


def scalar_gradients(
    expansion: ScalarProgram, values: Mapping[str, Any], conventions: Conventions = Conventions()
) -> tuple[float, dict[str, np.ndarray], dict[str, float]]:
    """The output and the gradient of every tensor input, by the scalar engine's reverse mode on the expansion.

    Returns (output value, tensor input name → gradient array shaped like the input, assignment name → value).
    """
    graph, output = build(expansion.program)
    scalar_values = expansion.input_values(values)
    nodes = {name: graph.names[name] for name in scalar_values}
    gradients = backward(graph, output, list(nodes.values()))
    targets = [output, *(gradients.of(n) for n in nodes.values())]
    assigned_names = [a.name for a in expansion.program.assignments if a.name is not None]  # all are named
    named = [graph.names[n] for n in assigned_names if is_node(graph.names[n])]
    computed = evaluate(graph, {nodes[n]: np.asarray(v) for n, v in scalar_values.items()}, targets + named, conventions)
    result: dict[str, np.ndarray] = {}
    for name, names in expansion.inputs.items():
        result[name] = _object_array(names.shape, lambda i: float(value_of(computed, gradients.of(nodes[names[i]])))).astype(float)
    assigned = {n: float(value_of(computed, graph.names[n])) for n in assigned_names}
    assigned.update(scalar_values)
    return float(value_of(computed, output)), result, assigned


@dataclass
class Verification:
    """The matrix-notation result beside the scalar engine's, entry by entry."""

    #: (matrix notation, scalar engine) value of the output.
    output: tuple[float, float]
    #: input name → (matrix-notation gradient, scalar-engine gradient), arrays shaped like the input.
    gradients: dict[str, tuple[np.ndarray, np.ndarray]]
    #: tensor node label → (tensor value, value recomputed from the components): every forward node.
    nodes: dict[str, tuple[np.ndarray, np.ndarray]]
    expansion: ScalarProgram

    def _pairs(self):
        yield np.asarray(self.output[0]), np.asarray(self.output[1])
        for pair in [*self.gradients.values(), *self.nodes.values()]:
            yield np.asarray(pair[0], dtype=float), np.asarray(pair[1], dtype=float)

    @property
    def max_abs_difference(self) -> float:
        """Largest |matrix − scalar| over the output, every gradient entry and every forward component."""
        return max((float(np.max(np.abs(a - b), initial=0.0)) for a, b in self._pairs()), default=0.0)

    @property
    def max_relative_difference(self) -> float:
        """Largest |a − b| / max(|a|, |b|) (0 where both are 0)."""
        worst = 0.0
        for a, b in self._pairs():
            scale = np.maximum(np.abs(a), np.abs(b))
            with np.errstate(all="ignore"):
                ratio = np.where(scale > 0, np.abs(a - b) / np.where(scale > 0, scale, 1.0), 0.0)
            worst = max(worst, float(np.max(ratio, initial=0.0)))
        return worst

    def agrees(self, rtol: float = 1e-9, atol: float = 1e-12) -> bool:
        return all(np.allclose(a, b, rtol=rtol, atol=atol) for a, b in self._pairs())


def compare(d: Derived) -> Verification:
    """Verification (a): the derivation's matrix-notation gradients against the scalar engine on the expansion.

    The derivation needs a value for every input.
    """
    if not d.complete:
        raise InputError("the verification needs a value for every input", parameter="at")
    expansion = scalarize(d.graph, d.output, d.value)
    output, gradients, assigned = scalar_gradients(expansion, d.at, d.conventions)
    pairs = {name: (np.asarray(d.gradient_value(name), dtype=float), gradients[name]) for name in d.wrt}
    nodes = {}
    for node, array in expansion.components.items():
        if d.graph[node]["op"] is None:
            continue
        recomputed = _object_array(array.shape, lambda i: _component_value(array[i], assigned)).astype(float)
        nodes[expansion.labels[node]] = (np.asarray(d.value(node), dtype=float), recomputed)
    output_value = d.value(d.output)
    assert output_value is not None  # a complete derivation has every value
    return Verification((float(output_value), output), pairs, nodes, expansion)


def verify(d: Derived) -> float:
    """The largest absolute difference between the matrix-notation results and the scalar engine's."""
    return compare(d).max_abs_difference


# --- expansion ---------------------------------------------------------------------------------------------


class _Writer:
    """Makes the assignments: one fresh name per applied op, constants folded."""

    def __init__(self, taken: set[str]):
        self.taken = set(taken)
        self.assignments: list[Assignment] = []
        self.prefix = "t"
        self.counts: dict[str, int] = {}

    def fresh(self, base: str) -> str:
        name, k = base, 1
        while name in self.taken or name in ops.FUNCTIONS or name in ("pi", "E"):
            k += 1
            name = f"{base}_v{k}"
        self.taken.add(name)
        return name

    def term(self, op: str, *args: Term) -> Term:
        if all(isinstance(a, sp.Expr) for a in args):
            return ops.get(op).build(*args)
        count = self.counts.get(self.prefix, 0)
        self.counts[self.prefix] = count + 1
        name = self.fresh(f"{self.prefix}__{count}")
        self.assignments.append(Assignment(name, Apply(op, tuple(args))))
        return Ref(name, 0, 0)


def _apply(op: ops.Op, operands, arrays, term: Callable[..., Term]) -> np.ndarray:
    """The components of op(operands): `arrays` holds the operands' components (None for a constant operand)."""
    count = len(operands) if op.arity == -1 or not op.is_tensor else op.arity
    arrays = [a if a is not None else _constant_components(o, term) for a, o in zip(arrays[:count], operands[:count])]
    if not op.is_tensor:
        return _elementwise(op.name, arrays, term)
    if op.components is None:
        raise InputError(f"{op.name} has no scalar components: it cannot be expanded (it is forward-only)")
    return _as_array(op.components(term, arrays, [ops.parameter(p) for p in operands[count:]]))


def _forward_value(graph: Graph, node: int, op: ops.Op, value: Callable[[int], Any] | None) -> np.ndarray:
    """An integer node's components: the indices it holds in the forward pass, as constants."""
    if value is None:
        raise InputError(f"{graph.label(node)} = {op.name}(…) is an index, a forward value: "
                         "expanding it needs the values of the inputs (scalarize(graph, output, value))")
    indices = np.asarray(value(node), dtype=float).astype(int)
    return _object_array(indices.shape, lambda i: sp.Integer(int(indices[i])))


def _constant_components(constant: sp.Expr, term: Callable[..., Term]) -> np.ndarray:
    """A constant operand's entries: a number, or a tensor constant such as ones(3) or onehot(4, 2) written out."""
    if not constant.has(TensorFunction):
        return _as_array(constant)
    op, args = ops.decompose(constant)
    return _apply(op, args, [None] * len(args), term)


def _elementwise(op: str, arrays: list[np.ndarray], term: Callable[..., Term]) -> np.ndarray:
    """A scalar op applied entry by entry, its operands broadcast by NumPy's rules."""
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    spread = [np.broadcast_to(a, shape) for a in arrays]
    return _object_array(shape, lambda i: term(op, *(a[i] for a in spread)))


def _object_array(shape: tuple[int, ...], entry: Callable[[tuple[int, ...]], Any]) -> np.ndarray:
    out = np.empty(shape, dtype=object)
    for index in np.ndindex(*shape):
        out[index] = entry(index)
    return out


def _as_array(result: Any) -> np.ndarray:
    if isinstance(result, np.ndarray):
        return result.astype(object)
    out = np.empty((), dtype=object)
    out[()] = result
    return out


def _component_name(name: str, index: tuple[int, ...]) -> str:
    return "_".join([name, *map(str, index)])


def _component_value(component: Term, assigned: Mapping[str, float]) -> float:
    if isinstance(component, Ref):
        return assigned[component.name]
    return float(ops.approximate(component))


def _term_text(term: Term) -> str:
    if isinstance(term, Ref):
        return term.name
    if isinstance(term, sp.Expr):
        text = source(term)
        return text if text.isdigit() else f"({text})"
    args = [_term_text(a) for a in term.args]
    infix = {"add": " + ", "mul": " * ", "sub": " - ", "div": " / ", "pow": " ** "}
    if term.op in infix:
        return infix[term.op].join(args)
    if term.op == "neg":
        return f"-{args[0]}"
    return f"{term.op}({', '.join(args)})"
