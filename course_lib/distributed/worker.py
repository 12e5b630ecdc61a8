"""One data-parallel worker, started by torchrun once per process (or alone for ``single``):

    torchrun --standalone --nproc-per-node 2 -m course_lib.distributed.worker --mode allreduce
    torchrun --nnodes 2 --node-rank 0 --rdzv-endpoint HOST:29500 --rdzv-conf timeout=60 \\
        --nproc-per-node 1 -m course_lib.distributed.worker --mode strom --tau 0.01   # 2 machines

On two machines (the second with ``--node-rank 1``), ``--rdzv-conf timeout=60`` bounds the
rendezvous: a machine whose partner never comes (or whose endpoint never answers) stops with a
``DistStoreError`` / ``DistNetworkError`` after about 60 s, not torchrun's default 600 s
(``join_timeout`` is the same setting for ``--rdzv-backend c10d``); ``--timeout-s`` then bounds
each collective.  An error in a worker is recorded (``@record``) in torchrun's error file, so
torchrun's failure report shows it.

A 784-H-10 ReLU network learns MNIST by SGD.  Step t's *global* batch is the same for every mode:
a slice of one seeded permutation, split into equal shards, one per worker, so a 2-worker run
sees exactly what a single process with twice the batch sees.  The modes:

    single      one process, the whole global batch (the reference)
    allreduce   DistributedDataParallel: gradients averaged by an all-reduce every step
    average     local SGD: each worker steps alone, parameters averaged every ``--average-every``
    strom       DDP with Strom's threshold-quantised gradients (:mod:`.strom`) as its comm hook

Rank 0 writes a JSON: the loss and test accuracy along the way, the bytes each worker sent (the
payload of its messages: a dense all-reduce sends 4 bytes per parameter, Strom 4 per element
above the threshold), the time per step, the time of one dense all-reduce, and the final
parameters' checksum; ``--save-params`` also writes the parameters.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import time

import numpy as np
import torch
import torch.distributed as dist
from torch.distributed.elastic.multiprocessing.errors import record

from course_lib.distributed.strom import StromState, strom_hook
from course_lib.serialize import npz_path, write_npz

MODES = ("single", "allreduce", "average", "strom")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mode", choices=MODES, default="allreduce")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch", type=int, default=64, help="global batch, split over the workers")
    p.add_argument("--hidden", type=int, default=100)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--tau", type=float, default=0.01, help="Strom's threshold")
    p.add_argument("--average-every", type=int, default=10)
    p.add_argument("--eval-every", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu (gloo) or cuda (NCCL, one GPU a worker)")
    p.add_argument("--threads", type=int, default=1, help="torch threads per worker")
    p.add_argument("--timeout-s", type=float, default=120, help="a collective waits this long")
    p.add_argument("--die-at-step", type=int, default=-1, help="(tests) rank 1 exits here")
    p.add_argument("--hang-at-step", type=int, default=-1, help="(tests) rank 1 sleeps here")
    p.add_argument("--out", help="rank 0 writes the results JSON here")
    p.add_argument("--save-params", help="rank 0 writes the final parameters (.npz) here")
    args = p.parse_args(argv)
    for name in ("steps", "batch", "eval_every", "average_every", "threads"):
        if getattr(args, name) < 1:
            flag = "--" + name.replace("_", "-")
            raise ValueError(
                f"{flag} {getattr(args, name)}: must be at least 1; pass {flag} 1 or more"
            )
    return args


def make_model(hidden: int, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(784, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 10)
    )


def load_data():
    from course_lib.data import load_mnist

    mnist = load_mnist(flatten=True)
    as_t = torch.from_numpy
    return as_t(mnist.x_train), as_t(mnist.y_train), as_t(mnist.x_test), as_t(mnist.y_test)


def shard(step: int, order: np.ndarray, batch: int, rank: int, world: int) -> np.ndarray:
    """This worker's part of step ``step``'s global batch (equal shards, in rank order)."""
    start = (step * batch) % (len(order) - batch + 1)
    local = batch // world
    return order[start + rank * local : start + (rank + 1) * local]


def sgd_step(model, lr: float) -> None:
    """Plain SGD, w <- w - lr * dL/dw, as ``torch.optim.SGD`` does it (``add_`` with
    ``alpha=-lr``); by hand, because ``torch.optim`` imports torch's compiler (seconds per
    worker at every start)."""
    with torch.no_grad():
        for p in model.parameters():
            p.add_(p.grad, alpha=-lr)


def average_parameters(model) -> int:
    """Parameter averaging: all-reduce every parameter, divide by the workers; returns bytes."""
    world, sent = dist.get_world_size(), 0
    for p in model.parameters():
        dist.all_reduce(p.data)
        p.data /= world
        sent += 4 * p.numel()
    return sent


def evaluate(model, x, y) -> float:
    with torch.no_grad():
        return float((model(x).argmax(dim=1) == y).float().mean())


def device_of(args) -> torch.device:
    """The worker's device: its own GPU (LOCAL_RANK) with --device cuda, else the CPU."""
    if args.device == "cuda":
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    return torch.device("cpu")


def wrap_for_mode(model, mode: str, tau: float, device):
    """(the module to call, the Strom state or None): DDP's all-reduce of every gradient for
    "allreduce", DDP with :func:`strom_hook` (send only |g| >= tau) for "strom", else ``model``."""
    if mode not in ("allreduce", "strom"):
        return model, None
    ids = [device.index] if device.type == "cuda" else None
    net = torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)
    state = None
    if mode == "strom":
        state = StromState(tau)
        net.register_comm_hook(state, strom_hook)
    return net, state


def train(args) -> tuple[dict, torch.nn.Module]:
    """One worker's run of ``args.steps`` SGD steps in ``args.mode``: its log and its model."""
    distributed = args.mode != "single"
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    if args.batch % world:
        raise ValueError(
            f"--batch {args.batch} must divide evenly over {world} workers: pass a multiple of "
            f"{world}, e.g. --batch {world * max(1, round(args.batch / world))}"
        )
    device = device_of(args)
    x, y, x_test, y_test = (t.to(device) for t in load_data())
    order = np.random.default_rng(args.seed).permutation(len(x))
    model = make_model(args.hidden, args.seed).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    net, state = wrap_for_mode(model, args.mode, args.tau, device)
    log = {"step": [], "loss": [], "accuracy": [], "bytes": []}
    sent, t0 = 0, time.perf_counter()
    for step in range(args.steps):
        if step == args.die_at_step and rank == 1:
            os._exit(3)  # a crashed worker, for the launcher's test
        if step == args.hang_at_step and rank == 1:
            time.sleep(24 * 3600)  # a hung worker: rank 0 waits for it in the next all-reduce
        idx = torch.from_numpy(shard(step, order, args.batch, rank, world)).to(device)
        loss = torch.nn.functional.cross_entropy(net(x[idx]), y[idx])
        model.zero_grad()
        loss.backward()
        sgd_step(model, args.lr)
        if args.mode == "allreduce":
            sent += 4 * n_params
        elif args.mode == "average" and (step + 1) % args.average_every == 0:
            sent += average_parameters(model)
        elif args.mode == "strom":
            sent = state.bytes_sent
        if (step + 1) % args.eval_every == 0 or step + 1 == args.steps:
            log["step"].append(step + 1)
            log["loss"].append(float(loss.detach()))
            log["accuracy"].append(evaluate(model, x_test, y_test))
            log["bytes"].append(sent)
            if rank == 0:  # the launcher's progress bar reads this line
                print(f"step {step + 1}/{args.steps}", flush=True)
    if args.mode == "average" and args.steps % args.average_every:
        sent += average_parameters(model)  # end on one model
        log["accuracy"][-1], log["bytes"][-1] = evaluate(model, x_test, y_test), sent
    result = {
        "mode": args.mode,
        "world": world,
        "settings": vars(args),
        "parameters": n_params,
        "seconds": time.perf_counter() - t0,
        "dense_bytes_per_step": 4 * n_params,
        **log,
        "checksum": float(sum(p.detach().double().sum() for p in model.parameters())),
    }
    if state is not None:
        result["fraction_sent"] = state.elements_sent / max(state.elements_total, 1)
    result["step_seconds"] = result["seconds"] / args.steps
    if distributed:
        result["allreduce_s"] = time_allreduce(n_params, device)
    return result, model


def time_allreduce(n: int, device, repeats: int = 10) -> float:
    """Median time of one all-reduce of n float32 numbers (a dense gradient's traffic)."""
    buffer, times = torch.zeros(n, device=device), []
    for _ in range(repeats):
        dist.barrier()
        t = time.perf_counter()
        dist.all_reduce(buffer)
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


@record  # an error is written to TORCHELASTIC_ERROR_FILE: torchrun and the launcher show it
def main(argv=None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.mode != "single":
        timeout = datetime.timedelta(seconds=args.timeout_s)
        dist.init_process_group("nccl" if args.device == "cuda" else "gloo", timeout=timeout)
    result, model = train(args)
    rank = dist.get_rank() if args.mode != "single" else 0
    if rank == 0 and args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1)
    if rank == 0 and args.save_params:
        arrays = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
        with open(npz_path(args.save_params), "wb") as f:
            write_npz(f, arrays)
    if args.mode != "single":
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
