"""The Transformer language model: its loss gradient through two blocks against central
differences, the torch twin's logits and gradients, sampling, and a short training run."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import nn, optim
from course_lib.gradcheck import numeric_gradient, rel_error
from course_lib.models.transformer_lm import TransformerLM
from course_lib.nlp.lm import sample_next
from course_lib.train import fit_lm
from course_lib.twins.transformer import TorchTransformerLM, copy_to_numpy, named_twin_grads

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny products: see conftest.py


def randomise(layer, seed):
    """Non-trivial gains and biases (they start at 1 and 0)."""
    g = np.random.default_rng(seed)
    for p in layer.params:
        p[...] += 0.3 * g.standard_normal(p.shape)


def assert_close(ours, theirs, name=""):
    """Relative 1e-8, or 1e-13 absolute: the key bias's gradient is 0 up to rounding."""
    np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-13, err_msg=name)


def tiny_lm(seed=0, dtype="float64", **kw):
    args = {"vocab": 7, "d_model": 6, "n_heads": 3, "n_layers": 2, "d_ff": 5, "max_len": 6}
    model = TransformerLM(**{**args, **kw}, rng=seed, dtype=dtype)
    g = np.random.default_rng(seed + 2)  # vectors of norm ~1, not 0.01: central differences
    model.embed.W[...] = g.standard_normal(model.embed.W.shape)  # with h = 1e-5 stay accurate
    model.pos.P[...] = g.standard_normal(model.pos.P.shape)
    for block in model.blocks:
        randomise(block, seed + 1)
    return model


def test_lm_loss_gradient_through_two_blocks_is_numeric():
    model = tiny_lm()
    g = np.random.default_rng(10)
    ids, targets = g.integers(0, 7, (2, 5)), g.integers(0, 7, (2, 5))
    loss = nn.SoftmaxCrossEntropy()

    def objective():
        return loss.forward(model.forward(ids), targets)

    objective()
    model.backward(loss.backward())
    names = list(model.named_params())
    assert len(names) == 2 + 2 * 12 + 4
    for name, p, grad in zip(names, model.params, model.grads):
        analytic = grad.copy()
        numeric = numeric_gradient(objective, p)
        if name.endswith("attn.bqkv"):  # the key bias: gradient 0, see check_attention
            assert np.abs(numeric[6:12]).max() < 1e-8
            analytic, numeric = np.delete(analytic, np.s_[6:12]), np.delete(numeric, np.s_[6:12])
        assert rel_error(analytic, numeric) < 1e-6, name


def test_lm_causal_and_errors():
    model = tiny_lm()
    ids = np.random.default_rng(11).integers(0, 7, (1, 6))
    before = model.forward(ids)
    changed = ids.copy()
    changed[0, 3] = (ids[0, 3] + 1) % 7
    after = model.forward(changed)
    assert np.array_equal(before[:, :3], after[:, :3]) and not np.allclose(
        before[:, 3], after[:, 3]
    )
    assert len(model.attention_maps()) == 2 and model.attention_maps()[0].shape == (1, 3, 6, 6)
    with pytest.raises(ValueError, match="longer than max_len=6"):
        model.forward(np.zeros((1, 7), dtype=int))
    with pytest.raises(ValueError, match=r"shape \(N, T\)"):
        model.forward(np.zeros(5, dtype=int))
    with pytest.raises(ValueError, match="not divisible by n_heads"):
        TransformerLM(10, 10, 3, 1, 8, 16)


def test_twin_logits_and_gradients_equal_the_numpy_model():
    model = tiny_lm(seed=3)
    g = np.random.default_rng(12)
    ids, targets = g.integers(0, 7, (3, 6)), g.integers(0, 7, (3, 6))
    loss = nn.SoftmaxCrossEntropy()
    value = loss.forward(model.forward(ids), targets)
    model.backward(loss.backward())
    twin = TorchTransformerLM.from_numpy(model)
    logits = twin(torch.as_tensor(ids))
    lt = F.cross_entropy(logits.reshape(-1, 7), torch.as_tensor(targets).reshape(-1))
    lt.backward()
    assert logits.dtype == torch.float64
    assert rel_error(model.forward(ids), logits.detach()) < 1e-10
    assert rel_error(value, lt.detach()) < 1e-12
    theirs, ours = named_twin_grads(model, twin), model.named_grads()
    assert theirs.keys() == ours.keys()
    for name in ours:
        assert_close(ours[name], theirs[name], name)
    assert model.count_params() == sum(p.numel() for p in twin.parameters())


def test_twin_weights_copy_back():
    model = tiny_lm(seed=4)
    twin = TorchTransformerLM.from_numpy(model)
    with torch.no_grad():
        for p in twin.parameters():
            p.add_(0.1)
    ids = np.random.default_rng(13).integers(0, 7, (2, 6))
    assert rel_error(model.forward(ids), twin(torch.as_tensor(ids)).detach()) > 1e-3
    copy_to_numpy(twin, model)
    assert rel_error(model.forward(ids), twin(torch.as_tensor(ids)).detach()) < 1e-10


def test_training_learns_a_repeated_string_and_samples_it():
    text = "hello world, " * 40
    chars = sorted(set(text))
    ids = np.array([chars.index(c) for c in text])
    args = {"vocab": len(chars), "d_model": 16, "n_heads": 2, "n_layers": 1, "d_ff": 32}
    model = TransformerLM(**args, max_len=16, rng=0)
    opt = optim.Adam(model.params, model.grads, lr=1e-2)
    history = fit_lm(model, opt, ids, epochs=30, batch_size=8, steps=16, progress=False)
    losses = history["loss"]
    assert losses[0] > 2.0 and losses[-1] < 0.1 * losses[0], losses
    out = model.sample(ids[:3].tolist(), 13, temperature=0.1, rng=0)  # 16 = max_len in all
    sampled = "".join(chars[i] for i in out)
    assert len(out) == 16 and sampled == text[:16], sampled
    with pytest.raises(ValueError, match="longer than max_len=16"):
        fit_lm(model, opt, ids, steps=17, progress=False)


def test_sampling_reads_the_last_max_len_ids_and_the_twin_samples_alike():
    model = tiny_lm(seed=5)
    seen, forward = [], model.forward
    model.forward = lambda ids: seen.append(np.asarray(ids)[0].tolist()) or forward(ids)
    out = model.sample([1, 2, 3], 10, temperature=1.0, rng=7)
    assert len(out) == 13 and all(0 <= i < 7 for i in out)
    assert seen == [out[max(0, k - 6) : k] for k in range(3, 13)]
    assert model.training  # the training mode is put back
    del model.forward
    twin = TorchTransformerLM.from_numpy(model)
    assert twin.sample([1, 2, 3], 10, 1.0, 7) == out
    rng = np.random.default_rng(7)  # and the same as drawing by hand
    by_hand = [1, 2, 3]
    for _ in range(10):
        logits = model.forward(np.asarray([by_hand[-6:]]))[:, -1]
        by_hand.append(int(sample_next(logits, 1.0, None, rng)[0]))
    assert by_hand == out


def test_twin_trains_with_fit_lm_torch_and_its_weights_come_back():
    from course_lib.train import evaluate_lm
    from course_lib.twins.rnnlm import evaluate_lm_torch, fit_lm_torch

    ids = np.arange(200) % 7
    model = tiny_lm(seed=6)
    twin = TorchTransformerLM.from_numpy(model)
    before = evaluate_lm(model, ids, batch_size=4, steps=6)
    kw = {"batch_size": 4, "steps": 6, "max_windows": 3, "optimizer": "adam", "lr": 1e-2}
    history = fit_lm_torch(twin, ids, progress=False, **kw)
    assert len(history.steps) == 3
    theirs = evaluate_lm_torch(twin, ids, batch_size=4, steps=6)
    assert theirs != pytest.approx(before, rel=1e-6)  # the twin has learnt something
    copy_to_numpy(twin, model)
    assert evaluate_lm(model, ids, batch_size=4, steps=6) == pytest.approx(theirs, rel=1e-10)
