"""Lesson 13's ring and tree all-reduce (simulated: exact sums, bytes per worker), the hand ring on
real gloo processes against dist.all_reduce, the cost models and their fit, and asynchronous SGD
with stale gradients."""

import math

import numpy as np
import pytest
import torch

from course_lib.distributed import async_sgd, launch, ring


def integer_vectors(rng, workers, n):
    """Integers in float64: every order of summation gives the same sum, so == is exact."""
    return [rng.integers(-1000, 1000, n).astype(np.float64) for _ in range(workers)]


@pytest.mark.parametrize("workers", [1, 2, 3, 5])
@pytest.mark.parametrize("n", [1, 4, 7, 101])
@pytest.mark.parametrize("allreduce", [ring.ring_allreduce, ring.tree_allreduce])
def test_every_worker_ends_with_the_sum(workers, n, allreduce):
    vectors = integer_vectors(np.random.default_rng(n * workers), workers, n)
    before = [v.copy() for v in vectors]
    results, sent = allreduce(vectors)
    total = np.sum(before, axis=0)
    assert len(results) == workers and all(np.array_equal(r, total) for r in results)
    assert all(np.array_equal(v, b) for v, b in zip(vectors, before))  # inputs untouched
    assert sent.shape == (workers,) and (sent.sum() == 0) == (workers == 1)


@pytest.mark.parametrize("workers", [2, 3, 5])
@pytest.mark.parametrize("n", [7, 30, 101])
def test_each_ring_worker_sends_2_n_minus_1_over_n_of_the_vector(workers, n):
    _, sent = ring.ring_allreduce(integer_vectors(np.random.default_rng(0), workers, n))
    sizes = [p.stop - p.start for p in ring.chunks(n, workers)]
    for i in range(workers):  # all chunks but i+1 (reduce-scatter) and i+2 (all-gather)
        expected = 2 * n - sizes[(i + 1) % workers] - sizes[(i + 2) % workers]
        assert sent[i] == 8 * expected
    assert abs(sent.mean() - 8 * 2 * (workers - 1) / workers * n) <= 8 * 2
    assert sent.max() - sent.min() <= 8 * 2  # balanced: every worker sends about the same


def test_the_tree_root_sends_the_whole_vector_once_per_level():
    _, sent = ring.tree_allreduce(integer_vectors(np.random.default_rng(0), 5, 10))
    assert sent[0] == 8 * 10 * math.ceil(math.log2(5))  # the broadcast from worker 0
    assert sent.tolist() == [240, 80, 160, 80, 80]


def test_chunks_cover_the_vector_even_when_shorter_than_the_ring():
    parts = ring.chunks(3, 5)
    assert sum(p.stop - p.start for p in parts) == 3 and parts[0].start == 0
    assert all(a.stop == b.start for a, b in zip(parts, parts[1:]))


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="no workers"):
        ring.ring_allreduce([])
    with pytest.raises(ValueError, match="one length"):
        ring.tree_allreduce([np.ones(3), np.ones(4)])
    with pytest.raises(ValueError, match="one length"):
        ring.ring_allreduce([np.ones((2, 2))])
    with pytest.raises(ValueError, match="workers must be >= 2"):
        ring.fit_alpha_beta([1, 2], [1, 2], [1.0, 1.0])


def test_the_cost_models_and_their_fit():
    assert ring.ring_time(1000, 4, alpha=1.0, beta=0.0) == 6.0
    assert ring.ring_time(1000, 4, alpha=0.0, beta=1.0) == 1500.0
    assert ring.tree_time(1000, 4, alpha=1.0, beta=1.0) == 4 * 1001
    assert ring.tree_time(10, 5, 1.0, 0.0) == 6.0  # ceil(log2 5) = 3 levels, up and down
    n, workers = np.array([4e3, 4e5, 4e6] * 3), np.repeat([2, 3, 4], 3)
    measured = ring.ring_time(n, workers, 2e-4, 3e-9)
    np.testing.assert_allclose(ring.fit_alpha_beta(n, workers, measured), (2e-4, 3e-9))


def test_hand_ring_on_gloo_equals_all_reduce_and_is_timed():
    result = launch.run(
        None,
        3,
        module="course_lib.distributed.collectives",
        sizes="5,1000",
        repeats=1,
        batches="8,16",
        samples=8,
        progress=False,
        timeout_s=180,
    )
    assert set(result["check"]) == {"2", "3"} and max(result["check"].values()) < 1e-5
    assert [row[:2] for row in result["timings"]] == [[2, 20], [2, 4000], [3, 20], [3, 4000]]
    assert all(row[2] > 0 and row[3] > 0 for row in result["timings"])
    assert [row[:2] for row in result["scaling"]] == [[n, b] for n in (1, 2, 3) for b in (8, 16)]
    assert all(row[2] > 0 for row in result["scaling"])


def test_zero_staleness_is_synchronous_sgd_and_staleness_changes_the_path():
    rng = torch.Generator().manual_seed(0)
    x, y = torch.randn(256, 784, generator=rng), torch.randint(0, 10, (256,), generator=rng)
    data = (x, y, x[:64], y[:64])
    runs = {k: async_sgd.train_stale(data, k, steps=12, eval_every=5, hidden=8) for k in (0, 3)}
    model = async_sgd.make_model(8, 0)  # the same steps by hand, as worker.py's single mode
    order = np.random.default_rng(0).permutation(256)
    for step in range(12):
        idx = torch.from_numpy(async_sgd.shard(step, order, 64, 0, 1))
        model.zero_grad()
        torch.nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
        with torch.no_grad():
            for p in model.parameters():
                p.add_(p.grad, alpha=-0.1)
    expected = float(sum(p.detach().double().sum() for p in model.parameters()))
    assert runs[0]["checksum"] == expected and runs[3]["checksum"] != expected
    assert runs[0]["step"] == [5, 10, 12] and len(runs[3]["accuracy"]) == 3


@pytest.mark.parametrize("staleness", [-1, 1.5, True])
def test_a_bad_staleness_is_refused(staleness):
    with pytest.raises(ValueError, match="staleness"):
        async_sgd.train_stale((None,) * 4, staleness, steps=1)
