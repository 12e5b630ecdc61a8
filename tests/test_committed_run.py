"""A lesson reads what the committed full-profile run recorded through its home."""

import json
import shutil

import pytest

from course_lib.lessons import COMMITTED_RUN, LESSONS_DIR, LessonError, all_lessons, lesson


def test_every_lesson_finds_the_committed_full_run():
    for home in all_lessons(LESSONS_DIR):
        claims = home.committed_run()
        assert claims, f"{home.name}: no committed full run under {COMMITTED_RUN}"
        assert all("value" in c and "note" in c for c in claims.values())


def test_the_committed_values_are_the_files_own():
    path = LESSONS_DIR.parent / COMMITTED_RUN / "results" / "07_alexnet.json"
    want = json.loads(path.read_text())["claims"]["krizhevsky2012.relu_speedup"]["value"]
    assert lesson("07").committed_run()["krizhevsky2012.relu_speedup"]["value"] == want


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A course of one lesson, 07, beside the repository's."""
    shutil.copytree(LESSONS_DIR / "07_alexnet", tmp_path / "lessons" / "07_alexnet")
    monkeypatch.setenv("COURSE_LESSONS", str(tmp_path / "lessons"))
    return tmp_path


def test_no_committed_run_is_an_empty_table(course):
    assert lesson("07").committed_run() == {}


@pytest.mark.parametrize(
    "text", ["{not json", '{"runs": []}', '{"claims": {"a.b": {}}}', '{"claims": [1, 2]}']
)
def test_a_broken_committed_run_is_an_error_naming_the_file(course, text):
    folder = course / COMMITTED_RUN / "results"
    folder.mkdir(parents=True)
    (folder / "07_alexnet.json").write_text(text)
    with pytest.raises(LessonError, match="07_alexnet.json is not a run's results JSON"):
        lesson("07").committed_run()
