"""Plain functions behind the Translate and Exposure-bias tabs: one argument per widget, results per output.

Bad input raises `gr.Error` with a message a learner can act on; nothing here builds layout."""
from __future__ import annotations

import math
import threading
from collections import Counter, OrderedDict
from pathlib import Path

import gradio as gr
import pandas as pd

from s2s.config import ConfigError, DecodeConfig
from s2s.decoding import Hypothesis, Result, Step
from s2s.evaluate import compare_one, exposure_curve, scores_by_length
from s2s.tokenizer import EOS, SOS
from s2s.translator import MAX_SRC_PIECES, Translation, Translator

from . import models, plots, session_files
from .errors import message

MAX_CHARS = 5000  # characters accepted from the text box (the model itself reads at most MAX_SRC_PIECES)
MAX_SAMPLES = 50
CURVE_PAIRS = 200  # held-out pairs behind each exposure-bias curve
MAX_SEED = 2**32 - 1  # the seed field's bounds (also checked here: the API accepts any number)
CACHE_ENTRIES = 32  # cached exposure curves and BLEU-by-length rows (per model file)


# ---------------------------------------------------------------- shared helpers


def get_model(model: str | None, session_models: dict | None = None) -> Translator:
    """The translator behind a picker entry, or a gr.Error that says what to do."""
    if not model:
        if not models.model_choices(session_models):
            raise gr.Error(f"No model found: put checkpoints (*.s2s) in {models.checkpoint_dir()}.")
        raise gr.Error("Pick a model first.")
    try:
        path = models.model_path(model, session_models)
    except KeyError:
        path = None
    if path is None:
        raise gr.Error(message("err_unknown_model", name=model))
    if session_models and model in session_models:
        if not path.is_file():
            raise gr.Error(message("err_model_removed", n=session_files.max_models()))
        session_files.touch(path)
    return models.get_translator(path)


def clean_text(text: str | None) -> str:
    text = (text or "").strip()
    if not text:
        raise gr.Error("Type a sentence first (or click one of the examples).")
    return text[:MAX_CHARS]


def cut_notice(translator: Translator, text: str, raw: str | None) -> str:
    """A visible notice when the input was longer than the model reads ('' otherwise)."""
    cut_chars = len((raw or "").strip()) > MAX_CHARS
    if not (cut_chars or translator.source(text).truncated):
        return ""
    message = (f"⚠️ The input is too long: only its first {MAX_SRC_PIECES} sentencepiece pieces "
               "were translated (the rest was cut).")
    gr.Warning(message)
    return message


def seed_value(seed) -> int | None:
    """The seed as an int in [0, MAX_SEED], None when empty; gr.Error otherwise (1e30, nan, -1, text)."""
    if seed is None or seed == "":
        return None
    try:
        value = float(seed)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and 0 <= value <= MAX_SEED):
        raise gr.Error(message("err_seed", max=MAX_SEED))
    return int(value)


def decode_config(strategy: str, beam_size=5, temperature=1.0, n_best=1, length_penalty=1.0, top_k=0,
                  top_p=1.0, seed=None) -> DecodeConfig:
    strategy = {"sampling": "sample"}.get(strategy, strategy)
    k = int(beam_size or 1)
    n = int(n_best or 1)
    if strategy == "beam":
        n = min(n, k)
    elif strategy == "greedy":
        n = 1
    try:
        return DecodeConfig(strategy=strategy, beam_size=k, n_best=n, length_penalty=float(length_penalty),
                            temperature=float(temperature), top_k=int(top_k or 0), top_p=float(top_p),
                            seed=seed_value(seed))
    except (ConfigError, TypeError, ValueError) as err:
        raise gr.Error(str(err)) from None


def _label(translator: Translator, token: int) -> str:
    return translator.piece(token)


def step_columns(translator: Translator, steps: list[Step], forced: int = 0) -> list[plots.StepColumn]:
    """Turn decoder steps into heatmap columns; the first `forced` steps were a forced prefix."""
    cols, fed = [], SOS
    for i, s in enumerate(steps):
        cols.append(plots.StepColumn(_label(translator, fed), _label(translator, s.token),
                                     [_label(translator, t) for t in s.top_ids], list(s.top_probs), s.entropy,
                                     i < forced))
        fed = s.token
    return cols


def hypothesis_table(translator: Translator, result: Result, texts: list[str]) -> pd.DataFrame:
    rows = [{"rank": i + 1, "translation": text, "score": round(h.score, 3), "log-prob": round(h.logprob, 3),
             "pieces": " ".join(_label(translator, t) for t in h.tokens)}
            for i, (h, text) in enumerate(zip(result.hypotheses, texts))]
    return pd.DataFrame(rows, columns=["rank", "translation", "score", "log-prob", "pieces"])


def attention_figure(translator: Translator, tr: Translation, hyp: Hypothesis | None = None):
    hyp = hyp or (tr.result.hypotheses[0] if tr.result.hypotheses else None)
    if hyp is None or not translator.has_attention:
        return plots.attention_heatmap([], [], [])
    return plots.attention_heatmap(tr.source.pieces + ["<eos>"], [_label(translator, t) for t in hyp.tokens],
                                   [s.attention or [] for s in hyp.steps])


def winner_positions(result: Result) -> list[int]:
    """Position of the best hypothesis in each beam-tree step (its final <eos> is a 'finished' candidate)."""
    hyp, tree = result.hypotheses[0], result.beam_tree or []
    path = list(hyp.beam_path[:len(tree)])
    last = len(path) - 1
    if last >= 0 and hyp.tokens and hyp.tokens[-1] == EOS:
        parent = path[last - 1] if last > 0 else 0
        step = tree[last]
        for pos, (p, tok, st) in enumerate(zip(step.parents, step.tokens, step.status)):
            if st == "finished" and tok == EOS and (p == parent or last == 0):
                path[last] = pos
                break
    return path


def beam_tree_figure(translator: Translator, result: Result):
    if not result.beam_tree or not result.hypotheses:
        return plots.empty_figure("the beam tree appears for beam search · 束搜索时显示束搜索树")
    steps = [plots.TreeStep(s.parents, [_label(translator, t) for t in s.tokens], s.scores, s.status)
             for s in result.beam_tree]
    return plots.beam_tree(steps, winner_positions(result))


def beam_notice(result: Result) -> str:
    """Point at the lesson: did the winner trail the beam at some step?"""
    if not result.beam_tree or not result.hypotheses:
        return ""
    path = result.hypotheses[0].beam_path[:-1]
    behind = [(t + 1, slot + 1) for t, slot in enumerate(path) if slot > 0]
    if not behind:
        return "The winning hypothesis led the beam at every step (greedy would have found it too)."
    step, rank = behind[0]
    return (f"The winning hypothesis was only #{rank} in the beam at step {step}, yet won in the end: "
            "greedy search would have dropped it.")


# ---------------------------------------------------------------- translate tab


def translate(text: str, model: str, strategy: str = "greedy", beam_size: float = 5, temperature: float = 1.0,
              n_best: float = 3, length_penalty: float = 1.0, top_k: float = 0, top_p: float = 1.0,
              seed: float | None = 0, session_models: dict | None = None):
    """-> translation, notice (markdown), n-best table, step heatmap, attention heatmap, beam tree, what-if memory."""
    clean = clean_text(text)
    translator = get_model(model, session_models)
    cfg = decode_config(strategy, beam_size, temperature, n_best, length_penalty, top_k, top_p, seed)
    tr = translator.translate_one(clean, cfg)
    notice = cut_notice(translator, clean, text)
    if not tr.result.hypotheses:
        raise gr.Error("Nothing to translate: the input has no characters the model can read.")
    best = tr.result.hypotheses[0]
    notes = [n for n in (notice, beam_notice(tr.result)) if n]
    memory = {"text": clean, "model": model, "tokens": best.tokens,
              "top": [[list(s.top_ids), [round(p, 4) for p in s.top_probs]] for s in best.steps],
              "pieces": {str(t): translator.piece(t) for s in best.steps for t in s.top_ids}}
    return (tr.text, "\n\n".join(notes), hypothesis_table(translator, tr.result, tr.texts),
            plots.step_heatmap(step_columns(translator, best.steps), f"Decoder steps ({cfg.strategy}) · 解码器逐步"),
            attention_figure(translator, tr), beam_tree_figure(translator, tr.result), memory)


def draw_samples(text: str, model: str, temperature: float = 1.0, top_k: float = 0, top_p: float = 1.0,
                 seed: float | None = 0, n: float = 20, session_models: dict | None = None):
    """Draw n samples at temperature T -> summary, table of distinct outputs with counts, heatmap of the first."""
    clean = clean_text(text)
    translator = get_model(model, session_models)
    n = max(1, min(MAX_SAMPLES, int(n or 1)))
    cfg = decode_config("sample", 1, temperature, n, 0.0, top_k, top_p, seed)
    tr = translator.translate_one(clean, cfg)
    counts = Counter(tr.texts)
    logp = {}
    for h, t in zip(tr.result.hypotheses, tr.texts):
        logp.setdefault(t, round(h.logprob, 3))
    table = pd.DataFrame([{"translation": t, "count": c, "log-prob": logp[t]} for t, c in counts.most_common()],
                         columns=["translation", "count", "log-prob"])
    summary = f"{n} samples at T = {float(temperature):g}: **{len(counts)} distinct** translations."
    first = tr.result.hypotheses[0]
    fig = plots.step_heatmap(step_columns(translator, first.steps),
                             f"Sampling distribution at T = {float(temperature):g} (most likely sample) · 采样分布")
    return summary, table, fig


def whatif_tokens(memory: dict | None, step: float):
    """Dropdown choices for the what-if: the candidates the decoder saw at `step` (1-based)."""
    if not memory or not memory.get("top"):
        return gr.update(choices=[], value=None)
    i = max(0, min(len(memory["top"]) - 1, int(step or 1) - 1))
    ids, probs = memory["top"][i]
    chosen = memory["tokens"][i] if i < len(memory["tokens"]) else None
    pieces = memory.get("pieces") or {}
    choices = [(f"{pieces.get(str(t), t)}  (p={p:.3f})", str(t))
               for t, p in zip(ids, probs)]
    alternative = next((v for (_, v) in choices if v != str(chosen)), None)
    return gr.update(choices=choices, value=alternative)


def whatif(text: str, model: str, step: float, token: str | int | None, memory: dict | None,
           session_models: dict | None = None):
    """Force `token` at `step` (1-based), keep the earlier tokens, re-decode the rest greedily.

    -> new translation, notice, step heatmap (forced steps marked with a lock)."""
    if not memory or not memory.get("tokens"):
        raise gr.Error("Translate a sentence first; then pick a step and a different word for it.")
    if token in (None, ""):
        raise gr.Error("Pick the word to force at that step.")
    translator = get_model(memory.get("model") or model, session_models)
    i = max(1, min(len(memory["tokens"]), int(step or 1)))
    prefix = list(memory["tokens"][:i - 1]) + [int(token)]
    tr = translator.translate_one(memory["text"], DecodeConfig(strategy="greedy"), prefix=prefix)
    best = tr.result.hypotheses[0]
    old = translator.detok(memory["tokens"])
    notice = (f"Forced **{translator.piece(int(token))}** at step {i}; the rest was re-decoded greedily. "
              f"Before: *{old}*")
    fig = plots.step_heatmap(step_columns(translator, best.steps, forced=len(prefix)),
                             f"What if step {i} were '{translator.piece(int(token))}'? · 如果第 {i} 步换成这个词")
    return tr.text, notice, fig


def compare_strategies(text: str, model: str, beam_size: float = 5, temperature: float = 1.0, seed: float | None = 0,
                       session_models: dict | None = None) -> pd.DataFrame:
    """Greedy, beam K and one sample at temperature T on the same input, side by side."""
    clean = clean_text(text)
    translator = get_model(model, session_models)
    runs = [("greedy", decode_config("greedy")),
            (f"beam K={int(beam_size)}", decode_config("beam", beam_size, n_best=1)),
            (f"sample T={float(temperature):g}", decode_config("sample", 1, temperature, 1, seed=seed))]
    rows = []
    for name, cfg in runs:
        tr = translator.translate_one(clean, cfg)
        h = tr.result.hypotheses[0]
        rows.append({"strategy": name, "translation": tr.text, "log-prob": round(h.logprob, 3),
                     "pieces": len(h.tokens)})
    return pd.DataFrame(rows, columns=["strategy", "translation", "log-prob", "pieces"])


def compare_models(text: str, model_a: str, model_b: str, session_models: dict | None = None):
    """The same input through two models (classic vs attention) -> text A, text B, attention heatmap."""
    clean = clean_text(text)
    a, b = get_model(model_a, session_models), get_model(model_b, session_models)
    cfg = DecodeConfig(strategy="greedy")
    tr_a, tr_b = a.translate_one(clean, cfg), b.translate_one(clean, cfg)
    shown = (b, tr_b) if b.has_attention else (a, tr_a)
    fig = attention_figure(*shown)
    notice = cut_notice(a, clean, text)
    return tr_a.text, tr_b.text, fig, notice


def length_scores(name: str, session_models: dict | None = None, limit: int = CURVE_PAIRS) -> list[dict]:
    """BLEU rows by source length of one model, computed once per checkpoint file (see `memo`)."""
    translator = get_model(name, session_models)
    path = models.model_path(name, session_models)

    def compute():
        pairs = models.heldout_pairs(models.language_pair(name), limit)
        sources, refs = [s for s, _ in pairs], [r for _, r in pairs]
        hyps = [t.text for t in translator.translate(sources, DecodeConfig(strategy="greedy", record_top=0))]
        return scores_by_length(sources, hyps, refs)

    return memo(("bleu", *file_key(path), models.language_pair(name), limit), compute)


def bleu_by_length(model_a: str, model_b: str, session_models: dict | None = None, limit: int = CURVE_PAIRS):
    """BLEU of two models on held-out pairs, bucketed by source length in words (CJK characters) -> bar chart."""
    rows = []
    for name in dict.fromkeys([model_a, model_b]):
        rows += [{"model": name, **row} for row in length_scores(name, session_models, limit)]
    return plots.bleu_by_length(rows, "BLEU by source length (held-out sentences) · 按源句长度的 BLEU（留出句子）")


# ---------------------------------------------------------------- exposure bias tab


def exposure_compare(source: str, reference: str, model: str, session_models: dict | None = None):
    """Teacher-forced vs free-running on one pair -> summary, step table, line chart."""
    src = clean_text(source)
    ref = (reference or "").strip()
    if not ref:
        raise gr.Error("Type the reference translation too: exposure bias is measured against it.")
    translator = get_model(model, session_models)
    d = compare_one(translator, src, ref)
    gold = [translator.piece(t) for t in d.teacher.gold]
    teacher_p = [round(math.exp(lp), 4) for lp in d.teacher.gold_logprobs]
    free_p = [round(math.exp(lp), 4) for lp in d.free.gold_logprobs]
    free_choice = [translator.piece(t) for t in d.free.choices]
    rows = [{"step": i + 1, "gold token": g, "p(gold) teacher-forced": tp, "teacher-forced choice":
             translator.piece(tc), "p(gold) free-running": fp, "free-running choice": fc,
             "": "← first divergence" if i == d.first_divergence else ""}
            for i, (g, tp, tc, fp, fc) in enumerate(zip(gold, teacher_p, d.teacher.choices, free_p, free_choice))]
    table = pd.DataFrame(rows)
    fig = plots.exposure_steps(gold, teacher_p, free_p, free_choice, d.first_divergence)
    return exposure_summary(d.first_divergence, gold, free_choice, teacher_p, free_p), table, fig


def exposure_summary(div: int | None, gold: list[str], free: list[str], teacher_p: list[float],
                     free_p: list[float]) -> str:
    mean = lambda xs: sum(xs) / max(1, len(xs))  # noqa: E731
    if div is None:
        return ("Free-running decoding reproduced the reference exactly: no divergence on this pair. "
                "Try a longer sentence.")
    after_t, after_f = mean(teacher_p[div + 1:]), mean(free_p[div + 1:])
    return (f"**First divergence at step {div + 1}**: the reference says *{gold[div]}*, the model said "
            f"*{free[div]}*. After that, the gold token's mean probability is **{after_t:.2f}** when the model "
            f"is fed the reference (teacher-forced) but **{after_f:.2f}** when it is fed its own words "
            "(free-running).")


_memo: OrderedDict[tuple, object] = OrderedDict()
_memo_lock = threading.Lock()
_key_locks: dict[tuple, threading.Lock] = {}


def file_key(path: Path) -> tuple:
    """A checkpoint file's identity: resolved path, modification time and size (a replaced file is new)."""
    st = path.stat()
    return str(path.resolve()), st.st_mtime_ns, st.st_size


def memo(key: tuple, compute):
    """compute() once per key (concurrent callers of one key wait for the same result; others do not)."""
    with _memo_lock:
        if key in _memo:
            _memo.move_to_end(key)
            return _memo[key]
        lock = _key_locks.setdefault(key, threading.Lock())
    with lock:
        with _memo_lock:
            if key in _memo:
                return _memo[key]
        value = compute()
        with _memo_lock:
            _memo[key] = value
            _key_locks.pop(key, None)
            while len(_memo) > CACHE_ENTRIES:
                _memo.popitem(last=False)
        return value


def cached_curve(name: str, session_models: dict | None = None):
    """exposure_curve over the held-out sample, computed once per checkpoint file."""
    translator = get_model(name, session_models)
    path = models.model_path(name, session_models)

    def compute():
        return exposure_curve(translator, models.heldout_pairs(models.language_pair(name), CURVE_PAIRS))

    return memo(("curve", *file_key(path), models.language_pair(name)), compute)


def exposure_curves(names: list[str] | None, metric: str = "accuracy", session_models: dict | None = None):
    """Teacher-forced vs free-running accuracy (or gold log-prob) by target position, one panel per model."""
    if not names:
        raise gr.Error("Tick at least one model (the classic and the scheduled-sampling model show the lesson).")
    curves = []
    for name in names:
        get_model(name, session_models)  # a clear error for an unknown model
        c = cached_curve(name, session_models)
        teacher, free = (c.teacher_accuracy, c.free_accuracy) if metric == "accuracy" else \
            (c.teacher_logprob, c.free_logprob)
        curves.append(plots.Curve(name, c.positions, teacher, free))
    label = "token accuracy" if metric == "accuracy" else "mean log p(gold)"
    return plots.position_curves(curves, label)


def default_curve_models(choices: list[str]) -> list[str]:
    """The classic and scheduled-sampling zh-en models when shipped, else the first two models."""
    wanted = [m for m in ("zh-en-classic", "zh-en-scheduled") if m in choices]
    return wanted if wanted else choices[:2]


def example_pairs(pair: str = "zh-en", n: int = 8) -> list[list[str]]:
    """Held-out examples for the exposure-bias tab: a spread of lengths."""
    pairs = models.heldout_pairs(pair)
    step = max(1, len(pairs) // n)
    return [list(p) for p in pairs[step // 2::step][:n]]
