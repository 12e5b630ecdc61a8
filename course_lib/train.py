"""The training loops: minibatch gradient descent with any optimizer, and conjugate gradients over
the flat parameter vector.  Both return a :class:`~course_lib.history.History`.

    history = fit(model, nn.SoftmaxCrossEntropy(), optim.Adam(model.params, model.grads),
                  x_train, y_train, epochs=5, batch_size=100, rng=0,
                  evaluate=lambda m: {"test_error": m.error(x_test, y_test)})
    history["loss"]          # mean training loss of each epoch
    history["test_error"]    # what evaluate() returned after each epoch
    history.steps            # the loss of every step

One step is: forward, loss, backward, optimizer step.  ``y=None`` trains an autoencoder (the
targets are the inputs).  Shuffled epochs draw their order from ``rng``, so a seed fixes the
order of the minibatches.  What happens to a last batch smaller than the others is a choice,
``last_batch="keep"`` or ``"drop"``, and a last batch of a single example is refused up front for
a model with batch normalisation (it has no batch statistics).
"""

from __future__ import annotations

import itertools
import math
import numbers
import time

import numpy as np

from course_lib.backend import asnumpy, get_array_module
from course_lib.history import History, progress_bar, record_epoch
from course_lib.history import epochs_to_reach as epochs_to_reach  # lessons import it from here
from course_lib.nn.batchnorm import BatchNorm
from course_lib.nn.flat import FlatParams
from course_lib.nn.losses import SoftmaxCrossEntropy
from course_lib.optim import clip_grad_norm

LAST_BATCH = ("keep", "drop")


def batches(n: int, batch_size: int, order=None, last_batch: str = "keep") -> list:
    """Slices of ``range(n)`` (``order=None``) or of the index array ``order``, ``batch_size`` long.

    ``last_batch="keep"`` keeps a shorter last batch, ``"drop"`` leaves it out.
    """
    if last_batch not in LAST_BATCH:
        raise ValueError(f"last_batch={last_batch!r}: use 'keep' or 'drop'")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    stop = n if last_batch == "keep" else n - n % batch_size
    if stop == 0:
        raise ValueError(
            f"{n} examples make no full batch of {batch_size}: nothing to train on "
            "(use a smaller batch_size, or last_batch='keep')"
        )
    starts = range(0, stop, batch_size)
    if order is None:
        return [slice(s, min(s + batch_size, stop)) for s in starts]
    return [order[s : min(s + batch_size, stop)] for s in starts]


def _check_batches(model, n, batch_size, last_batch):
    uses_batchnorm = any(isinstance(layer, BatchNorm) for layer in getattr(model, "layers", []))
    if uses_batchnorm and last_batch == "keep" and n % batch_size == 1:
        raise ValueError(
            f"{n} examples in batches of {batch_size} leave a last batch of one, "
            "which batch normalisation cannot train on: pass last_batch='drop' or "
            "another batch_size"
        )


def _floats(values) -> list:
    """Step losses (0-d arrays, maybe on a GPU) as Python floats, with one copy to the host."""
    if not values:
        return []
    return asnumpy(get_array_module(values[0]).stack(values)).astype(float).tolist()


def step(model, loss, optimizer, x, y, grad_mask=None):
    """One gradient step on one batch; returns the batch loss (a 0-d array, not yet a float)."""
    value = loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    if grad_mask is not None:
        model.flat.grad *= grad_mask
    optimizer.step()
    return value


def _check_count(name, value):
    """``value`` must be a positive integer (epochs, batch_size)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}={value!r}: it must be a positive integer, e.g. {name}=10")
    if value < 1:
        raise ValueError(f"{name}={value}: it must be at least 1, e.g. {name}=10")


def _check_finite(name, data):
    """Refuse NaN or inf in a float array, naming how many and the first example holding one."""
    if getattr(data, "dtype", None) is None or data.dtype.kind not in "fc":
        return
    xp = get_array_module(data)
    bad = ~xp.isfinite(data)
    if bool(bad.any()):
        rows = bad.reshape(len(data), -1).any(axis=1)
        raise ValueError(
            f"{name} holds {int(bad.sum())} NaN/inf value(s), the first in example "
            f"{int(rows.argmax())}: drop those examples or replace the values "
            "(e.g. numpy.nan_to_num) before training"
        )


def _check_lr(name, lr, hint):
    real = isinstance(lr, numbers.Real) and not isinstance(lr, bool)
    if not (real and math.isfinite(lr) and lr >= 0):
        raise ValueError(f"{name}={lr!r}: the learning rate must be a finite number >= 0 ({hint})")


def _check_fit_args(optimizer, x, y, epochs, batch_size):
    """The cheap checks :func:`fit` makes once, before any step."""
    _check_count("epochs", epochs)
    _check_count("batch_size", batch_size)
    lr = getattr(optimizer, "lr", None)
    if isinstance(lr, numbers.Real):
        _check_lr("optimizer.lr", lr, "build the optimizer with e.g. lr=0.01")
    if y is not None and len(y) != len(x):
        raise ValueError(
            f"x has {len(x)} examples but y has {len(y)} labels: pass one label per example "
            "(the same first dimension)"
        )
    _check_finite("x", x)
    _check_finite("y", y)


def _check_mask(model, grad_mask):
    if grad_mask is not None and getattr(model, "flat", None) is None:
        raise ValueError(
            "grad_mask works on the flat parameter vector: build nn.FlatParams(model) "
            "first and the optimizer from [flat.theta], [flat.grad]"
        )


def _scheduled_rates(optimizer, schedule, epochs) -> list | None:
    """``[schedule(1), ..., schedule(epochs)]``, every rate checked before any step (None without
    a schedule)."""
    if schedule is None:
        return None
    if not callable(schedule):
        raise TypeError(
            f"schedule={schedule!r}: pass a function of the epoch (counted from 1) that returns "
            "its learning rate, e.g. schedule=lambda e: 0.1 * 0.9 ** (e - 1)"
        )
    if not hasattr(optimizer, "lr"):
        raise TypeError(
            f"schedule sets optimizer.lr, and {type(optimizer).__name__} has no lr attribute"
        )
    rates = [schedule(epoch) for epoch in range(1, epochs + 1)]
    for epoch, lr in enumerate(rates, start=1):
        _check_lr(f"schedule({epoch})", lr, "the schedule must give one for every epoch")
    return rates


def _epochs(
    model, epochs, run_epoch, *, evaluate, stop, bar, grad_mask=None, mask_epochs=0
) -> History:
    """The loop the trainers share: ``run_epoch(epoch, mask) -> (step losses, extra row
    entries)``, the epoch counted from 1."""
    history, start = History(), time.perf_counter()
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        model.train(True)
        losses, extra = run_epoch(epoch, grad_mask if epoch <= mask_epochs else None)
        history.steps += losses
        row = {
            "epoch": epoch,
            "loss": float(np.mean(losses)),
            **extra,
            "seconds": time.perf_counter() - t0,
        }
        record_epoch(history, row, model, evaluate, bar)
        if stop is not None and stop(model, row):
            break
    bar.close()
    history.seconds = time.perf_counter() - start
    return history


def fit(
    model,
    loss,
    optimizer,
    x,
    y=None,
    *,
    epochs=1,
    batch_size=100,
    rng=None,
    shuffle=True,
    last_batch="keep",
    schedule=None,
    evaluate=None,
    stop=None,
    grad_mask=None,
    mask_epochs=0,
    progress=True,
    desc=None,
) -> History:
    """Train ``model`` in place by minibatch steps of ``optimizer``; return the :class:`History`.

    ``optimizer`` must have been built from ``model.params``/``model.grads`` (or from the flat
    view's ``[theta]``/``[grad]``).  ``shuffle=False`` visits the data in order, in slices.
    ``schedule(epoch) -> lr`` sets ``optimizer.lr`` before each epoch (from 1), as in
    :func:`fit_lm`: epoch ``e`` steps with ``lr_e = schedule(e)``; a decay by ``g`` per epoch,
    ``lr_e = lr_1 * g**(e - 1)``, is ``schedule=lambda e: 0.05 * 0.93 ** (e - 1)``.  The rows
    then have ``lr``; the steps are those of ``fit(epochs=1)`` in a loop that sets ``opt.lr``.
    ``evaluate(model) -> dict`` runs after each epoch in eval mode; its numbers join the row.
    ``stop(model, row) -> bool`` (e.g. an :class:`~course_lib.early_stopping.EarlyStopping`) ends
    training after the epoch it says so.  ``grad_mask`` (a 0/1 vector like the flat view's
    ``theta``) zeroes the gradient of frozen parameters during the first ``mask_epochs`` epochs.
    ``progress=False`` turns the tqdm bar off; ``"transient"`` erases it when training ends.
    Refused up front: epochs or batch_size not a positive integer, a negative or NaN
    ``optimizer.lr`` or ``schedule(e)``, x and y of different lengths, NaN or inf in x or y.
    """
    _check_fit_args(optimizer, x, y, epochs, batch_size)
    _check_batches(model, len(x), batch_size, last_batch)
    _check_mask(model, grad_mask)
    rates = _scheduled_rates(optimizer, schedule, epochs)
    rng, xp, targets = np.random.default_rng(rng), get_array_module(x), x if y is None else y

    def run_epoch(epoch, mask):
        if rates is not None:
            optimizer.lr = rates[epoch - 1]
        order = rng.permutation(len(x)) if shuffle else None
        losses = []
        for idx in batches(len(x), batch_size, order, last_batch):
            i = idx if isinstance(idx, slice) else xp.asarray(idx)
            losses.append(step(model, loss, optimizer, x[i], targets[i], mask))
            bar.update()
        return _floats(losses), {} if rates is None else {"lr": optimizer.lr}

    bar = progress_bar(epochs * len(batches(len(x), batch_size, None, last_batch)), desc, progress)
    hooks = dict(grad_mask=grad_mask, mask_epochs=mask_epochs, evaluate=evaluate, stop=stop)
    return _epochs(model, epochs, run_epoch, bar=bar, **hooks)


def cg_minimize(f, x0, *, line_searches: int = 3):
    """Nonlinear conjugate gradients on the host: ``line_searches`` iterations of SciPy's CG
    (Polak-Ribiere directions, Wolfe line search) on ``f(theta) -> (loss, grad)``, both float64.

    Returns ``(theta, loss, number of function evaluations)``.
    """
    from scipy.optimize import minimize

    res = minimize(f, x0, jac=True, method="CG", options={"maxiter": line_searches, "gtol": 0.0})
    return res.x, float(res.fun), int(res.nfev)


def flat_loss(model, loss, x, y, grad_mask=None):
    """``f(theta) -> (loss, grad)`` on one batch, both float64 on the host, for
    :func:`cg_minimize`."""
    flat = model.flat
    xp, dtype = get_array_module(flat.theta), flat.theta.dtype

    def f(theta):
        flat.theta[...] = xp.asarray(theta, dtype=dtype)
        value = loss.forward(model.forward(x), y)
        model.backward(loss.backward())
        grad = flat.grad if grad_mask is None else flat.grad * grad_mask
        return float(value), asnumpy(grad).astype(np.float64)

    return f


def fit_cg(
    model,
    loss,
    x,
    y=None,
    *,
    epochs=1,
    batch_size=1000,
    line_searches=3,
    rng=None,
    evaluate=None,
    stop=None,
    grad_mask=None,
    mask_epochs=0,
    progress=True,
    desc=None,
) -> History:
    """Train ``model`` by conjugate gradients on batches, the recipe of Hinton & Salakhutdinov
    (2006).

    Each epoch visits a fresh permutation of the data in batches of ``batch_size`` (a short last
    batch is dropped); on each batch ``line_searches`` CG iterations run from the current
    parameters.  The loss runs on the data's array module in the model's dtype; CG itself runs on
    the host in float64 over the flat view (built here if the model has none).  ``evaluate``,
    ``stop``, ``grad_mask`` and ``mask_epochs`` as in :func:`fit`; each row also has ``nfev``.
    """
    flat = model.flat if getattr(model, "flat", None) is not None else FlatParams(model)
    rng, xp, targets = np.random.default_rng(rng), get_array_module(x), x if y is None else y

    def run_epoch(epoch, mask):
        losses, nfev = [], 0
        for idx in batches(len(x), batch_size, rng.permutation(len(x)), "drop"):
            i = xp.asarray(idx)
            f = flat_loss(model, loss, x[i], targets[i], mask)
            theta, value, k = cg_minimize(
                f, asnumpy(flat.theta).astype(np.float64), line_searches=line_searches
            )
            flat.theta[...] = xp.asarray(theta, dtype=flat.theta.dtype)
            losses.append(value)
            nfev += k
            bar.update()
        return losses, {"nfev": nfev}

    bar = progress_bar(epochs * len(batches(len(x), batch_size, None, "drop")), desc, progress)
    hooks = dict(grad_mask=grad_mask, mask_epochs=mask_epochs, evaluate=evaluate, stop=stop)
    return _epochs(model, epochs, run_epoch, bar=bar, **hooks)


def fit_lm(
    model,
    optimizer,
    ids,
    *,
    epochs=1,
    batch_size=20,
    steps=20,
    clip=None,
    time_sum=False,
    schedule=None,
    max_windows=None,
    evaluate=None,
    stop=None,
    progress=True,
    desc=None,
) -> History:
    """Train a language model (e.g. :class:`~course_lib.models.rnnlm.RNNLM`) on one long text
    ``ids`` by truncated BPTT: ``batch_size`` parallel streams read ``steps`` tokens at a time,
    the state carried from window to window (see :mod:`course_lib.nlp.lm`).

    ``clip``: rescale the gradient to this global norm when larger.  ``time_sum=True``: the loss
    whose gradient is taken is summed over the window's time steps (and averaged over the batch),
    as in Zaremba et al.'s code; ``False`` averages over both, which divides every step by
    ``steps``.  ``schedule(epoch) -> lr`` sets the learning rate before each epoch (from 1),
    every epoch's rate checked before the first step, as in :func:`fit`.
    ``max_windows`` stops each epoch early (a short run on a long text).  Each row has the mean
    training loss in nats per token, ``lr``, ``grad_norm`` (the median before clipping) and
    ``tokens_per_s``; ``evaluate``/``stop`` as in :func:`fit`.
    """
    from course_lib.nlp.lm import bptt_streams, bptt_windows, n_windows

    rates = _scheduled_rates(optimizer, schedule, epochs)
    xp, loss = get_array_module(model.params[0]), SoftmaxCrossEntropy()
    streams = xp.asarray(bptt_streams(ids, batch_size))
    per_epoch = min(n_windows(streams, steps), max_windows or float("inf"))

    def run_epoch(epoch, mask):
        if rates is not None:
            optimizer.lr = rates[epoch - 1]
        model.reset_state()
        losses, norms, tokens, t0 = [], [], 0, time.perf_counter()
        for x, y in itertools.islice(bptt_windows(streams, steps), per_epoch):
            losses.append(loss.forward(model.forward(x), y))
            model.backward(loss.backward(x.shape[1] if time_sum else 1.0))
            norms.append(clip_grad_norm(model.grads, clip) if clip else np.nan)
            optimizer.step()
            tokens += x.size
            bar.update()
        seconds = time.perf_counter() - t0
        row = {
            "lr": optimizer.lr,
            "grad_norm": float(np.median(norms)),
            "tokens_per_s": tokens / seconds,
        }
        return _floats(losses), row

    bar = progress_bar(epochs * per_epoch, desc, progress)
    return _epochs(model, epochs, run_epoch, evaluate=evaluate, stop=stop, bar=bar)


def evaluate_lm(model, ids, *, batch_size=10, steps=35) -> float:
    """Mean cross-entropy in nats per token of ``model`` on the text ``ids`` (eval mode, state
    carried across windows from zeros); perplexity is e to this."""
    from course_lib.nlp.lm import bptt_streams, bptt_windows

    xp = get_array_module(model.params[0])
    streams = xp.asarray(bptt_streams(ids, batch_size))
    loss, total, count = SoftmaxCrossEntropy(reduction="sum"), 0.0, 0
    was_training = model.training
    model.eval()
    model.reset_state()
    for x, y in bptt_windows(streams, steps):
        total += float(loss.forward(model.forward(x), y))
        count += y.size
    model.reset_state()
    model.train(was_training)
    return total / count
