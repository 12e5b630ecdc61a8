"""Vocabulary, subsampling, the unigram^0.75 sampler (chi-square), tokenisers on real sentences,
Aozora markup removal, and analogies (3CosAdd, 3CosMul, gensim-style OOV counting)."""

import numpy as np
import pytest
from scipy import stats

from course_lib.data.japanese import clean_aozora
from course_lib.data.text import Analogy
from course_lib.nlp import (
    UnigramSampler,
    Vocab,
    WordVectors,
    english_sentences,
    english_words,
    japanese_sentences,
    japanese_words,
)


def test_vocab_orders_by_count_and_applies_min_count_and_max_size():
    sents = [["b", "a", "c", "a"], ["c", "d", "a", "b"]]
    v = Vocab.build(sents)
    assert v.words == ["a", "b", "c", "d"] and v.counts.tolist() == [3, 2, 2, 1]  # b before c
    assert Vocab.build(sents, min_count=2).words == ["a", "b", "c"]
    assert Vocab.build(sents, max_size=2).words == ["a", "b"]
    assert v.encode(["d", "zz", "a"]).tolist() == [3, 0] and v.decode([0, 3]) == ["a", "d"]
    assert "a" in v and v["c"] == 2 and len(v) == 4 and v.total == 8
    with pytest.raises(ValueError, match="min_count"):
        Vocab.build(sents, min_count=10)


def test_keep_probabilities_follow_word2vec_c():
    v = Vocab(["the", "cat", "rare"], [9099, 900, 1])
    t = 1e-3 * 10_000
    p = v.keep_probs(1e-3)
    assert p[0] == pytest.approx((np.sqrt(9099 / t) + 1) * t / 9099)
    assert p[1] == pytest.approx((np.sqrt(900 / t) + 1) * t / 900)
    assert p[2] == 1.0 and np.all(v.keep_probs(0) == 1)


def test_sampler_follows_unigram_to_the_075_chi_square():
    counts = np.array([500, 200, 100, 50, 20, 10, 5, 2, 1, 1])
    sampler = UnigramSampler(counts, 0.75)
    want = counts**0.75 / (counts**0.75).sum()
    assert np.allclose(sampler.probs, want)
    draws = sampler.sample((200_000,), np.random.default_rng(0))
    assert draws.dtype == np.int32 and draws.min() >= 0 and draws.max() < len(counts)
    observed = np.bincount(draws, minlength=len(counts))
    assert stats.chisquare(observed, want * len(draws)).pvalue > 0.01
    uniform = np.full(len(counts), 1 / len(counts))  # and it is not a flat or raw-count sampler
    assert stats.chisquare(observed, uniform * len(draws)).pvalue < 1e-10
    raw = counts / counts.sum()
    assert stats.chisquare(observed, raw * len(draws)).pvalue < 1e-10


def test_english_words_on_real_lines(data_dir):
    text = (data_dir / "text" / "tinyshakespeare.txt").read_text(encoding="utf-8")
    assert english_words(text[:60])[:10] == [
        "first",
        "citizen",
        ":",
        "before",
        "we",
        "proceed",
        "any",
        "further",
        ",",
        "hear",
    ]
    assert english_words("Don't panic, it's 3.14!") == ["don't", "panic", ",", "it's", "3.14", "!"]
    sents = english_sentences(text[:200])
    assert sents[0] == ["first", "citizen", ":"]


def test_japanese_words_on_the_novel(data_dir):
    from course_lib.data import load_text

    text = load_text("wagahaiwa_nekodearu", data_dir)
    assert japanese_words("吾輩は猫である。名前はまだ無い。") == [
        "吾輩",
        "は",
        "猫",
        "で",
        "ある",
        "。",
        "名前",
        "は",
        "まだ",
        "無い",
        "。",
    ]
    sents = japanese_sentences(text[:300])
    assert ["吾輩", "は", "猫", "で", "ある", "。"] in sents
    assert all(w.strip() for s in sents for w in s)


def test_the_novel_has_no_aozora_markup_left(data_dir):
    from course_lib.data import load_text

    text = load_text("wagahaiwa_nekodearu", data_dir)
    for mark in ("《", "》", "｜", "［＃", "底本：", "-------"):
        assert mark not in text, mark
    assert text.startswith("一\n") and "吾輩は猫である。名前はまだ無い。" in text[:30]


def test_clean_aozora_on_a_made_up_file():
    raw = (
        "吾輩は猫である\n夏目漱石\n\n" + "-" * 30 + "\n【テキスト中に現れる記号について】\n"
        "《》：ルビ\n" + "-" * 30 + "\n\n［＃８字下げ］一［＃「一」は中見出し］\n"
        "　吾輩《わがはい》は｜猫である。［＃「である」に傍点］\n\n底本：「吾輩は猫である」\n"
    )
    assert clean_aozora(raw) == "一\n　吾輩は猫である。\n"


def _toy_vectors():
    # Planted analogy: vec(b) - vec(a) = vec(d) - vec(c) exactly, plus a distractor.
    words = ["man", "king", "woman", "queen", "apple", "x"]
    v = np.array(
        [[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 1, 1, 0], [0, 0, 0, 1], [0.2, 0.9, 0.1, 0]],
        dtype=float,
    )
    return WordVectors(words, v)


def test_most_similar_and_analogies():
    wv = _toy_vectors()
    near = wv.most_similar("king", topn=2)
    assert near[0][0] == "x" and near[0][1] == pytest.approx(wv.similarity("king", "x"))
    assert "king" not in [w for w, _ in wv.most_similar("king")]
    assert wv.analogy("man", "king", "woman") == "queen"
    assert wv.analogy("man", "king", "woman", method="mul") == "queen"
    assert wv.most_similar(["king", "woman"], ["man"], topn=1)[0][0] == "queen"
    with pytest.raises(KeyError, match="not in the vocabulary"):
        wv.most_similar("zebra")


def test_evaluate_counts_oov_like_gensim():
    wv = _toy_vectors()
    qs = [
        Analogy("family", "Man", "King", "Woman", "Queen"),  # case-insensitive: asked, right
        Analogy("family", "man", "king", "woman", "apple"),  # asked, wrong
        Analogy("family", "man", "king", "zebra", "queen"),  # OOV
        Analogy("gram1", "man", "woman", "king", "queen"),  # asked, right
    ]
    r = wv.evaluate(qs, restrict=5)
    assert r["sections"]["family"] == {"correct": 1, "asked": 2, "oov": 1, "accuracy": 0.5}
    assert r["total"]["asked"] == 3 and r["oov_questions"] == 1
    assert r["syntactic"]["accuracy"] == 1.0 and r["semantic"]["accuracy"] == 0.5
    assert wv.evaluate(qs, restrict=4)["oov_questions"] == 2  # apple is the 5th word
    r3 = wv.evaluate(qs, restrict=3)
    assert r3["oov_questions"] == 4 and r3["oov_ratio"] == 1.0
    assert wv.evaluate(qs, restrict=6, case_insensitive=False)["total"]["oov"] == 2


def test_evaluate_agrees_with_gensim(tmp_path):
    gensim = pytest.importorskip("gensim")
    from gensim.models import KeyedVectors

    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(40)]
    vecs = rng.standard_normal((40, 8)).astype(np.float32)
    kv = KeyedVectors(8)
    kv.add_vectors(words, vecs)
    lines = [": one"] + [" ".join(rng.choice(words, 4, replace=False)) for _ in range(300)]
    lines += [": gram-two"] + [" ".join(rng.choice(words, 4, replace=False)) for _ in range(200)]
    lines += ["w1 w2 w3 zebra"]
    path = tmp_path / "q.txt"
    path.write_text("\n".join(lines) + "\n")
    score, sections = kv.evaluate_word_analogies(str(path), restrict_vocab=30)
    from course_lib.data.text import load_analogies  # noqa: F401 - the same file format

    qs, sec = [], None
    for line in lines:
        if line.startswith(":"):
            sec = line[1:].strip()
        else:
            qs.append(Analogy(sec, *line.split()))
    r = WordVectors(words, vecs).evaluate(qs, restrict=30)
    assert r["total"]["accuracy"] == pytest.approx(score)
    assert r["total"]["correct"] == len(sections[-1]["correct"])
    assert gensim.__version__
