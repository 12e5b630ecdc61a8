"""The Transformer block, pre-norm (Xiong et al. 2020; GPT-2): a residual stream that two
sub-layers read from and add to.

    h = x + Dropout(MHA(LN1(x)))
    y = h + Dropout(FFN(LN2(h))),    FFN(z) = GELU(z W1 + b1) W2 + b2,  W1 (d, d_ff), W2 (d_ff, d)

Normalising the input of each branch rather than its sum (post-norm, the 2017 paper) leaves an
identity path from the output back to the input, so deep stacks train without a warm-up.

Backward follows the two residuals: dh = dy + LN2'(FFN'(dy)), then dx = dh + LN1'(MHA'(dh)).
``params`` (and ``grads``, ``named_params``) in this order::

    ln1.gamma, ln1.beta, attn.Wqkv, attn.bqkv, attn.Wo, attn.bo,
    ln2.gamma, ln2.beta, ff1.W, ff1.b, ff2.W, ff2.b

Equal to ``torch.nn.TransformerEncoderLayer(d, heads, d_ff, dropout=0, batch_first=True,
norm_first=True, activation=<gelu tanh>)`` with the weights copied
(:func:`course_lib.twins.transformer.torch_encoder_layer`).  With dropout > 0 torch also drops
inside the FFN and on the attention weights; this block drops each branch's output only.
"""

from __future__ import annotations

import numpy as np

from course_lib.nn.activations import GELU
from course_lib.nn.cross_attention import MultiHeadCrossAttention
from course_lib.nn.dropout import Dropout
from course_lib.nn.layer import Composite
from course_lib.nn.layernorm import LayerNorm
from course_lib.nn.linear import Linear
from course_lib.nn.recurrent import TimeDistributed
from course_lib.nn.self_attention import MultiHeadSelfAttention


class TransformerBlock(Composite):
    """x (N, T, d_model) -> (N, T, d_model); ``forward(x, mask=None)`` passes the key padding
    mask (N, T) to the attention (True for real tokens)."""

    def __init__(
        self,
        d_model,
        n_heads,
        d_ff,
        *,
        causal=False,
        dropout=0.0,
        eps=1e-5,
        rng=None,
        dtype="float32",
        xp=np,
    ):
        rng = np.random.default_rng(rng)
        kw = {"rng": rng, "dtype": dtype, "xp": xp}
        self.ln1 = LayerNorm(d_model, eps, dtype=dtype, xp=xp)
        self.attn = MultiHeadSelfAttention(d_model, n_heads, causal=causal, **kw)
        self.ln2 = LayerNorm(d_model, eps, dtype=dtype, xp=xp)
        self.ff1 = TimeDistributed(Linear(d_model, d_ff, weight_init="he", **kw))
        self.act = GELU()
        self.ff2 = TimeDistributed(Linear(d_ff, d_model, weight_init="xavier", **kw))
        self.drop1, self.drop2 = Dropout(dropout, rng=rng), Dropout(dropout, rng=rng)

    PARTS = ("ln1", "attn", "ln2", "ff1", "ff2")  # the layers with parameters, in params order

    @property
    def layers(self) -> list:
        return [self.ln1, self.attn, self.drop1, self.ln2, self.ff1, self.act, self.ff2, self.drop2]

    def forward(self, x, mask=None):
        h = x + self.drop1.forward(self.attn.forward(self.ln1.forward(x), mask))
        z = self.act.forward(self.ff1.forward(self.ln2.forward(h)))
        return h + self.drop2.forward(self.ff2.forward(z))

    def backward(self, dout):
        dz = self.ff2.backward(self.drop2.backward(dout))
        dh = dout + self.ln2.backward(self.ff1.backward(self.act.backward(dz)))
        return dh + self.ln1.backward(self.attn.backward(self.drop1.backward(dh)))


class TransformerDecoderBlock(Composite):
    """The decoder's block, pre-norm: causal self-attention, cross-attention to the encoder's
    output ``m`` (N, S, d), then the FFN, each a residual branch::

        h = x + MHA(LN1(x))                      causal: target t sees targets 0..t
        g = h + CrossMHA(LN2(h), m)              queries from the decoder, keys/values from m
        y = g + FFN(LN3(g))

    ``forward(x, m, mask=None)``: ``mask`` (N, S), True for real source tokens (the cross-
    attention's keys); ``backward(dout)`` -> ``(dx, dm)``.  Parameters in the order of
    ``torch.nn.TransformerDecoderLayer(norm_first=True)``'s parts: ln1, self_attn, ln2, cross,
    ln3, ff1, ff2.  Dropout (if any) on each branch's output.
    """

    def __init__(
        self,
        d_model,
        n_heads,
        d_ff,
        *,
        dropout=0.0,
        eps=1e-5,
        rng=None,
        dtype="float32",
        xp=np,
    ):
        rng = np.random.default_rng(rng)
        kw = {"rng": rng, "dtype": dtype, "xp": xp}
        self.ln1 = LayerNorm(d_model, eps, dtype=dtype, xp=xp)
        self.attn = MultiHeadSelfAttention(d_model, n_heads, causal=True, **kw)
        self.ln2 = LayerNorm(d_model, eps, dtype=dtype, xp=xp)
        self.cross = MultiHeadCrossAttention(d_model, n_heads, **kw)
        self.ln3 = LayerNorm(d_model, eps, dtype=dtype, xp=xp)
        self.ff1 = TimeDistributed(Linear(d_model, d_ff, weight_init="he", **kw))
        self.act = GELU()
        self.ff2 = TimeDistributed(Linear(d_ff, d_model, weight_init="xavier", **kw))
        self.drops = [Dropout(dropout, rng=rng) for _ in range(3)]

    PARTS = ("ln1", "attn", "ln2", "cross", "ln3", "ff1", "ff2")

    @property
    def layers(self) -> list:
        return [getattr(self, part) for part in self.PARTS] + [self.act, *self.drops]

    def forward(self, x, m, mask=None):
        d1, d2, d3 = self.drops
        h = x + d1.forward(self.attn.forward(self.ln1.forward(x)))
        g = h + d2.forward(self.cross.forward(self.ln2.forward(h), m, mask))
        z = self.act.forward(self.ff1.forward(self.ln3.forward(g)))
        return g + d3.forward(self.ff2.forward(z))

    def backward(self, dout):
        d1, d2, d3 = self.drops
        dz = self.ff2.backward(d3.backward(dout))
        dg = dout + self.ln3.backward(self.ff1.backward(self.act.backward(dz)))
        dq, dm = self.cross.backward(d2.backward(dg))
        dh = dg + self.ln2.backward(dq)
        return dh + self.ln1.backward(self.attn.backward(d1.backward(dh))), dm
