"""The autoencoder layer's step as named parts (lesson 05): the library's layer on the same
numbers, torch on the CPU, odd shapes and batch 1, the part timer and the profiler."""

import numpy as np
import pytest

from course_lib import intensity, optim, profile_calls, sae_step
from course_lib.models.stacked_ae import TiedAutoencoder, init_layer
from course_lib.nn import SigmoidCrossEntropy
from course_lib.train import step


def library_step(x, k, n, lr, seed=3):
    layer = TiedAutoencoder(k, n, seed=seed, dtype="float64")
    sgd = optim.SGD([layer.flat.theta], [layer.flat.grad], lr=lr)
    loss = float(step(layer, SigmoidCrossEntropy(), sgd, x, x))
    return loss, layer.W, layer.c, layer.b


@pytest.mark.parametrize("m, k, n", [(1, 5, 3), (6, 7, 4), (20, 12, 30)])
def test_a_step_is_the_library_layers_step(m, k, n):
    x = np.random.default_rng(m).random((m, k))
    W, c, b = init_layer(k, n, seed=3, dtype="float64")
    st = sae_step.run_step(sae_step.State.new("numpy", x, W, c, b, lr=0.5))
    loss, W1, c1, b1 = library_step(x, k, n, lr=0.5)
    assert float(st.loss) == pytest.approx(loss, rel=1e-12)
    for ours, theirs in [(st.W, W1), (st.c, c1), (st.b, b1)]:
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    assert not np.allclose(st.W, W)  # the step moved the weights


def test_torch_on_the_cpu_gives_numpys_step():
    x = np.random.default_rng(0).random((9, 11)).astype(np.float32)
    W, c, b = init_layer(11, 6, seed=1)
    a = sae_step.run_step(sae_step.State.new("numpy", x, W, c, b))
    t = sae_step.run_step(sae_step.State.new("torch-cpu", x, W, c, b))
    np.testing.assert_allclose(t.W.numpy(), a.W, rtol=1e-5, atol=1e-6)
    assert float(t.loss) == pytest.approx(float(a.loss), rel=1e-5)


def test_parts_follow_the_counted_order_and_the_timer_puts_the_weights_back():
    assert list(sae_step.PARTS) == [p.name for p in intensity.tied_ae_step()]
    x = np.random.default_rng(0).random((4, 8)).astype(np.float32)
    W, c, b = init_layer(8, 5, seed=0)
    st = sae_step.State.new("numpy", x, W, c, b)
    sae_step.run_step(st)
    before = st.W.copy()
    rows = sae_step.time_parts(st, repeats=2, min_time=1e-5)
    assert [r["part"] for r in rows] == list(sae_step.PARTS)
    assert all(r["seconds"] > 0 and r["backend"] == "numpy" for r in rows)
    assert rows[0]["flops"] == intensity.tied_ae_step(4, 8, 5)[0].flops
    np.testing.assert_array_equal(st.W, before)
    assert sae_step.time_step(st, repeats=2, min_time=1e-5) > 0


def test_fastest_seconds_drops_short_samples_and_keeps_the_fastest(monkeypatch):
    clock = {"t": 0.0}
    monkeypatch.setattr(sae_step.time, "perf_counter", lambda: clock["t"])
    durations = iter([1.0, 1e-4] + [2e-3] * 2 + [1e-3] * 2 + [3e-3] * 2)

    def f():
        clock["t"] += next(durations)

    # a warm-up call; a 1-call sample too short to count (1e-4 s); then samples of 2 calls
    # lasting 4e-3, 2e-3 and 6e-3 s: the fastest is 1e-3 s a call
    assert sae_step.fastest_seconds(f, None, repeats=3, min_time=1e-3) == pytest.approx(1e-3)


def test_unavailable_backends_say_why():
    assert "unknown backend" in sae_step.unavailable("tpu")
    assert sae_step.unavailable("numpy") is None
    from course_lib.backend import gpu_available

    if not gpu_available():
        assert "GPU" in sae_step.unavailable("cupy")


def test_profile_labels_methods_by_class_and_adds_up():
    class Layer:
        def forward(self, x):
            return sum(i * i for i in range(x))

    rows = profile_calls.profile(lambda: [Layer().forward(2000) for _ in range(3)])
    names = [r["function"] for r in rows]
    assert "Layer.forward" in names
    forward = rows[names.index("Layer.forward")]
    assert forward["calls"] == 3 and forward["total_s"] >= forward["self_s"]
    assert rows == sorted(rows, key=lambda r: -r["self_s"])
