"""Train tab: upload or load a corpus, preview it, train with live curves, stop, download."""
from __future__ import annotations

from dataclasses import dataclass

import gradio as gr
import pandas as pd

from s2s.config import SCHEDULES

from .. import exports, models, training
from ..errors import friendly, language
from ..i18n import t

TRAIN = "train"  # concurrency group: at most MAX_JOBS trainings at once on the whole server
MAX_JOBS = 2


@dataclass
class TrainTab:
    base_model: gr.Dropdown


def _session(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or "default"


def _lang(request: gr.Request | None) -> str:
    return language(getattr(request, "headers", None) or {})


@friendly
def train(files, use_example, mode, base_model, epochs, lr, batch_size, teacher_forcing, schedule, time_limit,
          attention, session_models, request: gr.Request):
    yield from training.train(files, use_example, mode, base_model, epochs, lr, batch_size, teacher_forcing,
                              schedule, time_limit, attention, session_models, _session(request), _lang(request))


@friendly
def stop(request: gr.Request) -> str:
    message = training.stop_training(_session(request), _lang(request))
    gr.Info(message)
    return message


def default_base(choices: list[str], fallback: str | None) -> str | None:
    """The measured default base model when it is shipped here, else the app's default model."""
    return training.DEFAULTS["base_model"] if training.DEFAULTS["base_model"] in choices else fallback


def build(session_models: gr.State) -> TrainTab:
    choices = models.model_choices()
    default = default_base(choices, models.default_model())
    gr.Markdown(t("train_intro"))
    gr.Markdown(t("train_defaults"), elem_id="train_defaults")
    gr.Markdown(t("train_forgetting_help"))
    if training.ZERO_GPU:  # pragma: no cover - only on a ZeroGPU Space
        gr.Markdown(t("train_gpu_note"), elem_id="train_gpu_note")
    with gr.Row():
        with gr.Column():
            files = gr.File(file_count="multiple", label=t("upload"), elem_id="upload")
            use_example = gr.Checkbox(False, label=t("use_example"), elem_id="use_example")
            load_example = gr.Button(t("load_example"), elem_id="load_example")
        with gr.Column():
            summary = gr.Markdown(elem_id="corpus_summary")
            head = gr.Dataframe(pd.DataFrame(columns=["source", "target"]), label=t("preview_table"), interactive=False, elem_id="corpus_head", wrap=True)
    with gr.Row():
        mode = gr.Radio([(t("mode_finetune"), training.FINE_TUNE), (t("mode_scratch"), training.SCRATCH)],
                        value=training.FINE_TUNE, label=t("mode"), elem_id="train_mode")
        base_model = gr.Dropdown(choices, value=default, label=t("base_model"), elem_id="base_model")
        attention = gr.Checkbox(True, label=t("scratch_attention"))
    with gr.Row():
        epochs = gr.Slider(1, 20, value=training.DEFAULTS["epochs"], step=1, label=t("epochs"), elem_id="epochs")
        lr = gr.Slider(0.0001, 0.01, value=training.DEFAULTS["lr"], step=0.0001, label=t("lr"), elem_id="lr")
        batch_size = gr.Slider(8, 128, value=32, step=8, label=t("batch_size"))
    with gr.Row():
        teacher_forcing = gr.Slider(0.0, 1.0, value=1.0, step=0.05, label=t("teacher_forcing"))
        schedule = gr.Radio(list(SCHEDULES), value="constant", label=t("schedule"))
        time_limit = gr.Slider(10, training.MAX_SECONDS, value=120, step=10, label=t("time_limit"),
                               elem_id="time_limit")
    with gr.Row():
        go = gr.Button(t("train"), variant="primary", elem_id="train")
        halt = gr.Button(t("stop"), variant="stop", elem_id="stop")
    status = gr.HTML(label=t("status"), elem_id="train_status")
    loss = gr.Plot(label=t("loss_plot"), elem_id="loss_plot")
    exports.plot_exports(loss, "training-curves")
    bleu = gr.Markdown(elem_id="train_bleu")
    samples = gr.Dataframe(pd.DataFrame(columns=["source", "reference", "before"]), label=t("samples_after"), interactive=False, elem_id="train_samples", wrap=True)
    exports.table_csv(samples, "training-samples")
    download = gr.File(label=t("download"), interactive=False, elem_id="download")

    preview_inputs = [files, use_example, base_model, session_models]
    files.upload(friendly(lambda: False), None, use_example, api_name="clear_example", queue=False).then(
        friendly(training.preview), preview_inputs, [summary, head], api_name="preview_upload")
    load_example.click(friendly(lambda: True), None, use_example, api_name="use_example", queue=False).then(
        friendly(training.preview), preview_inputs, [summary, head], api_name="preview")
    go.click(train, [files, use_example, mode, base_model, epochs, lr, batch_size, teacher_forcing, schedule,
                     time_limit, attention, session_models],
             [status, loss, samples, bleu, session_models, download], api_name="train",
             concurrency_id=TRAIN, concurrency_limit=MAX_JOBS, show_progress="minimal")
    halt.click(stop, None, status, api_name="stop", queue=False)
    return TrainTab(base_model)
