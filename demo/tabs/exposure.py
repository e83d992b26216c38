"""Exposure-bias tab: one pair teacher-forced vs free-running, and curves by position over many pairs."""
from __future__ import annotations

from dataclasses import dataclass

import gradio as gr
import pandas as pd

from .. import handlers, models
from ..i18n import t
from ..errors import friendly
from .translate import DECODE, HEAVY


@dataclass
class ExposureTab:
    model: gr.Dropdown
    curve_models: gr.CheckboxGroup


def build(session_models: gr.State) -> ExposureTab:
    choices, default = models.model_choices(), models.default_model()
    gr.Markdown(t("exposure_intro"))
    with gr.Row():
        model = gr.Dropdown(choices, value=default, label=t("model"), elem_id="exposure_model", scale=1)
        source = gr.Textbox(label=t("exposure_source"), elem_id="exposure_source", scale=2)
        reference = gr.Textbox(label=t("exposure_reference"), elem_id="exposure_reference", scale=2)
    german = any(models.language_pair(m) == "de-en" for m in choices)  # German examples only with a German model
    examples = gr.Examples(handlers.example_pairs("zh-en") + (handlers.example_pairs("de-en", 2) if german else []),
                           inputs=[source, reference], label=t("examples"))
    examples.dataset.headers = ["source · 源句", "reference · 参考译文"]  # i18n labels do not reach these headers
    go = gr.Button(t("exposure_go"), variant="primary", elem_id="exposure_go")
    summary = gr.Markdown(elem_id="exposure_summary")
    plot = gr.Plot(label=t("exposure_plot"), elem_id="exposure_plot")
    table = gr.Dataframe(pd.DataFrame(columns=["step", "gold token", "p(gold) teacher-forced", "p(gold) free-running"]),
                         label=t("exposure_table"), interactive=False, elem_id="exposure_table", wrap=True)
    gr.Markdown(t("curves_intro"))
    with gr.Row():
        curve_models = gr.CheckboxGroup(choices, value=handlers.default_curve_models(choices),
                                        label=t("curve_models"), elem_id="curve_models", scale=3)
        metric = gr.Radio([("token accuracy", "accuracy"), ("log p(gold)", "logprob")], value="accuracy",
                          label=t("curve_metric"), scale=1)
    curves_go = gr.Button(t("curves_go"), elem_id="curves_go")
    curves = gr.Plot(label=t("curves_plot"), elem_id="curves_plot")

    go.click(friendly(handlers.exposure_compare), [source, reference, model, session_models], [summary, table, plot],
             api_name="exposure", concurrency_id=DECODE)
    curves_go.click(friendly(handlers.exposure_curves), [curve_models, metric, session_models], curves,
                    api_name="exposure_curves", concurrency_id=HEAVY, concurrency_limit=1)
    return ExposureTab(model, curve_models)
