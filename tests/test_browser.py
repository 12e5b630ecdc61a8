"""The browser test's own checks: a notebook with each defect a learner met (an error, a warning
box, a figure too wide for the page) fails with a message naming it, and a clean one passes.
Needs Debian's chromium and playwright; skipped with the reason otherwise."""

import json
from collections import deque
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


@pytest.mark.skipif(bool(browser.chromium_missing()), reason=browser.chromium_missing() or "ok")
def test_each_defect_is_caught_and_clean_pages_pass(tmp_path):
    """One server and one browser for every page (starting them is most of a short run)."""
    pages = [
        _notebook(tmp_path / "clean.ipynb", "plt.plot([1, 2]); plt.show()", "print('fine')"),
        _notebook(tmp_path / "warns.ipynb", "import warnings; warnings.warn('careful')"),
        _notebook(tmp_path / "fails.ipynb", "1 / 0", "print('never reached')"),
        _notebook(
            tmp_path / "wide.ipynb", "plt.figure(figsize=(18, 3)); plt.plot([1]); plt.show()"
        ),
        # no imports beyond the standard library and tqdm: a loaded machine adds little
        _notebook(tmp_path / "silent.ipynb", "import time; time.sleep(14); print(1)", setup=""),
        _notebook(tmp_path / "chatty.ipynb", CHATTY, setup=""),
    ]
    summary = browser.run(out=tmp_path / "out", timeout_s=120, notebooks=pages, max_silent_s=10)
    verdicts = {r["notebook"]: r for r in summary["lessons"]}
    assert verdicts["clean"]["ok"], verdicts["clean"]["problems"]
    assert verdicts["clean"]["figures"] == 1
    assert any("careful" in p for p in verdicts["warns"]["problems"])
    assert any("ZeroDivisionError" in p for p in verdicts["fails"]["problems"])
    assert any("make it narrower" in p for p in verdicts["wide"]["problems"])
    assert any("showed nothing for" in p for p in verdicts["silent"]["problems"])
    assert verdicts["silent"]["slowest"][0]["silent_s"] >= 14
    assert verdicts["chatty"]["ok"], verdicts["chatty"]["problems"]  # 12 s, with a bar
    assert verdicts["chatty"]["slowest"][0]["seconds"] >= 12
    assert not summary["ok"]
    assert (tmp_path / "out" / "clean.png").stat().st_size > 10_000  # a screenshot
    assert (tmp_path / "out" / "browser.json").is_file()
    assert summary["kernels_left"] == 0  # each lesson's kernel is shut down after it
    for page in pages:  # the notebooks themselves are never modified
        assert "outputs" in page.read_text() and '"execution_count": null' in page.read_text()


def test_lessons_go_to_the_browser_slowest_first(tmp_path):
    """The last quick run's wall times order the queue; a lesson without one keeps its place
    after the rest, and an unreadable meta file counts as none."""
    names = ["00_a", "01_b", "02_c", "03_d"]
    for name, wall in (("01_b", 5.0), ("02_c", 50.0)):
        (tmp_path / f"{name}.json").write_text(json.dumps({"wall_s": wall}))
    (tmp_path / "03_d.json").write_text("{not json")
    ordered = browser.slowest_first([Path(f"{n}.ipynb") for n in names], meta=tmp_path)
    assert [p.stem for p in ordered] == ["02_c", "01_b", "00_a", "03_d"]
    queue = deque(ordered)
    assert [browser.next_of(queue) for _ in range(5)][-1] is None
