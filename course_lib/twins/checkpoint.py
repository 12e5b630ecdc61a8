"""Checkpoints of torch twins: ``state_dict`` files that load without running any code.

``torch.save`` pickles; ``torch.load(..., weights_only=True)`` unpickles only tensors and plain
containers, so a file from someone else cannot execute code when it is read.  :func:`save_twin`
writes ``{"format", "sha256", "state_dict"}`` atomically (an interrupted save leaves the previous
file whole); the SHA-256 of the tensors (names, dtypes, shapes and bytes) is checked on load, so
a damaged tensor is refused instead of loaded.  A plain ``state_dict`` file (``torch.save(
module.state_dict(), path)``) still loads, without that check.  Before anything is copied,
:func:`load_twin` checks the whole file against the module -- the same names and shapes,
dtypes that convert (bfloat16 included), values still finite in the module's dtype -- so a wrong
or damaged file changes nothing.  Sparse and quantized tensors are refused.

    save_twin("ckpt/lenet.pt", twin)
    load_twin("ckpt/lenet.pt", fresh_twin)
"""

from __future__ import annotations

import hashlib
import json
import pickle
import zipfile
from pathlib import Path

import torch

from course_lib import serialize
from course_lib.fileio import atomic_open

FORMAT = "course_lib.twins.checkpoint/1"


def unsupported(name: str, t: torch.Tensor) -> str | None:
    """Why the tensor ``t`` cannot be stored or checked (sparse, quantized), or None."""
    if t.layout != torch.strided:
        return f"tensor {name!r} is {t.layout}; store dense tensors (convert with .to_dense())"
    if t.is_quantized:
        return f"tensor {name!r} is quantized ({t.dtype}); store it dequantized (.dequantize())"
    return None


def checksum(tensors: dict) -> str:
    """SHA-256 of every tensor's name, dtype, shape and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        digest.update(json.dumps([name, str(t.dtype), list(t.shape)]).encode() + b"\n")
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def save_twin(path, module: torch.nn.Module) -> Path:
    """Write ``module.state_dict()`` and its checksum to ``path`` (folders are created)."""
    tensors = {k: v.detach().cpu() for k, v in module.state_dict().items()}
    wrong = [why for k, v in tensors.items() if (why := unsupported(k, v))]
    if wrong:
        raise ValueError(f"{path}: " + "; ".join(wrong) + " (nothing was saved)")
    path = Path(path)
    with atomic_open(path) as f:  # a save killed halfway leaves the previous file whole
        torch.save({"format": FORMAT, "sha256": checksum(tensors), "state_dict": tensors}, f)
    return path


def _load(path: Path):
    """What ``torch.load(weights_only=True)`` finds in the file, with plain errors."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint (write one with save_twin)")
    if path.stat().st_size == 0:
        raise ValueError(
            f"{path}: the file is empty (0 bytes; an interrupted save?); "
            "write it again with save_twin"
        )
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, OSError) as err:
        first = (str(err).splitlines() or [type(err).__name__])[0]
        raise ValueError(
            f"{path}: not a readable weights-only checkpoint ({first}); "
            "write checkpoints with course_lib.twins.checkpoint.save_twin"
        ) from None


def read_state(path) -> dict:
    """The tensors in a checkpoint, loaded with ``weights_only=True`` (no code runs) and checked
    against their checksum when the file has one."""
    path = Path(path)
    found = _load(path)
    wrapped = isinstance(found, dict) and found.get("format") == FORMAT
    state = found.get("state_dict") if wrapped else found
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise ValueError(f"{path}: holds {type(state).__name__}, not a state_dict of tensors")
    wrong = [why for k, v in state.items() if (why := unsupported(k, v))]
    if wrong:
        raise ValueError(f"{path}: " + "; ".join(wrong) + " (nothing was loaded)")
    if wrapped and found.get("sha256") != checksum(state):
        raise ValueError(
            f"{path}: checksum mismatch (sha256 {found.get('sha256')!r} in the file): the "
            "weights were damaged after saving; use another copy or save the model again"
        )
    return state


def cast_problem(found: torch.Tensor, dtype: torch.dtype) -> str | None:
    """Why ``found`` (from a file) cannot become ``dtype``, or None; values are checked after
    the cast (1e300 is finite in float64, inf in float32)."""
    if not torch.can_cast(found.dtype, dtype):
        return f"is {found.dtype} in the file, which does not convert to the model's {dtype}"
    cast = found.to(dtype)
    if cast.is_floating_point() or cast.is_complex():
        if not torch.isfinite(cast).all():
            where = "" if found.dtype == dtype else f" once converted to the model's {dtype}"
            return f"holds NaN or infinite values in the file{where}"
    elif not torch.equal(cast.to(found.dtype), found):
        return f"holds values in the file that do not fit the model's {dtype}"
    return None


def load_twin(path, module: torch.nn.Module) -> torch.nn.Module:
    """Copy the checkpoint at ``path`` into ``module`` after checking all of it; returns it."""
    found, wanted = read_state(path), module.state_dict()
    wrong = serialize.problems(found, wanted, cast_problem)
    if wrong:
        raise ValueError(f"{path}: " + "; ".join(wrong) + " (nothing was loaded)")
    module.load_state_dict({k: v.to(wanted[k].dtype) for k, v in found.items()})
    return module
