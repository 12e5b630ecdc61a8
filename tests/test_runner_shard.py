"""`run --shard I/N`: disjoint slices of the selection, each into its own folder, merged by
`report`/`check`."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_runner import CLAIM, RECORDING, make_notebook, read  # noqa: E402

from experiments import UserError  # noqa: E402
from experiments.__main__ import main  # noqa: E402
from experiments.catalog import Notebook  # noqa: E402
from experiments.runner import default_out, parse_shard, shard_of  # noqa: E402


@pytest.fixture
def claims(tmp_path) -> Path:
    """demo.x and demo.profile, which RECORDING records, for lesson 01, and demo.y for lesson 02."""
    folder = tmp_path / "claims"
    folder.mkdir()
    (folder / "01.toml").write_text(
        CLAIM.format(id="demo.x", lesson="01", published=1.0, bound="{ max = 2.0 }")
        + CLAIM.format(
            id="demo.profile", lesson="01", published='"quick"', bound='{ equals = "quick" }'
        )
    )
    (folder / "02.toml").write_text(
        CLAIM.format(id="demo.y", lesson="02", published=1.0, bound="{ max = 2.0 }")
    )
    return folder


def fake(n: int) -> list[Notebook]:
    return [Notebook(Path(f"/nbs/{k:02d}_x.ipynb"), f"{k:02d}", "x", "x") for k in range(n)]


def test_parse_shard():
    assert (
        parse_shard("2/4") == (2, 4)
        and parse_shard(" 1 / 1 ") == (1, 1)
        and parse_shard(None) is None
    )
    for bad in ["0/2", "3/2", "1/0", "0/0", "x", "", "1/2/3", "-1/2", "1.5/2", "2"]:
        with pytest.raises(UserError, match="write I/N with 1 <= I <= N"):
            parse_shard(bad)


def test_shards_are_disjoint_slices_in_lesson_order():
    notebooks = fake(5)
    assert [nb.lesson for nb in shard_of(notebooks, (1, 2))] == ["00", "02", "04"]
    assert [nb.lesson for nb in shard_of(notebooks, (2, 2))] == ["01", "03"]
    assert shard_of(notebooks, None) == notebooks and shard_of(notebooks, (1, 1)) == notebooks
    for count in range(1, 8):
        slices = [shard_of(notebooks, (i, count)) for i in range(1, count + 1)]
        assert sorted(nb.lesson for part in slices for nb in part) == [
            nb.lesson for nb in notebooks
        ]
    assert shard_of(notebooks, (7, 7)) == []
    assert default_out("full", (2, 4)).name == "full-2of4" and default_out("quick").name == "quick"


@pytest.mark.parametrize("shard", ["0/2", "3/2", "1/0", "x"])
def test_an_invalid_shard_stops_the_run_before_anything_runs(tmp_path, capsys, shard):
    make_notebook(tmp_path, "01_mark", "open('ran.txt', 'w').write('ran')")
    assert (
        main(
            ["run", "--notebooks", str(tmp_path), "--shard", shard, "--out", str(tmp_path / "run")]
        )
        == 2
    )
    assert f"error: --shard {shard!r}: write I/N" in capsys.readouterr().err
    assert not (tmp_path / "run").exists() and not (tmp_path / "ran.txt").exists()


def test_two_shards_run_apart_and_merge_into_one_report(tmp_path, claims, capsys):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    make_notebook(nbs, "01_good", RECORDING.format(name="01_good"), title="01 · Good lesson")
    make_notebook(
        nbs,
        "02_other",
        RECORDING.format(name="02_other")
        .replace('"demo.x"', '"demo.y"', 1)
        .replace('repro.published("demo.x")', "1.0"),
    )
    runs = tmp_path / "runs"
    for i in (1, 2):
        assert (
            main(
                [
                    "run",
                    "--notebooks",
                    str(nbs),
                    "--claims",
                    str(claims),
                    "--shard",
                    f"{i}/2",
                    "--out",
                    str(runs / f"quick-{i}"),
                ]
            )
            == 0
        )
    assert [p.stem for p in (runs / "quick-1" / "meta").glob("*.json")] == ["01_good"]
    assert [p.stem for p in (runs / "quick-2" / "meta").glob("*.json")] == ["02_other"]
    shard = read(runs / "quick-2" / "run.json")["shard"]
    assert shard == {"index": 2, "count": 2, "of": ["01_good", "02_other"]}
    assert read(runs / "quick-2" / "run.json")["selected"] == ["02_other"]

    assert (
        main(
            [
                "run",
                "--notebooks",
                str(nbs),
                "--claims",
                str(claims),
                "--shard",
                "3/3",
                "--out",
                str(runs / "empty"),
            ]
        )
        == 0
    )  # a slice with no notebook is not an error
    assert "shard 3/3 holds none of the 2 selected notebook(s)" in capsys.readouterr().out

    merged = tmp_path / "site" / "quick"
    assert main(["report", str(runs / "quick-1"), str(runs / "quick-2"), "--out", str(merged)]) == 0
    md = (merged / "report.md").read_text()
    assert "## 01 Good lesson" in md and "## 02 " in md and "- **notebooks**: 2 ok\n" in md
    assert "- **shards**: 1, 2 of 2 (all)" in md and "- **runs (2 folders)**: " in md
    for name in ("01_good", "02_other"):
        link = f"../../runs/quick-{name[1]}/results/{name}_figures/line.png"
        assert f"({link})" in md and (merged / link).resolve().is_file()
    assert main(["check", str(runs / "quick-1"), str(runs / "quick-2")]) == 0
    assert "claims gate passed: 2 notebook(s) ok" in capsys.readouterr().out

    assert main(["report", str(runs / "quick-1"), str(runs / "quick-2")]) == 2
    assert "a report of 2 run folders needs --out DIR" in capsys.readouterr().err
