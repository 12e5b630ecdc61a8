"""One SGD step of the seed's autoencoder layer, as named parts that can be timed one by one on
NumPy, CuPy or torch (CPU or CUDA).

The layer is the first of seed 000's stacked autoencoder: tied weights, sigmoid code, sigmoid
cross-entropy reconstruction, plain SGD (784-1000 at batch 100 in the seed's protocol).  The parts
and their order are those of :func:`course_lib.intensity.tied_ae_step`, which counts their FLOPs and
bytes; each part reads and writes the fields of a :class:`State`:

    st = sae_step.State.new("numpy", x, W, c, b, lr=0.1)
    sae_step.run_step(st)                  # every part once, in order: one SGD step
    rows = sae_step.time_parts(st)         # [{"phase", "part", "seconds", "flops", ...}, ...]

The same arithmetic written with torch's operators runs unchanged on every backend: ``@``, ``.T``,
in-place ``-=``, ``.sum(0)``; only the sigmoid and softplus come from the backend's own library
(torch's, or :mod:`course_lib.nn.activations` for NumPy and CuPy).
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np

from course_lib import intensity
from course_lib.backend import gpu_missing, synchronize

BACKENDS = ("numpy", "torch-cpu", "cupy", "torch-cuda")


def unavailable(backend: str) -> str | None:
    """Why ``backend`` cannot run here, or None when it can."""
    if backend not in BACKENDS:
        return f"unknown backend {backend!r} (choose from {', '.join(BACKENDS)})"
    return gpu_missing(backend)


def _ops(backend: str) -> SimpleNamespace:
    """The backend's array maker, sigmoid, softplus and device (for synchronising the clock)."""
    if backend.startswith("torch"):
        import torch

        device = torch.device("cpu" if backend == "torch-cpu" else "cuda")
        return SimpleNamespace(
            asarray=lambda a: torch.as_tensor(np.asarray(a), device=device).clone(),
            sigmoid=torch.sigmoid,
            softplus=torch.nn.functional.softplus,
            device=device,
        )
    from course_lib.backend import xp_for
    from course_lib.nn.activations import sigmoid, softplus

    xp = xp_for("cuda" if backend == "cupy" else "cpu")
    return SimpleNamespace(asarray=xp.array, sigmoid=sigmoid, softplus=softplus, device=xp)


class State(SimpleNamespace):
    """The layer's arrays on one backend: data ``x``, weights ``W, c, b``, the rate ``lr``, the
    backend's operations ``ops``, and whatever the parts compute (``a, h, z, loss, dz, ...``)."""

    @classmethod
    def new(cls, backend: str, x, W, c, b, lr: float = 0.1) -> State:
        """Copies of the host arrays ``x, W, c, b`` on ``backend``."""
        ops = _ops(backend)
        arrays = {k: ops.asarray(v) for k, v in dict(x=x, W=W, c=c, b=b).items()}
        return cls(backend=backend, ops=ops, lr=lr, **arrays)


def _encode(s):
    s.a = s.x @ s.W + s.c


def _sigmoid(s):
    s.h = s.ops.sigmoid(s.a)


def _decode(s):
    s.z = s.h @ s.W.T + s.b


def _loss(s):
    s.loss = (s.ops.softplus(s.z) - s.x * s.z).sum() / len(s.x)


def _dz(s):
    s.dz = (s.ops.sigmoid(s.z) - s.x) / len(s.x)


def _dw_decoder(s):
    s.dW = s.dz.T @ s.h


def _dh(s):
    s.dh = s.dz @ s.W


def _da(s):
    s.da = s.dh * s.h * (1 - s.h)


def _dw_encoder(s):
    s.dW += s.x.T @ s.da


def _bias_grads(s):
    s.dc, s.db = s.da.sum(0), s.dz.sum(0)


def _update(s):
    s.W -= s.lr * s.dW
    s.c -= s.lr * s.dc
    s.b -= s.lr * s.db


# the parts in order, named as course_lib.intensity.tied_ae_step names them
PARTS = dict(
    zip(
        [p.name for p in intensity.tied_ae_step(1, 1, 1)],
        [
            _encode,
            _sigmoid,
            _decode,
            _loss,
            _dz,
            _dw_decoder,
            _dh,
            _da,
            _dw_encoder,
            _bias_grads,
            _update,
        ],
    )
)


def run_step(s: State) -> State:
    """One SGD step: every part once, in order (updates ``s.W, s.c, s.b`` in place)."""
    for part in PARTS.values():
        part(s)
    return s


def fastest_seconds(f, device, *, repeats: int = 7, min_time: float = 5e-3) -> float:
    """Seconds of one call of ``f()``: the fastest of ``repeats`` samples, each looping ``f`` for
    at least ``min_time`` seconds and synchronised with ``device`` (after one untimed call).

    The fastest sample, not the median, is the one the machine's other jobs disturbed least (the
    advice of Python's timeit): on a shared CPU the median can be several times slower."""
    f()
    synchronize(device)
    number, samples = 1, []
    while len(samples) < repeats:
        t = time.perf_counter()
        for _ in range(number):
            f()
        synchronize(device)
        elapsed = time.perf_counter() - t
        if elapsed < min_time and number < 1 << 20:
            number *= 2  # too short to time well: more calls a sample (this one is dropped)
        else:
            samples.append(elapsed / number)
    return min(samples)


def time_parts(s: State, *, repeats: int = 7, min_time: float = 5e-3) -> list[dict]:
    """Seconds of each part (:func:`fastest_seconds`, the device synchronised), with its FLOPs and
    bytes; the weights are put back as they were when it was called."""
    W, c, b = s.W * 1, s.c * 1, s.b * 1  # copies, to put back
    run_step(s)  # every intermediate exists
    m, k = s.x.shape
    counts = intensity.tied_ae_step(m, k, s.W.shape[1], s.x.dtype.itemsize)
    rows = []
    for count, (name, part) in zip(counts, PARTS.items()):
        seconds = fastest_seconds(
            lambda part=part: part(s), s.ops.device, repeats=repeats, min_time=min_time
        )
        where = {"backend": s.backend, "phase": count.phase, "part": name}
        rows.append(
            dict(where, seconds=seconds, flops=count.flops, bytes=count.bytes, matmul=count.matmul)
        )
    s.W[...], s.c[...], s.b[...] = W, c, b
    return rows


def time_step(s: State, *, repeats: int = 7, min_time: float = 5e-3) -> float:
    """Seconds of a whole step (every part in a row; :func:`fastest_seconds`)."""
    return fastest_seconds(lambda: run_step(s), s.ops.device, repeats=repeats, min_time=min_time)
