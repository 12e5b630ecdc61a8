"""Ctrl-C during a batch run: the kernel stops, the notebook is marked interrupted, one line, exit
130."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from interrupts import ctrl_c_default
from test_runner import make_notebook

from experiments.browser_run import START_LIMIT_S

REPO = Path(__file__).resolve().parents[1]


def wait_for(condition, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the notebook never started its long cell"
        time.sleep(0.2)


def start_run(*args: str) -> subprocess.Popen:
    """``python -m experiments run ARGS`` in a process that Ctrl-C (SIGINT) interrupts."""
    return subprocess.Popen(
        [sys.executable, "-m", "experiments", "run", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ctrl_c_default,
        start_new_session=True,  # its own process group: stop_run can end JupyterLab with it
    )


def stop_run(run: subprocess.Popen) -> None:
    """End what a failed test left running: Ctrl-C first (the runner closes its kernels,
    JupyterLab and browser), then SIGKILL to the runner's whole process group."""
    if run.poll() is None:
        run.send_signal(signal.SIGINT)
        try:
            run.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(run.pid, signal.SIGKILL)
    except ProcessLookupError:  # nothing of it is left
        pass
    run.wait()


def meta_status(path: Path) -> str | None:
    try:
        return json.loads(path.read_text())["status"]
    except (OSError, ValueError, KeyError):
        return None


def test_ctrl_c_stops_the_kernel_quietly_and_marks_the_notebook_interrupted(tmp_path):
    nbs, claims, out = tmp_path / "nbs", tmp_path / "claims", tmp_path / "run"
    nbs.mkdir()
    claims.mkdir()
    marker = nbs / "started.txt"
    make_notebook(
        nbs, "01_sleepy", "import time\nopen('started.txt', 'w').write('yes')\ntime.sleep(120)"
    )
    meta = out / "meta" / "01_sleepy.json"
    run = start_run("--notebooks", str(nbs), "--claims", str(claims), "--out", str(out))
    try:
        wait_for(lambda: meta_status(meta) == "running" and marker.exists())
        run.send_signal(signal.SIGINT)
        stdout, stderr = run.communicate(timeout=60)
    finally:
        stop_run(run)
    assert run.returncode == 130, stderr
    assert "interrupted; run the same command again to resume" in stderr
    assert "Traceback" not in stderr and "without encryption" not in stderr, stderr
    info = json.loads(meta.read_text())
    assert info["status"] == "interrupted" and info["error"]["ename"] == "KeyboardInterrupt"
    assert info["error"]["cell"] == 3 and info["ended"]
    assert json.loads((out / "run.json").read_text())["status"] == "interrupted"
    assert json.loads((out / ".lock").read_text())["pid"] == run.pid


def alive(pid: int) -> bool:
    """True while process ``pid`` runs (a zombie waiting to be reaped does not count)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def test_ctrl_c_with_two_jobs_stops_every_kernel_and_marks_both_interrupted(tmp_path):
    nbs, claims, out = tmp_path / "nbs", tmp_path / "claims", tmp_path / "run"
    nbs.mkdir()
    claims.mkdir()
    for name in ("01_sleepy", "02_dozy"):
        make_notebook(
            nbs,
            name,
            f"import os, time\nopen('{name}.pid', 'w').write(str(os.getpid()))\ntime.sleep(120)",
        )
    metas = [out / "meta" / f"{name}.json" for name in ("01_sleepy", "02_dozy")]
    pids = [nbs / f"{name}.pid" for name in ("01_sleepy", "02_dozy")]
    run = start_run(
        "--notebooks", str(nbs), "--claims", str(claims), "--out", str(out), "--jobs", "2"
    )
    try:
        wait_for(
            lambda: (
                all(meta_status(m) == "running" for m in metas) and all(p.exists() for p in pids)
            )
        )
        kernels = [int(p.read_text()) for p in pids]
        run.send_signal(signal.SIGINT)
        stdout, stderr = run.communicate(timeout=60)
    finally:
        stop_run(run)
    assert run.returncode == 130, stderr
    assert "interrupted; run the same command again to resume" in stderr
    assert "Traceback" not in stderr and "Task was destroyed" not in stderr, stderr
    for meta in metas:
        info = json.loads(meta.read_text())
        assert info["status"] == "interrupted" and info["error"]["ename"] == "KeyboardInterrupt"
        assert info["error"]["cell"] == 3 and info["ended"] and info["jobs"] == 2
    assert json.loads((out / "run.json").read_text())["status"] == "interrupted"
    assert "wall time per notebook" in stdout and stdout.count("interrupted") >= 2
    wait_for(lambda: not any(alive(pid) for pid in kernels), seconds=10)


def test_ctrl_c_in_the_browser_closes_the_lesson_and_marks_it_interrupted(tmp_path):
    from experiments.browser import chromium_missing

    if chromium_missing():
        pytest.skip(chromium_missing())
    nbs, claims, out = tmp_path / "nbs", tmp_path / "claims", tmp_path / "run"
    nbs.mkdir()
    claims.mkdir()
    marker = tmp_path / "started.txt"  # the kernel runs in JupyterLab's folder: an absolute path
    body = f"import time\nopen({str(marker)!r}, 'w').write('yes')\ntime.sleep(120)"
    make_notebook(nbs, "01_sleepy", body)
    meta = out / "meta" / "01_sleepy.json"
    run = start_run(
        "--notebooks", str(nbs), "--claims", str(claims), "--out", str(out), "--in-browser"
    )
    try:
        # a first browser start in a fresh HOME took over 90 s beside pytest -n 2: allow the
        # workers' start limit, and stop waiting if the run ended
        wait_for(
            lambda: run.poll() is not None or (meta_status(meta) == "running" and marker.exists()),
            seconds=START_LIMIT_S + 60,
        )
        assert run.poll() is None, run.communicate()[1]
        pressed = time.monotonic()
        run.send_signal(signal.SIGINT)
        stdout, stderr = run.communicate(timeout=60)
    finally:
        stop_run(run)
    assert run.returncode == 130, stderr
    assert time.monotonic() - pressed < 30  # not the 120 s the cell would have slept
    assert "interrupted; run the same command again to resume" in stderr
    assert "Traceback" not in stderr, stderr
    info = json.loads(meta.read_text())
    assert info["status"] == "interrupted" and info["error"]["ename"] == "KeyboardInterrupt"
    assert info["executor"] == "browser" and info["ended"]
    assert json.loads((out / "run.json").read_text())["status"] == "interrupted"
