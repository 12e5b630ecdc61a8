"""The claims gate on a report's data (:func:`experiments.report_data.build`): what makes
``run --strict`` and ``check`` fail."""

from __future__ import annotations

from pathlib import Path

from course_lib.claims import AWAIT_DATA, AWAIT_GPU, FAIL, NOT_RUN, PASS
from course_lib.repro import WIDEST_FIGURE_PX
from experiments.report_data import UNCONFIRMED


def in_scope(data: dict, names=None) -> list[dict]:
    """The notebooks a gate judges: ``names`` (a run's selection), or else every notebook that ran
    in the folders or that one of their runs selected."""
    if names is not None:
        return [nb for nb in data["notebooks"] if nb["name"] in set(names)]
    selected = {name for r in data["runs"] for name in r["selected"]}
    return [nb for nb in data["notebooks"] if nb["status"] != "not run" or nb["name"] in selected]


def gate(data: dict, names=None) -> list[str]:
    """Why ``data`` fails the claims gate, one line each; an empty list when it passes.

    It fails on a notebook in scope (see :func:`in_scope`) that is not ``ok``, on a claim of such a
    notebook that has a bound for the profile and is judged ``fail`` or ``unconfirmed``, on a figure
    too wide for JupyterLab to show legibly (``WIDEST_FIGURE_PX``), and, when
    no ``names`` are given, on a run folder whose run did not finish.  Claims without a bound,
    claims awaiting a GPU run or a dataset, context and lessons not yet written never fail it.
    """
    problems = []
    if names is None:
        problems += [
            f"run folder {r['run_dir']} did not finish (status {r['status']}); "
            "run the same command again to resume"
            for r in data["runs"]
            if r["status"] != "done"
        ]
    for nb in in_scope(data, names):
        if nb["status"] != "ok":
            problems.append(notebook_problem(nb))
        problems += [
            f"claim {row['id']} ({nb['name']}): reproduced {row['value'] or '—'}, "
            f"bound {row['bound']} ({data['profile']}): {row['status']}"
            for row in nb["rows"]
            if row["has_bound"] and row["status"] in (FAIL, UNCONFIRMED)
        ]
        problems += [
            f"figure {f['path']} ({nb['name']}) is {f['width_px']} px wide; JupyterLab shows about "
            f"1000 px, so its labels shrink: make its figsize narrower (at most "
            f"{WIDEST_FIGURE_PX} px, about {WIDEST_FIGURE_PX / 100:.1f} inches at 100 dpi)"
            for f in nb["figures"]
            if (f.get("width_px") or 0) > WIDEST_FIGURE_PX
        ]
    return problems


def notebook_problem(nb: dict) -> str:
    """One line for a notebook that did not end ``ok``: its status, error, cell and traceback
    file."""
    line = f"notebook {nb['name']}: {nb['status']}"
    err = nb.get("error")
    if nb["status"] == "not run":
        return line + " (selected, but the run never got to it)"
    if err:
        first = (err.get("evalue", "").splitlines() or [""])[0][:160]
        where = f"cell {err['cell']} of the source notebook; " if err.get("cell") else ""
        path = Path(nb["run_dir"]) / err["executed"] if err.get("executed") else None
        line += f" — {err['ename']}" + (f": {first}" if first else "")
        line += (
            f" ({where}traceback in {path})"
            if path
            else (f" ({where.rstrip('; ')})" if where else "")
        )
    return line


def gate_passed(data: dict, names=None) -> str:
    """The line for a run that passes the gate: how many notebooks and bounded claims it judged."""
    scope = in_scope(data, names)
    rows = [row for nb in scope for row in nb["rows"] if row["has_bound"]]
    passed = sum(row["status"] == PASS for row in rows)
    unrecorded = sum(row["status"] == NOT_RUN for row in rows)
    parked = sum(row["status"] in (AWAIT_GPU, AWAIT_DATA) for row in rows)
    return (
        f"claims gate passed: {len(scope)} notebook(s) ok, "
        f"{passed} claim(s) with a {data['profile']} bound pass"
        + (f", {unrecorded} with a bound not recorded by its notebook" if unrecorded else "")
        + (f", {parked} awaiting a GPU run or a dataset" if parked else "")
    )
