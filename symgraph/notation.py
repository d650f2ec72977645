"""How names and numbers are written for people: h1 → h₁, theta → θ, ∂y/∂x, 1.5·10⁻⁷.

The lowest layer beside errors: the parser, the op notations, the printers and the pictures all
write names through here, so a name reads the same everywhere.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import sympy as sp

__all__ = ["pretty_name", "latex_name", "partial_symbol", "partial_text", "number", "number_latex", "SUPERSCRIPTS", "SUBSCRIPTS"]

SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eta": "η", "theta": "θ",
    "lam": "λ", "lmbda": "λ", "mu": "μ", "nu": "ν", "rho": "ρ", "tau": "τ", "phi": "φ",
    "omega": "ω",
}


def pretty_name(name: str) -> str:
    """h1 → h₁, h_2 → h₂ (a loop's versions), theta → θ, W_hx stays: names read as in a textbook."""
    match = re.fullmatch(r"([^\W\d_]+)_?(\d+)", name)  # letters, Latin or Greek, then digits
    if match:
        return _GREEK.get(match[1], match[1]) + match[2].translate(SUBSCRIPTS)
    return _GREEK.get(name, name)


@functools.lru_cache(maxsize=8192)
def latex_name(name: str) -> str:
    """A name in LaTeX: h1 → h_{1}, theta → \\theta, θ2 → {\\theta}_{2}. Greek letters typed as such become
    commands, since pdfLaTeX (Beamer slides) has no Unicode in math; cached, as the same names recur."""
    return "".join(_greek_latex(char) for char in sp.latex(sp.Symbol(name)))


@functools.cache
def _greek_latex(char: str) -> str:
    words = unicodedata.name(char, "").split()
    if char.isascii() or words[:1] != ["GREEK"] or "LETTER" not in words:
        return char
    letter = "varsigma" if words[-2:] == ["FINAL", "SIGMA"] else words[-1].lower()
    command = sp.latex(sp.Symbol(letter.capitalize() if "CAPITAL" in words else letter))
    return "{" + command + "}" if command.startswith("\\") else char


def number(value, digits: int = 6) -> str:
    """A float for people: 6 significant digits, a real minus sign."""
    value = float(value)
    if value == 0:
        return "0"
    text = f"{value:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}·10{str(int(exponent)).translate(SUPERSCRIPTS)}"
    return text.replace("-", "−")


def number_latex(value) -> str:
    """The same number in LaTeX: 1.5 \\cdot 10^{-7}."""
    value = float(value)
    if value == 0:
        return "0"
    mantissa, _, exponent = f"{value:.6g}".partition("e")
    return mantissa + (rf" \cdot 10^{{{int(exponent)}}}" if exponent else "")


def partial_symbol(of: str, by: str, total: bool = False) -> tuple[str, str]:
    """∂y/∂x in text and LaTeX (d for a total derivative)."""
    d_latex = "d" if total else r"\partial "
    return partial_text(of, by, total), rf"\frac{{{d_latex}{latex_name(of)}}}{{{d_latex}{latex_name(by)}}}"


def partial_text(of: str, by: str, total: bool = False) -> str:
    """∂y/∂x in text only: what the pictures and the comparisons write."""
    d_text = "d" if total else "∂"
    return f"{d_text}{pretty_name(of)}/{d_text}{pretty_name(by)}"
