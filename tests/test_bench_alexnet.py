"""The AlexNet speed benchmark: a tiny run through main(), its JSON, the ratios, the layer costs
and the printed table."""

import json
import math

import numpy as np
import pytest

from course_lib.models.alexnet import layer_costs
from experiments import bench_alexnet


def test_tiny_run_writes_json(tmp_path):
    out = tmp_path / "alexnet.json"
    res = bench_alexnet.main(
        ["--in-size", "32", "--width", "0.0625", "--batch", "2", "--steps", "2", "--warmup", "1"]
        + ["--settle", "0", "--threads", "1", "--note", "tiny", "--out", str(out)]
    )
    saved = json.loads(out.read_text())
    assert saved == json.loads(json.dumps(res))
    assert saved["benchmark"] == "alexnet_speed" and saved["note"] == "tiny"
    assert saved["machine"]["cpu_count"] and saved["settings"]["threads"] == 1
    assert len(saved["load_before"]) == 3 and len(saved["load_after"]) == 3
    timed = {r["backend"] for r in saved["runs"]}
    skipped = {s["backend"]: s["reason"] for s in saved["skipped"]}
    assert {"numpy", "torch-cpu"} <= timed and not timed & set(skipped)
    assert timed | set(skipped) == set(bench_alexnet.BACKENDS) and all(skipped.values())
    combos = {(r["net"], r["backend"], r["dtype"]) for r in saved["runs"]}
    assert len(combos) == len(saved["runs"]) == 2 * len(timed) * 2  # nets x backends x dtypes
    for r in saved["runs"]:
        assert len(r["all_s"]) == 2 and r["s_per_step"] > 0
        assert r["img_per_min"] == pytest.approx(60 * 2 / r["s_per_step"])
        assert len(r["losses"]) == 3 and all(math.isfinite(v) for v in r["losses"])
        classes = 1000 if r["net"] == "alexnet" else 256
        # small init: near uniform (a large init gives tens); 1.0 leaves room for the dropout
        # masks, drawn from torch's global generator, whose state depends on the tests before
        assert r["losses"][0] == pytest.approx(math.log(classes), abs=1.0)
    same = [r["parameters"] for r in saved["runs"] if r["net"] == "alexnet"]
    assert len(set(same)) == 1
    fd = saved["ratios"]["float_over_double"]
    speed = {(r["net"], r["backend"], r["dtype"]): r["img_per_min"] for r in saved["runs"]}
    assert fd["seed/numpy"] == pytest.approx(
        speed["seed", "numpy", "float32"] / speed["seed", "numpy", "float64"]
    )
    assert set(saved["ratios"]["numpy_over_torch"]) == {
        f"{n}/{d}" for n in ("alexnet", "seed") for d in ("float32", "float64")
    }


def test_layer_costs_at_the_papers_size():
    net = bench_alexnet.build_net("alexnet")  # 227x227x3, width 1, the towers merged
    rows = layer_costs(net)
    assert sum(r["params"] for r in rows) == net.parameter_count() == 62_378_344
    conv1 = rows[0]
    assert conv1["layer"] == "Conv2d" and conv1["out_shape"] == [96, 55, 55]
    assert conv1["flops"] == 2 * 96 * 55 * 55 * 3 * 11 * 11
    fc = [r for r in rows if r["layer"] == "Linear"]
    assert [r["flops"] for r in fc] == [2 * 9216 * 4096, 2 * 4096 * 4096, 2 * 4096 * 1000]
    assert all(r["flops"] == 0 for r in rows if r["layer"] not in ("Conv2d", "Linear"))
    assert rows[-1]["out_shape"] == [1000]


def test_seed_net_and_unknown_names():
    net = bench_alexnet.build_net("seed", in_size=32)
    assert net.n_classes == 256 and [c.W.shape[0] for c in net.convs] == [48, 96]
    assert float(np.abs(net.convs[0].W).mean()) < 0.02  # N(0, 0.01^2), the paper's init
    with pytest.raises(ValueError, match="unknown net"):
        bench_alexnet.build_net("vgg")
    with pytest.raises(SystemExit, match="choose from"):
        bench_alexnet.main(["--backends", "tpu"])
    assert "unknown backend" in bench_alexnet.unavailable_reason("tpu")
    assert bench_alexnet.unavailable_reason("numpy") is None


def test_format_table():
    run = dict(net="seed", backend="numpy", dtype="float32", parameters=1234, s_per_step=0.5)
    run.update(gflop_forward_per_image=0.25, img_per_min=1920.0)
    machine = {"processor": "x86_64", "cpu_count": 2, "gpu": None, "torch": "2.x", "numpy": "2.y"}
    settings = dict(in_size=227, width=1.0, batch=16, steps=5, threads=2)
    res = dict(machine=machine, settings=settings, runs=[run], load_before=[0.5, 0, 0])
    res.update(load_after=[1.5, 0, 0], ratios=bench_alexnet.ratios([run]))
    lines = bench_alexnet.format_table(res).splitlines()
    assert "227x227" in lines[0] and "median of 5" in lines[0] and "after 1.50" in lines[0]
    assert "2 CPUs" in lines[1] and "(2 threads)" in lines[1]
    assert lines[3].split() == ["seed", "numpy", "float32", "1,234", "0.250", "0.500", "1,920"]
    assert lines[4] == "  float over double: -"
