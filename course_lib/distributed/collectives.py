"""Ring all-reduce by hand on torch.distributed, timed beside gloo's own, and data-parallel
throughput by the number of workers; started by torchrun (``launch.run(..., module=...)``):

    torchrun --standalone --nproc-per-node 4 -m course_lib.distributed.collectives --out r.json

One launch of W processes measures every N = 2..W through the groups {0..N-1} (one start-up
instead of one per N; the ranks outside a group wait at a barrier).  Rank 0 writes a JSON:

    check     N -> largest |hand ring - dist.all_reduce| on random float32 vectors
    timings   rows (workers, bytes, gloo seconds, hand-ring seconds): medians of --repeats
    scaling   rows (workers, batch, samples/s): a 784-H-10 network, each of --batches examples
              per worker and step (about --samples timed per worker, at least 16 steps), its
              flattened gradient all-reduced every step (N = 1: no communication); the rate
              of the fastest step, the one other work on the machine disturbed least
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import torch
import torch.distributed as dist
from torch.distributed.elastic.multiprocessing.errors import record

from course_lib.distributed.ring import chunks
from course_lib.distributed.worker import make_model


def ring_allreduce_(tensor: torch.Tensor, group=None) -> torch.Tensor:
    """Sum ``tensor`` over the group in place: reduce-scatter then all-gather round the ring, each
    worker sending to rank+1 while receiving from rank-1 (:mod:`.ring` says why)."""
    world, rank = dist.get_world_size(group), dist.get_rank(group)
    flat = tensor.view(-1)
    parts = chunks(flat.numel(), world)
    right = dist.get_global_rank(group, (rank + 1) % world) if group else (rank + 1) % world
    left = dist.get_global_rank(group, (rank - 1) % world) if group else (rank - 1) % world
    for phase in ("reduce-scatter", "all-gather"):
        for step in range(world - 1):
            shift = step if phase == "reduce-scatter" else step - 1
            out, into = parts[(rank - shift) % world], parts[(rank - 1 - shift) % world]
            request = None
            if out.stop > out.start:  # an empty chunk (n < N) is not sent
                request = dist.isend(flat[out].contiguous(), right, group=group)
            buffer = torch.empty(into.stop - into.start, dtype=flat.dtype)
            if len(buffer):
                dist.recv(buffer, left, group=group)
            if request is not None:
                request.wait()
            if phase == "reduce-scatter":
                flat[into] += buffer
            else:
                flat[into] = buffer
    return tensor


def _median_time(fn, repeats: int, group) -> float:
    times = []
    for _ in range(repeats):
        dist.barrier(group)
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def measure_group(group, sizes, repeats: int, seed: int) -> tuple[float, list]:
    """(largest |ring - all_reduce|, timing rows) for one group; every member calls it."""
    world, rank = dist.get_world_size(group), dist.get_rank(group)
    gen = torch.Generator().manual_seed(seed * 1000 + rank)
    worst, rows = 0.0, []
    for n in sizes:
        x = torch.randn(n, generator=gen)
        mine, theirs = ring_allreduce_(x.clone(), group), x.clone()
        dist.all_reduce(theirs, group=group)
        worst = max(worst, float((mine - theirs).abs().max()))
        gloo = _median_time(lambda x=x: dist.all_reduce(x, group=group), repeats, group)
        hand = _median_time(lambda x=x: ring_allreduce_(x, group), repeats, group)
        rows.append((world, 4 * n, gloo, hand))
    return worst, rows


def throughput(group, batch: int, hidden: int, steps: int, seed: int) -> float:
    """Samples per second of data-parallel SGD in ``group`` (None: one process alone), at its
    fastest of ``steps`` timed steps: ``batch x world / min(step seconds)``.  Other work on the
    machine only ever slows a step down, so the fastest step is the least disturbed one (the mean
    of a few steps on a shared 2-core machine can be off by 2x)."""
    world = dist.get_world_size(group) if group is not None else 1
    model = make_model(hidden, seed)
    gen = torch.Generator().manual_seed(seed)
    x, y = torch.randn(batch, 784, generator=gen), torch.randint(0, 10, (batch,), generator=gen)
    params = list(model.parameters())
    seconds = []
    for step in range(steps + 2):  # two steps to warm up
        t0 = time.perf_counter()
        model.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        flat = torch.cat([p.grad.flatten() for p in params])
        if group is not None:
            dist.all_reduce(flat, group=group)
        with torch.no_grad():
            for p, g in zip(params, flat.split([p.numel() for p in params])):
                p.sub_(g.view_as(p), alpha=0.1 / world)
        if step >= 2:  # rank 0's step: the all-reduce keeps the workers in step
            seconds.append(time.perf_counter() - t0)
    return batch * world / min(seconds)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="1000,10000,100000,1000000", help="float32 per vector")
    p.add_argument("--repeats", type=int, default=5, help="timings per size (their median)")
    p.add_argument("--batches", default="64,1024", help="examples per worker and step")
    p.add_argument("--hidden", type=int, default=100)
    p.add_argument("--samples", type=int, default=2048, help="examples timed per worker")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="rank 0 writes the results JSON here")
    args = p.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.batches = [int(b) for b in args.batches.split(",")]
    if min(*args.sizes, *args.batches, args.repeats, args.hidden, args.samples) < 1:
        raise ValueError(f"sizes, batches, repeats, hidden, samples must be >= 1: {vars(args)}")
    return args


def _groups(world: int, counts) -> dict:
    """N -> the group of ranks 0..N-1 (None for N = 1); every rank must create every group."""
    return {n: (dist.new_group(list(range(n))) if n > 1 else None) for n in counts if n <= world}


@record  # an error is written to TORCHELASTIC_ERROR_FILE: torchrun and the launcher show it
def main(argv=None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    result = {"world": world, "cpus": os.cpu_count(), "check": {}, "timings": [], "scaling": []}
    scaled = _groups(world, sorted({1, 2, world}))
    stages, done = world - 1 + len(scaled), 0
    for n, group in _groups(world, range(2, world + 1)).items():
        if rank < n:
            worst, rows = measure_group(group, args.sizes, args.repeats, args.seed)
            result["check"][n], result["timings"] = worst, result["timings"] + rows
        dist.barrier()
        done += 1
        if rank == 0:  # the launcher's progress bar reads this line
            print(f"step {done}/{stages}", flush=True)
    for n, group in scaled.items():
        if rank < n:
            for batch in args.batches:  # at least 16 timed steps
                steps = max(16, args.samples // batch)
                rate = throughput(group, batch, args.hidden, steps, args.seed)
                result["scaling"].append((n, batch, rate))
        dist.barrier()
        done += 1
        if rank == 0:
            print(f"step {done}/{stages}", flush=True)
    if rank == 0 and args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
