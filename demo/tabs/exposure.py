"""Exposure-bias tab: one pair teacher-forced vs free-running, and curves by position over many pairs."""
from __future__ import annotations

from dataclasses import dataclass, field

import gradio as gr

from .. import exports, handlers, models
from ..errors import friendly, message
from ..i18n import t
from .translate import DECODE, HEAVY


@dataclass
class ExposureTab:
    model: gr.Dropdown
    curve_models: gr.CheckboxGroup
    tables: list = field(default_factory=list)  # result tables whose headers are written in the page's language
    examples: gr.Dataset | None = None


def example_headers():
    """The examples table's headers in the page's language (gr.Examples headers are not translated by Gradio)."""
    return gr.update(headers=[message("examples_source"), message("examples_reference")])


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
    go = gr.Button(t("exposure_go"), variant="primary", elem_id="exposure_go")
    summary = gr.Markdown(elem_id="exposure_summary")
    plot = gr.Plot(label=t("exposure_plot"), elem_id="exposure_plot", elem_classes="s2s-plot")
    exports.plot_exports(plot, "exposure-steps")
    table = gr.Dataframe(handlers.empty_table(*handlers.EXPOSURE_COLUMNS), label=t("exposure_table"),
                         interactive=False, elem_id="exposure_table", wrap=True)
    exports.table_csv(table, "exposure-steps-table")
    gr.Markdown(t("curves_intro"))
    with gr.Row():
        curve_models = gr.CheckboxGroup(choices, value=handlers.default_curve_models(choices),
                                        label=t("curve_models"), elem_id="curve_models", scale=3)
        metric = gr.Radio([(t("metric_logprob"), "logprob"), (t("metric_accuracy"), "accuracy")],
                          value=handlers.default_metric(handlers.default_curve_models(choices)),
                          label=t("curve_metric"), elem_id="curve_metric", scale=1)
    curves_go = gr.Button(t("curves_go"), elem_id="curves_go")
    curves = gr.Plot(label=t("curves_plot"), elem_id="curves_plot", elem_classes="s2s-plot")
    exports.plot_exports(curves, "exposure-curves")
    curves_text = gr.Markdown(elem_id="curves_explain")

    go.click(friendly(handlers.exposure_compare), [source, reference, model, session_models], [summary, table, plot],
             api_name="exposure", concurrency_id=DECODE)
    for trigger in (source.change, reference.change, model.change):  # no result of another pair or model stays
        trigger(friendly(_cleared), None, [summary, table, plot], queue=False, show_progress="hidden")
    curves_go.click(friendly(handlers.exposure_curves), [curve_models, metric, session_models], [curves, curves_text],
                    api_name="exposure_curves", concurrency_id=HEAVY, concurrency_limit=1)
    metric.change(friendly(handlers.exposure_curves), [curve_models, metric, session_models], [curves, curves_text],
                  api_name="exposure_curves_metric", concurrency_id=HEAVY, concurrency_limit=1)
    return ExposureTab(model, curve_models, [(table, handlers.EXPOSURE_COLUMNS)], examples.dataset)


def _cleared():
    return "", handlers.empty_table(*handlers.EXPOSURE_COLUMNS), None
