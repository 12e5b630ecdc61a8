"""A run's claim totals for the READMEs, from a report's data (see
:func:`experiments.report_data.build`): :func:`totals` counts the claims of the lessons the run
judged (see :func:`experiments.report_gate.in_scope`) by status, :func:`totals_markdown` says it
in Markdown, :func:`lesson_cells` sums up each lesson in one table cell, and :func:`rewrite` puts
both into a README's marked blocks::

    <!-- claims-totals -->(the totals)<!-- /claims-totals -->
    <!-- claims-lessons -->(a table whose rows start | NN |: the last cell is rewritten)
    <!-- /claims-lessons -->

``python -m experiments report RUN --totals`` prints the totals; ``--readme FILE ...`` rewrites
the blocks in place.
"""

from __future__ import annotations

import re

from course_lib.claims import (
    AWAIT_DATA,
    AWAIT_GPU,
    CONTEXT,
    FAIL,
    NO_BOUND,
    NOT_RUN,
    PASS,
)
from experiments.report_data import NB_FAILED, UNCONFIRMED
from experiments.report_gate import in_scope

# (status, how the totals name it); the last two are shown only when there are any
TOTALS = (
    (PASS, "pass"),
    (FAIL, "fail"),
    (NO_BOUND, "recorded, no bound"),
    (AWAIT_GPU, "awaiting a GPU run"),
    (AWAIT_DATA, "awaiting a dataset"),
    (CONTEXT, "context"),
    (NOT_RUN, "not run"),
    (UNCONFIRMED, "unconfirmed"),
    (NB_FAILED, "notebook failed"),
)
OPTIONAL = (UNCONFIRMED, NB_FAILED)
BLOCK = re.compile(r"(<!-- claims-(totals|lessons) -->\n)(.*?)(<!-- /claims-\2 -->)", re.S)
LESSON_ROW = re.compile(r"^\| (\d\d) \|")


def totals(data: dict) -> dict[str, int]:
    """Claims per status over the lessons the run judged, every status of :data:`TOTALS`."""
    counts = {status: 0 for status, _ in TOTALS}
    for nb in in_scope(data):
        for row in nb["rows"]:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
    return counts


def totals_markdown(data: dict, where: str) -> str:
    """The totals as a sentence and a one-row table, naming the run folder ``where``."""
    counts = totals(data)
    shown = [(s, name) for s, name in TOTALS if s not in OPTIONAL or counts[s]]
    lessons = len(in_scope(data))
    lines = [
        f"The committed {data['profile']} run (`{where}`, {lessons} lessons) judges "
        f"{sum(counts.values())} claims against their {data['profile']} bounds "
        "(`python -m experiments report RUN --readme FILE` writes this block):",
        "",
        "| " + " | ".join(name for _, name in shown) + " |",
        "|" + "---|" * len(shown),
        "| " + " | ".join(str(counts[s]) for s, _ in shown) + " |",
    ]
    return "\n".join(lines) + "\n"


def short(claim_id: str) -> str:
    """A claim's name without its source: ``relu_speedup``."""
    return claim_id.split(".", 1)[1]


def lesson_cell(rows: list[dict]) -> str:
    """One lesson's claims in a cell: the failed ones by name and value, the counts measured and
    context, then each unmeasured claim by name under why."""
    fails = [
        f"`{short(r['id'])}` {r['value'] or '—'} (bound {r['bound']})"
        for r in rows
        if r["status"] in (FAIL, UNCONFIRMED, NB_FAILED)
    ]
    out = [f"**fails: {', '.join(fails)}**"] if fails else []
    for status in (PASS, NO_BOUND, CONTEXT):
        n = sum(r["status"] == status for r in rows)
        out += [f"{n} {dict(TOTALS)[status]}"] if n else []
    for status in (AWAIT_GPU, AWAIT_DATA, NOT_RUN):
        names = [f"`{short(r['id'])}`" for r in rows if r["status"] == status]
        what = f"{dict(TOTALS)[status]} ({len(names)}): {', '.join(names)}"
        out += [f"**{what}**" if status == NOT_RUN else what] if names else []
    return "; ".join(out) or "no claims"


def lesson_cells(data: dict) -> dict[str, str]:
    """{lesson: :func:`lesson_cell`} for the lessons the run judged."""
    return {nb["lesson"]: lesson_cell(nb["rows"]) for nb in in_scope(data)}


def rewrite_table(table: str, cells: dict[str, str]) -> str:
    """``table`` with the last cell of each lesson row replaced by that lesson's cell."""
    lines = []
    for line in table.splitlines(keepends=True):
        match = LESSON_ROW.match(line)
        if match:
            head = line.rstrip("\n").rstrip().rstrip("|").rsplit("|", 1)[0]
            cell = cells.get(match.group(1), "not in this run")
            line = f"{head}| {cell} |\n"
        lines.append(line)
    return "".join(lines)


def rewrite(text: str, data: dict, where: str) -> str:
    """``text`` with its marked blocks (see the module) written from ``data``."""
    cells = lesson_cells(data)

    def block(match: re.Match) -> str:
        body = totals_markdown(data, where) if match.group(2) == "totals" else None
        body = body or rewrite_table(match.group(3), cells)
        return match.group(1) + body + match.group(4)

    if not BLOCK.search(text):
        raise ValueError("no <!-- claims-totals --> or <!-- claims-lessons --> block")
    return BLOCK.sub(block, text)
