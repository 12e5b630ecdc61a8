"""Recurrent layers: the plain RNN, the LSTM and the GRU, each run over a whole sequence.

Inputs are batch first, ``xs`` (N, T, D), and the output is every hidden state, ``hs`` (N, T, H).
One step (a *cell*) turns the input projection a_t = x_t Wx + b and the previous state into the
next state; the layer runs the cell over t = 1..T and backpropagates through time (BPTT)::

    RNN   h_t = tanh(a_t + h_{t-1} Wh)
    LSTM  [i, f, g, o] = [sigma, sigma, tanh, sigma](a_t + h_{t-1} Wh)
          c_t = f * c_{t-1} + i * g,        h_t = o * tanh(c_t)
    GRU   [r, z] = sigma(a_t[:2H] + h_{t-1} Wh[:, :2H])
          n = tanh(a_t[2H:] + r * (h_{t-1} Wh[:, 2H:] + b_hn)),   h_t = (1 - z) * n + z * h_{t-1}

Gate order and the uniform(-1/sqrt(H), 1/sqrt(H)) initialisation are torch's, so weights copy
across: ``Wx = weight_ih.T``, ``Wh = weight_hh.T``, ``b = bias_ih + bias_hh`` (the GRU keeps
``b_hn`` apart, because r multiplies it).  Speed: the input projections of all T steps are one
matrix product, and so are dWx, dWh and dxs in backward; only h_{t-1} Wh stays in the loop.

State: ``forward(xs, state)`` starts from ``state`` (a tuple, (h,) or (h, c), each (N, H)), or
zeros.  After it, ``self.state`` holds the last state.  With ``stateful=True`` the next call
starts where this one ended: truncated BPTT over a batch of long streams, where the state flows
from window to window but the gradient stops at the window's edge (``reset_state()`` between
epochs).  ``backward(dhs, dstate)`` takes the gradient of the loss with respect to every h_t and,
optionally, to the last state (an encoder's final state feeds a decoder), and leaves the gradient
with respect to the initial state in ``self.dstate0``.
"""

from __future__ import annotations

import numpy as np

from course_lib.backend import get_array_module
from course_lib.nn.activations import sigmoid
from course_lib.nn.layer import Layer


class Recurrent(Layer):
    """What the three recurrent layers share: parameters, state, and the loop over time."""

    param_names = ("Wx", "Wh", "b")
    gates = 1  # blocks of H columns in Wx and Wh
    state_size = 1  # (h,) or (h, c)

    def __init__(
        self, input_size, hidden_size, *, stateful=False, rng=None, dtype="float32", xp=np
    ):
        rng = np.random.default_rng(rng)
        k = 1.0 / np.sqrt(hidden_size)
        G = self.gates * hidden_size

        def uniform(*shape):
            return xp.asarray(rng.uniform(-k, k, shape).astype(dtype))

        self.Wx, self.Wh, self.b = uniform(input_size, G), uniform(hidden_size, G), uniform(G)
        self._extra_params(uniform, hidden_size)
        for name in self.param_names:
            setattr(self, "d" + name, xp.zeros_like(getattr(self, name)))
        self.hidden_size, self.stateful = hidden_size, stateful
        self.state = None

    def _extra_params(self, uniform, hidden_size):
        pass

    def reset_state(self):
        """Forget the carried state: the next forward starts from zeros."""
        self.state = None

    def _start_state(self, N, xs, state):
        xp = get_array_module(xs)
        if state is None and self.stateful and self.state is not None:
            state = self.state
            if state[0].shape[0] != N:
                raise ValueError(
                    f"{type(self).__name__}: the carried state is for a batch of "
                    f"{state[0].shape[0]}, this batch has {N}; call reset_state() before a "
                    "batch of another size"
                )
        if state is None:
            return tuple(
                xp.zeros((N, self.hidden_size), dtype=xs.dtype) for _ in range(self.state_size)
            )
        names = "(h, c)" if self.state_size == 2 else "(h,)"
        if len(state) != self.state_size or any(
            tuple(s.shape) != (N, self.hidden_size) for s in state
        ):
            raise ValueError(
                f"{type(self).__name__}: the state must be a tuple {names} of arrays of shape "
                f"({N}, {self.hidden_size}), got {[tuple(s.shape) for s in state]}"
            )
        return tuple(state)

    def forward(self, xs, state=None):
        if xs.ndim != 3 or xs.shape[2] != self.Wx.shape[0]:
            raise ValueError(
                f"{type(self).__name__}({self.Wx.shape[0]}, {self.hidden_size}) takes inputs of "
                f"shape (N, T, {self.Wx.shape[0]}), got {tuple(xs.shape)}"
            )
        xp = get_array_module(xs)
        N, T, D = xs.shape
        state = self._start_state(N, xs, state)
        A = (xs.reshape(N * T, D) @ self.Wx + self.b).reshape(N, T, -1)
        hs = xp.empty((N, T, self.hidden_size), dtype=xs.dtype)
        self.xs, self.h0, self.caches = xs, state[0], []
        for t in range(T):
            state, cache = self._cell(A[:, t], state)
            self.caches.append(cache)
            hs[:, t] = state[0]
        self.hs, self.state = hs, state
        return hs

    def backward(self, dhs, dstate=None):
        xp = get_array_module(dhs)
        N, T, H = dhs.shape
        D = self.xs.shape[2]
        dA = xp.empty((N, T, self.Wx.shape[1]), dtype=dhs.dtype)
        dHH = dA if self._dhh_is_da else xp.empty_like(dA)
        carry = tuple(xp.zeros((N, H), dtype=dhs.dtype) for _ in range(self.state_size))
        if dstate is not None:
            carry = tuple(c + d for c, d in zip(carry, dstate))
        for t in reversed(range(T)):
            carry = (carry[0] + dhs[:, t],) + carry[1:]
            da, dhh, carry = self._cell_backward(carry, self.caches[t])
            dA[:, t] = da
            if dHH is not dA:
                dHH[:, t] = dhh
        h_prev = xp.concatenate([self.h0[:, None], self.hs[:, :-1]], axis=1)
        G = self.Wx.shape[1]
        self.dWx[...] = self.xs.reshape(N * T, D).T @ dA.reshape(N * T, G)
        self.dWh[...] = h_prev.reshape(N * T, H).T @ dHH.reshape(N * T, G)
        self.db[...] = dA.sum(axis=(0, 1))
        self.dstate0 = carry
        return dA @ self.Wx.T

    _dhh_is_da = True  # the gradient reaching h_{t-1} Wh equals the one reaching a_t


class RNN(Recurrent):
    """Elman's recurrent layer: h_t = tanh(x_t Wx + h_{t-1} Wh + b)  (torch.nn.RNN, tanh)."""

    def _cell(self, a, state):
        h = np.tanh(a + state[0] @ self.Wh)
        return (h,), h

    def _cell_backward(self, carry, h):
        da = carry[0] * (1 - h * h)
        return da, da, (da @ self.Wh.T,)


class LSTM(Recurrent):
    """Long short-term memory (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al.
    2000): a cell c_t that is only scaled and added to, so gradients flow back through time."""

    gates, state_size = 4, 2

    def _cell(self, a, state):
        h_prev, c_prev = state
        H = self.hidden_size
        s = a + h_prev @ self.Wh
        i, f, o = sigmoid(s[:, :H]), sigmoid(s[:, H : 2 * H]), sigmoid(s[:, 3 * H :])
        g = np.tanh(s[:, 2 * H : 3 * H])
        c = f * c_prev + i * g
        tc = np.tanh(c)
        return (o * tc, c), (c_prev, i, f, g, o, tc)

    def _cell_backward(self, carry, cache):
        dh, dc = carry
        c_prev, i, f, g, o, tc = cache
        dc = dc + dh * o * (1 - tc * tc)
        xp = get_array_module(dh)
        da = xp.concatenate(
            [
                dc * g * i * (1 - i),
                dc * c_prev * f * (1 - f),
                dc * i * (1 - g * g),
                dh * tc * o * (1 - o),
            ],
            axis=1,
        )
        return da, da, (da @ self.Wh.T, dc * f)


class GRU(Recurrent):
    """Gated recurrent unit (Cho et al. 2014), torch's formulation: the reset gate r scales
    h_{t-1} Wh_n + b_hn, so b_hn is a parameter of its own (``bhn``)."""

    param_names = ("Wx", "Wh", "b", "bhn")
    gates = 3
    _dhh_is_da = False

    def _extra_params(self, uniform, hidden_size):
        self.bhn = uniform(hidden_size)

    def _cell(self, a, state):
        h_prev = state[0]
        H = self.hidden_size
        hh = h_prev @ self.Wh
        r = sigmoid(a[:, :H] + hh[:, :H])
        z = sigmoid(a[:, H : 2 * H] + hh[:, H : 2 * H])
        hn = hh[:, 2 * H :] + self.bhn
        n = np.tanh(a[:, 2 * H :] + r * hn)
        h = (1 - z) * n + z * h_prev
        return (h,), (h_prev, r, z, n, hn)

    def _cell_backward(self, carry, cache):
        dh = carry[0]
        h_prev, r, z, n, hn = cache
        xp = get_array_module(dh)
        dsn = dh * (1 - z) * (1 - n * n)
        dsr = dsn * hn * r * (1 - r)
        dsz = dh * (h_prev - n) * z * (1 - z)
        dhn = dsn * r
        self.dbhn += dhn.sum(axis=0)
        dhh = xp.concatenate([dsr, dsz, dhn], axis=1)
        return xp.concatenate([dsr, dsz, dsn], axis=1), dhh, (dh * z + dhh @ self.Wh.T,)

    def backward(self, dhs, dstate=None):
        self.dbhn[...] = 0
        return super().backward(dhs, dstate)


class TimeDistributed(Layer):
    """Apply a layer made for (M, F) inputs to every time step of (N, T, F): one call on the
    (N*T, F) reshape, so ``TimeDistributed(Linear(H, V))`` maps hidden states to scores."""

    def __init__(self, layer):
        self.layer = layer

    @property
    def params(self):
        return self.layer.params

    @property
    def grads(self):
        return self.layer.grads

    def slots(self):
        return self.layer.slots()

    def named_params(self):
        return self.layer.named_params()

    def train(self, mode=True):
        self.training = mode
        self.layer.train(mode)
        return self

    def forward(self, xs):
        self.shape = xs.shape
        y = self.layer.forward(xs.reshape(-1, xs.shape[-1]))
        return y.reshape(*xs.shape[:-1], y.shape[-1])

    def backward(self, dys):
        dx = self.layer.backward(dys.reshape(-1, dys.shape[-1]))
        return None if dx is None else dx.reshape(self.shape)
