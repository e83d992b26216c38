"""Plain lists in, plotly figures out: step heatmaps, attention, beam trees, exposure-bias and loss curves.

No model here: callers turn token ids into piece strings first. Every word on a figure comes from the language
tables (demo/i18n.py) in the language of the request being served (demo/errors.py: message)."""
from __future__ import annotations

import html
import math
from dataclasses import dataclass

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .errors import message as L

CHOSEN = "#d62728"  # the token picked at a step, the winning beam
TEACHER = "#1f77b4"
FREE = "#ff7f0e"
STATUS_COLOURS = {"kept": "#1f77b4", "finished": "#2ca02c", "pruned": "#bbbbbb"}
GROUP_COLOURS = ["#1f77b4", "#9467bd", "#17becf", "#bcbd22", "#8c564b", "#e377c2", "#7f7f7f", "#ff7f0e"]
FONT = "Noto Sans CJK SC, Noto Sans, Arial, sans-serif"
FONT_SIZE = 14  # readable on a projector; phones scroll the plots sideways instead of shrinking them (demo/app.py)
WORD_START = "\u2581"  # sentencepiece's word-start marker
WORD_MARK = "\u00b7"  # shown instead: a middle dot, explained in the help text ("word_legend")
MAX_PRINTED_STEPS = 16  # probabilities are printed in the cells up to this many steps
STEP_WIDTH = 64  # px per step when a figure is wider than the page: it scrolls sideways


def esc(text: str) -> str:
    """Plotly renders a subset of HTML in labels: `<eos>` would vanish unless escaped."""
    return html.escape(str(text), quote=False)


def readable(piece: str) -> str:
    """A sentencepiece piece as a learner reads it: '\u2581love' -> '\u00b7love' (a new word starts)."""
    return WORD_MARK + piece[1:] if piece.startswith(WORD_START) else piece


def _layout(fig: go.Figure, title: str, height: int, width: int | None = None, bottom: int = 60) -> go.Figure:
    fig.update_layout(title=dict(text=title, x=0.01), height=height, margin=dict(l=70, r=20, t=60, b=bottom),
                      font=dict(family=FONT, size=FONT_SIZE), plot_bgcolor="white")
    if width:
        fig.update_layout(width=width)
    return fig


def empty_figure(message: str = "") -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=esc(message), showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, "", 200)


# ---------------------------------------------------------------- decoder steps


@dataclass
class StepColumn:
    """What one decoding step shows: the token fed in, the candidates, the token chosen."""

    fed: str  # the token fed to the decoder at this step (<sos> first)
    chosen: str  # the token chosen (or forced) at this step
    candidates: list[str]  # top candidates, best first
    probs: list[float]  # their probabilities
    entropy: float  # of the distribution, in nats
    forced: bool = False  # the token was forced (what-if prefix)


def _chosen_rank(col: StepColumn) -> int | None:
    return col.candidates.index(col.chosen) if col.chosen in col.candidates else None


def step_heatmap(columns: list[StepColumn], title: str = "", vocab_size: int | None = None) -> go.Figure:
    """One column per decoding step (labelled `n. fed -> chosen`), rows = top candidates, colour = probability.

    The chosen token's cell is outlined, probabilities are printed in the cells when they fit, and a panel below
    shows each step's entropy on a fixed scale, 0 to log |V| nats, so two charts compare by eye."""
    if not columns:
        return empty_figure(L("plot_no_steps"))
    k = max(len(c.candidates) for c in columns)
    z = [[c.probs[r] if r < len(c.probs) else None for c in columns] for r in range(k)]
    printed = len(columns) <= MAX_PRINTED_STEPS
    text = [[_cell(c, r, printed) for c in columns] for r in range(k)]
    forced = L("forced")
    ticks = [f"{i + 1}. {esc(readable(c.fed))}→<b>{esc(readable(c.chosen))}</b>{f' ({forced})' if c.forced else ''}"
             for i, c in enumerate(columns)]
    xs = list(range(1, len(columns) + 1))  # step numbers as the labels show them
    step = L("axis_step")
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.8, 0.2], vertical_spacing=0.04)
    fig.add_trace(go.Heatmap(z=z, x=xs, y=list(range(1, k + 1)), text=text, texttemplate="%{text}",
                             textfont=dict(size=12), colorscale="Blues", zmin=0, zmax=1,
                             colorbar=dict(title="p", len=0.75, y=0.62),
                             hovertemplate=f"{step} %{{x}}<br>#%{{y}}: %{{text}}<br>p = %{{z:.4f}}<extra></extra>",
                             xgap=1, ygap=1, name="probability"), row=1, col=1)
    for i, c in enumerate(columns):  # the chosen token's cell, outlined in red
        r = _chosen_rank(c)
        if r is not None:
            fig.add_shape(type="rect", x0=i + 0.5, x1=i + 1.5, y0=r + 0.5, y1=r + 1.5, xref="x", yref="y",
                          line=dict(color=CHOSEN, width=3))
    entropy = L("axis_entropy")
    fig.add_trace(go.Bar(x=xs, y=[c.entropy for c in columns], marker_color="#9467bd", name=entropy,
                         hovertemplate=f"{step} %{{x}}<br>{entropy} %{{y:.3f}}<extra></extra>"), row=2, col=1)
    fig.update_yaxes(range=[k + 0.5, 0.5], title_text=L("axis_rank"), dtick=1, row=1, col=1)
    top = math.log(vocab_size) if vocab_size and vocab_size > 1 else max([c.entropy for c in columns] + [1.0])
    fig.update_yaxes(title_text=entropy, range=[0, top], row=2, col=1)
    fig.update_xaxes(tickvals=xs, ticktext=ticks, tickangle=-40, row=2, col=1)
    fig.update_layout(showlegend=False)
    wide = 140 + STEP_WIDTH * len(columns) if len(columns) > MAX_PRINTED_STEPS else None
    return _layout(fig, title or L("step_plot"), 260 + 46 * k, wide, bottom=130)


def _cell(col: StepColumn, rank: int, printed: bool) -> str:
    if rank >= len(col.candidates):
        return ""
    piece = esc(readable(col.candidates[rank]))
    return f"{piece}<br>{col.probs[rank]:.2f}" if printed else piece


def attention_heatmap(source: list[str], target: list[str], weights: list[list[float]], title: str = "") -> go.Figure:
    """Rows = target pieces (in output order), columns = source pieces (with the final <eos>)."""
    if not weights:
        return empty_figure(L("plot_no_attention"))
    labels_x = [f"{i}:{esc(readable(p))}" for i, p in enumerate(source)]
    labels_y = [f"{i}:{esc(readable(p))}" for i, p in enumerate(target)]
    out, src, weight = L("axis_output_piece"), L("axis_source_piece"), L("axis_weight")
    fig = go.Figure(go.Heatmap(z=weights, x=labels_x, y=labels_y, colorscale="Viridis", zmin=0, zmax=1,
                               hovertemplate=f"{out} %{{y}}<br>{src} %{{x}}<br>{weight} %{{z:.3f}}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", title_text=out)
    fig.update_xaxes(title_text=src, tickangle=-40)
    wide = 160 + 40 * len(source) if len(source) > 24 else None
    return _layout(fig, title or L("title_attention"), max(340, 80 + 28 * len(target)), wide)


# ---------------------------------------------------------------- beam tree


@dataclass
class TreeStep:
    """One beam-search step: the candidates in order (kept ones first, slot i = position i)."""

    parents: list[int]  # slot of the previous step each candidate extends
    tokens: list[str]
    scores: list[float]  # cumulative log-probability
    status: list[str]  # kept | finished | pruned
    groups: list[int] | None = None  # diverse beam search: each candidate's group


def beam_tree(steps: list[TreeStep], winner: list[int], title: str = "") -> go.Figure:
    """x = step, y = position of the candidate within its step (kept beams are slots 0..K-1).

    `winner` gives the winning hypothesis' position at each step; its path is drawn thick in red. With more than
    one group (diverse beam search) the kept candidates are coloured by group."""
    if not steps:
        return empty_figure(L("plot_tree_hint"))
    fig = go.Figure()
    edge_x, edge_y = [], []
    for t, step in enumerate(steps):
        for pos, parent in enumerate(step.parents):
            edge_x += [t, t + 1, None]
            edge_y += [parent if t else 0, pos, None]
    fig.add_trace(go.Scatter(x=edge_x, y=edge_y, mode="lines", line=dict(color="#cccccc", width=1),
                             hoverinfo="skip", name="edges", showlegend=False))
    win_x = [0] + [t + 1 for t in range(len(winner))]
    win_y = [0] + list(winner)
    fig.add_trace(go.Scatter(x=win_x, y=win_y, mode="lines", line=dict(color=CHOSEN, width=4),
                             name=L("tree_winner"), hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=[0], y=[0], mode="markers+text", text=["&lt;sos&gt;"], textposition="top center",
                             marker=dict(size=12, color="black"), name="<sos>", hoverinfo="skip", showlegend=False))
    grouped = len({g for s in steps for g in (s.groups or [])}) > 1
    for status, colour in STATUS_COLOURS.items():
        pts = [(t + 1, pos, tok, sc, (s.groups or [0] * len(s.tokens))[pos]) for t, s in enumerate(steps)
               for pos, (tok, sc, st) in enumerate(zip(s.tokens, s.scores, s.status)) if st == status]
        if grouped and status == "kept":
            for g in sorted({p[4] for p in pts}):
                _tree_points(fig, [p for p in pts if p[4] == g], L("tree_group", g=g + 1),
                             GROUP_COLOURS[g % len(GROUP_COLOURS)], False)
        else:
            _tree_points(fig, pts, L(f"tree_{status}"), colour, status == "pruned")
    depth = max(len(s.tokens) for s in steps)
    fig.update_yaxes(autorange="reversed", title_text=L("axis_candidate"), dtick=1, range=[depth - 0.4, -1.2])
    fig.update_xaxes(title_text=L("axis_step"), dtick=1, range=[-0.9, len(steps) + 0.9])
    fig.update_layout(legend=dict(orientation="h", y=-0.15))
    wide = 160 + 110 * len(steps) if len(steps) > 10 else None
    return _layout(fig, title or L("title_tree"), max(400, 150 + 32 * depth), wide)


def _tree_points(fig: go.Figure, pts: list[tuple], name: str, colour: str, pruned: bool) -> None:
    step = L("axis_step")
    fig.add_trace(go.Scatter(
        x=[p[0] for p in pts], y=[p[1] for p in pts], mode="markers" if pruned else "markers+text",
        name=name, text=[esc(readable(p[2])) for p in pts], textposition="middle right", textfont=dict(size=12),
        marker=dict(size=7 if pruned else 11, color=colour, symbol="x" if pruned else "circle"),
        customdata=[[p[3]] for p in pts],
        hovertemplate=f"{step} %{{x}} · {esc(name)}<br>%{{text}}<br>log p = %{{customdata[0]:.3f}}<extra></extra>"))


# ---------------------------------------------------------------- exposure bias


def exposure_steps(gold: list[str], teacher_p: list[float], free_p: list[float], free_choice: list[str],
                   divergence: int | None, title: str = "") -> go.Figure:
    """Two lines over the reference's steps: teacher-forced vs free-running probability of the gold token."""
    xs = list(range(1, len(gold) + 1))
    ticks = [f"{i}. {esc(readable(g))}" for i, g in zip(xs, gold)]
    step, said = L("axis_step"), L("hover_said")
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=xs, y=teacher_p, mode="lines+markers", name=L("legend_teacher"),
                             line=dict(color=TEACHER, width=3), customdata=[esc(readable(g)) for g in gold],
                             hovertemplate=f"{step} %{{x}}: {L('hover_gold')} %{{customdata}}<br>p = %{{y:.3f}}"
                                           "<extra></extra>"))
    fig.add_trace(go.Scatter(x=xs, y=free_p, mode="lines+markers", name=L("legend_free"),
                             line=dict(color=FREE, width=3, dash="dot"), customdata=[esc(readable(c)) for c in free_choice],
                             hovertemplate=f"{step} %{{x}}: {said} %{{customdata}}<br>p = %{{y:.3f}}<extra></extra>"))
    if divergence is not None:
        fig.add_vline(x=divergence + 1, line=dict(color=CHOSEN, dash="dash"),
                      annotation_text=L("first_divergence"), annotation_position="top")
    fig.update_yaxes(range=[0, 1.05], title_text=L("axis_p_gold"))
    fig.update_xaxes(tickvals=xs, ticktext=ticks, tickangle=-40, title_text=L("axis_reference_token"))
    fig.update_layout(legend=dict(orientation="h", y=-0.35))
    return _layout(fig, title or L("title_exposure_steps"), 480)


@dataclass
class Curve:
    """Accuracy (or log-probability) by target position for one model, with its 95% band and sentence counts."""

    name: str
    positions: list[int]
    teacher: list[float]
    free: list[float]
    teacher_band: tuple[list[float], list[float]] | None = None  # (low, high) per position
    free_band: tuple[list[float], list[float]] | None = None
    sentences: list[int] | None = None  # sentences averaged at each position


def position_curves(curves: list[Curve], metric: str = "") -> go.Figure:
    """One panel per model, side by side: teacher-forced vs free-running by target position with the 95% band;
    below each, bars of how many sentences each point averages."""
    if not curves:
        return empty_figure(L("plot_no_model"))
    metric = metric or L("metric_accuracy")
    counted = any(c.sentences for c in curves)
    fig = make_subplots(rows=2 if counted else 1, cols=len(curves), shared_yaxes=True, shared_xaxes=True,
                        row_heights=[0.76, 0.24] if counted else None, vertical_spacing=0.08,
                        subplot_titles=[esc(c.name) for c in curves])
    for i, c in enumerate(curves, 1):
        first = i == 1
        for values, band, colour, name, dash in ((c.teacher, c.teacher_band, TEACHER, "legend_teacher_short", None),
                                                 (c.free, c.free_band, FREE, "legend_free_short", "dot")):
            if band:
                _band(fig, c.positions, band, colour, first, i)
            fig.add_trace(go.Scatter(x=c.positions, y=values, name=L(name), legendgroup=name, showlegend=first,
                                     line=dict(color=colour, width=3, dash=dash), mode="lines+markers"), row=1, col=i)
        if c.sentences:
            fig.add_trace(go.Bar(x=c.positions, y=c.sentences, name=L("legend_sentences"), legendgroup="n",
                                 showlegend=first, marker_color="#bbbbbb", text=c.sentences, textposition="outside",
                                 cliponaxis=False, textfont=dict(size=10),
                                 hovertemplate=f"%{{y}} {L('hover_sentences')}<extra></extra>"), row=2, col=i)
        fig.update_xaxes(title_text=L("axis_target_position"), row=2 if counted else 1, col=i)
    fig.update_yaxes(title_text=metric, row=1, col=1)
    if counted:
        fig.update_yaxes(title_text=L("axis_sentences"), row=2, col=1)
        fig.update_yaxes(range=[0, 1.3 * max(max(c.sentences or [1]) for c in curves)], row=2)
    fig.update_layout(legend=dict(orientation="h", y=-0.22))
    return _layout(fig, L("title_curves", metric=metric), 560 if counted else 440)


def _band(fig: go.Figure, xs: list[int], band: tuple[list[float], list[float]], colour: str, first: bool,
          col: int) -> None:
    low, high = band
    fig.add_trace(go.Scatter(x=list(xs) + list(xs)[::-1], y=list(high) + list(low)[::-1], fill="toself",
                             fillcolor=_alpha(colour, 0.18), line=dict(width=0), hoverinfo="skip",
                             name=L("legend_band"), legendgroup="band", showlegend=first and colour == TEACHER),
                  row=1, col=col)


def _alpha(colour: str, a: float) -> str:
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{a})"


# ---------------------------------------------------------------- training


def loss_curve(steps: list[int], train: list[float], valid_steps: list[int], valid: list[float],
               title: str = "") -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=steps, y=train, mode="lines+markers", name=L("loss_train"), line=dict(color=TEACHER)))
    fig.add_trace(go.Scatter(x=valid_steps, y=valid, mode="lines+markers", name=L("loss_valid"),
                             line=dict(color=FREE, width=3)))
    fig.update_xaxes(title_text=L("axis_update_step"))
    fig.update_yaxes(title_text=L("axis_xent"))
    fig.update_layout(legend=dict(orientation="h", y=1.12))
    return _layout(fig, title or L("title_loss"), 360)


def bleu_by_length(rows: list[dict], title: str = "") -> go.Figure:
    """rows: [{"model", "bucket", "bleu", "sentences"}] -> grouped bars, one colour per model."""
    if not rows:
        return empty_figure(L("plot_nothing"))
    fig = go.Figure()
    for model in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == model]
        fig.add_trace(go.Bar(x=[r["bucket"] for r in mine], y=[r["bleu"] for r in mine], name=esc(model),
                             customdata=[r["sentences"] for r in mine], texttemplate="%{y:.1f}", textposition="outside",
                             hovertemplate=f"%{{x}}: BLEU %{{y:.1f}} (%{{customdata}} {L('hover_sentences')})"
                                           "<extra></extra>"))
    fig.update_layout(barmode="group", legend=dict(orientation="h", y=1.12))
    fig.update_xaxes(title_text=L("axis_source_length"))
    fig.update_yaxes(title_text="BLEU")
    return _layout(fig, title or L("title_bleu"), 380)
