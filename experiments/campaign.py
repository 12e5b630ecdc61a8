"""The GPU measurement campaign: every GPU measurement of the course in one budgeted command.

    python -m experiments gpu-campaign --budget-s 480 --out gpu-run      # on a GPU machine
    python -m experiments gpu-campaign --budget-s 300 --out gpu-run      # again: resumes

Items run in priority order (:data:`experiments.campaign_items.ITEMS`), each a subprocess that
writes its own JSON into ``--out`` (named after the GPU, ready to copy into
``experiments/results/``), and
``campaign.json`` records after every item what ran, for how long, and what was skipped and why.
Each item knows its rough cost on an H100/H200; an item whose cost (scaled by how the finished
items compared with their estimates) does not fit the budget left is skipped with that reason,
and a later run with ``--out`` the same folder does only what is not done yet.  Without a GPU,
every GPU item is skipped at once and the JSON says so.  The commands import only what the GPU
machine has (torch, CuPy, NumPy, pytest): no papermill there, so no notebook runs.

A lesson registers a measurement by adding an :class:`Item` to
:mod:`experiments.campaign_items`; its JSON is what the lesson reads
from ``experiments/results/``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from course_lib.backend import describe_machine
from course_lib.repro import write_json
from experiments.campaign_items import ITEMS, REPO

OVER_BUDGET = "needs about"  # how a skip for time begins; the entry also says over_budget


def gpu_slug(machine: dict) -> str:
    """'NVIDIA H200' -> 'h200': the GPU's name as a file-name part."""
    name = (machine.get("gpu") or "cpu").lower().replace("nvidia", "").replace("geforce", "")
    return re.sub(r"[^a-z0-9]+", "_", name).strip("_") or "gpu"


def parity_json(xml_path: Path, json_path: Path) -> dict:
    """The junit XML of the parity tests as counts and the names of the failures."""
    suite = ET.parse(xml_path).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    cases = suite.iter("testcase")
    bad = [c for c in cases if c.find("failure") is not None or c.find("error") is not None]
    failed = [f"{c.get('classname')}.{c.get('name')}" for c in bad]
    counts = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    passed = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    head = {"benchmark": "gpu_parity", "machine": describe_machine()}
    result = {**head, **counts, "passed": passed, "failed": failed}
    write_json(json_path, result)
    return result


def measured(path: Path) -> dict:
    """What an item's JSON holds so far: whether it finished, and how many configurations
    (runs) it recorded (a benchmark writes its JSON after each one, "finished": null)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"output_written": False}
    runs = data.get("runs")
    configurations = {"configurations": len(runs)} if isinstance(runs, list) else {}
    finished = bool(data.get("finished", True))
    return {"output_written": True, "output_finished": finished, **configurations}


def _parity_verdict(xml_path: Path, json_path: Path, status: str) -> str:
    """The parity item's status: its JSON written from the junit XML; "failed (no test ran)"
    when every test was skipped or none was collected, whatever pytest's exit status."""
    if not xml_path.is_file():
        return status if status != "done" else "failed (no junit XML written)"
    counts = parity_json(xml_path, json_path)
    if counts["passed"] + counts["failures"] + counts["errors"] == 0:
        return f"failed (no test ran: {counts['skipped']} skipped)"
    return status


def _run(argv: list[str], timeout: float, log: Path) -> tuple[str, float]:
    """Run ``python argv`` with a time limit; returns (status, seconds)."""
    t0 = time.perf_counter()
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=path)
    with open(log, "w", encoding="utf-8") as f:
        proc = subprocess.Popen(
            [sys.executable, *argv],
            cwd=REPO,
            stdout=f,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        try:
            rc = proc.wait(timeout=max(timeout, 1))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return "timeout", time.perf_counter() - t0
    return ("done" if rc == 0 else f"failed (exit {rc})"), time.perf_counter() - t0


def run(out: Path, budget_s: float, items=None, *, has_gpu=None, only=None, smoke=False) -> dict:
    """Run the campaign into ``out``; returns (and writes) campaign.json's content.

    ``smoke``: every item's own command with its :attr:`Item.smoke` arguments appended (tiny
    sizes, CPU backends), so the whole campaign's code runs on a machine without a GPU (under
    :mod:`experiments.gpu_image`'s guard, with the GPU image's packages only)."""
    items = ITEMS if items is None else items
    has_gpu = True if smoke else _torch_sees_a_gpu() if has_gpu is None else has_gpu
    out.mkdir(parents=True, exist_ok=True)
    record_path = out / "campaign.json"
    earlier = json.loads(record_path.read_text()) if record_path.is_file() else {}
    done_before = {i["name"] for i in earlier.get("items", []) if i["status"] == "done"}
    machine = describe_machine()
    slug = gpu_slug(machine)
    head = {"benchmark": "gpu_campaign", "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
    record = {**head, "machine": machine, "budget_s": budget_s, "smoke": smoke, "items": []}
    t_start, spent, estimated = time.perf_counter(), 0.0, 0.0
    for item in items:
        entry = dict(name=item.name, lesson=item.lesson, what=item.what, estimate_s=item.estimate_s)
        entry["output"] = item.output.format(slug=slug)
        left = budget_s - (time.perf_counter() - t_start)
        scale = min(max(spent / estimated, 0.5), 3.0) if estimated else 1.0
        reason = _skip_reason(item, has_gpu, only, done_before, left, scale)
        if reason:
            status = "done earlier" if item.name in done_before else "skipped"
            entry.update(status=status, reason=reason)
            if reason.startswith(OVER_BUDGET):
                entry["over_budget"] = True
        else:
            log = out / f"{item.name}.log"
            argv = [*item.command(out, slug), *(item.smoke if smoke else ())]
            status, seconds = _run(argv, left, log)
            entry.update(status=status, seconds=round(seconds, 1), log=log.name)
            entry.update(measured(out / entry["output"]))
            if item.name == "parity" and not smoke:
                xml_path = out / f"parity_{slug}.xml"
                status = _parity_verdict(xml_path, out / entry["output"], status)
                entry["status"] = status
            if status == "done":
                spent, estimated = spent + seconds, estimated + item.estimate_s
        record["items"].append(entry)
        why = f"{entry.get('reason', '')}{entry.get('seconds', '')}"
        print(f"[gpu-campaign] {item.name:10} {entry['status']:12} {why}", flush=True)
        write_json(record_path, {**record, "finished": None})
    record["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    write_json(record_path, record)
    return record


def _torch_sees_a_gpu() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def _skip_reason(item, has_gpu, only, done_before, left, scale) -> str:
    """Why ``item`` does not run now ("" when it runs)."""
    if only and item.name not in only:
        return "not asked for (--only)"
    if item.name in done_before:
        return "finished in an earlier run into this folder"
    if item.unavailable:
        return item.unavailable
    if item.needs_gpu and not has_gpu:
        return "no CUDA GPU here (torch.cuda.is_available() is False)"
    if not has_gpu:
        return "measures the CPU of a GPU machine: pointless without a GPU"
    if item.estimate_s * scale > left:
        return f"{OVER_BUDGET} {item.estimate_s * scale:.0f} s, {left:.0f} s of the budget left"
    return ""


def merge(run_dir: Path, results_dir: Path = REPO / "experiments" / "results") -> list[Path]:
    """Copy a campaign's JSON into ``results_dir`` (the files lessons read); returns them.

    Every item's output that was written is copied, and ``campaign.json`` as
    ``gpu_campaign_<gpu>_<start time>.json``.  The NumPy run on the GPU machine's cores
    (``sae_cpu``) is merged into the GPU SAE file, as the run the speed-up divides by (same
    machine, same protocol; ``merged_from`` names both files)."""
    run_dir, results_dir = Path(run_dir), Path(results_dir)
    record = json.loads((run_dir / "campaign.json").read_text(encoding="utf-8"))
    slug = gpu_slug(record["machine"])
    outputs = {i["name"]: run_dir / i["output"] for i in record["items"] if i.get("output")}
    written = []
    for name, path in outputs.items():
        if name == "sae_cpu" or not path.is_file():
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        if name == "sae_seed" and outputs.get("sae_cpu", Path()).is_file():
            cpu = json.loads(outputs["sae_cpu"].read_text(encoding="utf-8"))
            data = _merge_sae(data, cpu, [path.name, outputs["sae_cpu"].name])
        write_json(results_dir / path.name, data)
        written.append(results_dir / path.name)
    stamp = record["started"].replace("-", "").replace(":", "").replace("T", "-")
    record_path = results_dir / f"gpu_campaign_{slug}_{stamp}.json"  # one per call: all kept
    write_json(record_path, record)
    return [*written, record_path]


def _merge_sae(gpu: dict, cpu: dict, names: list[str]) -> dict:
    """The GPU SAE result with the CPU result's runs added (same protocol, same machine)."""
    from experiments.bench_sae import agreement

    same = {k: v for k, v in gpu["protocol"].items() if k != "progress_bar"}
    if {k: cpu["protocol"].get(k) for k in same} != same or gpu["machine"] != cpu["machine"]:
        raise ValueError(f"{names[1]}: not the protocol and machine of {names[0]}; not merged")
    runs = [dict(r) for r in cpu["runs"] + gpu["runs"]]
    agreement(runs)
    notes = "; ".join(filter(None, [gpu.get("note"), cpu.get("note")]))
    skipped = gpu.get("skipped", []) + cpu.get("skipped", [])
    failed = gpu.get("failed", []) + cpu.get("failed", [])
    merged = {"note": notes, "runs": runs, "merged_from": names}
    return {**gpu, **merged, "skipped": skipped, "failed": failed}


DEVICE_SCRIPT = "experiments/gpu_image/on_device.sh"


def plan(budget_s: float = 470) -> str:
    """The recipe a session lent a GPU machine follows: one device call, then the merge."""
    rows = []
    for item in ITEMS:
        if item.unavailable:
            rows.append(f"  -  {item.name:16s} not run: {item.unavailable}")
        else:
            output = item.output.format(slug="<gpu>")
            rows.append(f"  {item.estimate_s:4.0f} s {item.name:16s} -> {output:30s} {item.what}")
    runnable = sum(i.estimate_s for i in ITEMS if not i.unavailable)
    lines = [
        "The GPU campaign in one device call (about 15 minutes of device time per session):",
        "",
        "1. Here, carry MNIST in a git-ignored folder (12 MB of the 64 MiB that travels):",
        '     mkdir -p .gpu-data && cp -r "$COURSE_DATA/mnist" .gpu-data/',
        "   The campaign imports only what the GPU image has (checked by",
        "   python -m experiments.gpu_image -m experiments gpu-campaign --smoke, part of",
        "   make test); a package it ever lacks travels as a wheel in .whl/ (see the device",
        "   tool's README), which the script installs.",
        "2. One device call, from the repository root, then give the machine back:",
        f"     command: bash {DEVICE_SCRIPT} {budget_s:.0f}",
        f'     carry: [".gpu-data"] (and ".whl" if used); timeout_s: {budget_s + 90:.0f}',
        "   It writes $OUT/gpu-run.tar.gz and $OUT/campaign.json.",
        "3. Merge: tar xzf gpu-run.tar.gz, then python -m experiments gpu-campaign --merge",
        "   gpu-run copies each item's JSON into experiments/results/ (partial ones say",
        '   "finished": null; campaign.json says which configurations ran); add a row to',
        "   experiments/results/README.md and commit. Lessons 05, 07 and 11 read them there.",
        "",
        f"Items, in order (estimates on an H100/H200; {runnable:.0f} s if all run, budget "
        f"{budget_s:.0f} s: what does not fit is skipped and done by the next call into the "
        "same --out):",
        *rows,
    ]
    return "\n".join(lines)
