"""`for t in range(…):` blocks, read before the parser unrolls them: ranges, unrolled size, versioned names.

The parser unrolls a loop by walking its body once per value of the loop variable, so every later
stage sees a straight-line program. This module reads the whole program first, without unrolling:
each loop's range (one to three integer constants), the size the unrolled program would have
(checked against symgraph.lang.limits, naming the loop past a limit), the names the program assigns
or declares (a constant's name among them is the user's variable), and, for each name a loop assigns,
its versions in order (SSA): h_0 for a value given before the first loop, then h_1, h_2 … for the
assignments the unrolled loops make, printed h₀, h₁, h₂. Versions never print like a name of the
user's: where one would, the base is lengthened (hv_1, printed hv₁) until none does.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field

from symgraph import ops
from symgraph.errors import LimitError, ParseError
from symgraph.lang import limits
from symgraph.lang.program import CONSTANTS
from symgraph.notation import pretty_name

__all__ = ["Plan", "plan", "header", "iteration", "OPERATIONS"]

#: The ast nodes counted as operations against `limits.LIMITS.max_nodes`.
OPERATIONS = (ast.BinOp, ast.UnaryOp, ast.Call, ast.Compare)

Error = Callable[..., ParseError]


@dataclass
class Plan:
    """What the parser needs to unroll the loops; `versions` maps a name to its version names, in order."""

    ranges: dict[ast.For, range] = field(default_factory=dict)
    versions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    assigned: set[str] = field(default_factory=set)
    declared: set[str] = field(default_factory=set)
    #: every name the text mentions (inputs, assigned names, loop variables, functions)
    mentioned: set[str] = field(default_factory=set)
    #: a loop variable → the header of its (first) loop, for errors about a use outside it
    loop_variables: dict[str, str] = field(default_factory=dict)


def header(loop: ast.For, text: str) -> str:
    """`for t in range(1, 4)`, as written."""
    return f"for {ast.get_source_segment(text, loop.target)} in {ast.get_source_segment(text, loop.iter)}"


def iteration(bound: dict[str, int]) -> str:
    """t = 2, or i = 0, j = 1 in nested loops: where an error was met while unrolling."""
    return ", ".join(f"{variable} = {value}" for variable, value in bound.items())


def plan(module: ast.Module, text: str, error: Error) -> Plan:
    """Read the loops of `module`; raises ParseError for a malformed loop, LimitError past a limit."""
    planner = _Planner(text, error)
    planner.walk(module.body, 1, ())
    planner.check_limits()
    planner.name_versions()
    return planner.result


@dataclass
class _Assigned:
    """One assignment statement of a name: inside a loop or not, how many times it runs, its value."""

    in_loop: bool
    times: int
    value: ast.expr


class _Planner:
    def __init__(self, text: str, error: Error):
        self.text = text
        self.error = error
        self.result = Plan()
        self.assignments: dict[str, list[_Assigned]] = {}
        self.assigned_at: dict[str, ast.Name] = {}
        self.operations = 0
        self.loop_assignments = 0
        #: per outermost loop: (loop, unrolled operations, unrolled assignments)
        self.outer: list[tuple[ast.For, int, int]] = []

    def walk(self, body: list[ast.stmt], times: int, active: tuple[str, ...]) -> None:
        for stmt in body:
            if isinstance(stmt, ast.For):
                before = (self.operations, self.loop_assignments)
                values = self.range(stmt, active)
                self.walk(stmt.body, times * _length(values), (*active, stmt.target.id))  # type: ignore[attr-defined]
                if not active:
                    self.outer.append((stmt, self.operations - before[0], self.loop_assignments - before[1]))
                continue
            self.operations += times * sum(isinstance(n, OPERATIONS) for n in ast.walk(stmt))
            self.result.mentioned.update(n.id for n in ast.walk(stmt) if isinstance(n, ast.Name))
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                name = stmt.targets[0].id
                self.assignments.setdefault(name, []).append(_Assigned(bool(active), times, stmt.value))
                self.assigned_at.setdefault(name, stmt.targets[0])
                self.result.assigned.add(name)
                self.loop_assignments += times if active else 0
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                self.result.declared.add(stmt.target.id)

    def range(self, loop: ast.For, active: tuple[str, ...]) -> range:
        """The loop's range, refusing anything but `for NAME in range(integer constants):`."""
        if loop.orelse:
            raise self.error("'for … else' is not allowed", loop, "write the loop without else")
        target = loop.target
        if not isinstance(target, ast.Name):
            raise self.error("a loop variable is one name, e.g. for t in range(5)", target)
        variable = target.id
        if variable.startswith("_"):
            raise self.error("names starting with '_' are reserved", target)
        if variable in ops.FUNCTIONS or variable in CONSTANTS:
            raise self.error(f"'{variable}' is a built-in name and cannot be a loop variable", target, "use t, i or j")
        if variable in active:
            raise self.error(f"'{variable}' is already the variable of an enclosing loop", target, "use another name, e.g. i and j")
        call = loop.iter
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "range"):
            raise self.error("a loop runs over range(…), e.g. for t in range(5)", call)
        if call.keywords or not 1 <= len(call.args) <= 3:
            raise self.error("range takes one to three integers: range(stop), range(start, stop) or range(start, stop, step)", call)
        bounds = [self.integer(arg) for arg in call.args]
        if len(bounds) == 3 and bounds[2] == 0:
            raise self.error("the step of range cannot be 0", call.args[2])
        values = range(*bounds)
        if _length(values) == 0:
            raise self.error(f"{ast.get_source_segment(self.text, call)} is empty: the loop would never run", call)
        self.result.ranges[loop] = values
        self.result.loop_variables.setdefault(variable, header(loop, self.text))
        self.result.mentioned.add(variable)
        return values

    def integer(self, node: ast.expr) -> int:
        sign = 1
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            sign, node = -1, node.operand
        if not (isinstance(node, ast.Constant) and type(node.value) is int):
            raise self.error("range takes integer constants, e.g. range(5) or range(1, 6)", node)
        if len(str(node.value)) > limits.LIMITS.max_literal_digits:
            raise LimitError(f"integer literal has more than {limits.LIMITS.max_literal_digits} digits")
        return sign * node.value

    def check_limits(self) -> None:
        """The unrolled program within the operation limit, and its loops within as many assignments."""
        limit = limits.LIMITS.max_nodes
        for name, target in self.assigned_at.items():
            if name in self.result.loop_variables:
                raise self.error(f"'{name}' is a loop variable and cannot be assigned", target, "use another name")
        if self.operations > limit:
            if not self.outer:
                raise LimitError(f"program has {self.operations:,} operations; the limit is {limit:,}")
            loop, operations, _ = max(self.outer, key=lambda entry: entry[1])
            raise LimitError(
                f"the loop '{header(loop, self.text)}' on line {loop.lineno} unrolls to {operations:,} operations "
                f"(the program to {self.operations:,}); the limit is {limit:,}"
            )
        if self.loop_assignments > limit:
            loop, _, assignments = max(self.outer, key=lambda entry: entry[2])
            raise LimitError(
                f"the loop '{header(loop, self.text)}' on line {loop.lineno} unrolls to {assignments:,} assignments; "
                f"the limit is {limit:,}"
            )

    def name_versions(self) -> None:
        """h_0 (a value before the loops), h_1, h_2 … for every name a loop assigns; none printing like another name."""
        raw = set(self.result.mentioned)
        shown = {pretty_name(name) for name in raw}
        for name, statements in self.assignments.items():
            if not any(s.in_loop for s in statements):
                continue
            first = 0 if not statements[0].in_loop else 1
            count = sum(s.times for s in statements)
            # `h = h0` before the loop: version h₀ is h0 itself, so that name may print alike.
            value = statements[0].value
            alias = value.id if first == 0 and isinstance(value, ast.Name) and value.id not in self.assignments else None
            base = name
            while True:
                names = tuple(f"{base}_{k}" for k in range(first, first + count))
                # a version the program reads by name (concat(k_1, k_2) after the loop) is that version, not a clash
                read = {n for n in names if n in raw and n not in self.assignments}
                others, seen = raw - read, shown - {pretty_name(n) for n in read}
                if not any(_clashes(n, others, seen, alias if k == 0 else None) for k, n in enumerate(names)):
                    break
                base += "v"
            self.result.versions[name] = names
            raw.update(names)
            shown.update(pretty_name(n) for n in names)


def _clashes(name: str, raw: set[str], shown: set[str], alias: str | None) -> bool:
    if name in raw:
        return True
    return pretty_name(name) in shown and not (alias is not None and pretty_name(alias) == pretty_name(name))


def _length(values: range) -> int:
    """len(range(…)) without OverflowError on huge bounds."""
    step = values.step
    span = values.stop - values.start if step > 0 else values.start - values.stop
    return max(0, (span + abs(step) - 1) // abs(step))
