"""The run folders a report reads: each folder's ``run.json``, and for each notebook the folder
whose record of it the report uses (see :mod:`experiments.report` on merging folders)."""

from __future__ import annotations

import os
from pathlib import Path

from course_lib.repro import read_json
from experiments import UserError


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
    """The folder's ``run.json``; an error saying how to make or repair it."""
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


def metas_by_notebook(runs: list[tuple[Path, dict]], profile: str) -> dict[str, list]:
    """For each notebook: ``(folder, meta)`` from every folder with a meta of it, damaged ones
    replaced by :func:`damaged`."""
    found: dict[str, list[tuple[Path, dict]]] = {}
    for folder, _ in runs:
        for path in sorted((folder / "meta").glob("*.json")):
            meta = read_json(path)
            if not isinstance(meta, dict):
                meta = damaged(path, profile, "is damaged (not a JSON record)")
            found.setdefault(path.stem, []).append((folder, meta))
    return found


def where_each_ran(runs: list[tuple[Path, dict]], profile: str) -> dict[str, tuple[Path, dict]]:
    """For each notebook with a meta in some folder: that folder and the meta.  A folder whose meta
    is of this profile wins over one whose meta is left from an earlier run of another profile."""
    chosen = {}
    for name, places in metas_by_notebook(runs, profile).items():
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
