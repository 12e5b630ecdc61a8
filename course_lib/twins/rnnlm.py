"""The torch twin of :class:`course_lib.models.rnnlm.RNNLM`, and its training loop.

    twin = TorchRNNLM.from_numpy(model)                 # same layers, same weights
    history = fit_lm_torch(twin, ids, epochs=13, batch_size=20, steps=20, lr=1.0, clip=5,
                           time_sum=True, schedule=lambda e: 0.5 ** max(e - 4, 0))   # lr per epoch
    evaluate_lm_torch(twin, test_ids, batch_size=1, steps=35)   # nats per token

The same network in torch (embedding, torch.nn.RNN/LSTM/GRU, dropout on the non-recurrent
connections, a linear layer or the tied embedding), for the full profile: on a GPU the recurrent
layers run cuDNN's fused kernels.  ``fit_lm_torch`` is :func:`course_lib.train.fit_lm` in torch:
truncated BPTT over parallel streams, gradient clipping, the loss summed over time or averaged,
a learning-rate schedule per epoch, and the same :class:`~course_lib.history.History` rows.
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F

from course_lib.backend import asnumpy
from course_lib.history import History, progress_bar, record_epoch
from course_lib.nlp.lm import bptt_streams, bptt_windows, n_windows, sample_next
from course_lib.twins.recurrent import torch_recurrent

TORCH_CELLS = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}


class TorchRNNLM(torch.nn.Module):
    """Embedding -> dropout -> recurrent stack (dropout between layers) -> dropout -> linear."""

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
    ):
        super().__init__()
        E = embed_size or hidden_size
        if tie_weights and E != hidden_size:
            raise ValueError(f"tie_weights needs embed_size == hidden_size, got {E}, {hidden_size}")
        self.embed = torch.nn.Embedding(vocab_size, E)
        self.rnn = TORCH_CELLS[cell](
            E, hidden_size, num_layers, batch_first=True, dropout=dropout if num_layers > 1 else 0.0
        )
        self.drop = torch.nn.Dropout(dropout)
        self.out = torch.nn.Linear(hidden_size, vocab_size)
        if tie_weights:
            self.out.weight = self.embed.weight
        if init_scale is not None:
            for p in self.parameters():
                torch.nn.init.uniform_(p, -init_scale, init_scale)
        self.state = None

    @classmethod
    def from_numpy(cls, model) -> TorchRNNLM:
        """A twin of a NumPy/CuPy RNNLM with its weights (dtype kept; dropout rate copied)."""
        V, E = model.embed.W.shape
        twin = cls(
            V,
            model.rnns[0].hidden_size,
            num_layers=len(model.rnns),
            cell=model.cell,
            embed_size=E,
            dropout=model.drops[0].p,
            tie_weights=model.tie_weights,
        )
        dtype = torch.float64 if model.embed.W.dtype == np.float64 else torch.float32
        twin.to(dtype)
        twin.rnn.load_state_dict(torch_recurrent(model.rnns).state_dict())
        with torch.no_grad():
            twin.embed.weight.copy_(torch.as_tensor(asnumpy(model.embed.W)))
            if not model.tie_weights:
                twin.out.weight.copy_(torch.as_tensor(asnumpy(model.out.layer.W)).T)
            twin.out.bias.copy_(torch.as_tensor(asnumpy(model.out.layer.b)))
        return twin

    def reset_state(self):
        self.state = None

    def forward(self, x):
        """x (N, T) ids -> scores (N, T, V); the state carries over (detached) to the next call."""
        h, state = self.rnn(self.drop(self.embed(x)), self.state)
        self.state = (
            tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
        )
        return self.out(self.drop(h))

    @torch.no_grad()
    def generate(self, prefix, length, *, temperature=1.0, top_k=None, rng=None) -> list[int]:
        """``prefix`` ids followed by ``length`` sampled ids (eval mode, fresh state)."""
        rng, was_training, device = np.random.default_rng(rng), self.training, _device(self)
        self.eval()
        self.reset_state()
        out = list(prefix)
        scores = self(torch.tensor([prefix], device=device))[:, -1]
        for _ in range(length):
            out.append(int(sample_next(scores.float().cpu().numpy(), temperature, top_k, rng)[0]))
            scores = self(torch.tensor([[out[-1]]], device=device))[:, -1]
        self.reset_state()
        self.train(was_training)
        return out


def _device(module):
    return next(module.parameters()).device


def _streams(model, ids, batch_size):
    return torch.as_tensor(bptt_streams(ids, batch_size), dtype=torch.long, device=_device(model))


def fit_lm_torch(
    model,
    ids,
    *,
    epochs=1,
    batch_size=20,
    steps=20,
    lr=1.0,
    optimizer="sgd",
    clip=None,
    time_sum=False,
    schedule=None,
    max_windows=None,
    evaluate=None,
    progress=True,
    desc=None,
) -> History:
    """Train ``model`` by truncated BPTT on the text ``ids``; the arguments are those of
    :func:`course_lib.train.fit_lm` (``optimizer``: "sgd" or "adam" with learning rate ``lr``;
    ``schedule(epoch) -> lr`` replaces it before each epoch).  ``evaluate(model)`` runs in eval
    mode after each epoch and its numbers join the row."""
    streams = _streams(model, ids, batch_size)
    opt = (torch.optim.SGD if optimizer == "sgd" else torch.optim.Adam)(model.parameters(), lr=lr)
    per_epoch = min(n_windows(streams, steps), max_windows or float("inf"))
    bar, history, start = progress_bar(epochs * per_epoch, desc, progress), History(), time.time()
    for epoch in range(1, epochs + 1):
        for group in opt.param_groups:
            group["lr"] = schedule(epoch) if schedule else lr
        row = _train_epoch(model, opt, streams, steps, per_epoch, clip, time_sum, bar)
        history.steps += row.pop("losses")
        record_epoch(
            history, {"epoch": epoch, **row, "lr": opt.param_groups[0]["lr"]}, model, evaluate, bar
        )
    bar.close()
    history.seconds = time.time() - start
    return history


def _train_epoch(model, opt, streams, steps, per_epoch, clip, time_sum, bar) -> dict:
    model.train()
    model.reset_state()
    losses, norms, tokens, t0 = [], [], 0, time.perf_counter()
    for k, (x, y) in enumerate(bptt_windows(streams, steps)):
        if k >= per_epoch:
            break
        scores = model(x)
        loss = F.cross_entropy(scores.reshape(-1, scores.shape[-1]), y.reshape(-1))
        opt.zero_grad()
        (loss * x.shape[1] if time_sum else loss).backward()
        if clip:
            norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), clip)))
        opt.step()
        # clone: a kept loss.detach() held on to about 16 MB per window here (torch 2.13, CPU, PTB's
        # 10k words), and the full profile ran out of memory within an epoch; a clone keeps a number
        losses.append(loss.detach().clone())
        tokens += x.numel()
        bar.update()
    seconds = time.perf_counter() - t0
    losses = torch.stack(losses).cpu().tolist()
    return {
        "loss": float(np.mean(losses)),
        "losses": losses,
        "grad_norm": float(np.median(norms)) if norms else float("nan"),
        "tokens_per_s": tokens / seconds,
        "seconds": seconds,
    }


@torch.no_grad()
def evaluate_lm_torch(model, ids, *, batch_size=10, steps=35) -> float:
    """Mean cross-entropy in nats per token on ``ids`` (eval mode, state carried from zeros)."""
    streams, was_training = _streams(model, ids, batch_size), model.training
    model.eval()
    model.reset_state()
    total, count = 0.0, 0
    for x, y in bptt_windows(streams, steps):
        scores = model(x)
        total += float(
            F.cross_entropy(scores.reshape(-1, scores.shape[-1]), y.reshape(-1), reduction="sum")
        )
        count += y.numel()
    model.reset_state()
    model.train(was_training)
    return total / count
