"""Backend selection with and without CuPy, torch devices, and seeding."""

import subprocess
import sys
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
    fake.get_array_module = lambda *arrays: (
        fake if any(isinstance(a, FakeCupyArray) for a in arrays) else np
    )
    fake.asnumpy = lambda a: a.data
    fake.asarray = FakeCupyArray
    fake.cuda = types.SimpleNamespace(
        runtime=types.SimpleNamespace(getDeviceCount=lambda: device_count)
    )
    fake.random = types.SimpleNamespace(seed=lambda s: None)
    return fake


def test_without_cupy_everything_is_numpy(monkeypatch):
    monkeypatch.setattr(backend, "_cupy", None)
    assert backend.get_array_module(np.ones(3)) is np
    assert not backend.gpu_available()
    assert backend.xp_for("auto") is np
    with pytest.raises(RuntimeError, match="CuPy"):
        backend.xp_for("cupy")
    assert backend.xp_for("numpy") is np


def test_with_cupy_the_module_follows_the_array(monkeypatch):
    fake = _fake_cupy()
    monkeypatch.setattr(backend, "_cupy", fake)
    assert backend.get_array_module(np.ones(3)) is np
    assert backend.get_array_module(FakeCupyArray([1.0])) is fake
    assert backend.get_array_module(np.ones(3), FakeCupyArray([1.0])) is fake
    assert backend.xp_for("auto") is fake
    assert backend.xp_for("cupy") is fake and backend.xp_for("cuda") is fake
    np.testing.assert_array_equal(backend.asnumpy(FakeCupyArray(np.arange(3))), np.arange(3))


def test_cupy_installed_without_a_device_counts_as_absent(monkeypatch):
    monkeypatch.setattr(backend, "_cupy", _fake_cupy(device_count=0))
    assert not backend.gpu_available()
    assert backend.xp_for("auto") is np


def test_unknown_device_is_named_with_the_choices():
    for name in ("tpu", "gpu", "CPU"):
        with pytest.raises(ValueError, match=f"'{name}'.*'auto', 'cpu' or 'cuda'"):
            backend.xp_for(name)
        with pytest.raises(ValueError, match=f"'{name}'"):
            backend.torch_device(name)


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
    legacy = np.random.rand(4)  # noqa: NPY002 - checks that the global generator is seeded too
    return (rng.standard_normal(4), legacy, torch.rand(4).numpy())


def test_seeding_gives_identical_numbers_twice_and_different_ones_for_another_seed():
    first, second, other = _draws(7), _draws(7), _draws(8)
    for a, b, c in zip(first, second, other):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)


def test_torch_imported_after_seeding_draws_what_it_would_have_drawn_seeded_at_once():
    code = (
        "import sys\n"
        "from course_lib import backend\n"
        "backend.seed_everything(3)\n"
        "backend.seed_everything(7)  # the later seed wins\n"
        "info = backend.describe_machine()\n"
        "assert 'torch' not in sys.modules, 'seeding or describing imported torch'\n"
        "import torch\n"
        "late = torch.rand(5)\n"
        "torch.manual_seed(7)\n"
        "assert torch.equal(late, torch.rand(5)), 'torch was not seeded on its import'\n"
        "assert info['torch'] == torch.__version__, info\n"
        "assert not [f for f in sys.meta_path if 'SeedTorch' in type(f).__name__]\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_describe_machine_has_the_facts_a_benchmark_needs():
    info = backend.describe_machine()
    assert {"python", "numpy", "torch", "cpu_count", "gpu"} <= set(info)


def test_device_names_select_a_backend_and_numpy_needs_no_synchronising(monkeypatch):
    monkeypatch.setattr(backend, "_cupy", None)
    assert backend.xp_for("cpu") is np
    with pytest.raises(RuntimeError, match="CuPy"):
        backend.xp_for("cuda")
    backend.synchronize(np)  # a no-op on the CPU


def test_one_dtype_mapping_both_ways():
    for name, tdtype in [
        ("float32", torch.float32),
        ("float64", torch.float64),
        ("int64", torch.int64),
    ]:
        assert backend.torch_dtype(name) == tdtype and backend.torch_dtype(np.dtype(name)) == tdtype
        assert backend.numpy_dtype(tdtype) == np.dtype(name)


def test_synchronize_accepts_every_kind_of_thing_on_the_cpu():
    for thing in (None, np, np.ones(2), torch.ones(2), torch.device("cpu"), "cpu"):
        backend.synchronize(thing)  # nothing to wait for on the CPU, and no error


def test_one_device_vocabulary():
    assert [backend.device_name(d) for d in ("auto", "cpu", "cuda", "numpy", "cupy")] == [
        "auto",
        "cpu",
        "cuda",
        "cpu",
        "cuda",
    ]
    assert backend.torch_device("numpy") == torch.device("cpu")
