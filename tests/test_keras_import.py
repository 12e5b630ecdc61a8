"""course_lib.keras_import: a .keras file read without Keras gives Keras's outputs, and every file
or model it cannot read is an error that says why.  The tests that train a Keras model skip
cleanly where Keras is not installed; the rest build a .keras archive by hand."""

import json
import os
import zipfile

import h5py
import numpy as np
import pytest

from course_lib import keras_import, nn
from course_lib.gradcheck import check_layer, compare_with_torch
from course_lib.keras_import import KerasImportError

# Keras's torch backend hands NumPy arrays without the copy= keyword NumPy 2 asks for
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture(scope="module")
def keras():
    os.environ["KERAS_BACKEND"] = "torch"  # before keras is imported: no TensorFlow needed
    return pytest.importorskip("keras")


def saved(keras, tmp_path, name, stack, input_shape, classes=3, epochs=2):
    """A Keras Sequential trained briefly on random data, saved as tmp_path/name.keras."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(input_shape), *stack])
    model.compile("adam", "sparse_categorical_crossentropy" if classes else "mse")
    g = np.random.default_rng(0)
    x = g.standard_normal((40, *input_shape)).astype(np.float32)
    y = g.integers(0, classes, 40) if classes else g.standard_normal((40, 1)).astype(np.float32)
    if epochs:
        model.fit(x, y, epochs=epochs, batch_size=8, verbose=0)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    return model, path


def mlp(keras, tmp_path):
    layers = keras.layers
    stack = [
        layers.Flatten(),
        layers.Dense(7, activation="relu", name="hidden"),
        layers.Dropout(0.25),
        layers.Dense(5, activation="tanh", use_bias=False),
        layers.Dense(11),
        layers.Dense(3, activation="softmax"),
    ]
    return saved(keras, tmp_path, "mlp", stack, (3, 5))


def sigmoid_net(keras, tmp_path):
    stack = [keras.layers.Dense(1, activation="sigmoid"), keras.layers.Dense(1)]
    return saved(keras, tmp_path, "sigmoid", stack, (9,), classes=None)


@pytest.mark.parametrize("make", [mlp, sigmoid_net])
@pytest.mark.parametrize("batch", [1, 3, 17])
def test_imported_model_predicts_what_keras_predicts(keras, tmp_path, make, batch):
    model, path = make(keras, tmp_path)
    ours = keras_import.load(path)
    x = np.random.default_rng(batch).standard_normal((batch, *model.input_shape[1:]))
    x = x.astype(np.float32)
    theirs = model.predict(x, verbose=0)
    got = ours.predict(x)
    assert got.shape == theirs.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, theirs, rtol=1e-5, atol=1e-6)


def test_kernels_are_copied_as_stored_in_out(keras, tmp_path):
    model, path = mlp(keras, tmp_path)
    linears = [la for la in keras_import.load(path).layers if hasattr(la, "W")]
    dense = [la for la in model.layers if isinstance(la, keras.layers.Dense)]
    assert [w.W.shape for w in linears] == [(15, 7), (7, 5), (5, 11), (11, 3)]
    for ours, theirs in zip(linears, dense):
        np.testing.assert_array_equal(ours.W, keras.ops.convert_to_numpy(theirs.kernel))
    assert not linears[1].b.any()  # use_bias=False: b = 0


def error(path):
    with pytest.raises(KerasImportError) as info:
        keras_import.load(path)
    return str(info.value)


def test_unsupported_layer_names_the_layer_its_class_and_what_is_supported(keras, tmp_path):
    stack = [keras.layers.Dense(4), keras.layers.BatchNormalization()]
    _, path = saved(keras, tmp_path, "bn", stack, (6,))
    message = error(path)
    assert "layer 2 'batch_normalization' (BatchNormalization) is not supported" in message
    assert "Dense" in message and "Dropout" in message and str(path) in message


def test_unsupported_activation_names_the_layer_and_the_choices(keras, tmp_path):
    stack = [keras.layers.Dense(4, activation="elu", name="h")]
    _, path = saved(keras, tmp_path, "elu", stack, (6,))
    message = error(path)
    assert "'h' (Dense) has activation 'elu'" in message and "relu, sigmoid" in message


def test_a_functional_model_is_refused(keras, tmp_path):
    inputs = keras.Input((4,))
    path = tmp_path / "functional.keras"
    keras.Model(inputs, keras.layers.Dense(2)(inputs)).save(path)
    assert "not a Sequential" in error(path)


def test_dense_on_an_unflattened_input_is_refused(keras, tmp_path):
    _, path = saved(keras, tmp_path, "seq", [keras.layers.Dense(4)], (3, 5), epochs=0)
    assert "put a Flatten before it" in error(path)


def handmade(tmp_path, g=None):
    """A .keras archive written by hand (no Keras): 5 -> Dense(3, relu) -> Dense(2, softmax),
    and its arrays."""
    g = g or np.random.default_rng(3)
    arrays = {
        "dense": [g.standard_normal((5, 3)), g.standard_normal(3)],
        "dense_1": [g.standard_normal((3, 2)), g.standard_normal(2)],
    }
    dense = [
        {"class_name": "Dense", "config": {"name": n, "units": u, "activation": a}}
        for n, u, a in (("first", 3, "relu"), ("second", 2, "softmax"))
    ]
    inputs = {"class_name": "InputLayer", "config": {"name": "in", "batch_shape": [None, 5]}}
    config = {"class_name": "Sequential", "config": {"layers": [inputs, *dense]}}
    with h5py.File(tmp_path / "w.h5", "w") as h5:
        for key, (kernel, bias) in arrays.items():
            h5[f"layers/{key}/vars/0"], h5[f"layers/{key}/vars/1"] = kernel, bias
    path = tmp_path / "hand.keras"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("config.json", json.dumps(config))
        z.write(tmp_path / "w.h5", "model.weights.h5")
    return path, arrays


def test_a_handmade_archive_computes_softmax_of_relu(tmp_path):
    path, w = handmade(tmp_path)
    x = np.random.default_rng(0).standard_normal((1, 5)).astype(np.float32)
    hidden = np.maximum(x @ w["dense"][0] + w["dense"][1], 0)
    expected = nn.softmax(hidden @ w["dense_1"][0] + w["dense_1"][1])
    np.testing.assert_allclose(keras_import.load(path).predict(x), expected, rtol=1e-5)


def test_weights_that_do_not_fit_the_config(tmp_path):
    path, _ = handmade(tmp_path)
    with zipfile.ZipFile(path) as z:
        config = json.loads(z.read("config.json"))
    config["config"]["layers"][2]["config"]["units"] = 4
    with zipfile.ZipFile(tmp_path / "odd.keras", "w") as z:
        z.writestr("config.json", json.dumps(config))
        z.write(tmp_path / "w.h5", "model.weights.h5")
    assert "'second' (Dense): kernel of shape (3, 2)" in error(tmp_path / "odd.keras")


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (5, 9)])
def test_softmax_layer_gradient(shape):
    x = np.random.default_rng(1).standard_normal(shape)
    assert max(check_layer(keras_import.Softmax(), x).values()) < 1e-6
    errors = compare_with_torch(keras_import.Softmax(), lambda t: t.softmax(-1), x)
    assert max(errors.values()) < 1e-10


def test_snake_case_follows_keras():
    names = [keras_import.snake_case(c) for c in ("Dense", "InputLayer", "BatchNormalization")]
    assert names == ["dense", "input_layer", "batch_normalization"]


def test_files_that_are_not_keras_archives(tmp_path):
    (tmp_path / "weights.npz").write_bytes(b"not a zip at all")
    assert "is not a .keras file" in error(tmp_path / "weights.npz")
    with h5py.File(tmp_path / "old.h5", "w") as f:
        f["x"] = np.zeros(3)
    assert "HDF5 file (Keras 2" in error(tmp_path / "old.h5")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as z:
        z.writestr("readme.txt", "hello")
    assert "without config.json and model.weights.h5" in error(tmp_path / "other.zip")
    assert "no such file" in error(tmp_path / "missing.keras")


def test_damaged_archives(tmp_path):
    path, _ = handmade(tmp_path)
    data = path.read_bytes()
    (tmp_path / "cut.keras").write_bytes(data[: len(data) // 2])
    assert "cut.keras is a damaged zip archive" in error(tmp_path / "cut.keras")
    flipped = bytearray(data)
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("model.weights.h5")
    flipped[info.header_offset + 100 + info.file_size // 2] ^= 0xFF  # inside the weights
    (tmp_path / "flip.keras").write_bytes(bytes(flipped))
    message = error(tmp_path / "flip.keras")
    assert "flip.keras is damaged" in message and "save the .keras file again" in message
