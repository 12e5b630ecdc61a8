"""Recording results by claim id."""
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_lib import repro  # noqa: E402


def test_records_go_to_the_results_file_after_every_call(tmp_path):
    path = tmp_path / "results" / "04_demo.json"
    repro.start(path, notebook="04_demo", profile="quick", seed=3)
    repro.record("hinton2006.ae30_test_sqerr", np.float32(4.5), note="quick")
    data = json.loads(path.read_text())
    assert data["claims"]["hinton2006.ae30_test_sqerr"] == {"value": 4.5, "note": "quick"}
    assert (data["notebook"], data["profile"], data["seed"]) == ("04_demo", "quick", 3)
    assert "numpy" in data["machine"]


def test_figures_are_saved_beside_the_results(tmp_path):
    rec = repro.Recorder(tmp_path / "01_x.json")
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    out = rec.save_figure(fig, "curve", caption="a line")
    plt.close(fig)
    assert out.exists() and out.parent.name == "01_x_figures"
    assert json.loads((tmp_path / "01_x.json").read_text())["figures"] == [
        {"path": "01_x_figures/curve.png", "caption": "a line"}
    ]


def test_interactive_use_records_to_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    repro.start(None)
    repro.record("demo.value", 1.25)
    assert "demo.value = 1.25" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", ["NoDots", "Upper.Case", "a..b", "a.b c"])
def test_malformed_claim_ids_are_refused(bad):
    with pytest.raises(ValueError, match="source.name"):
        repro.Recorder(None).record(bad, 1.0)


def test_values_must_be_numbers_bools_or_strings():
    with pytest.raises(TypeError, match="cannot record"):
        repro.Recorder(None).record("demo.value", [1, 2])
