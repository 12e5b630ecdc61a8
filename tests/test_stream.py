"""course_lib.data.stream and torch_stream: a streaming MNIST pipeline by hand and with torch."""

import gzip
import struct
import threading

import numpy as np
import pytest

from course_lib.data import DataError, load_mnist, stream
from course_lib.data.torch_stream import torch_loader


def write_idx(path, array, compress=True):
    head = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    data = head + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


@pytest.mark.parametrize("compress", [True, False])
def test_idx_records_are_the_rows_of_the_file_one_at_a_time(tmp_path, compress):
    array = np.random.default_rng(0).integers(0, 256, (7, 3, 5), dtype=np.uint8)
    path = write_idx(tmp_path / ("a.gz" if compress else "a.idx"), array, compress)
    rows = list(stream.idx_records(path))
    assert len(rows) == 7 and all(r.shape == (3, 5) for r in rows)
    np.testing.assert_array_equal(np.stack(rows), array)
    kept = list(stream.idx_records(path, keep=lambda i: i % 3 == 1, stop=6))
    np.testing.assert_array_equal(np.stack(kept), array[[1, 4]])


def test_a_truncated_or_foreign_file_is_refused_with_its_name(tmp_path):
    array = np.zeros((4, 2, 2), dtype=np.uint8)
    path = write_idx(tmp_path / "cut.idx", array, compress=False)
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(DataError, match=r"cut.idx: record 3 of 4 is cut short"):
        list(stream.idx_records(path))
    (tmp_path / "text.idx").write_bytes(b"hello world")
    with pytest.raises(DataError, match="text.idx: not an IDX file"):
        list(stream.idx_records(tmp_path / "text.idx"))


@pytest.mark.parametrize("size", [1, 4, 10, 50])
def test_the_shuffle_buffer_emits_a_permutation_reproducibly(size):
    out = list(stream.shuffle_buffer(range(30), size, rng=3))
    assert sorted(out) == list(range(30))
    assert out == list(stream.shuffle_buffer(range(30), size, rng=3))
    if size == 1:
        assert out == list(range(30))  # a buffer of one cannot reorder anything
    else:
        assert out != list(range(30))


def test_a_small_buffer_shuffles_only_locally():
    out = np.array(list(stream.shuffle_buffer(range(2000), 10, rng=0)))
    assert (np.arange(2000) - out).max() <= 10 + 60  # nothing comes out long after it went in
    with pytest.raises(ValueError, match="buffer size 0"):
        next(stream.shuffle_buffer(range(3), 0, rng=0))


def test_batches_stack_samples_and_keep_or_drop_the_last():
    samples = [(np.full((2, 2), i, np.float32), i) for i in range(7)]
    got = list(stream.batches(samples, 3))
    assert [len(y) for _, y in got] == [3, 3, 1]
    assert got[0][0].shape == (3, 2, 2) and got[0][1].dtype == np.int64
    assert [len(y) for _, y in stream.batches(samples, 3, drop_last=True)] == [3, 3]
    with pytest.raises(ValueError, match="batch size"):
        next(stream.batches(samples, 0))


def test_prefetch_keeps_the_order_raises_the_producers_error_and_stops_early():
    assert list(stream.prefetch(iter(range(100)), depth=3)) == list(range(100))

    def broken():
        yield 1
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        list(stream.prefetch(broken()))
    before = threading.active_count()
    it = stream.prefetch(iter(range(10**6)), depth=2)
    assert next(it) == 0
    it.close()  # leaving the loop early: the producer thread ends
    assert threading.active_count() == before


def test_the_pipeline_gives_the_in_memory_loaders_arrays(data_dir):
    mnist = load_mnist(data_dir, flatten=False)
    got = list(stream.pipeline("test", 64, limit=300, data_dir=data_dir))
    assert [len(y) for _, y in got] == [64] * 4 + [44]
    np.testing.assert_array_equal(np.concatenate([x for x, _ in got]), mnist.x_test[:300])
    np.testing.assert_array_equal(np.concatenate([y for _, y in got]), mnist.y_test[:300])
    shuffled = list(stream.pipeline("test", 64, shuffle=50, limit=300, data_dir=data_dir))
    labels = np.concatenate([y for _, y in shuffled])
    assert sorted(labels) == sorted(mnist.y_test[:300]) and not np.array_equal(
        labels, mnist.y_test[:300]
    )
    with pytest.raises(ValueError, match="split 'valid'"):
        stream.pipeline("valid")


@pytest.mark.parametrize("workers", [0, 2])
def test_torch_workers_give_the_same_batches_in_the_same_order(data_dir, workers):
    hand = list(stream.pipeline("test", 32, limit=200, depth=0, data_dir=data_dir))
    loader = torch_loader("test", 32, workers=workers, limit=200, data_dir=data_dir)
    torch_batches = [(x.numpy(), y.numpy()) for x, y in loader]
    assert len(torch_batches) == len(hand) == 7
    for (a, b), (c, d) in zip(hand, torch_batches):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
