"""Backend selection with and without CuPy, torch devices, and seeding."""
import types

import numpy as np
import pytest
import torch

from course_lib import backend


class FakeCupyArray:
    """Stands in for cupy.ndarray so selection can be tested without a GPU."""

    def __init__(self, data):
        self.data = np.asarray(data)


def _fake_cupy(device_count=1):
    fake = types.SimpleNamespace(ndarray=FakeCupyArray, __version__="fake")
    fake.get_array_module = lambda *arrays: fake if any(isinstance(a, FakeCupyArray) for a in arrays) else np
    fake.asnumpy = lambda a: a.data
    fake.asarray = FakeCupyArray
    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=lambda: device_count))
    fake.random = types.SimpleNamespace(seed=lambda s: None)
    return fake


def test_without_cupy_everything_is_numpy(monkeypatch):
    monkeypatch.setattr(backend, "_cupy", None)
    assert backend.get_array_module(np.ones(3)) is np
    assert not backend.gpu_available()
    assert backend.array_module("auto") is np
    with pytest.raises(RuntimeError, match="CuPy"):
        backend.array_module("cupy")


def test_with_cupy_the_module_follows_the_array(monkeypatch):
    fake = _fake_cupy()
    monkeypatch.setattr(backend, "_cupy", fake)
    assert backend.get_array_module(np.ones(3)) is np
    assert backend.get_array_module(FakeCupyArray([1.0])) is fake
    assert backend.get_array_module(np.ones(3), FakeCupyArray([1.0])) is fake
    assert backend.array_module("auto") is fake
    moved = backend.to_backend(np.arange(3), "cupy")
    assert isinstance(moved, FakeCupyArray)
    np.testing.assert_array_equal(backend.asnumpy(moved), np.arange(3))


def test_cupy_installed_without_a_device_counts_as_absent(monkeypatch):
    monkeypatch.setattr(backend, "_cupy", _fake_cupy(device_count=0))
    assert not backend.gpu_available()
    assert backend.array_module("auto") is np


def test_unknown_backend_is_named():
    with pytest.raises(ValueError, match="'tpu'"):
        backend.array_module("tpu")


def test_torch_device_selection():
    assert backend.torch_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert backend.torch_device("auto").type == expected
    with pytest.raises(ValueError, match="unknown device"):
        backend.torch_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA GPU"):
            backend.torch_device("cuda")


def _draws(seed):
    rng = backend.seed_everything(seed)
    return (rng.standard_normal(4), np.random.rand(4), torch.rand(4).numpy())


def test_seeding_gives_identical_numbers_twice_and_different_ones_for_another_seed():
    first, second, other = _draws(7), _draws(7), _draws(8)
    for a, b, c in zip(first, second, other):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)


def test_describe_machine_has_the_facts_a_benchmark_needs():
    info = backend.describe_machine()
    assert {"python", "numpy", "torch", "cpu_count", "gpu"} <= set(info)


def test_device_names_select_a_backend_and_numpy_needs_no_synchronising(monkeypatch):
    monkeypatch.setattr(backend, "_cupy", None)
    assert backend.array_module("cpu") is np
    with pytest.raises(RuntimeError, match="CuPy"):
        backend.array_module("cuda")
    backend.synchronize(np)  # a no-op on the CPU
