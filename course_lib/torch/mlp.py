"""The MLP in torch.nn, layer for layer the same as ``course_lib.models.mlp.MLP``.

    tmlp = TorchMLP.from_numpy(mlp)                # an exact copy of a NumPy model's weights
    mlp, tmlp = mlp_pair([784, 800, 10], seed=0)   # both from one seed, identical weights
    TorchMLP([784, 800, 10], rng=0)                # equals MLP([784, 800, 10], rng=0) exactly

Layer i of the torch model is layer i of the NumPy one ("0.weight" is "0.W" transposed, since
torch stores W as (n_out, n_in)).  Weights are drawn by ``course_lib.init`` on the host, not by
torch's own initialisers.  Dropout masks come from torch's generator, so they differ between
the two models: compare them in eval mode or with ``dropout=0``.
"""
from __future__ import annotations

import numpy as np
import torch

from course_lib.backend import asnumpy
from course_lib.models.mlp import MLP

ACTIVATIONS = {"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh}


def _torch_dtype(numpy_dtype):
    return torch.from_numpy(np.zeros(0, dtype=numpy_dtype)).dtype


class TorchMLP(torch.nn.Sequential):
    """Linear -> [BatchNorm1d] -> activation -> [Dropout], repeated; a last Linear gives the scores."""

    def __init__(self, sizes, activation="relu", weight_init=None, dropout=0.0, batchnorm=False,
                 rng=None, dtype=torch.float32):
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(torch.nn.Linear(n_in, n_out, dtype=dtype))
            if i == len(sizes) - 2:
                break
            if batchnorm:
                layers.append(torch.nn.BatchNorm1d(n_out, dtype=dtype))
            layers.append(ACTIVATIONS[activation]())
            if dropout:
                layers.append(torch.nn.Dropout(dropout))
        super().__init__(*layers)
        # Draw the weights exactly as the NumPy MLP does (same rng, same order), then copy them.
        self.load_numpy(MLP(sizes, activation, weight_init, dropout, batchnorm, rng=rng, dtype="float64"))

    @classmethod
    def from_numpy(cls, mlp, device=None):
        """A TorchMLP with ``mlp``'s structure, dtype and weights (BatchNorm statistics too)."""
        dtype = _torch_dtype(asnumpy(mlp.layers[0].W).dtype)
        model = cls(mlp.sizes, mlp.activation, dropout=mlp.dropout, batchnorm=mlp.batchnorm, dtype=dtype)
        model.load_numpy(mlp)
        return model.to(device) if device is not None else model

    @torch.no_grad()
    def load_numpy(self, mlp):
        """Copy every parameter (and BatchNorm running statistic) of a NumPy MLP into this model."""
        for ours, theirs in zip(mlp.layers, self):
            if isinstance(theirs, torch.nn.Linear):
                theirs.weight.copy_(torch.from_numpy(asnumpy(ours.W).T.copy()))
                theirs.bias.copy_(torch.from_numpy(asnumpy(ours.b)))
            elif isinstance(theirs, torch.nn.BatchNorm1d):
                theirs.eps, theirs.momentum = ours.eps, round(1.0 - ours.momentum, 12)
                for name, array in [("weight", ours.gamma), ("bias", ours.beta),
                                    ("running_mean", ours.running_mean), ("running_var", ours.running_var)]:
                    getattr(theirs, name).copy_(torch.from_numpy(asnumpy(array)))
        return self


def mlp_pair(sizes, seed=0, *, device="cpu", dtype="float32", xp=np, **kwargs):
    """``(MLP, TorchMLP)`` built from one seed with identical weights, e.g. for CPU vs GPU runs."""
    mlp = MLP(sizes, rng=np.random.default_rng(seed), xp=xp, dtype=dtype, **kwargs)
    return mlp, TorchMLP.from_numpy(mlp, device=device)
