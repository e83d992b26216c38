"""Length buckets: how the sort pool's size changes padding, training speed and quality (the default of
s2s.data.POOL_BATCHES is chosen by this script).

For each pool size (in batches of --batch-size), a trainer starts from the same weights (the same seed) and trains
--epochs epochs of Multi30k de->en, each epoch bucketed with that pool (s2s.data.bucketed_batches, the epoch's
seed). The trainers run alternately, --chunk updates at a time, so that a noisy neighbour slows all alike. Reported
per pool: the fraction of decoder positions that are padding, target tokens/s, and after the last epoch the
validation loss (teacher forced, whole validation split) and the greedy BLEU of the first --valid validation
sentences. Nothing here reads the test split.

    python bench/bucketing.py [--pools 50,1000] [--epochs 4] [--chunk 25] [--valid 1014] [--out FILE]

Criterion for the default: fewer padded positions and more tokens/s, with a validation BLEU not lower than the
50-batch pool's by more than 0.5 and a validation loss not higher by more than 0.02."""
from __future__ import annotations

import random
import time

import torch

from common import base_parser, corpus, emit, model_config, read_lines, vocabs
from train_speed import update


def main() -> None:
    p = base_parser(__doc__)
    p.add_argument("--pools", default="50,1000", help="pool sizes in batches, comma-separated")
    p.add_argument("--attention", default="luong", choices=["none", "luong", "bahdanau"])
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--chunk", type=int, default=25)
    p.add_argument("--valid", type=int, default=1014)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()

    from s2s import checkpoint
    from s2s.config import DecodeConfig, TokenizerConfig, TrainConfig
    from s2s.data import bucketed_batches, encode_pairs
    from s2s.evaluate import corpus_scores
    from s2s.model import Seq2Seq
    from s2s.train import Trainer, evaluate_loss
    from s2s.translator import Translator

    torch.set_num_threads(args.threads)
    src_vocab, tgt_vocab = vocabs()
    train = encode_pairs(list(zip(*(read_lines(p) for p in corpus("train")))), src_vocab, tgt_vocab)
    valid_src, valid_ref = (read_lines(p) for p in corpus("val"))
    valid = encode_pairs(list(zip(valid_src, valid_ref)), src_vocab, tgt_vocab)
    pools = [int(x) for x in args.pools.split(",")]
    runs = {}
    for pool in pools:
        batches = [b for e in range(args.epochs)
                   for b in bucketed_batches(train, args.batch_size, random.Random(args.seed + e), pool)]
        model = Seq2Seq(model_config(src_vocab, tgt_vocab, args.attention, 0.2), seed=args.seed)
        trainer = Trainer(model, TrainConfig(batch_size=args.batch_size, lr=1e-3, device="cpu", seed=args.seed))
        runs[pool] = {"trainer": trainer, "batches": batches, "seconds": 0.0, "losses": []}
    longest = max(len(r["batches"]) for r in runs.values())
    for start in range(0, longest, args.chunk):
        for run in runs.values():
            began = time.perf_counter()
            for batch in run["batches"][start:start + args.chunk]:
                run["losses"].append(update(run["trainer"], batch))
            run["seconds"] += time.perf_counter() - began
    valid_batches = bucketed_batches(valid, args.batch_size)
    row = {"bench": "bucketing", "attention": args.attention, "epochs": args.epochs, "batch_size": args.batch_size,
           "threads": args.threads, "valid_sentences": min(args.valid, len(valid_src))}
    for pool, run in runs.items():
        model, batches = run["trainer"].model, run["batches"]
        tokens = sum(b.n_tokens for b in batches)
        positions = sum(b.tgt.size(0) * (b.tgt.size(1) - 1) for b in batches)
        ckpt = checkpoint.Checkpoint(model.eval(), src_vocab, tgt_vocab, TokenizerConfig(len(src_vocab), len(tgt_vocab)))
        hyps = [t.text for t in Translator(ckpt).translate(valid_src[:args.valid],
                                                           DecodeConfig(strategy="greedy", record_top=1))]
        row[f"pool_{pool}"] = {"updates": len(batches), "padding_fraction": round(1 - tokens / positions, 4),
                               "tokens_per_sec": round(tokens / run["seconds"], 1),
                               "valid_loss": round(evaluate_loss(model, valid_batches, "cpu"), 4),
                               "valid_bleu": corpus_scores(hyps, valid_ref[:args.valid])["bleu"],
                               "final_train_loss": round(sum(run["losses"][-20:]) / 20, 4)}
    emit(row, args.out)


if __name__ == "__main__":
    main()
