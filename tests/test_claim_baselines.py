"""No bound is looser than the trivial baseline it names.

A claim may name, as ``baseline``, a claim of its lesson that records what a trivial method scores
(a unigram language model, PCA, chance).  Each of its bounds must lie on the better side of that
value: an upper bound (``max``, lower is better) below it, a lower bound (``min``) above it.  The
baseline's value is the committed full run's; where that run predates the baseline, the value is
computed here from the data (a baseline needs no training), and the claim is skipped, with the
reason, when neither is possible.
"""

import functools
import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from course_lib import baselines
from course_lib.claims import PROFILES, ClaimsError, load_claims

REPO = Path(__file__).resolve().parents[1]
FULL_RUN = REPO / "experiments" / "results" / "full-cpu-2core" / "results"


def _ptb_unigram(data_dir):
    from course_lib.data.text import load_ptb

    return baselines.word_unigram_perplexity(
        load_ptb("train", data_dir), load_ptb("test", data_dir)
    )


def _mean_image(data_dir):
    from course_lib.data import load_mnist

    mnist = load_mnist(data_dir=data_dir)
    return baselines.mean_image_squared_error(mnist.x_train, mnist.x_test)


@functools.cache
def _mnist(data_dir, validation_size=0):
    from course_lib.data import load_mnist

    return load_mnist(data_dir=data_dir, validation_size=validation_size, seed=0)


def _nearest_class_mean(data_dir, n_train=None, validation_size=0):
    """On the first ``n_train`` training images (all: None) and all 10,000 test images."""
    m = _mnist(data_dir, validation_size)
    x, y = m.x_train[:n_train], m.y_train[:n_train]
    return baselines.nearest_class_mean_error(x, y, m.x_test, m.y_test)


def _lesson03_search_floor(data_dir):
    """Lesson 03's model search, full profile, seed 0: n_sel = 2,000 training images picked from
    a permutation of all 60,000 (n_val = 2,000 more held out for validation)."""
    from course_lib import model_selection

    m = _mnist(data_dir)
    pick = np.random.default_rng(0).permutation(len(m.x_train))
    fit_idx, _ = model_selection.holdout(2000 + 2000, 2000, rng=0)
    x, y = m.x_train[pick][fit_idx], m.y_train[pick][fit_idx]
    return baselines.nearest_class_mean_error(x, y, m.x_test, m.y_test)


def _vae_pixels(data_dir):
    """Lesson 19's VAE, full profile: all 60,000 training images, the first 2,000 test images."""
    m = _mnist(data_dir)
    return baselines.bernoulli_pixels_nats(m.x_train, m.x_test[:2000])


def _chars_unigram(name):
    def compute(data_dir):
        from course_lib.data.text import load_text

        return baselines.char_unigram_nats(load_text(name, data_dir))

    return compute


# baselines that need no training: computed from the data as the full profile does (all the
# evaluation text), for a committed full run that did not record them yet
COMPUTED = {
    "lesson09.ptb_unigram_test_ppl": _ptb_unigram,
    "lesson09.shakespeare_unigram_nats": _chars_unigram("tinyshakespeare"),
    "lesson09.neko_unigram_nats": _chars_unigram("wagahaiwa_nekodearu"),
    "lesson04.mean_image_test_sqerr": _mean_image,
    "lesson04.nearest_class_mean_test_error": _nearest_class_mean,
    "lesson02.nearest_class_mean_test_error": _nearest_class_mean,
    # every training image, the first n_eval = 10,000 (all) test images, as accuracy
    "lesson03.nearest_class_mean_accuracy": lambda d: 1 - _nearest_class_mean(d) / 100,
    "lesson03.nearest_class_mean_test_error": _lesson03_search_floor,
    "lesson06.nearest_class_mean_test_error": _nearest_class_mean,
    # the first 55,000 of the training images left after holding out 5,000 (seed 0)
    "lesson12.nearest_class_mean_test_error": lambda d: _nearest_class_mean(d, 55_000, 5000),
    "lesson12.lenet5_nearest_class_mean_test_error": lambda d: _nearest_class_mean(d, 55_000, 5000),
    "lesson19.nearest_class_mean_test_error": _nearest_class_mean,
    "lesson19.independent_pixels_nats": _vae_pixels,
}

REGISTRY = load_claims()
BOUNDED = [
    (claim, profile)
    for claim in REGISTRY.claims
    if claim.baseline
    for profile in PROFILES
    if claim.bound(profile)
]


def full_run_values() -> dict:
    """Every claim value the committed full run recorded, by claim id."""
    values = {}
    for path in sorted(FULL_RUN.glob("*.json")):
        for claim_id, entry in json.loads(path.read_text(encoding="utf-8"))["claims"].items():
            values[claim_id] = entry["value"]
    return values


RECORDED = full_run_values()


def baseline_value(claim_id: str, request) -> tuple[float, str]:
    """The baseline's value and where it came from; skips when there is none."""
    if claim_id in RECORDED:
        return RECORDED[claim_id], "the committed full run"
    if claim_id in COMPUTED:
        data_dir = request.getfixturevalue("data_dir")
        return COMPUTED[claim_id](data_dir), "computed from the data (not in the full run yet)"
    pytest.skip(
        f"baseline {claim_id} is neither in the committed full run ({FULL_RUN.relative_to(REPO)}) "
        "nor computable without training: rerun its lesson in the full profile"
    )


def test_some_claims_name_a_baseline():
    assert len(BOUNDED) >= 3


@pytest.mark.parametrize("claim, profile", BOUNDED, ids=[f"{c.id}-{p}" for c, p in BOUNDED])
def test_bound_is_tighter_than_its_baseline(claim, profile, request):
    value, where = baseline_value(claim.baseline, request)
    bound = claim.bound(profile)
    if "max" in bound:  # lower is better: the bound must sit below what the baseline scores
        assert bound["max"] < value, (
            f"{claim.id}: {profile} bound max = {bound['max']} is looser than its baseline "
            f"{claim.baseline} = {value:.4g} ({where}): a trivial model would pass"
        )
    if "min" in bound:  # higher is better
        assert bound["min"] > value, (
            f"{claim.id}: {profile} bound min = {bound['min']} is looser than its baseline "
            f"{claim.baseline} = {value:.4g} ({where}): a trivial model would pass"
        )


def test_computed_baselines_match_the_full_run_once_recorded(request):
    """A baseline computed here is the notebook's computation: the two must agree."""
    both = sorted(set(COMPUTED) & set(RECORDED))
    if not both:
        pytest.skip("the committed full run records none of the computed baselines yet")
    data_dir = request.getfixturevalue("data_dir")
    for claim_id in both:
        assert COMPUTED[claim_id](data_dir) == pytest.approx(RECORDED[claim_id], rel=1e-6)


CLAIM = """
[[claim]]
id = "{id}"
lesson = "{lesson}"
title = "A claim"
published = 3.0
source = "Somebody 2006"
checked = true
{extra}
"""


def write_lesson(folder, lesson, *claims):
    text = "".join(CLAIM.format(lesson=lesson, id=i, extra=e) for i, e in claims)
    (folder / f"{lesson}.toml").write_text(textwrap.dedent(text), encoding="utf-8")


def test_a_baseline_of_the_same_lesson_is_accepted(tmp_path):
    write_lesson(
        tmp_path,
        "09",
        ("a2006.model", 'baseline = "a2006.unigram"\nquick = { max = 2.0 }'),
        ("a2006.unigram", ""),
    )
    assert load_claims(tmp_path).get("a2006.model").baseline == "a2006.unigram"


@pytest.mark.parametrize(
    "extra, problem",
    [
        ('baseline = "a2006.nowhere"', "'a2006.nowhere' is not a claim of this lesson's file"),
        ('baseline = "b2006.other"', "'b2006.other' is not a claim of this lesson's file"),
        ('baseline = "a2006.model"', "baseline names the claim itself"),
        ('baseline = "a2006.unigram"\nfull = { min = 1.0, max = 2.0 }', "must be one-sided"),
        ('baseline = "a2006.unigram"\nquick = { equals = true }', "must be one-sided"),
    ],
)
def test_a_bad_baseline_is_refused(tmp_path, extra, problem):
    write_lesson(tmp_path, "09", ("a2006.model", extra), ("a2006.unigram", ""))
    write_lesson(tmp_path, "10", ("b2006.other", ""))
    with pytest.raises(ClaimsError) as info:
        load_claims(tmp_path)
    assert problem in str(info.value) and "09.toml: claim" in str(info.value)


def test_unigram_nats_counts_training_frequencies():
    import math

    from course_lib.nlp.lm import unigram_nats

    ids = [0, 1, 2, 3] * 5
    assert unigram_nats(ids, [3, 2, 1, 0], 4) == pytest.approx(math.log(4))
    # add-one smoothing: 0 seen 3 times of 4, 1 once; id 2 never seen still costs a finite amount
    assert unigram_nats([0, 0, 0, 1], [2], 3) == pytest.approx(math.log(7))
    with pytest.raises(ValueError, match="must lie in"):
        unigram_nats([0, 1], [5], 3)
