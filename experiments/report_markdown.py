"""The report as Markdown (:func:`to_markdown`), from the data of
:func:`experiments.report_data.build`: a summary, a section per notebook (its claims table, error
and figures), then the lessons awaiting a notebook.  Text from outside (titles, errors, notes) is
escaped, so Markdown shows it as written."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import quote

from course_lib.claims import AWAIT_DATA, AWAIT_GPU, CONTEXT, NEEDS, NOT_RUN
from experiments.report_facts import duration, mixed, provenance_text, rel_path, run_facts

FIGURE_CAPTION = (
    "Every claim, by lesson: reproduced / published on a log axis, its bound drawn as a bar; "
    "below, the claims without a ratio: true/false, text, or not recorded"
)
# the claims a run did not measure, grouped by why: (status, heading)
UNMEASURED = (
    (AWAIT_GPU, "Awaiting a GPU run"),
    (AWAIT_DATA, "Awaiting a dataset"),
    (NOT_RUN, "Not run"),
    (CONTEXT, "Context: published numbers shown beside ours, not measured"),
)

# what Markdown would act on, in text from outside
MD_SPECIAL = re.compile(r"[\\`*\[\]<>|]|&(?=#?\w+;)")


def md_cell(text) -> str:
    """``text`` as literal Markdown on one line (such as a table cell): special characters
    escaped."""
    return MD_SPECIAL.sub(lambda m: "\\" + m.group(0), str(text)).replace("\n", " ")


def md_table(header: list[str], rows: list[list]) -> list[str]:
    """A Markdown table, each cell escaped by :func:`md_cell`."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]


def md_fence(code: str) -> list[str]:
    """``code`` in a fence longer than any run of backticks in it."""
    fence = "```"
    while fence in code:
        fence += "`"
    return [fence, code, fence]


def published_text(row: dict) -> str:
    return row["published"] + (" (to be checked)" if row["to_check"] else "")


def claim_text(row: dict) -> str:
    return f"{row['id']}: {row['title']}" + (f" — {row['setting']}" if row["setting"] else "")


def title(data: dict) -> str:
    return f"Reproduction report: {data['profile']} profile"


def error_lines(nb: dict, base: str) -> list[str]:
    """Where and how a notebook stopped: the source cell, the error, the executed notebook, the
    cell's start."""
    err = nb["error"]
    what = "Interrupted" if nb["status"] == "interrupted" else "Failed"
    where = f" in cell {err['cell']} of the source notebook" if err.get("cell") else ""
    out = [f"**{what}{where}:** {md_cell(err['ename'])}: {md_cell(err['evalue'])}", ""]
    if err.get("executed"):
        path = rel_path(err["executed"], base)
        out += [f"Traceback in the executed notebook [{md_cell(path)}]({quote(path)}).", ""]
    return out + (md_fence(err["cell_excerpt"]) + [""] if err.get("cell_excerpt") else [])


def summary_lines(data: dict, figure: str = "") -> list[str]:
    """The title, the overview figure, the run's facts and a table of the notebooks."""
    out = [f"# {title(data)}", ""]
    if figure:
        out += [f"![{FIGURE_CAPTION}]({quote(figure)})", "", f"*{FIGURE_CAPTION}*", ""]
    out += ["## Summary", ""]
    out += [f"- **{k}**: {md_cell(v)}" for k, v in run_facts(data)] + [""]
    return out + md_table(
        ["lesson", "notebook", "status", "wall time", "exercises"],
        [
            [nb["lesson"], nb["name"], nb["status"], wall_text(nb), nb["exercises"]]
            for nb in data["notebooks"]
        ],
    )


def wall_text(nb: dict) -> str:
    """The notebook's wall time, flagged when it is over its profile's budget."""
    flag = f" (over its {duration(nb['budget_s'])} budget)" if nb.get("over_budget") else ""
    return duration(nb["wall_s"]) + flag


def notebook_headline(nb: dict, data: dict) -> str:
    """The notebook's name, status, wall time and the devices it ran on, its note, and its
    provenance when the notebooks' differ."""
    return (
        f"`{nb['name']}`: **{nb['status']}**, wall time {wall_text(nb)}"
        + (f", ran on {md_cell(', '.join(nb['devices']))}" if nb.get("devices") else "")
        + (f" ({md_cell(nb['note'])})" if nb["note"] else "")
        + (
            f"; {md_cell(provenance_text(nb['provenance']))}"
            if mixed(data) and nb["provenance"]
            else ""
        )
    )


def reproduced_text(row: dict) -> str:
    """The reproduced value and its note, or, for a claim not recorded, what it needs."""
    if not row["value"] and row.get("needs"):
        return "needs " + ", ".join(NEEDS[n] for n in row["needs"])
    return row["value"] + (f" ({row['note']})" if row["note"] else "")


def unmeasured_lines(data: dict) -> list[str]:
    """The claims of the notebooks that this run did not measure, grouped by why."""
    out = ["", "## Not measured in this run", ""]
    rows = [(nb["lesson"], row) for nb in data["notebooks"] for row in nb["rows"]]
    for status, heading in UNMEASURED:
        group = [(lesson, row) for lesson, row in rows if row["status"] == status]
        if group:
            out += [f"### {heading} ({len(group)})", ""]
            out += md_table(
                ["lesson", "claim", "published", f"bound ({data['profile']})", "needs"],
                [
                    [lesson, claim_text(r), published_text(r), r["bound"], ", ".join(r["needs"])]
                    for lesson, r in group
                ],
            ) + [""]
    return out if len(out) > 3 else out + ["Every claim of the lessons that ran was recorded.", ""]


def claim_lines(rows: list[dict], profile: str) -> list[str]:
    """A notebook's claims table: published vs reproduced, the bound and the status."""
    if not rows:
        return ["No claims registered for this lesson.", ""]
    return md_table(
        ["claim", "published", "source", "reproduced", f"bound ({profile})", "status"],
        [
            [
                claim_text(r),
                published_text(r),
                r["source"],
                reproduced_text(r),
                r["bound"],
                r["status"],
            ]
            for r in rows
        ],
    ) + [""]


def file_lines(files: dict, data_version: str | None = None) -> list[str]:
    """The data and model files the notebook recorded, each named by its content hash, and the
    run's data version (one hash of them all): what produced the numbers above."""
    if not files:
        return []
    rows = [
        [role, f["checksum"][:19], Path(f["path"]).name, f["note"]]
        for role, f in sorted(files.items())
    ]
    version = [f"Data version of this run: `{data_version[:19]}`", ""] if data_version else []
    return (
        ["Files behind these numbers, each named by a checksum of its content:", ""]
        + md_table(["role", "checksum", "file", "note"], rows)
        + [""]
        + version
    )


def figure_lines(fig: dict, base: str) -> list[str]:
    """A figure and its caption, its path seen from the report's folder."""
    caption = md_cell(fig["caption"])
    return [f"![{caption}]({quote(rel_path(fig['path'], base))})", "", f"*{caption}*", ""]


def notebook_lines(nb: dict, data: dict, report_dir: Path) -> list[str]:
    """One notebook's section: headline, error, warning, claims table and figures."""
    # the notebook's run folder, seen from the report
    base = os.path.relpath(nb["run_dir"], report_dir)
    out = ["", f"## {nb['lesson']} {md_cell(nb['title'])}", "", notebook_headline(nb, data), ""]
    if nb["error"]:
        out += error_lines(nb, base)
    if nb["warning"]:
        out += [f"**Warning:** {md_cell(nb['warning'])}", ""]
    out += claim_lines(nb["rows"], data["profile"])
    out += file_lines(nb.get("files", {}), nb.get("data_version"))
    for fig in nb["figures"]:
        out += figure_lines(fig, base)
    return out


def awaiting_lines(awaiting: list[dict]) -> list[str]:
    """The lessons with registered claims but no notebook yet, each with its bounds."""
    out = ["", "## Awaiting a lesson", ""]
    if not awaiting:
        out += ["Every lesson with registered claims has a notebook.", ""]
    for lesson in awaiting:
        out += [f"### {lesson['lesson']} {md_cell(lesson['title'])}".rstrip(), ""]
        if lesson["rows"]:
            out += md_table(
                ["claim", "published", "source", "bound (quick)", "bound (full)"],
                [
                    [
                        claim_text(r),
                        published_text(r),
                        r["source"],
                        r["bounds"]["quick"],
                        r["bounds"]["full"],
                    ]
                    for r in lesson["rows"]
                ],
            ) + [""]
        else:
            out += ["No published claims; the lesson's results are measurements.", ""]
    return out


def to_markdown(data: dict, report_dir: str | Path | None = None, figure: str = "") -> str:
    """The report as Markdown, to be read from ``report_dir`` (default: the first run folder):
    figure and notebook paths are relative to it, from each notebook's own run folder.
    ``figure``: the overview of every claim, a file in ``report_dir``, shown first."""
    report_dir = Path(report_dir or data["run_dir"])
    out = summary_lines(data, figure)
    out += unmeasured_lines(data)
    for nb in data["notebooks"]:
        out += notebook_lines(nb, data, report_dir)
    out += awaiting_lines(data["awaiting"])
    return "\n".join(out)
