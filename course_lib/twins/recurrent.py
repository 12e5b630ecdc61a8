"""torch twins of a stack of recurrent layers: torch.nn.RNN / LSTM / GRU with the same weights.

    layers = [nn.LSTM(10, 20), nn.LSTM(20, 20)]       # our stack, layer l feeding layer l+1
    twin = torch_recurrent(layers)                    # torch.nn.LSTM(10, 20, num_layers=2)
    load_from_torch(layers, twin)                     # and back

torch keeps per layer ``weight_ih_l{k}`` (G*H, D), ``weight_hh_l{k}`` (G*H, H) and two biases;
ours ``Wx`` = weight_ih^T, ``Wh`` = weight_hh^T, ``b`` = bias_ih + bias_hh (for the GRU, bias_hh's
last block is ``bhn``, the part the reset gate multiplies, and the rest goes into ``b``).  On a
GPU the torch module runs cuDNN's fused kernels.
"""

from __future__ import annotations

import numpy as np
import torch

from course_lib import nn
from course_lib.backend import asnumpy, get_array_module

KINDS = {nn.RNN: torch.nn.RNN, nn.LSTM: torch.nn.LSTM, nn.GRU: torch.nn.GRU}


def _kind(layers):
    kinds = {type(layer) for layer in layers}
    if len(kinds) != 1 or next(iter(kinds)) not in KINDS:
        raise TypeError(
            f"a stack of one kind of recurrent layer is needed (RNN, LSTM or GRU), got "
            f"{sorted(k.__name__ for k in kinds)}"
        )
    return next(iter(kinds))


def torch_recurrent(layers, *, dropout=0.0, device=None) -> torch.nn.Module:
    """A batch-first torch.nn.RNN/LSTM/GRU of ``len(layers)`` layers with our layers' weights."""
    kind = _kind(layers)
    first = layers[0]
    dtype = torch.float64 if first.Wx.dtype == np.float64 else torch.float32
    module = KINDS[kind](
        first.Wx.shape[0],
        first.hidden_size,
        num_layers=len(layers),
        batch_first=True,
        dropout=dropout,
        dtype=dtype,
        device=device,
    )
    with torch.no_grad():
        for k, layer in enumerate(layers):
            H = layer.hidden_size
            w = {
                name: torch.as_tensor(np.ascontiguousarray(asnumpy(getattr(layer, name))))
                for name in layer.param_names
            }
            getattr(module, f"weight_ih_l{k}").copy_(w["Wx"].T)
            getattr(module, f"weight_hh_l{k}").copy_(w["Wh"].T)
            getattr(module, f"bias_ih_l{k}").copy_(w["b"])
            bias_hh = torch.zeros_like(w["b"])
            if kind is nn.GRU:
                bias_hh[2 * H :] = w["bhn"]
            getattr(module, f"bias_hh_l{k}").copy_(bias_hh)
    return module


def load_from_torch(layers, module: torch.nn.Module) -> None:
    """Copy a torch.nn.RNN/LSTM/GRU's weights into our stack (shapes must match)."""
    kind = _kind(layers)
    if not isinstance(module, KINDS[kind]) or module.num_layers != len(layers):
        raise TypeError(
            f"expected a torch.nn.{KINDS[kind].__name__} of {len(layers)} layers, got {module}"
        )
    for k, layer in enumerate(layers):
        H = layer.hidden_size
        get = {
            n: getattr(module, f"{n}_l{k}").detach().cpu().numpy().astype(layer.Wx.dtype)
            for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        }
        if get["weight_ih"].T.shape != layer.Wx.shape or get["weight_hh"].T.shape != layer.Wh.shape:
            raise ValueError(
                f"layer {k}: torch weights {get['weight_ih'].shape}/{get['weight_hh'].shape} do "
                f"not fit Wx {layer.Wx.shape}, Wh {layer.Wh.shape} (transposed)"
            )
        xp = get_array_module(layer.Wx)
        b = get["bias_ih"] + get["bias_hh"]
        if kind is nn.GRU:
            b[2 * H :] = get["bias_ih"][2 * H :]
            layer.bhn[...] = xp.asarray(get["bias_hh"][2 * H :])
        layer.Wx[...] = xp.asarray(get["weight_ih"].T)
        layer.Wh[...] = xp.asarray(get["weight_hh"].T)
        layer.b[...] = xp.asarray(b)
