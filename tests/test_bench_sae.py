"""The SAE speed benchmark: a tiny protocol through main(), JSON, agreement, honest skips."""
import json

import pytest

from experiments import bench_sae


def test_tiny_protocol_writes_json(data_dir, tmp_path):
    out = tmp_path / "bench.json"
    res = bench_sae.main(["--backends", "numpy,torch-cpu,cupy,torch-cuda,torch-cuda-graph", "--images", "400",
                          "--pretrain-epochs", "1", "--finetune-epochs", "1", "--batch-sizes", "100",
                          "--sizes", "784,64,32,2", "--data-dir", str(data_dir), "--out", str(out)])
    saved = json.loads(out.read_text())
    assert saved == json.loads(json.dumps(res))
    assert saved["machine"]["cpu_count"] and "numpy" in saved["machine"]
    runs = {r["backend"]: r for r in saved["runs"]}
    assert {"numpy", "torch-cpu"} <= set(runs)
    for r in runs.values():
        assert r["total_s"] > 0 and r["pretrain_s"] > 0 and len(r["pretrain_layer_s"]) == 3
    assert runs["torch-cpu"]["recon_sqerr"] == pytest.approx(runs["numpy"]["recon_sqerr"], rel=1e-4)
    skipped = {s["backend"]: s["reason"] for s in saved["skipped"]}
    for b in ("cupy", "torch-cuda", "torch-cuda-graph"):
        assert (b in skipped) != (b in runs)
        if b in skipped:
            assert skipped[b]


def test_unknown_backend_is_skipped_with_reason():
    assert "unknown backend" in bench_sae.unavailable_reason("tpu")
    assert bench_sae.unavailable_reason("numpy") is None
