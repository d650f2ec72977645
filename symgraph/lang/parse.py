"""Program text → Program, by walking Python's `ast` with a whitelist; nothing is ever evaluated.

The language: one expression, or named assignments separated by `;` or newlines, the last
of which is the output. Operators `+ - * / **`, unary minus, parentheses, the functions of
the op registry, the constants `pi` and `E`, integer and decimal numbers. Limits are
checked while walking, before SymPy sees anything, so no input can hang the process.
"""

from __future__ import annotations

import ast
import math
import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from symgraph import ops
from symgraph.errors import InputError, LimitError, ParseError, shorten
from symgraph.notation import pretty_name

__all__ = ["Ref", "Apply", "Term", "Assignment", "Program", "parse", "parse_python", "describe_node", "from_sympy", "LIMITS", "Limits", "CONSTANTS"]


@dataclass(frozen=True)
class Limits:
    """Size limits, adjustable by assigning a new `Limits` to `symgraph.lang.parse.LIMITS`."""

    max_text_length: int = 200_000
    max_depth: int = 100
    max_nodes: int = 5_000
    max_exponent: int = 1_000
    max_constant_digits: int = 300
    max_literal_digits: int = 50
    max_tensor_entries: int = 1_000_000


LIMITS = Limits()

CONSTANTS: dict[str, sp.Expr] = {"pi": sp.pi, "E": sp.E}


@dataclass(frozen=True)
class Ref:
    """A use of a name: an input or an earlier assignment."""

    name: str
    line: int
    column: int


@dataclass(frozen=True)
class Apply:
    """An op applied to terms, in the order written."""

    op: str
    args: tuple[Term, ...]


Term = Apply | Ref | sp.Expr


@dataclass(frozen=True)
class Assignment:
    name: str | None  # None: the unnamed output of a bare expression
    term: Term


@dataclass(frozen=True)
class Program:
    """Ordered named assignments; `inputs` in order of first use; declared shapes (`W: 3x2`) by name."""

    assignments: tuple[Assignment, ...]
    inputs: tuple[str, ...]
    source: str
    declarations: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.assignments if a.name is not None)

    @property
    def uses_tensor_ops(self) -> bool:
        """Declares a tensor or applies a tensor op (@, .T, indexing, sum …): a tensor program."""
        if any(self.declarations.values()):
            return True
        stack = [a.term for a in self.assignments]
        while stack:
            term = stack.pop()
            if isinstance(term, Apply):
                if ops.get(term.op).is_tensor:
                    return True
                stack.extend(term.args)
        return False


_BINARY = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow", ast.MatMult: "matmul"}
_OPERATOR_WORDS = {ast.BitXor: "'^'", ast.FloorDiv: "'//'", ast.Mod: "'%'", ast.BitAnd: "'&'",
                   ast.BitOr: "'|'", ast.LShift: "'<<'", ast.RShift: "'>>'"}
_OPERATOR_HINTS = {
    ast.BitXor: "for a power write x**2",
    ast.FloorDiv: "write /",
}
#: A declaration `W: 3x2` is rewritten `W: 3*2` (same columns) so that Python's parser reads it.
_DECLARATION = re.compile(r"^(\s*[^\W\d]\w*\s*:\s*)(\d+(?:\s*x\s*\d+)*)(\s*)$")
_NODE_WORDS = {
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing",
    ast.Slice: "slicing",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehension",
    ast.SetComp: "comprehension",
    ast.DictComp: "comprehension",
    ast.GeneratorExp: "comprehension",
    ast.Import: "import",
    ast.ImportFrom: "import",
    ast.JoinedStr: "f-string",
    ast.Compare: "comparison",
    ast.BoolOp: "boolean operator",
    ast.IfExp: "conditional expression",
    ast.Starred: "star argument",
    ast.NamedExpr: "':=' assignment",
    ast.AugAssign: "augmented assignment",
    ast.List: "list",
    ast.Tuple: "tuple",
    ast.Dict: "dict",
    ast.Set: "set",
}


def parse(text: str) -> Program:
    """Parse program text; raises ParseError or LimitError with one clear line."""
    return _Walker(text).program(parse_python(text, "program", "an expression such as exp(x**2 + tanh(x))"))


def parse_python(text: str, what: str, example: str) -> ast.Module:
    """Python-syntax text → its ast, within the limits; every failure is one clear line about `what`."""
    if not isinstance(text, str):
        raise InputError(f"a {what} is text, not {type(text).__name__}")
    if len(text) > LIMITS.max_text_length:
        raise LimitError(f"{what} is {len(text):,} characters long; the limit is {LIMITS.max_text_length:,}")
    if not text.strip():
        raise ParseError(f"empty {what}: write {example}")
    _check_characters(text)
    try:
        return ast.parse(_readable_declarations(text), mode="exec")
    except SyntaxError as e:
        raise _syntax_error(e, text) from None
    except (RecursionError, MemoryError):
        raise LimitError(f"{what} nests too deeply for the parser; split it up") from None
    except ValueError as e:  # e.g. integer literals past Python's digit limit
        raise LimitError(f"{what} is too large: {e}") from None


def _readable_declarations(text: str) -> str:
    """`W: 3x2` → `W: 3*2` in every statement that is a declaration; nothing else changes."""
    lines = []
    for line in text.split("\n"):
        pieces = []
        for piece in line.split(";"):
            match = _DECLARATION.match(piece)
            pieces.append(match[1] + re.sub(r"x", "*", match[2]) + match[3] if match else piece)
        lines.append(";".join(pieces))
    return "\n".join(lines)


def from_sympy(expr: sp.Expr) -> Program:
    """A one-expression program from a SymPy expression built by the caller (notebooks)."""
    if not isinstance(expr, sp.Expr):
        raise InputError(f"expected program text or a SymPy expression, got {type(expr).__name__}")
    inputs = sorted(expr.free_symbols, key=lambda s: s.name)
    for symbol in inputs:
        if not symbol.name.isidentifier() or symbol.name.startswith("_") or symbol.name in ops.FUNCTIONS:
            raise InputError(f"symbol name '{symbol.name}' cannot be used; use a plain identifier")
    nodes = 0

    def term(e: sp.Expr) -> Term:
        nonlocal nodes
        if e.is_Symbol:
            return Ref(e.name, 1, 1)
        if e.is_number:
            return e
        nodes += 1
        if nodes > LIMITS.max_nodes:
            raise LimitError(f"expression has more than {LIMITS.max_nodes:,} operations")
        try:
            op, args = ops.decompose(e)
        except NotImplementedError as error:
            raise InputError(str(error)) from None
        return Apply(op.name, tuple(term(a) for a in args))

    source = str(expr)
    return Program((Assignment(None, term(expr)),), tuple(s.name for s in inputs), source)


_CHARACTER_HINTS = {
    "−": "write '-'", "–": "write '-'", "×": "write '*'", "·": "write '*'", "⋅": "write '*'", "÷": "write '/'",
    "²": "write x**2", "³": "write x**3", "√": "write sqrt(x)", "σ": "write sigmoid(x)",
    "\u200b": "delete the zero-width space", "\ufeff": "delete the byte-order mark",
}


def _check_characters(text: str) -> None:
    """ASCII, plus Greek letters for names (θ, λ); anything else is refused by name, with a fix.

    Python would silently fold look-alikes (a fullwidth ｘ becomes x) or accept Cyrillic х as a
    different name from x; refusing them keeps what the user sees and what symgraph reads the same.
    """
    for index, char in enumerate(text):
        if (char.isascii() and (char.isprintable() or char in "\t\n\r")) or _is_greek_letter(char):
            continue
        line = text.count("\n", 0, index) + 1
        column = index - (text.rfind("\n", 0, index) + 1) + 1
        name = unicodedata.name(char, "a control character")
        hint = _CHARACTER_HINTS.get(char, "use ASCII letters, digits and operators, or Greek letters for names")
        where = f" on line {line}" if "\n" in text else ""
        raise ParseError(f"character U+{ord(char):04X} ({name}) is not allowed{where}", repr(char)[1:-1], column, hint)


#: Greek letters that print as Latin ones (capital alpha is A): refused like any other look-alike.
_LATIN_LOOKING = dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧο", "ABEZHIKMNOPTYXo"))
_CHARACTER_HINTS.update({g: f"it looks like the Latin {latin}; write {latin}" for g, latin in _LATIN_LOOKING.items()})


def _is_greek_letter(char: str) -> bool:
    return "\u0391" <= char <= "\u03c9" and char.isalpha() and char != "σ" and char not in _LATIN_LOOKING


def _syntax_error(e: SyntaxError, text: str) -> ParseError:
    message = (e.msg or "invalid syntax").rstrip(".")
    if "invalid decimal literal" in message:
        message += " (write 2*x, not 2x)"
    lines = text.splitlines() or [text]
    line = e.lineno or 1
    column = e.offset or 1
    token = None
    if 1 <= line <= len(lines):
        rest = lines[line - 1][column - 1 :]
        token = rest.split()[0] if rest.split() else None
    return ParseError(f"syntax error: {message}" + (f" on line {line}" if len(lines) > 1 else ""), token, column)


class _Walker:
    """Walks the ast; every construct not listed here is refused."""

    def __init__(self, text: str):
        self.lines = text.splitlines() or [text]
        self.ascii_lines = {number for number, line in enumerate(self.lines, 1) if line.isascii()}
        self.multiline = len(self.lines) > 1
        self.defined: dict[str, ast.AST] = {}
        self.constants: dict[str, sp.Expr] = {}
        self.inputs: dict[str, None] = {}
        self.used_at: dict[str, ast.AST] = {}
        self.declarations: dict[str, tuple[int, ...]] = {}
        self.declared_at: dict[str, ast.AST] = {}
        self.text = text

    # --- reporting ---------------------------------------------------------------------------
    def _column(self, node: ast.AST) -> int:
        """1-based character column; ast counts UTF-8 bytes, which differ only on non-ASCII lines."""
        line = self.lines[node.lineno - 1] if node.lineno <= len(self.lines) else ""
        if node.lineno not in self.ascii_lines:
            return len(line.encode("utf-8")[: node.col_offset].decode("utf-8", "replace")) + 1
        return node.col_offset + 1

    def _token(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text, node) or type(node).__name__

    def error(self, message: str, node: ast.AST, hint: str | None = None) -> ParseError:
        if self.multiline:
            message += f" on line {node.lineno}"
        return ParseError(message, self._token(node), self._column(node), hint)

    # --- statements ----------------------------------------------------------------------------
    def program(self, module: ast.Module) -> Program:
        operations = sum(isinstance(n, (ast.BinOp, ast.UnaryOp, ast.Call)) for n in ast.walk(module))
        if operations > LIMITS.max_nodes:
            raise LimitError(f"program has {operations:,} operations; the limit is {LIMITS.max_nodes:,}")
        assignments = []
        body = module.body
        for i, stmt in enumerate(body):
            last = i == len(body) - 1
            if isinstance(stmt, ast.Assign):
                assignments.append(self.assign(stmt))
            elif isinstance(stmt, ast.Expr) and last:
                assignments.append(Assignment(None, self.term(stmt.value, 0)))
            elif isinstance(stmt, ast.Expr):
                raise self.error("only the last line may be a bare expression", stmt, "name it with '='")
            elif isinstance(stmt, ast.AnnAssign):
                self.declare(stmt)
            else:
                raise self.error(f"{describe_node(stmt)} is not allowed in a program", stmt)
        if not assignments:
            raise ParseError("empty program: write an expression such as exp(x**2 + tanh(x))")
        for name, stmt in self.declared_at.items():
            if name not in self.inputs:
                what = "assigned" if name in self.defined else "never used"
                raise self.error(f"'{name}' is declared but {what}; only inputs are declared", stmt)
        self.check_spellings()
        return Program(tuple(assignments), tuple(self.inputs), self.text, dict(self.declarations))

    def check_spellings(self) -> None:
        """Two names that print alike (theta and θ, theta1 and θ1) would make every explanation ambiguous."""
        shown: dict[str, str] = {}
        for name in (*self.inputs, *self.defined):
            other = shown.setdefault(pretty_name(name), name)
            if other != name:
                node = self.used_at.get(name) or self.defined[name]
                raise self.error(f"'{name}' and '{other}' are both shown as {pretty_name(name)}", node,
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

    def shape(self, node: ast.AST) -> tuple[int, ...]:
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
        if math.prod(sizes) > LIMITS.max_tensor_entries:
            raise LimitError(f"shape {'x'.join(map(str, sizes))} has {math.prod(sizes):,} entries; the limit is {LIMITS.max_tensor_entries:,}")
        return tuple(sizes)

    def assign(self, stmt: ast.Assign) -> Assignment:
        if len(stmt.targets) != 1:
            raise self.error("chained assignment 'a = b = …' is not allowed", stmt, "assign one name at a time")
        target = stmt.targets[0]
        if not isinstance(target, ast.Name):
            raise self.error("only a plain name can be assigned", target)
        name = target.id
        self.check_name(name, target)
        if name in CONSTANTS or name in ops.FUNCTIONS:
            raise self.error(f"'{name}' is a built-in name and cannot be assigned", target)
        if name in self.defined:
            first = self.defined[name]
            raise self.error(f"'{name}' is assigned twice (first at column {self._column(first)})", target, "use a new name")
        term = self.term(stmt.value, 0)
        if name in self.inputs:
            use = self.used_at[name]
            raise self.error(f"'{name}' is used at column {self._column(use)} before it is assigned", target)
        self.defined[name] = target
        if isinstance(term, sp.Expr):
            self.constants[name] = term  # folded into every use, so c = 0; x/c is a division by zero
        return Assignment(name, term)

    def check_name(self, name: str, node: ast.AST) -> None:
        if name.startswith("_"):
            raise self.error("names starting with '_' are reserved", node)

    # --- expressions ---------------------------------------------------------------------------
    def term(self, node: ast.AST, depth: int) -> Term:
        if depth > LIMITS.max_depth:
            raise LimitError(f"expression nests deeper than {LIMITS.max_depth} levels; split it into named assignments")
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
        raise self.error(f"{describe_node(node)} is not allowed", node, _HINTS.get(type(node)))

    def subscript(self, node: ast.Subscript, depth: int) -> Term:
        """p[1], X[0, 2] (0-based) and x[2:5]: integers only."""
        base = self.term(node.value, depth + 1)
        if isinstance(node.slice, ast.Slice):
            bounds = (node.slice.lower, node.slice.upper)
            if node.slice.step is not None or None in bounds:
                raise self.error("a slice is x[start:stop] with both bounds", node.slice)
            return Apply("slice", (base, *(self.integer(b) for b in bounds)))
        indices = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        return Apply("index", (base, *(self.integer(i) for i in indices)))

    def integer(self, node: ast.AST) -> sp.Integer:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return sp.Integer(node.value)
        hint = "indices count from 0; write x[0] for the first entry" if isinstance(node, ast.UnaryOp) else None
        raise self.error("expected a non-negative integer", node, hint)

    def binop(self, node: ast.BinOp, depth: int) -> Term:
        kind = _BINARY.get(type(node.op))
        if kind is None:
            raise self.error(f"operator {_OPERATOR_WORDS.get(type(node.op), type(node.op).__name__)} is not supported", node, _OPERATOR_HINTS.get(type(node.op)))
        if kind in ("add", "mul"):
            operands = self.chain(node, type(node.op))
            return self.apply(kind, tuple(self.term(o, depth + 1) for o in operands), node)
        return self.apply(kind, (self.term(node.left, depth + 1), self.term(node.right, depth + 1)), node)

    @staticmethod
    def chain(node: ast.BinOp, operator: type) -> list[ast.AST]:
        """Flattens a + b + c into one n-ary sum, walking the left spine without recursion."""
        right = []
        while isinstance(node, ast.BinOp) and isinstance(node.op, operator):
            right.append(node.right)
            node = node.left
        return [node, *reversed(right)]

    def unary(self, node: ast.UnaryOp, depth: int) -> Term:
        if isinstance(node.op, ast.UAdd):
            return self.term(node.operand, depth + 1)
        if isinstance(node.op, ast.USub):
            return self.apply("neg", (self.term(node.operand, depth + 1),), node)
        raise self.error(f"{describe_node(node.op)} is not allowed", node)

    def call(self, node: ast.Call, depth: int) -> Term:
        if not isinstance(node.func, ast.Name):
            raise self.error(f"{describe_node(node.func)} is not allowed", node.func, "call a known function by name")
        name = node.func.id
        if name not in ops.FUNCTIONS:
            known = ", ".join(sorted(ops.FUNCTIONS))
            raise self.error(f"unknown function '{name}'", node.func, f"known functions: {known}")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.error("star arguments are not allowed", arg)
        if ops.get(name).is_tensor:
            return self.tensor_call(ops.get(name), node, depth)
        if node.keywords:
            raise self.error(f"{name} takes no keyword arguments", node.keywords[0].value)
        arity = ops.FUNCTIONS[name]
        if arity == -1 and not node.args:
            raise self.error(f"{name} takes one or more arguments, got none", node)
        if arity != -1 and len(node.args) != arity:
            raise self.error(f"{name} takes {arity} argument{'s' if arity != 1 else ''}, got {len(node.args)}", node)
        return self.apply(name, tuple(self.term(a, depth + 1) for a in node.args), node)

    def tensor_call(self, op: ops.Op, node: ast.Call, depth: int) -> Term:
        """Tensor operands first, then integer parameters, positional or by keyword (sum(X, axis=0))."""
        name, args = op.name, list(node.args)
        count = len(args) if op.arity == -1 else op.arity
        if len(args) < max(count, 1):
            raise self.error(f"{name} takes {max(count, 1)} tensor argument{'s' if count > 1 else ''}, got {len(args)}", node)
        operands = tuple(self.term(a, depth + 1) for a in args[:count])
        extra = args[count:]
        if op.keywords == (("*", None),):
            if node.keywords:
                raise self.error(f"{name} takes integers, not keywords", node.keywords[0].value)
            if not extra:
                raise self.error(f"{name} needs at least one integer", node)
            return Apply(name, (*operands, *(self.integer(a) for a in extra)))
        known = [k for k, _ in op.keywords]
        if len(extra) > len(known):
            raise self.error(f"{name} takes at most {count + len(known)} arguments, got {len(args)}", node)
        given = {k: self.integer(a) for k, a in zip(known, extra)}
        for keyword in node.keywords:
            if keyword.arg not in known or keyword.arg in given:
                what = "is given twice" if keyword.arg in given else "is not a parameter"
                hint = f"{name} takes {', '.join(known)}" if known else f"{name} takes no parameters"
                raise self.error(f"{keyword.arg} {what} of {name}", keyword.value, hint)
            given[keyword.arg] = self.integer(keyword.value)
        params = []
        for key, default in op.keywords:
            value = given.get(key, None if default is None else sp.Integer(default))
            if value == ops.REQUIRED:
                raise self.error(f"{name} needs {key}", node, f"write {name}(…, {key}=…)")
            if value is None:
                break  # an omitted optional parameter (sum without an axis) ends the list
            params.append(value)
        return Apply(name, (*operands, *params))

    def name(self, node: ast.Name) -> Term:
        name = node.id
        self.check_name(name, node)
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in self.constants:
            return self.constants[name]
        if name in ops.FUNCTIONS:
            raise self.error(f"'{name}' is a function", node, f"call it as {name}(...)")
        if name not in self.defined and name not in self.inputs:
            self.inputs[name] = None
            self.used_at[name] = node
        return Ref(name, node.lineno, self._column(node))

    def constant(self, node: ast.Constant) -> sp.Expr:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(f"{type(value).__name__} constant is not allowed; only numbers", node)
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                raise self.error("number is too large", node)
            return sp.Rational(repr(value))
        if len(str(abs(value))) > LIMITS.max_literal_digits:
            raise LimitError(f"integer literal has more than {LIMITS.max_literal_digits} digits")
        return sp.Integer(value)

    # --- building terms, folding constants within limits ------------------------------------------
    def apply(self, op: str, args: tuple[Term, ...], node: ast.AST) -> Term:
        if op == "pow":
            self.check_power(args, node)
        if op == "div" and isinstance(args[1], sp.Expr) and args[1].is_zero:
            raise self.error("division by zero", node)
        if all(isinstance(a, sp.Expr) for a in args):
            return self.fold(op, args, node)
        if op in ("add", "mul"):
            return self.fold_constants(op, args, node)
        return Apply(op, args)

    def fold_constants(self, op: str, args: tuple[Term, ...], node: ast.AST) -> Term:
        """2*3*x → 6x and x + 1 + 2 → x + 3: one constant per sum or product, dropped when neutral."""
        constants = [a for a in args if isinstance(a, sp.Expr)]
        terms = [a for a in args if not isinstance(a, sp.Expr)]
        folded = self.fold(op, tuple(constants), node) if constants else None
        if op == "mul" and folded is not None and folded.is_zero:
            return folded
        neutral = sp.Integer(1 if op == "mul" else 0)
        if folded is not None and folded != neutral:
            terms = [folded, *terms] if op == "mul" else [*terms, folded]
        return terms[0] if len(terms) == 1 else Apply(op, tuple(terms))

    def check_power(self, args: tuple[Term, ...], node: ast.AST) -> None:
        base, exponent = args
        if not isinstance(exponent, sp.Expr):
            return
        magnitude = abs(ops.approximate(exponent))
        if magnitude > LIMITS.max_exponent:
            raise LimitError(
                f"exponent {_number_text(exponent)} in '{shorten(self._token(node))}' is larger than {LIMITS.max_exponent}"
            )
        if isinstance(base, sp.Expr) and ops.approximate(exponent) > 0 and base.is_number:
            digits = magnitude * math.log10(abs(ops.approximate(base)) + 1)
            if digits > LIMITS.max_constant_digits:
                raise LimitError(
                    f"constant '{shorten(self._token(node))}' would have about {digits:.3g} digits; "
                    f"the limit is {LIMITS.max_constant_digits}"
                )

    def fold(self, op: str, args: tuple[sp.Expr, ...], node: ast.AST) -> sp.Expr:
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


_HINTS = {
    ast.Attribute: "the only attribute is .T (transpose)",
}


def describe_node(node: ast.AST) -> str:
    return _NODE_WORDS.get(type(node), type(node).__name__)


def _number_text(value: sp.Expr) -> str:
    text = str(value)
    return text if len(text) <= 20 else f"{ops.approximate(value):.3g}"
