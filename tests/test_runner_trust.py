"""The runner trusts no file it wrote earlier: a damaged or missing results, meta or run record
is run again by resume and fails `check`, naming the file; time limits and profile overrides are
checked before anything runs; each notebook's line reaches a log as soon as it ends."""

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from interrupts import ctrl_c_default
from test_runner import CLAIM, RECORDING, make_notebook

from course_lib import repro
from experiments import UserError
from experiments.report import build, gate
from experiments.runner import run_batch

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def claims(tmp_path) -> Path:
    """A claims folder with lesson 01's two demo claims (RECORDING records both)."""
    folder = tmp_path / "claims"
    folder.mkdir()
    (folder / "01.toml").write_text(
        CLAIM.format(id="demo.x", lesson="01", published=1.0, bound="{ max = 2.0 }")
        + CLAIM.format(
            id="demo.profile", lesson="01", published='"quick"', bound='{ equals = "quick" }'
        )
    )
    return folder


@pytest.fixture
def finished(tmp_path, claims):
    """A run folder where lesson 01 (which records its claims) ran and passed."""
    nbs, out = tmp_path / "nbs", tmp_path / "run"
    nbs.mkdir()
    body = RECORDING.format(name="01_demo") + "\nopen('count.txt', 'a').write('ran\\n')"
    make_notebook(nbs, "01_demo", body)
    run = dict(notebooks_dir=nbs, out=out, claims_dir=claims, report=False)
    assert run_batch("quick", **run) == {"01_demo": "ok"}
    assert gate(build(out, claims_dir=claims)) == []
    return nbs, out, run, claims


def runs(nbs: Path) -> int:
    return len((nbs / "count.txt").read_text().splitlines())


@pytest.mark.parametrize("damage", ["delete", "garble", "empty record", "edit"])
def test_damaged_results_fail_check_and_resume_runs_the_notebook_again(finished, damage):
    nbs, out, run, claims_dir = finished
    results = out / "results" / "01_demo.json"
    if damage == "delete":
        results.unlink()
    elif damage == "garble":
        results.write_text('{"claims": {"demo.x": ')
    elif damage == "empty record":
        results.write_text("[]")
    else:  # valid JSON, but not what the run wrote
        data = json.loads(results.read_text())
        data["claims"]["demo.x"]["value"] = 0.5
        results.write_text(json.dumps(data))
    problems = gate(build(out, claims_dir=claims_dir))
    assert len(problems) == 1 and "01_demo: damaged" in problems[0]
    assert "01_demo.json" in problems[0] and "run the same `run` command again" in problems[0]
    assert run_batch("quick", **run) == {"01_demo": "ok"} and runs(nbs) == 2
    assert gate(build(out, claims_dir=claims_dir)) == []


def test_a_damaged_meta_fails_check_naming_it_and_is_run_again(finished):
    nbs, out, run, claims_dir = finished
    (out / "meta" / "01_demo.json").write_text("{not json")
    problems = gate(build(out, claims_dir=claims_dir))
    assert len(problems) == 1 and "meta" in problems[0] and "damaged" in problems[0]
    assert run_batch("quick", **run) == {"01_demo": "ok"} and runs(nbs) == 2


def test_a_damaged_run_record_is_named_as_damaged(finished):
    _, out, _, claims_dir = finished
    (out / "run.json").write_text('{"profile": ')
    with pytest.raises(UserError, match="run.json is damaged"):
        build(out, claims_dir=claims_dir)
    (out / "run.json").unlink()
    with pytest.raises(UserError, match="not a run folder"):
        build(out, claims_dir=claims_dir)


def test_time_limits_are_checked_and_infinity_means_none(tmp_path, claims):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    make_notebook(nbs, "01_quick", "x = 1")
    run = dict(notebooks_dir=nbs, out=tmp_path / "run", claims_dir=claims, report=False)
    for bad in (-1, math.nan, "10", True):
        with pytest.raises(UserError, match="timeout"):
            run_batch("quick", timeout=bad, **run)
    assert not (tmp_path / "run").exists()  # refused before the run folder was made
    assert run_batch("quick", timeout=math.inf, notebook_timeout=math.inf, **run) == {
        "01_quick": "ok"
    }


def test_profile_overrides_must_be_finite_and_positive_where_the_profiles_are():
    settings = dict(quick=dict(n=10, lr=0.1, offset=0), full=dict(n=100, lr=0.01, offset=-3))
    assert repro.profile("quick", **settings, n=5, lr=1e-3, offset=-7).offset == -7
    for bad in [{"n": -5}, {"n": 0}, {"lr": -0.1}, {"lr": math.nan}, {"lr": math.inf}]:
        with pytest.raises(ValueError, match="parameter"):
            repro.profile("quick", **settings, **bad)


def test_each_notebook_line_reaches_a_pipe_as_it_ends(tmp_path, claims):
    nbs, out = tmp_path / "nbs", tmp_path / "run"
    nbs.mkdir()
    make_notebook(nbs, "01_first", "x = 1")
    make_notebook(
        nbs, "02_waits", "import os, time\nwhile not os.path.exists('go'):\n    time.sleep(0.2)"
    )
    argv = [
        "-m",
        "experiments",
        "run",
        "--notebooks",
        str(nbs),
        "--claims",
        str(claims),
        "--out",
        str(out),
    ]
    run = subprocess.Popen(
        [sys.executable, *argv],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        line = ""
        while "01_first" not in line:  # arrives while 02 still waits: not held back to the end
            assert time.monotonic() < deadline and run.poll() is None
            line = run.stdout.readline()
        assert "ok" in line and not (nbs / "go").exists()
        (nbs / "go").touch()
        assert run.wait(timeout=120) == 0
    finally:
        run.kill()
        run.stdout.close()


def test_ctrl_c_held_down_still_ends_cleanly(tmp_path):
    """More Ctrl-C come while the first is being handled: no traceback, every meta marked
    interrupted, exit 130, and no kernel socket file left in the temp folder."""
    nbs, claims_dir, out = (tmp_path / n for n in ("nbs", "claims2", "run"))
    for folder in (nbs, claims_dir):
        folder.mkdir()
    tmp = Path(tempfile.mkdtemp(prefix="ck", dir="/tmp"))  # short: kernel sockets live here
    for name in ("01_sleepy", "02_dozy"):
        make_notebook(nbs, name, f"import time\nopen('{name}.up', 'w')\ntime.sleep(120)")
    argv = [
        "-m",
        "experiments",
        "run",
        "--notebooks",
        str(nbs),
        "--claims",
        str(claims_dir),
        "--out",
        str(out),
        "--jobs",
        "2",
    ]
    env = dict(os.environ, TMPDIR=str(tmp))
    run = subprocess.Popen(
        [sys.executable, *argv],
        cwd=REPO,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=ctrl_c_default,
    )
    try:
        deadline = time.monotonic() + 120
        while not all((nbs / f"{n}.up").exists() for n in ("01_sleepy", "02_dozy")):
            assert time.monotonic() < deadline, "the notebooks never started"
            time.sleep(0.2)
        for _ in range(100):  # Ctrl-C held down: one every 20 ms until the run has exited
            if run.poll() is not None:
                break
            run.send_signal(2)
            time.sleep(0.02)
        _, stderr = run.communicate(timeout=90)
    finally:
        run.kill()
    assert run.returncode == 130, stderr
    assert "Traceback" not in stderr, stderr
    for name in ("01_sleepy", "02_dozy"):
        assert json.loads((out / "meta" / f"{name}.json").read_text())["status"] == "interrupted"
    assert json.loads((out / "run.json").read_text())["status"] == "interrupted"
    left = sorted(p.name for p in tmp.glob("course-kernel-*"))
    shutil.rmtree(tmp)
    assert left == []
