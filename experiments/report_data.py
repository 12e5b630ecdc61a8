"""What a report shows, as plain data: each notebook's status, claim rows (published vs
reproduced, judged by :func:`course_lib.claims.judge`) and figures, gathered by :func:`build` from
one run folder or several (see :mod:`experiments.report` on merging)."""

from __future__ import annotations

from pathlib import Path

from course_lib.claims import (
    AWAIT_DATA,
    AWAIT_GPU,
    CONTEXT,
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
from experiments import NOTEBOOKS
from experiments.budgets import lesson_budget, over
from experiments.catalog import find_notebooks
from experiments.records import results_problem
from experiments.report_runs import damaged, one_of, read_run, run_folders, where_each_ran

NB_FAILED = "notebook failed"  # a claim the failed notebook never recorded
# recorded, but the notebook failed or was interrupted
UNCONFIRMED = "unconfirmed — notebook did not finish"
STATUSES = (PASS, FAIL, NO_BOUND, UNCONFIRMED, AWAIT_GPU, AWAIT_DATA, CONTEXT, NOT_RUN, NB_FAILED)
FINISHED = ("ok", "failed", "interrupted")  # notebook statuses whose results belong to this run


def claim_row(
    claim: Claim | None, claim_id: str, profile: str, recorded: dict | None, nb_status: str
) -> dict:
    """One table row: published vs reproduced, the bound for ``profile`` and the status."""
    value = recorded["value"] if recorded is not None else MISSING
    bound = claim.bound(profile) if claim else None
    status = judge(bound, value)
    if status == NOT_RUN and claim:
        status = claim.unrecorded  # parked: context, or awaiting a GPU run or a dataset
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
        "needs": list(claim.needs) if claim else [],
        "raw": {
            "value": None if value is MISSING else value,
            "published": claim.published if claim else None,
            "bound": bound,
        },
    }


def status_and_note(meta: dict | None, profile: str) -> tuple[str, str]:
    """A notebook's status in this run, and a note: why it counts as not run, or its
    parameters."""
    if meta is None:
        return "not run", ""
    if meta.get("profile") != profile:
        return "not run", f"this folder's earlier run of it used profile {meta.get('profile')!r}"
    status = {"running": "interrupted"}.get(meta.get("status"), meta.get("status", "unknown"))
    note = ""
    if meta.get("params"):
        note = "parameters " + ", ".join(f"{k}={v!r}" for k, v in meta["params"].items())
    return status, note


def notebook_entry(name, lesson, title, meta, results, claims, profile) -> dict:
    """Status, wall time, error, claim rows and figures of one notebook in a run."""
    status, note = status_and_note(meta, profile)
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
        {
            "path": f"results/{f['path']}",
            "caption": f.get("caption", ""),
            "width_px": f.get("width_px"),
        }
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
        "files": (results or {}).get("files", {}) if use else {},
        "data_version": (results or {}).get("data_version") if use else None,
        "provenance": provenance(meta) if use else None,
        "devices": (results or {}).get("devices") if use else None,
        "budget_s": lesson_budget(profile),
        "over_budget": use and over(meta.get("wall_s"), lesson_budget(profile)),
        "exercises": len(exercises_for(lesson)),
    }


def git_line(git: dict | None) -> str:
    """The commit's first 12 characters, and whether the tree had uncommitted changes."""
    if not git:
        return "not in a git repository"
    return git["commit"][:12] + (" (with uncommitted changes)" if git.get("dirty") else "")


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


def listed_notebooks(runs: list[tuple[Path, dict]], notebooks_dir) -> dict[str, tuple[str, str]]:
    """{name: (lesson, title)} of the notebooks in ``notebooks_dir``, or else in the folders the
    runs took their notebooks from."""
    nb_dirs = (
        [Path(notebooks_dir)]
        if notebooks_dir
        else list(dict.fromkeys(Path(run.get("notebooks_dir") or NOTEBOOKS) for _, run in runs))
    )
    known: dict[str, tuple[str, str]] = {}
    for nb_dir in nb_dirs:
        for nb in find_notebooks(nb_dir) if nb_dir.is_dir() else []:
            known.setdefault(nb.name, (nb.lesson, nb.title))
    return known


def add_unlisted(known: dict, ran: dict, runs: list[tuple[Path, dict]]) -> None:
    """Add to ``known`` the notebooks that ran but are not listed, and those selected but never
    started (the run was stopped first)."""
    for name, (_, meta) in ran.items():
        if name not in known:
            known[name] = (meta.get("lesson", name[:2]), meta.get("title", name))
    for _, run in runs:
        for name in run.get("selected") or []:
            known.setdefault(name, (name[:2], ""))


def notebook_in_run(name, lesson, title, place, registry, profile) -> dict:
    """:func:`notebook_entry` for the notebook as ``place`` (folder, meta) recorded it, a record
    whose results cannot be trusted counting as damaged."""
    folder, meta = place
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
    return {**entry, "run_dir": str(folder)}


def awaiting_lessons(registry, notebooks: list[dict], profile: str) -> list[dict]:
    """The lessons with registered claims but no notebook, each with its claim rows."""
    have = {nb["lesson"] for nb in notebooks}
    return [
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


def run_summary(folder: Path, run: dict) -> dict:
    """What the report says of one run folder's run."""
    return {
        "run_dir": str(folder),
        "status": run.get("status"),
        "started": run.get("started"),
        "ended": run.get("ended"),
        "selected": run.get("selected") or [],
        "shard": run.get("shard"),
        "jobs": run.get("jobs", 1),
        "machine": run.get("machine") or {},
    }


def tallies(notebooks: list[dict]) -> dict:
    """Claims per status, notebooks per status and the notebooks' total wall time."""
    counts = {s: 0 for s in STATUSES}
    for nb in notebooks:
        for row in nb["rows"]:
            counts[row["status"]] += 1
    nb_counts: dict[str, int] = {}
    for nb in notebooks:
        nb_counts[nb["status"]] = nb_counts.get(nb["status"], 0) + 1
    walls = [nb["wall_s"] for nb in notebooks if nb["wall_s"] is not None]
    return {
        "counts": counts,
        "notebook_counts": nb_counts,
        "total_wall_s": sum(walls) if walls else None,
    }


def gathered(runs: list[tuple[Path, dict]], profile, notebooks, awaiting) -> dict:
    """The report's data from its parts (see :func:`build`)."""
    summaries = [run_summary(folder, run) for folder, run in runs]
    ended = [r["ended"] for r in summaries]
    tally = tallies(notebooks)
    return {
        "run_dir": str(runs[0][0]),
        "run_dirs": [str(folder) for folder, _ in runs],
        "runs": summaries,
        "profile": profile,
        "provenance": shared_provenance(notebooks),
        "started": min((r["started"] for r in summaries if r["started"]), default=None),
        "ended": None if None in ended else max(ended),
        "machine": summaries[0]["machine"],
        "counts": tally["counts"],
        "notebook_counts": tally["notebook_counts"],
        "total_wall_s": tally["total_wall_s"],
        "notebooks": notebooks,
        "awaiting": awaiting,
        "awaiting_claims": sum(len(a["rows"]) for a in awaiting),
    }


def build(run_dirs, *, claims_dir=None, notebooks_dir=None) -> dict:
    """Everything the report shows, as plain data (see :func:`experiments.report.to_markdown`),
    for one run folder or a list of them (see :mod:`experiments.report` on merging)."""
    folders = run_folders(run_dirs)
    runs = [(folder, read_run(folder)) for folder in folders]
    profile = one_of(runs, "profile", "profiles", "report each profile on its own")
    if claims_dir is None:
        claims_dir = one_of(
            runs, "claims_dir", "claims folders", "give the one to judge them by with --claims"
        )
    registry = load_claims(claims_dir)
    known = listed_notebooks(runs, notebooks_dir)
    ran = where_each_ran(runs, profile)
    add_unlisted(known, ran, runs)
    notebooks = [
        notebook_in_run(name, lesson, title, ran.get(name, (folders[0], None)), registry, profile)
        for name, (lesson, title) in sorted(known.items())
    ]
    awaiting = awaiting_lessons(registry, notebooks, profile)
    return gathered(runs, profile, notebooks, awaiting)
