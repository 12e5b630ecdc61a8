"""Multi-head cross-attention: the decoder asks, the encoder answers (Vaswani et al. 2017, 3.2.3).

Self-attention takes its queries, keys and values from one sequence.  In an encoder-decoder the
decoder's second attention takes its **queries from the decoder states** x (N, T, d) and its
**keys and values from the encoder's output** m (N, S, d), the "memory":

    Q = x Wq + bq                 Wq (d, d)
    [K | V] = m Wkv + bkv         Wkv (d, 2d)
    head h:  A_h = softmax(Q_h K_h^T / sqrt(d_k) + M),  O_h = A_h V_h      d_k = d / heads
    y = [O_1 | ... | O_H] Wo + bo

This is lesson 10's attention with learned projections and several heads: every target position
looks over every source position.  No causal mask (the whole source is known before decoding
starts); ``mask`` (N, S), True for real source tokens, hides the source's padding.

Backward returns the gradients of **both** inputs, ``(dx, dm)``: dx reaches the decoder through
Q, dm the encoder through K and V, which is how the encoder learns from the decoder's loss.

The layout is ``torch.nn.MultiheadAttention``'s: its ``in_proj_weight`` is [Wq | Wkv]^T, so
``mha(x, m, m, key_padding_mask=~mask)`` gives the same y with the weights copied.
"""

from __future__ import annotations

import numpy as np

from course_lib import init
from course_lib.backend import get_array_module
from course_lib.nn.layer import Layer
from course_lib.nn.self_attention import (
    attention_backward,
    merge_heads,
    scaled_dot_product_attention,
    split_heads,
)


class MultiHeadCrossAttention(Layer):
    """Queries from x (N, T, d), keys and values from m (N, S, d); see the module docstring.

    ``forward(x, m, mask=None)`` -> (N, T, d); ``backward(dout)`` -> ``(dx, dm)``.  The weights
    of the last forward pass are kept in ``self.weights`` (N, heads, T, S).  Parameters ``Wq``
    (d, d), ``bq`` (d,), ``Wkv`` (d, 2d), ``bkv`` (2d,), ``Wo`` (d, d), ``bo`` (d,).
    """

    param_names = ("Wq", "bq", "Wkv", "bkv", "Wo", "bo")

    def __init__(self, d_model, n_heads, *, rng=None, dtype="float32", xp=np):
        if n_heads < 1 or d_model % n_heads:
            raise ValueError(
                f"d_model={d_model} is not divisible by n_heads={n_heads}: each head gets "
                f"d_model / n_heads features; pick n_heads among the divisors of {d_model}"
            )
        rng = np.random.default_rng(rng)
        self.d, self.h = d_model, n_heads
        # one (d, 3d) draw split in two: the same scale as the self-attention's fused matrix
        w = init.make("xavier", (d_model, 3 * d_model), rng, xp, dtype)
        self.Wq, self.Wkv = w[:, :d_model].copy(), w[:, d_model:].copy()
        self.bq = xp.zeros(d_model, dtype=dtype)
        self.bkv = xp.zeros(2 * d_model, dtype=dtype)
        self.Wo = init.make("xavier", (d_model, d_model), rng, xp, dtype)
        self.bo = xp.zeros(d_model, dtype=dtype)
        for name in self.param_names:
            setattr(self, "d" + name, xp.zeros_like(getattr(self, name)))

    def forward(self, x, m, mask=None):
        xp = get_array_module(x)
        if x.ndim != 3 or m.ndim != 3 or x.shape[-1] != self.d or m.shape[-1] != self.d:
            raise ValueError(
                f"MultiHeadCrossAttention({self.d}, {self.h}) takes x (N, T, {self.d}) and "
                f"m (N, S, {self.d}), got {tuple(x.shape)} and {tuple(m.shape)}"
            )
        if x.shape[0] != m.shape[0]:
            raise ValueError(f"x and m must have the same batch size: {x.shape[0]}, {m.shape[0]}")
        (N, T, d), S = x.shape, m.shape[1]
        allowed = None
        if mask is not None:
            mask = xp.asarray(mask)
            if mask.shape != (N, S) or mask.dtype != bool:
                raise ValueError(
                    f"the source padding mask must be boolean (N, S) = ({N}, {S}), True for real "
                    f"tokens, got {mask.dtype} {tuple(mask.shape)}; build it as src != pad_id"
                )
            allowed = mask[:, None, None, :]
        self.x, self.m = x.reshape(N * T, d), m.reshape(N * S, d)
        self.q = split_heads(self.h, (self.x @ self.Wq + self.bq).reshape(N, T, d))
        kv = (self.m @ self.Wkv + self.bkv).reshape(N, S, 2 * d)
        self.k, self.v = split_heads(self.h, kv[..., :d]), split_heads(self.h, kv[..., d:])
        o, self.weights = scaled_dot_product_attention(self.q, self.k, self.v, allowed)
        self.o = merge_heads(o).reshape(N * T, d)
        return (self.o @ self.Wo + self.bo).reshape(N, T, d)

    def backward(self, dout):
        xp = get_array_module(dout)
        N, T, d = dout.shape
        S = self.k.shape[2]
        dy = dout.reshape(N * T, d)
        xp.matmul(self.o.T, dy, out=self.dWo)
        self.dbo[...] = dy.sum(axis=0)
        do = split_heads(self.h, (dy @ self.Wo.T).reshape(N, T, d))
        dq, dk, dv = attention_backward(do, self.q, self.k, self.v, self.weights)
        dq = merge_heads(dq).reshape(N * T, d)
        dkv = xp.concatenate([merge_heads(dk), merge_heads(dv)], axis=-1).reshape(N * S, 2 * d)
        xp.matmul(self.x.T, dq, out=self.dWq)
        self.dbq[...] = dq.sum(axis=0)
        xp.matmul(self.m.T, dkv, out=self.dWkv)
        self.dbkv[...] = dkv.sum(axis=0)
        return (dq @ self.Wq.T).reshape(N, T, d), (dkv @ self.Wkv.T).reshape(N, S, d)
