"""Training throughput of our model: target tokens per second on Multi30k de->en (CPU, in-process).

Uses s2s.train.Trainer's own update (teacher_forced_loss, backward, clipping, Adam) on our length-bucketed
batches. Target tokens are counted the way JoeyNMT counts them: pieces + <eos>, no <sos>, no padding
(s2s.data.Batch.n_tokens). The first --warmup updates are not timed. The model is then saved for the decoding
and latency benchmarks (bench/out/work/ours-<attention>.s2s).

    python bench/train_speed.py --attention luong --steps 300 --warmup 20
"""
from __future__ import annotations

import random
import time

import torch

from common import base_parser, ckpt_path, corpus, device_name, emit, model_config, read_lines, vocabs


def load_batches(src_vocab, tgt_vocab, batch_size: int, seed: int):
    from s2s.data import bucketed_batches, encode_pairs

    src, tgt = (read_lines(p) for p in corpus("train"))
    examples = encode_pairs(list(zip(src, tgt)), src_vocab, tgt_vocab)
    return bucketed_batches(examples, batch_size, random.Random(seed))


def update(trainer, batch) -> float:
    """One training step exactly as Trainer.fit runs it (teacher forcing ratio 1)."""
    return trainer._update(batch, 1.0)


def main() -> None:
    p = base_parser(__doc__)
    p.add_argument("--attention", default="luong", choices=["none", "luong", "bahdanau"])
    p.add_argument("--steps", type=int, default=300, help="timed updates")
    p.add_argument("--warmup", type=int, default=20, help="untimed updates first")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-save", action="store_true", help="do not save the trained model")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="cuda trains with bf16 autocast")
    args = p.parse_args()

    from s2s import checkpoint
    from s2s.config import TokenizerConfig, TrainConfig
    from s2s.model import Seq2Seq
    from s2s.train import Trainer

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    src_vocab, tgt_vocab = vocabs()
    batches = load_batches(src_vocab, tgt_vocab, args.batch_size, args.seed)
    model = Seq2Seq(model_config(src_vocab, tgt_vocab, args.attention, args.dropout))
    trainer = Trainer(model, TrainConfig(batch_size=args.batch_size, lr=args.lr, device=args.device, seed=args.seed,
                                         threads=args.threads))
    n = args.warmup + args.steps
    batches = [b.to(trainer.device) for b in (batches * (n // len(batches) + 1))[:n]]
    for batch in batches[:args.warmup]:
        update(trainer, batch)
    tokens, sentences, padded, losses = 0, 0, 0, []
    began = time.perf_counter()
    for batch in batches[args.warmup:]:
        losses.append(update(trainer, batch))
        tokens += batch.n_tokens
        sentences += batch.tgt.size(0)
        padded += batch.tgt.size(0) * (batch.tgt.size(1) - 1)
    seconds = time.perf_counter() - began
    if not args.no_save:
        ck = checkpoint.Checkpoint(model.eval().cpu(), src_vocab, tgt_vocab,
                                   TokenizerConfig(len(src_vocab), len(tgt_vocab)),
                                   info={"note": f"bench: {n} updates, batch {args.batch_size}"})
        checkpoint.save(ckpt_path(args.attention), ck)
    emit({"bench": "train_speed", "system": "ours", "attention": args.attention, "batch_size": args.batch_size,
          "steps": args.steps, "warmup": args.warmup, "threads": args.threads, "seconds": round(seconds, 2),
          "device": device_name(trainer.device), "precision": "bf16 autocast" if trainer.amp else "fp32",
          "target_tokens": tokens, "tokens_per_sec": round(tokens / seconds, 1),
          "sentences_per_sec": round(sentences / seconds, 2), "padding_fraction": round(1 - tokens / padded, 4),
          "final_loss": round(sum(losses[-10:]) / len(losses[-10:]), 3)}, args.out)


if __name__ == "__main__":
    main()
