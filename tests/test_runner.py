"""Batch runs of tiny generated notebooks: outputs, failures, resume, timeouts, and the command
line.

Each executed notebook starts a kernel (a few seconds), so the tests use as few as they can.
"""

import json
import os
import sys
import types
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from experiments import UserError, runner
from experiments.__main__ import main
from experiments.runner import CellWatch, library_fingerprint, needs_run, parse_params, run_batch

PARAMETERS = 'profile = "quick"\nseed = 0\ndevice = "auto"\nresults_path = None'

RECORDING = """
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from course_lib import repro
repro.start(results_path, notebook="{name}", profile=profile, seed=seed)
repro.record("demo.x", repro.published("demo.x"))  # 1.0, from the run's --claims folder
repro.record("demo.profile", profile)
fig, ax = plt.subplots(figsize=(2, 2))
ax.plot([0, 1], [0, 1])
repro.save_figure(fig, "line", caption="A straight line")
"""

CLAIM = """
[[claim]]
id = "{id}"
lesson = "{lesson}"
title = "Demo claim {id}"
published = {published}
source = "Demo 2024"
checked = true
quick = {bound}
"""


def make_notebook(folder: Path, name: str, body: str, title: str = "") -> Path:
    nb = new_notebook(
        cells=[
            new_markdown_cell(f"# {title or name}\n\nA tiny test notebook."),
            new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}),
            new_code_cell(body),
        ]
    )
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def read(path: Path) -> dict:
    return json.loads(path.read_text())


def lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


@pytest.fixture
def claims(tmp_path) -> Path:
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
    (folder / "03.toml").write_text(
        CLAIM.format(id="demo.z", lesson="03", published=9.0, bound="{ min = 5.0 }")
    )
    (folder / "07.toml").write_text(
        'title = "Future lesson"\n'
        + CLAIM.format(id="demo.later", lesson="07", published=1.0, bound="{ max = 2.0 }")
    )
    return folder


def test_run_records_everything_and_keeps_going_after_a_failure(
    tmp_path, claims, capfd, monkeypatch
):
    monkeypatch.delenv("COURSE_CLAIMS", raising=False)
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    make_notebook(nbs, "01_good", RECORDING.format(name="01_good"), title="01 · Good lesson")
    make_notebook(nbs, "02_bad", "x = 1\nraise ValueError('boom in lesson two')")
    make_notebook(
        nbs,
        "03_after",
        "from course_lib import repro\n"
        "repro.start(results_path, notebook='03_after', profile=profile, seed=seed)\n"
        "repro.record('demo.z', 1.0)",
    )
    out = tmp_path / "run"
    rc = main(
        [
            "run",
            "--profile",
            "quick",
            "--notebooks",
            str(nbs),
            "--claims",
            str(claims),
            "--out",
            str(out),
            "--seed",
            "3",
        ]
    )
    assert (
        rc == 1
    )  # a notebook failed to execute (demo.z failing its bound alone would not do that)
    assert "COURSE_CLAIMS" not in os.environ  # set for the kernels only while the run lasted

    for name in ("01_good", "02_bad", "03_after"):
        assert (out / "executed" / f"{name}.ipynb").exists()
    good, bad, after = (read(out / "meta" / f"{n}.json") for n in ("01_good", "02_bad", "03_after"))
    assert (good["status"], bad["status"], after["status"]) == ("ok", "failed", "ok")
    assert good["profile"] == "quick" and good["seed"] == 3 and good["device"] == "auto"
    assert good["wall_s"] > 0 and good["started"] and good["ended"] and "python" in good["versions"]
    assert bad["error"]["ename"] == "ValueError" and "boom in lesson two" in bad["error"]["evalue"]
    assert "raise ValueError" in bad["error"]["cell_excerpt"]
    # the third cell of the source (markdown, parameters, code); papermill's injected cell is
    # not counted
    assert bad["error"]["cell"] == 3 and bad["error"]["executed"] == "executed/02_bad.ipynb"

    results = read(out / "results" / "01_good.json")
    assert (
        results["claims"]["demo.x"]["value"] == 1.0
        and results["claims"]["demo.profile"]["value"] == "quick"
    )
    assert results["seed"] == 3
    assert (out / "results" / results["figures"][0]["path"]).exists()
    executed = nbformat.read(out / "executed" / "01_good.ipynb", as_version=4)
    assert executed.metadata.papermill.parameters["results_path"] == str(
        (out / "results" / "01_good.json").resolve()
    )
    assert read(out / "run.json")["statuses"] == {
        "01_good": "ok",
        "02_bad": "failed",
        "03_after": "ok",
    }

    md = (out / "report.md").read_text()
    page = (out / "report.html").read_text()
    assert "## 01 Good lesson" in md and "boom in lesson two" in md and "notebook failed" in md
    assert "| demo.z: Demo claim demo.z | 9 | Demo 2024 | 1 | ≥ 5 | fail |" in md
    assert "2 pass, 1 fail" in md and "Future lesson" in md
    assert "**Failed in cell 3 of the source notebook:** ValueError: boom in lesson two" in md
    assert '<img src="results/01_good_figures/line.png"' in page
    shown = capfd.readouterr()  # file-descriptor level: what the kernels print shows up too
    assert "02_bad" in shown.out and "failed" in shown.out and "ValueError: boom" in shown.out
    assert "(cell 3 of the source notebook; traceback in executed/02_bad.ipynb)" in shown.out
    assert "1 notebook(s) failed: 02_bad" in shown.err
    assert "without encryption" not in shown.err and "Traceback" not in shown.err


def test_resume_redoes_only_unfinished_notebooks(tmp_path):
    nbs, out, claims = tmp_path / "nbs", tmp_path / "run", tmp_path / "claims"
    nbs.mkdir()
    claims.mkdir()
    make_notebook(nbs, "01_steady", "open('count_01.txt', 'a').write('ran\\n')")
    make_notebook(
        nbs,
        "02_flaky",
        "import os\nopen('count_02.txt', 'a').write('ran\\n')\n"
        "if os.path.exists('fail_once'):\n"
        "    os.remove('fail_once')\n"
        "    raise RuntimeError('first attempt fails')",
    )
    (nbs / "fail_once").touch()
    run = dict(notebooks_dir=nbs, out=out, claims_dir=claims)

    assert run_batch("quick", **run) == {"01_steady": "ok", "02_flaky": "failed"}
    assert (lines(nbs / "count_01.txt"), lines(nbs / "count_02.txt")) == (1, 1)
    started = read(out / "meta" / "01_steady.json")["started"]

    assert run_batch("quick", **run) == {"01_steady": "ok", "02_flaky": "ok"}
    assert (lines(nbs / "count_01.txt"), lines(nbs / "count_02.txt")) == (
        1,
        2,
    )  # 01 was not re-executed
    assert read(out / "meta" / "01_steady.json")["started"] == started

    meta = read(out / "meta" / "01_steady.json")  # as if the run had been killed during 01
    meta["status"] = "running"
    (out / "meta" / "01_steady.json").write_text(json.dumps(meta))
    assert run_batch("quick", report=False, **run) == {"01_steady": "ok", "02_flaky": "ok"}
    assert (lines(nbs / "count_01.txt"), lines(nbs / "count_02.txt")) == (2, 2)

    assert run_batch("quick", only=["2"], fresh=True, report=False, **run) == {"02_flaky": "ok"}
    assert (lines(nbs / "count_01.txt"), lines(nbs / "count_02.txt")) == (2, 3)


def test_a_library_change_reruns_finished_notebooks(tmp_path, monkeypatch, capsys):
    nbs, out, claims = tmp_path / "nbs", tmp_path / "run", tmp_path / "claims"
    nbs.mkdir()
    claims.mkdir()
    make_notebook(nbs, "01_steady", "open('count_01.txt', 'a').write('ran\\n')")
    run = dict(notebooks_dir=nbs, out=out, claims_dir=claims, report=False)
    assert run_batch("quick", seed=5, **run) == {"01_steady": "ok"}
    meta = read(out / "meta" / "01_steady.json")
    assert meta["library_sha256"] == library_fingerprint() and meta["seed"] == 5
    assert meta["git"] is None or set(meta["git"]) == {"commit", "dirty"}

    monkeypatch.setattr(
        runner, "library_fingerprint", lambda: "0" * 64
    )  # as if course_lib had been edited
    capsys.readouterr()
    assert run_batch("quick", seed=5, **run) == {"01_steady": "ok"}
    assert lines(nbs / "count_01.txt") == 2 and "(library changed)" in capsys.readouterr().out
    assert read(out / "meta" / "01_steady.json")["library_sha256"] == "0" * 64


def test_library_fingerprint_covers_every_python_file(tmp_path):
    (tmp_path / "nn").mkdir()
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "nn" / "b.py").write_text("y = 2\n")
    first = library_fingerprint(tmp_path)
    assert first == library_fingerprint(tmp_path) and len(first) == 64
    (tmp_path / "notes.txt").write_text("not code")
    assert library_fingerprint(tmp_path) == first
    (tmp_path / "nn" / "b.py").write_text("y = 3\n")
    assert library_fingerprint(tmp_path) != first
    (tmp_path / "nn" / "b.py").write_text("y = 2\n")
    (tmp_path / "nn" / "b.py").rename(tmp_path / "nn" / "c.py")
    assert library_fingerprint(tmp_path) != first  # a renamed file changes it too


def test_cell_timeout_is_a_recorded_failure(tmp_path):
    nbs, claims = tmp_path / "nbs", tmp_path / "claims"
    nbs.mkdir()
    claims.mkdir()
    make_notebook(nbs, "01_slow", "import time\ntime.sleep(60)")
    statuses = run_batch(
        "quick", notebooks_dir=nbs, out=tmp_path / "run", claims_dir=claims, timeout=2, report=False
    )
    assert statuses == {"01_slow": "failed"}
    error = read(tmp_path / "run" / "meta" / "01_slow.json")["error"]
    assert (
        "Timeout" in error["ename"]
        and "time.sleep(60)" in error["cell_excerpt"]
        and error["cell"] == 3
    )


def test_cell_watch_caps_cells_by_the_whole_notebook_limit():
    assert CellWatch(None, None)({"source": ""}) is None
    assert CellWatch(30, None)({"source": ""}) == 30
    assert CellWatch(30, 5)({"source": ""}) <= 5
    assert CellWatch(None, 1e-9)({"source": ""}) == 1  # never 0, which would mean "no limit"


def test_needs_run():
    settings = {"profile": "quick", "seed": 0, "device": "auto", "input_sha256": "abc"}
    assert needs_run(None, settings) == "new"
    assert needs_run({**settings, "status": "ok"}, settings) is None
    assert needs_run({**settings, "status": "running"}, settings) == "interrupted earlier"
    assert needs_run({**settings, "status": "interrupted"}, settings) == "interrupted earlier"
    assert needs_run({**settings, "status": "failed"}, settings) == "failed earlier"
    assert needs_run({**settings, "status": "ok", "profile": "full"}, settings) == "profile changed"
    assert (
        needs_run({**settings, "status": "ok", "input_sha256": "old"}, settings)
        == "notebook changed"
    )
    with_library = {**settings, "library_sha256": "lib"}
    assert (
        needs_run({**with_library, "status": "ok", "library_sha256": "old"}, with_library)
        == "library changed"
    )
    assert (
        needs_run({**settings, "status": "ok"}, with_library) == "library changed"
    )  # meta from before
    with_params = {**settings, "params": {"finetune": "adam"}}
    assert (
        needs_run({**settings, "status": "ok"}, {**settings, "params": {}}) is None
    )  # meta from before --param
    assert needs_run({**settings, "status": "ok", "params": {}}, with_params) == "params changed"


def test_parse_params():
    assert parse_params(
        ["finetune=adam", "n_train=6000", "x= 0.5 ", "flag=True", "n=None", "s='a b'"]
    ) == {"finetune": "adam", "n_train": 6000, "x": 0.5, "flag": True, "n": None, "s": "a b"}
    assert parse_params(None) == {}
    for bad, words in [
        ("finetune", "NAME=VALUE"),
        ("=3", "NAME=VALUE"),
        ("2x=1", "NAME=VALUE"),
        ("seed=3", "--seed"),
        ("results_path=x", "--results-path"),
    ]:
        with pytest.raises(UserError, match=words):
            parse_params([bad])


def test_params_reach_only_the_notebooks_that_declare_them(tmp_path, capsys):
    nbs, claims, out = tmp_path / "nbs", tmp_path / "claims", tmp_path / "run"
    nbs.mkdir()
    claims.mkdir()
    make_notebook(nbs, "01_plain", "open('plain.txt', 'w').write('ran')")
    path = make_notebook(
        nbs, "02_tuned", "open('tuned.txt', 'w').write(repr((finetune, n_epochs)))"
    )
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source += '\nfinetune = "cg"\nn_epochs = 1'
    nbformat.write(nb, path)

    rc = main(
        [
            "run",
            "--notebooks",
            str(nbs),
            "--claims",
            str(claims),
            "--out",
            str(out),
            "--param",
            "finetune=adam",
            "--param",
            "n_epochs=7",
        ]
    )
    assert rc == 0
    assert (nbs / "tuned.txt").read_text() == "('adam', 7)" and (nbs / "plain.txt").exists()
    assert read(out / "meta" / "02_tuned.json")["params"] == {"finetune": "adam", "n_epochs": 7}
    assert read(out / "meta" / "01_plain.json")["params"] == {}
    assert read(out / "run.json")["params"] == {"finetune": "adam", "n_epochs": 7}
    assert "parameters finetune='adam', n_epochs=7" in (out / "report.md").read_text()

    rc = main(
        [
            "run",
            "--notebooks",
            str(nbs),
            "--claims",
            str(claims),
            "--out",
            str(out),
            "--param",
            "finetune=cg",
            "--param",
            "n_epochs=7",
        ]
    )
    assert rc == 0 and (nbs / "tuned.txt").read_text() == "('cg', 7)"
    shown = capsys.readouterr().out
    assert "01_plain" in shown and "skipped" in shown and "params changed" in shown

    assert (
        main(
            [
                "run",
                "--notebooks",
                str(nbs),
                "--claims",
                str(claims),
                "--out",
                str(out),
                "--param",
                "lr=0.1",
            ]
        )
        == 2
    )
    assert "no selected notebook has a parameter named lr" in capsys.readouterr().err


def test_unknown_profile_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(UserError, match="unknown profile 'medium': choose one of quick, full"):
        run_batch("medium", notebooks_dir=tmp_path, out=tmp_path / "run")
    assert main(["run", "--profile", "medium", "--notebooks", str(tmp_path)]) == 2
    assert "unknown profile 'medium'" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_only_names_a_missing_lesson(tmp_path, claims):
    make_notebook(tmp_path, "01_good", "pass")
    with pytest.raises(UserError, match=r"no notebook for lesson '4' \(notebooks found: 01\)"):
        run_batch(
            "quick", notebooks_dir=tmp_path, out=tmp_path / "run", only=["4"], claims_dir=claims
        )


def test_list_shows_notebooks_claims_and_what_awaits_a_lesson(tmp_path, claims, capsys):
    make_notebook(tmp_path, "01_good", "pass", title="01 — Good lesson")
    assert main(["list", "--notebooks", str(tmp_path), "--claims", str(claims)]) == 0
    out = capsys.readouterr().out
    assert "01  good" in out and "Good lesson" in out and "demo.x: 1" in out and "quick ≤ 2" in out
    assert "awaiting a lesson" in out and "Future lesson" in out and "demo.later" in out


def test_a_reader_that_goes_away_gets_no_traceback():
    """`python -m experiments list | head -1`: the pipe closes early; the command stops quietly."""
    import subprocess

    run = subprocess.run(
        f"{sys.executable} -m experiments list | head -1",
        shell=True,
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.stdout.endswith("notebook(s):\n") and run.stderr == ""


def test_bench_calls_the_module_main(monkeypatch, capsys):
    calls = []
    module = types.ModuleType("experiments.bench_demo")
    module.main = lambda argv: calls.append(argv) or 0
    monkeypatch.setitem(sys.modules, "experiments.bench_demo", module)
    assert main(["bench", "demo", "--size", "3", "-v"]) == 0
    assert calls == [["--size", "3", "-v"]]
    module.main = lambda argv: {"timings": [1.0]}  # a benchmark may return its results
    assert main(["bench", "demo"]) == 0
    assert main(["bench", "no_such_thing"]) == 2
    assert "no benchmark 'no_such_thing'" in capsys.readouterr().err


def test_data_paths_are_made_absolute_for_kernels_that_run_in_the_notebook_folder(
    tmp_path, monkeypatch
):
    from experiments.runner import absolute_data_paths

    monkeypatch.chdir(tmp_path)
    env = {"COURSE_DATA": "../shared/data", "COURSE_CACHE": "", "OTHER": "x"}
    absolute_data_paths(env)
    assert env == {
        "COURSE_DATA": str(tmp_path.parent / "shared" / "data"),
        "COURSE_CACHE": "",
        "OTHER": "x",
    }
