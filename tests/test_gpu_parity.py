"""The same layers on CuPy and on NumPy agree (skipped where no NVIDIA GPU is found)."""

import numpy as np
import pytest

from course_lib import nn, optim
from course_lib.backend import asnumpy, cupy_module
from course_lib.gradcheck import rel_error
from course_lib.models.mlp import MLP
from course_lib.serialize import load_params, save_params
from course_lib.train import fit

pytestmark = pytest.mark.gpu


@pytest.fixture
def cp():
    return cupy_module()


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def run(layer, x, dout):
    """Forward and backward once; every array comes back to the host."""
    out, dx = layer.forward(x), layer.backward(dout)
    return [asnumpy(a) for a in [out, dx, *layer.grads]]


LAYERS = {
    "linear": lambda xp: nn.Linear(7, 5, rng=0, dtype="float64", xp=xp),
    "sigmoid": lambda xp: nn.Sigmoid(),
    "tanh": lambda xp: nn.Tanh(),
    "relu": lambda xp: nn.ReLU(),
    "batchnorm": lambda xp: nn.BatchNorm(7, dtype="float64", xp=xp),
}


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("n", [1, 6])
@pytest.mark.parametrize("training", [True, False])
def test_layer_parity(cp, name, n, training):
    if name == "batchnorm" and training and n == 1:
        pytest.skip("batch statistics of one example are degenerate")
    x, dout_shape = randn(n, 7), (n, 5) if name == "linear" else (n, 7)
    dout = randn(*dout_shape, seed=1)
    cpu, gpu = LAYERS[name](np), LAYERS[name](cp)
    cpu.training = gpu.training = training
    for a, b in zip(run(cpu, x, dout), run(gpu, cp.asarray(x), cp.asarray(dout))):
        assert rel_error(a, b) < 1e-10


def test_dropout_on_the_device(cp):
    layer = nn.Dropout(0.25, rng=0)
    x = cp.ones((300, 400))
    y = layer.forward(x)
    assert isinstance(layer.mask, cp.ndarray) and abs(float(layer.mask.mean()) - 0.75) < 0.01
    assert cp.allclose(y, x * layer.mask / 0.75) and cp.allclose(layer.backward(x), y)
    again = nn.Dropout(0.25, rng=0)
    again.forward(x)
    assert bool((again.mask == layer.mask).all())  # a seed fixes the device masks too


@pytest.mark.parametrize("make", [nn.SoftmaxCrossEntropy, nn.SigmoidCrossEntropy, nn.MSELoss])
def test_loss_parity(cp, make):
    scores = randn(5, 4)
    target = np.random.default_rng(2).random((5, 4))
    if make is nn.SoftmaxCrossEntropy:
        target = np.array([0, 3, 1, 1, 2])
    cpu, gpu = make(), make()
    assert (
        rel_error(cpu.forward(scores, target), gpu.forward(cp.asarray(scores), cp.asarray(target)))
        < 1e-12
    )
    assert rel_error(cpu.backward(), gpu.backward()) < 1e-12


@pytest.mark.parametrize(
    "make", [optim.SGD, optim.Momentum, optim.Nesterov, optim.AdaGrad, optim.RMSProp, optim.Adam]
)
def test_optimizer_parity(cp, make):
    w, g = randn(4, 3), randn(4, 3, seed=1)
    wc, gc = cp.asarray(w), cp.asarray(g)
    cpu, gpu = make([w], [g], weight_decay=0.01), make([wc], [gc], weight_decay=0.01)
    for _ in range(3):
        cpu.step(), gpu.step()
    assert rel_error(w, wc) < 1e-12


def test_mlp_training_and_save_load_parity(cp, tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 10)), rng.integers(0, 3, 64)
    losses = []
    for xp in (np, cp):
        model = MLP([10, 16, 3], batchnorm=True, dtype="float64", rng=0, xp=xp)
        opt = optim.Adam(model.params, model.grads, lr=0.01)
        losses.append(
            fit(
                model,
                nn.SoftmaxCrossEntropy(),
                opt,
                xp.asarray(x),
                xp.asarray(y),
                epochs=2,
                batch_size=16,
                rng=1,
                progress=False,
            ).steps
        )
    assert np.allclose(losses[0], losses[1], rtol=1e-9)
    path = save_params(tmp_path / "gpu.npz", model)  # the CuPy model, saved from the device
    host = load_params(path, MLP([10, 16, 3], batchnorm=True, dtype="float64"))
    assert rel_error(host.predict(x), model.predict(cp.asarray(x))) < 1e-10


def test_torch_twin_on_cuda():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch sees no CUDA device")
    from course_lib.twins.mlp import mlp_pair

    mlp, tmlp = mlp_pair([8, 6, 3], seed=0, device="cuda", dtype="float64")
    x = randn(4, 8)
    with torch.no_grad():
        assert rel_error(mlp.forward(x), tmlp(torch.tensor(x, device="cuda"))) < 1e-12


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("n", [1, 4])
def test_recurrent_parity(cp, kind, n):
    x, dout = randn(n, 6, 3), randn(n, 6, 5, seed=1)
    cpu = getattr(nn, kind)(3, 5, rng=0, dtype="float64", xp=np)
    gpu = getattr(nn, kind)(3, 5, rng=0, dtype="float64", xp=cp)
    for a, b in zip(run(cpu, x, dout), run(gpu, cp.asarray(x), cp.asarray(dout))):
        assert rel_error(a, b) < 1e-10


@pytest.mark.parametrize("score", ["dot", "additive"])
def test_attention_parity(cp, score):
    hs, hd, dout = randn(2, 5, 4), randn(2, 3, 4, seed=1), randn(2, 3, 4, seed=2)
    cpu = nn.Attention(4, score=score, rng=0, dtype="float64", xp=np)
    gpu = nn.Attention(4, score=score, rng=0, dtype="float64", xp=cp)
    out_c, out_g = cpu.forward(hs, hd), gpu.forward(cp.asarray(hs), cp.asarray(hd))
    grads_c, grads_g = cpu.backward(dout), gpu.backward(cp.asarray(dout))
    assert rel_error(out_c, out_g) < 1e-10
    for a, b in zip([*grads_c, *cpu.grads], [*grads_g, *gpu.grads]):
        assert rel_error(a, asnumpy(b)) < 1e-10


def test_language_model_and_seq2seq_train_on_the_device(cp):
    from course_lib.models.rnnlm import RNNLM
    from course_lib.models.seq2seq import Seq2Seq
    from course_lib.train import evaluate_lm, fit_lm

    ids = np.array([0, 1, 2, 3, 2, 1] * 300)
    lm = RNNLM(4, 16, rng=0, xp=cp)
    fit_lm(
        lm,
        optim.Adam(lm.params, lm.grads, lr=0.02),
        ids,
        epochs=3,
        batch_size=8,
        steps=10,
        clip=5.0,
        progress=False,
    )
    assert evaluate_lm(lm, ids, batch_size=4, steps=10) < 0.05
    assert len(lm.generate([0, 1], 5, rng=0)) == 7
    model = Seq2Seq(5, 5, 3, embed=4, hidden=8, decoder="attention", pad=0, rng=0, xp=cp)
    x = np.random.default_rng(0).integers(1, 5, (6, 5))
    scores = model.forward(x)
    model.backward(cp.ones_like(scores))
    assert isinstance(model.grads[0], cp.ndarray)
    assert model.generate(x[:, :3], start=1, max_len=4).shape == (6, 4)
