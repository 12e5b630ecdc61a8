"""check(): run a learner's function against the reference answer and say what is wrong.

The reference answers come from the lesson's own ``lessons/NN_slug/exercises.py``, or from a module
named by ``use_solutions("module")``, by ``$COURSE_SOLUTIONS``, or by a notebook variable
``exercise_solutions`` (what ``papermill -p exercise_solutions module`` injects), so a teacher can
check a class's notebooks in batch against answers of their own.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import os
import sys
from dataclasses import dataclass, field

import numpy as np

from course_lib.exercises.catalog import Exercise, exercises
from course_lib.gradcheck import numeric_gradient_array, rel_error
from course_lib.lessons import lesson

_chosen = None


@dataclass
class Result:
    exercise: str
    passed: bool
    message: str
    printed: bool = field(default=False, repr=False, compare=False)

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return self.message

    def _ipython_display_(self) -> None:
        """A notebook shows a cell's last value: ``check`` has printed the message already, so
        show it only if it was not printed (``quiet=True``)."""
        if not self.printed:
            print(self.message)


def use_solutions(module) -> None:
    """Check against the answers in ``module`` (a module or its import name); None: the course's."""
    global _chosen
    _chosen = importlib.import_module(module) if isinstance(module, str) else module


def _solutions(ex: Exercise):
    """The teacher's answers if any were chosen, else those in the exercise's lesson home."""
    name = getattr(sys.modules.get("__main__"), "exercise_solutions", None)
    name = name or os.environ.get("COURSE_SOLUTIONS")
    if _chosen is not None:
        return _chosen
    if name:
        return importlib.import_module(name)
    return lesson(ex.lesson).exercises_module()


def _describe(args, names) -> str:
    parts = [
        f"{n}{tuple(a.shape)}" if isinstance(a, np.ndarray) else f"{n}={a!r}"
        for n, a in zip(names, args)
    ]
    return ", ".join(parts)


def _compare(ex: Exercise, got, expected, args, names) -> str | None:
    """None when ``got`` matches ``expected``, else what is wrong."""
    several = isinstance(expected, (tuple, list))  # several outputs: a tuple, or a list of arrays
    got_t = tuple(got) if several and isinstance(got, (tuple, list)) else (got,)
    exp_t = tuple(expected) if several else (expected,)
    if len(got_t) != len(exp_t):
        return f"returned {len(got_t)} value(s), expected {len(exp_t)}"
    for k, (g, e) in enumerate(zip(got_t, exp_t)):
        which = f"output {k + 1} of {len(exp_t)}" if len(exp_t) > 1 else "the output"
        g, e = np.asarray(g), np.asarray(e)
        if ex.any_number_type and g.dtype.kind in "biuf":
            g, e = g.astype(np.float64), e.astype(np.float64)
        if g.shape != e.shape:
            return f"{which} has shape {g.shape}, expected {e.shape}"
        if g.dtype.kind != e.dtype.kind or (e.dtype.kind == "f" and g.dtype != e.dtype):
            return f"{which} has dtype {g.dtype}, expected {e.dtype} (the inputs' dtype)"
        err = rel_error(g, e) if e.size else 0.0
        if err > ex.rtol:
            where = np.unravel_index(np.argmax(np.abs(g - e)), e.shape) if e.ndim else ()
            return (
                f"{which} has wrong values: relative error {err:.1e} (allowed {ex.rtol:g}); "
                f"worst at index {tuple(int(i) for i in where)}: yours {g[where]:.6g}, "
                f"expected {e[where]:.6g}" + _gradient_note(ex, g, args)
            )
    return None


def _gradient_note(ex, answer, args) -> str:
    """For a backward exercise: how far the answer is from the numeric gradient."""
    if ex.gradient is None:
        return ""
    x, dout = np.array(args[0], dtype=np.float64), args[-1]
    numeric = numeric_gradient_array(lambda: ex.gradient(x), x, dout)
    return f"; against the numeric gradient of the forward pass: {rel_error(answer, numeric):.1e}"


def _run_case(ex, fn, reference, args, names) -> str | None:
    expected = reference(*copy.deepcopy(args))
    given = copy.deepcopy(args)
    try:
        got = fn(*given)
    except NotImplementedError:
        return "not written yet (the function raises NotImplementedError)"
    except Exception as err:  # the learner's bug, reported rather than raised
        return f"raised {type(err).__name__}: {err}"
    changed = [
        n
        for n, a, b in zip(names, args, given)
        if isinstance(a, np.ndarray) and not np.array_equal(a, b)
    ]
    if changed:
        return (
            f"changed its input {', '.join(changed)} in place: work on a copy "
            "(x.copy(), or out-of-place arithmetic such as x = x + 1)"
        )
    return _compare(ex, got, expected, args, names)


def check(exercise_id: str, fn, *, seed: int = 0, quiet: bool = False) -> Result:
    """Run ``fn`` against the reference answer of ``exercise_id`` on several random inputs."""
    catalog = exercises()
    if exercise_id not in catalog:
        raise KeyError(f"no exercise {exercise_id!r}; there are: {', '.join(catalog)}")
    ex = catalog[exercise_id]
    answers = _solutions(ex)
    reference = getattr(answers, ex.name, None)
    if reference is None:
        raise AttributeError(
            f"the reference answers {getattr(answers, '__name__', answers)!r} have no "
            f"{ex.name}: add it there, or use_solutions(None) for the lesson's own"
        )
    names = list(inspect.signature(reference).parameters)
    cases = ex.cases(np.random.default_rng(seed))
    for i, args in enumerate(cases, start=1):
        problem = _run_case(ex, fn, reference, args, names)
        if problem and problem.startswith("not written yet"):
            message = f"○ {ex.id}: {problem}: fill it in and run this cell again"
            return _show(Result(ex.id, False, message), quiet)
        if problem:
            shown = ex.hint and ("wrong values" in problem or "shape" in problem)
            hint = f"\n  hint: {ex.hint}" if shown else ""
            message = (
                f"✗ {ex.id}: {problem}\n  on case {i} of {len(cases)}: "
                f"{_describe(args, names)}{hint}"
            )
            return _show(Result(ex.id, False, message), quiet)
    message = f"✓ {ex.id}: right on all {len(cases)} cases ({ex.title})"
    return _show(Result(ex.id, True, message), quiet)


def _show(result: Result, quiet: bool) -> Result:
    if not quiet:
        print(result.message)
        result.printed = True
    return result
