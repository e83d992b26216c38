"""English and Chinese strings of the train views, merged into demo/i18n.py's tables (kept apart so that the
train views can grow their strings without touching the shared table).

Keys starting with `tr_` are written by the server (demo/training.py) through `errors.message`, so they use
str.format placeholders; the others are component labels."""
from __future__ import annotations

# The Train tab's defaults, chosen by scripts/pick_train_defaults.py (its results file holds the grid, the criterion
# and these measured numbers); demo/training.py uses them, and the labels below state them. Rerun the script to
# change them, not by hand. Kept here so that the labels can state the numbers without importing the trainer.
TRAIN_DEFAULTS = {"base_model": "zh-en-attention", "epochs": 3, "lr": 0.002, "train_seconds": 15.5,
                  "bleu_before": 4.04, "bleu_after": 11.16, "tatoeba_bleu_before": 24.56, "tatoeba_bleu_after": 11.27,
                  "results": "bench/results/2026-11-29-train-defaults.json"}
CHUNK_SECONDS = 100  # training time of one chunk (one GPU call on ZeroGPU)
GPU_CALL_SECONDS = 120  # what each ZeroGPU call reserves: the chunk, its final validation and the weights' trip

EN: dict[str, str] = {
    # labels
    "mode_finetune": "fine-tune a shipped model",
    "mode_scratch": "train from scratch (small model)",
    "train_defaults": (
        "**Defaults, chosen by measurement:** fine-tune **{model}** for **{epochs} epochs** at learning rate "
        "**{lr}**. On the example corpus this trained in {secs} s of CPU time (one core of a 2-core machine) and "
        "lifted BLEU on the corpus's held-out sentences from {before} to {after}, while BLEU on its original "
        "Tatoeba domain fell from {tbefore} to {tafter}. Within a minute the classic model gained under 5 BLEU "
        "points at any learning rate, and more epochs or a higher rate did not do better "
        "(`scripts/pick_train_defaults.py`, `{results}`)."),
    "train_gpu_note": (
        "**GPU time on this Space (ZeroGPU):** training runs in GPU calls of at most {call} s each (about {chunk} s "
        "of training per call, the model and optimizer carried from one call to the next). A run uses at most its "
        "time limit of your daily GPU quota, plus a few seconds per call; the status shows what it used. Stop takes "
        "effect when the current call ends."),
    "train_forgetting_help": (
        "After fine-tuning, the results below also show sentences from the model's **original** domain (held-out "
        "Tatoeba everyday sentences), before and after: a model fine-tuned on a narrow domain forgets part of what it "
        "knew (*catastrophic forgetting*)."),
    # server-written (demo/training.py)
    "tr_err_too_big": ("{name} is {mb} MB; the limit is {limit} MB per file here (train bigger corpora with the "
                       "command line)."),
    "tr_err_no_upload": "Upload a TSV / CSV file or two aligned text files, or load the example corpus.",
    "tr_err_many_files": "{n} files uploaded: give one TSV/CSV file or two aligned text files.",
    "tr_err_corpus": "Cannot use this corpus: {err}",
    "tr_err_busy": "A training job is already running in this session: wait for it or press Stop.",
    "tr_err_pick_model": "Pick the model to fine-tune.",
    "tr_err_ended": "Training ended unexpectedly.",
    "tr_pair_cap": "The corpus has {n} pairs; the first {cap} are used here.",
    "tr_lengths": "{mean} characters on average (max {max})",
    "tr_summary": "**{name}**: {n} sentence pairs.",
    "tr_source_len": "- source: {lengths}",
    "tr_target_len": "- target: {lengths}",
    "tr_coverage": ("- vocabulary of **{model}** covers {src} of the source pieces and {tgt} of the target pieces "
                    "(the rest would be `<unk>`)."),
    "tr_col_source": "source",
    "tr_col_target": "target",
    "tr_col_reference": "reference",
    "tr_col_before": "before",
    "tr_col_after": "after training",
    "tr_col_after_epoch": "after epoch {epoch}",
    "tr_no_job": "No training is running.",
    "tr_stopping": "Stopping after the current update…",
    "tr_stopping_zerogpu": "Stopping when the current GPU call ends…",
    "tr_translating_before": "Translating the held-out sentences before training…",
    "tr_training_on": "Training on {train} pairs, validating on {valid}…",
    "tr_detail": "epoch {epoch}/{epochs} · update {step} · {tps} tokens/s · {secs} s",
    "tr_loss_title": "Training and validation loss",
    "tr_reason_epochs_done": "epochs done",
    "tr_reason_time_limit": "time limit",
    "tr_reason_stopped": "stopped",
    "tr_reason_early_stopping": "early stopping",
    "tr_reason_max_steps": "max steps",
    "tr_finished": ("Finished ({reason}) after {steps} updates. {used} <b>{name}</b> is now in the model pickers of "
                    "this browser session; download it below."),
    "tr_gpu_used": "ZeroGPU time used: {secs} s in {calls} GPU calls (each reserves at most {cap} s).",
    "tr_time_used": "Training took {secs} s on the {device}.",
    "tr_bleu_before": "BLEU on {n} held-out pairs before training: **{before}**",
    "tr_bleu_after": "BLEU on {n} held-out pairs: before **{before}** → after **{after}**",
    "tr_forgetting": (
        "**What it forgot (catastrophic forgetting).** The same model on {n} held-out sentences of its original "
        "domain (Tatoeba everyday sentences): BLEU before **{before}** → after **{after}**. Below, the sentences it "
        "translated best before fine-tuning:"),
}

ZH: dict[str, str] = {
    "mode_finetune": "微调一个预训练模型",
    "mode_scratch": "从头训练（小模型）",
    "train_defaults": (
        "**默认设置是测量出来的：**微调 **{model}**，训练 **{epochs} 轮**，学习率 **{lr}**。在示例语料上，"
        "它用了 {secs} 秒 CPU 时间（2 核机器的一个核），把语料留出句子上的 BLEU 从 {before} 提高到 {after}，"
        "而它原来的 Tatoeba 领域上的 BLEU 从 {tbefore} 降到 {tafter}。在一分钟内，经典模型在任何学习率下提升都不到 "
        "5 个 BLEU 点，更多轮数或更高的学习率也没有更好（`scripts/pick_train_defaults.py`，`{results}`）。"),
    "train_gpu_note": (
        "**本 Space 的 GPU 时间（ZeroGPU）：**训练分成多次 GPU 调用，每次最多 {call} 秒（每次约训练 {chunk} 秒，"
        "模型和优化器状态从一次调用带到下一次）。一次训练最多占用你每日 GPU 配额中等于时间上限的时间，"
        "每次调用另加几秒；状态栏会显示实际用了多少。按“停止”后，在当前调用结束时停止。"),
    "train_forgetting_help": (
        "微调之后，下面的结果还会显示模型**原来**领域的句子（留出的 Tatoeba 日常句子）在微调前后的翻译："
        "在一个狭窄领域上微调的模型会忘掉一部分原来会的东西（*灾难性遗忘*）。"),
    "tr_err_too_big": "{name} 大小为 {mb} MB；这里每个文件最大 {limit} MB（更大的语料请用命令行训练）。",
    "tr_err_no_upload": "请上传一个 TSV / CSV 文件或两个对齐的文本文件，或加载示例语料。",
    "tr_err_many_files": "上传了 {n} 个文件：请提供一个 TSV/CSV 文件或两个对齐的文本文件。",
    "tr_err_corpus": "无法使用这个语料：{err}",
    "tr_err_busy": "这个会话中已有一个训练任务在运行：请等待它完成或按“停止”。",
    "tr_err_pick_model": "请选择要微调的模型。",
    "tr_err_ended": "训练意外结束。",
    "tr_pair_cap": "语料共有 {n} 个句对；这里只使用前 {cap} 个。",
    "tr_lengths": "平均 {mean} 个字符（最长 {max}）",
    "tr_summary": "**{name}**：{n} 个句对。",
    "tr_source_len": "- 源语言：{lengths}",
    "tr_target_len": "- 目标语言：{lengths}",
    "tr_coverage": "- **{model}** 的词表覆盖了 {src} 的源语言片段和 {tgt} 的目标语言片段（其余会变成 `<unk>`）。",
    "tr_col_source": "源句",
    "tr_col_target": "译文",
    "tr_col_reference": "参考译文",
    "tr_col_before": "训练前",
    "tr_col_after": "训练后",
    "tr_col_after_epoch": "第 {epoch} 轮后",
    "tr_no_job": "没有正在运行的训练。",
    "tr_stopping": "将在当前这次更新后停止…",
    "tr_stopping_zerogpu": "将在当前 GPU 调用结束时停止…",
    "tr_translating_before": "正在翻译训练前的留出句子…",
    "tr_training_on": "在 {train} 个句对上训练，在 {valid} 个句对上验证…",
    "tr_detail": "第 {epoch}/{epochs} 轮 · 第 {step} 次更新 · 每秒 {tps} 个词元 · {secs} 秒",
    "tr_loss_title": "训练与验证损失",
    "tr_reason_epochs_done": "轮数已完成",
    "tr_reason_time_limit": "达到时间上限",
    "tr_reason_stopped": "已停止",
    "tr_reason_early_stopping": "提前停止",
    "tr_reason_max_steps": "达到最大步数",
    "tr_finished": "训练结束（{reason}），共 {steps} 次更新。{used} <b>{name}</b> 已加入当前浏览器会话的模型列表；可在下方下载。",
    "tr_gpu_used": "已用 ZeroGPU 时间：{secs} 秒，共 {calls} 次 GPU 调用（每次最多预留 {cap} 秒）。",
    "tr_time_used": "训练在 {device} 上用了 {secs} 秒。",
    "tr_bleu_before": "训练前在 {n} 个留出句对上的 BLEU：**{before}**",
    "tr_bleu_after": "在 {n} 个留出句对上的 BLEU：训练前 **{before}** → 训练后 **{after}**",
    "tr_forgetting": (
        "**它忘掉了什么（灾难性遗忘）。**同一个模型在原来领域的 {n} 个留出句子（Tatoeba 日常句子）上："
        "BLEU 从训练前的 **{before}** → 训练后的 **{after}**。下面是微调前它翻译得最好的几句："),
}


def _fill(table: dict[str, str]) -> None:
    d = TRAIN_DEFAULTS
    table["train_defaults"] = table["train_defaults"].format(
        model=d["base_model"], epochs=d["epochs"], lr=d["lr"], secs=f"{d['train_seconds']:.0f}",
        before=f"{d['bleu_before']:.1f}", after=f"{d['bleu_after']:.1f}", results=d["results"],
        tbefore=f"{d['tatoeba_bleu_before']:.1f}", tafter=f"{d['tatoeba_bleu_after']:.1f}")
    table["train_gpu_note"] = table["train_gpu_note"].format(call=GPU_CALL_SECONDS, chunk=CHUNK_SECONDS)


_fill(EN)
_fill(ZH)
