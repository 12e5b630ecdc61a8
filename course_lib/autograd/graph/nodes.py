"""Graph nodes: a placeholder (an input, named, numbers given later), a constant, or an operation
applied to other nodes.  A node holds no numbers (a constant excepted), only what it computes
from what, with the shape and dtype that follow (a ``None`` in a shape: any size).

Every operation is registered once in ``OPS`` with its NumPy forward and its shape rule;
``apply`` checks the shapes, works out the output's shape and dtype, and makes the node.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class OpDef:
    """An operation: ``forward(*arrays, **attrs)`` in NumPy, ``shape(*shapes, **attrs)`` the
    output's static shape, ``elementwise`` whether it may join a fused kernel."""

    forward: Callable
    shape: Callable
    elementwise: bool = False


OPS: dict[str, OpDef] = {}


def register(name, forward, shape, elementwise=False):
    OPS[name] = OpDef(forward, shape, elementwise)


class Node:
    """One vertex of the graph: ``op`` applied to ``inputs`` with the constant settings ``attrs``
    (a sorted tuple of (name, value) pairs, so two equal nodes have equal attrs)."""

    __array_ufunc__ = None  # numpy_array + node calls Node.__radd__, not a NumPy loop
    __slots__ = ("op", "inputs", "attrs", "shape", "dtype", "value", "name")

    def __init__(self, op, inputs=(), attrs=(), shape=None, dtype=np.float64, value=None, name=""):
        self.op, self.inputs, self.attrs = op, tuple(inputs), tuple(attrs)
        self.shape = None if shape is None else tuple(shape)
        self.dtype, self.value, self.name = np.dtype(dtype), value, name

    @property
    def params(self) -> dict:
        return dict(self.attrs)

    @property
    def ndim(self):
        return None if self.shape is None else len(self.shape)

    def with_inputs(self, inputs) -> Node:
        """The same operation on other inputs (itself when they are the same ones)."""
        inputs = tuple(inputs)
        if all(a is b for a, b in zip(inputs, self.inputs)):
            return self
        return Node(self.op, inputs, self.attrs, self.shape, self.dtype, self.value, self.name)

    def __repr__(self):
        if self.op == "placeholder":
            return f"placeholder({self.name!r}, shape={self.shape})"
        if self.op == "const":
            return f"constant(shape={self.shape}, dtype={self.dtype})"
        return f"Node({self.op}, shape={self.shape})"


def placeholder(name: str, shape=None, dtype="float64") -> Node:
    """A named input: ``shape`` a tuple (``None`` for a size given at call time, e.g. the batch
    ``(None, 784)``) or ``None`` for any shape; ``dtype`` float64 or float32."""
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"placeholder {name!r}: dtype {dtype} is not floating; use float64")
    if shape is not None:
        shape = tuple(None if n is None else int(n) for n in shape)
    return Node("placeholder", shape=shape, dtype=dtype, name=str(name))


def constant(value, dtype=None) -> Node:
    """Fixed numbers, part of the graph: float64, or float32 when the array already is."""
    array = np.asarray(value)
    if dtype is None:
        dtype = array.dtype if array.dtype in (np.float32, np.float64) else np.float64
    array = np.array(array, dtype=dtype)  # a copy: changing ``value`` later changes nothing
    array.flags.writeable = False
    return Node("const", shape=array.shape, dtype=array.dtype, value=array)


def as_node(value, like: Node | None = None) -> Node:
    """``value`` as a node; a plain number or array takes the dtype of ``like``."""
    if isinstance(value, Node):
        return value
    return constant(value, dtype=None if like is None else like.dtype)


def apply(op: str, inputs, **attrs) -> Node:
    """The node for ``op(*inputs, **attrs)``: its shape from the op's rule (which raises on
    shapes that do not fit), its dtype the common dtype of the inputs."""
    inputs = tuple(inputs)
    shape = OPS[op].shape(*(i.shape for i in inputs), **attrs)
    dtype = np.result_type(*(i.dtype for i in inputs))
    return Node(op, inputs, sorted(attrs.items()), shape, dtype)


def topological_order(outputs) -> list[Node]:
    """Every node that ``outputs`` depend on, each after all its inputs (an explicit stack, so a
    chain of 100,000 operations needs no recursion)."""
    order, seen = [], set()
    stack = [(node, False) for node in reversed(list(outputs))]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((i, False) for i in reversed(node.inputs) if id(i) not in seen)
    return order


def known(shape) -> bool:
    """Is every size in ``shape`` known (no ``None``, not an unknown rank)?"""
    return shape is not None and all(n is not None for n in shape)
