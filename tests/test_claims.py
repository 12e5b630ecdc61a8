"""The claims registry: merging per-lesson TOML files, the errors that name the file at fault,
where the folder is found, and the one claim-id pattern."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import course_lib
from course_lib import claims, repro
from course_lib.claims import ClaimsError, bound_problems, format_bound, load_claims
from course_lib.lessons import LESSONS_DIR

REPO = Path(__file__).resolve().parents[1]

GOOD = """
title = "Lesson {lesson}"

[[claim]]
id = "{id}"
lesson = "{lesson}"
title = "A claim"
published = 3.0
unit = "squared error"
source = "Somebody 2006"
checked = true
full = {{ max = 3.5 }}
quick = {{ min = 0.0, max = 20.0 }}
"""


def write(folder, name, text):
    (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")


def claims_error(folder) -> str:
    with pytest.raises(ClaimsError) as info:
        load_claims(folder)
    return str(info.value)


def test_files_merge_in_lesson_order(tmp_path):
    write(tmp_path, "05.toml", GOOD.format(lesson="05", id="b2006.y"))
    write(tmp_path, "04.toml", GOOD.format(lesson="04", id="a2006.x"))
    write(tmp_path, "11.toml", 'title = "Measurements only"\n')
    registry = load_claims(tmp_path)
    assert [c.id for c in registry.claims] == ["a2006.x", "b2006.y"]
    assert registry.lessons == ["04", "05", "11"]
    assert registry.titles["11"] == "Measurements only"
    claim = registry.get("a2006.x")
    assert claim.bound("full") == {"max": 3.5} and claim.file == "04.toml"
    assert claim.unit == "squared error" and claim.setting == ""


def test_optional_bound_means_no_bound(tmp_path):
    text = GOOD.format(lesson="04", id="a2006.x").replace("quick = { min = 0.0, max = 20.0 }\n", "")
    write(tmp_path, "04.toml", text)
    assert load_claims(tmp_path).get("a2006.x").bound("quick") is None


def test_duplicate_id_names_both_files(tmp_path):
    write(tmp_path, "04.toml", GOOD.format(lesson="04", id="a2006.x"))
    write(tmp_path, "05.toml", GOOD.format(lesson="05", id="a2006.x"))
    message = claims_error(tmp_path)
    assert "05.toml" in message and "duplicate id" in message and "04.toml" in message


def test_missing_field_and_wrong_lesson(tmp_path):
    text = GOOD.format(lesson="05", id="a2006.x").replace('source = "Somebody 2006"\n', "")
    write(tmp_path, "04.toml", text)
    message = claims_error(tmp_path)
    assert "04.toml: claim #1 (a2006.x)" in message
    assert "missing required field 'source'" in message
    assert "lesson is '05' but the file is lesson 04's" in message


@pytest.mark.parametrize(
    "bad, expected",
    [
        ("full = { tol = 0.1 }", "full bound unknown key(s) tol"),
        ("full = { equals = 1, max = 2 }", "equals cannot be combined"),
        ('full = { max = "3" }', "max must be a finite number"),
        ("full = { min = 5.0, max = 1.0 }", "min 5.0 is above max 1.0"),
        ("full = {}", "is empty"),
        ('id = "Hinton2006-AE"', "id must look like 'source.name'"),
        ("published = [1, 2]", "'published' has the wrong type"),
        ("checked = 'yes'", "'checked' has the wrong type"),
        ("tolerance = 0.1", "unknown field(s) tolerance"),
    ],
)
def test_validation_errors(tmp_path, bad, expected):
    key = bad.split(" =")[0]
    lines = [
        line
        for line in GOOD.format(lesson="04", id="a2006.x").splitlines()
        if not line.startswith(key + " ")
    ]
    write(tmp_path, "04.toml", "\n".join(lines) + "\n" + bad + "\n")
    message = claims_error(tmp_path)
    assert "04.toml" in message and expected in message


def test_syntax_error_and_bad_file_name(tmp_path):
    write(tmp_path, "04.toml", "[[claim]\nid = ")
    write(tmp_path, "lenet.toml", GOOD.format(lesson="06", id="c1998.z"))
    message = claims_error(tmp_path)
    assert "04.toml: not valid TOML" in message
    assert "lenet.toml: claims files are named by lesson number" in message


def test_bound_helpers():
    assert bound_problems({"min": 1, "max": 2}) == []
    assert bound_problems({"equals": True}) == []
    assert bound_problems(3.5) == ["must be a table such as { max = 3.5 }"]
    assert format_bound({"max": 3.5}) == "≤ 3.5"
    assert format_bound({"min": 0.9, "max": 1.1}) == "0.9 – 1.1"
    assert format_bound({"equals": True}) == "= true"
    assert format_bound(None) == "—"


def test_course_registry_is_valid():
    registry = load_claims(LESSONS_DIR)
    lessons = set(registry.lessons)
    assert {f"{n:02d}" for n in range(6, 17)} <= lessons
    unchecked = [c for c in registry.claims if not c.checked and c.lesson >= "06"]
    assert unchecked and all(
        c.full is None for c in unchecked
    )  # "check" numbers are no threshold yet


def test_default_folder_is_the_lessons_homes_found_from_the_library(monkeypatch):
    monkeypatch.delenv("COURSE_CLAIMS", raising=False)
    monkeypatch.delenv("COURSE_LESSONS", raising=False)
    assert LESSONS_DIR == Path(course_lib.__file__).resolve().parents[1] / "lessons"
    assert LESSONS_DIR == REPO / "lessons"
    assert claims.claims_dir() == LESSONS_DIR
    found = load_claims().get("hinton2006.ae30_test_sqerr")
    assert found is not None and found.file == "04_deep_autoencoders/lesson.toml"


def test_a_lesson_home_holds_its_claims_beside_its_benchmarks_and_results(tmp_path):
    home = tmp_path / "04_autoencoders"
    home.mkdir()
    manifest = 'benchmarks = ["experiments.bench_sae"]\nresults = []\n'
    write(home, "lesson.toml", manifest + GOOD.format(lesson="04", id="a2006.x"))
    (tmp_path / "notes").mkdir()  # not a home: ignored
    registry = load_claims(tmp_path)
    assert registry.titles == {"04": "Lesson 04"}
    assert registry.claim("a2006.x").file == "04_autoencoders/lesson.toml"
    write(home, "lesson.toml", 'benchmarks = "bench_sae"\n' + GOOD.format(lesson="05", id="a.x"))
    message = claims_error(tmp_path)
    assert "04_autoencoders/lesson.toml: benchmarks must be a list of strings" in message
    assert "lesson is '05' but the file is lesson 04's" in message


def test_course_claims_variable_overrides_the_default(tmp_path, monkeypatch):
    write(tmp_path, "04.toml", GOOD.format(lesson="04", id="a2006.x"))
    monkeypatch.setenv("COURSE_CLAIMS", str(tmp_path))
    assert claims.claims_dir() == tmp_path
    assert [c.id for c in load_claims().claims] == ["a2006.x"]
    assert claims.claims_dir(REPO) == REPO  # an explicit folder wins


def test_missing_folder_names_it_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CLAIMS", str(tmp_path / "nowhere"))
    message = claims_error(None)
    assert (
        str(tmp_path / "nowhere") in message
        and "COURSE_CLAIMS" in message
        and "--claims" in message
    )


def test_claims_errors_are_value_errors_and_the_command_line_shows_them(tmp_path, capsys):
    from experiments.__main__ import main

    assert issubclass(ClaimsError, ValueError)
    write(tmp_path, "04.toml", "[[claim]\nid = ")
    assert main(["list", "--claims", str(tmp_path), "--notebooks", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: invalid claims in") and "Traceback" not in err


def test_one_claim_id_pattern_shared_by_the_recorder():
    assert repro.CLAIM_ID is claims.CLAIM_ID
    pattern = claims.CLAIM_ID.pattern
    sources = [*(REPO / "course_lib").rglob("*.py"), *(REPO / "experiments").rglob("*.py")]
    assert [p.name for p in sources if pattern in p.read_text(encoding="utf-8")] == [
        "claim_fields.py"
    ]


def test_the_library_reads_claims_without_importing_experiments():
    code = (
        "import sys; from course_lib import claims, repro; claims.load_claims(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'experiments'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_without_tomllib_reading_claims_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(claims, "tomllib", None)  # Python 3.10 without tomli: a clear message
    assert "pip install tomli" in claims_error(LESSONS_DIR)
