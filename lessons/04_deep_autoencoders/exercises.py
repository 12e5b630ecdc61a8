"""Lesson 04's exercises (04.rbm_free_energy, 04.cd1_weight_gradient, 04.rbm_log_likelihood):
the reference answers, the inputs each answer is checked on, and a typical mistake the check
must catch. A learner calls ``check("NN.name", fn)`` from :mod:`course_lib.exercises`."""

from __future__ import annotations

import itertools

import numpy as np
from scipy.special import logsumexp

from course_lib.exercises import Exercise, normal

# The reference answers: what check() compares a learner's answer with.


def rbm_free_energy(v, W, b, c):
    return -v @ b - np.logaddexp(0, v @ W + c).sum(axis=1)


def cd1_weight_gradient(v0, h0, v1, h1):
    return (v0.T @ h0 - v1.T @ h1) / len(v0)


def rbm_log_likelihood(v, W, b, c):
    every = np.array(list(itertools.product((0.0, 1.0), repeat=W.shape[0])))
    return -rbm_free_energy(v, W, b, c).mean() - logsumexp(-rbm_free_energy(every, W, b, c))


# The inputs each answer is checked on: small and awkward ones first.


def _cd_cases(rng):
    out = []
    for n, v, h in [(1, 3, 2), (6, 5, 4), (3, 1, 6)]:
        out.append(tuple(rng.random((n, k)) for k in (v, h, v, h)))
    return out


def _free_energy_cases(rng):
    out = []
    for n, v, h in [(1, 3, 2), (5, 6, 4), (2, 1, 7)]:
        data = (rng.random((n, v)) < 0.5).astype(float)
        out.append((data, 0.5 * normal(rng, v, h), normal(rng, v), normal(rng, h)))
    return out


def _loglik_cases(rng):
    out = []
    for n, v, h, scale in [(1, 1, 1, 0.5), (7, 5, 3, 0.5), (4, 6, 2, 30.0)]:  # 30: exp overflows
        data = (rng.random((n, v)) < 0.5).astype(float)
        out.append((data, scale * normal(rng, v, h), normal(rng, v), normal(rng, h)))
    return out


EXERCISES = [
    Exercise(
        "04.rbm_free_energy",
        "The free energy of a binary RBM, one value per visible vector",
        _free_energy_cases,
        hint="F(v) = -v.b - sum_j log(1 + exp(v W + c)_j), one number per row; np.logaddexp(0, "
        "z) computes log(1 + exp(z)) without overflow",
        mistake=(lambda v, W, b, c: -v @ b - np.logaddexp(0, v @ W + c).sum(axis=0)),
        mistake_says="shape",
    ),
    Exercise(
        "04.cd1_weight_gradient",
        "Contrastive divergence: the weight update <v h>_data - <v h>_reconstruction, per case",
        _cd_cases,
        hint="(v0^T h0 - v1^T h1) / N with v (N, V) and h (N, H): a (V, H) matrix, averaged "
        "over the N cases of the batch",
        mistake=(lambda v0, h0, v1, h1: v0.T @ h0 - v1.T @ h1),
    ),
    Exercise(
        "04.rbm_log_likelihood",
        "The exact mean log-likelihood of a small RBM, by enumerating every visible vector",
        _loglik_cases,
        hint="log p(v) = -F(v) - log Z with log Z = logsumexp(-F(u)) over all 2^V binary u "
        "(itertools.product((0.0, 1.0), repeat=V)); average over the rows of v",
        mistake=(lambda v, W, b, c: -rbm_free_energy(v, W, b, c).mean()),
    ),
]
