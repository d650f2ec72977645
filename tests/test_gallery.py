"""The gallery: rebuilt from its TOML files it must equal what is committed, and say where printed answers are wrong."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from symgraph.cli.gallery import gallery as gallery_command
from symgraph.errors import InputError
from symgraph.teach import gallery

GALLERY = Path(__file__).resolve().parent.parent / "gallery"
#: Hand-written parts of gallery/ that the build neither reads nor writes.
NOT_BUILT = {"examples", "readme", "tutorial.ipynb"}

needs_dot = pytest.mark.needs_dot(pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot"))


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory) -> Path:
    """The gallery rebuilt through the command, from a copy of the committed examples."""
    directory = tmp_path_factory.mktemp("gallery")
    shutil.copytree(GALLERY / "examples", directory / "examples")
    result = CliRunner().invoke(gallery_command, ["build", str(directory)])
    assert result.exit_code == 0, result.output
    return directory


def _built_files(directory: Path) -> list[Path]:
    return sorted(
        p.relative_to(directory)
        for p in directory.rglob("*")
        if p.is_file() and p.relative_to(directory).parts[0] not in NOT_BUILT
    )


@pytest.fixture(scope="module")
def rows():
    """(example, derivation, agreements) for every committed example."""
    found = []
    for example in gallery.examples(GALLERY):
        d = gallery.derivation(example)
        found.append((example, d, gallery.agreements(example, d)))
    return found


@needs_dot
def test_the_committed_gallery_is_what_a_rebuild_writes(rebuilt):
    built = _built_files(rebuilt)
    assert built == _built_files(GALLERY), "run `make gallery` and commit the result"
    for path in built:
        assert (rebuilt / path).read_bytes() == (GALLERY / path).read_bytes(), f"{path} is stale: run `make gallery`"


def test_every_check_passes_or_says_why_not(rows):
    for example, d, _ in rows:
        report = d.check()
        assert report.status in ("passed", "inconclusive"), f"{example.name}: {report.status} {report.reasons}"
        if report.status == "inconclusive":
            assert report.reasons, example.name


def test_p6_printed_bias_is_flagged():
    page = (GALLERY / "p06_logistic_sgd_step" / "index.md").read_text(encoding="utf-8")
    line = next(line for line in page.splitlines() if line.startswith("- updated b"))
    assert "DISAGREES" in line and "official 5.5" in line and "symgraph −4.5" in line
    assert "Overall: **DISAGREES (1 of 12)**." in page


def test_p6_printed_bias_is_flagged_in_the_vector_version_too():
    page = (GALLERY / "p06_logistic_sgd_step_vector" / "index.md").read_text(encoding="utf-8")
    line = next(line for line in page.splitlines() if line.startswith("- updated b"))
    assert "DISAGREES" in line and "official 5.5" in line and "symgraph −4.5" in line
    gradient = next(line for line in page.splitlines() if line.startswith("- ∂L/∂w"))
    assert "[−0.5, 0, 0, −0.5]" in gradient and "agrees" in gradient


def test_the_vqa_logit_printed_from_the_unrounded_q_is_flagged():
    """From q = [1.06, 0.30], s₁ = 2·1.06 + 3.6289 = 5.749: 5.7 at the printed precision, not 5.8."""
    page = (GALLERY / "jan23_p2_vqa_answer" / "index.md").read_text(encoding="utf-8")
    line = next(line for line in page.splitlines() if line.startswith("- s:"))
    assert "DISAGREES" in line and "official [5.8, 5.6, 10.6]" in line and "symgraph [5.74885," in line and "±0.05" in line
    whole = (GALLERY / "jan23_p2_vqa_end_to_end" / "index.md").read_text(encoding="utf-8")
    assert "Overall: **agrees**." in whole  # the unrounded q gives s₁ = 5.757


def test_the_gallery_covers_both_exams(rows):
    """At least 15 whole-network questions of the two exams: forward passes, Jacobians, decoding, an SGD step."""
    exams = [(e, d) for e, d, _ in rows if e.source.startswith("exam 2023-")]
    assert len(exams) >= 15
    assert {e.source[:15] for e, _ in exams} == {"exam 2023-01-25", "exam 2023-02-10"}
    modes = [d.mode for _, d in exams]
    assert modes.count("forward") >= 8 and modes.count("jacobian") >= 3
    assert any(d.step is not None for _, d in exams)


def test_a_forward_pass_is_one_picture_and_claims_no_check(rows):
    example, d, found = next(r for r in rows if r[0].name == "feb23_p2_greedy_decoding")
    assert d.mode == "forward" and gallery.pictures(d) == ("forward.svg",) and gallery.collapsed(d)
    assert [a.official for a in found if a.what.startswith("word")] == ["4", "5", "2"]  # the exam's 1-based words
    page = (GALLERY / example.name / "index.md").read_text(encoding="utf-8")
    assert "![forward graph, one box per named value](forward.svg)" in page and "backward" not in page
    assert not (GALLERY / example.name / "combined.svg").exists()
    readme = (GALLERY / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if "feb23_p2_greedy_decoding/index.md" in line)
    assert row.endswith("| agrees | forward pass (no derivative to check) |")


def _example(tmp_path, program: str, extra: str, official: str):
    text = f'title = "t"\nsource = "s"\nnarrative = "n"\nprogram = """\n{program}\n"""\n{extra}\n[official]\n{official}\n'
    (tmp_path / "e.toml").write_text(text, encoding="utf-8")
    example = gallery.load(tmp_path / "e.toml")
    d = gallery.derivation(example)
    return d, gallery.agreements(example, d)


@pytest.mark.parametrize("expr, agrees", [("diag(sigmoid(z))", True), ("diag(sigmoid(z) * (1 - sigmoid(z)))", False),
                                          ("sigmoid(z)", False)])
def test_a_printed_jacobian_is_compared_entry_by_entry(tmp_path, expr, agrees):
    d, found = _example(tmp_path, "h = softplus(z)", 'values = { z = [-2, 0, 1.5] }\nwrt = ["z"]', f'expr = "{expr}"')
    assert d.mode == "jacobian"
    (agreement,) = found
    assert agreement.agrees is agrees and agreement.what == "dh/dz"
    z = np.array([-2, 0, 1.5])
    np.testing.assert_allclose(d.gradient_value("z"), np.diag(1 / (1 + np.exp(-z))), rtol=1e-12)  # σ(zᵢ) on the diagonal


def test_a_printed_jacobian_value_is_compared_with_the_jacobian(tmp_path):
    # z = W x: the Jacobian is W itself (3×2, output shape + input shape)
    _, found = _example(tmp_path, "z = W @ x", 'values = { W = [[1, 2], [3, 4], [5, 6]], x = [1, -1] }\nwrt = ["x"]',
                        "values = { x = [[1, 2], [3, 4], [5, 6]] }")
    assert [a.agrees for a in found] == [True]


def test_an_sgd_step_with_weight_decay_is_compared(tmp_path):
    # L = ½(w·x − t)² at w = [1, 2], x = [1, 1], t = 1: ∂L/∂w = (3 − 1)x = [2, 2]; w − 0.5(∂L/∂w + 0.1w) = [−0.05, 0.9]
    program = "L = 0.5 * (dot(w, x) - t)**2"
    extra = 'values = { w = [1, 2], x = [1, 1], t = 1 }\nwrt = ["w"]\nsgd = 0.5\nweight_decay = 0.1'
    d, found = _example(tmp_path, program, extra, "updated_w = [-0.05, 0.9]")
    assert d.step is not None and [a.agrees for a in found] == [True]
    assert found[0].what == "updated w = w − η·(∂L/∂w + λw) (η = 0.5, λ = 0.1)"
    _, found = _example(tmp_path, program, extra, "updated_w = [0, 1]")  # without the decay: a slip, flagged
    assert [a.agrees for a in found] == [False]


def test_printed_precision_by_name(tmp_path):
    # p = softmax([0, 1]) = [0.2689, 0.7311]; printed to 2 decimals, q = 2p to 1 decimal
    extra = "values = { s = [0, 1] }\nforward = true"
    official = "forward = { p = [0.27, 0.73], q = [0.5, 1.5] }\ntolerance = { p = 0.005, q = 0.05 }"
    _, found = _example(tmp_path, "p = softmax(s)\nq = 2 * p", extra, official)
    assert [(a.agrees, a.how) for a in found] == [(True, "numerically, within the printed precision ±0.005"),
                                                  (True, "numerically, within the printed precision ±0.05")]
    official = "forward = { p = [0.27, 0.73], q = [0.5, 1.5] }\ntolerance = { p = 0.005 }"  # q then compared exactly
    _, found = _example(tmp_path, "p = softmax(s)\nq = 2 * p", extra, official)
    assert [a.agrees for a in found] == [True, False]


def test_an_updated_value_without_sgd_names_the_key(tmp_path):
    with pytest.raises(InputError, match=r"^e\.toml: official\.updated_w needs sgd"):
        _example(tmp_path, "L = w**2", "values = { w = 1 }", "updated_w = 0")


def test_the_gallery_covers_the_course(rows):
    """At least 20 examples, every problem of problems.md but P10 (a parameter table: symgraph params)."""
    assert len(rows) >= 20
    sources = " ".join(example.source for example, _, _ in rows)
    for problem in ["P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9", "P11", "P12", "P13", "P14", "P15"]:
        assert f"{problem} " in sources + " " or f"{problem}," in sources, problem
    assert sum(d.is_tensor for _, d, _ in rows) >= 10


#: Examples with one printed slip: P6's updated bias (scalar and vector), the exam's VQA logit s₁.
SLIPS = ("p06_logistic_sgd_step", "p06_logistic_sgd_step_vector", "jan23_p2_vqa_answer")


def test_examples_that_agree_say_so(rows):
    for example, _, found in rows:
        page = (GALLERY / example.name / "index.md").read_text(encoding="utf-8")
        if example.name in SLIPS:
            assert [a.agrees for a in found].count(False) == 1
            continue
        assert found and all(a.agrees for a in found), example.name
        assert "Overall: **agrees**." in page and "DISAGREES" not in page, example.name


def test_outputs_carry_no_absolute_paths(rows):
    for path in _built_files(GALLERY):
        assert str(GALLERY) not in (GALLERY / path).read_text(encoding="utf-8"), path


@pytest.mark.parametrize(
    "text, message",
    [
        ("title = ", "bad.toml: not valid TOML"),
        ('title = "t"\nprogram = "x"\nnarrative = "n"\nsource = "s"\ncolour = 1\n[official]\nexpr = "1"\n',
         "bad.toml: unknown key colour"),
        ('title = "t"\nprogram = "x"\nnarrative = "n"\nsource = "s"\n[official]\nanswer = "1"\n',
         "bad.toml: unknown key official.answer"),
        ('title = "t"\nprogram = "x"\nnarrative = "n"\n[official]\nexpr = "1"\n', "bad.toml: missing key source"),
        ('title = "t"\nprogram = "x"\nnarrative = "n"\nsource = "s"\nvalues = { x = "1" }\n[official]\nexpr = "1"\n',
         "bad.toml: values.x must be a int or float"),
        ('title = "t"\nprogram = "x"\nnarrative = "n"\nsource = "s"\nforward = 1\n[official]\nexpr = "1"\n',
         "bad.toml: forward must be a bool"),
        ('title = "t"\nprogram = "x"\nnarrative = "n"\nsource = "s"\nsgd = true\n[official]\nexpr = "1"\n',
         "bad.toml: sgd must be a int or float"),
        ('title = "t"\nprogram = "x"\nnarrative = "n"\nsource = "s"\n[official]\nexpr = "1"\ntolerance = { x = "a" }\n',
         "bad.toml: official.tolerance.x must be a int or float"),
    ],
)
def test_a_bad_example_is_one_error_naming_the_file(tmp_path, text, message):
    (tmp_path / "bad.toml").write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as error:
        gallery.load(tmp_path / "bad.toml")
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_a_program_error_names_the_file(tmp_path):
    (tmp_path / "examples").mkdir()
    text = 'title = "t"\nprogram = "x +"\nnarrative = "n"\nsource = "s"\n[official]\nexpr = "1"\n'
    (tmp_path / "examples" / "broken.toml").write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=r"^broken\.toml: "):
        gallery.build(tmp_path)
