"""The GPU campaign's items: every GPU measurement of the course, in priority order.

Each :class:`Item` names a subprocess command, its rough cost on an H100/H200 and the JSON it
writes; :mod:`experiments.campaign` runs them within a budget.  A lesson registers a GPU
measurement by adding an item here; its JSON is what the lesson reads from
``experiments/results/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from course_lib.data.store import available

REPO = Path(__file__).resolve().parents[1]
GPU_BACKENDS_SAE = "cupy,torch-cuda,torch-cuda-graph"


@dataclass(frozen=True)
class Item:
    """One measurement: ``command(out_dir, slug)`` -> argv after ``python``; it writes
    ``output`` (``{slug}`` is the GPU's name) into the folder."""

    name: str
    lesson: str
    estimate_s: float
    command: object
    output: str
    what: str
    needs_gpu: bool = True
    unavailable: str = ""  # why this item cannot run yet, if it cannot
    smoke: tuple = ()  # appended by --smoke: the same command, tiny and on the CPU
    extra: dict = field(default_factory=dict)


def _bench(name: str, args: str, output: str, note: str = ""):
    """``-m experiments.bench_<name> <args> [--note <note>] --out <out>/<output>``: ``args`` split
    at spaces (no argument in it holds one), ``note`` one argument."""
    argv = ["-m", f"experiments.bench_{name}", *args.split(), *(["--note", note] if note else [])]
    return lambda out, slug: [*argv, "--out", str(out / output.format(slug=slug))]


def _bench_item(name, lesson, estimate_s, bench, args, output, what, note="", **kw) -> Item:
    """An :class:`Item` that runs ``experiments.bench_<bench> <args>`` into ``output``."""
    return Item(name, lesson, estimate_s, _bench(bench, args, output, note), output, what, **kw)


def _parity(out, slug):
    tests = sorted(str(p.relative_to(REPO)) for p in (REPO / "tests").glob("test_*.py"))
    files = [t for t in tests if "mark.gpu" in (REPO / t).read_text(encoding="utf-8")]
    junit = f"--junitxml={out / f'parity_{slug}.xml'}"
    return ["-m", "pytest", "-m", "gpu", "-q", "-p", "no:cacheprovider", *files, junit]


def _resnet(n):
    name = f"resnet{6 * n + 2}_cifar10"
    args = ["-m", "experiments.train_resnet", "--n", str(n), "--time-limit-s", "560", "--out"]
    return lambda out, slug: [*args, str(out / f"{name}_{slug}.json")]


_NO_CIFAR = (
    "CIFAR-10 is not on this machine: put cifar-10/cifar-10-python.tar.gz in COURSE_DATA "
    "(course_lib.data.load_cifar10() downloads it where there is a network)"
)
_CIFAR_MISSING = "" if available("cifar-10") else _NO_CIFAR

_SAE_TINY = "--images 300 --pretrain-epochs 1 --finetune-epochs 1 --batch-sizes 100 --no-warmup"
SAE_SMOKE = ("--backends", "numpy,torch-cpu", *_SAE_TINY.split())
_ALEXNET_TINY = "--in-size 67 --width 0.25 --batch 2 --steps 1 --warmup 0 --settle 0 --threads 2"
ALEXNET_SMOKE = ("--dtypes", "float32", *_ALEXNET_TINY.split())
ALEXNET_TORCH = "torch-cuda,torch-cuda:tf32,torch-cuda:bf16,torch-cuda:bf16+cl"

# In priority order: what turns into the course's verdicts first.  estimate_s: seconds on an
# H100/H200 (the SAE items from the 2-core CPU times and the GPU's launch-bound steps; refined
# by the first measured run, campaign.json's "seconds").
ITEMS = [
    Item(
        "parity",
        "all",
        120,
        _parity,
        "parity_{slug}.json",
        "pytest -m gpu: NumPy vs CuPy and torch CPU vs CUDA, every from-scratch layer "
        "(fails when no test ran)",
        smoke=("--collect-only",),
    ),
    _bench_item(
        "sae_seed",
        "05",
        150,
        "sae",
        f"--backends {GPU_BACKENDS_SAE} --batch-sizes 100",
        "sae_speed_{slug}.json",
        "seed 000's protocol (50,000 images, 15x4 + 5 epochs), batch 100: CuPy, torch CUDA, "
        "CUDA graphs",
        smoke=SAE_SMOKE,
    ),
    _bench_item(
        "sae_cpu",
        "05",
        120,
        "sae",
        "--backends numpy --batch-sizes 100",
        "sae_speed_{slug}_cpu.json",
        "the same protocol in NumPy on the GPU machine's CPU cores "
        "(seed000.sae_gpu_speedup's denominator)",
        note="the CPU cores of the GPU machine: the speed-up's denominator",
        needs_gpu=False,
        smoke=SAE_SMOKE,
    ),
    _bench_item(
        "alexnet",
        "07",
        120,
        "alexnet",
        f"--backends cupy,{ALEXNET_TORCH} --dtypes float32,float64 --threads 16",
        "alexnet_speed_{slug}.json",
        "lesson 07: AlexNet and the seed's net, training images/s, "
        "CuPy vs torch (float32, float64; TF32, bf16, channels-last)",
        smoke=("--backends", "numpy,torch-cpu,torch-cpu:bf16+cl", *ALEXNET_SMOKE),
    ),
    _bench_item(
        "speed",
        "11",
        120,
        "speed",
        "--device cuda --scale full",
        "speed_{slug}.json",
        "lesson 11: MLP training rate by batch (seed 002's 10x), products by dtype (TF32, bf16, "
        "fp16), triad, launch cost, fusion (Triton), cudnn.benchmark",
        smoke=("--device", "cpu", "--scale", "tiny"),
    ),
    _bench_item(
        "kernels",
        "11",
        60,
        "kernels",
        "",
        "kernels_{slug}.json",
        "lesson 11: the hand-written numba.cuda kernels (naive and tiled product, grid-stride "
        "add, block sum) against cuBLAS/CuPy",
        smoke=("--simulator", "--repeats", "1"),
    ),
    _bench_item(
        "alexnet_b128",
        "07",
        90,
        "alexnet",
        f"--backends cupy,{ALEXNET_TORCH} --dtypes float32 --batch 128 --threads 16",
        "alexnet_speed_b128_{slug}.json",
        "lesson 07: the same at the paper's batch of 128 (a GPU's batch: less launch-bound)",
        smoke=("--backends", "numpy", *ALEXNET_SMOKE),
    ),
    _bench_item(
        "sae_sweep",
        "05",
        60,
        "sae",
        f"--backends {GPU_BACKENDS_SAE} --batch-sizes 20,500,2000 --images 10000 "
        "--pretrain-epochs 1 --finetune-epochs 1",
        "sae_sweep_{slug}.json",
        "batch sizes 20, 500, 2000 on a reduced protocol",
        note="reduced protocol (10,000 images, 1+1 epochs) for the sweep",
        smoke=SAE_SMOKE,
    ),
    _bench_item(
        "alexnet_compile",
        "07",
        90,
        "alexnet",
        "--backends torch-cuda:bf16+cl+compile --dtypes float32 --threads 16",
        "alexnet_compile_{slug}.json",
        "lesson 07: the same with torch.compile (bf16, channels-last)",
        # smoke: dynamo and AOT autograd trace the step, no code generated
        smoke=("--backends", "torch-cpu:compile", "--compile-backend", "aot_eager", *ALEXNET_SMOKE),
    ),
    Item(
        "resnet20",
        "14",
        420,
        _resnet(3),
        "resnet20_cifar10_{slug}.json",
        "lesson 14: ResNet-20 on CIFAR-10, the paper's 64k-iteration recipe (torch twin, bf16)",
        unavailable=_CIFAR_MISSING,
    ),
    Item(
        "resnet56",
        "14",
        1000,
        _resnet(9),
        "resnet56_cifar10_{slug}.json",
        "lesson 14: ResNet-56 on CIFAR-10, the same recipe",
        unavailable=_CIFAR_MISSING,
    ),
    Item(
        "lstm",
        "09",
        120,
        None,
        "",
        "LSTM tokens/s, from-scratch CuPy against cuDNN",
        unavailable="bench lstm has no GPU path yet (CPU only)",
    ),
    Item(
        "cg04",
        "04",
        3600,
        None,
        "",
        "lesson 04's conjugate-gradient route at full scale",
        unavailable="runs as a notebook, and papermill is not on the GPU image",
    ),
]
