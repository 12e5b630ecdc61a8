"""The command line of :mod:`experiments.bench_sae`: the backends, the protocol (the seed talk's
by default) and what the run writes."""

from __future__ import annotations

import argparse

ALL_BACKENDS = ("numpy", "torch-cpu", "cupy", "torch-cuda", "torch-cuda-graph")
GPU_BACKENDS = ("cupy", "torch-cuda", "torch-cuda-graph")
SEED_PROTOCOL = {"images": 50000, "pretrain_epochs": 15, "finetune_epochs": 5}  # the seed talk's


def parse_args(argv=None, description: str = ""):
    """The command line of :mod:`experiments.bench_sae`."""
    p = argparse.ArgumentParser(
        prog="python -m experiments.bench_sae",
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--backends",
        default=",".join(ALL_BACKENDS),
        help="comma-separated, from: " + ", ".join(ALL_BACKENDS),
    )
    _add_protocol_args(p)
    _add_output_args(p)
    return p.parse_args(argv)


def _add_protocol_args(p: argparse.ArgumentParser) -> None:
    """The protocol: images, epochs, batch sizes, layer sizes, learning rates, dtype, seed."""
    p.add_argument(
        "--images",
        type=int,
        default=SEED_PROTOCOL["images"],
        help="first N MNIST training images (seed: 50,000)",
    )
    p.add_argument(
        "--pretrain-epochs",
        type=int,
        default=SEED_PROTOCOL["pretrain_epochs"],
        help="epochs per layer (seed: 15)",
    )
    p.add_argument(
        "--finetune-epochs", type=int, default=SEED_PROTOCOL["finetune_epochs"], help="seed: 5"
    )
    p.add_argument("--batch-sizes", default="100", help="comma-separated; the seed used 100")
    p.add_argument("--sizes", default="784,1000,500,250,2", help="encoder layer sizes")
    p.add_argument(
        "--lr", type=float, default=0.1, help="pretraining learning rate (logistic layers)"
    )
    p.add_argument(
        "--top-lr",
        type=float,
        default=0.01,
        help="pretraining learning rate of the linear code layer",
    )
    p.add_argument("--finetune-lr", type=float, default=0.01)
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--seed", type=int, default=0)


def _add_output_args(p: argparse.ArgumentParser) -> None:
    """How it runs and what it writes: warm-up, progress bars, data folder, note, JSON path."""
    p.add_argument("--no-warmup", action="store_true", help="skip the untimed warm-up run")
    p.add_argument(
        "--progress",
        action="store_true",
        help="a bar per layer and for fine-tuning (for JupyterLab; reads the clock every step)",
    )
    p.add_argument("--data-dir", default=None, help="folder holding mnist/ (default: COURSE_DATA)")
    p.add_argument(
        "--note",
        default="",
        help="free text stored in the JSON (e.g. 'CPU shared with other jobs')",
    )
    p.add_argument("--out", default=None, help="JSON path to write (default: print only)")
