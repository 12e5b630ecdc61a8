"""Operations that change shapes: sum, mean, logsumexp, reshape, transpose; the losses built
from them; and the shape-following operations the gradients need.

A gradient must have its input's shape, which may be known only at run time (a placeholder
``(None, 784)``).  So the backward of a reduction or a broadcast is an operation that reads the
shape from a node, ``like``, when the graph runs (TensorFlow does the same):

    spread(g, like)          g put back over the axes that sum (or mean) removed   (sum')
    sum_to(g, like)          g summed down to like's shape (a broadcast input)      (broadcast')
    broadcast_like(g, like)  g broadcast to like's shape                            (sum_to')
    reshape_like(g, like)    g reshaped to like's shape                             (reshape')

Each pair is the other's adjoint, so the gradient graph can be differentiated again.
"""

from __future__ import annotations

import math

import numpy as np

from course_lib.autograd.graph.nodes import Node, apply, as_node, register


def _axes(axis, ndim) -> tuple[int, ...]:
    """``axis`` (None or a tuple of ints, negatives allowed) as sorted non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    return tuple(sorted(a % ndim for a in axis)) if ndim else ()


def _axis_setting(axis, ndim):
    """What a node stores: None, or a tuple of ints checked against the rank when known."""
    if axis is None:
        return None
    axis = (int(axis),) if np.ndim(axis) == 0 else tuple(int(a) for a in axis)
    if ndim is not None and any(not -ndim <= a < max(ndim, 1) for a in axis):
        raise ValueError(f"axis {axis} is out of range for {ndim} axes")
    return axis


def _reduced_shape(shape, axis=None, keepdims=False):
    if shape is None:
        return () if axis is None and not keepdims else None
    axes = _axes(axis, len(shape))
    if keepdims:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def _like_shape(_, like_shape, **__):
    return like_shape


def _logsumexp(a, axis, keepdims):
    """log sum e^a, shifted by the maximum first so that e^ cannot overflow."""
    m = np.max(a, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=_axes(axis, np.ndim(a)))


def _spread(g, like, axis, keepdims, mean):
    """g copied back over the reduced axes, up to like's shape (/ their count for a mean)."""
    axes = _axes(axis, np.ndim(like))
    full = np.broadcast_to(g if keepdims else np.expand_dims(g, axes), np.shape(like))
    if not mean:
        return full
    return full / max(math.prod(np.shape(like)[i] for i in axes), 1)


def _sum_to(g, like):
    """g summed down to like's shape: over new leading axes and axes where like has size 1."""
    shape = np.shape(like)
    if np.shape(g) == shape:
        return g
    new = np.ndim(g) - len(shape)
    stretched = [new + i for i, n in enumerate(shape) if n == 1 and np.shape(g)[new + i] != 1]
    return np.sum(g, axis=tuple(range(new)) + tuple(stretched)).reshape(shape)


def _reshape_shape(shape, new_shape):
    if new_shape.count(-1) > 1:
        raise ValueError(f"reshape to {new_shape}: at most one size may be -1")
    if shape is not None and None not in shape:
        try:
            return np.empty(shape, dtype=np.int8).reshape(new_shape).shape
        except ValueError:
            raise ValueError(f"reshape: {shape} cannot become {new_shape}") from None
    return tuple(None if n == -1 else n for n in new_shape)


def _transpose_shape(shape, axes):
    if shape is None:
        return None
    if axes is None:
        return shape[::-1]
    if sorted(a % len(shape) for a in axes) != list(range(len(shape))):
        raise ValueError(f"transpose: axes {axes} are not a permutation of {len(shape)} axes")
    return tuple(shape[a] for a in axes)


def _sum(a, axis, keepdims):
    return np.asarray(np.sum(a, axis=axis, keepdims=keepdims))


def _mean(a, axis, keepdims):
    return np.asarray(np.mean(a, axis=axis, keepdims=keepdims))


register("sum", _sum, _reduced_shape)
register("mean", _mean, _reduced_shape)
register("logsumexp", _logsumexp, _reduced_shape)
register("reshape", lambda a, new_shape: np.reshape(a, new_shape), _reshape_shape)
register("transpose", lambda a, axes: np.transpose(a, axes), _transpose_shape)
register("spread", _spread, _like_shape)
register("sum_to", _sum_to, _like_shape)
register("broadcast_like", lambda x, like: np.broadcast_to(x, np.shape(like)), _like_shape)
register("reshape_like", lambda x, like: np.reshape(x, np.shape(like)), _like_shape)
register("zeros_like", lambda x: np.zeros(np.shape(x), np.asarray(x).dtype), lambda s: s)


def reduce_sum(a: Node, axis=None, keepdims=False) -> Node:
    """sum over ``axis`` (None: all; an int or a tuple of ints)."""
    return apply("sum", (a,), axis=_axis_setting(axis, a.ndim), keepdims=bool(keepdims))


def mean(a: Node, axis=None, keepdims=False) -> Node:
    """mean over ``axis`` = sum / (number of elements summed)."""
    return apply("mean", (a,), axis=_axis_setting(axis, a.ndim), keepdims=bool(keepdims))


def logsumexp(a: Node, axis=-1, keepdims=False) -> Node:
    """log sum_k e^{a_k} over ``axis``, computed without overflow."""
    return apply("logsumexp", (a,), axis=_axis_setting(axis, a.ndim), keepdims=bool(keepdims))


def reshape(a: Node, *shape) -> Node:
    """a with a new shape (``reshape(3, 4)`` or ``reshape((3, 4))``; one size may be -1)."""
    shape = tuple(shape[0]) if len(shape) == 1 and np.ndim(shape[0]) == 1 else shape
    return apply("reshape", (a,), new_shape=tuple(int(n) for n in shape))


def transpose(a: Node, axes=None) -> Node:
    """The axes permuted (reversed by default, ``.T``)."""
    return apply("transpose", (a,), axes=None if axes is None else tuple(int(i) for i in axes))


def spread(g: Node, like: Node, axis=None, keepdims=False, mean=False) -> Node:
    """The backward of sum (``mean=False``) or mean over ``axis``: g broadcast to like's shape."""
    return apply("spread", (g, like), axis=axis, keepdims=keepdims, mean=mean)


def sum_to(g: Node, like: Node) -> Node:
    """g summed down to like's shape: the gradient of an input that was broadcast."""
    return apply("sum_to", (g, like))


def broadcast_like(x: Node, like: Node) -> Node:
    return apply("broadcast_like", (x, like))


def reshape_like(x: Node, like: Node) -> Node:
    return apply("reshape_like", (x, like))


def zeros_like(x: Node) -> Node:
    """Zeros of x's shape and dtype: the gradient of a node that y does not depend on."""
    return apply("zeros_like", (x,))


def log_softmax(x: Node, axis=-1) -> Node:
    """x - log sum_k e^{x_k}: log-probabilities along ``axis``."""
    return x - logsumexp(x, axis=axis, keepdims=True)


def softmax_cross_entropy(logits: Node, labels_onehot) -> Node:
    """-(1/N) sum_n sum_c y_nc log softmax(logits)_nc for logits (N, C), one-hot labels (N, C)."""
    labels_onehot = as_node(labels_onehot, like=logits)
    for name, node in (("logits", logits), ("labels_onehot", labels_onehot)):
        if node.ndim not in (None, 2):
            raise ValueError(f"softmax_cross_entropy: {name} of shape {node.shape}: give (N, C)")
    return -reduce_sum(labels_onehot * log_softmax(logits), axis=-1).mean()


Node.sum = reduce_sum
Node.mean = mean
Node.reshape = reshape
Node.transpose = transpose
Node.T = property(transpose)
