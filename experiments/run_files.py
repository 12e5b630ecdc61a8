"""A run folder's own files: the lock that keeps two runs out of one folder, ``run.json`` (the
run's options, machine, commit and outcome) and the marks on notebooks a stopped run left
``running``."""

from __future__ import annotations

import fcntl
import json
import os
import platform
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from course_lib.repro import read_json, write_json
from experiments import UserError
from experiments.budgets import lesson_budget, run_budget
from experiments.environment import THREAD_VARS
from experiments.run_options import Batch


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")


@contextmanager
def run_folder(out: Path):
    """Create the run folder and hold an exclusive lock on ``<out>/.lock`` while the block runs.

    The lock is an ``flock`` on the open file, so a crashed run releases it; the file names the
    holder.
    """
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; give a folder for the run")
    try:
        for sub in ("executed", "results", "meta"):
            (out / sub).mkdir(parents=True, exist_ok=True)
        lock = open(out / ".lock", "a+", encoding="utf-8")
    except OSError as err:
        raise UserError(
            f"--out {out}: cannot create or write the run folder ({err.strerror or err})"
        ) from None
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(
                f"run folder {out} is in use by {lock_holder(lock)}; wait for that run to "
                f"finish, or give another --out"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(json.dumps({"pid": os.getpid(), "host": platform.node(), "since": now()}) + "\n")
        lock.flush()
        yield


def lock_holder(lock) -> str:
    """Who holds a run folder's lock, as its lock file says: ``process 123 on host since ...``."""
    lock.seek(0)
    try:
        info = json.loads(lock.read())
        return f"process {info['pid']} on {info['host']} since {info['since']}"
    except (ValueError, KeyError, TypeError):
        return "another process"


def git_info(folder: Path) -> dict | None:
    """Commit and dirty flag of the repository holding ``folder``; ``None`` outside a repository."""

    def git(*args):
        return subprocess.run(
            ["git", "--no-optional-locks", "-C", str(folder), *args],
            capture_output=True,
            text=True,
            timeout=30,
        )

    try:
        head = git("rev-parse", "HEAD")
        if head.returncode != 0:
            return None
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": head.stdout.strip(), "dirty": bool(dirty.stdout.strip())}


def run_context(batch: Batch) -> dict:
    """Where a run executes, recorded in ``run.json`` and in every notebook's meta: library
    versions and machine, commit, host, what executes the notebooks (papermill, or JupyterLab in
    Chromium), jobs, the kernels' thread settings and the profile's time budgets
    (:mod:`experiments.budgets`)."""
    from course_lib.backend import describe_machine

    seen = {var: os.environ.get(var) or batch.thread_env.get(var) for var in THREAD_VARS}
    return {
        "versions": describe_machine(),
        "git": git_info(batch.notebooks_dir),
        "host": platform.node(),
        "executor": "browser" if batch.in_browser else "papermill",
        "jobs": batch.jobs,
        "threads_per_kernel": batch.threads,
        "thread_env": {var: value for var, value in seen.items() if value},
        "lesson_budget_s": lesson_budget(batch.profile),
        "run_budget_s": run_budget(batch.profile),
    }


def run_record(batch: Batch, context: dict) -> dict:
    """``run.json`` as a run starts (status ``running``): its options, selection and context."""
    return {
        "profile": batch.profile,
        "seed": batch.seed,
        "device": batch.device,
        "params": batch.params,
        "status": "running",
        "notebooks_dir": str(batch.notebooks_dir),
        "claims_dir": batch.claims,
        "selected": [nb.name for nb in batch.notebooks],
        "fresh": batch.fresh,
        "timeout_s": batch.timeout,
        "notebook_timeout_s": batch.notebook_timeout,
        "started": now(),
        "ended": None,
        "executor": context["executor"],
        "jobs": batch.jobs,
        "threads_per_kernel": batch.threads,
        "thread_env": context["thread_env"],
        "shard": shard_record(batch),
        "machine": context["versions"],
        "git": context["git"],
        "host": context["host"],
        "command": sys.argv,
    }


def shard_record(batch: Batch) -> dict | None:
    """``run.json``'s ``shard``: which slice of how many, of which selection; ``None`` unsharded."""
    if batch.shard is None:
        return None
    index, count = batch.shard
    return {"index": index, "count": count, "of": [nb.name for nb in batch.chosen]}


def close_run(out: Path, run: dict, t0: float, status: str, statuses: dict | None = None) -> None:
    """Stamp the end, wall time and outcome on ``run.json``."""
    run.update(
        status=status, ended=now(), wall_s=round(time.perf_counter() - t0, 3), statuses=statuses
    )
    write_json(out / "run.json", run)


def mark_interrupted(out: Path, names: list[str]) -> None:
    """Mark as ``interrupted`` every meta of ``names`` still saying ``running`` (a notebook whose
    worker did not get to record its end before the run stopped)."""
    for name in names:
        path = out / "meta" / f"{name}.json"
        meta = read_json(path)
        if isinstance(meta, dict) and meta.get("status") == "running":
            evalue = "the run was stopped (Ctrl-C) before this notebook could record its end"
            error = {"ename": "KeyboardInterrupt", "evalue": evalue, "cell": None}
            meta.update(status="interrupted", ended=now(), error=error)
            write_json(path, meta)
