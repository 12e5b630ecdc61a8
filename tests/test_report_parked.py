"""The report on claims a run could not record (awaiting a GPU run, a dataset; context), its first
figure (every claim's ratio to the published number, coloured by status)."""

import json

import pytest
from test_report import run_dir  # noqa: F401  (the fixture)

from course_lib.claims import AWAIT_DATA, AWAIT_GPU, CONTEXT, FAIL, NO_BOUND, NOT_RUN, PASS
from course_lib.plot import status_colour
from course_lib.repro import WIDEST_FIGURE_PX
from experiments.report import FIGURE, build, figure_points, gate, gate_passed, write_report

PARKED = """
[[claim]]
id = "a.gpu"
lesson = "01"
title = "Needs a GPU"
published = 4.0
source = "Paper 2012"
checked = true
needs = "gpu"
quick = { min = 1.0 }

[[claim]]
id = "a.data"
lesson = "01"
title = "Needs CIFAR-10"
published = 10.0
source = "Paper 2016"
checked = true
needs = ["gpu", "cifar10"]
quick = { max = 12.0 }

[[claim]]
id = "a.paper"
lesson = "01"
title = "Shown beside ours"
published = 37.5
source = "Paper 2012"
checked = true
kind = "context"

[[claim]]
id = "a.unrecorded"
lesson = "01"
title = "Simply not recorded"
published = 2.0
source = "Paper 2012"
checked = true
quick = { max = 3.0 }
"""


@pytest.fixture
def parked(run_dir):  # noqa: F811
    """The report test's run folder, with parked claims (and one simply not recorded) added."""
    claims = run_dir.parent / "claims" / "01.toml"
    claims.write_text(claims.read_text() + PARKED)
    return run_dir


def rows_of(data):
    """Every claim row of the report, the lessons awaiting a notebook's too."""
    lessons = data["notebooks"] + data["awaiting"]
    return {row["id"]: row for lesson in lessons for row in lesson["rows"]}


def test_parked_claims_have_their_own_statuses_and_never_fail_the_gate(parked):
    data = build(parked)
    status = {cid: row["status"] for cid, row in rows_of(data).items()}
    assert status["a.gpu"] == AWAIT_GPU and status["a.data"] == AWAIT_DATA
    assert status["a.paper"] == CONTEXT and status["a.unrecorded"] == NOT_RUN
    assert (data["counts"][AWAIT_GPU], data["counts"][AWAIT_DATA]) == (1, 1)
    problems = "\n".join(gate(data))
    assert "a.bad" in problems  # a missed bound still fails
    assert "a.gpu" not in problems and "a.data" not in problems and "a.paper" not in problems
    assert gate_passed(data).endswith(
        ", 1 with a bound not recorded by its notebook, 2 awaiting a GPU run or a dataset"
    )


def test_the_report_groups_what_was_not_measured(parked):
    md_path, html_path = write_report(parked)
    md, page = md_path.read_text(), html_path.read_text()
    section = md.split("## Not measured in this run", 1)[1].split("\n## ", 1)[0]
    gpu = section.split("### Awaiting a GPU run (1)", 1)[1].split("###", 1)[0]
    data = section.split("### Awaiting a dataset (1)", 1)[1].split("###", 1)[0]
    unrun = section.split("### Not run (1)", 1)[1].split("###", 1)[0]
    assert "a.gpu" in gpu and "a.data" not in gpu and "a.data" in data and "gpu, cifar10" in data
    assert "a.unrecorded" in unrun and "a.gpu" not in unrun
    assert "### Context" in section and "a.paper" in section
    assert "needs a GPU run, the CIFAR-10 dataset" in md
    assert '<td class="st awaitgpu">awaiting a GPU run</td>' in page
    assert '<td class="st awaitdata">awaiting a dataset</td>' in page


def test_the_report_opens_with_the_claims_figure(parked):
    md_path, html_path = write_report(parked)
    md, page = md_path.read_text(), html_path.read_text()
    assert (parked / FIGURE).stat().st_size > 1000
    head = md[: md.index("## Summary")]
    assert head.count("![") == 1 and f"]({FIGURE})" in head  # the first thing after the title
    assert f'<img src="{FIGURE}"' in page
    assert page.index(f'<img src="{FIGURE}"') < page.index("Summary")


def test_each_point_has_its_claims_verdict_colour_and_ratio(parked):
    data = build(parked)
    points = {p["id"]: p for p in figure_points(data)}
    rows = rows_of(data)
    assert "a.extra" not in points  # a value no claim registers
    assert set(points) == {cid for cid, row in rows.items() if row["raw"]["published"] is not None}
    for cid, point in points.items():
        assert point["status"] == rows[cid]["status"]
        assert point["colour"] == status_colour(rows[cid]["status"])
    assert points["a.good"]["status"] == PASS and points["a.bad"]["status"] == FAIL
    assert points["a.good"]["ratio"] == 1.5 and points["a.bad"]["ratio"] == 7.0
    assert points["a.good"]["bound"] == (None, 2.0)
    assert points["a.gpu"]["ratio"] is None and points["a.gpu"]["bound"] == (0.25, None)
    assert points["a.paper"]["bound"] is None
    assert [p["lesson"] for p in figure_points(data)][-1] == "09"  # the awaiting lesson too
    colours = {status_colour(s) for s in (PASS, FAIL, AWAIT_GPU, AWAIT_DATA, NO_BOUND, NOT_RUN)}
    assert len(colours) == 6


def test_the_website_shows_the_figure_on_its_report_page(parked, tmp_path):
    from experiments import book

    write_report(parked)
    (parked / "executed").mkdir()
    book.stage(parked, tmp_path / "src")
    assert (tmp_path / "src" / FIGURE).is_file()
    assert f"]({FIGURE})" in (tmp_path / "src" / "report.md").read_text()


def test_a_figure_too_wide_for_jupyterlab_fails_the_gate(run_dir):  # noqa: F811
    results = run_dir / "results/01_alpha.json"
    data = json.loads(results.read_text())
    for width, fails in ((WIDEST_FIGURE_PX, False), (WIDEST_FIGURE_PX + 44, True)):
        data["figures"] = [{"path": "01_alpha_figures/curve.png", "caption": "", "width_px": width}]
        results.write_text(json.dumps(data))
        wide = [p for p in gate(build(run_dir)) if "figsize narrower" in p]
        assert bool(wide) == fails, (width, wide)
    assert f"curve.png (01_alpha) is {WIDEST_FIGURE_PX + 44} px wide" in wide[0]
