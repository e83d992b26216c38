"""Build the Blocks app (no launching, nothing heavy: models load on first use)."""
from __future__ import annotations

import gradio as gr

from . import limits, models, session_files
from .errors import friendly
from .i18n import I18N, t
from .tabs import exposure, train, translate

CSS = """
.s2s-progress {width: 100%; height: 14px; background: #e5e7eb; border-radius: 7px; overflow: hidden;}
.s2s-bar {height: 100%; background: #2563eb; transition: width 0.4s;}
#translation textarea {font-size: 1.25em;}
"""
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


def build_demo() -> gr.Blocks:
    with gr.Blocks(title="Seq2Seq Playground", delete_cache=CACHE_SWEEP) as demo:
        # {name: checkpoint path} of the models trained in this browser session; files go when the session does
        # (end_session below; Gradio's own delete_callback only runs an hour after the session closed)
        session_models = gr.State({}, delete_callback=models.delete_session_models)
        gr.Markdown(t("title"))
        with gr.Tabs():
            with gr.Tab(t("tab_translate"), id="translate"):
                tr = translate.build(session_models)
            with gr.Tab(t("tab_exposure"), id="exposure"):
                ex = exposure.build(session_models)
            with gr.Tab(t("tab_train"), id="train"):
                tn = train.build(session_models)
            with gr.Tab(t("tab_about"), id="about"):
                gr.Markdown(t("about"))
        pickers = [tr.model, tr.model_a, tr.model_b, ex.model, ex.curve_models, tn.base_model]
        session_models.change(refresh_pickers, [session_models, *pickers], pickers, api_name="refresh_session_models",
                              queue=False)
        demo.load(refresh_pickers, [session_models, *pickers], pickers, api_name="refresh_models", queue=False)
        demo.unload(end_session)
    demo.queue(default_concurrency_limit=DECODE_CONCURRENCY, max_size=QUEUE_SIZE)
    limits.install(demo)
    return demo


def launch_kwargs() -> dict:
    """Arguments of `launch()` that belong to the app itself (language tables, styling, upload cap)."""
    return {"i18n": I18N, "css": CSS, "max_file_size": "5mb", "theme": gr.themes.Soft()}
