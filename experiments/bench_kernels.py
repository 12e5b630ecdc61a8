"""Time the hand-written numba.cuda kernels of :mod:`course_lib.kernels` against CuPy's library
calls (cuBLAS for the product), on an NVIDIA GPU; every result is checked against the library's.

* matrix product C = A B (float32, n x n): naive (one thread per element, global memory),
  tiled (16 x 16 tiles in shared memory), ``cupy.matmul`` (cuBLAS) - GFLOP/s = 2 n^3 / time;
* vector add, out = x + y (float32): the grid-stride kernel vs ``x + y`` - GB/s = 12 n / time;
* sum of x (float32): the block reduction with atomics vs ``cupy.sum`` - GB/s = 4 n / time.

Each time is the median of ``--repeats`` calls after one untimed call (which also compiles the
kernel), the device synchronised around each.  ``--simulator`` runs tiny sizes in numba's CUDA
simulator on the CPU (a check of the code path, not a timing).  The JSON is rewritten after each
measurement ("finished": null until the end).

    python -m experiments.bench_kernels --out experiments/results/kernels_h200.json
    python -m experiments.bench_kernels --simulator            # seconds, no GPU
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from course_lib import kernels, speed
from course_lib.backend import asnumpy, describe_machine
from course_lib.repro import write_json

SIZES = {
    "gpu": dict(matmul=[512, 1024, 2048, 4096], vector=[2**20, 2**24, 2**27]),
    "simulator": dict(matmul=[19], vector=[600]),
}


def median_s(fn, device: str, repeats: int) -> float:
    """Median seconds of one call of ``fn()`` over ``repeats`` synchronised calls after one
    untimed call (:func:`course_lib.speed.median_seconds`, one call per sample)."""
    return speed.median_seconds(fn, device=device, repeats=repeats, min_time=0)


def matmul_rows(xp, n: int, repeats: int, device: str) -> list[dict]:
    """Naive, tiled and library products of two n x n float32 matrices."""
    rng = np.random.default_rng(n)
    a, b = (xp.asarray(rng.standard_normal((n, n), dtype=np.float32)) for _ in range(2))
    want = _host(xp.matmul(a, b))  # the library's product (cuBLAS, IEEE float32) is the reference
    ways = {
        "naive": lambda: kernels.matmul_naive(a, b, sync=False),
        "tiled": lambda: kernels.matmul_tiled(a, b, sync=False),
        "library": lambda: xp.matmul(a, b),
    }
    rows = []
    for name, fn in ways.items():
        got = _host(fn())
        seconds = median_s(fn, device, repeats)
        error = float(np.abs(got - want).max() / np.abs(want).max())
        rows.append(
            {
                "op": "matmul",
                "way": name,
                "n": n,
                "seconds": seconds,
                "gflops": 2 * n**3 / seconds / 1e9,
                "max_rel_error": error,
            }
        )
    return rows


def vector_rows(xp, n: int, repeats: int, device: str) -> list[dict]:
    """The grid-stride add and the block-sum reduction against the library's."""
    rng = np.random.default_rng(n)
    x, y = (xp.asarray(rng.standard_normal(n, dtype=np.float32)) for _ in range(2))
    rows = []
    add = {"kernel": lambda: kernels.vector_add(x, y, sync=False), "library": lambda: x + y}
    for name, fn in add.items():
        got = _host(fn())
        seconds = median_s(fn, device, repeats)
        rows.append(
            {
                "op": "add",
                "way": name,
                "n": n,
                "seconds": seconds,
                "gb_per_s": 12 * n / seconds / 1e9,
                "max_abs_error": float(np.abs(got - _host(x + y)).max()),
            }
        )
    exact = float(_host(x).astype(np.float64).sum())
    total = {"kernel": lambda: kernels.block_sum(x, sync=False), "library": lambda: x.sum()}
    for name, fn in total.items():
        got = float(_host(fn()).ravel()[0])
        seconds = median_s(fn, device, repeats)
        rows.append(
            {
                "op": "sum",
                "way": name,
                "n": n,
                "seconds": seconds,
                "gb_per_s": 4 * n / seconds / 1e9,
                "rel_error_vs_float64": abs(got - exact) / max(abs(exact), 1e-30),
            }
        )
    return rows


def _host(a) -> np.ndarray:
    """A numba device array, a CuPy or a NumPy array, on the host."""
    return a.copy_to_host() if hasattr(a, "copy_to_host") else asnumpy(a)


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m experiments.bench_kernels",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--simulator",
        action="store_true",
        help="tiny sizes in numba's CUDA simulator (no GPU needed; not a timing)",
    )
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--note", default="")
    p.add_argument("--out", help="write the JSON here")
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.simulator:
        import os

        os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
        xp, device, sizes = np, "cpu", SIZES["simulator"]
    else:
        from course_lib.backend import cupy_module, gpu_available

        if not gpu_available():
            raise SystemExit("bench_kernels: no NVIDIA GPU with CuPy here; use --simulator")
        xp = cupy_module()
        device, sizes = "cuda", SIZES["gpu"]
    out = {
        "benchmark": "kernels",
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": describe_machine(),
        "simulator": args.simulator,
        "note": args.note,
        "settings": {
            "tile": kernels.TILE,
            "block": kernels.BLOCK,
            "repeats": args.repeats,
            **sizes,
        },
        "rows": [],
    }
    jobs = [(matmul_rows, n) for n in sizes["matmul"]] + [(vector_rows, n) for n in sizes["vector"]]
    for job, n in jobs:
        out["rows"] += job(xp, n, args.repeats, device)
        for r in out["rows"][-3:] if job is matmul_rows else out["rows"][-4:]:
            rate = f"{r['gflops']:10.1f} GFLOP/s" if "gflops" in r else f"{r['gb_per_s']:8.1f} GB/s"
            print(f"[bench_kernels] {r['op']:6s} {r['way']:8s} n={n:<9d} {rate}")
        if args.out:
            write_json(args.out, {**out, "finished": None})
    out["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    if args.out:
        write_json(args.out, out)
        print(f"[bench_kernels] wrote {args.out}")
    return out


if __name__ == "__main__":
    main()
