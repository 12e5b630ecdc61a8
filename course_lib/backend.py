"""Array backends: NumPy on the CPU, CuPy on NVIDIA GPUs, and torch devices.

The array module is chosen *per array*, never by a global switch::

    xp = get_array_module(x)      # numpy for a numpy array, cupy for a cupy array
    y = xp.maximum(x, 0)

so the same layer code runs on both.  Everything here works when CuPy is absent.
"""
from __future__ import annotations

import os
import platform
import random

import numpy as np

try:  # CuPy is optional (the ``course_lib[gpu]`` extra); a broken CUDA install counts as absent.
    import cupy as _cupy
except Exception:  # noqa: BLE001 - ImportError, or a CUDA library error raised at import
    _cupy = None


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


def get_array_module(*arrays):
    """Return ``cupy`` if any argument is a CuPy array, else ``numpy``."""
    cp = cupy_module()
    if cp is not None:
        return cp.get_array_module(*arrays)
    return np


_DEVICE_NAMES = {"cpu": "numpy", "cuda": "cupy"}  # a notebook's ``device`` parameter names a backend too


def array_module(backend: str = "numpy"):
    """The module for a backend name: ``"numpy"``, ``"cupy"`` or ``"auto"`` (cupy if a GPU is seen).

    A notebook's device names work too: ``"cpu"`` is numpy, ``"cuda"`` is cupy.
    """
    backend = _DEVICE_NAMES.get(backend, backend)
    if backend == "numpy":
        return np
    if backend == "auto":
        return cupy_module() if gpu_available() else np
    if backend == "cupy":
        if not gpu_available():
            raise RuntimeError(
                "backend='cupy' needs CuPy and an NVIDIA GPU, and none was found. "
                "Install the extra with `pip install course_lib[gpu]` on a CUDA machine, "
                "or use backend='numpy'."
            )
        return cupy_module()
    raise ValueError(f"unknown backend {backend!r}: use 'numpy', 'cupy', 'auto' (or a device: 'cpu', 'cuda')")


def synchronize(xp) -> None:
    """Wait until the GPU has finished queued work (a no-op for numpy), so a clock read is honest."""
    if xp is not np:
        xp.cuda.get_current_stream().synchronize()


def asnumpy(x) -> np.ndarray:
    """Copy ``x`` to a NumPy array on the host (no copy if it already is one)."""
    cp = cupy_module()
    if cp is not None and isinstance(x, cp.ndarray):
        return cp.asnumpy(x)
    if hasattr(x, "detach"):  # a torch tensor
        return x.detach().cpu().numpy()
    return np.asarray(x)


def to_backend(x, backend: str = "numpy"):
    """Move an array to ``backend`` (``"numpy"`` or ``"cupy"``)."""
    if backend == "numpy":
        return asnumpy(x)
    return array_module(backend).asarray(x)


def torch_device(device: str = "auto"):
    """A ``torch.device``: ``"auto"`` picks CUDA when torch sees a GPU, else the CPU."""
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(
            f"device={device!r} asked for, but torch sees no CUDA GPU "
            f"(torch {torch.__version__}, CUDA build: {torch.version.cuda}). Use device='cpu' or 'auto'."
        )
    if device != "cpu" and not device.startswith("cuda"):
        raise ValueError(f"unknown device {device!r}: use 'auto', 'cpu' or 'cuda'")
    return torch.device(device)


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, NumPy, CuPy and torch; return a fresh ``numpy.random.Generator(seed)``."""
    random.seed(seed)
    np.random.seed(seed)
    cp = cupy_module()
    if cp is not None and gpu_available():
        cp.random.seed(seed)
    try:
        import torch
    except ImportError:
        pass
    else:
        torch.manual_seed(seed)  # also seeds every CUDA device
    return np.random.default_rng(seed)


def describe_machine() -> dict:
    """Facts about this machine for run metadata and benchmark JSON."""
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
        "cupy": getattr(cupy_module(), "__version__", None),
        "gpu": None,
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        info["torch"] = None
    if info["gpu"] is None and gpu_available():
        props = cupy_module().cuda.runtime.getDeviceProperties(0)
        info["gpu"] = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    return info
