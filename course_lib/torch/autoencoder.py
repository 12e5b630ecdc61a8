"""Torch counterparts of :mod:`course_lib.models.autoencoder` and :mod:`course_lib.models.stacked_ae`.

Built from the NumPy objects' weights (so both start identical), with gradients from autograd
instead of the hand-written backward pass.  The training loops use plain SGD written as one
in-place update, ``theta -= lr * grad``, and come in two flavours:

* ``mode="eager"``: each step launches its kernels one by one (on a GPU, each launch costs a few
  microseconds of CPU time; small batches are then *launch-bound*);
* ``mode="graph"`` (CUDA only): the whole step (forward, backward, update, loss accumulation) is
  captured once into a CUDA graph (``torch.cuda.CUDAGraph``) and replayed for every batch, so a step
  costs one launch.  Parameters are updated in place, so the captured addresses stay valid.

Timing helpers synchronise the device (``torch.cuda.synchronize``) before reading the clock.
"""
from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F

from course_lib.backend import asnumpy


def synchronize(device) -> None:
    """Wait for queued work on ``device`` (a no-op on the CPU)."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def _tensor(a, device, dtype):
    return torch.as_tensor(np.ascontiguousarray(asnumpy(a)), dtype=dtype, device=device)


class TorchFlatNet(torch.nn.Module):
    """The torch twin of :class:`course_lib.models.autoencoder.FlatNet` (same layers, same loss)."""

    def __init__(self, sizes, activations, *, loss: str = "bce", device="cpu", dtype=torch.float32):
        super().__init__()
        self.sizes, self.activations, self.loss_kind = list(sizes), list(activations), loss
        self.weights = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.zeros(a, b, device=device, dtype=dtype)) for a, b in zip(sizes[:-1], sizes[1:])])
        self.biases = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.zeros(b, device=device, dtype=dtype)) for b in sizes[1:]])

    @classmethod
    def from_numpy(cls, net, *, device="cpu", dtype=None):
        """Copy the weights of a NumPy/CuPy ``FlatNet`` (or ``DeepAutoencoder``) into a new module."""
        dtype = dtype or (torch.float64 if np.dtype(net.dtype) == np.float64 else torch.float32)
        m = cls(net.sizes, net.activations, loss=net.loss, device=device, dtype=dtype)
        with torch.no_grad():
            for p, a in zip(m.flat_params(), net.params):
                p.copy_(_tensor(a, device, dtype))
        return m

    def flat_params(self):
        """``[W_1, b_1, W_2, b_2, ...]``: the NumPy ``FlatNet.params`` order."""
        return [p for pair in zip(self.weights, self.biases) for p in pair]

    def forward(self, x, upto=None):
        """Output pre-activations (logits), or the activations after ``upto`` layers."""
        n = len(self.weights) if upto is None else upto
        a = x
        for l in range(n):
            a = a @ self.weights[l] + self.biases[l]
            if l < len(self.weights) - 1 and self.activations[l] == "sigmoid":
                a = torch.sigmoid(a)
        return a

    def loss(self, x, y=None):
        """Mean over cases of the summed cross-entropy (logistic outputs) or of ``-log softmax``."""
        z = self(x)
        if self.loss_kind == "bce":
            return F.binary_cross_entropy_with_logits(z, x if y is None else y, reduction="sum") / x.shape[0]
        return F.cross_entropy(z, y, reduction="mean")

    def flat_loss_and_grad(self, x, y=None):
        """``(loss, gradient as one flat tensor)`` in the NumPy parameter order."""
        params = self.flat_params()
        loss = self.loss(x, y)
        grads = torch.autograd.grad(loss, params)
        return loss.detach(), torch.cat([g.reshape(-1) for g in grads])


class TorchDeepAutoencoder(TorchFlatNet):
    """Unrolled deep autoencoder in torch; build it with :meth:`from_numpy` from a ``DeepAutoencoder``."""

    @classmethod
    def from_numpy(cls, net, *, device="cpu", dtype=None):
        m = super().from_numpy(net, device=device, dtype=dtype)
        m.n_encoder_layers = len(net.encoder_sizes) - 1
        return m

    def encode(self, x):
        return self(x, upto=self.n_encoder_layers)

    @torch.no_grad()
    def squared_error(self, x, batch_size: int = 10000) -> float:
        """Squared reconstruction error summed over pixels, averaged over images."""
        total = 0.0
        for i in range(0, x.shape[0], batch_size):
            xb = x[i:i + batch_size]
            total += float(((xb - torch.sigmoid(self(xb))) ** 2).sum())
        return total / x.shape[0]


class TorchTiedLayer(torch.nn.Module):
    """Tied-weight autoencoder layer, the twin of ``stacked_ae.TiedAutoencoderLayer``."""

    def __init__(self, W, c, b, *, linear: bool = False, device="cpu", dtype=torch.float32):
        super().__init__()
        self.linear = linear
        self.W = torch.nn.Parameter(_tensor(W, device, dtype))
        self.c = torch.nn.Parameter(_tensor(c, device, dtype))
        self.b = torch.nn.Parameter(_tensor(b, device, dtype))

    def encode(self, x):
        z = x @ self.W + self.c
        return z if self.linear else torch.sigmoid(z)

    def loss(self, x):
        zr = self.encode(x) @ self.W.T + self.b
        return F.binary_cross_entropy_with_logits(zr, x, reduction="sum") / x.shape[0]

    def as_tuple(self):
        return tuple(p.detach() for p in (self.W, self.c, self.b))


class SGDStepper:
    """One SGD step ``p -= lr * dloss/dp`` for ``loss_fn(x)``, eager or replayed from a CUDA graph.

    The step also adds the batch loss to ``self.total`` (on the device), so reading the epoch's
    loss needs no synchronisation inside the loop.
    """

    def __init__(self, params, loss_fn, lr: float, *, batch_shape, device, dtype, mode: str = "eager"):
        if mode not in ("eager", "graph"):
            raise ValueError(f"mode {mode!r}: use 'eager' or 'graph'")
        if mode == "graph" and torch.device(device).type != "cuda":
            raise RuntimeError("mode='graph' needs a CUDA device")
        self.params, self.loss_fn, self.lr, self.mode = list(params), loss_fn, lr, mode
        self.total = torch.zeros((), device=device, dtype=dtype)
        if mode == "graph":
            self.static_x = torch.zeros(batch_shape, device=device, dtype=dtype)
            saved = [p.detach().clone() for p in self.params]
            side = torch.cuda.Stream(device)
            side.wait_stream(torch.cuda.current_stream(device))
            with torch.cuda.stream(side):  # warm-up iterations, as the capture API asks
                for _ in range(3):
                    self._step(self.static_x)
            torch.cuda.current_stream(device).wait_stream(side)
            with torch.no_grad():  # undo the warm-up updates: the timed run starts from the same weights
                for p, q in zip(self.params, saved):
                    p.copy_(q)
                self.total.zero_()
            self.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self.graph):
                self._step(self.static_x)

    def _step(self, x):
        loss = self.loss_fn(x)
        grads = torch.autograd.grad(loss, self.params)
        with torch.no_grad():
            torch._foreach_add_(self.params, grads, alpha=-self.lr)
            self.total.add_(loss.detach())

    def __call__(self, x):
        if self.mode == "graph":
            self.static_x.copy_(x)
            self.graph.replay()
        else:
            self._step(x)

    def take_total(self) -> float:
        """The accumulated loss (synchronises), then reset to 0."""
        v = float(self.total)
        self.total.zero_()
        return v


def _epochs(stepper, x, epochs: int, batch_size: int):
    n = x.shape[0] - x.shape[0] % batch_size
    losses = []
    for _ in range(epochs):
        for i in range(0, n, batch_size):
            stepper(x[i:i + batch_size])
        losses.append(stepper.take_total() / max(n // batch_size, 1))
    return losses


def pretrain_stacked_ae_torch(data, sizes, *, epochs: int = 15, batch_size: int = 100, lr: float = 0.1,
                              top_lr: float = 0.01, linear_top: bool = True, seed: int = 0, device="cpu", dtype=torch.float32,
                              mode: str = "eager", timings=None):
    """Torch twin of :func:`course_lib.models.stacked_ae.pretrain_stacked_ae` (same initial weights)."""
    from course_lib.models.stacked_ae import init_layer, layer_seeds

    x = data if torch.is_tensor(data) else _tensor(data, device, dtype)
    npdtype = "float64" if dtype == torch.float64 else "float32"
    layers = []
    seeds = layer_seeds(seed, len(sizes) - 1)
    for i, (n_in, n_hid) in enumerate(zip(sizes[:-1], sizes[1:])):
        t0 = time.perf_counter()
        top = i == len(sizes) - 2
        layer = TorchTiedLayer(*init_layer(n_in, n_hid, seeds[i], None, npdtype), linear=top and linear_top,
                               device=device, dtype=dtype)
        stepper = SGDStepper(list(layer.parameters()), layer.loss, top_lr if top else lr, batch_shape=(batch_size, n_in),
                             device=device, dtype=dtype, mode=mode)
        _epochs(stepper, x, epochs, batch_size)
        layers.append(layer)
        if not top:
            with torch.no_grad():
                x = layer.encode(x)
        if timings is not None:
            synchronize(device)
            timings.append(time.perf_counter() - t0)
    return layers


def unroll_torch(layers, *, device="cpu", dtype=torch.float32) -> TorchDeepAutoencoder:
    """Unroll torch tied layers into a :class:`TorchDeepAutoencoder` (via the NumPy class, on the host)."""
    from course_lib.models.autoencoder import DeepAutoencoder

    npdtype = "float64" if dtype == torch.float64 else "float32"
    net = DeepAutoencoder.from_layers([tuple(asnumpy(a) for a in l.as_tuple()) for l in layers],
                                      linear_code=layers[-1].linear, dtype=npdtype)
    return TorchDeepAutoencoder.from_numpy(net, device=device, dtype=dtype)


def finetune_sgd_torch(model: TorchFlatNet, data, *, epochs: int = 5, batch_size: int = 100, lr: float = 0.1,
                       mode: str = "eager"):
    """Plain SGD fine-tuning over consecutive batches (as ``finetune_minibatch(optimizer="sgd", shuffle=False)``)."""
    p0 = model.flat_params()[0]
    x = data if torch.is_tensor(data) else _tensor(data, p0.device, p0.dtype)
    stepper = SGDStepper(model.flat_params(), model.loss, lr, batch_shape=(batch_size, x.shape[1]),
                         device=p0.device, dtype=p0.dtype, mode=mode)
    return _epochs(stepper, x, epochs, batch_size)
