"""The Decoding lab's plain functions (issue 11 section 4): the beam search curse and diversity in the search.

The curse: BLEU, output / reference length and the share of empty or too-short outputs by beam size K, with the
raw log-probability (alpha = 0) and with length normalisation (alpha = 1). A shipped checkpoint reads the numbers
scripts/beam_curse.py precomputed for that exact file (demo/cache.py, SHA-256 checked); any other model (the
visitor's own, or a shipped one without a valid cache) is measured live on LIVE_PAIRS held-out pairs of
demo/examples with K up to LIVE_MAX_BEAM, once per checkpoint file. The measures are scripts/beam_curse.py's.

Diversity: one source sentence through plain beam search, diverse beam search, n-gram blocking, a repetition
penalty and min-p sampling, each list of K shown as a table, the diverse search's beam tree coloured by group."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
import sacrebleu
from plotly.subplots import make_subplots

from s2s.config import DecodeConfig
from s2s.evaluate import length_stats, spread, tokens_13a
from s2s.translator import Translator

from . import cache, handlers, models, plots
from .errors import message as L

BEAMS = (1, 2, 3, 5, 10, 20, 50)  # as scripts/beam_curse.py
PENALTIES = (0.0, 1.0)
LIVE_PAIRS = 50  # held-out pairs of a live measurement
LIVE_MAX_BEAM = 20  # widest beam measured live (K = 50 on a CPU takes too long for a page)
CURSE_COLUMNS = ("k", "alpha", "bleu", "ratio", "too_short", "empty")
LINE_COLOURS = {0.0: "#d62728", 1.0: "#1f77b4"}  # raw: red, length-normalised: blue


# ---------------------------------------------------------------- the beam search curse


@dataclass
class Curse:
    rows: list[dict]  # one per (length_penalty, beam_size): bleu, length_ratio, too_short_share, empty_share
    live: bool  # measured just now (else read from the checkpoint's cache)
    sentences: int
    split: str  # where the sentences came from


def measure(translator: Translator, sources: list[str], refs: list[str], k: int, alpha: float) -> dict:
    """One row of the curve: beam search K with length penalty alpha over the pairs, text only."""
    cfg = DecodeConfig(strategy="beam", beam_size=k, length_penalty=alpha, record_top=0)
    hyps = [t.text for t in translator.translate(sources, cfg, batch_size=max(1, 512 // k))]
    return {"beam_size": k, "length_penalty": alpha, "bleu": sacrebleu.corpus_bleu(hyps, [refs]).score,
            **length_stats(hyps, refs)}


def heldout_file(name: str) -> str:
    return f"heldout_{models.language_pair(name).replace('-', '_')}.tsv"


def live_pairs(name: str) -> list[tuple[str, str]]:
    return spread(models.heldout_pairs(models.language_pair(name)), LIVE_PAIRS)


def live_rows(translator: Translator, pairs: list[tuple[str, str]], progress=None) -> list[dict]:
    sources, refs = [s for s, _ in pairs], [r for _, r in pairs]
    runs = [(alpha, k) for alpha in PENALTIES for k in BEAMS if k <= LIVE_MAX_BEAM]
    rows = []
    for i, (alpha, k) in enumerate(runs):
        if progress is not None:
            progress((i, len(runs)), desc=L("lab_progress", k=k, alpha=f"{alpha:g}", n=len(pairs)))
        rows.append(measure(translator, sources, refs, k, alpha))
    return rows


def curse_data(name: str, session_models: dict | None = None, progress=None) -> Curse:
    """The cached curve of a shipped checkpoint, else one measured live (once per checkpoint file)."""
    translator = handlers.get_model(name, session_models)
    path = models.model_path(name, session_models)
    own = bool(session_models and name in session_models)
    cached = None if own else cache.load_beam_curse(name, path)
    if cached and cached.get("rows"):
        split = str(cached.get("split", "")).split(" (")[0]  # the name, without the file it was read from
        return Curse(cached["rows"], False, int(cached.get("sentences", 0)), split)
    pairs = live_pairs(name)
    rows = handlers.memo(("beam_curse", *handlers.file_key(path), models.language_pair(name), LIVE_PAIRS),
                         lambda: live_rows(translator, pairs, progress))
    return Curse(rows, True, len(pairs), heldout_file(name))


def _series(rows: list[dict], alpha: float) -> list[dict]:
    return sorted((r for r in rows if float(r["length_penalty"]) == alpha), key=lambda r: r["beam_size"])


def curse_figure(curse: Curse, model: str) -> go.Figure:
    """Three panels side by side, K on a log axis: BLEU, length ratio, % empty or too short; one line per alpha."""
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.09,
                        subplot_titles=[L("lab_axis_bleu"), L("lab_axis_ratio"), L("lab_axis_short")])
    for alpha, name in ((0.0, "lab_raw"), (1.0, "lab_normalised")):
        series = _series(curse.rows, alpha)
        ks = [r["beam_size"] for r in series]
        values = ([r["bleu"] for r in series], [r["length_ratio"] for r in series],
                  [100 * r["too_short_share"] for r in series])
        for col, ys in enumerate(values, start=1):
            fig.add_trace(go.Scatter(x=ks, y=ys, mode="lines+markers", name=L(name), legendgroup=name,
                                     showlegend=col == 1, line=dict(color=LINE_COLOURS[alpha], width=3),
                                     hovertemplate="K = %{x}<br>%{y:.3g}<extra>" + plots.esc(L(name)) + "</extra>"),
                          row=1, col=col)
    ks = sorted({r["beam_size"] for r in curse.rows})
    fig.add_hline(y=1.0, line=dict(color="#888888", dash="dot"), row=1, col=2)
    fig.update_xaxes(type="log", tickvals=ks, ticktext=[str(k) for k in ks], title_text=L("lab_axis_k"),
                     gridcolor="#eeeeee")
    fig.update_yaxes(gridcolor="#eeeeee", zeroline=False)
    fig.update_yaxes(rangemode="tozero", row=1, col=3)
    fig.update_layout(title=dict(text=plots.esc(L("lab_title_curse", model=model)), x=0.01), height=470,
                      margin=dict(l=60, r=20, t=80, b=120), font=dict(family=plots.FONT, size=plots.FONT_SIZE),
                      plot_bgcolor="white", legend=dict(orientation="h", y=-0.3, x=0.0))
    return fig


def curse_table(curse: Curse) -> pd.DataFrame:
    rows = [[r["beam_size"], f"{float(r['length_penalty']):g}", round(r["bleu"], 2), round(r["length_ratio"], 3),
             round(100 * r["too_short_share"], 1), round(100 * r.get("empty_share", 0.0), 1)]
            for alpha in PENALTIES for r in _series(curse.rows, alpha)]
    return pd.DataFrame(rows, columns=[L(f"lab_col_{c}") for c in CURSE_COLUMNS])


def curse_explanation(curse: Curse) -> str:
    """Two sentences in the request's language with the measured numbers: what changed from K = 1 to the widest K."""
    raw, norm = _series(curse.rows, 0.0), _series(curse.rows, 1.0)
    first, last, best = raw[0], raw[-1], max(raw, key=lambda r: r["bleu"])
    if curse.live:
        where = L("lab_where_live", n=curse.sentences, file=curse.split, kmax=LIVE_MAX_BEAM)
    else:
        where = L("lab_where_cached", n=curse.sentences, split=curse.split)
    return L("lab_curse_explain", where=where, kmax=last["beam_size"], b1=f"{first['bleu']:.1f}",
             bk=f"{last['bleu']:.1f}", bbest=f"{best['bleu']:.1f}", kbest=best["beam_size"],
             r1=f"{first['length_ratio']:.2f}", rk=f"{last['length_ratio']:.2f}",
             s1=f"{100 * first['too_short_share']:.1f}", sk=f"{100 * last['too_short_share']:.1f}",
             rn=f"{norm[-1]['length_ratio']:.2f}", bn=f"{norm[-1]['bleu']:.1f}")


def beam_curse(model: str, session_models: dict | None = None, progress=None):
    """-> chart, explanation (markdown), table of the numbers."""
    curse = curse_data(model, session_models, progress)
    return curse_figure(curse, model), curse_explanation(curse), curse_table(curse)


# ---------------------------------------------------------------- diversity in the search

SETTINGS = ("plain", "diverse", "ngram", "repetition", "minp")
BEAM_COLUMNS = ("rank", "translation", "score", "logprob")  # the translation second: phones see it without scrolling
DIVERSE_COLUMNS = ("rank", "group", "translation", "score", "logprob")
SAMPLE_COLUMNS = ("rank", "translation", "logprob")


def diversity_configs(k, groups, penalty, ngram, repetition, min_p, temperature, seed) -> dict[str, DecodeConfig]:
    """The five settings, each returning K hypotheses (K samples for min-p)."""
    k = int(k)
    beam = lambda **extra: handlers.decode_config("beam", k, n_best=k, **extra)  # noqa: E731
    return {"plain": beam(),
            "diverse": beam(beam_groups=groups, diversity_penalty=penalty),
            "ngram": beam(no_repeat_ngram=ngram),
            "repetition": beam(repetition_penalty=repetition),
            "minp": handlers.decode_config("sample", 1, temperature, k, seed=seed, min_p=min_p)}


def vocabulary(texts: list[str]) -> set[str]:
    """The different words (13a tokens, lowercased) of a list of translations."""
    return {w.lower() for text in texts for w in tokens_13a(text)}


def shown(text: str) -> str:
    return text if text.strip() else L("lab_empty_output")


def group_of(hyp, cfg: DecodeConfig) -> int:
    """1-based group of a diverse-beam hypothesis: the slot it ended in, K / groups slots per group."""
    slot = hyp.beam_path[-1] if hyp.beam_path else 0
    return slot // (cfg.beam_size // cfg.beam_groups) + 1


def nbest_table(key: str, cfg: DecodeConfig, result, texts: list[str]) -> pd.DataFrame:
    rows = []
    for i, (h, text) in enumerate(zip(result.hypotheses, texts)):
        if key == "minp":
            rows.append([i + 1, shown(text), round(h.logprob, 3)])
        elif key == "diverse":
            rows.append([i + 1, group_of(h, cfg), shown(text), round(h.score, 3), round(h.logprob, 3)])
        else:
            rows.append([i + 1, shown(text), round(h.score, 3), round(h.logprob, 3)])
    keys = {"minp": SAMPLE_COLUMNS, "diverse": DIVERSE_COLUMNS}.get(key, BEAM_COLUMNS)
    return pd.DataFrame(rows, columns=[L(f"lab_col_{c}") for c in keys])


def empty_tables() -> list[pd.DataFrame]:
    keys = {"minp": SAMPLE_COLUMNS, "diverse": DIVERSE_COLUMNS}
    return [pd.DataFrame(columns=[L(f"lab_col_{c}") for c in keys.get(s, BEAM_COLUMNS)]) for s in SETTINGS]


def diversity(text: str, model: str, k: float = 6, groups: float = 3, penalty: float = 2.0, ngram: float = 2,
              repetition: float = 1.5, min_p: float = 0.1, temperature: float = 1.5, seed: float | None = 0,
              session_models: dict | None = None):
    """-> summary (markdown), five n-best tables (plain, diverse, n-gram, repetition, min-p), diverse beam tree."""
    clean = handlers.clean_text(text)
    translator = handlers.get_model(model, session_models)
    configs = diversity_configs(k, groups, penalty, ngram, repetition, min_p, temperature, seed)
    tables, distinct, tree = [], [], None
    for key, cfg in configs.items():
        tr = translator.translate_one(clean, cfg)
        tables.append(nbest_table(key, cfg, tr.result, tr.texts))
        distinct.append(L("lab_summary_item", name=L(f"lab_name_{key}"), d=len(set(tr.texts)),
                          w=len(vocabulary(tr.texts))))
        if key == "diverse":
            tree = handlers.beam_tree_figure(translator, tr.result)
    cfg = configs["diverse"]
    notes = [L("lab_summary", k=cfg.beam_size, counts=" · ".join(distinct)),
             L("lab_groups_used", g=cfg.beam_groups, w=cfg.beam_size // cfg.beam_groups,
               p=f"{cfg.diversity_penalty:g}"),
             handlers.input_hint(translator, clean, model), handlers.cut_notice(translator, clean, text)]
    return ("\n\n".join(n for n in notes if n), *tables, tree)
