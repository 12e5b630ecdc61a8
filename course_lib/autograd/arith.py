"""Arithmetic on Tensors: + - * / ** @, each with its backward rule, and ``unbroadcast``.

Every rule is written with Tensor operations, so with ``create_graph=True`` the backward pass
is itself recorded and can be differentiated again.  ``g`` is dL/d out throughout.
"""

from __future__ import annotations

import numpy as np

from course_lib.autograd.tensor import Tensor, as_tensor, record


def unbroadcast(g: Tensor, shape) -> Tensor:
    """Sum ``g`` down to ``shape``: the gradient of an input that was broadcast to g's shape.

    Broadcasting copies the input along new leading axes and along its axes of size 1; every
    copy sends its gradient back to the one original, so the copies' gradients add up.
    A bias (4,) added to (5, 4): sum over axis 0.  A (3, 1) added to (1, 4): sum over axis 1,
    keeping it as size 1.
    """
    shape = tuple(shape)
    if g.shape == shape:
        return g
    new = g.ndim - len(shape)
    stretched = [new + i for i, n in enumerate(shape) if n == 1 and g.shape[new + i] != 1]
    return g.sum(axis=tuple(range(new)) + tuple(stretched)).reshape(shape)


def _operands(op, a, b):
    """Both sides as Tensors, checked to broadcast together (the error names both shapes)."""
    a = as_tensor(a, like=b)  # a plain number takes the other side's dtype (float32 stays)
    b = as_tensor(b, like=a)
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"{op}: shapes {a.shape} and {b.shape} do not broadcast (each axis, counted from "
            "the right, must be equal or 1)"
        ) from None
    return a, b


def add(a, b) -> Tensor:
    """a + b;   dL/da = g,  dL/db = g  (each summed back to its shape)."""
    a, b = _operands("add", a, b)
    return record(a.data + b.data, (a, b), _add_backward, "add")


def _add_backward(out, g):
    a, b = out._parents
    return unbroadcast(g, a.shape), unbroadcast(g, b.shape)


def sub(a, b) -> Tensor:
    """a - b;   dL/da = g,  dL/db = -g."""
    a, b = _operands("sub", a, b)
    return record(a.data - b.data, (a, b), _sub_backward, "sub")


def _sub_backward(out, g):
    a, b = out._parents
    return unbroadcast(g, a.shape), unbroadcast(-g, b.shape)


def neg(a: Tensor) -> Tensor:
    """-a;   dL/da = -g."""
    return record(-a.data, (a,), _neg_backward, "neg")


def _neg_backward(out, g):
    return (-g,)


def mul(a, b) -> Tensor:
    """a * b (element-wise);   dL/da = g * b,  dL/db = g * a."""
    a, b = _operands("mul", a, b)
    return record(a.data * b.data, (a, b), _mul_backward, "mul")


def _mul_backward(out, g):
    a, b = out._parents
    return unbroadcast(g * b, a.shape), unbroadcast(g * a, b.shape)


def div(a, b) -> Tensor:
    """a / b;   dL/da = g / b,  dL/db = -g * a / b^2."""
    a, b = _operands("div", a, b)
    return record(a.data / b.data, (a, b), _div_backward, "div")


def _div_backward(out, g):
    a, b = out._parents
    return unbroadcast(g / b, a.shape), unbroadcast(-g * a / (b * b), b.shape)


def power(a: Tensor, p) -> Tensor:
    """a ** p for a constant number p;   dL/da = g * p * a^(p-1)."""
    if isinstance(p, Tensor) or np.ndim(p) != 0:
        raise TypeError("a ** p takes a constant number p; for a tensor p use exp(p * log(a))")
    return record(a.data ** float(p), (a,), _power_backward, f"pow({p})", saved=(float(p),))


def _power_backward(out, g):
    (a,), (p,) = out._parents, out._saved
    return (g * p * a ** (p - 1),)


def matmul(a, b) -> Tensor:
    """a @ b, 2-D or batched (leading axes broadcast);   dL/da = g @ b^T,  dL/db = a^T @ g."""
    a, b = as_tensor(a, like=b), as_tensor(b, like=a)
    _check_matmul(a.shape, b.shape)
    return record(a.data @ b.data, (a, b), _matmul_backward, "matmul")


def _matmul_backward(out, g):
    a, b = out._parents  # an input that needs no gradient is skipped: it costs a whole product
    ga = unbroadcast(g @ swap_last_axes(b), a.shape) if a.requires_grad else None
    gb = unbroadcast(swap_last_axes(a) @ g, b.shape) if b.requires_grad else None
    return ga, gb


def swap_last_axes(t: Tensor) -> Tensor:
    """The transpose of each matrix in a batch: (..., m, n) -> (..., n, m)."""
    axes = list(range(t.ndim))
    axes[-2], axes[-1] = axes[-1], axes[-2]
    return t.transpose(axes)


def _check_matmul(sa, sb):
    if len(sa) < 2 or len(sb) < 2:
        raise ValueError(
            f"matmul: shapes {sa} and {sb}: both need 2 or more axes (reshape a vector of n "
            "numbers to (1, n) or (n, 1))"
        )
    if sa[-1] != sb[-2]:
        raise ValueError(
            f"matmul: shapes {sa} @ {sb}: the inner sizes {sa[-1]} and {sb[-2]} differ"
        )
    try:
        np.broadcast_shapes(sa[:-2], sb[:-2])
    except ValueError:
        raise ValueError(f"matmul: shapes {sa} @ {sb}: the batch axes do not broadcast") from None


Tensor.__add__ = add
Tensor.__radd__ = lambda self, other: add(other, self)
Tensor.__sub__ = sub
Tensor.__rsub__ = lambda self, other: sub(other, self)
Tensor.__neg__ = neg
Tensor.__mul__ = mul
Tensor.__rmul__ = lambda self, other: mul(other, self)
Tensor.__truediv__ = div
Tensor.__rtruediv__ = lambda self, other: div(other, self)
Tensor.__pow__ = power
Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = lambda self, other: matmul(other, self)
