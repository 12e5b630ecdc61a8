"""Corpus BLEU by hand against sacrebleu's corpus_bleu, and a tiny example worked by hand."""

import math

import numpy as np
import pytest

from course_lib.nlp.bleu import brevity_penalty, clipped_matches, corpus_bleu

sacrebleu = pytest.importorskip("sacrebleu")


def _sacre(hyps, refs, tokenize="none"):
    """sacrebleu's corpus BLEU, unsmoothed, on token lists joined by spaces (tokenize="none")."""
    join = (lambda s: " ".join(s)) if tokenize == "none" else "".join
    return sacrebleu.corpus_bleu(
        [join(h) for h in hyps], [[join(r) for r in refs]], smooth_method="none", tokenize=tokenize
    )


def _corpus(rng, n_sent, vocab=6, lo=1, hi=15):
    """Random token corpora over a small vocabulary: references, and hypotheses that are noisy
    copies of them (tokens changed, dropped or added) so n-grams of every order match."""
    alphabet = [chr(ord("a") + k) for k in range(vocab)]
    refs, hyps = [], []
    for _ in range(n_sent):
        ref = list(rng.choice(alphabet, rng.integers(lo, hi + 1)))
        hyp = [t if rng.random() > 0.2 else str(rng.choice(alphabet)) for t in ref]
        cut = rng.integers(-3, 4)
        hyp = hyp[: len(hyp) + cut] if cut < 0 else hyp + list(rng.choice(alphabet, cut))
        refs.append([str(t) for t in ref])
        hyps.append([str(t) for t in hyp])
    return hyps, refs


@pytest.mark.parametrize("seed", range(12))
def test_equals_sacrebleu_on_random_corpora(seed):
    rng = np.random.default_rng(seed)
    hyps, refs = _corpus(rng, int(rng.integers(1, 40)))
    ours, theirs = corpus_bleu(hyps, refs), _sacre(hyps, refs)
    assert ours.bleu == pytest.approx(theirs.score, rel=1e-9, abs=1e-12)
    assert ours.bp == pytest.approx(theirs.bp, rel=1e-12)
    assert list(ours.matches) == list(theirs.counts)
    assert list(ours.totals) == list(theirs.totals)
    assert (ours.hyp_len, ours.ref_len) == (theirs.sys_len, theirs.ref_len)


def test_char_tokens_match_sacrebleu_char_tokenizer():
    """On strings without spaces, characters as tokens = sacrebleu's tokenize="char"."""
    rng = np.random.default_rng(7)
    hyps, refs = _corpus(rng, 30)
    hyps, refs = ["".join(h) for h in hyps], ["".join(r) for r in refs]
    ours = corpus_bleu(hyps, refs)
    assert ours.bleu == pytest.approx(_sacre(hyps, refs, "char").score, rel=1e-9)
    assert ours.bleu == pytest.approx(_sacre(hyps, refs, "none").score, rel=1e-9)
    kana = (["しるもしらぬもあふさかのせき"], ["しるもしらぬぬあふさかのせき"])
    assert corpus_bleu(*kana).bleu == pytest.approx(_sacre(*kana, "char").score, rel=1e-9)


def test_brevity_penalty_when_shorter():
    hyps, refs = [list("abcdefg")], [list("abcdefghij")]
    ours = corpus_bleu(hyps, refs)
    assert ours.bp == pytest.approx(math.exp(1 - 10 / 7))
    assert ours.precisions == (100.0,) * 4
    assert ours.bleu == pytest.approx(_sacre(hyps, refs).score, rel=1e-9)
    assert brevity_penalty(11, 10) == 1.0 and brevity_penalty(10, 10) == 1.0


def test_perfect_match_is_100_and_no_4gram_is_0():
    refs = [list("the cat sat"), list("on the mat")]
    assert corpus_bleu(refs, refs).bleu == pytest.approx(100.0)
    hyps = [list("abcd"), list("dcba")]  # every 3-gram and 4-gram differs
    refs = [list("abxd"), list("dcya")]
    ours = corpus_bleu(hyps, refs)
    assert ours.matches[3] == 0 and ours.matches[0] > 0
    assert ours.bleu == 0.0 == _sacre(hyps, refs).score


def test_hand_computed_example():
    """Papineni's clipping: hypothesis 'the the the the' against 'the cat': p1 = 1/4 (clipped
    at 1), with max_n=1 and c = 4 > r = 2, BLEU = 25."""
    assert clipped_matches(["the"] * 4, ["the", "cat"], 1) == (1, 4)
    assert corpus_bleu([["the"] * 4], [["the", "cat"]], max_n=1).bleu == pytest.approx(25.0)
    # 'abcab' vs 'abcabc' with max_n=2: p1 = 5/5, p2 = 4/4, BP = exp(1 - 6/5)
    got = corpus_bleu(["abcab"], ["abcabc"], max_n=2)
    assert got.bleu == pytest.approx(100 * math.exp(1 - 6 / 5))


def test_hypotheses_shorter_than_n():
    hyps, refs = [list("ab"), list("c")], [list("abc"), list("cd")]
    assert corpus_bleu(hyps, refs).bleu == 0.0 == _sacre(hyps, refs).score


@pytest.mark.parametrize(
    "hyps, refs, max_n, error",
    [
        ([], [], 4, "empty"),
        (["ab"], ["ab", "cd"], 4, "1 hypotheses but 2 references"),
        ("abc", ["abc"], 4, "not one string"),
        (["ab"], [""], 4, "reference is empty"),
        (["ab"], ["ab"], 0, "max_n"),
    ],
)
def test_clear_errors(hyps, refs, max_n, error):
    with pytest.raises((ValueError, TypeError), match=error):
        corpus_bleu(hyps, refs, max_n=max_n)
