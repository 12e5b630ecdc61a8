"""A Transformer encoder-decoder (Vaswani et al. 2017), small, with lesson 10's interface.

    model = TransformerSeq2Seq(src_vocab=13, tgt_vocab=13, source_len=7, d_model=32,
                               n_heads=2, n_layers=2, d_ff=64, pad=0, rng=0)
    x = np.hstack([sources, targets[:, :-1]])      # the source, then the decoder's input
    scores = model.forward(x)                       # (N, T, V): the next target token at each step
    model.backward(loss.backward())
    ids = model.generate(sources, start=1, max_len=5)          # greedy, a batch at once

As :class:`~course_lib.models.seq2seq.Seq2Seq`, the model takes one array, the source and the
decoder input side by side, so :func:`course_lib.train.fit` trains it unchanged:

    m = E_src[src] + P_src;   m = EncBlock_l(m, mask) for each l;   m = LN(m)
    h = E_tgt[tgt] + P_tgt;   h = DecBlock_l(h, m, mask) for each l;   scores = LN(h) W + b

The encoder's blocks are the course's pre-norm :class:`~course_lib.nn.TransformerBlock`
(no causal mask: every source position sees the whole source); the decoder's are
:class:`~course_lib.nn.TransformerDecoderBlock` (causal self-attention, then cross-attention to
``m``).  With ``pad`` set, source positions holding the padding id are hidden from both the
encoder's self-attention and the decoder's cross-attention.  Positions are learned tables.
"""

from __future__ import annotations

import numbers

import numpy as np

from course_lib import nn
from course_lib.backend import asnumpy, get_array_module


class TransformerSeq2Seq(nn.Composite):
    """Embeddings + learned positions -> ``n_layers`` encoder blocks and ``n_layers`` decoder
    blocks -> LayerNorm -> Linear to the target vocabulary."""

    def __init__(
        self,
        src_vocab,
        tgt_vocab,
        source_len,
        *,
        d_model=32,
        n_heads=2,
        n_layers=1,
        d_ff=64,
        max_len=64,
        dropout=0.0,
        pad=None,
        rng=None,
        dtype="float32",
        xp=np,
    ):
        for name, value in (("source_len", source_len), ("max_len", max_len)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{name}={value!r}: it must be a positive integer")
        rng = np.random.default_rng(rng)
        kw = {"rng": rng, "dtype": dtype, "xp": xp}
        self.source_len, self.max_len, self.pad = source_len, max_len, pad
        self.src_embed = nn.Embedding(src_vocab, d_model, **kw)
        self.src_pos = nn.PositionalEmbedding(source_len, d_model, **kw)
        self.tgt_embed = nn.Embedding(tgt_vocab, d_model, **kw)
        self.tgt_pos = nn.PositionalEmbedding(max_len, d_model, **kw)
        self.encoder = [
            nn.TransformerBlock(d_model, n_heads, d_ff, dropout=dropout, **kw)
            for _ in range(n_layers)
        ]
        self.enc_ln = nn.LayerNorm(d_model, dtype=dtype, xp=xp)
        self.decoder = [
            nn.TransformerDecoderBlock(d_model, n_heads, d_ff, dropout=dropout, **kw)
            for _ in range(n_layers)
        ]
        self.dec_ln = nn.LayerNorm(d_model, dtype=dtype, xp=xp)
        self.head = nn.TimeDistributed(nn.Linear(d_model, tgt_vocab, weight_init="xavier", **kw))
        self.drop_src, self.drop_tgt = nn.Dropout(dropout, rng=rng), nn.Dropout(dropout, rng=rng)
        self.training = True

    @property
    def layers(self) -> list:
        """Every layer with parameters or a training mode, in forward order."""
        return [
            self.src_embed,
            self.src_pos,
            self.drop_src,
            *self.encoder,
            self.enc_ln,
            self.tgt_embed,
            self.tgt_pos,
            self.drop_tgt,
            *self.decoder,
            self.dec_ln,
            self.head,
        ]

    def named_params(self) -> dict:
        named = {"src_embed.W": self.src_embed.W, "src_pos.P": self.src_pos.P}
        for k, block in enumerate(self.encoder):
            named.update({f"encoder.{k}.{n}": p for n, p in block.named_params().items()})
        named.update({"enc_ln.gamma": self.enc_ln.gamma, "enc_ln.beta": self.enc_ln.beta})
        named.update({"tgt_embed.W": self.tgt_embed.W, "tgt_pos.P": self.tgt_pos.P})
        for k, block in enumerate(self.decoder):
            named.update({f"decoder.{k}.{n}": p for n, p in block.named_params().items()})
        named.update({"dec_ln.gamma": self.dec_ln.gamma, "dec_ln.beta": self.dec_ln.beta})
        return {**named, "head.W": self.head.layer.W, "head.b": self.head.layer.b}

    def count_params(self) -> int:
        return int(sum(p.size for p in self.params))

    def encode(self, src):
        """The encoder's output m (N, S, d) and the source mask (N, S) (None without ``pad``)."""
        xp = get_array_module(self.src_embed.W)
        src = xp.asarray(src)
        mask = None if self.pad is None else src != self.pad
        m = self.drop_src.forward(self.src_pos.forward(self.src_embed.forward(src)))
        for block in self.encoder:
            m = block.forward(m, mask)
        return self.enc_ln.forward(m), mask

    def _decode(self, tokens, m, mask):
        h = self.drop_tgt.forward(self.tgt_pos.forward(self.tgt_embed.forward(tokens)))
        for block in self.decoder:
            h = block.forward(h, m, mask)
        return self.head.forward(self.dec_ln.forward(h))

    def forward(self, x):
        """x (N, S + T): the source (first ``source_len`` columns), then the decoder input."""
        if x.ndim != 2 or x.shape[1] <= self.source_len or x.shape[0] == 0:
            raise ValueError(
                f"TransformerSeq2Seq takes (N, source_len + T) ids, N >= 1, source_len="
                f"{self.source_len}, got {tuple(x.shape)}: pass np.hstack([sources, "
                "targets[:, :-1]])"
            )
        xp = get_array_module(self.src_embed.W)
        x = xp.asarray(x)
        m, mask = self.encode(x[:, : self.source_len])
        return self._decode(x[:, self.source_len :], m, mask)

    def backward(self, dscores):
        """Fill ``grads``: through the decoder, summing each block's dL/dm, then the encoder."""
        d = self.dec_ln.backward(self.head.backward(dscores))
        dm = 0
        for block in reversed(self.decoder):
            d, dmb = block.backward(d)
            dm = dm + dmb
        self.tgt_embed.backward(self.tgt_pos.backward(self.drop_tgt.backward(d)))
        d = self.enc_ln.backward(dm)
        for block in reversed(self.encoder):
            d = block.backward(d)
        self.src_embed.backward(self.src_pos.backward(self.drop_src.backward(d)))

    def generate(self, src, *, start, max_len):
        """Greedy decoding of a batch of sources: (N, max_len) ids, each the most likely next
        token given the ones before (no stopping at an end token: cut the strings after).
        The source is encoded once; the decoder reruns on the growing prefix at each step."""
        shape = tuple(np.shape(src))
        if len(shape) != 2 or shape[1] != self.source_len or 0 in shape:
            raise ValueError(
                f"TransformerSeq2Seq.generate: sources of shape {shape}, source_len="
                f"{self.source_len}; give (N, source_len), N >= 1"
            )
        if not 1 <= max_len <= self.max_len:
            raise ValueError(f"max_len={max_len}: between 1 and the model's max_len={self.max_len}")
        xp = get_array_module(self.src_embed.W)
        was_training = self.training
        self.eval()
        m, mask = self.encode(src)
        tokens = xp.full((shape[0], 1), start, dtype=np.int64)
        for _ in range(max_len):
            scores = self._decode(tokens, m, mask)
            tokens = xp.concatenate([tokens, scores[:, -1].argmax(axis=1)[:, None]], axis=1)
        self.train(was_training)
        return asnumpy(tokens[:, 1:])

    def cross_attention_maps(self) -> list:
        """The cross-attention weights of the last forward pass, (N, heads, T, S) per block."""
        return [block.cross.weights for block in self.decoder]
