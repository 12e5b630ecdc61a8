"""A recurrent language model, for characters or words: embedding, stacked RNN/LSTM/GRU, softmax.

    model = RNNLM(vocab_size=65, hidden_size=128, num_layers=2, cell="lstm", rng=0)
    scores = model.forward(x)              # x (N, T) token ids -> (N, T, V) next-token scores
    model.backward(loss.backward())        # fills model.grads
    text_ids = model.generate([3, 17], 200, temperature=0.8, rng=0)

The model reads token x_t and scores every possible x_{t+1}:

    e_t = E[x_t];   h_t^(l) = cell(h_t^(l-1), h_{t-1}^(l));   s_t = h_t^(L) W + b

Dropout, where asked, is applied on the non-recurrent connections only (Zaremba et al. 2014):
to the embeddings, between layers and before the softmax layer, never to h_{t-1} -> h_t.  With
``tie_weights=True`` the output layer uses the embedding matrix, W = E^T (Press & Wolf 2017;
Inan et al. 2017), so embed_size must equal hidden_size; the two gradients are summed.
``init_scale`` draws every parameter from U(-s, s) as Zaremba et al. do (0.1 for the small
model); otherwise each layer keeps its own initialisation.  The recurrent layers are stateful:
``reset_state()`` before a new pass over the text.
"""

from __future__ import annotations

import numpy as np

from course_lib import nn
from course_lib.backend import asnumpy, get_array_module
from course_lib.nlp.lm import sample_next

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class RNNLM:
    """Embedding -> ``num_layers`` recurrent layers -> affine scores over the vocabulary."""

    def __init__(
        self,
        vocab_size,
        hidden_size,
        *,
        num_layers=1,
        cell="lstm",
        embed_size=None,
        dropout=0.0,
        tie_weights=False,
        init_scale=None,
        rng=None,
        dtype="float32",
        xp=np,
    ):
        if cell not in CELLS:
            raise ValueError(f"unknown cell {cell!r}; choose one of {sorted(CELLS)}")
        E = embed_size or hidden_size
        if tie_weights and E != hidden_size:
            raise ValueError(
                f"tie_weights needs embed_size == hidden_size, got {E} and {hidden_size}"
            )
        rng = np.random.default_rng(rng)
        self.cell, self.tie_weights = cell, tie_weights
        self.embed = nn.Embedding(vocab_size, E, rng=rng, dtype=dtype, xp=xp)
        self.rnns = [
            CELLS[cell](
                E if k == 0 else hidden_size,
                hidden_size,
                stateful=True,
                rng=rng,
                dtype=dtype,
                xp=xp,
            )
            for k in range(num_layers)
        ]
        self.drops = [nn.Dropout(dropout, rng=rng) for _ in range(num_layers + 1)]
        head = (
            nn.TiedLinear(self.embed)
            if tie_weights
            else nn.Linear(
                hidden_size, vocab_size, weight_init="xavier", rng=rng, dtype=dtype, xp=xp
            )
        )
        self.out = nn.TimeDistributed(head)
        if init_scale is not None:
            for p in self.params:
                p[...] = xp.asarray(rng.uniform(-init_scale, init_scale, p.shape).astype(dtype))
        self.training = True

    @property
    def layers(self) -> list:
        """Every layer in forward order (dropouts between)."""
        out = [self.embed]
        for drop, rnn in zip(self.drops, self.rnns):
            out += [drop, rnn]
        return out + [self.drops[-1], self.out]

    @property
    def params(self) -> list:
        head = self.out.params[1:] if self.tie_weights else self.out.params
        return self.embed.params + [p for r in self.rnns for p in r.params] + head

    @property
    def grads(self) -> list:
        head = self.out.grads[1:] if self.tie_weights else self.out.grads
        return self.embed.grads + [g for r in self.rnns for g in r.grads] + head

    def named_params(self) -> dict:
        named = {"embed.W": self.embed.W}
        for k, r in enumerate(self.rnns):
            named.update({f"rnn{k}.{n}": p for n, p in r.named_params().items()})
        if not self.tie_weights:
            named["out.W"] = self.out.layer.W
        named["out.b"] = self.out.layer.b
        return named

    def train(self, mode=True):
        self.training = mode
        for layer in self.layers:
            layer.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def reset_state(self):
        for r in self.rnns:
            r.reset_state()

    def forward(self, x):
        """x (N, T) integer ids -> scores (N, T, V)."""
        x = get_array_module(self.embed.W).asarray(x)
        if x.ndim != 2:
            raise ValueError(f"RNNLM takes token ids of shape (N, T), got {tuple(x.shape)}")
        h = x
        for layer in self.layers:
            h = layer.forward(h)
        return h

    def backward(self, dscores):
        """Fill ``grads``; returns dL/de, the gradient reaching each input embedding (N, T, E)."""
        d = dscores
        for layer in reversed(self.layers[1:]):
            d = layer.backward(d)
        self.embed.backward(d)
        if self.tie_weights:
            self.embed.dW += self.out.layer.dW
        return d

    def generate(self, prefix, length, *, temperature=1.0, top_k=None, rng=None) -> list[int]:
        """``prefix`` (a list of ids) followed by ``length`` sampled ids.  The training state of
        the recurrent layers is put back afterwards."""
        if len(prefix) == 0:
            raise ValueError("generate needs a prefix of at least one token to start from")
        rng = np.random.default_rng(rng)
        saved, was_training = [r.state for r in self.rnns], self.training
        self.eval()
        self.reset_state()
        out = list(prefix)
        scores = self.forward(np.asarray([prefix]))[:, -1]
        for _ in range(length):
            nxt = int(sample_next(asnumpy(scores), temperature, top_k, rng)[0])
            out.append(nxt)
            scores = self.forward(np.asarray([[nxt]]))[:, -1]
        for r, s in zip(self.rnns, saved):
            r.state = s
        self.train(was_training)
        return out
