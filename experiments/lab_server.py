"""A JupyterLab server of the course's own, on a copy of the notebooks, and a reader of its log.

Used by the browser test (:mod:`experiments.browser`) and ``python -m experiments lab``: the
course's settings, a random token on 127.0.0.1, and every log line that is a problem.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# JupyterLab's settings for the course (``python -m experiments lab`` and the browser test), in
# jupyter_server_config.json: kernels over IPC (over TCP, ipykernel warns at every start that
# nothing is encrypted), and no websocket keep-alive pings (Jupyter Server counts its ping
# settings in milliseconds and tornado 6.5 reads the same numbers as seconds, so every setting
# draws a warning; a server on 127.0.0.1 needs no keep-alive).
LAB_ARGS = [f"--config={Path(__file__).with_name('jupyter_server_config.json')}"]
# A server-log line that is a problem; "is not trusted" is not (JupyterLab logs it for any
# notebook opened without a signature, and a learner never sees it).
SERVER_PROBLEM = re.compile(r"\[(E|C) |\[W (?!.*is not trusted)|Traceback|without encryption")
# A known upstream race, not a course defect: the server writes a kernel message to a websocket
# that the browser has just closed, and tornado logs the failed write as an unretrieved task
# (tornado's and voila's trackers; a learner who closes a tab meets it too).  The browser test
# shuts each kernel down before it closes the page, which makes it rare; when it still happens it
# is recorded under ``server_notes``, not counted as a failure.
CLOSED_WEBSOCKET_RACE = (
    "Task exception was never retrieved",
    "WebSocketProtocol13.write_message",
    "tornado.websocket.WebSocketClosedError",
)

LAB_SETTINGS = {  # JupyterLab user settings: nothing is ever written back to the notebooks
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def server_problems(lines: list[str]) -> tuple[list[str], list[str]]:
    """``(problems, notes)`` from server-log lines: a problem line, or for a traceback its last
    line (the exception), prefixed "server: "; the closed-websocket race goes to ``notes``."""
    problems, notes, block = [], [], []

    def close_block():
        if block:
            text, last = "\n".join(block), block[-1].strip()
            race = all(part in text for part in CLOSED_WEBSOCKET_RACE)
            (notes if race else problems).append(f"server: traceback ending {last!r}")
            block.clear()

    for line in lines:
        task = line.startswith("Task exception was never retrieved")
        if task or (line.startswith("Traceback") and not block):
            if task:
                close_block()  # a new record, even right after another one
            block.append(line)
        elif block and not line.startswith("["):  # the traceback goes on until a log record
            block.append(line)
        else:
            close_block()
            if SERVER_PROBLEM.search(line):
                problems.append(f"server: {line}")
    close_block()
    return problems, notes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A JupyterLab server on a copy of ``notebooks`` (use as a context manager; the copies and
    settings are removed at exit). ``log``: where the server's log goes (default: a temporary
    file next to them)."""

    def __init__(self, notebooks: list[Path], log: Path | None = None, env: dict | None = None):
        self.extra_env = dict(env or {})  # added to the server's (and so its kernels') environment
        self.root = Path(tempfile.mkdtemp(prefix="course-lab-"))
        for nb in notebooks:
            shutil.copy(nb, self.root / nb.name)
        settings = self.root.parent / (self.root.name + "-settings")
        for name, value in LAB_SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(json.dumps(value))
        self.settings, self.token, self.port = settings, secrets.token_hex(16), free_port()
        self.scratch = self.root.parent / (self.root.name + "-jupyter")
        self.log = Path(log) if log else self.root.parent / (self.root.name + "-server.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        dirs = {
            "JUPYTERLAB_SETTINGS_DIR": str(self.settings),
            "JUPYTER_CONFIG_DIR": str(self.scratch / "config"),
            "JUPYTER_RUNTIME_DIR": str(self.scratch / "runtime"),
        }
        env = dict(os.environ, **self.extra_env, **dirs)
        env.pop("MPLBACKEND", None)  # the inline backend, as in a learner's JupyterLab
        lab = ["jupyterlab", "--no-browser", f"--port={self.port}", "--ip=127.0.0.1"]
        access = [f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}"]
        # window.jupyterapp: the browser test opens each lesson in the page's running JupyterLab
        expose = ["--LabApp.expose_app_in_browser=True"]
        argv = [sys.executable, "-m", *lab, *access, *expose, *LAB_ARGS]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            argv.append("--allow-root")  # CI containers run as root
        self._log_file = open(self.log, "w")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(
            argv, stdout=self._log_file, stderr=subprocess.STDOUT, env=env, cwd=self.root
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited at start:\n{self.log.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"JupyterLab did not start within 60 s:\n{self.log.read_text()}")

    def __exit__(self, *exc):
        self.proc.terminate()  # our own server, by its own PID
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log_file.close()
        for folder in (self.root, self.settings, self.scratch):
            shutil.rmtree(folder, ignore_errors=True)

    def shut_down_kernels(self, notebook: str) -> None:
        """Shut down the kernel of ``notebook`` (a finished lesson's kernel would otherwise keep
        its memory until the server stops), through Jupyter Server's REST API."""
        for session in json.loads(self._call("GET", "/api/sessions")):
            if session.get("path", "").endswith(notebook):
                self._call("DELETE", f"/api/sessions/{session['id']}")

    def kernels(self) -> list:
        """The kernels the server runs now."""
        return json.loads(self._call("GET", "/api/kernels"))

    def _call(self, method: str, path: str) -> bytes:
        import urllib.request

        headers = {"Authorization": f"token {self.token}"}
        req = urllib.request.Request(f"{self.url}{path}", method=method, headers=headers)
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.read()

    def log_lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines()
