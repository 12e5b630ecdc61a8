"""The arrays a compiled function is called with, checked against its placeholders: one array
per placeholder (by position or by name), the declared shape, a floating-point dtype."""

from __future__ import annotations

import numpy as np


def match_inputs(placeholders, arrays, named) -> list[np.ndarray]:
    """The arrays in the placeholders' order, checked; a clear error for a missing or extra one."""
    names = [p.name for p in placeholders]
    listing = ", ".join(names) or "none"
    if len(arrays) > len(placeholders):
        raise ValueError(
            f"the function takes {len(names)} inputs ({listing}), got {len(arrays)} arrays: "
            "pass one array per placeholder, in the order given to compile()"
        )
    given = dict(enumerate(arrays))
    for key, value in named.items():
        if key not in names:
            raise ValueError(f"unknown input {key!r}: the inputs are {listing}")
        if names.index(key) in given:
            raise ValueError(f"input {key!r} is given twice, by position and by name")
        given[names.index(key)] = value
    missing = [repr(names[k]) for k in range(len(names)) if k not in given]
    if missing:
        raise ValueError(
            f"missing input {', '.join(missing)}: the function takes {listing}, in that order "
            "(or by name)"
        )
    return [check_array(p, given[k]) for k, p in enumerate(placeholders)]


def check_array(placeholder, value) -> np.ndarray:
    """``value`` as an array of the placeholder's dtype, if its shape fits the declared one."""
    array, name = np.asarray(value), placeholder.name
    if array.dtype.kind != "f":
        raise TypeError(
            f"input {name!r} has dtype {array.dtype}; the graph computes in floating point: "
            f"pass it as .astype(np.{placeholder.dtype})"
        )
    shape = placeholder.shape
    if shape is not None and (
        len(shape) != array.ndim or any(d not in (None, n) for d, n in zip(shape, array.shape))
    ):
        raise ValueError(
            f"input {name!r} has shape {array.shape}, but the placeholder was declared with shape "
            f"{shape} (None: any size); reshape the array, or declare None for a size that varies"
        )
    return array.astype(placeholder.dtype, copy=False)
