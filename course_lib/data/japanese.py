"""Japanese texts: Aozora Bunko markup removal, and the 百人一首 (Ogura Hyakunin Isshu)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from course_lib.data.store import locate

_RULE = re.compile(r"^-{20,}$", re.M)  # the dashed lines around the header's key to the markup
_FOOTER = re.compile(r"^底本：", re.M)  # the bibliographic footer starts with the source edition
_NOTE_LINE = re.compile(r"^(?:［＃[^］]*］)+\n", re.M)  # a line holding only editors' notes
_NOTE = re.compile(r"［＃[^］]*］")  # an editor's note: layout, emphasis, a missing character, ...
_RUBY = re.compile(r"《[^》]*》")  # a reading in small kana: 吾輩《わがはい》


def clean_aozora(text: str) -> str:
    """The body text of an Aozora Bunko file, without its markup.

    Removes the header (title, author and the key to the markup, up to its second dashed line),
    the footer (from 底本：), readings 《…》, the ｜ that marks where a reading starts, editors'
    notes ［＃…］ and the 〔…〕 around accented Latin.  A character missing from the file's
    character set stays as Aozora's placeholder ※ once its note is gone.
    """
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    rules = list(_RULE.finditer(text))
    if len(rules) >= 2:
        text = text[rules[1].end() :]
    footer = _FOOTER.search(text)
    if footer:
        text = text[: footer.start()]
    text = _NOTE.sub("", _NOTE_LINE.sub("", text))
    text = _RUBY.sub("", text)
    for mark in "｜〔〕":
        text = text.replace(mark, "")
    return text.strip() + "\n"


@dataclass(frozen=True)
class Poem:
    """One poem of the 百人一首, split into its upper (5-7-5) and lower (7-7) halves."""

    no: int
    kanji_upper: str
    kanji_lower: str
    kana_upper: str
    kana_lower: str
    author: str
    author_kana: str
    kimariji: str  # the opening kana that identify the poem in karuta

    @property
    def kanji(self) -> str:
        return f"{self.kanji_upper} {self.kanji_lower}"

    @property
    def kana(self) -> str:
        return f"{self.kana_upper} {self.kana_lower}"


def split_halves(body: str) -> tuple[str, str]:
    """Phrases separated by spaces -> (upper half, lower half): the lower half is the last two.

    Counting from the end matters: the kanji of poem 31 writes two upper phrases as one word
    (朝ぼらけ 有明の月と見るまでに | 吉野の里に 降れる白雪), so "the first three" would be wrong.
    """
    phrases = body.split()
    return " ".join(phrases[:-2]), " ".join(phrases[-2:])


def load_hyakunin_isshu(data_dir=None) -> list[Poem]:
    """The hundred poems in order, each with kanji and kana halves, author and kimariji."""
    records = json.loads(locate("hyakunin-isshu", data_dir).read_text(encoding="utf-8"))
    poems = []
    for r in sorted(records, key=lambda r: r["no"]):
        (kanji_upper, kanji_lower), (kana_upper, kana_lower) = (
            split_halves(r["bodyKanji"]),
            split_halves(r["bodyKana"]),
        )
        poems.append(
            Poem(
                int(r["no"]),
                kanji_upper,
                kanji_lower,
                kana_upper,
                kana_lower,
                r["nameKanji"],
                r["nameKana"],
                r["kimariji"],
            )
        )
    return poems
