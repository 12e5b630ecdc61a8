"""Text corpora: tiny-shakespeare, 吾輩は猫である, text8, Penn Treebank, and word analogies."""

from __future__ import annotations

import zipfile
from typing import NamedTuple

from course_lib.data.japanese import clean_aozora
from course_lib.data.store import locate

TEXTS = ("tinyshakespeare", "wagahaiwa_nekodearu", "text8")
SENTENCE_CORPORA = ("ptb", "text8")


def load_text(name: str, data_dir=None) -> str:
    """A whole corpus as one string.

    ``"tinyshakespeare"`` (1.1M characters), ``"wagahaiwa_nekodearu"`` (Soseki's novel, with
    the Aozora markup removed: see :func:`clean_aozora`), ``"text8"`` (10^8 characters).
    """
    if name not in TEXTS:
        raise ValueError(f"unknown text {name!r}; choose one of {TEXTS}")
    path = locate(name, data_dir)
    if name == "text8":
        with zipfile.ZipFile(path) as z:
            return z.read("text8").decode("ascii")
    text = path.read_text(encoding="utf-8-sig")
    return clean_aozora(text) if name == "wagahaiwa_nekodearu" else text


def load_ptb(split: str = "train", data_dir=None) -> list[str]:
    """Penn Treebank words of one split, with ``"<eos>"`` at the end of each line.

    This is the usual language-model setup (Mikolov; Zaremba et al.): 929,589 training,
    73,760 validation and 82,430 test tokens over a 10,000-word vocabulary.
    """
    if split not in ("train", "valid", "test"):
        raise ValueError(f"split must be 'train', 'valid' or 'test', got {split!r}")
    words = []
    for line in locate(f"ptb-{split}", data_dir).read_text(encoding="utf-8").splitlines():
        words += line.split()
        words.append("<eos>")
    return words


def load_sentences(corpus: str, max_words: int | None = None, data_dir=None) -> list[list[str]]:
    """A corpus as sentences of words, for word2vec: ``ptb``, the training split's lines (gensim's
    LineSentence; no ``<eos>``, unlike :func:`load_ptb`); ``text8``, 10,000-word sentences
    (gensim's Text8Corpus).  At most ``max_words`` tokens."""
    if corpus == "ptb":
        text = locate("ptb-train", data_dir).read_text(encoding="utf-8")
        sentences = [line.split() for line in text.splitlines() if line.strip()]
    elif corpus == "text8":
        words = load_text("text8", data_dir).split()
        sentences = [words[i : i + 10_000] for i in range(0, len(words), 10_000)]
    else:
        raise ValueError(f"unknown corpus {corpus!r}: choose from {', '.join(SENTENCE_CORPORA)}")
    if max_words is None:
        return sentences
    out, n = [], 0
    for s in sentences:
        if n >= max_words:
            break
        out.append(s[: max_words - n])
        n += len(out[-1])
    return out


class Analogy(NamedTuple):
    """``a`` is to ``b`` as ``c`` is to ``d``, from the named section of the test set."""

    section: str
    a: str
    b: str
    c: str
    d: str


def load_analogies(data_dir=None) -> list[Analogy]:
    """The word2vec analogy questions: 19,544 in 14 sections (the first five semantic).

    Words keep the file's case (``Athens Greece Baghdad Iraq``); lowercase them for a lowercase
    corpus.
    """
    questions, section = [], None
    for line in locate("questions-words", data_dir).read_text(encoding="utf-8").splitlines():
        if line.startswith(":"):
            section = line[1:].strip()
        elif line.strip():
            questions.append(Analogy(section, *line.split()))
    return questions
