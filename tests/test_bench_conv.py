"""The convolution speed benchmark: a tiny run through main(), its JSON, the layer table."""

import json

import pytest

from experiments import bench_conv


def test_tiny_run_writes_json(tmp_path):
    out = tmp_path / "conv.json"
    res = bench_conv.main(
        ["--batch", "1", "--scale", "0.05", "--repeats", "2", "--settle", "0", "--note", "tiny"]
        + ["--out", str(out)]
    )
    saved = json.loads(out.read_text())
    assert saved == json.loads(json.dumps(res))
    assert saved["benchmark"] == "conv_speed" and saved["note"] == "tiny"
    assert saved["machine"]["cpu_count"] and saved["settings"]["torch_threads"] >= 1
    assert len(saved["load_before"]) == 3 and len(saved["load_after"]) == 3
    assert [r["name"] for r in saved["layers"]] == [layer[0] for layer in bench_conv.LAYERS]
    for r in saved["layers"]:
        assert r["batch"] == 1
        for side in ("ours", "torch"):
            t = r[side]
            assert t["ms"] > 0 and t["forward_ms"] > 0 and t["backward_ms"] > 0
            assert len(t["all_ms"]) == 2
        assert r["ratio"] == pytest.approx(r["ours"]["ms"] / r["torch"]["ms"])
        assert r["max_diff_rel_to_max"] < 1e-5  # float32: the two compute the same outputs
    assert saved["worst_ratio"] == max(r["ratio"] for r in saved["layers"])
    assert saved["within_target"] == (saved["worst_ratio"] <= saved["target_ratio"] == 3.0)


def test_full_size_layers_are_lenet_and_alexnet():
    specs = {s["name"]: s for s in bench_conv.layer_specs()}
    assert specs["lenet.c1"]["out_size"] == [28, 28] and specs["lenet.c3"]["out_size"] == [10, 10]
    sizes = [specs[f"alexnet.conv{i}"]["out_size"][0] for i in range(1, 6)]
    assert sizes == [55, 27, 13, 13, 13]
    assert specs["alexnet.conv1"]["batch"] == 16 and specs["lenet.c1"]["batch"] == 64
    assert specs["alexnet.conv2"]["gflop_forward"] == pytest.approx(
        2 * 16 * 256 * 27 * 27 * 96 * 25 / 1e9
    )


def test_batch_scale_and_only():
    specs = bench_conv.layer_specs(batch=2, scale=0.5, only=["alexnet.conv1", "lenet"])
    assert [s["name"] for s in specs] == ["lenet.c1", "lenet.c3", "alexnet.conv1"]
    assert [(s["in_channels"], s["out_channels"]) for s in specs] == [(1, 3), (3, 8), (3, 48)]
    assert all(s["batch"] == 2 for s in specs)
    with pytest.raises(SystemExit, match="matches none"):
        bench_conv.main(["--only", "vgg"])


def test_format_table():
    layer = dict(bench_conv.layer_specs(only=["lenet.c3"])[0])
    layer.update(ours={"ms": 6.0}, torch={"ms": 3.0}, ratio=2.0)
    machine = {"processor": "x86_64", "cpu_count": 2, "torch": "2.x", "numpy": "2.y"}
    settings = {"dtype": "float32", "repeats": 5, "torch_threads": 2, "blas_threads": {"b": 2}}
    res = dict(machine=machine, settings=settings, layers=[layer], target_ratio=3.0)
    res.update(load_before=[0.5, 0, 0], load_after=[1.5, 0, 0])
    lines = bench_conv.format_table(res).splitlines()
    assert "median of 5" in lines[0] and "before 0.50, after 1.50" in lines[0]
    assert "2 CPUs" in lines[1] and "(2 threads)" in lines[1]
    row = ["lenet.c3", "64x6x14x14", "16@5x5/1p0", "0.09", "6.00", "3.00", "2.00"]
    assert lines[3].split() == row  # GFLOP: forward and backward, 3 x 2 x 64*16*10*10*6*25
    assert lines[4] == "  worst ratio 2.00 (target <= 3)"
