"""Decoding kernels (s2s/packed.py) against torch's plain fp32 products, for every shipped model: quality, agreement,
speed.

Five ways to run the same checkpoint: "plain" (torch's own fp32 products: the reference), "fp32" (what decoding
uses by default: the oneDNN-packed fp32 products where they are measured faster on this CPU, else plain), "fp16"
(`--precision fp16`: fp16 weights, fp32 arithmetic; packed fp32 where there is no fbgemm fp16 product), "bf16"
(`--precision bf16`; packed fp32 again on a CPU without native bf16) and "int8" (`--precision int8`). Each row says
what each one resolved to here ("resolved") and what the app runs ("app": `--precision auto`).
For each checkpoint and each of greedy and beam 5 on its fixed test split (the splits of scripts/evaluate_shipped.py):
sacreBLEU of each, the share of test sentences whose output is the same token sequence
as plain's, and the decoding time of the whole split (batch 64, 2 threads). Then the interactive latency at
--threads (default 1, what a visitor of the app gets): beam 5 with every UI record on bench/latency.py's 15-word
sentence (de-en models) or the longest of the first 200 test sentences (zh-en), median and p95 of --runs after 5
warm-up runs, the four interleaved.

    python bench/quantized.py [--models de-en-attention ...] [--runs 30] [--threads 1] [--out bench/out/results.jsonl]

Goals (issue 13): BLEU within 0.3 of fp32 for every shipped model, the same tokens on >= 95% of test sentences,
latency <= 25 ms median at 1 thread (the README's performance section gives the figures)."""
from __future__ import annotations

import statistics
import time

import torch

from common import ROOT, base_parser, emit, read_lines

KERNELS = ("fp32", "fp16", "bf16", "int8")  # the --precision values compared with plain fp32
SPLITS = {  # model prefix -> (source file, reference file), as in scripts/evaluate_shipped.py
    "zh-en": ("data/tatoeba-zh-en/test.zh", "data/tatoeba-zh-en/test.en"),
    "de-en": ("multi30k/test_2016_flickr.de", "multi30k/test_2016_flickr.en"),
}


def split(name: str) -> tuple[list[str], list[str]]:
    from common import DATA

    src, ref = SPLITS[name[:5]]
    base = ROOT if src.startswith("data/") else DATA.parent
    if not (base / src).exists():
        raise SystemExit(f"{base / src} not found: run `python scripts/prepare_data.py` (zh-en) or "
                         f"`python scripts/fetch_data.py` (Multi30k) first")
    return read_lines(base / src), read_lines(base / ref)


def timed(fn) -> tuple[float, object]:
    began = time.perf_counter()
    out = fn()
    return time.perf_counter() - began, out


def quality(translators: dict, sources: list[str], refs: list[str], strategy: str) -> dict:
    from s2s.config import DecodeConfig
    from s2s.evaluate import corpus_scores

    cfg = DecodeConfig(strategy=strategy, beam_size=5, record_top=1)
    row, tokens = {}, {}
    for precision, translator in translators.items():
        seconds, out = timed(lambda: translator.translate(sources, cfg, batch_size=64))
        tokens[precision] = [t.result.hypotheses[0].tokens if t.result.hypotheses else [] for t in out]
        row[precision] = {"bleu": corpus_scores([t.text for t in out], refs)["bleu"], "seconds": round(seconds, 2)}
    for precision in translators:
        same = sum(a == b for a, b in zip(tokens["plain"], tokens[precision]))
        row[precision]["same_tokens"] = round(same / len(sources), 4)
        row[precision]["bleu_change"] = round(row[precision]["bleu"] - row["plain"]["bleu"], 2)
    return row


def latency(translators: dict, text: str, runs: int) -> dict:
    from s2s.config import DecodeConfig

    cfg = DecodeConfig(strategy="beam", beam_size=5, record_top=10)
    times = {p: [] for p in translators}
    for translator in translators.values():
        for _ in range(5):
            translator.translate_one(text, cfg)
    for _ in range(runs):  # interleaved: a noisy neighbour hurts both alike
        for precision, translator in translators.items():
            seconds, _ = timed(lambda: translator.translate_one(text, cfg))
            times[precision].append(seconds * 1000)
    out = {}
    for precision, values in times.items():
        values.sort()
        out[precision] = {"median_ms": round(statistics.median(values), 2),
                          "p95_ms": round(values[min(len(values) - 1, round(0.95 * (len(values) - 1)))], 2)}
    return out


def sentence(name: str, sources: list[str]) -> str:
    if name.startswith("de-en"):
        from latency import sentence as fifteen_words

        return fifteen_words()
    return max(sources[:200], key=len)


def main() -> None:
    p = base_parser(__doc__)
    p.add_argument("--models", nargs="*")
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--strategies", default="greedy,beam", help="'none': the latency only")
    p.set_defaults(threads=1)
    args = p.parse_args()

    from s2s.packed import for_decoding, resolve
    from s2s.translator import Translator

    names = args.models or sorted(path.stem for path in (ROOT / "checkpoints").glob("*.s2s"))
    for name in names:
        path = ROOT / "checkpoints" / f"{name}.s2s"
        torch.set_num_threads(args.threads)  # the fp32 kernel is chosen by a measurement at this thread count
        translators = {p: Translator.load(path, precision=p) for p in KERNELS}
        plain = Translator.load(path)
        plain.model = for_decoding(plain.ckpt.model, kernel="plain")
        translators = {"plain": plain, **translators}
        chosen = {"resolved": {p: t.precision for p, t in translators.items() if p != "plain"},
                  "app": resolve("auto")}
        sources, refs = split(name)
        torch.set_num_threads(2)
        for strategy in [s for s in args.strategies.split(",") if s and s != "none"]:
            row = quality(translators, sources, refs, strategy)
            emit({"bench": "quantized_quality", "model": name, "strategy": strategy, "sentences": len(sources),
                  "threads": 2, "fp32_kernel": type(translators["fp32"].model).__name__, **chosen, **row}, args.out)
        torch.set_num_threads(args.threads)
        text = sentence(name, sources)
        emit({"bench": "quantized_latency", "model": name, "source": text, "runs": args.runs,
              "threads": args.threads, **chosen, **latency(translators, text, args.runs)}, args.out)


if __name__ == "__main__":
    main()
