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


def test_the_results_name_the_devices_the_lesson_actually_used(tmp_path, monkeypatch):
    from course_lib import backend

    monkeypatch.setattr(backend, "_USED", set())
    path = tmp_path / "02_demo.json"
    repro.start(path, notebook="02_demo", profile="quick", seed=0)
    assert json.loads(path.read_text())["devices"] == ["cpu"]  # chose nothing: the CPU
    monkeypatch.setattr(backend, "gpu_available", lambda: False)
    assert backend.xp_for("auto") is np and backend.torch_device("cpu").type == "cpu"
    repro.record("demo.value", 1.0)
    assert json.loads(path.read_text())["devices"] == ["cpu (NumPy)", "cpu (torch)"]


def test_figures_are_saved_beside_the_results(tmp_path):
    rec = repro.Recorder(tmp_path / "01_x.json")
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    out = rec.save_figure(fig, "curve", caption="a line")
    plt.close(fig)
    assert out.exists() and out.parent.name == "01_x_figures"
    (saved,) = json.loads((tmp_path / "01_x.json").read_text())["figures"]
    assert saved["path"] == "01_x_figures/curve.png" and saved["caption"] == "a line"
    assert 400 < saved["width_px"] <= 640  # 6.4 inches at 100 dpi, trimmed to its contents


def test_a_figure_records_its_width_in_pixels(tmp_path):
    rec = repro.Recorder(tmp_path / "01_x.json")
    for name, inches in (("narrow", 3.0), ("wide", 20.0)):
        fig, ax = plt.subplots(figsize=(inches, 2))
        ax.plot([0, 1])
        rec.save_figure(fig, name)
        plt.close(fig)
    widths = [f["width_px"] for f in json.loads((tmp_path / "01_x.json").read_text())["figures"]]
    assert widths[0] < 300 < repro.WIDEST_FIGURE_PX < widths[1]
    with pytest.raises(ValueError, match="not a PNG"):
        repro.png_width(tmp_path / "01_x.json")


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


QUICK = {"n_train": 6000, "lr": 0.1, "dims": (2, 10), "finetune": "adam"}
FULL = {"n_train": 60000, "lr": 0.01, "dims": (2, 10, 50), "finetune": "cg"}


def test_profile_picks_a_copy_of_the_chosen_settings():
    cfg = repro.profile("quick", quick=QUICK, full=FULL)
    assert isinstance(cfg, repro.Settings) and isinstance(cfg, dict) and cfg == QUICK
    assert cfg.n_train == cfg["n_train"] == 6000 and cfg.dims == (2, 10)
    cfg.n_train = 5
    assert cfg["n_train"] == 5 and QUICK["n_train"] == 6000  # the profile itself is untouched
    assert repro.profile("full", quick=QUICK, full=FULL).finetune == "cg"
    with pytest.raises(AttributeError, match="no setting 'n_test'"):
        cfg.n_test  # noqa: B018
    assert repr(cfg) == "Settings(n_train=5, lr=0.1, dims=(2, 10), finetune='adam')"
    long = repro.Settings({f"setting_{i}": i for i in range(12)})
    assert repr(long).splitlines()[:2] == ["Settings(", "    setting_0=0,"]


def test_profile_overrides_keep_the_profile_type_and_none_is_ignored():
    cfg = repro.profile(
        "full", quick=QUICK, full=FULL, n_train="4000", lr=1, dims=None, finetune="both"
    )
    assert cfg == {"n_train": 4000, "lr": 1.0, "dims": (2, 10, 50), "finetune": "both"}
    assert type(cfg.n_train) is int and type(cfg.lr) is float
    assert repro.profile("quick", quick=QUICK, full=FULL, n_train=4000.0, lr="1e-3") == {
        **QUICK,
        "n_train": 4000,
        "lr": 0.001,
    }


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"n_train": "lots"}, "n_train='lots'"),
        ({"n_train": 4000.5}, "n_train=4000.5: expected int"),
        ({"n_train": True}, "n_train=True"),
        ({"lr": "fast"}, "lr='fast': expected float"),
        ({"n_tran": 5}, "unknown parameter 'n_tran'.*n_train, lr, dims, finetune"),
        ({"n_tran": None}, "unknown parameter 'n_tran'"),
    ],
)
def test_profile_rejects_bad_overrides(kwargs, words):
    with pytest.raises(ValueError, match=words):
        repro.profile("quick", quick=QUICK, full=FULL, **kwargs)


def test_profile_names_and_keys_are_checked():
    with pytest.raises(ValueError, match="^unknown profile 'fast': choose one of quick, full$"):
        repro.profile("fast", quick=QUICK, full=FULL)
    with pytest.raises(ValueError, match="only in quick: finetune; only in full: epochs"):
        repro.profile(
            "quick",
            quick=QUICK,
            full={**{k: v for k, v in FULL.items() if k != "finetune"}, "epochs": 3},
        )


def test_published_reads_the_registry_once(tmp_path, monkeypatch):
    from course_lib.claims import UnknownClaimError

    monkeypatch.delenv("COURSE_CLAIMS", raising=False)
    assert repro.published("hinton2006.ae30_test_sqerr") == 3.0
    with pytest.raises(KeyError) as info:
        repro.published("hinton2006.ae30_test_sqer")
    assert isinstance(info.value, UnknownClaimError)
    assert "'hinton2006.ae30_test_sqer'" in str(info.value) and "hinton2006.ae30_test_sqerr" in str(
        info.value
    )
    with pytest.raises(LookupError, match="no claim has the source 'nobody1999'"):
        repro.published("nobody1999.x")

    claim = (
        '[[claim]]\nid = "demo.flag"\nlesson = "01"\ntitle = "t"\npublished = {}\n'
        'source = "s"\nchecked = true\n'
    )
    (tmp_path / "01.toml").write_text(claim.format("true"))
    monkeypatch.setenv("COURSE_CLAIMS", str(tmp_path))
    assert repro.published("demo.flag") is True
    (tmp_path / "01.toml").write_text(claim.format("false"))
    assert repro.published("demo.flag") is True  # cached for the process
