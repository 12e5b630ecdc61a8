"""torch twins of the Transformer layers and of :class:`~course_lib.models.transformer_lm.
TransformerLM`.

    mha = torch_multihead_attention(layer)     # torch.nn.MultiheadAttention(batch_first=True)
    enc = torch_encoder_layer(block)           # torch.nn.TransformerEncoderLayer, pre-norm
    twin = TorchTransformerLM.from_numpy(model)
    fit_lm_torch(twin, ids, steps=64, batch_size=32, optimizer="adam", lr=3e-4)
    copy_to_numpy(twin, model)                 # the trained weights back, e.g. to plot attention

Layouts: our x W (W of shape (in, out)) is torch's F.linear(x, weight) with weight = W^T; our
fused Wqkv (d, 3d) is ``in_proj_weight`` transposed, and LayerNorm's gamma/beta are torch's
weight/bias.  The twin's blocks are ``torch.nn.TransformerEncoderLayer``s (attention through
``F.scaled_dot_product_attention`` inside), with a causal mask.  It has ``reset_state()`` (which
does nothing), so :func:`course_lib.twins.rnnlm.fit_lm_torch` and ``evaluate_lm_torch`` train
and score it as they do the LSTM.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from course_lib.backend import asnumpy, get_array_module
from course_lib.nlp.lm import sample_next


def gelu_tanh(x):
    """GELU, tanh form.  A plain function, not ``F.gelu``: TransformerEncoderLayer's inference
    fast path would otherwise run the exact (erf) GELU."""
    return F.gelu(x, approximate="tanh")


def _dtype(a):
    return torch.float64 if a.dtype == np.float64 else torch.float32


def _copy(dst: torch.Tensor, src, transpose=False) -> None:
    t = torch.as_tensor(asnumpy(src))
    with torch.no_grad():
        dst.copy_(t.T if transpose else t)


def _mha_pairs(layer, mha):
    return [
        (mha.in_proj_weight, layer.Wqkv, True),
        (mha.in_proj_bias, layer.bqkv, False),
        (mha.out_proj.weight, layer.Wo, True),
        (mha.out_proj.bias, layer.bo, False),
    ]


def _block_pairs(block, enc):
    ff1, ff2 = block.ff1.layer, block.ff2.layer
    return _mha_pairs(block.attn, enc.self_attn) + [
        (enc.norm1.weight, block.ln1.gamma, False),
        (enc.norm1.bias, block.ln1.beta, False),
        (enc.norm2.weight, block.ln2.gamma, False),
        (enc.norm2.bias, block.ln2.beta, False),
        (enc.linear1.weight, ff1.W, True),
        (enc.linear1.bias, ff1.b, False),
        (enc.linear2.weight, ff2.W, True),
        (enc.linear2.bias, ff2.b, False),
    ]


def torch_multihead_attention(layer) -> torch.nn.MultiheadAttention:
    """``torch.nn.MultiheadAttention(d, heads, batch_first=True)`` with ``layer``'s weights (a
    :class:`~course_lib.nn.MultiHeadSelfAttention`; call it as ``mha(x, x, x)``)."""
    mha = torch.nn.MultiheadAttention(layer.d, layer.h, batch_first=True)
    mha.to(_dtype(layer.Wqkv))
    for dst, src, transpose in _mha_pairs(layer, mha):
        _copy(dst, src, transpose)
    return mha


def torch_encoder_layer(block, dropout=0.0) -> torch.nn.TransformerEncoderLayer:
    """A pre-norm ``torch.nn.TransformerEncoderLayer`` with ``block``'s weights; pass the causal
    mask at call time (``src_mask``, ``is_causal=True``) if the block is causal."""
    d, heads = block.attn.d, block.attn.h
    enc = torch.nn.TransformerEncoderLayer(
        d,
        heads,
        block.ff1.layer.W.shape[1],
        dropout=dropout,
        activation=gelu_tanh,
        layer_norm_eps=block.ln1.eps,
        batch_first=True,
        norm_first=True,
    )
    enc.to(_dtype(block.ln1.gamma))
    for dst, src, transpose in _block_pairs(block, enc):
        _copy(dst, src, transpose)
    return enc


class TorchTransformerLM(torch.nn.Module):
    """Embedding + learned positions -> causal pre-norm encoder layers -> LayerNorm -> Linear."""

    def __init__(self, vocab, d_model, n_heads, n_layers, d_ff, max_len, *, dropout=0.0):
        super().__init__()
        self.max_len = max_len
        self.embed = torch.nn.Embedding(vocab, d_model)
        self.pos = torch.nn.Parameter(0.01 * torch.randn(max_len, d_model))
        self.drop = torch.nn.Dropout(dropout)
        self.blocks = torch.nn.ModuleList(
            torch.nn.TransformerEncoderLayer(
                d_model, n_heads, d_ff, dropout, gelu_tanh, batch_first=True, norm_first=True
            )
            for _ in range(n_layers)
        )
        self.ln = torch.nn.LayerNorm(d_model)
        self.head = torch.nn.Linear(d_model, vocab)

    @classmethod
    def from_numpy(cls, model) -> TorchTransformerLM:
        """A twin of a NumPy/CuPy TransformerLM with its weights (dtype and dropout kept)."""
        V, d = model.embed.W.shape
        d_ff = model.blocks[0].ff1.layer.W.shape[1]
        twin = cls(V, d, model.n_heads, len(model.blocks), d_ff, model.max_len)
        twin.drop.p = model.drop.p
        for enc in twin.blocks:
            enc.dropout.p = enc.dropout1.p = enc.dropout2.p = model.drop.p
        twin.to(_dtype(model.embed.W))
        for dst, src, transpose in _lm_pairs(model, twin):
            _copy(dst, src, transpose)
        return twin

    def reset_state(self):
        """Nothing to reset (for ``fit_lm_torch``)."""

    def forward(self, ids):
        """ids (N, T) -> logits (N, T, V)."""
        T = ids.shape[1]
        if T > self.max_len:
            raise ValueError(f"a sequence of {T} tokens is longer than max_len={self.max_len}")
        h = self.drop(self.embed(ids) + self.pos[:T])
        mask = torch.nn.Transformer.generate_square_subsequent_mask(T, h.device, h.dtype)
        for block in self.blocks:
            h = block(h, src_mask=mask, is_causal=True)
        return self.head(self.ln(h))

    @torch.no_grad()
    def sample(self, start_ids, n, temperature=1.0, rng=None, *, top_k=None) -> list[int]:
        """``start_ids`` followed by ``n`` sampled ids (eval mode), as the NumPy model's."""
        rng, was_training = np.random.default_rng(rng), self.training
        device = self.head.weight.device
        self.eval()
        out = [int(i) for i in start_ids]
        for _ in range(n):
            logits = self(torch.tensor([out[-self.max_len :]], device=device))[:, -1]
            out.append(int(sample_next(logits.double().cpu().numpy(), temperature, top_k, rng)[0]))
        self.train(was_training)
        return out


def _lm_pairs(model, twin):
    pairs = [(twin.embed.weight, model.embed.W, False), (twin.pos, model.pos.P, False)]
    for block, enc in zip(model.blocks, twin.blocks):
        pairs += _block_pairs(block, enc)
    return pairs + [
        (twin.ln.weight, model.ln.gamma, False),
        (twin.ln.bias, model.ln.beta, False),
        (twin.head.weight, model.head.layer.W, True),
        (twin.head.bias, model.head.layer.b, False),
    ]


def named_twin_grads(model, twin) -> dict:
    """The twin's gradients in the NumPy model's layout, under ``model.named_params()``'s names
    (None where a parameter has no gradient yet)."""
    ids = {id(src): name for name, src in model.named_params().items()}
    out = {}
    for dst, src, transpose in _lm_pairs(model, twin):
        g = None if dst.grad is None else dst.grad.detach().cpu().numpy()
        out[ids[id(src)]] = g.T if (g is not None and transpose) else g
    return out


def copy_to_numpy(twin, model) -> None:
    """Copy the twin's (trained) weights into the NumPy model, in place."""
    for dst, src, transpose in _lm_pairs(model, twin):
        w = dst.detach().cpu().numpy()
        src[...] = get_array_module(src).asarray((w.T if transpose else w).astype(src.dtype))
