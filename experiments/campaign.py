"""The GPU measurement campaign: every GPU measurement of the course in one budgeted command.

    python -m experiments gpu-campaign --budget-s 480 --out gpu-run      # on a GPU machine
    python -m experiments gpu-campaign --budget-s 300 --out gpu-run      # again: resumes

Items run in priority order (:data:`ITEMS`), each a subprocess that writes its own JSON into
``--out`` (named after the GPU, ready to copy into ``experiments/results/``), and
``campaign.json`` records after every item what ran, for how long, and what was skipped and why.
Each item knows its rough cost on an H100/H200; an item whose cost (scaled by how the finished
items compared with their estimates) does not fit the budget left is skipped with that reason,
and a later run with ``--out`` the same folder does only what is not done yet.  Without a GPU,
every GPU item is skipped at once and the JSON says so.  The commands import only what the GPU
machine has (torch, CuPy, NumPy, pytest): no papermill there, so no notebook runs.

A lesson registers a measurement by adding an :class:`Item`; its JSON is what the lesson reads
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
from dataclasses import dataclass, field
from pathlib import Path

from course_lib.backend import describe_machine
from course_lib.data.store import available
from course_lib.repro import write_json

REPO = Path(__file__).resolve().parents[1]
GPU_BACKENDS_SAE = "cupy,torch-cuda,torch-cuda-graph"


@dataclass(frozen=True)
class Item:
    """One measurement: ``command(out_dir, slug)`` -> argv after ``python``; it writes
    ``output`` (``{slug}`` is the GPU's name) into the folder."""

    name: str
    lesson: str
    estimate_s: float
    command: object
    output: str
    what: str
    needs_gpu: bool = True
    unavailable: str = ""  # why this item cannot run yet, if it cannot
    smoke: tuple = ()  # appended by --smoke: the same command, tiny and on the CPU
    extra: dict = field(default_factory=dict)


def _bench(name: str, args: str, output: str, note: str = ""):
    """``-m experiments.bench_<name> <args> [--note <note>] --out <out>/<output>``: ``args`` split
    at spaces (no argument in it holds one), ``note`` one argument."""
    argv = ["-m", f"experiments.bench_{name}", *args.split(), *(["--note", note] if note else [])]
    return lambda out, slug: [*argv, "--out", str(out / output.format(slug=slug))]


def _bench_item(name, lesson, estimate_s, bench, args, output, what, note="", **kw) -> Item:
    """An :class:`Item` that runs ``experiments.bench_<bench> <args>`` into ``output``."""
    return Item(name, lesson, estimate_s, _bench(bench, args, output, note), output, what, **kw)


def _parity(out, slug):
    tests = sorted(str(p.relative_to(REPO)) for p in (REPO / "tests").glob("test_*.py"))
    files = [t for t in tests if "mark.gpu" in (REPO / t).read_text(encoding="utf-8")]
    junit = f"--junitxml={out / f'parity_{slug}.xml'}"
    return ["-m", "pytest", "-m", "gpu", "-q", "-p", "no:cacheprovider", *files, junit]


def _resnet(n):
    name = f"resnet{6 * n + 2}_cifar10"
    args = ["-m", "experiments.train_resnet", "--n", str(n), "--time-limit-s", "560", "--out"]
    return lambda out, slug: [*args, str(out / f"{name}_{slug}.json")]


_NO_CIFAR = (
    "CIFAR-10 is not on this machine: put cifar-10/cifar-10-python.tar.gz in COURSE_DATA "
    "(course_lib.data.load_cifar10() downloads it where there is a network)"
)
_CIFAR_MISSING = "" if available("cifar-10") else _NO_CIFAR

_SAE_TINY = "--images 300 --pretrain-epochs 1 --finetune-epochs 1 --batch-sizes 100 --no-warmup"
SAE_SMOKE = ("--backends", "numpy,torch-cpu", *_SAE_TINY.split())
_ALEXNET_TINY = "--in-size 67 --width 0.25 --batch 2 --steps 1 --warmup 0 --settle 0 --threads 2"
ALEXNET_SMOKE = ("--dtypes", "float32", *_ALEXNET_TINY.split())
ALEXNET_TORCH = "torch-cuda,torch-cuda:tf32,torch-cuda:bf16,torch-cuda:bf16+cl"

# In priority order: what turns into the course's verdicts first.  estimate_s: seconds on an
# H100/H200 (the SAE items from the 2-core CPU times and the GPU's launch-bound steps; refined
# by the first measured run, campaign.json's "seconds").
ITEMS = [
    Item(
        "parity",
        "all",
        120,
        _parity,
        "parity_{slug}.json",
        "pytest -m gpu: NumPy vs CuPy and torch CPU vs CUDA, every from-scratch layer "
        "(fails when no test ran)",
        smoke=("--collect-only",),
    ),
    _bench_item(
        "sae_seed",
        "05",
        150,
        "sae",
        f"--backends {GPU_BACKENDS_SAE} --batch-sizes 100",
        "sae_speed_{slug}.json",
        "seed 000's protocol (50,000 images, 15x4 + 5 epochs), batch 100: CuPy, torch CUDA, "
        "CUDA graphs",
        smoke=SAE_SMOKE,
    ),
    _bench_item(
        "sae_cpu",
        "05",
        120,
        "sae",
        "--backends numpy --batch-sizes 100",
        "sae_speed_{slug}_cpu.json",
        "the same protocol in NumPy on the GPU machine's CPU cores "
        "(seed000.sae_gpu_speedup's denominator)",
        note="the CPU cores of the GPU machine: the speed-up's denominator",
        needs_gpu=False,
        smoke=SAE_SMOKE,
    ),
    _bench_item(
        "alexnet",
        "07",
        120,
        "alexnet",
        f"--backends cupy,{ALEXNET_TORCH} --dtypes float32,float64 --threads 16",
        "alexnet_speed_{slug}.json",
        "lesson 07: AlexNet and the seed's net, training images/s, "
        "CuPy vs torch (float32, float64; TF32, bf16, channels-last)",
        smoke=("--backends", "numpy,torch-cpu,torch-cpu:bf16+cl", *ALEXNET_SMOKE),
    ),
    _bench_item(
        "speed",
        "11",
        120,
        "speed",
        "--device cuda --scale full",
        "speed_{slug}.json",
        "lesson 11: MLP training rate by batch (seed 002's 10x), products by dtype (TF32, bf16, "
        "fp16), triad, launch cost, fusion (Triton), cudnn.benchmark",
        smoke=("--device", "cpu", "--scale", "tiny"),
    ),
    _bench_item(
        "kernels",
        "11",
        60,
        "kernels",
        "",
        "kernels_{slug}.json",
        "lesson 11: the hand-written numba.cuda kernels (naive and tiled product, grid-stride "
        "add, block sum) against cuBLAS/CuPy",
        smoke=("--simulator", "--repeats", "1"),
    ),
    _bench_item(
        "alexnet_b128",
        "07",
        90,
        "alexnet",
        f"--backends cupy,{ALEXNET_TORCH} --dtypes float32 --batch 128 --threads 16",
        "alexnet_speed_b128_{slug}.json",
        "lesson 07: the same at the paper's batch of 128 (a GPU's batch: less launch-bound)",
        smoke=("--backends", "numpy", *ALEXNET_SMOKE),
    ),
    _bench_item(
        "sae_sweep",
        "05",
        60,
        "sae",
        f"--backends {GPU_BACKENDS_SAE} --batch-sizes 20,500,2000 --images 10000 "
        "--pretrain-epochs 1 --finetune-epochs 1",
        "sae_sweep_{slug}.json",
        "batch sizes 20, 500, 2000 on a reduced protocol",
        note="reduced protocol (10,000 images, 1+1 epochs) for the sweep",
        smoke=SAE_SMOKE,
    ),
    _bench_item(
        "alexnet_compile",
        "07",
        90,
        "alexnet",
        "--backends torch-cuda:bf16+cl+compile --dtypes float32 --threads 16",
        "alexnet_compile_{slug}.json",
        "lesson 07: the same with torch.compile (bf16, channels-last)",
        # smoke: dynamo and AOT autograd trace the step, no code generated
        smoke=("--backends", "torch-cpu:compile", "--compile-backend", "aot_eager", *ALEXNET_SMOKE),
    ),
    Item(
        "resnet20",
        "14",
        420,
        _resnet(3),
        "resnet20_cifar10_{slug}.json",
        "lesson 14: ResNet-20 on CIFAR-10, the paper's 64k-iteration recipe (torch twin, bf16)",
        unavailable=_CIFAR_MISSING,
    ),
    Item(
        "resnet56",
        "14",
        1000,
        _resnet(9),
        "resnet56_cifar10_{slug}.json",
        "lesson 14: ResNet-56 on CIFAR-10, the same recipe",
        unavailable=_CIFAR_MISSING,
    ),
    Item(
        "lstm",
        "09",
        120,
        None,
        "",
        "LSTM tokens/s, from-scratch CuPy against cuDNN",
        unavailable="bench lstm has no GPU path yet (CPU only)",
    ),
    Item(
        "cg04",
        "04",
        3600,
        None,
        "",
        "lesson 04's conjugate-gradient route at full scale",
        unavailable="runs as a notebook, and papermill is not on the GPU image",
    ),
]


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
        return f"needs about {item.estimate_s * scale:.0f} s, {left:.0f} s of the budget left"
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
