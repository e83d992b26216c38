"""Precompute, per shipped model, the exposure-bias curves and BLEU by source length the app shows.

    python scripts/prepare_data.py --data ../shared/data --out data      # once: the Tatoeba validation split
    python scripts/precompute_curves.py --data ../shared/data [--models zh-en-classic ...]

Writes checkpoints/<name>.curves.json, keyed by the checkpoint's SHA-256 (demo/cache.py load_curves reads it back
and ignores it when the checkpoint changed), and prints the gap summary.

- Pairs: the held-out pairs the app uses, demo/examples/heldout_{zh_en,de_en}.tsv, first 200 (the app's
  CURVE_PAIRS); per demo/examples/README.md they come from the TEST splits (Tatoeba test, Multi30k
  test_2016_flickr). Nothing is selected or tuned on them: they are measured, as the app would measure them.
- Curves: for target positions 1..30, teacher-forced (s2s.decoding.score_reference) and free-running
  (s2s.decoding.free_running, fed its own greedy choices) token accuracy (greedy choice == gold) and mean
  log p(gold), with the number of sentences long enough to have the position and a 95% confidence band (Wilson
  score interval for accuracy, mean +- 1.96 standard errors for log p). Positions averaging fewer than
  MIN_SENTENCES = 20 sentences are cut. The means are checked against s2s.evaluate.exposure_curve.
- Gaps: mean teacher-forced minus free-running value over all target tokens (micro-average, no position cut),
  for accuracy and log p(gold), on the app's pairs and on the validation split (Tatoeba valid / Multi30k val).
- recommended_metric: the metric in which the scheduled-sampling model's gap is smaller than the classic model's
  by the larger fraction, decided on the VALIDATION split (not on the test-derived pairs), and written into
  every file; the files also say whether the app's pairs show the narrowing in that metric.
- BLEU by source length: s2s.evaluate.scores_by_length of greedy translations of the app's pairs (what the app
  computes).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
from demo.cache import HASH_KEY, cache_path, file_sha256, load_curves  # noqa: E402
from s2s.config import DecodeConfig  # noqa: E402
from s2s.evaluate import corpus_scores, exposure_curve, scores_by_length  # noqa: E402
from s2s.translator import Translator  # noqa: E402
from select_examples import rounded, scored, validation_pairs  # noqa: E402

CURVE_PAIRS = 200  # demo/handlers.py CURVE_PAIRS: held-out pairs behind each curve
MAX_POS = 30
MIN_SENTENCES = 20
Z = 1.96
BASELINE, SCHEDULED = "zh-en-classic", "zh-en-scheduled"
HELDOUT_SPLIT = {"zh-en": "Tatoeba zh-en test split (demo/examples/README.md)",
                 "de-en": "Multi30k test_2016_flickr (demo/examples/README.md)"}


def language_pair(name: str) -> str:
    return "de-en" if name.lower().startswith("de") else "zh-en"


def app_pairs(pair: str, limit: int = CURVE_PAIRS) -> list[tuple[str, str]]:
    """The pairs demo/models.heldout_pairs(pair, limit) returns (same parsing)."""
    path = ROOT / "demo/examples" / f"heldout_{pair.replace('-', '_')}.tsv"
    rows = [line.split("\t")[:2] for line in path.read_text(encoding="utf-8").splitlines() if "\t" in line]
    return [(s, t) for s, t in rows][:limit]


# ---------------------------------------------------------------- statistics

def wilson(hits: int, n: int, z: float = Z) -> tuple[float, float]:
    """95% Wilson score interval of a proportion."""
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def mean_band(values: list[float], z: float = Z) -> tuple[float, float, float]:
    """(mean, low, high): mean +- z standard errors (sample standard deviation)."""
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return mean, mean - z * sd / math.sqrt(n), mean + z * sd / math.sqrt(n)


def by_position(scored_refs: list, max_pos: int = MAX_POS) -> list[tuple[list[int], list[float]]]:
    """Per target position: (hits 0/1, log p(gold)) over the references long enough to have it."""
    cols = [([], []) for _ in range(max_pos)]
    for s in scored_refs:
        for t, (choice, gold, lp) in enumerate(zip(s.choices, s.gold, s.gold_logprobs)):
            if t < max_pos:
                cols[t][0].append(int(choice == gold))
                cols[t][1].append(lp)
    return cols


def band_series(cols, kind: str, keep: list[int]) -> dict:
    mean, low, high = [], [], []
    for t in keep:
        hits, logps = cols[t]
        if kind == "accuracy":
            lo, hi = wilson(sum(hits), len(hits))
            m = sum(hits) / len(hits)
        else:
            m, lo, hi = mean_band(logps)
        mean.append(m), low.append(lo), high.append(hi)
    return {"mean": mean, "low": low, "high": high}


def curve(teacher: list, free: list, min_sentences: int = MIN_SENTENCES) -> dict:
    t_cols, f_cols = by_position(teacher), by_position(free)
    keep = [t for t in range(MAX_POS) if len(t_cols[t][0]) >= min_sentences]
    return {"position": [t + 1 for t in keep], "sentences": [len(t_cols[t][0]) for t in keep],
            "teacher_accuracy": band_series(t_cols, "accuracy", keep),
            "free_accuracy": band_series(f_cols, "accuracy", keep),
            "teacher_logprob": band_series(t_cols, "logprob", keep),
            "free_logprob": band_series(f_cols, "logprob", keep)}


def gaps(teacher: list, free: list) -> dict:
    """Micro-averages over every target token: teacher-forced, free-running, and their difference."""
    def avg(refs, fn):
        values = [fn(c, g, lp) for s in refs for c, g, lp in zip(s.choices, s.gold, s.gold_logprobs)]
        return sum(values) / len(values)
    acc = lambda c, g, lp: float(c == g)  # noqa: E731
    logp = lambda c, g, lp: lp  # noqa: E731
    out = {"tokens": sum(len(s.gold) for s in teacher), "sentences": len(teacher),
           "teacher_accuracy": avg(teacher, acc), "free_accuracy": avg(free, acc),
           "teacher_logprob": avg(teacher, logp), "free_logprob": avg(free, logp)}
    out["accuracy_gap"] = out["teacher_accuracy"] - out["free_accuracy"]
    out["logprob_gap"] = out["teacher_logprob"] - out["free_logprob"]
    return out


def narrowing(classic: dict, scheduled: dict) -> dict:
    """Per metric: the fraction of the classic model's gap that the scheduled-sampling model removes."""
    return {m: (classic[f"{m}_gap"] - scheduled[f"{m}_gap"]) / classic[f"{m}_gap"] for m in ("accuracy", "logprob")}


def check_against_core(translator: Translator, pairs, result: dict) -> None:
    """Our per-position means must equal s2s.evaluate.exposure_curve's."""
    core = exposure_curve(translator, pairs, max_pos=MAX_POS, min_count=MIN_SENTENCES)
    assert core.positions == result["position"] and core.count == result["sentences"], "positions differ"
    for ours, theirs in (("teacher_accuracy", core.teacher_accuracy), ("free_accuracy", core.free_accuracy),
                         ("teacher_logprob", core.teacher_logprob), ("free_logprob", core.free_logprob)):
        assert all(abs(a - b) < 1e-4 for a, b in zip(result[ours]["mean"], theirs)), f"{ours} differs from the core"


# ---------------------------------------------------------------- per model

def measure(path: Path, data: str, splits: str) -> dict:
    translator = Translator.load(path)
    pair = language_pair(path.stem)
    held = app_pairs(pair)
    valid, valid_name = validation_pairs(pair, data, splits)
    started = time.time()
    teacher, free = scored(translator, held, True), scored(translator, held, False)
    result = curve(teacher, free)
    check_against_core(translator, held, result)
    v_teacher, v_free = scored(translator, valid, True), scored(translator, valid, False)
    sources, refs = [s for s, _ in held], [r for _, r in held]
    hyps = [t.text for t in translator.translate(sources, DecodeConfig(strategy="greedy", record_top=0))]
    return {"model": path.stem, "checkpoint": path.name, HASH_KEY: file_sha256(path),
            "made_by": "scripts/precompute_curves.py",
            "pairs": {"file": f"demo/examples/heldout_{pair.replace('-', '_')}.tsv", "sentences": len(held),
                      "split": HELDOUT_SPLIT[pair]},
            "validation": {"split": valid_name, "sentences": len(valid)},
            "min_sentences_per_position": MIN_SENTENCES, "max_position": MAX_POS,
            "band": "95%: Wilson score interval (accuracy), mean +- 1.96 standard errors (log p(gold))",
            "curve": result,
            "gaps": {"heldout": gaps(teacher, free), "validation": gaps(v_teacher, v_free)},
            "bleu_by_length": {"decoding": "greedy", "pairs": "the app's held-out pairs",
                               **corpus_scores(hyps, refs), "rows": scores_by_length(sources, hyps, refs)},
            "seconds": round(time.time() - started, 1)}


def gaps_of(name: str, results: dict, ckpt_dir: Path) -> dict | None:
    """The gaps of `name` measured now, else from its cache file when that still matches the checkpoint."""
    if name in results:
        return results[name]["gaps"]
    cached = load_curves(name, ckpt_dir / f"{name}.s2s")
    return cached["gaps"] if cached else None


def comparison(results: dict, ckpt_dir: Path) -> dict:
    """Classic vs scheduled sampling: which metric shows the narrowing (chosen on the validation split)."""
    c, s = gaps_of(BASELINE, results, ckpt_dir), gaps_of(SCHEDULED, results, ckpt_dir)
    if c is None or s is None:
        return {"recommended_metric": "accuracy", "note": f"{BASELINE} or {SCHEDULED} not measured"}
    on_valid, on_held = narrowing(c["validation"], s["validation"]), narrowing(c["heldout"], s["heldout"])
    metric = max(on_valid, key=on_valid.get)
    text = lambda split, m: f"gap {c[split][m + '_gap']:.3f} → {s[split][m + '_gap']:.3f}"  # noqa: E731
    return {"baseline": BASELINE, "scheduled": SCHEDULED, "recommended_metric": metric,
            "chosen_on": "validation split", "narrowing_validation": on_valid, "narrowing_heldout": on_held,
            "heldout_shows_narrowing": on_held[metric] > 0, "gap_text": text("heldout", metric),
            "gap_texts": {m: {split: text(split, m) for split in ("heldout", "validation")} for m in on_valid}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="data/raw", help="corpora folder with multi30k/ (scripts/fetch_data.py)")
    ap.add_argument("--splits", default="data", help="folder scripts/prepare_data.py wrote tatoeba-zh-en/ into")
    ap.add_argument("--checkpoints", type=Path, default=ROOT / "checkpoints")
    ap.add_argument("--models", nargs="*", help="names (default: every *.s2s in --checkpoints)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    names = args.models or sorted(p.stem for p in args.checkpoints.glob("*.s2s") if not p.name.endswith(".last.s2s"))
    results = {}
    for name in names:
        results[name] = measure(args.checkpoints / f"{name}.s2s", args.data, args.splits)
        g = results[name]["gaps"]
        print(f"{name}: {results[name]['seconds']} s; held-out acc gap {g['heldout']['accuracy_gap']:.3f}, "
              f"log p gap {g['heldout']['logprob_gap']:.3f}; validation acc gap {g['validation']['accuracy_gap']:.3f}, "
              f"log p gap {g['validation']['logprob_gap']:.3f}", flush=True)
    comp = comparison(results, args.checkpoints)
    for name, result in results.items():
        result["recommended_metric"] = comp["recommended_metric"]
        result["comparison"] = comp
        cache_path(name, args.checkpoints / f"{name}.s2s", "curves").write_text(
            json.dumps(rounded(result), ensure_ascii=False, indent=1) + "\n", "utf-8")
    print(json.dumps(rounded(comp), ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
