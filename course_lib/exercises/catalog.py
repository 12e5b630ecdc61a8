"""An exercise, and the catalog of them gathered from the lessons' homes.

Each lesson's exercises live in its home, ``lessons/NN_slug/exercises.py`` (see
:mod:`course_lib.lessons`): the reference answers, then an ``EXERCISES`` list of
:class:`Exercise`.  An exercise's ``cases(rng)`` returns a list of argument tuples, the first
ones small and awkward (a batch of one, odd sizes); the learner's function and the reference get
fresh copies of each.
``hint`` is printed when the values are wrong; ``gradient`` (optional) is the forward function
whose numeric gradient (central differences) a backward exercise's answer must equal, so the
message can say whether a wrong answer is wrong calculus or a wrong reference to the inputs.
``mistake`` is a typical wrong answer, which the check must catch with a message containing
``mistake_says`` (the course's tests try each one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Exercise:
    id: str  # "LL.name": the lesson number, then the reference answer's name in its exercises.py
    title: str
    cases: Callable  # rng -> list of argument tuples
    hint: str = ""
    rtol: float = 1e-6
    gradient: Callable | None = field(default=None)  # forward(*args[:-1]) for dout = args[-1]
    any_number_type: bool = False  # accept ints, bools or floats alike (compared as float64)
    mistake: Callable | None = field(default=None)  # a typical wrong answer the check must catch
    mistake_says: str = "wrong values"  # words its failure message must contain

    @property
    def lesson(self) -> str:
        return self.id.split(".")[0]

    @property
    def name(self) -> str:
        return self.id.split(".", 1)[1]


def normal(rng, *shape):
    """Standard normal inputs of ``shape`` (the usual case generator's building block)."""
    return rng.standard_normal(shape)


def exercises() -> dict[str, Exercise]:
    """Every lesson's exercises by id, in lesson order (each home's file is imported once; a
    lesson added later is found at the next call)."""
    from course_lib.lessons import all_lessons

    found: dict[str, Exercise] = {}
    for home in all_lessons():
        for ex in home.exercises():
            if not ex.id.startswith(f"{home.number}."):
                raise ValueError(
                    f"{home.exercises_file}: exercise {ex.id!r} must start with "
                    f"'{home.number}.', the lesson's number"
                )
            found[ex.id] = ex
    return found


def exercises_for(lesson: str) -> list[Exercise]:
    """Lesson ``lesson``'s exercises ("07"), in the order its file lists them."""
    return [e for e in exercises().values() if e.lesson == lesson]
