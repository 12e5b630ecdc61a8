"""The time budgets: the runner's table marks a lesson over its budget, and the report too."""

from pathlib import Path

from experiments.budgets import lesson_budget, over, run_budget
from experiments.catalog import Notebook
from experiments.run_summary import wall_table


def _nb(name):
    return Notebook(path=Path(f"{name}.ipynb"), lesson=name[:2], slug=name[3:], title=name)


def test_the_quick_profile_has_budgets_and_the_full_one_none():
    assert lesson_budget("quick") == 60 and run_budget("quick") == 12 * 60
    assert lesson_budget("full") is None and not over(5000.0, lesson_budget("full"))
    assert over(60.5, 60) and not over(60.0, 60) and not over(None, 60)


def test_the_wall_table_marks_lessons_over_their_budget():
    rows = {"01_fast": ("ok", 12.0, ""), "02_slow": ("ok", 95.0, ""), "03_old": ("skipped", 99, "")}
    context = dict(jobs=1, lesson_budget_s=60.0, run_budget_s=720.0)
    table = wall_table([_nb("01_fast"), _nb("02_slow"), _nb("03_old")], rows, 110.0, context)
    lines = {line.split()[0]: line for line in table.splitlines()[2:]}
    assert "over" not in lines["01_fast"] and "over its 60 s budget" in lines["02_slow"]
    assert "over" not in lines["03_old"]  # skipped: not run now
    assert "budget 60 s a lesson" in table and "the whole course's budget is 12 min" in table
    no_budget = wall_table([_nb("02_slow")], rows, 95.0, dict(jobs=1))
    assert "budget" not in no_budget
