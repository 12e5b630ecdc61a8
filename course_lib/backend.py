"""Where the numbers live: NumPy on the CPU, CuPy on NVIDIA GPUs, and torch devices.

One vocabulary for the whole course:

* a **device** is what a notebook's ``device`` parameter says: ``"auto"``, ``"cpu"`` or ``"cuda"``
  (``"numpy"`` and ``"cupy"`` are accepted as other names for ``"cpu"`` and ``"cuda"``);
* ``xp_for(device)`` is the array module for it (numpy or cupy), ``torch_device(device)`` the torch
  device; ``get_array_module(x)`` is the module *of an array*, so layer code never needs a switch::

      xp = get_array_module(x)      # numpy for a numpy array, cupy for a cupy array
      y = xp.maximum(x, 0)

* ``synchronize(thing)`` waits for a GPU, whatever ``thing`` is (an array module, an array, a torch
  tensor or device), so a clock read after it is honest;
* ``torch_dtype`` / ``numpy_dtype`` translate dtypes between NumPy and torch.

Everything here works when CuPy (or a GPU) is absent.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import random
import re
import sys
from pathlib import Path

import numpy as np

try:  # CuPy is optional (the ``course_lib[gpu]`` extra); a broken CUDA install counts as absent.
    import cupy as _cupy
except Exception:  # noqa: BLE001 - ImportError, or a CUDA library error raised at import
    _cupy = None

DEVICES = ("auto", "cpu", "cuda")
_ALIASES = {"numpy": "cpu", "cupy": "cuda"}


def cupy_module():
    """The ``cupy`` module, or ``None`` when CuPy is not installed."""
    return _cupy


def gpu_available() -> bool:
    """True when CuPy is installed *and* sees at least one CUDA device."""
    cp = cupy_module()
    if cp is None:
        return False
    try:
        return cp.cuda.runtime.getDeviceCount() > 0
    except Exception:  # noqa: BLE001 - no driver, no device
        return False


def gpu_missing(backend: str) -> str | None:
    """Why the GPU backend ``backend`` ("cupy", "torch-cuda...") cannot run here; ``None`` when
    it can, or when ``backend`` is not a GPU one."""
    if backend == "cupy" and not gpu_available():
        return "CuPy with an NVIDIA GPU not found"
    if backend.startswith("torch-cuda"):
        import torch

        if not torch.cuda.is_available():
            return f"torch {torch.__version__} sees no CUDA GPU"
    return None


def get_array_module(*arrays):
    """Return ``cupy`` if any argument is a CuPy array, else ``numpy``."""
    cp = cupy_module()
    if cp is not None:
        return cp.get_array_module(*arrays)
    return np


def device_name(device: str) -> str:
    """``"auto"``, ``"cpu"`` or ``"cuda"`` for any accepted spelling; a clear error for others."""
    name = _ALIASES.get(device, device)
    if name not in DEVICES:
        raise ValueError(
            f"unknown device {device!r}: use 'auto', 'cpu' or 'cuda' (or 'numpy' / 'cupy')"
        )
    return name


_USED: set[str] = set()  # the devices xp_for and torch_device have handed out in this process


def devices_used() -> list[str]:
    """Where this process's arrays and models went, as :func:`xp_for` and :func:`torch_device`
    resolved the devices asked for: e.g. ``["cpu (NumPy)"]`` or ``["cuda (CuPy)", "cuda (torch)"]``;
    empty if neither was called."""
    return sorted(_USED)


def xp_for(device: str = "cpu"):
    """The array module for a device: numpy for ``"cpu"``, cupy for ``"cuda"``, cupy if a GPU is
    found for ``"auto"``."""
    xp = _array_module_for(device)
    _USED.add("cpu (NumPy)" if xp is np else "cuda (CuPy)")
    return xp


def _array_module_for(device: str):
    name = device_name(device)
    if name == "cpu":
        return np
    if name == "auto":
        return cupy_module() if gpu_available() else np
    if not gpu_available():
        raise RuntimeError(
            f"device={device!r} needs CuPy and an NVIDIA GPU, and none was found. Install the "
            "extra with `pip install course_lib[gpu]` on a CUDA machine, or use device='cpu'."
        )
    return cupy_module()


def torch_device(device: str = "auto"):
    """A ``torch.device``: ``"auto"`` picks CUDA when torch sees a GPU, else the CPU."""
    chosen = _torch_device_for(device)
    _USED.add(f"{chosen.type} (torch)")
    return chosen


def _torch_device_for(device: str):
    import torch

    if device.startswith("cuda:"):  # a numbered GPU
        name = "cuda"
    else:
        name = device_name(device)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            f"device={device!r} asked for, but torch sees no CUDA GPU "
            f"(torch {torch.__version__}, CUDA build: {torch.version.cuda}). "
            "Use device='cpu' or 'auto'."
        )
    return torch.device(device if device.startswith("cuda:") else name)


def synchronize(thing=None) -> None:
    """Wait until a GPU has finished its queued work; a no-op for anything on the CPU.

    ``thing`` may be an array module (numpy, cupy), an array, a torch tensor, a torch device or a
    device name; ``None`` waits for every GPU library that is loaded.
    """
    cp = cupy_module()
    if cp is not None and (thing is None or thing is cp or isinstance(thing, cp.ndarray)):
        if gpu_available():
            cp.cuda.get_current_stream().synchronize()
    torch = sys.modules.get("torch")  # a torch tensor or device means torch is already loaded
    device = str(getattr(thing, "device", thing))
    if torch is not None and (thing is None or device.startswith("cuda")):
        if torch.cuda.is_available():
            torch.cuda.synchronize(None if thing is None else torch.device(device))


def torch_dtype(dtype):
    """The torch dtype for a NumPy dtype (or its name): ``"float32"`` -> ``torch.float32``."""
    import torch

    return torch.from_numpy(np.zeros(0, dtype=np.dtype(dtype))).dtype


def numpy_dtype(dtype) -> np.dtype:
    """The NumPy dtype for a torch dtype: ``torch.float64`` -> ``float64``."""
    import torch

    return torch.zeros(0, dtype=dtype).numpy().dtype


def asnumpy(x) -> np.ndarray:
    """Copy ``x`` (NumPy, CuPy or torch) to a NumPy array on the host (no copy if it already is
    one)."""
    cp = cupy_module()
    if cp is not None and isinstance(x, cp.ndarray):
        return cp.asnumpy(x)
    if hasattr(x, "detach"):  # a torch tensor
        return x.detach().cpu().numpy()
    return np.asarray(x)


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, NumPy, CuPy and torch; return a fresh ``numpy.random.Generator(seed)``.

    torch is not imported for this (that takes seconds, which a lesson without torch need not
    pay): if it is not imported yet, it is seeded the moment it is, which draws the same numbers
    as seeding it now, since nothing can draw from a torch that is not yet there."""
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - the legacy global generator, for np.random.* in cells
    cp = cupy_module()
    if cp is not None and gpu_available():
        cp.random.seed(seed)
    _SeedTorchOnImport.cancel()
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)  # also seeds every CUDA device
    else:
        sys.meta_path.insert(0, _SeedTorchOnImport(seed))
    return np.random.default_rng(seed)


class _SeedTorchOnImport:
    """An import hook (``sys.meta_path``) that seeds torch once its import has run, then leaves."""

    def __init__(self, seed: int):
        self.seed = seed

    @staticmethod
    def cancel() -> None:
        """Remove a waiting hook (a new seed replaces it)."""
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _SeedTorchOnImport)]

    def find_spec(self, name, path=None, target=None):
        if name != "torch":
            return None
        self.cancel()
        spec = importlib.util.find_spec("torch")  # the usual finders' answer
        if spec is None or spec.loader is None:
            return spec
        run_module, seed = spec.loader.exec_module, self.seed

        def run_and_seed(module):
            run_module(module)
            module.manual_seed(seed)

        spec.loader.exec_module = run_and_seed
        return spec


def _installed_torch_version() -> str | None:
    """torch's version as ``torch.__version__`` gives it (with its build tag, ``+cpu`` or
    ``+cu130``), read from its ``version.py`` without importing torch; None if not installed."""
    from importlib import metadata

    try:
        dist = metadata.distribution("torch")
    except metadata.PackageNotFoundError:
        return None
    try:
        text = Path(dist.locate_file("torch/version.py")).read_text(encoding="utf-8")
    except OSError:
        return dist.version
    found = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", text, re.MULTILINE)
    return found.group(1) if found else dist.version


def describe_machine() -> dict:
    """Facts about this machine for run metadata and benchmark JSON.  torch's threads and GPU
    are asked of torch only where it is already imported (its version is read without it)."""
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
        "cupy": getattr(cupy_module(), "__version__", None),
        "gpu": None,
    }
    torch = sys.modules.get("torch")  # not imported here: that costs seconds where unused
    info["torch"] = _installed_torch_version() if torch is None else torch.__version__
    if torch is not None:
        info["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    if info["gpu"] is None and gpu_available():
        props = cupy_module().cuda.runtime.getDeviceProperties(0)
        info["gpu"] = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    return info
