"""Time AlexNet training in images per minute: the from-scratch NumPy path and its torch CPU twin,
each in float32 and float64.

Seed 001 (Kishida 2015) trained an AlexNet-style network written from scratch in Java and timed it
in images per minute (the ``seed001.*_img_per_min`` claims in ``lessons/07_alexnet/lesson.toml``):
Core i7 CPU 15, GTX 970 95 (float; 75 in double).  This benchmark redoes that table on today's
stacks.  Nets: ``alexnet`` (:class:`course_lib.models.alexnet.AlexNet`, the paper's network with
its two towers merged, 1000 classes) and ``seed`` (:class:`~course_lib.models.alexnet.SeedNet`,
the talk's C-P-N-C-P-N-F-F network, 256 classes; ``--width`` scales AlexNet only).  Backends:
``numpy`` (the hand-written backward pass and :class:`course_lib.optim.Momentum`), ``torch-cpu``
(the twin from :func:`course_lib.twins.layers.to_torch`, autograd and ``torch.optim.SGD`` with
momentum), and on a CUDA machine ``cupy`` (the same NumPy code on the GPU) and ``torch-cuda``.  A
backend this machine cannot run is listed under ``skipped`` with the reason, never timed.

One step is what training does: forward, softmax cross-entropy, backward, a momentum-SGD update of
every parameter (lr 0.01, momentum 0.9, dropout on), on a batch of random images and labels (the
time does not depend on the pixel values).  The weights are the paper's initialisation.  Each
(net, backend, dtype) is built afresh, runs ``--warmup`` untimed steps, then ``--steps`` timed
steps, each read after the device has finished (a step ends by reading its loss back to the host);
images per minute = 60 x batch / the median step time.  torch and NumPy's BLAS get the same
number of threads (``--threads``, default torch's), and each run starts after a pause of
``--settle`` seconds (BLAS and OpenMP threads spin for a while after their last job and would slow
the next run down).  The load average before and after is stored, so a result measured on a busy
machine says so.  :func:`course_lib.models.alexnet.layer_costs` gives each layer's output shape,
parameters and forward FLOPs (2 x multiply-adds of the convolutions and fully connected layers).

    python -m experiments bench alexnet --out experiments/results/alexnet_speed_cpu_2core.json
    python -m experiments bench alexnet --in-size 99 --width 0.125 --batch 4 --steps 2   # seconds
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

import numpy as np

from course_lib.backend import synchronize
from course_lib.models.alexnet import layer_costs
from course_lib.repro import write_json
from experiments.alexnet_step import (
    BACKENDS,
    DTYPES,
    LR,
    MOMENTUM,
    NETS,
    build_net,
    numpy_step,
    random_batch,
    split_backend,
    torch_step,
    unavailable_reason,
)
from experiments.benchkit import (
    attempt,
    blas_threads,
    choices,
    limit_threads,
    record_end,
    record_start,
)


def time_run(
    net_name,
    backend,
    dtype,
    *,
    in_size,
    width,
    batch,
    steps,
    warmup,
    seed=0,
    settle_s=1.0,
    compile_backend="inductor",
):
    """Build, warm up and time one (net, backend, dtype): median seconds per step and img/min."""
    from course_lib.backend import xp_for

    backend, variants = split_backend(backend)
    xp = xp_for("cuda") if backend == "cupy" else np
    net = build_net(net_name, in_size=in_size, width=width, dtype=dtype, seed=seed, xp=xp)
    x, y = random_batch(net, batch, dtype, seed)
    costs = layer_costs(net)
    if backend in ("numpy", "cupy"):
        step, device = numpy_step(net, xp.asarray(x), xp.asarray(y)), xp
    else:
        device = "cuda" if backend == "torch-cuda" else "cpu"
        step = torch_step(net, x, y, device, variants, compile_backend)
        del net  # the twin holds its own copy of the weights
    gc.collect()
    time.sleep(settle_s)
    losses = [step() for _ in range(warmup)]
    times = []
    for _ in range(steps):
        synchronize(device)
        t0 = time.perf_counter()
        losses.append(step())
        synchronize(device)
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    return {
        "net": net_name,
        "backend": "+".join([backend, *variants]).replace("+", ":", 1),
        "dtype": dtype,
        "parameters": sum(r["params"] for r in costs),
        "gflop_forward_per_image": sum(r["flops"] for r in costs) / 1e9,
        "s_per_step": median,
        "all_s": [round(t, 4) for t in times],
        "img_per_min": 60 * batch / median,
        "losses": losses,
    }


def ratios(runs: list[dict]) -> dict:
    """float32/float64 speed per (net, backend), and ours/torch's speed per (net, dtype) on the
    CPU (numpy / torch-cpu) and on a GPU (cupy / torch-cuda)."""
    speed = {(r["net"], r["backend"], r["dtype"]): r["img_per_min"] for r in runs}
    out = {"float_over_double": {}, "numpy_over_torch": {}, "cupy_over_torch_cuda": {}}
    pairs = {
        "numpy": ("torch-cpu", "numpy_over_torch"),
        "cupy": ("torch-cuda", "cupy_over_torch_cuda"),
    }
    for net, backend, dtype in speed:
        if dtype == "float32" and (net, backend, "float64") in speed:
            value = speed[net, backend, "float32"] / speed[net, backend, "float64"]
            out["float_over_double"][f"{net}/{backend}"] = value
        if backend in pairs and (net, pairs[backend][0], dtype) in speed:
            value = speed[net, backend, dtype] / speed[net, pairs[backend][0], dtype]
            out[pairs[backend][1]][f"{net}/{dtype}"] = value
    return out


def format_table(res: dict, title: str = "AlexNet training speed") -> str:
    """A result as text: the machine, the settings, then images/min per net, backend and dtype."""
    m, s = res["machine"], res["settings"]
    lines = [
        f"{title}: {s['in_size']}x{s['in_size']} input, width {s['width']:g}, batch {s['batch']}, "
        f"median of {s['steps']} steps (load average before {res['load_before'][0]:.2f}, "
        f"after {res['load_after'][0]:.2f})",
        f"  machine: {m['processor']}, {m['cpu_count']} CPUs, GPU: {m['gpu']}, torch "
        f"{m.get('torch')} ({s['threads']} threads), numpy {m['numpy']}",
        f"  {'net':8s} {'backend':26s} {'dtype':8s} {'params':>11s} {'GFLOP/img':>9s} "
        f"{'s/step':>8s} {'img/min':>9s}",
    ]
    for r in res["runs"]:
        lines.append(
            f"  {r['net']:8s} {r['backend']:26s} {r['dtype']:8s} {r['parameters']:11,d} "
            f"{r['gflop_forward_per_image']:9.3f} {r['s_per_step']:8.3f} {r['img_per_min']:9,.0f}"
        )
    for kind, values in res["ratios"].items():
        if values or kind != "cupy_over_torch_cuda":
            shown = ", ".join(f"{k} {v:.2f}" for k, v in values.items())
            lines.append(f"  {kind.replace('_', ' ')}: {shown or '-'}")
    lines += [f"  {s['backend']:10s} skipped: {s['reason']}" for s in res.get("skipped", [])]
    return "\n".join(lines)


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m experiments bench alexnet",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--nets", default=",".join(NETS), help="comma-separated: alexnet, seed")
    p.add_argument(
        "--backends",
        default=",".join(BACKENDS),
        help="comma-separated; a torch backend takes variants after a colon, "
        "joined by +, from tf32, bf16, cl (channels-last), compile: "
        "torch-cuda:bf16+cl+compile",
    )
    p.add_argument("--dtypes", default=",".join(DTYPES), help="comma-separated")
    p.add_argument("--in-size", type=int, default=227, help="image side (the paper's: 227)")
    p.add_argument("--width", type=float, default=1.0, help="AlexNet's filter/unit scale")
    p.add_argument("--batch", type=int, default=16, help="images per step")
    p.add_argument("--steps", type=int, default=5, help="timed steps per run (median)")
    p.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    p.add_argument("--threads", type=int, default=None, help="torch and BLAS threads")
    p.add_argument("--settle", type=float, default=1.0, help="seconds of pause before each run")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--compile-backend",
        default="inductor",
        help="torch.compile's backend for the compile variant (aot_eager: no code "
        "generation, for smoke tests)",
    )
    p.add_argument("--note", default="", help="free text stored in the JSON")
    p.add_argument("--out", default=None, help="JSON path to write (default: print only)")
    return p.parse_args(argv)


def selection(args) -> tuple[list[str], list[str], list[str]]:
    """The nets, backends and dtypes asked for; exit naming the option when one is unknown."""
    nets = choices(args.nets, NETS, "nets")
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    choices(",".join(split_backend(b)[0] for b in backends), BACKENDS, "backends")
    dtypes = choices(args.dtypes, DTYPES, "dtypes")
    return nets, backends, dtypes


def new_record(args, nets: list[str], threads: int) -> dict:
    """The result before any run: the machine, the load average and the settings."""
    settings = {
        "nets": nets,
        "in_size": args.in_size,
        "width": args.width,
        "batch": args.batch,
        "steps": args.steps,
        "warmup": args.warmup,
        "threads": threads,
        "blas_threads": blas_threads(),
        "settle_s": args.settle,
        "seed": args.seed,
        "compile_backend": args.compile_backend,
        "timed": "one training step: forward, softmax cross-entropy, backward, momentum-SGD "
        f"update (lr {LR}, momentum {MOMENTUM}), dropout on, paper init",
    }
    return record_start(
        "alexnet_speed",
        note=args.note,
        settings=settings,
        runs=[],
        skipped=[],
        failed=[],
    )


def available(backends: list[str], skipped: list) -> list[str]:
    """The backends this machine can run; each other one is added to ``skipped`` with the
    reason, and said."""
    usable = []
    for backend in backends:
        reason = unavailable_reason(backend)
        if reason is None:
            usable.append(backend)
            continue
        skipped.append({"backend": backend, "reason": reason})
        print(f"[bench_alexnet] {backend}: skipped ({reason})")
    return usable


def configurations(nets, dtypes, backends):
    """(net, backend, dtype) in the order they are timed; a backend with variants in float32
    only (the variants are float32 tricks: autocast, TF32)."""
    for net in nets:
        for dtype in dtypes:
            for backend in backends:
                if not split_backend(backend)[1] or dtype == "float32":
                    yield net, backend, dtype


def measure(out: dict, args, net: str, backend: str, dtype: str) -> None:
    """Time one (net, backend, dtype) into ``out`` (a failure into ``out["failed"]``), say it,
    and with ``--out`` write what is measured so far."""
    where = {"net": net, "backend": backend, "dtype": dtype}
    r = attempt(
        out["failed"],
        where,
        time_run,
        net,
        backend,
        dtype,
        warmup=args.warmup,
        seed=args.seed,
        settle_s=args.settle,
        in_size=args.in_size,
        width=args.width,
        batch=args.batch,
        steps=args.steps,
        compile_backend=args.compile_backend,
    )
    if r is None:
        return
    out["runs"].append(r)
    print(
        f"[bench_alexnet] {net:8s} {backend:10s} {dtype}: {r['s_per_step']:8.3f} "
        f"s/step  {r['img_per_min']:9,.0f} img/min"
    )
    gc.collect()
    if args.out:  # as it goes: a run killed at a time limit keeps what it measured
        write_json(args.out, {**out, "ratios": ratios(out["runs"]), "finished": None})


def finish(out: dict, args) -> dict:
    """Add the load average after, the ratios and the end time; print the table, write the JSON
    (``--out``); exit with an error when a run failed."""
    out["ratios"] = ratios(out["runs"])
    record_end(out, args.out, format_table, "bench_alexnet")
    if out["failed"]:
        raise SystemExit(f"[bench_alexnet] {len(out['failed'])} run(s) failed: see above")
    return out


def main(argv=None) -> dict:
    import torch

    args = parse_args(argv)
    nets, backends, dtypes = selection(args)
    threads_before = torch.get_num_threads()
    threads = args.threads or threads_before
    limiter = limit_threads(threads, torch_too=True)
    out = new_record(args, nets, threads)
    backends = available(backends, out["skipped"])
    for net, backend, dtype in configurations(nets, dtypes, backends):
        measure(out, args, net, backend, dtype)
    if limiter is not None:  # first: it also resets torch's OpenMP threads
        limiter.restore_original_limits()
    torch.set_num_threads(threads_before)
    return finish(out, args)


if __name__ == "__main__":
    main()
