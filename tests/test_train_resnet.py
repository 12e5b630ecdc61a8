"""The CIFAR-10 ResNet trainer of the GPU campaign, run on the CPU on random images: the
augmentation is the paper's, and the script trains and writes its JSON."""

import json

import numpy as np
import torch

from experiments import train_resnet


def test_augment_is_a_padded_crop_or_its_mirror():
    x = torch.arange(2 * 3 * 32 * 32, dtype=torch.float32).reshape(2, 3, 32, 32)
    out = train_resnet.augment(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    padded = torch.nn.functional.pad(x, (4, 4, 4, 4))
    for k in range(2):
        crops = [padded[k, :, a : a + 32, b : b + 32] for a in range(9) for b in range(9)]
        assert any(torch.equal(out[k], c) or torch.equal(out[k], c.flip(-1)) for c in crops)


def test_augment_flips_about_half_and_shifts_up_to_four_pixels():
    x = torch.zeros(400, 1, 32, 32)
    x[:, :, :, :16] = 1.0  # left half bright
    out = train_resnet.augment(x, torch.Generator().manual_seed(1))
    left = out[:, 0, 16, :8].mean(1)  # bright unless flipped (or shifted by at most 4)
    assert 0.35 < float((left == 0).float().mean()) < 0.65


def test_the_trainer_runs_and_writes_json(tmp_path):
    out = tmp_path / "r.json"
    argv = "--n 1 --iterations 3 --batch 8 --eval-every 2 --synthetic 16 --device cpu --out"
    result = train_resnet.main([*argv.split(), str(out)])
    saved = json.loads(out.read_text())
    assert (
        saved["model"] == "ResNet-8" and saved["iterations"] == 3 and saved["data"] == "synthetic"
    )
    assert [row["iteration"] for row in saved["curve"]] == [2, 3]
    assert saved["milestones"] == [1, 2] and 0 <= result["test_error"] <= 100
    assert "machine" in saved and np.isfinite(saved["curve"][-1]["loss"])
