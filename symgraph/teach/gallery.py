"""The gallery: course problems as small TOML files, built into Markdown pages with pictures.

Each example is derived exactly as written and compared with the answer printed in its source;
a disagreement is reported as such, never tuned away. The output is deterministic (sorted order,
relative links, no timestamps), so a rebuild is byte-identical and a test can catch a stale gallery.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from symgraph.api import Derivation, derive
from symgraph.engine.evaluate import evaluate, value_of
from symgraph.engine.graph import Graph
from symgraph.engine.graph import build as build_graph
from symgraph.errors import InputError
from symgraph.explain.printing import unicode, value_text
from symgraph.lang.parse import parse
from symgraph.notation import number, partial_text, pretty_name
from symgraph.output.formats import render_format
from symgraph.output.render import write_file
from symgraph.teach.compare import compare
from symgraph.verify.tensor_check import random_point

__all__ = ["Example", "Agreement", "load", "examples", "derivation", "agreements", "overall", "build", "RTOL", "ATOL"]

RTOL = 1e-9  #: printed numbers are compared within this relative tolerance …
ATOL = 1e-12  #: … or this absolute one, for answers that are 0
_REQUIRED = ("title", "program", "narrative", "official", "source")
_OPTIONAL = ("values", "wrt", "relu_at_zero", "forward", "sgd", "weight_decay")
_OFFICIAL = ("expr", "values", "forward", "text", "tolerance")
_UPDATED = "updated_"  # official.updated_<input>: the input after the gradient-descent step asked by sgd


@dataclass(frozen=True)
class Example:
    """One TOML file, checked for keys and types."""

    name: str
    title: str
    program: str
    narrative: str
    source: str
    official: dict[str, Any]
    values: dict[str, float | list]
    wrt: list[str] | None
    relu_at_zero: float
    forward: bool  #: the forward pass only (a tensor output without wrt is one anyway)
    sgd: float | None  #: the learning rate η of one gradient-descent step (Derivation.step)
    weight_decay: float  #: λ of that step, w ← w − η(∂L/∂w + λw)


@dataclass(frozen=True)
class Agreement:
    """One printed answer next to symgraph's; `agrees` is None when the comparison could not decide."""

    what: str
    official: str
    computed: str
    agrees: bool | None
    how: str

    @property
    def verdict(self) -> str:
        return {True: "agrees", False: "DISAGREES", None: "undecided"}[self.agrees]

    def line(self) -> str:
        return f"- {self.what}: official {self.official}, symgraph {self.computed}: **{self.verdict}** ({self.how})"


# --- reading ------------------------------------------------------------------------------------------
def _typed(path: Path, key: str, value: Any, kind: type | tuple[type, ...]) -> Any:
    """TOML gives ints, floats, strings, lists and tables; refuse the wrong one by key and file."""
    if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise InputError(f"{path.name}: {key} must be a {names}, not {value!r}")
    return value


def _numbers(path: Path, key: str, table: Any) -> dict[str, float | list]:
    """Numbers, or nested lists of numbers (tensors), by name."""
    _typed(path, key, table, dict)
    return {name: _number_or_tensor(path, f"{key}.{name}", v) for name, v in table.items()}


def _number_or_tensor(path: Path, key: str, value: Any) -> float | list:
    if isinstance(value, list):
        try:
            array = np.array(value, dtype=float)
        except (TypeError, ValueError):
            raise InputError(f"{path.name}: {key} must be a number or evenly nested lists of numbers") from None
        if array.dtype != float or array.size == 0:
            raise InputError(f"{path.name}: {key} must be a number or evenly nested lists of numbers")
        return array.tolist()
    return float(_typed(path, key, value, (int, float)))


def _unknown(path: Path, where: str, keys: Any, allowed: tuple[str, ...], prefix: str | None = None) -> None:
    for key in keys:
        if key not in allowed and not (prefix and key.startswith(prefix)):
            extra = f", {prefix}<input>" if prefix else ""
            raise InputError(f"{path.name}: unknown key {where}{key}; allowed: {', '.join(allowed)}{extra}")


def _official(path: Path, table: Any) -> dict[str, Any]:
    _typed(path, "official", table, dict)
    _unknown(path, "official.", table, _OFFICIAL, _UPDATED)
    official: dict[str, Any] = {}
    for key, value in table.items():
        if key in ("expr", "text"):
            official[key] = _typed(path, f"official.{key}", value, str)
        elif key in ("values", "forward"):
            official[key] = _numbers(path, f"official.{key}", value)
        elif key == "tolerance":  # one printed precision, or one per name ({ s = 0.05, "*" = 0.005 })
            if isinstance(value, dict):
                official[key] = {n: float(_typed(path, f"official.tolerance.{n}", v, (int, float))) for n, v in value.items()}
            else:
                official[key] = float(_typed(path, "official.tolerance", value, (int, float)))
        else:
            official[key] = _number_or_tensor(path, f"official.{key}", value)
    if not set(official) - {"text", "tolerance"}:
        raise InputError(f"{path.name}: official needs expr, values, forward or {_UPDATED}<input> to compare with")
    return official


def load(path: str | Path) -> Example:
    """Read one example; any problem is one InputError naming the file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{path.name}: not valid TOML ({e})") from None
    _unknown(path, "", data, _REQUIRED + _OPTIONAL)
    missing = [key for key in _REQUIRED if key not in data]
    if missing:
        raise InputError(f"{path.name}: missing key {', '.join(missing)}")
    wrt = data.get("wrt")
    if wrt is not None:
        wrt = [_typed(path, "wrt", name, str) for name in _typed(path, "wrt", wrt, list)]
    sgd = data.get("sgd")
    return Example(
        name=path.stem,
        title=_typed(path, "title", data["title"], str),
        program=_typed(path, "program", data["program"], str).strip(),
        narrative=_typed(path, "narrative", data["narrative"], str).strip(),
        source=_typed(path, "source", data["source"], str),
        official=_official(path, data["official"]),
        values=_numbers(path, "values", data.get("values", {})),
        wrt=wrt,
        relu_at_zero=float(_typed(path, "relu_at_zero", data.get("relu_at_zero", 0), (int, float))),
        forward=_typed(path, "forward", data.get("forward", False), bool),
        sgd=None if sgd is None else float(_typed(path, "sgd", sgd, (int, float))),
        weight_decay=float(_typed(path, "weight_decay", data.get("weight_decay", 0), (int, float))),
    )


def examples(directory: str | Path) -> list[Example]:
    """Every example under DIRECTORY/examples, in file-name order."""
    folder = Path(directory) / "examples"
    paths = sorted(folder.glob("*.toml"))
    if not paths:
        raise InputError(f"no examples: {folder} holds no .toml files")
    return [load(path) for path in paths]


def derivation(example: Example) -> Derivation:
    """The example's derivation; an error in its program names the file."""
    try:
        return derive(example.program, wrt=example.wrt, at=example.values, relu_at_zero=example.relu_at_zero,
                      forward=example.forward, sgd=example.sgd, weight_decay=example.weight_decay)
    except InputError as e:
        raise InputError(f"{example.name}.toml: {e}") from None


# --- comparing ----------------------------------------------------------------------------------------
def _close(official, computed, tolerance: float | None) -> bool | None:
    """A numeric verdict (entry by entry for tensors); None when there is no value to compare with."""
    if computed is None:
        return None
    official, computed = np.asarray(official, dtype=float), np.asarray(computed, dtype=float)
    if official.shape != computed.shape:
        return False
    if tolerance is not None:
        return bool(np.all(np.abs(official - computed) <= tolerance))
    return bool(np.allclose(computed, official, rtol=RTOL, atol=ATOL))


def _numeric(what: str, official, computed, tolerance: float | None = None) -> Agreement:
    shown = "no value (give every input in values)" if computed is None else value_text(computed)
    if computed is None:
        how = "no value to compare"
    elif tolerance is not None:
        how = f"numerically, within the printed precision ±{number(tolerance)}"
    else:
        how = f"numerically, tolerance {RTOL:g} relative, {ATOL:g} absolute"
    return Agreement(what, value_text(official), shown, _close(official, computed, tolerance), how)


def _expression(example: Example, d: Derivation) -> Agreement:
    if len(d.wrt) != 1:
        raise InputError(f"{example.name}.toml: official.expr needs exactly one name in wrt, not {', '.join(d.wrt)}")
    name = next(iter(d.wrt))
    if d.is_tensor:
        return _tensor_expression(example, d, name)
    try:
        comparison = compare(example.program, name, [example.official["expr"]], relu_at_zero=example.relu_at_zero)
        verdict = comparison.verdicts[0]
        if verdict.error is not None:
            raise InputError(verdict.error)
    except InputError as e:
        raise InputError(f"{example.name}.toml: official.expr: {e}") from None
    form = d.in_terms_of_intermediates[name] or d.gradient[name]  # the shorter form, as a teacher writes it
    shown = "(too large to write out; see the graph)" if form is None else unicode(form, example.relu_at_zero)
    how = f"{'symbolically' if verdict.method == 'symbolic' else 'numerically'}, {verdict.reason}"
    return Agreement(_lhs(d, name), verdict.shown, shown, verdict.equal, how)


def _tensor_expression(example: Example, d: Derivation, name: str) -> Agreement:
    """A printed formula in matrix notation, written in the language over the program's names, against
    the gradient (or the Jacobian of a tensor output): numerically at the example's values and at a
    seeded random point."""
    text = example.official["expr"]
    tensor_graph = d.graph
    assert tensor_graph.is_tensor  # d.is_tensor
    try:
        program = parse(f"{example.program}\n{_ANSWER} = {text}")
        graph, answer = build_graph(program, _ANSWER, Graph(tensor_graph.declared))
    except InputError as e:
        raise InputError(f"{example.name}.toml: official.expr: {e}") from None
    gradient = d.gradients.of(d.wrt[name])
    inputs = {n: d.inputs[n] for n in d.program.inputs}
    targets = [d.seed.of] if d.mode == "jacobian" and d.seed is not None else [d.output, gradient]
    points = [{n: np.asarray(v, dtype=float) for n, v in example.values.items()}]
    points.append(random_point(tensor_graph, inputs, {}, targets))
    agrees = True
    for point in points:
        found = evaluate(graph, {graph.names[n]: point[n] for n in program.inputs}, [answer])
        want, got = _derivative_at(example, d, name, point), np.asarray(value_of(found, answer))
        agrees &= got.shape == want.shape and bool(np.allclose(got, want, rtol=RTOL, atol=ATOL))
    if d.mode == "jacobian":
        shown = value_text(d.gradient_value(name))
    else:
        form = d.in_terms_of_intermediates[name] or d.gradient[name]
        shown = "(too large to write out; see the graph)" if form is None else d.writer.text(form)
    how = f"numerically at the example's values and a seeded random point, tolerance {RTOL:g} relative"
    return Agreement(_lhs(d, name), text, shown, agrees, how)


def _derivative_at(example: Example, d: Derivation, name: str, point: dict[str, np.ndarray]) -> np.ndarray:
    """∂output/∂name at POINT: the gradient evaluated there, or the Jacobian derived there."""
    if d.mode == "jacobian":
        again = derive(example.program, wrt=[name], at=point, relu_at_zero=example.relu_at_zero)
        return np.asarray(again.gradient_value(name))
    gradient = d.gradients.of(d.wrt[name])
    expected = evaluate(d.graph, {d.inputs[n]: v for n, v in point.items()}, [gradient], d.conventions)
    return np.broadcast_to(value_of(expected, gradient), d.graph.shape(d.wrt[name]))


def _lhs(d: Derivation, name: str) -> str:
    """∂y/∂name as the course writes it: y is the tensor output itself for a Jacobian."""
    of = d.graph.label(d.seed.of) if d.mode == "jacobian" and d.seed is not None else d.output_name
    return partial_text(of, name, d.total)


_ANSWER = "official_answer"


def _gradient_value(example: Example, d: Derivation, name: str):
    if name not in d.wrt:
        raise InputError(f"{example.name}.toml: official value for {name}, which is not in wrt ({', '.join(d.wrt)})")
    return d.gradient_value(name)


def _forward_value(example: Example, d: Derivation, name: str) -> float | np.ndarray | None:
    if name not in d.graph.names:
        raise InputError(f"{example.name}.toml: official.forward.{name}: no such name in the program")
    return d.value(d.graph.names[name])


def _updated(example: Example, d: Derivation, name: str, official) -> Agreement:
    """The gradient-descent step symgraph takes (Derivation.step) against the printed updated value."""
    if d.step is None or d.update is None:
        raise InputError(f"{example.name}.toml: official.{_UPDATED}{name} needs sgd (the learning rate)")
    _gradient_value(example, d, name)  # name must be differentiated by
    (rate, decay), w, lhs = d.update, pretty_name(name), _lhs(d, name)
    rule = f"{w} − η·({lhs} + λ{w}) (η = {number(rate)}, λ = {number(decay)})" if decay else f"{w} − η·{lhs} (η = {number(rate)})"
    return _numeric(f"updated {w} = {rule}", official, d.step[name], _tolerance(example, f"{_UPDATED}{name}"))


def _tolerance(example: Example, key: str) -> float | None:
    """The printed precision of one answer (its key in official: a name, or updated_<name>); None: exact."""
    tolerance = example.official.get("tolerance")
    if isinstance(tolerance, dict):
        return tolerance.get(key, tolerance.get("*"))
    return tolerance


def agreements(example: Example, d: Derivation) -> list[Agreement]:
    """Every printed answer of the example, compared with symgraph's in the TOML's order."""
    found = []
    official = example.official
    if "expr" in official:
        found.append(_expression(example, d))
    for name, value in official.get("forward", {}).items():
        found.append(_numeric(pretty_name(name), value, _forward_value(example, d, name), _tolerance(example, name)))
    for name, value in official.get("values", {}).items():
        found.append(_numeric(_lhs(d, name), value, _gradient_value(example, d, name), _tolerance(example, name)))
    for key, value in official.items():
        if key.startswith(_UPDATED):
            found.append(_updated(example, d, key.removeprefix(_UPDATED), value))
    return found


def overall(found: list[Agreement]) -> str:
    """One word for the index: agrees only when every printed answer does."""
    wrong = sum(a.agrees is False for a in found)
    if wrong:
        return f"DISAGREES ({wrong} of {len(found)})"
    return "agrees" if all(a.agrees for a in found) else "undecided"


# --- writing ------------------------------------------------------------------------------------------
def pictures(d: Derivation) -> tuple[str, ...]:
    """The forward graph and the backward pass (combined with the values when every input has one),
    or the forward graph alone for a forward pass; each file is named after its view."""
    if d.mode == "forward":
        return ("forward.svg",)
    return "forward.svg", "combined.svg" if d.complete else "backward.svg"


COLLAPSE_OVER = 20  #: a forward pass of more operations than this is drawn collapsed, one box per named value


def collapsed(d: Derivation) -> bool:
    """A long forward pass (an unrolled loop, a whole network) is drawn with only the names the program gives:
    drawn out, it would be too wide to read at the width of a page."""
    return d.mode == "forward" and sum(1 for _ in d.graph.nodes("forward")) > COLLAPSE_OVER


def _check_status(d: Derivation) -> str:
    return d.check().status if d.checked else "forward pass (no derivative to check)"


def page(example: Example, d: Derivation, found: list[Agreement]) -> str:
    alts = ("forward graph, one box per named value" if collapsed(d) else "forward graph", "backward pass")
    drawn = [f"![{alt}]({name})" for alt, name in zip(alts, pictures(d), strict=False)]
    printed = example.official.get("text")
    lines = [
        f"# {example.title}", "", example.narrative, "", f"*Source: {example.source}.*", "",
        "```", example.program, "```", "",
        *(line for picture in drawn for line in (picture, "")),
        "## Derivation", "", render_format(d, "markdown").rstrip(), "",
        "## Comparison with the official answer", "",
    ]
    if printed:
        lines += [f"> Printed: {printed.strip()}", ""]
    lines += [a.line() for a in found] + ["", f"Overall: **{overall(found)}**.", ""]
    return "\n".join(lines)


def index(rows: list[tuple[Example, Derivation, list[Agreement]]]) -> str:
    """The gallery's README: a thumbnail link and one line per example."""
    lines = [
        "# Gallery",
        "",
        "Worked problems of a deep-learning course, derived by symgraph and compared with the printed answers.",
        "Built from `examples/*.toml` by `symgraph gallery build`; do not edit the generated files by hand.",
        "",
        "| | example | source | printed answer | check |",
        "|---|---|---|---|---|",
    ]
    for example, d, found in rows:
        thumb = f"{example.name}/{pictures(d)[-1]}"
        link = f'<a href="{example.name}/index.md"><img src="{thumb}" alt="{example.title}" width="200"></a>'
        lines.append(
            f"| {link} | [{example.title}]({example.name}/index.md) | {example.source} | {overall(found)} "
            f"| {_check_status(d)} |"
        )
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_file(path, text.encode("utf-8"))


def build(directory: str | Path, progress: Callable[[int, int], None] | None = None) -> list[Path]:
    """Build every example of DIRECTORY/examples into DIRECTORY/<name>/ and DIRECTORY/README.md;
    `progress(k, n)` is called after each of the n examples."""
    directory = Path(directory)
    rows, written = [], []
    todo = examples(directory)
    for k, example in enumerate(todo, 1):
        d = derivation(example)
        found = agreements(example, d)
        folder = directory / example.name
        written.append(_write(folder / "index.md", page(example, d, found)))
        for name in pictures(d):
            written.append(d.render(view=Path(name).stem, collapse=collapsed(d)).save(folder / name))
        rows.append((example, d, found))
        if progress is not None:
            progress(k, len(todo))
    written.append(_write(directory / "README.md", index(rows)))
    return written
