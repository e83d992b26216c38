"""The UI's plain functions, called directly on tiny checkpoints trained in a fixture (seconds, no shipped files)."""
from __future__ import annotations

import math
import os
import threading
import time
from pathlib import Path

import gradio as gr
import pandas as pd
import plotly.graph_objects as go
import pytest
import torch


torch.set_num_threads(1)


@pytest.fixture(scope="module")
def h(ckpt_dir):
    from demo import handlers

    return handlers


def _heatmap(fig: go.Figure) -> go.Heatmap:
    return next(t for t in fig.data if isinstance(t, go.Heatmap))


# ---------------------------------------------------------------- models


def test_picker_lists_checkpoints_classic_first(ckpt_dir):
    from demo import models

    assert models.model_choices() == ["zh-en-classic", "zh-en-attention", "zh-en-scheduled"]
    assert models.default_model() == "zh-en-classic"
    assert models.model_choices({"mine": "/x.s2s"})[-1] == "mine"


def test_translator_loaded_once_and_shared(ckpt_dir):
    from demo import models

    a = models.get_translator(ckpt_dir / "zh-en-classic.s2s")
    b = models.get_translator(ckpt_dir / "zh-en-classic.s2s")
    assert a is b


@pytest.mark.parametrize("bf16,fp16,expected", [(True, True, "bf16"), (False, True, "fp16"), (False, False, "fp32")])
def test_the_app_decodes_in_the_fastest_precision_that_keeps_the_quality_goals(ckpt_dir, monkeypatch, bf16, fp16,
                                                                                expected):
    """bf16 where the CPU has it, else fp16 weights where they are measured faster (both met the decoding goals on
    every shipped model, README), else fp32; S2S_PRECISION=fp32 asks for the checkpoint's exact weights."""
    from demo import models
    from s2s import packed

    here = {"bf16": packed.bf16_available(), "fp16": packed.fp16_available(), "fp32": True}
    if not here[expected]:
        pytest.skip(f"no {expected} kernels on this CPU to build the model on")
    monkeypatch.setattr(packed, "bf16_available", lambda: bf16)
    monkeypatch.setattr(packed, "fp16_wins", lambda: fp16)
    monkeypatch.setattr(models, "_cache", type(models._cache)())
    t = models.get_translator(ckpt_dir / "zh-en-classic.s2s")
    assert t.precision == expected
    monkeypatch.setattr(models, "_cache", type(models._cache)())
    monkeypatch.setenv("S2S_PRECISION", "fp32")
    assert models.get_translator(ckpt_dir / "zh-en-classic.s2s").precision == "fp32"


# ---------------------------------------------------------------- translate tab


def test_greedy_translation_and_step_heatmap(h):
    text, notice, table, steps, attention, tree, memory = h.translate("我爱你。", "zh-en-classic", "greedy", 5, 1.0)
    assert isinstance(text, str) and text == table["translation"][0]
    assert len(table) == 1 and notice == ""
    heat = _heatmap(steps)
    n = len(memory["tokens"])
    assert len(heat.z[0]) == n  # one column per decoding step
    ticks = steps.layout.xaxis2.ticktext
    assert ticks[0].startswith("1. &lt;sos&gt;→")  # the decoder starts from <sos>
    if memory["tokens"][-1] == 3:
        assert "&lt;eos&gt;" in ticks[-1]  # ... and stops at <eos>
    probs = [row[0] for row in heat.z if row[0] is not None]
    assert probs == sorted(probs, reverse=True) and 0 <= probs[0] <= 1
    assert any(t.name == "entropy (nats)" for t in steps.data)
    assert "no attention" in attention.layout.annotations[0].text  # the classic model has none
    assert "beam search" in tree.layout.annotations[0].text


def test_beam_k1_is_greedy_and_nbest_sorted(h):
    greedy = h.translate("我爱你。", "zh-en-classic", "greedy", 5, 1.0)[0]
    assert h.translate("我爱你。", "zh-en-classic", "beam", 1, 1.0, 1, 0.0)[0] == greedy
    text, notice, table, _, _, tree, _ = h.translate("我爱你。", "zh-en-classic", "beam", 5, 1.0, 5)
    assert len(table) == 5 and list(table["rank"]) == [1, 2, 3, 4, 5]
    assert list(table["score"]) == sorted(table["score"], reverse=True)
    assert table["translation"][0] == text
    names = {t.name for t in tree.data}
    assert {"winning path", "kept", "pruned"} <= names
    assert "winning hypothesis" in notice


def test_winner_path_ends_on_a_finished_eos(h):
    translator = h.get_model("zh-en-classic")
    result = translator.translate_one("我爱你。", h.decode_config("beam", 4, n_best=2)).result
    path = h.winner_positions(result)
    best = result.hypotheses[0]
    if best.tokens[-1] == 3:
        last = result.beam_tree[len(path) - 1]
        assert last.status[path[-1]] == "finished" and last.tokens[path[-1]] == 3
    for t, pos in enumerate(path[:-1]):
        assert result.beam_tree[t].status[pos] == "kept"
        assert result.beam_tree[t].tokens[pos] == best.tokens[t]


def test_attention_heatmap_for_attention_model(h):
    _, _, _, _, attention, _, memory = h.translate("我爱你。", "zh-en-attention", "greedy", 5, 1.0)
    heat = _heatmap(attention)
    assert len(heat.z) == len(memory["tokens"])  # one row per output piece
    assert heat.x[-1].endswith("&lt;eos&gt;")
    assert all(math.isclose(sum(row), 1.0, abs_tol=1e-3) for row in heat.z)


def test_sampling_same_seed_same_sample_and_counts(h):
    a = h.translate("我爱你。", "zh-en-classic", "sample", 5, 1.5, 1, 1.0, 0, 1.0, 7)[0]
    b = h.translate("我爱你。", "zh-en-classic", "sample", 5, 1.5, 1, 1.0, 0, 1.0, 7)[0]
    assert a == b
    summary, table, fig = h.draw_samples("我爱你。", "zh-en-classic", 1.5, 0, 1.0, 3, 20)
    assert table["count"].sum() == 20 and "20 samples" in summary
    assert list(table["count"]) == sorted(table["count"], reverse=True)
    assert len(set(table["translation"])) == len(table)


def test_higher_temperature_flattens_the_distribution(h):
    cold = _heatmap(h.draw_samples("我爱你。", "zh-en-classic", 0.5, 0, 1.0, 1, 5)[2]).z[0][0]
    hot = _heatmap(h.draw_samples("我爱你。", "zh-en-classic", 2.0, 0, 1.0, 1, 5)[2]).z[0][0]
    assert hot < cold  # the top candidate of the first step loses probability as T rises


def test_friendly_errors(h):
    with pytest.raises(gr.Error, match="Type a sentence"):
        h.translate("   ", "zh-en-classic")
    with pytest.raises(gr.Error, match="Unknown model"):
        h.translate("我爱你。", "someone-elses-model")
    with pytest.raises(gr.Error, match="top-p"):
        h.translate("我爱你。", "zh-en-classic", "sample", 5, 1.0, 1, 1.0, 0, 0.0)
    with pytest.raises(gr.Error, match="Translate a sentence first"):
        h.whatif("我爱你。", "zh-en-classic", 1, "10", None)


def test_long_input_is_cut_with_a_notice(h):
    text, notice, *_ = h.translate("我爱你。" * 1250, "zh-en-classic")  # 5,000 characters
    assert "100" in notice and "cut" in notice
    assert isinstance(text, str)


def test_whatif_forces_the_token_and_redecodes(h):
    *_, memory = h.translate("我爱你。", "zh-en-classic", "greedy", 5, 1.0)
    update = h.whatif_tokens(memory, 1)
    choice = update["value"]
    assert choice is not None and choice != str(memory["tokens"][0])
    assert [v for _, v in update["choices"]][0] == str(memory["tokens"][0])
    text, notice, fig = h.whatif("我爱你。", "zh-en-classic", 1, choice, memory)
    translator = h.get_model("zh-en-classic")
    assert h.plots.readable(translator.piece(int(choice))) in notice
    ticks = fig.layout.xaxis2.ticktext
    assert "(forced)" in ticks[0] and "(forced)" not in ticks[-1]  # the forced step is marked, the rest re-decoded
    assert not any(ord(c) > 0xFFFF for tick in ticks for c in tick)  # no emoji: there is no emoji font
    if len(memory["tokens"]) > 2:  # forcing at step 2 keeps step 1
        choice2 = h.whatif_tokens(memory, 2)["value"]
        _, _, fig2 = h.whatif("我爱你。", "zh-en-classic", 2, choice2, memory)
        assert fig2.layout.xaxis2.ticktext[1].count("(forced)") == 1


def test_whatif_offers_readable_candidates_and_forces_a_typed_word(h):
    *_, memory = h.translate("我爱你。", "zh-en-classic", "greedy", 5, 1.0)
    labels = [label for label, _ in h.whatif_tokens(memory, 1)["choices"]]
    assert all("p=" in label and "\u2581" not in label for label in labels)  # probabilities, no raw marker
    assert any(label.startswith("\u00b7") for label in labels)  # word starts are marked with a dot
    translator = h.get_model("zh-en-classic")
    text, notice, fig = h.whatif("我爱你。", "zh-en-classic", 1, None, memory, word="You")
    pieces = translator.target_ids("You")[1:-1]
    ticks = fig.layout.xaxis2.ticktext
    assert sum("(forced)" in tick for tick in ticks) == len(pieces)  # the word's pieces are the forced prefix
    assert text.startswith("You") or text.startswith("you")
    with pytest.raises(gr.Error, match="Pick the word"):
        h.whatif("我爱你。", "zh-en-classic", 1, None, memory, word="  ")


def test_step_heatmap_reads_right(h):
    translator = h.get_model("zh-en-classic")
    _, _, _, cold, *_ = h.translate("我爱你。", "zh-en-classic", "sample", 5, 0.2, 1, 1.0, 0, 1.0, 0)
    _, _, _, hot, *_ = h.translate("我爱你。", "zh-en-classic", "sample", 5, 2.0, 1, 1.0, 0, 1.0, 0)
    top = math.log(len(translator.tgt_vocab))
    for fig in (cold, hot):  # the entropy axis is 0..log|V| whatever the temperature
        assert tuple(fig.layout.yaxis2.range) == pytest.approx((0, top))
    heat = _heatmap(cold)
    assert list(heat.x)[:2] == [1, 2]  # hover says "step 1" for the column labelled "1."
    assert cold.layout.xaxis2.ticktext[0].startswith("1. ")
    assert all("<br>" in cell for cell in heat.text[0] if cell)  # the probability is printed in each cell
    assert not any("\u2581" in cell for row in heat.text for cell in row)


def test_input_in_another_script_gets_a_hint(h):
    assert h.translate("我爱你。", "zh-en-classic")[1] == ""
    notice = h.translate("I love you very much.", "zh-en-classic")[1]
    assert "Latin letters" in notice and "Chinese" in notice
    notice = h.translate("\U0001F600\U0001F600\U0001F600", "zh-en-classic")[1]
    assert "symbols" in notice
    shares = h.script_shares("Ich liebe dich")
    assert shares["latin"] == 1 and shares["han"] == 0


def test_server_text_in_the_page_language(h, monkeypatch):
    from demo import errors

    monkeypatch.setattr(errors, "language", lambda headers=None: "zh")
    text, notice, table, steps, attention, tree, memory = h.translate("我爱你。", "zh-en-classic", "beam", 3, 1.0, 3)
    assert list(table.columns) == ["名次", "分数", "对数概率", "译文", "片段"]
    assert "获胜的假设" in notice
    assert steps.layout.yaxis2.title.text == "熵（nats）" and "束搜索" in steps.layout.title.text
    assert {"获胜路径", "保留"} <= {t.name for t in tree.data}
    fig, explain = h.exposure_curves(["zh-en-classic", "zh-en-scheduled"], "logprob")
    assert "这张图显示" in explain and fig.layout.xaxis3.title.text == "目标位置"
    with pytest.raises(gr.Error, match="请先输入"):
        h.translate(" ", "zh-en-classic")


def test_cleared_panels_hold_no_result(h):
    out = h.cleared_outputs()
    assert len(out) == 17 and out[0] == "" and out[6] is None  # translation and what-if memory gone
    assert all(len(x) == 0 for x in out if isinstance(x, pd.DataFrame))
    assert list(out[2].columns)[:3] == ["rank", "score", "log-prob"]  # numbers first


def test_the_changes_a_shared_link_makes_do_not_clear_its_own_result(h):
    """The box, model and strategy a shared link sets fire clears, which the server can handle after the link's
    translation is on screen (separate requests can cross): a clear whose inputs are still the link's keeps the
    panels; the first change of the visitor's own clears them and forgets the link."""
    linked = h.inputs_key(" 我爱你。 ", "zh-en-classic", "beam")
    assert linked == ["我爱你。", "zh-en-classic", "beam"]
    assert all(x == gr.skip() for x in h.cleared_unless_linked("我爱你。", "zh-en-classic", "beam", linked))
    for other in (("你好。", "zh-en-classic", "beam"), ("我爱你。", "zh-en-attention", "beam"),
                  ("我爱你。", "zh-en-classic", "greedy"), ("", "zh-en-classic", "beam")):
        *panels, forgotten = h.cleared_unless_linked(*other, linked)
        assert panels[0] == "" and panels[6] is None and forgotten is None
    *panels, _ = h.cleared_unless_linked("我爱你。", "zh-en-classic", "beam", None)  # no link: a change clears
    assert len(panels) == 17 and panels[0] == ""


def test_a_result_that_landed_after_its_sentence_changed_is_cleared(h):
    *_, memory = h.translate("我爱你。", "zh-en-classic", "beam", 4, 1.0, 2)
    assert all(x == gr.skip() for x in h.cleared_if_stale(" 我爱你。", "zh-en-classic", "beam", memory))
    assert all(x == gr.skip() for x in h.cleared_if_stale("我爱你。", "zh-en-classic", "beam", None))
    for now in (("你好。", "zh-en-classic", "beam"), ("我爱你。", "zh-en-attention", "beam"),
                ("我爱你。", "zh-en-classic", "greedy")):
        out = h.cleared_if_stale(*now, memory)
        assert out[0] == "" and out[6] is None and len(out[2]) == 0


def test_beam_tree_coloured_by_group(h):
    *_, tree, _ = h.translate("我爱你。", "zh-en-classic", "beam", 4, 1.0, 2, 1.0, 0, 1.0, 0, 0.0, 1.0, 0, 2, 1.0)
    names = {t.name for t in tree.data}
    assert {"group 1", "group 2"} <= names and "kept" not in names
    *_, plain, _ = h.translate("我爱你。", "zh-en-classic", "beam", 4, 1.0, 2)
    assert "kept" in {t.name for t in plain.data}


def test_compare_strategies_and_models(h):
    table = h.compare_strategies("我爱你。", "zh-en-classic", 5, 1.0, 0)
    assert list(table["strategy"]) == ["greedy", "beam K=5", "sample T=1"]
    assert table["translation"][0] == h.translate("我爱你。", "zh-en-classic")[0]
    a, b, fig, notice = h.compare_models("我爱你。", "zh-en-classic", "zh-en-attention")
    assert isinstance(a, str) and isinstance(b, str)
    assert _heatmap(fig) is not None  # the attention model's heatmap


def test_bleu_by_length(h):
    fig = h.bleu_by_length("zh-en-classic", "zh-en-attention", limit=30)
    assert {t.name for t in fig.data} == {"zh-en-classic", "zh-en-attention"}


# ---------------------------------------------------------------- exposure bias tab


def test_exposure_compare_one_pair(h):
    src, ref = "汤姆胸痛，所以去了医院。", "Tom had a pain in his chest, so he went to the hospital."
    summary, table, fig = h.exposure_compare(src, ref, "zh-en-classic")
    translator = h.get_model("zh-en-classic")
    assert len(table) == len(translator.target_ids(ref)) - 1  # every reference token, with <eos>
    assert table["p(gold) teacher-forced"].between(0, 1).all()
    marked = table.index[table["note"] != ""].tolist()
    if marked:
        assert f"step {marked[0] + 1}" in summary
        assert table["free-running choice"][marked[0]] != table["gold token"][marked[0]]
    assert [t.name.split(" ")[0] for t in fig.data] == ["teacher-forced", "free-running"]
    assert list(table.columns[:4]) == ["step", "gold token", "p(gold) teacher-forced", "p(gold) free-running"]
    with pytest.raises(gr.Error, match="reference"):
        h.exposure_compare(src, "", "zh-en-classic")


def test_exposure_curves_side_by_side_and_cached(h):
    fig, text = h.exposure_curves(["zh-en-classic", "zh-en-scheduled"], "accuracy")
    assert fig.layout.annotations[1].text == "zh-en-scheduled"
    names = [t.name for t in fig.data]
    assert names.count("teacher-forced") == 2 and names.count("free-running") == 2
    counts = [t for t in fig.data if t.name == "sentences per position"]
    assert len(counts) == 2 and min(counts[0].y) >= h.MIN_SENTENCES  # too-thin positions are cut
    band = next(t for t in fig.data if t.fill == "toself")
    assert min(band.y) >= 0 and max(band.y) <= 1
    assert "gap" in text and "zh-en-classic" in text and "→" in text  # the measured gaps, printed
    first = h.cached_curve("zh-en-classic")
    assert h.cached_curve("zh-en-classic") is first  # computed once per model
    assert len(first.positions) > 3 and max(first.teacher_accuracy) <= 1
    logp, _ = h.exposure_curves(["zh-en-classic"], "logprob")
    assert max(next(t for t in logp.data if t.name == "teacher-forced").y) <= 0
    with pytest.raises(gr.Error):
        h.exposure_curves([], "accuracy")


def test_default_curve_models(h):
    assert h.default_curve_models(["zh-en-classic", "zh-en-attention", "zh-en-scheduled"]) == \
        ["zh-en-classic", "zh-en-scheduled"]
    assert h.default_curve_models(["a", "b", "c"]) == ["a", "b"]


# ---------------------------------------------------------------- train tab


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def test_preview_example_corpus(ckpt_dir):
    from demo import training

    summary, head = training.preview(None, True, "zh-en-classic")
    assert "sentence pairs" in summary and "covers" in summary
    assert list(head.columns) == ["source", "target"] and len(head) == 10


def test_preview_two_aligned_files_english_second(tmp_path, ckpt_dir):
    from demo import training

    en = _write(tmp_path / "c.en", b"Hello.\nGood night.\n")
    zh = _write(tmp_path / "c.zh", "你好。\n晚安。\n".encode())
    summary, head = training.preview([en, zh], False, "zh-en-classic")
    assert head["source"][0] == "你好。" and head["target"][0] == "Hello."
    assert "2 sentence pairs" in summary


@pytest.mark.parametrize("name,data,message", [
    ("bad.tsv", b"\xff\xfe\x00bad", "bad.tsv:1"),
    ("latin.tsv", "ok\tfine\ncaf\xe9\tcafe\n".encode("latin-1"), "latin.tsv:2: not valid UTF-8"),
    ("empty.tsv", b"", "empty"),
    ("notab.tsv", b"a\tb\nno tab here\n", "notab.tsv:2: no TAB"),
    ("bin.tsv", b"a\tb\n\x00\x01\x02", "bin.tsv:2: binary"),
])
def test_bad_files_get_a_clear_message(tmp_path, name, data, message):
    from demo import training

    with pytest.raises(gr.Error, match=message):
        training.preview([_write(tmp_path / name, data)], False)


def test_mismatched_and_oversized_files(tmp_path, monkeypatch):
    from demo import training

    a = _write(tmp_path / "a.zh", "一\n二\n三\n".encode())
    b = _write(tmp_path / "a.en", b"one\ntwo\n")
    with pytest.raises(gr.Error, match="2 lines but a.zh has 3"):
        training.preview([a, b], False)
    monkeypatch.setattr(training, "MAX_UPLOAD_BYTES", 10)
    with pytest.raises(gr.Error, match="limit is"):
        training.preview([a], False)
    with pytest.raises(gr.Error, match="Upload"):
        training.preview(None, False)


def test_pair_cap(tmp_path, monkeypatch):
    from demo import training

    monkeypatch.setattr(training, "MAX_PAIRS", 3)
    path = _write(tmp_path / "many.tsv", "".join(f"句{i}\ts{i}\n" for i in range(10)).encode())
    summary, _ = training.preview([path], False)
    assert "first 3 are used" in summary


def _run_training(session: str, stop_after: int | None, **kw):
    from demo import training

    args = dict(files=None, use_example=True, mode="fine-tune", base_model="zh-en-classic", epochs=2, lr=1e-3,
                batch_size=32, teacher_forcing=1.0, schedule="constant", time_limit=60, attention=True,
                session_models={}, session_id=session)
    args.update(kw)
    outputs = []
    for i, out in enumerate(training.train(**args)):
        outputs.append(out)
        if stop_after is not None and i == stop_after:
            assert training.stop_training(session).startswith("Stopping")
    return outputs


def test_fine_tune_adds_a_session_model(ckpt_dir):
    from demo import handlers, training

    outputs = _run_training("s-finetune", None)
    status, loss, samples, bleu, session_models, download = outputs[-1]
    assert "100%" in status and "epochs done" in status
    assert "before" in bleu and "after" in bleu
    assert {"source", "reference", "before", "after epoch 1", "after epoch 2", "after training"} <= set(samples)
    assert len(loss.data[1].y) >= 2  # validation losses were plotted as they came
    (name, path), = session_models.items()
    assert Path(download) == Path(path) and Path(path).is_file()
    assert name not in handlers.models.model_choices()  # other visitors never see it
    assert handlers.translate("把洋葱切成小丁。", name, session_models=session_models)[0] is not None
    assert not training.is_training("s-finetune")


def test_stop_halfway_leaves_a_usable_model(ckpt_dir):
    from demo import handlers, training

    outputs = _run_training("s-stop", stop_after=3, epochs=20, time_limit=120)
    status, loss, _, _, session_models, download = outputs[-1]
    assert "stopped" in status and "100%" not in status  # the bar stays where the run stopped
    steps = int(status.split("after ")[1].split(" updates")[0])
    assert 0 < steps < 20 * 11  # stopped halfway: some updates, far from 20 epochs
    (name, path), = session_models.items()
    text = handlers.translate("把洋葱切成小丁。", name, session_models=session_models)[0]
    assert isinstance(text, str)
    assert training.stop_training("s-stop") == "No training is running."


def test_one_job_per_session(ckpt_dir):
    from demo import training

    job = training.claim_job("s-busy")
    try:
        with pytest.raises(gr.Error, match="already running"):
            next(training.train(None, True, "fine-tune", "zh-en-classic", 1, 1e-3, 32, 1.0, "constant", 10, True,
                                {}, "s-busy"))
        other = training.claim_job("s-other")  # another visitor is not blocked
        training.release_job("s-other", other)
    finally:
        training.release_job("s-busy", job)


def test_train_from_scratch(ckpt_dir):
    outputs = _run_training("s-scratch", None, mode="scratch", epochs=1, base_model=None, attention=False)
    *_, session_models, download = outputs[-1]
    (name, _), = session_models.items()
    assert "scratch" in name and Path(download).is_file()


def test_stop_event_is_per_session(ckpt_dir):
    from demo import training

    job = training.claim_job("s-a")
    try:
        training.stop_training("s-b")
        assert not job.stop.is_set()
        training.stop_training("s-a")
        assert job.stop.is_set()
    finally:
        training.release_job("s-a", job)


# ---------------------------------------------------------------- app


def test_i18n_tables_match():
    from demo.i18n import EN, ZH

    assert set(EN) == set(ZH)
    assert all(ZH[k].strip() for k in ZH)


def test_app_builds_without_loading_models(ckpt_dir):
    from demo import models
    from demo.app import build_demo

    models._cache.clear()
    demo = build_demo()
    assert not models._cache  # nothing loaded at build time
    names = {d.api_name for d in demo.fns.values()}
    assert {"translate", "draw_samples", "whatif", "compare_strategies", "compare_models", "exposure",
            "exposure_curves", "train", "stop", "preview"} <= names
    assert all(d.api_name for d in demo.fns.values())


def test_refresh_pickers_keeps_session_models(ckpt_dir):
    from demo.app import refresh_pickers

    updates = refresh_pickers({"mine": "/tmp/x.s2s"}, "mine", None, "gone", "zh-en-classic", ["zh-en-classic"], None)
    assert updates[0]["choices"][-1] == "mine" and updates[0]["value"] == "mine"
    assert updates[1]["value"] == "zh-en-classic" and updates[2]["value"] == "zh-en-classic"
    assert updates[4]["value"] == ["zh-en-classic"]


def test_translations_run_concurrently(h):
    results, errors = [], []

    def call():
        try:
            results.append(h.translate("我爱你。", "zh-en-classic", "beam", 3, 1.0)[0])
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(results)) == 1 and len(results) == 8


def test_tables_are_dataframes(h):
    assert isinstance(h.translate("我爱你。", "zh-en-classic")[2], pd.DataFrame)


def test_no_checkpoints_gives_a_clear_message(tmp_path, monkeypatch):
    from demo import handlers, models
    from demo.app import build_demo

    monkeypatch.setenv("S2S_CHECKPOINTS_DIR", str(tmp_path))
    assert models.model_choices() == [] and models.default_model() is None
    build_demo()  # the page still builds
    with pytest.raises(gr.Error, match="No model found"):
        handlers.translate("我爱你。", None)


def test_session_files_removed_when_the_session_ends(tmp_path, ckpt_dir):
    import shutil

    from demo import models

    folder = tmp_path / "s2s-playground-x"
    folder.mkdir()
    path = folder / "mine.s2s"
    shutil.copy(ckpt_dir / "zh-en-classic.s2s", path)
    models.get_translator(path)
    models.delete_session_models({"mine": str(path)})
    assert not path.exists() and not folder.exists()
    assert str(path.resolve()) not in models._cache


# ---------------------------------------------------------------- errors, bounds, session files (issue 12)


def test_every_event_handler_is_friendly(ckpt_dir):
    from demo.app import build_demo

    demo = build_demo()
    ours = [fn for fn in demo.fns.values() if fn.fn is not None and not fn.api_name.startswith("load_example")]
    assert len(ours) > 15 and all(getattr(fn.fn, "friendly", False) for fn in ours)  # not gr.Examples' own
    seed = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "seed")
    assert seed.minimum == 0 and seed.maximum == 2**32 - 1


def test_unexpected_errors_are_logged_and_shown_as_one_sentence(caplog):
    from demo.errors import friendly

    @friendly
    def broken():
        raise ZeroDivisionError("division by zero")

    with pytest.raises(gr.Error) as shown:
        broken()
    assert "went wrong on the server (ZeroDivisionError)" in shown.value.message
    assert "try again" in shown.value.message and shown.value.__context__ is None
    assert "Traceback" in caplog.text and "division by zero" in caplog.text


def test_known_errors_show_their_own_line():
    from demo.errors import friendly
    from s2s.checkpoint import CheckpointError
    from s2s.data import CorpusError

    @friendly
    def load(err):
        raise err

    with pytest.raises(gr.Error) as shown:
        load(CheckpointError("bad.s2s: header too large\nsecond line"))
    assert shown.value.message == "bad.s2s: header too large"
    with pytest.raises(gr.Error, match="c.tsv:3: no tab"):
        load(CorpusError("c.tsv", "no tab", line=3))
    with pytest.raises(gr.Error, match="Unknown model 'nope'"):
        load(KeyError("nope"))

    @friendly
    def steps():
        yield 1
        raise CheckpointError("x.s2s: NaN weights")

    with pytest.raises(gr.Error, match="NaN weights"):
        list(steps())


def test_messages_follow_the_browser_language():
    from demo.errors import language, message

    assert language({"accept-language": "zh-CN,zh;q=0.9"}) == "zh"
    assert language({"accept-language": "en-US,zh;q=0.5"}) == "en"
    assert "种子" in message("err_seed", "zh", max=9) and "seed" in message("err_seed", "en", max=9)


@pytest.mark.parametrize("seed", [1e30, -1, float("nan"), float("inf"), "abc"])
def test_seed_out_of_range_is_a_clear_message(h, seed):
    with pytest.raises(gr.Error, match="seed must be a whole number"):
        h.translate("我爱你。", "zh-en-classic", "sample", 5, 1.0, 1, 1.0, 0, 1.0, seed)


def test_seed_at_the_bounds_works(h):
    assert h.translate("我爱你。", "zh-en-classic", "sample", 5, 1.0, 1, 1.0, 0, 1.0, 2**32 - 1)[0] is not None


def test_bleu_by_length_is_cached_per_model_file(h, monkeypatch):
    first = h.length_scores("zh-en-classic", limit=20)
    monkeypatch.setattr(h, "scores_by_length", lambda *a: pytest.fail("recomputed"))
    assert h.length_scores("zh-en-classic", limit=20) is first


def _fake_model(tmp_path, name: str) -> Path:
    from demo import session_files

    os.environ["GRADIO_TEMP_DIR"] = str(tmp_path)
    path = session_files.new_path(name)
    path.write_bytes(b"x" * 100)
    return path


def test_session_models_are_capped_and_deleted_with_their_session(tmp_path, monkeypatch):
    from demo import session_files

    monkeypatch.setenv("S2S_MAX_SESSION_MODELS", "2")
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    a1, a2, b1 = (_fake_model(tmp_path, n) for n in ("a 1", "a 2", "b 1"))
    session_files.register("a", a1)
    session_files.register("a", a2)
    session_files.touch(a1)  # used: a2 is now the least recently used
    session_files.register("b", b1)
    assert a1.exists() and not a2.exists() and not a2.parent.exists() and b1.exists()
    assert session_files.end_session("a") == 1
    assert not a1.exists() and b1.exists()
    session_files.sweep(now=time.monotonic() + session_files.idle_seconds() + 1)  # idle too long
    assert not b1.exists() and not session_files.tracked()


def test_a_removed_session_model_gets_a_clear_message(h, tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    gone = _fake_model(tmp_path, "gone")
    gone.unlink()
    with pytest.raises(gr.Error, match="removed from the server to free disk space"):
        h.translate("我爱你。", "mine", session_models={"mine": str(gone)})


def test_training_saves_into_an_unguessable_folder_and_registers_the_model(ckpt_dir, tmp_path, monkeypatch):
    from demo import session_files

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    *_, session_models, download = _run_training("s-files", None, epochs=1)[-1]
    path = Path(download)
    assert path.parent.parent == tmp_path and path.parent.name.startswith(session_files.PREFIX)
    assert str(path) in session_files.tracked()
    session_files.end_session("s-files")
    assert not path.exists()


def test_the_translate_button_sends_the_text_before_the_figures(ckpt_dir):
    from demo import handlers

    args = ("我爱你。", "zh-en-attention", "beam", 3, 1.0, 3)
    first, last = list(handlers.translate_stream(*args))
    whole = handlers.translate(*args)
    assert first[0] == last[0] == whole[0] and first[6] == whole[6]
    assert all(isinstance(x, type(gr.skip())) for x in first[3:6])  # no figure yet in the first message
    assert [type(x) for x in last[3:6]] == [type(x) for x in whole[3:6]] and last[3] is not None
