"""Embedding and scatter_add: repeated ids get every gradient (numeric, torch autograd, CuPy)."""

import numpy as np
import pytest

from course_lib import nn
from course_lib.backend import asnumpy, cupy_module
from course_lib.gradcheck import numeric_gradient, numeric_gradient_array, rel_error
from course_lib.nn.embedding import scatter_add, segment_sum

IDX = np.array([[3, 1, 3], [0, 3, 1]])  # id 3 three times, id 1 twice, id 2 never


def test_forward_picks_rows_and_backward_sums_repeats():
    emb = nn.Embedding(5, 4, rng=0, dtype="float64")
    y = emb.forward(IDX)
    assert y.shape == (2, 3, 4) and np.array_equal(y[0, 0], emb.W[3])
    dout = np.random.default_rng(1).standard_normal(y.shape)
    assert emb.backward(dout) is None
    assert np.allclose(emb.dW[3], dout[0, 0] + dout[0, 2] + dout[1, 1])
    assert np.allclose(emb.dW[2], 0)
    num = numeric_gradient_array(lambda: emb.forward(IDX), emb.W, dout)
    assert rel_error(emb.dW, num) < 1e-8


def test_embedding_matches_torch_autograd():
    import torch

    emb = nn.Embedding(5, 4, rng=0, dtype="float64")
    dout = np.random.default_rng(2).standard_normal((2, 3, 4))
    emb.forward(IDX)
    emb.backward(dout)
    w = torch.tensor(emb.W, requires_grad=True)
    torch.nn.functional.embedding(torch.tensor(IDX), w).backward(torch.tensor(dout))
    assert rel_error(emb.dW, w.grad) < 1e-12


def test_scatter_add_equals_add_at_with_repeats_and_weights():
    rng = np.random.default_rng(0)
    idx = rng.integers(0, 7, 200)
    vals = rng.standard_normal((200, 3))
    want = np.zeros((7, 3))
    np.add.at(want, idx, -0.5 * vals)
    got = scatter_add(np.zeros((7, 3)), idx, vals, scale=-0.5)
    assert np.allclose(got, want)
    idx2, w = rng.integers(0, 7, (50, 4)), rng.standard_normal((50, 4))
    h = rng.standard_normal((50, 3))
    want = np.zeros((7, 3))
    np.add.at(want, idx2.ravel(), (w[:, :, None] * h[:, None, :]).reshape(-1, 3))
    assert np.allclose(scatter_add(np.zeros((7, 3)), idx2, h, weights=w), want)
    rows, sums = segment_sum(idx, vals)
    assert list(rows) == sorted(set(idx.tolist())) and np.allclose(sums.sum(0), vals.sum(0))


def test_naive_assignment_loses_repeats():
    """Why scatter_add exists: W[idx] += v keeps one write per repeated index."""
    w = np.zeros((2, 1))
    w[np.array([0, 0, 0])] += 1.0
    assert w[0, 0] == 1.0
    assert scatter_add(np.zeros((2, 1)), np.array([0, 0, 0]), np.ones((3, 1)))[0, 0] == 3.0


def test_bad_ids_are_refused():
    emb = nn.Embedding(5, 2, rng=0)
    with pytest.raises(IndexError, match="out of range"):
        emb.forward(np.array([5]))
    with pytest.raises(TypeError, match="integer"):
        emb.forward(np.array([0.5]))


def test_numeric_gradient_of_a_loss_through_embedding():
    emb = nn.Embedding(4, 3, rng=0, dtype="float64")
    idx = np.array([2, 2, 0])

    def loss():
        return float((emb.forward(idx) ** 2).sum())

    emb.forward(idx)
    emb.backward(2 * emb.forward(idx))
    assert rel_error(emb.dW, numeric_gradient(loss, emb.W)) < 1e-8


def assert_float32_sums(got, idx, terms, rows=50):
    """``got`` (rows, D) equals the float64 sums of ``terms`` into ``idx`` within float32's
    summation bound, |error| <= (n + 1) 2^-24 sum |term| for a row of n terms (each maybe a
    rounded product) added in any order.  The GPU's atomic adds come in no fixed order, so an
    element-wise relative error is no test: a row whose terms cancel has a large one."""
    exact, magnitude = np.zeros((rows, terms.shape[1])), np.zeros((rows, terms.shape[1]))
    np.add.at(exact, idx, terms.astype(np.float64))
    np.add.at(magnitude, idx, np.abs(terms.astype(np.float64)))
    n = np.bincount(idx, minlength=rows)[:, None]
    assert np.all(np.abs(asnumpy(got) - exact) <= (n + 1) * 2.0**-24 * magnitude)


def test_float32_summation_bound_catches_a_wrong_sum():
    rng = np.random.default_rng(0)
    idx, vals = rng.integers(0, 50, 5000), rng.standard_normal((5000, 8)).astype(np.float32)
    got = scatter_add(np.zeros((50, 8), dtype=np.float32), idx, vals, 0.5)
    assert_float32_sums(got, idx, 0.5 * vals)
    got[3, 2] += 1e-3  # one wrong element
    with pytest.raises(AssertionError):
        assert_float32_sums(got, idx, 0.5 * vals)


@pytest.mark.gpu
def test_cupy_matches_numpy():
    cp = cupy_module()
    rng = np.random.default_rng(0)
    idx, vals = rng.integers(0, 50, 5000), rng.standard_normal((5000, 8)).astype(np.float32)
    got = scatter_add(cp.zeros((50, 8), dtype=np.float32), cp.asarray(idx), cp.asarray(vals), 0.5)
    assert_float32_sums(got, idx, 0.5 * vals)
    idx2, w = rng.integers(0, 50, (100, 6)), rng.standard_normal((100, 6)).astype(np.float32)
    h = vals[:100]
    got = scatter_add(
        cp.zeros((50, 8), np.float32), cp.asarray(idx2), cp.asarray(h), -1.0, cp.asarray(w)
    )
    assert_float32_sums(got, idx2.ravel(), -(w[:, :, None] * h[:, None, :]).reshape(-1, 8))
