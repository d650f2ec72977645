"""A network as a symgraph program: the names, declarations and lines that layer builders append to, and derive().

`NetworkProgram` keeps every name with its shape and kind, writes the program text (declarations first, each
cluster's lines under a comment), infers shapes by building the graph, draws seeded values and derives; the
layer builders (symgraph.teach.layers.Network) only decide which lines to append.
"""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symgraph import ops
from symgraph.api import Derivation, derive
from symgraph.engine.graph import Graph, build
from symgraph.errors import InputError, ShapeError
from symgraph.lang.parse import parse
from symgraph.lang.program import CONSTANTS

__all__ = ["NetworkProgram", "Var", "Shape", "shape_text", "layer_tag"]

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Var:
    """A named value of the program and its shape: what builders take and return."""

    name: str
    shape: Shape

    def __str__(self) -> str:
        return self.name


def shape_text(shape: Shape) -> str:
    """A shape as a declaration writes it: 3x2, or scalar."""
    return "x".join(map(str, shape)) if shape else "scalar"


def layer_tag(cluster: str) -> str:
    """'layer1' → '1', 't12' → '12', 'hidden' → '': the suffix of the names a builder makes."""
    match = re.search(r"(\d+)$", cluster)
    return match[1] if match else ""


class NetworkProgram:
    """A program written one named line at a time, each in a cluster; `derive()` runs it."""

    def __init__(self, seed: int = 0, decimals: int | None = 2):
        #: Seed and rounding of `random_values` (rounded values read better in a picture).
        self.seed, self.decimals = seed, decimals
        self.shapes: dict[str, Shape] = {}  # every name: inputs, parameters, constants and assignments
        self.kinds: dict[str, str] = {}  # input | parameter | constant | assigned
        self.clusters: dict[str, list[str]] = {}
        self.values: dict[str, Any] = {}  # given values: constants always, inputs when given
        self.output: str | None = None  # the last assignment unless set
        self._init: dict[str, str] = {}  # parameter → weight | bias
        self._lines: list[tuple[str, str, str | None]] = []  # (name, expression, cluster)

    # --- names and values -----------------------------------------------------------------------------
    def _claim(self, name: str, what: str) -> str:
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
            raise InputError(f"{what} name {name!r}: use letters, digits and '_' (not first), e.g. W1 or h_t")
        if name in ops.FUNCTIONS or name in CONSTANTS or name in ("scalar",):
            raise InputError(f"{what} name {name!r} is a built-in name; pick another")
        if name in self.shapes:
            where = next((c for c, names in self.clusters.items() if name in names), None)
            owner = f" (by {where!r})" if where else ""
            raise InputError(
                f"the name {name} is taken{owner}: number the layers ('layer1', 'layer2', …) or pass names={{...}}"
            )
        return name

    def _var(self, x: Var | str) -> Var:
        name = x.name if isinstance(x, Var) else str(x)
        if name not in self.shapes:
            raise InputError(f"{name} is not a name of this network; names: {', '.join(self.shapes) or 'none yet'}")
        return Var(name, self.shapes[name])

    def _declare(self, name: str, shape: Shape, kind: str, cluster: str | None, what: str) -> Var:
        self._claim(name, what)
        shape = tuple(int(n) for n in shape)
        if any(n < 1 for n in shape) or len(shape) > 4:
            raise ShapeError(f"{name}: shape {shape_text(shape)} must have 0 to 4 positive sizes")
        self.shapes[name], self.kinds[name] = shape, kind
        if cluster is not None:
            self.clusters.setdefault(cluster, []).append(name)
        return Var(name, shape)

    def input(self, name: str, *shape: int | Sequence[int], value: Any = None) -> Var:
        """A data input (differentiated too, so ∂L/∂x shows); `value` fixes it instead of a random one."""
        var = self._declare(name, _flat(shape), "input", None, "input")
        if value is not None:
            self.values[name] = _checked_value(var, value)
        return var

    def sequence(self, name: str, steps: int, size: int) -> list[Var]:
        """Inputs x1 … xT of one size, for an unrolled RNN."""
        return [self.input(f"{name}{t}", size) for t in range(1, steps + 1)]

    def constant(self, name: str, value: Any, cluster: str | None = None) -> Var:
        """An input with a fixed value that is never differentiated: a target, a mask, λ."""
        array = np.asarray(value, dtype=float)
        var = self._declare(name, array.shape, "constant", cluster, "constant")
        self.values[name] = float(array) if array.ndim == 0 else array
        return var

    def parameter(self, name: str, *shape: int | Sequence[int], init: str = "weight", cluster: str | None = None,
                  share: bool = False) -> Var:
        """A trainable tensor. With share=True a parameter of that name and shape is reused: shared weights, one
        node read by every user (the cells and the RNN share theirs across steps); otherwise a taken name is an error."""
        shape = _flat(shape)
        if share and self.kinds.get(name) == "parameter":
            if self.shapes[name] != shape:
                raise ShapeError(f"parameter {name} is {shape_text(self.shapes[name])}, asked for again as {shape_text(shape)}")
            return Var(name, shape)
        self._init[name] = init
        return self._declare(name, shape, "parameter", cluster, "parameter")

    def _assign(self, name: str, expression: str, shape: Shape, cluster: str | None) -> Var:
        self._claim(name, "value")
        self.shapes[name], self.kinds[name] = tuple(shape), "assigned"
        self._lines.append((name, expression, cluster))
        if cluster is not None:
            self.clusters.setdefault(cluster, []).append(name)
        self.output = name
        return Var(name, tuple(shape))

    def let(self, name: str, expression: str, cluster: str | None = None) -> Var:
        """Any line of the language, `net.let("s", "sum(h1 * h1)")`; its shape is inferred by building the graph."""
        graph = self._build(extra=f"{name} = {expression}")
        return self._assign(name, expression, graph.shape(graph.names[name]), cluster)

    # --- the program -------------------------------------------------------------------------------------
    @property
    def program(self) -> str:
        """The program text: declarations, then one line per value, each cluster under a comment."""
        groups = (("input", "inputs"), ("parameter", "parameters"), ("constant", "constants (given values, not differentiated)"))
        lines = []
        for kind, title in groups:
            names = [n for n, k in self.kinds.items() if k == kind]
            if names:
                lines.append(f"# {title}")
                lines += [f"{n}: {shape_text(self.shapes[n])}" for n in names]
        current = object()
        for name, expression, cluster in self._lines:
            if cluster != current:
                lines.append(f"# {cluster}" if cluster is not None else "#")
                current = cluster
            lines.append(f"{name} = {expression}")
        if self.output is not None and self._lines and self._lines[-1][0] != self.output:
            lines.append(f"# output: {self.output}")
        return "\n".join(lines)

    @property
    def declarations(self) -> dict[str, Shape]:
        return {n: self.shapes[n] for n, k in self.kinds.items() if k != "assigned"}

    @property
    def parameters(self) -> dict[str, Shape]:
        return {n: self.shapes[n] for n, k in self.kinds.items() if k == "parameter"}

    @property
    def parameter_count(self) -> int:
        return sum(math.prod(shape) for shape in self.parameters.values())

    @property
    def differentiable(self) -> list[str]:
        """Inputs and parameters: what derive() differentiates by default (constants are not)."""
        return [n for n, k in self.kinds.items() if k in ("input", "parameter")]

    def __str__(self) -> str:
        return self.program

    def _repr_markdown_(self) -> str:
        return f"```python\n{self.program}\n```\n\n{self.parameter_count:,} parameters"

    def _build(self, extra: str | None = None):
        """The program's tensor graph (no derivatives): shapes as symgraph infers them. Only the declarations of
        names in use are kept, so a half-built network (an input not read yet) builds too."""
        lines = [f"{name} = {expression}" for name, expression, _ in self._lines] + ([extra] if extra else [])
        used = set(re.findall(r"[^\W\d]\w*", "\n".join(lines)))
        declared = [f"{n}: {shape_text(s)}" for n, s in self.declarations.items() if n in used]
        program = parse("\n".join(declared + lines))
        return build(program, None, Graph(program.declarations))[0]

    def render(self, view: str = "backward", at: Mapping[str, Any] | None = None, **options: Any):
        """The picture of `derive(at)` with the clusters drawn; options as in symgraph.output.render.render."""
        return self.derive(at).render(view, **options)

    def random_values(self, seed: int | None = None, decimals: int | None = ...) -> dict[str, Any]:  # type: ignore[assignment]
        """Seeded values for every input: weights ~ N(0, 1/fan-in), biases ~ N(0, 0.1²), data ~ N(0, 1);
        constants and given values as they are. Every draw happens, so one value does not shift the others."""
        rng = np.random.default_rng(self.seed if seed is None else seed)
        digits = self.decimals if decimals is ... else decimals
        values: dict[str, Any] = {}
        for name, kind in self.kinds.items():
            if kind == "assigned":
                continue
            shape = self.shapes[name]
            if self._init.get(name) == "weight":
                drawn = rng.normal(0.0, 1.0 / math.sqrt(max(1, math.prod(shape[1:]))), shape)
            elif self._init.get(name) == "bias":
                drawn = rng.normal(0.0, 0.1, shape)
            else:
                drawn = rng.normal(0.0, 1.0, shape)
            if digits is not None:
                drawn = np.round(drawn, digits)
            values[name] = self.values.get(name, float(drawn) if drawn.ndim == 0 else drawn)
        return values

    def derive(self, at: Mapping[str, Any] | None = None, wrt: Sequence[str] | None = None, seed: int | None = None,
               **options: Any) -> Derivation:
        """symgraph.derive on the program at `random_values(seed)` updated by `at`; the result carries `clusters`,
        so `d.render()` draws them. `wrt` defaults to the inputs and parameters (constants are not differentiated)."""
        if self.output is None:
            raise InputError("the network is empty: add a layer and a loss first")
        values = self.random_values(seed)
        values.update(at or {})
        d = derive(self.program, wrt=list(wrt) if wrt is not None else self.differentiable, at=values, of=self.output, **options)
        d.clusters = {name: list(names) for name, names in self.clusters.items()}  # read by symgraph.output.render
        d.network = self
        return d


def _flat(shape: tuple) -> Shape:
    """input('x', 3, 2) and input('x', (3, 2)) alike."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def _checked_value(var: Var, value: Any) -> Any:
    array = np.asarray(value, dtype=float)
    if array.shape != var.shape:
        raise ShapeError(f"{var}: the value has shape {shape_text(array.shape)} but {var} is {shape_text(var.shape)}")
    return float(array) if array.ndim == 0 else array
