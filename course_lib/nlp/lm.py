"""Language-model plumbing: a text as parallel streams for truncated BPTT, perplexity, sampling.

    streams = bptt_streams(ids, batch_size=20)             # (20, L): 20 slices of the text
    for x, y in bptt_windows(streams, steps=20):           # x, y (20, 20); y is x shifted by one
        ...
    perplexity(4.75)                                       # e^4.75 = 115.6
    unigram_nats(train_ids, val_ids, vocab_size)           # the baseline every model must beat
    next_id = sample_next(scores, temperature=0.8, top_k=10, rng=rng)

Truncated BPTT (Mikolov's RNN-LM, Zaremba et al.): the text is cut into ``batch_size`` equal
slices laid side by side, and the model reads them all in parallel, ``steps`` tokens at a time,
carrying its state from one window to the next (the gradient stops at each window's edge).
Every token is predicted once per epoch, from everything before it in its slice.
"""

from __future__ import annotations

import math
import numbers

import numpy as np


def bptt_streams(ids, batch_size: int) -> np.ndarray:
    """(batch_size, L) array whose row b is ``ids[b L : (b + 1) L]``, L = len(ids) // batch_size
    (the last few tokens that do not fill a row are dropped)."""
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise ValueError(
            f"bptt_streams takes a 1-D array of token ids, got {ids.dtype} {ids.shape}"
        )
    L = len(ids) // batch_size
    if L < 2:
        raise ValueError(
            f"{len(ids)} tokens cannot make {batch_size} streams of at least 2 tokens: use a "
            "smaller batch_size or more text"
        )
    return ids[: batch_size * L].reshape(batch_size, L)


def bptt_windows(streams, steps: int):
    """Yield ``(x, y)`` windows of ``steps`` columns, y = the next token of each x (the last window
    may be shorter): ``x = streams[:, i:i+steps]``, ``y = streams[:, i+1:i+1+steps]``."""
    L = streams.shape[1]
    for i in range(0, L - 1, steps):
        n = min(steps, L - 1 - i)
        yield streams[:, i : i + n], streams[:, i + 1 : i + 1 + n]


def n_windows(streams, steps: int) -> int:
    """How many windows :func:`bptt_windows` yields."""
    return math.ceil((streams.shape[1] - 1) / steps)


def perplexity(nats: float) -> float:
    """e^(mean cross-entropy in nats per token): the number of equally likely choices the model
    is as uncertain as.  A uniform guess over V words has perplexity V."""
    return math.exp(nats)


def unigram_nats(train_ids, eval_ids, vocab_size: int, alpha: float = 1.0) -> float:
    """Cross-entropy (nats per token) on ``eval_ids`` of a unigram model: each token's frequency
    in ``train_ids``, add-``alpha`` smoothed over ``vocab_size`` ids (so a token never seen in
    training still has a probability).  A language model that cannot beat this has learnt
    nothing about context; e^(this) is the unigram perplexity."""
    train_ids, eval_ids = np.asarray(train_ids), np.asarray(eval_ids)
    if not (len(train_ids) and len(eval_ids)) or alpha <= 0:
        raise ValueError("unigram_nats needs non-empty train and eval ids and alpha > 0")
    counts = np.bincount(train_ids, minlength=vocab_size).astype(np.float64) + alpha
    if len(counts) != vocab_size or eval_ids.min() < 0 or eval_ids.max() >= vocab_size:
        raise ValueError(f"token ids must lie in [0, {vocab_size})")
    return float(-np.log(counts[eval_ids] / counts.sum()).mean())


def bits_per_char(nats: float) -> float:
    """Cross-entropy in bits: nats / ln 2 (the unit of character-level results)."""
    return nats / math.log(2)


def _check_sampling(temperature, top_k):
    finite = isinstance(temperature, numbers.Real) and math.isfinite(temperature)
    if not (finite and temperature > 0):
        raise ValueError(f"temperature={temperature!r}: give a finite number > 0, e.g. 1.0")
    if top_k is not None and (
        isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral) or top_k < 1
    ):
        raise ValueError(f"top_k={top_k!r}: give None (all ids) or a positive integer, e.g. 10")


def sample_next(scores, temperature: float = 1.0, top_k: int | None = None, rng=None):
    """Draw one id per row of ``scores`` (..., V) from softmax(scores / temperature).

    Temperature below 1 sharpens the distribution (0 would be the most likely id, always),
    above 1 flattens it; ``top_k`` keeps only the k highest scores.  Returns an int array of the
    scores' shape without the last axis.  NaN or inf in ``scores`` is refused.
    """
    _check_sampling(temperature, top_k)
    rng = np.random.default_rng(rng)
    z = np.asarray(scores, dtype=np.float64)
    if not np.isfinite(z).all():
        raise ValueError(
            f"sample_next: scores hold {int((~np.isfinite(z)).sum())} NaN/inf value(s): the "
            "model diverged or was given bad input; sample from finite scores"
        )
    z = z / temperature
    if top_k is not None and top_k < z.shape[-1]:
        kth = np.partition(z, -top_k, axis=-1)[..., -top_k, None]
        z = np.where(z >= kth, z, -np.inf)
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    flat = p.reshape(-1, p.shape[-1])
    u = rng.random((flat.shape[0], 1))
    picks = (flat.cumsum(axis=1) < u).sum(axis=1)
    return np.minimum(picks, p.shape[-1] - 1).reshape(p.shape[:-1])
