"""A small minibatch training loop with a history and an optional progress bar.

    history = fit(model, nn.SoftmaxCrossEntropy(), optim.SGD(model.params, model.grads, lr=0.1),
                  x_train, y_train, epochs=5, batch_size=100, rng=0,
                  eval_fn=lambda m: m.accuracy(x_test, y_test))
    history.loss          # one float per step
    history.epoch_loss    # mean step loss of each epoch
    history.evals         # eval_fn(model) after each epoch

One step is: forward, loss, backward, optimizer step.  The data are shuffled each epoch with
``rng``, so a seed fixes the order of the minibatches; the last batch may be smaller.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from course_lib.backend import get_array_module


@dataclass
class History:
    loss: list = field(default_factory=list)        # per step
    epoch_loss: list = field(default_factory=list)  # per epoch: mean of its steps
    evals: list = field(default_factory=list)       # per epoch: eval_fn(model)
    seconds: float = 0.0                            # wall time of the whole fit


def _set_mode(model, training):
    if hasattr(model, "train"):
        model.train(training)


def fit(model, loss, optimizer, x, y, *, epochs=1, batch_size=100, rng=None, shuffle=True,
        eval_fn=None, progress=True) -> History:
    """Train ``model`` in place and return its ``History``.

    ``model`` needs ``forward``/``backward`` (and ``train(mode)`` if it has Dropout or
    BatchNorm); ``optimizer`` must have been built from ``model.params``/``model.grads``.
    ``eval_fn(model)`` runs after each epoch in eval mode; whatever it returns is kept.
    ``progress=False`` turns the tqdm bar off (for tests and batch runs).
    """
    from tqdm import tqdm  # a text bar: works in a terminal, a notebook and a batch log alike

    rng, xp, n = np.random.default_rng(rng), get_array_module(x), len(x)
    steps = -(-n // batch_size)
    history, start = History(), time.perf_counter()
    bar = tqdm(total=epochs * steps, disable=not progress, unit="step")
    for epoch in range(epochs):
        _set_mode(model, True)
        order = rng.permutation(n) if shuffle else np.arange(n)
        for s in range(0, n, batch_size):
            idx = xp.asarray(order[s:s + batch_size])
            value = float(loss.forward(model.forward(x[idx]), y[idx]))
            model.backward(loss.backward())
            optimizer.step()
            history.loss.append(value)
            bar.update()
            bar.set_postfix(epoch=epoch + 1, loss=f"{value:.4f}", refresh=False)
        history.epoch_loss.append(float(np.mean(history.loss[-steps:])))
        if eval_fn is not None:
            _set_mode(model, False)
            history.evals.append(eval_fn(model))
            _set_mode(model, True)
    bar.close()
    history.seconds = time.perf_counter() - start
    return history
