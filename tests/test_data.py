"""course_lib.data: checksums, where files are found, and what each loader returns."""

import gzip
import hashlib
import re
import shutil
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from course_lib.data import (
    DATASETS,
    DataError,
    available,
    load_analogies,
    load_cifar10,
    load_digits,
    load_hyakunin_isshu,
    load_mnist,
    load_ptb,
    load_text,
    locate,
)
from course_lib.data.store import file_digest

# registered, but no copy in the shared data
OFFLINE_HERE = ("fashion-mnist", "cifar-10", "text8", "movielens-20m", "20newsgroups")


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No COURSE_DATA, an empty user cache, no network: only what a test puts in place is found."""
    monkeypatch.delenv("COURSE_DATA", raising=False)
    monkeypatch.delenv("COURSE_DATA_MIRROR", raising=False)
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    return tmp_path


def _copy(data_dir, root, name):
    """Copy the shared file of dataset ``name`` into the data folder ``root``; return the copy."""
    path = root / DATASETS[name].path
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(data_dir / DATASETS[name].path, path)
    return path


# ------------------------------------------------------------------------------- the registry
def test_every_entry_has_a_url_and_a_well_formed_checksum():
    lengths = {"sha256": 64, "sha1": 40, "md5": 32}
    for name, e in DATASETS.items():
        assert (
            e.name == name and e.urls and all(u.startswith(("http://", "https://")) for u in e.urls)
        )
        assert e.covers in ("file", "decompressed")
        assert re.fullmatch(f"[0-9a-f]{{{lengths[e.algorithm]}}}", e.digest), name


def test_every_shared_file_matches_its_checksum(data_dir):
    for name, e in DATASETS.items():
        if not name.startswith(OFFLINE_HERE):
            assert locate(name, data_dir, download=False) == data_dir / e.path


def test_gz_checksums_cover_the_decompressed_content(data_dir):
    e = DATASETS["mnist-test-labels"]
    path = data_dir / e.path
    assert file_digest(path, "sha256", decompress=True) == e.digest
    assert file_digest(path, "sha256") != e.digest  # the .gz file itself hashes differently


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="ptb-train"):
        locate("no-such-dataset")


# ------------------------------------------------------------------- corrupt and missing files
def test_corrupt_file_raises_naming_the_file_and_the_checksum(data_dir, isolated):
    path = _copy(data_dir, isolated, "ptb-valid")
    raw = bytearray(path.read_bytes())
    raw[1000:1010] = bytes(b ^ 0xFF for b in raw[1000:1010])
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError) as err:
        load_ptb("valid", data_dir=isolated)
    message = str(err.value)
    assert str(path) in message and DATASETS["ptb-valid"].digest in message


def test_truncated_gz_raises_a_data_error_not_a_zlib_error(data_dir, isolated):
    path = _copy(data_dir, isolated, "mnist-test-images")
    path.write_bytes(path.read_bytes()[:500_000])
    with pytest.raises(DataError) as err:
        locate("mnist-test-images", isolated)
    assert str(path) in str(err.value) and DATASETS["mnist-test-images"].digest in str(err.value)
    assert "truncated" in str(err.value)


def test_gz_of_other_content_is_refused(isolated):
    e = DATASETS["mnist-test-labels"]
    path = isolated / e.path
    path.parent.mkdir(parents=True)
    path.write_bytes(
        gzip.compress(b"\0\0\x08\x01" + bytes(4))
    )  # a valid gz, a valid IDX, wrong data
    with pytest.raises(DataError, match="does not match its checksum"):
        locate("mnist-test-labels", isolated)


def test_missing_file_offline_says_what_to_do(isolated):
    with pytest.raises(DataError) as err:
        load_ptb("test")
    message = str(err.value)
    cache_path = isolated / "cache" / DATASETS["ptb-test"].path
    assert "text/ptb.test.txt" in message and DATASETS["ptb-test"].digest in message
    assert (
        "COURSE_DATA" in message
        and str(cache_path) in message
        and "unset COURSE_OFFLINE" in message
    )
    assert not cache_path.exists()


def test_download_false_never_downloads(isolated, monkeypatch):
    monkeypatch.delenv("COURSE_OFFLINE")
    with pytest.raises(DataError, match="download=False"):
        locate("ptb-test", download=False)


# ---------------------------------------------------------------------------- resolution order
def test_explicit_data_dir_beats_course_data_beats_the_cache(data_dir, isolated, monkeypatch):
    roots = {where: isolated / where for where in ("explicit", "env", "cache")}
    for root in roots.values():
        _copy(data_dir, root, "ptb-test")
    monkeypatch.setenv("COURSE_DATA", str(roots["env"]))
    assert locate("ptb-test", roots["explicit"]).is_relative_to(roots["explicit"])
    assert locate("ptb-test").is_relative_to(roots["env"])
    monkeypatch.delenv("COURSE_DATA")
    assert locate("ptb-test").is_relative_to(roots["cache"])
    # a folder without the file is passed over, not an error
    assert locate("ptb-test", isolated / "empty").is_relative_to(roots["cache"])
    assert available("ptb-test") and not available("cifar-10")


def test_a_corrupt_first_copy_is_an_error_not_passed_over(data_dir, isolated, monkeypatch):
    good = _copy(data_dir, isolated / "env", "ptb-test")
    bad = _copy(data_dir, isolated / "explicit", "ptb-test")
    bad.write_bytes(good.read_bytes()[:-10])
    monkeypatch.setenv("COURSE_DATA", str(isolated / "env"))
    with pytest.raises(DataError, match=re.escape(str(bad))):
        locate("ptb-test", isolated / "explicit")


# --------------------------------------------------------------------------------------- MNIST
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_mnist_shapes_dtypes_and_values(data_dir):
    m = load_mnist(data_dir)
    assert m.x_train.shape == (60000, 784) and m.x_test.shape == (10000, 784)
    assert m.x_train.dtype == np.float32 and m.y_train.dtype == np.int64
    assert m.x_train.min() == 0.0 and m.x_train.max() == 1.0
    assert m.x_val is None and m.y_val is None
    assert np.bincount(m.y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(m.y_test).tolist() == TEST_COUNTS


def test_mnist_raw_bytes_and_image_layout(data_dir):
    m = load_mnist(data_dir, dtype="uint8", flatten=False)
    assert m.x_train.shape == (60000, 1, 28, 28) and m.x_train.dtype == np.uint8
    assert m.x_train.max() == 255
    assert m.x_train.flags.writeable  # a fresh array, not the loader's cache
    m.x_train[0] = 0
    assert load_mnist(data_dir, dtype="uint8").x_train[0].any()
    f = load_mnist(data_dir, normalize=False)
    assert f.x_test.dtype == np.float32 and f.x_test.max() == 255.0


def _rows(x):
    return sorted(row.tobytes() for row in x)


def test_mnist_validation_split(data_dir):
    full = load_mnist(data_dir, dtype="uint8")
    m = load_mnist(data_dir, dtype="uint8", validation_size=5000, seed=1)
    assert m.x_train.shape == (55000, 784) and m.x_val.shape == (5000, 784)
    assert m.y_train.shape == (55000,) and m.y_val.shape == (5000,)
    # train and validation partition the original training set (so they are disjoint)
    assert _rows(np.concatenate([m.x_train, m.x_val])) == _rows(full.x_train)
    counts = np.bincount(m.y_train, minlength=10) + np.bincount(m.y_val, minlength=10)
    assert counts.tolist() == TRAIN_COUNTS
    np.testing.assert_array_equal(m.x_test, full.x_test)
    # the same seed gives the same split, another seed another one
    again = load_mnist(data_dir, dtype="uint8", validation_size=5000, seed=1)
    np.testing.assert_array_equal(m.y_val, again.y_val)
    np.testing.assert_array_equal(m.x_val, again.x_val)
    other = load_mnist(data_dir, dtype="uint8", validation_size=5000, seed=2)
    assert not np.array_equal(m.x_val, other.x_val)
    with pytest.raises(ValueError):
        load_mnist(data_dir, validation_size=60000)


# ---------------------------------------------------------------------------------- digits
def test_digits_are_always_available(isolated):
    d = load_digits()
    assert d.x_train.shape == (1500, 64) and d.x_test.shape == (297, 64)
    assert d.x_train.dtype == np.float32 and d.x_train.max() == 1.0 and d.x_train.min() == 0.0
    assert sorted(set(d.y_train.tolist())) == list(range(10))
    v = load_digits(validation_size=300, seed=0, normalize=False)
    assert v.x_train.shape == (1200, 64) and v.x_val.shape == (300, 64) and v.x_val.max() == 16.0


# -------------------------------------------------------------------------------------- texts
def test_soseki_is_cleaned_of_aozora_markup(data_dir):
    text = load_text("wagahaiwa_nekodearu", data_dir)
    for mark in ("《", "》", "｜", "［＃", "\ufeff"):
        assert mark not in text
    assert "吾輩は猫である。名前はまだ無い。" in text[:50]
    assert "テキスト中に現れる記号" not in text and "底本" not in text and "青空文庫" not in text
    assert text.rstrip().endswith("ありがたいありがたい。")
    assert "吾輩は死ぬ。" in text and len(text) > 300_000


def test_tiny_shakespeare(data_dir):
    text = load_text("tinyshakespeare", data_dir)
    assert len(text) == 1_115_394 and text.startswith("First Citizen:")
    with pytest.raises(ValueError):
        load_text("no-such-text", data_dir)


def test_ptb_token_counts_and_vocabulary(data_dir):
    train = load_ptb("train", data_dir)
    assert len(train) == 929_589 and len(load_ptb("valid", data_dir)) == 73_760
    assert len(load_ptb("test", data_dir)) == 82_430
    assert len(set(train)) == 10_000 and "<unk>" in set(train)
    assert train.count("<eos>") == 42_068 and train[-1] == "<eos>"


def test_analogies(data_dir):
    questions = load_analogies(data_dir)
    sections = list(dict.fromkeys(q.section for q in questions))
    assert len(questions) == 19_544 and len(sections) == 14
    assert tuple(questions[0]) == (
        "capital-common-countries",
        "Athens",
        "Greece",
        "Baghdad",
        "Iraq",
    )
    per_section = Counter(q.section for q in questions)
    assert (
        sum(per_section[s] for s in sections[:5]) == 8_869
    )  # semantic; the other 10,675 syntactic


def test_hyakunin_isshu_halves(data_dir):
    poems = load_hyakunin_isshu(data_dir)
    assert [p.no for p in poems] == list(range(1, 101))
    first = poems[0]
    assert (first.kanji_upper, first.kanji_lower) == (
        "秋の田の かりほの庵の 苫をあらみ",
        "我が衣手は 露にぬれつつ",
    )
    assert first.kana_lower == "わがころもでは つゆにぬれつつ" and first.author == "天智天皇"
    p31 = poems[
        30
    ]  # its kanji joins two upper phrases, so only counting from the end splits it right
    assert (p31.kanji_upper, p31.kanji_lower) == (
        "朝ぼらけ 有明の月と見るまでに",
        "吉野の里に 降れる白雪",
    )
    assert (p31.kana_upper, p31.kana_lower) == (
        "あさぼらけ ありあけのつきと みるまでに",
        "よしののさとに ふれるしらゆき",
    )
    for p in poems:
        assert len(p.kana_upper.split()) == 3 and len(p.kana_lower.split()) == 2
        assert len(p.kanji_lower.split()) == 2 and p.kanji_upper and p.author


# ---------------------------------------------------------------- CIFAR-10 (no copy here)
def test_cifar10_reader_on_a_small_archive_in_the_same_layout(isolated, monkeypatch):
    import io
    import pickle
    import tarfile

    path = isolated / DATASETS["cifar-10"].path
    path.parent.mkdir(parents=True)
    rng = np.random.default_rng(0)
    with tarfile.open(path, "w:gz") as tar:
        for member in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            batch = {
                b"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8),
                b"labels": [0, 1, 2, 9],
            }
            blob = pickle.dumps(batch)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{member}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    md5 = hashlib.md5(path.read_bytes()).hexdigest()
    with pytest.raises(DataError, match="c58f30108f718f92721af3b95e74349a"):
        load_cifar10(isolated)  # the small archive is not the published one
    monkeypatch.setitem(DATASETS, "cifar-10", replace(DATASETS["cifar-10"], checksum=f"md5:{md5}"))
    c = load_cifar10(isolated, validation_size=2)
    assert c.x_train.shape == (18, 3, 32, 32) and c.x_val.shape == (2, 3, 32, 32)
    assert (
        c.x_test.shape == (4, 3, 32, 32)
        and c.x_test.max() <= 1.0
        and c.y_test.tolist() == [0, 1, 2, 9]
    )
