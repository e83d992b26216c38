#!/usr/bin/env bash
# Reproduce the shipped checkpoints with the project's own CLI (see checkpoints/README.md).
#   bash scripts/train_shipped.sh zh-en-classic   # or: zh-en-attention zh-en-scheduled de-en-classic de-en-attention all
# Each run resumes from runs/<name>.last.s2s if present; the best checkpoint is copied to checkpoints/.
# THREADS (default 2) sets CPU threads; DEVICE (default auto) picks cuda when present.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-data/raw}  # made by scripts/fetch_data.py (downloads, or --from a local copy)
[ -f "$DATA/multi30k/train.de" ] || python scripts/fetch_data.py --out "$DATA"
THREADS=${THREADS:-2}
DEVICE=${DEVICE:-auto}
mkdir -p runs checkpoints
[ -f data/tatoeba-zh-en/train.tsv ] || python scripts/prepare_data.py --data "$DATA" --out data

ZH="--train data/tatoeba-zh-en/train.tsv --valid data/tatoeba-zh-en/valid.tsv --src-normalize zh-hans
    --vocab-size 3000 --tgt-vocab-size 4000 --tie-embeddings --layers 2 --hidden 512 --emb 256 --dropout 0.3
    --label-smoothing 0.1 --batch-size 64 --lr 1e-3 --patience 4"
ZH_NOTE="Tatoeba cmn-eng (manythings.org/anki, tatoeba.org), CC-BY 2.0 FR"
DE="--train $DATA/multi30k/train.de --train-tgt $DATA/multi30k/train.en --valid $DATA/multi30k/val.de
    --valid-tgt $DATA/multi30k/val.en --vocab-size 6000 --joint-vocab --tie-embeddings --layers 2 --hidden 512
    --emb 256 --dropout 0.3 --label-smoothing 0.1 --batch-size 64 --lr 1e-3 --patience 4"
DE_NOTE="Multi30k task 1 (Elliott et al. 2016), research and education"

train() {  # name, extra flags...
  local name=$1; shift
  python -m s2s train --out "runs/$name.s2s" --resume --half --threads "$THREADS" --device "$DEVICE" "$@"
  cp "runs/$name.s2s" "checkpoints/$name.s2s"
}

run() {
  case $1 in
    zh-en-classic)   train zh-en-classic $ZH --attention none --epochs 30 --note "$ZH_NOTE" ;;
    zh-en-attention) train zh-en-attention $ZH --attention luong --epochs 30 --note "$ZH_NOTE" ;;
    zh-en-scheduled) train zh-en-scheduled $ZH --attention none --epochs 3 --init-from runs/zh-en-classic.s2s \
                       --teacher-forcing 0.5 --schedule inverse-sigmoid --lr 5e-4 --patience 0 --keep last \
                       --note "$ZH_NOTE" ;;
    de-en-classic)   train de-en-classic $DE --attention none --epochs 30 --note "$DE_NOTE" ;;
    de-en-attention) train de-en-attention $DE --attention luong --epochs 30 --note "$DE_NOTE" ;;
    all) for m in zh-en-classic zh-en-attention zh-en-scheduled de-en-classic de-en-attention; do run $m; done ;;
    *) echo "unknown model $1" >&2; exit 2 ;;
  esac
}
run "${1:-all}"
