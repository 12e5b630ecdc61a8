"""Pass/fail logic and the Markdown/HTML report, on a hand-made run folder (no notebook is
executed)."""

import json
import math
import subprocess
import sys

import pytest

from course_lib.claims import (
    AWAIT_DATA,
    AWAIT_GPU,
    CONTEXT,
    FAIL,
    MISSING,
    NO_BOUND,
    NOT_RUN,
    PASS,
    judge,
)
from experiments import UserError
from experiments.report import NB_FAILED, UNCONFIRMED, build, to_html, write_report


@pytest.mark.parametrize(
    "bound, value, expected",
    [
        ({"min": 1.0}, 1.0, PASS),
        ({"min": 1.0}, 0.99, FAIL),
        ({"max": 3.5}, 3.0, PASS),
        ({"max": 3.5}, 3.6, FAIL),
        ({"min": 1, "max": 2}, 1.5, PASS),
        ({"min": 1, "max": 2}, 2.5, FAIL),
        ({"min": 1, "max": 2}, 0.5, FAIL),
        ({"equals": True}, True, PASS),
        ({"equals": True}, False, FAIL),
        ({"equals": True}, 1, FAIL),  # a number is not a bool
        ({"equals": 1}, True, FAIL),
        ({"equals": "separated"}, "separated", PASS),
        ({"equals": "separated"}, "overlap", FAIL),
        ({"equals": 8869}, 8869.0, PASS),
        ({"max": 3.5}, "3.0", FAIL),  # a string cannot meet a numeric bound
        ({"max": 3.5}, math.nan, FAIL),
        ({"min": 0.0}, math.inf, FAIL),
        ({"max": 3.5}, None, FAIL),
        (None, math.nan, FAIL),
        (None, 3.0, NO_BOUND),
        ({}, "anything", NO_BOUND),
        ({"max": 3.5}, MISSING, NOT_RUN),
        (None, MISSING, NOT_RUN),
    ],
)
def test_judge(bound, value, expected):
    assert judge(bound, value) == expected


CLAIMS = """
[[claim]]
id = "{id}"
lesson = "{lesson}"
title = "Claim {id}"
published = {published}
unit = "% error"
source = "Source <2006> & co"
checked = {checked}
quick = {{ max = 2.0 }}
"""


def write_json(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


@pytest.fixture
def run_dir(tmp_path):
    """A run folder with one ok notebook (a pass, a fail, an unregistered value, a figure), one
    failed notebook, and claims for a lesson that has no notebook yet."""
    claims = tmp_path / "claims"
    claims.mkdir()
    (claims / "01.toml").write_text(
        CLAIMS.format(id="a.good", lesson="01", published=1.0, checked="true")
        + CLAIMS.format(id="a.bad", lesson="01", published=1.0, checked="false")
    )
    (claims / "02.toml").write_text(
        CLAIMS.format(id="b.lost", lesson="02", published=1.0, checked="true")
        + CLAIMS.format(id="b.early", lesson="02", published=1.0, checked="true")
    )
    (claims / "09.toml").write_text(
        'title = "Language models"\n'
        + CLAIMS.format(id="c.future", lesson="09", published=114.5, checked="true")
    )
    run = tmp_path / "run"
    write_json(
        run / "run.json",
        {
            "profile": "quick",
            "seed": 0,
            "device": "auto",
            "started": "t0",
            "ended": "t1",
            "claims_dir": str(claims),
            "notebooks_dir": str(tmp_path / "none"),
            "machine": {"python": "3.11", "gpu": None},
            "git": None,
        },
    )
    write_json(
        run / "meta/01_alpha.json",
        {
            "notebook": "01_alpha",
            "lesson": "01",
            "title": "Alpha <b>",
            "status": "ok",
            "profile": "quick",
            "wall_s": 3.5,
            "error": None,
        },
    )
    write_json(
        run / "results/01_alpha.json",
        {
            "claims": {
                "a.good": {"value": 1.5, "note": ""},
                "a.bad": {"value": 7.0, "note": "too high"},
                "a.extra": {"value": "qualitative", "note": ""},
            },
            "figures": [{"path": "01_alpha_figures/curve.png", "caption": "Loss <curve>"}],
            "devices": ["cpu (NumPy)", "cpu (torch)"],
            "files": {
                "mnist-test-labels": {
                    "path": "/data/mnist/t10k-labels-idx1-ubyte.gz",
                    "checksum": "sha256:ff7bcfd416de" + "3" * 52,
                    "note": "of the decompressed content",
                }
            },
        },
    )
    write_json(
        run / "meta/02_beta.json",
        {
            "notebook": "02_beta",
            "lesson": "02",
            "title": "Beta",
            "status": "failed",
            "profile": "quick",
            "wall_s": 1.25,
            "error": {
                "ename": "ValueError",
                "evalue": "boom <script>",
                "cell": 7,
                "cell_excerpt": "raise ValueError('boom')",
                "executed": "executed/02_beta.ipynb",
            },
        },
    )
    write_json(run / "results/02_beta.json", {"claims": {"b.early": {"value": 1.0, "note": ""}}})
    return run


def test_build_joins_claims_with_results(run_dir):
    data = build(run_dir)
    alpha, beta = data["notebooks"]
    statuses = {row["id"]: row["status"] for row in alpha["rows"]}
    assert statuses == {"a.good": PASS, "a.bad": FAIL, "a.extra": NO_BOUND}
    assert [row["to_check"] for row in alpha["rows"][:2]] == [False, True]
    assert beta["status"] == "failed"
    assert {row["id"]: row["status"] for row in beta["rows"]} == {
        "b.lost": NB_FAILED,
        "b.early": UNCONFIRMED,
    }
    assert data["counts"] == {
        PASS: 1,
        FAIL: 1,
        NO_BOUND: 1,
        UNCONFIRMED: 1,
        AWAIT_GPU: 0,
        AWAIT_DATA: 0,
        CONTEXT: 0,
        NOT_RUN: 0,
        NB_FAILED: 1,
    }
    assert (
        data["awaiting"][0]["lesson"] == "09" and data["awaiting"][0]["title"] == "Language models"
    )
    assert data["total_wall_s"] == pytest.approx(4.75)


def test_markdown_and_html(run_dir):
    md_path, html_path = write_report(run_dir)
    md, page = md_path.read_text(), html_path.read_text()
    for text in (md, page):
        assert "a.good" in text and "a.bad" in text and "to be checked" in text
        assert "ValueError" in text and "raise ValueError('boom')" in text
        assert "results/01_alpha_figures/curve.png" in text
        assert "Awaiting a lesson" in text and "c.future" in text and "Language models" in text
        assert "notebook failed" in text and "≤ 2" in text
    assert "<script>" not in page and "boom &lt;script&gt;" in page
    assert (
        "Source &lt;2006&gt; &amp; co" in page
        and "Alpha &lt;b&gt;" in page
        and "&amp;lt;" not in page
    )
    assert '<img src="results/01_alpha_figures/curve.png" alt="Loss &lt;curve&gt;" />' in page
    assert (
        "1 pass, 1 fail, 1 recorded — no bound, 1 unconfirmed — notebook did not finish, "
        "0 awaiting a GPU run, 0 awaiting a dataset, 0 context, 0 not run, 1 notebook failed"
    ) in md
    assert '<td class="st pass">pass</td>' in page and '<td class="st fail">fail</td>' in page
    assert '<td class="st unconfirmed">unconfirmed — notebook did not finish</td>' in page
    assert (
        '<td class="st nbfail">notebook failed</td>' in page
        and '<strong class="st failed">failed</strong>' in page
    )
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert "<title>Reproduction report: quick profile" in page


def test_report_elsewhere_links_back_to_the_run(run_dir, tmp_path):
    md_path, _ = write_report(run_dir, tmp_path / "site")
    assert "(../run/results/01_alpha_figures/curve.png)" in md_path.read_text()
    assert "[../run/executed/02_beta.ipynb](../run/executed/02_beta.ipynb)" in md_path.read_text()


def test_each_lesson_names_the_devices_it_ran_on(run_dir):
    md = write_report(run_dir)[0].read_text()
    assert "`01_alpha`: **ok**, wall time 3.5 s, ran on cpu (NumPy), cpu (torch)" in md
    assert "- **ran on**: cpu (NumPy) (1 lesson), cpu (torch) (1 lesson)" in md
    assert "device asked: " in md


def test_each_lesson_names_the_data_files_behind_its_numbers(run_dir):
    md = write_report(run_dir)[0].read_text()
    row = "| mnist-test-labels | sha256:ff7bcfd416de | t10k-labels-idx1-ubyte.gz |"
    assert row in md


def test_a_failure_names_the_source_cell_and_the_executed_notebook(run_dir):
    md_path, html_path = write_report(run_dir)
    md, page = md_path.read_text(), html_path.read_text()
    assert "**Failed in cell 7 of the source notebook:** ValueError: boom \\<script\\>" in md
    assert (
        "Traceback in the executed notebook [executed/02_beta.ipynb](executed/02_beta.ipynb)." in md
    )
    assert '<a href="executed/02_beta.ipynb">executed/02_beta.ipynb</a>' in page


def test_report_needs_a_run_folder(tmp_path):
    with pytest.raises(UserError, match="not a run folder"):
        build(tmp_path)


def test_report_does_not_import_the_runner():
    code = "import sys, experiments.report; print('experiments.runner' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


def test_json_is_read_and_written_by_the_library(tmp_path):
    from course_lib.repro import read_json
    from course_lib.repro import write_json as write
    from experiments import report, runner

    assert (
        report.read_json is read_json
        and runner.read_json is read_json
        and runner.write_json is write
    )
    write(tmp_path / "a" / "x.json", {"n": 1})
    assert read_json(tmp_path / "a" / "x.json") == {"n": 1}
    (tmp_path / "bad.json").write_text("{half")
    assert read_json(tmp_path / "bad.json") is None and read_json(tmp_path / "missing.json") is None


def test_html_is_the_markdown_rendered_with_user_text_escaped():
    md = (
        "# Report\n\n| claim | status |\n|---|---|\n"
        "| x \\<b\\> | pass |\n| y | recorded — no bound |\n\n"
        "<script>alert(1)</script>\n\n**interrupted** and **claims**\n\n[x](javascript:alert(1))\n"
    )
    page = to_html(md, "T <1>")
    assert "<title>T &lt;1&gt;</title>" in page and "<h1>Report</h1>" in page
    assert (
        "<td>x &lt;b&gt;</td>" in page and '<td class="st nobound">recorded — no bound</td>' in page
    )
    assert "<script>" not in page and "&lt;script&gt;" in page and "javascript:" not in page
    assert (
        '<strong class="st interrupted">interrupted</strong>' in page
        and "<strong>claims</strong>" in page
    )


def test_markdown_escapes_what_it_did_not_write(run_dir):
    meta = json.loads((run_dir / "meta/01_alpha.json").read_text())
    meta["title"] = "A | B *c* [d](javascript:x) &amp; `e`"
    (run_dir / "meta/01_alpha.json").write_text(json.dumps(meta))
    md_path, html_path = write_report(run_dir)
    assert "## 01 A \\| B \\*c\\* \\[d\\](javascript:x) \\&amp; \\`e\\`" in md_path.read_text()
    assert "<h2>01 A | B *c* [d](javascript:x) &amp;amp; `e`</h2>" in html_path.read_text()


def test_report_module_has_no_second_renderer():
    import experiments.report as report

    assert not [
        name for name in ("html_table", "html_status", "html_claim", "esc") if hasattr(report, name)
    ]


def set_provenance(run_dir, name, commit, seed, library="f" * 64, dirty=False):
    path = run_dir / "meta" / f"{name}.json"
    meta = json.loads(path.read_text())
    meta.update(
        git={"commit": commit, "dirty": dirty}, seed=seed, device="cpu", library_sha256=library
    )
    path.write_text(json.dumps(meta))


def test_one_code_line_when_every_notebook_ran_the_same_code(run_dir):
    set_provenance(run_dir, "01_alpha", "a" * 40, 3)
    set_provenance(run_dir, "02_beta", "a" * 40, 3)
    md = write_report(run_dir)[0].read_text()
    assert "- **code**: aaaaaaaaaaaa, course_lib ffffffffffff" in md
    assert "- **profile**: quick (seed 3, device asked: cpu)" in md and "several" not in md


def test_notebooks_from_different_commits_or_seeds_each_name_theirs(run_dir):
    set_provenance(run_dir, "01_alpha", "a" * 40, 3)
    set_provenance(run_dir, "02_beta", "b" * 40, 4, dirty=True)
    md = write_report(run_dir)[0].read_text()
    assert "- **code**: several commits, see each lesson" in md
    assert "- **profile**: quick (seed several, see each lesson, device asked: cpu)" in md
    assert "; code aaaaaaaaaaaa, course_lib ffffffffffff, seed 3, device cpu" in md
    assert (
        "; code bbbbbbbbbbbb (with uncommitted changes), course_lib ffffffffffff, "
        "seed 4, device cpu" in md
    )
    set_provenance(
        run_dir, "02_beta", "a" * 40, 3, library="e" * 64
    )  # same commit, other library code
    assert "- **code**: several commits, see each lesson" in write_report(run_dir)[0].read_text()


def test_a_lesson_over_its_time_budget_is_flagged(run_dir):
    meta = json.loads((run_dir / "meta/01_alpha.json").read_text())
    write_json(run_dir / "meta/01_alpha.json", {**meta, "wall_s": 95.0})
    md = write_report(run_dir)[0].read_text()
    assert "`01_alpha`: **ok**, wall time 1 min 35 s (over its 1 min 00 s budget)" in md
    assert "- **over budget**: 1 (01_alpha; budget 1 min 00 s a lesson)" in md
    assert "| 02 | 02_beta | failed | 1.2 s |" in md  # a failed lesson is not judged
