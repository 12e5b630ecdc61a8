"""Shared test fixtures: where the real datasets are, and clean GPU skips."""

import os
from pathlib import Path

import pytest

from course_lib.backend import gpu_available

REPO = Path(__file__).resolve().parents[1]


def _shared_data() -> Path | None:
    for candidate in (os.environ.get("COURSE_DATA"), REPO.parent / "shared" / "data"):
        if candidate and (Path(candidate) / "mnist").is_dir():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder of real datasets (``COURSE_DATA``, else ``../shared/data``)."""
    found = _shared_data()
    if found is None:
        pytest.skip(
            "real datasets not found: set COURSE_DATA to a folder holding mnist/, text/, ..."
        )
    return found


def pytest_collection_modifyitems(config, items):
    if gpu_available():
        return
    skip = pytest.mark.skip(reason="needs CuPy and an NVIDIA GPU; none found")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
