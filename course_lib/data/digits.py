"""scikit-learn's 8x8 digits: a tiny image set that ships with scikit-learn, so it is always
there."""

from __future__ import annotations

import numpy as np

from course_lib.data.splits import Splits, make_splits, to_pixels

N_TRAIN = 1500  # of 1,797 images; the rest are the test set


def load_digits(*, normalize=True, validation_size=0, seed=0) -> Splits:
    """1,797 8x8 digit images: the first 1,500 for training, the last 297 for testing.

    ``x`` is float32 (N, 64), divided by 16 (the largest pixel value) unless ``normalize=False``.
    """
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    x = to_pixels(bunch.data, "float32", normalize, 16.0)
    y = bunch.target.astype(np.int64)
    return make_splits(
        x[:N_TRAIN],
        y[:N_TRAIN],
        x[N_TRAIN:],
        y[N_TRAIN:],
        validation_size=validation_size,
        seed=seed,
    )
