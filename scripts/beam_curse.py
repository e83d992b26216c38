"""The beam search curse, measured: BLEU and output length by beam size, per shipped model (issue 11 §4, data side).

    python scripts/prepare_data.py --data ../shared/data --out data      # once: the Tatoeba validation split
    nohup python scripts/beam_curse.py --data ../shared/data > beam_curse.log 2>&1 &

For K = 1, 2, 3, 5, 10, 20, 50 and length penalty 0 (raw log-probability) and 1 (GNMT alpha = 1), beam search
(max 50 target pieces, text only) over 300 pairs of each model's VALIDATION split (Tatoeba zh-en valid from
scripts/prepare_data.py; Multi30k val), never a test split: corpus BLEU and chrF (sacreBLEU, cased, 13a),
the length ratio (system / reference 13a tokens, as BLEU's brevity penalty sees it), the mean output and
reference length in 13a tokens, and the share of outputs that are empty or shorter than half their reference.
Writes checkpoints/<name>.beam_curse.json keyed by the checkpoint's SHA-256 (demo/cache.py load_beam_curse);
timing per configuration goes to stdout. 300 sentences keep one model under a few minutes on 2 CPU cores.

The 300 are evenly spaced through the file (pairs i * n // 300), not its first 300: Tatoeba's file is sorted by
English length, so its first 300 pairs are all 1-4 word sentences ("Hurry up."), where the curse barely shows.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import sacrebleu
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
from demo.cache import HASH_KEY, cache_path, file_sha256  # noqa: E402
from s2s.config import DecodeConfig  # noqa: E402
from s2s.evaluate import length_stats, spread  # noqa: E402
from s2s.translator import Translator  # noqa: E402
from select_examples import rounded, validation_pairs  # noqa: E402

BEAMS = (1, 2, 3, 5, 10, 20, 50)
PENALTIES = (0.0, 1.0)
SENTENCES = 300
MAX_ROWS = 4096  # sentences x beams per batch, as the CLI caps it


def run(translator: Translator, sources: list[str], refs: list[str], k: int, alpha: float) -> dict:
    cfg = DecodeConfig(strategy="beam", beam_size=k, length_penalty=alpha, record_top=0)
    started = time.time()
    hyps = [t.text for t in translator.translate(sources, cfg, batch_size=max(1, min(64, MAX_ROWS // k)))]
    seconds = time.time() - started
    return {"beam_size": k, "length_penalty": alpha, "bleu": sacrebleu.corpus_bleu(hyps, [refs]).score,
            "chrf": sacrebleu.corpus_chrf(hyps, [refs]).score, **length_stats(hyps, refs), "seconds": seconds}


def measure(path: Path, data: str, splits: str, n: int) -> dict:
    translator = Translator.load(path)
    pair = "de-en" if path.stem.startswith("de") else "zh-en"
    pairs, split = validation_pairs(pair, data, splits)
    chosen = spread(pairs, n)
    sources, refs = [s for s, _ in chosen], [r for _, r in chosen]
    rows = []
    for alpha in PENALTIES:
        for k in BEAMS:
            rows.append(run(translator, sources, refs, k, alpha))
            r = rows[-1]
            print(f"{path.stem} K={k:2d} lp={alpha}: BLEU {r['bleu']:.2f}, ratio {r['length_ratio']:.3f}, "
                  f"too short {r['too_short_share']:.3f}, {r['seconds']:.1f} s", flush=True)
    return {"model": path.stem, "checkpoint": path.name, HASH_KEY: file_sha256(path),
            "made_by": "scripts/beam_curse.py", "split": split, "sentences": len(sources),
            "selection": f"{len(chosen)} pairs evenly spaced through the split (index i * {len(pairs)} // {n})",
            "max_len": DecodeConfig().max_len,
            "scores": "sacreBLEU corpus BLEU / chrF, cased, 13a; lengths in 13a tokens", "rows": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="data/raw", help="corpora folder with multi30k/ (scripts/fetch_data.py)")
    ap.add_argument("--splits", default="data", help="folder scripts/prepare_data.py wrote tatoeba-zh-en/ into")
    ap.add_argument("--checkpoints", type=Path, default=ROOT / "checkpoints")
    ap.add_argument("--models", nargs="*", default=["zh-en-classic", "de-en-attention", "zh-en-attention",
                                                    "zh-en-scheduled", "de-en-classic"])
    ap.add_argument("--sentences", type=int, default=SENTENCES)
    args = ap.parse_args()
    torch.set_num_threads(1)
    for name in args.models:
        started = time.time()
        path = args.checkpoints / f"{name}.s2s"
        result = measure(path, args.data, args.splits, args.sentences)
        result["seconds"] = time.time() - started
        cache_path(name, path, "beam_curse").write_text(json.dumps(rounded(result), indent=1) + "\n", "utf-8")
        print(f"{name}: {result['seconds']:.0f} s -> {cache_path(name, path, 'beam_curse')}", flush=True)


if __name__ == "__main__":
    main()
