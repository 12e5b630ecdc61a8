"""Time LSTM language-model training in tokens per second: the from-scratch NumPy model against
the same model in torch on the CPU.

Ours is :class:`course_lib.models.rnnlm.RNNLM` (``cell="lstm"``), trained by our own backward
pass; torch's is its twin, :class:`course_lib.twins.rnnlm.TorchRNNLM` (the same weights in
``nn.Embedding`` -> ``nn.LSTM`` -> ``nn.Linear``), trained by autograd.  Both have the same
vocabulary, hidden size (= embedding size), number of layers, batch, window length and dtype
(float32), and run with the same number of threads (``--threads``: NumPy's BLAS and torch's),
one after the other in the same process.

One step is what :func:`course_lib.train.fit_lm` does for one window of truncated BPTT: forward
over ``steps`` tokens of ``batch`` streams, softmax cross-entropy averaged over every token,
backward, clipping of the global gradient norm to 5, a plain SGD update (lr 1).  The model is
stateful: its state is reset once, before the warm-up, then carried from window to window (torch:
detached between steps, so the gradient stops at the window's edge as ours does).  The tokens are
random ids from a seeded generator, read as consecutive windows of ``batch`` long streams (the
time does not depend on the text).  Each model runs ``--warmup`` untimed steps, then
``--repeats`` timed ones; tokens/s = batch x steps / the median step time.  ``torch_over_ours``
is torch's tokens/s over ours: how many times faster torch is.

Target: ours within 2x of torch CPU, i.e. ``torch_over_ours <= 2`` (``target_met`` per size).

``--sizes`` lists configurations ``VOCABxHIDDENxLAYERS``, each optionally followed by
``@BATCHxSTEPS`` to override ``--batch`` and ``--steps`` for that one.  The default measures a
small and a large char-RNN (65 characters, as tiny-shakespeare) at ``--batch 32 --steps 50``, and
Zaremba et al.'s small model on PTB's 10k words at its own batch 20 and 20 steps.  The load
average before and after is stored, so a result measured on a busy machine says so.

    python -m experiments bench lstm --out experiments/results/lstm_speed_cpu_2core.json
    python -m experiments bench lstm --sizes 65x64x1 --batch 8 --steps 20 --repeats 5  # seconds
"""

from __future__ import annotations

import argparse
import gc
import re
import statistics
import time

import numpy as np

from experiments.benchkit import blas_threads, limit_threads, record_end, record_start

DEFAULT_SIZES = "65x128x2,65x512x2,10000x200x2@20x20"
LR, CLIP, DTYPE = 1.0, 5.0, "float32"
TARGET = 2.0  # torch's tokens/s over ours, at most
SIZE_RE = re.compile(r"(\d+)x(\d+)x(\d+)(?:@(\d+)x(\d+))?")


def parse_sizes(text: str, batch: int, steps: int) -> list[dict]:
    """``"65x128x2,10000x200x2@20x20"`` -> one dict per configuration (vocab, hidden, layers,
    batch, steps); exit with a message naming ``--sizes`` on anything else."""
    configs = []
    for item in (s.strip() for s in text.split(",")):
        m = SIZE_RE.fullmatch(item)
        values = [int(v) for v in m.groups() if v is not None] if m else []
        if not m or min(values) < 1 or values[0] < 2:
            raise SystemExit(
                f"--sizes {text!r}: give VOCABxHIDDENxLAYERS[@BATCHxSTEPS], comma-separated, "
                f"whole numbers at least 1 (vocabulary at least 2), e.g. {DEFAULT_SIZES}"
            )
        vocab, hidden, layers = values[:3]
        b, t = values[3:] or (batch, steps)
        name = f"{vocab}x{hidden}x{layers}"
        configs.append(
            dict(config=name, vocab=vocab, hidden=hidden, layers=layers, batch=b, steps=t)
        )
    return configs


def token_windows(vocab: int, batch: int, steps: int, count: int, seed: int) -> list[tuple]:
    """``count`` consecutive (x, y) windows, each (batch, steps) int64, of ``batch`` streams of
    random ids; y is x shifted by one token."""
    ids = np.random.default_rng(seed).integers(0, vocab, (batch, count * steps + 1))
    starts = range(0, count * steps, steps)
    return [(ids[:, k : k + steps].copy(), ids[:, k + 1 : k + steps + 1].copy()) for k in starts]


def ours_step(cfg: dict, seed: int):
    """(a function running one training step of our RNNLM on (x, y) and returning its loss, the
    model's parameter count)."""
    from course_lib import nn, optim
    from course_lib.models.rnnlm import RNNLM

    model = RNNLM(
        cfg["vocab"], cfg["hidden"], num_layers=cfg["layers"], cell="lstm", rng=seed, dtype=DTYPE
    )
    loss, opt = nn.SoftmaxCrossEntropy(), optim.SGD(model.params, model.grads, lr=LR)
    model.train().reset_state()

    def step(x, y):
        value = loss.forward(model.forward(x), y)
        model.backward(loss.backward())
        optim.clip_grad_norm(model.grads, CLIP)
        opt.step()
        return float(value)

    return step, sum(int(p.size) for p in model.params)


def torch_step(cfg: dict, seed: int):
    """(a function running the same training step on the torch twin of our model,
    :class:`course_lib.twins.rnnlm.TorchRNNLM`, by autograd, its parameter count: torch's LSTM has
    two biases per layer where ours has one)."""
    import torch
    import torch.nn.functional as F

    from course_lib.models.rnnlm import RNNLM
    from course_lib.twins.rnnlm import TorchRNNLM

    model = TorchRNNLM.from_numpy(
        RNNLM(
            cfg["vocab"],
            cfg["hidden"],
            num_layers=cfg["layers"],
            cell="lstm",
            rng=seed,
            dtype=DTYPE,
        )
    )
    params = list(model.parameters())
    opt = torch.optim.SGD(params, lr=LR)
    model.train()

    def step(x, y):
        opt.zero_grad(set_to_none=True)
        scores = model(x)
        value = F.cross_entropy(scores.reshape(-1, scores.shape[-1]), y.reshape(-1))
        value.backward()
        torch.nn.utils.clip_grad_norm_(params, CLIP)
        opt.step()
        return value.item()

    return step, sum(p.numel() for p in params)


def time_steps(step, windows, warmup: int) -> tuple[list, list]:
    """Run ``step`` on every window; (seconds of each step after the first ``warmup``, losses)."""
    times, losses = [], []
    for k, (x, y) in enumerate(windows):
        t0 = time.perf_counter()
        losses.append(step(x, y))
        if k >= warmup:
            times.append(time.perf_counter() - t0)
    return times, losses


def time_impl(impl: str, cfg: dict, windows, warmup: int, seed: int) -> dict:
    """Build ``impl`` ("ours" or "torch") for ``cfg``, warm up, time; tokens/s from the median."""
    if impl == "torch":
        import torch

        windows = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in windows]
        step, n_params = torch_step(cfg, seed)
    else:
        step, n_params = ours_step(cfg, seed)
    gc.collect()
    times, losses = time_steps(step, windows, warmup)
    median = statistics.median(times)
    return {
        "parameters": n_params,
        "s_per_step": median,
        "all_s": [round(t, 5) for t in times],
        "tokens_per_s": cfg["batch"] * cfg["steps"] / median,
        "losses": losses,
    }


def run_config(cfg: dict, warmup: int, repeats: int, seed: int) -> dict:
    """Time ours, then torch, on the same windows of one configuration."""
    windows = token_windows(cfg["vocab"], cfg["batch"], cfg["steps"], warmup + repeats, seed)
    out = dict(cfg)
    for impl in ("ours", "torch"):
        out[impl] = time_impl(impl, cfg, windows, warmup, seed)
    out["torch_over_ours"] = out["torch"]["tokens_per_s"] / out["ours"]["tokens_per_s"]
    out["target_met"] = out["torch_over_ours"] <= TARGET
    return out


def format_table(res: dict) -> str:
    """A result as text: settings and load, the machine, then one row per configuration."""
    m, s = res["machine"], res["settings"]
    lines = [
        f"LSTM LM training speed, {s['dtype']}, median of {s['repeats']} steps after "
        f"{s['warmup']} warm-up (load average before {res['load_before'][0]:.2f}, after "
        f"{res['load_after'][0]:.2f})",
        f"  machine: {m['processor']}, {m['cpu_count']} CPUs, torch {m.get('torch')} "
        f"({s['threads']} threads), numpy {m['numpy']}",
        f"  target: {res['target']}",
        f"  {'VxHxL':12s} {'batch x T':>9s} {'params':>10s} {'ours tok/s':>11s} "
        f"{'torch tok/s':>11s} {'torch/ours':>10s} {'ours s/step':>11s} {'torch s/step':>12s}  met",
    ]
    for r in res["configs"]:
        o, t = r["ours"], r["torch"]
        lines.append(
            f"  {r['config']:12s} {r['batch']:>4d} x {r['steps']:<2d} {o['parameters']:10,d} "
            f"{o['tokens_per_s']:11,.0f} {t['tokens_per_s']:11,.0f} {r['torch_over_ours']:10.2f} "
            f"{o['s_per_step']:11.4f} {t['s_per_step']:12.4f}  {'yes' if r['target_met'] else 'no'}"
        )
    return "\n".join(lines)


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m experiments bench lstm",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--sizes",
        default=DEFAULT_SIZES,
        help="comma-separated VOCABxHIDDENxLAYERS[@BATCHxSTEPS] (default: %(default)s)",
    )
    p.add_argument("--batch", type=int, default=32, help="streams per step (default: 32)")
    p.add_argument("--steps", type=int, default=50, help="tokens per stream per step (default: 50)")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first (default: 3)")
    p.add_argument("--repeats", type=int, default=20, help="timed steps (median; default: 20)")
    p.add_argument("--threads", type=int, default=2, help="BLAS and torch threads (default: 2)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--note", default="", help="free text stored in the JSON")
    p.add_argument("--out", default=None, help="JSON path to write (default: print only)")
    args = p.parse_args(argv)
    for name in ("batch", "steps", "repeats", "threads"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be at least 1")
    if args.warmup < 0:
        p.error("--warmup must be at least 0")
    return args


def main(argv=None) -> dict:
    import torch

    args = parse_args(argv)
    configs = parse_sizes(args.sizes, args.batch, args.steps)
    threads_before = torch.get_num_threads()
    limiter = limit_threads(args.threads, torch_too=True)
    settings = {k: getattr(args, k) for k in ("sizes", "batch", "steps", "warmup", "repeats")}
    settings.update(threads=args.threads, blas_threads=blas_threads(), seed=args.seed)
    settings.update(dtype=DTYPE, lr=LR, clip=CLIP)
    settings["timed"] = (
        "one truncated-BPTT training step: forward, softmax cross-entropy (mean over tokens), "
        f"backward, clip global grad norm to {CLIP}, SGD (lr {LR}); state carried between steps"
    )
    out = record_start(
        "lstm_speed",
        note=args.note,
        settings=settings,
        target=f"ours within {TARGET:g}x of torch CPU (torch_over_ours <= {TARGET:g})",
        configs=[],
    )
    for cfg in configs:
        r = run_config(cfg, args.warmup, args.repeats, args.seed)
        out["configs"].append(r)
        print(
            f"[bench_lstm] {r['config']} ({r['batch']}x{r['steps']}): ours "
            f"{r['ours']['tokens_per_s']:,.0f} tok/s, torch {r['torch']['tokens_per_s']:,.0f} "
            f"tok/s, torch/ours {r['torch_over_ours']:.2f}",
            flush=True,
        )
    if limiter is not None:  # first: it also resets torch's OpenMP threads
        limiter.restore_original_limits()
    torch.set_num_threads(threads_before)
    return record_end(out, args.out, format_table, "bench_lstm")


if __name__ == "__main__":
    main()
