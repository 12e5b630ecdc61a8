"""Start data-parallel workers with torchrun from Python, with a time limit, and read what rank 0
wrote.

    result = launch.run("allreduce", workers=2, steps=300, tau=None)   # dict from the worker's JSON

torchrun (``python -m torch.distributed.run``) starts the processes, gives each its rank and the
rendezvous address, watches them, and stops all of them when one fails.  A run that neither
finishes nor fails within ``timeout_s`` (a worker stuck in a collective) is killed with its whole
process group, and the error says so; a failed run raises with the end of its log.  While it
runs, a progress bar follows the ``step k/N`` lines rank 0 prints at each evaluation.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from course_lib.train import progress_bar


def command(mode: str, workers: int, **options) -> list[str]:
    """The command line: torchrun with ``workers`` processes (none for ``single``)."""
    args = ["-m", "course_lib.distributed.worker", "--mode", mode]
    for name, value in options.items():
        if value is not None:
            args += [f"--{name.replace('_', '-')}", str(value)]
    if mode == "single":
        return [sys.executable, *args]
    return [sys.executable, "-m", "torch.distributed.run", "--standalone",
            f"--nproc-per-node={workers}", *args]  # fmt: skip


def errors(log: str) -> str:
    """The workers' error lines (``[rankN]: SomeError: ...``), else the end of the log."""
    lines = log.strip().splitlines()
    found = [line for line in lines if re.match(r"\[rank\d+\]: \w+(Error|Exception)\b", line)]
    return "\n".join(found[:4] or lines[-15:])


def run(mode: str, workers: int = 2, *, timeout_s: float = 300, progress="transient",
        **options) -> dict:  # fmt: skip
    """Run the workers and return rank 0's results (a RuntimeError if they fail or hang).
    ``progress``: the bar over training steps, as in :func:`course_lib.train.fit`."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        cmd = command(mode, workers, out=out, **options)
        env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env=env, start_new_session=True)  # fmt: skip
        who = "1 process" if mode == "single" else f"{workers} workers"
        bar = progress_bar(options.get("steps"), f"{mode}, {who}", progress)
        lines: list[str] = []
        reader = threading.Thread(target=_follow, args=(proc.stdout, lines, bar), daemon=True)
        reader.start()
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise RuntimeError(
                f"{mode} with {workers} workers did not finish within {timeout_s:.0f} s and was "
                "stopped (a worker waiting in a collective for one that never came?); "
                f"command: {' '.join(cmd)}"
            ) from None
        finally:
            reader.join(timeout=10)
            bar.close()
        if proc.returncode != 0 or not out.is_file():
            raise RuntimeError(
                f"{mode} with {workers} workers failed (exit {proc.returncode}):\n"
                f"{errors(''.join(lines))}"
            )
        return json.loads(out.read_text(encoding="utf-8"))


def _follow(stream, lines: list[str], bar) -> None:
    """Keep the workers' output in ``lines``, moving ``bar`` to each ``step k/N`` line's k."""
    for line in stream:
        lines.append(line)
        found = re.fullmatch(r"step (\d+)/\d+\s*", line)
        if found:
            bar.update(int(found[1]) - bar.n)
