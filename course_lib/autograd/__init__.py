"""Reverse-mode automatic differentiation on NumPy arrays, define-by-run, in the style of torch.

*Define-and-run* (Theano, TensorFlow 1) first builds a graph of symbolic operations, then feeds
it numbers; the graph is fixed, and a loop or an ``if`` must be a graph node.  *Define-by-run*
(Chainer, PyTorch, this module) records each operation as plain Python executes it: the tape
is rebuilt every step, so loops and ``if`` are ordinary Python, and ``backward()`` replays the
tape in reverse, applying each operation's local backward rule (the chain rule).

    W = Tensor(rng.standard_normal((784, 100)) * 0.05, requires_grad=True)
    loss = cross_entropy(tanh(x @ W + b) @ V + c, labels)     # recorded as it runs
    loss.backward()                                           # W.grad, b.grad, ... filled
    (g,) = grad(loss, W, create_graph=True)                   # a gradient with its own tape
    tape_size(loss)                                           # nodes and bytes kept alive

Modules, one idea each: ``tensor`` (the Tensor, the tape and the reverse sweep), ``arith``
(+ - * / ** @ and ``unbroadcast``), ``functions`` (exp, log, tanh, sigmoid, relu), ``shapes``
(sum, mean, reshape, transpose, indexing), ``losses``, ``higher`` (grad, hvp), ``tape``.
"""

from course_lib.autograd import graph
from course_lib.autograd.arith import add, div, matmul, mul, neg, power, sub, unbroadcast
from course_lib.autograd.functions import exp, log, relu, sigmoid, tanh
from course_lib.autograd.higher import grad, hvp
from course_lib.autograd.losses import cross_entropy, log_softmax, nll_loss
from course_lib.autograd.shapes import (
    broadcast_to,
    getitem,
    mean,
    reshape,
    scatter_add,
    tensor_sum,
    transpose,
)
from course_lib.autograd.tape import TapeSize, tape_size
from course_lib.autograd.tensor import Tensor, is_grad_enabled, no_grad

__all__ = [
    "graph",
    "Tensor",
    "no_grad",
    "is_grad_enabled",
    "add",
    "sub",
    "neg",
    "mul",
    "div",
    "power",
    "matmul",
    "unbroadcast",
    "exp",
    "log",
    "tanh",
    "sigmoid",
    "relu",
    "tensor_sum",
    "mean",
    "reshape",
    "transpose",
    "broadcast_to",
    "getitem",
    "scatter_add",
    "log_softmax",
    "nll_loss",
    "cross_entropy",
    "grad",
    "hvp",
    "tape_size",
    "TapeSize",
]
