"""Preprocessing as an object: fitted on the training data, applied everywhere, saved as JSON.

    prep = Standardize(Schema(shape=(1, 28, 28), low=0.0, high=1.0)).fit(x_train)
    prep.save("prep.json")                # a small, readable file that travels with the model
    prep = load("prep.json")
    x = prep(x_new)                       # the schema is checked first, then (x - mean) / std

The idea of DL4J's DataVec (seed 003): the transformation a model was trained with is part of the
model.  Its statistics are fitted on the training set only, and serving applies exactly the same
transformation; data that does not look like the training data (another shape, integers where
floats were expected, pixels in 0..255 instead of 0..1) is refused with a message that names the
field and the fix, instead of being silently mis-scaled.
"""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from course_lib.backend import asnumpy, get_array_module
from course_lib.fileio import write_text

KINDS = {"float": "f", "int": "iu", "bool": "b"}
FORMAT = "course_lib.preprocess/1"


def _is_size(n) -> bool:
    return isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 1


def _is_finite_number(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x)


@dataclass
class Schema:
    """What one example must look like: its shape, the kind of its numbers, their range."""

    shape: tuple
    kind: str = "float"
    low: float | None = None
    high: float | None = None

    def __post_init__(self):
        shape = self.shape
        if not isinstance(shape, (tuple, list)) or not all(_is_size(n) for n in shape):
            raise ValueError(
                f"Schema shape={shape!r}: give a tuple of integers >= 1, e.g. (1, 28, 28)"
            )
        if self.kind not in KINDS:
            raise ValueError(f"Schema kind={self.kind!r}: use one of {sorted(KINDS)}")
        for field in ("low", "high"):
            value = getattr(self, field)
            if value is not None and not _is_finite_number(value):
                raise ValueError(f"Schema {field}={value!r}: give a finite number or None")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"Schema low={self.low!r} > high={self.high!r}: swap them")

    def check(self, x, name: str = "x") -> None:
        """Raise a ValueError naming the field and the fix if ``x`` (a batch) does not fit."""
        shape = tuple(self.shape)
        if tuple(x.shape[1:]) != shape:
            raise ValueError(
                f"{name}: each example must have shape {shape}, got a batch of shape "
                f"{tuple(x.shape)}; reshape it to (N, {', '.join(map(str, shape))})"
            )
        if x.dtype.kind not in KINDS[self.kind]:
            raise ValueError(
                f"{name}: values must be {self.kind} numbers, got dtype {x.dtype}; convert "
                f"them (for 8-bit pixels: x.astype(np.float32) / 255)"
            )
        if x.size == 0:
            return
        lo, hi = float(x.min()), float(x.max())  # NaN if any value is NaN
        if math.isnan(lo) or math.isnan(hi):
            raise ValueError(
                f"{name}: holds NaN values, and values must lie in [{self.low}, {self.high}]; "
                "remove or fill in the missing values first"
            )
        if (self.low is not None and lo < self.low) or (self.high is not None and hi > self.high):
            raise ValueError(
                f"{name}: values must lie in [{self.low}, {self.high}], found [{lo:g}, {hi:g}]; "
                "scale them the way the training data was scaled"
            )


class Standardize:
    """x -> (x - mean) / std, with the mean and std of the training set: one number each
    (``per_feature=False``, as lesson 06) or one per input feature."""

    def __init__(self, schema: Schema, *, per_feature: bool = False):
        self.schema, self.per_feature = schema, per_feature
        self.mean = self.std = None

    def fit(self, x):
        """Learn mean and std from training data ``x`` (checked against the schema)."""
        self.schema.check(x, "training data")
        x = asnumpy(x).astype(np.float64)
        axis = 0 if self.per_feature else None
        self.mean, self.std = x.mean(axis=axis), x.std(axis=axis)
        self.std = np.where(self.std > 0, self.std, 1.0)  # a constant feature: leave it as it is
        return self

    def __call__(self, x, name: str = "x"):
        if self.mean is None:
            raise ValueError("this Standardize is not fitted: call fit(x_train) or load() first")
        self.schema.check(x, name)
        xp = get_array_module(x)
        mean, std = xp.asarray(self.mean, x.dtype), xp.asarray(self.std, x.dtype)
        return (x - mean) / std

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "type": "Standardize",
            "schema": asdict(self.schema),
            "per_feature": self.per_feature,
            "mean": np.asarray(self.mean).tolist(),
            "std": np.asarray(self.std).tolist(),
        }

    def save(self, path) -> Path:
        """Write the fitted preprocessing to ``path`` as JSON, atomically; returns the path."""
        if self.mean is None:
            raise ValueError("this Standardize is not fitted: call fit(x_train) before save()")
        return write_text(path, json.dumps(self.to_dict()))


def _statistic(path, d: dict, field: str, shape: tuple) -> np.ndarray:
    """``d[field]`` as a float64 array of ``shape`` with finite values (std: also > 0)."""
    try:
        value = np.asarray(d[field])
    except ValueError as err:  # a ragged list
        raise ValueError(f"{path}: '{field}' is not an array of numbers ({err})") from None
    if value.dtype.kind not in "iuf":
        raise ValueError(f"{path}: '{field}' must hold numbers, found {str(d[field])[:60]}")
    if value.shape != shape:
        raise ValueError(f"{path}: '{field}' has shape {value.shape}, the schema needs {shape}")
    value = value.astype(np.float64)
    good = np.isfinite(value) & (value > 0 if field == "std" else True)
    if not good.all():
        rule = "finite and > 0" if field == "std" else "finite"
        raise ValueError(
            f"{path}: '{field}' must be {rule}, found {float(value[~good].flat[0])}; "
            "fit on clean training data and save() again"
        )
    return value


def _schema(path, d) -> Schema:
    """The :class:`Schema` in a file's ``schema`` field, with its keys and values checked."""
    names = {f.name for f in fields(Schema)}
    if not isinstance(d, dict) or "shape" not in d or not set(d) <= names:
        raise ValueError(
            f"{path}: 'schema' = {str(d)[:80]} must be a dict with 'shape' and only the keys "
            f"{sorted(names)}; write it again with save()"
        )
    try:
        shape = tuple(d["shape"]) if isinstance(d["shape"], list) else d["shape"]
        return Schema(**{**d, "shape": shape})
    except ValueError as err:
        raise ValueError(f"{path}: 'schema': {err}") from None


def load(path) -> Standardize:
    """A fitted :class:`Standardize` from its JSON file, with errors that name what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such preprocessing file (write one with save())")
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not valid JSON ({err}); write it again with save()") from None
    if not isinstance(d, dict) or d.get("format") != FORMAT or d.get("type") != "Standardize":
        raise ValueError(f"{path}: not a {FORMAT} Standardize file")
    missing = sorted({"schema", "per_feature", "mean", "std"} - set(d))
    if missing:
        raise ValueError(f"{path}: the fields {missing} are missing; write it again with save()")
    schema = _schema(path, d["schema"])
    if not isinstance(d["per_feature"], bool):
        raise ValueError(f"{path}: 'per_feature' = {d['per_feature']!r} must be true or false")
    prep = Standardize(schema, per_feature=d["per_feature"])
    shape = tuple(schema.shape) if prep.per_feature else ()
    prep.mean, prep.std = (_statistic(path, d, f, shape) for f in ("mean", "std"))
    return prep
