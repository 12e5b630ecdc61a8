"""The Tensor and its tape: every operation's output remembers its inputs and a backward rule,
and ``backward()`` walks that record from the output back to the leaves.

A tensor made by the user is a *leaf* (``Tensor(x, requires_grad=True)``: a weight, an input).
A tensor made by an operation is a *node*: ``_parents`` are its inputs, ``_backward(out, g)``
turns the gradient ``g = dL/d out`` into one gradient per parent (the chain rule, one step), and
``_saved`` holds any extra array the rule needs.  The operators (``+``, ``@``, ``.tanh()``, ...)
are added to the class by ``arith``, ``functions``, ``shapes`` and ``losses``.
"""

from __future__ import annotations

import contextlib

import numpy as np

_grad_enabled = True  # no_grad() turns it off: operations then record nothing


def is_grad_enabled() -> bool:
    return _grad_enabled


@contextlib.contextmanager
def grad_mode(enabled: bool):
    """Record operations on the tape (``True``) or not (``False``) inside the ``with`` block."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, enabled
    try:
        yield
    finally:
        _grad_enabled = previous


def no_grad():
    """``with no_grad():`` runs operations without recording them: evaluation, weight updates."""
    return grad_mode(False)


def _float_array(data, dtype=None):
    """A float64 array, or float32 when the data already is float32 (or ``dtype`` says so)."""
    if isinstance(data, Tensor):
        data = data.data
    array = np.asarray(data)
    if dtype is None:
        dtype = array.dtype if array.dtype in (np.float32, np.float64) else np.float64
    return array.astype(dtype, copy=False)


class Tensor:
    """A NumPy array, its gradient ``.grad`` (a Tensor, after ``backward``) and its place on the
    tape.  ``Tensor(np_array)`` shares the array's memory, like ``torch.from_numpy``."""

    __array_ufunc__ = None  # numpy_array + tensor calls Tensor.__radd__, not a NumPy loop

    def __init__(self, data, requires_grad=False, dtype=None):
        self.data = _float_array(data, dtype)
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self._parents: tuple[Tensor, ...] = ()
        self._backward = None  # None for a leaf
        self._saved: tuple = ()
        self._op = "leaf"
        self._twice_differentiable = True

    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    dtype = property(lambda self: self.data.dtype)

    @property
    def is_leaf(self) -> bool:
        return self._backward is None

    def __repr__(self):
        tail = f", op={self._op}" if not self.is_leaf else ""
        return f"Tensor({self.data!r}, requires_grad={self.requires_grad}{tail})"

    def item(self) -> float:
        return self.data.item()

    def numpy(self) -> np.ndarray:
        return self.data

    def detach(self) -> Tensor:
        """The same numbers, cut off from the tape: a constant for what follows."""
        return Tensor(self.data)

    def backward(self, grad=None, create_graph=False):
        """Add d self / d leaf to ``leaf.grad`` for every leaf that requires a gradient.

        ``grad`` weights a non-scalar output: it computes the gradient of sum(grad * self).
        Gradients add up over calls, as in torch: set ``leaf.grad = None`` between steps.
        ``create_graph=True`` records the backward pass itself, so ``.grad`` can be
        differentiated again (see ``course_lib.autograd.grad``).
        """
        seed = initial_gradient(self, grad)
        for leaf, g in backpropagate([self], [seed], create_graph):
            if leaf.is_leaf:
                leaf.grad = g if leaf.grad is None else leaf.grad + g


def as_tensor(value, like=None) -> Tensor:
    """``value`` as a Tensor; a plain number or array takes the dtype of ``like`` (a Tensor)."""
    if isinstance(value, Tensor):
        return value
    return Tensor(value, dtype=like.dtype if isinstance(like, Tensor) else None)


def record(data, parents, backward, op, saved=(), twice_differentiable=True) -> Tensor:
    """The output of an operation; on the tape when gradients are on and an input needs one."""
    out = Tensor(data)
    if _grad_enabled and any(p.requires_grad for p in parents):
        out.requires_grad = True
        out._parents, out._backward, out._op, out._saved = tuple(parents), backward, op, saved
        out._twice_differentiable = twice_differentiable
    return out


def topological_order(outputs) -> list[Tensor]:
    """Every tensor that requires grad and leads to ``outputs``, each after all its inputs.

    A depth-first search with an explicit stack (no recursion, so a chain of 100,000 operations
    works): a tensor is appended once everything it depends on has been.
    """
    order, seen = [], set()
    stack = [(t, False) for t in reversed(outputs) if t.requires_grad]
    while stack:
        tensor, inputs_done = stack.pop()
        if inputs_done:
            order.append(tensor)
            continue
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        stack.append((tensor, True))
        stack.extend((p, False) for p in tensor._parents if p.requires_grad and id(p) not in seen)
    return order


def initial_gradient(output: Tensor, grad=None) -> Tensor:
    """dL/d output to start from: 1 for a scalar, else ``grad`` (which must have its shape)."""
    if not output.requires_grad:
        raise RuntimeError(
            "backward() on a tensor that does not require a gradient: no input had "
            "requires_grad=True, or it was computed under no_grad()"
        )
    if grad is None:
        if output.size != 1:
            raise ValueError(
                f"backward() on an output of shape {output.shape} needs grad= (an array of that "
                "shape, the weights of a sum); or reduce it to a scalar first, e.g. .sum()"
            )
        return Tensor(np.ones(output.shape, dtype=output.dtype))
    grad = grad if isinstance(grad, Tensor) else Tensor(grad, dtype=output.dtype)
    if grad.shape != output.shape:
        raise ValueError(f"grad of shape {grad.shape} for an output of shape {output.shape}")
    return grad


def backpropagate(outputs, seeds, create_graph=False, keep=()):
    """The reverse sweep: [(tensor, gradient)] for each leaf reached and each tensor in ``keep``.

    Visits the tape from the outputs back, calls each node's rule once with the sum of the
    gradients its users sent it, and forgets a node's gradient once it has been passed on.
    With ``create_graph`` the rules run with recording on, so the gradients get a tape too.
    """
    order = topological_order(outputs)
    if create_graph:
        _refuse_first_order_only(order)
    keep_ids = {id(t) for t in keep}
    grads: dict[int, Tensor] = {}
    for output, seed in zip(outputs, seeds):
        _accumulate(grads, output, seed)
    with grad_mode(create_graph):
        for node in reversed(order):
            if node.is_leaf or id(node) not in grads:
                continue
            g = grads[id(node)] if id(node) in keep_ids else grads.pop(id(node))
            _send_to_inputs(node, g, grads)
    return [(t, grads[id(t)]) for t in order if id(t) in grads]


def _send_to_inputs(node, g, grads):
    """One chain-rule step: node's rule gives d L / d input for each of its inputs."""
    for parent, parent_grad in zip(node._parents, node._backward(node, g)):
        if parent_grad is None or not parent.requires_grad:
            continue
        if parent_grad.shape != parent.shape:
            raise RuntimeError(
                f"the backward rule of {node._op} gave a gradient of shape {parent_grad.shape} "
                f"for an input of shape {parent.shape}"
            )
        _accumulate(grads, parent, parent_grad)


def _accumulate(grads, tensor, g):
    """A tensor used twice (x*x + x) gets the sum of the gradients of its uses."""
    key = id(tensor)
    grads[key] = g if key not in grads else grads[key] + g


def _refuse_first_order_only(order):
    for node in order:
        if not node._twice_differentiable:
            raise NotImplementedError(
                f"create_graph=True through {node._op}: its backward rule uses saved arrays, "
                "not Tensor operations, so it cannot be differentiated again; build it from "
                "differentiable pieces instead (e.g. nll_loss(log_softmax(logits), labels) "
                "for cross_entropy)"
            )
