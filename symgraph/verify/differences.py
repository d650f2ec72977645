"""Central differences for the check: three steps, Richardson extrapolation, error bounds, and a ladder of
smaller steps that tells a real disagreement from a function too fast for the step.

Every difference is taken over the step the floating-point input actually moved, (x + h) − x, which is exact,
so the rounding of the input itself costs nothing (sin(x) at 10¹⁰ moves by whole units of its last place).
The rounding left is that of the values the step moves, relative to the largest of them.
The perturbed points of many inputs are evaluated in one vectorised sweep of the straight-line program.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import sympy as sp

from symgraph import ops
from symgraph.engine.evaluate import Conventions, evaluate, value_of
from symgraph.engine.graph import Graph, Operand, is_node
from symgraph.notation import number

__all__ = ["richardson", "differences", "breaks", "converges", "Cancellations", "ladder_steps", "LADDER", "Ladder"]

_EPS = np.finfo(float).eps
_ROWS = 6  # evaluations per point and input: x ± h, x ± h/2, x ± h/4
#: The ladder of steps tried before a disagreement is called a failure: h, h/4, …, h/4⁸.
LADDER = 9
_BATCH_FLOATS = 1 << 22  # node values per finite-difference sweep (32 MB of floats)
_STACK = 256  # nodes reduced at once when looking for the largest intermediate value
#: The ladder's central differences along one input, and the rounding bound of each, on demand.
Ladder = Callable[[], tuple[np.ndarray, np.ndarray]]


def richardson(f, offsets, magnitude):
    """The extrapolated derivative, its error bound and the resolution floor, from f at x + offsets.

    f and offsets come in the order +h, −h, +h/2, −h/2, +h/4, −h/4 (offsets as the input really moved).
    Two extrapolations (eliminating the h² term for the steps actually taken); their disagreement, plus
    rounding relative to `magnitude` (the largest value the step moves), bounds the error. The rounding part
    alone is the resolution: a derivative below it cannot be told from 0. Works on floats and arrays alike.
    """
    # NumPy floats: a step lost in a huge input (1e150 + h) is a width of 0, which gives nan, not ZeroDivisionError
    widths = [np.float64(offsets[2 * i]) - np.float64(offsets[2 * i + 1]) for i in range(3)]
    with np.errstate(divide="ignore", invalid="ignore"):
        central = [(f[2 * i] - f[2 * i + 1]) / widths[i] for i in range(3)]
        h2 = [(w / 2) ** 2 for w in widths]
        coarse = (h2[0] * central[1] - h2[1] * central[0]) / (h2[0] - h2[1])
        estimate = (h2[1] * central[2] - h2[2] * central[1]) / (h2[1] - h2[2])
        resolution = 100 * _EPS * magnitude / (np.abs(widths[2]) / 2)
    return estimate, 10 * np.abs(estimate - coarse) + resolution, resolution


def ladder_steps(h: float) -> np.ndarray:
    return h * 4.0 ** -np.arange(LADDER)


def converges(diffs: np.ndarray, roundings: np.ndarray, g: float, estimate: float, tolerance: float) -> bool:
    """Whether central differences at ever smaller steps settle on a value that still disagrees with g.

    A real mistake: the differences at the smallest steps whose rounding is small agree with each other to
    10⁻³ and stay beyond the tolerance from g. A function that changes faster than the step can follow
    (sin(10¹⁰x)): the differences jump from step to step, and no step settles it.
    """
    scale = max(abs(g), float(np.max(np.abs(diffs), initial=0.0)), abs(estimate))
    usable = np.flatnonzero(np.isfinite(diffs) & (roundings <= 1e-4 * scale))
    if len(usable) < 2:
        return True  # nothing finer to learn: the three steps already judged stand
    last = diffs[usable[-3:]]
    return bool(np.ptp(last) <= 1e-3 * scale and abs(g - last[-1]) > tolerance)


def differences(graph, function, inputs, points, names, conventions) -> dict[str, tuple]:
    """Per input in `names`: (estimate, error bound, resolution, note, ladder per point).

    Three steps h, h/2, h/4 give two extrapolations; their disagreement bounds the error. Two
    steps alone can agree by accident. The perturbed points of many inputs go through one sweep
    (a block of columns per input), so the per-node cost of a sweep is paid once per batch.
    """
    n_points = len(next(iter(points.values())))
    needed = sorted(graph.upstream([function]))
    found = [(node, *b) for node in needed for b in breaks(graph, node, conventions)]
    # Columns per sweep: enough inputs that the per-node overhead is shared, few enough that the
    # values of every node in the sweep (nodes × columns floats) stay within a few tens of MB.
    batch_size = max(1, _BATCH_FLOATS // (_ROWS * n_points * max(len(needed), 1)))
    results = {}
    for first in range(0, len(names), batch_size):
        results.update(_sweep(graph, function, inputs, points, names[first : first + batch_size], found, conventions))
    return results


def _steps(x: np.ndarray) -> np.ndarray:
    # Relative to x below 1, so that 1/x at 10⁻⁶ is not differenced across its pole; never above
    # ε^(1/3), so that sin(x) at 10¹⁰ is not stepped across whole periods.
    return _EPS ** (1 / 3) * np.clip(np.abs(x), 1e-3, 1.0)


def _sweep(graph, function, inputs, points, names, found, conventions) -> dict[str, tuple]:
    """The differences along each of `names`, from one evaluation of `function` at all their perturbed points."""
    n_points, m = len(points[names[0]]), len(names)
    columns = _ROWS * n_points
    names_in = list(inputs)
    tiled = np.tile(np.array([points[n] for n in names_in], dtype=float).reshape(len(names_in), n_points), (1, _ROWS * m))
    batch = dict(zip(names_in, tiled))  # one row (a view) per input: every point, repeated per perturbation
    x = np.array([points[n] for n in names], dtype=float).reshape(m, n_points)
    h = _steps(x)
    nominal = np.stack([sign * h / 2**i for i in range(3) for sign in (1, -1)], axis=1).reshape(m, columns)
    moved = np.empty((m, columns))
    for j, name in enumerate(names):
        block = slice(j * columns, (j + 1) * columns)
        batch[name][block] += nominal[j]  # input j's block: x ± h, x ± h/2, x ± h/4
        moved[j] = batch[name][block] - np.tile(x[j], _ROWS)  # exact: the step the input really took
    values = evaluate(graph, {inputs[n]: batch[n] for n in inputs}, [function], conventions)
    f = np.broadcast_to(value_of(values, function), (m * columns,)).reshape(m, _ROWS, n_points)
    offsets = moved.reshape(m, _ROWS, n_points)
    magnitude = _magnitude(graph, values, m, n_points, function)
    estimate, noise, resolution = richardson([f[:, r] for r in range(_ROWS)], [offsets[:, r] for r in range(_ROWS)],
                                             magnitude)
    notes = _kinks(graph, values, found, m, n_points)
    widths = offsets[:, 0::2] - offsets[:, 1::2]  # (m, 3, points): 2h, h, h/2 as taken
    unresolved = np.any(widths <= 0, axis=1) | np.any(widths[:, 1:] >= widths[:, :-1], axis=1)
    for j, k in zip(*np.nonzero(unresolved)):
        notes[j][k] = notes[j][k] or f"the step is below the rounding of {names[j]} = {number(x[j, k])}"
    ladders = [[_scalar_ladder(graph, function, inputs, points, name, k, float(h[j, k]), float(magnitude[j, k]),
                               conventions) for k in range(n_points)] for j, name in enumerate(names)]
    return {name: (estimate[j], noise[j], resolution[j], notes[j], ladders[j]) for j, name in enumerate(names)}


def _scalar_ladder(graph, function, inputs, points, name, k, h, magnitude, conventions) -> Ladder:
    def ladder() -> tuple[np.ndarray, np.ndarray]:
        steps = ladder_steps(h)
        at = {inputs[n]: np.full(2 * LADDER, float(points[n][k])) for n in inputs}
        at[inputs[name]] = at[inputs[name]] + np.concatenate([steps, -steps])
        f = np.broadcast_to(value_of(evaluate(graph, at, [function], conventions), function), (2 * LADDER,))
        widths = at[inputs[name]][:LADDER] - at[inputs[name]][LADDER:]
        with np.errstate(divide="ignore", invalid="ignore"):
            return (f[:LADDER] - f[LADDER:]) / widths, 100 * _EPS * magnitude / (np.abs(widths) / 2)
    return ladder


def _magnitude(graph: Graph, values, m, n_points, function: Operand) -> np.ndarray:
    """Per input block and point, the largest value the step moves: rounding in f is relative to it, not to f.

    ((x + 10¹⁰) − 10¹⁰ passes through 10¹⁰ and loses that many digits, although f ≈ x.) A value the step
    does not move is the same in every evaluation, so its rounding cancels; the input itself is differenced
    over its exact step. f itself counts even unmoved: σ(40 ± h) rounds to 1 every time because its change is
    below f's own rounding, which is then the resolution. Nodes are reduced a few hundred at a time (stacked),
    not with NumPy calls per node.
    """
    shape = (m * _ROWS * n_points,)
    largest = np.zeros((m, n_points))
    if is_node(function) and function in values:
        output = np.abs(np.broadcast_to(values[function], shape)).reshape(m, _ROWS, n_points).max(axis=1)
        largest = np.where(np.isfinite(output), output, 0.0)
    arrays = [v for node, v in values.items() if graph[node]["op"] is not None]
    for first in range(0, len(arrays), _STACK):  # a few hundred nodes at a time keeps the copy small
        stacked = np.stack([v if v.shape == shape else np.broadcast_to(v, shape) for v in arrays[first : first + _STACK]])
        stacked = stacked.reshape(len(stacked), m, _ROWS, n_points)
        size = np.abs(stacked)
        size[~np.isfinite(size)] = 0.0
        size *= (np.ptp(stacked, axis=2) != 0)[:, :, None, :]  # (node, block, point) not moved: rounds alike
        np.maximum(largest, size.max(axis=(0, 2)), out=largest)
    return largest


def _kinks(graph, values, found, m, n_points) -> list[list[str]]:
    """Per input block and point, a note for each op whose operand crosses (or sits on) its kink within the step."""
    notes: list[list[dict[str, None]]] = [[{} for _ in range(n_points)] for _ in range(m)]
    for node, position, at, note in found:
        # Near the break relative to how far the step moves the operand: this catches a crossing
        # (relu(x) at 0) and a touch without crossing (sqrt(x²) at x ≈ 0) alike. An operand the input
        # does not move (relu(y) at y = 0 while z is stepped) is no kink for that input's difference.
        u = value_of(values, graph.operands(node)[position]) - value_of(values, at)
        u = np.broadcast_to(u, (m * _ROWS * n_points,)).reshape(m, _ROWS, n_points)
        spread = np.max(u, axis=1) - np.min(u, axis=1)
        near = (np.min(np.abs(u), axis=1) <= spread) & (spread > 0)
        for j, k in zip(*np.nonzero(near)):
            notes[j][k][note] = None
    return [["; ".join(n) for n in block] for block in notes]


def breaks(graph: Graph, node: int, conventions: Conventions) -> list[tuple[int, Operand, str]]:
    """(operand position, the number or operand it breaks at, note) where the node's derivative breaks: a kink or a pole."""
    op_name = graph[node]["op"]
    if op_name is None:
        return []
    op = ops.get(op_name)
    convention = op.kink_note.format(relu_at_zero=number(conventions.relu_at_zero))
    found: list[tuple[int, Operand, str]] = [
        (position, at, f"{op.name} has a kink {where} within the step ({convention})")
        for position, at, where in op.kinks(graph.operands(node))
    ]
    pole = op.pole(graph.operands(node)) if op.pole is not None else None
    if pole is not None:
        found.append((pole, sp.Integer(0), f"{op.name} is singular where its operand is 0, within the step"))
    return found


class Cancellations:
    """Per sum in a derivative's computation, where one rounded term cancels exact ones to exactly 0
    (1 − y with y = σ(40) = 1): an exact 0 that went through one is rounding, not a zero the check may confirm.
    Constants and the 0/1 of a step or comparison are exact, so 1 − step(u) = 0 is a true 0.

    Found once for all the derivatives of a check (a walk per derivative made it quadratic: 500 inputs'
    derivatives re-walked the shared adjoint graph); `of` then looks only at the sums that did cancel.
    """

    def __init__(self, graph: Graph, values, derivatives):
        self.graph = graph
        self.found: dict[int, np.ndarray] = {}
        exact: dict[int, bool] = {}
        for node in sorted(graph.upstream([d for d in derivatives if is_node(d)])):  # ids are topological
            exact[node] = _exact(graph, values, node, exact)
            # Only the derivative's own arithmetic: a forward sum that is 0 (z = b + wᵀh at z = 0) is the point.
            if graph[node]["op"] in ("add", "sub") and graph[node]["kind"] not in ("input", "forward") and node in values:
                rounded = [a for a in graph.operands(node) if is_node(a) and not exact[a]]
                if len(rounded) == 1:  # two rounded terms may be the same value twice: their 0 is true
                    terms = np.broadcast_arrays(*[np.abs(value_of(values, a)) for a in rounded])
                    cancelled = (values[node] == 0) & (np.maximum.reduce(terms) > 0)
                    if np.any(cancelled):
                        self.found[node] = cancelled

    def of(self, derivative: Operand) -> list[np.ndarray]:
        """Where each sum in this derivative's computation cancelled to 0 (none for a constant)."""
        if not self.found or not is_node(derivative):
            return []
        upstream = self.graph.upstream([derivative])
        return [cancelled for node, cancelled in self.found.items() if node in upstream]


def _exact(graph: Graph, values, node: int, exact: dict[int, bool]) -> bool:
    """A value that carries no rounding of its own: an input, a step or comparison (0/1), and of exact values:
    a piecewise linear op (relu, abs, max, a sum), a product with integers or 0/1, or any op at 0 (exp(0) = 1)."""
    op_name = graph[node]["op"]
    if op_name is None or _linear_pieces(op_name) == 0:
        return True
    operands = graph.operands(node)
    if not all(exact[a] if is_node(a) else sp.sympify(a).is_integer for a in operands):
        return False
    factors = [a for a in operands if is_node(a) and graph[a]["op"] is not None and _linear_pieces(graph[a]["op"]) != 0]
    return (_linear_pieces(op_name) == 1 or (op_name == "mul" and len(factors) <= 1)  # times 0/1 or an integer
            or all(np.all(value_of(values, a) == 0) for a in operands if is_node(a) and a in values))


@functools.cache
def _linear_pieces(op_name: str) -> int | None:
    """0 for a piecewise-constant op (every partial 0: step, comparisons), 1 for a piecewise-linear one
    (every partial piecewise constant: relu, abs, max, add), else None."""
    op = ops.get(op_name)
    if op.partials is None or op.arity == 0:
        return None
    symbols = sp.symbols(f"a0:{max(op.arity, 2)}")  # a variadic op (add) as two operands
    partials = [sp.sympify(p) for p in op.partials(symbols, sp.Symbol("y"))]
    if all(p == 0 for p in partials):
        return 0
    # A jump's derivative (DiracDelta) is no slope: sign(u), the partial of abs, is piecewise constant.
    if all(p.diff(s) == 0 or p.diff(s).has(sp.DiracDelta) for p in partials for s in (*symbols, sp.Symbol("y"))):
        return 1
    return None
