"""bf16 autocast training on the CPU against fp32: target tokens/s and the BLEU after the same number of updates.

Two trainers start from the same weights (the same seed) and see the same batches in the same order: one fp32, one
with `--precision bf16` (CPU autocast; used only where the CPU computes bf16 natively: AMX-BF16 or AVX512-BF16,
s2s.packed.bf16_available). They run alternately, --chunk updates at a time, so that a noisy neighbour slows both
alike.
After --steps updates each model translates the first --valid sentences of Multi30k's validation split (greedy,
fp32 decoding) and its sacreBLEU is reported, with the mean training loss of its last 20 updates.

    python bench/bf16_train.py [--steps 400] [--chunk 25] [--valid 500] [--out bench/out/results.jsonl]

Goal (issue 13): bf16 not worse than fp32 by more than 0.5 BLEU on the validation split, and faster."""
from __future__ import annotations

import time

import torch

from common import base_parser, corpus, emit, model_config, read_lines, vocabs
from train_speed import load_batches, update


def main() -> None:
    p = base_parser(__doc__)
    p.add_argument("--attention", default="luong", choices=["none", "luong", "bahdanau"])
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--chunk", type=int, default=25)
    p.add_argument("--valid", type=int, default=500)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()

    from s2s import checkpoint
    from s2s.config import DecodeConfig, TokenizerConfig, TrainConfig
    from s2s.evaluate import corpus_scores
    from s2s.model import Seq2Seq
    from s2s.train import Trainer, cpu_has_bf16
    from s2s.translator import Translator

    torch.set_num_threads(args.threads)
    row = {"bench": "bf16_train", "attention": args.attention, "steps": args.steps, "batch_size": args.batch_size,
           "threads": args.threads, "cpu_bf16": cpu_has_bf16()}
    if not row["cpu_bf16"]:  # --precision bf16 trains in fp32 here: nothing to compare
        emit({**row, "bf16": {"autocast": False}}, args.out)
        return
    src_vocab, tgt_vocab = vocabs()
    batches = load_batches(src_vocab, tgt_vocab, args.batch_size, args.seed)
    batches = (batches * (args.steps // len(batches) + 1))[:args.steps]
    trainers = {}
    for precision in ("fp32", "bf16"):
        model = Seq2Seq(model_config(src_vocab, tgt_vocab, args.attention, 0.2), seed=args.seed)
        trainers[precision] = Trainer(model, TrainConfig(batch_size=args.batch_size, lr=1e-3, device="cpu",
                                                         seed=args.seed, precision=precision))
    seconds = {p: 0.0 for p in trainers}
    losses = {p: [] for p in trainers}
    for start in range(0, args.steps, args.chunk):
        for precision, trainer in trainers.items():
            began = time.perf_counter()
            for batch in batches[start:start + args.chunk]:
                losses[precision].append(update(trainer, batch))
            seconds[precision] += time.perf_counter() - began
    tokens = sum(b.n_tokens for b in batches)
    src, ref = (read_lines(path)[:args.valid] for path in corpus("val"))
    row["valid_sentences"] = len(src)
    for precision, trainer in trainers.items():
        ckpt = checkpoint.Checkpoint(trainer.model.eval(), src_vocab, tgt_vocab,
                                     TokenizerConfig(len(src_vocab), len(tgt_vocab)))
        hyps = [t.text for t in Translator(ckpt).translate(src, DecodeConfig(strategy="greedy", record_top=1))]
        row[precision] = {"autocast": bool(trainer.amp), "tokens_per_sec": round(tokens / seconds[precision], 1),
                          "bleu": corpus_scores(hyps, ref)["bleu"],
                          "final_loss": round(sum(losses[precision][-20:]) / 20, 4)}
    row["speedup"] = round(row["bf16"]["tokens_per_sec"] / row["fp32"]["tokens_per_sec"], 2)
    row["bleu_change"] = round(row["bf16"]["bleu"] - row["fp32"]["bleu"], 2)
    emit(row, args.out)


if __name__ == "__main__":
    main()
