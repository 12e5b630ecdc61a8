"""Symbolic reverse mode: ``gradients(y, xs)`` returns new graph nodes for dy/dx, as Theano's
``T.grad`` did.  Nothing is computed: the chain rule is applied to the graph, once.

Each rule maps (node, g = dy/dnode) to one gradient node per input, built from the same graph
operations, so a gradient graph is an ordinary graph: it can be optimised, compiled, and
differentiated again (second derivatives).  ``out`` below is the node itself, so a rule such as
tanh' = 1 - out^2 reuses the forward value instead of computing tanh again.
"""

from __future__ import annotations

import numpy as np

from course_lib.autograd.graph import ops, shapes
from course_lib.autograd.graph.nodes import Node, constant, topological_order


def _sum_back(g, x, other, out):
    """g summed back to x's shape when broadcasting may have copied x (see ``ops.stretched``)."""
    if ops.stretched(x.shape, other.shape, out.shape):
        return shapes.sum_to(g, x)
    return g


def _add(out, g):
    a, b = out.inputs
    return _sum_back(g, a, b, out), _sum_back(g, b, a, out)


def _sub(out, g):
    a, b = out.inputs
    return _sum_back(g, a, b, out), _sum_back(-g, b, a, out)


def _mul(out, g):
    """d(ab) = b da + a db."""
    a, b = out.inputs
    return _sum_back(g * b, a, b, out), _sum_back(g * a, b, a, out)


def _div(out, g):
    """d(a/b) = da / b - a db / b^2."""
    a, b = out.inputs
    return _sum_back(g / b, a, b, out), _sum_back(-g * a / (b * b), b, a, out)


def _pow(out, g):
    """d(a^p) = p a^(p-1) da."""
    (a,), p = out.inputs, out.params["p"]
    return (g * p * a ** (p - 1),)


def _matmul(out, g):
    """d(ab) = da b + a db:   dy/da = g b^T,  dy/db = a^T g."""
    a, b = out.inputs
    return g @ b.T, a.T @ g


def _logsumexp(out, g):
    """d/da log sum e^a = softmax(a) = e^(a - out), times g spread over the reduced axes."""
    (a,), p = out.inputs, out.params
    lse = shapes.spread(out, a, p["axis"], p["keepdims"])
    return (shapes.spread(g, a, p["axis"], p["keepdims"]) * ops.exp(a - lse),)


def _reduction(mean):
    def rule(out, g):
        p = out.params
        return (shapes.spread(g, out.inputs[0], p["axis"], p["keepdims"], mean),)

    return rule


def _spread(out, g):
    """spread is linear; its adjoint is the reduction it undoes (sum, or mean)."""
    p = out.params
    reduce = shapes.mean if p["mean"] else shapes.reduce_sum
    return reduce(g, p["axis"], p["keepdims"]), None


def _transpose(out, g):
    axes = out.params["axes"]
    return (shapes.transpose(g, None if axes is None else tuple(np.argsort(axes))),)


RULES = {
    "add": _add,
    "sub": _sub,
    "mul": _mul,
    "div": _div,
    "pow": _pow,
    "matmul": _matmul,
    "logsumexp": _logsumexp,
    "sum": _reduction(mean=False),
    "mean": _reduction(mean=True),
    "spread": _spread,
    "transpose": _transpose,
    "neg": lambda out, g: (-g,),
    "exp": lambda out, g: (g * out,),  # d e^a = e^a da
    "log": lambda out, g: (g / out.inputs[0],),  # d log a = da / a
    "tanh": lambda out, g: (g * (1 - out * out),),  # d tanh a = (1 - tanh^2 a) da
    "sigmoid": lambda out, g: (g * out * (1 - out),),  # d s(a) = s (1 - s) da
    "relu": lambda out, g: (g * ops.step(out.inputs[0]),),  # d relu a = [a > 0] da
    "step": lambda out, g: (None,),  # flat almost everywhere
    "zeros_like": lambda out, g: (None,),
    "reshape": lambda out, g: (shapes.reshape_like(g, out.inputs[0]),),
    "reshape_like": lambda out, g: (shapes.reshape_like(g, out.inputs[0]), None),
    "sum_to": lambda out, g: (shapes.broadcast_like(g, out.inputs[0]), None),
    "broadcast_like": lambda out, g: (shapes.sum_to(g, out.inputs[0]), None),
}


def _seed(y: Node, grad_y):
    if grad_y is not None:
        return grad_y if isinstance(grad_y, Node) else constant(grad_y, dtype=y.dtype)
    if y.shape != ():
        raise ValueError(
            f"gradients(y, xs): y has shape {y.shape}, not a scalar; differentiate a scalar "
            "(e.g. y.sum()) or pass grad_y= (the weights of a sum)"
        )
    return constant(1.0, dtype=y.dtype)


def _leads_to_xs(order, xs) -> set[int]:
    """ids of the nodes that depend on some x (and the xs): only they need a gradient."""
    found = {id(x) for x in xs}
    for node in order:
        if any(id(i) in found for i in node.inputs):
            found.add(id(node))
    return found


def gradients(y: Node, xs, grad_y=None) -> list[Node]:
    """New nodes for d y / d x, one per x in ``xs`` (zeros for an x that y does not use).

    The reverse sweep over the graph: each node, visited after all its users, sums what they
    sent it (a node used twice gets both) and passes g through its rule to its inputs.
    ``grad_y`` weights a non-scalar y: the gradient of sum(grad_y * y).
    """
    xs = [xs] if isinstance(xs, Node) else list(xs)
    for x in [y, *xs]:
        if not isinstance(x, Node):
            raise TypeError(f"gradients(y, xs) takes graph nodes, got {type(x).__name__}")
    order = topological_order([y])
    needed = _leads_to_xs(order, xs)
    grads = {id(y): _seed(y, grad_y)}
    for node in reversed(order):
        g = grads.get(id(node))
        if g is None or not node.inputs:
            continue
        if node.op not in RULES:
            raise NotImplementedError(f"no gradient rule for the operation {node.op!r}")
        for x, gx in zip(node.inputs, RULES[node.op](node, g)):
            if gx is not None and id(x) in needed:
                grads[id(x)] = gx if id(x) not in grads else grads[id(x)] + gx
    return [grads[id(x)] if id(x) in grads else shapes.zeros_like(x) for x in xs]
