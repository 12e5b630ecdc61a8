"""The torch twin of :class:`course_lib.models.seq2seq.Seq2Seq`: the same encoder-decoder, weights
copied, for the full profile (cuDNN's LSTM on a GPU).

    twin = TorchSeq2Seq.from_numpy(model)
    scores = twin(torch.as_tensor(x))        # x as for the NumPy model: source, then decoder input
    ids = twin.generate(sources, start=1, max_len=5)
"""

from __future__ import annotations

import numpy as np
import torch

from course_lib.backend import asnumpy
from course_lib.twins.recurrent import torch_recurrent


def _copy(dst: torch.Tensor, src) -> None:
    with torch.no_grad():
        dst.copy_(torch.as_tensor(np.ascontiguousarray(asnumpy(src))))


class TorchSeq2Seq(torch.nn.Module):
    """Encoder (embedding, LSTM), decoder (embedding, LSTM, plain / peeky / attention), linear."""

    def __init__(self, model):
        super().__init__()
        self.source_len, self.kind, self.pad = model.source_len, model.kind, model.pad
        self.enc_embed = torch.nn.Embedding(*model.enc_embed.W.shape)
        self.dec_embed = torch.nn.Embedding(*model.dec_embed.W.shape)
        self.encoder = torch_recurrent([model.encoder])
        self.decoder = torch_recurrent([model.decoder])
        self.score = model.attention.score if model.attention is not None else None
        lin = model.out.layer
        self.out = torch.nn.Linear(*lin.W.shape)
        self.to(torch.float64 if lin.W.dtype == np.float64 else torch.float32)
        _copy(self.enc_embed.weight, model.enc_embed.W)
        _copy(self.dec_embed.weight, model.dec_embed.W)
        _copy(self.out.weight, lin.W.T)
        _copy(self.out.bias, lin.b)
        if self.score == "additive":
            a = model.attention
            self.Wk, self.Wq, self.v = (
                torch.nn.Parameter(torch.as_tensor(asnumpy(p)).clone()) for p in (a.Wk, a.Wq, a.v)
            )

    @classmethod
    def from_numpy(cls, model) -> TorchSeq2Seq:
        return cls(model)

    def _attend(self, hs, hd, mask):
        if self.score == "dot":
            e = hd @ hs.transpose(1, 2)
        else:
            e = torch.tanh((hs @ self.Wk)[:, None] + (hd @ self.Wq)[:, :, None]) @ self.v
        if mask is not None:
            e = e.masked_fill(~mask[:, None, :], float("-inf"))
        self.weights = torch.softmax(e, dim=-1)
        return self.weights @ hs

    def _decode(self, tokens, state, hs, h_enc, mask):
        e = self.dec_embed(tokens)
        peek = h_enc[:, None].expand(-1, tokens.shape[1], -1)
        if self.kind == "peeky":
            e = torch.cat([e, peek], dim=2)
        hd, state = self.decoder(e, state)
        if self.kind == "attention":
            hd = torch.cat([self._attend(hs, hd, mask), hd], dim=2)
        elif self.kind == "peeky":
            hd = torch.cat([hd, peek], dim=2)
        return self.out(hd), state

    def _encode(self, src):
        hs, (h, c) = self.encoder(self.enc_embed(src))
        mask = None if self.pad is None or self.kind != "attention" else src != self.pad
        return hs, (h, c), mask

    def forward(self, x):
        hs, state, mask = self._encode(x[:, : self.source_len])
        scores, _ = self._decode(x[:, self.source_len :], state, hs, state[0][0], mask)
        return scores

    @torch.no_grad()
    def generate(self, src, *, start, max_len):
        """Greedy decoding of a batch of sources, as the NumPy model's ``generate``."""
        src = torch.as_tensor(np.asarray(src), device=self.out.weight.device)
        hs, state, mask = self._encode(src)
        h_enc = state[0][0]
        tokens = torch.full((src.shape[0], 1), start, dtype=torch.long, device=src.device)
        out = []
        for _ in range(max_len):
            scores, state = self._decode(tokens, state, hs, h_enc, mask)
            tokens = scores[:, -1].argmax(dim=1, keepdim=True)
            out.append(tokens)
        return torch.cat(out, dim=1).cpu().numpy()
