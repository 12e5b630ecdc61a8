"""Exact quantities of a small binary RBM, by enumerating every visible vector.

For a Bernoulli RBM with energy ``E(v, h) = -v b - h c - v W h`` the hidden units sum out::

    F(v) = -v b - sum_j log(1 + exp(v W + c)_j)        p(v) = exp(-F(v)) / Z
    log Z = log sum_v exp(-F(v))                        (2^n_vis terms)

so with a handful of visible units the log-likelihood ``(1/N) sum_n log p(v_n)`` and its gradient
are exact::

    d/dW = <v sigmoid(vW + c)>_data - sum_v p(v) v sigmoid(vW + c)      (likewise b, c)

CD-1 replaces the model average (the second term) by one Gibbs step from the data; comparing the
two shows how close that shortcut stays to the true gradient.  Every function takes an
:class:`course_lib.models.rbm.RBM` with binary hidden units, on NumPy.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.special import expit, logsumexp

MAX_UNITS = 20  # 2^20 states: about a million rows, the most worth enumerating


def all_states(n: int) -> np.ndarray:
    """Every binary vector of length ``n``, one per row: a ``(2^n, n)`` float64 array."""
    if not 0 < n <= MAX_UNITS:
        raise ValueError(f"enumerating 2^{n} states: n must be between 1 and {MAX_UNITS}")
    return np.array(list(itertools.product((0.0, 1.0), repeat=n)))


def _params(rbm):
    if rbm.hidden != "binary":
        raise ValueError(f"exact sums need binary hidden units, not {rbm.hidden!r}")
    return (np.asarray(p, dtype=np.float64) for p in (rbm.W, rbm.b_vis, rbm.b_hid))


def free_energy(rbm, v) -> np.ndarray:
    """``F(v) = -v b - sum_j log(1 + exp(v W + c)_j)`` per row of ``v``, in float64."""
    W, b, c = _params(rbm)
    v = np.asarray(v, dtype=np.float64)
    return -(v @ b) - np.logaddexp(0, v @ W + c).sum(axis=1)


def log_partition(rbm) -> float:
    """``log Z = log sum_v exp(-F(v))`` over all ``2^n_vis`` visible vectors."""
    return float(logsumexp(-free_energy(rbm, all_states(rbm.n_vis))))


def log_partition_joint(rbm) -> float:
    """``log Z = log sum_{v,h} exp(-E(v, h))`` over every joint state: the slow way, to check
    :func:`log_partition` (``2^(n_vis + n_hid)`` terms)."""
    W, b, c = _params(rbm)
    v, h = all_states(rbm.n_vis), all_states(rbm.n_hid)
    minus_energy = (v @ b)[:, None] + (h @ c)[None, :] + v @ W @ h.T
    return float(logsumexp(minus_energy))


def log_likelihood(rbm, data) -> float:
    """Mean exact log-likelihood of the rows of ``data``, nats per case."""
    return float(-free_energy(rbm, data).mean() - log_partition(rbm))


def model_probabilities(rbm) -> tuple[np.ndarray, np.ndarray]:
    """``(states, p)``: every visible vector and the probability the RBM gives it."""
    states = all_states(rbm.n_vis)
    minus_f = -free_energy(rbm, states)
    return states, np.exp(minus_f - logsumexp(minus_f))


def _statistics(rbm, v, weights) -> list[np.ndarray]:
    """Weighted averages of ``v h^T``, ``v`` and ``h = E[h | v]`` (weights sum to one)."""
    W, _, c = _params(rbm)
    h = expit(v @ W + c)
    return [(v * weights[:, None]).T @ h, weights @ v, weights @ h]


def exact_gradient(rbm, data) -> list[np.ndarray]:
    """``[dW, db, dc]``: the gradient of :func:`log_likelihood` (data minus model averages)."""
    data = np.asarray(data, dtype=np.float64)
    positive = _statistics(rbm, data, np.full(len(data), 1 / len(data)))
    states, p = model_probabilities(rbm)
    negative = _statistics(rbm, states, p)
    return [pos - neg for pos, neg in zip(positive, negative)]


def cosine(a: list, b: list) -> float:
    """Cosine of the angle between two gradients given as lists of arrays (1: same direction)."""
    x = np.concatenate([np.ravel(np.asarray(u, dtype=np.float64)) for u in a])
    y = np.concatenate([np.ravel(np.asarray(u, dtype=np.float64)) for u in b])
    norm = np.linalg.norm(x) * np.linalg.norm(y)
    if norm == 0:
        raise ValueError("the cosine of a zero gradient is undefined")
    return float(x @ y / norm)


def best_log_likelihood(data) -> float:
    """The most any model can score on ``data``: minus the entropy of its empirical distribution
    (every distinct row given its own frequency), nats per case."""
    _, counts = np.unique(np.asarray(data), axis=0, return_counts=True)
    freq = counts / counts.sum()
    return float(freq @ np.log(freq))
