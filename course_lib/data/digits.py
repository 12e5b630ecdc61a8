"""scikit-learn's 8x8 digits: a tiny image set that ships with scikit-learn, so it is always
there."""

from __future__ import annotations

from pathlib import Path

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


def digits_file() -> Path:
    """The file :func:`load_digits` reads, as scikit-learn ships it: record it (its content hash)
    to name the data version behind a number."""
    from importlib import resources

    path = Path(str(resources.files("sklearn.datasets") / "data" / "digits.csv.gz"))
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: reinstall scikit-learn (make setup)")
    return path


def to_mnist_frame(images) -> np.ndarray:
    """8x8 digits (N, 64) in [0, 1] -> (N, 1, 28, 28) laid out as MNIST's: each digit enlarged
    2.5x (bilinear) to 20x20 and centred in a 28x28 field with a 4-pixel border, as MNIST
    centres its digits in a 20x20 box."""
    from scipy.ndimage import zoom

    x = np.asarray(images, dtype=np.float32).reshape(-1, 8, 8)
    big = np.clip(zoom(x, (1, 2.5, 2.5), order=1), 0.0, 1.0)
    return np.pad(big, ((0, 0), (4, 4), (4, 4)))[:, None].astype(np.float32)
