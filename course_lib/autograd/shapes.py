"""Operations that move numbers around: sum, mean, reshape, transpose, broadcast_to, and
indexing (``logp[rows, labels]``), with their backward rules.

Each pair is one the other's backward: sum <-> broadcast_to, reshape <-> reshape,
transpose <-> the inverse transpose, indexing <-> scatter-add.
"""

from __future__ import annotations

import numpy as np

from course_lib.autograd.arith import unbroadcast
from course_lib.autograd.tensor import Tensor, record


def _axes(axis, ndim) -> tuple[int, ...]:
    """``axis`` (None, an int or a tuple, negatives allowed) as a sorted tuple of axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    return tuple(sorted(int(a) % ndim for a in axes)) if ndim else ()


def tensor_sum(a: Tensor, axis=None, keepdims=False) -> Tensor:
    """sum over ``axis``;   dL/da = g broadcast back over the summed axes."""
    axes = _axes(axis, a.ndim)
    data = a.data.sum(axis=axes, keepdims=keepdims)
    return record(data, (a,), _sum_backward, "sum", saved=(axes,))


def _sum_backward(out, g):
    (a,), (axes,) = out._parents, out._saved
    kept = tuple(1 if i in axes else n for i, n in enumerate(a.shape))
    return (g.reshape(kept).broadcast_to(a.shape),)


def mean(a: Tensor, axis=None, keepdims=False) -> Tensor:
    """mean over ``axis`` = sum / (number of elements summed);  built from sum and mul."""
    count = int(np.prod([a.shape[i] for i in _axes(axis, a.ndim)]))
    return tensor_sum(a, axis, keepdims) * (1.0 / max(count, 1))


def broadcast_to(a: Tensor, shape) -> Tensor:
    """a repeated to ``shape`` (NumPy broadcasting, a view);   dL/da = unbroadcast(g)."""
    data = np.broadcast_to(a.data, tuple(shape))
    return record(data, (a,), _broadcast_to_backward, "broadcast_to")


def _broadcast_to_backward(out, g):
    (a,) = out._parents
    return (unbroadcast(g, a.shape),)


def reshape(a: Tensor, *shape) -> Tensor:
    """a with a new shape (``reshape(3, 4)`` or ``reshape((3, 4))``);  dL/da = g reshaped back."""
    shape = tuple(shape[0]) if len(shape) == 1 and np.ndim(shape[0]) == 1 else shape
    return record(a.data.reshape(shape), (a,), _reshape_backward, "reshape")


def _reshape_backward(out, g):
    (a,) = out._parents
    return (g.reshape(a.shape),)


def transpose(a: Tensor, axes=None) -> Tensor:
    """The axes permuted (reversed by default, ``.T``);   dL/da = g permuted back."""
    axes = tuple(reversed(range(a.ndim))) if axes is None else tuple(axes)
    return record(a.data.transpose(axes), (a,), _transpose_backward, "transpose", saved=(axes,))


def _transpose_backward(out, g):
    (axes,) = out._saved
    return (g.transpose(tuple(np.argsort(axes))),)


def getitem(a: Tensor, index) -> Tensor:
    """a[index]: integers, slices or integer arrays (``logp[np.arange(N), labels]``);
    dL/da = zeros with g added at the picked places (an index picked twice gets both)."""
    if isinstance(index, Tensor):
        raise TypeError("index with integer NumPy arrays, not Tensors")
    return record(a.data[index], (a,), _getitem_backward, "getitem", saved=(index,))


def _getitem_backward(out, g):
    (a,), (index,) = out._parents, out._saved
    return (scatter_add(g, index, a.shape),)


def scatter_add(values: Tensor, index, shape) -> Tensor:
    """zeros(shape) with ``values`` added at ``index`` (np.add.at);   dL/dvalues = g[index]."""
    data = np.zeros(shape, dtype=values.dtype)
    np.add.at(data, index, values.data)
    return record(data, (values,), _scatter_add_backward, "scatter_add", saved=(index,))


def _scatter_add_backward(out, g):
    (index,) = out._saved
    return (g[index],)


Tensor.sum = tensor_sum
Tensor.mean = mean
Tensor.broadcast_to = broadcast_to
Tensor.reshape = reshape
Tensor.transpose = transpose
Tensor.T = property(transpose)
Tensor.__getitem__ = getitem
