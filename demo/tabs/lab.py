"""Decoding lab tab: layout and wiring. The functions it calls live in demo/lab.py.

The tab keeps its own model picker up to date with the session's trained models (its own listeners on the
session's gr.State and on page load), so demo/app.py only mounts it."""
from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from .. import exports, handlers, lab, models
from ..errors import friendly
from ..i18n import t
from .translate import DECODE, HEAVY, LONG_EXAMPLE

EXAMPLES = [LONG_EXAMPLE, "我们明天早上去公园散步吧。", "我想喝一杯热茶。"]
TABLE_LABELS = {"plain": "lab_table_plain", "diverse": "lab_table_diverse", "ngram": "lab_table_ngram",
                "repetition": "lab_table_repetition", "minp": "lab_table_minp"}


@dataclass
class LabTab:
    model: gr.Dropdown
    source: gr.Textbox
    curse_plot: gr.Plot
    tables: list


def _examples(choices: list[str]) -> list[str]:
    german = handlers.translate_examples("de-en")[:1] if any(models.language_pair(m) == "de-en" for m in choices) \
        else []
    return EXAMPLES + german


@friendly
def show_curse(model: str, session_models: dict | None, progress=gr.Progress()):
    """-> chart, explanation, table (a live measurement reports its progress on the chart)."""
    return lab.beam_curse(model, session_models, progress)


@friendly
def compare(text, model, k, groups, penalty, ngram, repetition, min_p, temperature, seed, session_models):
    return lab.diversity(text, model, k, groups, penalty, ngram, repetition, min_p, temperature, seed,
                         session_models)


@friendly
def refresh_model(session_models: dict | None, model: str | None):
    choices = models.model_choices(session_models)
    return gr.update(choices=choices, value=model if model in choices else models.default_model(session_models))


@friendly
def open_lab(session_models: dict | None, model: str | None, tables: list | None = None, progress=gr.Progress()):
    """Page load: the picker's models, the curse chart of the picked model, and the result tables' empty values in
    the page's language (for the browser to put into the tables that are still empty: handlers.fill_empty_tables).
    `tables`: the gr.Dataframe components (bound when the event is built)."""
    picker = refresh_model(session_models, model)
    chosen = picker["value"]
    curse = lab.beam_curse(chosen, session_models, progress) if chosen else (None, "", None)
    empty = lab.empty_tables()
    return [picker, *curse, handlers.empty_payloads(tables, empty) if tables else empty]


def _diversity_controls():
    with gr.Row():
        k = gr.Slider(2, 10, value=6, step=1, label=t("lab_beam_size"), elem_id="lab_k")
        seed = gr.Number(0, label=t("lab_seed"), precision=0, minimum=0, elem_id="lab_seed")
    with gr.Row():
        groups = gr.Slider(1, 10, value=3, step=1, label=t("lab_groups"), info=t("lab_groups_info"),
                           elem_id="lab_groups")
        penalty = gr.Slider(0.0, 5.0, value=2.0, step=0.1, label=t("lab_diversity_penalty"),
                            info=t("lab_diversity_penalty_info"), elem_id="lab_penalty")
    with gr.Row():
        ngram = gr.Slider(0, 4, value=2, step=1, label=t("lab_ngram"), info=t("lab_ngram_info"), elem_id="lab_ngram")
        repetition = gr.Slider(1.0, 3.0, value=1.5, step=0.1, label=t("lab_repetition"),
                               info=t("lab_repetition_info"), elem_id="lab_repetition")
    with gr.Row():
        min_p = gr.Slider(0.0, 0.5, value=0.1, step=0.01, label=t("lab_min_p"), info=t("lab_min_p_info"),
                          elem_id="lab_min_p")
        temperature = gr.Slider(0.5, 2.5, value=1.5, step=0.1, label=t("lab_temperature"),
                                info=t("lab_temperature_info"), elem_id="lab_temperature")
    return [k, groups, penalty, ngram, repetition, min_p, temperature, seed]


# fixed widths: the numbers never wrap, and a phone scrolls the table sideways with the translation in view
WIDTHS = {"diverse": ["40px", "50px", "230px", "80px", "90px"], "minp": ["40px", "270px", "90px"]}
BEAM_WIDTHS = ["40px", "270px", "80px", "90px"]  # rank, translation, score, log-prob


def _table(key: str) -> gr.Dataframe:
    return gr.Dataframe(label=t(TABLE_LABELS[key]), interactive=False, wrap=True, elem_id=f"lab_table_{key}",
                        column_widths=WIDTHS.get(key, BEAM_WIDTHS))


def _result_tables() -> list[gr.Dataframe]:
    """The five n-best tables, two to a row, each with its CSV button."""
    tables = {}
    for keys in (("plain", "diverse"), ("ngram", "repetition"), ("minp",)):
        with gr.Row():
            for key in keys:
                with gr.Column(min_width=160):
                    tables[key] = _table(key)
                    exports.table_csv(tables[key], f"lab-{key}")
    return [tables[key] for key in TABLE_LABELS]


def build(session_models: gr.State) -> LabTab:
    choices, default = models.model_choices(), models.default_model()
    gr.Markdown(t("lab_intro"))
    model = gr.Dropdown(choices, value=default, label=t("lab_model"), elem_id="lab_model")
    gr.Markdown(t("lab_curse_intro"))
    curse_plot = gr.Plot(label=t("lab_curse_plot"), elem_id="lab_curse_plot", elem_classes=["s2s-plot"])
    exports.plot_exports(curse_plot, "beam-curse")
    curse_note = gr.Markdown(elem_id="lab_curse_note")
    with gr.Accordion(t("lab_curse_table"), open=False):
        curse_table = gr.Dataframe(interactive=False, elem_id="lab_curse_table")
        exports.table_csv(curse_table, "beam-curse-table")
    gr.Markdown(t("lab_div_intro"))
    source = gr.Textbox(LONG_EXAMPLE, label=t("lab_source"), lines=2, elem_id="lab_source")
    gr.Examples([[e] for e in _examples(choices)], inputs=[source], label=t("examples"))
    controls = _diversity_controls()
    go = gr.Button(t("lab_compare"), variant="primary", elem_id="lab_compare")
    summary = gr.Markdown(elem_id="lab_summary")
    tables = _result_tables()
    tree = gr.Plot(label=t("lab_tree"), elem_id="lab_tree", elem_classes=["s2s-plot"])
    exports.plot_exports(tree, "lab-beam-tree")

    curse_out = [curse_plot, curse_note, curse_table]
    model.input(show_curse, [model, session_models], curse_out, api_name="lab_beam_curse", concurrency_id=HEAVY)
    go.click(compare, [source, model, *controls, session_models], [summary, *tables, tree], api_name="lab_diversity",
             concurrency_id=DECODE)
    session_models.change(refresh_model, [session_models, model], model, api_name="lab_refresh_models",
                          queue=False)
    root = gr.context.Context.root_block
    if root is not None:
        empty_values = gr.JSON(visible=False)
        @friendly
        def open_lab_here(session_models: dict | None, model: str | None, progress=gr.Progress()):
            return open_lab(session_models, model, tables, progress)

        opened = root.load(open_lab_here, [session_models, model],
                           [model, *curse_out, empty_values], api_name="lab_open", concurrency_id=HEAVY)
        handlers.fill_empty_tables(opened, tables, empty_values)
    return LabTab(model, source, curse_plot, tables)
