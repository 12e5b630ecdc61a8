"""MaxPool2d and AvgPool2d: backward vs central differences, forward/backward vs torch, on
square and non-square images, overlapping windows, strides and padding."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import nn
from course_lib.backend import asnumpy, cupy_module
from course_lib.gradcheck import check_layer, compare_with_torch, rel_error

# (input shape, kernel_size, stride, padding): batch 1 and 3, channels 1-7, square and 7x5
# images, 2x2 and 2x3 windows, overlapping 3x3 stride 2 (AlexNet), stride (2, 1), padding 0/1
CASES = [
    ((1, 1, 4, 4), 2, None, 0),
    ((3, 2, 7, 5), 2, None, 0),  # 7x5: the last row is in no window
    ((1, 3, 7, 5), 3, 2, 0),  # overlapping
    ((3, 4, 7, 7), 3, 2, 1),  # overlapping, padded
    ((1, 5, 6, 7), (2, 3), None, 0),
    ((3, 6, 7, 5), (2, 3), (2, 1), 1),
    ((1, 7, 5, 5), 2, 1, 0),  # stride 1: every inner pixel is in four windows
    ((3, 1, 6, 6), 2, 2, 1),
    ((1, 2, 7, 5), (3, 2), (1, 2), (1, 0)),
]
POOLS = {"max": (nn.MaxPool2d, F.max_pool2d), "avg": (nn.AvgPool2d, F.avg_pool2d)}


def distinct(*shape, seed=0):
    """Distinct numbers 0.1 apart in random order: no ties, so +-h never changes an arg-max."""
    size = int(np.prod(shape))
    return 0.1 * (np.random.default_rng(seed).permutation(size) - size / 2).reshape(shape)


def torch_pool(kind, layer):
    fn = POOLS[kind][1]
    return lambda x: fn(x, layer.kernel_size, layer.stride, layer.padding)


@pytest.mark.parametrize("kind", POOLS)
@pytest.mark.parametrize("shape, kernel, stride, padding", CASES)
def test_pool_numeric_gradient(kind, shape, kernel, stride, padding):
    layer = POOLS[kind][0](kernel, stride, padding)
    assert max(check_layer(layer, distinct(*shape)).values()) < 1e-6


@pytest.mark.parametrize("kind", POOLS)
@pytest.mark.parametrize("shape, kernel, stride, padding", CASES)
def test_pool_matches_torch(kind, shape, kernel, stride, padding):
    layer = POOLS[kind][0](kernel, stride, padding)
    x = np.random.default_rng(1).standard_normal(shape)
    errors = compare_with_torch(layer, torch_pool(kind, layer), x)
    assert max(errors.values()) < 1e-12


@pytest.mark.parametrize("shape, kernel, stride, padding", CASES)
def test_max_pool_ties_go_to_the_first_maximum_as_in_torch(shape, kernel, stride, padding):
    layer = nn.MaxPool2d(kernel, stride, padding)
    x = np.random.default_rng(2).integers(0, 3, shape).astype(np.float64)  # many ties
    errors = compare_with_torch(layer, torch_pool("max", layer), x)
    assert max(errors.values()) < 1e-12  # a wrong winner would be an error of 1
    unpadded = nn.MaxPool2d(kernel, stride)
    unpadded.forward(np.zeros(shape))  # all tied: the top-left pixel of each window wins
    assert (asnumpy(unpadded.argmax) == 0).all()


def test_overlapping_windows_add_their_gradients():
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 2] = 1.0  # the centre is in all four 3x3 stride-2 windows and wins each
    layer = nn.MaxPool2d(3, stride=2)
    assert np.array_equal(layer.forward(x), np.ones((1, 1, 2, 2)))
    dx = layer.backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    expected = np.zeros((1, 1, 5, 5))
    expected[0, 0, 2, 2] = 10.0
    assert np.array_equal(dx, expected)
    avg = nn.AvgPool2d(3, stride=2)
    avg.forward(x)
    assert avg.backward(np.ones((1, 1, 2, 2)))[0, 0, 2, 2] == pytest.approx(4 / 9)


def test_padding_is_minus_infinity_for_max_and_a_counted_zero_for_avg():
    x = -1.0 - np.random.default_rng(3).random((2, 3, 4, 4))  # all negative
    y = nn.MaxPool2d(2, padding=1).forward(x)
    assert y.shape == (2, 3, 3, 3) and (y < -1).all()  # the padding never wins
    corners = nn.AvgPool2d(2, padding=1).forward(np.ones((1, 1, 4, 4)))
    assert corners[0, 0, 0, 0] == 0.25 and corners[0, 0, 1, 1] == 1.0  # 1 pixel of 4, then 4


def test_dtype_shapes_and_the_default_stride():
    x = np.random.default_rng(4).standard_normal((2, 3, 9, 8)).astype(np.float32)
    for make in (nn.MaxPool2d, nn.AvgPool2d):
        layer = make((3, 2))
        assert layer.stride == (3, 2) and layer.padding == (0, 0)
        y = layer.forward(x)
        assert y.dtype == np.float32 and y.shape == (2, 3, 3, 4)
        dx = layer.backward(np.ones_like(y))
        assert dx.dtype == np.float32 and dx.shape == x.shape
        assert layer.params == [] and layer.grads == []
        assert np.array_equal(make(1).forward(x), x)  # a 1x1 window is the identity


def test_max_pool_propagates_nan_as_torch():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    x[0, 0, 0, 1] = np.nan
    y = nn.MaxPool2d(2).forward(x)
    assert np.isnan(y[0, 0, 0, 0]) and F.max_pool2d(torch.tensor(x), 2)[0, 0, 0, 0].isnan()
    assert np.array_equal(y[0, 0, 1], [13.0, 15.0]) and y[0, 0, 0, 1] == 7.0


@pytest.mark.parametrize("make", [nn.MaxPool2d, nn.AvgPool2d])
def test_train_and_eval_are_the_same(make):
    x, dout = distinct(3, 2, 7, 5), distinct(3, 2, 3, 2, seed=1)
    layer = make(3, 2)
    y, dx = layer.forward(x), layer.backward(dout)
    layer.eval()
    assert not layer.training
    assert np.array_equal(layer.forward(x), y) and np.array_equal(layer.backward(dout), dx)


@pytest.mark.parametrize("make", [nn.MaxPool2d, nn.AvgPool2d])
def test_errors_name_the_problem(make):
    name = make.__name__
    with pytest.raises(ValueError, match=r"expects images of shape \(N, C, H, W\).*\(3, 7, 5\)"):
        make(2).forward(np.zeros((3, 7, 5)))
    with pytest.raises(ValueError, match=rf"{name}.*images of 2x5 pixels.*the 3x3 window"):
        make(3).forward(np.zeros((1, 1, 2, 5)))
    with pytest.raises(ValueError, match=r"images of 2x2 pixels \(2x4 padded\).*the 3x3 window"):
        make(3, padding=(0, 1)).forward(np.zeros((1, 1, 2, 2)))
    assert make(3, padding=1).forward(np.ones((1, 1, 1, 1))).shape == (1, 1, 1, 1)  # 3x3 padded
    for bad in [dict(kernel_size=0), dict(kernel_size=(2, 2, 2)), dict(kernel_size=2.0)]:
        with pytest.raises(ValueError, match="kernel_size must be an int >= 1"):
            make(**bad)
    with pytest.raises(ValueError, match="stride must be an int >= 1"):
        make(2, stride=(1, 0))
    with pytest.raises(ValueError, match="padding must be an int >= 0"):
        make(2, padding=-1)
    with pytest.raises(ValueError, match=r"padding \(2, 0\) must be at most half"):
        make(3, padding=(2, 0))
    with pytest.raises(RuntimeError):  # torch refuses it too
        POOLS["max" if make is nn.MaxPool2d else "avg"][1](torch.zeros(1, 1, 5, 5), 3, 1, 2)


@pytest.mark.gpu
@pytest.mark.parametrize("make", [nn.MaxPool2d, nn.AvgPool2d])
def test_same_results_on_the_gpu(make):
    cp = cupy_module()
    x, dout = distinct(3, 4, 7, 7), np.random.default_rng(5).standard_normal((3, 4, 4, 4))
    cpu, gpu = make(3, 2, 1), make(3, 2, 1)
    y, dx = cpu.forward(x), cpu.backward(dout)
    y_gpu, dx_gpu = gpu.forward(cp.asarray(x)), gpu.backward(cp.asarray(dout))
    assert isinstance(dx_gpu, cp.ndarray)
    assert rel_error(y, y_gpu) < 1e-12 and rel_error(dx, dx_gpu) < 1e-12
