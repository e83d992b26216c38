"""Decoding speed of our model: sentences per second translating test_2016_flickr (1000 sentences), greedy and
beam 5, through s2s.translator.Translator.translate exactly as `python -m s2s translate` runs it (tokenize,
length-sorted batches, search, detokenize; text only, record_top=0: the UI's per-step records are measured by
latency.py, and --record-top 10 measures batch decoding with them). Model loading is not timed; one small untimed batch
warms up first. Reports the average output length in target pieces (the text re-encoded with the shared
sentencepiece model, exactly as for JoeyNMT) so that both systems are seen to stop at realistic lengths.

    python bench/decode_speed.py --attention luong --batch-sizes 32,64,128
"""
from __future__ import annotations

import time
from pathlib import Path

import torch

from common import base_parser, ckpt_path, corpus, emit, read_lines


def step_kernels(model) -> dict:
    """Which products the decoder steps ran on: packed oneDNN or torch's plain ones, for a beam's few rows (small)
    and batch decoding's many (large); chosen by s2s.packed.fp32_kernel's measurement at load."""
    packed = getattr(model, "kernel", None)
    if packed is None:
        return {"small": "plain", "large": "plain"}
    return {size: packed if getattr(model, size) else "plain" for size in ("small", "large")}


def main() -> None:
    p = base_parser(__doc__)
    p.add_argument("--attention", default="luong", choices=["none", "luong", "bahdanau"])
    p.add_argument("--model", default=None, help="checkpoint (default: the one bench/train_speed.py saved)")
    p.add_argument("--strategies", default="greedy,beam")
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--batch-sizes", default="64", help="comma-separated; each is measured")
    p.add_argument("--limit", type=int, default=0, help="only the first N test sentences (0 = all)")
    p.add_argument("--record-top", type=int, default=0, help="per-step candidates recorded (0 = text only, as the CLI)")
    p.add_argument("--fixed-len", type=int, default=0,
                   help="length-controlled: every output exactly N pieces (no <eos> before N; JoeyNMT: "
                        "min_output_length = max_output_length = N), so both systems do the same decoder steps")
    args = p.parse_args()

    from s2s.config import DecodeConfig
    from s2s.translator import Translator

    torch.set_num_threads(args.threads)
    model = args.model or str(ckpt_path(args.attention))
    if not Path(model).exists():
        raise SystemExit(f"{model} not found: run `python bench/train_speed.py --attention {args.attention}` first "
                         "(it leaves the briefly trained model there)")
    translator = Translator.load(model)
    texts = read_lines(corpus("test_2016_flickr")[0])
    texts = texts[:args.limit] if args.limit else texts
    for strategy in args.strategies.split(","):
        cfg = DecodeConfig(strategy=strategy, beam_size=args.beam, max_len=args.fixed_len or 50,
                           min_len=args.fixed_len, record_top=args.record_top)
        translator.translate(texts[:8], cfg, batch_size=8)  # warm-up
        for bs in dict.fromkeys(int(b) for b in args.batch_sizes.split(",")):  # each size once, in order
            began = time.perf_counter()
            out = translator.translate(texts, cfg, batch_size=bs)
            seconds = time.perf_counter() - began
            pieces = (args.fixed_len if args.fixed_len else
                      sum(len(translator.tgt_vocab.encode(t.text)) for t in out) / len(out))
            emit({"bench": "decode_speed", "system": "ours", "attention": translator.model.cfg.attention,
                  "strategy": strategy, "beam_size": args.beam if strategy == "beam" else 1, "batch_size": bs,
                  "record_top": args.record_top, "threads": args.threads, "sentences": len(texts),
                  "fixed_len": args.fixed_len,
                  "seconds": round(seconds, 2),
                  "sentences_per_sec": round(len(texts) / seconds, 2), "avg_output_pieces": round(pieces, 2),
                  "output_pieces_per_sec": round(pieces * len(texts) / seconds, 1),
                  "model": model, "step_kernels": step_kernels(translator.model)}, args.out)


if __name__ == "__main__":
    main()
