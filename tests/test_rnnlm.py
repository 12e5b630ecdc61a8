"""The recurrent language model: gradients, its torch twin, training plumbing and sampling."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import nn, optim
from course_lib.gradcheck import numeric_gradient, rel_error
from course_lib.models.rnnlm import RNNLM
from course_lib.nlp.lm import (
    bits_per_char,
    bptt_streams,
    bptt_windows,
    n_windows,
    perplexity,
    sample_next,
)
from course_lib.train import evaluate_lm, fit_lm
from course_lib.twins.rnnlm import TorchRNNLM, evaluate_lm_torch, fit_lm_torch


def small_model(cell="lstm", tie=False, layers=2, V=7, H=5, E=None):
    return RNNLM(
        V,
        H,
        num_layers=layers,
        cell=cell,
        tie_weights=tie,
        embed_size=E,
        rng=0,
        dtype="float64",
        init_scale=0.5,
    )  # not 0.01-sized embeddings: real gradients


def lm_loss(model, x, y):
    model.reset_state()
    return nn.SoftmaxCrossEntropy().forward(model.forward(x), y)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("tie", [False, True])
def test_gradients_match_numeric(cell, tie):
    model = small_model(cell, tie, E=None if tie else 3)
    g = np.random.default_rng(0)
    x, y = g.integers(0, 7, (2, 4)), g.integers(0, 7, (2, 4))
    loss = nn.SoftmaxCrossEntropy()
    model.reset_state()
    loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    assert len(model.params) == len(model.grads) == len(model.named_params())
    for name, p, grad in zip(model.named_params(), model.params, model.grads):
        numeric = numeric_gradient(lambda: lm_loss(model, x, y), p)
        # relative to the largest entry: central differences of an O(1) loss have rounding
        # errors ~1e-11, as large as the smallest gradient entries here
        assert np.abs(grad - numeric).max() < 1e-6 * np.abs(numeric).max(), name


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("tie", [False, True])
@pytest.mark.parametrize("N", [1, 3])
def test_twin_matches_scores_and_gradients(cell, tie, N):
    model = small_model(cell, tie, layers=2)
    twin = TorchRNNLM.from_numpy(model)
    g = np.random.default_rng(1)
    x, y = g.integers(0, 7, (N, 6)), g.integers(0, 7, (N, 6))
    for _ in range(2):  # the second window starts from the carried state
        loss = nn.SoftmaxCrossEntropy()
        value = loss.forward(model.forward(x), y)
        model.backward(loss.backward())
        scores = twin(torch.as_tensor(x))
        lt = F.cross_entropy(scores.reshape(-1, 7), torch.as_tensor(y).reshape(-1))
        twin.zero_grad()
        lt.backward()
        assert rel_error(value, lt.detach()) < 1e-10
    torch_grads = {"embed.W": twin.embed.weight.grad, "out.b": twin.out.bias.grad}
    if not tie:
        torch_grads["out.W"] = twin.out.weight.grad.T
    ours = model.named_params()
    grads = dict(zip(ours, model.grads))
    for name, tg in torch_grads.items():
        assert rel_error(grads[name], tg) < 1e-8, name
    assert rel_error(grads["rnn1.Wh"], twin.rnn.weight_hh_l1.grad.T) < 1e-8


def test_tied_model_shares_one_matrix():
    model = small_model(tie=True)
    assert model.out.layer.W is model.embed.W
    assert sum(p is model.embed.W for p in model.params) == 1
    with pytest.raises(ValueError, match="embed_size == hidden_size"):
        RNNLM(7, 5, embed_size=4, tie_weights=True)
    with pytest.raises(ValueError, match="unknown cell"):
        RNNLM(7, 5, cell="transformer")


def test_streams_and_windows():
    ids = np.arange(23)
    s = bptt_streams(ids, 4)
    assert s.shape == (4, 5) and list(s[1]) == [5, 6, 7, 8, 9]
    windows = list(bptt_windows(s, 3))
    assert len(windows) == n_windows(s, 3) == 2
    (x0, y0), (x1, y1) = windows
    assert x0.shape == (4, 3) and x1.shape == (4, 1)
    assert (y0 == x0 + 1).all() and (y1 == x1 + 1).all()
    with pytest.raises(ValueError, match="smaller batch_size"):
        bptt_streams(np.arange(5), 4)
    with pytest.raises(ValueError, match="token ids"):
        bptt_streams(np.zeros(10), 2)


def test_units():
    assert perplexity(math.log(141.2)) == pytest.approx(141.2)
    assert bits_per_char(math.log(2)) == pytest.approx(1.0)


def test_sampling_temperature_and_top_k():
    rng = np.random.default_rng(0)
    scores = np.log(np.array([[0.5, 0.3, 0.2]]))
    draws = np.array([sample_next(scores, 1.0, rng=rng)[0] for _ in range(4000)])
    assert np.bincount(draws, minlength=3) / 4000 == pytest.approx([0.5, 0.3, 0.2], abs=0.03)
    cold = np.array([sample_next(scores, 0.05, rng=rng)[0] for _ in range(200)])
    assert (cold == 0).all()
    top1 = np.array([sample_next(scores, 5.0, top_k=2, rng=rng)[0] for _ in range(500)])
    assert set(top1) == {0, 1}
    assert sample_next(np.zeros((2, 3, 4)), rng=0).shape == (2, 3)
    with pytest.raises(ValueError, match="temperature"):
        sample_next(scores, 0.0)


def test_generate_restores_training_state():
    model = small_model()
    model.forward(np.zeros((3, 2), dtype=int))
    before = [s.copy() for s in model.rnns[0].state]
    out = model.generate([1, 2], 10, temperature=0.7, rng=0)
    assert len(out) == 12 and out[:2] == [1, 2] and all(0 <= i < 7 for i in out)
    assert all((a == b).all() for a, b in zip(model.rnns[0].state, before))
    assert model.generate([1, 2], 10, temperature=0.7, rng=0) == out
    with pytest.raises(ValueError, match="prefix"):
        model.generate([], 3)


def periodic_text(n=4000, period=(0, 1, 2, 3, 2, 1)):
    return np.array(list(period) * (n // len(period)), dtype=np.int64)


def test_fit_lm_learns_a_periodic_text():
    """A sequence 0 1 2 3 2 1 ... is predictable from two tokens: the loss must fall near 0."""
    ids = periodic_text()
    model = RNNLM(4, 16, num_layers=1, rng=0)
    before = evaluate_lm(model, ids, batch_size=4, steps=10)
    h = fit_lm(
        model,
        optim.Adam(model.params, model.grads, lr=0.02),
        ids,
        epochs=3,
        batch_size=8,
        steps=10,
        clip=5.0,
        progress=False,
        evaluate=lambda m: {"nats": evaluate_lm(m, ids, batch_size=4, steps=10)},
    )
    assert before > 1.0 and h["nats"][-1] < 0.05
    assert h.last["tokens_per_s"] > 0 and h.last["grad_norm"] > 0 and len(h.steps) == 3 * 50


def test_time_sum_scales_the_step_by_the_window_length():
    ids = periodic_text(400)
    a, b = RNNLM(4, 3, rng=0, dtype="float64"), RNNLM(4, 3, rng=0, dtype="float64")
    fit_lm(
        a,
        optim.SGD(a.params, a.grads, lr=0.1),
        ids,
        batch_size=2,
        steps=5,
        time_sum=True,
        max_windows=1,
        progress=False,
    )
    fit_lm(
        b,
        optim.SGD(b.params, b.grads, lr=0.5),
        ids,
        batch_size=2,
        steps=5,
        max_windows=1,
        progress=False,
    )
    for p, q in zip(a.params, b.params):
        assert rel_error(p, q) < 1e-10


def test_schedule_sets_the_rate_per_epoch():
    ids = periodic_text(400)
    m = RNNLM(4, 3, rng=0)
    h = fit_lm(
        m,
        optim.SGD(m.params, m.grads, lr=1.0),
        ids,
        epochs=3,
        batch_size=2,
        steps=5,
        schedule=lambda e: 0.5 ** max(e - 1, 0),
        max_windows=2,
        progress=False,
    )
    assert h["lr"] == [1.0, 0.5, 0.25]


def test_torch_loop_learns_and_evaluates_like_ours():
    ids = periodic_text()
    model = RNNLM(4, 16, rng=0)
    twin = TorchRNNLM.from_numpy(model)
    assert evaluate_lm_torch(twin, ids, batch_size=4, steps=10) == pytest.approx(
        evaluate_lm(model, ids, batch_size=4, steps=10), rel=1e-5
    )
    torch.manual_seed(0)
    h = fit_lm_torch(
        twin,
        ids,
        epochs=3,
        batch_size=8,
        steps=10,
        lr=0.02,
        optimizer="adam",
        clip=5.0,
        progress=False,
        evaluate=lambda m: {"nats": evaluate_lm_torch(m, ids, batch_size=4)},
    )
    assert h["nats"][-1] < 0.05 and len(h.steps) == 150
    assert twin.generate([0, 1], 8, temperature=0.1, rng=0)[2:8] == [2, 3, 2, 1, 0, 1]


def test_ignore_index_leaves_out_padding():
    g = np.random.default_rng(2)
    scores, labels = g.standard_normal((3, 4, 5)), g.integers(0, 5, (3, 4))
    labels[0, 2:] = -1
    loss = nn.SoftmaxCrossEntropy(ignore_index=-1)
    value, d = loss.forward(scores, labels), loss.backward()
    st = torch.tensor(scores, requires_grad=True)
    lt = F.cross_entropy(st.reshape(-1, 5), torch.as_tensor(labels).reshape(-1), ignore_index=-1)
    lt.backward()
    assert rel_error(value, lt.detach()) < 1e-12 and rel_error(d, st.grad) < 1e-12
    assert (d[0, 2:] == 0).all()
    with pytest.raises(ValueError, match="0..4"):
        nn.SoftmaxCrossEntropy(ignore_index=-1).forward(scores, labels + 10 * (labels == 3))


def test_clip_grad_norm_matches_torch():
    g = np.random.default_rng(3)
    grads = [g.standard_normal((4, 3)), g.standard_normal(5)]
    tensors = [torch.nn.Parameter(torch.zeros(a.shape, dtype=torch.float64)) for a in grads]
    for t, a in zip(tensors, grads):
        t.grad = torch.tensor(a)
    norm = optim.clip_grad_norm(grads, 1.5)
    assert norm == pytest.approx(float(torch.nn.utils.clip_grad_norm_(tensors, 1.5)))
    for a, t in zip(grads, tensors):  # torch divides by norm + 1e-6
        assert rel_error(a, t.grad) < 1e-6
    small = [np.ones(2) * 0.1]
    optim.clip_grad_norm(small, 5.0)
    assert (small[0] == 0.1).all()
    with pytest.raises(ValueError, match="positive"):
        optim.clip_grad_norm(small, 0)
