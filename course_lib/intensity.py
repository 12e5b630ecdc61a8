"""FLOPs, bytes and arithmetic intensity of one SGD step of the seed's autoencoder layer, and the
peak rates of the machines it is read against.

One step of a tied-weight sigmoid autoencoder layer (``k = n_in`` visible, ``n = n_hid`` hidden
units) on a batch of ``m`` rows, in the order :mod:`course_lib.sae_step` computes it:

    a = x W + c;  h = sigmoid(a);  z = h W^T + b;  loss = sum softplus(z) - x z      (forward)
    dz = (sigmoid(z) - x) / m;  dW = dz^T h;  dh = dz W;  da = dh h (1 - h);
    dW += x^T da;  dc = sum_rows da;  db = sum_rows dz                              (backward)
    W, c, b -= lr (dW, dc, db)                                                      (update)

Counting rules.  A product of an (m, k) and a (k, n) matrix does ``2 m k n`` operations (a
multiply and an add per term).  An elementwise operation does a fixed number of operations per
element, exp, log and a division counting one each.  Bytes are the *compulsory* traffic: every
operand read once and every result written once, ``itemsize`` bytes a number (what a cache large
enough to hold the operands would move; a smaller cache moves more, a fused kernel less).  The
arithmetic intensity is FLOPs / bytes, and the roofline (Williams, Waterman & Patterson 2009)
says a part cannot take less than ``max(FLOPs / peak, bytes / bandwidth)`` seconds.
"""

from __future__ import annotations

from typing import NamedTuple


class Part(NamedTuple):
    """One named piece of the step: its phase, FLOPs, compulsory bytes, and the FLOPs of its
    matrix product (0 for an elementwise part)."""

    phase: str
    name: str
    flops: int
    bytes: int
    product_flops: int = 0

    @property
    def matmul(self) -> bool:
        """True for a part that is a matrix product (with, perhaps, a bias add)."""
        return self.product_flops > 0


def matmul_counts(m: int, k: int, n: int, itemsize: int = 4) -> tuple[int, int]:
    """(FLOPs, bytes) of an (m, k) x (k, n) product: ``2 m k n`` and ``itemsize (mk + kn + mn)``."""
    return 2 * m * k * n, itemsize * (m * k + k * n + m * n)


def tied_ae_step(m: int = 100, k: int = 784, n: int = 1000, itemsize: int = 4) -> list[Part]:
    """The parts of one SGD step of the tied autoencoder layer k -> n -> k on a batch of m
    (defaults: the seed's first layer, 784-1000, at batch 100, float32)."""
    s, mk, mn, kn = itemsize, m * k, m * n, k * n
    f, by = matmul_counts(m, k, n, s)
    return [
        Part("forward", "encode x W + c", f + mn, by + s * n, f),
        Part("forward", "sigmoid(a)", 4 * mn, s * 2 * mn),
        Part("forward", "decode h W^T + b", f + mk, by + s * k, f),
        Part("forward", "loss", 6 * mk, s * 2 * mk),
        Part("backward", "dz = (sigmoid(z) - x) / m", 6 * mk, s * 3 * mk),
        Part("backward", "dW = dz^T h", f, by, f),
        Part("backward", "dh = dz W", f, by, f),
        Part("backward", "da = dh h (1 - h)", 3 * mn, s * 3 * mn),
        Part("backward", "dW += x^T da", f + kn, by + s * kn, f),
        Part("backward", "bias gradients", mn + mk, s * (mn + n + mk + k)),
        Part("update", "W, c, b -= lr grad", 2 * (kn + n + k), s * 3 * (kn + n + k)),
    ]


def totals(parts: list[Part]) -> tuple[int, int]:
    """(FLOPs, bytes) of all ``parts`` together."""
    return sum(p.flops for p in parts), sum(p.bytes for p in parts)


def intensity(flops: float, nbytes: float) -> float:
    """Arithmetic intensity, FLOPs per byte moved."""
    return flops / nbytes


def ridge_point(peak_gflops: float, gb_per_s: float) -> float:
    """The intensity where a machine's two roofs meet (FLOP/byte): below it memory limits a
    computation, above it arithmetic does."""
    return peak_gflops / gb_per_s


def roofline_seconds(flops: float, nbytes: float, peak_gflops: float, gb_per_s: float) -> float:
    """The least time the roofline allows: ``max(flops / peak, bytes / bandwidth)``."""
    return max(flops / (peak_gflops * 1e9), nbytes / (gb_per_s * 1e9))


# Peak float32 rates (CUDA cores or AVX units, no tensor cores) and memory bandwidths of the
# machines lesson 05 compares, from their makers' datasheets (not measured here).
PEAKS = {
    "H100 SXM": {
        "fp32_gflops": 67_000.0,  # FP32 on the CUDA cores: 67 TFLOPS
        "gb_per_s": 3_350.0,  # HBM3
        "source": "NVIDIA H100 Tensor Core GPU datasheet, SXM5 column",
    },
    "H200 SXM": {
        "fp32_gflops": 67_000.0,  # the same Hopper chip as the H100 SXM
        "gb_per_s": 4_800.0,  # HBM3e
        "source": "NVIDIA H200 Tensor Core GPU datasheet, SXM column",
    },
    "Tesla K40 (seed talk)": {
        "fp32_gflops": 4_290.0,  # 2,880 CUDA cores x 745 MHz x 2
        "gb_per_s": 288.0,  # GDDR5
        "source": "NVIDIA Tesla K40 GPU accelerator board specification (BD-06902-001)",
    },
    "Xeon E5-2650 v2 (seed talk, one socket)": {
        "fp32_gflops": 8 * 2.6 * 16,  # 8 cores x 2.6 GHz x 16 (an 8-wide AVX add and multiply)
        "gb_per_s": 59.7,  # 4 channels of DDR3-1866
        "source": "Intel ARK, Xeon E5-2650 v2 (8 cores, 2.6 GHz base, AVX, 59.7 GB/s)",
    },
}
