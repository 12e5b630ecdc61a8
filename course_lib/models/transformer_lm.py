"""A decoder-only Transformer language model (GPT; Radford et al. 2018), for characters or words.

    model = TransformerLM(vocab=65, d_model=128, n_heads=4, n_layers=4, d_ff=512, max_len=64,
                          rng=0)
    logits = model.forward(ids)            # ids (N, T), T <= max_len -> (N, T, V)
    model.backward(loss.backward())        # fills model.grads
    text_ids = model.sample([3, 17], 200, temperature=0.8, rng=0)

Token t sees tokens 0..t of its window and scores every possible token t+1:

    h^0 = E[x] + P[0..T-1];   h^l = Block_l(h^{l-1}) (causal);   logits = LN(h^L) W + b

Training: the model has the interface of :func:`course_lib.train.fit_lm` (``forward``,
``backward``, ``params``/``grads``, ``train``/``eval`` and a ``reset_state`` that does nothing),
so the LSTM's loop trains it unchanged, with ``steps <= max_len``::

    fit_lm(model, optim.Adam(model.params, model.grads, lr=3e-4), ids, steps=64, batch_size=32)

The difference from an RNN is what crosses a window's edge: nothing.  An LSTM carries its state
on; here each window of ``steps`` tokens is a sequence of its own, and its first token is
predicted from no context.  So give ``evaluate_lm`` the same ``steps`` as training.
"""

from __future__ import annotations

import numpy as np

from course_lib import nn
from course_lib.backend import asnumpy, get_array_module
from course_lib.nlp.lm import sample_next


class TransformerLM(nn.Composite):
    """Embedding + learned positions -> ``n_layers`` causal pre-norm blocks -> LayerNorm ->
    Linear to the vocabulary.  ``dropout`` applies to the embeddings and to each block's
    branches.  ``params``: embed.W, pos.P, then each block's 12 (see
    :class:`~course_lib.nn.TransformerBlock`), ln.gamma, ln.beta, head.W, head.b."""

    def __init__(
        self,
        vocab,
        d_model,
        n_heads,
        n_layers,
        d_ff,
        max_len,
        *,
        dropout=0.0,
        rng=None,
        dtype="float32",
        xp=np,
    ):
        rng = np.random.default_rng(rng)
        kw = {"rng": rng, "dtype": dtype, "xp": xp}
        self.max_len, self.n_heads = max_len, n_heads
        self.embed = nn.Embedding(vocab, d_model, **kw)
        self.pos = nn.PositionalEmbedding(max_len, d_model, **kw)
        self.drop = nn.Dropout(dropout, rng=rng)
        self.blocks = [
            nn.TransformerBlock(d_model, n_heads, d_ff, causal=True, dropout=dropout, **kw)
            for _ in range(n_layers)
        ]
        self.ln = nn.LayerNorm(d_model, dtype=dtype, xp=xp)
        self.head = nn.TimeDistributed(nn.Linear(d_model, vocab, weight_init="xavier", **kw))
        self.training = True

    @property
    def layers(self) -> list:
        """Every layer in forward order."""
        return [self.embed, self.pos, self.drop, *self.blocks, self.ln, self.head]

    def named_params(self) -> dict:
        named = {"embed.W": self.embed.W, "pos.P": self.pos.P}
        for k, block in enumerate(self.blocks):
            named.update({f"blocks.{k}.{n}": p for n, p in block.named_params().items()})
        named.update({"ln.gamma": self.ln.gamma, "ln.beta": self.ln.beta})
        return {**named, "head.W": self.head.layer.W, "head.b": self.head.layer.b}

    def named_grads(self) -> dict:
        """The gradients under the names of :meth:`named_params`."""
        return dict(zip(self.named_params(), self.grads))

    def count_params(self) -> int:
        return int(sum(p.size for p in self.params))

    def reset_state(self):
        """Nothing to reset: no state crosses windows (here for ``fit_lm``)."""

    def forward(self, ids):
        """ids (N, T) integer ids, T <= max_len -> logits (N, T, V)."""
        ids = get_array_module(self.embed.W).asarray(ids)
        if ids.ndim != 2:
            raise ValueError(f"TransformerLM takes token ids of shape (N, T), got {ids.shape}")
        h = self.pos.forward(self.embed.forward(ids))
        h = self.drop.forward(h)
        for block in self.blocks:
            h = block.forward(h)
        return self.head.forward(self.ln.forward(h))

    def backward(self, dlogits):
        """Fill ``grads``; returns dL/dh^0, the gradient reaching the input vectors (N, T, d)."""
        d = self.ln.backward(self.head.backward(dlogits))
        for block in reversed(self.blocks):
            d = block.backward(d)
        d = self.pos.backward(self.drop.backward(d))
        self.embed.backward(d)
        return d

    def attention_maps(self) -> list:
        """The attention weights of the last forward pass, one (N, heads, T, T) per block."""
        return [block.attn.weights for block in self.blocks]

    def sample(self, start_ids, n, temperature=1.0, rng=None, *, top_k=None) -> list[int]:
        """``start_ids`` followed by ``n`` sampled ids; each step reads the last ``max_len``
        ids (eval mode; the training mode is put back afterwards)."""
        if len(start_ids) == 0:
            raise ValueError("sample needs at least one start id to condition on")
        rng, was_training = np.random.default_rng(rng), self.training
        self.eval()
        out = [int(i) for i in start_ids]
        for _ in range(n):
            logits = self.forward(np.asarray([out[-self.max_len :]]))[:, -1]
            out.append(int(sample_next(asnumpy(logits), temperature, top_k, rng)[0]))
        self.train(was_training)
        return out

    def generate(self, prefix, length, *, temperature=1.0, top_k=None, rng=None) -> list[int]:
        """:meth:`sample` with :meth:`RNNLM.generate`'s signature, so the two models swap."""
        return self.sample(prefix, length, temperature, rng, top_k=top_k)
