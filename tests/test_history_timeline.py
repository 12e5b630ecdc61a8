"""Lesson 00's timeline as data: the milestones file reads and names real claims, a bad file is
refused with every problem named, and the figure's labels never overlap on a level."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from course_lib.claims import load_claims  # noqa: E402
from course_lib.history_timeline import (  # noqa: E402
    TimelineError,
    load_timeline,
    parse_timeline,
)
from course_lib.lessons import lesson  # noqa: E402
from course_lib.plot.timeline import label_levels, timeline  # noqa: E402

MILESTONES = lesson("00").home / "milestones.toml"
GOOD = {"year": 1986, "name": "Backprop", "who": "R, H & W", "why": "Hidden layers.", "source": "x"}


def test_the_lessons_milestones_read_in_order_and_name_context_claims():
    history = load_timeline(MILESTONES)
    years = [m.year for m in history.milestones]
    assert years == sorted(years) and years[0] == 1943 and len(years) >= 12
    registry = load_claims()
    for claim_id in history.claims():
        claim = registry.claim(claim_id)  # raises for an unknown id
        assert claim.lesson == "00" and claim.kind == "context", claim_id
    assert {m.seed for m in history.milestones} <= {"", "000", "001", "002", "003", "004"}
    assert [(w.start, w.end) for w in history.winters] == [(1969, 1980), (1990, 2006)]


def test_rosenblatt_and_the_first_better_than_human_result_are_dated_right():
    by_name = {m.name: m for m in load_timeline(MILESTONES).milestones}
    assert by_name["Perceptron"].year == 1957 and "1958" in by_name["Perceptron"].source
    assert "1502.01852" in by_name["PReLU-net"].source and by_name["PReLU-net"].year == 2015
    assert "human" not in by_name["ResNet"].why


@pytest.mark.parametrize(
    "entry, says",
    [
        ({k: v for k, v in GOOD.items() if k != "why"}, "misses 'why'"),
        ({**GOOD, "year": "1986"}, "'year' must be a int"),
        ({**GOOD, "year": 19860}, "outside"),
        ({**GOOD, "colour": "red"}, "unknown field 'colour'"),
        ({**GOOD, "name": "  "}, "'name' is empty"),
        ({**GOOD, "year": True}, "'year' must be a int"),
    ],
)
def test_a_bad_milestone_is_named_with_its_problem(entry, says):
    with pytest.raises(TimelineError, match=says) as err:
        parse_timeline({"milestone": [GOOD, entry]}, "m.toml")
    assert str(err.value).startswith("m.toml: milestone 2")


def test_every_problem_is_reported_at_once():
    bad = {
        "milestone": [{"year": 1}],
        "winter": [{"start": 1990, "end": 1980, "label": "w", "why": "y"}],
        "extra": 1,
    }
    with pytest.raises(TimelineError) as err:
        parse_timeline(bad, "m.toml")
    message = str(err.value)
    for words in ("misses 'name'", "outside", "ends (1980) before it starts", "unknown section"):
        assert words in message


def test_an_empty_file_a_missing_file_and_broken_toml_are_refused(tmp_path):
    with pytest.raises(TimelineError, match="no \\[\\[milestone\\]\\]"):
        parse_timeline({}, "m.toml")
    with pytest.raises(TimelineError, match="no such timeline file"):
        load_timeline(tmp_path / "none.toml")
    (tmp_path / "broken.toml").write_text("[[milestone]\nyear = ")
    with pytest.raises(TimelineError, match="not valid TOML"):
        load_timeline(tmp_path / "broken.toml")


def test_labels_take_the_first_free_level_and_never_overlap():
    spans = [(0, 4), (1, 5), (2, 6), (5, 9), (10, 12)]
    levels = label_levels(spans)
    assert levels == [1, -1, 2, 1, 1]
    for i, (a, level) in enumerate(zip(spans, levels)):
        for b, other in zip(spans[i + 1 :], levels[i + 1 :]):
            assert level != other or a[1] < b[0] or b[1] < a[0]


def test_the_timeline_draws_one_stem_and_label_per_milestone():
    history = load_timeline(MILESTONES)
    fig, ax = timeline(history)
    labels = [t.get_text() for t in ax.texts]
    assert all(f"{m.year}\n{m.name}" in labels for m in history.milestones)
    assert "first winter" in labels and "second winter" in labels
    plt.close(fig)
