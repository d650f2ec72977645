"""The gallery: rebuilt from its TOML files it must equal what is committed, and say where printed answers are wrong."""

from __future__ import annotations

import shutil
from pathlib import Path

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


def test_the_gallery_covers_the_course(rows):
    """At least 20 examples, every problem of problems.md but P10 (a parameter table: symgraph params)."""
    assert len(rows) >= 20
    sources = " ".join(example.source for example, _, _ in rows)
    for problem in ["P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9", "P11", "P12", "P13", "P14", "P15"]:
        assert f"{problem} " in sources + " " or f"{problem}," in sources, problem
    assert sum(d.is_tensor for _, d, _ in rows) >= 10


def test_examples_that_agree_say_so(rows):
    for example, _, found in rows:
        page = (GALLERY / example.name / "index.md").read_text(encoding="utf-8")
        if example.name.startswith("p06_logistic_sgd_step"):  # scalar and vector: the same printed slip
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
