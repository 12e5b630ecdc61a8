"""One trained model on several inference engines, and what batching does to each.

An engine runs the forward pass only.  Each call pays a fixed cost (Python, dispatch, thread
wake-up, reading the weights from memory) and then work proportional to the batch, so

    latency(b)     = t_0 + b t_1          seconds for one call on b images
    throughput(b)  = b / latency(b)       images per second, rising towards 1 / t_1

A service answering one request at a time lives at b = 1 (lowest latency); one that can wait
for requests to pile up serves b of them per call (highest throughput).

    runs = runners(mlp, graph, threads=1)            # {"NumPy": f, "torch eager": f, ...}
    table = latency_table(runs, x, batches=(1, 8, 64, 256))   # {engine: {batch: seconds}}
"""

from __future__ import annotations

import os
import tempfile
import time

import numpy as np


def ort_session(graph, threads: int = 1, *, level: str = "all"):
    """An ONNX Runtime CPU session for ``graph`` (a ModelProto, bytes or a path) with ``threads``
    threads inside an operator and one between them; ``level`` of graph optimisation: "none",
    "basic", "extended" or "all" (layout changes for this CPU too)."""
    import onnxruntime as ort

    levels = {
        "none": "ORT_DISABLE_ALL",
        "basic": "ORT_ENABLE_BASIC",
        "extended": "ORT_ENABLE_EXTENDED",
        "all": "ORT_ENABLE_ALL",
    }
    if level not in levels:
        raise ValueError(f"unknown optimisation level {level!r}: use one of {list(levels)}")
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, levels[level])
    if hasattr(graph, "SerializeToString"):
        graph = graph.SerializeToString()
    elif isinstance(graph, os.PathLike):
        graph = os.fspath(graph)
    return ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])


def optimized_ops(graph) -> list[str]:
    """The operators of ``graph`` after ONNX Runtime's portable ("extended") optimisations:
    fusions such as MatMul + Add + Relu -> one FusedGemm."""
    import onnx
    import onnxruntime as ort

    with tempfile.TemporaryDirectory() as tmp:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        options.optimized_model_filepath = os.path.join(tmp, "optimized.onnx")
        ort.InferenceSession(graph.SerializeToString(), options, providers=["CPUExecutionProvider"])
        return [node.op_type for node in onnx.load(options.optimized_model_filepath).graph.node]


def ort_runner(session):
    """x (float32 array) -> scores, through an ONNX Runtime session."""
    name = session.get_inputs()[0].name
    return lambda x: session.run(None, {name: x})[0]


def torch_runner(module, *, compile=False):
    """x -> scores through a torch module in eval mode under ``torch.inference_mode`` (no autograd
    bookkeeping); ``compile``: through ``torch.compile``, one static graph per batch size (slow
    to compile)."""
    import torch

    from course_lib import fusion

    module = module.eval()
    if compile:
        module = fusion.torch_compile(module, dynamic=False)

    def run(x):
        with torch.inference_mode():
            return module(torch.from_numpy(x)).numpy()

    return run


def runners(model, graph, threads: int = 1, *, compile=False) -> dict:
    """``{engine: x -> scores}`` for the NumPy ``model`` (put in eval mode), its torch twin (and
    ``torch.compile`` of it), and ONNX Runtime on ``graph`` with ``threads`` threads (give NumPy
    and torch as many: ``course_lib.threads.limit_threads(threads, torch_too=True)``)."""
    from course_lib.twins.layers import to_torch

    model.eval()
    twin = to_torch(model)
    runs = {"NumPy": model.forward, "torch eager": torch_runner(twin)}
    if compile:
        runs["torch.compile"] = torch_runner(twin, compile=True)
    runs["ONNX Runtime"] = ort_runner(ort_session(graph, threads))
    return runs


def _seconds(run, x, number: int) -> float:
    t = time.perf_counter()
    for _ in range(number):
        run(x)
    return (time.perf_counter() - t) / number


def _calls_to_last(run, x, min_time: float) -> int:
    """How many calls of ``run(x)`` in a row last at least ``min_time`` seconds (doubling)."""
    number = 1
    while _seconds(run, x, number) * number < min_time and number < 1 << 16:
        number *= 2
    return number


def latency_table(runs: dict, x, batches=(1, 8, 64, 256), *, repeats=15, min_time=2e-3) -> dict:
    """``{engine: {batch: seconds per call}}`` on the first ``batch`` rows of ``x``.

    For each batch the engines are timed in turn, ``repeats`` rounds, each sample looping one
    engine for ``min_time`` seconds; an engine's time is its fastest sample, the one the rest of
    a busy machine disturbed least (as in ``speed.time_ratio``)."""
    if max(batches) > len(x):
        raise ValueError(f"the largest batch, {max(batches)}, needs that many rows; x has {len(x)}")
    table = {engine: {} for engine in runs}
    for b in batches:
        xb = np.ascontiguousarray(x[:b])
        counts = {e: _calls_to_last(run, xb, min_time) for e, run in runs.items()}
        for _ in range(repeats):
            for e, run in runs.items():
                t = _seconds(run, xb, counts[e])
                table[e][b] = min(table[e].get(b, float("inf")), t)
    return table


def throughput(table: dict) -> dict:
    """``{engine: {batch: images per second}}`` from a latency table."""
    return {e: {b: b / s for b, s in row.items()} for e, row in table.items()}
