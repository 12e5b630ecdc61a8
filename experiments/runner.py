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

The parts live in sibling modules: :mod:`experiments.run_options` (parameters, shards, limits),
:mod:`experiments.environment` (the kernels' environment and thread share),
:mod:`experiments.resume` (what must run again), :mod:`experiments.execute` (one notebook),
:mod:`experiments.notebook_errors` (what a failure's meta says), :mod:`experiments.kernels` (kernel
managers and the live kernels), :mod:`experiments.notebook_pool` (the worker threads),
:mod:`experiments.ctrl_c` (Ctrl-C handling), :mod:`experiments.run_files` (the lock and
``run.json``) and :mod:`experiments.run_summary` (the lines and table printed).  The names other
code imports from this module are re-exported here.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

from course_lib.repro import read_json, write_json
from experiments.ctrl_c import hold_interrupts, interrupts_restored
from experiments.environment import (
    THREAD_VARS,
    absolute_data_paths,
    cpu_count,
    kernel_environment,
    thread_share,
)
from experiments.execute import CellWatch, run_notebook
from experiments.notebook_pool import run_each
from experiments.resume import library_fingerprint, needs_run
from experiments.run_files import close_run, run_context, run_folder, run_record
from experiments.run_options import (
    Batch,
    checked_batch,
    default_out,
    parse_params,
    parse_shard,
    shard_of,
    shard_text,
)

__all__ = [
    "THREAD_VARS",
    "CellWatch",
    "absolute_data_paths",
    "cpu_count",
    "default_out",
    "kernel_environment",
    "library_fingerprint",
    "needs_run",
    "parse_params",
    "parse_shard",
    "read_json",
    "run_batch",
    "run_each",
    "run_folder",
    "run_notebook",
    "shard_of",
    "thread_share",
    "write_json",
]


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
    in_browser: bool = False,
    max_silent_s: float = 10.0,
) -> dict[str, str]:
    """Run the selected notebooks into ``out`` (default :func:`default_out`); return ``{name:
    status}``.

    ``timeout`` limits each cell, ``notebook_timeout`` each notebook (seconds; ``None``: no limit).
    ``params`` are extra notebook parameters, each passed to the notebooks that declare it.
    ``jobs`` notebooks run at once, each kernel with its share of the CPU threads (see
    :func:`thread_share`); ``shard`` (``"i/n"`` or ``(i, n)``) keeps the i-th of n slices of the
    selection (see :func:`shard_of`). ``in_browser`` executes the notebooks in JupyterLab in
    Chromium, each also failing on what a learner would see wrong (a warning box, a figure that did
    not load, a cell silent for longer than ``max_silent_s``: :mod:`experiments.browser_run`).
    Everything is checked, and the run folder locked, before the first notebook starts.
    """
    batch = checked_batch(
        profile,
        notebooks_dir=notebooks_dir,
        out=out,
        only=only,
        seed=seed,
        device=device,
        timeout=timeout,
        notebook_timeout=notebook_timeout,
        fresh=fresh,
        claims_dir=claims_dir,
        params=params,
        jobs=jobs,
        shard=shard,
        in_browser=in_browser,
        max_silent_s=max_silent_s,
    )
    with interrupts_restored(), run_folder(batch.out):  # the lock is let go with Ctrl-C ignored
        statuses = run_locked(batch)
        if report:
            from experiments.report import write_report

            md, html_path = write_report(batch.out, claims_dir=claims_dir)
            print(f"report: {md}\n        {html_path}")
    return statuses


def run_locked(batch: Batch) -> dict[str, str]:
    """Run ``batch`` in its run folder, locked already: ``run.json`` written as the run starts,
    the notebooks executed, then ``run.json`` closed as ``done``, or ``interrupted`` by Ctrl-C."""
    context = run_context(batch)
    run = run_record(batch, context)
    write_json(batch.out / "run.json", run)
    if not batch.notebooks:
        print(
            f"shard {shard_text(batch.shard)} holds none of the {len(batch.chosen)} selected "
            "notebook(s); nothing to run"
        )
    base = {
        "profile": batch.profile,
        "seed": batch.seed,
        "device": batch.device,
        "library_sha256": library_fingerprint(),
        # a run in the browser checks more than papermill's: papermill's earlier runs do not hold
        **({"executor": "browser"} if batch.in_browser else {}),
    }
    t0 = time.perf_counter()
    try:
        with notebook_executor(batch) as execute:
            statuses = run_each(
                batch.notebooks,
                batch.out,
                base,
                {nb.name: batch.shares[nb.name] for nb in batch.notebooks},
                context,
                fresh=batch.fresh,
                timeout=batch.timeout,
                notebook_timeout=batch.notebook_timeout,
                jobs=batch.jobs,
                kernel_env=batch.kernel_env,
                execute=execute,
            )
    except KeyboardInterrupt:
        hold_interrupts()  # held already by run_each; also when it came before run_each's try
        close_run(batch.out, run, t0, "interrupted")
        raise
    close_run(batch.out, run, t0, "done", statuses)
    return statuses


@contextmanager
def notebook_executor(batch: Batch):
    """What executes one notebook of ``batch``: :func:`run_notebook` (papermill), or in the
    browser a free worker's :meth:`~experiments.browser_run.BrowserWorkers.run_notebook`."""
    if not batch.in_browser or not batch.notebooks:
        yield run_notebook
        return
    from experiments.browser_run import BrowserWorkers

    jobs = min(batch.jobs, len(batch.notebooks))
    with BrowserWorkers(jobs, batch.out, batch.kernel_env, batch.max_silent_s) as workers:
        yield workers.run_notebook
