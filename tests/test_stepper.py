"""The HTML stepper in a real browser: Debian's Chromium driven by Playwright (make setup installs both).

Each page is pressed through with the arrow keys: at every step the highlighted boxes must be the node the sweep
is at, and the text beside the picture the derivation's own (a frame's caption, the chain-rule steps). The page
may fetch nothing and log no error. A screenshot of each page is kept in tests/artifacts/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from symgraph import derive
from symgraph.notation import partial_symbol
from symgraph.output.scene import scene
from symgraph.output.scene_text import value_text
from symgraph.output.scene_types import gradient_lines
from symgraph.output.themes import THEMES

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
SCALAR = "a = 3*x + sigmoid(x); b = x**2 - exp(-x); y = a*b"
TENSOR = "z = W @ h + c\ng = log(1 + relu(z))\nL = dot(v, g)"
TENSOR_AT = {"W": [[0, -1], [2, 0], [1, 1]], "h": [1, 2], "c": [0.5, -1, 0.2], "v": [1, 2, -1]}


@pytest.fixture(scope="module")
def browser():
    """Chromium from the system; a machine without it fails here, loudly: `make setup` installs it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        except Exception as e:
            pytest.fail(f"cannot start {CHROMIUM} for the stepper test (make setup installs chromium): {e}")
        yield launched
        launched.close()


class Page:
    """One stepper page open in the browser, with what it logged and fetched."""

    def __init__(self, browser, path: Path):
        self.errors: list[str] = []
        self.fetched: list[str] = []
        self.page = browser.new_page(viewport={"width": 1280, "height": 720})
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.fetched.append(r.url))
        self.url = path.as_uri()
        self.page.goto(self.url)

    def highlighted(self) -> set[str]:
        return set(self.page.eval_on_selector_all("g.node.sg-on", "gs => gs.map(g => g.id)"))

    def lines(self, box: str) -> list[str]:
        return self.page.eval_on_selector_all(f"#{box} div", "ds => ds.map(d => d.textContent)")

    def counter(self) -> str:
        return self.page.inner_text("#sg-counter")


def _write(d, path: Path, **look) -> Path:
    d.render("backward", **look).save(path)
    return path


def _expected(d) -> list[tuple[set[str], str, int | None]]:
    """(highlighted boxes, phase, the sweep's step k) for every step: the inputs, the forward nodes, the sweep."""
    graph = d.graph
    upstream = graph.ancestors_within(d.output, graph.nodes("input")) | {d.output}
    steps: list[tuple[set[str], str, int | None]] = [({f"n{n}" for n in graph.nodes("input") if n in upstream}, "forward", None)]
    steps += [({f"n{n}"}, "forward", None) for n in graph.nodes("forward") if n in upstream]
    steps += [({f"n{u}"}, "backward", k) for k, u in enumerate(d.gradients.order, 1)]
    return steps


def _chain_rule_texts(d, u: int) -> list[str]:
    """The derivation's own steps for node u: the local partials into its readers, or its backprop rule."""
    graph, out = d.graph, d.gradients.output
    if d.is_tensor:
        wanted = {partial_symbol(graph.label(out), graph.label(u))[0]}
    else:
        wanted = {partial_symbol(graph.label(v), graph.label(u))[0] for v in graph.dag.successors(u) if (v, u) in d.gradients.local}
    return [step.text for step in d.steps if step.lhs in wanted and step.kind in ("local", "backprop")]


def _walk(browser, d, path: Path, name: str) -> Page:
    """Press → through every step, checking each; then ← back to the start; then the buttons and Home/End."""
    shown = Page(browser, path)
    expected = _expected(d)
    total = len(expected)
    assert shown.counter() == f"1 / {total}"
    for i, (boxes, phase, k) in enumerate(expected):
        if i:
            shown.page.keyboard.press("ArrowRight")
        assert shown.counter() == f"{i + 1} / {total}"
        assert shown.page.get_attribute("body", "class") == phase
        operations = {f"o{b[1:]}" for b in boxes} & set(shown.page.eval_on_selector_all("g.node", "gs => gs.map(g => g.id)"))
        assert shown.highlighted() == boxes | operations, f"step {i + 1}"
        lines = shown.lines("sg-lines")
        if k is None:
            for box in boxes:
                node = int(box[1:])
                assert any(line.startswith(d.graph.label(node)) for line in lines), lines
                value = None if d.is_tensor else value_text(d, node)
                if value is not None:
                    assert any(value in line for line in lines), (value, lines)
        else:  # the sweep's k-th frame: its caption is the text beside the picture
            frame = scene(d, "backward", revealed=k)
            current = next(box for box in frame.boxes if box.current)
            assert lines == gradient_lines(current.rows), f"step {i + 1}"
            for text in _chain_rule_texts(d, current.node):
                assert text in shown.lines("sg-steps"), (text, shown.lines("sg-steps"))
        if i == total - 2:  # the sweep's last node before the input: its chain-rule steps beside it
            ARTIFACTS.mkdir(exist_ok=True)
            shown.page.screenshot(path=str(ARTIFACTS / f"stepper-{name}.png"))
            print(f"screenshot: {ARTIFACTS / f'stepper-{name}.png'}")
    assert shown.page.is_disabled("#sg-next")
    shown.page.keyboard.press("ArrowRight")  # past the end stays at the end
    assert shown.counter() == f"{total} / {total}"
    for i in range(total - 1, 0, -1):
        shown.page.keyboard.press("ArrowLeft")
        assert shown.counter() == f"{i} / {total}"
        assert shown.highlighted() == expected[i - 1][0] | {f"o{b[1:]}" for b in expected[i - 1][0] if shown.page.query_selector(f"g#o{b[1:]}")}
    assert shown.page.is_disabled("#sg-prev")
    shown.page.click("#sg-next")
    shown.page.click("#sg-next")
    assert shown.counter() == f"3 / {total}"
    shown.page.click("#sg-prev")
    assert shown.counter() == f"2 / {total}"
    shown.page.keyboard.press("End")
    assert shown.counter() == f"{total} / {total}"
    shown.page.keyboard.press("Home")
    assert shown.counter() == f"1 / {total}"
    assert shown.errors == []
    assert shown.fetched == [shown.url], "the page fetched something besides itself"
    return shown


@pytest.mark.parametrize("style", ["values", "ops"])
def test_a_scalar_program_steps_through_both_passes_with_its_numbers(browser, tmp_path, style):
    d = derive(SCALAR, at={"x": 0.5})
    _walk(browser, d, _write(d, tmp_path / "steps.html", style=style), f"scalar-{style}")


def test_without_values_the_steps_are_symbolic(browser, tmp_path):
    d = derive(SCALAR)
    shown = _walk(browser, d, _write(d, tmp_path / "steps.html", theme="dark"), "symbolic")
    shown.page.keyboard.press("End")
    assert shown.lines("sg-lines")[0].startswith("dy/dx = ")
    assert not any(re.search(r"\d\.\d", line) for line in shown.lines("sg-lines")), "no numbers without --at"


def test_a_tensor_program_steps_through_its_backprop_rules(browser, tmp_path):
    d = derive(TENSOR, at=TENSOR_AT, wrt=["h"])
    _walk(browser, d, _write(d, tmp_path / "steps.html"), "tensor")


def test_the_page_takes_the_theme_and_survives_markup_in_the_program(browser, tmp_path):
    source = "y = tanh(w*x)  # </script><!-- &"
    d = derive(source, at={"x": 1, "w": 0.5})
    shown = _walk(browser, d, _write(d, tmp_path / "steps.html", theme="dark"), "dark")
    assert "</script><!-- &" in shown.page.inner_text("#sg-title")
    assert "</script>" in shown.page.title()
    dark = THEMES["dark"].background.lstrip("#")
    red, green, blue = (int(dark[i:i + 2], 16) for i in (0, 2, 4))
    assert shown.page.evaluate("getComputedStyle(document.body).backgroundColor") == f"rgb({red}, {green}, {blue})"
