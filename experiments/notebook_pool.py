"""Execute a run's notebooks up to ``jobs`` at a time: a thread pool whose workers each call
:func:`experiments.execute.run_notebook` with its own kernel and event loop, a progress bar, one
line per notebook as it ends and a table of wall times at the end.

Ctrl-C (seen by the main thread only) stops every running kernel, waits for the stopped notebooks
to be marked ``interrupted`` and re-raises.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

from tqdm import tqdm

from experiments.catalog import Notebook
from experiments.ctrl_c import hold_interrupts
from experiments.execute import run_notebook
from experiments.kernels import Kernels
from experiments.resume import plan_resume
from experiments.run_files import mark_interrupted
from experiments.run_summary import summary_line, wall_table

STOP_WAIT_S = 60  # after Ctrl-C, how long to wait for the stopped kernels' notebooks to be marked


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
    execute=run_notebook,
) -> dict[str, str]:
    """Execute each notebook unless its earlier run in ``out`` still holds, up to ``jobs`` at once;
    one line per notebook as it ends, and a table of wall times at the end (after Ctrl-C too).

    ``base`` holds the settings every notebook shares, ``shares`` each one's extra parameters.
    Ctrl-C stops every running kernel, waits for their notebooks to be marked ``interrupted`` and
    re-raises. ``execute`` runs one notebook (:func:`run_notebook`'s signature).
    """
    pool = NotebookPool(notebooks, out, context, jobs=jobs, execute=execute)
    todo, finished = plan_resume(notebooks, out, base, shares, fresh)
    pool.skip(finished)
    options = dict(timeout=timeout, notebook_timeout=notebook_timeout, kernel_env=kernel_env)
    return pool.run(todo, base["profile"], options)


class NotebookPool:
    """The notebooks of one run, executed on up to ``jobs`` worker threads, and how each ended."""

    def __init__(self, notebooks: list[Notebook], out: Path, context: dict, *, jobs: int, execute):
        self.t0 = time.perf_counter()
        self.execute = execute
        self.notebooks, self.out, self.context, self.jobs = notebooks, out, context, jobs
        self.kernels = Kernels()
        self.statuses: dict[str, str] = {}
        # name -> (status, wall time, note) for the table
        self.rows: dict[str, tuple[str, float | None, str]] = {}
        self.futures: dict = {}  # future -> (notebook, why it runs)
        self.collected: set = set()

    def skip(self, finished: list[tuple[Notebook, dict]]) -> None:
        """Count as ``ok`` the notebooks whose earlier run holds, each with its earlier meta."""
        for nb, earlier in finished:
            self.statuses[nb.name] = "ok"
            self.rows[nb.name] = ("skipped", earlier.get("wall_s"), "ok in an earlier run")
            tqdm.write(f"{nb.name:<32} skipped (finished in an earlier run)")

    def run(self, todo: list[tuple[Notebook, dict, str]], profile: str, options: dict) -> dict:
        """Execute ``todo``, ``(notebook, settings, why)`` each, with :func:`run_notebook`'s
        ``options``; return every notebook's status, in lesson order."""
        bar = self.progress_bar(len(todo), profile)
        papermill_log = logging.getLogger("papermill")  # nbclient logs through it
        papermill_log.addFilter(self.kernels.quiet)
        executor = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="notebook")
        try:
            self.futures.update(
                {
                    executor.submit(self.work, nb, wanted, options): (nb, reason)
                    for nb, wanted, reason in todo
                }
            )
            self.wait_all(bar)
        except BaseException:
            # Ctrl-C (or a bug): stop every kernel, then record what the stopped notebooks say;
            # more Ctrl-C from now on are ignored (run_batch restores the handler once the run is
            # closed)
            self.stop([nb.name for nb, _, _ in todo])
            bar.close()
            print(self.table())
            raise
        finally:
            executor.shutdown(wait=False, cancel_futures=True)
            papermill_log.removeFilter(self.kernels.quiet)
        bar.set_postfix_str("")
        bar.close()
        print(self.table())
        return {
            nb.name: self.statuses[nb.name] for nb in self.notebooks if nb.name in self.statuses
        }

    def progress_bar(self, running: int, profile: str) -> tqdm:
        """A bar of the run's notebooks, the skipped ones already counted."""
        return tqdm(
            total=len(self.notebooks),
            initial=len(self.notebooks) - running,
            desc=f"{profile} run",
            unit="notebook",
            file=sys.stderr,
            disable=None,  # no bar when stderr is not a terminal (a CI log): the lines below remain
        )

    def work(self, nb: Notebook, wanted: dict, options: dict) -> dict | None:
        """A worker's job: run one notebook, unless the run is stopping."""
        if self.kernels.stopping.is_set():
            return None
        return with_own_event_loop(
            self.execute, nb, self.out, wanted, self.context, **options, kernels=self.kernels
        )

    def wait_all(self, bar: tqdm) -> None:
        """Collect each notebook as it ends, naming on the bar those still running."""
        pending = set(self.futures)
        while pending:
            busy = [nb.name for f, (nb, _) in self.futures.items() if f in pending and f.running()]
            bar.set_postfix_str(", ".join(busy))
            done, pending = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: self.futures[f][0].lesson):
                self.collect(future)
                bar.update(1)

    def collect(self, future) -> None:
        """Record how a worker's notebook ended and print its line."""
        self.collected.add(future)
        nb, reason = self.futures[future]
        meta = future.result()
        if meta is not None:
            self.statuses[nb.name] = meta["status"]
            self.rows[nb.name] = (meta["status"], meta["wall_s"], "")
            tqdm.write(summary_line(meta, reason))

    def stop(self, names: list[str]) -> None:
        """After Ctrl-C: ignore more of them, kill every kernel, collect the notebooks that end
        within :data:`STOP_WAIT_S` and mark those of ``names`` left ``running`` interrupted."""
        hold_interrupts()
        self.kernels.stop_all()
        left = [f for f in self.futures if f not in self.collected and not f.cancel()]
        for future in wait(left, timeout=STOP_WAIT_S).done:
            if future.exception() is None:
                self.collect(future)
        mark_interrupted(self.out, names)

    def table(self) -> str:
        """The wall-time table of the run so far."""
        elapsed = time.perf_counter() - self.t0
        return wall_table(self.notebooks, self.rows, elapsed, self.context)


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
