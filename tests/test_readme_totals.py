"""The READMEs' claim totals and the lesson table's claims column are the committed full run's,
recomputed here from its results and the lessons' claims, so they cannot drift (rewrite them with
``python -m experiments report experiments/results/full-cpu-2core --readme README.md
experiments/results/README.md``)."""

import pytest

from course_lib.claims import FAIL, NOT_RUN
from experiments import NOTEBOOKS, REPO
from experiments.report import build
from experiments.report_totals import rewrite, totals

COMMITTED = "experiments/results/full-cpu-2core"
READMES = ("README.md", "experiments/results/README.md")


@pytest.fixture(scope="module")
def committed():
    return build(REPO / COMMITTED, notebooks_dir=NOTEBOOKS)


@pytest.mark.parametrize("name", READMES)
def test_the_readme_shows_the_committed_runs_totals(committed, name):
    text = (REPO / name).read_text(encoding="utf-8")
    assert "<!-- claims-totals -->" in text
    assert rewrite(text, committed, COMMITTED) == text, (
        f"{name} disagrees with the committed full run: rewrite it with `python -m experiments "
        f"report {COMMITTED} --readme {' '.join(READMES)}`"
    )
    counts = totals(committed)
    assert f"| {counts['pass']} | {counts['fail']} |" in text


def test_the_lesson_table_marks_each_failed_and_unrun_claim(committed):
    rows = {
        line.split(" | ", 1)[0][2:]: line
        for line in (REPO / "README.md").read_text(encoding="utf-8").splitlines()
        if line[:2] == "| " and line[2:4].isdigit()
    }
    for nb in committed["notebooks"]:
        for row in nb["rows"]:
            name = f"`{row['id'].split('.', 1)[1]}`"
            if row["status"] == FAIL:
                assert name in rows[nb["lesson"]].split("**fails:", 1)[1].split("**")[0]
            if row["status"] == NOT_RUN and nb["status"] == "ok":
                assert name in rows[nb["lesson"]].split("**not run", 1)[1].split("**")[0]
