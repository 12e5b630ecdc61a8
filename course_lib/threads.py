"""How many threads the BLAS under NumPy (and torch) may use: one way for lessons and benchmarks.

    blas = threads.limit_threads(1)         # small products, many steps: one thread is fastest
    threads.blas_threads()                  # {"openblas": 1}
    blas.restore_original_limits()          # as before

A lesson limits its threads once, in its set-up cell, and says why; a benchmark limits them for
its run and puts them back.  threadpoolctl (a dependency of scikit-learn) does the work; without
it the BLAS is left alone and these return None.
"""

from __future__ import annotations


def limit_threads(threads: int, *, torch_too: bool = False):
    """Give NumPy's BLAS (and torch, with ``torch_too``) ``threads`` threads; returns the BLAS
    limiter, whose ``restore_original_limits()`` undoes it (None without threadpoolctl)."""
    try:  # first, so that the limiter records the true original limits, not torch's new ones
        from threadpoolctl import threadpool_limits

        limiter = threadpool_limits(threads)
    except ImportError:
        limiter = None
    if torch_too:
        import torch

        torch.set_num_threads(threads)
    return limiter


def blas_threads() -> dict | None:
    """{BLAS library: threads} as threadpoolctl sees them (None without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return {i["internal_api"]: i["num_threads"] for i in threadpool_info()}
