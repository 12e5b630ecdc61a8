"""LeNet-5 and AlexNet from course_lib.nn layers: shapes, parameter counts, init, torch twins."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import nn
from course_lib.gradcheck import rel_error
from course_lib.models.alexnet import AlexNet, SeedNet
from course_lib.models.lenet import LeNet5
from course_lib.twins.layers import flat_grad, to_torch


def images(n, c=1, size=28, seed=0):
    return np.random.default_rng(seed).random((n, c, size, size))


def test_lenet5_shapes_and_parameters():
    net = LeNet5(rng=0)
    assert net.forward(images(2).astype("float32")).shape == (2, 10)
    # C1 156 + C3 2,416 (every S2 map connected) + C5 48,120 + F6 10,164 + output 850
    assert sum(p.size for p in net.params) == 61_706
    with pytest.raises(ValueError, match="activation"):
        LeNet5(activation="softplus")


@pytest.mark.parametrize("activation, pool", [("tanh", "avg"), ("relu", "max")])
@pytest.mark.parametrize("n", [1, 3])
def test_lenet5_equals_its_torch_twin_logits_and_gradients(activation, pool, n):
    net = LeNet5(activation=activation, pool=pool, rng=1, dtype="float64")
    nn.FlatParams(net)
    x, y = images(n, seed=2), np.arange(n) % 10
    loss = nn.SoftmaxCrossEntropy()
    value = loss.forward(net.forward(x), y)
    net.backward(loss.backward())
    twin = to_torch(net)
    logits = twin(torch.as_tensor(x))
    assert rel_error(net.forward(x), logits) < 1e-10
    tloss = F.cross_entropy(logits, torch.as_tensor(y))
    assert np.isclose(float(value), float(tloss.detach()), rtol=1e-12)
    assert rel_error(net.flat.grad, flat_grad(twin, tloss)) < 1e-8


def test_alexnet_at_the_papers_size_has_its_parameter_count():
    net = AlexNet()  # 227x227x3, 1000 classes, the two towers merged
    counts = [p.size for layer in net.convs + net.linears for p in layer.params]
    assert sum(counts) == 62_378_344
    kinds = [type(layer).__name__ for layer in net.layers[:6]]
    assert kinds == ["Conv2d", "ReLU", "LocalResponseNorm", "MaxPool2d", "Conv2d", "ReLU"]


def test_alexnet_on_small_images_runs_and_matches_its_twin():
    net = AlexNet(in_channels=1, in_size=28, n_classes=10, width=1 / 16, rng=0, dtype="float64")
    net.eval()  # dropout off, so the twin computes the same function
    x = images(2, seed=3)
    twin = to_torch(net).eval()
    assert net.forward(x).shape == (2, 10)
    assert rel_error(net.forward(x), twin(torch.as_tensor(x))) < 1e-9


def test_paper_init_and_the_ablation_switches():
    net = AlexNet(in_channels=1, in_size=28, n_classes=10, width=1 / 16).init_paper(seed=0)
    biases = [float(layer.b.mean()) for layer in net.convs + net.linears]
    assert biases == [0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0]  # conv2, 4, 5 and fc6, fc7: 1
    assert abs(float(net.convs[2].W.std()) - 0.01) < 0.001
    plain = AlexNet(
        in_size=28, in_channels=1, width=1 / 16, lrn=False, overlap=False, activation="tanh"
    )
    kinds = {type(layer).__name__ for layer in plain.layers}
    assert "LocalResponseNorm" not in kinds and "Tanh" in kinds
    assert all(p.kernel_size == (2, 2) for p in plain.layers if isinstance(p, nn.MaxPool2d))


def test_seed_net_is_c_p_n_c_p_n_f_f():
    net = SeedNet(in_channels=1, in_size=28, n_classes=10, rng=0)
    kinds = [type(layer).__name__ for layer in net.layers]
    assert kinds == [
        "Conv2d",
        "ReLU",
        "MaxPool2d",
        "LocalResponseNorm",
        "Conv2d",
        "ReLU",
        "MaxPool2d",
        "LocalResponseNorm",
        "Flatten",
        "Linear",
        "ReLU",
        "Dropout",
        "Linear",
    ]
    assert [c.W.shape[0] for c in net.convs] == [48, 96] and net.linears[0].W.shape[1] == 1024
    assert net.predict(images(3).astype("float32")).shape == (3, 10)


def test_convnet_weight_init_and_layer_costs_of_a_small_net():
    from course_lib.models.alexnet import ConvNet, layer_costs

    net = ConvNet(
        [(4, 5, 1, 2, True), (6, 3, 1, 0, "pool")],
        [7],
        in_channels=1,
        in_size=12,
        n_classes=3,
        weight_init=0.5,
        rng=0,
    )
    assert abs(float(net.convs[0].W.std()) - 0.5) < 0.15  # a sigma, not He's sqrt(2/25)
    rows = layer_costs(net)
    conv1, conv2 = (r for r in rows if r["layer"] == "Conv2d")
    assert conv1["out_shape"] == [4, 12, 12] and conv1["flops"] == 2 * 4 * 12 * 12 * 1 * 5 * 5
    assert conv2["out_shape"] == [6, 3, 3] and conv2["flops"] == 2 * 6 * 3 * 3 * 4 * 3 * 3
    assert rows[-1]["out_shape"] == [3] and sum(r["params"] for r in rows) == net.parameter_count()
    assert net.training  # restored after the eval-mode pass
