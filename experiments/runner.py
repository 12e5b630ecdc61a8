"""Execute lesson notebooks with papermill into a run folder, resuming where a run stopped.

A run folder holds, per notebook ``NN_slug``::

    executed/NN_slug.ipynb        the executed notebook, outputs and tracebacks included
    results/NN_slug.json          what the notebook recorded (course_lib.repro), and
    results/NN_slug_figures/      its figures
    meta/NN_slug.json             status (running / ok / failed / interrupted), error, wall time,
                                  settings, commit, library fingerprint, versions

and ``run.json`` for the run as a whole, plus ``report.md`` / ``report.html``.  A notebook whose
meta says ``ok`` for the same profile, seed, device, extra parameters, notebook file and library
code (every ``*.py`` of ``course_lib``) is skipped on the next run; interrupted and failed ones are
executed again.  Each meta records the commit, library fingerprint and seed its results came from.

A failure's ``error`` names the failing cell as its number in the source notebook (1-based, markdown
cells counted, papermill's injected parameters cell not) and the executed notebook with the
traceback. Kernels talk over ipc sockets and are stopped at once when a notebook ends, fails or is
interrupted.

Extra parameters (``--param finetune=adam``) go to the notebooks whose parameters cell declares
them.

``jobs`` notebooks run side by side, each in its own kernel: a thread pool whose workers each call
:func:`run_notebook`.  Nothing process-wide changes while they run: a kernel's working folder and
environment (the claims folder, and with ``jobs > 1`` its share of the CPU threads) are given to its
kernel manager, never set with ``os.chdir`` or in ``os.environ``.  ``shard=(i, n)`` runs the i-th of
n disjoint slices of the selected notebooks (notebook k, counted from 0 in lesson order, goes to
slice ``k % n + 1``), so one selection can be spread over several machines, each into its own
folder.
"""

from __future__ import annotations

import ast
import asyncio
import contextvars
import fcntl
import hashlib
import json
import logging
import math
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
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
from experiments.records import results_problem, sha256

KERNEL = "python3"
EXCERPT_LINES = 8
RESERVED = ("profile", "seed", "device", "results_path")  # set by the runner itself
LITERAL_START = re.compile(
    r"[\[({'\"]|[+-]?\d"
)  # how a number, list, tuple, dict or quoted string starts
LIBRARY = Path(course_lib.__file__).resolve().parent
CHANGED = {"input_sha256": "notebook changed", "library_sha256": "library changed"}
# What the numeric libraries read at start-up for their thread pools: OpenMP (torch's intra-op
# threads too), OpenBLAS (NumPy's wheels), MKL (torch's CPU build reads it as well), Accelerate
# (NumPy on macOS).
THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)
SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
STOP_WAIT_S = 60  # after Ctrl-C, how long to wait for the stopped kernels' notebooks to be marked


def check_not_reserved(name: str) -> None:
    """A parameter the runner sets itself cannot be passed as an extra one."""
    if name in RESERVED:
        raise UserError(
            f"--param {name}: the runner sets {name} itself; use --{name.replace('_', '-')}"
        )


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
            raise UserError(
                f"--param {name}={text}: {text!r} is not a valid Python value; to pass it as "
                f"a string, quote it: --param \"{name}='{text}'\""
            ) from None
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
        raise UserError(
            f"no selected notebook has a parameter named {', '.join(unused)}; "
            f"see the parameters cell of the lesson (and --only)"
        )
    return {
        nb.name: {k: v for k, v in params.items() if k in declared.get(nb.name, ())}
        for nb in notebooks
    }


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``"2/4"`` -> ``(2, 4)``, the second of four slices; ``None`` stays ``None``; anything else is
    an error."""
    if text is None:
        return None
    match = SHARD.match(str(text))
    index, count = (int(g) for g in match.groups()) if match else (0, 0)
    if not (1 <= index <= count):
        raise UserError(
            f"--shard {text!r}: write I/N with 1 <= I <= N, e.g. --shard 2/4 for the second "
            f"of four slices"
        )
    return index, count


def shard_of(notebooks: list[Notebook], shard: tuple[int, int] | None) -> list[Notebook]:
    """Slice ``shard = (i, n)`` of ``notebooks`` (lesson order): the k-th notebook, counted from 0,
    is in slice ``k % n + 1``; every notebook for ``None``.  The n slices are disjoint and cover
    them all."""
    if shard is None:
        return notebooks
    index, count = shard
    return [nb for k, nb in enumerate(notebooks) if k % count == index - 1]


def shard_text(shard: tuple[int, int] | None) -> str | None:
    return None if shard is None else f"{shard[0]}/{shard[1]}"


def default_out(profile: str, shard: tuple[int, int] | None = None) -> Path:
    """``runs/<profile>``, or ``runs/<profile>-<i>of<n>`` for a shard (each shard has its own
    folder)."""
    return REPO / "runs" / (profile if shard is None else f"{profile}-{shard[0]}of{shard[1]}")


def cpu_count() -> int:
    """The CPUs this process may run on (its affinity: what taskset, SLURM or a container
    grants)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def thread_share(jobs: int, environ=os.environ) -> tuple[int | None, dict[str, str]]:
    """Threads per kernel and the thread variables to add to each kernel's environment.

    One job at a time leaves the libraries their own defaults (nothing is set).  With more, every
    variable of :data:`THREAD_VARS` the user has not set becomes ``max(1, cpu_count() // jobs)``.
    """
    if jobs <= 1:
        return None, {}
    share = max(1, cpu_count() // jobs)
    return share, {var: str(share) for var in THREAD_VARS if not environ.get(var)}


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")


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


def library_fingerprint(folder: Path = LIBRARY) -> str:
    """sha256 over the sorted relative paths and contents of every ``*.py`` file under
    ``folder``."""
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
    """nbclient ``timeout_func``: a per-cell limit, capped by what is left of a whole-notebook
    limit."""

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


def kernel_environment(base, extra: dict) -> dict:
    """A notebook kernel's environment: ``base`` plus ``extra``, without ``MPLBACKEND``, so the
    kernel draws figures inline and the executed notebook holds them (the website shows them)
    whatever backend this process was told to use (CI sets Agg for its tests)."""
    env = {**base, **extra}
    env.pop("MPLBACKEND", None)
    return env


class IpcKernelManager(AsyncKernelManager):
    """Kernels on local ipc sockets instead of TCP ports, so ipykernel has no TCP-without-encryption
    warning to print; the sockets are files in the temp folder (a fresh name per kernel), removed
    with the kernel.  :meth:`for_notebook` makes a subclass that also starts its kernel in a given
    folder with extra environment variables and reports the launched kernel, so nothing process-wide
    (``os.chdir``, ``os.environ``) has to change while other notebooks run."""

    transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)
    kernel_cwd: str | None = None  # set by for_notebook
    kernel_env: dict | None = None
    on_launch = None

    @default("ip")
    def _ip_default(self) -> str:
        """A fresh socket-file prefix in the temp folder, or in /tmp when the temp folder's path
        is too long for a Unix socket (about 107 bytes with the port appended)."""
        name = f"course-kernel-{uuid.uuid4().hex[:12]}"
        folder = tempfile.gettempdir()
        if len(os.path.join(folder, name)) > 90 and os.path.isdir("/tmp"):
            folder = "/tmp"
        return os.path.join(folder, name)

    @classmethod
    def for_notebook(cls, cwd: str | Path, env: dict[str, str], on_launch=None) -> type:
        """A kernel manager class whose kernels run in ``cwd`` with ``env`` added to this process's
        environment; ``on_launch(manager)`` is called once the kernel process exists."""
        return type(
            "NotebookKernelManager",
            (cls,),
            {
                "kernel_cwd": str(cwd),
                "kernel_env": dict(env),
                "on_launch": staticmethod(on_launch) if on_launch else None,
            },
        )

    async def _async_pre_start_kernel(self, **kw):
        if self.kernel_cwd:
            kw.setdefault("cwd", self.kernel_cwd)
        kw["env"] = kernel_environment(kw.get("env", os.environ), self.kernel_env or {})
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
        await super()._async_launch_kernel(kernel_cmd, **kw)
        if self.on_launch is not None:
            self.on_launch(self)


def kill_kernel(manager) -> None:
    """SIGKILL a kernel's process group (the kernel and whatever it started); one already gone is
    fine."""
    provisioner = getattr(manager, "provisioner", None)
    process, pgid = getattr(provisioner, "process", None), getattr(provisioner, "pgid", None)
    try:
        # kernels start in their own session, so their process group is theirs alone
        if pgid and hasattr(os, "killpg") and pgid != os.getpgrp():
            os.killpg(pgid, signal.SIGKILL)
        elif process is not None:
            process.kill()
    except OSError:  # ProcessLookupError: it ended by itself meanwhile
        pass
    for cleanup in ("cleanup_ipc_files", "cleanup_connection_file"):  # a killed kernel leaves them
        try:
            getattr(manager, cleanup, lambda: None)()
        except OSError:
            pass


class Kernels:
    """The kernels of a run that are alive, by notebook, so Ctrl-C (seen by the main thread only)
    can stop every one of them while worker threads wait on their replies."""

    def __init__(self):
        self._lock = threading.Lock()
        self._live: dict[str, object] = {}
        self.stopping = threading.Event()

    def launched(self, name: str, manager) -> None:
        with self._lock:
            self._live[name] = manager
        if self.stopping.is_set():  # launched while stop_all was at work: it must not run on
            kill_kernel(manager)

    def ended(self, name: str) -> None:
        with self._lock:
            self._live.pop(name, None)

    def quiet(self, record: logging.LogRecord) -> bool:
        """A logging filter: nothing from papermill's logger once stopping (each killed kernel would
        otherwise log 'Kernel died while waiting for execute reply')."""
        return not self.stopping.is_set()

    def stop_all(self) -> None:
        """Mark the run as stopping and kill every live kernel; their notebooks end as
        ``interrupted``."""
        self.stopping.set()
        with self._lock:
            live = list(self._live.values())
        for manager in live:
            kill_kernel(manager)


def tagged(cell, tag: str) -> bool:
    return tag in cell.get("metadata", {}).get("tags", [])


def is_injected(cell) -> bool:
    """True for the cell papermill inserts after the ``parameters`` cell."""
    return tagged(cell, "injected-parameters")


def executed_cells(path: Path) -> list:
    """The cells papermill executed (without the error notes it adds after a failure); [] if
    unreadable."""
    from papermill.execute import ERROR_MARKER_TAG

    try:
        cells = nbformat.read(path, as_version=4).cells
    except Exception:  # noqa: BLE001 - no executed notebook (the kernel never started): no cell to name
        return []
    return [cell for cell in cells if not tagged(cell, ERROR_MARKER_TAG)]


def failing_cell(cells: list, index: int | None) -> int | None:
    """Index of the cell that stopped a run: ``index`` when papermill names it, else the last one
    started."""
    if index is not None:
        return index
    started = [
        i
        for i, c in enumerate(cells)
        if c.get("metadata", {}).get("papermill", {}).get("start_time")
    ]
    return started[-1] if started else None


def source_cell(cells: list, index: int | None) -> int | None:
    """Executed cell ``index`` as a 1-based cell number of the source notebook (markdown cells
    counted, papermill's injected parameters cell not); ``None`` for the injected cell itself or no
    cell."""
    if index is None or index >= len(cells) or is_injected(cells[index]):
        return None
    return index + 1 - sum(map(is_injected, cells[:index]))


def error_summary(
    err: BaseException,
    executed: Path,
    run_dir: Path,
    watch: CellWatch,
    notebook_timeout: float | None,
) -> dict:
    """Exception name and message, the failing cell (number in the source notebook and an excerpt)
    and the executed notebook holding the traceback (relative to the run folder)."""
    from papermill.exceptions import PapermillExecutionError

    cells = executed_cells(executed)
    known = isinstance(err, PapermillExecutionError)
    message = str(err.evalue if known else err).strip()[:2000]
    if not known and watch.past_deadline:
        message += f" (whole-notebook limit of {notebook_timeout:g} s reached)"
    index = failing_cell(cells, err.cell_index if known else None)
    return {
        "ename": err.ename if known else type(err).__name__,
        "evalue": message,
        "cell": source_cell(cells, index),
        "cell_excerpt": excerpt(cells[index].source)
        if index is not None and index < len(cells)
        else "",
        "executed": executed.relative_to(run_dir).as_posix(),
    }


def needs_run(meta: dict | None, settings: dict, results: Path | None = None) -> str | None:
    """Why a notebook must run again (``None``: its earlier run in this folder still holds).

    ``results`` is its results file: an ``ok`` run whose file is missing or unreadable runs
    again (a report cannot judge it)."""
    if meta is None:
        return "new"
    if meta.get("status") in ("running", "interrupted"):
        return "interrupted earlier"
    if meta.get("status") != "ok":
        return f"{meta.get('status', 'unknown')} earlier"
    for key, value in settings.items():
        # metas written before --param existed have no params
        if meta.get(key, {} if key == "params" else None) != value:
            return CHANGED.get(key, f"{key} changed")
    problem = results_problem(results, meta) if results is not None else None
    return f"its results file {problem}" if problem else None


def run_notebook(
    nb: Notebook,
    out: Path,
    settings: dict,
    context: dict,
    *,
    timeout: float | None,
    notebook_timeout: float | None,
    kernel_env: dict[str, str] | None = None,
    kernels: Kernels | None = None,
) -> dict:
    """Execute one notebook into ``out``; return its meta (status ``ok``, ``failed`` or
    ``interrupted``).

    The kernel runs in the notebook's folder with ``kernel_env`` added to its environment.  A kernel
    stopped by ``kernels.stop_all()`` (Ctrl-C seen by another thread) marks the meta
    ``interrupted``; Ctrl-C in this thread stops the kernel, marks the meta ``interrupted`` and
    raises KeyboardInterrupt.
    """
    import papermill as pm

    kernels = kernels or Kernels()
    executed = out / "executed" / f"{nb.name}.ipynb"
    results = out / "results" / f"{nb.name}.json"
    results.unlink(missing_ok=True)  # never show results left by an earlier run as this run's
    shutil.rmtree(results.with_name(f"{nb.name}_figures"), ignore_errors=True)
    meta_path = out / "meta" / f"{nb.name}.json"
    meta = {
        "notebook": nb.name,
        "lesson": nb.lesson,
        "title": nb.title,
        "status": "running",
        **settings,
        "timeout_s": timeout,
        "notebook_timeout_s": notebook_timeout,
        "input": str(nb.path),
        "executed": f"executed/{nb.name}.ipynb",
        "results": f"results/{nb.name}.json",
        "started": now(),
        "ended": None,
        "wall_s": None,
        "error": None,
        **context,
    }
    write_json(meta_path, meta)
    parameters = {
        "profile": settings["profile"],
        "seed": settings["seed"],
        "device": settings["device"],
        "results_path": str(results),
        **settings.get("params", {}),
    }
    manager = IpcKernelManager.for_notebook(
        nb.path.parent, kernel_env or {}, on_launch=lambda km: kernels.launched(nb.name, km)
    )
    watch = CellWatch(timeout, notebook_timeout)
    t0 = time.perf_counter()
    try:
        # no cwd= here: papermill would os.chdir the whole process; the kernel manager gets the
        # folder instead
        pm.execute_notebook(
            str(nb.path),
            str(executed),
            parameters=parameters,
            kernel_name=KERNEL,
            progress_bar=False,
            log_output=False,
            request_save_on_cell_execute=True,
            timeout_func=watch,
            kernel_manager_class=manager,
            shutdown_kernel="immediate",
        )
        meta["status"] = "ok"
    except KeyboardInterrupt as err:  # the kernel is already stopped (shutdown_kernel="immediate")
        meta.update(
            status="interrupted", error=error_summary(err, executed, out, watch, notebook_timeout)
        )
        finish(meta_path, meta, t0)
        raise
    except Exception as err:  # noqa: BLE001 - any failure is recorded and the batch goes on
        if kernels.stopping.is_set():  # its kernel was stopped by Ctrl-C
            meta.update(
                status="interrupted",
                error=error_summary(KeyboardInterrupt(), executed, out, watch, notebook_timeout),
            )
        else:
            meta.update(
                status="failed", error=error_summary(err, executed, out, watch, notebook_timeout)
            )
    finally:
        kernels.ended(nb.name)
    if meta["status"] == "ok" and not results.exists():
        meta["warning"] = (
            "the notebook wrote no results file (did it call repro.start(results_path, ...)?)"
        )
    elif meta["status"] == "ok":
        meta["results_sha256"] = sha256(results)  # resume and check re-read it against this
    return finish(meta_path, meta, t0)


def finish(meta_path: Path, meta: dict, t0: float) -> dict:
    """Stamp the end and wall time on a notebook's meta and write it."""
    meta.update(wall_s=round(time.perf_counter() - t0, 3), ended=now())
    write_json(meta_path, meta)
    return meta


def absolute_data_paths(environ=os.environ) -> None:
    """Make ``COURSE_DATA``, ``COURSE_CACHE`` and ``COURSE_CLAIMS`` absolute: each notebook's kernel
    runs in its own folder."""
    for var in ("COURSE_DATA", "COURSE_CACHE", CLAIMS_ENV):
        if environ.get(var):
            environ[var] = os.path.abspath(environ[var])


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


def check_limit(seconds, name: str) -> float | None:
    """A time limit in seconds: ``None``, 0 and infinity mean none; a negative, NaN or non-number
    is an error naming ``name``."""
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds >= 0:
        raise UserError(
            f"{name}={seconds!r}: give a number of seconds, at least 0 (0 or None: no limit)"
        )
    return None if seconds == 0 or math.isinf(seconds) else float(seconds)


def check_jobs(jobs) -> int:
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise UserError(
            f"--jobs {jobs!r}: give a whole number of notebooks to run at once, at least 1"
        )
    return jobs


def run_batch(
    profile: str = "quick",
    *,
    notebooks_dir: str | Path | None = None,
    out: str | Path | None = None,
    only: list[str] | None = None,
    seed: int = 0,
    device: str = "auto",
    timeout: float | None = None,
    notebook_timeout: float | None = None,
    fresh: bool = False,
    claims_dir: str | Path | None = None,
    report: bool = True,
    params: dict | None = None,
    jobs: int = 1,
    shard: str | tuple[int, int] | None = None,
) -> dict[str, str]:
    """Run the selected notebooks into ``out`` (default :func:`default_out`); return ``{name:
    status}``.

    ``timeout`` limits each cell, ``notebook_timeout`` each notebook (seconds; ``None``: no limit).
    ``params`` are extra notebook parameters, each passed to the notebooks that declare it.
    ``jobs`` notebooks run at once, each kernel with its share of the CPU threads (see
    :func:`thread_share`); ``shard`` (``"i/n"`` or ``(i, n)``) keeps the i-th of n slices of the
    selection (see :func:`shard_of`). Everything is checked, and the run folder locked, before the
    first notebook starts.
    """
    check_profile(profile)
    jobs = check_jobs(jobs)
    timeout = check_limit(timeout, "timeout")
    notebook_timeout = check_limit(notebook_timeout, "notebook_timeout")
    shard = parse_shard(
        shard if shard is None or isinstance(shard, str) else "/".join(map(str, shard))
    )
    load_claims(claims_dir)  # an invalid registry stops the run before anything executes
    absolute_data_paths()
    notebooks_dir = Path(notebooks_dir or NOTEBOOKS).resolve()
    chosen = select(find_notebooks(notebooks_dir), only)
    if not chosen:
        raise UserError(f"no NN_slug.ipynb notebooks in {notebooks_dir}")
    notebooks = shard_of(chosen, shard)
    params = dict(params or {})
    for name in params:
        check_not_reserved(name)
    shares = params_for(
        chosen, params
    )  # a parameter must fit the selection, whichever shard this is
    out = Path(out or default_out(profile, shard)).resolve()
    claims = (
        str(Path(claims_dir).resolve()) if claims_dir else None
    )  # the kernels' repro.published reads it
    threads, thread_env = thread_share(jobs)
    kernel_env = {**({CLAIMS_ENV: claims} if claims else {}), **thread_env}
    with run_folder(out), interrupts_restored():
        from course_lib.backend import describe_machine

        seen = {var: os.environ.get(var) or thread_env.get(var) for var in THREAD_VARS}
        context = {
            "versions": describe_machine(),
            "git": git_info(notebooks_dir),
            "host": platform.node(),
            "jobs": jobs,
            "threads_per_kernel": threads,
            "thread_env": {var: value for var, value in seen.items() if value},
        }
        run = {
            "profile": profile,
            "seed": seed,
            "device": device,
            "params": params,
            "status": "running",
            "notebooks_dir": str(notebooks_dir),
            "claims_dir": claims,
            "selected": [nb.name for nb in notebooks],
            "fresh": fresh,
            "timeout_s": timeout,
            "notebook_timeout_s": notebook_timeout,
            "started": now(),
            "ended": None,
            "jobs": jobs,
            "threads_per_kernel": threads,
            "thread_env": context["thread_env"],
            "shard": None
            if shard is None
            else {"index": shard[0], "count": shard[1], "of": [nb.name for nb in chosen]},
            "machine": context["versions"],
            "git": context["git"],
            "host": context["host"],
            "command": sys.argv,
        }
        write_json(out / "run.json", run)
        if not notebooks:
            print(
                f"shard {shard_text(shard)} holds none of the {len(chosen)} selected "
                "notebook(s); nothing to run"
            )
        base = {
            "profile": profile,
            "seed": seed,
            "device": device,
            "library_sha256": library_fingerprint(),
        }
        t0 = time.perf_counter()
        try:
            statuses = run_each(
                notebooks,
                out,
                base,
                {nb.name: shares[nb.name] for nb in notebooks},
                context,
                fresh=fresh,
                timeout=timeout,
                notebook_timeout=notebook_timeout,
                jobs=jobs,
                kernel_env=kernel_env,
            )
        except KeyboardInterrupt:
            hold_interrupts()  # held already by run_each; also when it came before run_each's try
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
    run.update(
        status=status, ended=now(), wall_s=round(time.perf_counter() - t0, 3), statuses=statuses
    )
    write_json(out / "run.json", run)


def run_each(
    notebooks: list[Notebook],
    out: Path,
    base: dict,
    shares: dict[str, dict],
    context: dict,
    *,
    fresh: bool,
    timeout: float | None,
    notebook_timeout: float | None,
    jobs: int = 1,
    kernel_env: dict[str, str] | None = None,
) -> dict[str, str]:
    """Execute each notebook unless its earlier run in ``out`` still holds, up to ``jobs`` at once;
    one line per notebook as it ends, and a table of wall times at the end (after Ctrl-C too).

    ``base`` holds the settings every notebook shares, ``shares`` each one's extra parameters.
    Ctrl-C stops every running kernel, waits for their notebooks to be marked ``interrupted`` and
    re-raises.
    """
    t0 = time.perf_counter()
    statuses: dict[str, str] = {}
    rows: dict[
        str, tuple[str, float | None, str]
    ] = {}  # name -> (status, wall time, note) for the table
    todo = []
    for nb in notebooks:
        wanted = {**base, "params": shares[nb.name], "input_sha256": sha256(nb.path)}
        earlier = read_json(out / "meta" / f"{nb.name}.json")
        if earlier is not None and not isinstance(earlier, dict):
            earlier = None  # a damaged meta: run again
        results = out / "results" / f"{nb.name}.json"
        reason = "fresh" if fresh else needs_run(earlier, wanted, results)
        if reason is None:
            statuses[nb.name] = "ok"
            rows[nb.name] = ("skipped", earlier.get("wall_s"), "ok in an earlier run")
            tqdm.write(f"{nb.name:<32} skipped (finished in an earlier run)")
        else:
            todo.append((nb, wanted, reason))
    kernels = Kernels()

    def work(nb: Notebook, wanted: dict) -> dict | None:
        if kernels.stopping.is_set():
            return None
        return with_own_event_loop(
            run_notebook,
            nb,
            out,
            wanted,
            context,
            timeout=timeout,
            notebook_timeout=notebook_timeout,
            kernel_env=kernel_env,
            kernels=kernels,
        )

    collected = set()

    def collect(future) -> None:
        collected.add(future)
        nb, reason = futures[future]
        meta = future.result()
        if meta is not None:
            statuses[nb.name] = meta["status"]
            rows[nb.name] = (meta["status"], meta["wall_s"], "")
            tqdm.write(summary_line(meta, reason))

    bar = tqdm(
        total=len(notebooks),
        initial=len(notebooks) - len(todo),
        desc=f"{base['profile']} run",
        unit="notebook",
        file=sys.stderr,
        disable=None,  # no bar when stderr is not a terminal (a CI log): the lines below remain
    )
    papermill_log = logging.getLogger("papermill")  # nbclient logs through it
    papermill_log.addFilter(kernels.quiet)
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="notebook")
    futures: dict = {}
    try:
        futures.update({pool.submit(work, nb, wanted): (nb, reason) for nb, wanted, reason in todo})
        pending = set(futures)
        while pending:
            bar.set_postfix_str(
                ", ".join(futures[f][0].name for f in futures if f in pending and f.running())
            )
            done, pending = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: futures[f][0].lesson):
                collect(future)
                bar.update(1)
    except BaseException:
        # Ctrl-C (or a bug): stop every kernel, then record what the stopped notebooks say; more
        # Ctrl-C from now on are ignored (run_batch restores the handler once the run is closed)
        hold_interrupts()
        kernels.stop_all()
        left = [f for f in futures if f not in collected and not f.cancel()]
        for future in wait(left, timeout=STOP_WAIT_S).done:
            if future.exception() is None:
                collect(future)
        mark_interrupted(out, [nb.name for nb, _, _ in todo])
        bar.close()
        print(wall_table(notebooks, rows, time.perf_counter() - t0, context))
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        papermill_log.removeFilter(kernels.quiet)
    bar.set_postfix_str("")
    bar.close()
    print(wall_table(notebooks, rows, time.perf_counter() - t0, context))
    return {nb.name: statuses[nb.name] for nb in notebooks if nb.name in statuses}


def hold_interrupts() -> None:
    """Ignore Ctrl-C from now on (main thread only: elsewhere signals cannot be set), so that the
    cleanup after a first Ctrl-C is not cut short by a second."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def interrupts_restored():
    """Whatever the block does to Ctrl-C's handler, put this thread's original one back after."""
    main = threading.current_thread() is threading.main_thread()
    original = signal.getsignal(signal.SIGINT) if main else None
    try:
        yield
    finally:
        if main and original is not None:
            signal.signal(signal.SIGINT, original)


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


def with_own_event_loop(function, *args, **kwargs):
    """Call ``function`` in a fresh context of this (worker) thread, so that the event loop
    jupyter's helpers make for it is its own, then close that loop together with the tasks nbclient
    leaves pending (when the thread ended, the garbage collector would complain about them)."""
    from jupyter_core.utils import ensure_event_loop  # the loop jupyter_client and nbclient run on

    def run():
        try:
            return function(*args, **kwargs)
        finally:
            loop = ensure_event_loop()
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            if tasks:
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.close()
            asyncio.set_event_loop(None)

    asyncio.set_event_loop(None)
    return contextvars.Context().run(run)


def wall_table(
    notebooks: list[Notebook], rows: dict[str, tuple], elapsed: float, context: dict
) -> str:
    """Every selected notebook with its status and wall time, then the total: where a run's time
    went."""
    jobs, threads = context.get("jobs", 1), context.get("threads_per_kernel")
    how = f"{jobs} at a time, {threads} thread(s) per kernel" if jobs > 1 else "one at a time"
    lines = [
        f"wall time per notebook ({how}):",
        f"  {'notebook':<32} {'status':<11} {'wall time':>10}",
    ]
    total = 0.0
    for nb in notebooks:
        status, wall, note = rows.get(nb.name, ("not run", None, ""))
        if status != "skipped" and wall is not None:
            total += wall
        shown = "—" if wall is None else f"{wall:.1f} s"
        lines.append(f"  {nb.name:<32} {status:<11} {shown:>10}" + (f"  ({note})" if note else ""))
    lines.append(
        f"  {'total':<32} {'':<11} {total:>8.1f} s  "
        f"(notebooks run now; the run took {elapsed:.1f} s)"
    )
    return "\n".join(lines)


def summary_line(meta: dict, reason: str) -> str:
    """The runner's one line for an executed notebook: status, wall time, why it ran, what
    failed."""
    line = f"{meta['notebook']:<32} {meta['status']:<7} {meta['wall_s']:8.1f} s  ({reason})"
    error = meta["error"]
    if error:
        first = (error["evalue"].splitlines() or [""])[0][:120]
        where = f"cell {error['cell']} of the source notebook; " if error["cell"] else ""
        line += (
            f"  {error['ename']}"
            + (f": {first}" if first else "")
            + f" ({where}traceback in {error['executed']})"
        )
    return line
