"""Save and load a model's parameters as a plain ``.npz`` file (no pickle).

    save_params("mlp.npz", model)      # {"0.W": ..., "0.b": ..., "1.running_mean": ...}
    load_params("mlp.npz", model)      # checks names and shapes, then copies in place

The file holds ``model.named_params()`` and, where the model has them, ``model.named_buffers()``
(BatchNorm running statistics).  Arrays are copied *into* the model's existing arrays, so an
optimizer built before loading still holds the right ones; they keep the model's dtype and
backend (a float64 file loads into a float32 CuPy model).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from course_lib.backend import asnumpy, get_array_module


def state(model) -> dict:
    """Name -> array of everything that is saved: parameters, then buffers."""
    named = dict(model.named_params())
    if hasattr(model, "named_buffers"):
        named.update(model.named_buffers())
    return named


def save_params(path, model) -> Path:
    """Write the model's arrays to ``path`` (``.npz`` is appended if missing); return the path."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **{name: asnumpy(a) for name, a in state(model).items()})
    return path


def load_params(path, model):
    """Copy the arrays in ``path`` into ``model``; refuse a file whose names or shapes differ."""
    wanted = state(model)
    with np.load(path, allow_pickle=False) as f:
        found = {name: f[name] for name in f.files}
    missing, unexpected = sorted(set(wanted) - set(found)), sorted(set(found) - set(wanted))
    if missing or unexpected:
        raise ValueError(f"{path}: parameter names do not match the model: missing from the file "
                         f"{missing}, not in the model {unexpected}")
    for name, a in wanted.items():
        if found[name].shape != a.shape:
            raise ValueError(f"{path}: parameter {name!r} has shape {found[name].shape} in the file, "
                             f"but the model expects {a.shape}")
    for name, a in wanted.items():  # only after every check passed: never half-load a model
        a[...] = get_array_module(a).asarray(found[name], dtype=a.dtype)
    return model
