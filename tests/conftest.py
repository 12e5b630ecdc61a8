"""Shared test fixtures: where the real datasets are, one thread for tiny products, and clean
GPU skips."""

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


@pytest.fixture(autouse=True)
def one_thread():
    """NumPy's BLAS and torch on one thread for every test, then as before (a test that needs
    more sets them itself).  Tests run two at a time (``pytest -n 2``) on two cores, and tiny
    products on a busy machine spend more on thread synchronisation than they save: one torch
    test took 137 s with torch's default two threads beside other work, 16 s with one."""
    import torch

    from course_lib.threads import limit_threads

    torch_before = torch.get_num_threads()
    blas = limit_threads(1, torch_too=True)
    yield
    torch.set_num_threads(torch_before)
    if blas is not None:
        blas.restore_original_limits()


def pytest_collection_modifyitems(config, items):
    if gpu_available():
        return
    skip = pytest.mark.skip(reason="needs CuPy and an NVIDIA GPU; none found")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
