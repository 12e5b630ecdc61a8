"""Execute a run's notebooks in JupyterLab in Chromium instead of papermill: ``python -m experiments
run --in-browser``.

Each lesson is then run once and checked twice over: the run folder gets what papermill would have
written (the executed notebook, saved by JupyterLab, its results and its meta), and the lesson
passes only if a learner would also have seen nothing wrong (:func:`experiments.browser.run_lesson`:
no error or warning box, every figure loaded and not shrunk, no long silent cell, a clean server
log).  ``make test`` runs the lessons this way, so CI runs each of them once, not twice.

The notebook opened is a copy with papermill's parameters cell injected (the run's profile, seed,
device and where to write the results), as papermill would execute it.  Each worker is a JupyterLab
server and a Chromium page on a thread of its own (playwright's sync API belongs to the thread that
started it); the run's worker threads hand their notebooks to whichever is free.  Differences from
papermill: only the whole notebook has a time limit (``--timeout``, per cell, is refused), and
the wall time includes opening the notebook in JupyterLab and drawing its outputs.
"""

from __future__ import annotations

import queue
import shutil
import threading
import time
from concurrent.futures import Future
from functools import partial
from pathlib import Path

import nbformat

from course_lib.repro import write_json
from experiments.catalog import Notebook
from experiments.execute import (
    KERNEL,
    finish,
    forget_results,
    note_results,
    notebook_parameters,
    started_meta,
)
from experiments.notebook_errors import excerpt, source_cell

DEFAULT_LIMIT_S = 1800.0  # a lesson's limit when the run sets no whole-notebook limit
START_LIMIT_S = 180.0  # for a worker's JupyterLab and Chromium to start


def write_parameterized(nb: Notebook, copy: Path, settings: dict, results: Path) -> None:
    """Write ``nb`` to ``copy`` with papermill's injected parameters cell, as papermill would
    execute it."""
    from papermill.iorw import load_notebook_node  # gives every cell the tags papermill looks at
    from papermill.parameterize import parameterize_notebook

    notebook = load_notebook_node(str(nb.path))
    notebook.metadata.setdefault("kernelspec", {"name": KERNEL, "language": "python"})
    notebook = parameterize_notebook(
        notebook, notebook_parameters(settings, results), kernel_name=KERNEL, language="python"
    )
    nbformat.write(notebook, copy)


def browser_error(executed: Path, verdict: dict) -> dict:
    """A failed lesson's ``error`` for its meta: the first error output of the saved notebook
    (its cell numbered as in the source notebook), else the browser's first problem."""
    try:
        cells = nbformat.read(executed, as_version=4).cells
    except Exception:  # noqa: BLE001 - not saved (the page failed): the browser's word only
        cells = []
    problems = "; ".join(verdict["problems"])[:2000]
    for index, cell in enumerate(cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return {
                    "ename": output.get("ename", "Error"),
                    "evalue": str(output.get("evalue", ""))[:2000],
                    "cell": source_cell(cells, index),
                    "cell_excerpt": excerpt(cell.source),
                    "executed": f"executed/{executed.name}",
                    "browser": problems,
                }
    return {
        "ename": "BrowserCheckFailed",
        "evalue": problems,
        "cell": None,
        "executed": f"executed/{executed.name}",
    }


class Worker:
    """One JupyterLab server with one Chromium page, on a thread of its own: :meth:`call` runs a
    function of ``(lab, page)`` there."""

    def __init__(self, k: int, out: Path, env: dict[str, str]):
        self.k, self.out, self.env = k, out, env
        self.inbox: queue.Queue = queue.Queue()
        self.ready: Future = Future()
        self.lab = None
        self.thread = threading.Thread(target=self.serve, name=f"browser-{k}", daemon=True)
        self.thread.start()

    def serve(self) -> None:
        from playwright.sync_api import sync_playwright

        from experiments.browser import CHROMIUM, open_lab
        from experiments.lab_server import Lab

        try:
            self.lab = Lab([], log=self.out / "browser" / f"server-{self.k}.log", env=self.env)
            with self.lab as lab, sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                try:
                    page = open_lab(browser, lab)
                    self.ready.set_result(True)
                    while (job := self.inbox.get()) is not None:
                        function, done = job
                        try:
                            done.set_result(function(lab, page))
                        except BaseException as err:  # noqa: BLE001 - handed to the caller
                            done.set_exception(err)
                finally:
                    browser.close()
        except BaseException as err:  # noqa: BLE001 - a worker that could not start says why
            if not self.ready.done():
                self.ready.set_exception(err)

    def call(self, function):
        done: Future = Future()
        self.inbox.put((function, done))
        return done.result()

    def close(self, wait_s: float) -> None:
        self.inbox.put(None)
        self.thread.join(wait_s)
        if self.thread.is_alive() and self.lab is not None and hasattr(self.lab, "proc"):
            self.lab.proc.terminate()  # a lesson still running (Ctrl-C): its server, by its PID


class BrowserWorkers:
    """``jobs`` :class:`Worker`, for a run folder ``out`` (a context manager): their server logs
    and the lessons' screenshots go to ``out/browser/``, and :meth:`run_notebook` stands in for
    :func:`experiments.execute.run_notebook`.  The workers start with the first notebook that
    runs: a run that resumes every notebook starts no browser."""

    def __init__(self, jobs: int, out: Path, env: dict[str, str], max_silent_s: float):
        self.jobs, self.out, self.env, self.max_silent_s = jobs, Path(out), env, max_silent_s
        self.free: queue.Queue = queue.Queue()
        self.workers: list[Worker] = []
        self.starting = threading.Lock()
        self.start_error: BaseException | None = None

    def __enter__(self):
        return self

    def start(self) -> None:
        """Start the workers and wait until each is ready, once; a start that failed fails every
        later caller too."""
        with self.starting:
            if self.start_error is not None:
                raise self.start_error
            if self.workers:
                return
            (self.out / "browser").mkdir(parents=True, exist_ok=True)
            self.workers = [Worker(k, self.out, self.env) for k in range(self.jobs)]
            try:
                for worker in self.workers:
                    worker.ready.result(timeout=START_LIMIT_S)
                    self.free.put(worker)
            except BaseException as err:
                self.start_error = err
                raise

    def __exit__(self, *exc):
        for worker in self.workers:
            worker.close(wait_s=60 if not exc or exc[0] is None else 5)

    def run_notebook(
        self,
        nb: Notebook,
        out: Path,
        settings: dict,
        context: dict,
        *,
        timeout: float | None,
        notebook_timeout: float | None,
        kernel_env: dict[str, str] | None = None,
        kernels=None,
    ) -> dict:
        """Execute ``nb`` on the next free worker; return its meta, as papermill's runner does
        (``kernel_env`` is the workers' already; a per-cell ``timeout`` is refused earlier)."""
        self.start()
        worker = self.free.get()
        try:
            job = partial(self.run_on, nb=nb, out=out, settings=settings, context=context)
            return worker.call(partial(job, notebook_timeout=notebook_timeout, kernels=kernels))
        finally:
            self.free.put(worker)

    def run_on(self, lab, page, nb, out, settings, context, notebook_timeout, kernels) -> dict:
        """Run ``nb`` in ``lab``'s page; write its executed notebook and meta into ``out``.  Ctrl-C
        (``kernels.stopping``) closes the lesson at once and marks it ``interrupted``."""
        from experiments.browser import run_lesson

        executed = out / "executed" / f"{nb.name}.ipynb"
        results = forget_results(out, nb.name)
        meta_path = out / "meta" / f"{nb.name}.json"
        meta = started_meta(nb, settings, context, None, notebook_timeout)
        write_json(meta_path, meta)
        t0 = time.perf_counter()
        copy = lab.root / nb.path.name
        try:
            write_parameterized(nb, copy, settings, results)
            limit = notebook_timeout or DEFAULT_LIMIT_S
            stop = kernels.stopping if kernels is not None else None
            verdict = run_lesson(page, lab, copy, out / "browser", limit, self.max_silent_s, stop)
        except Exception as err:  # noqa: BLE001 - recorded, and the batch goes on
            verdict = dict(
                ok=False, problems=[f"the browser run stopped: {type(err).__name__}: {err}"]
            )
        finally:
            executed.parent.mkdir(parents=True, exist_ok=True)
            if copy.exists():
                shutil.copy(copy, executed)
                copy.unlink()
        meta["browser"] = {k: v for k, v in verdict.items() if k not in ("notebook", "ok")}
        if kernels is not None and kernels.stopping.is_set():
            evalue = "the run was stopped (Ctrl-C) while this notebook ran in the browser"
            error = dict(ename="KeyboardInterrupt", evalue=evalue, cell=None)
            error["executed"] = f"executed/{executed.name}"
            meta.update(status="interrupted", error=error)
        elif verdict["ok"]:
            meta["status"] = "ok"
        else:
            meta.update(status="failed", error=browser_error(executed, verdict))
        note_results(meta, results)
        return finish(meta_path, meta, t0)
