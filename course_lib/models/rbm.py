"""Restricted Boltzmann machines trained with one step of contrastive divergence (CD-1).

The energy of a Bernoulli-Bernoulli RBM with visible units ``v``, hidden units ``h``, weights
``W (n_vis, n_hid)`` and biases ``b`` (visible), ``c`` (hidden) is::

    E(v, h) = -v b - h c - v W h
    p(h_j = 1 | v) = sigmoid(v W + c)_j        p(v_i = 1 | h) = sigmoid(h W^T + b)_i

CD-1 (Hinton 2002) estimates the log-likelihood gradient by one Gibbs step from the data::

    dW ~ <v h>_data - <v h>_reconstruction

The code-layer RBM of Hinton & Salakhutdinov (2006) has *linear* hidden units with unit-variance
Gaussian noise: ``h = v W + c + N(0, 1)``.  Its free energy is then
``F(v) = -v b - sum_j (v W + c)_j^2 / 2`` (up to a constant).

The constants follow the authors' public Matlab code (``rbm.m``, ``rbmhidlinear.m``):
learning rate 0.1 (0.001 for the linear layer), weight cost 0.0002 on the weights only,
momentum 0.5 for the first five epochs and 0.9 after, initial weights ``0.1 * randn``, biases 0,
mini-batches of 100.  Positive statistics use the hidden *probabilities*, the negative phase is
driven by sampled hidden *states* and uses the visible and hidden probabilities (no sampling).

Everything runs on ``xp`` (NumPy or CuPy), chosen from the arrays you pass in.  Initial weights are
drawn on the host from a NumPy generator, so NumPy and CuPy runs start from identical weights.
"""

from __future__ import annotations

import time

import numpy as np

from course_lib.backend import get_array_module
from course_lib.history import History, progress_bar
from course_lib.nn.activations import sigmoid, softplus


def momentum_schedule(
    epoch: int, initial: float = 0.5, final: float = 0.9, switch_after: int = 5
) -> float:
    """Momentum for 0-based ``epoch``: ``initial`` for the first ``switch_after`` epochs, then
    ``final``.

    The Matlab code counts epochs from 1 and switches when ``epoch > 5``: epochs 1-5 use 0.5.
    """
    return initial if epoch < switch_after else final


class _XpRandom:
    """Uniform and normal draws on ``xp`` (NumPy or CuPy) from one seeded generator."""

    def __init__(self, xp, seed):
        self.xp = xp
        self.gen = xp.random.default_rng(seed)

    def uniform(self, shape, dtype):
        return self.gen.random(shape, dtype=dtype)

    def normal(self, shape, dtype):
        return self.gen.standard_normal(shape, dtype=dtype)


class RBM:
    """An RBM with binary visible units and binary (``hidden="binary"``) or linear-Gaussian
    (``hidden="linear"``) hidden units, trained by CD-1 with momentum and weight cost.

    ``W (n_vis, n_hid)``, ``b_vis (n_vis,)``, ``b_hid (n_hid,)`` live on ``xp``.
    """

    def __init__(
        self,
        n_vis: int,
        n_hid: int,
        *,
        hidden: str = "binary",
        lr: float | None = None,
        weight_cost: float = 0.0002,
        init_scale: float = 0.1,
        momentum=momentum_schedule,
        seed: int = 0,
        xp=np,
        dtype="float32",
    ):
        if hidden not in ("binary", "linear"):
            raise ValueError(f"hidden must be 'binary' or 'linear', not {hidden!r}")
        self.n_vis, self.n_hid, self.hidden = n_vis, n_hid, hidden
        self.lr = (0.1 if hidden == "binary" else 0.001) if lr is None else lr
        self.weight_cost = weight_cost
        self.momentum = momentum
        self.xp, self.dtype = xp, np.dtype(dtype)
        host = np.random.default_rng(seed)
        self.W = xp.asarray((init_scale * host.standard_normal((n_vis, n_hid))).astype(self.dtype))
        self.b_vis = xp.zeros(n_vis, dtype=self.dtype)
        self.b_hid = xp.zeros(n_hid, dtype=self.dtype)
        self._inc = [xp.zeros_like(p) for p in self.params]
        self._rand = _XpRandom(xp, seed + 1)
        self.history = History()  # every epoch this RBM has been trained for

    @property
    def params(self):
        return [self.W, self.b_vis, self.b_hid]

    # ------------------------------------------------------------------ conditionals
    def hidden_mean(self, v):
        """``E[h | v]``: ``sigmoid(v W + c)``, or ``v W + c`` for linear hidden units."""
        a = v @ self.W + self.b_hid
        return a if self.hidden == "linear" else sigmoid(a, self.xp)

    def sample_hidden(self, mean):
        """Binary states ``mean > U(0,1)``, or ``mean + N(0,1)`` for linear units."""
        if self.hidden == "linear":
            return mean + self._rand.normal(mean.shape, self.dtype)
        return (mean > self._rand.uniform(mean.shape, self.dtype)).astype(self.dtype)

    def visible_probs(self, h):
        """``p(v = 1 | h) = sigmoid(h W^T + b)``."""
        return sigmoid(h @ self.W.T + self.b_vis, self.xp)

    def reconstruct(self, v):
        """Mean-field reconstruction ``p(v | E[h | v])`` (no sampling)."""
        return self.visible_probs(self.hidden_mean(v))

    # ------------------------------------------------------------------ monitoring
    def free_energy(self, v):
        """Free energy per case ``F(v) = -log sum_h exp(-E(v, h))`` (up to a constant for linear
        units).

        Binary hidden: ``F(v) = -v b - sum_j softplus(v W + c)_j``;
        linear-Gaussian hidden: ``F(v) = -v b - sum_j (v W + c)_j^2 / 2``.
        """
        a = v @ self.W + self.b_hid
        if self.hidden == "linear":
            hid_term = 0.5 * (a * a).sum(axis=1)
        else:
            hid_term = softplus(a, self.xp).sum(axis=1)
        return -(v @ self.b_vis) - hid_term

    def reconstruction_error(self, v) -> float:
        """Squared error per case between ``v`` and its mean-field reconstruction, summed over
        units."""
        r = self.reconstruct(v)
        return float(((v - r) ** 2).sum() / v.shape[0])

    # ------------------------------------------------------------------ learning
    def cd1_gradients(self, v0):
        """One CD-1 step on the batch ``v0``; returns ``([dW, db_vis, db_hid], err)``.

        The ``d*`` are the *ascent* directions averaged over the batch (no weight cost, no learning
        rate): ``dW = (v0^T h0 - v1^T h1) / N`` with ``h0 = E[h|v0]``, ``v1 = p(v | sample(h0))``,
        ``h1 = E[h|v1]``.  ``err`` is the summed squared error ``||v0 - v1||^2`` of the batch.
        """
        n = v0.shape[0]
        h0 = self.hidden_mean(v0)
        v1 = self.visible_probs(self.sample_hidden(h0))
        h1 = self.hidden_mean(v1)
        dW = (v0.T @ h0 - v1.T @ h1) / n
        db_vis = (v0.sum(axis=0) - v1.sum(axis=0)) / n
        db_hid = (h0.sum(axis=0) - h1.sum(axis=0)) / n
        err = ((v0 - v1) ** 2).sum()
        return [dW, db_vis, db_hid], err

    def step(self, v0, epoch: int = 0):
        """Update the parameters from one batch; returns the batch's summed reconstruction error (xp
        scalar).

        ``inc = momentum * inc + lr * (grad - weight_cost * W)`` (weight cost on ``W`` only); ``W +=
        inc``.
        """
        grads, err = self.cd1_gradients(v0)
        grads[0] = grads[0] - self.weight_cost * self.W
        mom = self.momentum(epoch) if callable(self.momentum) else float(self.momentum)
        for p, inc, g in zip(self.params, self._inc, grads):
            inc *= mom
            inc += self.lr * g
            p += inc
        return err

    def fit(
        self,
        data,
        *,
        epochs: int = 10,
        batch_size: int = 100,
        shuffle_seed: int | None = None,
        monitor=None,
        verbose: bool = False,
        progress=False,
    ) -> History:
        """Train on ``data (N, n_vis)`` (on ``xp``) for ``epochs`` passes of CD-1; returns the
        History.

        Batches are consecutive slices (as in the Matlab code, whose batches are fixed); pass
        ``shuffle_seed`` to draw a fresh permutation each epoch.  Each epoch's row has ``epoch``,
        ``momentum``, ``recon_err`` (training, per case) and ``seconds``; ``monitor`` (optional,
        held-out visible vectors) adds their mean free energy and reconstruction error.  The rows
        are also appended to ``self.history``.  ``progress``: a bar over the steps, as in
        :func:`course_lib.train.fit`.
        """
        xp = self.xp
        data = xp.asarray(data, dtype=self.dtype)
        perm_rng = np.random.default_rng(shuffle_seed) if shuffle_seed is not None else None
        history, start = History(), time.perf_counter()
        steps = epochs * -(-data.shape[0] // batch_size)
        with progress_bar(steps, f"RBM {self.n_vis}-{self.n_hid}", progress) as bar:
            for epoch in range(len(self.history), len(self.history) + epochs):
                row = self._epoch(data, epoch, batch_size, perm_rng, monitor, bar)
                history.epochs.append(row)
                self.history.epochs.append(row)
                if verbose:
                    self._print_epoch(row)
        history.seconds = time.perf_counter() - start
        return history

    def _print_epoch(self, row) -> None:
        extra = "".join(f"  {k} {v:.4g}" for k, v in row.items() if k.startswith("monitor"))
        print(
            f"  RBM {self.n_vis}-{self.n_hid} ({self.hidden}) epoch {row['epoch']:3d}  "
            f"recon err {row['recon_err']:.3f}{extra}  ({row['seconds']:.1f} s)"
        )

    def _epoch(self, data, epoch, batch_size, perm_rng, monitor, bar) -> dict:
        """One pass of CD-1 over ``data``; the epoch's row."""
        t0, n = time.perf_counter(), data.shape[0]
        order = perm_rng.permutation(n) if perm_rng is not None else None
        err = 0.0
        for start in range(0, n, batch_size):
            if order is None:
                batch = data[start : start + batch_size]
            else:
                batch = data[self.xp.asarray(order[start : start + batch_size])]
            err = err + self.step(batch, epoch)
            bar.update()
        momentum = self.momentum(epoch) if callable(self.momentum) else self.momentum
        row = {
            "epoch": epoch + 1,
            "momentum": momentum,
            "recon_err": float(err) / n,
            "seconds": time.perf_counter() - t0,
        }
        if monitor is not None:
            monitor = self.xp.asarray(monitor, dtype=self.dtype)
            row["monitor_free_energy"] = float(self.free_energy(monitor).mean())
            row["monitor_recon_err"] = self.reconstruction_error(monitor)
        return row

    def transform(self, data, batch_size: int = 10000):
        """Hidden means ``E[h | v]`` for all of ``data`` (what feeds the next RBM in a stack)."""
        xp = self.xp
        data = xp.asarray(data, dtype=self.dtype)
        return xp.concatenate(
            [
                self.hidden_mean(data[i : i + batch_size])
                for i in range(0, data.shape[0], batch_size)
            ]
        )


def pretrain_stack(
    data,
    sizes,
    *,
    epochs: int = 10,
    batch_size: int = 100,
    linear_top: bool = True,
    seed: int = 0,
    xp=None,
    dtype="float32",
    lrs=None,
    monitor=None,
    verbose: bool = False,
    start_from=None,
    progress=False,
):
    """Greedy layer-wise pretraining of a stack of RBMs (Hinton & Salakhutdinov 2006).

    ``sizes = [784, 1000, 500, 250, 30]`` trains RBMs 784-1000, 1000-500, 500-250 and 250-30; each
    is trained on the hidden probabilities of the one below.  ``linear_top`` makes the last RBM's
    hidden units linear-Gaussian (the code layer).  ``start_from``: already trained lower RBMs to
    reuse (their sizes must match the start of ``sizes``), e.g. to share 784-1000-500-250 between
    the 30-D and the 2-D autoencoder.  ``progress``: a bar per RBM trained.  Returns the list of
    RBMs.
    """
    xp = xp or get_array_module(data)
    x = xp.asarray(data, dtype=dtype)
    mon = None if monitor is None else xp.asarray(monitor, dtype=dtype)
    rbms = []
    for i, (n_vis, n_hid) in enumerate(zip(sizes[:-1], sizes[1:])):
        top = i == len(sizes) - 2
        if start_from is not None and i < len(start_from):
            r = start_from[i]
            if (r.n_vis, r.n_hid) != (n_vis, n_hid):
                raise ValueError(
                    f"start_from[{i}] is {r.n_vis}-{r.n_hid}, expected {n_vis}-{n_hid}"
                )
        else:
            hidden = "linear" if (top and linear_top) else "binary"
            lr = None if lrs is None else lrs[i]
            r = RBM(n_vis, n_hid, hidden=hidden, lr=lr, seed=seed + 1000 * i, xp=xp, dtype=dtype)
            r.fit(
                x,
                epochs=epochs,
                batch_size=batch_size,
                monitor=mon,
                verbose=verbose,
                progress=progress,
            )
        rbms.append(r)
        if not top:
            x = r.transform(x)
            mon = None if mon is None else r.transform(mon)
    return rbms
