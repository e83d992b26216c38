#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: the device test matrix on cuda, CPU-vs-GPU greedy identity, one timed epoch.
#   bash scripts/gpu_check.sh [DATA_DIR]     (default data/raw, made by scripts/fetch_data.py; writes ${OUT:-.}/gpu_report.md)
set -uo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-data/raw}
OUT=${OUT:-.}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/nvidia-smi.txt"
python -m pytest -q tests/test_devices.py -rs 2>&1 | tee "$OUT/device_tests.txt"
tests_rc=${PIPESTATUS[0]}
python scripts/gpu_check.py --data "$DATA" --out "$OUT/gpu_report.md"
check_rc=$?
echo "device tests exit $tests_rc, gpu_check exit $check_rc" | tee -a "$OUT/gpu_report.md"
[ "$tests_rc" = 0 ] && [ "$check_rc" = 0 ]
