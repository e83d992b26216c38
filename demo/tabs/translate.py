"""Translate tab: layout and wiring. The functions it calls live in demo/handlers.py."""
from __future__ import annotations

from dataclasses import dataclass

import gradio as gr
import pandas as pd

from .. import handlers, models
from ..errors import friendly
from ..i18n import t

EXAMPLES = ["我爱你。", "我们明天早上去公园散步吧。", "他昨天晚上在图书馆看书看到很晚，因为下个星期有一个很重要的考试。",
            "你叫什么名字？"]
GERMAN_EXAMPLE = "Ein Mann fährt Fahrrad auf der Straße."  # shown when a de-en model is shipped
LONG_EXAMPLE = "汤姆说他明天早上要和他的朋友们一起去城里最大的那家书店买几本关于历史和音乐的书。"
DECODE = "decode"  # concurrency group of every interactive decoding event (see demo/app.py)
HEAVY = "heavy"  # concurrency group of the slow held-out evaluations (BLEU by length, exposure curves)


@dataclass
class TranslateTab:
    model: gr.Dropdown
    model_a: gr.Dropdown
    model_b: gr.Dropdown
    source: gr.Textbox


def _strategy_visibility(strategy: str):
    return gr.update(visible=strategy == "beam"), gr.update(visible=strategy == "sample")


@friendly
def _retranslate(text: str, *rest):
    """Sliding K re-runs the search, so the learner watches the result and scores change."""
    if not (text or "").strip():
        return [gr.skip()] * 7
    return handlers.translate(text, *rest)


def _step_range(memory: dict | None):
    n = len(memory["tokens"]) if memory and memory.get("tokens") else 1
    return gr.update(minimum=1, maximum=max(1, n), value=min(2, n), step=1)


def build(session_models: gr.State) -> TranslateTab:
    choices, default = models.model_choices(), models.default_model()
    gr.Markdown(t("step_help"))
    with gr.Row():
        with gr.Column(scale=2):
            model = gr.Dropdown(choices, value=default, label=t("model"), elem_id="model")
            source = gr.Textbox(label=t("source"), placeholder=t("source_placeholder"), lines=2, elem_id="source")
            german = [GERMAN_EXAMPLE] if any(models.language_pair(m) == "de-en" for m in choices) else []
            gr.Examples([[e] for e in EXAMPLES + german], inputs=[source], label=t("examples"))
            strategy = gr.Radio([("greedy", "greedy"), ("beam", "beam"), ("sampling", "sample")], value="greedy",
                                label=t("strategy"), info=t("strategy_info"), elem_id="strategy")
            with gr.Group(visible=False) as beam_box:
                beam_size = gr.Slider(1, 10, value=5, step=1, label=t("beam_size"), elem_id="beam_size")
                length_penalty = gr.Slider(0.0, 2.0, value=1.0, step=0.1, label=t("length_penalty"))
                n_best = gr.Slider(1, 10, value=5, step=1, label=t("n_best"), elem_id="n_best")
            with gr.Group(visible=False) as sample_box:
                temperature = gr.Slider(0.1, 2.0, value=1.0, step=0.1, label=t("temperature"), elem_id="temperature")
                top_k = gr.Slider(0, 50, value=0, step=1, label=t("top_k"))
                top_p = gr.Slider(0.05, 1.0, value=1.0, step=0.05, label=t("top_p"))
                seed = gr.Number(value=0, precision=0, minimum=0, maximum=handlers.MAX_SEED, label=t("seed"),
                                 elem_id="seed")
                n_samples = gr.Slider(1, 50, value=20, step=1, label=t("n_samples"), elem_id="n_samples")
                draw = gr.Button(t("draw"), elem_id="draw")
            go = gr.Button(t("translate"), variant="primary", elem_id="translate")
        with gr.Column(scale=3):
            translation = gr.Textbox(label=t("translation"), interactive=False, elem_id="translation")
            notice = gr.Markdown(elem_id="notice")
            nbest = gr.Dataframe(_empty("rank", "translation", "score", "log-prob", "pieces"),
                                 label=t("nbest_table"), interactive=False, elem_id="nbest", wrap=True)
            samples_md = gr.Markdown(elem_id="samples_summary")
            samples = gr.Dataframe(_empty("translation", "count", "log-prob"), label=t("samples_table"),
                                   interactive=False, elem_id="samples", wrap=True)
    step_plot = gr.Plot(label=t("step_plot"), elem_id="step_plot")
    tree_plot = gr.Plot(label=t("tree_plot"), elem_id="tree_plot")
    attention_plot = gr.Plot(label=t("attention_plot"), elem_id="attention_plot")
    memory = gr.State(None)
    with gr.Accordion(t("whatif"), open=True):
        gr.Markdown(t("whatif_help"))
        with gr.Row():
            step = gr.Slider(1, 20, value=1, step=1, label=t("whatif_step"), elem_id="whatif_step")
            token = gr.Dropdown([], label=t("whatif_token"), elem_id="whatif_token")
            force = gr.Button(t("whatif_go"), elem_id="whatif_go")
        whatif_text = gr.Textbox(label=t("whatif_result"), interactive=False, elem_id="whatif_text")
        whatif_notice = gr.Markdown(elem_id="whatif_notice")
        whatif_plot = gr.Plot(label=t("step_plot"), elem_id="whatif_plot")
    with gr.Accordion(t("compare"), open=True):
        gr.Markdown(t("compare_help"))
        compare_go = gr.Button(t("compare_strategies"), elem_id="compare_strategies")
        compare_table = gr.Dataframe(_empty("strategy", "translation", "log-prob", "pieces"), interactive=False,
                                     elem_id="compare_table", wrap=True)
        gr.Markdown(t("compare_models_help"))
        with gr.Row():
            model_a = gr.Dropdown(choices, value=_pick(choices, "zh-en-classic", 0), label=t("model_a"),
                                  elem_id="model_a")
            model_b = gr.Dropdown(choices, value=_pick(choices, "zh-en-attention", 1), label=t("model_b"),
                                  elem_id="model_b")
        gr.Examples([[LONG_EXAMPLE]], inputs=[source], label=t("examples"))
        compare_models_go = gr.Button(t("compare_models"), elem_id="compare_models")
        with gr.Row():
            text_a = gr.Textbox(label=t("translation_a"), interactive=False, elem_id="text_a")
            text_b = gr.Textbox(label=t("translation_b"), interactive=False, elem_id="text_b")
        compare_notice = gr.Markdown()
        compare_attention = gr.Plot(label=t("attention_plot"), elem_id="compare_attention")
        bleu_go = gr.Button(t("bleu_length"), elem_id="bleu_length")
        bleu_plot = gr.Plot(label=t("bleu_length"), elem_id="bleu_plot")

    strategy.change(friendly(_strategy_visibility), strategy, [beam_box, sample_box], api_name="strategy_options",
                    queue=False)
    inputs = [source, model, strategy, beam_size, temperature, n_best, length_penalty, top_k, top_p, seed,
              session_models]
    outputs = [translation, notice, nbest, step_plot, attention_plot, tree_plot, memory]
    for trigger, name in ((go.click, "translate"), (source.submit, "translate_submit")):
        event = trigger(friendly(handlers.translate), inputs, outputs, api_name=name, concurrency_id=DECODE)
        event.then(friendly(_step_range), memory, step, api_name=f"{name}_whatif_steps", queue=False).then(
            friendly(handlers.whatif_tokens), [memory, step], token, api_name=f"{name}_whatif_tokens", queue=False)
    beam_size.release(_retranslate, inputs, outputs, api_name="translate_on_k", concurrency_id=DECODE)
    step.release(friendly(handlers.whatif_tokens), [memory, step], token, api_name="whatif_tokens", queue=False)
    draw.click(friendly(handlers.draw_samples),
               [source, model, temperature, top_k, top_p, seed, n_samples, session_models],
               [samples_md, samples, step_plot], api_name="draw_samples", concurrency_id=DECODE)
    force.click(friendly(handlers.whatif), [source, model, step, token, memory, session_models],
                [whatif_text, whatif_notice, whatif_plot], api_name="whatif", concurrency_id=DECODE)
    compare_go.click(friendly(handlers.compare_strategies),
                     [source, model, beam_size, temperature, seed, session_models],
                     compare_table, api_name="compare_strategies", concurrency_id=DECODE)
    compare_models_go.click(friendly(handlers.compare_models), [source, model_a, model_b, session_models],
                            [text_a, text_b, compare_attention, compare_notice], api_name="compare_models",
                            concurrency_id=DECODE)
    bleu_go.click(friendly(handlers.bleu_by_length), [model_a, model_b, session_models], bleu_plot,
                  api_name="bleu_by_length", concurrency_id=HEAVY, concurrency_limit=1)
    return TranslateTab(model, model_a, model_b, source)


def _empty(*columns: str) -> pd.DataFrame:
    return pd.DataFrame(columns=list(columns))


def _pick(choices: list[str], wanted: str, fallback: int) -> str | None:
    if wanted in choices:
        return wanted
    return choices[min(fallback, len(choices) - 1)] if choices else None
