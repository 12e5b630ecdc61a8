"""What the benchmarks share: thread limits and the BLAS threads in use (from
:mod:`course_lib.threads`, which the lessons use too), comma-separated choices, one configuration
attempted without ending the benchmark (:func:`attempt`), the opening and closing fields of every
result JSON (:func:`record_start`, :func:`record_end`), and the committed results lessons read
(:func:`newest_result`)."""

from __future__ import annotations

import json
import os
import time
import traceback
from pathlib import Path

from course_lib.backend import describe_machine
from course_lib.repro import write_json
from course_lib.threads import blas_threads, limit_threads

__all__ = [
    "RESULTS",
    "attempt",
    "blas_threads",
    "choices",
    "limit_threads",
    "newest_result",
    "record_end",
    "record_start",
]

RESULTS = Path(__file__).resolve().parent / "results"


def choices(text: str, allowed: tuple, what: str) -> list[str]:
    """``"a, b"`` -> ["a", "b"], each one of ``allowed``; otherwise exit naming the option."""
    names = [s.strip() for s in text.split(",") if s.strip()]
    if not names or any(n not in allowed for n in names):
        raise SystemExit(f"--{what} {text!r}: choose from {', '.join(allowed)}")
    return names


def attempt(failed: list, where: dict, run, *args, **kwargs):
    """``run(*args, **kwargs)``; if it raises, the traceback is printed, ``{**where, "error":
    ...}`` is appended to ``failed`` and None returned, so the benchmark goes on with its other
    configurations (and its exit status says some failed)."""
    try:
        return run(*args, **kwargs)
    except Exception as err:  # noqa: BLE001 - recorded, printed, and the exit status says so
        traceback.print_exc()
        failed.append({**where, "error": f"{type(err).__name__}: {err}"})
        return None


def newest_result(pattern: str, keep=None, results=RESULTS) -> dict | None:
    """The committed benchmark JSON matching ``pattern`` in ``experiments/results/`` that
    ``keep(data)`` accepts (all, without ``keep``), newest by its ``started`` time; None if none.
    Its file name is added as ``data["file"]``."""
    found = []
    for path in sorted(Path(results).glob(pattern)):
        data = json.loads(path.read_text(encoding="utf-8"))
        if keep is None or keep(data):
            found.append((data.get("started", ""), path.name, {**data, "file": path.name}))
    return max(found, key=lambda f: f[:2])[2] if found else None


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")


def record_start(benchmark: str, **fields) -> dict:
    """A result's opening fields: its name, the start time, the machine (``describe_machine``)
    and the load average before the runs (1, 5 and 15 minutes), then ``fields``."""
    return dict(
        benchmark=benchmark,
        started=_now(),
        machine=describe_machine(),
        load_before=list(os.getloadavg()),
        **fields,
    )


def record_end(out: dict, path=None, table=None, name: str = "bench") -> dict:
    """Close ``out``: the load average after the runs and the end time; print ``table(out)``
    when given; write the JSON to ``path`` when given."""
    out["load_after"] = list(os.getloadavg())
    out["finished"] = _now()
    if table is not None:
        print(table(out))
    if path:
        write_json(path, out)
        print(f"[{name}] wrote {path}")
    return out
