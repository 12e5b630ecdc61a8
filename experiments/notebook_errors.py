"""What a failed notebook's meta says about the failure: the exception, the failing cell as
numbered in the source notebook (1-based, markdown cells counted, papermill's injected parameters
cell not), an excerpt of that cell and the executed notebook holding the traceback."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import nbformat

if TYPE_CHECKING:
    from experiments.execute import CellWatch

EXCERPT_LINES = 8


def excerpt(source: str) -> str:
    """The first lines of a cell's source, for an error summary."""
    lines = source.splitlines()
    text = "\n".join(line[:160] for line in lines[:EXCERPT_LINES])
    return text + ("\n…" if len(lines) > EXCERPT_LINES else "")


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
    executed: Path,
    run_dir: Path,
    watch: CellWatch,
    notebook_timeout: float | None,
    err: BaseException,
) -> dict:
    """``err``'s name and message, the failing cell (number in the source notebook and an excerpt)
    and the executed notebook holding the traceback (relative to the run folder).  ``err`` comes
    last, so that a notebook's run can bind the rest with ``functools.partial``."""
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
