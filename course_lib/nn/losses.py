"""Losses: the last layer of a network, turning scores and targets into one number.

``L = loss.forward(scores, targets)`` returns a 0-d array (``float(L)`` to print it) and caches
what ``dscores = loss.backward()`` needs.  Conventions, the same for all of them:

* ``reduction="mean"`` (default): sum over the features of one example, then the mean over the
  batch, L = (1/N) sum_n l_n.  This is the *per-example* loss, so it does not change with the
  batch size and the learning rate means the same for any batch size.
* ``reduction="sum"``: the sum over the batch, L = sum_n l_n.

Note: torch's ``reduction="mean"`` divides by the number of *elements* (N times the number of
features), ours by N only.  For a (N, C) softmax the two agree; for sigmoid/MSE over D outputs
ours is D times torch's.

Targets whose shape does not fit the scores are refused with the shape that was expected: a
broadcast (N, 1) against (N,) would otherwise give an (N, N) loss and a wrong number, silently.
This module is the only place the library computes softmax and cross-entropy.
"""

from __future__ import annotations

from course_lib.backend import get_array_module
from course_lib.nn.activations import sigmoid, softplus


def _scale(n, reduction):
    if reduction not in ("mean", "sum"):
        raise ValueError(f"unknown reduction {reduction!r}: use 'mean' or 'sum'")
    return 1.0 / n if reduction == "mean" else 1.0


def _same_shape(name, scores, targets):
    if tuple(targets.shape) != tuple(scores.shape):
        raise ValueError(
            f"{name}: targets of shape {tuple(targets.shape)} for outputs of shape "
            f"{tuple(scores.shape)}; they must have the same shape (reshape the "
            f"targets to {tuple(scores.shape)})"
        )


def log_softmax(x):
    """log softmax over the last axis, shifted by the row maximum so exp() cannot overflow."""
    xp = get_array_module(x)
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(x):
    """softmax over the last axis: p_c = e^{x_c} / sum_k e^{x_k}."""
    return get_array_module(x).exp(log_softmax(x))


class SoftmaxCrossEntropy:
    """l_n = -log p_n[y_n],  p_n = softmax(s_n);   ds = (p - onehot(y)) / N.

    Targets are integer labels of the scores' shape without the last axis, e.g. (N,) for (N, C)
    scores, or rows of the scores' shape that sum to one (one-hot or soft labels, checked: no
    negative entry, every row summing to 1 within 1e-3), for which l_n = -sum_c t_nc log p_nc.
    Scores with more axes, e.g. (N, T, C), count every (n, t) as an example.

    ``ignore_index``: positions whose label equals it (padding in a batch of sequences of
    different lengths) add nothing to the loss or the gradient, and the mean is over the others.
    """

    def __init__(self, reduction="mean", ignore_index=None):
        self.reduction, self.ignore_index = reduction, ignore_index

    def forward(self, scores, labels):
        xp = get_array_module(scores)
        self._check(scores, labels)
        logp = log_softmax(scores)
        self.p, self.labels, self.keep = xp.exp(logp), labels, None
        n = scores.size // scores.shape[-1]
        if labels.ndim == scores.ndim:  # one-hot or soft targets
            self.scale = _scale(n, self.reduction)
            return -(labels * logp).sum() * self.scale
        if self.ignore_index is not None:
            self.keep = labels != self.ignore_index
            n = int(self.keep.sum())
            self.labels = labels = xp.where(self.keep, labels, 0)
        self.scale = _scale(max(n, 1), self.reduction)
        picked = xp.take_along_axis(logp, labels[..., None], axis=-1)[..., 0]
        if self.keep is not None:
            picked = picked * self.keep
        return -picked.sum() * self.scale

    def backward(self, dout=1.0):
        xp = get_array_module(self.p)
        if self.labels.ndim == self.p.ndim:
            dx = self.p - self.labels
        else:
            dx = self.p.copy()
            rows = dx.reshape(-1, dx.shape[-1])
            rows[xp.arange(rows.shape[0]), self.labels.reshape(-1)] -= 1
            if self.keep is not None:
                dx *= self.keep[..., None]
        return dx * (self.scale * dout)

    def _check(self, scores, labels):
        if tuple(labels.shape) == tuple(scores.shape):  # one-hot or soft targets
            _check_distributions(labels)
            return
        expected = tuple(scores.shape[:-1])
        if tuple(labels.shape) != expected:
            raise ValueError(
                f"SoftmaxCrossEntropy: labels of shape {tuple(labels.shape)} for scores of shape "
                f"{tuple(scores.shape)}; give integer labels of shape {expected} (e.g. "
                f"labels.reshape({', '.join(map(str, expected))})) or one-hot rows of shape "
                f"{tuple(scores.shape)}"
            )
        if labels.dtype.kind not in "iu":
            raise ValueError(
                f"SoftmaxCrossEntropy: labels must be integers, got {labels.dtype} "
                "(use labels.astype(int), or one-hot rows of the scores' shape)"
            )
        if self.ignore_index is not None:
            labels = labels[labels != self.ignore_index]
        if labels.size and not (0 <= int(labels.min()) and int(labels.max()) < scores.shape[-1]):
            raise ValueError(
                f"SoftmaxCrossEntropy: labels must lie in 0..{scores.shape[-1] - 1} "
                f"for {scores.shape[-1]} classes, got {int(labels.min())}.."
                f"{int(labels.max())}"
            )


def _check_distributions(targets, tol=1e-3):
    """One-hot or soft targets must be rows of probabilities: >= 0, each row summing to 1."""
    lowest = float(targets.min()) if targets.size else 0.0
    xp = get_array_module(targets)
    off = float(xp.abs(targets.sum(axis=-1) - 1).max()) if targets.size else 0.0
    if not (lowest >= 0 and off <= tol):
        raise ValueError(
            f"SoftmaxCrossEntropy: target rows must be probability distributions (entries >= 0, "
            f"each row summing to 1), got a smallest entry of {lowest:.4g} and a row sum off "
            f"by {off:.4g}: normalise the rows (t / t.sum(-1, keepdims=True)), or give "
            "integer labels"
        )


class SigmoidCrossEntropy:
    """l_n = sum_d [softplus(z) - t z]_nd on logits z, targets t in [0, 1]; dz = (sigma(z) - t) / N.

    softplus(z) - t z = -t log sigma(z) - (1 - t) log(1 - sigma(z)) is the binary cross-entropy,
    written so it never takes log(0):  softplus(z) = log(1 + e^z), computed stably.
    """

    def __init__(self, reduction="mean"):
        self.reduction = reduction

    def forward(self, logits, targets):
        xp = get_array_module(logits)
        _same_shape("SigmoidCrossEntropy", logits, targets)
        self.z, self.t = logits, targets
        self.scale = _scale(logits.shape[0], self.reduction)
        return (softplus(logits, xp) - targets * logits).sum() * self.scale

    def backward(self, dout=1.0):
        return (sigmoid(self.z) - self.t) * (self.scale * dout)


class MSELoss:
    """l_n = 1/2 sum_d (y - t)_nd^2;   dy = (y - t) / N.

    The 1/2 is the classic backprop convention (it cancels in the gradient), so the summed
    squared error per example, e.g. the autoencoder reconstruction error, is ``2 * L``.
    """

    def __init__(self, reduction="mean"):
        self.reduction = reduction

    def forward(self, y, targets):
        _same_shape("MSELoss", y, targets)
        self.diff = y - targets
        self.scale = _scale(y.shape[0], self.reduction)
        return 0.5 * (self.diff**2).sum() * self.scale

    def backward(self, dout=1.0):
        return self.diff * (self.scale * dout)


class SigmoidSquaredError:
    """l_n = 1/2 sum_d (sigma(z) - t)_nd^2 on logits z;   dz = (y - t) y (1 - y) / N, y = sigma(z).

    The squared ("L2") reconstruction cost of logistic outputs, as seed 000's stacked autoencoder
    used; a network that outputs logits can switch between it and :class:`SigmoidCrossEntropy`.
    """

    def __init__(self, reduction="mean"):
        self.reduction = reduction

    def forward(self, logits, targets):
        _same_shape("SigmoidSquaredError", logits, targets)
        self.y = sigmoid(logits)
        self.diff = self.y - targets
        self.scale = _scale(logits.shape[0], self.reduction)
        return 0.5 * (self.diff**2).sum() * self.scale

    def backward(self, dout=1.0):
        return self.diff * self.y * (1 - self.y) * (self.scale * dout)
