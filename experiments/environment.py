"""The environment of a notebook's kernel: its share of the CPU threads, absolute data paths, and
figures drawn inline whatever this process's matplotlib backend."""

from __future__ import annotations

import os

from course_lib.claims import CLAIMS_ENV
from course_lib.lessons import LESSONS_ENV

# What the numeric libraries read at start-up for their thread pools: OpenMP (torch's intra-op
# threads too), OpenBLAS (NumPy's wheels), MKL (torch's CPU build reads it as well), Accelerate
# (NumPy on macOS).
THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)


def cpu_count() -> int:
    """The CPUs this process may run on (its affinity: what taskset, SLURM or a container
    grants)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def thread_share(jobs: int, environ=os.environ) -> tuple[int | None, dict[str, str]]:
    """Threads per kernel and the thread variables to add to each kernel's environment.

    One job at a time leaves the libraries their own defaults (nothing is set).  With more, every
    variable of :data:`THREAD_VARS` the user has not set becomes ``max(1, cpu_count() // jobs)``.
    """
    if jobs <= 1:
        return None, {}
    share = max(1, cpu_count() // jobs)
    return share, {var: str(share) for var in THREAD_VARS if not environ.get(var)}


def kernel_environment(base, extra: dict) -> dict:
    """A notebook kernel's environment: ``base`` plus ``extra``, without ``MPLBACKEND``, so the
    kernel draws figures inline and the executed notebook holds them (the website shows them)
    whatever backend this process was told to use (CI sets Agg for its tests)."""
    env = {**base, **extra}
    env.pop("MPLBACKEND", None)
    return env


def absolute_data_paths(environ=os.environ) -> None:
    """Make ``COURSE_DATA``, ``COURSE_CACHE``, ``COURSE_CLAIMS`` and ``COURSE_LESSONS`` absolute:
    each notebook's kernel runs in its own folder."""
    for var in ("COURSE_DATA", "COURSE_CACHE", CLAIMS_ENV, LESSONS_ENV):
        if environ.get(var):
            environ[var] = os.path.abspath(environ[var])
