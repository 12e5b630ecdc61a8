"""Several run folders in one report, and the claims gate on report data (hand-made folders, no
kernels)."""

import json
import shutil

import pytest

from course_lib.claims import FAIL
from experiments import UserError
from experiments.__main__ import main
from experiments.report import UNCONFIRMED, build, gate, write_report

CLAIM = """
[[claim]]
id = "{id}"
lesson = "{lesson}"
title = "Claim {id}"
published = 1.0
source = "Demo"
checked = true
{bound}
"""


def write_json(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


@pytest.fixture
def claims(tmp_path):
    folder = tmp_path / "claims"
    folder.mkdir()
    (folder / "01.toml").write_text(
        CLAIM.format(id="a.kept", lesson="01", bound="quick = { max = 2.0 }")
        + CLAIM.format(id="a.free", lesson="01", bound="")
    )
    (folder / "02.toml").write_text(
        CLAIM.format(id="b.missed", lesson="02", bound="quick = { max = 2.0 }")
    )
    (folder / "03.toml").write_text(
        CLAIM.format(id="c.late", lesson="03", bound="quick = { max = 2.0 }")
    )
    (folder / "09.toml").write_text(
        CLAIM.format(id="d.future", lesson="09", bound="quick = { max = 0.1 }")
    )
    return folder


def shard_folder(root, claims, index, count, notebooks, *, status="done", profile="quick"):
    """A run folder as `run --shard index/count` leaves it: run.json, and per notebook (name,
    status, {claim: value}) a meta, results and one figure file."""
    run = root / f"quick-{index}"
    write_json(
        run / "run.json",
        {
            "profile": profile,
            "seed": 0,
            "device": "auto",
            "status": status,
            "started": f"t{index}",
            "ended": f"t{index}'" if status == "done" else None,
            "claims_dir": str(claims),
            "notebooks_dir": str(root / "no-notebooks"),
            "machine": {"python": "3.11", "cpu_count": index},
            "selected": [name for name, _, _ in notebooks],
            "jobs": 1,
            "shard": {"index": index, "count": count, "of": []},
        },
    )
    for name, nb_status, values in notebooks:
        error = (
            None
            if nb_status == "ok"
            else {
                "ename": "ValueError",
                "evalue": "boom\nmore",
                "cell": 4,
                "cell_excerpt": "raise",
                "executed": f"executed/{name}.ipynb",
            }
        )
        write_json(
            run / "meta" / f"{name}.json",
            {
                "notebook": name,
                "lesson": name[:2],
                "title": name,
                "status": nb_status,
                "profile": profile,
                "wall_s": 2.0,
                "error": error,
            },
        )
        figure = f"{name}_figures/plot.png"
        write_json(
            run / "results" / f"{name}.json",
            {
                "claims": {cid: {"value": v, "note": ""} for cid, v in values.items()},
                "figures": [{"path": figure, "caption": f"plot of {name}"}],
            },
        )
        (run / "results" / figure).parent.mkdir(parents=True, exist_ok=True)
        (run / "results" / figure).write_bytes(b"\x89PNG")
    return run


@pytest.fixture
def shards(tmp_path, claims):
    root = tmp_path / "runs"
    one = shard_folder(
        root,
        claims,
        1,
        3,
        [
            ("01_alpha", "ok", {"a.kept": 1.0, "a.free": float("nan")}),
            ("03_gamma", "ok", {"c.late": 1.5}),
        ],
    )
    two = shard_folder(root, claims, 2, 3, [("02_beta", "ok", {"b.missed": 7.0})])
    return one, two


def test_a_merged_report_takes_each_notebook_from_its_folder_and_links_its_figures(
    shards, tmp_path
):
    one, two = shards
    md_path, html_path = write_report([one, two], tmp_path / "site" / "merged")
    md, page = md_path.read_text(), html_path.read_text()
    data = build([one, two])
    assert [(nb["name"], nb["status"], nb["run_dir"]) for nb in data["notebooks"]] == [
        ("01_alpha", "ok", str(one)),
        ("02_beta", "ok", str(two)),
        ("03_gamma", "ok", str(one)),
    ]
    for folder, name in ((one, "01_alpha"), (two, "02_beta"), (one, "03_gamma")):
        link = f"../../runs/{folder.name}/results/{name}_figures/plot.png"
        assert f"![plot of {name}]({link})" in md and f'<img src="{link}"' in page
        assert (md_path.parent / link).resolve().is_file()
    assert "- **shards**: 1, 2 of 3 (missing 3)" in md and "- **runs (2 folders)**: " in md
    assert f"{one} (shard 1/3, t1 to t1')" in md and "3 ok" in md
    assert (
        "- **machine**: " + f"{one}: cpu_count 1, python 3.11; {two}: cpu_count 2, python 3.11"
        in md
    )
    assert "d.future" in md  # still awaiting a lesson


def test_a_notebook_in_two_folders_is_an_error_unless_the_runs_are_identical(
    shards, tmp_path, claims, capsys
):
    one, two = shards
    copy = shutil.copytree(
        one, tmp_path / "copy-of-1"
    )  # an artifact downloaded twice: the same run
    assert [nb["name"] for nb in build([one, two, copy])["notebooks"]] == [
        "01_alpha",
        "02_beta",
        "03_gamma",
    ]
    again = shard_folder(tmp_path / "rerun", claims, 2, 3, [("02_beta", "ok", {"b.missed": 1.0})])
    with pytest.raises(
        UserError, match=f"notebook 02_beta ran in two of the run folders, {two} and {again}"
    ):
        build([one, two, again])
    assert main(["report", str(one), str(two), str(again), "--out", str(tmp_path / "site")]) == 2
    assert "notebook 02_beta ran in two of the run folders" in capsys.readouterr().err
    assert build([one, one])["run_dirs"] == [str(one)]  # one folder named twice is one folder


def test_folders_of_different_profiles_or_claims_are_not_merged(shards, tmp_path, claims):
    one, _ = shards
    full = shard_folder(tmp_path / "full", claims, 2, 3, [("02_beta", "ok", {})], profile="full")
    with pytest.raises(UserError, match="different profiles"):
        build([one, full])
    other = tmp_path / "other-claims"
    shutil.copytree(claims, other)
    elsewhere = shard_folder(tmp_path / "elsewhere", other, 2, 3, [("02_beta", "ok", {})])
    with pytest.raises(
        UserError, match="different claims folders .*; give the one to judge them by with --claims"
    ):
        build([one, elsewhere])
    assert len(build([one, elsewhere], claims_dir=claims)["notebooks"]) == 3


def test_gate_fails_on_missed_bounds_and_failed_notebooks_only(shards, tmp_path, claims):
    one, two = shards
    assert gate(build([one])) == []  # a.free is NaN but has no bound; d.future has no lesson yet
    rows = {row["id"]: row for nb in build([one])["notebooks"] for row in nb["rows"]}
    assert rows["a.free"]["status"] == FAIL and not rows["a.free"]["has_bound"]
    assert gate(build([one, two])) == [
        "claim b.missed (02_beta): reproduced 7, bound ≤ 2 (quick): fail"
    ]
    assert (
        gate(build([one, two]), names=["01_alpha"]) == []
    )  # a run's --strict judges its own selection

    broken = shard_folder(
        tmp_path / "broken",
        claims,
        3,
        3,
        [("02_beta", "failed", {"b.missed": 1.0})],
        status="interrupted",
    )
    problems = gate(build([broken]))
    assert problems == [
        f"run folder {broken} did not finish (status interrupted); "
        "run the same command again to resume",
        f"notebook 02_beta: failed — ValueError: boom (cell 4 of the source notebook; traceback in "
        f"{broken / 'executed' / '02_beta.ipynb'})",
        f"claim b.missed (02_beta): reproduced 1, bound ≤ 2 (quick): {UNCONFIRMED}",
    ]


def test_a_selected_notebook_that_never_ran_fails_the_gate(tmp_path, claims):
    run = shard_folder(tmp_path, claims, 1, 1, [("01_alpha", "ok", {"a.kept": 1.0})])
    info = json.loads((run / "run.json").read_text())
    info["selected"].append("02_beta")
    (run / "run.json").write_text(json.dumps(info))
    assert gate(build([run])) == [
        "notebook 02_beta: not run (selected, but the run never got to it)"
    ]


def test_check_prints_one_line_per_problem_and_exits_1(shards, capsys):
    one, two = shards
    assert main(["check", str(one)]) == 0
    assert (
        capsys.readouterr().out
        == "claims gate passed: 2 notebook(s) ok, 2 claim(s) with a quick bound pass\n"
    )
    assert main(["check", str(one), str(two)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "claims gate failed (quick profile): 1 problem(s)",
        "  claim b.missed (02_beta): reproduced 7, bound ≤ 2 (quick): fail",
    ]
    assert main(["check", str(one / "meta")]) == 2
    assert "is not a run folder" in capsys.readouterr().err
