"""Labelled documents: plays recovered from tiny-shakespeare, chapters of 吾輩は猫である, passages,
and the parsers of the Tag Genome and 20 Newsgroups archives (on small archives of the same
layout: the real ones need a network)."""

import io
import tarfile
import zipfile
from collections import Counter

import numpy as np
import pytest

from course_lib.data import DataError, documents
from course_lib.data.documents import (
    PLAY_OPENINGS,
    neko_paragraphs,
    passages,
    shakespeare_speeches,
)

needs_text = pytest.mark.usefixtures("text_data")


@pytest.fixture
def text_data():
    from course_lib.data import available

    if not (available("tinyshakespeare") and available("wagahaiwa_nekodearu")):
        pytest.skip("the text corpora are not here (set COURSE_DATA)")


@needs_text
def test_every_speech_gets_its_play_in_file_order():
    speeches = shakespeare_speeches()
    assert len(speeches) == 7222
    order = list(dict.fromkeys(s.play for s in speeches))
    assert order == [play for play, _ in PLAY_OPENINGS]
    first = {s.play: s for s in reversed(speeches)}  # the first speech of each play
    assert first["Richard III"].speaker == "GLOUCESTER"
    assert first["Richard III"].text.startswith("Now is the winter of our discontent")
    assert first["The Tempest"].speaker == "Master"
    counts = Counter(s.play for s in speeches)
    assert counts["Coriolanus"] == 1107 and counts["The Tempest"] == 283
    # the main characters fall in their own play
    speakers = {s.speaker: s.play for s in speeches}
    assert speakers["ROMEO"] == "Romeo and Juliet" and speakers["PROSPERO"] == "The Tempest"


def test_a_missing_opening_line_is_an_error_naming_the_play():
    lines = [line for _, line in PLAY_OPENINGS]
    assert documents._play_starts(lines) == list(range(len(lines)))
    with pytest.raises(DataError, match="Richard II "):
        documents._play_starts(lines[:2] + lines[3:])


@needs_text
def test_neko_has_eleven_chapters_in_order():
    paragraphs = neko_paragraphs()
    chapters = [c for c, _ in paragraphs]
    assert chapters == sorted(chapters) and set(chapters) == set(range(1, 12))
    assert paragraphs[0] == (1, "吾輩は猫である。名前はまだ無い。")


def test_passages_never_cross_a_label_and_drop_short_remainders():
    units = [("a", "x y"), ("a", "z"), ("a", "w"), ("b", "p q r"), ("b", "s"), ("a", "t u v")]
    labels, docs = passages(units, str.split, min_tokens=3)
    assert labels == ["a", "b", "a"]
    assert docs == [["x", "y", "z"], ["p", "q", "r"], ["t", "u", "v"]]  # "w" and "s" dropped
    with pytest.raises(ValueError, match="min_tokens"):
        passages(units, str.split, min_tokens=0)


def _zip_with(files: dict) -> io.BytesIO:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in files.items():
            z.writestr(f"ml-20m/{name}", text)
    return buf


def test_tag_genome_parser(tmp_path, monkeypatch):
    files = {
        "genome-tags.csv": "tagId,tag\n1,aliens\n2,disney\n3,dark\n",
        "movies.csv": "movieId,title,genres\n1,Toy Story (1995),Animation|Children\n"
        '5,"Alien, The (1979)",Horror|Sci-Fi\n9,Unscored (2000),Drama\n',
        "genome-scores.csv": "movieId,tagId,relevance\n"
        + "".join(
            f"{m},{t},{v}\n"
            for m, row in ((1, (0.1, 0.9, 0.2)), (5, (0.95, 0.0, 0.8)))
            for t, v in enumerate(row, 1)
        ),
    }
    path = tmp_path / "ml-20m.zip"
    path.write_bytes(_zip_with(files).getvalue())
    monkeypatch.setattr(documents, "locate", lambda name, data_dir=None: path)
    genome = documents.load_tag_genome()
    assert genome.tags == ["aliens", "disney", "dark"]
    assert genome.titles == ["Toy Story (1995)", "Alien, The (1979)"]  # films with scores only
    assert genome.genres == [["Animation", "Children"], ["Horror", "Sci-Fi"]]
    assert genome.relevance.dtype == np.float32
    assert np.allclose(genome.relevance, [[0.1, 0.9, 0.2], [0.95, 0.0, 0.8]])


def test_20newsgroups_parser(tmp_path, monkeypatch):
    path = tmp_path / "20news-bydate.tar.gz"
    posts = {
        "20news-bydate-train/sci.space/1": "From: a\n\nOrbit.",
        "20news-bydate-train/rec.autos/2": "From: b\n\nEngines caf\xe9.",
        "20news-bydate-test/sci.space/3": "From: c\n\nMoon.",
    }
    with tarfile.open(path, "w:gz") as tar:
        for name, text in posts.items():
            data = text.encode("latin-1")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    monkeypatch.setattr(documents, "locate", lambda name, data_dir=None: path)
    train = documents.load_20newsgroups("train")
    assert sorted(train) == [
        ("rec.autos", "From: b\n\nEngines caf\xe9."),
        ("sci.space", "From: a\n\nOrbit."),
    ]
    assert documents.load_20newsgroups("test") == [("sci.space", "From: c\n\nMoon.")]
    with pytest.raises(ValueError, match="'train' or 'test'"):
        documents.load_20newsgroups("validation")


def test_the_network_datasets_are_registered_with_checksums():
    from course_lib.data.registry import entry

    assert entry("movielens-20m").checksum == "md5:cd245b17a1ae2cc31bb14903e1204af3"
    assert entry("20newsgroups").algorithm == "sha256"
    assert all(e.urls for e in (entry("movielens-20m"), entry("20newsgroups")))
