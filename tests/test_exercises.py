"""Every exercise is solvable (its reference passes) and every check can fail (a typical wrong
answer is caught, with a message that says what is wrong)."""

import types

import pytest

from course_lib.exercises import check, exercises, exercises_for, use_solutions
from course_lib.lessons import all_lessons, lesson

EXERCISES = exercises()


def reference(exercise_id):
    """The reference answer in the exercise's lesson home."""
    ex = EXERCISES[exercise_id]
    return getattr(lesson(ex.lesson).exercises_module(), ex.name)


@pytest.mark.parametrize("exercise_id", sorted(EXERCISES))
def test_the_reference_passes(exercise_id, capsys):
    assert check(exercise_id, reference(exercise_id))
    assert capsys.readouterr().out.startswith(f"✓ {exercise_id}")


@pytest.mark.parametrize("exercise_id", sorted(EXERCISES))
def test_a_wrong_answer_fails_with_a_reason(exercise_id):
    ex = EXERCISES[exercise_id]
    assert ex.mistake is not None, f"{exercise_id} names no typical mistake (mistake=...)"
    result = check(exercise_id, ex.mistake, quiet=True)
    assert not result and ex.mistake_says in result.message and "case" in result.message


def test_every_lesson_has_its_exercises_at_home():
    assert [h.number for h in all_lessons() if h.exercises()] == [h.number for h in all_lessons()]
    lessons = {e.lesson for e in EXERCISES.values()}
    assert lessons >= {"00", "01", "02", "03", "04", "05", "06"}
    assert all(2 <= len(exercises_for(number)) <= 4 for number in lessons)
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
        assert not check("07.relu_backward", reference("07.relu_backward"), quiet=True)
    finally:
        use_solutions(None)
    assert check("07.relu_backward", reference("07.relu_backward"), quiet=True)
    monkeypatch.setenv("COURSE_SOLUTIONS", "course_lib.nn")  # a module without the answer
    with pytest.raises(AttributeError, match="have no relu_backward"):
        check("07.relu_backward", reference("07.relu_backward"), quiet=True)
    monkeypatch.delenv("COURSE_SOLUTIONS")
    assert check("07.relu_backward", reference("07.relu_backward"), quiet=True)


def test_a_notebook_shows_the_message_once(capsys):
    """check() prints its message; the Result it returns (a cell's last value, which IPython
    displays) must not print it a second time."""
    result = check("00.xor_by_hand", lambda X: (X[:, 0] != X[:, 1]).astype(bool))
    result._ipython_display_()
    assert capsys.readouterr().out.count(result.message) == 1
    quiet = check("00.xor_by_hand", lambda X: (X[:, 0] != X[:, 1]).astype(bool), quiet=True)
    quiet._ipython_display_()
    assert capsys.readouterr().out.count(quiet.message) == 1
