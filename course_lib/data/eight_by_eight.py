"""MNIST digits seen as scikit-learn's 8x8 digits see theirs.

scikit-learn's 8x8 digits (the UCI "optical recognition of handwritten digits" set) were made
from 32x32 normalised bitmaps of handwritten digits: each bitmap is cut into 4x4 blocks and the
*on* pixels of each block are counted, an integer 0..16.  :func:`as_8x8_digits` runs the same
steps on MNIST-like images, so a network trained on MNIST sees its digits the way the 8x8 set
was collected:

    box   = the rows and columns whose largest pixel exceeds ``threshold``, padded to a square
            around the digit (the aspect ratio is kept: the description does not say how NIST
            normalised the size, and stretching each side to fill the box validated worse)
    bits  = bilinear resize of box to 32x32, then pixel > threshold
    x8[i, j] = sum of bits[4i:4i+4, 4j:4j+4] / 16        (in [0, 1], as load_digits gives)

Frame the result like MNIST with :func:`course_lib.data.to_mnist_frame` to feed a LeNet-5.
"""

from __future__ import annotations

import numpy as np

from course_lib.backend import asnumpy


def square_box(image: np.ndarray, threshold: float) -> np.ndarray | None:
    """The digit's bounding box (pixels > ``threshold``), zero-padded to a centred square;
    None for an image with no such pixel."""
    rows = np.flatnonzero(image.max(axis=1) > threshold)
    cols = np.flatnonzero(image.max(axis=0) > threshold)
    if not len(rows):
        return None
    box = image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = box.shape
    s = max(h, w)
    return np.pad(box, (((s - h) // 2, (s - h + 1) // 2), ((s - w) // 2, (s - w + 1) // 2)))


def as_8x8_digits(images, threshold: float = 0.5) -> np.ndarray:
    """(N, 784), (N, 28, 28) or (N, 1, 28, 28) images in [0, 1] -> float32 (N, 64) in [0, 1]:
    4x4 block counts of 32x32 bitmaps, as the module says.  A blank image gives zeros."""
    from scipy import ndimage

    x = np.asarray(asnumpy(images), dtype=np.float32)
    if x.size % 784 or not len(x):
        raise ValueError(f"images of shape {x.shape}: give (N, 784), (N, 28, 28) or (N, 1, 28, 28)")
    x = x.reshape(-1, 28, 28)
    out = np.zeros((len(x), 8, 8), np.float32)
    for i, image in enumerate(x):
        box = square_box(image, threshold)
        if box is None:
            continue
        k = 32 / box.shape[0]
        big = ndimage.zoom(box, k, order=1, grid_mode=True, mode="nearest")
        bits = big[:32, :32] > threshold
        out[i] = bits.reshape(8, 4, 8, 4).sum(axis=(1, 3)) / 16
    return out.reshape(len(x), 64)
