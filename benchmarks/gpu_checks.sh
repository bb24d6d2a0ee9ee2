#!/usr/bin/env bash
# The GPU checks of the performance work in one call (about 6 minutes on an H100), for a lent
# GPU machine: the CUDA tests, inference speed (fp32 as the original; bf16 + channels_last +
# compile), training throughput at batch 112 per decode setting and worker count, and the loader
# on that machine's CPU. Results go to $OUT (default: gpu_checks/) as logs and JSON.
# Usage: bash benchmarks/gpu_checks.sh   (from the repository root, after `make install`)
set -uo pipefail
OUT=${OUT:-gpu_checks}
mkdir -p "$OUT"
PY=${PY:-.venv/bin/python}
export KEDRO_DISABLE_TELEMETRY=1 DO_NOT_TRACK=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
nproc | tee "$OUT/nproc.txt"
$PY -m pytest -q -p no:cacheprovider -k cuda tests/data tests/models 2>&1 | tail -5 | tee "$OUT/cuda_tests.txt"
$PY benchmarks/model_speed.py --device cuda --warmup 20 --iters 200 --json "$OUT/model_fp32.json" 2>&1 | tee "$OUT/model_fp32.txt"
$PY benchmarks/model_speed.py --device cuda --warmup 20 --iters 200 --amp-dtype bfloat16 --channels-last --compile \
    --json "$OUT/model_bf16_compile.json" 2>&1 | tee "$OUT/model_bf16_compile.txt"
$PY -W ignore benchmarks/train_throughput.py --workers 4 8 15 --json "$OUT/train_throughput.json" 2>&1 | tee "$OUT/train_throughput.txt"
$PY -W ignore benchmarks/train_throughput.py --workers 15 --compile --json "$OUT/train_throughput_compile.json" 2>&1 \
    | tee "$OUT/train_throughput_compile.txt"
$PY benchmarks/loader_speed.py --json "$OUT/loader.json" 2>&1 | tee "$OUT/loader.txt"
