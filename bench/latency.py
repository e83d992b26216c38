"""Interactive latency: one translation with everything the UI draws, on an attention model.

Translator.translate_one with DecodeConfig(strategy="beam", beam_size=5, record_top=10): top-k per step,
attention, beam back-pointers and the beam tree are recorded (the defaults). A 15-word German sentence from
test_2016_flickr; median and 95th percentile over --runs runs after --warmup runs.

    python bench/latency.py --runs 50 [--profile]

Model: checkpoints/de-en-attention.s2s when it exists, else the briefly trained same-size de-en attention model
that bench/train_speed.py saved (bench/out/work/ours-luong.s2s)."""
from __future__ import annotations

import cProfile
import io
import pstats
import statistics
import sys
import time
from pathlib import Path

import torch

from common import ROOT, base_parser, ckpt_path, corpus, emit, read_lines


def sentence(words: int = 15) -> str:
    """The first test sentence with exactly `words` words."""
    return next(t for t in read_lines(corpus("test_2016_flickr")[0]) if len(t.split()) == words)


def default_model() -> str:
    shipped = ROOT / "checkpoints" / "de-en-attention.s2s"
    return str(shipped if shipped.exists() else ckpt_path("luong"))


def main() -> None:
    p = base_parser(__doc__)
    p.add_argument("--model", default=None)
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--words", type=int, default=15)
    p.add_argument("--profile", action="store_true", help="cProfile the timed runs; top functions to stderr")
    args = p.parse_args()

    from s2s.config import DecodeConfig
    from s2s.translator import Translator

    torch.set_num_threads(args.threads)
    model = args.model or default_model()
    if not Path(model).exists():
        raise SystemExit(f"{model} not found: run `python bench/train_speed.py --attention luong` first")
    translator = Translator.load(model)
    text = sentence(args.words)
    cfg = DecodeConfig(strategy="beam", beam_size=5, record_top=10)
    for _ in range(args.warmup):
        out = translator.translate_one(text, cfg)
    profiler = cProfile.Profile() if args.profile else None
    times = []
    for _ in range(args.runs):
        if profiler:
            profiler.enable()
        began = time.perf_counter()
        out = translator.translate_one(text, cfg)
        times.append((time.perf_counter() - began) * 1000)
        if profiler:
            profiler.disable()
    if profiler:
        s = io.StringIO()
        pstats.Stats(profiler, stream=s).sort_stats("tottime").print_stats(25)
        print(s.getvalue(), file=sys.stderr)
    times.sort()
    hyp = out.result.hypotheses[0]
    emit({"bench": "latency", "system": "ours", "attention": translator.model.cfg.attention, "model": model,
          "source": text, "source_pieces": len(out.source.ids), "output": out.text, "output_steps": len(hyp.steps),
          "beam_steps": len(out.result.beam_tree or []), "runs": args.runs, "threads": args.threads,
          "median_ms": round(statistics.median(times), 2),
          "p95_ms": round(times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))], 2),
          "min_ms": round(times[0], 2), "profiled": args.profile}, args.out)


if __name__ == "__main__":
    main()
