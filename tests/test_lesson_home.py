"""A lesson has one home: lessons/NN_slug/ holds its claims, benchmarks, results and exercises,
and a new lesson made from the template runs as it is."""

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from course_lib.claims import load_claims
from course_lib.exercises import check, exercises_for
from course_lib.lessons import LESSONS_DIR, LessonError, all_lessons, lesson
from experiments import UserError
from experiments.new_lesson import new_lesson
from experiments.report import build, gate
from experiments.runner import run_batch

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_every_notebook_has_a_home_and_every_home_a_notebook():
    homes = all_lessons(LESSONS_DIR)
    assert [h.notebook for h in homes] == NOTEBOOKS
    assert all(h.manifest.is_file() and h.exercises_file.is_file() for h in homes)


@pytest.mark.parametrize("home", all_lessons(LESSONS_DIR), ids=lambda h: h.name)
def test_a_home_names_benchmarks_that_exist_and_results_that_are_committed(home):
    for module in home.benchmarks():
        assert importlib.util.find_spec(module) is not None, f"{home.name}: no module {module}"
    for pattern in home.result_patterns():
        assert sorted(REPO.glob(pattern)), f"{home.name}: nothing committed matches {pattern}"
    assert {p.parent for p in home.results()} <= {REPO / "experiments" / "results"}


def test_lessons_are_found_by_number():
    assert lesson("05").notebook == REPO / "notebooks" / "05_sae_speed.ipynb"
    with pytest.raises(LessonError, match="no lesson '42'.*lessons: 00, 01"):
        lesson("42")


@pytest.fixture
def course(tmp_path, monkeypatch):
    """An empty course beside the repository's: the lesson template and no lesson yet."""
    (tmp_path / "lessons").mkdir()
    (tmp_path / "notebooks").mkdir()
    shutil.copytree(LESSONS_DIR / "_template", tmp_path / "lessons" / "_template")
    monkeypatch.setenv("COURSE_LESSONS", str(tmp_path / "lessons"))
    monkeypatch.delenv("COURSE_CLAIMS", raising=False)
    return tmp_path


def test_a_lesson_made_from_the_template_runs_in_one_place(course):
    home, notebook = new_lesson("99", "throwaway", 'A "quoted" title')
    assert home == course / "lessons" / "99_throwaway"
    assert notebook == course / "notebooks" / "99_throwaway.ipynb"
    registry = load_claims()
    assert registry.titles == {"99": 'A "quoted" title'}
    assert [c.id for c in registry.for_lesson("99")] == ["throwaway.sample_mean"]
    (ex,) = exercises_for("99")
    assert check(ex.id, lesson("99").exercises_module().mean_by_hand, quiet=True)
    assert not check(ex.id, ex.mistake, quiet=True)
    first = json.loads(notebook.read_text(encoding="utf-8"))["cells"][0]["source"][0]
    assert first == '# 99 · A "quoted" title\n'

    out = course / "run"
    assert run_batch("quick", notebooks_dir=course / "notebooks", out=out) == {"99_throwaway": "ok"}
    assert gate(build(out)) == []
    executed = (out / "executed" / "99_throwaway.ipynb").read_text(encoding="utf-8")
    assert "99.mean_by_hand: not written yet" in executed  # the exercise's check ran


def test_a_new_lesson_never_overwrites_nor_half_makes(course):
    new_lesson("99", "throwaway", "First")
    with pytest.raises(UserError, match="lesson 99 exists already"):
        new_lesson("99", "other", "Second")
    for args, words in [
        (("9", "x", "T"), "two digits"),
        (("98", "Bad-Slug", "T"), "lower-case"),
        (("98", "fine", ""), "one line"),
    ]:
        with pytest.raises(UserError, match=words):
            new_lesson(*args)
    assert sorted(p.name for p in (course / "lessons").iterdir()) == ["99_throwaway", "_template"]
    assert [p.name for p in (course / "notebooks").iterdir()] == ["99_throwaway.ipynb"]
