"""Checkpoints of torch twins: ``state_dict`` files that load without running any code.

``torch.save`` pickles; ``torch.load(..., weights_only=True)`` unpickles only tensors and plain
containers, so a file from someone else cannot execute code when it is read.  Before anything is
copied, :func:`load_twin` checks the whole file against the module (the same names, shapes and
convertible dtypes, finite values) with the checks NumPy models get from
:func:`course_lib.serialize.load_params`, so a wrong or damaged file changes nothing.

    save_twin("ckpt/lenet.pt", twin)
    load_twin("ckpt/lenet.pt", fresh_twin)
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import torch

from course_lib.serialize import problems


def save_twin(path, module: torch.nn.Module) -> Path:
    """Write ``module.state_dict()`` to ``path`` (folders are created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({k: v.detach().cpu() for k, v in module.state_dict().items()}, path)
    return path


def read_state(path) -> dict:
    """The tensors in a checkpoint, loaded with ``weights_only=True`` (no code runs)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint (write one with save_twin)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, OSError) as err:
        raise ValueError(
            f"{path}: not a readable weights-only checkpoint ({str(err).splitlines()[0]}); "
            "write checkpoints with course_lib.twins.checkpoint.save_twin"
        ) from None
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise ValueError(f"{path}: holds {type(state).__name__}, not a state_dict of tensors")
    return state


def load_twin(path, module: torch.nn.Module) -> torch.nn.Module:
    """Copy the checkpoint at ``path`` into ``module`` after checking all of it; returns it."""
    found = {k: v.numpy() for k, v in read_state(path).items()}
    wanted = {k: v.detach().cpu().numpy() for k, v in module.state_dict().items()}
    wrong = problems(found, wanted)
    if wrong:
        raise ValueError(f"{path}: " + "; ".join(wrong) + " (nothing was loaded)")
    module.load_state_dict({k: torch.from_numpy(v) for k, v in found.items()})
    return module
