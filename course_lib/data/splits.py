"""Train / validation / test arrays, and the seeded validation split every image loader shares."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Splits:
    """A dataset as arrays: ``x_*`` inputs, ``y_*`` int64 labels; ``x_val``/``y_val`` may be
    None."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None

    def __repr__(self) -> str:
        def shape(a):
            return None if a is None else f"{a.dtype}{list(a.shape)}"

        return (
            f"Splits(x_train={shape(self.x_train)}, x_val={shape(self.x_val)}, "
            f"x_test={shape(self.x_test)})"
        )


def make_splits(x_train, y_train, x_test, y_test, *, validation_size=0, seed=0) -> Splits:
    """Hold out ``validation_size`` training examples, drawn with ``default_rng(seed).permutation``.

    Both parts keep the original order of the training set, so ``validation_size=0`` returns it as
    is.
    """
    n = len(x_train)
    if not 0 <= validation_size < n:
        raise ValueError(f"validation_size must be in [0, {n}), got {validation_size}")
    if validation_size == 0:
        return Splits(x_train, y_train, x_test, y_test)
    perm = np.random.default_rng(seed).permutation(n)
    val, train = np.sort(perm[:validation_size]), np.sort(perm[validation_size:])
    return Splits(x_train[train], y_train[train], x_test, y_test, x_train[val], y_train[val])


def to_pixels(images: np.ndarray, dtype: str, normalize: bool, max_value: float) -> np.ndarray:
    """A new array of ``images`` as ``dtype``; float images are divided by ``max_value`` if
    ``normalize``.

    Integer dtypes keep the raw values (``normalize`` applies to float dtypes only).
    """
    out = np.array(images, dtype=dtype)  # always a copy: the caller may write into it
    if normalize and np.issubdtype(out.dtype, np.floating):
        out /= max_value
    return out
