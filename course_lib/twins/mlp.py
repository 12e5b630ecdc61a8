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

from course_lib.backend import numpy_dtype
from course_lib.models.mlp import MLP
from course_lib.twins.layers import twin_layers


class TorchMLP(torch.nn.Sequential):
    """Linear -> [BatchNorm1d] -> activation -> [Dropout], repeated; a last Linear gives the
    scores."""

    def __init__(
        self,
        sizes,
        activation="relu",
        weight_init=None,
        dropout=0.0,
        batchnorm=False,
        rng=None,
        dtype=torch.float32,
    ):
        mlp = MLP(
            sizes, activation, weight_init, dropout, batchnorm, rng=rng, dtype=numpy_dtype(dtype)
        )
        super().__init__(*twin_layers(mlp))

    @classmethod
    def from_numpy(cls, mlp, device=None):
        """A TorchMLP with ``mlp``'s structure, dtype and weights (BatchNorm statistics too)."""
        model = cls.__new__(cls)
        torch.nn.Sequential.__init__(model, *twin_layers(mlp))
        return model.to(device) if device is not None else model


def mlp_pair(sizes, seed=0, *, device="cpu", dtype="float32", xp=np, **kwargs):
    """``(MLP, TorchMLP)`` built from one seed with identical weights, e.g. for CPU vs GPU runs."""
    mlp = MLP(sizes, rng=np.random.default_rng(seed), xp=xp, dtype=dtype, **kwargs)
    return mlp, TorchMLP.from_numpy(mlp, device=device)
