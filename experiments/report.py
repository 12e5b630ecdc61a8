"""The reproduction report: published claims joined with what a run recorded, as Markdown and HTML.

:func:`course_lib.claims.judge` decides pass/fail; :func:`build` gathers one run folder, or several
(the shards of one selection, say), into plain data; :func:`to_markdown` renders it, :func:`to_html`
turns that Markdown into a page (mistune); :func:`write_report` writes both; :func:`gate` reads the
same data as a claims gate (what makes ``run --strict`` and ``check`` fail).  Each part lives in
its own module (:mod:`~experiments.report_runs` reads the run folders,
:mod:`~experiments.report_data` gathers the data, :mod:`~experiments.report_gate`,
:mod:`~experiments.report_facts`, :mod:`~experiments.report_markdown`,
:mod:`~experiments.report_html`); this one names them all and writes the files.

The report opens with one figure (:mod:`~experiments.report_figure`): every claim's reproduced
value against its published one, ``report_claims.png`` beside ``report.md``.

Merging folders: every folder must hold a run of the same profile; each notebook is taken from the
folder that ran it, and a notebook run in two of the folders is an error naming both, unless the two
runs are identical (the same meta and results: one folder copied).  Figures and executed notebooks
are linked relative to the report's own folder.
"""

from __future__ import annotations

from pathlib import Path

from course_lib.repro import read_json
from experiments import UserError
from experiments.report_data import (
    FINISHED,
    NB_FAILED,
    STATUSES,
    UNCONFIRMED,
    build,
    claim_row,
    git_line,
    notebook_entry,
    provenance,
    shared_provenance,
)
from experiments.report_facts import (
    duration,
    machine_line,
    machines_text,
    mixed,
    one_or_several,
    provenance_text,
    rel_path,
    run_facts,
    run_text,
    shards_text,
)
from experiments.report_figure import FIGURE, figure_points, write_figure
from experiments.report_gate import gate, gate_passed, in_scope, notebook_problem
from experiments.report_html import CSS, CSS_CLASS, ReportRenderer, status_class, to_html
from experiments.report_markdown import (
    MD_SPECIAL,
    claim_text,
    error_lines,
    md_cell,
    md_fence,
    md_table,
    published_text,
    title,
    to_markdown,
)
from experiments.report_runs import (
    damaged,
    one_of,
    read_run,
    run_folders,
    same_run,
    where_each_ran,
)

__all__ = [
    "CSS",
    "CSS_CLASS",
    "FIGURE",
    "FINISHED",
    "MD_SPECIAL",
    "NB_FAILED",
    "STATUSES",
    "UNCONFIRMED",
    "ReportRenderer",
    "build",
    "claim_row",
    "claim_text",
    "damaged",
    "duration",
    "error_lines",
    "figure_points",
    "gate",
    "gate_passed",
    "git_line",
    "in_scope",
    "machine_line",
    "machines_text",
    "md_cell",
    "md_fence",
    "md_table",
    "mixed",
    "notebook_entry",
    "notebook_problem",
    "one_of",
    "one_or_several",
    "provenance",
    "provenance_text",
    "published_text",
    "read_json",
    "read_run",
    "rel_path",
    "run_facts",
    "run_folders",
    "run_text",
    "same_run",
    "shards_text",
    "shared_provenance",
    "status_class",
    "title",
    "to_html",
    "to_markdown",
    "where_each_ran",
    "write_figure",
    "write_report",
]


def write_report(
    run_dirs, out: str | Path | None = None, *, claims_dir=None, notebooks_dir=None
) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` for one run folder (into ``out``, default the run
    folder) or for several merged into one report (``out`` required)."""
    folders = run_folders(run_dirs)
    if out is None and len(folders) > 1:
        raise UserError(
            f"a report of {len(folders)} run folders needs --out DIR (the folder for the report)"
        )
    data = build(folders, claims_dir=claims_dir, notebooks_dir=notebooks_dir)
    out = Path(out).resolve() if out else folders[0]
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; give a folder for the report")
    out.mkdir(parents=True, exist_ok=True)
    md, page = out / "report.md", out / "report.html"
    figure = write_figure(data, out)
    text = to_markdown(data, out, figure=figure.name)
    md.write_text(text, encoding="utf-8")
    page.write_text(to_html(text, title(data)), encoding="utf-8")
    return md, page
