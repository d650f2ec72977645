"""The benchmark families, each written once as a list of one-op assignments.

Every method (symgraph, SymPy, PyTensor, JAX) reads the same `Case`, so all of them
differentiate the same function; only the interpretation of an op differs. Programs are
named assignments with one op each, so their nesting depth stays small however large
they are. A tensor family (F5) is the same kind of `Case` with declared shapes: a matrix
product is one op, and symgraph reads the declarations (`W1: 64x64`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Case", "FAMILIES", "SIZES", "text", "interpret"]

Arg = str | float


@dataclass(frozen=True)
class Case:
    """A straight-line program: `inputs`, then `lines` (name, op, args); the last line is the output.

    `shapes` declares tensor inputs (the others are scalars); `data` are inputs that get a value but are
    not differentiated (the tensor MLP's x), so every method takes the gradient by `wrt` only.
    """

    family: str
    size: int
    inputs: tuple[str, ...]
    lines: tuple[tuple[str, str, tuple[Arg, ...]], ...]
    shapes: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    data: tuple[str, ...] = ()

    @property
    def wrt(self) -> tuple[str, ...]:
        return tuple(name for name in self.inputs if name not in self.data)

    @property
    def point(self) -> dict[str, float | np.ndarray]:
        """A fixed, well-conditioned point: small values that keep every tanh and exp in range; tensors are
        seeded normal · 0.1, so that a 64-wide tanh layer does not saturate."""
        rng = np.random.default_rng(0)
        return {
            name: rng.normal(0.0, 0.1, self.shapes[name]) if name in self.shapes else 0.1 + 0.3 * ((7 * i) % 11) / 11
            for i, name in enumerate(self.inputs)
        }


def chain(depth: int) -> Case:
    """F1: tanh, sigmoid, softplus, u² + u cycling, `depth` stages deep."""
    lines, u = [], "x"
    for i in range(depth):
        stage = ("tanh", "sigmoid", "softplus", "square")[i % 4]
        if stage == "square":
            lines.append((f"q{i}", "square", (u,)))
            lines.append((f"a{i}", "add", (f"q{i}", u)))
        else:
            lines.append((f"a{i}", stage, (u,)))
        u = f"a{i}"
    return Case("F1 chain", depth, ("x",), tuple(lines))


def mlp(depth: int, width: int = 4) -> Case:
    """F2: scalar MLP, tanh layers of `width` units, every weight and bias an input; loss Σ h²."""
    inputs = [f"x{j}" for j in range(width)]
    lines, previous = [], list(inputs)
    for layer in range(depth):
        current = []
        for j in range(width):
            terms = []
            for i, h in enumerate(previous):
                weight = f"w{layer}_{j}_{i}"
                inputs.append(weight)
                lines.append((f"p{layer}_{j}_{i}", "mul", (weight, h)))
                terms.append(f"p{layer}_{j}_{i}")
            inputs.append(f"b{layer}_{j}")
            lines.append((f"s{layer}_{j}", "add", (*terms, f"b{layer}_{j}")))
            lines.append((f"h{layer}_{j}", "tanh", (f"s{layer}_{j}",)))
            current.append(f"h{layer}_{j}")
        previous = current
    for j, h in enumerate(previous):
        lines.append((f"e{j}", "square", (h,)))
    lines.append(("L", "add", tuple(f"e{j}" for j in range(width))))
    return Case("F2 MLP", depth, tuple(inputs), tuple(lines))


def rnn(steps: int) -> Case:
    """F3: h_t = tanh(w·h_{t−1} + u·x_t + b) over constant data x_t, loss Σ (h_t − y_t)²."""
    lines, h, losses = [], "h0", []
    for t in range(1, steps + 1):
        x_t, y_t = round(0.5 - ((3 * t) % 7) / 7, 4), round(0.4 - ((5 * t) % 9) / 9, 4)
        lines += [
            (f"m{t}", "mul", ("w", h)),
            (f"n{t}", "mul", ("u", x_t)),
            (f"z{t}", "add", (f"m{t}", f"n{t}", "b")),
            (f"h{t}", "tanh", (f"z{t}",)),
            (f"r{t}", "sub", (f"h{t}", y_t)),
            (f"e{t}", "square", (f"r{t}",)),
        ]
        h = f"h{t}"
        losses.append(f"e{t}")
    lines.append(("L", "add", tuple(losses)))
    return Case("F3 RNN", steps, ("w", "u", "b", "h0"), tuple(lines))


def softmax_ce(classes: int) -> Case:
    """F4: cross-entropy of class 1 under softmax over k scores: log Σ exp(s_i) − s_1."""
    inputs = tuple(f"s{i}" for i in range(1, classes + 1))
    lines = [(f"e{i}", "exp", (s,)) for i, s in enumerate(inputs, 1)]
    lines += [("S", "add", tuple(f"e{i}" for i in range(1, classes + 1))), ("Z", "log", ("S",)), ("L", "sub", ("Z", "s1"))]
    return Case("F4 softmax CE", classes, inputs, tuple(lines))


def tensor_mlp(depth: int, width: int = 64) -> Case:
    """F5: F2 as a tensor program, h_i = tanh(W_i h_{i−1} + b_i) on one 64-vector x; loss Σ h ⊙ h.

    A matrix product is one op, so the program grows with depth only; W_i (64×64) and b_i (64) are inputs.
    """
    shapes, lines, h = {"x": (width,)}, [], "x"
    for i in range(1, depth + 1):
        shapes |= {f"W{i}": (width, width), f"b{i}": (width,)}
        lines += [(f"a{i}", "matmul", (f"W{i}", h)), (f"z{i}", "add", (f"a{i}", f"b{i}")), (f"h{i}", "tanh", (f"z{i}",))]
        h = f"h{i}"
    lines += [("q", "mul", (h, h)), ("L", "sum", ("q",))]
    return Case("F5 tensor MLP (width 64)", depth, tuple(shapes), tuple(lines), shapes, data=("x",))


FAMILIES: dict[str, Callable[[int], Case]] = {"F1": chain, "F2": mlp, "F3": rnn, "F4": softmax_ce, "F5": tensor_mlp}
SIZES: dict[str, tuple[int, ...]] = {
    "F1": (10, 100, 1000, 10000),
    "F2": (2, 5, 10, 25, 50),
    "F3": (10, 50, 200, 500, 2000),
    "F4": (10, 50, 200, 500),
    "F5": (1, 2, 4, 8, 16, 32),  # the check grows as depth²: 48 entries of each of 2·depth inputs, 6 runs each
}

_INFIX = {"add": " + ", "mul": "*", "sub": " - ", "matmul": " @ "}


def text(case: Case) -> str:
    """The symgraph program text: the declarations of tensor inputs, then one assignment per line."""

    def arg(a: Arg) -> str:
        return a if isinstance(a, str) else repr(a)

    def rhs(op: str, args: tuple[Arg, ...]) -> str:
        if op in _INFIX:
            return _INFIX[op].join(arg(a) for a in args)
        if op == "square":
            return f"{arg(args[0])}**2"
        return f"{op}({', '.join(arg(a) for a in args)})"

    declarations = [f"{name}: {'x'.join(map(str, shape))}" for name, shape in case.shapes.items()]
    return "\n".join(declarations + [f"{name} = {rhs(op, args)}" for name, op, args in case.lines])


def interpret(case: Case, functions: dict[str, Callable], inputs: dict[str, object]):
    """Run the program with `functions` (op name → callable) on `inputs`; returns the output."""
    env = dict(inputs)
    for name, op, args in case.lines:
        env[name] = functions[op](*(env[a] if isinstance(a, str) else a for a in args))
    return env[case.lines[-1][0]]
