"""How names and numbers are written for people: h1 → h₁, theta → θ, ∂y/∂x, 1.5·10⁻⁷.

The lowest layer beside errors: the parser, the op notations, the printers and the pictures all
write names through here, so a name reads the same everywhere.
"""

from __future__ import annotations

import contextvars
import functools
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager

import sympy as sp

__all__ = ["pretty_name", "latex_name", "spelling", "one_line", "markdown_cell", "markdown_math", "latex_comment", "partial_symbol", "partial_text", "number", "number_latex", "digits", "SUPERSCRIPTS", "SUBSCRIPTS"]

SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eta": "η", "theta": "θ",
    "lam": "λ", "lmbda": "λ", "mu": "μ", "nu": "ν", "rho": "ρ", "tau": "τ", "phi": "φ",
    "omega": "ω",
}


#: Accents a name may end with, as SymPy's LaTeX printer reads them (yhat is \hat{y}): the combining character.
_ACCENTS = {"hat": "\u0302", "bar": "\u0304", "tilde": "\u0303", "dot": "\u0307"}


def pretty_name(name: str) -> str:
    """h1 → h₁, h_2 → h₂ (a loop's versions), theta → θ, yhat → ŷ (as LaTeX writes it, \\hat{y}), W_hx stays: names
    read as in a textbook."""
    match = re.fullmatch(r"([^\W\d_]+)_?(\d+)", name)  # letters, Latin or Greek, then digits
    if match:
        return pretty_name(match[1]) + match[2].translate(SUBSCRIPTS)
    accent = re.fullmatch(r"([^\W\d_]+?)(hat|bar|tilde|dot)", name)
    if accent and (len(accent[1]) == 1 or accent[1] in _GREEK):
        return _GREEK.get(accent[1], accent[1]) + _ACCENTS[accent[2]]
    return _GREEK.get(name, name)


#: Line breaks and other control characters: in a LaTeX comment a line break ends the comment, and what follows
#: (a directory named "\n\\immediate\\write18{…}") would be run; in a Markdown table it ends the row.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """The text with every line break and control character written as a space."""
    return _CONTROL.sub(" ", text)


def markdown_cell(text: str) -> str:
    """Plain text for one cell of a Markdown table: on one line, with '|' escaped so it does not end the cell."""
    return one_line(text).replace("|", r"\|")


def markdown_math(tex: str) -> str:
    """LaTeX for a Markdown table cell: |x| as \\vert x\\vert, which no Markdown reader takes for a cell's end."""
    return one_line(tex).replace(r"\|", r"\Vert ").replace("|", r"\vert ")


def latex_comment(text: str) -> str:
    """A LaTeX comment line: the text kept on the line, so nothing in it reaches TeX."""
    return f"% {one_line(text)}"


@functools.lru_cache(maxsize=8192)
def latex_name(name: str) -> str:
    """A name in LaTeX: h1 → h_{1}, theta → \\theta, θ2 → {\\theta}_{2}. Greek letters typed as such become
    commands, since pdfLaTeX (Beamer slides) has no Unicode in math; cached, as the same names recur."""
    return "".join(_greek_latex(char) for char in sp.latex(sp.Symbol(name)))


def spelling(name: str) -> str:
    """What a name looks like in every printer: two names with the same spelling print alike somewhere, and one
    program may not use both. Greek words become their letters as LaTeX writes them (lamda, λ and lam are all
    \\lambda; Theta and Θ \\Theta; omicron and o o), and underscores count only between two words: x1, x_1 and x__1
    are all x1 (x₁, x_{1}, x^{1}), x_12 and x_1_2 both x12, while W_hx and Whx stay apart."""
    runs = re.findall(r"[^\W\d_]+|\d+|_+", name)
    shown = []
    for i, run in enumerate(runs):
        if run.startswith("_"):
            between_words = 0 < i < len(runs) - 1 and not runs[i + 1][0].isdigit()
            shown.append("_" if between_words else "")
        else:
            shown.append(run if run.isdigit() else re.sub(r"\\mathrm|[{}\s]", "", latex_name(_GREEK.get(run, run))))
    return "".join(shown)


@functools.cache
def _greek_latex(char: str) -> str:
    words = unicodedata.name(char, "").split()
    if char.isascii() or words[:1] != ["GREEK"] or "LETTER" not in words:
        return char
    letter = "varsigma" if words[-2:] == ["FINAL", "SIGMA"] else words[-1].lower()
    command = sp.latex(sp.Symbol(letter.capitalize() if "CAPITAL" in words else letter))
    return "{" + command + "}" if command.startswith("\\") else char


#: Significant digits of the numbers people read (`--digits N`); set it with `digits(n)` around the work.
_DIGITS: contextvars.ContextVar[int] = contextvars.ContextVar("symgraph_digits", default=6)
#: Whole numbers below this are written out in full: the course's 10234 stays 10234.
_EXACT_INTEGERS = 1e15


@contextmanager
def digits(n: int) -> Iterator[None]:
    """Numbers are written with `n` significant digits inside the block (whole numbers always in full)."""
    if not 1 <= n <= 17:
        raise ValueError(f"digits must be 1 to 17, not {n}")
    token = _DIGITS.set(n)
    try:
        yield
    finally:
        _DIGITS.reset(token)


def _significant(value: float, digits: int | None) -> str:
    """Python's %g with the digits asked for (or the block's), or the whole number itself."""
    if value.is_integer() and abs(value) < _EXACT_INTEGERS:
        return str(int(value))
    return f"{value:.{_DIGITS.get() if digits is None else digits}g}"


def number(value, digits: int | None = None) -> str:
    """A float for people: whole numbers in full, others to 6 significant digits (or `digits`), a real minus sign.

    The course's integers and short decimals (10234, 5678.5, 0.125) survive exactly.
    """
    value = float(value)
    if value == 0:
        return "0"
    text = _significant(value, digits)
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}·10{str(int(exponent)).translate(SUPERSCRIPTS)}"
    return text.replace("-", "−")


def number_latex(value) -> str:
    """The same number in LaTeX: 1.5 \\cdot 10^{-7}."""
    value = float(value)
    if value == 0:
        return "0"
    mantissa, _, exponent = _significant(value, None).partition("e")
    return mantissa + (rf" \cdot 10^{{{int(exponent)}}}" if exponent else "")


def partial_symbol(of: str, by: str, total: bool = False) -> tuple[str, str]:
    """∂y/∂x in text and LaTeX (d for a total derivative)."""
    d_latex = "d" if total else r"\partial "
    return partial_text(of, by, total), rf"\frac{{{d_latex}{latex_name(of)}}}{{{d_latex}{latex_name(by)}}}"


def partial_text(of: str, by: str, total: bool = False) -> str:
    """∂y/∂x in text only: what the pictures and the comparisons write."""
    d_text = "d" if total else "∂"
    return f"{d_text}{pretty_name(of)}/{d_text}{pretty_name(by)}"
