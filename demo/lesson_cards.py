"""What each lesson card computes on the live models: the pre-set view shown before the question (`*_setup`) and
the result behind the answer (`*_reveal`), in English or Chinese.

Everything is computed through the functions the Translate and Exposure-bias tabs use (demo/handlers.py,
demo/plots.py, demo/training.py); the correct answer of every card is derived from the live numbers here, never
written down. Examples come from demo/examples/lesson_examples.json (chosen by scripts/select_examples.py) when
it is there, and precomputed curves from demo/cache.py when they belong to the installed checkpoint."""
from __future__ import annotations

import json
import logging
import math
import threading
from collections import Counter
from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go

from s2s.config import TrainConfig
from s2s.data import encode_pairs, split_pairs
from s2s.evaluate import corpus_scores, source_length
from s2s.train import Trainer
from s2s.decoding import Step
from s2s.evaluate import compare_one
from s2s.translator import Translation, Translator

from . import handlers, models, plots, training
from .i18n_lesson import EN, ZH

try:  # precomputed curves (another module of the app; recomputed live without it)
    from . import cache
except ImportError:  # pragma: no cover - only while that module is absent
    cache = None

log = logging.getLogger("demo")
CLASSIC, ATTENTION, SCHEDULED = "zh-en-classic", "zh-en-attention", "zh-en-scheduled"
CONTEXT_SOURCES = ("我爱你。", "你叫什么名字？")
BEAM_K = 5
BEAM_FALLBACK = (CLASSIC, "感谢澄清。")
SAMPLE_SOURCE = "我们明天早上去公园散步吧。"
SAMPLES, COLD, HOT = 20, 0.1, 1.5
EXPOSURE_FALLBACK = ("他是我弟弟。", "He's my younger brother.")
WHATIF_SOURCE, WHATIF_STEP = "我们明天早上去公园散步吧。", 1
BOTTLENECK_FALLBACK = ("你知道这儿附近有什么好餐馆吗?", "Do you know of any good restaurant near here?")
FINE_TUNE = {"steps": 30, "lr": 3e-3, "batch": 32, "seed": 1, "kitchen": 30, "general": 40}


def tr(lang: str, key: str, **fields) -> str:
    """A lesson string in `lang` ("en" or "zh"; English when the Chinese table lacks it), fields filled in."""
    table = ZH if lang == "zh" else EN
    return table.get(key, EN[key]).format(**fields)


@dataclass
class Setup:
    """What a card shows before the question is answered."""

    text: str
    figure: go.Figure | None = None


@dataclass
class Outcome:
    """A card's live result: the correct choice, why, and the figures and numbers behind it."""

    correct: str
    why: str
    figure: go.Figure | None = None
    figure2: go.Figure | None = None
    table: pd.DataFrame | None = None
    facts: dict = field(default_factory=dict)


# ---------------------------------------------------------------- examples and shared pieces


def lesson_examples() -> dict:
    """The zh-en part of demo/examples/lesson_examples.json, {} when it is missing or unreadable (read each time:
    the file may appear or change while the app runs)."""
    try:
        data = json.loads((models.EXAMPLES / "lesson_examples.json").read_text("utf-8"))
        pair = data["pairs"]["zh-en"]
        return pair if isinstance(pair, dict) else {}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def beam_example() -> tuple[str, str]:
    """(model, source) of a sentence where the beam's winner was not first after step 1."""
    rec = lesson_examples().get("recommended", {}).get("beam") or {}
    model, source = rec.get("model"), rec.get("source")
    return (model, source) if model in models.shipped_models() and source else BEAM_FALLBACK


def exposure_example() -> tuple[str, str]:
    """(source, reference) of a held-out pair with a clear divergence."""
    ex = lesson_examples()
    source = ex.get("recommended", {}).get("exposure")
    refs = {e.get("source"): e.get("reference") for e in ex.get("exposure", []) if isinstance(e, dict)}
    return (source, refs[source]) if refs.get(source) else EXPOSURE_FALLBACK


def bottleneck_example() -> tuple[str, str]:
    """(source, reference) of a long held-out sentence the classic model gets wrong and attention gets right."""
    ex = lesson_examples()
    source = ex.get("recommended", {}).get("bottleneck")
    refs = {e.get("source"): e.get("reference") for e in ex.get("bottleneck", []) if isinstance(e, dict)}
    return (source, refs[source]) if refs.get(source) else BOTTLENECK_FALLBACK


def greedy(source: str, model: str) -> tuple:
    """handlers.translate with greedy search: (text, notice, table, step heatmap, attention, tree, memory)."""
    return handlers.translate(source, model, "greedy")


def decoded(model: str, source: str, cfg=None, prefix: list[int] | None = None) -> Translation:
    """The core's translation (greedy unless `cfg`): the numbers a card judges by come from here, not from the
    display tables (whose headers follow the page's language)."""
    return handlers.get_model(model).translate_one(source, cfg or handlers.decode_config("greedy"), prefix)


def word(model: str, token: int) -> str:
    """A target piece as the learner reads it (sentencepiece's word-start mark dropped)."""
    piece = handlers.get_model(model).piece(token)
    return piece.replace("\u2581", " ").strip() or piece


def first_choice(model: str, source: str) -> tuple[str, float, Step]:
    """The word chosen at greedy step 1, its probability, and the step (its top candidates)."""
    hyp = decoded(model, source).result.hypotheses[0]
    step, token = hyp.steps[0], hyp.tokens[0]
    p = step.top_probs[list(step.top_ids).index(token)] if token in step.top_ids else 0.0
    return word(model, token), p, step


# ---------------------------------------------------------------- 1. the context vector


def context_setup(lang: str) -> Setup:
    a, b = CONTEXT_SOURCES
    out = greedy(a, CLASSIC)
    return Setup(tr(lang, "lesson_context_setup", model=CLASSIC, a=a, b=b, text=out[0]), out[3])


def step_one_table(lang: str, steps: list[Step], sources: tuple[str, ...]) -> pd.DataFrame:
    """The top candidates at step 1 for each source, side by side."""
    n = min(len(s.top_ids) for s in steps)
    columns = {tr(lang, "lesson_col_rank"): list(range(1, n + 1))}
    for step, source in zip(steps, sources):
        columns[source] = [word(CLASSIC, t) for t in step.top_ids[:n]]
        columns[f"p · {source}"] = [round(p, 3) for p in step.top_probs[:n]]
    return pd.DataFrame(columns)


def context_reveal(lang: str) -> Outcome:
    a, b = CONTEXT_SOURCES
    (wa, pa, sa), (wb, pb, sb) = (first_choice(CLASSIC, s) for s in CONTEXT_SOURCES)
    correct = "same" if wa == wb else "different"
    why = tr(lang, f"lesson_context_why_{correct}", a=a, b=b, wa=wa, wb=wb, pa=pa, pb=pb)
    table = step_one_table(lang, [sa, sb], CONTEXT_SOURCES)
    return Outcome(correct, why, greedy(b, CLASSIC)[3], None, table, {"first_words": [wa, wb]})


# ---------------------------------------------------------------- 2. greedy vs beam


def beam_setup(lang: str) -> Setup:
    model, source = beam_example()
    out = greedy(source, model)
    glp = decoded(model, source).result.hypotheses[0].logprob
    return Setup(tr(lang, "lesson_beam_setup", model=model, src=source, greedy=out[0], glp=glp, k=BEAM_K), out[3])


def beam_reveal(lang: str) -> Outcome:
    model, source = beam_example()
    translator = handlers.get_model(model)
    beam = translator.translate_one(source, handlers.decode_config("beam", BEAM_K, n_best=BEAM_K))
    rank = handlers.winner_positions(beam.result)[0] + 1
    plain = decoded(model, source)
    correct = "first" if rank == 1 else "behind"
    why = tr(lang, "lesson_beam_why", beam=beam.text, blp=beam.result.hypotheses[0].logprob, rank=rank,
             greedy=plain.text, glp=plain.result.hypotheses[0].logprob) + \
        tr(lang, f"lesson_beam_why_{correct}", k=BEAM_K)
    return Outcome(correct, why, handlers.beam_tree_figure(translator, beam.result), None,
                   handlers.hypothesis_table(translator, beam.result, beam.texts),
                   {"rank_after_step_1": rank, "beam": beam.text, "greedy": plain.text})


# ---------------------------------------------------------------- 3. temperature


def temperature_setup(lang: str) -> Setup:
    out = greedy(SAMPLE_SOURCE, CLASSIC)
    return Setup(tr(lang, "lesson_temperature_setup", model=CLASSIC, src=SAMPLE_SOURCE, greedy=out[0], n=SAMPLES,
                    cold=COLD), out[3])


def sample_counts(temperature: float) -> Counter:
    """How often each distinct translation came up in SAMPLES samples at `temperature` (seed 0)."""
    cfg = handlers.decode_config("sample", 1, temperature, SAMPLES, seed=0)
    return Counter(decoded(CLASSIC, SAMPLE_SOURCE, cfg).texts)


def samples_table(lang: str, counts: Counter, temperature: float) -> pd.DataFrame:
    rows = counts.most_common()
    return pd.DataFrame({"T": [temperature] * len(rows), tr(lang, "lesson_col_translation"): [t for t, _ in rows],
                         tr(lang, "lesson_col_count_drawn"): [c for _, c in rows]})


def temperature_reveal(lang: str) -> Outcome:
    plain = decoded(CLASSIC, SAMPLE_SOURCE).text
    cold, hot = sample_counts(COLD), sample_counts(HOT)
    cold_fig = handlers.draw_samples(SAMPLE_SOURCE, CLASSIC, COLD, seed=0, n=SAMPLES)[2]
    hot_fig = handlers.draw_samples(SAMPLE_SOURCE, CLASSIC, HOT, seed=0, n=SAMPLES)[2]
    same = cold[plain]
    correct = "all" if same == SAMPLES else "most" if 2 * same >= SAMPLES else "few"
    why = tr(lang, "lesson_temperature_why", same=same, n=SAMPLES, cold=COLD, hot=HOT, distinct_cold=len(cold),
             distinct_hot=len(hot))
    table = pd.concat([samples_table(lang, cold, COLD), samples_table(lang, hot, HOT)], ignore_index=True)
    return Outcome(correct, why, cold_fig, hot_fig, table, {"greedy_samples": same, "distinct_hot": len(hot)})


# ---------------------------------------------------------------- 4. exposure bias on one sentence


def exposure_setup(lang: str) -> Setup:
    source, reference = exposure_example()
    out = greedy(source, CLASSIC)
    return Setup(tr(lang, "lesson_exposure_setup", model=CLASSIC, src=source, ref=reference, own=out[0]), out[3])


def divergence_facts(source: str, reference: str) -> dict:
    """Teacher-forced vs free-running (the core's compare_one): the first divergence and the mean p(gold) of the
    reference's words from the step after it on (from it, when it is the last step)."""
    d = compare_one(handlers.get_model(CLASSIC), source, reference)
    div = d.first_divergence
    if div is None:
        return {"step": None}
    start = div + 1 if div + 1 < len(d.teacher.gold) else div
    mean_p = lambda lps: sum(math.exp(lp) for lp in lps[start:]) / len(lps[start:])  # noqa: E731
    return {"step": div + 1, "gold": word(CLASSIC, d.teacher.gold[div]), "said": word(CLASSIC, d.free.choices[div]),
            "tp": mean_p(d.teacher.gold_logprobs), "fp": mean_p(d.free.gold_logprobs)}


def exposure_reveal(lang: str) -> Outcome:
    source, reference = exposure_example()
    _, table, fig = handlers.exposure_compare(source, reference, CLASSIC)
    facts = divergence_facts(source, reference)
    if facts["step"] is None:
        return Outcome("similar", tr(lang, "lesson_exposure_why_none"), fig, None, table, facts)
    diff = facts["fp"] - facts["tp"]
    correct = "lower" if diff < -0.1 else "higher" if diff > 0.1 else "similar"
    return Outcome(correct, tr(lang, "lesson_exposure_why", **facts), fig, None, table, facts)


# ---------------------------------------------------------------- 5, 6. curves over many sentences


@dataclass
class CurveData:
    positions: list[int]
    counts: list[int]
    teacher_acc: list[float]
    free_acc: list[float]
    teacher_lp: list[float]
    free_lp: list[float]
    cached: bool


def curve_data(name: str) -> CurveData:
    """Accuracy and log p(gold) by position: the precomputed cache of this exact checkpoint, else computed live."""
    handlers.get_model(name)  # a clear error when the model is missing
    found = cache.load_curves(name, models.model_path(name)) if cache else None
    c = (found or {}).get("curve")
    if c:
        return CurveData(c["position"], c["sentences"], c["teacher_accuracy"]["mean"], c["free_accuracy"]["mean"],
                         c["teacher_logprob"]["mean"], c["free_logprob"]["mean"], True)
    live = handlers.cached_curve(name)
    return CurveData(live.positions, live.count, live.teacher_accuracy, live.free_accuracy, live.teacher_logprob,
                     live.free_logprob, False)


def source_note(lang: str, data: CurveData) -> str:
    return tr(lang, "lesson_source_cache" if data.cached else "lesson_source_live")


def curve_setup(lang: str) -> Setup:
    data = curve_data(CLASSIC)
    return Setup(tr(lang, "lesson_curve_setup", model=CLASSIC, n=data.counts[0], source=source_note(lang, data)))


def half_position(data: CurveData) -> int | None:
    """The first position where free-running accuracy is below half the teacher-forced accuracy."""
    return next((p for p, t, f in zip(data.positions, data.teacher_acc, data.free_acc) if f < t / 2), None)


def position_bin(position: int | None) -> str:
    if position is None or position >= 10:
        return "p10"
    return ("p1", "p4", "p7")[(position - 1) // 3]


def curve_reveal(lang: str) -> Outcome:
    data = curve_data(CLASSIC)
    pos = half_position(data)
    fig = plots.position_curves([plots.Curve(CLASSIC, data.positions, data.teacher_acc, data.free_acc)])
    table = pd.DataFrame({tr(lang, "lesson_col_position"): data.positions, tr(lang, "lesson_col_count"): data.counts,
                          tr(lang, "lesson_col_teacher"): data.teacher_acc, tr(lang, "lesson_col_free"): data.free_acc})
    if pos is None:
        why = tr(lang, "lesson_curve_why_never", last=data.positions[-1])
    else:
        i = data.positions.index(pos)
        why = tr(lang, "lesson_curve_why", pos=pos, free=data.free_acc[i], teacher=data.teacher_acc[i],
                 n=data.counts[i])
    return Outcome(position_bin(pos), why, fig, None, table, {"position": pos})


def logprob_gap(data: CurveData) -> float:
    """Teacher-forced minus free-running mean log p(gold), over all target tokens (positions weighted by count)."""
    total = sum(data.counts)
    return sum(n * (t - f) for n, t, f in zip(data.counts, data.teacher_lp, data.free_lp)) / max(1, total)


def scheduled_setup(lang: str) -> Setup:
    return Setup(tr(lang, "lesson_scheduled_setup", a=CLASSIC, b=SCHEDULED,
                    source=source_note(lang, curve_data(SCHEDULED))))


def scheduled_reveal(lang: str) -> Outcome:
    classic, scheduled = curve_data(CLASSIC), curve_data(SCHEDULED)
    gc, gs = logprob_gap(classic), logprob_gap(scheduled)
    ratio = gs / gc if gc > 0 else 1.0
    correct = "smaller" if ratio < 0.9 else "larger" if ratio > 1.1 else "same"
    fig = plots.position_curves([plots.Curve(n, d.positions, d.teacher_lp, d.free_lp)
                                 for n, d in ((CLASSIC, classic), (SCHEDULED, scheduled))], "mean log p(gold)")
    table = pd.DataFrame({tr(lang, "lesson_col_model"): [CLASSIC, SCHEDULED],
                          tr(lang, "lesson_col_gap"): [round(gc, 3), round(gs, 3)]})
    return Outcome(correct, tr(lang, "lesson_scheduled_why", gc=gc, gs=gs, ratio=ratio), fig, None, table,
                   {"gap_classic": gc, "gap_scheduled": gs})


# ---------------------------------------------------------------- 7. what if


@dataclass
class WhatIf:
    tokens: list[int]  # the greedy translation
    chosen: int  # its token at WHATIF_STEP
    forced: int  # the candidate forced instead: the most probable other one
    p: float  # the forced candidate's probability


def whatif_plan() -> WhatIf:
    hyp = decoded(CLASSIC, WHATIF_SOURCE).result.hypotheses[0]
    i = min(WHATIF_STEP, len(hyp.tokens)) - 1
    step, chosen = hyp.steps[i], hyp.tokens[i]
    forced, p = next((t, p) for t, p in zip(step.top_ids, step.top_probs) if t != chosen)
    return WhatIf(list(hyp.tokens), chosen, forced, p)


def whatif_setup(lang: str) -> Setup:
    plan = whatif_plan()
    out = greedy(WHATIF_SOURCE, CLASSIC)
    return Setup(tr(lang, "lesson_whatif_setup", model=CLASSIC, src=WHATIF_SOURCE, text=out[0], step=WHATIF_STEP,
                    chosen=word(CLASSIC, plan.chosen), forced=word(CLASSIC, plan.forced), p=plan.p), out[3])


def rest_unchanged(old: str, new: str) -> bool:
    """Do the words after the first changed word stay the same? (word by word, as the learner reads them)"""
    a, b = old.split(), new.split()
    same = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return a[same + 1:] == b[same + 1:]


def whatif_reveal(lang: str) -> Outcome:
    plan = whatif_plan()
    old = decoded(CLASSIC, WHATIF_SOURCE).text
    new = decoded(CLASSIC, WHATIF_SOURCE, prefix=plan.tokens[:WHATIF_STEP - 1] + [plan.forced]).text
    out = greedy(WHATIF_SOURCE, CLASSIC)
    fig = handlers.whatif(WHATIF_SOURCE, CLASSIC, WHATIF_STEP, str(plan.forced), out[6])[2]
    correct = "same" if rest_unchanged(old, new) else "changed"
    why = tr(lang, "lesson_whatif_why", old=old, new=new, forced=word(CLASSIC, plan.forced), step=WHATIF_STEP) + \
        tr(lang, f"lesson_whatif_why_{correct}")
    return Outcome(correct, why, fig, out[3], None, {"old": old, "new": new})


# ---------------------------------------------------------------- 8. the bottleneck


def bottleneck_setup(lang: str) -> Setup:
    source, reference = bottleneck_example()
    return Setup(tr(lang, "lesson_bottleneck_setup", words=source_length(source), src=source, ref=reference,
                    a=CLASSIC, b=ATTENTION))


def bleu_rows(name: str) -> tuple[list[dict], bool]:
    """BLEU by source length of a model: the precomputed rows of this exact checkpoint, else computed live."""
    handlers.get_model(name)
    found = cache.load_curves(name, models.model_path(name)) if cache else None
    rows = ((found or {}).get("bleu_by_length") or {}).get("rows")
    return (rows, True) if rows else (handlers.length_scores(name), False)


def bleu_share(classic: list[dict], attention: list[dict], long: bool) -> float:
    """Classic BLEU as a share of attention BLEU, sentence-weighted over short (1-10) or long (11+) buckets."""
    def mean(rows):
        rows = [r for r in rows if (int(r["bucket"].split("-")[0].rstrip("+")) > 10) == long]
        return sum(r["bleu"] * r["sentences"] for r in rows) / max(1, sum(r["sentences"] for r in rows))
    att = mean(attention)
    return mean(classic) / att if att > 0 else 0.0


def bottleneck_reveal(lang: str) -> Outcome:
    source, reference = bottleneck_example()
    ta, tb = decoded(CLASSIC, source).text, decoded(ATTENTION, source).text
    att_fig = handlers.compare_models(source, CLASSIC, ATTENTION)[2]
    ca, cb = (corpus_scores([t], [reference])["chrf"] for t in (ta, tb))
    correct = "tie" if abs(ca - cb) <= 5 else "classic" if ca > cb else "attention"
    (rc, cached), (ra, _) = bleu_rows(CLASSIC), bleu_rows(ATTENTION)
    rows = [{"model": CLASSIC, **r} for r in rc] + [{"model": ATTENTION, **r} for r in ra]
    note = tr(lang, "lesson_source_cache" if cached else "lesson_source_live")
    why = tr(lang, "lesson_bottleneck_why", ta=ta, tb=tb, ca=ca, cb=cb, source=note,
             short=bleu_share(rc, ra, False), long=bleu_share(rc, ra, True))
    table = pd.DataFrame(rows).rename(columns={"model": tr(lang, "lesson_col_model"),
                                               "bucket": tr(lang, "lesson_col_bucket"),
                                               "sentences": tr(lang, "lesson_col_set"), "bleu": "BLEU"})
    return Outcome(correct, why, att_fig, plots.bleu_by_length(rows), table, {"chrf": [ca, cb]})


# ---------------------------------------------------------------- 9. train your own, and forgetting


def finetune_split() -> tuple[list, list]:
    corpus = training.load_corpus(None, use_example=True)
    return split_pairs(corpus.pairs, 0.1, seed=1, minimum=2)


def bleu_of(translator: Translator, pairs: list[tuple[str, str]]) -> float:
    return corpus_scores(training.translate_all(translator, [s for s, _ in pairs]), [t for _, t in pairs])["bleu"]


def run_finetune() -> dict:
    """Fine-tune the classic model on the kitchen corpus (FINE_TUNE settings) and score before and after."""
    train_pairs, valid_pairs = finetune_split()
    kitchen, general = valid_pairs[:FINE_TUNE["kitchen"]], models.heldout_pairs("zh-en", FINE_TUNE["general"])
    ckpt, _ = training.build_checkpoint(training.FINE_TUNE, CLASSIC, train_pairs, False, None)
    before = {"general": bleu_of(Translator(ckpt), general), "kitchen": bleu_of(Translator(ckpt), kitchen)}
    cfg = TrainConfig(epochs=1000, max_steps=FINE_TUNE["steps"], batch_size=FINE_TUNE["batch"], lr=FINE_TUNE["lr"],
                      patience=0, device="cpu", threads=1, seed=FINE_TUNE["seed"])
    losses: list[tuple[int, float, float | None]] = []

    def on_event(e) -> None:
        if e.kind in ("step", "valid") and math.isfinite(e.loss):
            losses.append((e.step, e.loss, e.valid_loss))

    Trainer(ckpt.model, cfg).fit(encode_pairs(train_pairs, ckpt.src_vocab, ckpt.tgt_vocab),
                                 encode_pairs(kitchen, ckpt.src_vocab, ckpt.tgt_vocab), on_event)
    ckpt.model.eval()
    after = {"general": bleu_of(Translator(ckpt), general), "kitchen": bleu_of(Translator(ckpt), kitchen)}
    return {"before": before, "after": after, "losses": losses, "pairs": len(train_pairs),
            "sizes": {"kitchen": len(kitchen), "general": len(general)}}


def finetune_result() -> dict:
    """run_finetune once per checkpoint file and settings (a class shares one run; concurrent callers wait)."""
    path = models.model_path(CLASSIC)
    handlers.get_model(CLASSIC)
    return handlers.memo(("lesson-finetune", *handlers.file_key(path), tuple(sorted(FINE_TUNE.items()))),
                         run_finetune)


_warm = threading.Lock()


def warm_finetune() -> None:
    """Start the shared fine-tune in the background (once at a time) while the class reads the question."""
    if not _warm.acquire(blocking=False):
        return

    def run():
        try:
            finetune_result()
        except Exception:  # noqa: BLE001 - the reveal runs it again and reports the error to the learner
            log.exception("lesson fine-tune failed")
        finally:
            _warm.release()

    threading.Thread(target=run, daemon=True, name="lesson-finetune").start()


def train_setup(lang: str) -> Setup:
    handlers.get_model(CLASSIC)
    warm_finetune()
    train_pairs, _ = finetune_split()
    return Setup(tr(lang, "lesson_train_setup", model=CLASSIC, steps=FINE_TUNE["steps"], pairs=len(train_pairs),
                    lr=FINE_TUNE["lr"], batch=FINE_TUNE["batch"], nk=FINE_TUNE["kitchen"], ng=FINE_TUNE["general"]))


def train_reveal(lang: str) -> Outcome:
    res = finetune_result()
    b, a = res["before"], res["after"]
    change = a["general"] - b["general"]
    correct = "down" if change < -1 else "up" if change > 1 else "same"
    why = tr(lang, "lesson_train_why", gb=b["general"], ga=a["general"], kb=b["kitchen"], ka=a["kitchen"]) + \
        tr(lang, "lesson_train_why_down" if correct == "down" else "lesson_train_why_other")
    steps = [s for s, _, _ in res["losses"]]
    valid = [(s, v) for s, _, v in res["losses"] if v is not None]
    fig = plots.loss_curve(steps, [l for _, l, _ in res["losses"]], [s for s, _ in valid], [v for _, v in valid],
                           "Fine-tuning on the kitchen corpus · 在厨房语料上微调")
    table = pd.DataFrame({tr(lang, "lesson_col_set"): [tr(lang, "lesson_train_set_general"),
                                                       tr(lang, "lesson_train_set_kitchen")],
                          tr(lang, "lesson_col_before"): [b["general"], b["kitchen"]],
                          tr(lang, "lesson_col_after"): [a["general"], a["kitchen"]]})
    return Outcome(correct, why, fig, None, table, {"general_change": change})
