"""This run's values beside the committed full run's and the published ones."""

import pytest

from course_lib import repro
from course_lib.claims import UnknownClaimError
from course_lib.lessons import lesson
from course_lib.run_table import beside_committed_run


def test_the_table_shows_this_run_the_committed_run_and_the_paper():
    full = lesson("04").committed_run()["hinton2006.pca30_test_sqerr"]["value"]
    table = beside_committed_run(
        "04", {"hinton2006.pca30_test_sqerr": 14.25, "hinton2006.ae30_test_sqerr": 21.0}
    )
    header, pca, ae, *committed_only = table.splitlines()
    assert "this run (quick)" in header and "full run" in header
    assert pca.split() == ["pca30_test_sqerr", "14.25", f"{full:.4g}", "13.87"]
    assert ae.split() == ["ae30_test_sqerr", "21", "—", "3"]  # CG awaits a GPU run
    # what only the committed run recorded (its Adam route) follows, with no value of this run's
    adam = next(r for r in committed_only if r.startswith("ae30_adam_test_sqerr"))
    want = lesson("04").committed_run()["hinton2006.ae30_adam_test_sqerr"]["value"]
    assert adam.split() == ["ae30_adam_test_sqerr", "—", f"{want:.4g}", "3"]
    assert not any(r.startswith("pca30_test_sqerr") for r in committed_only)


def test_words_and_booleans_are_shown_plainly():
    table = beside_committed_run(
        "04",
        {"hinton2006.ae30_beats_pca": False, "hinton2006.no_pretrain_adam_test_sqerr": 9.5},
        profile="full",
    )
    assert "this run (full)" in table
    assert table.splitlines()[1].split()[1:] == ["false", "true", "true"]
    assert table.splitlines()[2].split()[-1] == "—"  # the paper has no number for it


def test_a_committed_claim_the_registry_dropped_shows_no_published_value(monkeypatch):
    from course_lib import lessons

    stale = {"hinton2006.retired_claim": {"value": 1.5, "note": ""}}
    monkeypatch.setattr(lessons.Lesson, "committed_run", lambda self: stale)
    table = beside_committed_run("04", {"hinton2006.pca30_test_sqerr": 14.0})
    assert table.splitlines()[2].split() == ["retired_claim", "—", "1.5", "—"]


def test_an_unknown_claim_or_nothing_to_show_is_an_error():
    with pytest.raises(UnknownClaimError):
        beside_committed_run("04", {"hinton2006.no_such_claim": 1.0})
    with pytest.raises(ValueError, match="no claims to show"):
        beside_committed_run("04", {})


def test_recorded_returns_what_this_run_recorded():
    repro.start(None, notebook="04_deep_autoencoders", profile="quick", seed=0)
    repro.record("hinton2006.pca30_test_sqerr", 14.0)
    repro.record("hinton2006.ae30_beats_pca", True, note="a note is not a value")
    assert repro.recorded() == {
        "hinton2006.pca30_test_sqerr": 14.0,
        "hinton2006.ae30_beats_pca": True,
    }
