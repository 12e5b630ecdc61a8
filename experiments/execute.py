"""Execute one lesson notebook with papermill into a run folder, its kernel in the notebook's
folder, and record how it ended in its meta (``ok``, ``failed`` or ``interrupted``)."""

from __future__ import annotations

import math
import shutil
import time
from functools import partial
from pathlib import Path

from course_lib.repro import write_json
from experiments.catalog import Notebook
from experiments.kernels import IpcKernelManager, Kernels
from experiments.notebook_errors import error_summary
from experiments.records import sha256
from experiments.run_files import now

KERNEL = "python3"


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
    results = forget_results(out, nb.name)
    meta_path = out / "meta" / f"{nb.name}.json"
    meta = started_meta(nb, settings, context, timeout, notebook_timeout)
    write_json(meta_path, meta)
    watch = CellWatch(timeout, notebook_timeout)
    options = papermill_options(settings, results, watch, kernel_manager(nb, kernel_env, kernels))
    summary = partial(error_summary, executed, out, watch, notebook_timeout)
    t0 = time.perf_counter()
    try:
        # no cwd= here: papermill would os.chdir the whole process; the kernel manager gets the
        # folder instead
        pm.execute_notebook(str(nb.path), str(executed), **options)
        meta["status"] = "ok"
    except KeyboardInterrupt as err:  # the kernel is already stopped (shutdown_kernel="immediate")
        meta.update(status="interrupted", error=summary(err))
        finish(meta_path, meta, t0)
        raise
    except Exception as err:  # noqa: BLE001 - any failure is recorded and the batch goes on
        if kernels.stopping.is_set():  # its kernel was stopped by Ctrl-C
            meta.update(status="interrupted", error=summary(KeyboardInterrupt()))
        else:
            meta.update(status="failed", error=summary(err))
    finally:
        kernels.ended(nb.name)
    note_results(meta, results)
    return finish(meta_path, meta, t0)


def forget_results(out: Path, name: str) -> Path:
    """Remove notebook ``name``'s results file and figures from ``out``, so that results left by
    an earlier run are never shown as this run's; return the results file's path."""
    results = out / "results" / f"{name}.json"
    results.unlink(missing_ok=True)
    shutil.rmtree(results.with_name(f"{name}_figures"), ignore_errors=True)
    return results


def started_meta(
    nb: Notebook,
    settings: dict,
    context: dict,
    timeout: float | None,
    notebook_timeout: float | None,
) -> dict:
    """A notebook's meta as its execution starts (status ``running``)."""
    return {
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


def notebook_parameters(settings: dict, results: Path) -> dict:
    """What papermill injects into the notebook: the run's settings, where to write its results
    and its extra parameters."""
    return {
        "profile": settings["profile"],
        "seed": settings["seed"],
        "device": settings["device"],
        "results_path": str(results),
        **settings.get("params", {}),
    }


def kernel_manager(nb: Notebook, kernel_env: dict[str, str] | None, kernels: Kernels) -> type:
    """``nb``'s kernel manager class: its kernel runs in the notebook's folder with ``kernel_env``
    added to its environment, and is registered with ``kernels`` once launched."""
    return IpcKernelManager.for_notebook(
        nb.path.parent, kernel_env or {}, on_launch=lambda km: kernels.launched(nb.name, km)
    )


def papermill_options(settings: dict, results: Path, watch: CellWatch, manager: type) -> dict:
    """``papermill.execute_notebook``'s options: the notebook's parameters, no progress bar or
    logged output, the notebook saved after every cell, ``watch``'s time limits, and the kernel
    started by ``manager`` and stopped at once when the notebook ends."""
    return dict(
        parameters=notebook_parameters(settings, results),
        kernel_name=KERNEL,
        progress_bar=False,
        log_output=False,
        request_save_on_cell_execute=True,
        timeout_func=watch,
        kernel_manager_class=manager,
        shutdown_kernel="immediate",
    )


def note_results(meta: dict, results: Path) -> None:
    """On an ``ok`` meta, the results file's sha256 (resume and check re-read it against this), or
    a warning when the notebook wrote none."""
    if meta["status"] != "ok":
        return
    if not results.exists():
        meta["warning"] = (
            "the notebook wrote no results file (did it call repro.start(results_path, ...)?)"
        )
    else:
        meta["results_sha256"] = sha256(results)


def finish(meta_path: Path, meta: dict, t0: float) -> dict:
    """Stamp the end and wall time on a notebook's meta and write it."""
    meta.update(wall_s=round(time.perf_counter() - t0, 3), ended=now())
    write_json(meta_path, meta)
    return meta
