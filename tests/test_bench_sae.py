"""The SAE speed benchmark: a tiny protocol through main(), JSON, agreement, honest skips,
the projection to the seed's protocol and the printed table."""

import json

import pytest

from experiments import bench_sae


def test_tiny_protocol_writes_json(data_dir, tmp_path):
    out = tmp_path / "bench.json"
    res = bench_sae.main(
        [
            "--backends",
            ",".join(bench_sae.ALL_BACKENDS),
            "--images",
            "400",
            "--pretrain-epochs",
            "1",
            "--finetune-epochs",
            "1",
            "--batch-sizes",
            "100",
            "--sizes",
            "784,64,32,2",
            "--data-dir",
            str(data_dir),
            "--out",
            str(out),
        ]
    )
    saved = json.loads(out.read_text())
    assert saved == json.loads(json.dumps(res))
    assert saved["machine"]["cpu_count"] and "numpy" in saved["machine"]
    runs = {r["backend"]: r for r in saved["runs"]}
    assert {"numpy", "torch-cpu"} <= set(runs)
    for r in runs.values():
        assert r["total_s"] > 0 and r["pretrain_s"] > 0 and len(r["pretrain_layer_s"]) == 3
    assert runs["torch-cpu"]["recon_sqerr"] == pytest.approx(runs["numpy"]["recon_sqerr"], rel=1e-4)
    skipped = {s["backend"]: s["reason"] for s in saved["skipped"]}
    for b in bench_sae.GPU_BACKENDS:
        assert (b in skipped) != (b in runs)
        if b in skipped:
            assert skipped[b]


def test_progress_bars_show_each_stage_and_change_no_number(data_dir, capsys):
    args = [
        "--backends",
        "numpy,torch-cpu",
        "--images",
        "300",
        "--pretrain-epochs",
        "1",
        "--finetune-epochs",
        "1",
        "--sizes",
        "784,16,2",
        "--no-warmup",
        "--data-dir",
        str(data_dir),
    ]
    quiet = bench_sae.main(args)
    assert "layer 1/2" not in capsys.readouterr().out
    shown = bench_sae.main(args + ["--progress"])
    out = capsys.readouterr().out
    for stage in ("layer 1/2", "layer 2/2", "fine-tune"):
        assert out.count(stage) >= 2, stage  # once per backend at least
    assert shown["protocol"]["progress_bar"] and not quiet["protocol"]["progress_bar"]
    for a, b in zip(quiet["runs"], shown["runs"]):
        assert a["backend"] == b["backend"] and a["recon_sqerr"] == b["recon_sqerr"]


def test_unknown_backend_is_skipped_with_reason():
    assert "unknown backend" in bench_sae.unavailable_reason("tpu")
    assert bench_sae.unavailable_reason("numpy") is None


def fake_result(images, pretrain_epochs, finetune_epochs):
    protocol = {
        "images": images,
        "pretrain_epochs": pretrain_epochs,
        "finetune_epochs": finetune_epochs,
        "sizes": [784, 1000, 500, 250, 2],
    }
    machine = {"processor": "x86_64", "cpu_count": 2, "gpu": None, "torch": "2.x", "numpy": "2.y"}
    runs = [
        {
            "backend": "numpy",
            "batch_size": 100,
            "pretrain_s": 60.0,
            "finetune_s": 30.0,
            "total_s": 90.0,
            "recon_sqerr": 40.0,
            "rel_diff_vs_numpy": 0.0,
        },
        {
            "backend": "torch-cpu",
            "batch_size": 100,
            "pretrain_s": 120.0,
            "finetune_s": 6.0,
            "total_s": 126.0,
            "recon_sqerr": 40.2,
        },
    ]
    skipped = [{"backend": "cupy", "reason": "no GPU"}]
    return {"machine": machine, "protocol": protocol, "runs": runs, "skipped": skipped}


def test_projected_minutes_scale_each_phase_by_its_work():
    full = fake_result(**bench_sae.SEED_PROTOCOL)
    assert bench_sae.projected_minutes(full, full["runs"][0]) == (1.0, 0.5, False)
    reduced = fake_result(images=5000, pretrain_epochs=1, finetune_epochs=1)
    pre, ft, projected = bench_sae.projected_minutes(reduced, reduced["runs"][0])
    assert projected and pre == pytest.approx(150.0) and ft == pytest.approx(25.0)


def test_format_table_has_one_row_per_run_and_names_the_skipped():
    lines = bench_sae.format_table(fake_result(50000, 15, 5), "Title").splitlines()
    assert lines[0] == "Title"
    assert "2 CPUs" in lines[1] and "15 pretraining epochs x 4 layers" in lines[2]
    assert lines[3].split() == [
        "backend",
        "batch",
        "pretrain",
        "min",
        "fine-tune",
        "min",
        "total",
        "min",
        "error",
        "vs",
        "numpy",
    ]
    assert lines[4].split() == ["numpy", "100", "1.000", "0.500", "1.500", "40.000", "0.00%"]
    assert lines[5].split() == ["torch-cpu", "100", "2.000", "0.100", "2.100", "40.200"]
    assert lines[6].split() == ["cupy", "skipped:", "no", "GPU"] and len(lines) == 7


def test_a_failing_backend_is_recorded_and_the_others_are_kept(data_dir, tmp_path, monkeypatch):
    real = bench_sae.run_protocol

    def torch_breaks(backend, *args, **kw):
        if backend == "torch-cpu":
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        return real(backend, *args, **kw)

    monkeypatch.setattr(bench_sae, "run_protocol", torch_breaks)
    out = tmp_path / "bench.json"
    argv = [
        "--backends",
        "torch-cpu,numpy",
        "--images",
        "300",
        "--pretrain-epochs",
        "1",
        "--finetune-epochs",
        "1",
        "--sizes",
        "784,32,2",
        "--data-dir",
        str(data_dir),
        "--out",
        str(out),
    ]
    with pytest.raises(SystemExit, match="1 run"):
        bench_sae.main(argv)
    saved = json.loads(out.read_text())
    assert [r["backend"] for r in saved["runs"]] == ["numpy"] and saved["finished"]
    assert saved["failed"] == [
        {
            "backend": "torch-cpu",
            "batch_size": "warm-up",
            "error": "RuntimeError: CUDA error: an illegal memory access was encountered",
        }
    ]


def test_the_json_is_written_after_each_run(data_dir, tmp_path, monkeypatch):
    out, seen = tmp_path / "bench.json", []
    real = bench_sae.run_protocol

    def look_first(backend, *args, **kw):
        if out.is_file():
            seen.append(json.loads(out.read_text()))
        return real(backend, *args, **kw)

    monkeypatch.setattr(bench_sae, "run_protocol", look_first)
    argv = [
        "--backends",
        "numpy",
        "--images",
        "300",
        "--pretrain-epochs",
        "1",
        "--finetune-epochs",
        "1",
        "--sizes",
        "784,32,2",
        "--batch-sizes",
        "50,100",
        "--no-warmup",
        "--data-dir",
        str(data_dir),
        "--out",
        str(out),
    ]
    bench_sae.main(argv)
    assert len(seen) == 1 and seen[0]["finished"] is None
    assert [r["batch_size"] for r in seen[0]["runs"]] == [50]
