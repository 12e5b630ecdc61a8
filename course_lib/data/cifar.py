"""CIFAR-10 from its python-version archive (``cifar-10-python.tar.gz``)."""

from __future__ import annotations

import pickle
import tarfile

import numpy as np

from course_lib.data.splits import Splits, make_splits, to_pixels
from course_lib.data.store import locate

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
_FOLDER = "cifar-10-batches-py"


def _batch(tar: tarfile.TarFile, member: str):
    # The archive is verified against its published md5 before it is opened, so unpickling is safe.
    d = pickle.load(tar.extractfile(f"{_FOLDER}/{member}"), encoding="bytes")
    return np.asarray(d[b"data"], np.uint8).reshape(-1, 3, 32, 32), np.asarray(
        d[b"labels"], np.int64
    )


def load_cifar10(
    data_dir=None, *, dtype="float32", normalize=True, validation_size=0, seed=0
) -> Splits:
    """CIFAR-10: 50,000 training and 10,000 test colour images (N, 3, 32, 32), labels 0-9.

    Class names are in :data:`CLASSES`.  Float values are in [0, 1] (``normalize=False``: 0..255);
    ``dtype="uint8"`` gives the raw bytes.
    """
    with tarfile.open(locate("cifar-10", data_dir), "r:gz") as tar:
        train = [_batch(tar, f"data_batch_{i}") for i in range(1, 6)]
        x_test, y_test = _batch(tar, "test_batch")
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return make_splits(
        to_pixels(x_train, dtype, normalize, 255.0),
        y_train,
        to_pixels(x_test, dtype, normalize, 255.0),
        y_test,
        validation_size=validation_size,
        seed=seed,
    )
