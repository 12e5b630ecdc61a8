"""course_lib.repro: files identified by their content, and claims that name their inputs."""

import hashlib
import json

import pytest

from course_lib import repro


def test_files_are_recorded_by_content_and_claims_name_them(tmp_path):
    path = tmp_path / "results.json"
    model = tmp_path / "model.npz"
    model.write_bytes(b"weights")
    repro.start(path, notebook="16_demo", profile="quick", seed=0)
    digest = repro.record_file("model", model)
    assert digest == "sha256:" + hashlib.sha256(b"weights").hexdigest()
    repro.record("course.demo_value", 1.5, inputs=["model"])
    data = json.loads(path.read_text())
    assert data["files"]["model"]["checksum"] == digest
    assert data["claims"]["course.demo_value"]["inputs"] == {"model": digest}
    with pytest.raises(ValueError, match=r"inputs \['data'\] were not recorded"):
        repro.record("course.demo_value", 1.0, inputs=["data"])
    with pytest.raises(ValueError, match="file role"):
        repro.record_file("a model", model)


def test_a_dataset_is_recorded_with_its_verified_registry_checksum(tmp_path, data_dir):
    repro.start(tmp_path / "r.json")
    got = repro.record_dataset("mnist-test-labels", data_dir)
    assert got.startswith("sha256:ff7bcfd4")
    assert repro.recorded_files() == {"mnist-test-labels": got}


def test_a_version_changes_with_any_file_and_not_with_their_order():
    a = repro.version({"x": "sha256:1", "y": "sha256:2"})
    assert a == repro.version({"y": "sha256:2", "x": "sha256:1"})
    assert a != repro.version({"x": "sha256:1", "y": "sha256:3"})


def test_every_dataset_a_lesson_reads_is_recorded_by_its_checksum(tmp_path, data_dir):
    from course_lib.data.registry import entry
    from course_lib.data.store import locate

    locate("mnist-train-labels", data_dir)  # before the run starts: not this run's data
    path = tmp_path / "r.json"
    repro.start(path, notebook="16_demo", profile="quick", seed=0)
    locate("mnist-test-labels", data_dir)
    repro.record("course.demo_value", 1.0)
    files = json.loads(path.read_text())["files"]
    assert list(files) == ["mnist-test-labels"]
    assert files["mnist-test-labels"]["checksum"] == entry("mnist-test-labels").checksum


def test_the_results_file_names_the_run_data_version_of_every_recorded_file(tmp_path):
    path, model = tmp_path / "results.json", tmp_path / "model.npz"
    model.write_bytes(b"weights")
    repro.start(path, notebook="16_demo", profile="quick", seed=0)
    first = repro.record_file("model", model)
    assert json.loads(path.read_text())["data_version"] == repro.version({"model": first})
    model.write_bytes(b"weightz")
    second = repro.record_file("model", model)
    assert json.loads(path.read_text())["data_version"] == repro.version({"model": second})
    assert repro.version({"model": first}) != repro.version({"model": second})


def test_the_report_shows_a_run_data_version_and_none_for_a_run_without_one():
    from experiments.report_markdown import file_lines

    files = {"model": {"checksum": "sha256:" + "a" * 64, "path": "/x/model.npz", "note": ""}}
    assert "Data version of this run: `sha256:bbbbbbbbbbbb`" in file_lines(
        files, "sha256:" + "b" * 64
    )
    assert not any("Data version" in line for line in file_lines(files))


def test_the_8x8_digits_file_is_the_one_scikit_learn_reads():
    from course_lib.data import digits_file

    path = digits_file()
    assert path.name == "digits.csv.gz" and path.stat().st_size > 10_000
