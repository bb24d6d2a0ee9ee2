#!/usr/bin/env bash
# The GPU checks of the performance work in one call (about 7 minutes on an H100), for a lent GPU
# machine: the CUDA tests; inference FPS of MiCT-ResNet-18 and 3D-ResNet-18 at batch 1 x 16 x 160^2
# and 8 x 16 x 112^2, fp32 as the original and bf16 + channels_last + torch.compile, then at batch 1
# with torch.compile(mode="reduce-overhead") (CUDA graphs: batch 1 is bound by kernel launches);
# training clips/s at batch 112 per decode setting and worker count; the loader on that machine's
# CPU. Everything goes to one folder, $OUT (default: gpu_checks/), as logs and JSON.
# Usage: bash benchmarks/gpu_checks.sh   (from the repository root, after `make install`)
#        ORIGINAL=/path/to/MiCT-Net-PyTorch bash benchmarks/gpu_checks.sh   (also times the original's code)
set -uo pipefail
OUT=${OUT:-gpu_checks}
mkdir -p "$OUT"
PY=${PY:-.venv/bin/python}
ORIGINAL_ARG=()
[[ -n "${ORIGINAL:-}" ]] && ORIGINAL_ARG=(--original "$ORIGINAL")
export KEDRO_DISABLE_TELEMETRY=1 DO_NOT_TRACK=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
nproc | tee "$OUT/nproc.txt"
$PY -m pytest -q -p no:cacheprovider -k cuda tests/clips tests/training tests/models 2>&1 | tail -5 | tee "$OUT/cuda_tests.txt"
$PY -W ignore benchmarks/model_speed.py --device cuda --warmup 20 --iters 50 --rounds 5 "${ORIGINAL_ARG[@]}" \
    --variant plain --variant cl+bf16+compile --json "$OUT/model_speed.json" 2>&1 | tee "$OUT/model_speed.txt"
$PY -W ignore benchmarks/model_speed.py --device cuda --warmup 20 --iters 50 --rounds 5 --protocol 1x16x160 \
    --variant compile --variant cl+bf16+compile --compile-mode reduce-overhead \
    --json "$OUT/model_speed_cudagraphs.json" 2>&1 | tee "$OUT/model_speed_cudagraphs.txt"
$PY -W ignore benchmarks/train_throughput.py --workers 4 8 15 --json "$OUT/train_throughput.json" 2>&1 | tee "$OUT/train_throughput.txt"
$PY -W ignore benchmarks/train_throughput.py --workers 15 --compile --json "$OUT/train_throughput_compile.json" 2>&1 \
    | tee "$OUT/train_throughput_compile.txt"
$PY benchmarks/loader_speed.py --json "$OUT/loader.json" 2>&1 | tee "$OUT/loader.txt"
