"""What makes a GPU fast, measured on one device: lesson 11's measurements as one JSON.

Six measurements, each with :mod:`course_lib.speed` or :mod:`course_lib.fusion` on ``--device``:

- ``gemm``: n x n matrix products by size and dtype (float64, float32, bfloat16, float16; on a GPU
  also TF32), GFLOP/s and arithmetic intensity, for the roofline;
- ``triad``: STREAM's a = b + s c by vector length: memory bandwidth, cache by cache;
- ``op_time``: one ``x + 1`` by length: the fixed cost of an operation (dispatch, kernel launch),
  then the bandwidth slope (torch, and NumPy on the CPU);
- ``fusion``: tanh-GELU as nine eager operations against one ``torch.compile``-d kernel;
- ``conv``: AlexNet's convolutions by algorithm (cuDNN heuristic vs ``cudnn.benchmark``; on the
  CPU oneDNN vs torch's im2col);
- ``train_rate``: images/s of an MLP training step by batch size ("10x faster on a GPU" depends
  on the batch).

    python -m experiments bench speed --out experiments/results/speed_cpu_2core.json
    python -m experiments bench speed --device cuda --out experiments/results/speed_h200.json
    python -m experiments bench speed --scale tiny          # seconds: a smoke test

Lesson 11 runs the same functions live on the CPU and reads the newest committed GPU JSON with
:func:`load`.  The load average before and after is stored, so a busy machine shows.
"""

from __future__ import annotations

import argparse
import os
import traceback

from course_lib import fusion, speed
from course_lib.repro import write_json
from experiments.benchkit import (
    RESULTS,
    blas_threads,
    limit_threads,
    newest_result,
    record_end,
    record_start,
)

SCALES = {  # sizes per measurement; "full" is the committed setting
    "tiny": dict(
        gemm=[64, 128],
        triad=[2**10, 2**14],
        op=[1, 2**12],
        fusion=[2**14],
        conv_batch=1,
        train=[1, 8],
        repeats=2,
    ),
    "quick": dict(
        gemm=[64, 128, 256, 512, 1024],
        triad=[2**k for k in range(10, 26, 3)],
        op=[4**k for k in range(0, 12, 2)],
        fusion=[2**16, 2**20, 2**23],
        conv_batch=4,
        train=[1, 4, 16, 64, 256, 1024],
        repeats=5,
    ),
    "full": dict(
        gemm=[2**k for k in range(5, 14)],
        triad=[2**k for k in range(10, 28)],
        op=[4**k for k in range(0, 14)],
        fusion=[2**k for k in range(12, 27, 2)],
        conv_batch=64,
        train=[2**k for k in range(0, 14)],
        repeats=11,
    ),
}


def gemm_dtypes(device: str) -> list[str]:
    """The dtypes worth timing: TF32 exists only on a GPU; float16 products are slow emulation
    on most CPUs (bfloat16 is the CPU's 16-bit format)."""
    if device.startswith("cuda"):
        return ["float64", "float32", "tf32", "bfloat16", "float16"]
    return ["float64", "float32", "bfloat16"]


def run(device: str, scale: dict, log=print, partial=lambda out: None) -> dict:
    """Every measurement at the sizes in ``scale``; a dict ready for JSON.  ``partial(out)``
    is called after each section with what is measured so far; a section that raises is
    recorded in ``out["errors"]`` and the others still run."""
    out = {"gemm": [], "triad": [], "op_time": [], "fusion": [], "train_rate": [], "errors": {}}
    sections = [train_rates, gemms, triads, op_times, fusions, convs]  # first: seed 002's "10x"
    for section in sections:
        try:
            section(out, device, scale, log)
        except Exception as err:  # noqa: BLE001 - recorded; main's exit status says so
            traceback.print_exc()
            out["errors"][section.__name__] = f"{type(err).__name__}: {err}"
        partial(out)
    return out


def train_rates(out, device, scale, log):
    for batch in scale["train"]:
        rate = speed.train_step_rate(batch, device, repeats=scale["repeats"])
        out["train_rate"].append({"batch": batch, "images_per_s": rate})
    log(f"[bench_speed] training step: {out['train_rate'][-1]}")


def gemms(out, device, scale, log):
    for dtype in gemm_dtypes(device):
        for n in scale["gemm"]:
            out["gemm"].append(speed.gemm(n, dtype, device, repeats=scale["repeats"]))
        log(f"[bench_speed] gemm {dtype}: {out['gemm'][-1]['gflops']:.1f} GFLOP/s at n={n}")


def triads(out, device, scale, log):
    out["triad"] = [speed.triad(n, device, repeats=scale["repeats"]) for n in scale["triad"]]


def op_times(out, device, scale, log):
    libraries = ["torch"] + ([] if device.startswith("cuda") else ["numpy"])
    for library in libraries:
        for n in scale["op"]:
            seconds = speed.op_time(n, device, library, repeats=scale["repeats"])
            out["op_time"].append({"n": n, "library": library, "seconds": seconds})


def fusions(out, device, scale, log):
    fused = fusion.compiled(fusion.gelu_steps)  # compiled once, for every length
    out["fusion"] = [fusion_row(n, device, scale["repeats"], fused) for n in scale["fusion"]]
    log(f"[bench_speed] fusion at n={scale['fusion'][-1]}: {out['fusion'][-1]}")


def convs(out, device, scale, log):
    out["conv_batch"] = scale["conv_batch"]
    repeats = max(2, scale["repeats"] // 2)
    out["conv"] = speed.conv_algorithms(scale["conv_batch"], device, repeats=repeats)


def fusion_row(n: int, device: str, repeats: int, fused) -> dict:
    """Eager and compiled tanh-GELU on n float32 numbers, with the bytes each moves."""
    import torch

    x = torch.randn(n, device=device)
    error = float((fused(x) - fusion.gelu_steps(x)).abs().max())
    row = {"n": n, "max_abs_difference": error, **fusion.bytes_moved(n, 4)}
    row["eager_s"] = speed.median_seconds(
        lambda: fusion.gelu_steps(x), device=device, repeats=repeats
    )
    row["fused_s"] = speed.median_seconds(lambda: fused(x), device=device, repeats=repeats)
    return row


def load(device_kind: str = "cuda", results=RESULTS) -> dict | None:
    """The newest committed result measured on a GPU (``"cuda"``) or a CPU, or None."""
    return newest_result(
        "speed_*.json", lambda d: d.get("device", "cpu").startswith(device_kind), results
    )


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="python -m experiments bench speed",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.add_argument("--scale", default="full", choices=sorted(SCALES))
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="torch and BLAS threads")
    p.add_argument("--note", default="")
    p.add_argument("--out", help="write the JSON here")
    return p.parse_args(argv)


def main(argv=None) -> dict:
    import torch

    args = parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch sees no CUDA GPU here; use --device cpu")
    threads_before = torch.get_num_threads()
    limiter = limit_threads(args.threads, torch_too=True)
    out = record_start(
        "speed",
        device=args.device,
        note=args.note,
        settings={
            "scale": args.scale,
            **SCALES[args.scale],
            "threads": args.threads,
            "blas_threads": blas_threads(),
        },
    )
    try:

        def partial(measured):  # as it goes: a run killed at a time limit keeps what it measured
            if args.out:
                write_json(args.out, {**out, **measured, "finished": None})

        out.update(run(args.device, SCALES[args.scale], partial=partial))
    finally:  # BLAS/OpenMP limits first: restoring them also resets torch's OpenMP threads
        if limiter is not None:
            limiter.restore_original_limits()
        torch.set_num_threads(threads_before)
    record_end(out, args.out, name="bench_speed")
    if out["errors"]:
        raise SystemExit(f"[bench_speed] sections failed: {', '.join(out['errors'])}")
    return out


if __name__ == "__main__":
    main()
