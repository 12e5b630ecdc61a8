"""Gradient checks: central differences in float64, and the same layer through torch autograd.

The measure is cs231n's relative error, element-wise, worst case over the array:

    rel_error(a, b) = max_i |a_i - b_i| / max(|a_i| + |b_i|, tiny)

In float64 a correct backward gives about 1e-8 or less against central differences; 1e-2
means a bug.  Work in float64: in float32 the differences drown in rounding.

    errors = check_layer(nn.Linear(5, 3, dtype="float64"), x)           # numeric
    errors = compare_with_torch(layer, lambda x, W, b: x @ W + b, x)    # torch autograd
    assert max(errors.values()) < 1e-6
"""

from __future__ import annotations

import numpy as np

from course_lib.backend import asnumpy


def rel_error(a, b, tiny=1e-8) -> float:
    """max |a - b| / max(|a| + |b|, tiny), element-wise (0.0 for two empty arrays)."""
    a, b = np.asarray(asnumpy(a), dtype=np.float64), np.asarray(asnumpy(b), dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), tiny)))


def numeric_gradient(f, x, h=1e-5):
    """d f / d x for a scalar f(), by central differences; x is perturbed in place, then
    restored."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = float(f())
        x[i] = old - h
        minus = float(f())
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def numeric_gradient_array(f, x, dout, h=1e-5):
    """sum(dout * d f / d x) for an array-valued f(): the gradient backward() should return."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = f().copy()
        x[i] = old - h
        minus = f().copy()  # a forward may return a view of x (Flatten), changed next
        x[i] = old
        grad[i] = np.sum((plus - minus) * dout) / (2 * h)
    return grad


def _names(layer):
    if hasattr(layer, "named_params"):  # a Sequential: "0.W", "0.b", ...
        return list(layer.named_params())
    return list(getattr(layer, "param_names", map(str, range(len(layer.params)))))


DOUT_SEED = 987_654_321  # not a seed the tests draw x with: dout must not be a copy of x


def check_layer(layer, x, dout=None, h=1e-5, rng=DOUT_SEED):
    """Relative errors of ``layer.backward`` against central differences: {"dx": ..., "dW": ...}.

    ``dout`` defaults to a standard normal array drawn with seed ``rng`` (the same every run, so
    a check that passes once passes always).  The layer must be deterministic between calls
    (Dropout: give it a fixed mask, e.g. by checking in eval mode or patching ``_uniform``).
    """
    x = np.array(x, dtype=np.float64)
    if dout is None:
        dout = np.random.default_rng(rng).standard_normal(layer.forward(x).shape)
    layer.forward(x)
    dx = layer.backward(dout)
    errors = {"dx": rel_error(dx, numeric_gradient_array(lambda: layer.forward(x), x, dout, h))}
    for name, p, g in zip(_names(layer), layer.params, layer.grads):
        analytic = g.copy()
        numeric = numeric_gradient_array(lambda: layer.forward(x), p, dout, h)
        errors["d" + name] = rel_error(analytic, numeric)
    return errors


def check_loss(loss, x, target, h=1e-5):
    """Relative error of ``loss.backward()`` against central differences of ``loss.forward``."""
    x = np.array(x, dtype=np.float64)
    loss.forward(x, target)
    dx = loss.backward()
    return {"dx": rel_error(dx, numeric_gradient(lambda: loss.forward(x, target), x, h))}


def _torch():
    import torch

    return torch


def compare_with_torch(layer, torch_fn, x, dout=None, rng=DOUT_SEED):
    """Run ``layer`` and ``torch_fn(x, *params)`` under autograd on the same inputs.

    ``torch_fn`` receives torch tensors: the input, then the layer's params in order.  Returns
    the relative errors {"out": ..., "dx": ..., "dW": ...} of our forward/backward against
    torch's.  Run it in float64.
    """
    torch = _torch()
    out = layer.forward(x)
    if dout is None:
        dout = np.random.default_rng(rng).standard_normal(out.shape)
    dx = layer.backward(dout)
    xt = torch.tensor(asnumpy(x), requires_grad=True)
    pt = [torch.tensor(asnumpy(p), requires_grad=True) for p in layer.params]
    yt = torch_fn(xt, *pt)
    yt.backward(torch.as_tensor(asnumpy(dout), dtype=yt.dtype))
    errors = {"out": rel_error(out, yt), "dx": rel_error(dx, xt.grad)}
    for name, g, p in zip(_names(layer), layer.grads, pt):
        errors["d" + name] = rel_error(g, p.grad)
    return errors


def compare_loss_with_torch(loss, torch_fn, x, target):
    """Our loss value and gradient vs ``torch_fn(x, target)`` (torch tensors) under autograd."""
    torch = _torch()
    value = loss.forward(x, target)
    dx = loss.backward()
    xt = torch.tensor(asnumpy(x), requires_grad=True)
    lt = torch_fn(xt, torch.as_tensor(asnumpy(target)))
    lt.backward()
    return {"loss": rel_error(value, lt), "dx": rel_error(dx, xt.grad)}
