"""Choosing a model honestly: a validation split, a grid of settings, the best one on validation.

    train_idx, val_idx = model_selection.holdout(len(x), n_val=1000, rng=0)
    rows = model_selection.grid_search(run, lr=[1e-3, 1e-2], weight_decay=[0.0, 1e-3])
    best = model_selection.best(rows, "val_error")

``run(**setting) -> dict`` trains one model on the training part and scores it on the validation
part.  The test set plays no part in any of it: it is read once, for the setting chosen here, and
the number it gives is then an unbiased estimate of that choice's error.  Choosing on the test set
instead makes the reported error optimistic (the minimum of many noisy estimates is biased low).
"""

from __future__ import annotations

import itertools
import time

import numpy as np


def holdout(n: int, n_val: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """A random split of ``range(n)``: ``(train indices, validation indices)``, the second
    ``n_val`` long, disjoint, each sorted."""
    if not 0 < n_val < n:
        raise ValueError(f"n_val must be between 1 and n - 1 = {n - 1}, got {n_val}")
    order = np.random.default_rng(rng).permutation(n)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def grid(**axes) -> list[dict]:
    """Every combination of the values given per name: ``grid(a=[1, 2], b=[0])`` is
    ``[{"a": 1, "b": 0}, {"a": 2, "b": 0}]``."""
    if not axes:
        raise ValueError("give at least one setting to search, e.g. grid(lr=[0.01, 0.1])")
    for name, values in axes.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or not len(values):
            raise ValueError(f"{name} must be a non-empty list of values, got {values!r}")
    names = list(axes)
    return [dict(zip(names, combo)) for combo in itertools.product(*axes.values())]


def grid_search(run, *, verbose: bool = True, **axes) -> list[dict]:
    """``run(**setting)`` for every setting of :func:`grid`; one row per setting, the setting's
    values followed by the scores ``run`` returned (a dict of numbers)."""
    rows, t0 = [], time.perf_counter()
    settings = grid(**axes)
    for i, setting in enumerate(settings, 1):
        scores = run(**setting)
        if not isinstance(scores, dict):
            raise TypeError(f"run must return a dict of scores, got {type(scores).__name__}")
        rows.append({**setting, **scores})
        if verbose:
            shown = ", ".join(f"{k}={v:.4g}" for k, v in rows[-1].items())
            print(f"[{i}/{len(settings)}, {time.perf_counter() - t0:.1f} s] {shown}")
    return rows


def best(rows: list[dict], key: str) -> dict:
    """The row with the smallest ``key`` (a validation number: lower is better); the first such
    row on ties."""
    if not rows:
        raise ValueError("no rows to choose from")
    if key.startswith("test"):
        raise ValueError(f"{key!r} looks like a test-set number: choose on validation only")
    missing = [i for i, row in enumerate(rows) if key not in row]
    if missing:
        raise KeyError(f"row {missing[0]} has no {key!r}; it has {sorted(rows[missing[0]])}")
    return min(rows, key=lambda row: float(row[key]))
