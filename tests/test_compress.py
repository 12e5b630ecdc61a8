"""Deep Compression: pruning masks that hold through training, k-means weight sharing and its
grouped gradient (against torch autograd), Huffman codes, and the compressed file."""

import numpy as np
import pytest
import torch
from sklearn.cluster import KMeans

from course_lib import nn, optim
from course_lib.compress import huffman, prune, share, storage
from course_lib.models.lenet import LeNet5Caffe
from course_lib.models.mlp import MLP


def pruned_mlp(keep=0.2, sizes=(20, 13, 7, 3), seed=0):
    model = MLP(list(sizes), rng=seed, dtype="float64")
    weights = prune.weights_of(model)
    masks = prune.magnitude_masks(weights, keep)
    prune.apply(weights, masks)
    return model, weights, masks


def train_steps(model, opt, steps=5, n=9, seed=0):
    rng, loss = np.random.default_rng(seed), nn.SoftmaxCrossEntropy()
    for _ in range(steps):
        x = rng.normal(size=(n, model.sizes[0]))
        loss.forward(model.forward(x), rng.integers(0, model.sizes[-1], n))
        model.backward(loss.backward())
        opt.step()


# --- pruning -----------------------------------------------------------------------------------


@pytest.mark.parametrize("keep", [1.0, 0.5, 0.08, 1e-6])
def test_magnitude_mask_keeps_the_largest_weights(keep):
    w = np.random.default_rng(1).normal(size=(31, 17))
    mask = prune.magnitude_mask(w, keep)
    n_keep = max(1, round(keep * w.size))
    assert mask.sum() == n_keep and set(np.unique(mask)) <= {0.0, 1.0}
    assert np.abs(w[mask == 1]).min() >= np.abs(w[mask == 0]).max(initial=0)


def test_masks_need_a_fraction_for_every_weight():
    model = MLP([4, 3, 2], rng=0)
    weights = prune.weights_of(model)
    assert list(weights) == ["0.W", "2.W"]
    with pytest.raises(ValueError, match="missing"):
        prune.magnitude_masks(weights, {"0.W": 0.5})
    with pytest.raises(ValueError, match="fraction"):
        prune.magnitude_masks(weights, 1.5)


def test_schedule_falls_geometrically_to_the_target():
    steps = prune.schedule(0.08, 3)
    assert steps[-1] == pytest.approx(0.08) and steps[0] > steps[1] > steps[2]
    assert steps[1] / steps[0] == pytest.approx(steps[2] / steps[1])


@pytest.mark.parametrize(
    "make",
    [
        lambda p, g: optim.Adam(p, g, lr=0.01, weight_decay=1e-3),
        lambda p, g: optim.Momentum(p, g, lr=0.05, weight_decay=1e-3),
    ],
)
def test_pruned_weights_stay_zero_through_training(make):
    model, weights, masks = pruned_mlp()
    before = {n: w.copy() for n, w in weights.items()}
    opt = prune.Masked(make(model.params, model.grads), weights, masks)
    opt.lr = opt.lr / 2  # the schedule's knob reaches the wrapped optimizer
    assert opt.optimizer.lr == opt.lr
    train_steps(model, opt)
    for name, w in weights.items():
        assert np.all(w[masks[name] == 0] == 0)
        assert not np.allclose(w[masks[name] == 1], before[name][masks[name] == 1])


def test_masked_optimizer_must_hold_the_weights():
    model, weights, masks = pruned_mlp()
    other = MLP([20, 13, 7, 3], rng=1, dtype="float64")
    with pytest.raises(ValueError, match="not among the optimizer"):
        prune.Masked(optim.SGD(other.params, other.grads), weights, masks)


# --- weight sharing ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
def test_kmeans_matches_scikit_learn_from_the_same_start(seed):
    # normal data: no cluster empties (scikit-learn would move an empty one; ours stays put)
    values = np.random.default_rng(seed).normal(size=3000)
    start = share.linear_init(values, 8)
    centroids, index = share.kmeans_1d(values, start, iterations=300)
    assert np.bincount(index, minlength=8).min() > 0
    ref = KMeans(8, init=start.reshape(-1, 1), n_init=1, max_iter=300, tol=0).fit(
        values.reshape(-1, 1)
    )
    np.testing.assert_allclose(np.sort(ref.cluster_centers_.ravel()), centroids, atol=1e-12)
    np.testing.assert_allclose(centroids[index], ref.cluster_centers_.ravel()[ref.labels_])


def test_linear_init_spans_the_weights():
    values = np.array([-3.0, 0.1, 0.2, 5.0])
    np.testing.assert_allclose(share.linear_init(values, 3), [-3.0, 1.0, 5.0])


@pytest.mark.parametrize("bits", [1, 3, 5])
def test_shared_weights_take_only_k_values_through_fine_tuning(bits):
    model, weights, masks = pruned_mlp(keep=0.5)
    shared = share.share_weights(weights, prune.grads_of(model), masks, bits)
    opt = share.CentroidOptimizer(shared.values(), optim.Adam, lr=0.01)
    train_steps(model, opt)
    for name, s in shared.items():
        w, keep = weights[name], masks[name] == 1
        assert s.k <= 2**bits and np.all(w[~keep] == 0)
        assert set(np.unique(w[keep])) <= set(s.centroids.tolist())
        np.testing.assert_array_equal(w, s.centroids[s.index] * keep)


def test_grouped_gradient_matches_torch_autograd():
    model, weights, masks = pruned_mlp(keep=0.4, sizes=(6, 5, 4))
    shared = share.share_weights(weights, prune.grads_of(model), masks, 2)
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(5, 6)), rng.integers(0, 4, 5)
    loss = nn.SoftmaxCrossEntropy()
    loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    ours = {n: s.gather().copy() for n, s in shared.items()}

    t = {n: torch.tensor(s.centroids, requires_grad=True) for n, s in shared.items()}

    def w(n):
        return t[n][torch.tensor(shared[n].index)] * torch.tensor(masks[n])

    params = dict(model.named_params())
    h = torch.relu(torch.tensor(x) @ w("0.W") + torch.tensor(params["0.b"]))
    out = h @ w("2.W") + torch.tensor(params["2.b"])
    torch.nn.functional.cross_entropy(out, torch.tensor(y)).backward()
    for n in shared:
        np.testing.assert_allclose(ours[n], t[n].grad.numpy(), rtol=1e-10, atol=1e-12)


def test_sharing_refuses_an_empty_mask_and_bad_bits():
    w = np.ones((3, 3))
    with pytest.raises(ValueError, match="keeps no weight"):
        share.SharedWeights(w, w.copy(), np.zeros_like(w), 2)
    with pytest.raises(ValueError, match="bits"):
        share.SharedWeights(w, w.copy(), np.ones_like(w), 0)


# --- Huffman -----------------------------------------------------------------------------------


def test_huffman_round_trip_and_optimality():
    symbols = np.random.default_rng(4).geometric(0.3, size=5000) - 1  # skewed, like the indices
    counts = huffman.counts_of(symbols)
    lengths = huffman.code_lengths(counts)
    data, n_bits = huffman.encode(symbols, lengths)
    np.testing.assert_array_equal(huffman.decode(data, n_bits, lengths), symbols)
    assert n_bits == sum(lengths[s] * n for s, n in counts.items())
    assert sum(2.0**-n for n in lengths.values()) == 1.0  # Kraft: a complete prefix code
    h, avg = huffman.entropy(counts), huffman.average_length(lengths, counts)
    assert h <= avg < h + 1


def test_huffman_codes_are_prefix_free_and_canonical():
    codes = huffman.canonical_codes({0: 2, 1: 1, 2: 3, 3: 3})
    assert codes == {1: "0", 0: "10", 2: "110", 3: "111"}
    for a in codes.values():
        assert not any(b != a and b.startswith(a) for b in codes.values())


def test_huffman_known_lengths_and_edge_cases():
    lengths = huffman.code_lengths({"a": 45, "b": 13, "c": 12, "d": 16, "e": 9, "f": 5})
    assert lengths == {"a": 1, "b": 3, "c": 3, "d": 3, "e": 4, "f": 4}  # the CLRS example
    one = huffman.code_lengths({7: 10})
    data, n = huffman.encode([7, 7, 7], one)
    assert n == 3 and huffman.decode(data, n, one).tolist() == [7, 7, 7]
    with pytest.raises(ValueError, match="no code length"):
        huffman.encode([1], one)
    with pytest.raises(ValueError, match="prefix code"):
        huffman.canonical_codes({0: 1, 1: 1, 2: 1})


def test_huffman_decode_names_truncated_and_corrupt_data():
    lengths = {0: 1, 1: 2, 2: 2}
    data, n = huffman.encode([2, 2, 1], lengths)
    with pytest.raises(ValueError, match="truncated"):
        huffman.decode(data, n - 1, lengths)
    with pytest.raises(ValueError, match="bits were promised"):
        huffman.decode(data, n + 8, lengths)
    with pytest.raises(ValueError, match="corrupt"):
        huffman.decode(b"\xff", 2, {7: 1})


# --- the compressed file -----------------------------------------------------------------------


@pytest.mark.parametrize("index_bits", [1, 3, 8])
def test_sparse_entries_round_trip_with_fillers(index_bits):
    rng = np.random.default_rng(5)
    keep = rng.random((40, 30)) < 0.03
    keep[0, 0] = keep[-1, -1] = True  # the first and the last place
    index = rng.integers(0, 8, size=keep.shape)
    clusters, gaps = storage.entries(index, keep, 8, index_bits)
    assert gaps.max() < 2**index_bits
    assert (clusters == 8).any() == (
        np.diff(np.flatnonzero(keep), prepend=-1) > 2**index_bits
    ).any()
    positions = storage.positions_of(gaps)
    real = clusters < 8
    np.testing.assert_array_equal(positions[real], np.flatnonzero(keep))
    np.testing.assert_array_equal(clusters[real], index.ravel()[keep.ravel()])


def compressed(model, keep, bits, path, index_bits=5):
    weights = prune.weights_of(model)
    masks = prune.magnitude_masks(weights, keep)
    prune.apply(weights, masks)
    shared = share.share_weights(weights, prune.grads_of(model), masks, bits)
    return storage.save(path, model, shared, index_bits=index_bits)


@pytest.mark.parametrize("make", [lambda: MLP([784, 30, 10], rng=0), lambda: LeNet5Caffe(rng=0)])
def test_file_round_trip_gives_identical_predictions(tmp_path, make):
    model, fresh = make(), make()
    info = compressed(model, 0.1, 4, tmp_path / "m.dcmp")
    assert info["bytes"] == (tmp_path / "m.dcmp").stat().st_size
    assert info["dense_bytes"] == 4 * sum(p.size for p in model.params)
    fresh.train(False)
    model.train(False)
    storage.load(tmp_path / "m.dcmp", fresh)
    x = np.random.default_rng(6).random((7, 1, 28, 28)).astype("float32")
    np.testing.assert_array_equal(fresh.forward(x), model.forward(x))
    assert info["dense_bytes"] / info["bytes"] > 8  # 10% kept at 4 bits


def test_corrupt_truncated_and_foreign_files_are_refused(tmp_path):
    model = MLP([50, 20, 10], rng=0)
    path = tmp_path / "m.dcmp"
    compressed(model, 0.3, 3, path)
    data = path.read_bytes()
    cases = {
        "truncated": data[:-10],
        "checksum": data[:-30] + bytes([data[-30] ^ 1]) + data[-29:],
        "not a compressed model": b"PK\x03\x04" + data[4:],
        "version": data[:4] + b"\x09" + data[5:],
        "header": data[:40],
    }
    for message, broken in cases.items():
        path.write_bytes(broken)
        with pytest.raises(ValueError, match=message):
            storage.read(path)
    with pytest.raises(FileNotFoundError, match="no such compressed model"):
        storage.read(tmp_path / "absent.dcmp")


def test_loading_into_the_wrong_model_changes_nothing(tmp_path):
    compressed(MLP([50, 20, 10], rng=0), 0.3, 3, tmp_path / "m.dcmp")
    other = MLP([50, 21, 10], rng=1)
    before = [p.copy() for p in other.params]
    with pytest.raises(ValueError, match="does not fit"):
        storage.load(tmp_path / "m.dcmp", other)
    for p, q in zip(other.params, before):
        np.testing.assert_array_equal(p, q)
