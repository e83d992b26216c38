"""Build the Blocks app (no launching, nothing heavy: models load on first use)."""
from __future__ import annotations

import gradio as gr

import logging

from . import exports, handlers, limits, models, session_files, share
from .errors import friendly
from .handlers import empty_table
from .i18n import I18N, t
from .tabs import exposure, lab, lesson, train, translate

CSS = """
.s2s-progress {width: 100%; height: 14px; background: #e5e7eb; border-radius: 7px; overflow: hidden;}
.s2s-bar {height: 100%; background: #2563eb; transition: width 0.4s;}
#translation textarea {font-size: 1.25em;}
#lang_switch {text-align: right;}
#lang_switch a {margin: 0 0.3em;}
/* toasts sit bottom-left, away from the output column's tables */
.toast-wrap {top: auto !important; bottom: 1rem !important; right: auto !important; left: 1rem !important;
             max-width: min(26rem, 90vw);}
/* the Plotly warm-up figure (demo/tabs/translate.py): rendered, invisible, no room taken */
#plotly_warmup {position: absolute !important; width: 1px !important; height: 1px !important; overflow: hidden;
                opacity: 0; pointer-events: none;}
/* plots wider than their panel (long sentences; phones) scroll sideways inside it */
.s2s-plot {overflow-x: auto;}
@media (max-width: 760px) {
  .s2s-plot .js-plotly-plot, .s2s-plot [data-testid=plotly] {min-width: 720px;}
}
/* projectors: larger text everywhere. Gradio scopes the rules of a @media block to `.gradio-container .contain`
   (a rule on .gradio-container itself never matches there), and the theme's sizes are px variables resolved on
   :root, so the variables are set again on the columns inside .contain: 14 px text becomes 18 px */
@media (min-width: 1800px) {
  .column {--text-xs: 13px; --text-sm: 15px; --text-md: 18px; --text-lg: 20px; --text-xl: 26px; --text-xxl: 32px;
           --body-text-size: 18px; --prose-text-size: 18px; --input-text-size: 18px; --block-label-text-size: 17px;
           --block-title-text-size: 17px; --block-info-text-size: 15px; --section-header-text-size: 18px;
           --checkbox-label-text-size: 18px; --button-large-text-size: 20px; --button-small-text-size: 16px;
           font-size: 18px;}
  .s2s-plot .js-plotly-plot {margin-top: 12px;}  /* the larger block label stays clear of the figure's title */
  /* the Translate tab's fixed numeric columns (demo/tabs/translate.py) grow with the text: a number never wraps */
  #nbest th:nth-child(1), #nbest .body-cell:nth-child(1), #samples th:nth-child(1), #samples .body-cell:nth-child(1),
  #compare_table th:nth-child(3), #compare_table .body-cell:nth-child(3) {--s2s-w: 80px;}
  #nbest th:nth-child(2), #nbest .body-cell:nth-child(2) {--s2s-w: 100px;}
  #nbest th:nth-child(3), #nbest .body-cell:nth-child(3), #samples th:nth-child(2), #samples .body-cell:nth-child(2),
  #compare_table th:nth-child(2), #compare_table .body-cell:nth-child(2) {--s2s-w: 110px;}
  #compare_table th:nth-child(1), #compare_table .body-cell:nth-child(1) {--s2s-w: 145px;}
  #nbest th:nth-child(-n+3), #nbest .body-cell:nth-child(-n+3), #samples th:nth-child(-n+2),
  #samples .body-cell:nth-child(-n+2), #compare_table th:nth-child(-n+3), #compare_table .body-cell:nth-child(-n+3) {
    width: var(--s2s-w) !important; min-width: var(--s2s-w) !important; max-width: var(--s2s-w) !important;
    flex: 0 0 var(--s2s-w) !important;}
}
"""
# the same in both languages: each language named in itself (links reload the page in that language)
LANG_SWITCH = ('<b>Language / 语言:</b> <a href="?lang=en" target="_self">English</a> · '
               '<a href="?lang=zh" target="_self">简体中文</a>')
LANG_SCRIPT = """<script>(function () {
  var key = "s2s_lang", asked = new URLSearchParams(location.search).get("lang"), lang = null;
  try { lang = localStorage.getItem(key); } catch (e) {}
  if (asked === "zh" || asked === "en") { lang = asked; try { localStorage.setItem(key, lang); } catch (e) {} }
  if (lang !== "zh" && lang !== "en") lang = /^zh/i.test(navigator.language || "") ? "zh" : "en";
  document.cookie = key + "=" + lang + "; path=/; max-age=31536000; SameSite=Lax";
  var tag = lang === "zh" ? "zh-CN" : "en";
  try {
    Object.defineProperty(Navigator.prototype, "language", {get: function () { return tag; }, configurable: true});
    Object.defineProperty(Navigator.prototype, "languages", {get: function () { return [tag]; }, configurable: true});
  } catch (e) {}
  document.documentElement.lang = tag;
})();</script>"""
# Gradio's Plot component drops its Plotly graph when a plot is cleared without Plotly.purge, and Plotly's window
# resize listener (responsive: true) keeps the detached graph alive: ~1,400 DOM nodes and ~240 listeners per
# translation. Purging each graph as it leaves the page frees it.
PLOT_PURGE_SCRIPT = """<script>(function () {
  function purge(node) {
    if (node.nodeType !== 1 || !window.Plotly) return;
    var graphs = node.classList.contains("js-plotly-plot") ? [node] : node.querySelectorAll(".js-plotly-plot");
    for (var i = 0; i < graphs.length; i++) if (!graphs[i].isConnected) window.Plotly.purge(graphs[i]);
  }
  new MutationObserver(function (changes) {
    changes.forEach(function (c) { c.removedNodes.forEach(purge); });
  }).observe(document.documentElement, {childList: true, subtree: true});
})();</script>"""
DECODE_CONCURRENCY = 4  # decoding requests served at once (one torch thread each); more than one session's cap
QUEUE_SIZE = 200  # jobs waiting in all groups together (each session and IP address has its own cap: demo/limits.py)
CACHE_SWEEP = (600, 3600)  # every 10 minutes, Gradio deletes the files it handed out more than an hour ago


@friendly
def end_session(request: gr.Request) -> None:
    """The browser tab closed (Gradio's unload event): delete the models this session trained."""
    session_files.end_session(getattr(request, "session_hash", None))


@friendly
def refresh_pickers(session_models: dict | None, model: str | None, model_a: str | None, model_b: str | None,
                    exposure_model: str | None, curve_models: list | None, base_model: str | None):
    """Re-list the shipped checkpoints plus this session's own models in every picker (values kept if valid)."""
    choices = models.model_choices(session_models)
    default = models.default_model(session_models)

    def keep(value):
        return gr.update(choices=choices, value=value if value in choices else default)

    curves = [m for m in (curve_models or []) if m in choices]
    return (keep(model), keep(model_a), keep(model_b), keep(exposure_model), gr.update(choices=choices, value=curves),
            keep(base_model))


def open_link(model: str | None, strategy: str | None, request: gr.Request):
    """A share link (demo/share.py): select its tab and set the Translate tab's controls it names; the events
    chained after this one translate (and force the what-if word) when the link carries a sentence.
    -> tab, the link's key (handlers.inputs_key; None without a sentence), one update per translate.SHARED control.
    `model`, `strategy`: the pickers' values, which the link may leave as they are."""
    params = {k: v for k, v in dict(getattr(request, "query_params", None) or {}).items() if k != "lang"}
    state, ignored = share.from_query(params, models.model_choices())
    if ignored:
        logging.getLogger(__name__).info("share link: ignored %s", ignored)
    named = {share.BY_KEY[k] for k in params if k in share.BY_KEY and k not in ignored}
    tab = gr.Tabs(selected=state["tab"]) if "tab" in named else gr.skip()
    key = None
    if "text" in named:
        key = handlers.inputs_key(state["text"], state["model"] if "model" in named else model,
                                state["strategy"] if "strategy" in named else strategy)
    return [tab, key] + [gr.update(value=state[name]) if name in named else gr.skip() for name in translate.SHARED]


@friendly
def linked_translation(linked: list | None, *inputs):
    """After `open_link`: translate the link's sentence with the link's settings. Nothing when the link carries no
    sentence: a visitor who typed while the page loaded has not asked for a translation yet."""
    if not linked:
        return [gr.skip()] * 7
    return translate._retranslate(*inputs)


@friendly
def linked_whatif(linked: list | None, text, model, step, token, memory, session_models, word):
    """After a shared link's translation: force its word at its step (nothing when the link has no sentence or no
    word)."""
    if not linked or not word or not step or not memory:
        return [gr.skip()] * 3
    return handlers.whatif(text, model, step, None, memory, session_models, word)


def build_demo() -> gr.Blocks:
    with gr.Blocks(title="Seq2Seq Playground", delete_cache=CACHE_SWEEP) as demo:
        # {name: checkpoint path} of the models trained in this browser session; files go when the session does
        # (end_session below; Gradio's own delete_callback only runs an hour after the session closed)
        session_models = gr.State({}, delete_callback=models.delete_session_models)
        with gr.Row():
            gr.Markdown(t("title"))
            gr.HTML(LANG_SWITCH, elem_id="lang_switch")
        with gr.Tabs() as tabs:
            with gr.Tab(t("tab_translate"), id="translate"):
                tr = translate.build(session_models)
            with gr.Tab(t("tab_exposure"), id="exposure"):
                ex = exposure.build(session_models)
            with gr.Tab(t("tab_train"), id="train"):
                tn = train.build(session_models)
            with gr.Tab(t("tab_lesson"), id="lesson"):
                lesson.build(session_models)
            with gr.Tab(t("tab_lab"), id="lab"):
                lab.build(session_models)
            with gr.Tab(t("tab_about"), id="about"):
                gr.Markdown(t("about"))
        pickers = [tr.model, tr.model_a, tr.model_b, ex.model, ex.curve_models, tn.base_model]
        session_models.change(refresh_pickers, [session_models, *pickers], pickers, api_name="refresh_session_models",
                              queue=False)
        controls = [tr.controls[name] for name in translate.SHARED]
        linked = tr.linked
        demo.load(refresh_pickers, [session_models, *pickers], pickers, api_name="refresh_models", queue=False).then(
            friendly(open_link), [tr.model, tr.controls["strategy"]], [tabs, linked, *controls], api_name="open_link",
            queue=False).then(
            linked_translation, [linked, *tr.inputs], tr.outputs, api_name="open_link_translate",
            concurrency_id=translate.DECODE).then(
            linked_whatif, [linked, *tr.whatif_inputs], tr.whatif_outputs, api_name="open_link_whatif",
            concurrency_id=translate.DECODE)
        tables = tr.tables + ex.tables
        components = [table for table, _ in tables]
        empty_values = gr.JSON(visible=False)  # the tables' empty values in the page's language

        def localize():
            frames = [empty_table(*keys) for _, keys in tables]
            return [handlers.empty_payloads(components, frames), exposure.example_headers()]

        handlers.fill_empty_tables(demo.load(friendly(localize), None, [empty_values, ex.examples],
                                             api_name="localize", queue=False), components, empty_values)
        demo.unload(end_session)
    demo.queue(default_concurrency_limit=DECODE_CONCURRENCY, max_size=QUEUE_SIZE)
    limits.install(demo)
    return demo


class LanguageScript:
    """ASGI middleware: put LANG_SCRIPT at the top of the page's <head>, before Gradio's own scripts (and the
    download buttons' script, demo/exports.py).

    Gradio picks the UI language from `navigator.language` once, when it starts; the script makes that the
    visitor's choice (`?lang=zh|en`, remembered in localStorage, else the browser's language) and sets the
    s2s_lang cookie from which the server writes its own text (demo/errors.py: language)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "GET" or scope.get("path") not in ("/", ""):
            return await self.app(scope, receive, send)
        start, body = None, []

        async def capture(message):
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            body.append(message.get("body", b""))
            if message.get("more_body"):
                return
            await send_page(start, b"".join(body), send)

        await self.app(scope, receive, capture)


async def send_page(start: dict, body: bytes, send) -> None:
    headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
    kinds = dict((k.lower(), v) for k, v in start["headers"])
    if b"text/html" in kinds.get(b"content-type", b"") and not kinds.get(b"content-encoding"):
        body = body.replace(b"<head>", b"<head>" + (LANG_SCRIPT + PLOT_PURGE_SCRIPT + exports.script()).encode(), 1)
    await send({**start, "headers": headers + [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def launch_kwargs() -> dict:
    """Arguments of `launch()` that belong to the app itself (language tables and choice, styling, upload cap)."""
    from starlette.middleware import Middleware

    return {"i18n": I18N, "css": CSS + exports.CSS, "max_file_size": "5mb", "theme": gr.themes.Soft(),
            "ssr_mode": False,
            "footer_links": ["api", "gradio"],  # no Settings: the language is chosen with the links at the top
            # no run history: Gradio would keep every run's inputs and figures in the visitor's localStorage (a
            # shared classroom computer would show the last class's sentences) and re-write all of them at each
            # message, which made a page slower with every translation (issue 10 §11)
            "run_history": False,
            "app_kwargs": {"middleware": [Middleware(LanguageScript)]}}
