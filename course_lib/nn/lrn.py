"""Local response normalisation across channels (Krizhevsky, Sutskever & Hinton 2012, sec. 3.3)."""

from __future__ import annotations

from course_lib.backend import get_array_module
from course_lib.nn.layer import Layer


def window_sum(s, half):
    """S[:, c] = sum of s[:, c'] over the channels c - half <= c' <= c + half that exist.

    One shifted slice per offset: no loop over examples or pixels, and no cumulative sum (whose
    differences would lose precision).  The window is symmetric, so S is its own transpose:
    sum_c u_c S[v]_c = sum_c S[u]_c v_c, which the backward pass relies on.
    """
    out = s.copy()
    channels = s.shape[1]
    for o in range(1, min(half, channels - 1) + 1):
        out[:, : channels - o] += s[:, o:]  # the channel o above
        out[:, o:] += s[:, : channels - o]  # the channel o below
    return out


class LocalResponseNorm(Layer):
    """AlexNet's brightness normalisation across neighbouring channels, on (N, C, ...) inputs:

        b_c = a_c / d_c^beta,    d_c = k + alpha * sum_{c' = max(0, c - n//2)}^{min(C-1, c + n//2)}
                                                         a_{c'}^2

    with the window of n = ``size`` channels centred on c, clipped at the first and last channel
    (the paper's formula; its defaults k = 2, n = 5, alpha = 1e-4, beta = 0.75).  ``size`` must be
    odd, so that the window is centred; there are no parameters, and train/eval are the same.

    Backward.  Let g = dL/db.  b_c depends on a_j through its numerator (j = c) and through d_c
    whenever j is in the window of c, where d d_c / d a_j = 2 alpha a_j; so

        dL/da_j = g_j d_j^-beta  -  2 alpha beta a_j  sum_{c : j in window(c)} g_c a_c d_c^(-beta-1)
                = g_j d_j^-beta  -  2 alpha beta a_j  sum_{c in window(j)} g_c b_c / d_c,

    the second line because a centred window is symmetric (j is in window(c) exactly when c is in
    window(j)): the backward pass reuses the forward's window sum, applied to g b / d.

    Torch: ``F.local_response_norm(x, size, alpha_t, beta, k)`` computes
    d_c = k + alpha_t / size * sum(...) (it averages over the window; at the edges the missing
    channels count as zeros in the average), so it equals this layer with alpha_t = alpha * size.
    For an even size torch takes the asymmetric window [c - size//2, c + (size-1)//2], which this
    layer refuses rather than silently disagree with either the paper or torch.
    """

    def __init__(self, size=5, alpha=1e-4, beta=0.75, k=2.0):
        if not isinstance(size, int) or size < 1 or size % 2 == 0:
            raise ValueError(
                f"size must be an odd positive int (a window of channels centred on each "
                f"channel), got {size!r}"
            )
        self.size, self.alpha, self.beta, self.k = size, float(alpha), float(beta), float(k)

    def __repr__(self):
        return (
            f"LocalResponseNorm(size={self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k})"
        )

    def forward(self, x):
        if x.ndim < 2:
            raise ValueError(
                f"{self!r} normalises across the channel axis 1 of an (N, C, ...) input, got an "
                f"input of shape {tuple(x.shape)}"
            )
        xp = get_array_module(x)
        self.x = x
        self.d = self.k + self.alpha * window_sum(x * x, self.size // 2)
        self.scale = xp.power(self.d, -self.beta)  # d^-beta
        self.y = x * self.scale
        return self.y

    def backward(self, dout):
        through_d = window_sum(dout * self.y / self.d, self.size // 2)
        return dout * self.scale - (2.0 * self.alpha * self.beta) * self.x * through_d
