"""Every exercise is solvable (its reference passes) and every check can fail (a typical wrong
answer is caught, with a message that says what is wrong)."""

import types

import numpy as np
import pytest

from course_lib.exercises import EXERCISES, check, exercises_for, solutions, use_solutions


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


WRONG = {  # exercise -> (a typical mistake, words the message must contain)
    "00.xor_by_hand": (lambda X: (X.sum(axis=1) > 0).astype(int), "wrong values"),  # OR
    "03.momentum_step": (lambda w, v, g, lr, mu: (w - lr * g, mu * v - lr * g), "wrong values"),
    "03.dropout_forward": (lambda x, mask, p: x * mask, "wrong values"),
    "04.rbm_free_energy": (
        lambda v, W, b, c: -v @ b - np.logaddexp(0, v @ W + c).sum(axis=0),
        "shape",
    ),
    "05.tied_autoencoder": (
        lambda x, W, c, b: 1 / (1 + np.exp(-((1 / (1 + np.exp(-(x @ W + c)))) @ W.T))),
        "wrong values",
    ),
    "01.perceptron_update": (lambda w, b, x, y, lr: (w + lr * y * x, b + lr * y), "wrong values"),
    "01.mistake_bound": (
        lambda X, y, w: (np.linalg.norm(X, axis=1).max() / (y * (X @ w)).min()) ** 2,
        "wrong values",
    ),
    "04.cd1_weight_gradient": (lambda v0, h0, v1, h1: v0.T @ h0 - v1.T @ h1, "wrong values"),
    "06.maxpool_overlapping": (
        lambda x: x[
            :, :, : 2 * ((x.shape[2] - 3) // 2) + 1 : 2, : 2 * ((x.shape[3] - 3) // 2) + 1 : 2
        ],
        "wrong values",
    ),
    "08.nearest_by_cosine": (lambda W, i, k: np.argsort(-(W @ W[i]))[:k], "wrong values"),
    "08.keep_probability": (lambda f, t: np.minimum(1.0, np.sqrt(t / f)), "wrong values"),
    "09.lstm_step": (
        lambda x, h, c, Wx, Wh, b: solutions.lstm_step(x, h, c, Wx[:, ::-1], Wh[:, ::-1], b),
        "wrong values",
    ),
    "09.perplexity_of": (lambda p: 1 / p.mean(), "wrong values"),
    "09.clip_by_global_norm": (
        lambda grads, m: [g * min(1.0, m / np.linalg.norm(g)) for g in grads],
        "wrong values",
    ),
    "10.dot_attention": (  # the softmax not normalised
        lambda hs, hd: (
            np.exp(hd @ hs.transpose(0, 2, 1)) @ hs,
            np.exp(hd @ hs.transpose(0, 2, 1)),
        ),
        "wrong values",
    ),
    "10.additive_scores": (
        lambda hs, hd, Wk, Wq, v: np.tanh((hs @ Wq)[:, None] + (hd @ Wk)[:, :, None]) @ v,
        "wrong values",
    ),
    "11.arithmetic_intensity": (
        lambda m, n, k, itemsize: 2 * m * n * k / (itemsize * (m * k + k * n)),
        "wrong values",
    ),  # forgets the output
    "11.roofline_time": (lambda f, b, p, w: f / p + b / w, "wrong values"),  # no overlap
    "13.strom_step": (  # sends r itself, not +-tau
        lambda res, g, tau: (
            np.where(np.abs(res + g) >= tau, res + g, 0.0),
            res + g - np.where(np.abs(res + g) >= tau, res + g, 0.0),
        ),
        "wrong values",
    ),
    "13.average_parameters": (lambda params: np.sum(np.stack(params), axis=0), "wrong values"),
    "14.receptive_field": (lambda ks, ss: 1 + sum(k - 1 for k in ks), "wrong values"),
    "14.residual_forward": (  # no outer ReLU
        lambda x, W1, b1, W2, b2: x + np.maximum(x @ W1 + b1, 0) @ W2 + b2,
        "wrong values",
    ),
    "15.first_per_class": (  # forgets to sort across classes
        lambda labels, n: np.concatenate(
            [np.flatnonzero(labels == c)[:n] for c in np.unique(labels)[::-1]]
        ),
        "wrong values",
    ),
    "15.nearest_mean": (  # nearest training row instead of class mean
        lambda f, labels, g: labels[((g[:, None] - f[None]) ** 2).sum(axis=-1).argmin(axis=1)],
        "wrong values",
    ),
    "16.fit_standardize": (lambda x: (x.mean(axis=0), x.std(axis=0)), "wrong values"),
    "16.lime_weights": (lambda removed, width: np.exp(-removed / width), "wrong values"),
    "17.rank_k_error": (  # the norm, not its square
        lambda X, k: np.sqrt((np.linalg.svd(X, compute_uv=False)[k:] ** 2).sum()),
        "wrong values",
    ),
    "17.neighbour_agreement": (  # every point is its own nearest neighbour
        lambda codes, labels: (
            labels[((codes[:, None] - codes[None]) ** 2).sum(-1).argmin(1)] == labels
        ).mean(),
        "wrong values",
    ),
    "12.magnitude_prune": (
        lambda w, keep: (w >= np.sort(w.ravel())[w.size - max(1, round(keep * w.size))]).astype(
            w.dtype
        ),
        "wrong values",
    ),  # ranks by w, not |w|
    "12.grouped_gradient": (
        lambda dW, index, keep, k: np.bincount(index.ravel(), dW.ravel(), minlength=k),
        "wrong values",
    ),  # forgets the mask
    "00.matmul_flops": (lambda a, b: a[0] * a[1] * b[1], "wrong values"),
    "05.tied_weight_gradient": (lambda x, h, dh, dout: x.T @ dh, "wrong values"),
    "02.sigmoid_backward": (lambda x, d: d * _sigmoid(x), "numeric gradient"),
    "02.linear_backward": (lambda x, W, d: (d @ W.T, x.T @ d, d.sum(axis=1)), "shape"),
    "06.conv2d_im2col": (
        lambda x, W, b, p: solutions.conv2d_im2col(x, W, 0 * b, p),
        "wrong values",
    ),
    "07.relu_backward": (lambda x, d: np.where(x >= 0, 1.0, 0 * d), "numeric gradient"),
    "07.local_response_norm": (
        lambda a: solutions.local_response_norm(a, alpha=1e-4 / 5),
        "wrong values",
    ),
}


@pytest.mark.parametrize("exercise_id", sorted(EXERCISES))
def test_the_reference_passes(exercise_id, capsys):
    reference = getattr(solutions, EXERCISES[exercise_id].name)
    assert check(exercise_id, reference)
    assert capsys.readouterr().out.startswith(f"✓ {exercise_id}")


@pytest.mark.parametrize("exercise_id", sorted(EXERCISES))
def test_a_wrong_answer_fails_with_a_reason(exercise_id):
    wrong, words = WRONG[exercise_id]
    result = check(exercise_id, wrong, quiet=True)
    assert not result and words in result.message and "case" in result.message


def test_every_lesson_with_exercises_is_covered_by_a_wrong_answer():
    assert set(WRONG) == set(EXERCISES)
    lessons = {e.lesson for e in EXERCISES.values()}
    assert lessons >= {"00", "01", "02", "03", "04", "05", "06"}
    assert all(2 <= len(exercises_for(lesson)) <= 4 for lesson in lessons)
    assert check("00.xor_by_hand", lambda X: (X[:, 0] != X[:, 1]).astype(bool), quiet=True)
    assert [e.id for e in exercises_for("07")] == ["07.relu_backward", "07.local_response_norm"]


def test_mutated_input_unwritten_and_crashing_answers():
    def in_place(x, dout):
        x *= 0
        return dout

    assert "changed its input x in place" in check("07.relu_backward", in_place, quiet=True).message

    def unwritten(x, dout):
        raise NotImplementedError

    assert "not written yet" in check("02.sigmoid_backward", unwritten, quiet=True).message
    crash = check("02.sigmoid_backward", lambda x: x, quiet=True)
    assert "raised TypeError" in crash.message
    wrong_dtype = check(
        "07.relu_backward", lambda x, d: ((x > 0) * d).astype("float32"), quiet=True
    )
    assert "dtype float32, expected float64" in wrong_dtype.message
    with pytest.raises(KeyError, match="no exercise '99.nothing'"):
        check("99.nothing", lambda: None)


def test_a_teachers_own_answers(monkeypatch):
    strict = types.SimpleNamespace(relu_backward=lambda x, d: 0 * d)  # a different "truth"
    use_solutions(strict)
    try:
        assert not check("07.relu_backward", solutions.relu_backward, quiet=True)
    finally:
        use_solutions(None)
    assert check("07.relu_backward", solutions.relu_backward, quiet=True)
    monkeypatch.setenv("COURSE_SOLUTIONS", "course_lib.exercises.solutions")
    assert check("07.relu_backward", solutions.relu_backward, quiet=True)


def test_a_notebook_shows_the_message_once(capsys):
    """check() prints its message; the Result it returns (a cell's last value, which IPython
    displays) must not print it a second time."""
    result = check("00.xor_by_hand", lambda X: (X[:, 0] != X[:, 1]).astype(bool))
    result._ipython_display_()
    assert capsys.readouterr().out.count(result.message) == 1
    quiet = check("00.xor_by_hand", lambda X: (X[:, 0] != X[:, 1]).astype(bool), quiet=True)
    quiet._ipython_display_()
    assert capsys.readouterr().out.count(quiet.message) == 1
