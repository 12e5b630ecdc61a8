"""Exercises with instant checks: write the lesson's idea yourself, and be told what is wrong.

In a lesson::

    from course_lib.exercises import check

    def sigmoid_backward(x, dout):
        ...                                   # your code

    check("02.sigmoid_backward", sigmoid_backward)

:func:`check` runs your function and the reference answer on random inputs of several shapes
(batch of one, odd sizes) and prints one line when every case agrees, or what is wrong and where
to look: an exception, an input changed in place, a wrong shape or dtype, wrong values (the
relative error and the worst element), or, for a gradient, what the numeric gradient says.
Each lesson's exercises and reference answers live in its home, ``lessons/NN_slug/exercises.py``,
apart from the notebook.
"""

from course_lib.exercises.catalog import Exercise, exercises, exercises_for, normal
from course_lib.exercises.check import Result, check, use_solutions

__all__ = ["Exercise", "Result", "check", "exercises", "exercises_for", "normal", "use_solutions"]
