"""English and Chinese strings of the lesson views, merged into demo/i18n.py's tables (kept apart so that the
lesson views can grow their strings without touching the shared table).

Every key starts with `lesson_`. Card strings are `lesson_<card>_<part>`: title, idea, setup, question,
c_<choice> (one per answer choice) and why_* (the explanation of the live result); `{name}` fields are filled
by demo/lesson_cards.py from the live model's numbers."""
from __future__ import annotations

EN: dict[str, str] = {
    "tab_lesson": "Lesson",
    "lesson_intro": ("## Lesson: predict, then see\nNine cards, one idea each, on the live models. Read the idea, "
                     "**answer the question first**, then reveal what the model really does."),
    "lesson_lang": "Lesson language",
    "lesson_back": "Back",
    "lesson_next": "Next",
    "lesson_jump": "Jump to card",
    "lesson_progress": "Card {n} of {total}",
    "lesson_prediction": "Your prediction",
    "lesson_reveal": "Reveal the answer",
    "lesson_pick_first": "Pick an answer first: the point is to predict before you see.",
    "lesson_right": "**Right.** ",
    "lesson_wrong": "**Not this time.** The answer is: *{answer}*. ",
    "lesson_link": "Link to this card: [{url}]({url})",
    "lesson_handout": "Handout (print-friendly HTML)",
    "lesson_handout_file": "Handout",
    "lesson_setup_plot": "Before you answer",
    "lesson_reveal_plot": "What the model did",
    "lesson_reveal_plot2": "More of what the model did",
    "lesson_reveal_table": "The numbers",
    "lesson_try": "Try it yourself in the **{tab}** tab.",
    "lesson_missing_model": "This card needs the model **{name}**, which is not installed here.",
    "lesson_handout_title": "Seq2Seq Playground: lesson handout",
    "lesson_handout_intro": ("One page per card: the idea, the question to answer before looking, the numbers, and "
                             "the answer, all computed from the models on {date}."),
    "lesson_handout_question": "Question",
    "lesson_handout_numbers": "The numbers",
    "lesson_handout_answer": "Answer",
    "lesson_col_rank": "rank",
    "lesson_col_model": "model",
    "lesson_col_set": "sentences",
    "lesson_col_before": "BLEU before",
    "lesson_col_after": "BLEU after",
    "lesson_col_position": "target position",
    "lesson_col_count": "sentences that long",
    "lesson_col_teacher": "teacher-forced",
    "lesson_col_free": "free-running",
    "lesson_col_gap": "gap",
    "lesson_col_translation": "translation",
    "lesson_col_count_drawn": "count",
    "lesson_col_bucket": "source length",
    # 1. the context vector
    "lesson_context_title": "1. The context vector",
    "lesson_context_idea": (
        "The encoder reads the whole source sentence and hands its final LSTM state (h, c), the *context vector*, "
        "to the decoder as its starting state. The decoder starts from `<sos>` and writes one word per step until "
        "it writes `<eos>`. At step 1 every sentence feeds the decoder the same `<sos>`: only the context vector "
        "tells it what to say."),
    "lesson_context_setup": ("Model **{model}**, greedy. Below, the decoder's steps for **{a}** → *{text}* (one "
                             "column per step, from `<sos>` to `<eos>`). Next: **{b}**."),
    "lesson_context_question": ("At step 1 the decoder is fed the same `<sos>` for **{a}** and for **{b}**. Will it "
                                "pick the same first word for both?"),
    "lesson_context_c_same": "Yes: the same input gives the same first word",
    "lesson_context_c_different": "No: the start state differs, so the first word can differ",
    "lesson_context_why_different": (
        "For **{a}** it chose *{wa}* (p = {pa:.2f}); for **{b}** it chose *{wb}* (p = {pb:.2f}). The input at "
        "step 1 was `<sos>` both times: the only difference is the start state, the context vector the encoder "
        "computed from each sentence."),
    "lesson_context_why_same": (
        "Both times it chose *{wa}*, but with different probabilities ({pa:.2f} and {pb:.2f}): the input `<sos>` "
        "was the same, the start state (the context vector) was not."),
    # 2. greedy vs beam
    "lesson_beam_title": "2. Greedy is myopic: beam search",
    "lesson_beam_idea": (
        "Greedy search takes the most likely word at every step and never looks back. Beam search keeps the K "
        "best partial translations (hypotheses) at every step and picks the best finished one at the end, so a "
        "hypothesis that starts behind can still win."),
    "lesson_beam_setup": ("Model **{model}**, source **{src}**. Greedy says *{greedy}* (log-prob {glp:.2f}); its "
                          "steps are below. Now beam search with K = {k}."),
    "lesson_beam_question": ("After step 1 the beam holds {k} hypotheses ranked by probability. Will the final "
                             "winner be the one ranked first after step 1?"),
    "lesson_beam_c_first": "Yes, the leader after step 1 wins",
    "lesson_beam_c_behind": "No, a hypothesis that was behind after step 1 wins",
    "lesson_beam_why": ("The winner, *{beam}* (log-prob {blp:.2f}), was ranked **#{rank}** after step 1. Greedy's "
                        "*{greedy}* has log-prob {glp:.2f}. "),
    "lesson_beam_why_behind": "Greedy would have dropped it: a word that looked less likely at first led to a "
                              "more likely sentence.",
    "lesson_beam_why_first": "Here the early leader also won; beam search still compared {k} hypotheses to be sure.",
    # 3. temperature
    "lesson_temperature_title": "3. Sampling and temperature",
    "lesson_temperature_idea": (
        "Sampling draws each word at random from the decoder's distribution instead of taking the top one. The "
        "temperature T divides the scores before the softmax: T < 1 sharpens the distribution towards the top "
        "word, T > 1 flattens it. The same seed gives the same samples."),
    "lesson_temperature_setup": ("Model **{model}**, source **{src}**. Greedy says *{greedy}*; its steps are below. "
                                 "We will draw {n} samples at T = {cold} (seed 0)."),
    "lesson_temperature_question": "What will the {n} samples at T = {cold} be, compared with greedy?",
    "lesson_temperature_c_all": "All of them the greedy translation",
    "lesson_temperature_c_most": "Mostly the greedy translation, a few others",
    "lesson_temperature_c_few": "Mostly different from greedy",
    "lesson_temperature_why": (
        "{same} of {n} samples at T = {cold} were exactly the greedy translation ({distinct_cold} distinct). At "
        "T = {hot} the same seed gave {distinct_hot} distinct translations: a low temperature makes sampling "
        "almost greedy, a high one makes it adventurous (compare the two heatmaps)."),
    # 4. exposure bias, one sentence
    "lesson_exposure_title": "4. Exposure bias on one sentence",
    "lesson_exposure_idea": (
        "In training the decoder is always fed the reference's previous word (*teacher forcing*). At test time it "
        "is fed its own previous word (*free-running*). After its first mistake it is in a situation training "
        "never showed it."),
    "lesson_exposure_setup": ("Model **{model}**. Source **{src}**, reference *{ref}*. On its own (greedy) the "
                              "model says *{own}*; its steps are below."),
    "lesson_exposure_question": (
        "After the first step where the model's own word differs from the reference, how probable are the "
        "reference's next words when the model is fed its own words, compared with teacher forcing?"),
    "lesson_exposure_c_lower": "Much less probable than teacher-forced",
    "lesson_exposure_c_similar": "About as probable (within 0.1)",
    "lesson_exposure_c_higher": "More probable than teacher-forced",
    "lesson_exposure_why": (
        "First divergence at step **{step}**: the reference says *{gold}*, the model said *{said}*. From there on "
        "the reference word's mean probability is **{tp:.2f}** teacher-forced and **{fp:.2f}** free-running."),
    "lesson_exposure_why_none": "Free-running reproduced the reference exactly here: both lines are the same.",
    # 5. the curve over many sentences
    "lesson_curve_title": "5. Exposure bias over many sentences",
    "lesson_curve_idea": (
        "One sentence is an anecdote. Over the held-out sentences we measure, at each target position, how often "
        "the model's top word is the reference word, teacher-forced and free-running. Free-running errors pile "
        "up, so the gap grows along the sentence."),
    "lesson_curve_setup": "Model **{model}**, {n} held-out sentences ({source}).",
    "lesson_curve_question": ("At which target position will free-running accuracy first fall below half of the "
                              "teacher-forced accuracy?"),
    "lesson_curve_c_p1": "Positions 1-3",
    "lesson_curve_c_p4": "Positions 4-6",
    "lesson_curve_c_p7": "Positions 7-9",
    "lesson_curve_c_p10": "Position 10 or later, or never",
    "lesson_curve_why": ("Free-running accuracy first falls below half of teacher-forced at position **{pos}** "
                         "({free:.0%} vs {teacher:.0%}, over {n} sentences that long)."),
    "lesson_curve_why_never": "For this model it never falls below half (positions 1 to {last}).",
    "lesson_source_cache": "precomputed for this exact checkpoint by scripts/precompute_curves.py",
    "lesson_source_live": "computed live",
    # 6. scheduled sampling
    "lesson_scheduled_title": "6. Scheduled sampling narrows the gap",
    "lesson_scheduled_idea": (
        "Scheduled sampling (Bengio et al. 2015) feeds the model its own predictions during training, more and "
        "more often as training goes on, so it learns to carry on after its own mistakes. We compare the gap "
        "between teacher-forced and free-running log p(gold) of the classic and the scheduled-sampling model."),
    "lesson_scheduled_setup": "Models **{a}** and **{b}**, the same held-out sentences ({source}).",
    "lesson_scheduled_question": "Compared with the classic model, the scheduled-sampling model's gap will be...",
    "lesson_scheduled_c_smaller": "Smaller",
    "lesson_scheduled_c_same": "About the same (within 10 %)",
    "lesson_scheduled_c_larger": "Larger",
    "lesson_scheduled_why": (
        "Mean log p(gold) gap, teacher-forced minus free-running, over all target tokens: classic **{gc:.2f}**, "
        "scheduled sampling **{gs:.2f}** ({ratio:.0%} of the classic gap)."),
    # 7. what if
    "lesson_whatif_title": "7. What if?",
    "lesson_whatif_idea": (
        "Each word the decoder writes is its next input. Force a different word at one step, keep the earlier "
        "ones, and let the decoder continue greedily: everything after that step is decoded again from the new "
        "word."),
    "lesson_whatif_setup": ("Model **{model}**, source **{src}**. Greedy says *{text}*. At step {step} it chose "
                            "*{chosen}*; we will force *{forced}* (p = {p:.3f}), its next candidate."),
    "lesson_whatif_question": "After the forced word, will the rest of the translation stay the same as before?",
    "lesson_whatif_c_same": "Yes, only the forced word changes",
    "lesson_whatif_c_changed": "No, the words after it change too",
    "lesson_whatif_why": "Before: *{old}*. After forcing *{forced}* at step {step}: *{new}*. ",
    "lesson_whatif_why_changed": ("The decoder conditions every step on the words it has written, so one new word "
                                  "steers the rest."),
    "lesson_whatif_why_same": "Here the decoder came back to the same continuation after the forced word.",
    # 8. the bottleneck
    "lesson_bottleneck_title": "8. The bottleneck: classic vs attention",
    "lesson_bottleneck_idea": (
        "The classic model squeezes the whole source sentence into one fixed-size context vector, and long "
        "sentences do not fit well. An attention model looks back at every source word at every step. One long "
        "sentence first, then BLEU by source length over held-out sentences."),
    "lesson_bottleneck_setup": ("Source ({words} words; Chinese: characters): **{src}**. Reference: *{ref}*. "
                                "Models: **{a}** (classic) and **{b}** (attention)."),
    "lesson_bottleneck_question": ("Which model's translation of this long sentence will be closer to the reference "
                                   "(chrF, 0-100)?"),
    "lesson_bottleneck_c_classic": "The classic model",
    "lesson_bottleneck_c_attention": "The attention model",
    "lesson_bottleneck_c_tie": "About the same (within 5 chrF points)",
    "lesson_bottleneck_why": (
        "Classic: *{ta}* (chrF {ca:.1f}). Attention: *{tb}* (chrF {cb:.1f}). Over held-out sentences ({source}), "
        "the classic model reaches {short:.0%} of the attention model's BLEU on sentences of 1-10 words and "
        "{long:.0%} on longer ones."),
    # 9. train your own
    "lesson_train_title": "9. Train your own, and forgetting",
    "lesson_train_idea": (
        "Fine-tuning continues training a model on new data, here a small kitchen corpus the shipped models never "
        "saw. It learns the new domain, but nothing asks it to keep the old one: this is *catastrophic "
        "forgetting*. The Train tab does this on your own corpus, with a live loss curve, Stop and download."),
    "lesson_train_setup": (
        "A pre-set fine-tune of **{model}**: {steps} updates on {pairs} kitchen pairs (learning rate {lr:g}, batch "
        "{batch}). We score {nk} held-out kitchen pairs and {ng} everyday (Tatoeba) pairs before and after. It "
        "runs once per server (under a minute on two CPU cores); after that everyone shares the result."),
    "lesson_train_question": ("After fine-tuning on kitchen sentences, what happens to BLEU on the everyday "
                              "(Tatoeba) sentences?"),
    "lesson_train_c_up": "It goes up",
    "lesson_train_c_same": "It stays about the same (within 1 BLEU)",
    "lesson_train_c_down": "It goes down",
    "lesson_train_why": "Everyday sentences: BLEU {gb:.1f} → **{ga:.1f}**. Kitchen sentences: {kb:.1f} → **{ka:.1f}**. ",
    "lesson_train_why_down": "The model moved towards the kitchen and lost some of what it knew: forgetting.",
    "lesson_train_why_other": "This short run did not cost the old domain much; longer runs usually do.",
    "lesson_train_set_general": "everyday (Tatoeba)",
    "lesson_train_set_kitchen": "kitchen",
}

ZH: dict[str, str] = {
    "tab_lesson": "课堂",
    "lesson_intro": "## 课堂：先预测，再观察\n九张卡片，每张一个概念，全部在真实模型上运行。读完概念，**先回答问题**，再揭晓模型实际的表现。",
    "lesson_lang": "课堂语言",
    "lesson_back": "上一张",
    "lesson_next": "下一张",
    "lesson_jump": "跳到卡片",
    "lesson_progress": "第 {n} 张，共 {total} 张",
    "lesson_prediction": "你的预测",
    "lesson_reveal": "揭晓答案",
    "lesson_pick_first": "请先选择一个答案：重点是在看到结果之前先预测。",
    "lesson_right": "**答对了。** ",
    "lesson_wrong": "**这次没猜中。** 正确答案是：*{answer}*。",
    "lesson_link": "本卡片的链接：[{url}]({url})",
    "lesson_handout": "讲义（适合打印的 HTML）",
    "lesson_handout_file": "讲义",
    "lesson_setup_plot": "回答之前",
    "lesson_reveal_plot": "模型的实际表现",
    "lesson_reveal_plot2": "模型的更多表现",
    "lesson_reveal_table": "具体数字",
    "lesson_try": "在 **{tab}** 页中亲自试试。",
    "lesson_missing_model": "这张卡片需要模型 **{name}**，但这里没有安装。",
    "lesson_handout_title": "Seq2Seq 实验场：课堂讲义",
    "lesson_handout_intro": "每张卡片一页：概念、先回答再看的问题、具体数字和答案，全部由模型于 {date} 计算得出。",
    "lesson_handout_question": "问题",
    "lesson_handout_numbers": "具体数字",
    "lesson_handout_answer": "答案",
    "lesson_col_rank": "名次",
    "lesson_col_model": "模型",
    "lesson_col_set": "句子",
    "lesson_col_before": "训练前 BLEU",
    "lesson_col_after": "训练后 BLEU",
    "lesson_col_position": "目标位置",
    "lesson_col_count": "达到该长度的句子数",
    "lesson_col_teacher": "教师强制",
    "lesson_col_free": "自由运行",
    "lesson_col_gap": "差距",
    "lesson_col_translation": "译文",
    "lesson_col_count_drawn": "次数",
    "lesson_col_bucket": "源句长度",
    "lesson_context_title": "1. 上下文向量",
    "lesson_context_idea": (
        "编码器读完整个源句，把最后的 LSTM 状态 (h, c)——即*上下文向量*——交给解码器作为初始状态。解码器从 `<sos>` "
        "开始，每一步写一个词，直到写出 `<eos>`。在第 1 步，每个句子喂给解码器的都是同一个 `<sos>`：只有上下文向量"
        "告诉它该说什么。"),
    "lesson_context_setup": "模型 **{model}**，贪心解码。下面是 **{a}** → *{text}* 的逐步解码（每列一步，从 `<sos>` 到 `<eos>`）。接下来：**{b}**。",
    "lesson_context_question": "在第 1 步，**{a}** 和 **{b}** 喂给解码器的都是同一个 `<sos>`。两句的第一个词会相同吗？",
    "lesson_context_c_same": "会：输入相同，第一个词也相同",
    "lesson_context_c_different": "不会：初始状态不同，第一个词可以不同",
    "lesson_context_why_different": (
        "对 **{a}** 它选了 *{wa}*（p = {pa:.2f}）；对 **{b}** 它选了 *{wb}*（p = {pb:.2f}）。两次第 1 步的输入都是 "
        "`<sos>`：唯一的区别是初始状态，也就是编码器从每个句子算出的上下文向量。"),
    "lesson_context_why_same": (
        "两次都选了 *{wa}*，但概率不同（{pa:.2f} 和 {pb:.2f}）：输入 `<sos>` 相同，初始状态（上下文向量）却不同。"),
    "lesson_beam_title": "2. 贪心是短视的：束搜索",
    "lesson_beam_idea": (
        "贪心搜索每一步都取最可能的词，从不回头。束搜索每一步保留 K 个最好的部分译文（假设），最后选出最好的完整译文，"
        "所以一开始落后的假设仍然可能胜出。"),
    "lesson_beam_setup": "模型 **{model}**，源句 **{src}**。贪心译文：*{greedy}*（对数概率 {glp:.2f}），逐步解码见下图。现在用束宽 K = {k} 的束搜索。",
    "lesson_beam_question": "第 1 步之后，束中有 {k} 个按概率排序的假设。最终胜出的会是第 1 步之后排第一的那个吗？",
    "lesson_beam_c_first": "会，第 1 步领先的假设最终胜出",
    "lesson_beam_c_behind": "不会，第 1 步落后的假设最终胜出",
    "lesson_beam_why": "胜出的 *{beam}*（对数概率 {blp:.2f}）在第 1 步之后排 **第 {rank} 名**。贪心的 *{greedy}* 对数概率为 {glp:.2f}。",
    "lesson_beam_why_behind": "贪心会丢掉它：一开始看起来不太可能的词，最后带来了概率更高的整句。",
    "lesson_beam_why_first": "这里一开始领先的假设也胜出了；束搜索仍然比较了 {k} 个假设才确定。",
    "lesson_temperature_title": "3. 采样与温度",
    "lesson_temperature_idea": (
        "采样时，每个词都从解码器的分布中随机抽取，而不是取最可能的那个。温度 T：在 softmax 之前把分数除以 T。T < 1 让分布更尖锐、"
        "更偏向最可能的词；T > 1 让分布更平坦。相同的种子给出相同的样本。"),
    "lesson_temperature_setup": "模型 **{model}**，源句 **{src}**。贪心译文：*{greedy}*，逐步解码见下图。我们将在 T = {cold}（种子 0）下抽取 {n} 个样本。",
    "lesson_temperature_question": "与贪心相比，T = {cold} 下的 {n} 个样本会是什么样？",
    "lesson_temperature_c_all": "全部都是贪心译文",
    "lesson_temperature_c_most": "大多是贪心译文，少数不同",
    "lesson_temperature_c_few": "大多与贪心不同",
    "lesson_temperature_why": (
        "T = {cold} 下的 {n} 个样本中有 {same} 个与贪心译文完全相同（共 {distinct_cold} 种不同译文）。T = {hot} 时，"
        "同一个种子给出了 {distinct_hot} 种不同译文：低温让采样几乎等于贪心，高温让它更冒险（比较两张热图）。"),
    "lesson_exposure_title": "4. 一个句子上的曝光偏差",
    "lesson_exposure_idea": (
        "训练时，解码器读入的总是参考译文中的上一个词（*教师强制*）。测试时，它读入的是自己生成的上一个词（*自由运行*）。"
        "第一次出错之后，它就处在训练中从未见过的情况里。"),
    "lesson_exposure_setup": "模型 **{model}**。源句 **{src}**，参考译文 *{ref}*。模型自己（贪心）的译文是 *{own}*，逐步解码见下图。",
    "lesson_exposure_question": "在模型自己的词第一次与参考译文不同之后，与教师强制相比，模型读入自己的词时，参考译文后续各词的概率会怎样？",
    "lesson_exposure_c_lower": "比教师强制时低得多",
    "lesson_exposure_c_similar": "差不多（相差不到 0.1）",
    "lesson_exposure_c_higher": "比教师强制时更高",
    "lesson_exposure_why": (
        "第 **{step}** 步首次偏离：参考译文是 *{gold}*，模型说的是 *{said}*。从这里开始，参考词的平均概率在教师强制下为 "
        "**{tp:.2f}**，在自由运行下为 **{fp:.2f}**。"),
    "lesson_exposure_why_none": "这里自由运行完全复现了参考译文：两条线是一样的。",
    "lesson_curve_title": "5. 许多句子上的曝光偏差",
    "lesson_curve_idea": (
        "一个句子只是个例。我们在留出句子上，按目标位置统计模型最可能的词等于参考词的比例，分别在教师强制和自由运行下。"
        "自由运行的错误会累积，所以差距沿着句子越来越大。"),
    "lesson_curve_setup": "模型 **{model}**，{n} 个留出句子（{source}）。",
    "lesson_curve_question": "自由运行的准确率会在哪个目标位置第一次低于教师强制准确率的一半？",
    "lesson_curve_c_p1": "第 1-3 个位置",
    "lesson_curve_c_p4": "第 4-6 个位置",
    "lesson_curve_c_p7": "第 7-9 个位置",
    "lesson_curve_c_p10": "第 10 个位置或之后，或者从不",
    "lesson_curve_why": "自由运行的准确率在第 **{pos}** 个位置第一次低于教师强制的一半（{free:.0%} 对 {teacher:.0%}，基于 {n} 个达到该长度的句子）。",
    "lesson_curve_why_never": "这个模型从未低于一半（位置 1 到 {last}）。",
    "lesson_source_cache": "由 scripts/precompute_curves.py 针对这个检查点预先计算",
    "lesson_source_live": "实时计算",
    "lesson_scheduled_title": "6. 计划采样缩小差距",
    "lesson_scheduled_idea": (
        "计划采样（scheduled sampling，Bengio 等 2015）在训练时把模型自己的预测喂给它，而且随着训练进行越来越频繁，"
        "让它学会在自己出错之后继续。我们比较经典模型和计划采样模型在教师强制与自由运行之间 log p(gold) 的差距。"),
    "lesson_scheduled_setup": "模型 **{a}** 和 **{b}**，同样的留出句子（{source}）。",
    "lesson_scheduled_question": "与经典模型相比，计划采样模型的差距会……",
    "lesson_scheduled_c_smaller": "更小",
    "lesson_scheduled_c_same": "差不多（相差 10 % 以内）",
    "lesson_scheduled_c_larger": "更大",
    "lesson_scheduled_why": (
        "在所有目标词上，教师强制减去自由运行的平均 log p(gold) 差距：经典模型 **{gc:.2f}**，计划采样模型 **{gs:.2f}**"
        "（是经典模型差距的 {ratio:.0%}）。"),
    "lesson_whatif_title": "7. 如果……？",
    "lesson_whatif_idea": (
        "解码器写出的每个词都是它下一步的输入。在某一步强制换一个词，保留之前的词，让解码器继续贪心解码："
        "这一步之后的所有内容都从新词开始重新解码。"),
    "lesson_whatif_setup": "模型 **{model}**，源句 **{src}**。贪心译文：*{text}*。第 {step} 步它选了 *{chosen}*；我们将强制换成 *{forced}*（p = {p:.3f}），即它的下一个候选词。",
    "lesson_whatif_question": "强制换词之后，译文剩下的部分会和之前一样吗？",
    "lesson_whatif_c_same": "会，只有被强制的词变了",
    "lesson_whatif_c_changed": "不会，它后面的词也会变",
    "lesson_whatif_why": "之前：*{old}*。在第 {step} 步强制使用 *{forced}* 之后：*{new}*。",
    "lesson_whatif_why_changed": "解码器的每一步都以它已经写出的词为条件，所以一个新词会引导后面的全部内容。",
    "lesson_whatif_why_same": "这里解码器在被强制的词之后回到了同样的后续。",
    "lesson_bottleneck_title": "8. 瓶颈：经典模型与注意力模型",
    "lesson_bottleneck_idea": (
        "经典模型把整个源句压缩进一个固定大小的上下文向量，长句很难装下。注意力模型在每一步都能回看源句的每个词。"
        "先看一个长句，再看留出句子上按源句长度统计的 BLEU。"),
    "lesson_bottleneck_setup": "源句（{words} 个词；中文按字计）：**{src}**。参考译文：*{ref}*。模型：**{a}**（经典）和 **{b}**（注意力）。",
    "lesson_bottleneck_question": "哪个模型对这个长句的翻译更接近参考译文（chrF，0-100）？",
    "lesson_bottleneck_c_classic": "经典模型",
    "lesson_bottleneck_c_attention": "注意力模型",
    "lesson_bottleneck_c_tie": "差不多（相差 5 个 chrF 点以内）",
    "lesson_bottleneck_why": (
        "经典模型：*{ta}*（chrF {ca:.1f}）。注意力模型：*{tb}*（chrF {cb:.1f}）。在留出句子上（{source}），经典模型在 1-10 "
        "个词的句子上达到注意力模型 BLEU 的 {short:.0%}，在更长的句子上达到 {long:.0%}。"),
    "lesson_train_title": "9. 训练你自己的模型，以及遗忘",
    "lesson_train_idea": (
        "微调就是在新数据上继续训练一个模型，这里用的是预训练模型从未见过的一个小型厨房语料。它学会了新领域，但没有什么"
        "要求它保留旧领域：这就是*灾难性遗忘*。“训练你自己的模型”页可以在你自己的语料上做同样的事，带实时损失曲线、停止和下载。"),
    "lesson_train_setup": (
        "预设的微调：**{model}**，在 {pairs} 个厨房句对上训练 {steps} 步（学习率 {lr:g}，批大小 {batch}）。训练前后分别在 {nk} "
        "个留出的厨房句对和 {ng} 个日常（Tatoeba）句对上打分。每台服务器只运行一次（两个 CPU 核心上不到一分钟），之后大家共享结果。"),
    "lesson_train_question": "在厨房句子上微调之后，日常（Tatoeba）句子上的 BLEU 会怎样？",
    "lesson_train_c_up": "上升",
    "lesson_train_c_same": "基本不变（相差 1 BLEU 以内）",
    "lesson_train_c_down": "下降",
    "lesson_train_why": "日常句子：BLEU {gb:.1f} → **{ga:.1f}**。厨房句子：{kb:.1f} → **{ka:.1f}**。",
    "lesson_train_why_down": "模型向厨房领域靠拢，同时丢掉了一部分原有的知识：这就是遗忘。",
    "lesson_train_why_other": "这次短暂的训练没有让旧领域损失太多；更长的训练通常会。",
    "lesson_train_set_general": "日常（Tatoeba）",
    "lesson_train_set_kitchen": "厨房",
}
