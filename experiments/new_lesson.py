"""A new lesson from the template: ``python -m experiments new-lesson NN slug "Title"``.

It makes the lesson's home ``lessons/NN_slug/`` (``lesson.toml``: title, benchmarks, results and
an example claim; ``exercises.py``: an example exercise) and its notebook
``notebooks/NN_slug.ipynb``, in the shape ``notebooks/README.md`` describes, from
``lessons/_template/``.  The new lesson runs as it is (``python -m experiments run --only NN``);
its author then replaces the example with the lesson.  Nothing is overwritten, and a failure
leaves nothing half-made.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

from course_lib import fileio
from course_lib.lessons import EXERCISES_FILE, MANIFEST, all_lessons, lessons_dir
from experiments import UserError

TEMPLATE = "_template"
NUMBER, SLUG = re.compile(r"^\d{2}$"), re.compile(r"^[a-z][a-z0-9_]*$")


def check_names(number: str, slug: str, title: str) -> None:
    """A :class:`UserError` naming the first argument that cannot make a lesson."""
    if not NUMBER.match(number):
        raise UserError(f"lesson number {number!r}: give two digits, e.g. 18")
    if not SLUG.match(slug):
        raise UserError(f"slug {slug!r}: lower-case letters, digits and '_', e.g. autograd")
    if not title.strip() or "\n" in title:
        raise UserError('title: give one line of text, e.g. "Automatic differentiation"')


def fill(text: str, number: str, slug: str, title: str) -> str:
    """The template's text with its placeholders filled (the title escaped as a string's
    content, which TOML and JSON both read back)."""
    escaped = json.dumps(title, ensure_ascii=False)[1:-1]
    return text.replace("__NN__", number).replace("__SLUG__", slug).replace("__TITLE__", escaped)


def new_lesson(
    number: str, slug: str, title: str, *, lessons: str | Path | None = None, notebooks=None
) -> tuple[Path, Path]:
    """Make lesson ``number``'s home and notebook from the template; return both paths."""
    check_names(number, slug, title)
    root = lessons_dir(lessons)
    template = root / TEMPLATE
    if not template.is_dir():
        raise UserError(f"no lesson template at {template}: the repository's lessons/ has one")
    notebooks = Path(notebooks or root.parent / "notebooks")
    taken = [h.name for h in all_lessons(root) if h.number == number]
    taken += [p.name for p in sorted(notebooks.glob(f"{number}_*.ipynb"))]
    if taken:
        raise UserError(f"lesson {number} exists already ({', '.join(taken)}): pick a new number")
    home, notebook = root / f"{number}_{slug}", notebooks / f"{number}_{slug}.ipynb"
    staging = Path(tempfile.mkdtemp(dir=root, prefix=".new-"))
    try:
        for name in (MANIFEST, EXERCISES_FILE):
            text = (template / name).read_text(encoding="utf-8")
            (staging / name).write_text(fill(text, number, slug, title), encoding="utf-8")
        staging.rename(home)  # the whole home appears at once
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        text = (template / "lesson.ipynb").read_text(encoding="utf-8")
        fileio.write_text(notebook, fill(text, number, slug, title))
    except BaseException:
        shutil.rmtree(home)
        raise
    return home, notebook
