"""A run's claim totals: counted over the lessons it judged, as Markdown, and written into a
README's marked blocks (the lesson table's last column too), from the command line as well."""

import pytest
from test_report import run_dir  # noqa: F401  (the fixture the next one extends)
from test_report_parked import parked  # noqa: F401  (the fixture)

from course_lib.claims import AWAIT_DATA, AWAIT_GPU, CONTEXT, FAIL, NO_BOUND, NOT_RUN, PASS
from experiments.__main__ import main
from experiments.report import build
from experiments.report_totals import rewrite, totals, totals_markdown


def test_totals_count_the_judged_lessons_and_rewrite_the_marked_blocks(parked):  # noqa: F811
    data = build(parked)
    counts = totals(data)
    assert (counts[PASS], counts[FAIL], counts[NO_BOUND]) == (1, 1, 1)
    assert (counts[AWAIT_GPU], counts[AWAIT_DATA], counts[CONTEXT], counts[NOT_RUN]) == (
        1,
        1,
        1,
        1,
    )
    assert "| 1 | 1 | 1 | 1 | 1 | 1 | 1 | 1 | 1 |" in totals_markdown(data, "runs/x")
    text = (
        "intro\n<!-- claims-totals -->\nold\n<!-- /claims-totals -->\n"
        "<!-- claims-lessons -->\n| | lesson | claims |\n|---|---|---|\n"
        "| 01 | alpha | old |\n| 05 | gone | old |\n<!-- /claims-lessons -->\nend\n"
    )
    new = rewrite(text, data, "runs/x")
    assert new.startswith("intro\n") and new.endswith("end\n") and "old" not in new
    assert "`runs/x`, 2 lessons" in new and "| 05 | gone | not in this run |" in new
    alpha = next(line for line in new.splitlines() if line.startswith("| 01 |"))
    assert "**fails: `bad` 7 (bound ≤ 2)**" in alpha and "**not run (1): `unrecorded`**" in alpha
    assert "awaiting a GPU run (1): `gpu`" in alpha and "1 context" in alpha
    assert rewrite(new, data, "runs/x") == new
    with pytest.raises(ValueError, match="claims-totals"):
        rewrite("no blocks here", data, "runs/x")


def test_report_totals_and_readme_from_the_command_line(parked, tmp_path, capsys):  # noqa: F811
    assert main(["report", str(parked), "--totals"]) == 0
    assert "| pass | fail | recorded, no bound |" in capsys.readouterr().out
    assert not (parked / "report.md").exists()
    readme = tmp_path / "README.md"
    readme.write_text("<!-- claims-totals -->\n<!-- /claims-totals -->\n")
    assert main(["report", str(parked), "--readme", str(readme)]) == 0
    assert "| 1 | 1 | 1 |" in readme.read_text()
    readme.write_text("no block")
    assert main(["report", str(parked), "--readme", str(readme)]) != 0
    assert "no <!-- claims-totals -->" in capsys.readouterr().err
