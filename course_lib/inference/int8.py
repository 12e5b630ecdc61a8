"""Post-training int8 quantisation: a weight stored as an 8-bit integer and a float scale.

Symmetric, per output unit (column j of a Linear's W):

    s_j = max_i |W_ij| / 127,     q_ij = round(W_ij / s_j)  in [-127, 127],     W_ij ~ s_j q_ij

so each weight is off by at most s_j / 2, and stored in 8 bits instead of 32 (4x smaller).  An
int8 engine also quantises the activations, x ~ s_x q_x, and multiplies integers: the products
q_x q_W are summed in int32 and rescaled once, s_x s_W (q_x q_W), per output.  *Dynamic*
quantisation picks s_x from each batch as it arrives; *static* quantisation fixes it beforehand
from calibration data (the range of every activation on a few hundred training images).

    q, s = quantize(W, axis=1)                      # one scale per column (output unit)
    int8_graph(graph, "model_int8.onnx")            # ONNX Runtime, dynamic
    int8_graph(graph, "model_int8.onnx", calibration=x_train[:512])    # static
"""

from __future__ import annotations

import os
import tempfile

import numpy as np


def quantize(w, axis=None):
    """``(q, scale)``: int8 ``q`` and float ``scale`` with ``w ~ scale * q``, one scale per slice
    along ``axis`` (None: one for the whole array), ``scale = max|w| / 127``."""
    w = np.asarray(w, dtype=np.float32)
    if w.size == 0:
        raise ValueError("quantize needs a non-empty array")
    reduce = None if axis is None else tuple(a for a in range(w.ndim) if a != axis % w.ndim)
    peak = np.abs(w).max(axis=reduce, keepdims=axis is not None)
    scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
    return q, scale


def dequantize(q, scale):
    """The float weights an int8 array stands for: ``scale * q``."""
    return np.asarray(scale, np.float32) * q.astype(np.float32)


class _Batches:
    """onnxruntime.quantization's CalibrationDataReader: the calibration rows in batches."""

    def __init__(self, name: str, x, batch: int = 128):
        self.items = iter(
            [
                {name: np.ascontiguousarray(x[i : i + batch], np.float32)}
                for i in range(0, len(x), batch)
            ]
        )

    def get_next(self):
        return next(self.items, None)


def _input_name(graph, x) -> str:
    """The graph's input name, once ``x`` is checked to have as many axes as that input."""
    graph_input = graph.graph.input[0]
    rank = len(graph_input.type.tensor_type.shape.dim)
    if np.ndim(x) != rank:
        raise ValueError(
            f"calibration data of shape {np.shape(x)} for a graph whose input "
            f"{graph_input.name!r} has {rank} axes: reshape it (e.g. x.reshape(len(x), -1))"
        )
    return graph_input.name


def int8_graph(graph, path, *, calibration=None) -> str:
    """Write ``graph`` (an ONNX ModelProto) quantised to int8 at ``path`` and return the path.

    Weights become int8 with one scale per output unit.  Without ``calibration`` activations
    are quantised per batch as they come (``quantize_dynamic``); with it (input rows, e.g. a
    few hundred training images) their ranges are measured once (``quantize_static``, QDQ form).
    The graph is first run through ``quant_pre_process`` (shape inference), as the library asks.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory() as tmp:
        src, ready = os.path.join(tmp, "float.onnx"), os.path.join(tmp, "ready.onnx")
        onnx.save(graph, src)
        quant_pre_process(src, ready, skip_symbolic_shape=False)
        if calibration is None:
            quantize_dynamic(ready, path, per_channel=True, weight_type=QuantType.QInt8)
        else:
            reader = _Batches(_input_name(graph, calibration), calibration)
            quantize_static(
                ready,
                path,
                reader,
                per_channel=True,
                activation_type=QuantType.QInt8,
                weight_type=QuantType.QInt8,
            )
    return str(path)
