"""The same MNIST stream with ``torch.utils.data``: an IterableDataset read by a DataLoader's
worker processes.

Each of the DataLoader's ``W`` workers runs its own copy of the dataset, and the DataLoader takes
batches from them in turn (worker 0, 1, ..., W-1, 0, ...).  So that batches come out in file
order, worker ``w`` keeps the records of batches ``w, w + W, w + 2W, ...``: record ``i`` belongs
to batch ``i // B``.  Every worker still reads the whole file (a gzip stream cannot seek), and
an IterableDataset cannot be shuffled by the DataLoader: shuffling is the dataset's own job.
"""

from __future__ import annotations

from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from course_lib.data.stream import mnist_records, shuffle_buffer, to_float, transform


class MnistStream(IterableDataset):
    """MNIST's ``split`` as float (1, 28, 28) images and labels, streamed from the IDX files;
    ``shuffle`` > 0 shuffles each worker's share in a buffer of that size."""

    def __init__(
        self, split="train", batch_size=100, *, limit=None, shuffle=0, seed=0, data_dir=None
    ):
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch size {batch_size!r}: give an integer >= 1")
        self.split, self.batch_size, self.limit = split, batch_size, limit
        self.shuffle, self.seed, self.data_dir = shuffle, seed, data_dir

    def __iter__(self):
        info = get_worker_info()
        worker, workers = (0, 1) if info is None else (info.id, info.num_workers)

        def keep(i):
            return (i // self.batch_size) % workers == worker

        samples = transform(mnist_records(self.split, self.data_dir, keep, self.limit), to_float)
        if self.shuffle:
            samples = shuffle_buffer(samples, self.shuffle, (self.seed, worker))
        return samples


def torch_loader(
    split="train", batch_size=100, *, workers=0, limit=None, shuffle=0, seed=0, data_dir=None
) -> DataLoader:
    """A DataLoader over :class:`MnistStream` with ``workers`` processes (0: in this one)."""
    stream = MnistStream(
        split, batch_size, limit=limit, shuffle=shuffle, seed=seed, data_dir=data_dir
    )
    return DataLoader(stream, batch_size=batch_size, num_workers=workers)
