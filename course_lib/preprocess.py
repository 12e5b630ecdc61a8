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
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from course_lib.backend import asnumpy, get_array_module

KINDS = {"float": "f", "int": "iu", "bool": "b"}
FORMAT = "course_lib.preprocess/1"


@dataclass
class Schema:
    """What one example must look like: its shape, the kind of its numbers, their range."""

    shape: tuple
    kind: str = "float"
    low: float | None = None
    high: float | None = None

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
        lo, hi = float(x.min()), float(x.max())
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
        return {"format": FORMAT, "type": "Standardize", "schema": asdict(self.schema),
                "per_feature": self.per_feature, "mean": np.asarray(self.mean).tolist(),
                "std": np.asarray(self.std).tolist()}  # fmt: skip

    def save(self, path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict()), encoding="utf-8")
        return path


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
    schema = Schema(**{**d["schema"], "shape": tuple(d["schema"]["shape"])})
    prep = Standardize(schema, per_feature=d["per_feature"])
    prep.mean, prep.std = np.asarray(d["mean"], dtype=np.float64), np.asarray(d["std"])
    if prep.per_feature and prep.mean.shape != tuple(schema.shape):
        raise ValueError(f"{path}: mean has shape {prep.mean.shape}, the schema {schema.shape}")
    return prep
