"""Attention: each decoder state looks at every encoder state and takes a weighted mean of them.

For decoder states hd (N, T, H) and encoder states hs (N, S, H), with a score for every pair:

    dot (Luong et al. 2015):        e_ts = hd_t . hs_s
    additive (Bahdanau et al. 2015): e_ts = v . tanh(hs_s Wk + hd_t Wq)
    a_t = softmax_s(e_t)   (masked source positions get weight 0)
    context_t = sum_s a_ts hs_s

``forward(hs, hd, mask)`` returns the contexts (N, T, H) and keeps the weights ``self.weights``
(N, T, S) for plotting; ``backward(dcontext)`` returns ``(dhs, dhd)``.  Backward through the
softmax: with g = dL/da, dL/de = a * (g - sum_s a_s g_s).
"""

from __future__ import annotations

import numpy as np

from course_lib.backend import get_array_module
from course_lib.nn.layer import Layer
from course_lib.nn.losses import softmax

SCORES = ("dot", "additive")


class Attention(Layer):
    """Dot-product (no parameters) or additive attention (``Wk``, ``Wq`` (H, A), ``v`` (A,))."""

    def __init__(
        self, hidden_size, *, score="dot", attn_size=None, rng=None, dtype="float32", xp=np
    ):
        if score not in SCORES:
            raise ValueError(f"unknown attention score {score!r}; choose one of {SCORES}")
        self.score = score
        if score == "additive":
            rng = np.random.default_rng(rng)
            A = attn_size or hidden_size

            def uniform(*shape):
                k = 1.0 / np.sqrt(shape[0])
                return xp.asarray(rng.uniform(-k, k, shape).astype(dtype))

            self.param_names = ("Wk", "Wq", "v")
            self.Wk, self.Wq, self.v = uniform(hidden_size, A), uniform(hidden_size, A), uniform(A)
            self.dWk, self.dWq, self.dv = (xp.zeros_like(p) for p in (self.Wk, self.Wq, self.v))

    def forward(self, hs, hd, mask=None):
        if hs.ndim != 3 or hd.ndim != 3 or hs.shape[0] != hd.shape[0] or hs.shape[2] != hd.shape[2]:
            raise ValueError(
                f"Attention takes encoder states (N, S, H) and decoder states (N, T, H), got "
                f"{tuple(hs.shape)} and {tuple(hd.shape)}"
            )
        xp = get_array_module(hs)
        if self.score == "dot":
            e = hd @ hs.transpose(0, 2, 1)
        else:
            self.E = xp.tanh((hs @ self.Wk)[:, None] + (hd @ self.Wq)[:, :, None])  # (N,T,S,A)
            e = self.E @ self.v
        if mask is not None:
            e = xp.where(xp.asarray(mask)[:, None, :], e, -1e9 if e.dtype == np.float32 else -1e30)
        self.weights = softmax(e)
        self.hs, self.hd = hs, hd
        return self.weights @ hs

    def backward(self, dcontext):
        a, hs, hd = self.weights, self.hs, self.hd
        dhs = a.transpose(0, 2, 1) @ dcontext
        g = dcontext @ hs.transpose(0, 2, 1)
        de = a * (g - (g * a).sum(axis=-1, keepdims=True))
        if self.score == "dot":
            return dhs + de.transpose(0, 2, 1) @ hd, de @ hs
        dZ = de[..., None] * self.v * (1 - self.E * self.E)  # (N, T, S, A)
        self.dv[...] = (de[..., None] * self.E).sum(axis=(0, 1, 2))
        dK, dQ = dZ.sum(axis=1), dZ.sum(axis=2)
        H = hs.shape[2]
        self.dWk[...] = hs.reshape(-1, H).T @ dK.reshape(-1, dK.shape[-1])
        self.dWq[...] = hd.reshape(-1, H).T @ dQ.reshape(-1, dQ.shape[-1])
        return dhs + dK @ self.Wk.T, dQ @ self.Wq.T
