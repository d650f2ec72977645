"""PyTorch layer text → shapes and parameter counts, read safely: nothing is imported or evaluated.

SPEC is what people paste from code: `nn.Sequential(...)`, or one constructor per line (a trailing
comma is fine), with or without `nn.` or `torch.nn.`; `fc1 = nn.Linear(...)` names a layer. The
text is walked with Python's `ast` against a whitelist of layers and their arguments.

Shapes are per example and channels first, as PyTorch's: C×H×W, C×L, L×d (a sequence) or a
feature vector. A 4-number input N×C×H×W carries a batch size N, which is reported and left out
of the shapes, since no count depends on it. Every layer type is one `Layer` record: its
arguments in PyTorch's order, the layouts it reads, its shape rule and its count rule. Recurrent
layers count one bias vector per gate (the textbook count, 4·(h(d+h)+h) for an LSTM); PyTorch's
count, with b_ih and b_hh, is carried alongside.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from symgraph.errors import InputError, LimitError, ParseError
from symgraph.lang.python_syntax import describe_node, parse_python
from symgraph.params.layers import LAYERS, MAX_SIZE, REQUIRED, Count, Layer, Mismatch, Refused, Shape, shape_text

__all__ = ["Call", "Row", "Network", "network", "parse_spec", "parse_input", "MAX_LAYERS"]

MAX_LAYERS = 10_000
MAX_NESTING = 20  # Sequential inside Sequential

# --- parsed layers, rows of the table, the network ---------------------------------------------------------
def _literal_text(value) -> str:
    if isinstance(value, tuple):
        return f"({', '.join(map(_literal_text, value))}{',' if len(value) == 1 else ''})"
    return repr(value)


@dataclass(frozen=True)
class Call:
    """One layer as written: `given` keeps the arguments' spelling, `args` all of them normalised."""

    layer: Layer
    name: str
    given: tuple[tuple[str, object, bool], ...]  # (argument, value as written, by keyword)
    args: Mapping[str, object]

    def written(self, **changed) -> str:
        parts = ((f"{name}=" if keyword else "") + _literal_text(changed.get(name, value))
                 for name, value, keyword in self.given)
        return f"{self.layer.name}({', '.join(parts)})"

    @property
    def text(self) -> str:
        return self.written()


@dataclass(frozen=True)
class Row:
    call: Call
    input_shape: Shape
    output_shape: Shape
    shape_working: str
    count: Count

    @property
    def params(self) -> int:
        return self.count.weights + self.count.biases

    @property
    def pytorch_params(self) -> int:
        return self.count.weights + self.count.pytorch_biases

    @property
    def working(self) -> str:
        return ";  ".join(w for w in (self.shape_working, self.count.working) if w)


@dataclass(frozen=True)
class Network:
    input_shape: Shape  # one example
    batch: int | None  # the N of an N×C×H×W input
    rows: tuple[Row, ...]

    @property
    def output_shape(self) -> Shape:
        return self.rows[-1].output_shape

    @property
    def total_weights(self) -> int:
        return sum(r.count.weights for r in self.rows)

    @property
    def total_biases(self) -> int:
        return sum(r.count.biases for r in self.rows)

    @property
    def total(self) -> int:
        return self.total_weights + self.total_biases

    @property
    def total_pytorch(self) -> int:
        return sum(r.pytorch_params for r in self.rows)

    @property
    def notes(self) -> tuple[str, ...]:
        batch = () if self.batch is None else (
            f"The input's batch size {self.batch} is left out: shapes are per example and no count depends on it.",)
        return batch + tuple(dict.fromkeys(r.call.layer.note for r in self.rows if r.call.layer.note))


def network(spec: str, input_shape: str) -> Network:
    """The table for SPEC on an input of INPUT_SHAPE; every problem is one InputError naming the layer."""
    calls = parse_spec(spec)
    shape, batch = parse_input(input_shape)
    rows: list[Row] = []
    for call in calls:
        rows.append(_row(call, rows[-1].output_shape if rows else shape, rows))
    return Network(shape, batch, tuple(rows))


def _row(call: Call, shape: Shape, rows: list[Row]) -> Row:
    layer, label = call.layer, f"{call.text} (layer {call.name})"
    try:
        if layer.needs and len(shape) not in {n.count("×") + 1 for n in layer.needs}:
            batch = not rows and len(shape) == max(n.count("×") + 2 for n in layer.needs)
            hint = "; give the input shape of one example, without the batch size" if batch else ""
            raise Refused(f"needs a {' or '.join(layer.needs)} input but gets {shape_text(shape)}{hint}")
        if layer.reads_ids and rows:
            raise Refused(f"{layer.name} reads token ids, so it must be the first layer; "
                           f"it gets {rows[-1].call.text}'s output")
        output, working = layer.shape(call.args, shape)
        return Row(call, shape, output, working, layer.count(call.args))
    except Mismatch as m:
        raise InputError(_mismatch_message(label, call, m, shape, rows)) from None
    except Refused as e:
        raise InputError(f"{label}: {e}") from None


def _mismatch_message(label: str, call: Call, m: Mismatch, shape: Shape, rows: list[Row]) -> str:
    """Names the layer that made the incoming shape (the last one that changed it) and the fix."""
    fix = f"use {call.written(**{m.argument: m.value if m.flat is None else m.flat})}"
    if m.flat is not None:
        fix = "add Flatten() before it" + ("" if m.flat == call.args[m.argument] else f" and {fix}")
    source = next((r for r in reversed(rows) if r.input_shape != r.output_shape), None)
    if source is None:
        return f"{label} on the input: it has {m.value} {m.unit}{_aside(shape)}; {fix}"
    made = source.call
    seen = source.input_shape if len(source.input_shape) > len(source.output_shape) else shape  # what was flattened
    where = made.layer.name if not made.given else made.text
    return f"{label} after {where}: the {made.layer.name.lower()} produces {m.value} {m.unit}{_aside(seen)}; {fix}"


def _aside(shape: Shape) -> str:
    return f" ({shape_text(shape)})" if len(shape) > 1 else ""


def parse_input(text: str) -> tuple[Shape, int | None]:
    """'4x84x84' → ((4, 84, 84), None); four sizes are N×C×H×W and N is the batch."""
    parts = re.split(r"\s*[x×X*,]\s*", str(text).strip())
    if not all(re.fullmatch(r"[0-9]{1,10}", p) for p in parts) or len(parts) > 4:
        raise InputError(f"input shape '{text}': write up to 4 sizes separated by 'x', e.g. 4x84x84 (C×H×W), "
                         "1x4x84x84 (N×C×H×W), 3x100 (C×L), 20x64 (L×d) or 784 (features)")
    sizes = tuple(int(p) for p in parts)
    if not all(1 <= s <= MAX_SIZE for s in sizes):
        raise InputError(f"input shape '{text}': every size must be from 1 to {MAX_SIZE:,}")
    return (sizes[1:], sizes[0]) if len(sizes) == 4 else (sizes, None)


# --- reading SPEC ------------------------------------------------------------------------------------------
def parse_spec(text: str) -> tuple[Call, ...]:
    """SPEC → the layers in order; raises ParseError naming the token and its column."""
    module = parse_python(text, "SPEC", "layers such as nn.Sequential(nn.Linear(784, 10), nn.ReLU())")
    calls = _Reader(text).module(module)
    if len(calls) > MAX_LAYERS:
        raise LimitError(f"SPEC has {len(calls):,} layers; the limit is {MAX_LAYERS:,}")
    return calls


class _Reader:
    """Walks the ast; every construct not listed here is refused."""

    def __init__(self, text: str):
        self.text, self.lines = text, text.splitlines() or [text]

    def error(self, message: str, node: ast.expr | ast.stmt | ast.keyword) -> ParseError:
        line = self.lines[node.lineno - 1] if node.lineno <= len(self.lines) else ""
        column = len(line.encode("utf-8")[: node.col_offset].decode("utf-8", "replace")) + 1
        where = f" (line {node.lineno})" if len(self.lines) > 1 else ""
        return ParseError(message + where, ast.get_source_segment(self.text, node) or type(node).__name__, column)

    def module(self, module: ast.Module) -> tuple[Call, ...]:
        entries: list[tuple[ast.expr, str | None]] = []
        for stmt in module.body:
            if isinstance(stmt, ast.Expr):
                entries += [(node, None) for node in self.top(stmt.value)]
            elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                name = self.target(stmt.targets[0])
                if name in (n for _, n in entries):
                    raise self.error(f"'{name}' names two layers; use a new name", stmt.targets[0])
                entries.append((stmt.value, name))
            else:
                raise self.error(f"{_word(stmt)} is not allowed; write layers such as nn.Linear(784, 10)", stmt)
        calls = [call for i, (node, name) in enumerate(entries) for call in self.layer(node, name or str(i), 0)]
        return tuple(calls)

    def top(self, node: ast.expr) -> list[ast.expr]:
        """At the top, tuples (lines ending in a comma) and an unnamed Sequential only group layers."""
        if isinstance(node, (ast.Tuple, ast.List)):
            return [item for element in node.elts for item in self.top(element)]
        if isinstance(node, ast.Call) and self.type_name(node.func) == "Sequential":
            return self.sequential(node)
        return [node]

    def target(self, node: ast.expr) -> str:
        if isinstance(node, ast.Name) and not node.id.startswith("_"):
            return node.id
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
            return node.attr
        raise self.error("only a plain name or self.name can be assigned a layer", node)

    def layer(self, node: ast.expr, name: str, depth: int) -> list[Call]:
        if not isinstance(node, ast.Call):
            known = isinstance(node, (ast.Name, ast.Attribute)) and self.type_name(node) in LAYERS
            raise self.error("a layer is called: add ()" if known else f"{_word(node)} is not a layer", node)
        kind = self.type_name(node.func)
        if kind == "Sequential":
            if depth >= MAX_NESTING:
                raise LimitError(f"Sequential nests deeper than {MAX_NESTING} levels")
            return [c for i, child in enumerate(self.sequential(node)) for c in self.layer(child, f"{name}.{i}", depth + 1)]
        if kind not in LAYERS:
            close = difflib.get_close_matches(kind, LAYERS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise self.error(f"unknown layer '{kind}'{hint}; known layers: {', '.join(sorted(LAYERS))}", node.func)
        return [self.bind(LAYERS[kind], node, name)]

    def type_name(self, node: ast.expr) -> str:
        """Conv2d, nn.Conv2d and torch.nn.Conv2d; any other attribute access is refused."""
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Attribute):
            module = node.value
            if isinstance(module, ast.Name) and module.id == "nn" or (
                isinstance(module, ast.Attribute) and module.attr == "nn"
                and isinstance(module.value, ast.Name) and module.value.id == "torch"):
                return node.attr
        raise self.error(f"{describe_node(node)} is not allowed; write a layer as nn.Conv2d(...) or Conv2d(...)", node)

    def sequential(self, node: ast.Call) -> list[ast.expr]:
        arguments: list[ast.expr | ast.keyword] = [*node.args, *node.keywords]
        for arg in arguments:
            if not isinstance(arg, ast.Call):
                raise self.error("Sequential takes layers, such as nn.ReLU(), one per argument", arg)
        return node.args

    def bind(self, layer: Layer, node: ast.Call, name: str) -> Call:
        """Arguments bound as Python binds them: positional in PyTorch's order, then keywords."""
        names = [p.name for p in layer.params]
        if len(node.args) > len(names):
            takes = f"at most {len(names)} positional argument{'s' if len(names) > 1 else ''} ({', '.join(names)})"
            raise self.error(f"{layer.name} takes {takes if names else 'no arguments'}", node)
        given: dict[str, tuple[object, bool, ast.expr]] = {}
        for param_name, arg in zip(names, node.args):
            given[param_name] = (self.literal(arg), False, arg)
        for keyword in node.keywords:
            if keyword.arg not in names:
                supported = ", ".join(names) or "none"
                message = f"{layer.name} argument '{keyword.arg or '**'}' is not supported; supported: {supported}"
                raise self.error(message, keyword)
            if keyword.arg in given:
                raise self.error(f"{layer.name} got '{keyword.arg}' twice", keyword)
            given[keyword.arg] = (self.literal(keyword.value), True, keyword.value)
        args = {}
        for param in layer.params:
            value, _, where = given.get(param.name, (param.default, False, node))
            if value is REQUIRED:
                raise self.error(f"{layer.name} needs {param.name}", node)
            try:
                args[param.name] = param.kind(value)
            except ValueError as e:
                raise self.error(f"{layer.name} {param.name}={_literal_text(value)}: expected {e}", where) from None
        return Call(layer, name, tuple((n, v, k) for n, (v, k, _) in given.items()), args)

    def literal(self, node: ast.expr, inside: bool = False):
        """Numbers, True/False/None, strings, and tuples or lists of those; nothing is evaluated."""
        if isinstance(node, (ast.Tuple, ast.List)) and not inside:
            return tuple(self.literal(e, True) for e in node.elts)
        value = node.operand if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) else node
        negative = value is not node
        if isinstance(value, ast.Constant) and (value.value is None or isinstance(value.value, (int, float, str))):
            constant = value.value
            if isinstance(constant, (int, float)) and not isinstance(constant, bool):
                if isinstance(constant, int) and abs(constant) > MAX_SIZE:
                    raise self.error(f"numbers are limited to {MAX_SIZE:,}", node)
                return -constant if negative else constant
            if not negative:
                return constant
        raise self.error(f"{_word(node)} is not allowed as an argument; write a number, True/False, a string "
                         "or a tuple of numbers", node)


_WORDS = {ast.Call: "a call", ast.Name: "a name", ast.BinOp: "arithmetic", ast.Constant: "a constant",
          ast.FunctionDef: "a function definition", ast.ClassDef: "a class definition"}


def _word(node: ast.AST) -> str:
    return _WORDS.get(type(node)) or describe_node(node)
