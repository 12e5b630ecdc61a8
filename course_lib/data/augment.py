"""Random affine distortions of images, drawn afresh each time: more training images for free.

LeCun, Bottou, Bengio & Haffner (1998) enlarged MNIST's training set with distorted copies of its
digits, "random combinations of the following planar affine transformations: horizontal and
vertical translations, scaling, squeezing (simultaneous horizontal compression and vertical
elongation, or the reverse), and horizontal shearing".  :func:`random_affine` draws one such
combination per image and applies it about the image's centre (row, column coordinates; ``c`` the
centre, ``t`` the shift):

    F = [[1, 0], [k, 1]] @ diag(s / q, s * q)      shear k, scale s, squeeze q
    out(p) = image(F^-1 (p - c - t) + c)            bilinear interpolation, 0 outside the image

so the digit is scaled by s, its width multiplied by q and its height divided by it, each row
shifted sideways in proportion to its height (k), and the whole moved by t pixels.  The ranges are
uniform: s in [1 - scale, 1 + scale], q in [1 / (1 + squeeze), 1 + squeeze] (log-uniform), k in
[-shear, shear], each component of t in [-shift, shift].  Drawing new distortions every epoch
(on the fly) shows the network a different image each time, where the paper stored ten fixed
copies per digit.

Runs on the host (SciPy's ``ndimage.affine_transform``, a few seconds per 60,000 MNIST images);
move the result to a GPU with ``xp.asarray``.
"""

from __future__ import annotations

import numpy as np

from course_lib.backend import asnumpy


def affine_matrices(n, rng, *, shift=2.0, scale=0.1, squeeze=0.1, shear=0.2):
    """``n`` random forward maps: matrices F (n, 2, 2) and shifts t (n, 2), as the module says."""
    for name, value in (("shift", shift), ("scale", scale), ("squeeze", squeeze), ("shear", shear)):
        if not 0 <= value or (name == "scale" and value >= 1):
            raise ValueError(f"{name} must be >= 0 (scale below 1), got {value!r}")
    rng = np.random.default_rng(rng)
    s = rng.uniform(1 - scale, 1 + scale, n)
    q = np.exp(rng.uniform(-np.log1p(squeeze), np.log1p(squeeze), n))
    k = rng.uniform(-shear, shear, n)
    t = rng.uniform(-shift, shift, (n, 2))
    F = np.zeros((n, 2, 2))
    F[:, 0, 0] = s / q  # row (height) scale
    F[:, 1, 1] = s * q  # column (width) scale
    F[:, 1, 0] = k * s / q  # shear: the column moves by k times the (scaled) row
    return F, t


def random_affine(images, rng=None, *, shift=2.0, scale=0.1, squeeze=0.1, shear=0.2, order=1):
    """Every image distorted by its own random affine map (see the module docstring).

    ``images``: (N, H, W) or (N, C, H, W) (the channels of one image share its map), NumPy or
    CuPy (copied to the host).  ``rng``: a seed or a ``numpy.random.Generator``, which draws the
    maps.  ``order``: the spline order of the interpolation (1: bilinear).  Returns a new float
    array of the input's shape and dtype on the host; all ranges 0 returns a copy of the input.
    """
    from scipy import ndimage

    x = asnumpy(images)
    if x.ndim not in (3, 4):
        raise ValueError(f"expected images of shape (N, H, W) or (N, C, H, W), got {x.shape}")
    out = np.empty_like(x, dtype=x.dtype if x.dtype.kind == "f" else np.float32)
    F, t = affine_matrices(len(x), rng, shift=shift, scale=scale, squeeze=squeeze, shear=shear)
    centre = (np.array(x.shape[-2:]) - 1) / 2
    for i in range(len(x)):
        inverse = np.linalg.inv(F[i])
        offset = centre - inverse @ (centre + t[i])  # input = inverse @ output + offset
        for c, plane in enumerate(x[i] if x.ndim == 4 else [x[i]]):
            target = out[i, c] if x.ndim == 4 else out[i]
            ndimage.affine_transform(plane, inverse, offset=offset, order=order, output=target)
    return out
