"""The GRU beyond test_recurrent.py: torch's weights copied by the mapping recurrent.py's
docstring documents (written out here, not through course_lib.twins), and what the two gates do
at their limits.

    Wx = weight_ih^T,  Wh = weight_hh^T,  b = bias_ih + bias_hh (r and z blocks),
    b[2H:] = bias_ih[2H:],  bhn = bias_hh[2H:]
"""

import numpy as np
import pytest
import torch

from course_lib import nn
from course_lib.gradcheck import check_layer, rel_error


def from_torch(module: torch.nn.GRU) -> nn.GRU:
    """Our one-layer GRU with ``module``'s weights, by the documented mapping."""
    H = module.hidden_size
    layer = nn.GRU(module.input_size, H, dtype="float64")
    w = {name: p.detach().numpy().copy() for name, p in module.named_parameters()}
    layer.Wx, layer.Wh = w["weight_ih_l0"].T.copy(), w["weight_hh_l0"].T.copy()
    layer.b = w["bias_ih_l0"].copy()
    layer.b[: 2 * H] += w["bias_hh_l0"][: 2 * H]
    layer.bhn = w["bias_hh_l0"][2 * H :].copy()
    return layer


@pytest.mark.parametrize("N,T,D,H", [(1, 1, 1, 1), (1, 7, 3, 5), (3, 4, 5, 2), (2, 9, 1, 3)])
def test_documented_mapping_matches_torch(N, T, D, H):
    """Outputs, last state and every gradient equal torch.nn.GRU's (batch 1, odd sizes)."""
    torch.manual_seed(N * 100 + T)
    module = torch.nn.GRU(D, H, batch_first=True, dtype=torch.float64)
    layer = from_torch(module)
    g = np.random.default_rng(T)
    x, h0, dhs = (
        g.standard_normal((N, T, D)),
        g.standard_normal((N, H)),
        g.standard_normal((N, T, H)),
    )

    hs = layer.forward(x, (h0,))
    dx = layer.backward(dhs)
    xt, h0t = torch.tensor(x, requires_grad=True), torch.tensor(h0[None], requires_grad=True)
    out, last = module(xt, h0t)
    (out * torch.tensor(dhs)).sum().backward()

    assert rel_error(hs, out.detach()) < 1e-10
    assert rel_error(layer.state[0], last[0].detach()) < 1e-10
    assert rel_error(dx, xt.grad) < 1e-8
    assert rel_error(layer.dstate0[0], h0t.grad[0]) < 1e-8
    assert rel_error(layer.dWx, module.weight_ih_l0.grad.T) < 1e-8
    assert rel_error(layer.dWh, module.weight_hh_l0.grad.T) < 1e-8
    assert rel_error(layer.db, module.bias_ih_l0.grad) < 1e-8  # r, z: the same as bias_hh's
    assert rel_error(layer.dbhn, module.bias_hh_l0.grad[2 * H :]) < 1e-8


@pytest.mark.parametrize("N,T,D,H", [(1, 3, 3, 5), (2, 2, 5, 1)])
def test_numeric_gradients_float64(N, T, D, H):
    """Central differences for Wx, Wh, b and bhn, with a non-zero starting state."""
    layer = nn.GRU(D, H, rng=5, dtype="float64")
    x = np.random.default_rng(6).standard_normal((N, T, D))
    errors = check_layer(layer, x)
    assert set(errors) == {"dx", "dWx", "dWh", "db", "dbhn"}
    assert max(errors.values()) < 1e-6, errors


def gated(z_bias=0.0, r_bias=0.0, D=3, H=4):
    """A GRU whose update gate (z) and reset gate (r) are pushed to 0 or 1 by their biases."""
    layer = nn.GRU(D, H, rng=0, dtype="float64")
    layer.b[:H] += r_bias
    layer.b[H : 2 * H] += z_bias
    return layer


def test_open_update_gate_keeps_the_state_and_its_gradient():
    """z = 1: h_t = h_{t-1}, and the gradient reaches h_0 unchanged (the GRU's highway)."""
    layer = gated(z_bias=60.0)
    g = np.random.default_rng(1)
    x, h0, dhs = (
        g.standard_normal((2, 30, 3)),
        g.standard_normal((2, 4)),
        g.standard_normal((2, 30, 4)),
    )
    hs = layer.forward(x, (h0,))
    layer.backward(dhs)
    assert np.abs(hs - h0[:, None]).max() < 1e-12
    assert np.abs(layer.dstate0[0] - dhs.sum(axis=1)).max() < 1e-10


def test_closed_reset_and_update_gates_forget_the_past():
    """r = 0 and z = 0: h_t = tanh(x_t Wx_n + b_n) whatever h_{t-1} was."""
    layer = gated(z_bias=-60.0, r_bias=-60.0)
    g = np.random.default_rng(2)
    x = g.standard_normal((3, 5, 3))
    one = layer.forward(x, (g.standard_normal((3, 4)),))
    other = layer.forward(x, (10 * g.standard_normal((3, 4)),))
    H = layer.hidden_size
    assert np.abs(one - other).max() < 1e-12
    assert np.abs(one - np.tanh(x @ layer.Wx[:, 2 * H :] + layer.b[2 * H :])).max() < 1e-12


def test_stateful_gru_carries_the_state_between_windows():
    x = np.random.default_rng(7).standard_normal((1, 9, 3))
    whole = nn.GRU(3, 5, rng=0, dtype="float64").forward(x)
    layer = nn.GRU(3, 5, rng=0, dtype="float64", stateful=True)
    halves = np.concatenate([layer.forward(x[:, :4]), layer.forward(x[:, 4:])], axis=1)
    assert rel_error(halves, whole) < 1e-12


def test_float32_matches_float64():
    g = np.random.default_rng(8)
    x = g.standard_normal((2, 6, 3))
    wide = nn.GRU(3, 5, rng=1, dtype="float64").forward(x)
    narrow = nn.GRU(3, 5, rng=1, dtype="float32").forward(x.astype("float32"))
    assert narrow.dtype == np.float32
    assert np.abs(narrow - wide).max() < 1e-5
