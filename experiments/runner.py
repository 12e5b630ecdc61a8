"""Execute lesson notebooks with papermill into a run folder, resuming where a run stopped.

A run folder holds, per notebook ``NN_slug``::

    executed/NN_slug.ipynb        the executed notebook, outputs and tracebacks included
    results/NN_slug.json          what the notebook recorded (course_lib.repro), and
    results/NN_slug_figures/      its figures
    meta/NN_slug.json             status (running / ok / failed), error, wall time, settings, versions

and ``run.json`` for the run as a whole, plus ``report.md`` / ``report.html``.  A notebook whose
meta says ``ok`` for the same profile, seed, device, extra parameters, notebook file and library code
(every ``*.py`` of ``course_lib``) is skipped on the next run; interrupted and failed ones are
executed again.  Each meta records the commit, library fingerprint and seed its results came from.

Extra parameters (``--param finetune=adam``) go to the notebooks whose parameters cell declares them.
"""
from __future__ import annotations

import ast
import fcntl
import hashlib
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from tqdm import tqdm

import course_lib
from course_lib.claims import load_claims
from course_lib.repro import read_json, write_json
from experiments import NOTEBOOKS, REPO, UserError, check_profile
from experiments.catalog import Notebook, find_notebooks, select

KERNEL = "python3"
EXCERPT_LINES = 8
RESERVED = ("profile", "seed", "device", "results_path")  # set by the runner itself
LITERAL_START = re.compile(r"[\[({'\"]|[+-]?\d")  # how a number, list, tuple, dict or quoted string starts
LIBRARY = Path(course_lib.__file__).resolve().parent
CHANGED = {"input_sha256": "notebook changed", "library_sha256": "library changed"}


def check_not_reserved(name: str) -> None:
    """A parameter the runner sets itself cannot be passed as an extra one."""
    if name in RESERVED:
        raise UserError(f"--param {name}: the runner sets {name} itself; use --{name.replace('_', '-')}")


def parse_params(items: list[str] | None) -> dict:
    """``["finetune=adam", "n_train=6000"]`` -> ``{"finetune": "adam", "n_train": 6000}``.

    Values are Python literals where they parse as one (numbers, True, None, quoted strings), else
    plain strings; text that starts like a literal (a digit, a sign and a digit, a bracket or a
    quote) but does not parse is an error, not a string.
    """
    params = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise UserError(f"--param {item!r}: write NAME=VALUE, e.g. --param finetune=adam")
        check_not_reserved(name)
        params[name] = param_value(name, text.strip())
    return params


def param_value(name: str, text: str):
    """``text`` as a Python literal, or as a string when it is a plain word such as ``adam``."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError):
        if LITERAL_START.match(text):
            raise UserError(f"--param {name}={text}: {text!r} is not a valid Python value; to pass it as "
                            f"a string, quote it: --param \"{name}='{text}'\"") from None
        return text


def declared_parameters(path: Path) -> set[str]:
    """Names assigned in the notebook's cell tagged ``parameters``."""
    import papermill as pm

    return set(pm.inspect_notebook(str(path)))


def params_for(notebooks: list[Notebook], params: dict) -> dict[str, dict]:
    """Each notebook's share of ``params``; an error if a parameter matches no selected notebook."""
    declared = {nb.name: declared_parameters(nb.path) for nb in notebooks} if params else {}
    unused = [k for k in params if not any(k in names for names in declared.values())]
    if unused:
        raise UserError(f"no selected notebook has a parameter named {', '.join(unused)}; "
                        f"see the parameters cell of the lesson (and --only)")
    return {nb.name: {k: v for k, v in params.items() if k in declared.get(nb.name, ())} for nb in notebooks}


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")


def git_info(folder: Path) -> dict | None:
    """Commit and dirty flag of the repository holding ``folder``; ``None`` outside a repository."""
    def git(*args):
        return subprocess.run(["git", "--no-optional-locks", "-C", str(folder), *args],
                              capture_output=True, text=True, timeout=30)
    try:
        head = git("rev-parse", "HEAD")
        if head.returncode != 0:
            return None
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": head.stdout.strip(), "dirty": bool(dirty.stdout.strip())}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def library_fingerprint(folder: Path = LIBRARY) -> str:
    """sha256 over the sorted relative paths and contents of every ``*.py`` file under ``folder``."""
    digest = hashlib.sha256()
    for rel in sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.py")):
        data = (folder / rel).read_bytes()
        digest.update(f"{rel}\0{len(data)}\0".encode() + data)
    return digest.hexdigest()


def excerpt(source: str) -> str:
    """The first lines of a cell's source, for an error summary."""
    lines = source.splitlines()
    text = "\n".join(line[:160] for line in lines[:EXCERPT_LINES])
    return text + ("\n…" if len(lines) > EXCERPT_LINES else "")


class CellWatch:
    """nbclient ``timeout_func``: a per-cell limit, capped by what is left of a whole-notebook limit.

    It also remembers the cell being executed, to name it when a timeout or a dead kernel stops the run.
    """

    def __init__(self, per_cell: float | None, whole: float | None):
        self.per_cell = per_cell
        self.deadline = time.monotonic() + whole if whole else None
        self.cell = None

    def __call__(self, cell) -> int | None:
        self.cell = cell
        limits = [self.per_cell] if self.per_cell else []
        if self.deadline is not None:
            limits.append(self.deadline - time.monotonic())
        return max(1, math.ceil(min(limits))) if limits else None

    @property
    def past_deadline(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline


def error_summary(err: Exception, watch: CellWatch, notebook_timeout: float | None) -> dict:
    """Exception name, message and an excerpt of the failing cell."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(err, PapermillExecutionError):
        return {"ename": err.ename, "evalue": str(err.evalue)[:2000],
                "cell_index": err.cell_index, "cell_excerpt": excerpt(err.source)}
    message = str(err).strip()[:2000]
    if watch.past_deadline:
        message += f" (whole-notebook limit of {notebook_timeout:g} s reached)"
    cell = watch.cell
    return {"ename": type(err).__name__, "evalue": message, "cell_index": None,
            "cell_excerpt": excerpt(cell.source) if cell is not None else ""}


def needs_run(meta: dict | None, settings: dict) -> str | None:
    """Why a notebook must run again (``None``: its earlier run in this folder still holds)."""
    if meta is None:
        return "new"
    if meta.get("status") == "running":
        return "interrupted earlier"
    if meta.get("status") != "ok":
        return f"{meta.get('status', 'unknown')} earlier"
    for key, value in settings.items():
        if meta.get(key, {} if key == "params" else None) != value:  # metas before --param had no params
            return CHANGED.get(key, f"{key} changed")
    return None


def run_notebook(nb: Notebook, out: Path, settings: dict, context: dict, *,
                 timeout: float | None, notebook_timeout: float | None) -> dict:
    """Execute one notebook into ``out``; return its meta (status ``ok`` or ``failed``)."""
    import papermill as pm

    executed = out / "executed" / f"{nb.name}.ipynb"
    results = out / "results" / f"{nb.name}.json"
    results.unlink(missing_ok=True)  # never show results left by an earlier run as this run's
    shutil.rmtree(results.with_name(f"{nb.name}_figures"), ignore_errors=True)
    meta_path = out / "meta" / f"{nb.name}.json"
    meta = {"notebook": nb.name, "lesson": nb.lesson, "title": nb.title, "status": "running",
            **settings, "timeout_s": timeout, "notebook_timeout_s": notebook_timeout,
            "input": str(nb.path), "executed": f"executed/{nb.name}.ipynb",
            "results": f"results/{nb.name}.json", "started": now(), "ended": None,
            "wall_s": None, "error": None, **context}
    write_json(meta_path, meta)
    parameters = {"profile": settings["profile"], "seed": settings["seed"],
                  "device": settings["device"], "results_path": str(results), **settings.get("params", {})}
    watch = CellWatch(timeout, notebook_timeout)
    t0 = time.perf_counter()
    try:
        pm.execute_notebook(str(nb.path), str(executed), parameters=parameters, kernel_name=KERNEL,
                            cwd=str(nb.path.parent), progress_bar=False, log_output=False,
                            request_save_on_cell_execute=True, timeout_func=watch)
        meta["status"] = "ok"
    except Exception as err:  # noqa: BLE001 - any failure is recorded and the batch goes on
        meta["status"] = "failed"
        meta["error"] = error_summary(err, watch, notebook_timeout)
    meta["wall_s"] = round(time.perf_counter() - t0, 3)
    meta["ended"] = now()
    if meta["status"] == "ok" and not results.exists():
        meta["warning"] = "the notebook wrote no results file (did it call repro.start(results_path, ...)?)"
    write_json(meta_path, meta)
    return meta


def absolute_data_paths(environ=os.environ) -> None:
    """Make ``COURSE_DATA`` and ``COURSE_CACHE`` absolute: each notebook's kernel runs in its own folder."""
    for var in ("COURSE_DATA", "COURSE_CACHE"):
        if environ.get(var):
            environ[var] = os.path.abspath(environ[var])


@contextmanager
def run_folder(out: Path):
    """Create the run folder and hold an exclusive lock on ``<out>/.lock`` while the block runs.

    The lock is an ``flock`` on the open file, so a crashed run releases it; the file names the holder.
    """
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; give a folder for the run")
    try:
        for sub in ("executed", "results", "meta"):
            (out / sub).mkdir(parents=True, exist_ok=True)
        lock = open(out / ".lock", "a+", encoding="utf-8")
    except OSError as err:
        raise UserError(f"--out {out}: cannot create or write the run folder ({err.strerror or err})") from None
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(f"run folder {out} is in use by {lock_holder(lock)}; wait for that run to "
                            f"finish, or give another --out") from None
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


def run_batch(profile: str = "quick", *, notebooks_dir: str | Path | None = None,
              out: str | Path | None = None, only: list[str] | None = None, seed: int = 0,
              device: str = "auto", timeout: float | None = None,
              notebook_timeout: float | None = None, fresh: bool = False,
              claims_dir: str | Path | None = None, report: bool = True,
              params: dict | None = None) -> dict[str, str]:
    """Run the selected notebooks into ``out`` (default ``runs/<profile>``); return ``{name: status}``.

    ``timeout`` limits each cell, ``notebook_timeout`` each notebook (seconds; ``None``: no limit).
    ``params`` are extra notebook parameters, each passed to the notebooks that declare it.
    Everything is checked, and the run folder locked, before the first notebook starts.
    """
    check_profile(profile)
    load_claims(claims_dir)  # an invalid registry stops the run before anything executes
    absolute_data_paths()
    notebooks_dir = Path(notebooks_dir or NOTEBOOKS).resolve()
    notebooks = select(find_notebooks(notebooks_dir), only)
    if not notebooks:
        raise UserError(f"no NN_slug.ipynb notebooks in {notebooks_dir}")
    params = dict(params or {})
    for name in params:
        check_not_reserved(name)
    shares = params_for(notebooks, params)
    out = Path(out or REPO / "runs" / profile).resolve()
    with run_folder(out):
        from course_lib.backend import describe_machine

        context = {"versions": describe_machine(), "git": git_info(notebooks_dir), "host": platform.node()}
        run = {"profile": profile, "seed": seed, "device": device, "params": params, "status": "running",
               "notebooks_dir": str(notebooks_dir),
               "claims_dir": str(Path(claims_dir).resolve()) if claims_dir else None,
               "selected": [nb.name for nb in notebooks], "fresh": fresh, "timeout_s": timeout,
               "notebook_timeout_s": notebook_timeout, "started": now(), "ended": None,
               "machine": context["versions"], "git": context["git"], "host": context["host"],
               "command": sys.argv}
        write_json(out / "run.json", run)
        base = {"profile": profile, "seed": seed, "device": device, "library_sha256": library_fingerprint()}
        statuses, t0 = {}, time.perf_counter()
        bar = tqdm(notebooks, desc=f"{profile} run", unit="notebook", file=sys.stderr)
        for nb in bar:
            bar.set_postfix_str(nb.name)
            settings = {**base, "params": shares[nb.name], "input_sha256": sha256(nb.path)}
            reason = "fresh" if fresh else needs_run(read_json(out / "meta" / f"{nb.name}.json"), settings)
            if reason is None:
                statuses[nb.name] = "ok"
                tqdm.write(f"{nb.name:<32} skipped (finished in an earlier run)")
                continue
            meta = run_notebook(nb, out, settings, context, timeout=timeout, notebook_timeout=notebook_timeout)
            statuses[nb.name] = meta["status"]
            tqdm.write(summary_line(meta, reason))
        bar.close()
        run.update(status="done", ended=now(), wall_s=round(time.perf_counter() - t0, 3), statuses=statuses)
        write_json(out / "run.json", run)
        if report:
            from experiments.report import write_report

            md, html_path = write_report(out, claims_dir=claims_dir)
            print(f"report: {md}\n        {html_path}")
    return statuses


def summary_line(meta: dict, reason: str) -> str:
    """The runner's one line for an executed notebook: status, wall time, why it ran, what failed."""
    line = f"{meta['notebook']:<32} {meta['status']:<7} {meta['wall_s']:8.1f} s  ({reason})"
    if meta["error"]:
        first = (meta["error"]["evalue"].splitlines() or [""])[0][:120]
        line += f"  {meta['error']['ename']}: {first}"
    return line
