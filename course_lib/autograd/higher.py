"""Gradients as values: ``grad`` (like torch.autograd.grad) and the Hessian-vector product.

With ``create_graph=True`` the backward pass is recorded like any computation, so a gradient
is a Tensor with a tape of its own, and differentiating it again gives second derivatives.
"""

from __future__ import annotations

import numpy as np

from course_lib.autograd.tensor import Tensor, backpropagate, initial_gradient


def _as_list(items, count=1) -> list:
    """One Tensor (or array, or None) as a list of it; a list or tuple as it is."""
    if items is None:
        return [None] * count
    return [items] if isinstance(items, (Tensor, np.ndarray)) else list(items)


def grad(outputs, inputs, grad_outputs=None, create_graph=False) -> tuple[Tensor, ...]:
    """d sum(grad_outputs * outputs) / d input for each input, returned (``.grad`` untouched).

    ``grad_outputs`` defaults to 1 for each (scalar) output.  An input the outputs do not
    depend on gets zeros.  ``create_graph=True``: the gradients can be differentiated again.
    """
    outputs, inputs = _as_list(outputs), _as_list(inputs)
    for x in inputs:
        if not x.requires_grad:
            raise ValueError(f"grad: an input of shape {x.shape} does not require a gradient")
    seeds = [initial_gradient(y, g) for y, g in zip(outputs, _as_list(grad_outputs, len(outputs)))]
    found = {id(t): g for t, g in backpropagate(outputs, seeds, create_graph, keep=inputs)}
    return tuple(found.get(id(x), Tensor(np.zeros(x.shape, dtype=x.dtype))) for x in inputs)


def hvp(f, x, v) -> Tensor:
    """H v, the Hessian of the scalar f at x times v, by double backward, without forming H:

        H v = d/dx (grad f(x) . v)      (v is a constant)

    It costs about two gradients, whatever the size of x.
    """
    x = Tensor(x.data if isinstance(x, Tensor) else x, requires_grad=True)
    (g,) = grad(f(x), x, create_graph=True)
    if not g.requires_grad:  # f is linear in x: the gradient is constant, H = 0
        return Tensor(np.zeros(x.shape, dtype=x.dtype))
    (hv,) = grad((g * Tensor(v, dtype=x.dtype)).sum(), x)
    return hv
