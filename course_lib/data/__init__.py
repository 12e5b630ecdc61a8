"""Datasets: a registry of files with checksums, a verified cache with downloads, and loaders.

    from course_lib.data import load_mnist
    m = load_mnist(validation_size=10_000)     # m.x_train (50000, 784) float32 in [0, 1]

Files are found in ``data_dir``, then ``$COURSE_DATA``, then the user cache, and downloaded when
missing unless ``COURSE_OFFLINE=1`` (see :mod:`course_lib.data.store`).
"""

from course_lib.data.cifar import load_cifar10
from course_lib.data.digits import digits_file, load_digits, to_mnist_frame
from course_lib.data.japanese import Poem, clean_aozora, load_hyakunin_isshu
from course_lib.data.mnist import load_fashion_mnist, load_mnist
from course_lib.data.registry import DATASETS, Entry
from course_lib.data.splits import Splits
from course_lib.data.store import DataError, available, cache_dir, locate
from course_lib.data.text import Analogy, load_analogies, load_ptb, load_text
from course_lib.data.toyseq import (
    DATE_FORMATS,
    CharVocab,
    addition_pairs,
    date_pairs,
    encode_batch,
    fixed_split,
    format_date,
    seq2seq_arrays,
)

__all__ = [
    "DATASETS",
    "DATE_FORMATS",
    "Analogy",
    "CharVocab",
    "DataError",
    "Entry",
    "Poem",
    "Splits",
    "addition_pairs",
    "available",
    "cache_dir",
    "clean_aozora",
    "date_pairs",
    "encode_batch",
    "fixed_split",
    "format_date",
    "load_analogies",
    "load_cifar10",
    "digits_file",
    "load_digits",
    "to_mnist_frame",
    "load_fashion_mnist",
    "load_hyakunin_isshu",
    "load_mnist",
    "load_ptb",
    "load_text",
    "locate",
    "seq2seq_arrays",
]
