"""Inference: training vs inference mode (seed 001's dropout left on), the ONNX graph run by ONNX
Runtime against the NumPy model, the engines' latency table, and int8 quantisation."""

import numpy as np
import onnx
import pytest
import torch

from course_lib import nn
from course_lib.inference import engines, int8, mode, onnx_graph
from course_lib.models.lenet import LeNet5Caffe
from course_lib.models.mlp import MLP
from course_lib.twins.layers import to_torch

pytestmark = pytest.mark.usefixtures("one_thread")


def rows(n, *shape, seed=0):
    return np.random.default_rng(seed).random((n, *shape), dtype=np.float32)


# --- training mode against inference mode ------------------------------------------------------


def test_dropout_left_on_is_caught_and_eval_passes():
    model, x = MLP([13, 11, 7, 3], dropout=0.5, rng=0), rows(5, 13)
    model.train()  # the seed's bug: judging with the training switch still on
    problems = mode.inference_problems(model, x)
    assert any("differ" in p for p in problems) and any("2 (Dropout)" in p for p in problems)
    with pytest.raises(ValueError, match="not ready for inference.*model.eval"):
        mode.check_inference(model, x)
    model.eval()
    assert mode.inference_problems(model, x) == []
    mode.check_inference(model, x)


def test_batch_statistics_in_training_mode_are_caught():
    model, x = MLP([6, 9, 4], batchnorm=True, rng=1), rows(8, 6)
    model.train()  # deterministic, but each row is normalised by its batch's statistics
    problems = mode.inference_problems(model, x)
    assert not any("differ" in p for p in problems)
    assert any("row 0" in p for p in problems) and any("1 (BatchNorm)" in p for p in problems)
    assert mode.inference_problems(model.eval(), x) == []


def test_torch_models_are_checked_too():
    twin = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Dropout(0.5), torch.nn.Linear(4, 2))
    x = rows(6, 5)
    assert any("Dropout" in p for p in mode.inference_problems(twin.train(), x))
    assert mode.inference_problems(twin.eval(), x) == []


def test_inference_check_needs_two_rows():
    with pytest.raises(ValueError, match="at least 2"):
        mode.inference_problems(MLP([3, 2], rng=0), rows(1, 3))


# --- the ONNX graph, run by ONNX Runtime --------------------------------------------------


@pytest.mark.parametrize("sizes, shape", [([784, 300, 100, 10], (1, 28, 28)), ([7, 5, 3], (7,))])
def test_onnx_runtime_computes_the_numpy_model(sizes, shape):
    model = MLP(sizes, dropout=0.3, rng=2).eval()  # dropout vanishes from the inference graph
    graph = onnx_graph.to_onnx(model, shape)
    assert "Dropout" not in [n.op_type for n in graph.graph.node]
    x = rows(9, *shape)
    got = engines.ort_runner(engines.ort_session(graph, 1, level="none"))(x)
    want = model.forward(x)
    assert got.shape == want.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


def test_onnx_lenet5_and_batchnorm_layers():
    lenet = LeNet5Caffe(rng=3)
    x = rows(3, 1, 28, 28)
    got = engines.ort_runner(engines.ort_session(onnx_graph.to_onnx(lenet, (1, 28, 28))))(x)
    np.testing.assert_allclose(got, lenet.predict(x), rtol=1e-4, atol=1e-5)
    bn = MLP([6, 5, 3], batchnorm=True, rng=4, activation="tanh")
    bn.layers[1].running_mean[:] = np.linspace(-1, 1, 5)
    bn.layers[1].running_var[:] = np.linspace(0.5, 2, 5)
    bn.eval()
    got = engines.ort_runner(engines.ort_session(onnx_graph.to_onnx(bn, (6,))))(rows(4, 6))
    np.testing.assert_allclose(got, bn.forward(rows(4, 6)), rtol=1e-5, atol=1e-6)


def test_onnx_refuses_layers_it_cannot_write():
    model = nn.Sequential(nn.Linear(4, 3, rng=0), nn.GELU())
    with pytest.raises(ValueError, match="layer 1 .* no ONNX form"):
        onnx_graph.to_onnx(model, (4,))
    with pytest.raises(ValueError, match="Sequential"):
        onnx_graph.to_onnx(nn.ReLU(), (4,))


def test_onnx_runtime_fuses_matmul_add_relu():
    graph = onnx_graph.to_onnx(MLP([8, 6, 4, 2], rng=5), (8,))
    before = [n.op_type for n in graph.graph.node]
    after = engines.optimized_ops(graph)
    assert before == ["MatMul", "Add", "Relu"] * 2 + ["MatMul", "Add"]
    assert len(after) < len(before) and "MatMul" not in after


# --- engines and their latency -----------------------------------------------------------------


def test_engines_agree_and_latency_table_has_every_batch():
    model = MLP([10, 6, 3], rng=6)
    runs = engines.runners(model, onnx_graph.to_onnx(model, (10,)), threads=1)
    x = rows(16, 10)
    for name, run in runs.items():
        np.testing.assert_allclose(run(x), model.forward(x), rtol=1e-5, atol=1e-6, err_msg=name)
    table = engines.latency_table(runs, x, batches=(1, 4, 16), repeats=2, min_time=1e-4)
    assert set(table) == {"NumPy", "torch eager", "ONNX Runtime"}
    assert all(set(row) == {1, 4, 16} and min(row.values()) > 0 for row in table.values())
    rate = engines.throughput(table)
    assert rate["NumPy"][4] == pytest.approx(4 / table["NumPy"][4])
    with pytest.raises(ValueError, match="largest batch"):
        engines.latency_table(runs, x, batches=(32,))
    with pytest.raises(ValueError, match="optimisation level"):
        engines.ort_session(onnx_graph.to_onnx(model, (10,)), level="max")


def test_torch_runner_is_the_twin_in_inference_mode():
    model = MLP([5, 4, 2], dropout=0.5, rng=7)
    run = engines.torch_runner(to_torch(model))
    x = rows(3, 5)
    np.testing.assert_allclose(run(x), run(x))  # eval: dropout off
    np.testing.assert_allclose(run(x), model.eval().forward(x), rtol=1e-5, atol=1e-6)


# --- int8 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape, axis", [((1, 1), None), ((7, 3), 1), ((5, 4, 3), 0), ((6,), 0)])
def test_quantize_is_within_half_a_step(shape, axis):
    w = np.random.default_rng(8).normal(size=shape).astype(np.float32)
    q, scale = int8.quantize(w, axis=axis)
    assert q.dtype == np.int8 and np.abs(q).max() == 127 and scale.dtype == np.float32
    assert np.all(np.abs(int8.dequantize(q, scale) - w) <= scale / 2 + 1e-7)


def test_quantize_zero_columns_and_empty():
    q, scale = int8.quantize(np.zeros((3, 2), np.float32), axis=1)
    assert not q.any() and np.all(scale == 1)
    with pytest.raises(ValueError, match="non-empty"):
        int8.quantize(np.zeros((0, 3)))


@pytest.mark.parametrize("static", [False, True])
def test_int8_graph_is_smaller_and_close(tmp_path, static):
    model = MLP([256, 128, 10], rng=9).eval()
    graph, x = onnx_graph.to_onnx(model, (256,)), rows(200, 256)
    path = int8.int8_graph(graph, tmp_path / "q.onnx", calibration=x[:100] if static else None)
    ops = [n.op_type for n in onnx.load(path).graph.node]
    assert ("QuantizeLinear" in ops) if static else ("MatMulInteger" in ops)
    assert (tmp_path / "q.onnx").stat().st_size < graph.ByteSize() / 3
    got, want = engines.ort_runner(engines.ort_session(path))(x), model.forward(x)
    # rows past the calibration range are clipped: a mean, not a maximum, is the fair test
    assert np.abs(got - want).mean() < 0.01 * np.abs(want).max()
    assert (got.argmax(1) == want.argmax(1)).mean() > 0.9


def test_int8_calibration_of_the_wrong_shape_is_refused(tmp_path):
    graph = onnx_graph.to_onnx(MLP([16, 4], rng=0), (16,))
    with pytest.raises(ValueError, match="reshape"):
        int8.int8_graph(graph, tmp_path / "q.onnx", calibration=rows(8, 4, 4))
