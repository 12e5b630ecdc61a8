"""Options the runner must reject before any notebook runs, and the lock on a run folder."""

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from experiments import UserError
from experiments.__main__ import main
from experiments.runner import parse_params, run_folder

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
from test_runner import make_notebook  # noqa: E402


@pytest.fixture
def lesson(tmp_path) -> dict:
    """One notebook that leaves a mark when it runs, and an empty claims folder."""
    nbs, claims = tmp_path / "nbs", tmp_path / "claims"
    nbs.mkdir()
    claims.mkdir()
    make_notebook(nbs, "01_mark", "open('ran.txt', 'w').write('ran')")
    return {"notebooks_dir": nbs, "claims_dir": claims}


def cli(lesson, *args) -> list[str]:
    return [
        "run",
        "--notebooks",
        str(lesson["notebooks_dir"]),
        "--claims",
        str(lesson["claims_dir"]),
        *args,
    ]


@pytest.mark.parametrize("option", ["--timeout", "--notebook-timeout"])
@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "-1", "soon"])
def test_time_limits_must_be_finite_seconds(lesson, capsys, option, value):
    with pytest.raises(SystemExit) as info:
        main(cli(lesson, f"{option}={value}", "--out", str(lesson["claims_dir"].parent / "run")))
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert (
        f"argument {option}: {value!r} is not a time limit" in err
        and "finite number of seconds" in err
    )
    assert not (lesson["notebooks_dir"] / "ran.txt").exists()


def test_in_browser_without_chromium_is_refused_or_with_if_chromium_runs_papermill(
    lesson, tmp_path, capsys, monkeypatch
):
    from experiments import browser

    monkeypatch.setattr(browser, "chromium_missing", lambda: "no chromium on this test machine")
    out = str(tmp_path / "run")
    assert main(cli(lesson, "--in-browser", "--out", out)) == 2
    assert "--in-browser: no chromium on this test machine" in capsys.readouterr().err
    monkeypatch.setattr(browser, "chromium_missing", lambda: "")
    assert main(cli(lesson, "--in-browser", "--timeout", "5", "--out", out)) == 2
    assert "give --notebook-timeout instead" in capsys.readouterr().err
    monkeypatch.setattr(browser, "chromium_missing", lambda: "no chromium on this test machine")
    assert not (lesson["notebooks_dir"] / "ran.txt").exists()  # refused before anything ran
    assert main(cli(lesson, "--in-browser", "--if-chromium", "--out", out, "--fresh")) == 0
    said = capsys.readouterr().out
    assert "lessons run with papermill, not in the browser: no chromium on this test" in said
    assert (lesson["notebooks_dir"] / "ran.txt").exists()
    assert json.loads((tmp_path / "run" / "meta" / "01_mark.json").read_text())["executor"] == (
        "papermill"
    )


def test_out_that_is_a_file_or_below_a_file(lesson, tmp_path, capsys):
    afile = tmp_path / "taken.txt"
    afile.write_text("not a folder")
    assert main(cli(lesson, "--out", str(afile))) == 2
    assert f"error: --out {afile} is a file" in capsys.readouterr().err
    assert main(cli(lesson, "--out", str(afile / "run"))) == 2
    err = capsys.readouterr().err
    assert (
        f"error: --out {afile / 'run'}: cannot create or write the run folder (Not a directory)"
        in err
    )
    assert "Traceback" not in err and not (lesson["notebooks_dir"] / "ran.txt").exists()


def read_only_folder(tmp_path) -> Path:
    """A folder this process cannot create anything in (root can write anywhere but sysfs)."""
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        return locked
    if not os.access("/sys", os.F_OK):
        pytest.skip("running as root without /sys: no folder is read-only")
    return Path("/sys")


def test_out_under_a_read_only_folder(lesson, tmp_path, capsys):
    out = read_only_folder(tmp_path) / "course_run"
    assert main(cli(lesson, "--out", str(out))) == 2
    err = capsys.readouterr().err
    assert (
        f"error: --out {out}: cannot create or write the run folder" in err
        and "Traceback" not in err
    )
    assert not (lesson["notebooks_dir"] / "ran.txt").exists()


def test_malformed_literal_params_are_refused():
    for bad in ["max_epochs=[1,2", "n=3abc", "x=-1e", "s='unclosed", "t=(1,", "d={[1]: 2}"]:
        name, _, text = bad.partition("=")
        with pytest.raises(UserError, match="is not a valid Python value") as info:
            parse_params([bad])
        assert repr(text) in str(info.value) and f"--param \"{name}='{text}'\"" in str(info.value)
    assert parse_params(
        ["finetune=adam", "mode=fast-ish", "x=-2", "y=+3.5", "z=[1, 2]", "w='[1,2'"]
    ) == {"finetune": "adam", "mode": "fast-ish", "x": -2, "y": 3.5, "z": [1, 2], "w": "[1,2"}


def test_a_second_run_into_a_locked_folder_is_refused(lesson, tmp_path, capsys):
    out = tmp_path / "run"
    with run_folder(out):  # holds the lock on its own open file, as another run would
        info = json.loads((out / ".lock").read_text())
        assert info["pid"] == os.getpid() and info["host"] == platform.node() and info["since"]
        assert main(cli(lesson, "--out", str(out))) == 2
        err = capsys.readouterr().err
        assert (
            f"run folder {out} is in use by process {os.getpid()} on {platform.node()} since" in err
        )
        assert (
            not (lesson["notebooks_dir"] / "ran.txt").exists() and not (out / "run.json").exists()
        )
    with run_folder(out):  # released when the holder is done
        pass


def test_the_lock_is_held_across_processes_and_dies_with_its_holder(tmp_path):
    out = tmp_path / "run"
    code = (
        "import sys, time; from pathlib import Path; from experiments.runner import run_folder\n"
        "with run_folder(Path(sys.argv[1])):\n    print('locked', flush=True); time.sleep(60)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(UserError, match=f"in use by process {holder.pid} on"):
            with run_folder(out):
                pass
    finally:
        holder.kill()  # a crash: the kernel releases the flock with the process
        holder.wait()
    with run_folder(out):
        pass


def test_kernels_draw_inline_whatever_the_runner_was_told(tmp_path, monkeypatch):
    """CI sets MPLBACKEND=Agg for its tests; a lesson's kernel must not inherit it, or the
    executed notebooks (and the website made from them) would hold no figures."""
    from test_runner import make_notebook  # tests/ is on sys.path (rootdir-less test modules)

    from experiments.runner import kernel_environment, run_batch

    env = kernel_environment({"MPLBACKEND": "Agg", "PATH": "/bin"}, {"OMP_NUM_THREADS": "1"})
    assert env == {"PATH": "/bin", "OMP_NUM_THREADS": "1"}
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nbs, claims = tmp_path / "nbs", tmp_path / "claims"
    nbs.mkdir()
    claims.mkdir()
    make_notebook(nbs, "01_plot", "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()")
    assert run_batch("quick", notebooks_dir=nbs, out=tmp_path / "run", claims_dir=claims) == {
        "01_plot": "ok"
    }
    executed = json.loads((tmp_path / "run" / "executed" / "01_plot.ipynb").read_text())
    outputs = [o for c in executed["cells"] for o in c.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outputs)
