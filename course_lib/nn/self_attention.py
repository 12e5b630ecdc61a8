"""Scaled dot-product attention and multi-head self-attention (Vaswani et al. 2017, section 3.2).

Every position of one sequence x (N, T, d) asks a query of every position, itself included:

    [Q | K | V] = x Wqkv + bqkv                      Wqkv (d, 3d), one matrix for all three
    head h:  A_h = softmax(Q_h K_h^T / sqrt(d_k) + M),  O_h = A_h V_h      d_k = d / heads
    y = [O_1 | ... | O_H] Wo + bo                    Wo (d, d)

Q_h is columns h d_k .. (h+1) d_k of Q (likewise K, V), the layout of
``torch.nn.MultiheadAttention`` (its ``in_proj_weight`` is Wqkv^T).  The mask M is 0 where a
query may look and -inf (here -1e9) where it may not: the future under ``causal=True``
(key s > query t), and padded keys under a key padding mask.  Masks follow the course's
convention: **True means "may attend"** (torch's ``key_padding_mask`` is the opposite).

Backward through one head, with S = Q K^T / sqrt(d_k), A = softmax(S), O = A V:

    dV = A^T dO,   dA = dO V^T,   dS = A * (dA - sum_s A dA),
    dQ = dS K / sqrt(d_k),   dK = dS^T Q / sqrt(d_k)

The key bias gets a zero gradient: it adds q_t . b_k to every score of query t alike, and a
softmax ignores a constant shift (it is kept for torch's layout).
"""

from __future__ import annotations

import math

import numpy as np

from course_lib import init
from course_lib.backend import get_array_module
from course_lib.nn.layer import Layer
from course_lib.nn.losses import softmax

NEG = -1e9  # the score of a masked pair: exp(NEG - max) is exactly 0 in float32 and float64


def scaled_dot_product_attention(q, k, v, mask=None):
    """``(out, weights)``: weights = softmax(q k^T / sqrt(d_k)) over the keys, out = weights v.

    q (..., Tq, d_k), k (..., Tk, d_k), v (..., Tk, d_v); ``mask`` boolean, broadcastable to
    (..., Tq, Tk), True where query t may attend to key s.  A row with every key masked gets
    uniform weights (torch gives NaN there).
    """
    xp = get_array_module(q)
    scores = q @ xp.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = xp.where(mask, scores, NEG)
    weights = softmax(scores)
    return weights @ v, weights


def attention_backward(dout, q, k, v, weights):
    """``(dq, dk, dv)`` of :func:`scaled_dot_product_attention` given dL/d out (masked pairs have
    weight 0, so they get no gradient)."""
    xp = get_array_module(dout)
    scale = 1.0 / math.sqrt(q.shape[-1])
    dv = xp.swapaxes(weights, -1, -2) @ dout
    da = dout @ xp.swapaxes(v, -1, -2)
    ds = weights * (da - (weights * da).sum(axis=-1, keepdims=True)) * scale
    return ds @ k, xp.swapaxes(ds, -1, -2) @ q, dv


def split_heads(heads, a):
    """(N, T, d) -> (N, heads, T, d / heads): each head gets its own slice of the features."""
    N, T, d = a.shape
    return a.reshape(N, T, heads, d // heads).transpose(0, 2, 1, 3)


def merge_heads(a):
    """(N, heads, T, d_k) -> (N, T, heads * d_k), the inverse of :func:`split_heads`."""
    N, h, T, dk = a.shape
    return a.transpose(0, 2, 1, 3).reshape(N, T, h * dk)


def causal_mask(T, xp=np):
    """(T, T) boolean, True on and below the diagonal: query t sees keys 0..t."""
    return xp.tril(xp.ones((T, T), dtype=bool))


class MultiHeadSelfAttention(Layer):
    """Self-attention with ``n_heads`` heads over x (N, T, d_model); see the module docstring.

    ``forward(x, mask=None)``: ``mask`` (N, T) boolean, True for real tokens, False for padding
    (keys only: a padded query still gets an output, which the loss should ignore).  The weights
    of the last forward pass are kept in ``self.weights`` (N, heads, T, T) for plotting.
    Parameters ``Wqkv`` (d, 3d), ``bqkv`` (3d,), ``Wo`` (d, d), ``bo`` (d,); biases start at 0.
    """

    param_names = ("Wqkv", "bqkv", "Wo", "bo")

    def __init__(self, d_model, n_heads, *, causal=False, rng=None, dtype="float32", xp=np):
        if n_heads < 1 or d_model % n_heads:
            raise ValueError(
                f"d_model={d_model} is not divisible by n_heads={n_heads}: each head gets "
                f"d_model / n_heads features; pick n_heads among the divisors of {d_model}"
            )
        rng = np.random.default_rng(rng)
        self.d, self.h, self.causal = d_model, n_heads, causal
        self.Wqkv = init.make("xavier", (d_model, 3 * d_model), rng, xp, dtype)
        self.bqkv = xp.zeros(3 * d_model, dtype=dtype)
        self.Wo = init.make("xavier", (d_model, d_model), rng, xp, dtype)
        self.bo = xp.zeros(d_model, dtype=dtype)
        for name in self.param_names:
            setattr(self, "d" + name, xp.zeros_like(getattr(self, name)))

    def _mask(self, x, mask):
        """The boolean mask, broadcastable to (N, heads, T, T), or None for no mask."""
        xp = get_array_module(x)
        N, T, _ = x.shape
        allowed = causal_mask(T, xp)[None, None] if self.causal else None
        if mask is None:
            return allowed
        mask = xp.asarray(mask)
        if mask.shape != (N, T) or mask.dtype != bool:
            raise ValueError(
                f"the key padding mask must be boolean (N, T) = ({N}, {T}), True for real "
                f"tokens, got {mask.dtype} {tuple(mask.shape)}; build it as ids != pad_id"
            )
        keys = mask[:, None, None, :]
        return keys if allowed is None else keys & allowed

    def forward(self, x, mask=None):
        if x.ndim != 3 or x.shape[-1] != self.d:
            raise ValueError(
                f"MultiHeadSelfAttention({self.d}, {self.h}) takes x of shape (N, T, {self.d}), "
                f"got {tuple(x.shape)}"
            )
        N, T, d = x.shape
        self.x = x.reshape(N * T, d)
        qkv = (self.x @ self.Wqkv + self.bqkv).reshape(N, T, 3 * d)
        self.q, self.k, self.v = (
            split_heads(self.h, qkv[..., i * d : (i + 1) * d]) for i in range(3)
        )
        o, self.weights = scaled_dot_product_attention(self.q, self.k, self.v, self._mask(x, mask))
        self.o = merge_heads(o).reshape(N * T, d)
        return (self.o @ self.Wo + self.bo).reshape(N, T, d)

    def backward(self, dout):
        xp = get_array_module(dout)
        N, T, d = dout.shape
        dy = dout.reshape(N * T, d)
        xp.matmul(self.o.T, dy, out=self.dWo)
        self.dbo[...] = dy.sum(axis=0)
        do = split_heads(self.h, (dy @ self.Wo.T).reshape(N, T, d))
        dq, dk, dv = attention_backward(do, self.q, self.k, self.v, self.weights)
        dqkv = xp.concatenate([merge_heads(g) for g in (dq, dk, dv)], axis=-1).reshape(N * T, -1)
        xp.matmul(self.x.T, dqkv, out=self.dWqkv)
        self.dbqkv[...] = dqkv.sum(axis=0)
        return (dqkv @ self.Wqkv.T).reshape(N, T, d)
