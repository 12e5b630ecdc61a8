"""2-D convolution from scratch: im2col/col2im, the Conv2d layer, Flatten, and the textbook loop.

A convolution layer (as every deep-learning library computes it: a cross-correlation, the filter
is not flipped) maps an input x of shape (N, C, H, W) with a filter bank W (O, C, kh, kw) and a
bias b (O,) to

    y[n, o, i, j] = b[o] + sum_{c, p, q} W[o, c, p, q] * x_pad[n, c, i*s_h + p, j*s_w + q]

where x_pad is x with ``padding`` zeros around each image and s = ``stride``.  The output has

    H_out = (H + 2 p_h - kh) // s_h + 1,      W_out = (W + 2 p_w - kw) // s_w + 1.

The idea of im2col: copy every receptive field (a C x kh x kw patch) into a column of a matrix,
and the whole convolution becomes ONE matrix product with the filters laid out as rows.  It costs
memory (each pixel is copied up to kh*kw times) but the product runs at BLAS speed, and the
backward pass is two more matrix products plus col2im, the adjoint of the copy, which adds each
column entry back onto the pixel it came from.
"""

from __future__ import annotations

import math

import numpy as np

from course_lib import init
from course_lib.backend import get_array_module
from course_lib.nn.layer import Layer


def _pair(value, name) -> tuple[int, int]:
    """``3`` -> (3, 3); ``(2, 1)`` -> (2, 1); anything else is a ValueError naming ``name``."""
    pair = (value, value) if np.isscalar(value) else tuple(value)
    if len(pair) != 2 or any(int(v) != v for v in pair):
        raise ValueError(f"{name} must be an int or a pair of ints (h, w), got {value!r}")
    return int(pair[0]), int(pair[1])


def conv_output_shape(x_shape, kh, kw, stride=1, padding=0) -> tuple[int, int]:
    """(H_out, W_out) of a kh x kw window sliding over an (N, C, H, W) input; a ValueError
    naming the shapes when the window does not fit in the padded input."""
    (sh, sw), (ph, pw) = _pair(stride, "stride"), _pair(padding, "padding")
    if len(x_shape) != 4:
        raise ValueError(f"expected an (N, C, H, W) input, got shape {tuple(x_shape)}")
    if sh < 1 or sw < 1 or ph < 0 or pw < 0 or kh < 1 or kw < 1:
        raise ValueError(
            f"need kernel >= 1, stride >= 1 and padding >= 0, got kernel ({kh}, {kw}), "
            f"stride ({sh}, {sw}), padding ({ph}, {pw})"
        )
    hp, wp = x_shape[2] + 2 * ph, x_shape[3] + 2 * pw
    if kh > hp or kw > wp:
        raise ValueError(
            f"kernel ({kh}, {kw}) is larger than the padded input ({hp}, {wp}): input of shape "
            f"{tuple(x_shape)} with padding ({ph}, {pw})"
        )
    return (hp - kh) // sh + 1, (wp - kw) // sw + 1


def _windows(kh, kw, sh, sw, ho, wo):
    """For each kernel offset (p, q): the strided slices of x_pad that offset sees, one per output
    position (rows p, p + s_h, ..., p + s_h (H_out - 1), and the same for columns)."""
    for p in range(kh):
        for q in range(kw):
            yield p, q, slice(p, p + sh * (ho - 1) + 1, sh), slice(q, q + sw * (wo - 1) + 1, sw)


def im2col(x, kh, kw, stride=1, padding=0, out=None):
    """The receptive fields of x (N, C, H, W) as the columns of a (C*kh*kw, H_out*W_out*N) matrix.

        cols[(c, p, q), (i, j, n)] = x_pad[n, c, i*s_h + p, j*s_w + q]

    Rows are ordered like ``W.reshape(O, -1)`` (channel, then kernel row, then kernel column), so
    ``W.reshape(O, -1) @ cols`` is the convolution as an (O, H_out, W_out, N) array.  Columns run
    over output positions with the example index n innermost: x is first laid out as (C, H, W, N)
    (padded), so a kernel offset's pixels for a whole row of outputs and every example are one
    contiguous block (W_out * N numbers at stride 1) to copy, where (N, C, H, W) order would give
    W_out numbers at a time (on LeNet's second layer im2col runs 1.8x and col2im 3x faster).

    Vectorised as one strided slice per kernel offset (p, q): the offset's pixel for every example,
    channel and output position at once, so the Python loop runs kh*kw times whatever the image
    size.  ``stride`` and ``padding`` are ints or (h, w) pairs; works on NumPy and CuPy arrays.
    ``out``, a C-contiguous array of the result's shape and dtype, is filled instead of a new one
    (a layer reuses its buffer: a fresh 100 MB array costs its page faults on every call).
    """
    xp = get_array_module(x)
    (sh, sw), (ph, pw) = _pair(stride, "stride"), _pair(padding, "padding")
    ho, wo = conv_output_shape(x.shape, kh, kw, (sh, sw), (ph, pw))
    n, c, h, w = x.shape
    x_chwn = x.transpose(1, 2, 3, 0)  # contiguous when x came from another Conv2d (see forward)
    if ph or pw:
        x_pad = xp.zeros((c, h + 2 * ph, w + 2 * pw, n), dtype=x.dtype)
        x_pad[:, ph : ph + h, pw : pw + w, :] = x_chwn
    else:
        x_pad = xp.ascontiguousarray(x_chwn)
    shape = (c * kh * kw, ho * wo * n)
    if out is None:
        out = xp.empty(shape, dtype=x.dtype)
    elif out.shape != shape or out.dtype != x.dtype or not out.flags.c_contiguous:
        raise ValueError(
            f"out must be a C-contiguous {x.dtype} array of shape {shape}, got "
            f"{out.dtype} {tuple(out.shape)}"
        )
    cols = out.reshape(c, kh, kw, ho, wo, n)  # a view: filling it fills out
    for p, q, rows, columns in _windows(kh, kw, sh, sw, ho, wo):
        cols[:, p, q] = x_pad[:, rows, columns, :]
    return out


def col2im(cols, x_shape, kh, kw, stride=1, padding=0):
    """The adjoint of :func:`im2col`: a (C*kh*kw, H_out*W_out*N) matrix back to shape ``x_shape``.

        dx_pad[n, c, i*s_h + p, j*s_w + q] += cols[(c, p, q), (i, j, n)]   for every p, q, i, j

    then the padding is cut off.  A pixel that sat in several receptive fields receives the sum
    of all its copies, so <im2col(x), cols> = <x, col2im(cols)> for any x and cols: this is the
    backward pass of im2col (not its inverse).  One strided slice per kernel offset, as im2col.
    The result is an (N, C, H, W) view of a (C, H, W, N) array, the order im2col wants.
    """
    xp = get_array_module(cols)
    (sh, sw), (ph, pw) = _pair(stride, "stride"), _pair(padding, "padding")
    ho, wo = conv_output_shape(x_shape, kh, kw, (sh, sw), (ph, pw))
    n, c, h, w = x_shape
    if cols.shape != (c * kh * kw, ho * wo * n):
        raise ValueError(
            f"cols of shape {tuple(cols.shape)} do not belong to an input of shape "
            f"{tuple(x_shape)} with a ({kh}, {kw}) kernel: expected {(c * kh * kw, ho * wo * n)}"
        )
    cols = cols.reshape(c, kh, kw, ho, wo, n)
    dx_pad = xp.zeros((c, h + 2 * ph, w + 2 * pw, n), dtype=cols.dtype)
    for p, q, rows, columns in _windows(kh, kw, sh, sw, ho, wo):
        dx_pad[:, rows, columns, :] += cols[:, p, q]
    return dx_pad[:, ph : ph + h, pw : pw + w, :].transpose(3, 0, 1, 2)


class Conv2d(Layer):
    """y = conv(x, W) + b,  x (N, C, H, W),  W (O, C, kh, kw),  b (O,),  y (N, O, H_out, W_out).

    With the module docstring's definition of the convolution and ``X = im2col(x)`` of shape
    (C*kh*kw, H_out*W_out*N), ``W_r = W.reshape(O, C*kh*kw)`` and ``dY`` the gradient of y laid
    out like Y, (O, H_out*W_out*N):

        forward:   Y = W_r X + b           (one matrix product; y is an (N, O, H_out, W_out)
                                            view of Y, so Y is never copied)
        backward:  db = sum over the columns of dY
                   dW = dY X^T             (one matrix product, reshaped to (O, C, kh, kw))
                   dx = col2im(W_r^T dY)   (the gradient of each column, added back onto pixels)

    Output size: ``H_out = (H + 2p - kh) // s + 1`` (and the same for the width).  ``kernel_size``,
    ``stride`` and ``padding`` are ints or (h, w) pairs.  ``input_grad=False`` skips dx
    (``backward`` returns None), as for the first layer of a network.  W is initialised like a
    Linear weight with fan_in = C*kh*kw (``init.fans``); b starts at 0.  Inputs must be floats:
    integer images are refused (convert them first, e.g. ``x.astype("float32") / 255``).

    Memory order: y and dx are (N, C, H, W) views of arrays laid out as (C, H, W, N), the order
    im2col copies from, so between two Conv2d layers (and element-wise layers such as ReLU, which
    keep the order) nothing is transposed; ``numpy.ascontiguousarray(y)`` gives a plain copy.

    Memory: X has kh*kw copies of every input pixel (AlexNet's second layer, batch 128: 0.9 GB in
    float32).  The layer keeps one such buffer and reuses it: forward fills it with X, backward
    overwrites it with W_r^T dY once dW is computed (so a second backward needs a new forward),
    and the next forward of the same shape fills it again.
    """

    param_names = ("W", "b")

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        *,
        weight_init="he",
        rng=None,
        dtype="float32",
        xp=np,
        input_grad=True,
    ):
        kh, kw = _pair(kernel_size, "kernel_size")
        self.stride, self.padding = _pair(stride, "stride"), _pair(padding, "padding")
        if min(kh, kw, in_channels, out_channels, *self.stride) < 1 or min(self.padding) < 0:
            raise ValueError(
                f"Conv2d needs channels, kernel_size and stride >= 1 and padding >= 0, got "
                f"({in_channels}, {out_channels}, kernel_size={(kh, kw)}, stride={self.stride}, "
                f"padding={self.padding})"
            )
        self.W = init.make(weight_init, (out_channels, in_channels, kh, kw), rng, xp, dtype)
        self.b = xp.zeros(out_channels, dtype=dtype)
        self.dW, self.db = xp.zeros_like(self.W), xp.zeros_like(self.b)
        self.input_grad = input_grad

    def __repr__(self):
        o, c, kh, kw = self.W.shape
        return (
            f"Conv2d({c}, {o}, kernel_size={(kh, kw)}, stride={self.stride}, "
            f"padding={self.padding})"
        )

    def forward(self, x):
        o, c, kh, kw = self.W.shape
        if x.ndim != 4 or x.shape[1] != c:
            raise ValueError(
                f"{self!r} got an input of shape {tuple(x.shape)}: it needs (N, {c}, H, W), "
                f"a batch of images with {c} channel{'s' if c > 1 else ''}"
            )
        if x.dtype.kind != "f":
            raise TypeError(
                f"{self!r} got {x.dtype} input: it needs floats, convert the images first, "
                f"e.g. x.astype({str(self.W.dtype)!r}) / 255 for 0..255 pixels"
            )
        try:
            ho, wo = conv_output_shape(x.shape, kh, kw, self.stride, self.padding)
        except ValueError as err:
            raise ValueError(f"{self!r}: {err}") from None
        self.x_shape = x.shape
        work, shape = getattr(self, "_work", None), (c * kh * kw, x.shape[0] * ho * wo)
        if work is not None and (
            work.shape != shape or work.dtype != x.dtype or type(work) is not type(x)
        ):
            work = None  # another batch size, dtype or device: a new buffer
        self.cols = self._work = im2col(x, kh, kw, self.stride, self.padding, out=work)
        y = self.W.reshape(o, -1) @ self.cols  # (O, H_out*W_out*N)
        y += self.b[:, None]
        return y.reshape(o, ho, wo, x.shape[0]).transpose(3, 0, 1, 2)

    def backward(self, dout):
        if getattr(self, "cols", None) is None:
            raise RuntimeError(
                f"{self!r}: backward needs a forward before it (each backward uses up the "
                "columns its forward made)"
            )
        xp = get_array_module(dout)
        o, c, kh, kw = self.W.shape
        dy = xp.ascontiguousarray(dout.transpose(1, 2, 3, 0)).reshape(o, -1)  # laid out like Y
        self.db[...] = dy.sum(axis=1)
        self.dW[...] = (dy @ self.cols.T).reshape(self.W.shape)
        if not self.input_grad:
            return None
        dcols = xp.matmul(self.W.reshape(o, -1).T, dy, out=self.cols)  # X is no longer needed
        self.cols = None
        return col2im(dcols, self.x_shape, kh, kw, self.stride, self.padding)


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1*d2*...), the bridge from convolutions to Linear layers;
    backward reshapes the gradient back to the input's shape.  No parameters."""

    def forward(self, x):
        self.x_shape = x.shape
        return x.reshape(x.shape[0], math.prod(x.shape[1:]))

    def backward(self, dout):
        return dout.reshape(self.x_shape)


def conv2d_naive(x, W, b, stride=1, padding=0):
    """The convolution as the textbook writes it: a loop over output positions (i, j), each a
    weighted sum of one receptive field, for every example and filter at once.

        y[:, o, i, j] = b[o] + sum_{c, p, q} W[o, c, p, q] * x_pad[:, c, i*s_h + p, j*s_w + q]

    Slow (H_out * W_out Python iterations) and only a reference: the tests check :class:`Conv2d`
    against it, and the lesson shows it before im2col.
    """
    xp = get_array_module(x)
    o, c, kh, kw = W.shape
    (sh, sw), (ph, pw) = _pair(stride, "stride"), _pair(padding, "padding")
    ho, wo = conv_output_shape(x.shape, kh, kw, (sh, sw), (ph, pw))
    x_pad = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    y = xp.empty((x.shape[0], o, ho, wo), dtype=xp.result_type(x, W))
    for i in range(ho):
        for j in range(wo):
            field = x_pad[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw]  # (N, C, kh, kw)
            y[:, :, i, j] = xp.tensordot(field, W, axes=([1, 2, 3], [1, 2, 3])) + b
    return y
