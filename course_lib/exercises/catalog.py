"""The exercises: for each, the inputs it is checked on and what a wrong answer usually means.

An exercise's ``cases(rng)`` returns a list of argument tuples, the first ones small and awkward
(a batch of one, odd sizes); the learner's function and the reference get fresh copies of each.
``hint`` is printed when the values are wrong; ``gradient`` (optional) is the forward function
whose numeric gradient (central differences) a backward exercise's answer must equal, so the
message can say whether a wrong answer is wrong calculus or a wrong reference to the inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Exercise:
    id: str  # "LL.name": the lesson number, then the function's name in the solutions
    title: str
    cases: Callable  # rng -> list of argument tuples
    hint: str = ""
    rtol: float = 1e-6
    gradient: Callable | None = field(default=None)  # forward(*args[:-1]) for dout = args[-1]
    any_number_type: bool = False  # accept ints, bools or floats alike (compared as float64)

    @property
    def lesson(self) -> str:
        return self.id.split(".")[0]

    @property
    def name(self) -> str:
        return self.id.split(".", 1)[1]


def _normal(rng, *shape):
    return rng.standard_normal(shape)


def _sigmoid_cases(rng):
    return [(_normal(rng, *s), _normal(rng, *s)) for s in [(1,), (3, 5), (2, 3, 4)]]


def _linear_cases(rng):
    out = []
    for n, d, m in [(1, 3, 2), (5, 4, 3), (7, 1, 6)]:
        out.append((_normal(rng, n, d), _normal(rng, d, m), _normal(rng, n, m)))
    return out


def _perceptron_cases(rng):
    out = []
    for d in (2, 3, 5):
        w, x = _normal(rng, d), _normal(rng, d)
        b = float(rng.standard_normal())
        for y in (1, -1):  # one case that is a mistake, one that may not be
            out.append((w, b, x, y, 0.5))
    return out


def _conv_cases(rng):
    shapes = [((1, 1, 5, 5), (2, 1, 3, 3), 0), ((2, 3, 6, 7), (4, 3, 3, 2), 1),
              ((3, 2, 4, 4), (1, 2, 1, 1), 0)]  # fmt: skip
    return [(_normal(rng, *xs), _normal(rng, *ws), _normal(rng, ws[0]), p) for xs, ws, p in shapes]


def _relu_cases(rng):
    return [(_normal(rng, *s), _normal(rng, *s)) for s in [(1,), (4, 3), (2, 3, 2, 2)]]


def _lrn_cases(rng):
    return [(30 * _normal(rng, *s),) for s in [(1, 1, 2, 2), (2, 7, 3, 3), (1, 3, 1, 4)]]


def _maxpool_cases(rng):
    return [(_normal(rng, *s),) for s in [(1, 1, 3, 3), (2, 3, 7, 7), (1, 2, 5, 8)]]


def _bound_cases(rng):
    out = []
    for n, d in [(4, 2), (20, 3), (7, 5)]:
        w = _normal(rng, d)
        X = _normal(rng, n, d)
        y = np.where(X @ w > 0, 1.0, -1.0)
        out.append((X, y, w))
    return out


def _cd_cases(rng):
    out = []
    for n, v, h in [(1, 3, 2), (6, 5, 4), (3, 1, 6)]:
        out.append(tuple(rng.random((n, k)) for k in (v, h, v, h)))
    return out


def _nearest_cases(rng):
    return [
        (_normal(rng, n, d), i, k) for n, d, i, k in [(3, 2, 0, 1), (20, 5, 7, 4), (9, 3, 8, 8)]
    ]


def _keep_cases(rng):
    freqs = [np.array([0.5]), rng.random(10) * 0.01, np.array([1e-6, 1e-3, 2e-3, 0.1])]
    return [(f, t) for f, t in zip(freqs, (1e-3, 1e-4, 1e-3))]


def _lstm_cases(rng):
    out = []
    for n, d, h in [(1, 1, 1), (3, 4, 5), (2, 3, 2)]:
        x, hh, c = _normal(rng, n, d), _normal(rng, n, h), _normal(rng, n, h)
        out.append((x, hh, c, _normal(rng, d, 4 * h), _normal(rng, h, 4 * h), _normal(rng, 4 * h)))
    return out


def _probability_cases(rng):
    return [(np.array([0.01]),), (rng.random(10) * 0.9 + 0.05,), (rng.random((3, 4)) * 0.5 + 0.01,)]


def _clip_cases(rng):
    return [
        ([_normal(rng, 3)], 0.5),
        ([_normal(rng, 2, 3), _normal(rng, 4)], 100.0),
        ([10 * _normal(rng, 5, 5), _normal(rng, 1), 0.1 * _normal(rng, 2, 2)], 1.0),
    ]


def _attention_cases(rng):
    return [
        (_normal(rng, n, s, h), _normal(rng, n, t, h))
        for n, s, t, h in [(1, 1, 1, 1), (2, 5, 3, 4), (3, 2, 6, 3)]
    ]


def _additive_cases(rng):
    out = []
    for n, s, t, h, a in [(1, 1, 1, 1, 1), (2, 5, 3, 4, 3), (3, 2, 6, 3, 5)]:
        out.append(
            (
                _normal(rng, n, s, h),
                _normal(rng, n, t, h),
                _normal(rng, h, a),
                _normal(rng, h, a),
                _normal(rng, a),
            )
        )
    return out


def _intensity_cases(rng):
    return [(1, 1, 1, 4), (1000, 1, 1000, 8), (64, 128, 256, 2), (7, 5, 3, 4)]


def _roofline_cases(rng):
    flops, nbytes = 10 ** rng.uniform(3, 12, 6), 10 ** rng.uniform(3, 10, 6)
    return [(flops[:1], nbytes[:1], 1e9, 1e8), (flops, nbytes, 5e10, 2e10)]


def _strom_cases(rng):
    return [(0.1 * _normal(rng, *shape), 0.1 * _normal(rng, *shape), tau)
            for shape, tau in [((1,), 0.01), ((4, 5), 0.1), ((50,), 0.2)]]  # fmt: skip


def _averaging_cases(rng):
    return [([_normal(rng, 3)],), ([_normal(rng, 2, 3) for _ in range(2)],),
            ([_normal(rng, 7) for _ in range(4)],)]  # fmt: skip


def _field_cases(rng):
    return [
        ([3], [1]),
        ([3, 3], [1, 1]),
        ([11, 3, 5, 3], [4, 2, 1, 2]),
        ([7, 3, 3, 3], [2, 2, 1, 1]),
    ]


def _residual_cases(rng):
    out = []
    for n, d in [(1, 1), (3, 4), (5, 2)]:
        out.append((_normal(rng, n, d), _normal(rng, d, d), _normal(rng, d),
                    _normal(rng, d, d), _normal(rng, d)))  # fmt: skip
    return out


def _per_class_cases(rng):
    return [(np.array([0]), 1), (rng.integers(0, 3, 20), 2), (rng.integers(0, 5, 60), 4)]


def _nearest_mean_cases(rng):
    out = []
    for n, d, m, k in [(2, 1, 1, 2), (12, 3, 5, 3), (30, 4, 9, 4)]:
        labels = np.concatenate([np.arange(k), rng.integers(0, k, n - k)])
        out.append((_normal(rng, n, d) + labels[:, None], labels, _normal(rng, m, d)))
    return out


def _standardize_cases(rng):
    x = _normal(rng, 6, 4)
    x[:, 2] = 3.0  # a constant feature
    return [(_normal(rng, 2, 1),), (x,), (_normal(rng, 30, 7),)]


def _lime_cases(rng):
    return [(np.array([0.0]), 0.25), (rng.random(10), 0.25), (rng.random(50), 0.5)]


def _rank_cases(rng):
    return [(_normal(rng, 1, 1), 1), (_normal(rng, 5, 3), 1), (rng.random((9, 7)), 2),
            (rng.random((6, 11)), 4)]  # fmt: skip


def _neighbour_cases(rng):
    out = [(np.array([[0.0, 0.0], [1.0, 0.0]]), np.array([0, 1]))]
    for n, k in [(5, 2), (40, 3)]:
        labels = rng.integers(0, k, n)
        out.append((_normal(rng, n, 2) + labels[:, None], labels))
    return out


def _prune_cases(rng):
    return [(_normal(rng, *shape), keep) for shape, keep in
            [((1, 1), 0.5), ((3, 5), 0.4), ((7,), 1.0), ((4, 4, 3), 0.1)]]  # fmt: skip


def _grouped_cases(rng):
    out = []
    for shape, k in [((1, 1), 1), ((3, 5), 4), ((6, 2, 3), 8)]:
        index, keep = rng.integers(0, k, shape), rng.random(shape) < 0.6
        out.append((_normal(rng, *shape), index, keep, k))
    return out


def _flops_cases(rng):
    return [((1, 1), (1, 1)), ((3, 4), (4, 5)), ((2000, 784), (784, 500))]


def _tied_grad_cases(rng):
    out = []
    for n, d, h in [(1, 3, 2), (5, 4, 6), (2, 7, 1)]:
        out.append((_normal(rng, n, d), _normal(rng, n, h), _normal(rng, n, h), _normal(rng, n, d)))
    return out


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _xor_cases(rng):
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    return [(corners,), (corners[rng.permutation(4)],), (corners[rng.integers(0, 4, 9)],)]


def _momentum_cases(rng):
    return [(_normal(rng, *s), _normal(rng, *s), _normal(rng, *s), 0.1, 0.9)
            for s in [(1,), (3, 4), (2, 2, 3)]]  # fmt: skip


def _dropout_cases(rng):
    out = []
    for shape, p in [((1, 3), 0.5), ((4, 5), 0.2), ((2, 3, 4), 0.8)]:
        out.append((_normal(rng, *shape), (rng.random(shape) >= p).astype(float), p))
    return out


def _free_energy_cases(rng):
    out = []
    for n, v, h in [(1, 3, 2), (5, 6, 4), (2, 1, 7)]:
        data = (rng.random((n, v)) < 0.5).astype(float)
        out.append((data, 0.5 * _normal(rng, v, h), _normal(rng, v), _normal(rng, h)))
    return out


def _autoencoder_cases(rng):
    out = []
    for n, d, h in [(1, 4, 2), (6, 5, 3), (3, 2, 5)]:
        out.append((rng.random((n, d)), 0.5 * _normal(rng, d, h), _normal(rng, h), _normal(rng, d)))
    return out


EXERCISES = {
    e.id: e
    for e in [
        Exercise(
            "00.xor_by_hand",
            "XOR from threshold units: a hidden layer of two, then one output unit",
            _xor_cases,
            hint="one hidden unit for OR, one for AND (or NAND); the output fires for OR and not "
            "AND. A threshold unit is (x @ w + b > 0), applied to every row of the batch at once",
            any_number_type=True,
        ),
        Exercise(
            "00.matmul_flops",
            "Floating-point operations of a matrix product A @ B, given the two shapes",
            _flops_cases,
            hint="each of the m x n outputs is a dot product of length k: k multiplications and "
            "k additions (counting k - 1 additions is also seen; the convention here is 2 m k n)",
            any_number_type=True,
        ),
        Exercise(
            "01.perceptron_update",
            "Rosenblatt's rule: if sign(w.x + b) != y, w += lr y x and b += lr y",
            _perceptron_cases,
            hint="only a mistake changes anything; a point on the boundary (w.x + b = 0) counts "
            "as a mistake; return new w and b rather than changing the ones you were given",
        ),
        Exercise(
            "01.mistake_bound",
            "Novikoff's bound (R / gamma)^2 for data X, labels y and a separating w",
            _bound_cases,
            hint="R is the largest norm of a row of X; gamma is the smallest margin y_i (w.x_i) / "
            "|w| (divide by the norm of w, so that scaling w changes nothing)",
        ),
        Exercise(
            "02.sigmoid_backward",
            "dL/dx of y = sigmoid(x), given dout = dL/dy",
            _sigmoid_cases,
            hint="the derivative of sigmoid is y (1 - y) with y = sigmoid(x), multiplied "
            "element-wise by dout (not a matrix product)",
            gradient=_sigmoid,
        ),
        Exercise(
            "02.linear_backward",
            "dx, dW, db of y = x W + b, given dout = dL/dy",
            _linear_cases,
            hint="match the shapes: dx = dout W^T has x's shape, dW = x^T dout has W's, db sums "
            "dout over the batch (axis 0)",
        ),
        Exercise(
            "03.momentum_step",
            "One step of SGD with momentum: v <- mu v - lr g, then w <- w + v",
            _momentum_cases,
            hint="update the velocity first and move the weights by the new velocity; return new "
            "(w, v) arrays rather than changing the ones you were given",
        ),
        Exercise(
            "03.dropout_forward",
            "Inverted dropout at training time: keep the units where mask is 1, scaled by 1/(1-p)",
            _dropout_cases,
            hint="x * mask / (1 - p): dividing by the keep probability makes the expected output "
            "equal to x, so nothing changes at test time",
        ),
        Exercise(
            "04.rbm_free_energy",
            "The free energy of a binary RBM, one value per visible vector",
            _free_energy_cases,
            hint="F(v) = -v.b - sum_j log(1 + exp(v W + c)_j), one number per row; np.logaddexp(0, "
            "z) computes log(1 + exp(z)) without overflow",
        ),
        Exercise(
            "04.cd1_weight_gradient",
            "Contrastive divergence: the weight update <v h>_data - <v h>_reconstruction, per case",
            _cd_cases,
            hint="(v0^T h0 - v1^T h1) / N with v (N, V) and h (N, H): a (V, H) matrix, averaged "
            "over the N cases of the batch",
        ),
        Exercise(
            "05.tied_autoencoder",
            "A tied-weight autoencoder's reconstruction: sigmoid(sigmoid(x W + c) W^T + b)",
            _autoencoder_cases,
            hint="the decoder uses the encoder's W transposed (no weights of its own), with the "
            "visible bias b; both layers are sigmoid",
        ),
        Exercise(
            "05.tied_weight_gradient",
            "The gradient of a tied weight: the encoder's part plus the decoder's part",
            _tied_grad_cases,
            hint="W is used twice, h = f(x W + c) and x_hat = g(h W^T + b); its gradient is the "
            "sum of both uses: x^T d_hidden + (h^T d_out)^T, a (D, H) matrix",
        ),
        Exercise(
            "06.conv2d_im2col",
            "A convolution layer's forward pass as im2col and one matrix product",
            _conv_cases,
            hint="im2col(x, kh, kw, stride, padding) gives columns (C*kh*kw, H_out*W_out*N) with "
            "the image index fastest; W.reshape(O, -1) @ cols + b[:, None] is (O, H_out*W_out*N): "
            "reshape to (O, H_out, W_out, N), then transpose to (N, O, H_out, W_out)",
            rtol=1e-6,
        ),
        Exercise(
            "06.maxpool_overlapping",
            "AlexNet's overlapping max pooling: 3x3 windows, stride 2, no padding",
            _maxpool_cases,
            hint="the output is (H - 3) // 2 + 1 high; output (i, j) is the maximum of "
            "x[..., 2i:2i+3, 2j:2j+3]: nine strided slices and np.maximum, no loop over pixels",
        ),
        Exercise(
            "07.relu_backward",
            "dL/dx of y = max(0, x), given dout: the kernel seed 001 got wrong",
            _relu_cases,
            hint="the derivative is (x > 0) times dout, element by element: check that dout is "
            "multiplied in, not added, and that negative inputs pass nothing back",
            gradient=lambda x: np.maximum(0, x),
        ),
        Exercise(
            "07.local_response_norm",
            "AlexNet's local response normalisation (k=2, n=5, alpha=1e-4, beta=0.75)",
            _lrn_cases,
            hint="b[:, i] = a[:, i] / (k + alpha * sum of a[:, j]**2 over j from max(0, i-2) to "
            "min(C-1, i+2))**beta: the sum runs over neighbouring maps (axis 1), includes map i "
            "itself, and alpha is not divided by n",
        ),
        Exercise(
            "08.nearest_by_cosine",
            "The k words most similar by cosine to word i (not i itself), most similar first",
            _nearest_cases,
            hint="normalise every row to length 1, then one matrix-vector product gives all the "
            "cosines; leave out i before taking the top k (np.argsort of the negated scores)",
            any_number_type=True,
        ),
        Exercise(
            "08.keep_probability",
            "word2vec's subsampling: the probability of keeping a word of frequency f",
            _keep_cases,
            hint="the C tool keeps a word with probability (sqrt(f / t) + 1) * t / f, at most 1: "
            "rare words are always kept, a word 100 times above t about 11% of the time",
        ),
        Exercise(
            "09.lstm_step",
            "One LSTM step: (h_next, c_next) from x, h, c and Wx, Wh, b (gates i, f, g, o)",
            _lstm_cases,
            hint="s = x @ Wx + h @ Wh + b, four blocks of H columns in the order i, f, g, o; "
            "sigmoid for i, f, o and tanh for g; c_next = f * c + i * g, h_next = o * tanh(c_next)",
        ),
        Exercise(
            "09.perplexity_of",
            "Perplexity from the probabilities given to the true next tokens",
            _probability_cases,
            hint="exp of minus the mean log-probability: the geometric mean of 1/p, not 1 over "
            "the arithmetic mean of p; a model that always gives 1/100 has perplexity 100",
        ),
        Exercise(
            "09.clip_by_global_norm",
            "Gradients rescaled so that their norm, all together, is at most max_norm",
            _clip_cases,
            hint="one norm over all the arrays, sqrt(sum of every squared entry); when it exceeds "
            "max_norm multiply every array by max_norm / norm, otherwise return them unchanged",
        ),
        Exercise(
            "10.dot_attention",
            "Dot-product attention: (context, weights) for encoder states hs and decoder states hd",
            _attention_cases,
            hint="scores hd @ hs.transpose(0, 2, 1) are (N, T, S); softmax over the last axis "
            "(subtract the row maximum first); context = weights @ hs is (N, T, H)",
        ),
        Exercise(
            "10.additive_scores",
            "Bahdanau's additive attention scores v . tanh(hs_s Wk + hd_t Wq), shape (N, T, S)",
            _additive_cases,
            hint="(hs @ Wk)[:, None] is (N, 1, S, A) and (hd @ Wq)[:, :, None] is (N, T, 1, A): "
            "their sum broadcasts to (N, T, S, A); apply tanh, then @ v",
        ),
        Exercise(
            "11.arithmetic_intensity",
            "FLOPs per byte of an (m x k) @ (k x n) product: 2mnk / (itemsize (mk + kn + mn))",
            _intensity_cases,
            hint="count the bytes of both inputs and of the output, each moved once; a "
            "matrix-vector product (n = 1) comes out near 2 / itemsize",
            any_number_type=True,
        ),
        Exercise(
            "11.roofline_time",
            "The least time of operations on a machine: max(flops / peak, nbytes / bandwidth)",
            _roofline_cases,
            hint="compute and memory traffic overlap, so the slower of the two sets the time: "
            "the larger of flops / peak and nbytes / bandwidth, element by element",
        ),
        Exercise(
            "13.strom_step",
            "One threshold-quantisation step: (sent, new residual) from residual, gradient, tau",
            _strom_cases,
            hint="r = residual + grad; sent is tau * sign(r) where |r| >= tau, 0 elsewhere (tau, "
            "not r itself); the new residual is r - sent",
        ),
        Exercise(
            "13.average_parameters",
            "Parameter averaging: the element-wise mean of the workers' parameter vectors",
            _averaging_cases,
            hint="np.mean(np.stack(params), axis=0): the mean over workers, element by element, "
            "not the sum and not the mean over elements",
        ),
        Exercise(
            "14.receptive_field",
            "The side of the input patch one output of a stack of convolutions sees",
            _field_cases,
            hint="start at 1; layer i adds (k_i - 1) times the product of the strides of the "
            "layers before it (not including its own stride)",
            any_number_type=True,
        ),
        Exercise(
            "14.residual_forward",
            "A residual block: relu(x + relu(x W1 + b1) W2 + b2)",
            _residual_cases,
            hint="F(x) = relu(x @ W1 + b1) @ W2 + b2; add x, then apply the outer ReLU",
        ),
        Exercise(
            "15.first_per_class",
            "Sorted indices of the first n examples of every class",
            _per_class_cases,
            hint="for each class in np.unique(labels): np.flatnonzero(labels == c)[:n]; "
            "concatenate all classes' indices, then sort them",
        ),
        Exercise(
            "15.nearest_mean",
            "Classify feature vectors by the nearest class mean (Euclidean)",
            _nearest_mean_cases,
            hint="means (K, D) from the training rows of each class; distances (M, K) by "
            "broadcasting g[:, None] - means[None]; return the classes (not the positions) "
            "at the argmin",
        ),
        Exercise(
            "16.fit_standardize",
            "A standardiser's statistics: (mean, std) per feature, a zero std replaced by 1",
            _standardize_cases,
            hint="mean and std over axis 0 (the examples), NumPy's population std; "
            "np.where(std > 0, std, 1.0) so that a constant feature is left unscaled",
        ),
        Exercise(
            "16.lime_weights",
            "LIME's sample weights: exp(-removed^2 / width^2)",
            _lime_cases,
            hint="an exponential kernel on the distance from the original image: "
            "np.exp(-removed ** 2 / width ** 2), 1 for the image itself",
        ),
        Exercise(
            "17.rank_k_error",
            "LSA's loss: the squared error ||X - X_k||^2 of the best rank-k approximation of X",
            _rank_cases,
            hint="np.linalg.svd(X, compute_uv=False) gives the singular values s (largest "
            "first); the best rank-k approximation keeps the first k, so the error is the sum "
            "of the squares of the others (Eckart-Young)",
        ),
        Exercise(
            "17.neighbour_agreement",
            "A map's score: the fraction of points whose nearest other point has their label",
            _neighbour_cases,
            hint="squared distances (N, N) by broadcasting; put np.inf on the diagonal so that "
            "a point is not its own neighbour; compare labels[argmin] with labels",
        ),
        Exercise(
            "12.magnitude_prune",
            "A pruning mask: 1 on the round(keep * size) weights largest in magnitude, 0 elsewhere",
            _prune_cases,
            hint="rank by |w|, not by w (large negative weights matter as much as large positive "
            "ones); keep at least one weight; the mask has w's shape and dtype",
        ),
        Exercise(
            "12.grouped_gradient",
            "The gradient of k shared centroids: dW summed over the kept weights of each cluster",
            _grouped_cases,
            hint="np.bincount(index[keep], weights=dW[keep], minlength=k): pruned weights "
            "(keep False) add nothing, and a cluster with no weights gets 0",
            any_number_type=True,  # bincount of nothing is an integer zero
        ),
    ]
}


def exercises_for(lesson: str) -> list[Exercise]:
    """The exercises of lesson ``lesson`` ("02"), in order."""
    return [e for e in EXERCISES.values() if e.lesson == lesson]
