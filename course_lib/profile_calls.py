"""Where the time of a Python call goes: cProfile's table as rows, one per function.

    rows = profile_calls.profile(lambda: fit(...))
    rows[0]   # {"function": "Linear.forward", "calls": 50, "self_s": 0.41, "total_s": 0.42}

``self_s`` is the time spent in the function's own code, not in the Python functions it calls;
work done by C code that cProfile does not see as a call (NumPy's ``@`` operator, a ufunc) is
counted in the self time of the Python function that ran it, so a layer's ``forward`` holds the
time of its matrix product.  The self times add up to the time of the whole call.
"""

from __future__ import annotations

import ast
import cProfile
import functools
import pstats
from pathlib import Path


@functools.cache
def _classes(filename: str) -> dict[int, str]:
    """{line of a method's ``def``: its class name} for the Python file ``filename``."""
    try:
        tree = ast.parse(Path(filename).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return {}
    return {
        f.lineno: node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        for f in node.body
        if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
    }


def label(filename: str, line: int, name: str) -> str:
    """``Class.method`` for a method, ``module.function`` for a function, cProfile's own text
    for a built-in (``<built-in method ...>``)."""
    if filename == "~":
        return name
    owner = _classes(filename).get(line) or Path(filename).stem
    return f"{owner}.{name}"


def profile(f) -> list[dict]:
    """Run ``f()`` under cProfile; one row per function, the largest self time first (functions
    with one label, e.g. two ``forward`` of one class, are added up)."""
    prof = cProfile.Profile()
    prof.runcall(f)
    rows: dict[str, dict] = {}
    for (filename, line, name), (_, calls, self_s, total_s, _) in pstats.Stats(prof).stats.items():
        row = rows.setdefault(
            label(filename, line, name), {"calls": 0, "self_s": 0.0, "total_s": 0.0}
        )
        row["calls"] += calls
        row["self_s"] += self_s
        row["total_s"] += total_s
    ordered = sorted(rows.items(), key=lambda item: -item[1]["self_s"])
    return [{"function": name, **row} for name, row in ordered]
