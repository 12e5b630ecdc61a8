"""speed.time_ratio: the ratio of two functions' times, measured in alternation."""

import itertools
import time

import pytest

from course_lib import speed


def _sleep(seconds):
    return lambda: time.sleep(seconds)


def test_ratio_of_known_durations():
    ratio = speed.time_ratio(_sleep(0.002), _sleep(0.006), repeats=5, min_time=0.004)
    assert ratio == pytest.approx(3.0, rel=0.25)


def test_ratio_is_of_g_over_f():
    assert speed.time_ratio(_sleep(0.006), _sleep(0.002), repeats=3, min_time=0.004) < 0.5


def test_alternates_and_loops_to_min_time():
    calls = []
    f = lambda: calls.append("f")  # noqa: E731
    g = lambda: (calls.append("g"), time.sleep(0.001))  # noqa: E731
    speed.time_ratio(f, g, repeats=4, min_time=0.003)
    runs = [name for name, _ in itertools.groupby(calls)]  # f f f g g f f f g g -> f g f g
    assert runs[-8:] == ["f", "g"] * 4  # the 4 timed samples of each, in alternation
    assert calls.count("f") > calls.count("g")  # the fast one looped more to last min_time
