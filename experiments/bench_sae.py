"""Time the seed talk's stacked-autoencoder protocol on every backend this machine has.

Protocol (seed 000, a Theano SAE timed on a Tesla K40c and on a CPU; the published minutes are the
``seed000.sae_*`` claims in ``lessons/05_sae_speed/lesson.toml``): a 784-1000-500-250-2 stacked
autoencoder on 50,000 MNIST training images; greedy pretraining of each layer as a tied-weight
autoencoder, 15 epochs per layer; then 5 epochs of fine-tuning of the unrolled 784-...-2-...-784
net; mini-batches of 100, plain SGD, cross-entropy.

Backends: ``numpy`` (hand-written backward pass, CPU), ``torch-cpu`` (autograd), ``cupy`` (the
NumPy code on the GPU), ``torch-cuda`` (eager) and ``torch-cuda-graph`` (each SGD step replayed
from a CUDA graph, removing the per-kernel launch cost).  A backend this machine cannot run is
listed under ``skipped`` with the reason, never timed.  Every run starts from the same initial
weights and visits the batches in the same order, so all backends compute the same maths; their
final errors differ only by floating-point rounding (different BLAS libraries), which SGD amplifies
a little over many steps.

Times exclude loading MNIST and copying it to the device; they include everything else (CUDA graph
capture too).  A short untimed warm-up run first absorbs one-off costs (library initialisation,
kernel selection).  The device is synchronised before each clock read.  :func:`format_table`
prints a result as a table of minutes, and :func:`projected_minutes` scales a reduced protocol's
times up to the seed's.

    python -m experiments.bench_sae --backends numpy,torch-cpu --images 5000 --pretrain-epochs 1 \
        --finetune-epochs 1 --batch-sizes 100,1000 --out bench.json
"""

from __future__ import annotations

import time

import numpy as np

from course_lib.backend import describe_machine, gpu_missing
from course_lib.repro import write_json
from experiments.bench_sae_options import (  # noqa: F401 (GPU_BACKENDS: for the lessons)
    ALL_BACKENDS,
    GPU_BACKENDS,
    SEED_PROTOCOL,
    parse_args,
)
from experiments.benchkit import attempt


def unavailable_reason(backend: str) -> str | None:
    """Why ``backend`` cannot run here, or ``None`` when it can."""
    if backend not in ALL_BACKENDS:
        return f"unknown backend (choose from {', '.join(ALL_BACKENDS)})"
    return gpu_missing(backend)


def _load_images(n: int, data_dir=None) -> np.ndarray:
    from course_lib.data import load_mnist

    m = load_mnist(data_dir)
    if n > m.x_train.shape[0]:
        raise ValueError(f"--images {n}: MNIST has only {m.x_train.shape[0]} training images")
    return np.ascontiguousarray(m.x_train[:n], dtype=np.float32)


def array_route(backend: str, x: np.ndarray, dtype: str, progress=False):
    """NumPy or CuPy, the hand-written backward passes: ``(data, pretrain, finetune, sync)``."""
    from course_lib import optim
    from course_lib.backend import synchronize, xp_for
    from course_lib.models.stacked_ae import pretrain_stacked_ae, unroll
    from course_lib.nn import SigmoidCrossEntropy
    from course_lib.train import fit

    xp = xp_for(backend)

    def pretrain(data, sizes, **kw):
        return pretrain_stacked_ae(data, sizes, xp=xp, dtype=dtype, progress=progress, **kw)

    def finetune(layers, data, *, epochs, batch_size, lr):
        net = unroll(layers)
        sgd = optim.SGD([net.flat.theta], [net.flat.grad], lr=lr)
        loss = SigmoidCrossEntropy()
        hist = fit(
            net,
            loss,
            sgd,
            data,
            epochs=epochs,
            batch_size=batch_size,
            shuffle=False,
            last_batch="drop",
            progress=progress,
            desc="fine-tune",
        )
        return net, hist

    return xp.asarray(x, dtype=dtype), pretrain, finetune, lambda: synchronize(xp)


def torch_route(backend: str, x: np.ndarray, dtype: str, progress=False):
    """torch on the CPU or a GPU (eager, or each step replayed from a CUDA graph): autograd."""
    import torch

    from course_lib.backend import synchronize, torch_dtype
    from course_lib.twins.autoencoder import (
        finetune_sgd_torch,
        pretrain_stacked_ae_torch,
        unroll_torch,
    )

    device = torch.device("cpu" if backend == "torch-cpu" else "cuda")
    mode = "graph" if backend == "torch-cuda-graph" else "eager"
    tdtype = torch_dtype(dtype)

    def pretrain(data, sizes, **kw):
        return pretrain_stacked_ae_torch(
            data, sizes, device=device, dtype=tdtype, mode=mode, progress=progress, **kw
        )

    def finetune(layers, data, *, epochs, batch_size, lr):
        net = unroll_torch(layers, device=device, dtype=tdtype)
        hist = finetune_sgd_torch(
            net, data, epochs=epochs, batch_size=batch_size, lr=lr, mode=mode, progress=progress
        )
        return net, hist

    data = torch.as_tensor(x, dtype=tdtype, device=device)
    return data, pretrain, finetune, lambda: synchronize(device)


def run_protocol(
    backend: str,
    x: np.ndarray,
    *,
    sizes,
    pretrain_epochs: int,
    finetune_epochs: int,
    batch_size: int,
    lr: float,
    top_lr: float,
    finetune_lr: float,
    seed: int = 0,
    dtype: str = "float32",
    progress=False,
) -> dict:
    """One timed run of the protocol on ``backend``; returns times (s) and the final error.
    ``progress``: False, or "transient" for a bar per stage that is erased when it ends (it
    reads the clock once per step)."""
    route = array_route if backend in ("numpy", "cupy") else torch_route
    data, pretrain, finetune, sync = route(backend, x, dtype, progress)
    layer_s: list[float] = []
    sync()
    t0 = time.perf_counter()
    layers = pretrain(
        data,
        sizes,
        epochs=pretrain_epochs,
        batch_size=batch_size,
        lr=lr,
        top_lr=top_lr,
        seed=seed,
        timings=layer_s,
    )
    sync()
    t1 = time.perf_counter()
    net, hist = finetune(
        layers, data, epochs=finetune_epochs, batch_size=batch_size, lr=finetune_lr
    )
    sync()
    t2 = time.perf_counter()
    return {
        "backend": backend,
        "batch_size": batch_size,
        "pretrain_s": t1 - t0,
        "finetune_s": t2 - t1,
        "total_s": t2 - t0,
        "pretrain_layer_s": layer_s,
        "final_train_loss": hist.last["loss"] if len(hist) else None,
        "recon_sqerr": float(net.squared_error(data)),
    }


def projected_minutes(res: dict, run: dict) -> tuple[float, float, bool]:
    """``run``'s pretraining and fine-tuning minutes on the seed's protocol, and whether projected.

    Each phase is scaled by the ratio of work (images x epochs) between :data:`SEED_PROTOCOL` and
    the protocol of ``res`` (the benchmark result ``run`` belongs to).
    """
    p, full = res["protocol"], SEED_PROTOCOL
    kp = full["images"] * full["pretrain_epochs"] / (p["images"] * p["pretrain_epochs"])
    kf = full["images"] * full["finetune_epochs"] / (p["images"] * max(p["finetune_epochs"], 1))
    return run["pretrain_s"] * kp / 60, run["finetune_s"] * kf / 60, (kp != 1 or kf != 1)


def gpu_headline(res: dict) -> dict | None:
    """The seed's headline from a benchmark with GPU runs: the fastest GPU backend at batch 100,
    its minutes, and its speed-up ``numpy total_s / GPU total_s`` over NumPy on the same machine;
    ``None`` without both a NumPy and a GPU run at batch 100."""
    at100 = [r for r in res["runs"] if r["batch_size"] == 100]
    cpu = next((r for r in at100 if r["backend"] == "numpy"), None)
    gpus = [r for r in at100 if r["backend"] in GPU_BACKENDS]
    if cpu is None or not gpus:
        return None
    best = min(gpus, key=lambda r: r["total_s"])
    return dict(
        backend=best["backend"],
        minutes=best["total_s"] / 60,
        numpy_minutes=cpu["total_s"] / 60,
        speedup=cpu["total_s"] / best["total_s"],
    )


def format_table(res: dict, title: str) -> str:
    """A benchmark result as text: the machine, the protocol, then minutes and error per run."""
    m, p = res["machine"], res["protocol"]
    lines = [
        title,
        f"  machine: {m['processor']}, {m['cpu_count']} CPUs, GPU: {m['gpu']}, "
        f"torch {m.get('torch')}, numpy {m['numpy']}",
        f"  protocol: {p['images']} images, {p['pretrain_epochs']} pretraining epochs x "
        f"{len(p['sizes']) - 1} layers, {p['finetune_epochs']} fine-tuning epochs",
        f"  {'backend':18s} {'batch':>6s} {'pretrain min':>13s} {'fine-tune min':>14s} "
        f"{'total min':>10s} {'error':>8s} {'vs numpy':>9s}",
    ]
    for r in res["runs"]:
        rel = r.get("rel_diff_vs_numpy")
        lines.append(
            f"  {r['backend']:18s} {r['batch_size']:6d} {r['pretrain_s'] / 60:13.3f} "
            f"{r['finetune_s'] / 60:14.3f} {r['total_s'] / 60:10.3f} "
            f"{r['recon_sqerr']:8.3f} {'' if rel is None else f'{rel:9.2%}'}"
        )
    lines += [f"  {s['backend']:18s} skipped: {s['reason']}" for s in res["skipped"]]
    return "\n".join(lines)


def agreement(runs: list[dict]) -> None:
    """Add ``rel_diff_vs_numpy`` to every run with a NumPy run at the same batch size:
    |error - NumPy's error| / NumPy's error."""
    ref = {r["batch_size"]: r["recon_sqerr"] for r in runs if r["backend"] == "numpy"}
    for r in runs:
        if r["batch_size"] in ref:
            numpy_err = ref[r["batch_size"]]
            r["rel_diff_vs_numpy"] = abs(r["recon_sqerr"] - numpy_err) / abs(numpy_err)


def save_partial(out: dict, path) -> None:
    """Write what is measured so far (``"finished": null``), so a run killed at a time limit
    keeps its finished configurations."""
    if path:
        write_json(path, {**out, "finished": None})


def new_record(args, sizes: list[int], batch_sizes: list[int]) -> dict:
    """The result before any run: the machine and the protocol."""
    protocol = {
        "sizes": sizes,
        "images": args.images,
        "pretrain_epochs": args.pretrain_epochs,
        "finetune_epochs": args.finetune_epochs,
        "batch_sizes": batch_sizes,
        "lr": args.lr,
        "top_lr": args.top_lr,
        "finetune_lr": args.finetune_lr,
        "dtype": args.dtype,
        "seed": args.seed,
        "progress_bar": args.progress,
        "optimizer": "plain SGD",
        "loss": "cross-entropy, mean over batch, summed over pixels",
        "recon_sqerr": "squared error per image (summed over 784 pixels) "
        "on the training images used",
    }
    return {
        "benchmark": "sae_speed",
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": describe_machine(),
        "note": args.note,
        "protocol": protocol,
        "runs": [],
        "skipped": [],
        "failed": [],
    }


def shared_settings(args, sizes: list[int]) -> dict:
    """The :func:`run_protocol` arguments every run of this benchmark shares."""
    return dict(
        sizes=sizes,
        lr=args.lr,
        top_lr=args.top_lr,
        finetune_lr=args.finetune_lr,
        seed=args.seed,
        dtype=args.dtype,
        progress="transient" if args.progress else False,
    )


def warm_up(out: dict, backend: str, x, batch_sizes: list[int], common: dict):
    """The untimed warm-up run on a few batches; None when it failed (recorded in ``out``)."""
    warm = x[: min(len(x), 2 * max(batch_sizes))]
    where = {"backend": backend, "batch_size": "warm-up"}
    return attempt(
        out["failed"],
        where,
        run_protocol,
        backend,
        warm,
        pretrain_epochs=1,
        finetune_epochs=1,
        batch_size=min(batch_sizes),
        **common,
    )


def time_batch_size(out: dict, args, backend: str, x, bs: int, common: dict) -> None:
    """One timed run of the protocol into ``out`` (a failure into ``out["failed"]``), said, then
    what is measured so far written (``--out``)."""
    where = {"backend": backend, "batch_size": bs}
    r = attempt(
        out["failed"],
        where,
        run_protocol,
        backend,
        x,
        batch_size=bs,
        pretrain_epochs=args.pretrain_epochs,
        finetune_epochs=args.finetune_epochs,
        **common,
    )
    if r is not None:
        out["runs"].append(r)
        print(
            f"[bench_sae] {backend:17s} batch {bs:5d}: pretrain {r['pretrain_s']:8.2f} s  "
            f"fine-tune {r['finetune_s']:8.2f} s  total {r['total_s']:8.2f} s  "
            f"error {r['recon_sqerr']:.4f}"
        )
    save_partial(out, args.out)


def time_backend(out: dict, args, backend: str, x, batch_sizes: list[int], common: dict) -> None:
    """Every batch size on ``backend``, after a warm-up; skipped, with the reason, when this
    machine cannot run it, and given up when the warm-up fails."""
    reason = unavailable_reason(backend)
    if reason is not None:
        out["skipped"].append({"backend": backend, "reason": reason})
        print(f"[bench_sae] {backend}: skipped ({reason})")
        save_partial(out, args.out)
        return
    if not args.no_warmup and warm_up(out, backend, x, batch_sizes, common) is None:
        save_partial(out, args.out)
        return
    for bs in batch_sizes:
        time_batch_size(out, args, backend, x, bs, common)


def finish(out: dict, args) -> dict:
    """Add the agreement with NumPy and the end time, write the JSON (``--out``); exit with an
    error when a run failed."""
    agreement(out["runs"])
    out["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    if args.out:
        write_json(args.out, out)
        print(f"[bench_sae] wrote {args.out}")
    if out["failed"]:
        raise SystemExit(f"[bench_sae] {len(out['failed'])} run(s) failed: see 'failed' above")
    return out


def main(argv=None) -> dict:
    args = parse_args(argv, __doc__.split("\n\n")[0])
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    sizes = [int(s) for s in args.sizes.split(",")]
    x = _load_images(args.images, args.data_dir)
    out = new_record(args, sizes, batch_sizes)
    common = shared_settings(args, sizes)
    for backend in backends:
        time_backend(out, args, backend, x, batch_sizes, common)
    return finish(out, args)


if __name__ == "__main__":
    main()
