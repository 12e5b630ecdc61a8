"""Measuring speed, and the roofline model that says what limits it.

    seconds = speed.median_seconds(lambda: a @ b, device="cpu")    # warm-up, sync, median
    speed.time_ratio(f, g)            # time(g) / time(f), alternated, fastest samples
    speed.gemm(1024, "float32")       # {"gflops": ..., "intensity": ...} for an n x n product
    speed.triad(2**24)                # {"gb_per_s": ...}: a = b + s c, STREAM's bandwidth test

An operation that does F floating-point operations and moves B bytes to and from memory has
*arithmetic intensity* I = F / B.  On a machine that computes at most P FLOP/s and moves at most
W bytes/s, it cannot run faster than

    min(P, I x W)                     (the roofline: Williams, Waterman & Patterson 2009)

An n x n matrix product does 2n^3 operations on 3n^2 numbers, so I grows with n and large
products reach the compute roof; an elementwise operation does a few operations per number and
stays on the memory slope whatever its size.  The measurements use torch, which runs the same
code on the CPU and on an NVIDIA GPU, in every dtype (float64, float32, bfloat16, float16, and
on a GPU TF32 for float32 products).
"""

from __future__ import annotations

import statistics
import time
import warnings
from functools import partial

import numpy as np

from course_lib.backend import synchronize

DTYPES = ("float64", "float32", "tf32", "bfloat16", "float16")


def _torch():
    import torch

    return torch


def median_seconds(f, *, device="cpu", repeats: int = 5, warmup: int = 1, min_time=1e-3):
    """Median time of one call of ``f()``: ``warmup`` untimed calls, then ``repeats`` samples,
    each synchronised with the device and looping ``f`` enough times to last ``min_time``
    seconds (a single call of a tiny operation is shorter than the clock can resolve)."""
    if str(device).startswith("cuda"):
        _torch()  # loaded, synchronize waits for the whole GPU (CuPy's and numba's kernels too)
    for _ in range(warmup):
        f()
    synchronize(device)
    number, elapsed = 1, 0.0
    while True:  # calls per sample: double until one sample lasts min_time
        t = time.perf_counter()
        for _ in range(number):
            f()
        synchronize(device)
        elapsed = time.perf_counter() - t
        if elapsed >= min_time or number >= 1 << 20:
            break
        number *= 2
    samples = [elapsed / number]
    for _ in range(repeats - 1):
        t = time.perf_counter()
        for _ in range(number):
            f()
        synchronize(device)
        samples.append((time.perf_counter() - t) / number)
    return statistics.median(samples)


def _calls_to_last(f, device, min_time) -> int:
    """How many calls of ``f`` in a row last at least ``min_time`` seconds (doubling)."""
    number = 1
    while True:
        if _sample_seconds(f, number, device) * number >= min_time or number >= 1 << 20:
            return number
        number *= 2


def _sample_seconds(f, number, device) -> float:
    """Seconds per call of ``f``, over ``number`` calls in a row."""
    t = time.perf_counter()
    for _ in range(number):
        f()
    synchronize(device)
    return (time.perf_counter() - t) / number


def time_ratio(f, g, *, device="cpu", repeats: int = 15, min_time=5e-3) -> float:
    """time(g()) / time(f()), for a ratio on a busy machine.

    The two are timed in alternation (f, g, f, g, ...), so a change in the machine's load hits
    both alike, and the ratio is of the fastest samples, the least disturbed ones (as timeit
    advises); each sample loops its function for at least ``min_time`` seconds.
    """
    counts = [_calls_to_last(h, device, min_time) for h in (f, g)]
    best = [float("inf"), float("inf")]
    for _ in range(repeats):
        for i, (h, number) in enumerate(zip((f, g), counts)):
            best[i] = min(best[i], _sample_seconds(h, number, device))
    return best[1] / best[0]


def precision(name: str):
    """The arithmetic a name of :data:`DTYPES` stands for: (torch dtype, TF32 allowed?), e.g.
    ``"tf32"`` -> ``(torch.float32, True)``, ``"bfloat16"`` -> ``(torch.bfloat16, False)``."""
    torch = _torch()
    if name not in DTYPES:
        raise ValueError(f"unknown dtype {name!r}: choose from {', '.join(DTYPES)}")
    return (torch.float32, True) if name == "tf32" else (getattr(torch, name), False)


def gemm_intensity(n: int, itemsize: int) -> float:
    """FLOPs per byte of an n x n x n product: 2n^3 / (3 n^2 itemsize) = 2n / (3 itemsize)."""
    return 2 * n / (3 * itemsize)


def gemm(n: int, dtype: str = "float32", device="cpu", repeats: int = 5) -> dict:
    """Time ``a @ b`` for random n x n matrices; FLOP/s counts 2n^3 operations."""
    torch = _torch()
    dt, tf32 = precision(dtype)
    if tf32 and not str(device).startswith("cuda"):
        raise ValueError("tf32 is a GPU tensor-core format: on the CPU use float32")
    g = torch.Generator(device=device).manual_seed(0)
    a, b = (torch.randn(n, n, generator=g, device=device).to(dt) for _ in range(2))
    previous = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    try:
        seconds = median_seconds(lambda: a @ b, device=device, repeats=repeats)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = previous
    itemsize = a.element_size()
    return {
        "n": n,
        "dtype": dtype,
        "seconds": seconds,
        "gflops": 2 * n**3 / seconds / 1e9,
        "intensity": gemm_intensity(n, itemsize),
    }


def triad(n: int, device="cpu", repeats: int = 5) -> dict:
    """STREAM's triad a = b + s c on float32 vectors of n; it moves 3 x 4n bytes (two reads, one
    write) for 2n operations: intensity 1/6, on the memory slope at any n."""
    torch = _torch()
    b, c = torch.rand(n, device=device), torch.rand(n, device=device)
    a = torch.empty_like(b)
    seconds = median_seconds(
        lambda: torch.add(b, c, alpha=3.0, out=a), device=device, repeats=repeats
    )
    return {
        "n": n,
        "seconds": seconds,
        "gb_per_s": 12 * n / seconds / 1e9,
        "gflops": 2 * n / seconds / 1e9,
        "intensity": 1 / 6,
    }


def roofline(intensity, peak_gflops: float, gb_per_s: float):
    """The attainable GFLOP/s at an arithmetic intensity: min(peak, intensity x bandwidth)."""
    return np.minimum(peak_gflops, np.asarray(intensity) * gb_per_s)


def op_time(n: int, device="cpu", library: str = "torch", repeats: int = 5) -> float:
    """Seconds for one ``y = x + 1`` on n float32 numbers: a fixed cost per operation (the
    framework's dispatch, and on a GPU the kernel launch) plus the time to move 8n bytes."""
    if library == "numpy":
        x = np.ones(n, dtype=np.float32)
    else:
        x = _torch().ones(n, device=device)
    return median_seconds(lambda: x + 1, device=device, repeats=repeats)


def train_step_rate(batch: int, device="cpu", sizes=(784, 1000, 500, 250, 10), repeats=5):
    """Images per second of one SGD step (forward, backward, update) of a ReLU MLP, in torch."""
    torch = _torch()
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1]).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x = torch.rand(batch, sizes[0], device=device)
    y = torch.randint(0, sizes[-1], (batch,), device=device)

    def step():
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    return batch / median_seconds(step, device=device, repeats=repeats)


# AlexNet's convolutions (Krizhevsky et al. 2012, one tower): name -> (in, out, kernel, stride,
# padding, input size)
ALEXNET_CONVS = {
    "conv1": (3, 96, 11, 4, 2, 224),
    "conv2": (96, 256, 5, 1, 2, 27),
    "conv3": (256, 384, 3, 1, 1, 13),
    "conv4": (384, 384, 3, 1, 1, 13),
    "conv5": (384, 256, 3, 1, 1, 13),
}


def conv_algorithms(batch: int, device="cpu", repeats: int = 3) -> dict:
    """Forward time of AlexNet's convolutions, one torch layer computed by different algorithms.

    On a GPU: cuDNN with its default heuristic choice, and with ``cudnn.benchmark = True`` (it
    times every algorithm for the shape on first use and keeps the fastest).  On the CPU: oneDNN
    (torch's default) and torch's own im2col path (oneDNN switched off).  Returns
    {layer: {variant: seconds}}."""
    torch = _torch()
    on_gpu = str(device).startswith("cuda")
    variants = ("heuristic", "autotuned") if on_gpu else ("onednn", "im2col")
    out = {}
    for name, (c_in, c_out, k, s, p, size) in ALEXNET_CONVS.items():
        conv = torch.nn.Conv2d(c_in, c_out, k, stride=s, padding=p).to(device)
        x = torch.rand(batch, c_in, size, size, device=device)
        out[name] = {}
        for variant in variants:  # (mkldnn.flags warns about Intel GPUs: not ours to fix)
            flags = (
                torch.backends.cudnn.flags(enabled=True, benchmark=variant == "autotuned")
                if on_gpu
                else torch.backends.mkldnn.flags(enabled=variant == "onednn")
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                with flags, torch.no_grad():
                    out[name][variant] = median_seconds(
                        partial(conv, x), device=device, repeats=repeats
                    )
    return out


def cache_sizes(cpu_dir="/sys/devices/system/cpu/cpu0/cache") -> dict:
    """{"L1d": bytes, "L2": bytes, "L3": bytes} of one core's data caches, as Linux reports them
    (L3 is usually shared by all cores); empty where the system does not say."""
    from pathlib import Path

    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    sizes = {}
    for index in sorted(Path(cpu_dir).glob("index*")):
        try:
            level = (index / "level").read_text().strip()
            kind = (index / "type").read_text().strip()
            size = (index / "size").read_text().strip()
        except OSError:
            continue
        if kind == "Instruction" or not size:
            continue
        name = f"L{level}" + ("d" if kind == "Data" else "")
        sizes[name] = int(size[:-1]) * units[size[-1]] if size[-1] in units else int(size)
    return sizes
