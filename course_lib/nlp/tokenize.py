"""Word-level tokenisers: English by a regular expression, Japanese by a morphological analyser.

    english_words("Don't panic, it's 3.14!")   # ["don't", 'panic', ',', "it's", '3.14', '!']
    japanese_words("吾輩は猫である。")           # ['吾輩', 'は', '猫', 'で', 'ある', '。']
    sentences = japanese_sentences(load_text("wagahaiwa_nekodearu"))   # lists of words

Japanese has no spaces between words, so a word-level model needs a dictionary-based analyser.
We use **fugashi** (a Python binding of MeCab, wheels on PyPI for Linux, macOS and Windows) with
**unidic-lite** (UniDic 2.1.2 packaged as a pip dependency, no system install).  The alternative,
janome, is pure Python and installs anywhere, but on this machine it took 3.1 s for the first
50,000 of the novel's 321,079 characters (about 20 s for the whole book) where fugashi took
0.8 s for all of it: 25x faster, which matters in a notebook's quick profile.  UniDic splits into
short units (吾輩 / は / 猫 / で / ある), which is what word vectors want.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9]+(?:['’.\-][a-z0-9]+)*|[^\sa-z0-9]", re.I)
_JA_SENTENCE_END = re.compile(r"(?<=[。！？])|\n+")

_TAGGER = None


def english_words(text: str, lower: bool = True) -> list[str]:
    """Words, numbers (``3.14``), contractions (``don't``) and single punctuation marks."""
    return _WORD.findall(text.lower() if lower else text)


def english_sentences(text: str, lower: bool = True) -> list[list[str]]:
    """One list of words per non-empty line (tiny-shakespeare's lines are its units)."""
    return [w for w in (english_words(line, lower) for line in text.splitlines()) if w]


def _tagger():
    global _TAGGER
    if _TAGGER is None:
        try:
            import fugashi
        except ImportError as e:  # pragma: no cover - a dependency of course_lib
            raise ImportError(
                "japanese_words needs fugashi and unidic-lite: pip install fugashi unidic-lite "
                "(both are dependencies of course_lib; reinstall with `make setup`)"
            ) from e
        _TAGGER = fugashi.Tagger()
    return _TAGGER


def japanese_words(text: str, keep_space: bool = False) -> list[str]:
    """Surface forms of the morphemes of ``text`` (MeCab + UniDic); full-width spaces and line
    breaks are dropped unless ``keep_space``."""
    words = [m.surface for m in _tagger()(text)]
    return words if keep_space else [w for w in words if w.strip()]


def japanese_sentences(text: str) -> list[list[str]]:
    """Split at 。！？ and line breaks, then into words; empty sentences are dropped."""
    parts = (p.strip() for p in _JA_SENTENCE_END.split(text))
    return [w for w in (japanese_words(p) for p in parts if p) if w]
