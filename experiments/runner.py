"""Execute lesson notebooks with papermill into a run folder, resuming where a run stopped.

A run folder holds, per notebook ``NN_slug``::

    executed/NN_slug.ipynb        the executed notebook, outputs and tracebacks included
    results/NN_slug.json          what the notebook recorded (course_lib.repro), and
    results/NN_slug_figures/      its figures
    meta/NN_slug.json             status (running / ok / failed / interrupted), error, wall time,
                                  settings, commit, library fingerprint, versions

and ``run.json`` for the run as a whole, plus ``report.md`` / ``report.html``.  A notebook whose
meta says ``ok`` for the same profile, seed, device, extra parameters, notebook file and library code
(every ``*.py`` of ``course_lib``) is skipped on the next run; interrupted and failed ones are
executed again.  Each meta records the commit, library fingerprint and seed its results came from.

A failure's ``error`` names the failing cell as its number in the source notebook (1-based, markdown
cells counted, papermill's injected parameters cell not) and the executed notebook with the traceback.
Kernels talk over ipc sockets and are stopped at once when a notebook ends, fails or is interrupted.

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
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import nbformat
from jupyter_client import AsyncKernelManager
from tqdm import tqdm
from traitlets import CaselessStrEnum, default

import course_lib
from course_lib.claims import CLAIMS_ENV, load_claims
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
    """nbclient ``timeout_func``: a per-cell limit, capped by what is left of a whole-notebook limit."""

    def __init__(self, per_cell: float | None, whole: float | None):
        self.per_cell = per_cell
        self.deadline = time.monotonic() + whole if whole else None

    def __call__(self, cell) -> int | None:
        limits = [self.per_cell] if self.per_cell else []
        if self.deadline is not None:
            limits.append(self.deadline - time.monotonic())
        return max(1, math.ceil(min(limits))) if limits else None

    @property
    def past_deadline(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline


class IpcKernelManager(AsyncKernelManager):
    """Kernels on local ipc sockets instead of TCP ports, so ipykernel has no TCP-without-encryption
    warning to print; the sockets are files in the temp folder, removed with the kernel."""

    transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

    @default("ip")
    def _ip_default(self) -> str:
        return os.path.join(tempfile.gettempdir(), f"course-kernel-{uuid.uuid4().hex}")


def tagged(cell, tag: str) -> bool:
    return tag in cell.get("metadata", {}).get("tags", [])


def is_injected(cell) -> bool:
    """True for the cell papermill inserts after the ``parameters`` cell."""
    return tagged(cell, "injected-parameters")


def executed_cells(path: Path) -> list:
    """The cells papermill executed (without the error notes it adds after a failure); [] if unreadable."""
    from papermill.execute import ERROR_MARKER_TAG

    try:
        cells = nbformat.read(path, as_version=4).cells
    except Exception:  # noqa: BLE001 - no executed notebook (the kernel never started): no cell to name
        return []
    return [cell for cell in cells if not tagged(cell, ERROR_MARKER_TAG)]


def failing_cell(cells: list, index: int | None) -> int | None:
    """Index of the cell that stopped a run: ``index`` when papermill names it, else the last one started."""
    if index is not None:
        return index
    started = [i for i, c in enumerate(cells) if c.get("metadata", {}).get("papermill", {}).get("start_time")]
    return started[-1] if started else None


def source_cell(cells: list, index: int | None) -> int | None:
    """Executed cell ``index`` as a 1-based cell number of the source notebook (markdown cells counted,
    papermill's injected parameters cell not); ``None`` for the injected cell itself or no cell."""
    if index is None or index >= len(cells) or is_injected(cells[index]):
        return None
    return index + 1 - sum(map(is_injected, cells[:index]))


def error_summary(err: BaseException, executed: Path, run_dir: Path, watch: CellWatch,
                  notebook_timeout: float | None) -> dict:
    """Exception name and message, the failing cell (number in the source notebook and an excerpt) and
    the executed notebook holding the traceback (relative to the run folder)."""
    from papermill.exceptions import PapermillExecutionError

    cells = executed_cells(executed)
    known = isinstance(err, PapermillExecutionError)
    message = str(err.evalue if known else err).strip()[:2000]
    if not known and watch.past_deadline:
        message += f" (whole-notebook limit of {notebook_timeout:g} s reached)"
    index = failing_cell(cells, err.cell_index if known else None)
    return {"ename": err.ename if known else type(err).__name__, "evalue": message,
            "cell": source_cell(cells, index),
            "cell_excerpt": excerpt(cells[index].source) if index is not None and index < len(cells) else "",
            "executed": executed.relative_to(run_dir).as_posix()}


def needs_run(meta: dict | None, settings: dict) -> str | None:
    """Why a notebook must run again (``None``: its earlier run in this folder still holds)."""
    if meta is None:
        return "new"
    if meta.get("status") in ("running", "interrupted"):
        return "interrupted earlier"
    if meta.get("status") != "ok":
        return f"{meta.get('status', 'unknown')} earlier"
    for key, value in settings.items():
        if meta.get(key, {} if key == "params" else None) != value:  # metas before --param had no params
            return CHANGED.get(key, f"{key} changed")
    return None


def run_notebook(nb: Notebook, out: Path, settings: dict, context: dict, *,
                 timeout: float | None, notebook_timeout: float | None) -> dict:
    """Execute one notebook into ``out``; return its meta (status ``ok`` or ``failed``).

    Ctrl-C stops the kernel, marks the meta ``interrupted`` and raises KeyboardInterrupt again.
    """
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
                            request_save_on_cell_execute=True, timeout_func=watch,
                            kernel_manager_class=IpcKernelManager, shutdown_kernel="immediate")
        meta["status"] = "ok"
    except KeyboardInterrupt as err:  # the kernel is already stopped (shutdown_kernel="immediate")
        meta.update(status="interrupted", error=error_summary(err, executed, out, watch, notebook_timeout))
        finish(meta_path, meta, t0)
        raise
    except Exception as err:  # noqa: BLE001 - any failure is recorded and the batch goes on
        meta.update(status="failed", error=error_summary(err, executed, out, watch, notebook_timeout))
    if meta["status"] == "ok" and not results.exists():
        meta["warning"] = "the notebook wrote no results file (did it call repro.start(results_path, ...)?)"
    return finish(meta_path, meta, t0)


def finish(meta_path: Path, meta: dict, t0: float) -> dict:
    """Stamp the end and wall time on a notebook's meta and write it."""
    meta.update(wall_s=round(time.perf_counter() - t0, 3), ended=now())
    write_json(meta_path, meta)
    return meta


def absolute_data_paths(environ=os.environ) -> None:
    """Make ``COURSE_DATA``, ``COURSE_CACHE`` and ``COURSE_CLAIMS`` absolute: each notebook's kernel runs
    in its own folder."""
    for var in ("COURSE_DATA", "COURSE_CACHE", CLAIMS_ENV):
        if environ.get(var):
            environ[var] = os.path.abspath(environ[var])


@contextmanager
def environment(values: dict[str, str]):
    """Set environment variables (which the kernels inherit) for the block, then restore them."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


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
    claims = str(Path(claims_dir).resolve()) if claims_dir else None  # the kernels' repro.published reads it
    with run_folder(out), environment({CLAIMS_ENV: claims} if claims else {}):
        from course_lib.backend import describe_machine

        context = {"versions": describe_machine(), "git": git_info(notebooks_dir), "host": platform.node()}
        run = {"profile": profile, "seed": seed, "device": device, "params": params, "status": "running",
               "notebooks_dir": str(notebooks_dir), "claims_dir": claims,
               "selected": [nb.name for nb in notebooks], "fresh": fresh, "timeout_s": timeout,
               "notebook_timeout_s": notebook_timeout, "started": now(), "ended": None,
               "machine": context["versions"], "git": context["git"], "host": context["host"],
               "command": sys.argv}
        write_json(out / "run.json", run)
        base = {"profile": profile, "seed": seed, "device": device, "library_sha256": library_fingerprint()}
        t0 = time.perf_counter()
        try:
            statuses = run_each(notebooks, out, base, shares, context, fresh=fresh, timeout=timeout,
                                notebook_timeout=notebook_timeout)
        except KeyboardInterrupt:
            close_run(out, run, t0, "interrupted")
            raise
        close_run(out, run, t0, "done", statuses)
        if report:
            from experiments.report import write_report

            md, html_path = write_report(out, claims_dir=claims_dir)
            print(f"report: {md}\n        {html_path}")
    return statuses


def close_run(out: Path, run: dict, t0: float, status: str, statuses: dict | None = None) -> None:
    """Stamp the end, wall time and outcome on ``run.json``."""
    run.update(status=status, ended=now(), wall_s=round(time.perf_counter() - t0, 3), statuses=statuses)
    write_json(out / "run.json", run)


def run_each(notebooks: list[Notebook], out: Path, base: dict, shares: dict[str, dict], context: dict, *,
             fresh: bool, timeout: float | None, notebook_timeout: float | None) -> dict[str, str]:
    """Execute each notebook unless its earlier run in ``out`` still holds; one line per notebook.

    ``base`` holds the settings every notebook shares, ``shares`` each one's extra parameters.
    """
    statuses = {}
    bar = tqdm(notebooks, desc=f"{base['profile']} run", unit="notebook", file=sys.stderr)
    for nb in bar:
        bar.set_postfix_str(nb.name)
        wanted = {**base, "params": shares[nb.name], "input_sha256": sha256(nb.path)}
        reason = "fresh" if fresh else needs_run(read_json(out / "meta" / f"{nb.name}.json"), wanted)
        if reason is None:
            statuses[nb.name] = "ok"
            tqdm.write(f"{nb.name:<32} skipped (finished in an earlier run)")
            continue
        meta = run_notebook(nb, out, wanted, context, timeout=timeout, notebook_timeout=notebook_timeout)
        statuses[nb.name] = meta["status"]
        tqdm.write(summary_line(meta, reason))
    bar.close()
    return statuses


def summary_line(meta: dict, reason: str) -> str:
    """The runner's one line for an executed notebook: status, wall time, why it ran, what failed."""
    line = f"{meta['notebook']:<32} {meta['status']:<7} {meta['wall_s']:8.1f} s  ({reason})"
    error = meta["error"]
    if error:
        first = (error["evalue"].splitlines() or [""])[0][:120]
        where = f"cell {error['cell']} of the source notebook; " if error["cell"] else ""
        line += f"  {error['ename']}: {first} ({where}traceback in {error['executed']})"
    return line
