"""Resuming a run: which notebooks must execute again, and why.

A notebook whose meta in the run folder says ``ok`` for the same settings (profile, seed, device,
extra parameters), notebook file and library code, and whose results file is intact, is skipped.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import course_lib
from course_lib.repro import read_json
from experiments.catalog import Notebook
from experiments.records import results_problem, sha256

LIBRARY = Path(course_lib.__file__).resolve().parent
CHANGED = {"input_sha256": "notebook changed", "library_sha256": "library changed"}


def library_fingerprint(folder: Path = LIBRARY) -> str:
    """sha256 over the sorted relative paths and contents of every ``*.py`` file under
    ``folder``."""
    digest = hashlib.sha256()
    for rel in sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.py")):
        data = (folder / rel).read_bytes()
        digest.update(f"{rel}\0{len(data)}\0".encode() + data)
    return digest.hexdigest()


def needs_run(meta: dict | None, settings: dict, results: Path | None = None) -> str | None:
    """Why a notebook must run again (``None``: its earlier run in this folder still holds).

    ``results`` is its results file: an ``ok`` run whose file is missing or unreadable runs
    again (a report cannot judge it)."""
    if meta is None:
        return "new"
    if meta.get("status") in ("running", "interrupted"):
        return "interrupted earlier"
    if meta.get("status") != "ok":
        return f"{meta.get('status', 'unknown')} earlier"
    for key, value in settings.items():
        # metas written before --param existed have no params
        if meta.get(key, {} if key == "params" else None) != value:
            return CHANGED.get(key, f"{key} changed")
    problem = results_problem(results, meta) if results is not None else None
    return f"its results file {problem}" if problem else None


def earlier_meta(out: Path, name: str) -> dict | None:
    """Notebook ``name``'s meta from an earlier run into ``out``; ``None`` when there is none or it
    is damaged (the notebook runs again)."""
    meta = read_json(out / "meta" / f"{name}.json")
    return meta if isinstance(meta, dict) else None


def plan_resume(
    notebooks: list[Notebook], out: Path, base: dict, shares: dict[str, dict], fresh: bool
) -> tuple[list[tuple[Notebook, dict, str]], list[tuple[Notebook, dict]]]:
    """Split ``notebooks`` into those to execute, as ``(notebook, settings, why)``, and those whose
    earlier run in ``out`` still holds, as ``(notebook, earlier meta)``; ``fresh`` executes all.

    A notebook's settings are ``base``, its share of the extra parameters and its file's sha256.
    """
    todo, finished = [], []
    for nb in notebooks:
        wanted = {**base, "params": shares[nb.name], "input_sha256": sha256(nb.path)}
        earlier = earlier_meta(out, nb.name)
        results = out / "results" / f"{nb.name}.json"
        reason = "fresh" if fresh else needs_run(earlier, wanted, results)
        if reason is None:
            finished.append((nb, earlier))
        else:
            todo.append((nb, wanted, reason))
    return todo, finished
