"""Files that survive interrupted saves, and loaders that check the whole file before they change
anything: checkpoints, parameter files, torch twin checkpoints, compressed models, preprocessing."""

import builtins
import io
import json
import os
import struct
import zlib

import numpy as np
import pytest
import torch

from course_lib import checkpoint, fileio, nn, optim, preprocess
from course_lib.compress import prune, share, storage
from course_lib.models.mlp import MLP
from course_lib.serialize import load_params, save_params, state
from course_lib.train import fit
from course_lib.twins.checkpoint import load_twin, save_twin

# ---- helpers ----------------------------------------------------------------------------------


class Dying:
    """A file whose first write stores half of the data and then fails, like a full disk."""

    def __init__(self, f):
        self.f = f

    def write(self, data):
        self.f.write(data[: len(data) // 2])
        self.f.flush()
        raise OSError(28, "No space left on device (simulated)")

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


def make_writes_die(monkeypatch):
    """Every file opened for writing (and every torch.save) dies in its first write."""
    real_open = io.open

    def dying_open(file, mode="r", *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        return Dying(f) if "w" in mode else f

    def dying_torch_save(obj, f, *args, **kwargs):
        if isinstance(f, (str, os.PathLike)):
            f = real_open(f, "wb")
        Dying(f).write(b"PK\x03\x04" * 64)

    monkeypatch.setattr(io, "open", dying_open)
    monkeypatch.setattr(builtins, "open", dying_open)
    monkeypatch.setattr(torch, "save", dying_torch_save)


def training_state(seed):
    """A trained MLP with dropout and batch norm, its Adam optimizer and its minibatch rng."""
    model = MLP([6, 5, 3], dropout=0.3, batchnorm=True, rng=seed, dtype="float64")
    optimizer, rng = optim.Adam(model.params, model.grads, lr=0.01), np.random.default_rng(seed)
    x, y = np.random.default_rng(seed + 9).random((12, 6)), np.arange(12) % 3
    loss = nn.SoftmaxCrossEntropy()
    fit(model, loss, optimizer, x, y, epochs=1, batch_size=4, rng=rng, progress=False)
    return model, optimizer, rng


def snapshot(model, optimizer, rng):
    """Everything a checkpoint load may change, as copies."""
    return {
        "model": [a.copy() for a in state(model).values()],
        "optim": {
            k: [v.copy() for v in vs] for k, vs in checkpoint.optimizer_state(optimizer).items()
        },
        "t, lr": (optimizer.t, optimizer.lr),
        "rng": rng.bit_generator.state,
        "layers": {k: g.bit_generator.state for k, g in checkpoint.generators(model).items()},
    }


def same(a, b) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return a == b


def rewrite_meta(path, change):
    """Edit the JSON metadata of a checkpoint file in place."""
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(arrays["meta"].tobytes())
    change(meta)
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(path, **arrays)


def compressed(path, seed=0, index_bits=5):
    model = MLP([50, 20, 10], rng=seed)
    weights = prune.weights_of(model)
    masks = prune.magnitude_masks(weights, 0.3)
    prune.apply(weights, masks)
    shared = share.share_weights(weights, prune.grads_of(model), masks, 3)
    storage.save(path, model, shared, index_bits=index_bits)
    return model


def recraft(path, change, blob=None):
    """Rewrite a compressed file's header with ``change`` (and its blobs), with a valid CRC."""
    data = path.read_bytes()
    (n,) = struct.unpack("<I", data[5:9])
    header, blobs = json.loads(data[9 : 9 + n]), bytearray(data[9 + n : -4])
    change(header)
    if blob is not None:
        blob(header, blobs)
    text = json.dumps(header).encode()
    body = data[:5] + struct.pack("<I", len(text)) + text + bytes(blobs)
    path.write_bytes(body + struct.pack("<I", zlib.crc32(body)))


def params_of(model):
    return [np.array(p, copy=True) for p in model.params]


# ---- 1. an interrupted save keeps the previous file --------------------------------------------

SCHEMA = preprocess.Schema(shape=(6,), low=0.0, high=1.0)


def save_linear_twin(path, seed):
    torch.manual_seed(seed)
    return save_twin(path, torch.nn.Linear(3, 2))


def save_preprocessing(path, seed):
    prep = preprocess.Standardize(SCHEMA).fit(np.random.default_rng(seed).random((9, 6)))
    return prep.save(path)


WRITERS = {
    "ckpt.npz": lambda p, s: checkpoint.save(p, *training_state(s), epoch=s),
    "params.npz": lambda p, s: save_params(p, MLP([4, 3, 2], rng=s)),
    "twin.pt": save_linear_twin,
    "model.dcmp": lambda p, s: compressed(p, seed=s),
    "prep.json": save_preprocessing,
}


@pytest.mark.parametrize("name", WRITERS)
def test_an_interrupted_save_keeps_the_previous_file_and_no_temporary(tmp_path, monkeypatch, name):
    path = tmp_path / name
    WRITERS[name](path, 0)
    before = path.read_bytes()
    with monkeypatch.context() as m:
        make_writes_die(m)
        with pytest.raises(OSError, match="simulated"):
            WRITERS[name](path, 1)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_atomic_open_replaces_only_on_success(tmp_path):
    path = fileio.write_text(tmp_path / "a.txt", "old")
    with pytest.raises(KeyboardInterrupt), fileio.atomic_open(path, "w") as f:
        f.write("half of the new")
        raise KeyboardInterrupt
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["a.txt"]
    fileio.write_bytes(path, b"new")
    assert path.read_bytes() == b"new" and os.listdir(tmp_path) == ["a.txt"]


# ---- 2, 3, 4. checkpoints: validated whole before anything changes ----------------------------


def break_rng(meta):
    meta["rng"]["state"]["state"] = "junk"


def break_layer_rng(meta):
    meta["layer_rngs"]["model.3"]["bit_generator"] = "MT19937"


def other_optimizer_state(meta):
    meta["optimizer"]["t"] = 5


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (break_rng, "state of rng (a PCG64 state) does not restore"),
        (break_layer_rng, "state of model.3 (a MT19937 state) does not"),
        (lambda m: m["optimizer"].update(lr=float("nan")), "'lr' = nan"),
        (lambda m: m["optimizer"].update(lr="abc"), "'lr' = 'abc'"),
        (lambda m: m["optimizer"].update(lr=-0.1), "'lr' = -0.1"),
        (lambda m: m["optimizer"].update(t=1.5), "'t' = 1.5"),
        (lambda m: m["optimizer"].update(t=-1), "'t' = -1"),
        (lambda m: m.update(counters=[1]), "'counters' must be a dict"),
    ],
)
def test_a_bad_checkpoint_changes_nothing(tmp_path, change, words):
    path = checkpoint.save(tmp_path / "ckpt", *training_state(0), epoch=1)
    rewrite_meta(path, change)
    target = training_state(1)
    before = snapshot(*target)
    with pytest.raises(ValueError, match=r"ckpt\.npz: .*nothing was loaded") as err:
        checkpoint.load(path, *target)
    assert words in str(err.value)
    assert same(snapshot(*target), before)


def test_unreadable_checkpoint_metadata_is_refused(tmp_path):
    path = checkpoint.save(tmp_path / "ckpt", *training_state(0))
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    np.savez(path, **{**arrays, "meta": np.frombuffer(b"\xff{not json", dtype=np.uint8)})
    with pytest.raises(ValueError, match="metadata is unreadable"):
        checkpoint.load(path, *training_state(1))


@pytest.mark.parametrize("bit_generator", [np.random.MT19937, np.random.Philox, np.random.SFC64])
def test_any_numpy_bit_generator_resumes_exactly(tmp_path, bit_generator):
    model, optimizer, _ = training_state(0)
    rng = np.random.Generator(bit_generator(3))
    rng.random(5)
    path = checkpoint.save(tmp_path / "ckpt", model, optimizer, rng, epoch=np.int64(2))
    expected = rng.random(4)
    other = np.random.Generator(bit_generator(99))
    assert checkpoint.load(path, *training_state(0)[:2], other) == {"epoch": 2}
    np.testing.assert_array_equal(other.random(4), expected)
    pcg = np.random.default_rng(0)
    before = pcg.bit_generator.state
    with pytest.raises(
        ValueError,
        match=f"rng \\(a {bit_generator.__name__} state\\) does not restore into its PCG64",
    ):
        checkpoint.load(path, *training_state(0)[:2], pcg)  # another kind of generator
    assert pcg.bit_generator.state == before


def test_an_unsupported_generator_gets_a_clear_error(tmp_path):
    model, optimizer, _ = training_state(0)
    with pytest.raises(TypeError, match="rng is a RandomState; .*default_rng"):
        checkpoint.save(tmp_path / "ckpt", model, optimizer, np.random.RandomState(0))
    assert not (tmp_path / "ckpt.npz").exists()


# ---- 5. torch twin checkpoints ----------------------------------------------------------------


def test_a_damaged_tensor_in_a_twin_checkpoint_is_refused(tmp_path):
    twin = torch.nn.Linear(250, 4)
    with torch.no_grad():
        twin.weight.copy_(torch.arange(1000.0).reshape(4, 250))
    path = save_twin(tmp_path / "twin.pt", twin)
    data = bytearray(path.read_bytes())
    at = data.find(np.float32(500.0).tobytes())
    data[at] ^= 1  # a single flipped bit in weight[2, 0]
    path.write_bytes(bytes(data))
    fresh = torch.nn.Linear(250, 4)
    before = fresh.weight.detach().clone()
    with pytest.raises(ValueError, match="checksum mismatch"):
        load_twin(path, fresh)
    assert torch.equal(fresh.weight, before)


def test_twin_files_empty_sparse_and_overflowing_are_refused(tmp_path):
    model = torch.nn.Linear(3, 2)
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty\.pt: the file is empty \(0 bytes"):
        load_twin(tmp_path / "empty.pt", model)
    sparse = {"weight": torch.zeros(2, 3).to_sparse(), "bias": torch.zeros(2)}
    torch.save(sparse, tmp_path / "sparse.pt")
    with pytest.raises(ValueError, match=r"'weight' is torch\.sparse_coo.*to_dense"):
        load_twin(tmp_path / "sparse.pt", model)
    huge = {"weight": torch.full((2, 3), 1e300, dtype=torch.float64), "bias": torch.zeros(2)}
    torch.save(huge, tmp_path / "huge.pt")
    before = model.weight.detach().clone()
    with pytest.raises(ValueError, match="'weight' holds NaN or infinite .* once converted"):
        load_twin(tmp_path / "huge.pt", model)
    assert torch.equal(model.weight, before)


def test_bfloat16_twins_round_trip(tmp_path):
    torch.manual_seed(0)
    twin = torch.nn.Linear(3, 2).to(torch.bfloat16)
    fresh = torch.nn.Linear(3, 2).to(torch.bfloat16)
    load_twin(save_twin(tmp_path / "bf16.pt", twin), fresh)
    assert torch.equal(fresh.weight, twin.weight) and fresh.weight.dtype == torch.bfloat16
    load_twin(save_twin(tmp_path / "f32.pt", torch.nn.Linear(3, 2)), fresh)  # cast on load
    assert fresh.weight.dtype == torch.bfloat16


# ---- 6. the compressed model file -------------------------------------------------------------


def test_compressed_save_refuses_nan_and_float32_overflow(tmp_path):
    for bad in (np.nan, 1e300):
        model = MLP([5, 3], rng=0, dtype="float64")
        model.layers[0].b[1] = bad
        with pytest.raises(ValueError, match="'0.b': its values hold NaN or infinite"):
            storage.save(tmp_path / "m.dcmp", model, {})
        assert not (tmp_path / "m.dcmp").exists()


def test_compressed_load_refuses_nan_and_changes_nothing(tmp_path):
    path = tmp_path / "m.dcmp"
    compressed(path)

    def nan_in_last_bias(header, blobs):
        blobs[-4:] = np.float32(np.nan).tobytes()  # the last blob is the last layer's bias

    recraft(path, lambda h: None, nan_in_last_bias)
    target = MLP([50, 20, 10], rng=1)
    before = params_of(target)
    with pytest.raises(ValueError, match=r"'2\.b': its values hold NaN or infinite"):
        storage.load(path, target)
    assert same(params_of(target), before)


def first_shared(header):
    return next(e for e in header["params"] if e["kind"] == "shared")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda h: first_shared(h).update(k=1), "'blobs' = "),
        (lambda h: first_shared(h).update(shape=[20, 10]), "'entries' = "),
        (lambda h: first_shared(h).update(shape=[1 << 19, 1 << 19]), "more than the limit"),
        (lambda h: first_shared(h).update(index_bits=-1), "'index_bits' = -1"),
        (lambda h: first_shared(h).update(kept=10**6), "'kept' = 1000000"),
        (lambda h: h["params"][-1].update(shape=[9]), "'blobs' = "),
        (lambda h: h["params"][-1].update(name=h["params"][0]["name"]), "a second entry"),
    ],
)
def test_a_crafted_header_with_a_valid_crc_is_refused(tmp_path, change, words):
    path = tmp_path / "m.dcmp"
    compressed(path)
    recraft(path, change)
    with pytest.raises(ValueError, match=r"m\.dcmp: header entry .*write it again") as err:
        storage.read(path)
    assert words in str(err.value)


def test_crafted_data_that_contradicts_its_header_is_refused(tmp_path):
    path = tmp_path / "m.dcmp"
    compressed(path)
    recraft(path, lambda h: first_shared(h).update(shape=[20, 20]))  # room for fewer weights
    with pytest.raises(ValueError, match=r"'0\.W': .*(symbols|do not describe)"):
        storage.read(path)


@pytest.mark.parametrize("size", [0, 3, 4, 5, 8, 12])
def test_a_short_compressed_file_is_reported_as_truncated(tmp_path, size):
    path = tmp_path / "m.dcmp"
    compressed(path)
    path.write_bytes(path.read_bytes()[:size])
    with pytest.raises(ValueError, match=rf"m\.dcmp: truncated: {size} bytes"):
        storage.read(path)


# ---- 7. preprocessing files and NaN data ------------------------------------------------------


def fitted_file(tmp_path, change):
    prep = preprocess.Standardize(SCHEMA, per_feature=True).fit(np.full((4, 6), 0.5))
    d = prep.to_dict()
    change(d)
    path = tmp_path / "prep.json"
    path.write_text(json.dumps(d))
    return path


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda d: d["std"].__setitem__(2, 0.0), "'std' must be finite and > 0, found 0.0"),
        (lambda d: d["std"].__setitem__(0, -1.0), "'std' must be finite and > 0, found -1.0"),
        (lambda d: d["std"].__setitem__(0, float("nan")), "'std' must be finite and > 0"),
        (lambda d: d.update(std="abc"), "'std' must hold numbers"),
        (lambda d: d["mean"].__setitem__(0, float("inf")), "'mean' must be finite, found inf"),
        (lambda d: d.update(mean=[0.5] * 5), "'mean' has shape (5,), the schema needs (6,)"),
        (lambda d: d["schema"].update(low="abc"), "low='abc': give a finite number"),
        (lambda d: d["schema"].update(low=float("nan")), "low=nan: give a finite number"),
        (lambda d: d["schema"].update(low=2.0), "low=2.0 > high=1.0"),
        (lambda d: d["schema"].update(kind="complex"), "kind='complex': use one of"),
        (lambda d: d["schema"].update(shape=[0, 6]), "shape=(0, 6): give a tuple"),
        (lambda d: d["schema"].update(colour="red"), "only the keys"),
        (lambda d: d["schema"].pop("shape"), "must be a dict with 'shape'"),
        (lambda d: d.update(per_feature="yes"), "'per_feature' = 'yes'"),
    ],
)
def test_a_bad_preprocessing_file_is_refused_by_field(tmp_path, change, words):
    path = fitted_file(tmp_path, change)
    with pytest.raises(ValueError, match=r"prep\.json: ") as err:
        preprocess.load(path)
    assert words in str(err.value)


def test_nan_data_fails_the_schema_check():
    prep = preprocess.Standardize(SCHEMA).fit(np.full((4, 6), 0.5))
    x = np.full((2, 6), 0.5)
    x[1, 3] = np.nan
    with pytest.raises(ValueError, match="pixels: holds NaN values"):
        prep(x, name="pixels")
    with pytest.raises(ValueError, match="training data: holds NaN"):
        preprocess.Standardize(SCHEMA).fit(x)
    with pytest.raises(ValueError, match="not fitted: call fit"):
        preprocess.Standardize(SCHEMA).save("never-written.json")


# ---- 8. parameter files: finite after the cast to the model's dtype ---------------------------


def test_a_value_that_overflows_the_models_dtype_is_refused(tmp_path):
    arrays = {
        k: np.asarray(v, dtype=np.float64) for k, v in MLP([4, 3], rng=0).named_params().items()
    }
    arrays["0.b"][0] = 1e300  # finite in float64, inf in float32
    np.savez(tmp_path / "big.npz", **arrays)
    target = MLP([4, 3], rng=1)
    before = params_of(target)
    with pytest.raises(ValueError, match="'0.b' holds NaN or infinite .* once converted .*float32"):
        load_params(tmp_path / "big.npz", target)
    assert same(params_of(target), before)
