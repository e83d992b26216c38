"""English and Chinese strings for the whole UI (gr.I18n: the browser's language picks, Settings can switch)."""
from __future__ import annotations

import gradio as gr

from . import i18n_lab, i18n_lesson, i18n_train

EN = {
    "title": "# Seq2Seq Playground\nWatch an LSTM encoder-decoder translate, one word at a time.",
    "tab_translate": "Translate",
    "tab_exposure": "Exposure bias",
    "tab_train": "Train your own",
    "tab_about": "About",
    "model": "Model",
    "source": "Source sentence",
    "source_placeholder": "Type a sentence, e.g. 我爱你。",
    "examples": "Examples",
    "strategy": "Decoding strategy",
    "strategy_info": "greedy: the most likely word each step · beam: keep K hypotheses · sampling: draw at random",
    "beam_size": "Beam size K",
    "length_penalty": "Length penalty α",
    "n_best": "n-best hypotheses to show",
    "temperature": "Temperature T",
    "top_k": "top-k (0 = all)",
    "top_p": "top-p (nucleus)",
    "seed": "Seed (same seed, same sample)",
    "n_samples": "Samples to draw (N)",
    "draw": "Draw N samples",
    "translate": "Translate",
    "translation": "Translation",
    "nbest_table": "n-best list (score = length-normalized log-probability for beam search)",
    "step_plot": "Decoder, step by step",
    "step_help": ("Each column is one decoding step: the decoder is fed the previous word (it starts from "
                  "`<sos>`), scores every word of the vocabulary, and picks one (outlined in red) until it "
                  "picks `<eos>`. Rows are the top candidates; colour is probability; the purple bars are "
                  "the entropy of each step (how unsure the decoder was), on the same scale for every chart: 0 to "
                  "log |V| nats. A dot · before a piece means it starts a new word."),
    "attention_plot": "Attention (attention models only)",
    "tree_plot": "Beam tree (beam search only)",
    "samples_table": "Distinct samples and how often each was drawn",
    "samples_plot": "Sampling distribution",
    "whatif": "What if… (force a different word at one step)",
    "whatif_help": ("Pick a step of the last translation and a different word for it. The earlier words stay, "
                    "your word is forced, and the decoder continues from there."),
    "whatif_step": "Step",
    "whatif_token": "Word to force at that step",
    "whatif_go": "Force it and re-decode",
    "whatif_result": "New translation",
    "compare": "Compare",
    "compare_help": "Greedy, beam K and one sample at temperature T on the same input.",
    "compare_strategies": "Compare strategies",
    "compare_models_help": ("The bottleneck: translate a long sentence with the classic model (everything squeezed "
                            "into one context vector) and the attention model (looks back at every source word)."),
    "model_a": "Model A (classic)",
    "model_b": "Model B (attention)",
    "compare_models": "Compare models",
    "translation_a": "Model A says",
    "translation_b": "Model B says",
    "bleu_length": "BLEU by source length (held-out sentences)",
    "exposure_intro": (
        "## Exposure bias\n"
        "During training the decoder is always fed the **reference** previous word (*teacher forcing*). "
        "At test time it is fed **its own** previous word (*free-running*). Once it makes one mistake it is "
        "in a situation it never saw in training, and the next words get worse: the errors pile up.\n\n"
        "Pick a held-out pair below. The blue line is the probability of the correct (gold) word when the model "
        "is fed the reference; the orange line is the same probability when it is fed its own words. Look for "
        "the first divergence and how the orange line sags after it."),
    "exposure_source": "Source",
    "exposure_reference": "Reference translation",
    "exposure_go": "Teacher-forced vs free-running",
    "exposure_table": "Step by step",
    "exposure_plot": "Probability of the gold word",
    "curves_intro": (
        "### Across many sentences\nToken accuracy by target position over ~200 held-out sentences. "
        "Teacher-forced stays flat; free-running falls as sentences get longer. **The remedy is scheduled "
        "sampling** (Bengio et al. 2015): during training, feed the model its own predictions more and more "
        "often, so it learns to recover from its mistakes. Compare the classic model with the "
        "scheduled-sampling model: the gap narrows."),
    "curve_models": "Models",
    "curve_metric": "Measure",
    "curves_go": "Compute curves",
    "curves_plot": "Teacher-forced vs free-running by position",
    "train_intro": (
        "## Train your own\nUpload a parallel corpus (a TSV file `source<TAB>target`, a CSV file with a header, "
        "or two aligned text files), or load the example corpus (kitchen and cooking, a domain the shipped "
        "models never saw). Fine-tune a shipped model or train a small one from scratch. The model you train "
        "is yours: it appears in this browser session's model pickers only, and you can download it."),
    "upload": "Corpus file(s): TSV, CSV, or two aligned text files (max 5 MB each)",
    "use_example": "Use the example corpus (kitchen zh→en)",
    "load_example": "Load the example corpus",
    "preview": "Preview",
    "preview_table": "First rows",
    "mode": "What to train",
    "base_model": "Model to fine-tune",
    "scratch_attention": "From scratch: with attention",
    "epochs": "Epochs",
    "lr": "Learning rate",
    "batch_size": "Batch size",
    "teacher_forcing": "Teacher-forcing ratio (final value for decaying schedules)",
    "schedule": "Teacher-forcing schedule",
    "time_limit": "Time limit (seconds, at most 300)",
    "train": "Train",
    "stop": "Stop",
    "status": "Progress",
    "loss_plot": "Loss",
    "samples_after": "Held-out sentences, translated before and after each epoch",
    "bleu": "BLEU before and after",
    "download": "Download the checkpoint (.s2s)",
    "about": (
        "## About\n"
        "A classic Sutskever-style LSTM encoder-decoder with an optional attention variant, a compact PyTorch core "
        "(`s2s/`) and this Gradio UI (`demo/`).\n\n"
        "**Data.** Chinese–English: Tatoeba sentences (tatoeba.org) via manythings.org/anki, licensed CC-BY 2.0 FR. "
        "German–English: Multi30k (Elliott et al. 2016, *Multi30K: Multilingual English-German Image "
        "Descriptions*), for research and education. The example training corpus (kitchen zh→en) was written "
        "for this project (CC0).\n\n"
        "**Limits here.** Inputs longer than 100 sentencepiece pieces are cut; uploads up to 5 MB and 20,000 "
        "pairs; training up to 5 minutes, one job per browser session."),
    "err_unknown_model": ("Unknown model '{name}'. Models trained in the Train tab are only visible in the browser "
                          "session that trained them."),
    "err_model_removed": ("This trained model was removed from the server to free disk space (it is deleted when "
                          "idle, or when more than {n} trained models exist): train it again, and download it "
                          "to keep it."),
    "err_seed": "The seed must be a whole number from 0 to {max}: type a smaller one.",
    "err_unexpected": ("Something went wrong on the server ({kind}) and it was logged: try again, and if it happens "
                       "again, reload the page or try other settings."),
    "err_busy_session": ("You already have {n} requests of this kind waiting or running: wait for them to finish, "
                         "then try again."),
    "err_busy_ip": ("Your network address already has {n} requests waiting or running: wait for them to finish, "
                    "then try again."),

    # ---- language switch, panels, hints (server-written strings: demo/handlers.py, demo/plots.py)
    "strategy_greedy": "greedy",
    "strategy_beam": "beam",
    "strategy_sample": "sampling",
    "advanced": "Advanced decoding",
    "share": "Share link",
    "share_link": "Link to this translation",
    "share_help": ("Opens the playground with the same model, sentence and settings (seed included) and "
                   "translates it again: the same result."),
    "min_p": "min-p (sampling)",
    "min_p_info": "Keep only words at least min-p times as likely as the best word; 0 = off.",
    "repetition_penalty": "Repetition penalty",
    "repetition_penalty_info": "Makes words already in the sentence less likely (1 = off, larger = stronger).",
    "no_repeat_ngram": "No repeated n-grams",
    "no_repeat_ngram_info": "Never produce the same run of n words twice in one sentence; 0 = off.",
    "beam_groups": "Beam groups (diverse beam search)",
    "beam_groups_info": "Split the K beams into groups that are pushed apart; must divide K (1 = plain beam search).",
    "diversity_penalty": "Diversity penalty",
    "diversity_penalty_info": "How strongly a group avoids the words earlier groups chose at the same step.",
    "word_legend": "A dot · before a piece means it starts a new word; pieces without it continue the word before.",
    "whatif_word": "... or type a whole word to force (it is split into pieces)",
    "err_no_checkpoints": "No model found: put checkpoints (*.s2s) in {folder}.",
    "err_pick_model": "Pick a model first.",
    "err_empty": "Type a sentence first (or click one of the examples).",
    "err_nothing": "Nothing to translate: the input has no characters the model can read.",
    "notice_cut": ("Warning: the input is too long: only its first {n} sentencepiece pieces were translated "
                   "(the rest was cut)."),
    "hint_script": ("Hint: this input is mostly {found}, but this model reads {expected}: the translation will "
                    "probably be meaningless."),
    "hint_unknown": ("Hint: {share}% of the input's pieces are unknown to this model (&lt;unk&gt;): the translation "
                     "will probably be meaningless."),
    "script_han": "Chinese characters",
    "script_latin": "Latin letters",
    "script_other": "symbols, digits or emoji",
    "script_expected_zh": "Chinese",
    "script_expected_de": "German",
    "script_expected_en": "English",
    "beam_led": "The winning hypothesis led the beam at every step (greedy would have found it too).",
    "beam_behind": ("The winning hypothesis was only #{rank} in the beam at step {step}, yet won in the end: greedy "
                    "search would have dropped it."),
    "col_rank": "rank",
    "col_translation": "translation",
    "col_score": "score",
    "col_logprob": "log-prob",
    "col_pieces": "pieces",
    "col_count": "count",
    "col_strategy": "strategy",
    "col_step": "step",
    "col_gold": "gold token",
    "col_p_teacher": "p(gold) teacher-forced",
    "col_teacher_choice": "teacher-forced choice",
    "col_p_free": "p(gold) free-running",
    "col_free_choice": "free-running choice",
    "col_note": "note",
    "first_divergence": "first divergence",
    "samples_summary": "{n} samples at T = {t}: **{d} distinct** translations.",
    "title_steps": "Decoder steps ({strategy})",
    "title_sampling": "Sampling distribution at T = {t} (first sample)",
    "err_translate_first": "Translate a sentence first; then pick a step and a different word for it.",
    "err_pick_word": "Pick the word to force at that step, or type one.",
    "err_word_empty": "The word '{word}' has no pieces this model can write.",
    "whatif_notice": "Forced **{word}** at step {step}; the rest was re-decoded greedily. Before: *{old}*",
    "title_whatif": "What if step {step} were '{word}'?",
    "forced": "forced",
    "run_greedy": "greedy",
    "run_beam": "beam K={k}",
    "run_sample": "sample T={t}",
    "title_bleu": "BLEU by source length (held-out sentences)",
    "err_reference": "Type the reference translation too: exposure bias is measured against it.",
    "exposure_no_div": ("Free-running decoding reproduced the reference exactly: no divergence on this pair. Try a "
                        "longer sentence."),
    "exposure_summary": ("**First divergence at step {step}**: the reference says *{gold}*, the model said *{said}*. "
                         "After that, the gold token's mean probability is **{after_t}** when the model is fed the "
                         "reference (teacher-forced) but **{after_f}** when it is fed its own words (free-running)."),
    "err_tick_model": "Tick at least one model (the classic and the scheduled-sampling model show the lesson).",
    "metric_accuracy": "token accuracy",
    "metric_logprob": "mean log p(gold)",
    "curves_explain_accuracy": (
        "**What this shows:** the share of reference words the model predicts correctly at each target position, "
        "fed the reference (teacher-forced, blue) or its own words (free-running, orange), over {n} held-out "
        "sentences; shaded: 95% interval; grey bars: how many sentences each point averages. Mean gap, teacher-forced "
        "minus free-running: {gaps}."),
    "curves_explain_logprob": (
        "**What this shows:** the mean log-probability of the correct word at each target position, fed the "
        "reference (teacher-forced, blue) or its own words (free-running, orange), over {n} held-out sentences; "
        "shaded: 95% interval; grey bars: how many sentences each point averages. Mean gap, teacher-forced minus "
        "free-running: {gaps}."),
    "curves_gap": "{model} {gap}",
    "curves_narrowing": " The scheduled-sampling model narrows the gap: **{text}**.",
    "curves_source_cached": "Precomputed for this exact checkpoint (SHA-256 checked).",
    "curves_source_live": "Computed now on the held-out pairs.",
    "plot_no_steps": "no decoding steps",
    "plot_no_attention": "this model has no attention: the decoder only sees the context vector",
    "plot_tree_hint": "the beam tree appears for beam search",
    "plot_no_model": "no model selected",
    "plot_nothing": "nothing to show",
    "axis_rank": "rank",
    "axis_entropy": "entropy (nats)",
    "axis_probability": "probability",
    "axis_step": "step",
    "axis_output_piece": "output (target) piece",
    "axis_source_piece": "source piece",
    "axis_weight": "weight",
    "title_attention": "Attention: where each output word looked",
    "title_tree": "Beam search tree",
    "axis_candidate": "candidate (kept beams first)",
    "tree_winner": "winning path",
    "tree_kept": "kept",
    "tree_finished": "finished",
    "tree_pruned": "pruned",
    "tree_group": "group {g}",
    "title_exposure_steps": "p(gold token) at every step",
    "legend_teacher": "teacher-forced (fed the reference)",
    "legend_free": "free-running (fed its own words)",
    "legend_teacher_short": "teacher-forced",
    "legend_free_short": "free-running",
    "legend_band": "95% interval",
    "legend_sentences": "sentences per position",
    "hover_gold": "gold",
    "hover_said": "model said",
    "axis_p_gold": "probability of the gold token",
    "axis_reference_token": "reference token",
    "axis_target_position": "target position",
    "axis_sentences": "sentences",
    "title_curves": "{metric} by target position, over held-out sentences",
    "axis_source_length": "source length (words; Chinese: characters)",
    "hover_sentences": "sentences",
    "loss_train": "train loss",
    "loss_valid": "validation loss",
    "title_loss": "Loss",
    "axis_update_step": "update step",
    "axis_xent": "cross-entropy per token",
    "examples_source": "source",
    "examples_reference": "reference",
}

ZH = {
    "title": "# Seq2Seq 实验场\n看 LSTM 编码器-解码器如何一个词一个词地翻译。",
    "tab_translate": "翻译",
    "tab_exposure": "曝光偏差",
    "tab_train": "训练你自己的模型",
    "tab_about": "关于",
    "model": "模型",
    "source": "源句",
    "source_placeholder": "输入一句话，例如 我爱你。",
    "examples": "示例",
    "strategy": "解码策略",
    "strategy_info": "贪心：每步取最可能的词 · 束搜索：保留 K 个假设 · 采样：随机抽取",
    "beam_size": "束宽 K",
    "length_penalty": "长度惩罚 α",
    "n_best": "显示的 n-best 假设数",
    "temperature": "温度 T",
    "top_k": "top-k（0 = 全部）",
    "top_p": "top-p（核采样）",
    "seed": "随机种子（相同种子，相同样本）",
    "n_samples": "抽样次数 N",
    "draw": "抽取 N 个样本",
    "translate": "翻译",
    "translation": "译文",
    "nbest_table": "n-best 列表（束搜索的分数为长度归一化的对数概率）",
    "step_plot": "解码器，逐步展示",
    "step_help": ("每一列是一个解码步骤：解码器读入上一个词（从 `<sos>` 开始），给词表中每个词打分，"
                  "选出一个（红框标出），直到选出 `<eos>`。每行是排名靠前的候选词，颜色表示概率；"
                  "紫色柱表示每一步的熵（解码器有多不确定），所有图用同一刻度：0 到 log |V| nats。"
                  "片段前的圆点 · 表示一个新词从这里开始。"),
    "attention_plot": "注意力（仅注意力模型）",
    "tree_plot": "束搜索树（仅束搜索）",
    "samples_table": "不同的样本及其出现次数",
    "samples_plot": "采样分布",
    "whatif": "如果……（在某一步强制换一个词）",
    "whatif_help": "选择上一次翻译中的一步，并为它换一个词。之前的词保持不变，强制使用你选的词，解码器从这里继续。",
    "whatif_step": "步骤",
    "whatif_token": "在该步强制使用的词",
    "whatif_go": "强制并重新解码",
    "whatif_result": "新的译文",
    "compare": "比较",
    "compare_help": "在同一输入上比较贪心、束宽 K 的束搜索和温度 T 的一次采样。",
    "compare_strategies": "比较解码策略",
    "compare_models_help": ("瓶颈：用经典模型（所有信息被压缩进一个上下文向量）和注意力模型（每一步都能回看源句的每个词）"
                            "翻译同一个长句。"),
    "model_a": "模型 A（经典）",
    "model_b": "模型 B（注意力）",
    "compare_models": "比较模型",
    "translation_a": "模型 A 的译文",
    "translation_b": "模型 B 的译文",
    "bleu_length": "按源句长度统计的 BLEU（留出句子）",
    "exposure_intro": (
        "## 曝光偏差\n"
        "训练时，解码器每一步读入的总是**参考译文**中的上一个词（*教师强制*）。测试时，它读入的是**自己**生成的"
        "上一个词（*自由运行*）。一旦出错，它就处在训练中从未见过的情况里，后面的词会越来越差：错误不断累积。\n\n"
        "在下面选择一个留出的句对。蓝线是读入参考译文时正确（gold）词的概率；橙线是读入自己生成的词时同一个概率。"
        "请找到第一次分歧的位置，看看橙线之后如何下降。"),
    "exposure_source": "源句",
    "exposure_reference": "参考译文",
    "exposure_go": "教师强制 vs 自由运行",
    "exposure_table": "逐步比较",
    "exposure_plot": "正确词的概率",
    "curves_intro": (
        "### 在许多句子上\n在约 200 个留出句子上，按目标位置统计的词准确率。教师强制的曲线保持平稳；"
        "自由运行的曲线随句子变长而下降。**补救方法是计划采样**（scheduled sampling，Bengio 等 2015）："
        "训练时越来越多地把模型自己的预测喂给它，让它学会从错误中恢复。比较经典模型与计划采样模型：差距缩小了。"),
    "curve_models": "模型",
    "curve_metric": "度量",
    "curves_go": "计算曲线",
    "curves_plot": "按位置比较教师强制与自由运行",
    "train_intro": (
        "## 训练你自己的模型\n上传平行语料（TSV 文件 `源句<TAB>译文`、带表头的 CSV 文件，或两个逐行对齐的文本文件），"
        "或加载示例语料（厨房与烹饪，这是预训练模型从未见过的领域）。可以微调一个预训练模型，也可以从头训练一个小模型。"
        "你训练的模型只属于你：它只出现在当前浏览器会话的模型列表中，并且可以下载。"),
    "upload": "语料文件：TSV、CSV，或两个对齐的文本文件（每个最大 5 MB）",
    "use_example": "使用示例语料（厨房 中→英）",
    "load_example": "加载示例语料",
    "preview": "预览",
    "preview_table": "前几行",
    "mode": "训练方式",
    "base_model": "要微调的模型",
    "scratch_attention": "从头训练：带注意力",
    "epochs": "轮数（epochs）",
    "lr": "学习率",
    "batch_size": "批大小",
    "teacher_forcing": "教师强制比例（衰减计划的最终值）",
    "schedule": "教师强制计划",
    "time_limit": "时间上限（秒，最多 300）",
    "train": "开始训练",
    "stop": "停止",
    "status": "进度",
    "loss_plot": "损失",
    "samples_after": "留出句子在训练前和每轮之后的翻译",
    "bleu": "训练前后的 BLEU",
    "download": "下载检查点（.s2s）",
    "about": (
        "## 关于\n"
        "经典的 Sutskever 式 LSTM 编码器-解码器（可选注意力变体），一个精简的 PyTorch 核心（`s2s/`）"
        "和这个 Gradio 界面（`demo/`）。\n\n"
        "**数据。** 中英：Tatoeba 句子（tatoeba.org），经 manythings.org/anki 获取，许可 CC-BY 2.0 FR。"
        "德英：Multi30k（Elliott 等 2016，*Multi30K: Multilingual English-German Image Descriptions*），"
        "用于研究和教育。示例训练语料（厨房 中→英）为本项目编写（CC0）。\n\n"
        "**限制。** 超过 100 个 sentencepiece 片段的输入会被截断；上传文件最大 5 MB、最多 20,000 个句对；"
        "训练最长 5 分钟，每个浏览器会话同时只能有一个训练任务。"),
    "err_unknown_model": "未知的模型“{name}”。在“训练”页训练的模型只在训练它的浏览器会话中可见。",
    "err_model_removed": "这个训练好的模型已从服务器删除以释放磁盘空间（闲置或训练的模型超过 {n} 个时会删除）：请重新训练，并下载以便保留。",
    "err_seed": "种子必须是 0 到 {max} 之间的整数：请输入小一些的数。",
    "err_unexpected": "服务器出了问题（{kind}），已记录日志：请重试；如果再次出现，请刷新页面或换一些设置。",
    "err_busy_session": "你已有 {n} 个同类请求在排队或运行：请等它们完成后再试。",
    "err_busy_ip": "你的网络地址已有 {n} 个请求在排队或运行：请等它们完成后再试。",

    "strategy_greedy": "贪心",
    "strategy_beam": "束搜索",
    "strategy_sample": "采样",
    "advanced": "高级解码选项",
    "share": "分享链接",
    "share_link": "这次翻译的链接",
    "share_help": "打开后使用同样的模型、句子和设置（包括随机种子）重新翻译：结果相同。",
    "min_p": "min-p（采样）",
    "min_p_info": "只保留概率至少为最佳词 min-p 倍的词；0 = 关闭。",
    "repetition_penalty": "重复惩罚",
    "repetition_penalty_info": "让句中已出现的词变得不太可能（1 = 关闭，越大越强）。",
    "no_repeat_ngram": "禁止重复的 n 元组",
    "no_repeat_ngram_info": "同一句中绝不两次生成同样的连续 n 个词；0 = 关闭。",
    "beam_groups": "束的分组数（多样化束搜索）",
    "beam_groups_info": "把 K 个束分成若干组并互相推开；必须整除 K（1 = 普通束搜索）。",
    "diversity_penalty": "多样性惩罚",
    "diversity_penalty_info": "一组在同一步避开前面各组已选词的力度。",
    "word_legend": "片段前的圆点 · 表示一个新词从这里开始；没有圆点的片段接在前一个词后面。",
    "whatif_word": "……或输入一个完整的词来强制使用（会被切分成片段）",
    "err_no_checkpoints": "没有找到模型：请把检查点（*.s2s）放到 {folder}。",
    "err_pick_model": "请先选择一个模型。",
    "err_empty": "请先输入一句话（或点击一个示例）。",
    "err_nothing": "没有可翻译的内容：输入中没有模型能读懂的字符。",
    "notice_cut": "注意：输入太长，只翻译了前 {n} 个 sentencepiece 片段（其余部分被截掉）。",
    "hint_script": "提示：这段输入大部分是{found}，但这个模型读的是{expected}：译文很可能没有意义。",
    "hint_unknown": "提示：输入中 {share}% 的片段是这个模型不认识的（&lt;unk&gt;）：译文很可能没有意义。",
    "script_han": "汉字",
    "script_latin": "拉丁字母",
    "script_other": "符号、数字或表情符号",
    "script_expected_zh": "中文",
    "script_expected_de": "德语",
    "script_expected_en": "英语",
    "beam_led": "获胜的假设在每一步都排在束的第一位（贪心搜索也能找到它）。",
    "beam_behind": "获胜的假设在第 {step} 步只排在束中的第 {rank} 位，最后却赢了：贪心搜索会丢掉它。",
    "col_rank": "名次",
    "col_translation": "译文",
    "col_score": "分数",
    "col_logprob": "对数概率",
    "col_pieces": "片段",
    "col_count": "次数",
    "col_strategy": "策略",
    "col_step": "步骤",
    "col_gold": "参考词",
    "col_p_teacher": "p(参考词) 教师强制",
    "col_teacher_choice": "教师强制的选择",
    "col_p_free": "p(参考词) 自由运行",
    "col_free_choice": "自由运行的选择",
    "col_note": "备注",
    "first_divergence": "首次偏离",
    "samples_summary": "在 T = {t} 下抽取 {n} 个样本：**{d} 个不同**的译文。",
    "title_steps": "解码器逐步（{strategy}）",
    "title_sampling": "T = {t} 时的采样分布（第一个样本）",
    "err_translate_first": "请先翻译一句话，然后选择一步并为它换一个词。",
    "err_pick_word": "请选择要在该步强制使用的词，或输入一个词。",
    "err_word_empty": "这个模型无法写出词“{word}”的任何片段。",
    "whatif_notice": "在第 {step} 步强制使用 **{word}**；其余部分用贪心搜索重新解码。之前：*{old}*",
    "title_whatif": "如果第 {step} 步换成“{word}”？",
    "forced": "强制",
    "run_greedy": "贪心",
    "run_beam": "束搜索 K={k}",
    "run_sample": "采样 T={t}",
    "title_bleu": "按源句长度统计的 BLEU（留出句子）",
    "err_reference": "请同时输入参考译文：曝光偏差是相对参考译文来衡量的。",
    "exposure_no_div": "自由运行解码与参考译文完全一致：这个句对没有偏离。请换一个更长的句子。",
    "exposure_summary": ("**第 {step} 步首次偏离**：参考译文是 *{gold}*，模型说的是 *{said}*。在这之后，读入参考译文"
                         "（教师强制）时参考词的平均概率是 **{after_t}**，读入自己生成的词（自由运行）时只有 **{after_f}**。"),
    "err_tick_model": "请至少勾选一个模型（经典模型和计划采样模型最能说明问题）。",
    "metric_accuracy": "词准确率",
    "metric_logprob": "参考词的平均对数概率",
    "curves_explain_accuracy": (
        "**这张图显示：** 在 {n} 个留出句子上，每个目标位置上模型预测对参考词的比例；读入参考译文（教师强制，蓝色）"
        "或读入自己生成的词（自由运行，橙色）；阴影为 95% 区间，灰色柱为每个点平均了多少个句子。"
        "平均差距（教师强制减自由运行）：{gaps}。"),
    "curves_explain_logprob": (
        "**这张图显示：** 在 {n} 个留出句子上，每个目标位置上正确词的平均对数概率；读入参考译文（教师强制，蓝色）"
        "或读入自己生成的词（自由运行，橙色）；阴影为 95% 区间，灰色柱为每个点平均了多少个句子。"
        "平均差距（教师强制减自由运行）：{gaps}。"),
    "curves_gap": "{model} {gap}",
    "curves_narrowing": " 计划采样模型缩小了差距：**{text}**。",
    "curves_source_cached": "为这个检查点预先计算（已核对 SHA-256）。",
    "curves_source_live": "刚刚在留出句对上计算。",
    "plot_no_steps": "没有解码步骤",
    "plot_no_attention": "这个模型没有注意力：解码器只能看到上下文向量",
    "plot_tree_hint": "束搜索时显示束搜索树",
    "plot_no_model": "没有选择模型",
    "plot_nothing": "没有可显示的内容",
    "axis_rank": "名次",
    "axis_entropy": "熵（nats）",
    "axis_probability": "概率",
    "axis_step": "步骤",
    "axis_output_piece": "输出（目标）片段",
    "axis_source_piece": "源句片段",
    "axis_weight": "权重",
    "title_attention": "注意力：每个输出词看向哪里",
    "title_tree": "束搜索树",
    "axis_candidate": "候选（保留的束在前）",
    "tree_winner": "获胜路径",
    "tree_kept": "保留",
    "tree_finished": "完成",
    "tree_pruned": "剪掉",
    "tree_group": "第 {g} 组",
    "title_exposure_steps": "每一步参考词的概率",
    "legend_teacher": "教师强制（读入参考译文）",
    "legend_free": "自由运行（读入自己生成的词）",
    "legend_teacher_short": "教师强制",
    "legend_free_short": "自由运行",
    "legend_band": "95% 区间",
    "legend_sentences": "每个位置的句子数",
    "hover_gold": "参考词",
    "hover_said": "模型说",
    "axis_p_gold": "参考词的概率",
    "axis_reference_token": "参考译文的词",
    "axis_target_position": "目标位置",
    "axis_sentences": "句子数",
    "title_curves": "按目标位置统计的{metric}（留出句子）",
    "axis_source_length": "源句长度（词；中文按字）",
    "hover_sentences": "个句子",
    "loss_train": "训练损失",
    "loss_valid": "验证损失",
    "title_loss": "损失",
    "axis_update_step": "更新步数",
    "axis_xent": "每个词的交叉熵",
    "examples_source": "源句",
    "examples_reference": "参考译文",
}

from . import i18n_export  # noqa: E402 - the download buttons (demo/exports.py)
for _part in (i18n_train, i18n_lesson, i18n_lab, i18n_export):  # strings kept in their own modules
    EN.update(_part.EN)
    ZH.update(_part.ZH)

I18N = gr.I18n(en=EN, zh=ZH, **{"zh-CN": ZH, "zh-TW": ZH})


def t(key: str):
    """The translatable label for `key` (KeyError if the English table lacks it)."""
    EN[key]  # noqa: B018 - fail fast on typos
    return I18N(key)
