"""Torch twins of the deep and stacked autoencoders, with SGD steps that can replay a CUDA graph.

The twins are built from the NumPy models' weights (:func:`course_lib.twins.layers.to_torch`), so
both start identical; gradients come from autograd instead of the hand-written backward passes.
The training loops use plain SGD written as one in-place update, ``theta -= lr * grad``, in two
flavours:

* ``mode="eager"``: each step launches its kernels one by one (on a GPU, each launch costs a few
  microseconds of CPU time; small batches are then *launch-bound*);
* ``mode="graph"`` (CUDA only): the whole step (forward, backward, update, loss accumulation) is
  captured once into a CUDA graph (``torch.cuda.CUDAGraph``) and replayed for every batch, so a step
  costs one launch.  Parameters are updated in place, so the captured addresses stay valid.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from course_lib.backend import asnumpy, numpy_dtype, synchronize
from course_lib.history import History, progress_bar
from course_lib.models.autoencoder import DeepAutoencoder
from course_lib.models.stacked_ae import TiedAutoencoder, layer_seeds
from course_lib.twins.layers import twin_layers


class TorchAutoencoder(torch.nn.Sequential):
    """The twin of a ``DeepAutoencoder`` or ``TiedAutoencoder``: logits out, as the NumPy model."""

    @classmethod
    def from_numpy(cls, net, *, device=None, dtype=None):
        model = cls.__new__(cls)
        torch.nn.Sequential.__init__(model, *twin_layers(net, dtype))
        model.n_encoder = len(net.encoder) if hasattr(net, "encoder") else len(net.layers) - 1
        model.linear = getattr(net, "linear", None)  # a TiedAutoencoder's: is its code linear?
        return model.to(device) if device is not None else model

    def encode(self, x):
        for module in list(self)[: self.n_encoder]:
            x = module(x)
        return x

    def loss(self, x):
        """Cross-entropy of the logistic outputs against ``x``: summed over pixels, mean over
        cases."""
        return F.binary_cross_entropy_with_logits(self(x), x, reduction="sum") / x.shape[0]

    @torch.no_grad()
    def squared_error(self, x, batch_size: int = 10000) -> float:
        """Squared reconstruction error summed over pixels, averaged over images."""
        total = sum(
            float(((xb - torch.sigmoid(self(xb))) ** 2).sum()) for xb in torch.split(x, batch_size)
        )
        return total / x.shape[0]


class SGDStepper:
    """One SGD step ``p -= lr * dloss/dp`` for ``loss_fn(x)``, eager or replayed from a CUDA graph.

    The step also adds the batch loss to ``self.total`` (on the device), so reading the epoch's
    loss needs no synchronisation inside the loop.
    """

    def __init__(
        self, params, loss_fn, lr: float, *, batch_shape, device, dtype, mode: str = "eager"
    ):
        if mode not in ("eager", "graph"):
            raise ValueError(f"mode {mode!r}: use 'eager' or 'graph'")
        if mode == "graph" and torch.device(device).type != "cuda":
            raise RuntimeError("mode='graph' needs a CUDA device")
        self.params, self.loss_fn, self.lr, self.mode = list(params), loss_fn, lr, mode
        self.total = torch.zeros((), device=device, dtype=dtype)
        if mode == "graph":
            self._capture(batch_shape, device, dtype)

    def _capture(self, batch_shape, device, dtype):
        """Warm up on a side stream (as the capture API asks), undo the warm-up, capture one
        step."""
        self.static_x = torch.zeros(batch_shape, device=device, dtype=dtype)
        saved = [p.detach().clone() for p in self.params]
        side = torch.cuda.Stream(device)
        side.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(side):
            for _ in range(3):
                self._step(self.static_x)
        torch.cuda.current_stream(device).wait_stream(side)
        with torch.no_grad():  # the timed run starts from the same weights
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
        value = float(self.total)
        self.total.zero_()
        return value


def sgd_epochs(stepper, x, epochs: int, batch_size: int, progress=False, desc=None) -> History:
    """Consecutive batches (a short last one dropped) for ``epochs`` passes; one row per epoch.
    ``progress``: a bar, as in :func:`course_lib.train.fit`."""
    steps = x.shape[0] // batch_size  # per epoch
    history, start = History(), time.perf_counter()
    with progress_bar(epochs * steps, desc, progress) as bar:
        for epoch in range(1, epochs + 1):
            t0 = time.perf_counter()
            for i in range(0, steps * batch_size, batch_size):
                stepper(x[i : i + batch_size])
                bar.update()
            loss = stepper.take_total() / max(steps, 1)
            row = {"epoch": epoch, "loss": loss, "seconds": time.perf_counter() - t0}
            history.epochs.append(row)
    history.seconds = time.perf_counter() - start
    return history


def _sgd(model, x, lr, batch_size, mode):
    p0 = next(model.parameters())
    return SGDStepper(
        list(model.parameters()),
        model.loss,
        lr,
        batch_shape=(batch_size, x.shape[1]),
        device=p0.device,
        dtype=p0.dtype,
        mode=mode,
    )


def pretrain_stacked_ae_torch(
    data,
    sizes,
    *,
    epochs: int = 15,
    batch_size: int = 100,
    lr: float = 0.1,
    top_lr: float = 0.01,
    linear_top: bool = True,
    seed: int = 0,
    device="cpu",
    dtype=torch.float32,
    mode: str = "eager",
    timings=None,
    progress=False,
):
    """Torch twin of :func:`course_lib.models.stacked_ae.pretrain_stacked_ae` (same initial
    weights)."""
    x = (
        data
        if torch.is_tensor(data)
        else torch.as_tensor(asnumpy(data), dtype=dtype, device=device)
    )
    layers = []
    for i, (n_in, n_hid) in enumerate(zip(sizes[:-1], sizes[1:])):
        t0 = time.perf_counter()
        top = i == len(sizes) - 2
        host = TiedAutoencoder(
            n_in,
            n_hid,
            linear=top and linear_top,
            seed=layer_seeds(seed, len(sizes) - 1)[i],
            dtype=numpy_dtype(dtype),
        )
        layer = TorchAutoencoder.from_numpy(host, device=device, dtype=dtype)
        stepper = _sgd(layer, x, top_lr if top else lr, batch_size, mode)
        desc = f"layer {i + 1}/{len(sizes) - 1}"
        sgd_epochs(stepper, x, epochs, batch_size, progress=progress, desc=desc)
        layers.append(layer)
        if not top:
            with torch.no_grad():
                x = layer.encode(x)
        if timings is not None:
            synchronize(torch.device(device))
            timings.append(time.perf_counter() - t0)
    return layers


def unroll_torch(layers, *, device="cpu", dtype=torch.float32) -> TorchAutoencoder:
    """Unroll torch tied layers into a deep :class:`TorchAutoencoder` (via the NumPy class, on the
    host)."""

    def as_tuple(layer):  # (W, b_hid, b_vis) as NumPy arrays, W (n_in, n_hid)
        return tuple(asnumpy(t) for t in (layer[0].weight.t(), layer[0].bias, layer[-1].bias))

    net = DeepAutoencoder.from_layers(
        [as_tuple(layer) for layer in layers], linear_code=layers[-1].linear
    )
    return TorchAutoencoder.from_numpy(net, device=device, dtype=dtype)


def finetune_sgd_torch(
    model: TorchAutoencoder,
    data,
    *,
    epochs: int = 5,
    batch_size: int = 100,
    lr: float = 0.1,
    mode: str = "eager",
    progress=False,
) -> History:
    """Plain SGD fine-tuning over consecutive batches (as ``fit(..., shuffle=False,
    last_batch="drop")``)."""
    p0 = next(model.parameters())
    x = (
        data
        if torch.is_tensor(data)
        else torch.as_tensor(asnumpy(data), dtype=p0.dtype, device=p0.device)
    )
    stepper = _sgd(model, x, lr, batch_size, mode)
    return sgd_epochs(stepper, x, epochs, batch_size, progress=progress, desc="fine-tune")
