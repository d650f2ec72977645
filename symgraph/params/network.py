"""The table of a network: each layer's input and output shape and its count, for numbers and for letters.

Shapes are per example and channels first, as PyTorch's: C×H×W, C×L, L×d (a sequence) or a
feature vector. A 4-number input N×C×H×W carries a batch size N, which is reported and left out
of the shapes, since no count depends on it. Every layer type is one `Layer` record (layers.py,
attention.py). Recurrent layers count one bias vector per gate (the textbook count, 4·(h(d+h)+h)
for an LSTM); PyTorch's count, with b_ih and b_hh, is carried alongside.

Sizes may be letters (`--input CxHxW`, `Conv2d(C, K, 3)`): the table then holds formulas, and
`size` (letter → number) gives a second table, `numbers`, of the same network with those numbers
put in, row for row, built the same way, so that a kernel too large for H = 2 is caught there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

from symgraph.errors import InputError
from symgraph.params.layers import Count, Mismatch, Refused
from symgraph.params.sizes import Shape, Size, differ, given_sizes, letters_of, shape_text, size_text, source_text
from symgraph.params.spec import Call, parse_input, parse_spec

__all__ = ["Row", "Network", "network"]


@dataclass(frozen=True)
class Row:
    call: Call
    input_shape: Shape
    output_shape: Shape
    shape_working: str
    count: Count

    @property
    def params(self) -> Size:
        return self.count.weights + self.count.biases

    @property
    def pytorch_params(self) -> Size:
        return self.count.weights + self.count.pytorch_biases

    @property
    def working(self) -> str:
        return ";  ".join(w for w in (self.shape_working, self.count.working) if w)


@dataclass(frozen=True)
class Network:
    input_shape: Shape  # one example
    batch: Size | None  # the N of an N×C×H×W input
    rows: tuple[Row, ...]
    letters: tuple[str, ...] = ()  # the size letters of the input and SPEC
    size: Mapping[str, int] = field(default_factory=dict)  # numbers given for some letters
    numbers: Network | None = None  # the same network with `size` put in, when it has letters and some are given

    @property
    def output_shape(self) -> Shape:
        return self.rows[-1].output_shape

    @property
    def total_weights(self) -> Size:
        return sum((r.count.weights for r in self.rows), 0)

    @property
    def total_biases(self) -> Size:
        return sum((r.count.biases for r in self.rows), 0)

    @property
    def total(self) -> Size:
        return self.total_weights + self.total_biases

    @property
    def total_pytorch(self) -> Size:
        return sum((r.pytorch_params for r in self.rows), 0)

    @property
    def notes(self) -> tuple[str, ...]:
        batch = () if self.batch is None else (
            f"The input's batch size {size_text(self.batch)} is left out: shapes are per example and no count depends on it.",)
        return batch + tuple(dict.fromkeys(r.call.layer.note for r in self.rows if r.call.layer.note))


def network(spec: str, input_shape: str, size: Mapping[str, int] | None = None) -> Network:
    """The table for SPEC on an input of INPUT_SHAPE; every problem is one InputError naming the layer.

    `size` gives numbers for letters of the input or SPEC ({"C": 3}); the formulas stay in letters and
    `numbers` holds the table with the numbers put in."""
    size = dict(size or {})
    calls, (shape, batch) = parse_spec(spec), parse_input(input_shape)
    letters = tuple(sorted(letters_of([*shape, batch, *(v for c in calls for x in c.walk() for v in x.args.values())])))
    for name, value in size.items():
        if name not in letters:
            where = f"its letters are {', '.join(letters)}" if letters else "it has no letters"
            raise InputError(f"no size {name} in --input or SPEC ({where})", parameter="size", key=name)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**9:
            raise InputError("a size is a whole number from 0 to 1,000,000,000", parameter="size", key=name, value=value)
    with given_sizes(size):
        rows = _table(calls, shape, batch)
        numbers = None
        if size:
            calls_n, (shape_n, batch_n) = parse_spec(spec, size), parse_input(input_shape, size)
            numbers = Network(shape_n, batch_n, _table(calls_n, shape_n, batch_n))
    return Network(shape, batch, rows, letters, size, numbers)


def _table(calls: tuple[Call, ...], shape: Shape, batch: Size | None) -> tuple[Row, ...]:
    table: list[Row] = []
    _Walk(table, batch).chain(calls, shape, [])
    return tuple(table)


@dataclass
class _Walk:
    """Rows in the order they compute; `chain` is what came before a layer on its own path, for the messages."""

    table: list[Row]
    batch: Size | None

    def chain(self, calls: tuple[Call, ...], shape: Shape, before: list[Row]) -> Shape:
        path = list(before)
        for call in calls:
            row = self.block(call, shape, path) if call.branches else _row(call, shape, path, self)
            self.table.append(row)
            path.append(row)
            shape = row.output_shape
        return shape

    def block(self, call: Call, shape: Shape, path: list[Row]) -> Row:
        outputs = [self.chain(branch, shape, path) for branch in call.branches]
        label = f"{call.text} (layer {call.name})"
        if call.layer.name == "Residual":
            (out,) = outputs
            if len(out) != len(shape) or any(differ(a, b) for a, b in zip(out, shape)):
                raise InputError(f"{label}: its branch gives {shape_text(out)} but x + f(x) needs the input's shape "
                                 f"{shape_text(shape)}; end the branch with a layer back to {shape_text(shape)}")
            return Row(call, shape, shape, f"x + f(x): {shape_text(shape)}", Count(0, 0, 0))
        dim, rank = cast(int, call.args["dim"]), len(outputs[0])
        axis = dim - 1 if dim > 0 else dim + rank
        shapes = ", ".join(map(shape_text, outputs))
        if not 0 <= axis < rank:
            raise InputError(f"{label}: the branches give {shapes}; a {rank}-dimensional example has no dim {dim} "
                             f"(dim 0 is the batch, dims 1 to {rank} the example)")
        if {len(out) for out in outputs} != {rank} or any(
                differ(a, b) for out in outputs[1:] for i, (a, b) in enumerate(zip(out, outputs[0])) if i != axis):
            raise InputError(f"{label}: the branches give {shapes}; to concatenate along dim {dim} they must agree in "
                             "every other dimension")
        joined = sum((out[axis] for out in outputs), 0)
        parts = " + ".join(size_text(out[axis]) for out in outputs)
        out_shape = (*outputs[0][:axis], joined, *outputs[0][axis + 1:])
        return Row(call, shape, out_shape, f"dim {call.args['dim']}: {parts} = {size_text(joined)}", Count(0, 0, 0))


def _row(call: Call, shape: Shape, rows: list[Row], walk: _Walk) -> Row:
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
        raise InputError(_mismatch_message(label, call, m, shape, rows, walk)) from None
    except Refused as e:
        raise InputError(f"{label}: {e}") from None


def _mismatch_message(label: str, call: Call, m: Mismatch, shape: Shape, rows: list[Row], walk: _Walk) -> str:
    """Names the layer that made the incoming shape (the last one that changed it) and the fix."""
    fix = f"use {call.written(**{m.argument: m.value if m.flat is None else m.flat})}"
    if m.flat is not None:
        fix = "add Flatten() before it" + ("" if not differ(m.flat, call.args[m.argument]) else f" and {fix}")
    source = next((r for r in reversed(rows) if r.input_shape != r.output_shape), None)
    if source is None:
        return f"{label} on the input: it has {size_text(m.value)} {m.unit}{_aside(shape)}; {_input_fix(call, m, shape, walk) or fix}"
    made = source.call
    seen = source.input_shape if len(source.input_shape) > len(source.output_shape) else shape  # what was flattened
    where = made.layer.name if not made.given and not made.branches else made.text
    return f"{label} after {where}: the {made.layer.name.lower()} produces {size_text(m.value)} {m.unit}{_aside(seen)}; {fix}"


def _input_fix(call: Call, m: Mismatch, shape: Shape, walk: _Walk) -> str:
    """An input written H×W×C (or L×C) for a layer that reads channels first: the --input to type instead."""
    wanted = call.args[m.argument]
    if m.unit != "channels" or len(shape) < 2 or differ(shape[-1], wanted):
        return ""
    order = "H×W×C" if len(shape) == 3 else "L×C"
    turned = (*(() if walk.batch is None else (walk.batch,)), shape[-1], *shape[:-1])
    typed = "x".join(source_text(s).replace(" ", "") for s in turned)
    return (f"the input looks like {order}; symgraph uses PyTorch's {'C×H×W' if len(shape) == 3 else 'C×L'}: "
            f"--input {typed}")


def _aside(shape: Shape) -> str:
    return f" ({shape_text(shape)})" if len(shape) > 1 else ""
