"""Checkpoint a training run and resume it exactly: the losses after a resume are those of the run
that was never stopped.

    checkpoint.save("run.npz", model, optimizer, rng, epoch=3)
    counters = checkpoint.load("run.npz", model, optimizer, rng)     # {"epoch": 3}, all in place

Exactness needs everything that decides the next step: the parameters and buffers (BatchNorm's
running statistics), the optimizer's state (momentum buffers, Adam's moments and step count, the
learning rate), the generator that orders the minibatches, and every layer's own generator
(Dropout's masks).  The file is a plain ``.npz`` (no pickle, no code runs when it is read); the
generators' states and the counters are one JSON string inside it.  Loading checks the file
against the model and the optimizer first and changes nothing unless everything fits.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from course_lib.backend import asnumpy, get_array_module
from course_lib.serialize import npz_path, problems, read_npz, state


def optimizer_state(optimizer) -> dict:
    """name -> list of arrays (one per parameter) for every state list the optimizer keeps."""
    n = len(optimizer.params)
    return {
        name: value
        for name, value in vars(optimizer).items()
        if name not in ("params", "grads") and isinstance(value, list) and len(value) == n
    }


def generators(model, prefix="model") -> dict:
    """path -> numpy Generator of every layer that draws random numbers (Dropout's ``rng``)."""
    found = {}
    for i, layer in enumerate(getattr(model, "layers", [])):
        if isinstance(getattr(layer, "rng", None), np.random.Generator):
            found[f"{prefix}.{i}"] = layer.rng
        found.update(generators(layer, f"{prefix}.{i}"))
    return found


def save(path, model, optimizer, rng: np.random.Generator, **counters) -> Path:
    """Write everything needed to continue training exactly; returns the path (``.npz``)."""
    arrays = {f"model/{k}": asnumpy(a) for k, a in state(model).items()}
    for name, values in optimizer_state(optimizer).items():
        arrays.update({f"optim/{name}/{i}": asnumpy(v) for i, v in enumerate(values)})
    meta = {
        "counters": counters,
        "optimizer": {"class": type(optimizer).__name__, "t": optimizer.t, "lr": optimizer.lr},
        "rng": rng.bit_generator.state,
        "layer_rngs": {k: g.bit_generator.state for k, g in generators(model).items()},
    }
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    path = npz_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return path


def load(path, model, optimizer, rng: np.random.Generator) -> dict:
    """Put a checkpoint back into ``model``, ``optimizer`` and ``rng``; returns the counters."""
    found = read_npz(path)
    if "meta" not in found:
        raise ValueError(f"{npz_path(path)}: not a training checkpoint (no 'meta'; a parameter "
                         "file from save_params? load it with serialize.load_params)")  # fmt: skip
    meta = json.loads(found["meta"].tobytes().decode())
    wanted = {f"model/{k}": a for k, a in state(model).items()}
    for name, values in optimizer_state(optimizer).items():
        wanted.update({f"optim/{name}/{i}": v for i, v in enumerate(values)})
    wrong = problems({k: v for k, v in found.items() if k != "meta"}, wanted)
    if meta["optimizer"]["class"] != type(optimizer).__name__:
        wrong.append(f"optimizer {meta['optimizer']['class']} in the file, "
                     f"{type(optimizer).__name__} given")  # fmt: skip
    layer_rngs = generators(model)
    if set(meta["layer_rngs"]) != set(layer_rngs):
        wrong.append(f"random layers {sorted(meta['layer_rngs'])} in the file, "
                     f"{sorted(layer_rngs)} in the model")  # fmt: skip
    if wrong:
        raise ValueError(f"{npz_path(path)}: " + "; ".join(wrong) + " (nothing was loaded)")
    for name, a in wanted.items():
        a[...] = get_array_module(a).asarray(found[name], dtype=a.dtype)
    optimizer.t, optimizer.lr = meta["optimizer"]["t"], meta["optimizer"]["lr"]
    rng.bit_generator.state = meta["rng"]
    for key, g in layer_rngs.items():
        g.bit_generator.state = meta["layer_rngs"][key]
    return meta["counters"]
