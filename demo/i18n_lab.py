"""English and Chinese strings of the Decoding lab tab (demo/tabs/lab.py, demo/lab.py), merged into demo/i18n.py's
tables. Every key starts with `lab_` (but the tab's title, `tab_lab`); the ones demo/lab.py writes through
`errors.message` use str.format placeholders."""
from __future__ import annotations

EN: dict[str, str] = {
    "tab_lab": "Decoding lab",
    "lab_intro": ("## Decoding lab\nTwo experiments on how the search, not the model, shapes a translation: what a "
                  "wider beam does to length and BLEU, and how to make the n-best list say different things."),
    "lab_model": "Model",
    "lab_curse_intro": (
        "### The beam search curse\nBLEU, output length and the share of empty or too-short outputs as the beam "
        "widens (K on a log scale), ranking the hypotheses by their raw log-probability (α = 0) or by "
        "log-probability divided by a length term (α = 1, length normalisation)."),
    "lab_curse_plot": "BLEU and length by beam size K",
    "lab_curse_table": "The numbers",
    "lab_div_intro": (
        "### Diversity in the search\nThe n-best list of a plain beam search is often the same sentence with a "
        "word changed. Each setting below tries to make the list more varied; all run on the same sentence."),
    "lab_source": "Source sentence",
    "lab_beam_size": "Beam size K (hypotheses in every list)",
    "lab_groups": "Diverse beam: groups",
    "lab_groups_info": ("The K beams are split into groups searched one after another (Vijayakumar et al. 2016); "
                        "the number is rounded down to one that divides K."),
    "lab_diversity_penalty": "Diverse beam: diversity penalty",
    "lab_diversity_penalty_info": ("Subtracted from a word's log-probability once for every earlier group that "
                                   "chose that word at the same step."),
    "lab_ngram": "n-gram blocking: n",
    "lab_ngram_info": "A hypothesis may never repeat a run of n words it already holds (0 = off).",
    "lab_repetition": "Repetition penalty",
    "lab_repetition_info": ("The score of every word already in the hypothesis is divided by this number, so "
                            "repeating it gets less likely (1 = off)."),
    "lab_min_p": "min-p sampling: min-p",
    "lab_min_p_info": ("Sampling keeps only the words whose probability is at least min-p times that of the most "
                       "likely word, so a high temperature cannot pick nonsense (Nguyen et al. 2024)."),
    "lab_temperature": "min-p sampling: temperature",
    "lab_temperature_info": "Above 1 flattens the distribution (more varied samples), below 1 sharpens it.",
    "lab_seed": "Seed (same seed, same samples)",
    "lab_compare": "Compare the five settings",
    "lab_tree": "Beam tree of the diverse beam search, coloured by group",
    "lab_table_plain": "Plain beam search",
    "lab_table_diverse": "Diverse beam search",
    "lab_table_ngram": "Beam search with n-gram blocking",
    "lab_table_repetition": "Beam search with a repetition penalty",
    "lab_table_minp": "min-p sampling (K samples)",
    # written by the server (demo/lab.py)
    "lab_col_k": "K",
    "lab_col_alpha": "α",
    "lab_col_bleu": "BLEU",
    "lab_col_ratio": "length ratio",
    "lab_col_too_short": "too short %",
    "lab_col_empty": "empty %",
    "lab_col_rank": "#",
    "lab_col_group": "group",
    "lab_col_score": "score",
    "lab_col_logprob": "log-prob",
    "lab_col_translation": "translation",
    "lab_empty_output": "(empty)",
    "lab_raw": "raw log-probability (α = 0)",
    "lab_normalised": "length-normalised (α = 1)",
    "lab_axis_k": "beam size K (log scale)",
    "lab_axis_bleu": "BLEU",
    "lab_axis_ratio": "output / reference length",
    "lab_axis_short": "empty or too short (%)",
    "lab_title_curse": "{model}: the beam search curse",
    "lab_where_cached": "{n} sentences of the {split}, precomputed for this checkpoint (SHA-256 checked)",
    "lab_where_live": ("{n} held-out pairs of demo/examples/{file}, measured live just now for this model "
                       "(K up to {kmax})"),
    "lab_curse_explain": (
        "**What the chart shows.** On {where}: with the raw log-probability, widening the beam from K = 1 to "
        "K = {kmax} takes BLEU from {b1} to {bk} (best {bbest} at K = {kbest}) and the output from {r1} to {rk} of "
        "the reference length, with {s1}% → {sk}% of outputs empty or shorter than half their reference; with "
        "length normalisation the output ends at {rn} of the reference length and BLEU at {bn}. "
        "A wider beam finds outputs the model scores higher, and a shorter output has fewer words to pay for, so "
        "raw scores favour ever shorter translations as K grows: the beam search curse (Koehn & Knowles 2017), "
        "which dividing the score by a length term counters."),
    "lab_progress": "Beam search K = {k}, α = {alpha} on {n} held-out pairs",
    "lab_summary": "**How varied is each list of {k}?** (different translations / different words) {counts}.",
    "lab_summary_item": "{name} {d} / {w}",
    "lab_groups_used": "Diverse beam: {g} groups of {w} beams, penalty {p}.",
    "lab_name_plain": "plain beam",
    "lab_name_diverse": "diverse beam",
    "lab_name_ngram": "n-gram blocking",
    "lab_name_repetition": "repetition penalty",
    "lab_name_minp": "min-p sampling",
}

ZH: dict[str, str] = {
    "tab_lab": "解码实验室",
    "lab_intro": ("## 解码实验室\n两个实验，看搜索（而不是模型）如何塑造译文：束变宽时长度和 BLEU 如何变化，"
                  "以及怎样让 n-best 列表说出不同的话。"),
    "lab_model": "模型",
    "lab_curse_intro": (
        "### 束搜索的诅咒\n随着束变宽（K 取对数刻度），BLEU、译文长度以及空的或过短的译文所占的比例如何变化；"
        "假设按原始对数概率排序（α = 0），或按除以长度项的对数概率排序（α = 1，长度归一化）。"),
    "lab_curse_plot": "按束宽 K 统计的 BLEU 和长度",
    "lab_curse_table": "具体数字",
    "lab_div_intro": (
        "### 搜索中的多样性\n普通束搜索的 n-best 列表常常是同一句话只换了一个词。下面每种设置都试图让列表更多样；"
        "它们都在同一个句子上运行。"),
    "lab_source": "源句",
    "lab_beam_size": "束宽 K（每个列表的假设数）",
    "lab_groups": "多样化束搜索：分组数",
    "lab_groups_info": "把 K 个束分成若干组，一组接一组地搜索（Vijayakumar 等 2016）；组数会向下取到能整除 K 的数。",
    "lab_diversity_penalty": "多样化束搜索：多样性惩罚",
    "lab_diversity_penalty_info": "在同一步，前面每有一个组选了某个词，这个词的对数概率就被减去一次这个值。",
    "lab_ngram": "n 元组屏蔽：n",
    "lab_ngram_info": "一个假设绝不重复它已经包含的连续 n 个词（0 = 关闭）。",
    "lab_repetition": "重复惩罚",
    "lab_repetition_info": "假设中已出现的每个词的分数都除以这个数，使重复它变得不太可能（1 = 关闭）。",
    "lab_min_p": "min-p 采样：min-p",
    "lab_min_p_info": "采样时只保留概率至少为最可能词 min-p 倍的词，这样高温度也不会选出无意义的词（Nguyen 等 2024）。",
    "lab_temperature": "min-p 采样：温度",
    "lab_temperature_info": "大于 1 使分布更平（样本更多样），小于 1 使分布更尖。",
    "lab_seed": "随机种子（相同种子，相同样本）",
    "lab_compare": "比较这五种设置",
    "lab_tree": "多样化束搜索的搜索树，按组着色",
    "lab_table_plain": "普通束搜索",
    "lab_table_diverse": "多样化束搜索",
    "lab_table_ngram": "带 n 元组屏蔽的束搜索",
    "lab_table_repetition": "带重复惩罚的束搜索",
    "lab_table_minp": "min-p 采样（K 个样本）",
    "lab_col_k": "K",
    "lab_col_alpha": "α",
    "lab_col_bleu": "BLEU",
    "lab_col_ratio": "长度比",
    "lab_col_too_short": "过短 %",
    "lab_col_empty": "空 %",
    "lab_col_rank": "#",
    "lab_col_group": "组",
    "lab_col_score": "分数",
    "lab_col_logprob": "对数概率",
    "lab_col_translation": "译文",
    "lab_empty_output": "（空）",
    "lab_raw": "原始对数概率（α = 0）",
    "lab_normalised": "长度归一化（α = 1）",
    "lab_axis_k": "束宽 K（对数刻度）",
    "lab_axis_bleu": "BLEU",
    "lab_axis_ratio": "译文长度 / 参考长度",
    "lab_axis_short": "空的或过短的译文（%）",
    "lab_title_curse": "{model}：束搜索的诅咒",
    "lab_where_cached": "{split} 中的 {n} 个句子，为这个检查点预先计算（已核对 SHA-256）",
    "lab_where_live": "demo/examples/{file} 中的 {n} 个留出句对，刚刚为这个模型实时计算（K 最大 {kmax}）",
    "lab_curse_explain": (
        "**图中显示**（数据：{where}）：用原始对数概率时，把束宽从 K = 1 加大到 K = {kmax}，BLEU 从 {b1} 变为 {bk}"
        "（K = {kbest} 时最高，{bbest}），译文长度从参考译文的 {r1} 倍变为 {rk} 倍，空的或短于参考译文一半的译文从 "
        "{s1}% 变为 {sk}%；用长度归一化时，译文长度最终为参考译文的 {rn} 倍，BLEU 为 {bn}。"
        "束越宽，搜索越能找到模型打分更高的译文，而越短的译文要付出代价的词越少，所以 K 越大，原始分数越偏爱更短的译文："
        "这就是束搜索的诅咒（Koehn & Knowles 2017），用长度项去除分数可以抵消它。"),
    "lab_progress": "在 {n} 个留出句对上做束搜索：K = {k}，α = {alpha}",
    "lab_summary": "**每个含 {k} 个译文的列表有多多样？**（不同译文数 / 不同词数）{counts}。",
    "lab_summary_item": "{name} {d} / {w}",
    "lab_groups_used": "多样化束搜索：{g} 组，每组 {w} 个束，惩罚 {p}。",
    "lab_name_plain": "普通束搜索",
    "lab_name_diverse": "多样化束搜索",
    "lab_name_ngram": "n 元组屏蔽",
    "lab_name_repetition": "重复惩罚",
    "lab_name_minp": "min-p 采样",
}
