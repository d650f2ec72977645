"""PyTorch layer text → the layers it names, read safely: nothing is imported or evaluated.

SPEC is what people paste from code: `nn.Sequential(...)`, or one constructor per line (a trailing
comma is fine), with or without `nn.` or `torch.nn.`; `fc1 = nn.Linear(...)` names a layer. The
text is walked with Python's `ast` against a whitelist of layers and their arguments. A size may be
a letter or a formula of letters (`Conv2d(C, K, 3)`, `Linear(d, 4*d)`: + - * and //); `sizes`
puts numbers in for some of them. Two blocks are not PyTorch's own but how the course draws
networks: `Residual(layers…)` is x + f(x) and `Concat(branches…, dim=1)` runs branches side by
side on the same input and concatenates their outputs (torch.cat, dim 1 = channels).
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from symgraph.errors import InputError, LimitError, ParseError
from symgraph.lang.python_syntax import describe_node, parse_python
from symgraph.params.attention import ATTENTION_LAYERS
from symgraph.params.layers import BASE_LAYERS, MAX_SIZE, REQUIRED, Layer, Param, choice
from symgraph.params.sizes import Shape, Size, letter, normal, source_text

__all__ = ["Call", "LAYERS", "BLOCKS", "parse_spec", "parse_input", "MAX_LAYERS"]

MAX_LAYERS = 10_000
MAX_NESTING = 20  # Sequential inside Sequential
MAX_FORMULA = 20  # operators in one size formula

LAYERS: dict[str, Layer] = {**BASE_LAYERS, **{layer.name: layer for layer in ATTENTION_LAYERS}}
BLOCKS: dict[str, Layer] = {
    "Residual": Layer("Residual"),
    "Concat": Layer("Concat", (Param("dim", choice(1, 2, 3, -1, -2, -3), 1),)),
}
_ARITHMETIC = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
               ast.FloorDiv: lambda a, b: a // b}


def _literal_text(value) -> str:
    if isinstance(value, tuple):
        return f"({', '.join(map(_literal_text, value))}{',' if len(value) == 1 else ''})"
    return source_text(value)


@dataclass(frozen=True)
class Call:
    """One layer as written: `given` keeps the arguments' spelling, `args` all of them normalised.

    A block (Residual, Concat) holds its branches: for Residual one, the layers of f in x + f(x)."""

    layer: Layer
    name: str
    given: tuple[tuple[str, object, bool], ...]  # (argument, value as written, by keyword)
    args: Mapping[str, object]
    branches: tuple[tuple[Call, ...], ...] = ()

    def written(self, **changed) -> str:
        parts = ((f"{name}=" if keyword else "") + _literal_text(changed.get(name, value))
                 for name, value, keyword in self.given)
        inner = ", ".join(("…", *parts) if self.branches else parts)
        return f"{self.layer.name}({inner})"

    @property
    def text(self) -> str:
        return self.written()

    def walk(self):
        """This call and, for a block, every call inside it."""
        yield self
        for branch in self.branches:
            for call in branch:
                yield from call.walk()


_NAME = re.compile(r"[^\W\d]\w{0,30}")


def parse_input(text: str, sizes: Mapping[str, int] | None = None) -> tuple[Shape, Size | None]:
    """'4x84x84' → ((4, 84, 84), None); 'CxHxW' → letters; four sizes are N×C×H×W and N is the batch."""
    parts = re.split(r"\s*[x×X*,]\s*", str(text).strip())
    if not all(re.fullmatch(r"[0-9]{1,10}", p) or _NAME.fullmatch(p) for p in parts) or len(parts) > 4:
        raise InputError(f"input shape '{text}': write up to 4 sizes separated by 'x', e.g. 4x84x84 (C×H×W), "
                         "1x4x84x84 (N×C×H×W), 3x100 (C×L), 20x64 (L×d), 784 (features) or letters, CxHxW")
    given = sizes or {}
    found = tuple(int(p) if p.isdigit() else given.get(p, letter(p)) for p in parts)
    if not all(not isinstance(s, int) or 1 <= s <= MAX_SIZE for s in found):
        raise InputError(f"input shape '{text}': every size must be from 1 to {MAX_SIZE:,}")
    return (found[1:], found[0]) if len(found) == 4 else (found, None)


# --- reading SPEC ------------------------------------------------------------------------------------------
def parse_spec(text: str, sizes: Mapping[str, int] | None = None) -> tuple[Call, ...]:
    """SPEC → the layers in order, with the given sizes put in; raises ParseError naming the token and its column."""
    module = parse_python(text, "SPEC", "layers such as nn.Sequential(nn.Linear(784, 10), nn.ReLU())")
    calls = _Reader(text, sizes or {}).module(module)
    if not calls:  # only comments, or an empty nn.Sequential()
        raise ParseError("SPEC has no layers: write layers such as nn.Sequential(nn.Linear(784, 10), nn.ReLU())")
    total = sum(1 for call in calls for _ in call.walk())
    if total > MAX_LAYERS:
        raise LimitError(f"SPEC has {total:,} layers; the limit is {MAX_LAYERS:,}")
    return calls


class _Reader:
    """Walks the ast; every construct not listed here is refused."""

    def __init__(self, text: str, sizes: Mapping[str, int]):
        self.text, self.lines, self.sizes = text, text.splitlines() or [text], sizes

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
        if kind in ("Sequential", *BLOCKS) and depth >= MAX_NESTING:
            raise LimitError(f"{kind} nests deeper than {MAX_NESTING} levels")
        if kind == "Sequential":
            return [c for i, child in enumerate(self.sequential(node)) for c in self.layer(child, f"{name}.{i}", depth + 1)]
        if kind in BLOCKS:
            return [self.block(BLOCKS[kind], node, name, depth)]
        if kind not in LAYERS:
            names = sorted([*LAYERS, *BLOCKS])
            close = difflib.get_close_matches(kind, names, n=1)
            hint = f" ({_OTHER_NAMES[kind]})" if kind in _OTHER_NAMES else f" (did you mean {close[0]}?)" if close else ""
            raise self.error(f"unknown layer '{kind}'{hint}; known layers: {', '.join(names)}", node.func)
        return [self.bind(LAYERS[kind], node, name)]

    def block(self, layer: Layer, node: ast.Call, name: str, depth: int) -> Call:
        """Residual(layers…): one branch f of x + f(x); Concat(branch, branch, …): a branch is a layer or a Sequential."""
        children = self.sequential(node, layer.name, keywords=True)
        if len(children) < (1 if layer.name == "Residual" else 2):
            raise self.error(_BLOCK_USE[layer.name], node)
        named = [self.layer(child, f"{name}.{i}", depth + 1) for i, child in enumerate(children)]
        branches = (tuple(c for calls in named for c in calls),) if layer.name == "Residual" else tuple(map(tuple, named))
        bound = self.bind(layer, ast.copy_location(ast.Call(node.func, [], node.keywords), node), name)
        return Call(bound.layer, name, bound.given, bound.args, branches)

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

    def sequential(self, node: ast.Call, kind: str = "Sequential", keywords: bool = False) -> list[ast.expr]:
        arguments: list[ast.expr | ast.keyword] = [*node.args, *([] if keywords else node.keywords)]
        for arg in arguments:
            if not isinstance(arg, ast.Call):
                raise self.error(f"{kind} takes layers, such as nn.ReLU(), one per argument", arg)
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
            if keyword.arg == "activation" and "activation" not in names:
                raise self.error(self.no_activation(layer, node, keyword), keyword)
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

    def no_activation(self, layer: Layer, node: ast.Call, keyword: ast.keyword) -> str:
        """Keras's Dense(…, activation=…): PyTorch writes the activation as a layer of its own."""
        kept = [ast.get_source_segment(self.text, a) or "…" for a in [*node.args, *(k for k in node.keywords if k is not keyword)]]
        plain = f"{layer.name}({', '.join(kept)})"
        value = keyword.value.value if isinstance(keyword.value, ast.Constant) else None
        if any(p.name == "nonlinearity" for p in layer.params):  # RNN: tanh or relu, never none
            chosen = f"{layer.name}({', '.join([*kept, 'nonlinearity=' + repr(value)])})" if value == "relu" else plain
            return (f"PyTorch's {layer.name} has no activation argument; its nonlinearity is nonlinearity='tanh' "
                    f"(the default) or 'relu', and it always has one: write {chosen}")
        if value is None:
            return f"PyTorch's {layer.name} has no activation argument; for no activation write {plain}"
        after = _ACTIVATIONS.get(str(value).lower(), "ReLU()")
        return f"PyTorch's {layer.name} has no activation argument; write the activation as a layer of its own: {plain}, {after}"

    def literal(self, node: ast.expr, inside: bool = False):
        """Numbers, True/False/None, strings, sizes (letters and + - * // of sizes), and tuples or lists of those;
        nothing is evaluated."""
        if isinstance(node, (ast.Tuple, ast.List)) and not inside:
            return tuple(self.literal(e, True) for e in node.elts)
        if isinstance(node, (ast.Name, ast.BinOp)) or (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
                                                        and isinstance(node.operand, (ast.Name, ast.BinOp))):
            return self.size(node, 0)
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
        raise self.error(f"{_word(node)} is not allowed as an argument; write a number, a letter, True/False, a string "
                         "or a tuple of numbers", node)

    def size(self, node: ast.expr, depth: int) -> Size:
        """A letter (a --size number when one is given) or + - * // of whole numbers and letters."""
        if depth > MAX_FORMULA:
            raise LimitError(f"a size formula has more than {MAX_FORMULA} operators", )
        if isinstance(node, ast.Name) and _NAME.fullmatch(node.id) and not node.id.startswith("_"):
            return self.sizes.get(node.id, letter(node.id))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return normal(-self.size(node.operand, depth + 1))
        if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
            return self.literal(node)
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
            left, right = self.size(node.left, depth + 1), self.size(node.right, depth + 1)
            if isinstance(node.op, ast.FloorDiv) and right == 0:
                raise self.error("division by zero", node)
            value = normal(_ARITHMETIC[type(node.op)](left, right))
            if isinstance(value, int) and abs(value) > MAX_SIZE:
                raise self.error(f"numbers are limited to {MAX_SIZE:,}", node)
            return value
        if isinstance(node, ast.BinOp):
            operator = _OPERATORS.get(type(node.op), type(node.op).__name__)
            raise self.error(f"'{operator}' is not allowed in a size; sizes are whole numbers and letters with + - * "
                             "and //", node)
        raise self.error(f"{_word(node)} is not allowed in a size; write a whole number or a letter", node)


_WORDS = {ast.Call: "a call", ast.Name: "a name", ast.BinOp: "arithmetic", ast.Constant: "a constant",
          ast.FunctionDef: "a function definition", ast.ClassDef: "a class definition"}


def _word(node: ast.AST) -> str:
    return _WORDS.get(type(node)) or describe_node(node)


_OPERATORS = {ast.Pow: "**", ast.Div: "/", ast.Mod: "%", ast.MatMult: "@", ast.BitXor: "^", ast.BitAnd: "&",
              ast.BitOr: "|", ast.LShift: "<<", ast.RShift: ">>"}
_BLOCK_USE = {"Residual": "Residual takes the layers of its branch f in x + f(x), e.g. Residual(Linear(d, d), ReLU())",
              "Concat": "Concat takes two or more branches side by side, e.g. Concat(Conv2d(C, 1, 1), "
                        "Sequential(Conv2d(C, 1, 1), Conv2d(1, 1, 3, padding=1)))"}
_ACTIVATIONS = {"relu": "ReLU()", "tanh": "Tanh()", "sigmoid": "Sigmoid()", "gelu": "GELU()", "softmax": "Softmax(dim=-1)",
                "elu": "ELU()", "silu": "SiLU()", "swish": "SiLU()", "softplus": "Softplus()"}
_OTHER_NAMES = {"Dense": "Keras's Dense(units) is PyTorch's Linear(in_features, out_features)",
                "Conv2D": "PyTorch spells it Conv2d(in_channels, out_channels, kernel_size)",
                "Conv1D": "PyTorch spells it Conv1d(in_channels, out_channels, kernel_size)",
                "Concatenate": "write Concat(branch, branch, …)", "Add": "write Residual(layers…) for x + f(x)",
                "BatchNormalization": "PyTorch's is BatchNorm2d(num_features) or BatchNorm1d",
                "LayerNormalization": "PyTorch's is LayerNorm(normalized_shape)",
                "MultiHeadAttention": "PyTorch spells it MultiheadAttention(embed_dim, num_heads)",
                "Activation": "write the activation as a layer, e.g. ReLU()"}
