#!/usr/bin/env bash
# The GPU campaign as one device call, run from the repository root on the GPU machine under its
# image's python3 (see experiments/gpu_image/__init__.py and `python -m experiments gpu-campaign
# --plan`):
#     bash experiments/gpu_image/on_device.sh [BUDGET_S [ITEMS]]      (ITEMS: as --only takes)
# Reads MNIST from .gpu-data/mnist (carried, git-ignored); installs carried wheels from .whl/ if
# any; writes $OUT/gpu-run.tar.gz (campaign.json, every item's JSON and log, nvidia-smi) and
# $OUT/campaign.json.  A campaign stopped at its limit still leaves what it measured.
set -u
budget=${1:-470}
only=${2:+--only $2}
out=${OUT:-/tmp/gpu-out}
mkdir -p "$out" gpu-run
export COURSE_DATA="$PWD/.gpu-data" COURSE_OFFLINE=1 PYTHONUNBUFFERED=1 MPLBACKEND=Agg
if compgen -G ".whl/*.whl" > /dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
fi
{ nvidia-smi; python3 -c 'import sys, numpy, torch, cupy; print(sys.version);
print("numpy", numpy.__version__, "torch", torch.__version__, "cupy", cupy.__version__)'; } \
    > gpu-run/environment.txt 2>&1
timeout -k 10 $((budget + 40)) python3 -m experiments gpu-campaign --budget-s "$budget" \
    --out gpu-run $only
status=$?
tar czf "$out/gpu-run.tar.gz" gpu-run
cp gpu-run/campaign.json "$out/" 2> /dev/null
tail -n 3 gpu-run/environment.txt
exit $status
