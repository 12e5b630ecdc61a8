"""Recurrent layers: numeric gradients, and torch.nn.RNN/LSTM/GRU with copied weights."""

import numpy as np
import pytest
import torch

from course_lib import nn
from course_lib.gradcheck import check_layer, rel_error
from course_lib.twins.recurrent import load_from_torch, torch_recurrent

KINDS = [nn.RNN, nn.LSTM, nn.GRU]


def stack(kind, sizes, seed=0):
    return [kind(a, b, rng=seed + k, dtype="float64") for k, (a, b) in enumerate(sizes)]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("N,T,D,H", [(1, 1, 1, 1), (1, 5, 3, 4), (3, 4, 2, 5), (2, 7, 5, 3)])
def test_numeric_gradients(kind, N, T, D, H):
    x = np.random.default_rng(1).standard_normal((N, T, D))
    errors = check_layer(kind(D, H, rng=2, dtype="float64"), x)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("kind", KINDS)
def test_gradient_reaches_the_initial_state(kind):
    g = np.random.default_rng(3)
    layer = kind(3, 4, rng=0, dtype="float64")
    x = g.standard_normal((2, 5, 3))
    state = tuple(g.standard_normal((2, 4)) for _ in range(layer.state_size))
    dhs = g.standard_normal((2, 5, 4))
    dlast = tuple(g.standard_normal((2, 4)) for _ in range(layer.state_size))

    def objective():
        hs = layer.forward(x, state)
        return (hs * dhs).sum() + sum((s * d).sum() for s, d in zip(layer.state, dlast))

    objective()
    layer.backward(dhs, dlast)
    for k, s in enumerate(state):
        numeric = np.zeros_like(s)
        for i in np.ndindex(s.shape):
            old = s[i]
            s[i] = old + 1e-5
            plus = objective()
            s[i] = old - 1e-5
            minus = objective()
            s[i] = old
            numeric[i] = (plus - minus) / 2e-5
        objective()
        layer.backward(dhs, dlast)
        assert rel_error(layer.dstate0[k], numeric) < 1e-6


def run_ours(layers, x, state):
    h = x
    for k, layer in enumerate(layers):
        h = layer.forward(h, tuple(s[k] for s in state) if state else None)
    return h


def backward_ours(layers, dh, dlast):
    for k, layer in reversed(list(enumerate(layers))):
        dh = layer.backward(dh, tuple(d[k] for d in dlast))
    return dh


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("N,T,D,H,L", [(1, 6, 3, 4, 2), (4, 5, 2, 3, 3), (3, 1, 5, 5, 1)])
def test_matches_torch(kind, N, T, D, H, L):
    """Forward outputs, final states, and every gradient (inputs, initial states, weights)."""
    g = np.random.default_rng(4)
    layers = stack(kind, [(D, H)] + [(H, H)] * (L - 1))
    S = 2 if kind is nn.LSTM else 1
    x = g.standard_normal((N, T, D))
    state = [g.standard_normal((L, N, H)) for _ in range(S)]
    dhs = g.standard_normal((N, T, H))
    dlast = [g.standard_normal((L, N, H)) for _ in range(S)]

    hs = run_ours(layers, x, state)
    dx = backward_ours(layers, dhs, dlast)

    twin = torch_recurrent(layers)
    xt = torch.tensor(x, requires_grad=True)
    st = [torch.tensor(s, requires_grad=True) for s in state]
    out, last = twin(xt, tuple(st) if S == 2 else st[0])
    last = last if S == 2 else (last,)
    (out * torch.tensor(dhs)).sum().add(
        sum((s * torch.tensor(d)).sum() for s, d in zip(last, dlast))
    ).backward()

    assert rel_error(hs, out.detach()) < 1e-10
    for k, layer in enumerate(layers):
        for s in range(S):
            assert rel_error(layer.state[s], last[s][k].detach()) < 1e-10
            assert rel_error(layer.dstate0[s], st[s].grad[k]) < 1e-8
        H_ = layer.hidden_size
        assert rel_error(layer.dWx, getattr(twin, f"weight_ih_l{k}").grad.T) < 1e-8
        assert rel_error(layer.dWh, getattr(twin, f"weight_hh_l{k}").grad.T) < 1e-8
        db_torch = getattr(twin, f"bias_ih_l{k}").grad.clone()
        if kind is nn.GRU:
            bhh = getattr(twin, f"bias_hh_l{k}").grad
            db_torch[: 2 * H_] = bhh[: 2 * H_]  # r, z: both biases get the same gradient
            assert rel_error(layer.dbhn, bhh[2 * H_ :]) < 1e-8
        assert rel_error(layer.db, db_torch) < 1e-8
    assert rel_error(dx, xt.grad) < 1e-8


@pytest.mark.parametrize("kind", KINDS)
def test_weights_round_trip_through_torch(kind):
    layers = stack(kind, [(3, 4), (4, 4)])
    twin = torch_recurrent(layers)
    fresh = stack(kind, [(3, 4), (4, 4)], seed=10)
    load_from_torch(fresh, twin)
    x = np.random.default_rng(5).standard_normal((2, 3, 3))
    assert rel_error(run_ours(fresh, x, []), run_ours(layers, x, [])) < 1e-12


def test_stateful_carries_state_between_windows():
    """Two windows of a stateful layer give the same outputs as one long window."""
    x = np.random.default_rng(6).standard_normal((2, 8, 3))
    whole = nn.LSTM(3, 4, rng=0, dtype="float64").forward(x)
    layer = nn.LSTM(3, 4, rng=0, dtype="float64", stateful=True)
    halves = np.concatenate([layer.forward(x[:, :5]), layer.forward(x[:, 5:])], axis=1)
    assert rel_error(halves, whole) < 1e-12
    layer.reset_state()
    assert rel_error(layer.forward(x[:, :5]), whole[:, :5]) < 1e-12
    with pytest.raises(ValueError, match="reset_state"):
        layer.forward(x[:1, :2])


def test_wrong_input_shape_is_refused():
    with pytest.raises(ValueError, match=r"\(N, T, 3\)"):
        nn.GRU(3, 4).forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"\(N, T, 3\)"):
        nn.GRU(3, 4).forward(np.zeros((2, 5, 4)))


def test_wrong_state_is_refused():
    with pytest.raises(ValueError, match=r"\(h, c\)"):
        nn.LSTM(3, 4).forward(np.zeros((2, 5, 3), "float32"), (np.zeros((2, 4), "float32"),))
    with pytest.raises(ValueError, match=r"\(2, 4\)"):
        nn.RNN(3, 4).forward(np.zeros((2, 5, 3), "float32"), (np.zeros((3, 4), "float32"),))


def test_time_distributed_linear():
    lin = nn.Linear(4, 3, rng=0, dtype="float64")
    td = nn.TimeDistributed(lin)
    x = np.random.default_rng(7).standard_normal((2, 5, 4))
    y = td.forward(x)
    assert y.shape == (2, 5, 3)
    assert rel_error(y[1, 2], x[1, 2] @ lin.W + lin.b) < 1e-12
    errors = check_layer(td, x)
    assert max(errors.values()) < 1e-6, errors
    assert td.params[0] is lin.W
