#!/usr/bin/env bash
# Every benchmark, ours and JoeyNMT 2.3.0's, in one run on this machine; JSON lines to bench/out/results.jsonl,
# then a Markdown table (also saved as bench/out/results.md).
#   bash bench/run_all.sh            # the full measurement (run it on a quiet machine: ~1-2 hours on 2 cores)
#   QUICK=1 bash bench/run_all.sh    # a short end-to-end check of every script (minutes)
# Knobs (environment): STEPS WARMUP LOG_EVERY BATCH THREADS DECODE_BS OURS_DECODE_BS LIMIT LAT_RUNS EFF_STEPS
#   BF16_STEPS BF16_VALID QUANT_RUNS QUANT_STRATEGIES
#   EFF_BATCHES (extra batch sizes for the efficiency benchmark, e.g. 128)
#   JOEY_DEFAULT=1 also trains JoeyNMT's default recurrent recipe (bidirectional 512, Bahdanau, input feeding).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${QUICK:-0}" = 1 ]; then
  : "${STEPS:=10}" "${WARMUP:=10}" "${LOG_EVERY:=5}" "${LIMIT:=100}" "${LAT_RUNS:=10}" "${EFF_STEPS:=5}" \
    "${OURS_DECODE_BS:=64}" "${BF16_STEPS:=10}" "${BF16_VALID:=20}" "${QUANT_RUNS:=3}" "${QUANT_STRATEGIES:=none}"
fi
STEPS=${STEPS:-300}          # timed training updates per system
WARMUP=${WARMUP:-20}         # untimed updates first
LOG_EVERY=${LOG_EVERY:-10}   # JoeyNMT logging_freq (divides STEPS and WARMUP)
BATCH=${BATCH:-64}           # sentences per training batch, both systems
THREADS=${THREADS:-2}        # torch threads, both systems
DECODE_BS=${DECODE_BS:-64}   # decoding batch, both systems
OURS_DECODE_BS=${OURS_DECODE_BS:-32,64,128}  # ours is also tried at these (the table shows the fastest too)
LIMIT=${LIMIT:-0}            # decode only the first N test sentences (0 = all 1000)
LAT_RUNS=${LAT_RUNS:-50}
FIXED_LEN=${FIXED_LEN:-20}   # length-controlled decoding: output pieces per sentence, both systems
EFF_STEPS=${EFF_STEPS:-30}
BF16_STEPS=${BF16_STEPS:-400}  # updates per precision (bench/bf16_train.py)
BF16_VALID=${BF16_VALID:-500}  # validation sentences it translates for BLEU
QUANT_RUNS=${QUANT_RUNS:-30}   # latency runs per decoding kernel (bench/quantized.py)
QUANT_STRATEGIES=${QUANT_STRATEGIES:-greedy,beam}  # its quality passes ('none': latency only)
PY=${PYTHON:-python}
OUT=bench/out/results.jsonl
mkdir -p bench/out
[ -f "$OUT" ] && mv "$OUT" "bench/out/results.$(date -u +%Y%m%dT%H%M%SZ).jsonl"
run() { echo "+ $*" >&2; "$@"; }

run bash bench/setup_joeynmt.sh
run $PY bench/prepare.py
# 1. training throughput (also leaves the briefly trained models that 2. and 3. decode with)
run $PY bench/train_speed.py --attention luong --steps "$STEPS" --warmup "$WARMUP" --batch-size "$BATCH" --threads "$THREADS" --out $OUT
run $PY bench/joeynmt_bench.py train --steps "$STEPS" --warmup "$WARMUP" --log-every "$LOG_EVERY" --batch-size "$BATCH" --threads "$THREADS" --out $OUT
run $PY bench/train_speed.py --attention none --steps "$STEPS" --warmup "$WARMUP" --batch-size "$BATCH" --threads "$THREADS" --out $OUT
if [ "${JOEY_DEFAULT:-0}" = 1 ]; then
  run $PY bench/joeynmt_bench.py train --variant default --steps "$STEPS" --warmup "$WARMUP" --log-every "$LOG_EVERY" --batch-size "$BATCH" --threads "$THREADS" --out $OUT
fi
# 2. decoding speed on test_2016_flickr
SIZES=$(echo "$DECODE_BS,$OURS_DECODE_BS" | tr ',' '\n' | awk '!seen[$0]++' | paste -sd, -)  # each size once
run $PY bench/decode_speed.py --attention luong --batch-sizes "$SIZES" --limit "$LIMIT" --threads "$THREADS" --out $OUT
run $PY bench/decode_speed.py --attention luong --batch-sizes "$DECODE_BS" --record-top 10 --limit "$LIMIT" --threads "$THREADS" --out $OUT
run $PY bench/decode_speed.py --attention none --batch-sizes "$DECODE_BS" --limit "$LIMIT" --threads "$THREADS" --out $OUT
run $PY bench/joeynmt_bench.py decode --beam 1 --batch-size "$DECODE_BS" --limit "$LIMIT" --threads "$THREADS" --out $OUT
run $PY bench/joeynmt_bench.py decode --beam 5 --batch-size "$DECODE_BS" --limit "$LIMIT" --threads "$THREADS" --out $OUT
# 2b. length-controlled decoding: both systems decode every sentence to exactly FIXED_LEN pieces (measures the decoders,
#     not how the two briefly trained models happen to end sentences)
for beam in 1 5; do
  strategy=$([ $beam = 1 ] && echo greedy || echo beam)
  run $PY bench/decode_speed.py --attention luong --strategies $strategy --beam 5 --batch-sizes "$DECODE_BS" --fixed-len "$FIXED_LEN" --limit "$LIMIT" --threads "$THREADS" --out $OUT
  run $PY bench/joeynmt_bench.py decode --beam $beam --batch-size "$DECODE_BS" --fixed-len "$FIXED_LEN" --limit "$LIMIT" --threads "$THREADS" --out $OUT
done
# 3. interactive latency   4. training-step efficiency
run $PY bench/latency.py --runs "$LAT_RUNS" --threads "$THREADS" --out $OUT
[ "$THREADS" = 1 ] || run $PY bench/latency.py --runs "$LAT_RUNS" --threads 1 --out $OUT  # what a busy server would see
for bs in $(echo "$BATCH,${EFF_BATCHES:-}" | tr ',' '\n' | awk 'NF && !seen[$0]++'); do
  run $PY bench/efficiency.py --attention luong,none --steps "$EFF_STEPS" --batch-size "$bs" --threads "$THREADS" --out $OUT
done
# 5. bf16 autocast training against fp32 (tokens/s, validation BLEU after the same updates)
run $PY bench/bf16_train.py --steps "$BF16_STEPS" --valid "$BF16_VALID" --threads "$THREADS" --out $OUT
# 6. the decoding kernels on the shipped models: BLEU and same tokens as fp32 on each test split (2 threads), one
#    sentence's latency at 1 thread (what a visitor of the app gets)
run $PY bench/quantized.py --runs "$QUANT_RUNS" --threads 1 --strategies "$QUANT_STRATEGIES" --out $OUT
$PY bench/report.py $OUT | tee bench/out/results.md
