"""Reference answers to the exercises (kept out of the lessons; the checks compare with these)."""

from __future__ import annotations

import numpy as np

from course_lib.nn.conv import conv_output_shape, im2col


def xor_by_hand(X):
    """XOR of the two columns of X by two layers of threshold units."""
    hidden = (X @ np.array([[1.0, 1.0], [1.0, 1.0]]) + np.array([-0.5, -1.5]) > 0).astype(float)
    return (hidden @ np.array([1.0, -1.0]) - 0.5 > 0).astype(float)


def perceptron_update(w, b, x, y, lr):
    """Rosenblatt's rule; returns new (w, b)."""
    if y * (w @ x + b) <= 0:
        return w + lr * y * x, b + lr * y
    return w.copy(), b


def mistake_bound(X, y, w):
    R = np.linalg.norm(X, axis=1).max()
    gamma = (y * (X @ w)).min() / np.linalg.norm(w)
    return (R / gamma) ** 2


def sigmoid_backward(x, dout):
    y = 1 / (1 + np.exp(-x))
    return dout * y * (1 - y)


def linear_backward(x, W, dout):
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)


def momentum_step(w, v, grad, lr, mu):
    v = mu * v - lr * grad
    return w + v, v


def dropout_forward(x, mask, p):
    return x * mask / (1 - p)


def rbm_free_energy(v, W, b, c):
    return -v @ b - np.logaddexp(0, v @ W + c).sum(axis=1)


def cd1_weight_gradient(v0, h0, v1, h1):
    return (v0.T @ h0 - v1.T @ h1) / len(v0)


def tied_autoencoder(x, W, c, b):
    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    return sigmoid(sigmoid(x @ W + c) @ W.T + b)


def conv2d_im2col(x, W, b, padding):
    o, c, kh, kw = W.shape
    ho, wo = conv_output_shape(x.shape, kh, kw, (1, 1), (padding, padding))
    cols = im2col(x, kh, kw, stride=1, padding=padding)
    y = W.reshape(o, -1) @ cols + b[:, None]
    return y.reshape(o, ho, wo, x.shape[0]).transpose(3, 0, 1, 2)


def maxpool_overlapping(x):
    ho, wo = (x.shape[2] - 3) // 2 + 1, (x.shape[3] - 3) // 2 + 1
    out = np.full(x.shape[:2] + (ho, wo), -np.inf)
    for di in range(3):
        for dj in range(3):
            out = np.maximum(out, x[:, :, di : di + 2 * ho - 1 : 2, dj : dj + 2 * wo - 1 : 2])
    return out


def relu_backward(x, dout):
    return (x > 0) * dout


def local_response_norm(a, k=2.0, n=5, alpha=1e-4, beta=0.75):
    squares = np.zeros_like(a)
    for i in range(a.shape[1]):
        lo, hi = max(0, i - n // 2), min(a.shape[1] - 1, i + n // 2)
        squares[:, i] = (a[:, lo : hi + 1] ** 2).sum(axis=1)
    return a / (k + alpha * squares) ** beta


def nearest_by_cosine(W, i, k):
    unit = W / np.linalg.norm(W, axis=1, keepdims=True)
    scores = unit @ unit[i]
    scores[i] = -np.inf
    return np.argsort(-scores, kind="stable")[:k]


def keep_probability(freq, t):
    return np.minimum(1.0, (np.sqrt(freq / t) + 1) * t / freq)


def matmul_flops(a_shape, b_shape):
    (m, k), (_, n) = a_shape, b_shape
    return 2 * m * k * n


def tied_weight_gradient(x, h, d_hidden, d_out):
    """x (N, D), h (N, H); d_hidden = dL/d(x W + c) (N, H), d_out = dL/d(h W^T + b) (N, D)."""
    return x.T @ d_hidden + d_out.T @ h


def lstm_step(x, h, c, Wx, Wh, b):
    H = h.shape[1]
    s = x @ Wx + h @ Wh + b
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    i, f, o, g = (
        sig(s[:, :H]),
        sig(s[:, H : 2 * H]),
        sig(s[:, 3 * H :]),
        np.tanh(s[:, 2 * H : 3 * H]),
    )
    c_next = f * c + i * g
    return o * np.tanh(c_next), c_next


def perplexity_of(p):
    return np.exp(-np.log(p).mean())


def clip_by_global_norm(grads, max_norm):
    norm = np.sqrt(sum((g**2).sum() for g in grads))
    scale = max_norm / norm if norm > max_norm else 1.0
    return [g * scale for g in grads]


def dot_attention(hs, hd):
    e = hd @ hs.transpose(0, 2, 1)
    w = np.exp(e - e.max(axis=-1, keepdims=True))
    w /= w.sum(axis=-1, keepdims=True)
    return w @ hs, w


def additive_scores(hs, hd, Wk, Wq, v):
    return np.tanh((hs @ Wk)[:, None] + (hd @ Wq)[:, :, None]) @ v


def magnitude_prune(w, keep):
    n_keep = max(1, round(keep * w.size))
    mask = np.zeros(w.size, dtype=w.dtype)
    mask[np.argsort(np.abs(w).ravel())[w.size - n_keep :]] = 1
    return mask.reshape(w.shape)


def grouped_gradient(dW, index, keep, k):
    return np.bincount(index[keep], weights=dW[keep], minlength=k)


def arithmetic_intensity(m, n, k, itemsize):
    return 2 * m * n * k / (itemsize * (m * k + k * n + m * n))


def roofline_time(flops, nbytes, peak, bandwidth):
    return np.maximum(flops / peak, nbytes / bandwidth)


def strom_step(residual, grad, tau):
    r = residual + grad
    sent = np.where(np.abs(r) >= tau, tau * np.sign(r), 0.0)
    return sent, r - sent


def average_parameters(params):
    return np.mean(np.stack(params), axis=0)


def receptive_field(kernels, strides):
    field, jump = 1, 1
    for k, s in zip(kernels, strides):
        field, jump = field + (k - 1) * jump, jump * s
    return field


def residual_forward(x, W1, b1, W2, b2):
    return np.maximum(x + np.maximum(x @ W1 + b1, 0) @ W2 + b2, 0)


def first_per_class(labels, n):
    return np.sort(np.concatenate([np.flatnonzero(labels == c)[:n] for c in np.unique(labels)]))


def nearest_mean(f, labels, g):
    classes = np.unique(labels)
    means = np.stack([f[labels == c].mean(axis=0) for c in classes])
    return classes[((g[:, None] - means[None]) ** 2).sum(axis=-1).argmin(axis=1)]


def fit_standardize(x):
    std = x.std(axis=0)
    return x.mean(axis=0), np.where(std > 0, std, 1.0)


def lime_weights(removed, width):
    return np.exp(-(removed**2) / width**2)


def rank_k_error(X, k):
    s = np.linalg.svd(X, compute_uv=False)
    return (s[k:] ** 2).sum()


def neighbour_agreement(codes, labels):
    d = ((codes[:, None] - codes[None]) ** 2).sum(axis=-1)
    np.fill_diagonal(d, np.inf)
    return (labels[d.argmin(axis=1)] == labels).mean()
