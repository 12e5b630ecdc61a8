"""Turn a course_lib model into a torch.nn.Sequential twin with the same weights.

Layer ``i`` of the twin is layer ``i`` of the NumPy model.  ``nn.Linear``'s ``W`` (n_in, n_out)
becomes ``torch.nn.Linear.weight`` (n_out, n_in), i.e. ``W^T``; a ``TiedLinear`` becomes a
:class:`TiedLinear` that uses the twin of its source layer's weight, so the tie survives.  An
``nn.Residual`` becomes a :class:`Residual` holding the twins of its layers and its shortcut, and
an ``nn.BatchNorm`` becomes ``BatchNorm2d`` where it follows a convolution (images), else
``BatchNorm1d``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from course_lib import nn
from course_lib.backend import asnumpy, torch_dtype

ACTIVATIONS = {nn.Sigmoid: torch.nn.Sigmoid, nn.Tanh: torch.nn.Tanh, nn.ReLU: torch.nn.ReLU}
BATCHNORM_2D = torch.nn.BatchNorm2d


class TiedLinear(torch.nn.Module):
    """y = x W_s^T + b with W_s the (n_in, n_out) weight of ``source``'s NumPy twin: F.linear(x,
    weight^T)."""

    def __init__(self, source: torch.nn.Linear, n_out: int, *, dtype=torch.float32):
        super().__init__()
        self.source = [source]  # a list, so the source is not registered (and counted) twice
        self.bias = torch.nn.Parameter(torch.zeros(n_out, dtype=dtype))

    def forward(self, x):
        return F.linear(x, self.source[0].weight.t(), self.bias)


class Residual(torch.nn.Module):
    """y = shortcut(x) + body(x): the twin of ``nn.Residual`` (identity shortcut when None)."""

    def __init__(self, body: list, shortcut: torch.nn.Module | None = None):
        super().__init__()
        self.body = torch.nn.Sequential(*body)
        self.shortcut = shortcut

    def forward(self, x):
        return self.body(x) + (x if self.shortcut is None else self.shortcut(x))


def _tensor(a, like: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(asnumpy(a)), dtype=like.dtype, device=like.device)


def twin_layer(layer, made: dict, dtype, images: bool = False):
    """The torch module for one course_lib layer (``made`` maps NumPy Linears to their twins;
    ``images``: the layer's input is (N, C, H, W), which decides BatchNorm1d or 2d)."""
    if isinstance(layer, nn.Residual):
        shortcut = layer.shortcut
        if shortcut is not None:
            shortcut = torch.nn.Sequential(*_twin_list(_chain(shortcut), made, dtype, images)[0])
        return Residual(_twin_list(layer.layers, made, dtype, images)[0], shortcut)
    if isinstance(layer, nn.Linear):
        n_in, n_out = layer.W.shape
        made[id(layer)] = torch.nn.Linear(n_in, n_out, dtype=dtype)
        return made[id(layer)]
    if isinstance(layer, nn.TiedLinear):
        return TiedLinear(made[id(layer.source)], layer.W.shape[0], dtype=dtype)
    if isinstance(layer, nn.Conv2d):
        out_c, in_c, kh, kw = layer.W.shape
        conv = torch.nn.Conv2d(in_c, out_c, (kh, kw), layer.stride, layer.padding, dtype=dtype)
        made[id(layer)] = conv
        return conv
    if isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):
        pool = torch.nn.MaxPool2d if isinstance(layer, nn.MaxPool2d) else torch.nn.AvgPool2d
        return pool(layer.kernel_size, layer.stride, layer.padding)
    if isinstance(layer, nn.LocalResponseNorm):  # torch divides alpha by the window size
        return torch.nn.LocalResponseNorm(layer.size, layer.alpha * layer.size, layer.beta, layer.k)
    if isinstance(layer, nn.Flatten):
        return torch.nn.Flatten()
    if isinstance(layer, nn.BatchNorm):
        return (BATCHNORM_2D if images else torch.nn.BatchNorm1d)(
            layer.gamma.shape[0],
            eps=layer.eps,
            momentum=round(1.0 - layer.momentum, 12),
            dtype=dtype,
        )
    if isinstance(layer, nn.Dropout):
        return torch.nn.Dropout(layer.p)
    if type(layer) in ACTIVATIONS:
        return ACTIVATIONS[type(layer)]()
    raise TypeError(f"no torch twin for a {type(layer).__name__} layer")


def _chain(layer) -> list:
    """A Sequential's layers, or a single layer as a chain of one."""
    return list(layer.layers) if isinstance(layer, nn.Sequential) else [layer]


def _twin_list(layers, made: dict, dtype, images: bool):
    """Twins of a chain of layers, and whether the chain's output is still an image batch."""
    modules = []
    for layer in layers:
        modules.append(twin_layer(layer, made, dtype, images))
        if isinstance(layer, nn.Conv2d):
            images = True
        elif isinstance(layer, (nn.Flatten, nn.Linear)):
            images = False
    return modules, images


def twin_layers(model, dtype=None) -> list:
    """Torch modules for ``model.layers``, holding copies of the model's weights."""
    dtype = dtype or torch_dtype(asnumpy(model.params[0]).dtype)
    modules = _twin_list(model.layers, {}, dtype, images=False)[0]
    copy_weights(model, modules)
    return modules


@torch.no_grad()
def copy_weights(model, modules) -> None:
    """Copy every parameter (and BatchNorm running statistic) of ``model`` into its twin
    ``modules``."""
    for ours, theirs in zip(model.layers, modules):
        if isinstance(ours, nn.Residual):
            copy_weights(ours, theirs.body)
            if ours.shortcut is not None:
                copy_weights(nn.Sequential(*_chain(ours.shortcut)), theirs.shortcut)
        elif isinstance(ours, nn.Linear):
            theirs.weight.copy_(_tensor(asnumpy(ours.W).T, theirs.weight))
            theirs.bias.copy_(_tensor(ours.b, theirs.bias))
        elif isinstance(ours, nn.Conv2d):  # the same (out, in, kh, kw) layout
            theirs.weight.copy_(_tensor(ours.W, theirs.weight))
            theirs.bias.copy_(_tensor(ours.b, theirs.bias))
        elif isinstance(ours, nn.TiedLinear):
            theirs.bias.copy_(_tensor(ours.b, theirs.bias))
        elif isinstance(ours, nn.BatchNorm):
            for name, array in [
                ("weight", ours.gamma),
                ("bias", ours.beta),
                ("running_mean", ours.running_mean),
                ("running_var", ours.running_var),
            ]:
                getattr(theirs, name).copy_(_tensor(array, getattr(theirs, name)))


def to_torch(model, *, device=None, dtype=None) -> torch.nn.Sequential:
    """A torch.nn.Sequential twin of ``model`` (a course_lib Sequential), on ``device``."""
    twin = torch.nn.Sequential(*twin_layers(model, dtype))
    return twin.to(device) if device is not None else twin


def numpy_order(twin) -> list[tuple[torch.Tensor, bool]]:
    """The twin's distinct parameters in the NumPy model's flat order, each with a flag "stored
    transposed" (torch keeps a Linear weight as (n_out, n_in), NumPy as (n_in, n_out))."""
    out, seen = [], set()
    for module in twin:
        if isinstance(module, Residual):  # its layers, then its shortcut, as nn.Residual.params
            parts = [module.body] + ([] if module.shortcut is None else [module.shortcut])
            out += [pt for part in parts for pt in numpy_order(part) if id(pt[0]) not in seen]
            seen.update(id(p) for p, _ in out)
            continue
        for p, transposed in [
            (getattr(module, "weight", None), isinstance(module, torch.nn.Linear)),
            (getattr(module, "bias", None), False),
        ]:
            if p is not None and id(p) not in seen:
                out.append((p, transposed))
                seen.add(id(p))
    return out


def flat_grad(twin, loss) -> np.ndarray:
    """d loss / d theta by autograd, laid out as the NumPy model's ``flat.grad``."""
    order = numpy_order(twin)
    grads = torch.autograd.grad(loss, [p for p, _ in order])
    return np.concatenate([asnumpy(g.t() if t else g).ravel() for g, (_, t) in zip(grads, order)])
