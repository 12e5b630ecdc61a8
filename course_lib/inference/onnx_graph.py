"""A course_lib model as an ONNX graph: nodes for the operations, initializers for the weights.

ONNX (2017) describes a network as data: a list of nodes (``MatMul``, ``Add``, ``Relu``, ``Conv``
...), each naming its input and output tensors, and the trained weights stored beside them as
*initializers*.  Any ONNX runtime can then run the forward pass, with no Python and no training
code.  Only the inference graph is written: dropout is the identity there and vanishes, batch
norm uses its running statistics.

    graph = to_onnx(mlp, (784,))             # LeNet-300-100: (batch, 784) -> (batch, 10) scores
    graph = to_onnx(lenet, (1, 28, 28))      # images (batch, 1, 28, 28)
    [node.op_type for node in graph.graph.node]      # ['MatMul', 'Add', 'Relu', ...]

A Linear layer ``y = x W + b`` becomes ``MatMul(x, W)`` then ``Add(., b)`` (a Flatten first when
its input is an image), a Conv2d ``Conv(x, W, b)``, a MaxPool2d ``MaxPool``.
"""

from __future__ import annotations

import numpy as np

from course_lib import nn
from course_lib.backend import asnumpy

OPSET = 17
ACTIVATIONS = {nn.ReLU: "Relu", nn.Sigmoid: "Sigmoid", nn.Tanh: "Tanh"}


class _Graph:
    """Nodes and initializers being collected; ``self.x`` names the current tensor."""

    def __init__(self, rank: int):
        self.nodes, self.weights, self.x, self.rank = [], [], "input", rank

    def weight(self, name: str, array) -> str:
        from onnx import numpy_helper

        self.weights.append(numpy_helper.from_array(np.ascontiguousarray(asnumpy(array)), name))
        return name

    def add(self, op: str, *inputs: str, rank=None, **attributes) -> None:
        from onnx import helper

        out = f"t{len(self.nodes)}_{op.lower()}"
        self.nodes.append(helper.make_node(op, [self.x, *inputs], [out], **attributes))
        self.x, self.rank = out, self.rank if rank is None else rank


def _pads(padding) -> list[int]:
    ph, pw = padding
    return [ph, pw, ph, pw]  # ONNX: begins of every spatial axis, then ends


def _add_layer(g: _Graph, i: int, layer) -> None:
    """Append the nodes of one layer (``i`` its position) to ``g``."""
    if isinstance(layer, nn.Linear):
        if g.rank > 2:
            g.add("Flatten", axis=1, rank=2)
        g.add("MatMul", g.weight(f"{i}.W", layer.W))
        g.add("Add", g.weight(f"{i}.b", layer.b))
    elif type(layer) in ACTIVATIONS:
        g.add(ACTIVATIONS[type(layer)])
    elif isinstance(layer, nn.Dropout):
        pass  # the identity at inference
    elif isinstance(layer, nn.Flatten):
        g.add("Flatten", axis=1, rank=2)
    elif isinstance(layer, nn.Conv2d):
        kernel = list(layer.W.shape[2:])
        g.add(
            "Conv",
            g.weight(f"{i}.W", layer.W),
            g.weight(f"{i}.b", layer.b),
            kernel_shape=kernel,
            strides=list(layer.stride),
            pads=_pads(layer.padding),
        )
    elif isinstance(layer, nn.MaxPool2d):
        g.add(
            "MaxPool",
            kernel_shape=list(layer.kernel_size),
            strides=list(layer.stride),
            pads=_pads(layer.padding),
        )
    elif isinstance(layer, nn.BatchNorm):
        names = [
            g.weight(f"{i}.{n}", getattr(layer, n))
            for n in ("gamma", "beta", "running_mean", "running_var")
        ]
        g.add("BatchNormalization", *names, epsilon=float(layer.eps))
    else:
        raise ValueError(
            f"layer {i} ({type(layer).__name__}) has no ONNX form here: write it with "
            "torch.onnx.export from the model's torch twin (course_lib.twins.layers.to_torch)"
        )


def to_onnx(model, input_shape, *, name="model", opset=OPSET):
    """``model`` (a Sequential of Linear, Conv2d, MaxPool2d, Flatten, BatchNorm, ReLU, Sigmoid,
    Tanh and Dropout layers) as a checked ``onnx.ModelProto`` whose input ``"input"`` has shape
    (batch, *input_shape) and whose output ``"scores"`` holds the last layer's output."""
    import onnx
    from onnx import helper

    layers = getattr(model, "layers", None)
    if not layers:
        raise ValueError(
            f"to_onnx needs a Sequential model with layers, got {type(model).__name__}"
        )
    g = _Graph(rank=1 + len(input_shape))
    for i, layer in enumerate(layers):
        _add_layer(g, i, layer)
    if not g.nodes:
        raise ValueError("the model has no layer with an ONNX node (only dropout?)")
    g.nodes[-1].output[0] = "scores"  # the last tensor is the graph's output
    first = asnumpy(model.params[0]) if model.params else np.zeros(0, np.float32)
    dtype = helper.np_dtype_to_tensor_dtype(first.dtype)
    graph = helper.make_graph(
        g.nodes,
        name,
        [helper.make_tensor_value_info("input", dtype, ["batch", *input_shape])],
        [helper.make_tensor_value_info("scores", dtype, ["batch", None])],
        g.weights,
    )
    proto = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="course_lib"
    )
    onnx.checker.check_model(proto)
    return proto
