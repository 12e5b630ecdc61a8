"""A Keras model in the course's own layers: a ``.keras`` file read without Keras.

DL4J's ``KerasModelImport`` (seed 003) reads a model trained in Python into another framework;
this is the same idea for a Keras 3 ``Sequential`` of ``Dense``, ``Dropout``, ``Flatten`` (and
its ``InputLayer``), read with ``zipfile``, ``json`` and ``h5py`` only.

The format.  ``model.save("name.keras")`` writes a zip archive holding

* ``metadata.json``: ``{"keras_version": "3.15.1", "date_saved": ...}``;
* ``config.json``: the architecture, ``{"class_name": "Sequential", "config": {"layers": [...]}}``,
  each layer ``{"class_name": "Dense", "config": {"name", "units", "activation", "use_bias"}}``;
* ``model.weights.h5``: the arrays, an HDF5 group per layer, ``layers/<key>/vars/0, 1, ...`` in
  the order the layer made them (a Dense: 0 the kernel, 1 the bias).  ``<key>`` is not the layer's
  name but its class in snake case, numbered in order: ``dense``, ``dense_1``, ``dense_2``, ...
  (the optimizer's state sits under ``optimizer/`` and is not read).

The layout.  Keras's Dense computes ``y = act(x K + b)`` on row vectors, with the kernel ``K``
stored as (in, out); the course's ``nn.Linear`` computes ``y = x W + b`` with ``W`` (n_in, n_out),
so the kernel is copied as it is.  torch's ``nn.Linear`` keeps ``W^T`` (out, in), so a torch
import transposes (``course_lib.twins``); a bias-free Dense (``use_bias=False``) gets ``b = 0``.

    model = keras_import.load("mnist_mlp.keras")     # a Classifier: predict, accuracy, error
    probs = model.predict(x)                         # equal to keras_model.predict(x)
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import h5py
import numpy as np

from course_lib import nn
from course_lib.models.classifier import Classifier


class KerasImportError(ValueError):
    """A file the importer cannot read, or a model it cannot build: the message says the fix."""


class Softmax(nn.Layer):
    """y = softmax(x) over the last axis;   dx = y * (dout - sum_c dout_c y_c)."""

    def forward(self, x):
        self.y = nn.softmax(x)
        return self.y

    def backward(self, dout):
        y = self.y
        return y * (dout - (dout * y).sum(axis=-1, keepdims=True))


ACTIVATIONS = {
    "linear": None,
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "softmax": Softmax,
}
LAYERS = ("InputLayer", "Dense", "Dropout", "Flatten")
SUPPORTED = (
    f"a Sequential of {', '.join(LAYERS)} layers, Dense activations {', '.join(ACTIVATIONS)}"
)
MEMBERS = ("config.json", "model.weights.h5")


def load(path, xp=np, dtype="float32") -> Classifier:
    """The model saved in the ``.keras`` file ``path`` as a course Classifier (arrays on ``xp``).

    Its output is Keras's: probabilities where the last Dense has a softmax, not logits.
    """
    config, weights = read_archive(path)
    return build(layer_specs(config, path), weights, path, xp=xp, dtype=dtype)


def read_archive(path) -> tuple[dict, dict[str, list[np.ndarray]]]:
    """(config, {"dense": [kernel, bias], ...}) from a ``.keras`` zip; a clear error otherwise."""
    path = Path(path)
    if not path.is_file():
        raise KerasImportError(f"{path}: no such file (save the model with model.save('{path}'))")
    if not zipfile.is_zipfile(path):
        raise KerasImportError(_not_a_zip(path))
    try:
        with zipfile.ZipFile(path) as archive:
            missing = [m for m in MEMBERS if m not in archive.namelist()]
            if missing:
                raise KerasImportError(
                    f"{path} is a zip without {' and '.join(missing)} (it holds "
                    f"{archive.namelist()}): not a Keras 3 .keras file; save the model "
                    f"with model.save('name.keras')"
                )
            config = json.loads(archive.read("config.json"))
            blob = archive.read("model.weights.h5")
        return config, _read_weights(blob)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as err:
        if isinstance(err, KerasImportError):
            raise
        raise KerasImportError(
            f"{path} is damaged ({type(err).__name__}: {err}): the archive or its weights cannot "
            f"be read; copy or save the .keras file again"
        ) from err


def _not_a_zip(path: Path) -> str:
    """Why ``path`` is not a .keras archive: a Keras 2 HDF5 file, a damaged zip, or neither."""
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(b"\x89HDF"):
        return (
            f"{path} is an HDF5 file (Keras 2's model.save('name.h5')), not a .keras zip: "
            f"load it in Keras and save it again with model.save('name.keras')"
        )
    if head.startswith(b"PK"):
        return (
            f"{path} is a damaged zip archive (truncated, or its directory is lost): copy "
            f"or save the .keras file again"
        )
    return (
        f"{path} is not a .keras file (a zip archive holding {' and '.join(MEMBERS)}): "
        f"save the model with model.save('name.keras') (Keras 3)"
    )


def _read_weights(blob: bytes) -> dict[str, list[np.ndarray]]:
    """{"dense": [vars/0, vars/1], ...} from the bytes of ``model.weights.h5``."""
    with h5py.File(io.BytesIO(blob), "r") as h5:
        layers = h5.get("layers", {})
        return {
            key: [np.asarray(layers[key]["vars"][v]) for v in sorted(layers[key]["vars"], key=int)]
            for key in layers
            if "vars" in layers[key]
        }


def snake_case(name: str) -> str:
    """Keras's rule (keras.src.utils.naming): "Dense" -> "dense", "InputLayer" -> "input_layer"."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", re.sub(r"\W+", "", name))
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def layer_specs(config: dict, path="the model") -> list[dict]:
    """One dict per layer (class, name, its key in model.weights.h5, config); the layers Keras
    saves, in order.  An unsupported model, layer or activation is a KerasImportError."""
    if config.get("class_name") != "Sequential":
        raise KerasImportError(
            f"{path}: the model is a {config.get('class_name')!r}, not a "
            f"Sequential; the importer reads {SUPPORTED}"
        )
    specs, seen = [], {}
    for i, layer in enumerate(config.get("config", {}).get("layers", [])):
        cls, cfg = layer["class_name"], layer["config"]
        where = f"{path}: layer {i} {cfg.get('name')!r} ({cls})"
        if cls not in LAYERS:
            raise KerasImportError(f"{where} is not supported; the importer reads {SUPPORTED}")
        act = cfg.get("activation", "linear")
        if cls == "Dense" and (not isinstance(act, str) or act not in ACTIVATIONS):
            raise KerasImportError(
                f"{where} has activation {act!r}, which is not supported; "
                f"use one of {', '.join(ACTIVATIONS)}"
            )
        key = None
        if cls != "InputLayer":  # Sequential.layers leaves the input out
            base = snake_case(cls)
            key = base if base not in seen else f"{base}_{seen[base] + 1}"
            seen[base] = seen.get(base, -1) + 1
        specs.append(
            dict(
                cls=cls,
                name=cfg.get("name"),
                key=key,
                where=where,
                config=cfg,
                input_shape=layer.get("build_config", {}).get("input_shape"),
            )
        )
    return specs


def build(specs: list[dict], weights: dict, path="the model", xp=np, dtype="float32"):
    """The course's layers for ``layer_specs``, Dense kernels and biases copied from ``weights``."""
    layers, width = [], None
    for spec in specs:
        cfg = spec["config"]
        if spec["cls"] == "InputLayer":
            shape = cfg.get("batch_shape") or cfg.get("batch_input_shape") or [None]
            width = int(np.prod(shape[1:])) if None not in shape[1:] else None
        elif spec["cls"] == "Flatten":
            layers.append(nn.Flatten())
        elif spec["cls"] == "Dropout":
            layers.append(nn.Dropout(float(cfg["rate"])))
        else:
            layers.append(dense(spec, weights, width, path, xp, dtype))
            width = layers[-1].W.shape[1]
            if ACTIVATIONS[cfg.get("activation", "linear")] is not None:
                layers.append(ACTIVATIONS[cfg["activation"]]())
    return Classifier(*layers)


def dense(spec: dict, weights: dict, width, path, xp=np, dtype="float32") -> nn.Linear:
    """An nn.Linear holding a Dense layer's kernel (in, out) as W and its bias (or 0) as b."""
    cfg, where = spec["config"], spec["where"]
    if spec["input_shape"] is not None and len(spec["input_shape"]) != 2:
        raise KerasImportError(
            f"{where} gets inputs of shape {spec['input_shape']}: Keras applies "
            f"it to the last axis only; put a Flatten before it"
        )
    arrays = weights.get(spec["key"], [])
    if len(arrays) != (2 if cfg.get("use_bias", True) else 1):
        raise KerasImportError(
            f"{where}: model.weights.h5 holds {len(arrays)} arrays under "
            f"layers/{spec['key']}; the file is damaged or not from this config"
        )
    kernel = arrays[0]
    if kernel.ndim != 2 or kernel.shape[1] != cfg["units"] or width not in (None, kernel.shape[0]):
        raise KerasImportError(
            f"{where}: kernel of shape {kernel.shape} does not fit "
            f"{width} inputs and {cfg['units']} units"
        )
    layer = nn.Linear(*kernel.shape, weight_init="zeros", dtype=dtype, xp=xp)
    layer.W[...] = xp.asarray(kernel, dtype=dtype)
    if cfg.get("use_bias", True):
        layer.b[...] = xp.asarray(arrays[1], dtype=dtype)
    return layer
