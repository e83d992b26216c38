"""Plain functions behind the Translate and Exposure-bias tabs: one argument per widget, results per output.

Bad input raises `gr.Error` with a message a learner can act on; nothing here builds layout."""
from __future__ import annotations

import json
import math
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import pandas as pd

from s2s.config import ConfigError, DecodeConfig
from s2s.decoding import Hypothesis, Result, Step
from s2s.evaluate import compare_one, exposure_curve, scores_by_length
from s2s.tokenizer import EOS, SOS, UNK
from s2s.translator import MAX_SRC_PIECES, Translation, Translator

from . import cache, models, plots, session_files
from .errors import core_text, message
from .i18n import EN

MAX_CHARS = 5000  # characters accepted from the text box (the model itself reads at most MAX_SRC_PIECES)
MAX_SAMPLES = 50
CURVE_PAIRS = 200  # held-out pairs behind each exposure-bias curve
MAX_SEED = 2**32 - 1  # the seed field's bounds (also checked here: the API accepts any number)
CACHE_ENTRIES = 32  # cached exposure curves and BLEU-by-length rows (per model file)


# ---------------------------------------------------------------- shared helpers

L = message  # a string from the language tables, in the language of the request being served


def get_model(model: str | None, session_models: dict | None = None) -> Translator:
    """The translator behind a picker entry, or a gr.Error that says what to do."""
    if not model:
        if not models.model_choices(session_models):
            raise gr.Error(L("err_no_checkpoints", folder=models.checkpoint_dir()))
        raise gr.Error(L("err_pick_model"))
    try:
        path = models.model_path(model, session_models)
    except KeyError:
        path = None
    if path is None:
        raise gr.Error(L("err_unknown_model", name=model))
    if session_models and model in session_models:
        if not path.is_file():
            raise gr.Error(L("err_model_removed", n=session_files.max_models()))
        session_files.touch(path)
    return models.get_translator(path)


def clean_text(text: str | None) -> str:
    text = (text or "").strip()
    if not text:
        raise gr.Error(L("err_empty"))
    return text[:MAX_CHARS]


def cut_notice(translator: Translator, text: str, raw: str | None) -> str:
    """A visible notice when the input was longer than the model reads ('' otherwise)."""
    cut_chars = len((raw or "").strip()) > MAX_CHARS
    if not (cut_chars or translator.source(text).truncated):
        return ""
    return L("notice_cut", n=MAX_SRC_PIECES)


def source_language(name: str) -> str:
    """The source language of a shipped model, from its name ('zh-en-classic' -> 'zh'); '' for other models."""
    if name not in models.shipped_models():
        return ""
    return models.language_pair(name).split("-")[0]


def script_shares(text: str) -> dict[str, float]:
    """Share of the non-space characters of `text` that are Han (CJK), Latin letters, or anything else."""
    chars = [c for c in text if not c.isspace()]
    han = sum("\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff" for c in chars)
    latin = sum(c.isalpha() and c.isascii() or "\u00c0" <= c <= "\u024f" for c in chars)
    n = max(1, len(chars))
    return {"han": han / n, "latin": latin / n, "other": (len(chars) - han - latin) / n}


PUNCTUATION = set("。，、！？；：“”‘’（）《》…—.,!?;:'\"()-")
UNKNOWN_SHARE = 0.3  # more unknown source pieces than this: the model cannot read the input


def input_hint(translator: Translator, text: str, model: str) -> str:
    """One line when the input is mostly not in the model's source script, or mostly unknown pieces ('' if fine)."""
    lang = source_language(model)
    shares = script_shares("".join(c for c in text if c not in PUNCTUATION))
    wanted = "han" if lang in ("zh", "ja") else "latin" if lang else None
    if wanted and shares[wanted] < 0.5:
        found = max(shares, key=shares.get)
        return L("hint_script", found=L(f"script_{found}"), expected=L(f"script_expected_{lang}")
                 if f"script_expected_{lang}" in EN else lang)
    ids = translator.source(text).ids[:-1]
    unknown = sum(i == UNK for i in ids) / max(1, len(ids))
    if unknown > UNKNOWN_SHARE:
        return L("hint_unknown", share=round(100 * unknown))
    return ""


def seed_value(seed) -> int | None:
    """The seed as an int in [0, MAX_SEED], None when empty; gr.Error otherwise (1e30, nan, -1, text)."""
    if seed is None or seed == "":
        return None
    try:
        value = float(seed)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and 0 <= value <= MAX_SEED):
        raise gr.Error(L("err_seed", max=MAX_SEED))
    return int(value)


def _groups(k: int, groups) -> int:
    """The largest number of beam groups <= `groups` that divides the beam size (the core requires it)."""
    wanted = max(1, min(k, int(groups or 1)))
    return max(g for g in range(1, wanted + 1) if k % g == 0)


def decode_config(strategy: str, beam_size=5, temperature=1.0, n_best=1, length_penalty=1.0, top_k=0,
                  top_p=1.0, seed=None, min_p=0.0, repetition_penalty=1.0, no_repeat_ngram=0, beam_groups=1,
                  diversity_penalty=0.0) -> DecodeConfig:
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
                            seed=seed_value(seed), min_p=float(min_p or 0.0),
                            repetition_penalty=float(repetition_penalty or 1.0),
                            no_repeat_ngram=int(no_repeat_ngram or 0),
                            beam_groups=_groups(k, beam_groups) if strategy == "beam" else 1,
                            diversity_penalty=float(diversity_penalty or 0.0))
    except (ConfigError, TypeError, ValueError) as err:
        raise gr.Error(core_text(err)) from None


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


def step_figure(translator: Translator, steps: list[Step], title: str, forced: int = 0):
    return plots.step_heatmap(step_columns(translator, steps, forced), title, len(translator.tgt_vocab))


def columns(*keys: str) -> list[str]:
    """Table headers in the request's language."""
    return [L(f"col_{k}") for k in keys]


NBEST_COLUMNS = ("rank", "score", "logprob", "translation", "pieces")  # numbers first: they stay in view
SAMPLE_COLUMNS = ("count", "logprob", "translation")
COMPARE_COLUMNS = ("strategy", "logprob", "pieces", "translation")


def pieces_text(translator: Translator, tokens: list[int]) -> str:
    return " ".join(plots.readable(_label(translator, t)) for t in tokens)


def hypothesis_table(translator: Translator, result: Result, texts: list[str]) -> pd.DataFrame:
    rows = [[i + 1, round(h.score, 3), round(h.logprob, 3), text, pieces_text(translator, h.tokens)]
            for i, (h, text) in enumerate(zip(result.hypotheses, texts))]
    return pd.DataFrame(rows, columns=columns(*NBEST_COLUMNS))


def empty_table(*keys: str) -> pd.DataFrame:
    return pd.DataFrame(columns=columns(*keys))


# A browser-side step (no round trip, so it sees the tables as they are when it runs): each table takes its empty
# value with the headers in the page's language, unless it already shows results. A page-load event that answers
# late (a slow server) would otherwise wipe the rows of a translation the visitor made meanwhile.
EMPTY_UNLESS_FILLED_JS = "(empty, ...tables) => { const out = tables.map((t, i) => " \
                         "t && t.data && t.data.length ? t : empty[i]); return out.length === 1 ? out[0] : out; }"


def empty_payloads(tables: list, frames: list[pd.DataFrame]) -> list[dict]:
    """The values of `tables` (gr.Dataframe) showing `frames`, as the browser holds them (for the JS step above)."""
    return [table.postprocess(frame).model_dump() for table, frame in zip(tables, frames)]


def fill_empty_tables(event, tables: list, empty_values):
    """Chain after `event`, which wrote `empty_values` (a hidden gr.JSON) with the tables' empty payloads: only tables
    still empty take them."""
    return event.then(None, [empty_values, *tables], tables, js=EMPTY_UNLESS_FILLED_JS, queue=False)


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
        return plots.empty_figure(L("plot_tree_hint"))
    steps = [plots.TreeStep(s.parents, [_label(translator, t) for t in s.tokens], s.scores, s.status,
                            list(s.groups or []))
             for s in result.beam_tree]
    return plots.beam_tree(steps, winner_positions(result))


def beam_notice(result: Result) -> str:
    """Point at the lesson: did the winner trail the beam at some step?"""
    if not result.beam_tree or not result.hypotheses:
        return ""
    path = result.hypotheses[0].beam_path[:-1]
    behind = [(t + 1, slot + 1) for t, slot in enumerate(path) if slot > 0]
    if not behind:
        return L("beam_led")
    step, rank = behind[0]
    return L("beam_behind", rank=rank, step=step)


# ---------------------------------------------------------------- translate tab


def cleared_outputs():
    """What the Translate tab's result panels show once their input changed: nothing stale, a visible hint.

    -> translation, notice, n-best table, step heatmap, attention heatmap, beam tree, what-if memory,
       samples summary, samples table, what-if text, what-if notice, what-if heatmap, compare table,
       model A text, model B text, compare attention, compare notice."""
    # plots go blank (None): Plotly.react from a placeholder figure to a heatmap with a colour bar fails in the browser
    return ("", "", empty_table(*NBEST_COLUMNS), None, None, None, None, "",
            empty_table(*SAMPLE_COLUMNS), "", "", None, empty_table(*COMPARE_COLUMNS), "", "", None, "")


def inputs_key(text: str | None, model: str | None, strategy: str | None) -> list:
    """The Translate tab's sentence (as it is decoded), model and strategy: what a shared link set, or what a
    result on screen was made from."""
    return [(text or "").strip()[:MAX_CHARS], model, strategy]


def cleared_unless_linked(text: str | None, model: str | None, strategy: str | None, linked: list | None):
    """The box, model or strategy changed: `cleared_outputs`, and the link's key forgotten (-> None). Except for
    the changes a shared link made itself (the inputs are still the link's, `inputs_key`): the link's own translation
    may already be on screen, since the clear and the translation run as separate requests that can cross."""
    if linked and inputs_key(text, model, strategy) == list(linked):
        return (gr.skip(),) * 18
    return (*cleared_outputs(), None)


def cleared_if_stale(text: str | None, model: str | None, strategy: str | None, memory: dict | None):
    """After a translation is shown: `cleared_outputs` when it is not the translation of the sentence, model and
    strategy the page holds now (they changed while it was computed: its clear ran before it landed), else
    nothing changes."""
    if not memory or [memory.get("text"), memory.get("model"), memory.get("strategy")] == \
            inputs_key(text, model, strategy):
        return (gr.skip(),) * 17
    return cleared_outputs()


def translate(text: str, model: str, strategy: str = "greedy", beam_size: float = 5, temperature: float = 1.0,
              n_best: float = 3, length_penalty: float = 1.0, top_k: float = 0, top_p: float = 1.0,
              seed: float | None = 0, min_p: float = 0.0, repetition_penalty: float = 1.0,
              no_repeat_ngram: float = 0, beam_groups: float = 1, diversity_penalty: float = 0.0,
              session_models: dict | None = None):
    """-> translation, notice (markdown), n-best table, step heatmap, attention heatmap, beam tree, what-if memory."""
    decoded = decode_translation(text, model, strategy, beam_size, temperature, n_best, length_penalty, top_k, top_p,
                                 seed, min_p, repetition_penalty, no_repeat_ngram, beam_groups, diversity_penalty,
                                 session_models)
    text, notice, table, memory = text_outputs(decoded)
    return (text, notice, table, *figure_outputs(decoded), memory)


def translate_stream(*args):
    """The Translate button: the same outputs as `translate`, the text, notice and n-best table first (a learner reads
    them while the figures are built and drawn), then the three figures."""
    decoded = decode_translation(*args)
    text, notice, table, memory = text_outputs(decoded)
    yield text, notice, table, gr.skip(), gr.skip(), gr.skip(), memory
    yield (text, notice, table, *figure_outputs(decoded), memory)


@dataclass
class Decoded:
    translator: Translator
    tr: Translation
    strategy: str
    clean: str
    notes: list
    memory: dict


def decode_translation(text: str, model: str, strategy: str = "greedy", beam_size: float = 5,
                       temperature: float = 1.0, n_best: float = 3, length_penalty: float = 1.0, top_k: float = 0,
                       top_p: float = 1.0, seed: float | None = 0, min_p: float = 0.0,
                       repetition_penalty: float = 1.0, no_repeat_ngram: float = 0, beam_groups: float = 1,
                       diversity_penalty: float = 0.0, session_models: dict | None = None) -> Decoded:
    clean = clean_text(text)
    translator = get_model(model, session_models)
    cfg = decode_config(strategy, beam_size, temperature, n_best, length_penalty, top_k, top_p, seed, min_p,
                        repetition_penalty, no_repeat_ngram, beam_groups, diversity_penalty)
    tr = translator.translate_one(clean, cfg)
    if not tr.result.hypotheses:
        raise gr.Error(L("err_nothing"))
    best = tr.result.hypotheses[0]
    notes = [n for n in (input_hint(translator, clean, model), cut_notice(translator, clean, text),
                         beam_notice(tr.result)) if n]
    memory = {"text": clean, "model": model, "strategy": strategy, "tokens": best.tokens,
              "top": [[list(s.top_ids), [round(p, 4) for p in s.top_probs]] for s in best.steps],
              "pieces": {str(t): translator.piece(t) for s in best.steps for t in s.top_ids}}
    return Decoded(translator, tr, cfg.strategy, clean, notes, memory)


def text_outputs(d: Decoded) -> tuple:
    """(translation, notice, n-best table, what-if memory)."""
    return (d.tr.text, "\n\n".join(d.notes), hypothesis_table(d.translator, d.tr.result, d.tr.texts), d.memory)


def figure_outputs(d: Decoded) -> tuple:
    """(step heatmap, attention heatmap, beam tree)."""
    best = d.tr.result.hypotheses[0]
    title = L("title_steps", strategy=L(f"strategy_{d.strategy}"))
    return (step_figure(d.translator, best.steps, title), attention_figure(d.translator, d.tr),
            beam_tree_figure(d.translator, d.tr.result))


def draw_samples(text: str, model: str, temperature: float = 1.0, top_k: float = 0, top_p: float = 1.0,
                 seed: float | None = 0, n: float = 20, min_p: float = 0.0, repetition_penalty: float = 1.0,
                 no_repeat_ngram: float = 0, session_models: dict | None = None):
    """Draw n samples at temperature T -> summary, table of distinct outputs with counts, heatmap of the first."""
    clean = clean_text(text)
    translator = get_model(model, session_models)
    n = max(1, min(MAX_SAMPLES, int(n or 1)))
    cfg = decode_config("sample", 1, temperature, n, 0.0, top_k, top_p, seed, min_p, repetition_penalty,
                        no_repeat_ngram)
    tr = translator.translate_one(clean, cfg)
    counts = Counter(tr.texts)
    logp = {}
    for h, t in zip(tr.result.hypotheses, tr.texts):
        logp.setdefault(t, round(h.logprob, 3))
    table = pd.DataFrame([[c, logp[t], t] for t, c in counts.most_common()], columns=columns(*SAMPLE_COLUMNS))
    temp = f"{float(temperature):g}"
    hint = input_hint(translator, clean, model)
    summary = L("samples_summary", n=n, t=temp, d=len(counts)) + (f"\n\n{hint}" if hint else "")
    fig = step_figure(translator, tr.result.hypotheses[0].steps, L("title_sampling", t=temp))
    return summary, table, fig


def whatif_tokens(memory: dict | None, step: float):
    """Dropdown choices for the what-if: the candidates the decoder saw at `step` (1-based), readable pieces with
    their probabilities (a dot marks a word start); the first alternative to the chosen one is selected."""
    if not memory or not memory.get("top"):
        return gr.update(choices=[], value=None)
    i = max(0, min(len(memory["top"]) - 1, int(step or 1) - 1))
    ids, probs = memory["top"][i]
    chosen = memory["tokens"][i] if i < len(memory["tokens"]) else None
    pieces = memory.get("pieces") or {}
    choices = [(f"{plots.readable(str(pieces.get(str(t), t)))}   p={p:.3f}", str(t)) for t, p in zip(ids, probs)]
    alternative = next((v for (_, v) in choices if v != str(chosen)), None)
    return gr.update(choices=choices, value=alternative)


def word_pieces(translator: Translator, word: str) -> list[int]:
    """A typed word as the target pieces that spell it (a word start), without <sos>/<eos>."""
    ids = translator.target_ids(word.strip())[1:-1]
    if not ids or all(i == UNK for i in ids):
        raise gr.Error(L("err_word_empty", word=word.strip()))
    return ids


def whatif(text: str, model: str, step: float, token: str | int | None, memory: dict | None,
           session_models: dict | None = None, word: str | None = None):
    """Force `token` (or the pieces of a typed `word`) at `step` (1-based), keep the earlier tokens, re-decode the
    rest greedily. The sentence and model are the ones of the last translation (`memory`).

    -> new translation, notice, step heatmap (forced steps marked)."""
    if not memory or not memory.get("tokens"):
        raise gr.Error(L("err_translate_first"))
    translator = get_model(memory.get("model") or model, session_models)
    if word and word.strip():
        forced = word_pieces(translator, word)
    elif token not in (None, ""):
        forced = [int(token)]
    else:
        raise gr.Error(L("err_pick_word"))
    i = max(1, min(len(memory["tokens"]), int(step or 1)))
    prefix = list(memory["tokens"][:i - 1]) + forced
    tr = translator.translate_one(memory["text"], DecodeConfig(strategy="greedy"), prefix=prefix)
    best = tr.result.hypotheses[0]
    old = translator.detok(memory["tokens"])
    shown = " ".join(plots.readable(translator.piece(t)) for t in forced)
    notice = L("whatif_notice", word=shown, step=i, old=old)
    fig = step_figure(translator, best.steps, L("title_whatif", step=i, word=shown), forced=len(prefix))
    return tr.text, notice, fig


def compare_strategies(text: str, model: str, beam_size: float = 5, temperature: float = 1.0, seed: float | None = 0,
                       session_models: dict | None = None) -> pd.DataFrame:
    """Greedy, beam K and one sample at temperature T on the same input, side by side."""
    clean = clean_text(text)
    translator = get_model(model, session_models)
    runs = [(L("run_greedy"), decode_config("greedy")),
            (L("run_beam", k=int(beam_size)), decode_config("beam", beam_size, n_best=1)),
            (L("run_sample", t=f"{float(temperature):g}"), decode_config("sample", 1, temperature, 1, seed=seed))]
    rows = []
    for name, cfg in runs:
        tr = translator.translate_one(clean, cfg)
        h = tr.result.hypotheses[0]
        rows.append([name, round(h.logprob, 3), len(h.tokens), tr.text])
    return pd.DataFrame(rows, columns=columns(*COMPARE_COLUMNS))


def compare_models(text: str, model_a: str, model_b: str, session_models: dict | None = None):
    """The same input through two models (classic vs attention) -> text A, text B, attention heatmap, notice."""
    clean = clean_text(text)
    a, b = get_model(model_a, session_models), get_model(model_b, session_models)
    cfg = DecodeConfig(strategy="greedy")
    tr_a, tr_b = a.translate_one(clean, cfg), b.translate_one(clean, cfg)
    shown = (b, tr_b) if b.has_attention else (a, tr_a)
    fig = attention_figure(*shown)
    notes = [cut_notice(a, clean, text), input_hint(a, clean, model_a)]
    return tr_a.text, tr_b.text, fig, "\n\n".join(n for n in notes if n)


def length_scores(name: str, session_models: dict | None = None, limit: int = CURVE_PAIRS) -> list[dict]:
    """BLEU rows by source length of one model: precomputed for a shipped checkpoint (hash checked), else
    computed once per checkpoint file (see `memo`)."""
    translator = get_model(name, session_models)
    path = models.model_path(name, session_models)
    cached = cache.load_curves(name, path) if limit == CURVE_PAIRS else None
    if cached and (cached.get("bleu_by_length") or {}).get("rows"):
        return cached["bleu_by_length"]["rows"]

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
    return plots.bleu_by_length(rows)


# ---------------------------------------------------------------- exposure bias tab


EXPOSURE_COLUMNS = ("step", "gold", "p_teacher", "p_free", "free_choice", "teacher_choice", "note")


def exposure_compare(source: str, reference: str, model: str, session_models: dict | None = None):
    """Teacher-forced vs free-running on one pair -> summary, step table, line chart."""
    src = clean_text(source)
    ref = (reference or "").strip()
    if not ref:
        raise gr.Error(L("err_reference"))
    translator = get_model(model, session_models)
    d = compare_one(translator, src, ref)
    gold = [translator.piece(t) for t in d.teacher.gold]
    teacher_p = [round(math.exp(lp), 4) for lp in d.teacher.gold_logprobs]
    free_p = [round(math.exp(lp), 4) for lp in d.free.gold_logprobs]
    free_choice = [translator.piece(t) for t in d.free.choices]
    mark = "← " + L("first_divergence")
    rows = [[i + 1, plots.readable(g), tp, fp, plots.readable(fc), plots.readable(translator.piece(tc)),
             mark if i == d.first_divergence else ""]
            for i, (g, tp, tc, fp, fc) in enumerate(zip(gold, teacher_p, d.teacher.choices, free_p, free_choice))]
    table = pd.DataFrame(rows, columns=columns(*EXPOSURE_COLUMNS))
    fig = plots.exposure_steps(gold, teacher_p, free_p, free_choice, d.first_divergence)
    return exposure_summary(d.first_divergence, gold, free_choice, teacher_p, free_p), table, fig


def exposure_summary(div: int | None, gold: list[str], free: list[str], teacher_p: list[float],
                     free_p: list[float]) -> str:
    mean = lambda xs: sum(xs) / max(1, len(xs))  # noqa: E731
    if div is None:
        return L("exposure_no_div")
    after_t, after_f = mean(teacher_p[div + 1:]), mean(free_p[div + 1:])
    return L("exposure_summary", step=div + 1, gold=plots.readable(gold[div]), said=plots.readable(free[div]),
             after_t=f"{after_t:.2f}", after_f=f"{after_f:.2f}")


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
        pairs = models.heldout_pairs(models.language_pair(name), CURVE_PAIRS)
        return exposure_curve(translator, pairs, min_count=MIN_SENTENCES)

    return memo(("curve", *file_key(path), models.language_pair(name)), compute)


MIN_SENTENCES = 20  # positions averaged over fewer held-out sentences are cut (their points are noise)
METRICS = {"accuracy": ("teacher_accuracy", "free_accuracy"), "logprob": ("teacher_logprob", "free_logprob")}


def wilson(p: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion p measured on n trials."""
    if n <= 0:
        return 0.0, 1.0
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def model_curve(name: str, metric: str, session_models: dict | None = None) -> tuple[plots.Curve, float, bool]:
    """One model's curve for `metric` with its band and counts, and its token-weighted mean gap (teacher-forced
    minus free-running). Precomputed data (hash-checked) when the checkpoint has it; else computed here."""
    get_model(name, session_models)  # a clear error for an unknown model
    teacher_key, free_key = METRICS[metric]
    data = cache.load_curves(name, models.model_path(name, session_models))
    if data and data.get("curve"):
        c = data["curve"]
        t, f = c[teacher_key], c[free_key]
        curve = plots.Curve(name, c["position"], t["mean"], f["mean"], (t["low"], t["high"]), (f["low"], f["high"]),
                            c["sentences"])
        gap = data["gaps"]["heldout"][f"{metric}_gap"]
        return curve, gap, True
    c = cached_curve(name, session_models)
    t, f = getattr(c, teacher_key), getattr(c, free_key)
    bands = (None, None)
    if metric == "accuracy":
        bands = tuple(tuple(map(list, zip(*[wilson(p, n) for p, n in zip(xs, c.count)]))) for xs in (t, f))
    curve = plots.Curve(name, c.positions, t, f, bands[0], bands[1], list(c.count))
    gap = sum(n * (a - b) for n, a, b in zip(c.count, t, f)) / max(1, sum(c.count))
    return curve, gap, False


def exposure_curves(names: list[str] | None, metric: str = "logprob", session_models: dict | None = None):
    """Teacher-forced vs free-running accuracy (or gold log-prob) by target position, one panel per model, with
    95% bands and sentences per position -> figure, explanation with the measured gaps."""
    if not names:
        raise gr.Error(L("err_tick_model"))
    metric = metric if metric in METRICS else "logprob"
    results = [model_curve(name, metric, session_models) for name in names]
    fig = plots.position_curves([c for c, _, _ in results], L(f"metric_{metric}"))
    gaps = "; ".join(L("curves_gap", model=c.name, gap=f"{g:.3f}") for c, g, _ in results)
    n = max((max(c.sentences) for c, _, _ in results if c.sentences), default=CURVE_PAIRS)
    text = L(f"curves_explain_{metric}", n=n, gaps=gaps)
    by_name = {c.name: g for c, g, _ in results}
    for name in by_name:
        classic = name.replace("-scheduled", "-classic")
        if name.endswith("-scheduled") and classic in by_name:
            text += L("curves_narrowing", text=f"gap {by_name[classic]:.3f} → {by_name[name]:.3f}")
    text += " " + L("curves_source_cached" if all(c for _, _, c in results) else "curves_source_live")
    return fig, text


def default_metric(choices: list[str]) -> str:
    """The measure in which the scheduled-sampling model's smaller gap shows (the precomputed recommendation)."""
    for name in choices:
        try:
            data = cache.load_curves(name, models.model_path(name))
        except KeyError:
            data = None
        if data and data.get("recommended_metric") in METRICS:
            return data["recommended_metric"]
    return "logprob"


def default_curve_models(choices: list[str]) -> list[str]:
    """The classic and scheduled-sampling zh-en models when shipped, else the first two models."""
    wanted = [m for m in ("zh-en-classic", "zh-en-scheduled") if m in choices]
    return wanted if wanted else choices[:2]


LESSON_EXAMPLES = models.EXAMPLES / "lesson_examples.json"  # chosen by scripts/select_examples.py


def lesson_examples(pair: str = "zh-en") -> dict:
    """The examples scripts/select_examples.py chose for one language pair ({} when the file is missing)."""
    try:
        data = json.loads(LESSON_EXAMPLES.read_text(encoding="utf-8"))
        return data["pairs"][pair]
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def translate_examples(pair: str = "zh-en") -> list[str]:
    """Step 1-3 sentences (the classic model gets them right), then the beam and bottleneck examples."""
    ex = lesson_examples(pair)
    rec = ex.get("recommended") or {}
    first = [e["source"] for lst in (ex.get("translate") or {}).values() for e in lst][:4]
    beam = (rec.get("beam") or {}).get("source")
    return list(dict.fromkeys(first + [s for s in (beam, rec.get("bottleneck")) if s]))


def bottleneck_example(pair: str = "zh-en") -> str | None:
    return (lesson_examples(pair).get("recommended") or {}).get("bottleneck")


def example_pairs(pair: str = "zh-en", n: int = 8) -> list[list[str]]:
    """Examples for the exposure-bias tab: the ones scripts/select_examples.py chose (Simplified Chinese, clear
    divergence), else a spread of held-out lengths."""
    chosen = [[e["source"], e["reference"]] for e in lesson_examples(pair).get("exposure") or []]
    if chosen:
        return chosen[:n]
    pairs = models.heldout_pairs(pair)
    step = max(1, len(pairs) // n)
    spread = [list(p) for p in pairs[step // 2::step]]
    return spread[:n]
