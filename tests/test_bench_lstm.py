"""The LSTM speed benchmark: a tiny run through main(), its JSON, the ratio, the --sizes parser
and the printed table."""

import json
import math

import pytest
import torch

from experiments import bench_lstm


def test_tiny_run_writes_json(tmp_path):
    out = tmp_path / "lstm.json"
    threads_before = torch.get_num_threads()
    res = bench_lstm.main(
        ["--sizes", "30x16x1, 20x8x2@2x3", "--batch", "4", "--steps", "5", "--warmup", "1"]
        + ["--repeats", "2", "--threads", "1", "--note", "tiny", "--out", str(out)]
    )
    assert torch.get_num_threads() == threads_before  # put back afterwards
    saved = json.loads(out.read_text())
    assert saved == json.loads(json.dumps(res))
    assert saved["benchmark"] == "lstm_speed" and saved["note"] == "tiny"
    assert saved["machine"]["cpu_count"] and len(saved["load_before"]) == 3
    assert len(saved["load_after"]) == 3 and "2x of torch" in saved["target"]
    s = saved["settings"]
    assert s["threads"] == 1 and s["dtype"] == "float32" and s["repeats"] == 2
    assert "blas_threads" in s
    shapes = [(c["config"], c["batch"], c["steps"]) for c in saved["configs"]]
    assert shapes == [("30x16x1", 4, 5), ("20x8x2", 2, 3)]  # the second overrides batch, steps
    for c in saved["configs"]:
        for impl in ("ours", "torch"):
            r = c[impl]
            assert len(r["all_s"]) == 2 and r["s_per_step"] > 0
            assert r["tokens_per_s"] == pytest.approx(c["batch"] * c["steps"] / r["s_per_step"])
            assert len(r["losses"]) == 3  # warm-up + timed
            assert r["losses"][0] == pytest.approx(math.log(c["vocab"]), abs=0.5)
        ratio = c["torch"]["tokens_per_s"] / c["ours"]["tokens_per_s"]
        assert c["torch_over_ours"] == pytest.approx(ratio)
        assert c["target_met"] == (c["torch_over_ours"] <= 2)
    first = saved["configs"][0]
    assert first["ours"]["parameters"] == 30 * 16 + 4 * 16 * (16 + 16 + 1) + 16 * 30 + 30
    assert first["torch"]["parameters"] == first["ours"]["parameters"] + 4 * 16  # bias_hh too


@pytest.mark.parametrize("bad", ["65x128", "65x128x2,", "axbxc", "65x0x2", "1x8x1", "65x8x1@4"])
def test_bad_sizes_exit_with_a_message(bad):
    with pytest.raises(SystemExit, match="--sizes .*VOCABxHIDDENxLAYERS"):
        bench_lstm.main(["--sizes", bad])


def test_parse_sizes_and_windows():
    cfgs = bench_lstm.parse_sizes(bench_lstm.DEFAULT_SIZES, 32, 50)
    assert [(c["vocab"], c["hidden"], c["layers"]) for c in cfgs] == [
        (65, 128, 2),
        (65, 512, 2),
        (10000, 200, 2),
    ]
    assert [(c["batch"], c["steps"]) for c in cfgs] == [(32, 50), (32, 50), (20, 20)]
    windows = bench_lstm.token_windows(7, 3, 4, 2, seed=0)
    assert len(windows) == 2 and all(x.shape == y.shape == (3, 4) for x, y in windows)
    (x0, y0), (x1, _) = windows
    assert (y0[:, :-1] == x0[:, 1:]).all() and (y0[:, -1] == x1[:, 0]).all()  # streams go on


def test_format_table():
    impl = dict(parameters=1234, tokens_per_s=2000.0, s_per_step=0.5)
    row = dict(config="65x128x2", batch=32, steps=50, ours=impl, torch=dict(impl))
    row["torch"].update(tokens_per_s=3000.0, s_per_step=0.25)
    row.update(torch_over_ours=1.5, target_met=True)
    machine = {"processor": "x86_64", "cpu_count": 2, "torch": "2.x", "numpy": "2.y"}
    settings = dict(dtype="float32", repeats=20, warmup=3, threads=2)
    res = dict(machine=machine, settings=settings, configs=[row], target="ours within 2x")
    res.update(load_before=[0.5, 0, 0], load_after=[1.5, 0, 0])
    lines = bench_lstm.format_table(res).splitlines()
    assert "median of 20" in lines[0] and "after 1.50" in lines[0]
    assert "(2 threads)" in lines[1] and lines[2] == "  target: ours within 2x"
    row = ["65x128x2", "32", "x", "50", "1,234", "2,000", "3,000", "1.50", "0.5000", "0.2500"]
    assert lines[4].split() == row + ["yes"]
    assert all(len(line) <= 100 for line in lines[2:])
