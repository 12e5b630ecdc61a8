"""A streaming input pipeline, by hand: read records -> transform each -> shuffle in a buffer ->
batch -> prefetch on a background thread.

The shape of DL4J's DataVec (seed 003: ``InputSplit + RecordReader -> DataSetIterator -> next()
-> DataSet``) and of tf.data.  Each stage is a generator over the one before, so at any moment the
pipeline holds one record being read, ``buffer`` shuffled samples, one batch being built and
``depth`` finished batches: memory ~ (buffer + (depth + 1) * batch) samples, whatever the file's
size.

    stream = prefetch(batches(shuffle_buffer(transform(mnist_records("train"), to_float),
                                             1000, rng), 100), depth=4)
    for x, y in stream: ...                      # x (100, 1, 28, 28) float32, y (100,) int64

The shuffling buffer (tf.data's ``shuffle``) keeps ``size`` samples; each incoming sample takes
the place of one drawn uniformly from the buffer, which is emitted.  A sample can move at most
forward by the stream's length but backward by about ``size``: a buffer smaller than the set
shuffles only locally (the order within a file sorted by label would stay nearly sorted).
"""

from __future__ import annotations

import gzip
import itertools
import math
import queue
import struct
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from course_lib.data.store import DataError, locate


def read_idx_header(f, path) -> tuple[int, ...]:
    """The shape in an IDX header (two zero bytes, 0x08 for uint8, ndim, ndim big-endian
    uint32), read from the open binary stream ``f``, which is left at the first record."""
    head = f.read(4)
    if len(head) < 4 or head[:2] != b"\0\0" or head[2] != 0x08:
        raise DataError(f"{path}: not an IDX file of unsigned bytes (header {head!r})")
    dims = f.read(4 * head[3])
    if len(dims) != 4 * head[3]:
        raise DataError(f"{path}: the IDX header is cut short")
    return struct.unpack(f">{head[3]}I", dims)


def idx_records(path, keep=None, stop=None) -> Iterator[np.ndarray]:
    """The records of an IDX file (``.gz`` or plain) one at a time, as read-only uint8 arrays of
    the shape after the first axis; only the record being read is in memory.

    ``keep(i)`` False skips record ``i`` (it is still read: a gzip stream cannot seek);
    ``stop``: read only the first ``stop`` records.
    """
    path = Path(path)
    with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as f:
        shape = read_idx_header(f, path)
        size = math.prod(shape[1:])
        for i in range(shape[0] if stop is None else min(stop, shape[0])):
            raw = f.read(size)
            if len(raw) != size:
                raise DataError(f"{path}: record {i} of {shape[0]} is cut short")
            if keep is None or keep(i):
                yield np.frombuffer(raw, dtype=np.uint8).reshape(shape[1:])


def mnist_records(split="train", data_dir=None, keep=None, stop=None) -> Iterator:
    """(image uint8 (28, 28), label) pairs of MNIST's ``split`` ("train" or "test"), streamed
    from the verified IDX files (``keep``, ``stop``: see :func:`idx_records`)."""
    if split not in ("train", "test"):
        raise ValueError(f"split {split!r}: use 'train' or 'test'")
    images, labels = (locate(f"mnist-{split}-{part}", data_dir) for part in ("images", "labels"))
    pairs = zip(idx_records(images, keep, stop), idx_records(labels, keep, stop), strict=True)
    return ((x, int(y)) for x, y in pairs)


def to_float(x: np.ndarray, y: int) -> tuple[np.ndarray, int]:
    """One MNIST record -> a float32 (1, 28, 28) image in [0, 1] (pixel / 255), label kept."""
    return (x.astype(np.float32) / 255.0)[None], y


def transform(samples: Iterable, *functions: Callable) -> Iterator:
    """Each (x, y) sample passed through ``functions`` in turn (DataVec's TransformProcess)."""
    for sample in samples:
        for f in functions:
            sample = f(*sample)
        yield sample


def shuffle_buffer(samples: Iterable, size: int, rng) -> Iterator:
    """The samples in a random order, using a buffer of ``size`` (see the module docstring)."""
    if not isinstance(size, int) or size < 1:
        raise ValueError(f"shuffle buffer size {size!r}: give an integer >= 1")
    rng, buffer = np.random.default_rng(rng), []
    for sample in samples:
        if len(buffer) < size:
            buffer.append(sample)
            continue
        k = int(rng.integers(size))
        yield buffer[k]
        buffer[k] = sample
    for k in rng.permutation(len(buffer)):  # the stream ended: empty the buffer in random order
        yield buffer[k]


def batches(samples: Iterable, size: int, drop_last: bool = False) -> Iterator:
    """(x, y) samples stacked into batches ``(X (size, ...), y (size,) int64)``; the last batch
    is smaller unless ``drop_last``."""
    if not isinstance(size, int) or size < 1:
        raise ValueError(f"batch size {size!r}: give an integer >= 1")
    it = iter(samples)
    while chunk := list(itertools.islice(it, size)):
        if len(chunk) < size and drop_last:
            return
        xs, ys = zip(*chunk)
        yield np.stack(xs), np.asarray(ys, dtype=np.int64)


_END = object()


class _Failed:
    def __init__(self, exc: BaseException):
        self.exc = exc


def prefetch(items: Iterable, depth: int = 2) -> Iterator:
    """``items`` produced on a background thread, up to ``depth`` ahead of the consumer, so
    reading overlaps with whatever the consumer does between ``next`` calls.  An error in the
    producer is raised in the consumer; leaving the loop early stops the producer."""
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"prefetch depth {depth!r}: give an integer >= 1")
    slots, stop = queue.Queue(maxsize=depth), threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for item in items:
                if not put(item):
                    return
            put(_END)
        except BaseException as exc:  # handed to the consumer, raised there
            put(_Failed(exc))

    worker = threading.Thread(target=produce, name="prefetch", daemon=True)
    worker.start()
    try:
        while (item := slots.get()) is not _END:
            if isinstance(item, _Failed):
                raise item.exc
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


def pipeline(
    split="train", batch_size=100, *, shuffle=0, seed=0, limit=None, depth=2, data_dir=None
) -> Iterator:
    """MNIST's ``split`` as float batches: the stages above in order.  ``shuffle``: buffer size
    (0: file order); ``limit``: only the first ``limit`` records; ``depth``: prefetched batches
    (0: no background thread)."""
    samples = transform(mnist_records(split, data_dir, stop=limit), to_float)
    if shuffle:
        samples = shuffle_buffer(samples, shuffle, seed)
    out = batches(samples, batch_size)
    return prefetch(out, depth) if depth else out
