"""course_lib.keras_import: a .keras file read without Keras gives Keras's outputs, and every file
or model it cannot read is an error that says why."""

import os
import zipfile

import h5py
import numpy as np
import pytest

from course_lib import keras_import
from course_lib.gradcheck import check_layer, compare_with_torch
from course_lib.keras_import import KerasImportError

os.environ["KERAS_BACKEND"] = "torch"  # before keras is imported: no TensorFlow needed
keras = pytest.importorskip("keras")
layers = keras.layers
# Keras's torch backend hands NumPy arrays without the copy= keyword NumPy 2 asks for
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def saved(tmp_path, name, stack, input_shape, classes=3, epochs=2):
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


def mlp(tmp_path):
    stack = [
        layers.Flatten(),
        layers.Dense(7, activation="relu", name="hidden"),
        layers.Dropout(0.25),
        layers.Dense(5, activation="tanh", use_bias=False),
        layers.Dense(11),
        layers.Dense(3, activation="softmax"),
    ]
    return saved(tmp_path, "mlp", stack, (3, 5))


def sigmoid_net(tmp_path):
    stack = [layers.Dense(1, activation="sigmoid"), layers.Dense(1)]
    return saved(tmp_path, "sigmoid", stack, (9,), classes=None)


@pytest.mark.parametrize("make", [mlp, sigmoid_net])
@pytest.mark.parametrize("batch", [1, 3, 17])
def test_imported_model_predicts_what_keras_predicts(tmp_path, make, batch):
    model, path = make(tmp_path)
    ours = keras_import.load(path)
    x = np.random.default_rng(batch).standard_normal((batch, *model.input_shape[1:]))
    x = x.astype(np.float32)
    theirs = model.predict(x, verbose=0)
    got = ours.predict(x)
    assert got.shape == theirs.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, theirs, rtol=1e-5, atol=1e-6)


def test_kernels_are_copied_as_stored_in_out(tmp_path):
    model, path = mlp(tmp_path)
    linears = [la for la in keras_import.load(path).layers if hasattr(la, "W")]
    dense = [la for la in model.layers if isinstance(la, layers.Dense)]
    assert [w.W.shape for w in linears] == [(15, 7), (7, 5), (5, 11), (11, 3)]
    for ours, theirs in zip(linears, dense):
        np.testing.assert_array_equal(ours.W, keras.ops.convert_to_numpy(theirs.kernel))
    assert not linears[1].b.any()  # use_bias=False: b = 0


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (5, 9)])
def test_softmax_layer_gradient(shape):
    x = np.random.default_rng(1).standard_normal(shape)
    assert max(check_layer(keras_import.Softmax(), x).values()) < 1e-6
    errors = compare_with_torch(keras_import.Softmax(), lambda t: t.softmax(-1), x)
    assert max(errors.values()) < 1e-10


def test_snake_case_follows_keras():
    assert [keras_import.snake_case(c) for c in ("Dense", "InputLayer", "BatchNormalization")] == [
        "dense",
        "input_layer",
        "batch_normalization",
    ]


def error(path):
    with pytest.raises(KerasImportError) as info:
        keras_import.load(path)
    return str(info.value)


def test_unsupported_layer_names_the_layer_its_class_and_what_is_supported(tmp_path):
    _, path = saved(tmp_path, "bn", [layers.Dense(4), layers.BatchNormalization()], (6,))
    message = error(path)
    assert "layer 2 'batch_normalization' (BatchNormalization) is not supported" in message
    assert "Dense" in message and "Dropout" in message and str(path) in message


def test_unsupported_activation_names_the_layer_and_the_choices(tmp_path):
    _, path = saved(tmp_path, "elu", [layers.Dense(4, activation="elu", name="h")], (6,))
    message = error(path)
    assert "'h' (Dense) has activation 'elu'" in message and "relu, sigmoid" in message


def test_a_functional_model_is_refused(tmp_path):
    inputs = keras.Input((4,))
    path = tmp_path / "functional.keras"
    keras.Model(inputs, layers.Dense(2)(inputs)).save(path)
    assert "not a Sequential" in error(path)


def test_dense_on_an_unflattened_input_is_refused(tmp_path):
    _, path = saved(tmp_path, "seq", [layers.Dense(4)], (3, 5), epochs=0)
    assert "put a Flatten before it" in error(path)


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
    _, path = sigmoid_net(tmp_path)
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
