"""Plain lists in, plotly figures out: step heatmaps, attention, beam trees, exposure-bias and loss curves.

No gradio here, and no model: callers turn token ids into piece strings first."""
from __future__ import annotations

import html
from dataclasses import dataclass

import plotly.graph_objects as go
from plotly.subplots import make_subplots

CHOSEN = "#d62728"  # the token picked at a step, the winning beam
TEACHER = "#1f77b4"
FREE = "#ff7f0e"
STATUS_COLOURS = {"kept": "#1f77b4", "finished": "#2ca02c", "pruned": "#bbbbbb"}
FONT = "Noto Sans CJK SC, Noto Sans, Arial, sans-serif"


def esc(text: str) -> str:
    """Plotly renders a subset of HTML in labels: `<eos>` would vanish unless escaped."""
    return html.escape(str(text), quote=False)


def _layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(title=dict(text=title, x=0.01), height=height, margin=dict(l=60, r=20, t=50, b=60),
                      font=dict(family=FONT), plot_bgcolor="white")
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


def step_heatmap(columns: list[StepColumn], title: str = "Decoder, step by step · 解码器，逐步") -> go.Figure:
    """One column per decoding step (labelled `fed -> chosen`), rows = top candidates, colour = probability.

    The chosen token's cell is outlined; a small panel below shows each step's entropy."""
    if not columns:
        return empty_figure("no decoding steps")
    k = max(len(c.candidates) for c in columns)
    z = [[c.probs[r] if r < len(c.probs) else None for c in columns] for r in range(k)]
    text = [[esc(c.candidates[r]) if r < len(c.candidates) else "" for c in columns] for r in range(k)]
    ticks = [f"{i + 1}. {esc(c.fed)}→<b>{esc(c.chosen)}</b>{' 🔒' if c.forced else ''}" for i, c in enumerate(columns)]
    xs = list(range(len(columns)))
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.8, 0.2], vertical_spacing=0.04)
    fig.add_trace(go.Heatmap(z=z, x=xs, y=list(range(1, k + 1)), text=text, texttemplate="%{text}",
                             colorscale="Blues", zmin=0, zmax=1, colorbar=dict(title="p", len=0.75, y=0.62),
                             hovertemplate="step %{x}<br>rank %{y}: %{text}<br>p = %{z:.4f}<extra></extra>",
                             xgap=1, ygap=1, name="probability"), row=1, col=1)
    marked = [(i, _chosen_rank(c)) for i, c in enumerate(columns) if _chosen_rank(c) is not None]
    fig.add_trace(go.Scatter(x=[i for i, _ in marked], y=[r + 1 for _, r in marked], mode="markers",
                             marker=dict(symbol="square-open", size=34, color=CHOSEN, line=dict(width=3)),
                             name="chosen", hoverinfo="skip"), row=1, col=1)
    fig.add_trace(go.Bar(x=xs, y=[c.entropy for c in columns], marker_color="#9467bd", name="entropy (nats)",
                         hovertemplate="step %{x}<br>entropy %{y:.3f} nats<extra></extra>"), row=2, col=1)
    fig.update_yaxes(range=[k + 0.5, 0.5], title_text="rank", dtick=1, row=1, col=1)
    fig.update_yaxes(title_text="entropy", row=2, col=1)
    fig.update_xaxes(tickvals=xs, ticktext=ticks, tickangle=-40, row=2, col=1)
    fig.update_layout(showlegend=False)
    return _layout(fig, title, 520)


def attention_heatmap(source: list[str], target: list[str], weights: list[list[float]],
                      title: str = "Attention: where each output word looked · 注意力：每个输出词看向哪里") -> go.Figure:
    """Rows = target pieces (in output order), columns = source pieces (with the final <eos>)."""
    if not weights:
        return empty_figure("this model has no attention: the decoder only sees the context vector")
    labels_x = [f"{i}:{esc(p)}" for i, p in enumerate(source)]
    labels_y = [f"{i}:{esc(p)}" for i, p in enumerate(target)]
    fig = go.Figure(go.Heatmap(z=weights, x=labels_x, y=labels_y, colorscale="Viridis", zmin=0, zmax=1,
                               hovertemplate="output %{y}<br>source %{x}<br>weight %{z:.3f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", title_text="output (target) piece")
    fig.update_xaxes(title_text="source piece", tickangle=-40)
    return _layout(fig, title, max(320, 60 + 26 * len(target)))


# ---------------------------------------------------------------- beam tree


@dataclass
class TreeStep:
    """One beam-search step: the candidates in order (kept ones first, slot i = position i)."""

    parents: list[int]  # slot of the previous step each candidate extends
    tokens: list[str]
    scores: list[float]  # cumulative log-probability
    status: list[str]  # kept | finished | pruned


def beam_tree(steps: list[TreeStep], winner: list[int], title: str = "Beam search tree · 束搜索树") -> go.Figure:
    """x = step, y = position of the candidate within its step (kept beams are slots 0..K-1).

    `winner` gives the winning hypothesis' position at each step; its path is drawn thick in red."""
    if not steps:
        return empty_figure("no beam search yet")
    fig = go.Figure()
    edge_x, edge_y = [], []
    for t, step in enumerate(steps):
        for pos, parent in enumerate(step.parents):
            edge_x += [t, t + 1, None]
            edge_y += [parent if t else 0, pos, None]
    fig.add_trace(go.Scatter(x=edge_x, y=edge_y, mode="lines", line=dict(color="#cccccc", width=1),
                             hoverinfo="skip", name="edges"))
    win_x = [0] + [t + 1 for t in range(len(winner))]
    win_y = [0] + list(winner)
    fig.add_trace(go.Scatter(x=win_x, y=win_y, mode="lines", line=dict(color=CHOSEN, width=4), name="winning path",
                             hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=[0], y=[0], mode="markers+text", text=["&lt;sos&gt;"], textposition="top center",
                             marker=dict(size=12, color="black"), name="start", hoverinfo="skip"))
    for status, colour in STATUS_COLOURS.items():
        pts = [(t + 1, pos, tok, sc) for t, s in enumerate(steps)
               for pos, (tok, sc, st) in enumerate(zip(s.tokens, s.scores, s.status)) if st == status]
        pruned = status == "pruned"
        fig.add_trace(go.Scatter(
            x=[p[0] for p in pts], y=[p[1] for p in pts], mode="markers" if pruned else "markers+text",
            name=status, text=[esc(p[2]) for p in pts], textposition="middle right", textfont=dict(size=11),
            marker=dict(size=7 if pruned else 11, color=colour, symbol="x" if pruned else "circle"),
            customdata=[[p[3]] for p in pts],
            hovertemplate=f"step %{{x}} · {status}<br>%{{text}}<br>log p = %{{customdata[0]:.3f}}<extra></extra>"))
    depth = max(len(s.tokens) for s in steps)
    fig.update_yaxes(autorange="reversed", title_text="candidate (kept beams first)", dtick=1, range=[depth, -1])
    fig.update_xaxes(title_text="step", dtick=1, range=[-0.9, len(steps) + 0.9])
    fig.update_layout(legend=dict(orientation="h", y=-0.15))
    return _layout(fig, title, max(380, 140 + 30 * depth))


# ---------------------------------------------------------------- exposure bias


def exposure_steps(gold: list[str], teacher_p: list[float], free_p: list[float], free_choice: list[str],
                   divergence: int | None, title: str = "p(gold token) at every step · 每一步参考词的概率") -> go.Figure:
    """Two lines over the reference's steps: teacher-forced vs free-running probability of the gold token."""
    xs = list(range(1, len(gold) + 1))
    ticks = [f"{i}. {esc(g)}" for i, g in zip(xs, gold)]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=xs, y=teacher_p, mode="lines+markers", name="teacher-forced (fed the reference) · 教师强制",
                             line=dict(color=TEACHER, width=3), customdata=[esc(g) for g in gold],
                             hovertemplate="step %{x}: gold %{customdata}<br>p = %{y:.3f}<extra>teacher</extra>"))
    fig.add_trace(go.Scatter(x=xs, y=free_p, mode="lines+markers", name="free-running (fed its own words) · 自由运行",
                             line=dict(color=FREE, width=3, dash="dot"), customdata=[esc(c) for c in free_choice],
                             hovertemplate="step %{x}: model said %{customdata}<br>p(gold) = %{y:.3f}"
                                           "<extra>free</extra>"))
    if divergence is not None:
        fig.add_vline(x=divergence + 1, line=dict(color=CHOSEN, dash="dash"),
                      annotation_text="first divergence · 首次偏离", annotation_position="top")
    fig.update_yaxes(range=[0, 1.05], title_text="probability of the gold token")
    fig.update_xaxes(tickvals=xs, ticktext=ticks, tickangle=-40, title_text="reference token")
    fig.update_layout(legend=dict(orientation="h", y=-0.35))
    return _layout(fig, title, 460)


@dataclass
class Curve:
    """Accuracy (or log-probability) by target position for one model."""

    name: str
    positions: list[int]
    teacher: list[float]
    free: list[float]


def position_curves(curves: list[Curve], metric: str = "token accuracy") -> go.Figure:
    """One panel per model, side by side: teacher-forced vs free-running by target position."""
    if not curves:
        return empty_figure("no model selected")
    fig = make_subplots(rows=1, cols=len(curves), shared_yaxes=True, subplot_titles=[esc(c.name) for c in curves])
    for i, c in enumerate(curves, 1):
        first = i == 1
        fig.add_trace(go.Scatter(x=c.positions, y=c.teacher, name="teacher-forced · 教师强制", legendgroup="t",
                                 showlegend=first, line=dict(color=TEACHER, width=3)), row=1, col=i)
        fig.add_trace(go.Scatter(x=c.positions, y=c.free, name="free-running · 自由运行", legendgroup="f", showlegend=first,
                                 line=dict(color=FREE, width=3, dash="dot")), row=1, col=i)
        fig.update_xaxes(title_text="target position", row=1, col=i)
    fig.update_yaxes(title_text=metric, row=1, col=1)
    fig.update_layout(legend=dict(orientation="h", y=-0.2))
    return _layout(fig, f"{metric} by target position, over held-out sentences · 按目标位置（留出句子）", 420)


# ---------------------------------------------------------------- training


def loss_curve(steps: list[int], train: list[float], valid_steps: list[int], valid: list[float],
               title: str = "Loss · 损失") -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=steps, y=train, mode="lines+markers", name="train loss", line=dict(color=TEACHER)))
    fig.add_trace(go.Scatter(x=valid_steps, y=valid, mode="lines+markers", name="validation loss",
                             line=dict(color=FREE, width=3)))
    fig.update_xaxes(title_text="update step")
    fig.update_yaxes(title_text="cross-entropy per token")
    fig.update_layout(legend=dict(orientation="h", y=1.12))
    return _layout(fig, title, 360)


def bleu_by_length(rows: list[dict], title: str = "BLEU by source length · 按源句长度的 BLEU") -> go.Figure:
    """rows: [{"model", "bucket", "bleu", "sentences"}] -> grouped bars, one colour per model."""
    if not rows:
        return empty_figure("nothing to show")
    fig = go.Figure()
    for model in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == model]
        fig.add_trace(go.Bar(x=[r["bucket"] for r in mine], y=[r["bleu"] for r in mine], name=esc(model),
                             customdata=[r["sentences"] for r in mine],
                             hovertemplate="%{x}: BLEU %{y:.1f} (%{customdata} sentences)<extra></extra>"))
    fig.update_layout(barmode="group", legend=dict(orientation="h", y=1.12))
    fig.update_xaxes(title_text="source length (words; Chinese: characters)")
    fig.update_yaxes(title_text="BLEU")
    return _layout(fig, title, 360)
