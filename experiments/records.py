"""Whether a run folder's records can be trusted: the runner (resume) and the report (check)
ask the same question of a notebook's results file."""

from __future__ import annotations

import hashlib
from pathlib import Path

from course_lib.repro import read_json


def sha256(path: Path) -> str:
    """The file's SHA-256, hex."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def results_problem(path: Path, meta: dict) -> str | None:
    """What is wrong with the results file of a notebook whose run ended ``ok`` with ``meta``
    (``None``: nothing, or the notebook writes none, as its meta's warning says)."""
    if meta.get("warning"):  # the run saw it write no results file: nothing to check
        return None
    if not path.is_file():
        return "is missing"
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("claims"), dict):
        return "is not a valid results record (damaged, or not JSON)"
    if meta.get("results_sha256") not in (None, sha256(path)):
        return "changed after the run that wrote it"
    return None
