"""Lesson 08's exercises (08.nearest_by_cosine, 08.keep_probability):
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


# The inputs each answer is checked on: small and awkward ones first.


def _nearest_cases(rng):
    return [(normal(rng, n, d), i, k) for n, d, i, k in [(3, 2, 0, 1), (20, 5, 7, 4), (9, 3, 8, 8)]]


def _keep_cases(rng):
    freqs = [np.array([0.5]), rng.random(10) * 0.01, np.array([1e-6, 1e-3, 2e-3, 0.1])]
    return [(f, t) for f, t in zip(freqs, (1e-3, 1e-4, 1e-3))]


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
]
