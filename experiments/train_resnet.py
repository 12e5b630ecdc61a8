"""Train the CIFAR-10 ResNets of He et al. (2016) on a GPU through their torch twins; write JSON.

    python -m experiments.train_resnet --n 3 --out resnet20_cifar10_h200.json     # ResNet-20
    python -m experiments.train_resnet --n 9 --out resnet56_cifar10_h200.json     # ResNet-56

The network is :func:`course_lib.models.resnet.cifar_resnet` (the lesson 14 NumPy model), turned
into torch by :func:`course_lib.twins.layers.to_torch` (tested to compute the same function and
gradients).  The recipe is the paper's section 4.2: SGD with momentum 0.9, weight decay 1e-4,
batch 128, learning rate 0.1 divided by 10 at 32k and 48k iterations, 64k iterations; the
per-pixel mean subtracted; 4-pixel zero padding, a random 32x32 crop and a random horizontal flip.
(The paper trains on 45k images and picks the schedule on 5k; we train on all 50k, with the
schedule fixed in advance, and report the test error once at the end.)  Mixed precision (bf16
autocast) and channels-last memory on CUDA.  ``--time-limit-s`` stops early and says so in the
JSON; ``--synthetic`` trains on random images, only to check that the script runs.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from course_lib.backend import describe_machine
from course_lib.repro import write_json


def augment(x, generator):
    """4-pixel zero padding, a random 32x32 crop and a random flip, per image (torch, on x's
    device)."""
    import torch

    n, c = x.shape[:2]
    padded = torch.nn.functional.pad(x, (4, 4, 4, 4))
    offsets = torch.randint(0, 9, (2, n, 1), generator=generator).to(x.device)
    flip = (torch.rand(n, 1, generator=generator) < 0.5).to(x.device)
    span = torch.arange(32, device=x.device)
    rows = offsets[0] + span  # (n, 32): the rows each crop takes
    cols = offsets[1] + torch.where(flip, 31 - span, span)  # flipped crops read right to left
    i, ch = torch.arange(n, device=x.device), torch.arange(c, device=x.device)
    return padded[
        i[:, None, None, None],
        ch[None, :, None, None],
        rows[:, None, :, None],
        cols[:, None, None, :],
    ]


def load(synthetic: int, seed: int):
    """``(x_train, y_train, x_test, y_test)`` as float32 arrays, the training mean subtracted."""
    if synthetic:
        rng = np.random.default_rng(seed)
        x = rng.random((2 * synthetic, 3, 32, 32), dtype=np.float32)
        y = rng.integers(0, 10, 2 * synthetic)
        splits = (x[:synthetic], y[:synthetic], x[synthetic:], y[synthetic:])
    else:
        from course_lib.data import load_cifar10

        d = load_cifar10()
        splits = (d.x_train, d.y_train, d.x_test, d.y_test)
    mean = splits[0].mean(axis=0, keepdims=True)  # the per-pixel mean of the training images
    return splits[0] - mean, splits[1], splits[2] - mean, splits[3]


def error_rate(model, x, y, device, batch=1000) -> float:
    import torch

    model.eval()
    wrong = 0
    with (
        torch.no_grad(),
        torch.autocast(device.type, torch.bfloat16, enabled=device.type == "cuda"),
    ):
        for i in range(0, len(x), batch):
            xb = torch.as_tensor(x[i : i + batch], device=device)
            wrong += int((model(xb).argmax(1).cpu().numpy() != y[i : i + batch]).sum())
    model.train()
    return 100.0 * wrong / len(x)


def sgd_with_steps(model, args):
    """SGD with momentum 0.9, weight decay on the weights only (not biases or BN), the learning
    rate divided by 10 at 1/2 and 3/4 of the iterations: (optimizer, scheduler, milestones)."""
    import torch

    decay = [p for p in model.parameters() if p.ndim > 1]
    rest = [p for p in model.parameters() if p.ndim <= 1]
    groups = [dict(params=decay, weight_decay=args.weight_decay), dict(params=rest)]
    opt = torch.optim.SGD(groups, lr=args.lr, momentum=0.9)
    milestones = [args.iterations // 2, args.iterations * 3 // 4]
    return opt, torch.optim.lr_scheduler.MultiStepLR(opt, milestones, gamma=0.1), milestones


def shuffled_batches(n: int, batch: int, gen, device):
    """Index batches without end: each epoch a new permutation of ``n``, its short tail dropped."""
    import torch

    while True:
        order = torch.randperm(n, generator=gen).to(device)
        for pos in range(0, n - batch + 1, batch):
            yield order[pos : pos + batch]


def train(args) -> dict:
    """Train ResNet-(6n+2) on CIFAR-10 (or synthetic images) as ``args`` say; the result's dict."""
    import torch

    from course_lib.models.resnet import cifar_resnet
    from course_lib.twins.layers import to_torch

    device = torch.device(args.device)
    torch.manual_seed(args.seed)
    x_train, y_train, x_test, y_test = load(args.synthetic, args.seed)
    model = to_torch(cifar_resnet(args.n, rng=args.seed)).to(device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    opt, sched, milestones = sgd_with_steps(model, args)
    xt, yt = torch.as_tensor(x_train, device=device), torch.as_tensor(y_train, device=device)
    gen = torch.Generator().manual_seed(args.seed)
    batches = shuffled_batches(len(x_train), args.batch, gen, device)
    curve, t0, done, stopped = [], time.perf_counter(), 0, ""
    for it in range(1, args.iterations + 1):
        idx = next(batches)
        xb = augment(xt[idx], gen)
        with torch.autocast(device.type, torch.bfloat16, enabled=device.type == "cuda"):
            loss = torch.nn.functional.cross_entropy(model(xb), yt[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        done = it
        if it % args.eval_every == 0 or it == args.iterations:
            curve.append(
                dict(
                    iteration=it,
                    loss=float(loss.detach()),
                    test_error=error_rate(model, x_test, y_test, device),
                    seconds=round(time.perf_counter() - t0, 1),
                )
            )
        if time.perf_counter() - t0 > args.time_limit_s:
            stopped = f"stopped by --time-limit-s {args.time_limit_s} after {it} iterations"
            break
    seconds = time.perf_counter() - t0
    return dict(
        model=f"ResNet-{6 * args.n + 2}",
        n=args.n,
        data="synthetic" if args.synthetic else "cifar10",
        iterations=done,
        iterations_planned=args.iterations,
        batch=args.batch,
        lr=args.lr,
        milestones=milestones,
        weight_decay=args.weight_decay,
        seed=args.seed,
        test_error=error_rate(model, x_test, y_test, device),
        curve=curve,
        stopped=stopped,
        seconds=round(seconds, 1),
        images_per_s=round(done * args.batch / seconds, 1),
        parameters=sum(p.numel() for p in model.parameters()),
    )


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=3, help="blocks per stage: 3 = ResNet-20, 9 = -56")
    p.add_argument("--iterations", type=int, default=64000)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--eval-every", type=int, default=4000)
    p.add_argument("--time-limit-s", type=float, default=float("inf"))
    p.add_argument("--device", default="cuda")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--synthetic", type=int, default=0, help="N random images (a smoke test)")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    result = dict(machine=describe_machine(), **train(args))
    write_json(args.out, result)
    print(
        f"{result['model']}: test error {result['test_error']:.2f}% after "
        f"{result['iterations']} iterations, {result['seconds']:.0f} s"
    )
    return result


if __name__ == "__main__":
    main()
