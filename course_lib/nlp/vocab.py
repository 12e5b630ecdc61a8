"""A vocabulary for word2vec: word counts, ids by frequency, subsampling and negative sampling.

    vocab = Vocab.build(sentences, min_count=5)           # id 0: the most frequent word
    ids = vocab.encode(["the", "cat", "zzz"])             # unknown words dropped: array([0, 731])
    keep = vocab.keep_probs(sample=1e-3)                  # P(keep) of each word, as the C tool
    sampler = UnigramSampler(vocab.counts, power=0.75)    # negatives: P(w) ~ count(w)^0.75
    negatives = sampler.sample((1024, 5), rng)

Subsampling (Mikolov et al. 2013b, as coded in the original ``word2vec.c``, which gensim copies):
with t = sample x total words and f the count of w,  P(keep w) = min(1, (sqrt(f / t) + 1) t / f).
"""

from __future__ import annotations

import numbers
from collections import Counter
from collections.abc import Iterable

import numpy as np

from course_lib.backend import get_array_module


def _check_count(name, value, fix):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"Vocab.build: {name}={value!r}; it must be a positive integer ({fix})")


class Vocab:
    """Words sorted by count (most frequent first, ties in order of first appearance)."""

    def __init__(self, words: list[str], counts):
        self.words = list(words)
        self.counts = np.asarray(counts, dtype=np.int64)
        self.index = {w: i for i, w in enumerate(self.words)}
        if len(self.index) != len(self.words):
            raise ValueError("Vocab: the word list has duplicates")

    @classmethod
    def build(cls, sentences: Iterable, min_count: int = 1, max_size: int | None = None):
        """Count the words of ``sentences`` (lists of tokens, or one flat list of tokens) and keep
        those seen at least ``min_count`` times, at most ``max_size`` of them (the most frequent).
        ``min_count`` and ``max_size`` (unless None) must be positive integers.
        """
        _check_count("min_count", min_count, "1 keeps every word")
        if max_size is not None:
            _check_count("max_size", max_size, "or None for no limit")
        counter = Counter()
        for s in sentences:
            if isinstance(s, str):
                counter[s] += 1
            else:
                counter.update(s)
        kept = [(w, c) for w, c in counter.items() if c >= min_count]  # first-appearance order
        kept.sort(key=lambda wc: -wc[1])  # stable: ties stay in order of first appearance
        if max_size is not None:
            kept = kept[:max_size]
        if not kept:
            raise ValueError(
                f"Vocab.build: no word occurs {min_count} times or more; lower min_count"
            )
        return cls([w for w, _ in kept], [c for _, c in kept])

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word) -> bool:
        return word in self.index

    def __getitem__(self, word) -> int:
        return self.index[word]

    @property
    def total(self) -> int:
        """Tokens in the corpus that are in the vocabulary."""
        return int(self.counts.sum())

    def encode(self, tokens: Iterable[str]) -> np.ndarray:
        """Ids of the tokens that are in the vocabulary (the others are dropped, as word2vec
        does), as an int32 array."""
        get = self.index.get
        ids = [i for i in map(get, tokens) if i is not None]
        return np.asarray(ids, dtype=np.int32)

    def decode(self, ids) -> list[str]:
        return [self.words[int(i)] for i in np.asarray(ids).ravel()]

    def keep_probs(self, sample: float = 1e-3) -> np.ndarray:
        """P(keep) per word id: min(1, (sqrt(f/t) + 1) t/f), t = sample x total (word2vec.c).
        ``sample=0`` keeps everything."""
        if sample <= 0:
            return np.ones(len(self), dtype=np.float64)
        t = sample * self.total
        f = self.counts.astype(np.float64)
        return np.minimum(1.0, (np.sqrt(f / t) + 1) * t / f)


class UnigramSampler:
    """Draws word ids with P(w) = count(w)^power / sum_v count(v)^power (power 0.75 in word2vec).

    Walker's alias method: an id i drawn uniformly is kept with probability ``accept[i]``, else
    replaced by ``alias[i]``; two random numbers per sample, no search, and the distribution is
    exact (word2vec.c approximates it with a table of 10^8 cells).  ``xp`` puts the tables on
    the GPU (CuPy); ``rng`` is a ``numpy.random.Generator`` (CuPy uses its own generator).
    """

    def __init__(self, counts, power: float = 0.75, xp=np):
        p = np.asarray(counts, dtype=np.float64) ** power
        if p.ndim != 1 or not len(p) or not np.all(np.isfinite(p)) or p.sum() <= 0:
            raise ValueError("UnigramSampler needs a 1-D array of positive word counts")
        self.probs = p / p.sum()
        accept, alias = _alias_tables(self.probs)
        self.accept, self.alias = xp.asarray(accept), xp.asarray(alias)

    def __len__(self) -> int:
        return len(self.probs)

    def sample(self, shape, rng) -> np.ndarray:
        """Word ids (int32) of the given shape."""
        xp = get_array_module(self.accept)
        n = len(self.probs)
        if xp is np:
            i, u = rng.integers(0, n, shape, dtype=np.int32), rng.random(shape, dtype=np.float32)
        else:
            i, u = xp.random.randint(0, n, shape, dtype=np.int32), xp.random.random(shape)
        return xp.where(u < self.accept[i], i, self.alias[i])


def _alias_tables(probs):
    """Vose's construction: ``accept`` (float32) and ``alias`` (int32) for the alias method."""
    n = len(probs)
    scaled = probs * n
    accept, alias = np.ones(n, dtype=np.float64), np.arange(n, dtype=np.int32)
    small = [i for i in range(n) if scaled[i] < 1.0]
    large = [i for i in range(n) if scaled[i] >= 1.0]
    while small and large:
        s, g = small.pop(), large.pop()
        accept[s], alias[s] = scaled[s], g
        scaled[g] -= 1.0 - scaled[s]
        (small if scaled[g] < 1.0 else large).append(g)
    return accept.astype(np.float32), alias
