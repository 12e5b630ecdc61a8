"""A claim that a run cannot record says why: ``needs`` (a GPU, a dataset) or ``kind =
"context"``; unknown values are refused with the allowed ones named."""

import pytest
from test_claims import GOOD, claims_error, write

from course_lib.claims import AWAIT_DATA, AWAIT_GPU, CONTEXT, NOT_RUN, load_claims


def with_fields(extra: str, bounds: bool = True) -> str:
    text = GOOD.format(lesson="04", id="a2006.x") + extra + "\n"
    if not bounds:
        text = text.replace("full = { max = 3.5 }\n", "")
        text = text.replace("quick = { min = 0.0, max = 20.0 }\n", "")
    return text


@pytest.mark.parametrize(
    "extra, needs, status",
    [
        ("", (), NOT_RUN),
        ('needs = "gpu"', ("gpu",), AWAIT_GPU),
        ('needs = "text8"', ("text8",), AWAIT_DATA),
        ('needs = ["gpu", "cifar10"]', ("gpu", "cifar10"), AWAIT_DATA),
    ],
)
def test_needs_decides_the_status_of_a_claim_not_recorded(tmp_path, extra, needs, status):
    write(tmp_path, "04.toml", with_fields(extra))
    claim = load_claims(tmp_path).claim("a2006.x")
    assert claim.needs == needs and claim.kind == "measured"
    assert claim.unrecorded == status


def test_a_context_claim_is_shown_not_measured(tmp_path):
    write(tmp_path, "04.toml", with_fields('kind = "context"', bounds=False))
    claim = load_claims(tmp_path).claim("a2006.x")
    assert claim.kind == "context" and claim.unrecorded == CONTEXT


@pytest.mark.parametrize(
    "extra, bounds, expected",
    [
        ('needs = "tpu"', True, "needs 'tpu' is not allowed: give one of gpu, cifar10, text8"),
        ('needs = ["gpu", "imagenet"]', True, "give one of gpu, cifar10, text8"),
        ("needs = []", True, "needs [] is not allowed"),
        ("needs = 3", True, "'needs' has the wrong type (int)"),
        ('kind = "guess"', True, "kind 'guess' is not allowed: give one of measured, context"),
        ("kind = true", True, "'kind' has the wrong type (bool)"),
        ('kind = "context"', True, "a context claim is not measured: drop its full"),
        (
            'kind = "context"\nneeds = "gpu"',
            False,
            "a context claim is not measured: drop its needs",
        ),
    ],
)
def test_unknown_needs_and_kinds_are_refused(tmp_path, extra, bounds, expected):
    write(tmp_path, "04.toml", with_fields(extra, bounds))
    message = claims_error(tmp_path)
    assert "04.toml: claim #1 (a2006.x)" in message and expected in message


def test_the_lessons_park_with_known_values_only():
    """Every claim in the repository's lessons loads, and the parked ones use the fields."""
    registry = load_claims()
    parked = [c for c in registry.claims if c.needs or c.kind == "context"]
    assert any(c.needs == ("gpu",) for c in parked)
    assert any(c.kind == "context" for c in parked)
    assert all(c.bound("full") is None for c in parked if c.kind == "context")
