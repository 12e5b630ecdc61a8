"""Lesson 10's exercises (10.dot_attention, 10.additive_scores):
the reference answers, the inputs each answer is checked on, and a typical mistake the check
must catch. A learner calls ``check("NN.name", fn)`` from :mod:`course_lib.exercises`."""

from __future__ import annotations

import numpy as np

from course_lib.exercises import Exercise, normal

# The reference answers: what check() compares a learner's answer with.


def dot_attention(hs, hd):
    e = hd @ hs.transpose(0, 2, 1)
    w = np.exp(e - e.max(axis=-1, keepdims=True))
    w /= w.sum(axis=-1, keepdims=True)
    return w @ hs, w


def additive_scores(hs, hd, Wk, Wq, v):
    return np.tanh((hs @ Wk)[:, None] + (hd @ Wq)[:, :, None]) @ v


# The inputs each answer is checked on: small and awkward ones first.


def _attention_cases(rng):
    return [
        (normal(rng, n, s, h), normal(rng, n, t, h))
        for n, s, t, h in [(1, 1, 1, 1), (2, 5, 3, 4), (3, 2, 6, 3)]
    ]


def _additive_cases(rng):
    out = []
    for n, s, t, h, a in [(1, 1, 1, 1, 1), (2, 5, 3, 4, 3), (3, 2, 6, 3, 5)]:
        out.append(
            (
                normal(rng, n, s, h),
                normal(rng, n, t, h),
                normal(rng, h, a),
                normal(rng, h, a),
                normal(rng, a),
            )
        )
    return out


EXERCISES = [
    Exercise(
        "10.dot_attention",
        "Dot-product attention: (context, weights) for encoder states hs and decoder states hd",
        _attention_cases,
        hint="scores hd @ hs.transpose(0, 2, 1) are (N, T, S); softmax over the last axis "
        "(subtract the row maximum first); context = weights @ hs is (N, T, H)",
        # a typical mistake: the softmax not normalised
        mistake=(
            lambda hs, hd: (
                np.exp(hd @ hs.transpose(0, 2, 1)) @ hs,
                np.exp(hd @ hs.transpose(0, 2, 1)),
            )
        ),
    ),
    Exercise(
        "10.additive_scores",
        "Bahdanau's additive attention scores v . tanh(hs_s Wk + hd_t Wq), shape (N, T, S)",
        _additive_cases,
        hint="(hs @ Wk)[:, None] is (N, 1, S, A) and (hd @ Wq)[:, :, None] is (N, T, 1, A): "
        "their sum broadcasts to (N, T, S, A); apply tanh, then @ v",
        mistake=(lambda hs, hd, Wk, Wq, v: np.tanh((hs @ Wq)[:, None] + (hd @ Wk)[:, :, None]) @ v),
    ),
]
