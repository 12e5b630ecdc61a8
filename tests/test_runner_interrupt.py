"""Ctrl-C during a batch run: the kernel stops, the notebook is marked interrupted, one line, exit 130."""
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from test_runner import make_notebook

REPO = Path(__file__).resolve().parents[1]


def wait_for(condition, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the notebook never started its long cell"
        time.sleep(0.2)


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
    make_notebook(nbs, "01_sleepy", "import time\nopen('started.txt', 'w').write('yes')\ntime.sleep(120)")
    meta = out / "meta" / "01_sleepy.json"
    run = subprocess.Popen([sys.executable, "-m", "experiments", "run", "--notebooks", str(nbs),
                            "--claims", str(claims), "--out", str(out)],
                           cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: meta_status(meta) == "running" and marker.exists())
        run.send_signal(signal.SIGINT)
        stdout, stderr = run.communicate(timeout=60)
    finally:
        run.kill()
    assert run.returncode == 130, stderr
    assert "interrupted; run the same command again to resume" in stderr
    assert "Traceback" not in stderr and "without encryption" not in stderr, stderr
    info = json.loads(meta.read_text())
    assert info["status"] == "interrupted" and info["error"]["ename"] == "KeyboardInterrupt"
    assert info["error"]["cell"] == 3 and info["ended"]
    assert json.loads((out / "run.json").read_text())["status"] == "interrupted"
    assert json.loads((out / ".lock").read_text())["pid"] == run.pid
