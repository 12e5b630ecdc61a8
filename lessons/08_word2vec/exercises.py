"""Lesson 08's exercises (08.nearest_by_cosine, 08.keep_probability, 08.ppmi_from_counts):
the reference answers, the inputs each answer is checked on, and a typical mistake the check
must catch. A learner calls ``check("NN.name", fn)`` from :mod:`course_lib.exercises`."""

from __future__ import annotations

import numpy as np

from course_lib.exercises import Exercise, normal

# The reference answers: what check() compares a learner's answer with.


def nearest_by_cosine(W, i, k):
    unit = W / np.linalg.norm(W, axis=1, keepdims=True)
    scores = unit @ unit[i]
    scores[i] = -np.inf
    return np.argsort(-scores, kind="stable")[:k]


def keep_probability(freq, t):
    return np.minimum(1.0, (np.sqrt(freq / t) + 1) * t / freq)


def ppmi_from_counts(C, alpha):
    # PMI = log(#(w, c) / (#(w) P_a(c))): the count over the count expected by chance
    ctx = C.sum(axis=0) ** alpha
    expected = C.sum(axis=1, keepdims=True) * (ctx / ctx.sum())
    seen = C > 0
    pmi = np.log(C, where=seen, out=np.zeros_like(C))
    pmi -= np.log(expected, where=seen, out=np.zeros_like(C))
    return np.maximum(pmi, 0.0)


def _pmi_kept_negative(C, alpha):
    """A typical mistake: the negative PMIs kept (PMI, not PPMI)."""
    ctx = C.sum(axis=0) ** alpha
    expected = C.sum(axis=1, keepdims=True) * (ctx / ctx.sum())
    seen = C > 0
    return np.log(C, where=seen, out=np.zeros_like(C)) - np.log(
        expected, where=seen, out=np.zeros_like(C)
    )


# The inputs each answer is checked on: small and awkward ones first.


def _nearest_cases(rng):
    return [(normal(rng, n, d), i, k) for n, d, i, k in [(3, 2, 0, 1), (20, 5, 7, 4), (9, 3, 8, 8)]]


def _keep_cases(rng):
    freqs = [np.array([0.5]), rng.random(10) * 0.01, np.array([1e-6, 1e-3, 2e-3, 0.1])]
    return [(f, t) for f, t in zip(freqs, (1e-3, 1e-4, 1e-3))]


def _ppmi_cases(rng):
    counts = rng.poisson(1.5, (6, 9)).astype(np.float64)
    counts[2], counts[:, 4] = 0.0, 0.0  # a word and a context never seen
    tiny = np.array([[2.0, 1.0, 0.0], [1.0, 0.0, 3.0]])
    return [(np.array([[3.0]]), 1.0), (tiny, 1.0), (tiny, 0.75), (counts, 0.75), (counts, 0.5)]


EXERCISES = [
    Exercise(
        "08.nearest_by_cosine",
        "The k words most similar by cosine to word i (not i itself), most similar first",
        _nearest_cases,
        hint="normalise every row to length 1, then one matrix-vector product gives all the "
        "cosines; leave out i before taking the top k (np.argsort of the negated scores)",
        any_number_type=True,
        mistake=(lambda W, i, k: np.argsort(-(W @ W[i]))[:k]),
    ),
    Exercise(
        "08.keep_probability",
        "word2vec's subsampling: the probability of keeping a word of frequency f",
        _keep_cases,
        hint="the C tool keeps a word with probability (sqrt(f / t) + 1) * t / f, at most 1: "
        "rare words are always kept, a word 100 times above t about 11% of the time",
        mistake=(lambda f, t: np.minimum(1.0, np.sqrt(t / f))),
    ),
    Exercise(
        "08.ppmi_from_counts",
        "PPMI of a count matrix, the context frequencies smoothed by the power alpha",
        _ppmi_cases,
        hint="PMI = log(#(w, c) / (#(w) P_a(c))) with #(w) the row sums and P_a(c) the column "
        "sums to the power alpha, normalised to sum to 1; take the log only where the count is "
        "above 0, and keep max(PMI, 0)",
        mistake=_pmi_kept_negative,
    ),
]
