"""The one thread limiter that lessons and benchmarks share: it changes the BLAS limit, says so
through blas_threads(), and puts it back; without threadpoolctl it leaves the BLAS alone."""

import sys

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

from course_lib import threads
from experiments import benchkit


def test_limit_threads_changes_and_restores_the_blas_limit():
    np.ones((4, 4)) @ np.ones((4, 4))  # NumPy's BLAS loaded, so threadpoolctl sees it
    with threadpool_limits(2):  # a known starting point, whatever the environment set
        before = threads.blas_threads()
        assert before and set(before.values()) == {2}
        blas = threads.limit_threads(1)
        assert set(threads.blas_threads().values()) == {1}
        blas.restore_original_limits()
        assert threads.blas_threads() == before


def test_limit_threads_sets_torchs_threads_too_when_asked():
    torch_before = torch.get_num_threads()
    try:
        blas = threads.limit_threads(1, torch_too=True)
        assert torch.get_num_threads() == 1
        assert set(threads.blas_threads().values()) == {1}
        blas.restore_original_limits()
    finally:
        torch.set_num_threads(torch_before)


def test_without_threadpoolctl_the_blas_is_left_alone(monkeypatch):
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # import fails
    assert threads.limit_threads(1) is None
    assert threads.blas_threads() is None


@pytest.mark.parametrize("name", ["limit_threads", "blas_threads"])
def test_benchmarks_use_the_same_helpers(name):
    assert getattr(benchkit, name) is getattr(threads, name)
