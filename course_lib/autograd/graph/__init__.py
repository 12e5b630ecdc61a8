"""Define-and-run automatic differentiation (Theano, TensorFlow 1): build the graph first, from
placeholders, then differentiate it symbolically, optimise it, and run it many times.

    x, y = graph.placeholder("x", (None, 784)), graph.placeholder("y", (None, 10))
    w, b = graph.placeholder("w", (784, 10)), graph.placeholder("b", (10,))
    loss = graph.softmax_cross_entropy(x @ w + b, y)       # a node: nothing computed yet
    dw, db = graph.gradients(loss, [w, b])                 # new nodes, as Theano's T.grad
    f = graph.compile([loss, dw, db], [x, y, w, b])        # fold, CSE, fuse: once
    value, gw, gb = f(x_batch, y_onehot, w_array, b_array) # then only NumPy, every call
    print(f.stats); print(f.describe())                    # what compiling did

The eager ``course_lib.autograd.Tensor`` records a new tape at every step; here the graph is
fixed, so it can be studied and rewritten as a whole before it runs: constants computed once,
repeated sub-expressions merged, chains of element-wise operations fused into single kernels.
The price: a loop or an ``if`` on values must itself be a graph node.

Modules: ``nodes`` (Node, placeholder, constant), ``ops`` and ``shapes`` (the operations),
``grad`` (gradients), ``passes`` (folding, CSE, fusion groups), ``kernels`` (fused kernels in
NumPy or numba), ``function`` (compile, Function, CompileStats), ``checks`` (call arguments).
"""

from course_lib.autograd.graph.function import CompileStats, Function, compile
from course_lib.autograd.graph.grad import gradients
from course_lib.autograd.graph.nodes import Node, constant, placeholder, topological_order
from course_lib.autograd.graph.ops import (
    add,
    div,
    exp,
    log,
    matmul,
    mul,
    neg,
    power,
    relu,
    sigmoid,
    sub,
    tanh,
)
from course_lib.autograd.graph.shapes import (
    log_softmax,
    logsumexp,
    mean,
    reshape,
    softmax_cross_entropy,
    transpose,
)
from course_lib.autograd.graph.shapes import reduce_sum as sum

__all__ = [
    "Node",
    "placeholder",
    "constant",
    "topological_order",
    "add",
    "sub",
    "mul",
    "div",
    "neg",
    "power",
    "matmul",
    "exp",
    "log",
    "tanh",
    "sigmoid",
    "relu",
    "sum",
    "mean",
    "reshape",
    "transpose",
    "logsumexp",
    "log_softmax",
    "softmax_cross_entropy",
    "gradients",
    "compile",
    "Function",
    "CompileStats",
]
