"""Corpus scores (sacreBLEU, chrF), scores by source length, and exposure-bias curves."""
from __future__ import annotations

from dataclasses import dataclass

import re

import sacrebleu
import torch
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

from .config import DecodeConfig
from .data import Example, bucketed_batches
from .decoding import Scored, free_running, score_reference
from .translator import Translator

LENGTH_BUCKETS = ((1, 5), (6, 10), (11, 15), (16, 20), (21, 30), (31, 10_000))


def corpus_scores(hyps: list[str], refs: list[str]) -> dict:
    """sacreBLEU and chrF: cased, detokenized, default 13a tokenizer."""
    return {"bleu": round(sacrebleu.corpus_bleu(hyps, [refs]).score, 2),
            "chrf": round(sacrebleu.corpus_chrf(hyps, [refs]).score, 2)}


_WORDS = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]|[^\s\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]+")


_13A = Tokenizer13a()


def tokens_13a(text: str) -> list[str]:
    """sacreBLEU's default (13a) tokens of a text."""
    return _13A(text).split()


def too_short(hyp: str, ref: str) -> bool:
    """Empty, or fewer than half the reference's 13a tokens (the beam search curse's failure)."""
    return not hyp.strip() or len(tokens_13a(hyp)) < 0.5 * len(tokens_13a(ref))


def spread(items: list, n: int) -> list:
    """n items evenly spaced through `items` (all of them when there are no more than n), in order."""
    return list(items) if len(items) <= n else [items[i * len(items) // n] for i in range(n)]


def length_stats(hyps: list[str], refs: list[str]) -> dict:
    """Output length against the references (13a tokens), and the shares of empty and too-short outputs."""
    hyp_len, ref_len = [len(tokens_13a(h)) for h in hyps], [len(tokens_13a(r)) for r in refs]
    return {"length_ratio": sum(hyp_len) / max(1, sum(ref_len)), "mean_output_words": sum(hyp_len) / len(hyps),
            "mean_reference_words": sum(ref_len) / len(refs),
            "empty_share": sum(not h.strip() for h in hyps) / len(hyps),
            "too_short_share": sum(too_short(h, r) for h, r in zip(hyps, refs)) / len(hyps)}


def source_length(text: str) -> int:
    """Length in words; Chinese and Japanese characters (written without spaces) count one each."""
    return len(_WORDS.findall(text))


def scores_by_length(sources: list[str], hyps: list[str], refs: list[str]) -> list[dict]:
    """BLEU per bucket of `source_length`: [{"bucket": "6-10", "sentences": n, "bleu": b}, ...]."""
    rows = []
    for low, high in LENGTH_BUCKETS:
        idx = [i for i, s in enumerate(sources) if low <= source_length(s) <= high]
        if idx:
            label = f"{low}-{high}" if high < 10_000 else f"{low}+"
            bleu = sacrebleu.corpus_bleu([hyps[i] for i in idx], [[refs[i] for i in idx]]).score
            rows.append({"bucket": label, "sentences": len(idx), "bleu": round(bleu, 2)})
    return rows


def evaluate(translator: Translator, sources: list[str], refs: list[str], cfg: DecodeConfig) -> tuple[dict, list[str]]:
    hyps = [t.text for t in translator.translate(sources, cfg)]
    scores = corpus_scores(hyps, refs)
    scores["by_length"] = scores_by_length(sources, hyps, refs)
    return scores, hyps


@dataclass
class Divergence:
    """Teacher-forced vs free-running decoding of one reference."""

    teacher: Scored
    free: Scored
    first_divergence: int | None  # first step where the free-running choice differs from the gold token


def compare_one(translator: Translator, source: str, reference: str) -> Divergence:
    teacher = translator.score(source, reference, teacher_forced=True)
    free = translator.score(source, reference, teacher_forced=False)
    diverged = [t for t, (c, g) in enumerate(zip(free.choices, free.gold)) if c != g]
    return Divergence(teacher, free, diverged[0] if diverged else None)


@dataclass
class PositionCurve:
    positions: list[int]  # target position (1-based)
    count: list[int]  # references long enough to have that position
    teacher_accuracy: list[float]  # argmax == gold, teacher-forced
    free_accuracy: list[float]  # argmax == gold, free-running
    teacher_logprob: list[float]  # mean log p(gold)
    free_logprob: list[float]


def _accumulate(scored: list[Scored], max_pos: int) -> tuple[list, list, list]:
    hits, logps, counts = [0.0] * max_pos, [0.0] * max_pos, [0] * max_pos
    for s in scored:
        for t, (choice, gold, lp) in enumerate(zip(s.choices, s.gold, s.gold_logprobs)):
            if t < max_pos:
                hits[t] += choice == gold
                logps[t] += lp
                counts[t] += 1
    return hits, logps, counts


@torch.inference_mode()
def exposure_curve(translator: Translator, pairs: list[tuple[str, str]], max_pos: int = 30,
                   min_count: int = 5) -> PositionCurve:
    """Token accuracy and gold log-probability by target position, teacher-forced vs free-running."""
    examples = [Example(translator.source(s).ids, translator.target_ids(t)) for s, t in pairs]
    teacher, free = [], []
    for batch in bucketed_batches(examples, 64):
        batch = batch.to(translator.device)
        teacher += score_reference(translator.model, batch.src, batch.src_len, batch.tgt, record_top=1)
        free += free_running(translator.model, batch.src, batch.src_len, batch.tgt, record_top=1)
    th, tl, counts = _accumulate(teacher, max_pos)
    fh, fl, _ = _accumulate(free, max_pos)
    keep = [t for t in range(max_pos) if counts[t] >= min_count]
    div = lambda xs: [xs[t] / counts[t] for t in keep]  # noqa: E731
    return PositionCurve([t + 1 for t in keep], [counts[t] for t in keep], div(th), div(fh), div(tl), div(fl))
