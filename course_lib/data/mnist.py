"""MNIST and Fashion-MNIST from their IDX files (``*-ubyte.gz``)."""

from __future__ import annotations

import functools
import gzip
import struct
from pathlib import Path

import numpy as np

from course_lib.data.splits import Splits, make_splits, to_pixels
from course_lib.data.store import DataError, locate

FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def parse_idx(raw: bytes) -> np.ndarray:
    """An IDX file of unsigned bytes -> uint8 array.

    Layout: two zero bytes, a type byte (0x08 = uint8), the number of dimensions, then each
    dimension as a big-endian uint32, then the data in C order.
    """
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] != 0x08:
        raise ValueError("not an IDX file of unsigned bytes")
    ndim = raw[3]
    shape = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"IDX header says shape {shape}, but {data.size} values follow")
    return data.reshape(shape)


@functools.lru_cache(maxsize=8)
def _read_idx(path: str, size: int, mtime_ns: int) -> np.ndarray:
    """Parsed IDX file, cached per (path, size, mtime); read-only so no caller can change the
    cache."""
    with gzip.open(path, "rb") as f:
        array = parse_idx(f.read())
    array.flags.writeable = False
    return array


def read_idx(name: str, data_dir=None, *, download=None) -> np.ndarray:
    """The verified IDX file called ``name`` in the registry, as a read-only uint8 array."""
    path = Path(locate(name, data_dir, download=download))
    stat = path.stat()
    try:
        return _read_idx(str(path), stat.st_size, stat.st_mtime_ns)
    except ValueError as exc:
        raise DataError(f"dataset {name!r}: {path} is not a valid IDX file: {exc}") from exc


def _load(prefix, data_dir, dtype, normalize, flatten, validation_size, seed) -> Splits:
    parts = []
    for split in ("train", "test"):
        images = read_idx(f"{prefix}-{split}-images", data_dir)
        labels = read_idx(f"{prefix}-{split}-labels", data_dir)
        if len(images) != len(labels):
            raise DataError(f"{prefix} {split}: {len(images)} images but {len(labels)} labels")
        shape = (len(images), -1) if flatten else (len(images), 1, *images.shape[1:])
        parts += [
            to_pixels(images, dtype, normalize, 255.0).reshape(shape),
            labels.astype(np.int64),
        ]
    return make_splits(*parts, validation_size=validation_size, seed=seed)


def load_mnist(
    data_dir=None, *, dtype="float32", normalize=True, flatten=True, validation_size=0, seed=0
) -> Splits:
    """MNIST: 60,000 training and 10,000 test images of handwritten digits, 28x28, labels 0-9.

    ``x`` is (N, 784), or (N, 1, 28, 28) with ``flatten=False``; float values are in [0, 1]
    (``normalize=False``: 0..255), ``dtype="uint8"`` gives the raw bytes.  ``validation_size``
    examples are held out of the training set (see :func:`make_splits`).
    """
    return _load("mnist", data_dir, dtype, normalize, flatten, validation_size, seed)


def load_fashion_mnist(
    data_dir=None, *, dtype="float32", normalize=True, flatten=True, validation_size=0, seed=0
) -> Splits:
    """Fashion-MNIST: MNIST's format and sizes, with clothing (:data:`FASHION_CLASSES`)."""
    return _load("fashion-mnist", data_dir, dtype, normalize, flatten, validation_size, seed)
