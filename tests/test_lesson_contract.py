"""Every lesson notebook has the shape notebooks/README.md describes (what a program can check)."""

import ast
import json
import re
from pathlib import Path

import pytest

from course_lib.claims import load_claims

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
REQUIRED_PARAMETERS = {"profile", "seed", "device", "results_path"}
MAX_CELL_LINES, MAX_LINE = 20, 100


def cells(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [(c["cell_type"], "".join(c["source"]), c.get("metadata", {})) for c in nb["cells"]]


def code_cells(path):
    return [source for kind, source, _ in cells(path) if kind == "code"]


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.stem)
def notebook(request):
    return request.param


def test_there_are_lessons():
    assert len(NOTEBOOKS) >= 6


def test_title_and_closing_what_it_means(notebook):
    all_cells = cells(notebook)
    kind, first, _ = all_cells[0]
    assert kind == "markdown" and first.startswith(f"# {notebook.name[:2]} · "), first[:60]
    kind, last, _ = all_cells[-1]
    assert kind == "markdown" and last.startswith("## What it means"), last[:60]


def test_parameters_cell_then_settings_cell(notebook):
    code = [(source, meta) for kind, source, meta in cells(notebook) if kind == "code"]
    params, meta = code[0]
    assert "parameters" in meta.get("tags", []), "the first code cell must be tagged 'parameters'"
    tree = ast.parse(params)
    assert all(isinstance(s, ast.Assign) for s in tree.body), (
        "the parameters cell holds only assignments"
    )
    names = {t.id for s in tree.body for t in s.targets}
    assert REQUIRED_PARAMETERS <= names, REQUIRED_PARAMETERS - names
    settings = code[1][0]
    assert re.search(r"^cfg = repro\.profile\(profile,", settings, re.M), settings[:200]


def test_recording_starts_with_the_notebook_name(notebook):
    text = "\n".join(code_cells(notebook))
    assert f'repro.start(results_path, notebook="{notebook.stem}"' in text


def test_cells_are_short_and_lines_fit(notebook):
    for i, source in enumerate(code_cells(notebook), start=1):
        lines = source.splitlines()
        long = [line for line in lines if len(line) > MAX_LINE]
        assert not long, f"code cell {i} has lines over {MAX_LINE} characters: {long[0][:60]}..."
        n = sum(1 for line in lines if line.strip())
        assert n <= MAX_CELL_LINES, f"code cell {i} has {n} lines (at most {MAX_CELL_LINES})"


def test_recorded_claims_are_registered_and_published_numbers_are_not_typed(notebook):
    lesson = notebook.name[:2]
    claims = {c.id: c for c in load_claims().for_lesson(lesson)}
    text = "\n".join(code_cells(notebook))
    for claim_id in re.findall(r'repro\.record\(\s*"([^"]+)"', text):
        assert claim_id in claims, (
            f"{claim_id} is recorded but not registered in lessons/{notebook.stem}/lesson.toml"
        )
    for claim in claims.values():
        value = claim.published
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        for form in {f"{value:g}", f"{value:.2f}", f"{value:.1f}"}:
            if sum(ch.isdigit() for ch in form) >= 3 and re.search(
                rf"(?<![\d.]){re.escape(form)}(?![\d])", text
            ):
                pytest.fail(
                    f"{form} (published value of {claim.id}) is typed into a cell: "
                    f'use repro.published("{claim.id}")'
                )


def test_committed_without_outputs_except_checked_cells(notebook):
    """Outputs are stored only where nbval compares them: cells marked # NBVAL_CHECK_OUTPUT, whose
    metadata says keep_output (so nbstripout, the pre-commit hook, leaves them)."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    for i, cell in enumerate(c for c in nb["cells"] if c["cell_type"] == "code"):
        checked = "NBVAL_CHECK_OUTPUT" in "".join(cell["source"])
        keep = cell["metadata"].get("keep_output", False)
        assert checked == keep, f"code cell {i + 1}: # NBVAL_CHECK_OUTPUT and keep_output disagree"
        problem = "a checked cell needs its stored output" if checked else "output to strip"
        assert checked == bool(cell["outputs"]), f"code cell {i + 1}: {problem}"


def test_exercises_before_what_it_means_each_checked(notebook):
    from course_lib.exercises import exercises_for

    lesson = notebook.name[:2]
    wanted = [e.id for e in exercises_for(lesson)]
    assert 2 <= len(wanted) <= 4, f"lesson {lesson} has {len(wanted)} exercises (2-4 wanted)"
    source = "\n".join(code_cells(notebook))
    checked = re.findall(r'check\("(\d\d\.[a-z_0-9]+)"', source)
    assert checked == wanted, f"the notebook checks {checked}, the catalog lists {wanted}"
    headings = [s.split("\n")[0] for kind, s, _ in cells(notebook) if kind == "markdown"]
    assert "## Exercises" in headings, "an '## Exercises' section before '## What it means'"
