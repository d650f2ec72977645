"""Program text → Program, by walking Python's `ast` with a whitelist; nothing is ever evaluated.

The language: one expression, or named assignments separated by `;` or newlines, the last
of which is the output. Operators `+ - * / **`, comparisons `< <= > >= ==` (0/1 indicators),
unary minus, parentheses, the functions of the op registry, the constants `pi` and `E` (unless
the program makes them its own), integer and decimal numbers, and `for t in range(…):` blocks,
unrolled here into versioned names (symgraph.lang.loops). Limits are checked while walking,
before SymPy sees anything, so no input can hang the process.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Iterable, Iterator

import numpy as np
import sympy as sp

from symgraph import ops
from symgraph.errors import LimitError, ParseError, shorten
from symgraph.lang import calls, hints, limits, loops
from symgraph.lang.program import CONSTANTS, Apply, Assignment, Program, Ref, Term
from symgraph.lang.python_syntax import describe_node, parse_python
from symgraph.notation import pretty_name, spelling
from symgraph.ops.compare import FLIPPED, INDICATORS

__all__ = ["parse"]

_BINARY = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow", ast.MatMult: "matmul"}
_OPERATOR_WORDS = {ast.BitXor: "'^'", ast.FloorDiv: "'//'", ast.Mod: "'%'", ast.BitAnd: "'&'",
                   ast.BitOr: "'|'", ast.LShift: "'<<'", ast.RShift: "'>>'"}
_OPERATOR_HINTS = {
    ast.BitXor: "for a power write x**2",
    ast.FloorDiv: "write /",
}


#: What a constant's name means when the program does not make it its own.
_CONSTANT_WORDS = {"pi": "the number π", "E": "Euler's number"}


def parse(text: str, variables: Iterable[str] = ()) -> Program:
    """Parse program text; raises ParseError or LimitError with one clear line.

    `variables` are names the caller gives values to (derive's `at`): a constant's name among them
    (E, pi) is an input, as is one the program assigns or declares; Program.notes says so.
    """
    return _Walker(text, variables).program(parse_python(text, "program", "an expression such as exp(x**2 + tanh(x))"))


class _Walker:
    """Walks the ast; every construct not listed here is refused."""

    def __init__(self, text: str, variables: Iterable[str] = ()):
        self.lines = text.splitlines() or [text]
        self.ascii_lines = {number for number, line in enumerate(self.lines, 1) if line.isascii()}
        self.multiline = len(self.lines) > 1
        self.defined: dict[str, ast.Name] = {}
        self.constants: dict[str, sp.Expr] = {}
        self.inputs: dict[str, None] = {}
        self.used_at: dict[str, ast.Name] = {}
        self.declarations: dict[str, tuple[int, ...]] = {}
        self.declared_at: dict[str, ast.Name] = {}
        self.integer_names: set[str] = set()  # names of computed indices (k = argmax(o)), which may index
        self.text = text
        self.variables = set(variables)  # names that are the user's even where a constant has the name
        self.assignments: list[Assignment] = []
        self.current: dict[str, str] = {}  # a name → its current version, for names a loop assigns
        self.made: set[str] = set()  # the names of the assignments so far, versions included
        self.versions: dict[str, Iterator[str]] = {}
        self.bound: dict[str, int] = {}  # the loop variables being unrolled and their values, outermost first
        self.plan = loops.Plan()

    # --- reporting ---------------------------------------------------------------------------
    def _column(self, node: ast.expr | ast.stmt) -> int:
        """1-based character column; ast counts UTF-8 bytes, which differ only on non-ASCII lines."""
        line = self.lines[node.lineno - 1] if node.lineno <= len(self.lines) else ""
        if node.lineno not in self.ascii_lines:
            return len(line.encode("utf-8")[: node.col_offset].decode("utf-8", "replace")) + 1
        return node.col_offset + 1

    def _token(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text, node) or type(node).__name__

    def error(self, message: str, node: ast.expr | ast.stmt, hint: str | None = None) -> ParseError:
        if self.multiline:
            message += f" on line {node.lineno}"
        if self.bound:
            message += f" (at {loops.iteration(self.bound)})"
        return ParseError(message, self._token(node), self._column(node), hint)

    # --- statements ----------------------------------------------------------------------------
    def program(self, module: ast.Module) -> Program:
        self.plan = loops.plan(module, self.text, self.error)
        self.variables |= self.plan.assigned | self.plan.declared
        self.versions = {name: iter(names) for name, names in self.plan.versions.items()}
        self.statements(module.body, top=True)
        if not self.assignments:
            raise ParseError("empty program: write an expression such as exp(x**2 + tanh(x))")
        for name, target in self.declared_at.items():
            if name not in self.inputs:
                what = "assigned" if name in self.defined else "never used"
                raise self.error(f"'{name}' is declared but {what}; only inputs are declared", target)
        self.check_spellings()
        notes = tuple(
            f"{name} is your variable here, not {words}" for name, words in _CONSTANT_WORDS.items()
            if name in self.variables and name in self.plan.mentioned
        ) + (("e is your variable here; Euler's number is E (e**x is exp(x))",) if "e" in self.inputs and re.search(r"\be\s*\*\*", self.text) else ())
        latest = {name: self.current[name] for name in self.plan.versions}
        return Program(tuple(self.assignments), tuple(self.inputs), self.text, dict(self.declarations), notes, latest)

    def statements(self, body: list[ast.stmt], top: bool) -> None:
        for i, stmt in enumerate(body):
            if isinstance(stmt, ast.Assign):
                self.assign(stmt)
            elif isinstance(stmt, ast.For):
                self.loop(stmt)
            elif isinstance(stmt, ast.Expr) and top and i == len(body) - 1:
                self.assignments.append(Assignment(None, self.term(stmt.value, 0)))
            elif isinstance(stmt, ast.Expr):
                where = "only the last line may be a bare expression" if top else "a loop body holds assignments only"
                raise self.error(where, stmt, "name it with '='")
            elif isinstance(stmt, ast.AnnAssign) and top:
                self.declare(stmt)
            elif isinstance(stmt, ast.AnnAssign):
                raise self.error("a declaration inside a loop is not allowed", stmt, "declare the inputs before the loop")
            else:
                raise self.error(f"{describe_node(stmt)} is not allowed in a program", stmt, hints.statement(stmt, self.text))

    def loop(self, stmt: ast.For) -> None:
        """The body once per value of the loop variable (the plan has checked the loop and its size)."""
        variable = stmt.target.id  # type: ignore[attr-defined]
        for value in self.plan.ranges[stmt]:
            self.bound[variable] = value
            self.statements(stmt.body, top=False)
        del self.bound[variable]

    def check_spellings(self) -> None:
        """Two names that print alike (theta and θ, theta1 and θ1) would make every explanation ambiguous."""
        shown: dict[str, str] = {}
        for name in (*self.inputs, *self.defined):
            other = shown.setdefault(spelling(name), name)
            if other != name:
                node = self.used_at.get(name) or self.defined[name]
                alike = pretty_name(name), pretty_name(other)
                how = f"are both shown as {alike[0]}" if alike[0] == alike[1] else f"print alike ({alike[1]} and {alike[0]})"
                raise self.error(f"'{name}' and '{other}' {how}", node,
                                 "use one spelling for one quantity, or rename one of them")

    def declare(self, stmt: ast.AnnAssign) -> None:
        """`W: 3x2`, `x: 2` or `s: scalar`: the shape of an input."""
        target = stmt.target
        if not isinstance(target, ast.Name) or stmt.value is not None:
            raise self.error("a declaration is 'name: shape', e.g. W: 3x2", stmt)
        name = target.id
        self.check_name(name, target)
        if name in self.declarations:
            raise self.error(f"'{name}' is declared twice", target)
        self.declarations[name] = self.shape(stmt.annotation)
        self.declared_at[name] = target

    def shape(self, node: ast.expr) -> tuple[int, ...]:
        if isinstance(node, ast.Name) and node.id == "scalar":
            return ()
        factors = self.chain(node, ast.Mult) if isinstance(node, ast.BinOp) else [node]
        sizes = []
        for factor in factors:
            if not (isinstance(factor, ast.Constant) and type(factor.value) is int and 1 <= factor.value <= 100_000):
                raise self.error("a shape is sizes joined by x, e.g. W: 3x2 (or 'scalar')", node)
            sizes.append(factor.value)
        if len(sizes) > 4:
            raise self.error("tensors have at most 4 axes", node)
        if math.prod(sizes) > limits.LIMITS.max_tensor_entries:
            raise LimitError(f"shape {'x'.join(map(str, sizes))} has {math.prod(sizes):,} entries; the limit is {limits.LIMITS.max_tensor_entries:,}")
        return tuple(sizes)

    def assign(self, stmt: ast.Assign) -> None:
        """`h = …`; inside a loop a name may be assigned again: each assignment is a new version (h₁, h₂ …)."""
        if len(stmt.targets) != 1:
            raise self.error("chained assignment 'a = b = …' is not allowed", stmt, "assign one name at a time")
        target = stmt.targets[0]
        if not isinstance(target, ast.Name):
            raise self.error("only a plain name can be assigned", target)
        name = target.id
        self.check_name(name, target)
        if name in ops.FUNCTIONS:
            raise self.error(f"'{name}' is a built-in name and cannot be assigned", target)
        if name in self.defined and not self.bound:
            first = self.defined[name]
            hint = "use a new name; only a loop body assigns a name again"
            raise self.error(f"'{name}' is assigned twice (first at column {self._column(first)})", target, hint)
        term = self.term(stmt.value, 0)
        if name in self.inputs:
            use = self.used_at[name]
            start = f"give {name} its starting value before the loop, e.g. {name} = {name}0" if self.bound else None
            raise self.error(f"'{name}' is used at column {self._column(use)} before it is assigned", target, start)
        self.defined.setdefault(name, target)
        version = next(self.versions[name]) if name in self.versions else name
        if version != name and isinstance(term, Ref) and term.name in self.inputs and pretty_name(term.name) == pretty_name(version):
            self.current[name] = term.name  # h = h0 before the loop: h's version h₀ is the input h0 itself
            return
        self.current[name] = version
        if self.integer_valued(term):
            self.integer_names.add(version)
        if isinstance(term, sp.Expr):
            self.constants[version] = term  # folded into every use, so c = 0; x/c is a division by zero
        self.assignments.append(Assignment(version, term, tuple(self.bound.items())))
        self.made.add(version)

    def check_name(self, name: str, node: ast.expr) -> None:
        if name.startswith("_"):
            raise self.error("names starting with '_' are reserved", node)

    # --- expressions ---------------------------------------------------------------------------
    def term(self, node: ast.expr, depth: int) -> Term:
        if depth > limits.LIMITS.max_depth:
            raise LimitError(f"expression nests deeper than {limits.LIMITS.max_depth} levels; split it into named assignments")
        if isinstance(node, ast.BinOp):
            return self.binop(node, depth)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node, depth)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Attribute) and node.attr == "T":
            return self.apply("transpose", (self.term(node.value, depth + 1),), node)
        if isinstance(node, ast.Subscript):
            return self.subscript(node, depth)
        if isinstance(node, ast.Compare):
            return self.compare(node, depth)
        raise self.error(f"{describe_node(node)} is not allowed", node, hints.expression(node))

    def subscript(self, node: ast.Subscript, depth: int) -> Term:
        """p[1], X[0, 2] (0-based) and x[2:5]: integers; X[k] by a computed index (k = argmax(o))."""
        base = self.term(node.value, depth + 1)
        indices = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if any(isinstance(i, ast.Slice) for i in indices):  # x[2:5], X[0:2, 1:3], X[0:1, 0:2, 1:3]
            if not all(isinstance(i, ast.Slice) for i in indices):
                raise self.error("slices are x[start:stop] or X[start:stop, start:stop, …], not mixed with indices", node.slice,
                                 "write X[1][0:2] for part of a row")
            return Apply("slice", (base, *(b for i in indices for b in self.bounds(i))))
        computed = [(i, t) for i, t in ((i, self.term(i, depth + 1)) for i in indices
                                         if isinstance(i, (ast.Name, ast.Call, ast.Subscript, ast.BinOp)))
                    if not isinstance(t, sp.Expr)]  # a loop variable's expression is a constant: an integer index
        if computed and len(indices) > 1:
            raise self.error("a computed index selects along the first axis only", computed[0][0],
                             "write X[k] and index the result, e.g. X[k][0]")
        if computed:
            return Apply("take", (base, self.index(computed[0][1], computed[0][0])))
        return Apply("index", (base, *(self.integer(i) for i in indices)))

    def index(self, index: Term, node: ast.expr) -> Term:
        """A computed index (argmax, argmin, argsort, topk_indices, an entry of one) or a named integer constant."""
        if not self.integer_valued(index):
            raise self.error("an index is an integer or a computed index", node,
                             "index by argmax(…), argmin(…), argsort(…), topk_indices(…) or an entry of one")
        return index

    def integer_valued(self, term: Term) -> bool:
        """A term whose value is whole numbers by construction: an integer op, an entry of one, a natural number."""
        if isinstance(term, Ref):
            return term.name in self.integer_names
        if isinstance(term, Apply):
            return ops.get(term.op).integer or (term.op in ("index", "take", "slice") and self.integer_valued(term.args[0]))
        return bool(term.is_Integer and term >= 0)

    def bounds(self, piece: ast.expr) -> tuple[sp.Integer, sp.Integer]:
        assert isinstance(piece, ast.Slice)
        if piece.step is not None or piece.lower is None or piece.upper is None:
            raise self.error("a slice is x[start:stop] with both bounds", piece)
        return self.integer(piece.lower), self.integer(piece.upper)

    def parameter(self, node: ast.expr, number: bool) -> sp.Rational:
        """A tensor op's parameter: a non-negative integer, or for `number` parameters (eps) a non-negative number."""
        if number and isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return self.constant(node)
        return self.integer(node)

    def integer(self, node: ast.expr) -> sp.Integer:
        """An integer constant, or an expression of loop variables and constants with such a value (xs[t - 1])."""
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return sp.Integer(node.value)
        value = self.term(node, 0) if isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Name)) else None
        if isinstance(value, sp.Integer) and value >= 0:
            return value
        hint = "indices count from 0; write x[0] for the first entry" if isinstance(value, sp.Integer) else None
        found = f"; {self._token(node)} is {value}" if isinstance(value, sp.Integer) and self.bound else ""
        raise self.error(f"expected a non-negative integer{found}", node, hint)

    def compare(self, node: ast.Compare, depth: int) -> Term:
        """a ⋈ b → the 0/1 indicator 1(a − b ⋈ 0) (symgraph.ops.compare); 1(z ≥ 0) when b is 0."""
        if len(node.ops) > 1:
            raise self.error("chained comparison 'a < b < c' is not allowed", node, "write (a < b) * (b < c)")
        op = INDICATORS.get(type(node.ops[0]).__name__)
        if op is None:
            hint = "for 1(a ≠ b) write 1 - (a == b)" if isinstance(node.ops[0], ast.NotEq) else "compare with < <= > >= =="
            raise self.error(f"comparison '{describe_node(node.ops[0])}' is not supported", node, hint)
        left, right = self.term(node.left, depth + 1), self.term(node.comparators[0], depth + 1)
        if isinstance(right, sp.Expr) and right.is_zero:
            return self.apply(op, (left,), node)
        if isinstance(left, sp.Expr) and left.is_zero:
            return self.apply(FLIPPED[op], (right,), node)
        return self.apply(op, (self.apply("sub", (left, right), node),), node)

    def binop(self, node: ast.BinOp, depth: int) -> Term:
        kind = _BINARY.get(type(node.op))
        if kind is None:
            raise self.error(f"operator {_OPERATOR_WORDS.get(type(node.op), type(node.op).__name__)} is not supported", node, _OPERATOR_HINTS.get(type(node.op)))
        if kind in ("add", "mul"):
            operands = self.chain(node, type(node.op))
            return self.apply(kind, tuple(self.term(o, depth + 1) for o in operands), node)
        return self.apply(kind, (self.term(node.left, depth + 1), self.term(node.right, depth + 1)), node)

    @staticmethod
    def chain(node: ast.BinOp, operator: type) -> list[ast.expr]:
        """Flattens a + b + c into one n-ary sum, walking the left spine without recursion."""
        right = []
        left: ast.expr = node
        while isinstance(left, ast.BinOp) and isinstance(left.op, operator):
            right.append(left.right)
            left = left.left
        return [left, *reversed(right)]

    def unary(self, node: ast.UnaryOp, depth: int) -> Term:
        if isinstance(node.op, ast.UAdd):
            return self.term(node.operand, depth + 1)
        if isinstance(node.op, ast.USub):
            return self.apply("neg", (self.term(node.operand, depth + 1),), node)
        raise self.error(f"{describe_node(node.op)} is not allowed", node)

    def call(self, node: ast.Call, depth: int) -> Term:
        """f(…), and the course's indicator 1(z > 0): the comparison it holds (already a 0/1 indicator)."""
        func, args = node.func, node.args
        if (isinstance(func, ast.Constant) and type(func.value) is int and func.value == 1 and len(args) == 1
                and isinstance(args[0], ast.Compare) and not node.keywords):
            return self.compare(args[0], depth + 1)
        return calls.call(self, node, depth)

    def is_variable(self, name: str) -> bool:
        """A name the program uses as a variable, or a single letter (x(y + 1) is a product that lost its *)."""
        return len(name) == 1 or name in self.variables or name in self.inputs or name in self.defined

    def name(self, node: ast.Name) -> Term:
        name = node.id
        self.check_name(name, node)
        if name in self.bound:
            return sp.Integer(self.bound[name])
        if name in self.plan.loop_variables:
            loop = self.plan.loop_variables[name]
            raise self.error(f"'{name}' is the variable of the loop '{loop}'; it has no value outside it", node, "use another name")
        if name in CONSTANTS and name not in self.variables:
            return CONSTANTS[name]
        refused = None if name in self.variables else hints.not_a_number(name)
        if refused is not None:
            raise self.error(refused[0], node, refused[1])
        version = self.current.get(name, name)
        if version in self.constants:
            return self.constants[version]
        if name in ops.FUNCTIONS:
            raise self.error(f"'{name}' is a function", node, f"call it as {name}(...)")
        made = name in self.made  # a loop's version read by name after it was made (k_1)
        if name not in self.defined and name not in self.inputs and not made:
            self.inputs[name] = None
            self.used_at[name] = node
        return Ref(version, node.lineno, self._column(node))

    def constant(self, node: ast.Constant) -> sp.Expr:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(f"{type(value).__name__} constant is not allowed; only numbers", node)
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                raise self.error("number is too large for a floating-point number (at most about 1.8e308)", node)
            return sp.Rational(repr(value))
        if len(str(abs(value))) > limits.LIMITS.max_literal_digits:
            raise LimitError(f"integer literal has more than {limits.LIMITS.max_literal_digits} digits")
        return sp.Integer(value)

    # --- building terms, folding constants within limits ------------------------------------------
    def apply(self, op: str, args: tuple[Term, ...], node: ast.expr) -> Term:
        if op == "pow":
            self.check_power(args, node)
        if op == "div" and isinstance(args[1], sp.Expr) and args[1].is_zero:
            raise self.error("division by zero", node)
        if all(isinstance(a, sp.Expr) for a in args):
            return self.fold(op, args, node)
        if op in ("add", "mul"):
            return self.fold_constants(op, args, node)
        return Apply(op, args)

    def fold_constants(self, op: str, args: tuple[Term, ...], node: ast.expr) -> Term:
        """2*3*x → 6x and x + 1 + 2 → x + 3: one constant per sum or product, dropped when neutral."""
        constants = [a for a in args if isinstance(a, sp.Expr)]
        terms = [a for a in args if not isinstance(a, sp.Expr)]
        folded = self.fold(op, tuple(constants), node) if constants else None
        if op == "mul" and folded is not None and folded.is_zero:
            return Apply(op, (folded, *terms))  # 0·x: the shape of x (a tensor of zeros), not the number 0
        neutral = sp.Integer(1 if op == "mul" else 0)
        if folded is not None and folded != neutral:
            terms = [folded, *terms] if op == "mul" else [*terms, folded]
        return terms[0] if len(terms) == 1 else Apply(op, tuple(terms))

    def check_power(self, args: tuple[Term, ...], node: ast.expr) -> None:
        base, exponent = args
        if not isinstance(exponent, sp.Expr):
            return
        magnitude = abs(float(ops.approximate(exponent)))
        if magnitude > limits.LIMITS.max_exponent:
            raise LimitError(
                f"exponent {_number_text(exponent)} in '{shorten(self._token(node))}' is larger than {limits.LIMITS.max_exponent}"
            )
        if isinstance(base, sp.Expr) and float(ops.approximate(exponent)) > 0 and base.is_number:
            digits = magnitude * _log10_size(base)  # 2**630 has 190 digits, an exact integer
            if digits > limits.LIMITS.max_constant_digits:
                raise LimitError(
                    f"constant '{shorten(self._token(node))}' would have about {digits:.3g} digits; "
                    f"the limit is {limits.LIMITS.max_constant_digits}"
                )

    def fold(self, op: str, args: tuple[sp.Expr, ...], node: ast.expr) -> sp.Expr:
        value = ops.get(op).build(*args)
        if value.has(sp.zoo, sp.oo, sp.nan, -sp.oo):
            raise self.error("this constant is undefined (division by zero or log(0))", node)
        if value.has(sp.I):
            raise self.error("this constant is not a real number", node)
        approximate = ops.approximate(value)
        if np.isinf(approximate):
            raise self.error("this constant is too large for a floating-point number", node)
        if np.isnan(approximate):
            raise self.error("this constant is undefined or not a real number", node)
        return value


def _log10_size(number: sp.Expr) -> float:
    """log10 of how large a number's exact form is: of its larger part p or q for a rational p/q, else of itself."""
    if number.is_Rational:
        return math.log10(max(abs(number.p), number.q, 1))
    return math.log10(max(abs(float(ops.approximate(number))), 1.0))


def _number_text(value: sp.Expr) -> str:
    text = str(value)
    return text if len(text) <= 20 else f"{ops.approximate(value):.3g}"
