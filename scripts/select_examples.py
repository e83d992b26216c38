"""Choose every example the UI and docs/LESSON.md show, by stated criteria over VALIDATION pairs.

    python scripts/prepare_data.py --data ../shared/data --out data      # once: the fixed Tatoeba splits
    python scripts/select_examples.py --data ../shared/data [--splits data]

Where the candidates come from (never a test split: the README's BLEU tables and demo/examples/heldout_*.tsv,
which the README there says are taken from the test splits, are left alone):
- zh-en: data/tatoeba-zh-en/valid.tsv (1,204 pairs, the fixed grouped split of scripts/prepare_data.py), only
  Simplified Chinese sources (s2s.tokenizer.normalize(text, "zh-hans") == text), one pair per source text.
- de-en: Multi30k val.de / val.en (1,014 pairs), one pair per source text.
Both validation splits were never trained on, but the shipped checkpoints were chosen by validation loss on them
(best epoch): they are held out from training, not from model selection.

Criteria (the numbers are in CRITERIA and are written into the JSON next to each example's measured values):
- exposure (zh-en-classic, and the same sentences measured with zh-en-scheduled; de-en-classic for German):
  teacher-forced token accuracy >= 0.8 and mean teacher-forced p(gold) >= 0.6; the free-running run (fed its own
  greedy choices) first differs from the reference at step >= 3 (1-based), at least 2 reference steps follow
  that step, and over those later steps the free-running mean p(gold) is <= 0.2 and at least 0.4 below the
  teacher-forced mean p(gold) on the same steps (the collapse). Ranked by that drop, largest first; 4 kept.
- translate (Translate tab steps 1-3, classic model): source <= 8 words (CJK characters count one each), greedy
  output equal to the reference (exact string match), beam 5 (length penalty 1, the UI default) sentence chrF
  >= 60. Ranked by beam chrF, then shorter, then file order; 5 kept.
- beam (step 2, "greedy is myopic"), per model (classic and attention): source <= 12 words; with beam 5
  (length penalty 1) the winner's first token is not the top-1 candidate at step 1 (i.e. not greedy's first
  token), the winner's score beats greedy's under the same length penalty, and its raw log-probability beats
  greedy's too; the winner's sentence chrF >= greedy's. Ranked by the winner's chrF (a translation worth showing),
  then by its gain over greedy; 3 kept per model. "recommended" names the model whose best example has the
  higher winner chrF.
- bottleneck (step 6): source >= 15 words; greedy (as the Compare view decodes) attention-model sentence chrF
  >= 50 and at least 20 above the classic model's; attention sharpness (mean over target steps of the largest
  attention weight) >= 0.5. Ranked by chrF gap; 3 kept.
Ties are broken by order in the file, so the selection is deterministic (CPU, one thread).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import sacrebleu
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from s2s.config import DecodeConfig  # noqa: E402
from s2s.data import Example, collate  # noqa: E402
from s2s.decoding import free_running, length_penalty, score_reference  # noqa: E402
from s2s.evaluate import source_length  # noqa: E402
from s2s.tokenizer import normalize  # noqa: E402
from s2s.translator import Translator  # noqa: E402

OUT = ROOT / "demo/examples/lesson_examples.json"
CRITERIA = {
    "exposure": {"min_teacher_accuracy": 0.8, "min_teacher_p_gold": 0.6, "min_divergence_step": 3,
                 "min_steps_after": 2, "max_free_p_after": 0.2, "min_p_drop_after": 0.4, "keep": 4},
    "translate": {"max_source_words": 8, "greedy_exact_match": True, "min_beam_chrf": 60.0, "beam_size": 5,
                  "length_penalty": 1.0, "keep": 5},
    "beam": {"max_source_words": 12, "beam_size": 5, "length_penalty": 1.0, "keep": 3},
    "bottleneck": {"min_source_words": 15, "min_attention_chrf": 50.0, "min_chrf_gap": 20.0,
                   "min_sharpness": 0.5, "keep": 3},
}
MODELS = {"zh-en": {"classic": "zh-en-classic", "attention": "zh-en-attention", "scheduled": "zh-en-scheduled"},
          "de-en": {"classic": "de-en-classic", "attention": "de-en-attention"}}
BATCH = 64


# ---------------------------------------------------------------- data

def read_pairs(path: Path) -> list[tuple[str, str]]:
    rows = [line.split("\t") for line in path.read_text("utf-8").splitlines() if "\t" in line]
    return [(r[0].strip(), r[1].strip()) for r in rows]


def validation_pairs(pair: str, data: str, splits: str) -> tuple[list[tuple[str, str]], str]:
    """(pairs, description) of the validation split of a language pair, in file order."""
    if pair == "zh-en":
        path = Path(splits, "tatoeba-zh-en/valid.tsv")
        return read_pairs(path), f"Tatoeba zh-en validation split ({path}, made by scripts/prepare_data.py)"
    src = Path(data, "multi30k/val.de").read_text("utf-8").splitlines()
    ref = Path(data, "multi30k/val.en").read_text("utf-8").splitlines()
    return [(s.strip(), r.strip()) for s, r in zip(src, ref)], "Multi30k val (val.de / val.en)"


def is_simplified(text: str) -> bool:
    """True when OpenCC's traditional -> simplified conversion leaves the text unchanged."""
    return normalize(text, "zh-hans") == text.strip()


def candidates(pairs: list[tuple[str, str]], pair: str) -> list[tuple[str, str]]:
    """One pair per source text (first occurrence), Simplified Chinese only for zh-en, non-empty sides."""
    seen, out = set(), []
    for s, r in pairs:
        if s and r and s not in seen and (pair != "zh-en" or is_simplified(s)):
            seen.add(s)
            out.append((s, r))
    return out


# ---------------------------------------------------------------- criteria (pure functions)

def first_divergence(choices: list[int], gold: list[int]) -> int | None:
    """1-based step at which the model's choice first differs from the gold token; None when it never does."""
    for t, (c, g) in enumerate(zip(choices, gold)):
        if c != g:
            return t + 1
    return None


def accuracy(choices: list[int], gold: list[int]) -> float:
    return sum(c == g for c, g in zip(choices, gold)) / max(1, len(gold))


def mean_p(logprobs: list[float]) -> float | None:
    return sum(math.exp(x) for x in logprobs) / len(logprobs) if logprobs else None


def exposure_stats(teacher_gold_logp, teacher_choices, free_gold_logp, free_choices, gold) -> dict:
    """Numbers the exposure criterion reads, from one reference scored teacher-forced and free-running."""
    step = first_divergence(free_choices, gold)
    after = slice(step, None) if step else slice(len(gold), None)  # the steps after the divergence step
    return {"steps": len(gold), "teacher_accuracy": accuracy(teacher_choices, gold),
            "free_accuracy": accuracy(free_choices, gold), "teacher_p_gold": mean_p(teacher_gold_logp),
            "free_p_gold": mean_p(free_gold_logp), "divergence_step": step,
            "steps_after": len(gold[after]), "teacher_p_after": mean_p(teacher_gold_logp[after]),
            "free_p_after": mean_p(free_gold_logp[after])}


def meets_exposure(s: dict, c: dict) -> bool:
    return (s["teacher_accuracy"] >= c["min_teacher_accuracy"] and s["teacher_p_gold"] >= c["min_teacher_p_gold"]
            and s["divergence_step"] is not None and s["divergence_step"] >= c["min_divergence_step"]
            and s["steps_after"] >= c["min_steps_after"] and s["free_p_after"] <= c["max_free_p_after"]
            and s["teacher_p_after"] - s["free_p_after"] >= c["min_p_drop_after"])


def sharpness(attention: list[list[float]]) -> float:
    """Mean over target steps of the largest attention weight (1.0: every step looks at one source piece)."""
    return sum(max(row) for row in attention) / len(attention) if attention else 0.0


def chrf(hyp: str, ref: str) -> float:
    return sacrebleu.sentence_chrf(hyp, [ref]).score


def meets_translate(s: dict, c: dict) -> bool:
    return (s["source_words"] <= c["max_source_words"] and s["greedy"] == s["reference"]
            and s["beam_chrf"] >= c["min_beam_chrf"])


def beam_stats(beam_tokens, beam_score, beam_logprob, greedy_tokens, greedy_logprob, alpha: float) -> dict:
    """Beam winner vs greedy: greedy's first token is the top-1 candidate at step 1; scores under the same penalty."""
    greedy_score = greedy_logprob / length_penalty(len(greedy_tokens), alpha)
    return {"winner_first_is_top1": beam_tokens[:1] == greedy_tokens[:1], "beam_score": beam_score,
            "greedy_score": greedy_score, "beam_logprob": beam_logprob, "greedy_logprob": greedy_logprob}


def meets_beam(s: dict, c: dict) -> bool:
    return (s["source_words"] <= c["max_source_words"] and not s["winner_first_is_top1"]
            and s["beam_score"] > s["greedy_score"] and s["beam_logprob"] > s["greedy_logprob"]
            and s["beam_chrf"] >= s["greedy_chrf"])


def meets_bottleneck(s: dict, c: dict) -> bool:
    return (s["source_words"] >= c["min_source_words"] and s["attention_chrf"] >= c["min_attention_chrf"]
            and s["attention_chrf"] - s["classic_chrf"] >= c["min_chrf_gap"] and s["sharpness"] >= c["min_sharpness"])


# ---------------------------------------------------------------- measurements (batched, in input order)

@torch.inference_mode()
def scored(translator: Translator, pairs: list[tuple[str, str]], teacher: bool) -> list:
    """score_reference / free_running of every pair, in input order (batches of similar length)."""
    examples = [Example(translator.source(s).ids, translator.target_ids(r)) for s, r in pairs]
    order = sorted(range(len(pairs)), key=lambda i: (len(examples[i].src), len(examples[i].tgt)))
    fn = score_reference if teacher else free_running
    out = [None] * len(pairs)
    for start in range(0, len(order), BATCH):
        chunk = order[start:start + BATCH]
        b = collate([examples[i] for i in chunk]).to(translator.device)
        for i, s in zip(chunk, fn(translator.model, b.src, b.src_len, b.tgt, record_top=1)):
            out[i] = s
    return out


def measure_exposure(translator: Translator, pairs: list[tuple[str, str]]) -> list[dict]:
    rows = []
    for t, f in zip(scored(translator, pairs, True), scored(translator, pairs, False)):
        rows.append(exposure_stats(t.gold_logprobs, t.choices, f.gold_logprobs, f.choices, t.gold))
    return rows


def greedy(translator: Translator, sources: list[str], record_top: int = 0):
    return translator.translate(sources, DecodeConfig(strategy="greedy", record_top=record_top))


def beam(translator: Translator, sources: list[str], k: int, alpha: float):
    cfg = DecodeConfig(strategy="beam", beam_size=k, length_penalty=alpha, record_top=0)
    return translator.translate(sources, cfg)


def measure_translate(translator: Translator, pairs: list[tuple[str, str]], c: dict) -> list[dict]:
    sources = [s for s, _ in pairs]
    hyps = [t.text for t in greedy(translator, sources)]
    beams = [t.text for t in beam(translator, sources, c["beam_size"], c["length_penalty"])]
    return [{"source": s, "reference": r, "source_words": source_length(s), "greedy": g, "beam": b,
             "greedy_chrf": chrf(g, r), "beam_chrf": chrf(b, r)} for (s, r), g, b in zip(pairs, hyps, beams)]


def measure_beam(translator: Translator, pairs: list[tuple[str, str]], c: dict) -> list[dict]:
    sources = [s for s, _ in pairs]
    greedy_out = greedy(translator, sources)
    beam_out = beam(translator, sources, c["beam_size"], c["length_penalty"])
    rows = []
    for (s, r), g, b in zip(pairs, greedy_out, beam_out):
        win, first = b.result.hypotheses[0], g.result.hypotheses[0]
        row = beam_stats(win.tokens, win.score, win.logprob, first.tokens, first.logprob, c["length_penalty"])
        row.update({"source": s, "reference": r, "source_words": source_length(s), "greedy": g.text, "beam": b.text,
                    "greedy_first_piece": translator.piece(first.tokens[0]),
                    "winner_first_piece": translator.piece(win.tokens[0]),
                    "greedy_chrf": chrf(g.text, r), "beam_chrf": chrf(b.text, r)})
        rows.append(row)
    return rows


def measure_bottleneck(classic: Translator, attention: Translator, pairs: list[tuple[str, str]]) -> list[dict]:
    sources = [s for s, _ in pairs]
    classic_out = greedy(classic, sources)
    attention_out = greedy(attention, sources, record_top=1)
    rows = []
    for (s, r), a, b in zip(pairs, classic_out, attention_out):
        weights = [step.attention for step in b.result.hypotheses[0].steps]
        rows.append({"source": s, "reference": r, "source_words": source_length(s), "classic": a.text,
                     "attention": b.text, "classic_chrf": chrf(a.text, r), "attention_chrf": chrf(b.text, r),
                     "sharpness": sharpness(weights)})
    return rows


# ---------------------------------------------------------------- selection

def top(rows: list[dict], ok, key, keep: int) -> list[dict]:
    """The `keep` best rows that pass `ok`, by `key` (larger first), ties in input order; one per reference."""
    chosen, refs = [], set()
    for row in sorted((r for r in rows if ok(r)), key=key, reverse=True):  # sorted() is stable
        if row["reference"] not in refs:
            refs.add(row["reference"])
            chosen.append(row)
    return chosen[:keep]


def rounded(x):
    if isinstance(x, float):
        return round(x, 4)
    if isinstance(x, dict):
        return {k: rounded(v) for k, v in x.items()}
    if isinstance(x, list):
        return [rounded(v) for v in x]
    return x


def select_exposure(models: dict, pairs, c: dict) -> list[dict]:
    """Chosen with the classic model; the same sentences measured with the scheduled-sampling model too."""
    classic = models["classic"]
    rows = [{"source": s, "reference": r, **st} for (s, r), st in zip(pairs, measure_exposure(classic, pairs))]
    chosen = top(rows, lambda r: meets_exposure(r, c), lambda r: r["teacher_p_after"] - r["free_p_after"], c["keep"])
    chosen_pairs = [(r.pop("source"), r.pop("reference")) for r in chosen]
    out = [{"source": s, "reference": r, "measured": {classic.name: st}} for (s, r), st in zip(chosen_pairs, chosen)]
    if "scheduled" in models:
        for entry, st in zip(out, measure_exposure(models["scheduled"], chosen_pairs)):
            entry["measured"][models["scheduled"].name] = st
    return out


def select_translate(translator: Translator, pairs, c: dict) -> list[dict]:
    short = [p for p in pairs if source_length(p[0]) <= c["max_source_words"]]
    rows = measure_translate(translator, short, c)
    return top(rows, lambda r: meets_translate(r, c), lambda r: (r["beam_chrf"], -r["source_words"]), c["keep"])


def select_beam(translator: Translator, pairs, c: dict) -> list[dict]:
    short = [p for p in pairs if source_length(p[0]) <= c["max_source_words"]]
    rows = measure_beam(translator, short, c)
    key = lambda r: (r["beam_chrf"], r["beam_chrf"] - r["greedy_chrf"])  # noqa: E731
    return top(rows, lambda r: meets_beam(r, c), key, c["keep"])


def select_bottleneck(classic: Translator, attention: Translator, pairs, c: dict) -> list[dict]:
    long = [p for p in pairs if source_length(p[0]) >= c["min_source_words"]]
    rows = measure_bottleneck(classic, attention, long)
    return top(rows, lambda r: meets_bottleneck(r, c), lambda r: r["attention_chrf"] - r["classic_chrf"], c["keep"])


def select_pair(pair: str, pairs, description: str, ckpt_dir: Path) -> dict:
    models = {role: Translator.load(ckpt_dir / f"{name}.s2s") for role, name in MODELS[pair].items()}
    pool = candidates(pairs, pair)
    out = {"split": description, "candidates": len(pool)}
    out["exposure"] = select_exposure(models, pool, CRITERIA["exposure"])
    out["translate"] = {models["classic"].name: select_translate(models["classic"], pool, CRITERIA["translate"])}
    out["beam"] = {models[r].name: select_beam(models[r], pool, CRITERIA["beam"]) for r in ("classic", "attention")}
    out["bottleneck"] = select_bottleneck(models["classic"], models["attention"], pool, CRITERIA["bottleneck"])
    out["models"] = {m.name: m.name + ".s2s" for m in models.values()}
    out["recommended"] = recommended(out)
    return rounded(out)


def recommended(out: dict) -> dict:
    """The first (best-ranked) example of each kind; for beam search, the model whose best winner scores higher."""
    first = lambda rows: rows[0]["source"] if rows else None  # noqa: E731
    beams = [(rows[0]["beam_chrf"], name, rows[0]["source"]) for name, rows in out["beam"].items() if rows]
    best_beam = max(beams) if beams else None
    return {"exposure": first(out["exposure"]),
            "translate": {name: first(rows) for name, rows in out["translate"].items()},
            "beam": {"model": best_beam[1], "source": best_beam[2]} if best_beam else None,
            "bottleneck": first(out["bottleneck"])}


def summary(result: dict) -> str:
    lines = []
    for pair, r in result["pairs"].items():
        lines.append(f"== {pair}: {r['split']}, {r['candidates']} candidate pairs")
        for e in r["exposure"]:
            nums = "; ".join(f"{name}: tf acc {s['teacher_accuracy']:.2f}, tf p {s['teacher_p_gold']:.2f}, diverges "
                             f"at {s['divergence_step']}, p after tf {s['teacher_p_after']:.2f} / free "
                             f"{s['free_p_after']:.2f}" for name, s in e["measured"].items())
            lines.append(f"exposure  {e['source']} -> {e['reference']}  [{nums}]")
        for name, rows in r["translate"].items():
            lines += [f"translate {name}: {x['source']} -> {x['greedy']} (beam chrF {x['beam_chrf']:.1f})"
                      for x in rows]
        for name, rows in r["beam"].items():
            lines += [f"beam      {name}: {x['source']}: greedy '{x['greedy']}' {x['greedy_score']:.3f} vs beam "
                      f"'{x['beam']}' {x['beam_score']:.3f} (first piece {x['greedy_first_piece']} -> "
                      f"{x['winner_first_piece']}); chrF {x['greedy_chrf']:.1f} -> {x['beam_chrf']:.1f}"
                      for x in rows] or [f"beam      {name}: none meets the criterion"]
        lines += [f"bottleneck {x['source']}: classic '{x['classic']}' {x['classic_chrf']:.1f} vs attention "
                  f"'{x['attention']}' {x['attention_chrf']:.1f}, sharpness {x['sharpness']:.2f}"
                  for x in r["bottleneck"]]
        lines.append(f"recommended: {json.dumps(r['recommended'], ensure_ascii=False)}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="data/raw", help="corpora folder with multi30k/ (scripts/fetch_data.py)")
    ap.add_argument("--splits", default="data", help="folder scripts/prepare_data.py wrote tatoeba-zh-en/ into")
    ap.add_argument("--checkpoints", type=Path, default=ROOT / "checkpoints")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    torch.set_num_threads(1)
    result = {"about": "Examples for the UI and docs/LESSON.md, chosen by scripts/select_examples.py over "
                       "validation pairs (never a test split); see its docstring.",
              "criteria": CRITERIA, "pairs": {}}
    for pair in MODELS:
        pairs, description = validation_pairs(pair, args.data, args.splits)
        result["pairs"][pair] = select_pair(pair, pairs, description, args.checkpoints)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", "utf-8")
    print(summary(result))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
