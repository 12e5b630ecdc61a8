"""What the runner prints about the notebooks of a run: one line for each executed notebook as it
ends, and the table of wall times at the end."""

from __future__ import annotations

from experiments.budgets import over
from experiments.catalog import Notebook


def wall_table(
    notebooks: list[Notebook], rows: dict[str, tuple], elapsed: float, context: dict
) -> str:
    """Every selected notebook with its status and wall time against the profile's budget, then
    the total: where a run's time went, and what is over budget."""
    jobs, threads = context.get("jobs", 1), context.get("threads_per_kernel")
    how = f"{jobs} at a time, {threads} thread(s) per kernel" if jobs > 1 else "one at a time"
    if context.get("executor") == "browser":
        how = f"in JupyterLab in Chromium, {how}"
    budget, run_budget = context.get("lesson_budget_s"), context.get("run_budget_s")
    lines = [
        f"wall time per notebook ({how}"
        + (f"; budget {budget:.0f} s a lesson" if budget else "")
        + "):",
        f"  {'notebook':<32} {'status':<11} {'wall time':>10}",
    ]
    total = 0.0
    for nb in notebooks:
        status, wall, note = rows.get(nb.name, ("not run", None, ""))
        if status != "skipped" and wall is not None:
            total += wall
        notes = [note] if note else []
        if status != "skipped" and over(wall, budget):
            notes.append(f"over its {budget:.0f} s budget")
        shown = "—" if wall is None else f"{wall:.1f} s"
        lines.append(f"  {nb.name:<32} {status:<11} {shown:>10}" + _notes(notes))
    lines.append(
        f"  {'total':<32} {'':<11} {total:>8.1f} s  "
        f"(notebooks run now; the run took {elapsed:.1f} s"
        + (f"; the whole course's budget is {run_budget / 60:.0f} min" if run_budget else "")
        + ")"
    )
    return "\n".join(lines)


def _notes(notes: list[str]) -> str:
    return f"  ({'; '.join(notes)})" if notes else ""


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
