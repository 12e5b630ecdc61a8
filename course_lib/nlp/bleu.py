"""Corpus BLEU by hand (Papineni, Roukos, Ward & Zhu 2002), on token sequences.

For hypotheses :math:`h_i` with references :math:`r_i` (one each), the modified n-gram
precision clips each hypothesis n-gram's count at its count in the reference and sums over the
whole corpus before dividing:

.. math::

    p_n = \\frac{\\sum_i \\sum_{g \\in h_i} \\min(\\#_{h_i}(g), \\#_{r_i}(g))}
               {\\sum_i \\sum_{g \\in h_i} \\#_{h_i}(g)},\\qquad n = 1..N

With :math:`c = \\sum_i |h_i|` and :math:`r = \\sum_i |r_i|`, the brevity penalty is
:math:`BP = 1` if :math:`c > r`, else :math:`e^{1 - r/c}`, and

.. math::

    \\mathrm{BLEU} = BP \\cdot \\exp\\Big(\\frac1N \\sum_{n=1}^N \\log p_n\\Big)

(0 when some :math:`p_n = 0`: no smoothing).  Reported on sacrebleu's 0-100 scale.  A string is
read as a sequence of characters (tokens = characters), a list as a sequence of tokens.

    score = corpus_bleu(["2001-03-07"], ["2001-03-17"])   # score.bleu, score.precisions, score.bp
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class BleuScore:
    """Corpus BLEU (0-100), its n-gram precisions (0-100), brevity penalty and lengths c, r."""

    bleu: float
    precisions: tuple[float, ...]
    bp: float
    hyp_len: int
    ref_len: int
    matches: tuple[int, ...]
    totals: tuple[int, ...]


def ngram_counts(tokens: Sequence[Hashable], n: int) -> Counter:
    """Counts of the n-grams (tuples of n consecutive tokens) of ``tokens``."""
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def clipped_matches(hyp: Sequence[Hashable], ref: Sequence[Hashable], n: int) -> tuple[int, int]:
    """(sum over hypothesis n-grams g of min(#hyp(g), #ref(g)), number of hypothesis n-grams)."""
    h, r = ngram_counts(hyp, n), ngram_counts(ref, n)
    return sum(min(k, r[g]) for g, k in h.items()), sum(h.values())


def brevity_penalty(hyp_len: int, ref_len: int) -> float:
    """BP = 1 if c > r else exp(1 - r/c); 0 for an empty corpus of hypotheses (c = 0)."""
    if hyp_len > ref_len:
        return 1.0
    return math.exp(1 - ref_len / hyp_len) if hyp_len > 0 else 0.0


def _check(hypotheses, references, max_n) -> None:
    if not isinstance(max_n, int) or isinstance(max_n, bool) or max_n < 1:
        raise ValueError(f"max_n must be a positive int, got {max_n!r}")
    if isinstance(hypotheses, str) or isinstance(references, str):
        raise TypeError("give lists of sentences, not one string (wrap it: [sentence])")
    if len(hypotheses) == 0:
        raise ValueError("the corpus is empty: give at least one hypothesis")
    if len(hypotheses) != len(references):
        raise ValueError(
            f"{len(hypotheses)} hypotheses but {len(references)} references: one reference each"
        )
    if not any(len(r) for r in references):
        raise ValueError("every reference is empty: BLEU's brevity penalty needs r > 0")


def corpus_bleu(
    hypotheses: Sequence[Sequence[Hashable]],
    references: Sequence[Sequence[Hashable]],
    max_n: int = 4,
) -> BleuScore:
    """Corpus BLEU of ``hypotheses`` against ``references`` (one per hypothesis), n = 1..max_n:
    clipped n-gram matches and n-gram totals are summed over sentences before dividing."""
    _check(hypotheses, references, max_n)
    matches, totals = [0] * max_n, [0] * max_n
    for hyp, ref in zip(hypotheses, references):
        for n in range(1, max_n + 1):
            m, t = clipped_matches(hyp, ref, n)
            matches[n - 1] += m
            totals[n - 1] += t
    c, r = sum(map(len, hypotheses)), sum(map(len, references))
    bp = brevity_penalty(c, r)
    precisions = tuple(100.0 * m / t if t else 0.0 for m, t in zip(matches, totals))
    if min(matches) == 0:
        bleu = 0.0
    else:
        bleu = 100.0 * bp * math.exp(sum(math.log(m / t) for m, t in zip(matches, totals)) / max_n)
    return BleuScore(bleu, precisions, bp, c, r, tuple(matches), tuple(totals))
