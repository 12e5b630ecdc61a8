"""The GPU campaign: without a GPU every item is skipped with its reason in seconds; with fake
items (a GPU pretended), the budget skips what does not fit, failures and time-outs are recorded,
and a second run into the same folder resumes."""

import json

import pytest

from experiments import __main__ as cli
from experiments import campaign


def sleeper(seconds, code=0):
    return lambda out, slug: ["-c", f"import time, sys; time.sleep({seconds}); sys.exit({code})"]


def fake(name, estimate, command, **kw):
    return campaign.Item(name, "99", estimate, command, f"{name}_{{slug}}.json", "a fake", **kw)


def test_without_a_gpu_everything_is_skipped_at_once(tmp_path, capsys):
    assert cli.main(["gpu-campaign", "--out", str(tmp_path), "--budget-s", "480"]) == 0
    record = json.loads((tmp_path / "campaign.json").read_text())
    assert [i["name"] for i in record["items"]] == [i.name for i in campaign.ITEMS]
    assert all(i["status"] == "skipped" and i["reason"] for i in record["items"])
    assert record["finished"] and record["machine"]["cpu_count"]
    assert "no CUDA GPU" in capsys.readouterr().out


def test_budget_failures_timeouts_and_resuming(tmp_path):
    items = [
        fake("quick", 0.2, sleeper(0.1)),
        fake("broken", 0.2, sleeper(0, code=3)),
        fake("too_big", 1000, sleeper(0)),
        fake("hangs", 0.5, sleeper(60)),
        fake("later", 0.1, sleeper(0)),
    ]
    record = campaign.run(tmp_path, budget_s=4.0, items=items, has_gpu=True)
    status = {i["name"]: i["status"] for i in record["items"]}
    assert status["quick"] == "done" and status["broken"] == "failed (exit 3)"
    assert status["too_big"] == "skipped" and status["hangs"] == "timeout"
    reasons = {i["name"]: i.get("reason", "") for i in record["items"]}
    assert "budget left" in reasons["too_big"]
    assert status["later"] == "skipped"  # the hung item used up the budget
    hung = next(i for i in record["items"] if i["name"] == "hangs")
    assert hung["seconds"] < 10  # stopped at the budget, not after its minute
    again = campaign.run(tmp_path, budget_s=4.0, items=items[:1] + items[4:], has_gpu=True)
    assert [i["status"] for i in again["items"]] == ["done earlier", "done"]


def test_unknown_items_are_named(tmp_path, capsys):
    assert cli.main(["gpu-campaign", "--out", str(tmp_path), "--only", "speed,warp"]) == 2
    assert "warp" in capsys.readouterr().err


def test_parity_xml_becomes_counts(tmp_path):
    xml = tmp_path / "p.xml"
    xml.write_text(
        '<testsuites><testsuite tests="3" failures="1" errors="0" skipped="1">'
        '<testcase classname="t" name="a"/><testcase classname="t" name="b"><failure/></testcase>'
        '<testcase classname="t" name="c"><skipped/></testcase></testsuite></testsuites>'
    )
    out = campaign.parity_json(xml, tmp_path / "p.json")
    assert (out["tests"], out["passed"], out["failures"], out["failed"]) == (3, 1, 1, ["t.b"])


@pytest.mark.parametrize(("gpu", "slug"), [("NVIDIA H200", "h200"), (None, "cpu"),
                                          ("NVIDIA GeForce RTX 4090", "rtx_4090")])  # fmt: skip
def test_gpu_slug(gpu, slug):
    assert campaign.gpu_slug({"gpu": gpu}) == slug


def test_every_command_names_a_module_that_exists(tmp_path):
    for item in campaign.ITEMS:
        if item.command is None:
            assert item.unavailable
            continue
        argv = item.command(tmp_path, "h200")
        assert argv[0] == "-m"
        module = argv[1].replace(".", "/")
        assert module == "pytest" or (campaign.REPO / f"{module}.py").is_file()
