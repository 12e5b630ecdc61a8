"""Classification losses: ``log_softmax`` and ``nll_loss`` built from the operations (so they
can be differentiated twice), and ``cross_entropy``, the same loss as one fused operation.

The fused op puts one node and one (N, C) array on the tape instead of about eight of each,
and its backward is the one-line (p - onehot(y)) / N; the price is that its rule works on saved
arrays, so ``create_graph=True`` through it is refused.
"""

from __future__ import annotations

import numpy as np

from course_lib.autograd.tensor import Tensor, record
from course_lib.nn.losses import log_softmax as _log_softmax_array


def log_softmax(x: Tensor, axis=-1) -> Tensor:
    """x - log sum_k e^{x_k}, shifted by the row maximum first so exp() cannot overflow.

    The shift is a constant (log_softmax(x - c) = log_softmax(x)), so no gradient flows to it.
    """
    shifted = x - Tensor(x.data.max(axis=axis, keepdims=True))
    return shifted - shifted.exp().sum(axis=axis, keepdims=True).log()


def _check_labels(name, scores_shape, labels):
    labels = np.asarray(labels)
    if len(scores_shape) != 2 or labels.shape != scores_shape[:1]:
        raise ValueError(
            f"{name}: labels of shape {labels.shape} for scores of shape {scores_shape}; "
            "give scores (N, C) and integer labels (N,)"
        )
    if labels.dtype.kind not in "iu":
        raise ValueError(f"{name}: labels must be integers, got {labels.dtype}")
    if labels.size and not (0 <= labels.min() and labels.max() < scores_shape[1]):
        raise ValueError(f"{name}: labels must lie in 0..{scores_shape[1] - 1}")
    return labels


def nll_loss(logp: Tensor, labels) -> Tensor:
    """-(1/N) sum_n logp[n, y_n]: picks each row's label by integer-array indexing."""
    labels = _check_labels("nll_loss", logp.shape, labels)
    return -logp[np.arange(len(labels)), labels].mean()


def cross_entropy(logits: Tensor, labels) -> Tensor:
    """-(1/N) sum_n log softmax(logits)[n, y_n] as one op;   dL/dlogits = g (p - onehot(y)) / N.

    The same value as ``nll_loss(log_softmax(logits), labels)`` and ``nn.SoftmaxCrossEntropy``.
    """
    labels = _check_labels("cross_entropy", logits.shape, labels)
    logp = _log_softmax_array(logits.data)
    loss = -logp[np.arange(len(labels)), labels].mean()
    # p = softmax(logits) and the labels: all that backward needs (the labels copied, so the
    # tape does not keep alive a whole dataset they may be a slice of)
    saved = (np.exp(logp), labels.copy())
    return record(loss, (logits,), _cross_entropy_backward, "cross_entropy", saved, False)


def _cross_entropy_backward(out, g):
    p, labels = out._saved
    dlogits = p.copy()
    dlogits[np.arange(len(labels)), labels] -= 1
    return (g * Tensor(dlogits / len(labels)),)
