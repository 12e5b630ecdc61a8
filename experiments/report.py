"""The reproduction report: published claims joined with what a run recorded, as Markdown and HTML.

:func:`course_lib.claims.judge` decides pass/fail; :func:`build` gathers one run folder, or several
(the shards of one selection, say), into plain data; :func:`to_markdown` renders it, :func:`to_html`
turns that Markdown into a page (mistune); :func:`write_report` writes both; :func:`gate` reads the
same data as a claims gate (what makes ``run --strict`` and ``check`` fail).

Merging folders: every folder must hold a run of the same profile; each notebook is taken from the
folder that ran it, and a notebook run in two of the folders is an error naming both, unless the two
runs are identical (the same meta and results: one folder copied).  Figures and executed notebooks
are linked relative to the report's own folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import quote

import mistune
from mistune.util import escape as escape_html

from course_lib.claims import (
    FAIL,
    MISSING,
    NO_BOUND,
    NOT_RUN,
    PASS,
    Claim,
    format_bound,
    format_value,
    judge,
    load_claims,
)
from course_lib.exercises import exercises_for
from course_lib.repro import read_json
from experiments import NOTEBOOKS, UserError
from experiments.catalog import find_notebooks
from experiments.records import results_problem

NB_FAILED = "notebook failed"  # a claim the failed notebook never recorded
UNCONFIRMED = (
    "unconfirmed — notebook did not finish"  # recorded, but the notebook failed or was interrupted
)
STATUSES = (PASS, FAIL, NO_BOUND, UNCONFIRMED, NOT_RUN, NB_FAILED)
FINISHED = ("ok", "failed", "interrupted")  # notebook statuses whose results belong to this run


def duration(seconds: float | None) -> str:
    """``12.3 s``, ``4 min 05 s``, ``2 h 03 min``; ``—`` for none."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def claim_row(
    claim: Claim | None, claim_id: str, profile: str, recorded: dict | None, nb_status: str
) -> dict:
    """One table row: published vs reproduced, the bound for ``profile`` and the status."""
    value = recorded["value"] if recorded is not None else MISSING
    bound = claim.bound(profile) if claim else None
    status = judge(bound, value)
    if status == NOT_RUN and nb_status == "failed":
        status = NB_FAILED
    elif status != NOT_RUN and nb_status in ("failed", "interrupted"):
        status = UNCONFIRMED
    published = (
        "—"
        if claim is None
        else format_value(claim.published) + (f" {claim.unit}" if claim.unit else "")
    )
    return {
        "id": claim_id,
        "has_bound": bound is not None,
        "title": claim.title if claim else "not in the claims registry",
        "published": published,
        "to_check": bool(claim and not claim.checked),
        "source": claim.source if claim else "",
        "setting": claim.setting if claim else "",
        "value": "" if value is MISSING else format_value(value),
        "note": (recorded or {}).get("note", ""),
        "bound": format_bound(bound),
        "bounds": {p: format_bound(claim.bound(p)) for p in ("quick", "full")} if claim else {},
        "status": status,
    }


def notebook_entry(name, lesson, title, meta, results, claims, profile) -> dict:
    """Status, wall time, error, claim rows and figures of one notebook in a run."""
    note = ""
    if meta is None:
        status = "not run"
    elif meta.get("profile") != profile:
        status, note = (
            "not run",
            f"this folder's earlier run of it used profile {meta.get('profile')!r}",
        )
    else:
        status = {"running": "interrupted"}.get(meta.get("status"), meta.get("status", "unknown"))
        if meta.get("params"):
            note = "parameters " + ", ".join(f"{k}={v!r}" for k, v in meta["params"].items())
    use = status in FINISHED
    recorded = (results or {}).get("claims", {}) if use else {}
    rows = [claim_row(c, c.id, profile, recorded.get(c.id), status) for c in claims]
    known = {c.id for c in claims}
    rows += [
        claim_row(None, cid, profile, rec, status)
        for cid, rec in recorded.items()
        if cid not in known
    ]
    figures = [
        {"path": f"results/{f['path']}", "caption": f.get("caption", "")}
        for f in ((results or {}).get("figures", []) if use else [])
    ]
    error = (meta or {}).get("error")
    meta = meta if use else {}
    return {
        "name": name,
        "lesson": lesson,
        "title": title,
        "status": status,
        "note": note,
        "wall_s": meta.get("wall_s"),
        "error": error,
        "warning": meta.get("warning"),
        "rows": rows,
        "figures": figures,
        "provenance": provenance(meta) if use else None,
        "exercises": len(exercises_for(lesson)),
    }


def provenance(meta: dict) -> dict:
    """What a notebook's results came from: code (commit and course_lib fingerprint), seed,
    device."""
    library = meta.get("library_sha256")
    code = git_line(meta.get("git")) + (f", course_lib {library[:12]}" if library else "")
    return {"code": code, "seed": meta.get("seed"), "device": meta.get("device")}


def shared_provenance(notebooks: list[dict]) -> dict[str, list]:
    """For code, seed and device: the distinct values among the notebooks that ran."""
    ran = [nb["provenance"] for nb in notebooks if nb["provenance"]]
    return {key: sorted({p[key] for p in ran}, key=str) for key in ("code", "seed", "device")}


def run_folders(run_dirs) -> list[Path]:
    """One run folder or several, resolved, each once, in the order given."""
    given = [run_dirs] if isinstance(run_dirs, (str, os.PathLike)) else list(run_dirs)
    if not given:
        raise UserError("give at least one run folder")
    folders: list[Path] = []
    for folder in given:
        folder = Path(folder).resolve()
        if folder not in folders:
            folders.append(folder)
    return folders


def read_run(run_dir: Path) -> dict:
    path = run_dir / "run.json"
    if not path.is_file():
        raise UserError(f"{run_dir} is not a run folder (no run.json); make one with `run`")
    run = read_json(path)
    if not isinstance(run, dict) or not isinstance(run.get("profile"), str):
        raise UserError(
            f"{path} is damaged (not a run record); run the same `run` command again into "
            f"{run_dir} to rewrite it (finished notebooks are kept)"
        )
    return run


def one_of(runs: list[tuple[Path, dict]], key: str, what: str, hint: str):
    """The value of ``key`` that every run.json shares; an error naming each folder's when they
    differ."""
    values = {run.get(key) for _, run in runs}
    if len(values) > 1:
        each = ", ".join(f"{folder}: {run.get(key)}" for folder, run in runs)
        raise UserError(f"the run folders used different {what} ({each}); {hint}")
    return values.pop()


def same_run(a: tuple[Path, dict], b: tuple[Path, dict], name: str) -> bool:
    """True when two folders hold the same run of notebook ``name`` (same meta, same results)."""
    results = [read_json(folder / "results" / f"{name}.json") for folder, _ in (a, b)]
    return a[1] == b[1] and results[0] == results[1]


def damaged(path: Path, profile: str, problem: str) -> dict:
    """A stand-in meta for a notebook whose record cannot be trusted: status ``damaged``, with
    the file, what is wrong with it and the fix as its error."""
    name = f"{path.parent.name}/{path.name}"
    fix = "run the same `run` command again, which runs this notebook again"
    error = {"ename": "DamagedRecord", "evalue": f"{name} {problem}; {fix}"}
    return {"status": "damaged", "profile": profile, "error": error}


def where_each_ran(runs: list[tuple[Path, dict]], profile: str) -> dict[str, tuple[Path, dict]]:
    """For each notebook with a meta in some folder: that folder and the meta.  A folder whose meta
    is of this profile wins over one whose meta is left from an earlier run of another profile."""
    found: dict[str, list[tuple[Path, dict]]] = {}
    for folder, _ in runs:
        for path in sorted((folder / "meta").glob("*.json")):
            meta = read_json(path)
            if not isinstance(meta, dict):
                meta = damaged(path, profile, "is damaged (not a JSON record)")
            found.setdefault(path.stem, []).append((folder, meta))
    chosen = {}
    for name, places in found.items():
        current = [place for place in places if place[1].get("profile") == profile]
        for other in current[1:]:
            if not same_run(current[0], other, name):
                raise UserError(
                    f"notebook {name} ran in two of the run folders, {current[0][0]} and "
                    f"{other[0]}; a merged report takes each notebook from one folder: leave one "
                    "of the two out, or run the notebook again into one of them"
                )
        chosen[name] = (current or places)[0]
    return chosen


def build(run_dirs, *, claims_dir=None, notebooks_dir=None) -> dict:
    """Everything the report shows, as plain data (see :func:`to_markdown`), for one run folder or a
    list of them (see the module's note on merging)."""
    folders = run_folders(run_dirs)
    runs = [(folder, read_run(folder)) for folder in folders]
    profile = one_of(runs, "profile", "profiles", "report each profile on its own")
    if claims_dir is None:
        claims_dir = one_of(
            runs, "claims_dir", "claims folders", "give the one to judge them by with --claims"
        )
    registry = load_claims(claims_dir)
    nb_dirs = (
        [Path(notebooks_dir)]
        if notebooks_dir
        else list(dict.fromkeys(Path(run.get("notebooks_dir") or NOTEBOOKS) for _, run in runs))
    )
    known: dict[str, tuple[str, str]] = {}
    for nb_dir in nb_dirs:
        for nb in find_notebooks(nb_dir) if nb_dir.is_dir() else []:
            known.setdefault(nb.name, (nb.lesson, nb.title))
    ran = where_each_ran(runs, profile)
    for name, (_, meta) in ran.items():
        if name not in known:
            known[name] = (meta.get("lesson", name[:2]), meta.get("title", name))
    for _, run in runs:  # selected, but never started (the run was stopped first)
        for name in run.get("selected") or []:
            known.setdefault(name, (name[:2], ""))
    notebooks = []
    for name, (lesson, title) in sorted(known.items()):
        folder, meta = ran.get(name, (folders[0], None))
        path = folder / "results" / f"{name}.json"
        problem = results_problem(path, meta) if meta and meta.get("status") == "ok" else None
        if problem:
            meta = damaged(path, profile, problem)
        results = read_json(path)
        entry = notebook_entry(
            name,
            lesson,
            title or registry.titles.get(lesson, ""),
            meta,
            results,
            registry.for_lesson(lesson),
            profile,
        )
        notebooks.append({**entry, "run_dir": str(folder)})
    have = {nb["lesson"] for nb in notebooks}
    awaiting = [
        {
            "lesson": lesson,
            "title": registry.titles.get(lesson, ""),
            "rows": [
                claim_row(c, c.id, profile, None, "not run") for c in registry.for_lesson(lesson)
            ],
        }
        for lesson in registry.lessons
        if lesson not in have
    ]
    counts = {s: 0 for s in STATUSES}
    for nb in notebooks:
        for row in nb["rows"]:
            counts[row["status"]] += 1
    nb_counts: dict[str, int] = {}
    for nb in notebooks:
        nb_counts[nb["status"]] = nb_counts.get(nb["status"], 0) + 1
    walls = [nb["wall_s"] for nb in notebooks if nb["wall_s"] is not None]
    summaries = [
        {
            "run_dir": str(folder),
            "status": run.get("status"),
            "started": run.get("started"),
            "ended": run.get("ended"),
            "selected": run.get("selected") or [],
            "shard": run.get("shard"),
            "jobs": run.get("jobs", 1),
            "machine": run.get("machine") or {},
        }
        for folder, run in runs
    ]
    ended = [r["ended"] for r in summaries]
    return {
        "run_dir": str(folders[0]),
        "run_dirs": [str(f) for f in folders],
        "runs": summaries,
        "profile": profile,
        "provenance": shared_provenance(notebooks),
        "started": min((r["started"] for r in summaries if r["started"]), default=None),
        "ended": None if None in ended else max(ended),
        "machine": summaries[0]["machine"],
        "counts": counts,
        "notebook_counts": nb_counts,
        "total_wall_s": sum(walls) if walls else None,
        "notebooks": notebooks,
        "awaiting": awaiting,
        "awaiting_claims": sum(len(a["rows"]) for a in awaiting),
    }


# ---------------------------------------------------------------- the claims gate


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
    notebook that has a bound for the profile and is judged ``fail`` or ``unconfirmed``, and, when
    no ``names`` are given, on a run folder whose run did not finish.  Claims without a bound and
    claims of lessons not yet written never fail it.
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
    return (
        f"claims gate passed: {len(scope)} notebook(s) ok, "
        f"{passed} claim(s) with a {data['profile']} bound pass"
        + (f", {unrecorded} with a bound not recorded by its notebook" if unrecorded else "")
    )


# ---------------------------------------------------------------- rendering helpers


def machine_line(machine: dict) -> str:
    keys = ("platform", "processor", "cpu_count", "gpu", "python", "numpy", "torch", "cupy")
    return ", ".join(f"{k} {machine[k]}" for k in keys if machine.get(k) not in (None, ""))


def git_line(git: dict | None) -> str:
    if not git:
        return "not in a git repository"
    return git["commit"][:12] + (" (with uncommitted changes)" if git.get("dirty") else "")


def one_or_several(values: list, several: str) -> str:
    """The one value all notebooks share, or ``several`` (``—`` when no notebook ran)."""
    return str(values[0]) if len(values) == 1 else several if values else "—"


def mixed(data: dict) -> bool:
    """True when the notebooks' results came from different code, seeds or devices."""
    return any(len(values) > 1 for values in data["provenance"].values())


def provenance_text(p: dict) -> str:
    return f"code {p['code']}, seed {p['seed']}, device {p['device']}"


def run_facts(data: dict) -> list[tuple[str, str]]:
    counts, nbs, prov = data["counts"], data["notebook_counts"], data["provenance"]
    seed = one_or_several(prov["seed"], "several, see each lesson")
    device = one_or_several(prov["device"], "several, see each lesson")
    return [
        (
            "claims",
            ", ".join(f"{n} {s}" for s, n in counts.items())
            + f"; {data['awaiting_claims']} awaiting a lesson",
        ),
        ("notebooks", ", ".join(f"{n} {s}" for s, n in sorted(nbs.items())) or "none"),
        ("profile", f"{data['profile']} (seed {seed}, device {device})"),
        ("total wall time", duration(data["total_wall_s"])),
        ("machine", machines_text(data)),
        ("code", one_or_several(prov["code"], "several commits, see each lesson")),
        (
            "run" if len(data["runs"]) == 1 else f"runs ({len(data['runs'])} folders)",
            "; ".join(run_text(r) for r in data["runs"]),
        ),
    ] + ([("shards", shards_text(data["runs"]))] if any(r["shard"] for r in data["runs"]) else [])


def run_text(run: dict) -> str:
    shard = run["shard"]
    part = f"shard {shard['index']}/{shard['count']}, " if shard else ""
    jobs = f", {run['jobs']} notebooks at a time" if (run.get("jobs") or 1) > 1 else ""
    return f"{run['run_dir']} ({part}{run['started']} to {run['ended'] or 'unfinished'}{jobs})"


def machines_text(data: dict) -> str:
    """The machine, or each folder's when the folders ran on different machines."""
    lines = {r["run_dir"]: machine_line(r["machine"]) or "unknown" for r in data["runs"]}
    if len(set(lines.values())) == 1:
        return next(iter(lines.values()))
    return "; ".join(f"{folder}: {line}" for folder, line in lines.items())


def shards_text(runs: list[dict]) -> str:
    """Which shards of a selection the folders hold, and which are missing: ``2 of 4 (missing 3,
    4)``."""
    parts = []
    for count in sorted({r["shard"]["count"] for r in runs if r["shard"]}):
        have = sorted(
            {r["shard"]["index"] for r in runs if r["shard"] and r["shard"]["count"] == count}
        )
        missing = [i for i in range(1, count + 1) if i not in have]
        parts.append(
            f"{', '.join(map(str, have))} of {count}"
            + (f" (missing {', '.join(map(str, missing))})" if missing else " (all)")
        )
    return "; ".join(parts)


def rel_path(path: str, base: str) -> str:
    """``path`` (relative to the run folder) as seen from the report's folder ``base``."""
    return path if base == "." else Path(os.path.normpath(os.path.join(base, path))).as_posix()


# ---------------------------------------------------------------- Markdown

MD_SPECIAL = re.compile(
    r"[\\`*\[\]<>|]|&(?=#?\w+;)"
)  # what Markdown would act on, in text from outside


def md_cell(text) -> str:
    """``text`` as literal Markdown on one line (such as a table cell): special characters
    escaped."""
    return MD_SPECIAL.sub(lambda m: "\\" + m.group(0), str(text)).replace("\n", " ")


def md_table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]


def md_fence(code: str) -> list[str]:
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


def to_markdown(data: dict, report_dir: str | Path | None = None) -> str:
    """The report as Markdown, to be read from ``report_dir`` (default: the first run folder):
    figure and notebook paths are relative to it, from each notebook's own run folder."""
    p = data["profile"]
    report_dir = Path(report_dir or data["run_dir"])
    out = [f"# {title(data)}", "", "## Summary", ""]
    out += [f"- **{k}**: {md_cell(v)}" for k, v in run_facts(data)] + [""]
    out += md_table(
        ["lesson", "notebook", "status", "wall time", "exercises"],
        [
            [nb["lesson"], nb["name"], nb["status"], duration(nb["wall_s"]), nb["exercises"]]
            for nb in data["notebooks"]
        ],
    )
    for nb in data["notebooks"]:
        base = os.path.relpath(
            nb["run_dir"], report_dir
        )  # the notebook's run folder, seen from the report
        out += [
            "",
            f"## {nb['lesson']} {md_cell(nb['title'])}",
            "",
            f"`{nb['name']}`: **{nb['status']}**, wall time {duration(nb['wall_s'])}"
            + (f" ({md_cell(nb['note'])})" if nb["note"] else "")
            + (
                f"; {md_cell(provenance_text(nb['provenance']))}"
                if mixed(data) and nb["provenance"]
                else ""
            ),
            "",
        ]
        if nb["error"]:
            out += error_lines(nb, base)
        if nb["warning"]:
            out += [f"**Warning:** {md_cell(nb['warning'])}", ""]
        if nb["rows"]:
            out += md_table(
                ["claim", "published", "source", "reproduced", f"bound ({p})", "status"],
                [
                    [
                        claim_text(r),
                        published_text(r),
                        r["source"],
                        r["value"] + (f" ({r['note']})" if r["note"] else ""),
                        r["bound"],
                        r["status"],
                    ]
                    for r in nb["rows"]
                ],
            ) + [""]
        else:
            out += ["No claims registered for this lesson.", ""]
        for fig in nb["figures"]:
            caption = md_cell(fig["caption"])
            out += [f"![{caption}]({quote(rel_path(fig['path'], base))})", "", f"*{caption}*", ""]
    out += ["", "## Awaiting a lesson", ""]
    if not data["awaiting"]:
        out += ["Every lesson with registered claims has a notebook.", ""]
    for lesson in data["awaiting"]:
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
    return "\n".join(out)


# ---------------------------------------------------------------- HTML

CSS = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; width: 100%; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.st { font-weight: 600; white-space: nowrap; }
.pass { color: #17692b; } .fail, .failed, .nbfail { color: #b3261e; }
.notrun, .interrupted { color: #777; } .nobound, .unconfirmed { color: #7a5a00; }
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; }
img { max-width: 100%; } em { color: #555; }
"""
CSS_CLASS = {
    PASS: "pass",
    FAIL: "fail",
    NOT_RUN: "notrun",
    NO_BOUND: "nobound",
    NB_FAILED: "nbfail",
    UNCONFIRMED: "unconfirmed",
    "ok": "pass",
    "failed": "failed",
    "interrupted": "interrupted",
}


class ReportRenderer(mistune.HTMLRenderer):
    """mistune's HTML, with a status class on every table cell and bold text that is exactly a
    status."""

    def table_cell(self, text: str, align: str | None = None, head: bool = False) -> str:
        tag = "th" if head else "td"
        attrs = {
            "style": f"text-align:{align}" if align else None,
            "class": None if head else status_class(text),
        }
        return f"  <{tag}{self.render_attrs(attrs)}>{text}</{tag}>\n"

    def strong(self, text: str) -> str:
        return f"<strong{self.render_attrs({'class': status_class(text)})}>{text}</strong>"


def status_class(text: str) -> str | None:
    """``"st pass"`` for the text ``pass`` (any status), ``None`` for other text."""
    return f"st {CSS_CLASS[text]}" if text in CSS_CLASS else None


def to_html(markdown: str, title: str) -> str:
    """The page for the report's Markdown: its HTML (raw HTML in the text escaped) in a small
    head."""
    render = mistune.create_markdown(
        escape=True, renderer=ReportRenderer(escape=True), plugins=["table"]
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape_html(title)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n{render(markdown)}</body>\n</html>\n"
    )


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
    text = to_markdown(data, out)
    md.write_text(text, encoding="utf-8")
    page.write_text(to_html(text, title(data)), encoding="utf-8")
    return md, page
