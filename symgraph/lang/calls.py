"""Calls in the language: scalar functions (aliases, defaults, keyword variants, log's base) and tensor ops with
their integer or number parameters, positional or by keyword (sum(X, axis=0))."""

from __future__ import annotations

import ast
from typing import Protocol

import sympy as sp

from symgraph import ops
from symgraph.errors import InputError, ParseError
from symgraph.lang import hints
from symgraph.lang.program import Apply, Term
from symgraph.lang.python_syntax import describe_node

__all__ = ["call", "Reader"]


class Reader(Protocol):
    """What a call reads of the parser's walker."""

    def term(self, node: ast.expr, depth: int) -> Term: ...

    def error(self, message: str, node: ast.expr | ast.stmt, hint: str | None = None) -> ParseError: ...

    def apply(self, op: str, args: tuple[Term, ...], node: ast.expr) -> Term: ...

    def index(self, index: Term, node: ast.expr) -> Term: ...

    def integer(self, node: ast.expr) -> sp.Integer: ...

    def parameter(self, node: ast.expr, number: bool) -> sp.Rational: ...

    def is_variable(self, name: str) -> bool: ...

    @property
    def text(self) -> str: ...


def call(reader: Reader, node: ast.Call, depth: int) -> Term:
    """A call of a registered function: a scalar function (aliases, defaults, keyword variants, log's base) or a tensor op."""
    if not isinstance(node.func, ast.Name):
        raise reader.error(f"{describe_node(node.func)} is not allowed", node.func, _prefixed(node.func))
    name = node.func.id
    if name not in ops.FUNCTIONS:
        raise reader.error(f"unknown function '{name}'", node.func, hints.unknown_function(name, reader.is_variable(name)))
    for arg in node.args:
        if isinstance(arg, ast.Starred):
            raise reader.error("star arguments are not allowed", arg)
    if name == "onehot" and node.args and isinstance(node.args[0], (ast.Name, ast.Call, ast.Subscript)):
        applied = tensor_call(reader, ops.get("onehot_at"), node, depth)  # onehot(k, n) of a computed index
        assert isinstance(applied, Apply)
        reader.index(applied.args[0], node.args[0])
        return applied
    if name == "onehot":
        return onehot(reader, node, depth)
    op, node = variant(ops.get(name), node)  # ln is log, atan is arctan; max(X) is a reduction …
    if op.is_tensor:
        return tensor_call(reader, op, node, depth)
    if node.keywords:
        op = ops.get(keyword_variant(reader, name, node.keywords))
    if op.name == "log" and len(node.args) > 1:
        return log_to_base(reader, node, depth)
    arity, fewest = op.arity, op.arity - len(op.defaults)
    if arity == -1 and not node.args:
        raise reader.error(f"{name} takes one or more arguments, got none", node)
    if op.folds and len(node.args) > arity:  # max(a, b, c) = max(max(a, b), c)
        folded = reader.term(node.args[0], depth + 1)
        for arg in node.args[1:]:
            folded = reader.apply(op.name, (folded, reader.term(arg, depth + 1)), node)
        return folded
    if arity != -1 and not fewest <= len(node.args) <= arity:
        count = f"{fewest} or {arity}" if fewest < arity else ("at least " if op.folds else "") + str(arity)
        raise reader.error(f"{name} takes {count} argument{'s' if arity != 1 else ''}, got {len(node.args)}", node)
    given = tuple(reader.term(a, depth + 1) for a in node.args)
    if any(isinstance(t, sp.Expr) for t in given) and not all(isinstance(t, sp.Expr) for t in given):
        try:  # the function's SymPy form sees its constant arguments: dropout(x, m, 1) is refused here
            op.build(*(t if isinstance(t, sp.Expr) else sp.Dummy() for t in given))
        except InputError as error:
            raise reader.error(str(error), node) from None
    return reader.apply(op.name, (*given, *op.defaults[len(given) - fewest :]), node)

def _prefixed(func: ast.expr) -> str:
    """torch.tanh(x), np.exp(x), F.relu(x): the function without its module, when it is one of the language's."""
    if isinstance(func, ast.Attribute) and func.attr in ops.user_functions():
        module = ast.unparse(func.value)
        return f"write {func.attr}(…) without '{module}.'"
    return "call a known function by name"


def onehot(reader: Reader, node: ast.Call, depth: int) -> Term:
    """onehot(k, n) of integers: n entries, 1 at index k (PyTorch's one_hot order, as for a computed index); a
    computed index given second, or k ≥ n, reads as the arguments swapped and says so."""
    second = node.args[1] if len(node.args) == 2 else None
    if isinstance(second, (ast.Name, ast.Call, ast.Subscript)) and not isinstance(reader.term(second, depth + 1), sp.Expr):
        size, index = (ast.get_source_segment(reader.text, a) or "…" for a in node.args)
        raise reader.error("a computed index comes first in onehot", second, f"write onehot({index}, {size})")
    applied = tensor_call(reader, ops.get("onehot"), node, depth)
    assert isinstance(applied, Apply)
    k, n = applied.args
    assert isinstance(k, sp.Integer) and isinstance(n, sp.Integer)
    if k >= n:
        swap = f"for {k} entries with the 1 at index {n} write onehot({n}, {k})" if n < k else "indices count from 0"
        raise reader.error(f"onehot({k}, {n}) has {n} entries and no index {k}", node,
                           f"onehot(k, n) is n entries with the 1 at index k, as PyTorch's one_hot; {swap}")
    return applied


def variant(op: ops.Op, node: ast.Call) -> tuple[ops.Op, ast.Call]:
    """The op a call means by its form: max(X) is a reduction, conv2d(x, K, bias=b) has a bias operand.

    A keyword that selects a variant is an operand: it is moved after the base op's operands.
    """
    for trigger, other in op.variants:
        if trigger == len(node.args):
            return ops.get(other), node
        keyword = next((k for k in node.keywords if k.arg == trigger), None)
        if keyword is not None:
            count = max(op.arity, 0)
            args = [*node.args[:count], keyword.value, *node.args[count:]]
            rest = [k for k in node.keywords if k is not keyword]
            return ops.get(other), ast.copy_location(ast.Call(node.func, args, rest), node)
    return op, node

def keyword_variant(reader: Reader, name: str, keywords: list[ast.keyword]) -> str:
    """gelu(x, approximate="tanh") is gelu_tanh(x), PyTorch's spelling; no other scalar function takes keywords."""
    keyword, choices = keywords[0], _VARIANTS.get(name, {})
    if len(keywords) > 1 or keyword.arg not in choices:
        raise reader.error(f"{name} takes no keyword arguments", keyword.value, _KEYWORD_HINTS.get(name))
    value = keyword.value
    spellings = choices[keyword.arg]
    if not (isinstance(value, ast.Constant) and isinstance(value.value, str) and value.value in spellings):
        expected = " or ".join(f'"{s}"' for s in spellings)
        raise reader.error(f"{keyword.arg} of {name} is {expected}", value)
    return spellings[value.value]

def log_to_base(reader: Reader, node: ast.Call, depth: int) -> Term:
    """log(x, b) = log(x)/log(b); log(x, 2) and log(x, 10) are log2(x) and log10(x)."""
    if len(node.args) != 2:
        raise reader.error(f"log takes 1 or 2 arguments (log(x) or log(x, base)), got {len(node.args)}", node)
    x, base = (reader.term(a, depth + 1) for a in node.args)
    if isinstance(base, sp.Expr) and (base <= 0 or base == 1):
        raise reader.error("the base of a logarithm must be positive and not 1", node.args[1], "e.g. log(x, 2)")
    named = _NAMED_BASES.get(base) if isinstance(base, sp.Integer) else None
    if named is not None:
        return reader.apply(named, (x,), node)
    return reader.apply("div", (reader.apply("log", (x,), node), reader.apply("log", (base,), node)), node)

def tensor_call(reader: Reader, op: ops.Op, node: ast.Call, depth: int) -> Term:
    """Tensor operands first, then integer parameters, positional or by keyword (sum(X, axis=0))."""
    name, args, shown = op.name, list(node.args), op.text  # a variant (reduce_max) is shown as it is called (max)
    count = len(args) if op.arity == -1 else op.arity
    if len(args) < max(count, 1):
        raise reader.error(f"{shown} takes {max(count, 1)} tensor argument{'s' if count > 1 else ''}, got {len(args)}", node)
    operands = tuple(reader.term(a, depth + 1) for a in args[:count])
    extra = args[count:]
    if op.keywords == (("*", None),):
        if node.keywords:
            raise reader.error(f"{name} takes integers, not keywords", node.keywords[0].value)
        if not extra:
            raise reader.error(f"{name} needs at least one integer", node)
        return Apply(name, (*operands, *(reader.integer(a) for a in extra)))
    known = [k for k, _ in op.keywords]
    numbers = {k for k, default in op.keywords if isinstance(default, float)}  # eps=1e-5: a number, not an integer
    if len(extra) > len(known):
        raise reader.error(f"{shown} takes at most {count + len(known)} arguments, got {len(args)}", node)
    given = {k: reader.parameter(a, k in numbers) for k, a in zip(known, extra)}
    for keyword in node.keywords:
        if keyword.arg not in known or keyword.arg in given:
            what = "is given twice" if keyword.arg in given else "is not a parameter"
            hint = f"{shown} takes {', '.join(known)}" if known else f"{shown} takes no parameters"
            raise reader.error(f"{keyword.arg} {what} of {shown}", keyword.value, hint)
        given[keyword.arg] = reader.parameter(keyword.value, keyword.arg in numbers)
    params = []
    for key, default in op.keywords:
        value = given.get(key, None if default is None else sp.Rational(repr(default)))
        if value == ops.REQUIRED:
            raise reader.error(f"{shown} needs {key}", node, f"write {shown}(…, {key}=…)")
        if value is None:
            break  # an omitted optional parameter (sum without an axis) ends the list
        params.append(value)
    return Apply(name, (*operands, *params))


#: Keyword spellings of scalar functions: function → keyword → value → the op it means (PyTorch's).
_VARIANTS = {"gelu": {"approximate": {"none": "gelu", "tanh": "gelu_tanh"}}}
_KEYWORD_HINTS = {
    "gelu": 'the one keyword is approximate="tanh" (or "none")',
    "leaky_relu": "give the slope second: leaky_relu(x, 0.1)",
    "elu": "give a second: elu(x, 0.5)",
}
_NAMED_BASES = {2: "log2", 10: "log10"}
