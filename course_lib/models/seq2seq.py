"""Sequence to sequence: an LSTM encoder reads the source, an LSTM decoder writes the target.

    model = Seq2Seq(src_vocab=13, tgt_vocab=13, source_len=7, decoder="attention", rng=0)
    x = np.hstack([sources, targets[:, :-1]])      # the source, then the decoder's input
    scores = model.forward(x)                       # (N, T, V): the next target token at each step
    model.backward(loss.backward())
    ids = model.generate(sources, start=1, max_len=5)          # greedy, a batch at once
    ids = model.beam_search(sources[0], start=1, end=2, beam=5) # one source, k hypotheses

The encoder's last state (h, c) is the decoder's first (Sutskever et al. 2014).  Decoders:

* ``"plain"``: the decoder sees the source only through that first state;
* ``"peeky"``: the encoder's last h is also fed to every decoder step and to the output layer
  (ゼロから作るDeep Learning 2, ch. 7; Cho et al. 2014 feed the summary to every step too);
* ``"attention"``: at every step the decoder state h_t attends over all encoder states, and
  the output layer reads [context_t, h_t] (Luong et al. 2015; ``score="additive"``: Bahdanau).

The model takes one array, the source and the decoder input side by side, so that the course's
minibatch loop :func:`course_lib.train.fit` can slice it like any other input.  With ``pad`` set,
attention ignores source positions holding the padding id.
"""

from __future__ import annotations

import numbers

import numpy as np

from course_lib import nn
from course_lib.backend import asnumpy, get_array_module

DECODERS = ("plain", "peeky", "attention")


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name}={value!r}: it must be a positive integer, e.g. {name}=5")


class Seq2Seq:
    """Encoder (embedding, LSTM) and decoder (embedding, LSTM, optional attention, linear)."""

    def __init__(
        self,
        src_vocab,
        tgt_vocab,
        source_len,
        *,
        embed=16,
        hidden=128,
        decoder="plain",
        score="dot",
        pad=None,
        rng=None,
        dtype="float32",
        xp=np,
    ):
        if decoder not in DECODERS:
            raise ValueError(f"unknown decoder {decoder!r}; choose one of {DECODERS}")
        rng = np.random.default_rng(rng)
        kw = dict(rng=rng, dtype=dtype, xp=xp)
        self.source_len, self.kind, self.pad = source_len, decoder, pad
        self.enc_embed, self.dec_embed = (
            nn.Embedding(src_vocab, embed, **kw),
            nn.Embedding(tgt_vocab, embed, **kw),
        )
        extra = hidden if decoder == "peeky" else 0
        self.encoder = nn.LSTM(embed, hidden, **kw)
        self.decoder = nn.LSTM(embed + extra, hidden, **kw)
        self.attention = nn.Attention(hidden, score=score, **kw) if decoder == "attention" else None
        n_in = hidden * (2 if decoder != "plain" else 1)
        self.out = nn.TimeDistributed(nn.Linear(n_in, tgt_vocab, weight_init="xavier", **kw))
        self.parts = [self.enc_embed, self.encoder, self.dec_embed, self.decoder]
        self.parts += [self.attention] if self.attention else []
        self.parts += [self.out]
        self.training = True

    @property
    def params(self):
        return [p for part in self.parts for p in part.params]

    @property
    def grads(self):
        return [g for part in self.parts for g in part.grads]

    def named_params(self):
        names = ["enc_embed", "encoder", "dec_embed", "decoder", "attention", "out"]
        parts = dict(zip([n for n in names if n != "attention" or self.attention], self.parts))
        return {f"{k}.{n}": p for k, part in parts.items() for n, p in part.named_params().items()}

    def train(self, mode=True):
        self.training = mode
        return self

    def eval(self):
        return self.train(False)

    def encode(self, src):
        """Encoder states (N, S, H), the last state (h, c), and the attention mask (or None)."""
        xp = get_array_module(self.enc_embed.W)
        src = xp.asarray(src)
        hs = self.encoder.forward(self.enc_embed.forward(src))
        mask = None if self.pad is None or self.attention is None else src != self.pad
        return hs, self.encoder.state, mask

    def _check_sources(self, src, method, ndim):
        """``src`` must be ids of width ``source_len``: (N, source_len), N >= 1, or one row."""
        shape = tuple(np.shape(src))
        if len(shape) != ndim or shape[-1] != self.source_len or 0 in shape:
            want = "(N, source_len), N >= 1" if ndim == 2 else "(source_len,), one source"
            raise ValueError(
                f"Seq2Seq.{method}: sources of shape {shape}, source_len={self.source_len}; "
                f"give {want}, padded to the width the model was built for"
            )

    def _decode(self, tokens, state, hs, mask):
        """Decoder steps for ``tokens`` (N, T) from ``state``: scores (N, T, V), the new state."""
        xp = get_array_module(hs)
        e = self.dec_embed.forward(tokens)
        N, T = tokens.shape
        h_enc = xp.broadcast_to(self._h_enc[:, None], (N, T, self._h_enc.shape[1]))
        if self.kind == "peeky":
            e = xp.concatenate([e, h_enc], axis=2)
        hd = self.decoder.forward(e, state)
        if self.kind == "attention":
            z = xp.concatenate([self.attention.forward(hs, hd, mask), hd], axis=2)
        elif self.kind == "peeky":
            z = xp.concatenate([hd, h_enc], axis=2)
        else:
            z = hd
        return self.out.forward(z), self.decoder.state

    def forward(self, x):
        """x (N, S + T): the source (first ``source_len`` columns), then the decoder input."""
        if x.ndim != 2 or x.shape[1] <= self.source_len or x.shape[0] == 0:
            raise ValueError(
                f"Seq2Seq takes (N, source_len + T) ids, N >= 1, source_len={self.source_len}, got "
                f"{tuple(x.shape)}: pass np.hstack([sources, targets[:, :-1]])"
            )
        xp = get_array_module(self.enc_embed.W)
        x = xp.asarray(x)
        hs, state, mask = self.encode(x[:, : self.source_len])
        self._h_enc = state[0]
        scores, _ = self._decode(x[:, self.source_len :], state, hs, mask)
        return scores

    def backward(self, dscores):
        xp = get_array_module(dscores)
        dz = self.out.backward(dscores)
        H = self.decoder.hidden_size
        dh_enc = xp.zeros_like(self._h_enc)
        dhs = xp.zeros_like(self.encoder.hs)
        if self.kind == "attention":
            dhs, dhd = self.attention.backward(dz[..., :H])
            dhd = dhd + dz[..., H:]
        elif self.kind == "peeky":
            dhd, dh_enc = dz[..., :H], dz[..., H:].sum(axis=1)
        else:
            dhd = dz
        de = self.decoder.backward(dhd)
        if self.kind == "peeky":
            dh_enc = dh_enc + de[..., -H:].sum(axis=1)
            de = de[..., :-H]
        self.dec_embed.backward(de)
        dh0, dc0 = self.decoder.dstate0
        dx = self.encoder.backward(dhs, (dh0 + dh_enc, dc0))
        self.enc_embed.backward(dx)

    def generate(self, src, *, start, max_len):
        """Greedy decoding of a batch of sources: (N, max_len) ids, each the most likely next
        token given the ones before (no stopping at an end token: cut the strings after)."""
        self._check_sources(src, "generate", 2)
        _positive_int("max_len", max_len)
        xp = get_array_module(self.enc_embed.W)
        hs, state, mask = self.encode(src)
        self._h_enc = state[0]
        tokens = xp.full((hs.shape[0], 1), start, dtype=np.int64)
        out = []
        for _ in range(max_len):
            scores, state = self._decode(tokens, state, hs, mask)
            tokens = scores[:, -1].argmax(axis=1)[:, None]
            out.append(tokens)
        return asnumpy(xp.concatenate(out, axis=1))

    def beam_search(self, src, *, start, end, max_len, beam=5):
        """The most probable target for one source (S,) by beam search: keep the ``beam`` best
        partial outputs by total log-probability, extend each by every token, keep the best
        ``beam`` again; a hypothesis that emits ``end`` is finished.  Returns (ids, log-prob)."""
        self._check_sources(src, "beam_search", 1)
        _positive_int("max_len", max_len)
        _positive_int("beam", beam)
        xp = get_array_module(self.enc_embed.W)
        hs, (h, c), mask = self.encode(xp.asarray(src)[None])
        alive = [((start,), 0.0, (h, c))]
        done = []
        for _ in range(max_len):
            candidates = []
            for seq, logp, state in alive:
                self._h_enc = h
                scores, new_state = self._decode(xp.asarray([[seq[-1]]]), state, hs, mask)
                lp = asnumpy(nn.log_softmax(scores[0, -1]))
                for tok in np.argsort(-lp)[:beam]:
                    candidates.append((seq + (int(tok),), logp + float(lp[tok]), new_state))
            candidates.sort(key=lambda cand: -cand[1])
            alive = []
            for cand in candidates[:beam]:
                (done if cand[0][-1] == end else alive).append(cand)
            if not alive:
                break
        best = max(done + alive, key=lambda cand: cand[1])
        return list(best[0][1:]), best[1]
