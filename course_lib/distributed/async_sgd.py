"""Asynchronous SGD with a parameter server, simulated in one process: stale gradients.

A parameter server holds the weights w.  Each worker pulls w, computes a gradient on its
minibatch, and pushes it; the server applies every gradient the moment it arrives, without
waiting for the others.  With W workers taking turns, a gradient was computed on weights that
the other W-1 workers have updated since: it is k = W-1 steps *stale*.  The simulation keeps the
last k+1 copies of the weights in a delay queue and applies, at step t,

    w_{t+1} = w_t - lr * grad L_t(w_{t-k})          (w_{t-k} = w_0 while t < k)

k = 0 is plain synchronous SGD, step for step the ``single`` run of :mod:`.worker` (same
network, initial weights, batches and arithmetic).  No processes, no waiting: what staleness does
to the *optimisation* is measured alone, not the time it saves.
"""

from __future__ import annotations

import collections
import numbers

import numpy as np
import torch
import torch.nn.functional as F

from course_lib.distributed.worker import evaluate, make_model, shard


def _loss(params, x, y):
    """Cross-entropy of the 784-H-10 ReLU network with weights ``params`` (w1, b1, w2, b2)."""
    w1, b1, w2, b2 = params
    return F.cross_entropy(F.linear(F.relu(F.linear(x, w1, b1)), w2, b2), y)


def train_stale(
    data,
    staleness: int,
    *,
    steps: int,
    batch: int = 64,
    hidden: int = 100,
    lr: float = 0.1,
    seed: int = 0,
    eval_every: int = 50,
) -> dict:
    """SGD whose gradient at step t is taken at the weights of step t - ``staleness``.
    ``data``: (x, y, x_test, y_test) tensors.  Returns the steps, test accuracy and loss along
    the way and the final parameters' checksum (as :mod:`.worker` computes it)."""
    if isinstance(staleness, bool) or not isinstance(staleness, numbers.Integral) or staleness < 0:
        raise ValueError(f"staleness={staleness!r}: must be a whole number >= 0 (0: synchronous)")
    if steps < 1 or eval_every < 1:
        raise ValueError(f"steps={steps}, eval_every={eval_every}: both must be at least 1")
    x, y, x_test, y_test = data
    order = np.random.default_rng(seed).permutation(len(x))
    model = make_model(hidden, seed)
    params = list(model.parameters())
    queue = collections.deque(maxlen=staleness + 1)  # the weights of the last k+1 steps
    log = {"staleness": staleness, "step": [], "loss": [], "accuracy": []}
    for step in range(steps):
        queue.append([p.detach().clone() for p in params])
        stale = [w.requires_grad_() for w in queue[0]]  # w_{t-k}: the oldest kept
        idx = torch.from_numpy(shard(step, order, batch, 0, 1))
        loss = _loss(stale, x[idx], y[idx])
        grads = torch.autograd.grad(loss, stale)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.add_(g, alpha=-lr)  # applied to the current weights w_t
        if (step + 1) % eval_every == 0 or step + 1 == steps:
            log["step"].append(step + 1)
            log["loss"].append(float(loss.detach()))
            log["accuracy"].append(evaluate(model, x_test, y_test))
    log["checksum"] = float(sum(p.detach().double().sum() for p in params))
    return log
