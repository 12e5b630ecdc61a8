"""Lesson 11's measuring tools: the timer (on a fake clock), the roofline arithmetic, the fused
GELU chain against torch's, and the speed benchmark's JSON (a tiny run)."""

import json

import numpy as np
import pytest
import torch

from course_lib import fusion, speed
from experiments import bench_speed


def test_median_seconds_loops_short_calls_and_takes_the_median(monkeypatch):
    clock = {"t": 0.0}
    monkeypatch.setattr(speed.time, "perf_counter", lambda: clock["t"])
    durations = iter([1e-5] * 3 + [2e-4] * 64 + [9e-4] * 8 + [2e-4] * 1000)

    def f():
        clock["t"] += next(durations)

    # warm-up 1 call; then samples double until one lasts 1 ms: 1, 2, 4, 8 calls of 2e-4 s...
    assert speed.median_seconds(f, repeats=3, warmup=1, min_time=1e-3) == pytest.approx(2e-4)


def test_median_seconds_needs_one_call_for_slow_functions(monkeypatch):
    clock, calls = {"t": 0.0}, []
    monkeypatch.setattr(speed.time, "perf_counter", lambda: clock["t"])

    def f():
        calls.append(1)
        clock["t"] += 0.5

    assert speed.median_seconds(f, repeats=5, warmup=2) == pytest.approx(0.5)
    assert len(calls) == 2 + 5


def test_median_seconds_waits_for_the_device_through_backend_synchronize(monkeypatch):
    from course_lib import backend

    assert speed.synchronize is backend.synchronize  # one way to wait for a GPU
    events = []
    monkeypatch.setattr(speed, "synchronize", lambda device: events.append(("wait", device)))
    speed.median_seconds(lambda: events.append("call"), device="cuda:0", repeats=2, min_time=0)
    assert events == ["call", ("wait", "cuda:0")] * 3  # the warm-up, then 2 samples of one call


def test_precision_names_the_arithmetic_of_a_dtype_name():
    assert speed.precision("tf32") == (torch.float32, True)
    assert speed.precision("float32") == (torch.float32, False)
    assert speed.precision("bfloat16") == (torch.bfloat16, False)
    with pytest.raises(ValueError, match="unknown dtype 'int8'"):
        speed.precision("int8")


def test_gemm_intensity_and_roofline():
    assert speed.gemm_intensity(300, 4) == pytest.approx(2 * 300**3 / (3 * 300**2 * 4))
    np.testing.assert_allclose(speed.roofline([0.1, 1, 100], 50.0, 20.0), [2.0, 20.0, 50.0])


def test_gemm_counts_flops_and_refuses_bad_dtypes():
    r = speed.gemm(64, "float64", repeats=2)
    assert r["gflops"] == pytest.approx(2 * 64**3 / r["seconds"] / 1e9)
    assert r["intensity"] == pytest.approx(2 * 64 / 24)
    with pytest.raises(ValueError, match="unknown dtype"):
        speed.gemm(8, "float8")
    with pytest.raises(ValueError, match="GPU tensor-core"):
        speed.gemm(8, "tf32", device="cpu")


def test_gelu_chain_is_torchs_tanh_gelu_and_its_traffic_is_counted():
    x = torch.linspace(-6, 6, 1001, dtype=torch.float64)
    expected = torch.nn.functional.gelu(x, approximate="tanh")
    torch.testing.assert_close(fusion.gelu_steps(x), expected, rtol=1e-12, atol=1e-12)
    moved = fusion.bytes_moved(1000, 4)
    assert len(fusion.EAGER_TRAFFIC) == 9  # one entry per line of gelu_steps
    assert moved["eager_bytes"] == 21 * 4000 and moved["fused_bytes"] == 2 * 4000


def test_conv_algorithms_time_every_alexnet_layer_both_ways():
    out = speed.conv_algorithms(1, repeats=1)
    assert list(out) == list(speed.ALEXNET_CONVS)
    for times in out.values():
        assert set(times) == {"onednn", "im2col"} and min(times.values()) > 0


def test_tiny_benchmark_writes_json_and_load_picks_the_newest(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_speed.fusion, "compiled", lambda f: f)  # no C++ build in a test
    threads = torch.get_num_threads()
    res = bench_speed.main(["--scale", "tiny", "--threads", "1", "--out", str(tmp_path / "a.json")])
    assert torch.get_num_threads() == threads
    saved = json.loads((tmp_path / "a.json").read_text())
    assert saved["device"] == "cpu" and saved["machine"]["cpu_count"]
    assert {r["dtype"] for r in saved["gemm"]} == {"float64", "float32", "bfloat16"}
    assert {r["library"] for r in saved["op_time"]} == {"torch", "numpy"}
    assert [r["batch"] for r in saved["train_rate"]] == [1, 8] and saved["conv_batch"] == 1
    assert saved["fusion"][0]["max_abs_difference"] < 1e-5
    assert res["triad"][0]["gb_per_s"] > 0
    assert bench_speed.load("cuda", tmp_path) is None
    newer = dict(saved, started="2999-01-01T00:00:00", note="newer")
    (tmp_path / "speed_z.json").write_text(json.dumps(newer))
    (tmp_path / "speed_a.json").write_text(json.dumps(saved))
    assert bench_speed.load("cpu", tmp_path)["note"] == "newer"


def test_cuda_without_a_gpu_is_refused_with_the_fix():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(SystemExit, match="no CUDA GPU"):
        bench_speed.main(["--device", "cuda", "--scale", "tiny"])


def test_cache_sizes_read_linux_sysfs(tmp_path):
    for i, (level, kind, size) in enumerate(
        [
            (1, "Data", "32K"),
            (1, "Instruction", "32K"),
            (2, "Unified", "1024K"),
            (3, "Unified", "32M"),
        ]
    ):
        d = tmp_path / f"index{i}"
        d.mkdir()
        (d / "level").write_text(f"{level}\n")
        (d / "type").write_text(f"{kind}\n")
        (d / "size").write_text(f"{size}\n")
    assert speed.cache_sizes(tmp_path) == {"L1d": 32 * 2**10, "L2": 2**20, "L3": 32 * 2**20}
    assert speed.cache_sizes(tmp_path / "absent") == {}
