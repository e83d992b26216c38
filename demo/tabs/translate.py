"""Translate tab: layout and wiring. The functions it calls live in demo/handlers.py."""
from __future__ import annotations

from dataclasses import dataclass, field

import gradio as gr
import plotly.graph_objects as pgo

from .. import exports, handlers, models, share
from ..errors import friendly, message
from ..i18n import t

FIRST_EXAMPLE = "我爱你。"  # step 1 of docs/LESSON.md
FALLBACK_EXAMPLES = ["我们明天早上去公园散步吧。", "你叫什么名字？"]  # when demo/examples/lesson_examples.json is missing
LONG_EXAMPLE = "汤姆说他明天早上要和他的朋友们一起去城里最大的那家书店买几本关于历史和音乐的书。"
DECODE = "decode"  # concurrency group of every interactive decoding event (see demo/app.py)
HEAVY = "heavy"  # concurrency group of the slow held-out evaluations (BLEU by length, exposure curves)
STRATEGIES = [(t("strategy_greedy"), "greedy"), (t("strategy_beam"), "beam"), (t("strategy_sample"), "sample")]


@dataclass
class TranslateTab:
    model: gr.Dropdown
    model_a: gr.Dropdown
    model_b: gr.Dropdown
    source: gr.Textbox
    linked: gr.State  # the page's shared link (handlers.inputs_key) while the visitor has not changed its inputs
    tables: list = field(default_factory=list)  # result tables whose headers are written in the page's language
    controls: dict = field(default_factory=dict)  # share-link field name -> its control (demo/share.py FIELDS)
    inputs: list = field(default_factory=list)  # of handlers.translate
    outputs: list = field(default_factory=list)  # of handlers.translate
    whatif_inputs: list = field(default_factory=list)
    whatif_outputs: list = field(default_factory=list)


@friendly
def share_query(*values) -> str:
    """The query string of the Translate tab's current inputs (the page adds its address and language)."""
    return share.to_query(dict(zip(SHARED, values)))


SHARED = ("text", "model", "strategy", "beam_size", "temperature", "n_best", "length_penalty", "top_k", "top_p",
          "seed", "min_p", "repetition_penalty", "no_repeat_ngram", "beam_groups", "diversity_penalty", "force_step",
          "force_word")
SHARE_URL_JS = """(q) => {
  let lang = null; try { lang = localStorage.getItem("s2s_lang"); } catch (e) {}
  const query = [q, lang ? "lang=" + lang : ""].filter(Boolean).join("&");
  return location.origin + location.pathname + (query ? "?" + query : "");
}"""


def _strategy_visibility(strategy: str):
    return gr.update(visible=strategy == "beam"), gr.update(visible=strategy == "sample")


@friendly
def _retranslate(text: str, *rest):
    """Sliding K re-runs the search, so the learner watches the result and scores change."""
    if not (text or "").strip():
        return [gr.skip()] * 7
    return handlers.translate(text, *rest)


def _need_text(text: str | None, *rest):
    """Validator of the decoding events: an empty box is flagged on the box itself, and nothing runs (no error
    badges on the result panels)."""
    ok = bool((text or "").strip())
    return [gr.validate(ok, "" if ok else message("err_empty"))] + [gr.validate(True, "")] * len(rest)


def _step_range(memory: dict | None):
    n = len(memory["tokens"]) if memory and memory.get("tokens") else 1
    return gr.update(minimum=1, maximum=max(1, n), value=min(2, n), step=1)


def _translate_with_whatif(*args):
    """The Translate button: handlers.translate_stream's messages, the first also setting the what-if step slider and
    word choices for the new translation (no follow-up requests: they used to arrive while the next click was
    being served, and slowed it)."""
    for i, out in enumerate(handlers.translate_stream(*args)):
        if i:
            yield (*out, gr.skip(), gr.skip())
            continue
        memory = out[-1]
        step = _step_range(memory)
        yield (*out, step, handlers.whatif_tokens(memory, step["value"]))


def _examples(choices: list[str]) -> list[str]:
    chosen = handlers.translate_examples("zh-en") or FALLBACK_EXAMPLES
    german = handlers.translate_examples("de-en")[:1] if any(models.language_pair(m) == "de-en" for m in choices) \
        else []
    return list(dict.fromkeys([FIRST_EXAMPLE] + chosen + german))


def _table(keys: tuple, elem_id: str, label=None, widths: list | None = None) -> gr.Dataframe:
    return gr.Dataframe(handlers.empty_table(*keys), label=label, interactive=False, elem_id=elem_id, wrap=True,
                        column_widths=widths)


def build(session_models: gr.State) -> TranslateTab:
    choices, default = models.model_choices(), models.default_model()
    gr.Markdown(t("step_help"))
    with gr.Row():
        with gr.Column(scale=2):
            model = gr.Dropdown(choices, value=default, label=t("model"), elem_id="model")
            source = gr.Textbox(label=t("source"), placeholder=t("source_placeholder"), lines=2, elem_id="source")
            gr.Examples([[e] for e in _examples(choices)], inputs=[source], label=t("examples"))
            strategy = gr.Radio(STRATEGIES, value="greedy", label=t("strategy"), info=t("strategy_info"),
                                elem_id="strategy")
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
            with gr.Accordion(t("advanced"), open=False, elem_id="advanced"):
                min_p = gr.Slider(0.0, 0.5, value=0.0, step=0.01, label=t("min_p"), info=t("min_p_info"),
                                  elem_id="min_p")
                repetition = gr.Slider(1.0, 3.0, value=1.0, step=0.1, label=t("repetition_penalty"),
                                       info=t("repetition_penalty_info"), elem_id="repetition_penalty")
                no_repeat = gr.Slider(0, 5, value=0, step=1, label=t("no_repeat_ngram"), info=t("no_repeat_ngram_info"),
                                      elem_id="no_repeat_ngram")
                groups = gr.Slider(1, 5, value=1, step=1, label=t("beam_groups"), info=t("beam_groups_info"),
                                   elem_id="beam_groups")
                diversity = gr.Slider(0.0, 5.0, value=0.0, step=0.1, label=t("diversity_penalty"),
                                      info=t("diversity_penalty_info"), elem_id="diversity_penalty")
            go = gr.Button(t("translate"), variant="primary", elem_id="translate")
            with gr.Row():
                share_go = gr.Button(t("share"), size="sm", scale=0, min_width=140, elem_id="share")
                share_url = gr.Textbox(label=t("share_link"), info=t("share_help"), interactive=False,
                                       buttons=["copy"], elem_id="share_url", scale=3)
        with gr.Column(scale=3):
            translation = gr.Textbox(label=t("translation"), interactive=False, elem_id="translation")
            notice = gr.Markdown(elem_id="notice")
            nbest = _table(handlers.NBEST_COLUMNS, "nbest", t("nbest_table"), ["60px", "76px", "84px", "50%", "30%"])
            exports.table_csv(nbest, "nbest")
            samples_md = gr.Markdown(elem_id="samples_summary")
            samples = _table(handlers.SAMPLE_COLUMNS, "samples", t("samples_table"), ["64px", "84px", "70%"])
            exports.table_csv(samples, "samples")
    # an empty figure drawn with the page makes the browser load Plotly's JavaScript before the first translation
    # (a new visitor's first figures otherwise wait for it); it takes no room (demo/app.py CSS #plotly_warmup)
    gr.Plot(pgo.Figure(), elem_id="plotly_warmup", show_label=False, container=False)
    step_plot = gr.Plot(label=t("step_plot"), elem_id="step_plot", elem_classes="s2s-plot")
    exports.plot_exports(step_plot, "step-heatmap")
    tree_plot = gr.Plot(label=t("tree_plot"), elem_id="tree_plot", elem_classes="s2s-plot")
    exports.plot_exports(tree_plot, "beam-tree")
    attention_plot = gr.Plot(label=t("attention_plot"), elem_id="attention_plot", elem_classes="s2s-plot")
    exports.plot_exports(attention_plot, "attention")
    memory = gr.State(None)
    with gr.Accordion(t("whatif"), open=True):
        gr.Markdown(t("whatif_help"))
        with gr.Row():
            step = gr.Slider(1, 20, value=1, step=1, label=t("whatif_step"), elem_id="whatif_step")
            token = gr.Dropdown([], label=t("whatif_token"), info=t("word_legend"), elem_id="whatif_token")
            word = gr.Textbox(label=t("whatif_word"), elem_id="whatif_word")
        force = gr.Button(t("whatif_go"), elem_id="whatif_go")
        whatif_text = gr.Textbox(label=t("whatif_result"), interactive=False, elem_id="whatif_text")
        whatif_notice = gr.Markdown(elem_id="whatif_notice")
        whatif_plot = gr.Plot(label=t("step_plot"), elem_id="whatif_plot", elem_classes="s2s-plot")
        exports.plot_exports(whatif_plot, "whatif-step-heatmap")
    with gr.Accordion(t("compare"), open=True):
        gr.Markdown(t("compare_help"))
        compare_go = gr.Button(t("compare_strategies"), elem_id="compare_strategies")
        compare_table = _table(handlers.COMPARE_COLUMNS, "compare_table", None, ["110px", "84px", "60px", "60%"])
        exports.table_csv(compare_table, "compare-strategies")
        gr.Markdown(t("compare_models_help"))
        with gr.Row():
            model_a = gr.Dropdown(choices, value=_pick(choices, "zh-en-classic", 0), label=t("model_a"),
                                  elem_id="model_a")
            model_b = gr.Dropdown(choices, value=_pick(choices, "zh-en-attention", 1), label=t("model_b"),
                                  elem_id="model_b")
        gr.Examples([[handlers.bottleneck_example("zh-en") or LONG_EXAMPLE]], inputs=[source], label=t("examples"))
        compare_models_go = gr.Button(t("compare_models"), elem_id="compare_models")
        with gr.Row():
            text_a = gr.Textbox(label=t("translation_a"), interactive=False, elem_id="text_a")
            text_b = gr.Textbox(label=t("translation_b"), interactive=False, elem_id="text_b")
        compare_notice = gr.Markdown(elem_id="compare_notice")
        compare_attention = gr.Plot(label=t("attention_plot"), elem_id="compare_attention", elem_classes="s2s-plot")
        exports.plot_exports(compare_attention, "compare-attention")
        bleu_go = gr.Button(t("bleu_length"), elem_id="bleu_length")
        bleu_plot = gr.Plot(label=t("bleu_length"), elem_id="bleu_plot", elem_classes="s2s-plot")
        exports.plot_exports(bleu_plot, "bleu-by-length")

    # a changed sentence, model or strategy clears every panel that showed results of the old one
    cleared = [translation, notice, nbest, step_plot, attention_plot, tree_plot, memory, samples_md, samples,
               whatif_text, whatif_notice, whatif_plot, compare_table, text_a, text_b, compare_attention, compare_notice]
    linked = gr.State(None)  # handlers.inputs_key of the page's shared link, until the visitor changes any of them
    for trigger, name in ((source.change, "clear_on_source"),
                          (model.change, "clear_on_model"), (strategy.change, "clear_on_strategy")):
        trigger(friendly(handlers.cleared_unless_linked), [source, model, strategy, linked], cleared + [linked],
                api_name=name, queue=False, show_progress="hidden")
    for trigger, name in ((model_a.change, "clear_on_model_a"), (model_b.change, "clear_on_model_b")):
        trigger(friendly(handlers.cleared_outputs), None, cleared, api_name=name, queue=False, show_progress="hidden")
    strategy.change(friendly(_strategy_visibility), strategy, [beam_box, sample_box], api_name="strategy_options",
                    queue=False)
    inputs = [source, model, strategy, beam_size, temperature, n_best, length_penalty, top_k, top_p, seed,
              min_p, repetition, no_repeat, groups, diversity, session_models]
    outputs = [translation, notice, nbest, step_plot, attention_plot, tree_plot, memory]
    def checked(event, name: str) -> None:
        """A result that lands after its sentence, model or strategy changed is cleared."""
        event.then(friendly(handlers.cleared_if_stale), [source, model, strategy, memory], cleared,
                   api_name=f"{name}_check", queue=False, show_progress="hidden")

    for trigger, name in ((go.click, "translate"), (source.submit, "translate_submit")):
        checked(trigger(friendly(_translate_with_whatif), inputs, outputs + [step, token], api_name=name,
                        concurrency_id=DECODE, validator=_need_text), name)
    checked(beam_size.release(_retranslate, inputs, outputs, api_name="translate_on_k", concurrency_id=DECODE),
            "translate_on_k")
    step.release(friendly(handlers.whatif_tokens), [memory, step], token, api_name="whatif_tokens", queue=False)
    draw.click(friendly(handlers.draw_samples),
               [source, model, temperature, top_k, top_p, seed, n_samples, min_p, repetition, no_repeat,
                session_models],
               [samples_md, samples, step_plot], api_name="draw_samples", concurrency_id=DECODE, validator=_need_text)
    force.click(friendly(handlers.whatif), [source, model, step, token, memory, session_models, word],
                [whatif_text, whatif_notice, whatif_plot], api_name="whatif", concurrency_id=DECODE)
    compare_go.click(friendly(handlers.compare_strategies),
                     [source, model, beam_size, temperature, seed, session_models],
                     compare_table, api_name="compare_strategies", concurrency_id=DECODE, validator=_need_text)
    compare_models_go.click(friendly(handlers.compare_models), [source, model_a, model_b, session_models],
                            [text_a, text_b, compare_attention, compare_notice], api_name="compare_models",
                            concurrency_id=DECODE, validator=_need_text)
    bleu_go.click(friendly(handlers.bleu_by_length), [model_a, model_b, session_models], bleu_plot,
                  api_name="bleu_by_length", concurrency_id=HEAVY, concurrency_limit=1)
    shared = [source, model, strategy, beam_size, temperature, n_best, length_penalty, top_k, top_p, seed, min_p,
              repetition, no_repeat, groups, diversity, step, word]
    share_go.click(share_query, shared, share_url, api_name="share_link", queue=False).then(
        None, share_url, share_url, js=SHARE_URL_JS, queue=False)
    tables = [(nbest, handlers.NBEST_COLUMNS), (samples, handlers.SAMPLE_COLUMNS),
              (compare_table, handlers.COMPARE_COLUMNS)]
    return TranslateTab(model, model_a, model_b, source, linked, tables, dict(zip(SHARED, shared)), inputs, outputs,
                        [source, model, step, token, memory, session_models, word],
                        [whatif_text, whatif_notice, whatif_plot])


def _pick(choices: list[str], wanted: str, fallback: int) -> str | None:
    if wanted in choices:
        return wanted
    return choices[min(fallback, len(choices) - 1)] if choices else None
