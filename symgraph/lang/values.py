"""Input values as users give them: a number, or JSON text or nested lists for a tensor.

Errors name the value by its input (at["x"] in the library, --at x in the CLI), so both callers
read the same check.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np

from symgraph.errors import InputError, shorten

__all__ = ["parse_value", "short_text", "MAX_VALUE_ENTRIES"]


#: A tensor value given for one input may have at most this many entries.
MAX_VALUE_ENTRIES = 100_000


def parse_value(name: str, text: Any) -> float | np.ndarray:
    """The value of input `name`: a number, or JSON text of a number or of nested lists (a tensor)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = _finite_float(name, text)
    elif isinstance(text, (list, tuple, np.ndarray)):
        return _tensor_value(name, text, text)
    else:
        try:
            string = str(text)
        except ValueError:  # a SymPy integer past Python's digit limit for str()
            raise _bad(name, f"{short_text(text)} is too large for a float") from None
        if len(string) > 20 * MAX_VALUE_ENTRIES:
            raise _bad(name, "the value is too long")
        try:
            value = json.loads(string)
        except (ValueError, RecursionError) as error:
            if "digits" in str(error):  # an integer past Python's digit limit for int(text)
                raise _bad(name, f"{shorten(string)} is too large for a float") from None
            raise _bad(name, _unreadable(string)) from None
        if isinstance(value, list):
            return _tensor_value(name, value, text)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _bad(name, f"{shorten(str(text))} is not a number (write e.g. 0.5)")
        value = _finite_float(name, value)
    if not math.isfinite(value):
        raise _bad(name, f"{shorten(str(text))}: the value must be finite")
    return value


def _tensor_value(name: str, value: Any, text: Any) -> np.ndarray:
    """Nested lists of numbers, rectangular, finite, with at most 4 axes."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        array = value.astype(float)
    else:
        if not _rectangular(value):
            raise _bad(name, "the lists must be nested evenly and hold numbers, e.g. [[0, -1], [2, 0]]")
        try:
            array = np.array(value, dtype=float)
        except OverflowError:  # a Python integer past the float range
            raise _bad(name, "an entry is too large for a float") from None
        except ValueError:  # lists of equal length nested to different depths
            raise _bad(name, "the lists must be nested evenly, e.g. [[0, -1], [2, 0]]") from None
    if array.size == 0:
        raise _bad(name, "the value is empty")
    if array.ndim > 4:
        raise _bad(name, f"tensors have at most 4 axes, this value has {array.ndim}")
    if array.size > MAX_VALUE_ENTRIES:
        raise _bad(name, f"{array.size:,} entries; the limit is {MAX_VALUE_ENTRIES:,}")
    if not np.all(np.isfinite(array)):
        raise _bad(name, "every entry must be finite")
    return array


def _unreadable(text: str) -> str:
    """What is wrong with a value JSON does not read, and how to write it: (1, 2) and 1, 2 are [1, 2], 1/2 is 0.5."""
    bare = text.strip()
    if bare.lower().lstrip("+-") in ("inf", "infinity", "nan"):
        return f"{shorten(text)}: the value must be finite"
    if re.fullmatch(r"-?\d+\s*/\s*\d+", bare):
        spelling = "write a fraction as a decimal, e.g. 0.5"
    elif "," in bare and "[" not in bare:
        spelling = f"write a vector in brackets: [{shorten(bare.strip('()'))}]"
    elif re.search(r"\d\s+[-+.\d]", bare):
        spelling = "separate the entries with commas, e.g. [1, 2]"
    else:
        spelling = "write e.g. 0.5 or [1, 2]"
    return f"{shorten(text)} is not a number or JSON list ({spelling})"


def _rectangular(value: Any, depth: int = 0) -> bool:
    if isinstance(value, bool) or depth > 4:
        return False
    if isinstance(value, (int, float)):
        return True
    if not isinstance(value, (list, tuple)) or not value:
        return False
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return True
    if not all(isinstance(v, (list, tuple)) for v in value) or len({len(v) for v in value}) != 1:
        return False
    return all(_rectangular(v, depth + 1) for v in value)


def _finite_float(name: str, number: int | float) -> float:
    try:
        return float(number)
    except OverflowError:  # a Python integer past the float range, e.g. 400 digits
        raise _bad(name, f"{short_text(number)} is too large for a float") from None


def short_text(value: Any) -> str:
    """A value as a short token; an integer too long for Python's str() (over 4,300 digits) is described."""
    try:
        return shorten(str(value))
    except ValueError:
        return "a number of over 4,000 digits"


def _bad(name: str, detail: str) -> InputError:
    return InputError(detail, parameter="at", key=name)
