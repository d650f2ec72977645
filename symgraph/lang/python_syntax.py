"""Python-syntax text → its ast, within the limits, refusing look-alike characters; and the words for ast nodes.

Shared by the program parser and the parameter specs, which read the same syntax; nothing is ever evaluated.
"""

from __future__ import annotations

import ast
import re
import unicodedata

from symgraph.errors import InputError, LimitError, ParseError
from symgraph.lang import hints, limits

__all__ = ["parse_python", "describe_node"]

#: A declaration `W: 3x2` is rewritten `W: 3*2` (same columns) so that Python's parser reads it.
_DECLARATION = re.compile(r"^(\s*[^\W\d]\w*\s*:\s*)(\d+(?:\s*x\s*\d+)*)(\s*)$")

_NODE_WORDS = {
    ast.Attribute: "attribute access",
    ast.FunctionDef: "a function definition (def)",
    ast.If: "an if statement",
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
    ast.NotEq: "!=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
}


def parse_python(text: str, what: str, example: str) -> ast.Module:
    """Python-syntax text → its ast, within the limits; every failure is one clear line about `what`."""
    if not isinstance(text, str):
        raise InputError(f"a {what} is text, not {type(text).__name__}")
    if len(text) > limits.LIMITS.max_text_length:
        raise LimitError(f"{what} is {len(text):,} characters long; the limit is {limits.LIMITS.max_text_length:,}")
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
        defined = hints.definition(lines[line - 1], column)
        if defined is not None:
            where = f" on line {line}" if len(lines) > 1 else ""
            return ParseError(defined[0] + where, defined[2], column, defined[1])
    return ParseError(f"syntax error: {message}" + (f" on line {line}" if len(lines) > 1 else ""), token, column)


def describe_node(node: ast.AST) -> str:
    return _NODE_WORDS.get(type(node), type(node).__name__)
