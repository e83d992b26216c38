"""Lesson tab: the cards of demo/lesson.py one at a time, with back / next / jump, a question answered before the
live result is revealed, a link per card (?card=N&lang=zh) and a printable handout.

Where the learner is, the lesson's language and the answers given live in one gr.State per browser session: the
server keeps nothing per student (a class of 30 on one Space shares only the models and the cached results)."""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from .. import exports, lesson
from ..errors import friendly, language
from ..i18n import EN, ZH
from ..lesson_cards import tr
from ..lesson_handout import build_html
from .translate import DECODE, HEAVY

LANG_CHOICES = [("English", "en"), ("中文", "zh")]


VIEWS = 17  # the components `render` fills (LessonTab.views)


def new_state(card: int = 0, lang: str = "en") -> dict:
    return {"card": card, "lang": lang, "answers": {}}


@dataclass
class LessonTab:
    state: gr.State
    views: list  # the components `render` fills, in its order


def _hidden():
    return gr.update(value=None, visible=False)


def _setup(card: lesson.Card, lang: str):
    """The card's pre-set view; a missing model shows its message instead of failing the whole card."""
    try:
        return card.setup(lang)
    except gr.Error as err:
        return lesson.lc.Setup(str(err.message))


def render(state: dict) -> list:
    """Every view of the current card, before its answer is revealed."""
    i, lang = state["card"], state["lang"]
    card = lesson.CARDS[i]
    setup = _setup(card, lang)
    total = len(lesson.CARDS)
    jump = [(lesson.title(c, lang), n) for n, c in enumerate(lesson.CARDS)]
    return [
        gr.update(value=lang, label=tr(lang, "lesson_lang")),
        tr(lang, "lesson_intro"),
        gr.update(value=tr(lang, "lesson_back"), interactive=i > 0),
        gr.update(choices=jump, value=i, label=tr(lang, "lesson_jump")),
        gr.update(value=tr(lang, "lesson_next"), interactive=i < total - 1),
        tr(lang, "lesson_progress", n=i + 1, total=total),
        f"## {lesson.title(card, lang)}\n\n{lesson.idea(card, lang)}",
        setup.text,
        gr.update(value=setup.figure, visible=setup.figure is not None, label=tr(lang, "lesson_setup_plot")),
        gr.update(choices=lesson.choices(card, lang), value=state["answers"].get(str(i)),
                  label=f"{tr(lang, 'lesson_prediction')}: {lesson.question(card, lang)}"),
        gr.update(value=tr(lang, "lesson_reveal")),
        "",
        _hidden(), _hidden(), _hidden(),
        tr(lang, "lesson_link", url=lesson.link(i, lang)),
        gr.update(value=tr(lang, "lesson_handout")),
    ]


def go(state: dict, step: int):
    state = {**state, "card": max(0, min(len(lesson.CARDS) - 1, state["card"] + step))}
    return [state, *render(state)]


def jump(state: dict, index):
    if index is None or int(index) == state["card"]:
        return [state] + [gr.skip()] * VIEWS
    return [{**state, "card": int(index)}, *render({**state, "card": int(index)})]


def set_lang(state: dict, lang: str):
    if lang == state["lang"]:
        return [state] + [gr.skip()] * VIEWS
    state = {**state, "lang": lesson.lang_of(lang)}
    return [state, *render(state)]


def reveal(state: dict, guess: str | None):
    """Compute the card's live result and judge the guess (no guess: ask for one first, reveal nothing)."""
    i, lang = state["card"], state["lang"]
    card = lesson.CARDS[i]
    if guess not in card.choices:
        return [state, tr(lang, "lesson_pick_first"), _hidden(), _hidden(), _hidden()]
    outcome = card.reveal(lang)
    state = {**state, "answers": {**state["answers"], str(i): guess}}
    try_it = tr(lang, "lesson_try", tab=_tab_name(card.tab, lang))
    figure2 = gr.update(value=outcome.figure2, visible=outcome.figure2 is not None,
                        label=tr(lang, "lesson_reveal_plot2"))
    table = gr.update(value=outcome.table, visible=outcome.table is not None, label=tr(lang, "lesson_reveal_table"))
    return [state, lesson.verdict(card, outcome, guess, lang) + "\n\n" + try_it,
            gr.update(value=outcome.figure, visible=outcome.figure is not None, label=tr(lang, "lesson_reveal_plot")),
            figure2, table]


def _tab_name(key: str, lang: str) -> str:
    return (ZH if lang == "zh" else EN).get(key, EN[key])


def open_from_link(current: dict | None, request: gr.Request):
    """?card=N opens card N (and this tab); ?lang=zh|en picks the language, else the page's language.

    The page-load event can answer after the learner has already moved (Next, a jump, a language): then their
    state is no longer the fresh one and nothing changes (the state is read when the event runs, not when the page
    sent it)."""
    if current is not None and current != new_state():
        return [gr.skip()] * (2 + VIEWS)
    params = dict(getattr(request, "query_params", None) or {})
    headers = dict(getattr(request, "headers", None) or {})
    lang = lesson.lang_of(params["lang"]) if params.get("lang") else language(headers)
    state = new_state(lesson.card_index(params.get("card")), lang)
    tab = gr.Tabs(selected="lesson") if params.get("card") else gr.skip()
    return [state, tab, *render(state)]


def handout(state: dict) -> str:
    """Write the handout (all cards, computed live) in the lesson's language; the file to download."""
    lang = state["lang"]
    folder = Path(tempfile.mkdtemp(prefix="s2s-handout-"))
    path = folder / f"seq2seq-lesson-handout-{lang}.html"
    path.write_text(build_html(lang), encoding="utf-8")
    return gr.update(value=str(path), visible=True, label=tr(lang, "lesson_handout_file"))


def _enclosing_tabs():
    """The gr.Tabs this tab sits in (to open it from a link), or None."""
    block = gr.context.get_render_context()
    while block is not None and not isinstance(block, gr.Tabs):
        block = getattr(block, "parent", None)
    return block


def build(session_models: gr.State | None = None) -> LessonTab:
    """Lay the tab out (called inside `with gr.Tab(...)`); `session_models` is unused: the lesson runs on the
    shipped models only."""
    state = gr.State(new_state())
    intro = gr.Markdown(tr("en", "lesson_intro"))
    lang = gr.Radio(LANG_CHOICES, value="en", label=tr("en", "lesson_lang"), elem_id="lesson_lang")
    with gr.Row():
        back = gr.Button(tr("en", "lesson_back"), elem_id="lesson_back", scale=0, min_width=100)
        jump_to = gr.Dropdown([], label=tr("en", "lesson_jump"), elem_id="lesson_jump", scale=2, min_width=160)
        forward = gr.Button(tr("en", "lesson_next"), variant="primary", elem_id="lesson_next", scale=0,
                            min_width=100)
    progress = gr.Markdown(elem_id="lesson_progress")
    heading = gr.Markdown(elem_id="lesson_card")
    setup_md = gr.Markdown(elem_id="lesson_setup")
    setup_plot = gr.Plot(visible=False, elem_id="lesson_setup_plot", elem_classes=["s2s-plot"])
    exports.plot_exports(setup_plot, "lesson-setup", only_when_drawn=True)
    guess = gr.Radio([], label=tr("en", "lesson_prediction"), elem_id="lesson_question")
    reveal_btn = gr.Button(tr("en", "lesson_reveal"), variant="primary", elem_id="lesson_reveal")
    verdict = gr.Markdown(elem_id="lesson_verdict")
    plot = gr.Plot(visible=False, elem_id="lesson_plot", elem_classes=["s2s-plot"])
    exports.plot_exports(plot, "lesson-figure", only_when_drawn=True)
    plot2 = gr.Plot(visible=False, elem_id="lesson_plot2", elem_classes=["s2s-plot"])
    exports.plot_exports(plot2, "lesson-figure-2", only_when_drawn=True)
    table = gr.Dataframe(visible=False, interactive=False, wrap=True, elem_id="lesson_table")
    exports.table_csv(table, "lesson-table", only_when_drawn=True)
    link = gr.Markdown(elem_id="lesson_link")
    with gr.Row():
        handout_btn = gr.Button(tr("en", "lesson_handout"), elem_id="lesson_handout", scale=0, min_width=240)
        handout_file = gr.File(visible=False, elem_id="lesson_handout_file")
    views = [lang, intro, back, jump_to, forward, progress, heading, setup_md, setup_plot, guess, reveal_btn, verdict,
             plot, plot2, table, link, handout_btn]
    assert len(views) == VIEWS

    back.click(friendly(lambda s: go(s, -1)), state, [state, *views], api_name="lesson_back", concurrency_id=DECODE)
    forward.click(friendly(lambda s: go(s, 1)), state, [state, *views], api_name="lesson_next", concurrency_id=DECODE)
    jump_to.input(friendly(jump), [state, jump_to], [state, *views], api_name="lesson_jump", concurrency_id=DECODE)
    lang.input(friendly(set_lang), [state, lang], [state, *views], api_name="lesson_lang", concurrency_id=DECODE)
    reveal_btn.click(friendly(reveal), [state, guess], [state, verdict, plot, plot2, table], api_name="lesson_reveal",
                     concurrency_id=DECODE)
    handout_btn.click(friendly(handout), state, handout_file, api_name="lesson_handout", concurrency_id=HEAVY,
                      concurrency_limit=1)
    tabs = _enclosing_tabs()
    root = gr.context.Context.root_block
    if root is not None:
        outputs = [state] + ([tabs] if tabs is not None else []) + views
        root.load(friendly(open_from_link if tabs is not None else _without_tab(open_from_link)), state, outputs,
                  api_name="lesson_open", concurrency_id=DECODE)
    return LessonTab(state, views)


def _without_tab(fn):
    """`fn` without its second output (the tab selection), for a lesson laid out outside gr.Tabs."""
    def wrapper(current: dict | None, request: gr.Request):
        out = fn(current, request)
        return [out[0], *out[2:]]
    return wrapper
