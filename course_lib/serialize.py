"""Save and load a model's parameters as a plain ``.npz`` file (no pickle).

    save_params("mlp.npz", model)      # {"0.W": ..., "0.b": ..., "1.running_mean": ...}
    load_params("mlp.npz", model)      # checks every array, then copies them in place

The file holds ``model.named_params()`` and ``model.named_buffers()`` (BatchNorm running
statistics); a weight shared by two layers is stored once, under its first name.  Both functions
add ``.npz`` to a path without it.  Arrays are copied *into* the model's existing arrays, so an
optimizer built before loading still holds the right ones; they keep the model's dtype and backend
(a float64 file loads into a float32 CuPy model).  Loading checks every array first -- names,
shapes, a dtype that casts safely, values still finite in the model's dtype -- and changes
nothing unless all pass.  Saving replaces the file atomically: an interrupted save leaves the
previous file whole.  The same arrays always give the same bytes (no clock in the file), so
a file's content hash identifies the model it holds.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from course_lib.backend import asnumpy, get_array_module
from course_lib.fileio import atomic_open


def state(model) -> dict:
    """Name -> array of everything that is saved: parameters, then buffers (each array once)."""
    named, seen = {}, set()
    for name, a in {**model.named_params(), **model.named_buffers()}.items():
        if id(a) not in seen:
            named[name] = a
            seen.add(id(a))
    return named


def npz_path(path) -> Path:
    """``path`` with ``.npz`` added when it has another suffix or none (as ``numpy.savez`` does)."""
    path = Path(path)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can carry


def write_npz(f, arrays: dict) -> None:
    """``numpy.savez``'s format with a fixed entry date: equal arrays give equal bytes.

    ``numpy.savez`` stamps each entry with the time of writing, so two saves of one model
    differ and their sha256 checksums cannot name the model."""
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, a in arrays.items():
            entry = zipfile.ZipInfo(name + ".npy", date_time=FIXED_DATE)
            entry.external_attr = 0o600 << 16  # rw for the owner, as numpy writes it
            with archive.open(entry, "w", force_zip64=True) as out:
                np.lib.format.write_array(out, np.asanyarray(a), allow_pickle=False)


def save_params(path, model) -> Path:
    """Write the model's arrays to ``path`` (``.npz`` is added if missing); return the path."""
    path = npz_path(path)
    arrays = {name: asnumpy(a) for name, a in state(model).items()}
    with atomic_open(path) as f:  # a save killed halfway leaves the previous file whole
        write_npz(f, arrays)
    return path


def read_npz(path) -> dict:
    """Every array in an ``.npz`` file, with errors that name the file and the fix."""
    given, path = Path(path), npz_path(path)
    if given != path and given.is_file():
        raise ValueError(
            f"{given}: parameters are read from .npz files written by save_params; "
            f"this file is a {given.suffix or 'suffix-less'} file, not {path.name}"
        )
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such parameter file (save one with save_params)")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
        raise ValueError(
            f"{path}: not a readable .npz parameter file ({err}); "
            "save parameters with course_lib.serialize.save_params"
        ) from None
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise ValueError(
            f"{path}: holds a single array (a .npy file), not named parameters; "
            "save parameters with course_lib.serialize.save_params"
        )
    with loaded as f:
        try:
            return {name: f[name] for name in f.files}
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
            raise ValueError(f"{path}: a damaged .npz parameter file ({err})") from None


def cast_problem(found: np.ndarray, dtype) -> str | None:
    """Why the array ``found`` (from a file) cannot become ``dtype``, or None if it can.

    Values are checked *after* the cast: 1e300 is finite in float64 but inf in float32."""
    dtype = np.dtype(dtype)
    if not np.can_cast(found.dtype, dtype, casting="same_kind"):
        return f"is {found.dtype} in the file, which does not convert to the model's {dtype}"
    with np.errstate(over="ignore", invalid="ignore"):
        cast = found.astype(dtype)
    if dtype.kind in "fc" and not np.isfinite(cast).all():
        where = "" if found.dtype == dtype else f" once converted to the model's {dtype}"
        return f"holds NaN or infinite values in the file{where}"
    if dtype.kind in "iu" and not np.array_equal(cast, found):
        return f"holds values in the file that do not fit the model's {dtype}"
    return None


def problems(found: dict, wanted: dict, cast_problem=cast_problem) -> list[str]:
    """What stops the arrays ``found`` in a file from loading into the model's ``wanted`` arrays
    (names, shapes, then ``cast_problem(found, dtype)`` per array: NumPy's here, torch's for the
    twins)."""
    missing, unexpected = sorted(set(wanted) - set(found)), sorted(set(found) - set(wanted))
    if missing or unexpected:
        return [
            f"parameter names do not match the model: missing from the file {missing}, "
            f"not in the model {unexpected}"
        ]
    out = []
    for name, a in wanted.items():
        f = found[name]
        if tuple(f.shape) != tuple(a.shape):
            out.append(
                f"parameter {name!r} has shape {tuple(f.shape)} in the file, but the model "
                f"expects {tuple(a.shape)}"
            )
        elif why := cast_problem(f, a.dtype):
            out.append(f"parameter {name!r} {why}")
    return out


def load_params(path, model):
    """Copy the arrays in ``path`` into ``model``, after checking all of them; returns ``model``."""
    found, wanted, path = read_npz(path), state(model), npz_path(path)
    wrong = problems(found, wanted)
    if wrong:
        raise ValueError(f"{path}: " + "; ".join(wrong) + " (nothing was loaded)")
    for name, a in wanted.items():  # only after every check passed: never half-load a model
        a[...] = get_array_module(a).asarray(found[name], dtype=a.dtype)
    return model
