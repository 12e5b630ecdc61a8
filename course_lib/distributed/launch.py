"""Start data-parallel workers with torchrun from Python, with a time limit, and read what rank 0
wrote.

    result = launch.run("allreduce", workers=2, steps=300, tau=None)   # dict from the worker's JSON

torchrun (``python -m torch.distributed.run``) starts the processes, gives each its rank and the
rendezvous address, watches them, and stops all of them when one fails.  A run that neither
finishes nor fails within ``timeout_s`` (a worker stuck in a collective), or that is interrupted
(Ctrl-C, any exception), is stopped with every process under it: torchrun starts each worker in
a session of its own, so each worker's process group gets SIGTERM, then SIGKILL after a short
grace.  A failed run raises with the worker's own error (``ValueError: --batch 33 ...``), which
the worker records through torch's ``TORCHELASTIC_ERROR_FILE`` (``@record``), else the end of the
log.  Everything torchrun writes (its ``torchelastic_*`` log folder) goes to a temporary folder
the launcher removes.  While it runs, a progress bar follows the ``step k/N`` lines rank 0
prints at each evaluation, and its clock is redrawn every 2 s in between.

Across machines, run the same call on each with ``nodes``, its own ``node_rank`` and the shared
``endpoint="HOST:PORT"`` of machine 0: the rendezvous then gives up after ``rdzv_timeout_s``
(torchrun's ``--rdzv-conf timeout=...``) with a clear error if the others never come.
"""

from __future__ import annotations

import contextlib
import json
import numbers
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from course_lib.history import progress_bar

WORKER = "course_lib.distributed.worker"


def command(
    mode: str,
    workers: int,
    *,
    nodes: int = 1,
    node_rank: int = 0,
    endpoint: str | None = None,
    rdzv_timeout_s: int = 60,
    module: str = WORKER,
    **options,
) -> list[str]:
    """The command line: torchrun with ``workers`` processes (none for ``single``); ``--standalone``
    on one machine, else the rendezvous at ``endpoint``, given up after ``rdzv_timeout_s``.
    ``module``: the script each process runs (``mode=None``: it takes no ``--mode``)."""
    _check_topology(workers, options.get("steps"), nodes, node_rank, endpoint, rdzv_timeout_s)
    args = ["-m", module] + (["--mode", mode] if mode is not None else [])
    for name, value in options.items():
        if value is not None:
            args += [f"--{name.replace('_', '-')}", str(value)]
    if mode == "single":
        return [sys.executable, *args]
    where = ["--standalone"]
    if endpoint is not None:
        where = [
            f"--nnodes={nodes}",
            f"--node-rank={node_rank}",
            f"--rdzv-endpoint={endpoint}",
            f"--rdzv-conf=timeout={rdzv_timeout_s}",
        ]
    torchrun = [sys.executable, "-m", "torch.distributed.run"]
    return [*torchrun, *where, f"--nproc-per-node={workers}", *args]


def _check_count(name: str, value, fix: str) -> None:
    """A whole number >= 1, else a TypeError or ValueError naming ``name``, value and ``fix``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}={value!r}: must be a whole number; {fix}")
    if value < 1:
        raise ValueError(f"{name}={value!r}: must be at least 1; {fix}")


def _check_topology(workers, steps, nodes, node_rank, endpoint, rdzv_timeout_s) -> None:
    """Refuse counts below 1 and a multi-machine set-up without a usable endpoint."""
    _check_count("workers", workers, "pass the number of processes to start, e.g. workers=2")
    if steps is not None:
        _check_count("steps", steps, "pass the number of SGD steps, e.g. steps=300")
    _check_count("nodes", nodes, "pass the number of machines, 1 for this one alone")
    _check_count("rdzv_timeout_s", rdzv_timeout_s, "pass whole seconds, e.g. rdzv_timeout_s=60")
    if not isinstance(node_rank, numbers.Integral) or not 0 <= node_rank < nodes:
        raise ValueError(
            f"node_rank={node_rank!r}: must be 0 .. nodes-1 = {nodes - 1}; "
            "give machine 0 node_rank=0, the next 1, ..."
        )
    if endpoint is None and nodes > 1:
        raise ValueError(
            f"endpoint=None with nodes={nodes}: pass endpoint='HOST:PORT' of "
            "machine 0, the same on every machine"
        )
    if endpoint is not None and not re.fullmatch(r"[^\s:]+:\d+", str(endpoint)):
        raise ValueError(f"endpoint={endpoint!r}: must be 'HOST:PORT', e.g. '10.0.0.1:29500'")


def errors(log: str) -> str:
    """The workers' error lines (``[rankN]: SomeError: ...``), else the end of the log."""
    lines = log.strip().splitlines()
    found = [line for line in lines if re.match(r"\[rank\d+\]: \w+(Error|Exception)\b", line)]
    return "\n".join(found[:4] or lines[-15:])


def recorded_error(path: Path) -> str | None:
    """The ``Type: message`` a worker (or torchrun) recorded in its error file, else None."""
    try:
        message = json.loads(path.read_text(encoding="utf-8"))["message"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return message.get("message") if isinstance(message, dict) else str(message)


def run(
    mode: str,
    workers: int = 2,
    *,
    timeout_s: float = 300,
    progress="transient",
    nodes: int = 1,
    node_rank: int = 0,
    endpoint: str | None = None,
    rdzv_timeout_s: int = 60,
    module: str = WORKER,
    **options,
) -> dict:
    """Run the workers and return rank 0's results (a RuntimeError if they fail or hang).
    ``progress``: the bar over training steps, as in :func:`course_lib.train.fit`; ``nodes``,
    ``node_rank``, ``endpoint``, ``rdzv_timeout_s``: several machines, as in the module's doc;
    ``module``: the script the processes run, as in :func:`command`."""
    if not isinstance(timeout_s, numbers.Real) or not timeout_s > 0:
        raise ValueError(f"timeout_s={timeout_s!r}: must be seconds > 0, e.g. timeout_s=300")
    topology = dict(nodes=nodes, node_rank=node_rank, endpoint=endpoint)
    with tempfile.TemporaryDirectory(prefix="course_launch_") as tmp:
        out, error_file = Path(tmp) / "result.json", Path(tmp) / "error.json"
        cmd = command(
            mode,
            workers,
            **topology,
            rdzv_timeout_s=rdzv_timeout_s,
            module=module,
            out=out,
            **options,
        )
        # TMPDIR: torchrun's torchelastic_* folder goes in ours, removed with it
        env = dict(os.environ, TMPDIR=tmp, TORCHELASTIC_ERROR_FILE=str(error_file))
        env.setdefault("OMP_NUM_THREADS", "1")
        who = "1 process" if mode == "single" else f"{workers} workers"
        bar = progress_bar(options.get("steps"), f"{mode or module}, {who}", progress)
        try:
            code, log = supervise(cmd, env, timeout_s, bar)
        except subprocess.TimeoutExpired:
            raise RuntimeError(
                f"{mode or module} with {who} did not finish within {timeout_s:.0f} s and was "
                "stopped (a worker waiting in a collective for one that never came?); "
                f"command: {' '.join(cmd)}"
            ) from None
        finally:
            bar.close()
        if code != 0 or not out.is_file():
            detail = _cause(recorded_error(error_file), log, endpoint, rdzv_timeout_s)
            raise RuntimeError(f"{mode or module} with {who} failed (exit {code}):{detail}")
        return json.loads(out.read_text(encoding="utf-8"))


def _cause(recorded: str | None, log: str, endpoint, rdzv_timeout_s) -> str:
    """The recorded error (with a hint when the rendezvous failed), else the log's errors."""
    if recorded is None:
        return f"\n{errors(log)}"
    if endpoint and re.match(r"(Dist|Rendezvous)\w*Error", recorded):
        return (
            f" {recorded}\n(the rendezvous at {endpoint} gave up after {rdzv_timeout_s} s: are "
            "all the machines started with this endpoint, and is its port open?)"
        )
    return f" {recorded}"


def supervise(
    cmd: list[str], env: dict, timeout_s: float, bar, every_s: float = 2.0
) -> tuple[int, str]:
    """Run ``cmd`` in a session of its own, its output moving ``bar`` (redrawn every ``every_s``
    seconds); return its exit status and output.  On a timeout (``subprocess.TimeoutExpired``)
    or any other exception, Ctrl-C included, first stop it with everything it started
    (:func:`stop`), then re-raise."""
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=_follow, args=(proc.stdout, lines, bar), daemon=True)
    try:
        reader.start()
        _wait_showing_time(proc, timeout_s, bar, every_s)
    except BaseException:
        stop(proc)
        raise
    finally:
        reader.join(timeout=10)
    return proc.returncode, "".join(lines)


def _wait_showing_time(proc: subprocess.Popen, timeout_s: float, bar, every_s: float = 2.0):
    """``proc.wait(timeout_s)``, redrawing ``bar`` every ``every_s`` seconds so that its clock
    moves while the workers start (importing torch, loading the data) or train between two
    evaluations: a learner sees a slow run, not a stuck one."""
    deadline = time.monotonic() + timeout_s
    while True:
        left = deadline - time.monotonic()
        try:
            return proc.wait(timeout=max(0.0, min(every_s, left)))
        except subprocess.TimeoutExpired:
            if left <= every_s:
                raise subprocess.TimeoutExpired(proc.args, timeout_s) from None
            bar.refresh()


def stop(proc: subprocess.Popen, grace_s: float = 5.0) -> None:
    """Stop ``proc`` (started with ``start_new_session=True``) and every process under it: SIGTERM
    to each of their process groups, ``grace_s`` seconds to exit, then SIGKILL; wait for ``proc``.
    """
    groups = {proc.pid} | {g for g in map(_pgid, _descendants(proc.pid)) if g is not None}
    _signal(groups, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and _any_alive(proc, groups):
        time.sleep(0.05)
    _signal(groups, signal.SIGKILL)
    proc.wait()


def _any_alive(proc: subprocess.Popen, groups: set[int]) -> bool:
    """Whether any of ``groups`` still has a process (``proc`` is reaped once it has exited)."""
    proc.poll()
    for group in groups:
        try:
            os.killpg(group, 0)
            return True
        except (ProcessLookupError, PermissionError):
            pass
    return False


def _signal(groups: set[int], sig: int) -> None:
    for group in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, sig)


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except (ProcessLookupError, PermissionError):
        return None


def _descendants(pid: int) -> list[int]:
    """The pids under ``pid``: with psutil if installed, else from Linux's /proc, else none."""
    try:
        import psutil
    except ImportError:
        return _descendants_from_proc(pid)
    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return []


def _descendants_from_proc(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def _follow(stream, lines: list[str], bar) -> None:
    """Keep the workers' output in ``lines``, moving ``bar`` to each ``step k/N`` line's k."""
    for line in stream:
        lines.append(line)
        found = re.fullmatch(r"step (\d+)/\d+\s*", line)
        if found:
            bar.update(int(found[1]) - bar.n)
