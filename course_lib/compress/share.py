"""Weight sharing by k-means (Han, Mao & Dally 2016, section 3).

Each layer's surviving weights are replaced by the nearest of k = 2^bits shared values, the
centroids, so a weight is stored as a ``bits``-bit cluster index plus one small codebook:

    shared = share.SharedWeights(W, dW, mask, bits=5)   # W <- centroids[index] * mask, in place
    opt = share.CentroidOptimizer([shared, ...], optim.SGD, lr=1e-3)
    train.fit(model, loss, opt, x, y)                   # fine-tunes the k centroids per layer

Clustering is 1-D k-means (Lloyd's iterations) over the weights the mask keeps, started from k
values evenly spaced between the smallest and the largest weight -- the paper's *linear*
initialisation, which keeps the few large weights (those that matter most) near a centroid of
their own.  Fine-tuning uses the gradients grouped by cluster:

    dL/dc_k = sum of dL/dW_ij over the weights (i, j) in cluster k
"""

from __future__ import annotations

from course_lib.backend import get_array_module


def linear_init(values, k: int):
    """k centroids evenly spaced over [min(values), max(values)]."""
    xp = get_array_module(values)
    return xp.linspace(values.min(), values.max(), k).astype(values.dtype)


def assign(values, centroids):
    """Index of the nearest centroid for each value (``centroids`` sorted ascending)."""
    xp = get_array_module(values)
    return xp.searchsorted((centroids[1:] + centroids[:-1]) / 2, values)


def kmeans_1d(values, centroids, iterations: int = 100):
    """Lloyd's k-means in one dimension from ``centroids``; returns (centroids, index).

    Each iteration assigns every value to its nearest centroid and moves each centroid to the
    mean of its values (a centroid that loses all its values stays put)."""
    xp = get_array_module(values)
    k, centroids = len(centroids), xp.sort(centroids)
    index = assign(values, centroids)
    for _ in range(iterations):
        sums = xp.bincount(index, weights=values, minlength=k)
        counts = xp.bincount(index, minlength=k)
        means = sums / xp.maximum(counts, 1)
        centroids = xp.where(counts > 0, means, centroids).astype(values.dtype)
        centroids = xp.sort(centroids)
        new_index = assign(values, centroids)
        if bool((new_index == index).all()):
            break
        index = new_index
    return centroids, index


class SharedWeights:
    """One layer's weight as ``centroids[index] * mask``; ``weight`` is updated in place."""

    def __init__(self, weight, grad, mask, bits: int, iterations: int = 100):
        if not 1 <= bits <= 16:
            raise ValueError(f"bits must be between 1 and 16, got {bits}")
        if weight.shape != grad.shape or weight.shape != mask.shape:
            raise ValueError(
                f"weight {weight.shape}, grad {grad.shape} and mask {mask.shape} must have "
                "one shape"
            )
        xp = get_array_module(weight)
        self.weight, self.grad, self.bits = weight, grad, bits
        self.keep = mask.astype(bool)
        if not bool(self.keep.any()):
            raise ValueError("the mask keeps no weight: there is nothing to cluster")
        values = weight[self.keep]
        k = min(2**bits, int(values.size))
        self.centroids, assignment = kmeans_1d(values, linear_init(values, k), iterations)
        self.index = xp.zeros(weight.shape, dtype=xp.int64)
        self.index[self.keep] = assignment
        self.dcentroids = xp.zeros_like(self.centroids)
        self.scatter()

    @property
    def k(self) -> int:
        return len(self.centroids)

    def gather(self):
        """dL/dc_k: the weight gradients summed over each cluster."""
        xp = get_array_module(self.grad)
        grouped = xp.bincount(self.index[self.keep], weights=self.grad[self.keep], minlength=self.k)
        self.dcentroids[...] = grouped
        return self.dcentroids

    def scatter(self):
        """Write the shared values back: W <- centroids[index] on kept weights, 0 elsewhere."""
        self.weight[...] = self.centroids[self.index] * self.keep


def share_weights(weights: dict, grads: dict, masks: dict, bits) -> dict:
    """Name -> SharedWeights for each weight; ``bits`` is one number or a dict name -> bits."""
    bits = bits if isinstance(bits, dict) else dict.fromkeys(weights, bits)
    return {n: SharedWeights(w, grads[n], masks[n], bits[n]) for n, w in weights.items()}


class CentroidOptimizer:
    """Fine-tunes the centroids of ``shared`` layers with ``optimizer_class`` (SGD, Adam, ...)
    on the grouped gradients; other parameters (biases) are left as they are."""

    def __init__(self, shared: list, optimizer_class, **kwargs):
        self.shared = list(shared)
        centroids = [s.centroids for s in self.shared]
        self.optimizer = optimizer_class(centroids, [s.dcentroids for s in self.shared], **kwargs)

    @property
    def lr(self):
        return self.optimizer.lr

    @lr.setter
    def lr(self, value):
        self.optimizer.lr = value

    def step(self):
        for s in self.shared:
            s.gather()
        self.optimizer.step()
        for s in self.shared:
            s.scatter()
