"""Time the from-scratch Conv2d (im2col + one matrix product) against torch's CPU conv2d.

Layers: LeNet-5's two convolutions (batch 64: 1x32x32 -> 6 filters 5x5, 6x14x14 -> 16 filters 5x5)
and AlexNet's five (batch 16 at 227x227: 3 -> 96 11x11 stride 4; 96x27x27 -> 256 5x5 pad 2;
256x13x13 -> 384 3x3 pad 1; 384 -> 384 3x3 pad 1; 384 -> 256 3x3 pad 1).  Each is timed as one
forward and one backward pass (dW, db and dx: every layer computes the input gradient, ours with
``input_grad=True`` and torch's with ``x.requires_grad``), in float32, on the same random input and
weights, with the same number of threads (torch's ``get_num_threads()`` and NumPy's BLAS threads
are both recorded).  One untimed warm-up pass first, then the median of ``--repeats`` passes
(ours, then torch's, each after a pause of ``--settle`` seconds: see :func:`time_passes`).  The
ratio is ours / torch per layer; the course's target is a ratio of at most 3.

``--batch`` replaces every layer's batch size and ``--scale`` multiplies the channel counts (not
the image's 1 or 3 channels), for a quick run.  The load average before and after is stored, so a
result measured on a busy machine says so.

    python -m experiments.bench_conv --out experiments/results/conv_speed_cpu_2core.json
    python -m experiments.bench_conv --batch 2 --scale 0.1 --repeats 1      # seconds
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from experiments.benchkit import blas_threads, record_end, record_start

TARGET_RATIO = 3.0

# name, batch, in_channels, (H, W), out_channels, kernel, stride, padding
LAYERS = [
    ("lenet.c1", 64, 1, (32, 32), 6, 5, 1, 0),
    ("lenet.c3", 64, 6, (14, 14), 16, 5, 1, 0),
    ("alexnet.conv1", 16, 3, (227, 227), 96, 11, 4, 0),
    ("alexnet.conv2", 16, 96, (27, 27), 256, 5, 1, 2),
    ("alexnet.conv3", 16, 256, (13, 13), 384, 3, 1, 1),
    ("alexnet.conv4", 16, 384, (13, 13), 384, 3, 1, 1),
    ("alexnet.conv5", 16, 384, (13, 13), 256, 3, 1, 1),
]


def layer_specs(batch=None, scale=1.0, only=None) -> list[dict]:
    """The benchmarked layers as dicts, with ``batch`` and ``scale`` applied (see the docstring)."""

    def scaled(channels):
        return channels if channels <= 3 else max(1, round(channels * scale))

    specs = []
    for name, n, c, size, o, k, s, p in LAYERS:
        if only and not any(name.startswith(prefix) for prefix in only):
            continue
        spec = dict(name=name, batch=batch or n, in_channels=scaled(c), size=list(size))
        spec.update(out_channels=scaled(o), kernel=k, stride=s, padding=p)
        h_out = (size[0] + 2 * p - k) // s + 1
        w_out = (size[1] + 2 * p - k) // s + 1
        spec["out_size"] = [h_out, w_out]
        macs = spec["batch"] * spec["out_channels"] * h_out * w_out * spec["in_channels"] * k * k
        spec["gflop_forward"] = 2 * macs / 1e9  # backward: twice this (dW and dx)
        specs.append(spec)
    return specs


def _inputs(spec, seed):
    rng = np.random.default_rng(seed)
    n, c, o, k = spec["batch"], spec["in_channels"], spec["out_channels"], spec["kernel"]
    x = rng.standard_normal((n, c, *spec["size"]), dtype=np.float32)
    w = (rng.standard_normal((o, c, k, k)) * np.sqrt(2.0 / (c * k * k))).astype(np.float32)
    b = rng.standard_normal(o, dtype=np.float32)
    dout = rng.standard_normal((n, o, *spec["out_size"]), dtype=np.float32)
    return x, w, b, dout


def ours_pass(spec, x, w, b, dout):
    """A function running one forward + backward of our Conv2d: returns (forward s, backward s,
    output)."""
    from course_lib.nn import Conv2d

    layer = Conv2d(
        spec["in_channels"],
        spec["out_channels"],
        spec["kernel"],
        spec["stride"],
        spec["padding"],
        weight_init="zeros",
    )
    layer.W[...], layer.b[...] = w, b

    def run():
        t0 = time.perf_counter()
        y = layer.forward(x)
        t1 = time.perf_counter()
        layer.backward(dout)
        t2 = time.perf_counter()
        return t1 - t0, t2 - t1, y

    return run


def torch_pass(spec, x, w, b, dout):
    """The same with ``torch.nn.functional.conv2d`` under autograd on the CPU."""
    import torch
    import torch.nn.functional as F

    xt = torch.from_numpy(x).requires_grad_(True)
    wt = torch.from_numpy(w).requires_grad_(True)
    bt = torch.from_numpy(b).requires_grad_(True)
    dt = torch.from_numpy(dout)

    def run():
        for t in (xt, wt, bt):
            t.grad = None
        t0 = time.perf_counter()
        y = F.conv2d(xt, wt, bt, stride=spec["stride"], padding=spec["padding"])
        t1 = time.perf_counter()
        y.backward(dt)
        t2 = time.perf_counter()
        return t1 - t0, t2 - t1, y.detach().numpy()

    return run


def _medians(times) -> dict:
    total = [f + b for f, b in times]
    return {
        "ms": 1e3 * statistics.median(total),
        "forward_ms": 1e3 * statistics.median([f for f, _ in times]),
        "backward_ms": 1e3 * statistics.median([b for _, b in times]),
        "all_ms": [round(1e3 * t, 3) for t in total],
    }


def time_passes(runs: dict, repeats: int, warmup: int = 1, settle_s: float = 0.3) -> dict:
    """Medians (ms) of forward, backward and their sum over ``repeats`` calls of each run.

    One run after the other, each after its warm-up and a pause of ``settle_s``: NumPy's BLAS
    threads and torch's OpenMP threads keep spinning for a while after their last job, so runs
    taking turns would slow each other down (torch by up to 2x on two cores).
    """
    timed = {}
    for name, run in runs.items():
        time.sleep(settle_s)
        for _ in range(warmup):
            run()
        timed[name] = _medians([run()[:2] for _ in range(repeats)])
    return timed


def bench_layer(spec: dict, repeats: int, warmup: int = 1, seed: int = 0, settle_s=0.3) -> dict:
    """One layer, ours and torch's: times, the ratio, and how far the two outputs differ."""
    x, w, b, dout = _inputs(spec, seed)
    runs = {"ours": ours_pass(spec, x, w, b, dout), "torch": torch_pass(spec, x, w, b, dout)}
    timed = time_passes(runs, repeats, warmup, settle_s)
    y_ours, y_torch = np.asarray(runs["ours"]()[2]), runs["torch"]()[2]
    diff = float(np.abs(y_ours - y_torch).max() / max(np.abs(y_torch).max(), 1e-30))
    ratio = timed["ours"]["ms"] / timed["torch"]["ms"]
    return {**spec, **timed, "ratio": ratio, "max_diff_rel_to_max": diff}


def format_table(res: dict) -> str:
    """A result as text: the machine and threads, then ms per layer, ours and torch's."""
    m, s = res["machine"], res["settings"]
    lines = [
        f"Conv2d forward+backward, {s['dtype']}, median of {s['repeats']} "
        f"(load average before {res['load_before'][0]:.2f}, after {res['load_after'][0]:.2f})",
        f"  machine: {m['processor']}, {m['cpu_count']} CPUs, torch {m.get('torch')} "
        f"({s['torch_threads']} threads), numpy {m['numpy']} (BLAS threads {s['blas_threads']})",
        f"  {'layer':15s} {'input':>16s} {'filters':>12s} {'GFLOP':>6s} {'ours ms':>9s} "
        f"{'torch ms':>9s} {'ratio':>6s}",
    ]
    for r in res["layers"]:
        shape = f"{r['batch']}x{r['in_channels']}x{r['size'][0]}x{r['size'][1]}"
        filt = f"{r['out_channels']}@{r['kernel']}x{r['kernel']}/{r['stride']}p{r['padding']}"
        lines.append(
            f"  {r['name']:15s} {shape:>16s} {filt:>12s} {3 * r['gflop_forward']:6.2f} "
            f"{r['ours']['ms']:9.2f} {r['torch']['ms']:9.2f} {r['ratio']:6.2f}"
        )
    worst = max(r["ratio"] for r in res["layers"])
    lines.append(f"  worst ratio {worst:.2f} (target <= {res['target_ratio']:g})")
    return "\n".join(lines)


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m experiments.bench_conv",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--batch", type=int, default=None, help="batch size for every layer")
    p.add_argument(
        "--scale", type=float, default=1.0, help="multiply the channel counts (not 1 or 3)"
    )
    p.add_argument("--only", default="", help="comma-separated layer-name prefixes (lenet,...)")
    p.add_argument("--repeats", type=int, default=5, help="timed passes per layer (median)")
    p.add_argument("--warmup", type=int, default=1, help="untimed passes first")
    p.add_argument(
        "--settle", type=float, default=0.3, help="seconds of pause before each timed run"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--note", default="", help="free text stored in the JSON")
    p.add_argument("--out", default=None, help="JSON path to write (default: print only)")
    return p.parse_args(argv)


def main(argv=None) -> dict:
    import torch

    args = parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    specs = layer_specs(args.batch, args.scale, only)
    if not specs:
        raise SystemExit(f"--only {args.only!r} matches none of {[x[0] for x in LAYERS]}")
    out = record_start(
        "conv_speed",
        note=args.note,
        settings={
            "dtype": "float32",
            "repeats": args.repeats,
            "warmup": args.warmup,
            "batch": args.batch,
            "scale": args.scale,
            "seed": args.seed,
            "settle_s": args.settle,
            "torch_threads": torch.get_num_threads(),
            "blas_threads": blas_threads(),
            "timed": "one forward + one backward (dW, db and dx)",
        },
        target_ratio=TARGET_RATIO,
        layers=[],
    )
    for spec in specs:
        r = bench_layer(spec, args.repeats, args.warmup, args.seed, args.settle)
        out["layers"].append(r)
        print(
            f"[bench_conv] {r['name']:14s} ours {r['ours']['ms']:9.2f} ms  "
            f"torch {r['torch']['ms']:9.2f} ms  ratio {r['ratio']:5.2f}"
        )
    out["worst_ratio"] = max(r["ratio"] for r in out["layers"])
    out["within_target"] = out["worst_ratio"] <= TARGET_RATIO
    return record_end(out, args.out, format_table, "bench_conv")


if __name__ == "__main__":
    main()
