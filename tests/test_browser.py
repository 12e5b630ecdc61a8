"""Runs in the browser (``run --in-browser``) and their checks: a notebook with each defect a
learner met (an error, a warning box, a figure too wide for the page, a long silent cell) fails
with a message naming it, a clean one passes, and the run folder holds what papermill would have
written.  Needs Debian's chromium and playwright; skipped with the reason otherwise."""

import json
from pathlib import Path

import nbformat
import pytest

from experiments import browser, lab_server

SETUP = "import matplotlib.pyplot as plt\nimport numpy as np"
CHATTY = (
    "import sys, time\nfrom tqdm import tqdm\n"
    "for _ in tqdm(range(40), file=sys.stdout, mininterval=0.5):\n    time.sleep(0.3)"
)


def _notebook(path, *cells, setup=SETUP):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_markdown_cell("# A test page")]
    nb.cells += [nbformat.v4.new_code_cell(c) for c in ([setup] if setup else []) + list(cells)]
    nbformat.write(nb, path)
    return path


def test_server_log_lines_that_count_as_problems():
    problem = lab_server.SERVER_PROBLEM.search
    assert problem("[E 2026-11-29 10:01:43.485 ServerApp] Uncaught exception GET /api/kernels")
    assert problem("[W 2026-11-29 10:01:40.651 LabApp] Failed validating settings")
    assert problem("Kernel is running over TCP without encryption.")
    assert not problem("[W 2026-11-29 10:07:07.058 ServerApp] Notebook 01_x.ipynb is not trusted")
    assert not problem("[I 2026-11-29 10:01:43.952 ServerApp] Connecting to kernel cb63.")


RACE = """[I 2026-11-29 16:29:05.697 ServerApp] Kernel shutdown: 499a6016
Task exception was never retrieved
future: <Task finished coro=<WebSocketProtocol13.write_message.<locals>.wrapper() \
done, defined at tornado/websocket.py:1138> exception=WebSocketClosedError()>
Traceback (most recent call last):
  File "tornado/websocket.py", line 1140, in wrapper
    await fut
tornado.iostream.StreamClosedError: Stream is closed

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "tornado/websocket.py", line 1142, in wrapper
    raise WebSocketClosedError()
tornado.websocket.WebSocketClosedError
[I 2026-11-29 16:29:06.000 LabApp] Build is up to date"""


def test_server_log_tracebacks_report_their_exception_and_the_socket_race_is_a_note():
    problems, notes = lab_server.server_problems(RACE.splitlines())
    assert problems == [] and notes == [
        "server: traceback ending 'tornado.websocket.WebSocketClosedError'"
    ]
    other = [
        "[I 2026-11-29 10:00:00.000 ServerApp] ok",
        "Traceback (most recent call last):",
        '  File "x.py", line 1, in f',
        "ZeroDivisionError: division by zero",
        "[W 2026-11-29 10:00:01.000 ServerApp] 404 GET /missing",
    ]
    problems, notes = lab_server.server_problems(other + RACE.splitlines())
    assert notes == ["server: traceback ending 'tornado.websocket.WebSocketClosedError'"]
    assert problems == [
        "server: traceback ending 'ZeroDivisionError: division by zero'",
        f"server: {other[-1]}",
    ]


def test_silences_are_the_gaps_between_a_cells_start_changes_and_end():
    events = [  # Run All queues both cells at t=0; cell 0 ends at 2, cell 1 runs 2..14
        [0, "prompt", 0.0, "[*]:"],
        [1, "prompt", 0.0, "[*]:"],
        [1, "output", 0.0, ""],
        [0, "output", 1.0, ""],
        [0, "prompt", 2.0, "[1]:"],
        [1, "output", 3.0, ""],
        [1, "output", 4.0, ""],
        [1, "prompt", 14.0, "[2]:"],
    ]
    assert browser.silences(events) == [
        dict(cell=1, seconds=2.0, silent_s=1.0),
        dict(cell=2, seconds=12.0, silent_s=10.0),  # 4 -> 14: the clearing at 0 does not count
    ]


PARAMETERS = 'profile = "quick"\nseed = 0\ndevice = "auto"\nresults_path = None'
RECORDS = (
    "from course_lib import repro\n"
    "repro.start(results_path, notebook='01_records', profile=profile, seed=seed)\n"
    "repro.record('demo.seed', seed)\nplt.plot([1, 2]); plt.show()\nprint('fine')"
)


def _lesson(folder: Path, name: str, body: str, setup: str = SETUP) -> Path:
    """A lesson notebook with a parameters cell, as the runner executes it."""
    path = _notebook(folder / f"{name}.ipynb", PARAMETERS, body, setup=setup)
    nb = nbformat.read(path, as_version=4)
    nb.cells[2 if setup else 1].metadata["tags"] = ["parameters"]
    nbformat.write(nb, path)
    return path


@pytest.mark.skipif(bool(browser.chromium_missing()), reason=browser.chromium_missing() or "ok")
def test_a_run_in_the_browser_records_like_papermill_and_fails_on_what_a_learner_sees(
    tmp_path, capsys
):
    """One run, one server and one browser for every page (starting them is most of a short run):
    the injected parameters reach the kernel, the executed notebook, results, meta and a
    screenshot land in the run folder, each defect fails its lesson naming it, and papermill's
    earlier run of a lesson does not count as a run in the browser."""
    from experiments.runner import run_batch

    nbs = tmp_path / "nbs"
    nbs.mkdir()
    _lesson(nbs, "01_records", RECORDS)
    _lesson(nbs, "02_warns", "import warnings; warnings.warn('careful')")
    _lesson(nbs, "03_fails", "x = 1\n1 / 0")
    _lesson(nbs, "04_wide", "plt.figure(figsize=(18, 3)); plt.plot([1]); plt.show()")
    # no imports beyond the standard library and tqdm: a loaded machine adds little
    _lesson(nbs, "05_silent", "import time; time.sleep(14); print(1)", setup="")
    _lesson(nbs, "06_chatty", CHATTY, setup="")
    out = tmp_path / "run"
    assert run_batch(notebooks_dir=nbs, out=out, only=["01"], seed=4, report=False) == {
        "01_records": "ok"
    }
    statuses = run_batch(
        notebooks_dir=nbs, out=out, seed=4, report=False, in_browser=True, max_silent_s=10
    )
    assert "executor changed" in capsys.readouterr().out  # papermill's run is not enough
    meta = {n: json.loads((out / "meta" / f"{n}.json").read_text()) for n in statuses}
    failed = {n: m["error"]["evalue"] for n, m in meta.items() if m["status"] != "ok"}
    assert set(failed) == {"02_warns", "03_fails", "04_wide", "05_silent"}, failed
    assert "careful" in failed["02_warns"]
    assert meta["03_fails"]["error"]["ename"] == "ZeroDivisionError"
    assert meta["03_fails"]["error"]["cell"] == 4  # as numbered in the source notebook
    assert "make it narrower" in failed["04_wide"]
    assert "showed nothing for" in failed["05_silent"]
    # the 14 s sleep, timed from page events (seen 13.9 s on a loaded machine)
    assert meta["05_silent"]["browser"]["slowest"][0]["silent_s"] >= 13
    assert meta["06_chatty"]["browser"]["slowest"][0]["seconds"] >= 11  # 12 s of sleeps, with a bar
    records = json.loads((out / "results" / "01_records.json").read_text())
    assert records["claims"]["demo.seed"]["value"] == 4  # the injected seed, not 0
    assert meta["01_records"]["executor"] == "browser"
    assert meta["01_records"]["browser"]["figures"] == 1
    executed = nbformat.read(out / "executed" / "01_records.ipynb", as_version=4)
    outputs = [o for c in executed.cells for o in c.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outputs)
    assert any("fine" in o.get("text", "") for o in outputs)
    assert (out / "browser" / "01_records.png").stat().st_size > 10_000  # a screenshot
    for page in nbs.glob("*.ipynb"):  # the notebooks themselves are never modified
        assert '"execution_count": null' in page.read_text()
