"""Element-wise operations and matmul on graph nodes: + - * / ** @, exp, log, tanh, sigmoid, relu.

Each is registered with its NumPy forward and its shape rule.  Two operands broadcast as in
NumPy, checked when the node is built: sizes counted from the right must be equal or 1 (an
unknown size, ``None``, fits anything).  The operators are added to ``Node`` here, so one
expression (``(x @ w + b).tanh()``) builds a graph from nodes and runs eagerly on Tensors.
"""

from __future__ import annotations

import numpy as np

from course_lib.autograd.graph.nodes import Node, apply, as_node, register
from course_lib.nn.activations import sigmoid as _sigmoid_array


def broadcast_shapes(sa, sb, op="broadcast"):
    """The static shape of a op b: NumPy's rule, where ``None`` (unknown) takes the other size."""
    if sa is None or sb is None:
        return None
    n = max(len(sa), len(sb))
    out = []
    for da, db in zip((1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb):
        if da is not None and db is not None and 1 not in (da, db) and da != db:
            raise ValueError(
                f"{op}: shapes {sa} and {sb} do not broadcast (each axis, counted from the "
                "right, must be equal or 1)"
            )
        out.append(db if da == 1 or da is None else da)
    return tuple(out)


def stretched(shape, other, out) -> bool:
    """Might broadcasting have copied an input of ``shape`` (against ``other``) along an axis of
    ``out``?  Then its gradient must be summed back (``sum_to``); if surely not, it is g itself."""
    if shape is None or other is None or out is None or len(shape) != len(out):
        return True
    offset = len(out) - len(other)
    for i, (d, o) in enumerate(zip(shape, out)):
        other_d = other[i - offset] if i >= offset else 1
        if not ((d is not None and d == o) or other_d == 1):
            return True
    return False


def _same_shape(shape, **_):
    return shape


def _binary(name, forward):
    register(name, forward, lambda sa, sb: broadcast_shapes(sa, sb, name), elementwise=True)

    def build(a, b) -> Node:
        a = as_node(a, like=b if isinstance(b, Node) else None)
        return apply(name, (a, as_node(b, like=a)))

    build.__name__ = name
    return build


add = _binary("add", np.add)
sub = _binary("sub", np.subtract)
mul = _binary("mul", np.multiply)
div = _binary("div", np.divide)
add.__doc__, sub.__doc__ = "a + b (broadcast).", "a - b (broadcast)."
mul.__doc__, div.__doc__ = "a * b, element-wise (broadcast).", "a / b (broadcast)."


def _unary(name, forward, doc):
    register(name, forward, _same_shape, elementwise=True)

    def build(a: Node) -> Node:
        return apply(name, (a,))

    build.__name__, build.__doc__ = name, doc
    return build


neg = _unary("neg", np.negative, "-a.")
exp = _unary("exp", np.exp, "e^a.")
log = _unary("log", np.log, "natural log of a.")
tanh = _unary("tanh", np.tanh, "tanh(a).")
sigmoid = _unary("sigmoid", _sigmoid_array, "1 / (1 + e^-a), computed as (tanh(a/2) + 1) / 2.")
relu = _unary("relu", lambda a: np.maximum(a, 0), "max(a, 0).")
step = _unary("step", lambda a: (a > 0).astype(a.dtype), "[a > 0] as 1.0 or 0.0 (relu').")
register("pow", lambda a, p: np.power(a, p), _same_shape, elementwise=True)


def power(a: Node, p) -> Node:
    """a ** p for a constant number p (kept in the node as a setting, not an input)."""
    if isinstance(p, Node) or np.ndim(p) != 0:
        raise TypeError("a ** p takes a constant number p; for a node p use exp(p * log(a))")
    return apply("pow", (a,), p=float(p))


def _matmul_shape(sa, sb):
    if sa is None or sb is None:
        return None
    if len(sa) != 2 or len(sb) != 2:
        raise ValueError(f"matmul: shapes {sa} @ {sb}: the graph's matmul takes two matrices")
    if None not in (sa[1], sb[0]) and sa[1] != sb[0]:
        raise ValueError(f"matmul: shapes {sa} @ {sb}: the inner sizes {sa[1]} and {sb[0]} differ")
    return (sa[0], sb[1])


register("matmul", np.matmul, _matmul_shape)


def matmul(a, b) -> Node:
    """a @ b for two matrices (m, k) @ (k, n) -> (m, n)."""
    a = as_node(a, like=b if isinstance(b, Node) else None)
    return apply("matmul", (a, as_node(b, like=a)))


Node.__add__ = add
Node.__radd__ = lambda self, other: add(other, self)
Node.__sub__ = sub
Node.__rsub__ = lambda self, other: sub(other, self)
Node.__mul__ = mul
Node.__rmul__ = lambda self, other: mul(other, self)
Node.__truediv__ = div
Node.__rtruediv__ = lambda self, other: div(other, self)
Node.__neg__ = neg
Node.__pow__ = power
Node.__matmul__ = matmul
Node.__rmatmul__ = lambda self, other: matmul(other, self)
Node.exp, Node.log, Node.tanh, Node.sigmoid, Node.relu = exp, log, tanh, sigmoid, relu
