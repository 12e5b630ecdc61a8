"""Checkpoint a training run and resume it exactly: the losses after a resume are those of the run
that was never stopped.

    checkpoint.save("run.npz", model, optimizer, rng, epoch=3)
    counters = checkpoint.load("run.npz", model, optimizer, rng)     # {"epoch": 3}, all in place

Exactness needs everything that decides the next step: the parameters and buffers (BatchNorm's
running statistics), the optimizer's state (momentum buffers, Adam's moments and step count, the
learning rate), the generator that orders the minibatches, and every layer's own generator
(Dropout's masks).  The file is a plain ``.npz`` (no pickle, no code runs when it is read); the
generators' states and the counters are one JSON string inside it.  Any of numpy's bit
generators works (PCG64, PCG64DXSM, MT19937, Philox, SFC64): arrays in their states are stored
as tagged lists.  Saving replaces the file atomically (an interrupted save leaves the previous
checkpoint whole).  Loading checks the whole file against the model, the optimizer and the
generators first -- arrays, metadata, generator states -- and changes nothing unless all fits.
"""

from __future__ import annotations

import copy
import json
import math
import numbers
from pathlib import Path

import numpy as np

from course_lib.backend import asnumpy, get_array_module
from course_lib.fileio import atomic_open
from course_lib.serialize import npz_path, problems, read_npz, state, write_npz

ARRAY = "__ndarray__"  # the tag of an array inside the JSON metadata
BIT_GENERATORS = "numpy's PCG64, PCG64DXSM, MT19937, Philox or SFC64"


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


def to_json(value, where: str):
    """``value`` as plain JSON values: arrays become tagged lists, numpy scalars Python ones."""
    if isinstance(value, dict):
        return {k: to_json(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return {
            ARRAY: value.dtype.str,
            "shape": list(value.shape),
            "values": value.ravel().tolist(),
        }
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(
        f"{where} = {value!r} ({type(value).__name__}) cannot be stored in a checkpoint: "
        "use numbers, strings, lists, dicts or numeric arrays"
    )


def from_json(value):
    """The inverse of :func:`to_json`: tagged lists become arrays again."""
    if isinstance(value, dict) and ARRAY in value:
        dtype = np.dtype(value[ARRAY])
        return np.array(value["values"], dtype=dtype).reshape(value["shape"])
    if isinstance(value, dict):
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value


def require_generator(g, name: str) -> None:
    """A TypeError unless ``g`` is a numpy Generator."""
    if not isinstance(g, np.random.Generator):
        raise TypeError(
            f"{name} is a {type(g).__name__}; checkpoints hold numpy Generators: "
            "pass np.random.default_rng(seed)"
        )


def generator_state(g, name: str) -> dict:
    """The JSON form of a numpy Generator's state, or a TypeError naming what is supported."""
    require_generator(g, name)
    try:
        return to_json(g.bit_generator.state, name)
    except TypeError:
        raise TypeError(
            f"{name} uses the bit generator {type(g.bit_generator).__name__}, whose state is not "
            f"made of numbers and arrays; use {BIT_GENERATORS}"
        ) from None


def optimizer_problems(meta) -> list[str]:
    """Why the optimizer's metadata is wrong: ``t`` must be an int >= 0, ``lr`` finite >= 0."""
    if not isinstance(meta, dict) or not isinstance(meta.get("class"), str):
        return [f"'optimizer' = {meta!r} must be a dict with the optimizer's 'class', 't' and 'lr'"]
    out, t, lr = [], meta.get("t"), meta.get("lr")
    if isinstance(t, bool) or not isinstance(t, int) or t < 0:
        out.append(f"optimizer step count 't' = {t!r} must be an integer >= 0")
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not math.isfinite(lr) or lr < 0:
        out.append(f"optimizer learning rate 'lr' = {lr!r} must be a finite number >= 0")
    return out


def _integers_only(value) -> bool:
    """True if every number in a (decoded) generator state is an integer."""
    if isinstance(value, dict):
        return all(_integers_only(v) for v in value.values())
    if isinstance(value, list):
        return all(_integers_only(v) for v in value)
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "iu"
    return not isinstance(value, float)


def restored(saved, g, name: str):
    """(state, None) if ``saved`` can be put into the Generator ``g``, else (None, why not).

    The state is tried on a copy of ``g``'s bit generator, so ``g`` itself does not change."""
    probe = copy.deepcopy(g.bit_generator)
    try:
        value = from_json(saved)
        if not _integers_only(value):
            raise ValueError("a generator's state holds integers only")
        probe.state = value
    except (TypeError, ValueError, KeyError, IndexError, OverflowError, AttributeError) as err:
        kind = saved.get("bit_generator") if isinstance(saved, dict) else None
        return None, (
            f"the state of {name} (a {kind} state) does not restore into its "
            f"{type(probe).__name__} ({err}); resume with a generator of the kind that was saved"
        )
    return probe.state, None


def save(path, model, optimizer, rng: np.random.Generator, **counters) -> Path:
    """Write everything needed to continue training exactly; returns the path (``.npz``)."""
    arrays = {f"model/{k}": asnumpy(a) for k, a in state(model).items()}
    for name, values in optimizer_state(optimizer).items():
        arrays.update({f"optim/{name}/{i}": asnumpy(v) for i, v in enumerate(values)})
    optim = {"class": type(optimizer).__name__, "t": optimizer.t, "lr": optimizer.lr}
    optim = to_json(optim, "optimizer")
    wrong = optimizer_problems(optim)
    if wrong:
        raise ValueError("; ".join(wrong) + " (nothing was saved)")
    meta = {
        "counters": to_json(counters, "counter"),
        "optimizer": optim,
        "rng": generator_state(rng, "rng"),
        "layer_rngs": {k: generator_state(g, k) for k, g in generators(model).items()},
    }
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    path = npz_path(path)
    with atomic_open(path) as f:  # a save killed halfway leaves the previous checkpoint whole
        write_npz(f, arrays)
    return path


def read_meta(path, found: dict) -> dict:
    """The checkpoint's metadata, checked for its fields and their types."""
    if "meta" not in found:
        raise ValueError(
            f"{path}: not a training checkpoint (no 'meta'; a parameter file from save_params? "
            "load it with serialize.load_params)"
        )
    raw = found["meta"]
    try:
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise ValueError(f"'meta' is a {raw.dtype} array of shape {raw.shape}, not bytes")
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise ValueError(
            f"{path}: the metadata is unreadable ({err}); the file is damaged, "
            "use another checkpoint"
        ) from None
    fields = {"counters": dict, "optimizer": dict, "rng": dict, "layer_rngs": dict}
    wrong = [
        f"'{k}' must be a {t.__name__}, found {type(meta.get(k)).__name__}"
        for k, t in fields.items()
        if not isinstance(meta, dict) or not isinstance(meta.get(k), t)
    ]
    if wrong:
        raise ValueError(f"{path}: damaged metadata: " + "; ".join(wrong) + " (nothing was loaded)")
    return meta


def load(path, model, optimizer, rng: np.random.Generator) -> dict:
    """Put a checkpoint back into ``model``, ``optimizer`` and ``rng``; returns the counters.

    Everything is checked first; on any problem a ValueError lists them and nothing changes."""
    require_generator(rng, "rng")
    found = read_npz(path)
    meta = read_meta(npz_path(path), found)
    wanted = {f"model/{k}": a for k, a in state(model).items()}
    for name, values in optimizer_state(optimizer).items():
        wanted.update({f"optim/{name}/{i}": v for i, v in enumerate(values)})
    wrong = problems({k: v for k, v in found.items() if k != "meta"}, wanted)
    wrong += optimizer_problems(meta["optimizer"])
    if meta["optimizer"].get("class", type(optimizer).__name__) != type(optimizer).__name__:
        wrong.append(
            f"optimizer {meta['optimizer']['class']} in the file, {type(optimizer).__name__} given"
        )
    layer_rngs = generators(model)
    if set(meta["layer_rngs"]) != set(layer_rngs):
        wrong.append(
            f"random layers {sorted(meta['layer_rngs'])} in the file, "
            f"{sorted(layer_rngs)} in the model"
        )
    saved, states = {"rng": meta["rng"], **meta["layer_rngs"]}, {}
    for name, g in {"rng": rng, **layer_rngs}.items():
        if name in saved:
            states[name], why = restored(saved[name], g, name)
            wrong += [why] if why else []
    try:
        counters = from_json(meta["counters"])
    except (TypeError, ValueError, KeyError, OverflowError) as err:
        wrong.append(f"the counters are damaged ({err})")
    if wrong:
        raise ValueError(f"{npz_path(path)}: " + "; ".join(wrong) + " (nothing was loaded)")
    for name, a in wanted.items():  # only now: every check passed
        a[...] = get_array_module(a).asarray(found[name], dtype=a.dtype)
    optimizer.t, optimizer.lr = meta["optimizer"]["t"], meta["optimizer"]["lr"]
    rng.bit_generator.state = states["rng"]
    for key, g in layer_rngs.items():
        g.bit_generator.state = states[key]
    return counters
