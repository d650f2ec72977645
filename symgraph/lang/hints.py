"""What to type instead: the hints of the language's error messages, each matched to the mistake it answers.

A misspelt name gets the closest names a user may write ("did you mean tanh?", from the functions programs are
offered, never the gradients' own ops); a definition `f(x) = x**2`, a tensor op on an undeclared name, `inf` in a
program and a call of an op by its internal name each get the sentence that says what to write.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Iterable

from symgraph import ops
from symgraph.lang.program import Apply, Ref, Term

__all__ = [
    "closest", "did_you_mean", "unknown_function", "definition", "not_a_number", "missing_declaration", "unshaped",
    "expression", "statement",
]

#: How the language writes the ops it has no function name for (add is a + b, take is X[k]).
_WRITTEN = {
    "add": "a + b", "sub": "a - b", "neg": "-a", "mul": "a*b", "div": "a/b", "pow": "a**b", "lt": "a < b",
    "le": "a <= b", "gt": "a > b", "ge": "a >= b", "eq": "a == b", "slice": "x[2:5]", "take": "X[k] (k = argmax(…))",
    "power": "a**b", "multiply": "a*b", "divide": "a/b", "subtract": "a - b",
}

#: Other names of the language's functions, from the course and other libraries (σ is sigmoid).
_SYNONYMS = {"sigma": "sigmoid", "logistic": "sigmoid", "expit": "sigmoid", "heaviside": "step", "sgn": "sign",
             "lse": "logsumexp", "sqr": "sqrt"}

#: Names that would be numbers symgraph does not compute with (any capitalisation) → what they would be.
_NOT_NUMBERS = {"inf": "infinity", "infinity": "infinity", "nan": "not a number"}


def closest(word: str, choices: Iterable[str]) -> list[str]:
    """The choices spelt most like `word`: among those difflib finds alike, the fewest edits (a swap of two letters
    is one) and then the nearest length; capitals are ignored (Tanh finds tanh), and the course's synonyms count
    (sigma is sigmoid)."""
    lowered: dict[str, str] = {}
    for choice in choices:
        lowered.setdefault(choice.lower(), choice)
    typed = word.lower()
    if _SYNONYMS.get(typed) in lowered:
        return [lowered[_SYNONYMS[typed]]]
    alike = difflib.get_close_matches(typed, list(lowered), n=6, cutoff=0.6)
    ranked = sorted(((_edits(typed, c), abs(len(c) - len(typed))), c) for c in alike)
    return [lowered[c] for key, c in ranked if key == ranked[0][0]][:3]


def _edits(a: str, b: str) -> int:
    """Edits from a to b: insertions, deletions, substitutions and swaps of adjacent letters (tahn → tanh is one)."""
    previous, row = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + (a[i - 1] != b[j - 1]))
            if previous is not None and i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous[j - 2] + 1)
        previous, row = row, current
    return row[-1]


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """'did you mean tanh?' (or 'tanh or atan?' when they are as near), None when nothing is spelt alike."""
    found = [c for c in closest(word, choices) if c != word]
    if not found:
        return None
    return "did you mean " + (found[0] if len(found) == 1 else f"{', '.join(found[:-1])} or {found[-1]}") + "?"


def unknown_function(name: str, is_variable: bool) -> str:
    """The hint for a call of a name that is no function a program may call."""
    op = ops.OPS.get(name)
    if op is not None and op.text in ops.FUNCTIONS:
        return f"write {op.text}(…)"  # reduce_max is written max(X), conv2d_bias conv2d(x, K, bias=b)
    if name in _WRITTEN or op is not None:
        return f"write {_WRITTEN.get(name, name)}"
    if is_variable:
        return f"'{name}' is a variable and a program has no functions of its own; for a product write {name}*(…)"
    return did_you_mean(name, ops.user_functions()) or f"known functions: {', '.join(ops.user_functions())}"


#: `f(x) = …`, `f(x, y) = …` as a statement: a function definition in the mathematician's notation.
_DEFINITION = re.compile(r"^\s*([^\W\d]\w*)\s*\(\s*([^()]*?)\s*\)\s*=(?!=)\s*(.*?)\s*$")


def definition(line: str, column: int) -> tuple[str, str, str] | None:
    """(message, hint, token) for a statement `f(x) = x**2` around `column` of `line` (statements are separated
    by ';'), which Python reads as an assignment to a call; else None."""
    start = line.rfind(";", 0, max(column - 1, 0)) + 1
    end = line.find(";", start)
    match = _DEFINITION.match(line[start : end if end >= 0 else len(line)])
    if match is None:
        return None
    name, parameters, body = match.groups()
    body = body or "…"
    named = [p.strip() for p in parameters.split(",") if p.strip()]
    inputs = f" ({' and '.join(named)} {'stays an input' if len(named) == 1 else 'stay inputs'})" if named else ""
    return (f"'{name}({parameters}) = …' defines a function; a program names expressions instead",
            f"write {name} = {body}{inputs}, or {body} alone", f"{name}({parameters})")


def not_a_number(name: str) -> tuple[str, str] | None:
    """(message, hint) for `inf` or `nan` used as a number in a program; else None."""
    meaning = _NOT_NUMBERS.get(name.lower())
    if meaning is None:
        return None
    large = "every value is finite: write a large number such as 1e6, or " if meaning == "infinity" else ""
    return (f"'{name}' ({meaning}) is not a value symgraph computes with",
            f"{large}give a variable named {name} a value (--at {name}=…)")


def unshaped(term: Term, inputs: Iterable[str]) -> list[str]:
    """The inputs among `inputs` a tensor op of the term reads directly (W and x of W @ x + b), else all it reads."""
    names: dict[str, None] = {}
    operands: dict[str, None] = {}
    stack = [term]
    while stack:
        item = stack.pop()
        if isinstance(item, Ref):
            names.setdefault(item.name, None)
        elif isinstance(item, Apply):
            stack.extend(reversed(item.args))
            if ops.get(item.op).is_tensor:
                operands.update((a.name, None) for a in item.args if isinstance(a, Ref))
    chosen = set(inputs)
    return [n for n in operands if n in chosen] or [n for n in names if n in chosen]


def missing_declaration(names: list[str]) -> str:
    """The hint for a tensor op applied to names that are scalars only because nothing gave them a shape; the example
    is a matrix for a capital (W: 3x2) and a vector otherwise (x: 3), as the course names them."""
    first, many = names[0], len(names) > 1
    shape, value = ("3x2", "[[…]]") if first[:1].isupper() else ("3", "[…]")
    them = f"{', '.join(names[:-1])} and {names[-1]} are" if many else f"{first} is"
    return (f"{them} scalar because nothing gives {'them' if many else 'it'} a shape: declare "
            f"{'each' if many else 'it'} in the program (e.g. {first}: {shape}) or give {'each' if many else 'it'} "
            f"a tensor value (--at {first}='{value}')")


#: Constructs the language spells otherwise (a lambda is a named expression, a conditional is where).
_EXPRESSIONS: dict[type[ast.AST], str] = {
    ast.Lambda: "name the expression instead, e.g. f = x**2",
    ast.IfExp: "for 'a if c else b' write where(c, a, b)",
}
_CONSTANT_ATTRIBUTES = {"pi": "pi", "e": "E", "E": "E"}


def expression(node: ast.expr) -> str | None:
    """The hint for an expression the language does not have: math.pi is pi, a lambda a named expression."""
    if isinstance(node, ast.Attribute):
        if node.attr in _CONSTANT_ATTRIBUTES:
            return f"write {_CONSTANT_ATTRIBUTES[node.attr]}"
        return "the only attribute is .T (transpose)"
    return _EXPRESSIONS.get(type(node))


def statement(stmt: ast.stmt, text: str) -> str | None:
    """def f(x): return x**2 is f = x**2; if and augmented assignments have their own spellings."""
    if isinstance(stmt, ast.FunctionDef):
        body = stmt.body[-1]
        value = isinstance(body, ast.Return) and body.value and ast.get_source_segment(text, body.value) or "…"
        return f"a program has no functions of its own: name the expression instead, {stmt.name} = {value}"
    if isinstance(stmt, ast.AugAssign):
        return "assign a new name, e.g. y = x + 1"
    return "for a choice write where(c, a, b)" if isinstance(stmt, ast.If) else None
