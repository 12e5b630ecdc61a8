"""The facts a report's summary states, as plain text: claim and notebook counts, profile, wall
time, machine, code and the run folders (:func:`run_facts`), and the small formatters they use."""

from __future__ import annotations

import os
from pathlib import Path


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


def machine_line(machine: dict) -> str:
    """The machine's platform, processor, GPU and library versions, those it recorded."""
    keys = ("platform", "processor", "cpu_count", "gpu", "python", "numpy", "torch", "cupy")
    return ", ".join(f"{k} {machine[k]}" for k in keys if machine.get(k) not in (None, ""))


def one_or_several(values: list, several: str) -> str:
    """The one value all notebooks share, or ``several`` (``—`` when no notebook ran)."""
    return str(values[0]) if len(values) == 1 else several if values else "—"


def mixed(data: dict) -> bool:
    """True when the notebooks' results came from different code, seeds or devices."""
    return any(len(values) > 1 for values in data["provenance"].values())


def provenance_text(p: dict) -> str:
    return f"code {p['code']}, seed {p['seed']}, device {p['device']}"


def run_facts(data: dict) -> list[tuple[str, str]]:
    """The summary's (name, text) pairs: claims, notebooks, profile, wall time, machine, code,
    the run folders and, for shards, which are there."""
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
        ("profile", f"{data['profile']} (seed {seed}, device asked: {device})"),
        ("ran on", devices_text(data["notebooks"])),
        ("over budget", over_budget_text(data["notebooks"])),
        ("total wall time", duration(data["total_wall_s"])),
        ("machine", machines_text(data)),
        ("code", one_or_several(prov["code"], "several commits, see each lesson")),
        (
            "run" if len(data["runs"]) == 1 else f"runs ({len(data['runs'])} folders)",
            "; ".join(run_text(r) for r in data["runs"]),
        ),
    ] + ([("shards", shards_text(data["runs"]))] if any(r["shard"] for r in data["runs"]) else [])


def over_budget_text(notebooks: list[dict]) -> str:
    """The lessons whose wall time is past their profile's budget, or why none is."""
    late = [nb["name"] for nb in notebooks if nb.get("over_budget")]
    budgets = {nb.get("budget_s") for nb in notebooks} - {None}
    if not budgets:
        return "no budget for this profile"
    each = f"budget {duration(budgets.pop())} a lesson" if len(budgets) == 1 else "budgets vary"
    return f"{len(late)} ({', '.join(late)}; {each})" if late else f"none ({each})"


def devices_text(notebooks: list[dict]) -> str:
    """Each device the lessons' results name (what they ran on), with how many lessons."""
    counts: dict[str, int] = {}
    for nb in notebooks:
        for device in nb.get("devices") or []:
            counts[device] = counts.get(device, 0) + 1
    if not counts:
        return "not recorded"
    return ", ".join(f"{d} ({n} lesson{'s' * (n > 1)})" for d, n in sorted(counts.items()))


def run_text(run: dict) -> str:
    """One run folder: its shard, when it started and ended, and its notebooks at a time."""
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
