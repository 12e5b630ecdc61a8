"""The FLOP and byte counts of the autoencoder layer's step (lesson 05): the formulas, torch's own
FLOP counter on the same layer, and the roofline arithmetic."""

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from course_lib import intensity


def test_matmul_counts():
    assert intensity.matmul_counts(2, 3, 5) == (60, 4 * (6 + 15 + 10))
    assert intensity.matmul_counts(1, 1, 1, itemsize=8) == (2, 24)


@pytest.mark.parametrize("m, k, n", [(100, 784, 1000), (1, 5, 3), (7, 4, 9)])
def test_matrix_products_match_torchs_flop_counter(m, k, n):
    """torch counts 2mkn for each product of the same layer's forward and backward (autograd):
    the five products of the step, and nothing else it counts."""
    x = torch.rand(m, k)
    W = torch.rand(k, n, requires_grad=True)
    c, b = torch.zeros(n, requires_grad=True), torch.zeros(k, requires_grad=True)
    with FlopCounterMode(display=False) as counter:
        h = torch.sigmoid(x @ W + c)
        z = h @ W.T + b
        torch.nn.functional.binary_cross_entropy_with_logits(z, x, reduction="sum").backward()
    parts = intensity.tied_ae_step(m, k, n)
    products = [p for p in parts if p.matmul]
    assert len(products) == 5
    assert counter.get_total_flops() == sum(p.product_flops for p in parts) == 10 * m * k * n
    extra = sum(p.flops - p.product_flops for p in products)  # bias adds, dW accumulation
    assert extra == m * n + m * k + k * n


def test_the_seed_layer_at_batch_100():
    parts = intensity.tied_ae_step()
    flops, nbytes = intensity.totals(parts)
    assert [p.phase for p in parts].count("update") == 1
    assert sum(p.flops for p in parts if p.matmul) / flops > 0.99  # products: nearly all FLOPs
    assert 15 < intensity.intensity(flops, nbytes) < 30
    assert intensity.tied_ae_step(itemsize=8)[0].bytes == 2 * parts[0].bytes


def test_a_product_gets_more_intense_with_the_batch():
    k, n = 784, 1000
    got = [intensity.intensity(*intensity.matmul_counts(m, k, n)) for m in (1, 10, 100, 10**6)]
    assert got == sorted(got)
    assert got[0] == pytest.approx(0.5, rel=0.01)  # batch 1: each weight read for 2 FLOPs
    assert got[-1] == pytest.approx(2 * k * n / (4 * (k + n)), rel=0.01)


def test_roofline_seconds_and_ridge():
    # 100 GFLOP/s and 10 GB/s: ridge at 10 FLOP/byte
    assert intensity.ridge_point(100, 10) == 10
    assert intensity.roofline_seconds(1e9, 1e6, 100, 10) == pytest.approx(0.01)  # compute
    assert intensity.roofline_seconds(1e6, 1e9, 100, 10) == pytest.approx(0.1)  # memory


def test_peaks_name_their_source():
    for name, peak in intensity.PEAKS.items():
        assert peak["source"] and peak["fp32_gflops"] > 0 and peak["gb_per_s"] > 0, name
    h100, h200 = intensity.PEAKS["H100 SXM"], intensity.PEAKS["H200 SXM"]
    assert h100["fp32_gflops"] == h200["fp32_gflops"] and h200["gb_per_s"] > h100["gb_per_s"]
