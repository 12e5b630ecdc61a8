"""Labelled documents for maps of documents (lesson 17).

    plays = shakespeare_speeches()          # 7,222 speeches, each with its play and speaker
    chapters = neko_paragraphs()            # 吾輩は猫である, paragraph by paragraph, with chapters
    labels, docs = passages(units, english_words, min_tokens=150)

Offline the course has two novels' worth of text with labels hidden in it: tiny-shakespeare is
nine plays run together (recovered here from each play's first line), and Soseki's novel has
eleven chapters.  With a network, :func:`load_tag_genome` gives seed 000's film data (MovieLens
Tag Genome, 1,128 tag relevances per film) and :func:`load_20newsgroups` a news corpus like the
one Hinton & Salakhutdinov (2006) mapped.
"""

from __future__ import annotations

import csv
import io
import tarfile
import zipfile
from typing import NamedTuple

import numpy as np

from course_lib.data.store import DataError, locate
from course_lib.data.text import load_text

# The first line of each play in tiny-shakespeare, in the order the plays appear in the file.
PLAY_OPENINGS = (
    ("Coriolanus", "Before we proceed any further, hear me speak."),
    ("Richard III", "Now is the winter of our discontent"),
    ("Richard II", "Old John of Gaunt, time-honour'd Lancaster,"),
    ("Romeo and Juliet", "Gregory, o' my word, we'll not carry coals."),
    ("Henry VI, Part 3", "I wonder how the king escaped our hands."),
    ("The Winter's Tale", "If you shall chance, Camillo, to visit Bohemia, on"),
    ("Measure for Measure", "Escalus."),
    ("The Taming of the Shrew", "I'll pheeze you, in faith."),
    ("The Tempest", "Boatswain!"),
)


class Speech(NamedTuple):
    play: str
    speaker: str
    text: str


def _play_starts(first_lines: list[str]) -> list[int]:
    """Index of the first speech of each play (the first speech after the previous play's start
    whose first line is the play's opening line)."""
    starts, i = [], 0
    for play, line in PLAY_OPENINGS:
        try:
            i = first_lines.index(line, i)
        except ValueError:
            raise DataError(
                f"tiny-shakespeare: the opening line of {play} ({line!r}) is not where it should "
                "be; the file is not char-rnn's input.txt (re-download it: delete the file and "
                "load it again)"
            ) from None
        starts.append(i)
    return starts


def shakespeare_speeches(data_dir=None) -> list[Speech]:
    """Every speech of tiny-shakespeare with its speaker and the play it belongs to.

    A speech is a block ``SPEAKER:\\nlines...`` between blank lines.  The file names no plays;
    they are recovered from the first line of each play (:data:`PLAY_OPENINGS`).
    """
    blocks = [b.strip("\n") for b in load_text("tinyshakespeare", data_dir).split("\n\n")]
    blocks = [b for b in blocks if b]
    heads = [b.split("\n", 2) for b in blocks]
    starts = _play_starts([h[1] if len(h) > 1 else "" for h in heads])
    play_of = np.searchsorted(starts, np.arange(len(blocks)), side="right") - 1
    speeches = []
    for block, k in zip(blocks, play_of):
        speaker, _, text = block.partition("\n")
        speeches.append(Speech(PLAY_OPENINGS[max(k, 0)][0], speaker.rstrip(":"), text))
    return speeches


def neko_paragraphs(data_dir=None) -> list[tuple[int, str]]:
    """``(chapter, paragraph)`` for every paragraph of 吾輩は猫である (chapters 1-11).

    The Aozora text marks a chapter by a line holding only its kanji numeral (一 ... 十一).
    """
    numerals = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一"]
    chapter, out = 0, []
    for line in load_text("wagahaiwa_nekodearu", data_dir).splitlines():
        line = line.strip()
        if chapter < len(numerals) and line == numerals[chapter]:
            chapter += 1
        elif line:
            out.append((chapter, line))
    if chapter != len(numerals):
        raise DataError(
            f"吾輩は猫である: found {chapter} of the 11 chapter headings; the file is not the "
            "Aozora text the course expects (re-download it)"
        )
    return out


def passages(units, tokenize, min_tokens: int = 150):
    """Consecutive units with the same label joined into documents of at least ``min_tokens``.

    ``units``: ``(label, text)`` pairs in reading order.  A document never crosses a change of
    label; a short remainder at a change is dropped.  Returns ``(labels, token_lists)``.
    """
    if min_tokens < 1:
        raise ValueError(f"min_tokens must be at least 1, got {min_tokens}")
    labels, docs, current, label = [], [], [], None
    for unit_label, text in units:
        if unit_label != label:
            current, label = [], unit_label
        current += tokenize(text)
        if len(current) >= min_tokens:
            labels.append(label)
            docs.append(current)
            current = []
    return labels, docs


class TagGenome(NamedTuple):
    relevance: np.ndarray  # (films, tags) float32 in [0, 1]
    tags: list[str]
    titles: list[str]
    genres: list[list[str]]  # MovieLens genres of each film


def _csv_rows(archive: zipfile.ZipFile, name: str) -> list[list[str]]:
    with archive.open(f"ml-20m/{name}") as f:
        rows = list(csv.reader(io.TextIOWrapper(f, encoding="utf-8")))
    return rows[1:]


def load_tag_genome(data_dir=None) -> TagGenome:
    """Seed 000's data: the MovieLens Tag Genome (1,128 tag relevances per film), from MovieLens
    20M (``genome-scores.csv``, ``genome-tags.csv``, ``movies.csv``; 10,381 films; the 2014
    release the talk used had 9,734).  Downloads 190 MB when missing."""
    with zipfile.ZipFile(locate("movielens-20m", data_dir)) as archive:
        tags = [name for _, name in _csv_rows(archive, "genome-tags.csv")]
        movies = {int(r[0]): (r[1], r[2].split("|")) for r in _csv_rows(archive, "movies.csv")}
        scores = _csv_rows(archive, "genome-scores.csv")
    ids = sorted({int(r[0]) for r in scores})
    row = {m: i for i, m in enumerate(ids)}
    relevance = np.zeros((len(ids), len(tags)), np.float32)
    for m, t, value in scores:
        relevance[row[int(m)], int(t) - 1] = float(value)
    return TagGenome(relevance, tags, [movies[m][0] for m in ids], [movies[m][1] for m in ids])


def load_20newsgroups(subset: str = "train", data_dir=None) -> list[tuple[str, str]]:
    """``(newsgroup, text)`` for each post of 20 Newsgroups ("bydate" version: 11,314 training
    and 7,532 test posts), headers included as they are in the archive."""
    if subset not in ("train", "test"):
        raise ValueError(f"subset must be 'train' or 'test', got {subset!r}")
    posts = []
    with tarfile.open(locate("20newsgroups", data_dir), "r:gz") as tar:
        for member in tar:
            parts = member.name.split("/")
            if member.isfile() and len(parts) == 3 and parts[0] == f"20news-bydate-{subset}":
                text = tar.extractfile(member).read().decode("latin-1")
                posts.append((parts[1], text))
    return posts
