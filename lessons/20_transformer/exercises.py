"""Lesson 20's exercises (20.scaled_attention, 20.causal_mask_matrix, 20.layer_norm): the
reference answers, the inputs each answer is checked on, and a typical mistake the check must
catch."""

from __future__ import annotations

import numpy as np

from course_lib.exercises import Exercise, normal

# The reference answers: what check() compares a learner's answer with.


def scaled_attention(q, k, v):
    """softmax(q k^T / sqrt(d_k)) v over the last two axes."""
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    w = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return (w / w.sum(axis=-1, keepdims=True)) @ v


def causal_mask_matrix(T):
    """True where query t may attend to key s: s <= t (the lower triangle, diagonal included)."""
    return np.tril(np.ones((T, T), dtype=bool))


def layer_norm(x, gamma, beta, eps=1e-5):
    """(x - mean) / sqrt(var + eps) over the last axis, then * gamma + beta."""
    mean, var = x.mean(axis=-1, keepdims=True), x.var(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


# The inputs each answer is checked on: small and awkward ones first.


def _attention_cases(rng):
    shapes = [((1, 1, 1), (1, 1, 1), (1, 1, 1)), ((5, 8), (7, 8), (7, 3)), ((2, 3, 4, 16),) * 3]
    return [tuple(normal(rng, *s) for s in case) for case in shapes]


def _mask_cases(rng):
    return [(1,), (2,), (5,)]


def _norm_cases(rng):
    return [(normal(rng, *s), normal(rng, s[-1]), normal(rng, s[-1])) for s in [(1, 3), (4, 7)]]


EXERCISES = [
    Exercise(
        "20.scaled_attention",
        "softmax(q k^T / sqrt(d_k)) v, the softmax over the keys",
        _attention_cases,
        hint="scores = q @ k^T (swap k's last two axes) / sqrt(q.shape[-1]); softmax over the "
        "last axis, after subtracting each row's maximum; then @ v",
        mistake=(lambda q, k, v: scaled_attention(q * np.sqrt(q.shape[-1]), k, v)),
    ),
    Exercise(
        "20.causal_mask_matrix",
        "The (T, T) causal mask: True where query t may see key s, that is s <= t",
        _mask_cases,
        hint="the lower triangle with the diagonal: np.tril of a (T, T) matrix of True; a "
        "position may always see itself",
        any_number_type=True,
        mistake=(lambda T: np.tril(np.ones((T, T), dtype=bool), k=-1)),
    ),
    Exercise(
        "20.layer_norm",
        "Layer normalisation of each row over its features, then gamma and beta",
        _norm_cases,
        hint="mean and variance over the last axis (keepdims=True), not over the batch (axis 0)",
        mistake=(lambda x, g, b, eps=1e-5: (x - x.mean(0)) / np.sqrt(x.var(0) + eps) * g + b),
    ),
]
