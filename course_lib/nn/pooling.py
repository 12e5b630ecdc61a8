"""Max and average pooling over (N, C, H, W) images, overlapping windows included.

A window of kh x kw pixels slides over each channel with stride (sh, sw) after padding the image
with p_h rows and p_w columns on each side; the output has

    Ho = (H + 2 p_h - kh) // sh + 1,   Wo = (W + 2 p_w - kw) // sw + 1

pixels, output pixel (i, j) summarising the window whose top-left corner is padded pixel
(i sh, j sw).  Nothing loops over pixels or examples: the loop runs over the kh*kw positions
(di, dj) *inside* a window, and position (di, dj) of every window at once is one strided slice of
the padded image,

    x_pad[:, :, di : di + sh (Ho - 1) + 1 : sh,  dj : dj + sw (Wo - 1) + 1 : sw]   (N, C, Ho, Wo).

Backward adds each slice's gradient back into the same strided slice.  The slices are taken of
the image laid out as (C, H, W, N), the order in which :class:`~course_lib.nn.conv.Conv2d` leaves
its output, so the example index runs fastest in memory: then each slice reads runs of N
neighbouring numbers instead of single ones (about 3x faster after a convolution), and the output
and dx are (N, C, H, W) views of (C, H, W, N) arrays, as Conv2d's are.  Within one slice every
input pixel appears at most once; across slices a pixel appears once per window containing it,
so when windows overlap (stride < kernel, AlexNet's 3x3 stride 2) its gradients add up.
"""

from __future__ import annotations

from course_lib.backend import get_array_module
from course_lib.nn.layer import Layer


def _pair(value, name, minimum):
    """``value`` as a pair of ints (h, w): an int means the same for both."""
    pair = (value, value) if isinstance(value, int) else value
    if not (
        isinstance(pair, (tuple, list))
        and len(pair) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= minimum for v in pair)
    ):
        raise ValueError(f"{name} must be an int >= {minimum} or a pair of them, got {value!r}")
    return tuple(pair)


class _Pool2d(Layer):
    """What max and average pooling share: the arguments, the shapes, the window slices."""

    def __init__(self, kernel_size, stride=None, padding=0):
        self.kernel_size = _pair(kernel_size, "kernel_size", 1)
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride", 1)
        self.padding = _pair(padding, "padding", 0)
        (kh, kw), (ph, pw) = self.kernel_size, self.padding
        if 2 * ph > kh or 2 * pw > kw:  # torch refuses it too: a window could be all padding
            raise ValueError(
                f"padding {self.padding} must be at most half the kernel size {self.kernel_size}"
            )

    def __repr__(self):
        return (
            f"{type(self).__name__}(kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding})"
        )

    def _padded(self, x, fill):
        """x padded with ``fill``, and the output size (Ho, Wo); checks the input's shape."""
        if x.ndim != 4:
            raise ValueError(
                f"{self!r} expects images of shape (N, C, H, W), got an input of shape "
                f"{tuple(x.shape)}"
            )
        xp = get_array_module(x)
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        n, c, h, w = x.shape
        hp, wp = h + 2 * ph, w + 2 * pw
        if hp < kh or wp < kw:
            raise ValueError(
                f"{self!r} got images of {h}x{w} pixels ({hp}x{wp} padded): smaller than the "
                f"{kh}x{kw} window"
            )
        x = x.transpose(1, 2, 3, 0)  # (C, H, W, N): Conv2d's memory order, so no copy
        if ph or pw:
            padded = xp.full((c, hp, wp, n), fill, dtype=x.dtype)
            padded[:, ph : ph + h, pw : pw + w] = x
            x = padded
        self.x_shape, self.padded_shape = (n, c, h, w), (c, hp, wp, n)
        self.out_hw = ((hp - kh) // sh + 1, (wp - kw) // sw + 1)
        return x

    def _windows(self):
        """For each position (di, dj) inside a window, in row-major order: the slices that pick
        that position of every window out of the padded image, laid out as (C, H, W, N)."""
        (kh, kw), (sh, sw), (ho, wo) = self.kernel_size, self.stride, self.out_hw
        for di in range(kh):
            for dj in range(kw):
                yield (
                    slice(None),
                    slice(di, di + sh * (ho - 1) + 1, sh),
                    slice(dj, dj + sw * (wo - 1) + 1, sw),
                    slice(None),
                )

    def _unpad(self, dx_padded):
        """The (C, H, W, N) gradient of the padded image -> dx, an (N, C, H, W) view."""
        (ph, pw), (h, w) = self.padding, self.x_shape[2:]
        return dx_padded[:, ph : ph + h, pw : pw + w].transpose(3, 0, 1, 2)


class MaxPool2d(_Pool2d):
    """y[n, c, i, j] = max of x_pad[n, c, i sh + di, j sw + dj] over 0 <= di < kh, 0 <= dj < kw.

    Padding adds -inf (as torch does), so it never wins a window.  Backward: the output's gradient
    goes to the input pixel that was the maximum (the arg-max), the other pixels of the window
    get 0,

        dx[n, c, i sh + di*, j sw + dj*] += dout[n, c, i, j],

    added up over every window a pixel wins.  A tie goes to the first maximum in row-major order
    (as torch), and a NaN wins its window, so it propagates as in torch.
    ``kernel_size``, ``stride`` (default: the kernel size) and ``padding`` are ints or pairs (h, w).
    """

    def forward(self, x):
        xp = get_array_module(x)
        x = self._padded(x, -xp.inf)
        windows = self._windows()
        first = next(windows)
        out = x[first].copy()
        small = self.kernel_size[0] * self.kernel_size[1] <= 256  # window positions fit a byte
        self.argmax = xp.zeros(out.shape, dtype=xp.uint8 if small else xp.int32)
        for k, window in enumerate(windows, start=1):
            candidate = x[window]
            better = (candidate > out) | xp.isnan(candidate)  # strict: the first maximum wins
            out = xp.where(better, candidate, out)
            xp.copyto(self.argmax, k, where=better)
        return out.transpose(3, 0, 1, 2)

    def backward(self, dout):
        xp = get_array_module(dout)
        dout = dout.transpose(1, 2, 3, 0)
        dx = xp.zeros(self.padded_shape, dtype=dout.dtype)
        zero = xp.zeros((), dtype=dout.dtype)
        for k, window in enumerate(self._windows()):
            dx[window] += xp.where(self.argmax == k, dout, zero)
        return self._unpad(dx)


class AvgPool2d(_Pool2d):
    """y[n, c, i, j] = 1/(kh kw) * sum of x_pad[n, c, i sh + di, j sw + dj] over the window.

    Padding adds zeros, and they count in the divisor kh kw (torch's default,
    ``count_include_pad=True``).  Backward: every pixel of a window gets dout / (kh kw),

        dx[n, c, i sh + di, j sw + dj] += dout[n, c, i, j] / (kh kw),

    added up over the windows that contain it.
    ``kernel_size``, ``stride`` (default: the kernel size) and ``padding`` are ints or pairs (h, w).
    """

    def forward(self, x):
        x = self._padded(x, 0)
        windows = self._windows()
        out = x[next(windows)].copy()
        for window in windows:
            out += x[window]
        return (out * (1.0 / (self.kernel_size[0] * self.kernel_size[1]))).transpose(3, 0, 1, 2)

    def backward(self, dout):
        xp = get_array_module(dout)
        dout = dout.transpose(1, 2, 3, 0)
        dx = xp.zeros(self.padded_shape, dtype=dout.dtype)
        share = dout * (1.0 / (self.kernel_size[0] * self.kernel_size[1]))
        for window in self._windows():
            dx[window] += share
        return self._unpad(dx)
