"""The Decoding lab's handlers (demo/lab.py, demo/tabs/lab.py) on tiny checkpoints trained in a fixture: the beam
curse chart reads a shipped checkpoint's cache and measures any other model live; the diversity panel's settings."""
from __future__ import annotations

import json
import shutil

import gradio as gr
import pytest
import sacrebleu
import torch

from s2s import evaluate


torch.set_num_threads(1)
SOURCE = "我爱你。"


@pytest.fixture(scope="module")
def lab(ckpt_dir):
    from demo import lab

    return lab


def own_model(ckpt_dir, tmp_path, name: str = "mine") -> dict:
    """A session's own model: a fresh copy of a tiny checkpoint (a new file, so nothing is memoised for it)."""
    path = tmp_path / f"{name}.s2s"
    shutil.copy(ckpt_dir / "zh-en-classic.s2s", path)
    return {name: str(path)}


def fake_cache(path, sha: str) -> dict:
    """A beam-curse cache with numbers no tiny model would measure, in scripts/beam_curse.py's format."""
    rows = [{"beam_size": k, "length_penalty": a, "bleu": 40.0 + k / 10 + a, "chrf": 50.0,
             "length_ratio": 1.0 - k / 100 * (1 - a), "mean_output_words": 7.0, "mean_reference_words": 7.5,
             "empty_share": k / 1000, "too_short_share": k / 500 * (1 - a / 2), "seconds": 1.0}
            for a in (0.0, 1.0) for k in (1, 2, 3, 5, 10, 20, 50)]
    data = {"model": path.stem, "checkpoint": path.name, "checkpoint_sha256": sha, "made_by": "scripts/beam_curse.py",
            "split": "Tatoeba zh-en validation split (data/tatoeba-zh-en/valid.tsv, made by scripts/prepare_data.py)",
            "sentences": 300, "rows": rows}
    path.with_name(f"{path.stem}.beam_curse.json").write_text(json.dumps(data), "utf-8")
    return data


def traces(fig, name: str) -> list:
    return [t for t in fig.data if t.name == name]


# ---------------------------------------------------------------- the beam search curse


def test_shipped_model_uses_its_cached_curve(lab, ckpt_dir, monkeypatch):
    from demo.cache import file_sha256

    path = ckpt_dir / "zh-en-classic.s2s"
    data = fake_cache(path, file_sha256(path))
    monkeypatch.setattr(lab, "measure", lambda *a: pytest.fail("a cached model must not be decoded"))
    fig, text, table = lab.beam_curse("zh-en-classic")
    raw = sorted((r for r in data["rows"] if r["length_penalty"] == 0.0), key=lambda r: r["beam_size"])
    bleu_raw, ratio_raw, short_raw = traces(fig, "raw log-probability (α = 0)")
    assert list(bleu_raw.x) == [1, 2, 3, 5, 10, 20, 50]
    assert list(bleu_raw.y) == [r["bleu"] for r in raw]
    assert list(ratio_raw.y) == [r["length_ratio"] for r in raw]
    assert list(short_raw.y) == pytest.approx([100 * r["too_short_share"] for r in raw])
    assert fig.layout.xaxis.type == "log" and fig.layout.xaxis3.type == "log"
    assert len(table) == 14 and list(table["BLEU"])[:7] == [round(r["bleu"], 2) for r in raw]
    assert "300 sentences of the Tatoeba zh-en validation split, precomputed" in text
    assert "K = 1 to K = 50 takes BLEU from 40.1 to 45.0" in text and "from 0.99 to 0.50" in text


def test_a_stale_cache_is_measured_live(lab, ckpt_dir):
    path = ckpt_dir / "zh-en-attention.s2s"
    fake_cache(path, "0" * 64)  # computed from another file
    fig, text, table = lab.beam_curse("zh-en-attention")
    assert sorted(set(table["K"])) == [1, 2, 3, 5, 10, 20]
    assert "50 held-out pairs of demo/examples/heldout_zh_en.tsv, measured live" in text
    assert max(traces(fig, "length-normalised (α = 1)")[0].x) == 20


def test_own_model_measured_live_on_held_out_pairs(lab, ckpt_dir, tmp_path):
    from demo import models
    from demo.cache import file_sha256
    from s2s.config import DecodeConfig

    session = own_model(ckpt_dir, tmp_path)
    fake_cache(tmp_path / "mine.s2s", file_sha256(tmp_path / "mine.s2s"))  # a session model's cache is not trusted
    calls = []
    curse = lab.curse_data("mine", session, progress=lambda done, desc: calls.append((done, desc)))
    assert curse.live and curse.sentences == 50
    assert [(r["length_penalty"], r["beam_size"]) for r in curse.rows] == \
        [(a, k) for a in (0.0, 1.0) for k in (1, 2, 3, 5, 10, 20)]
    assert [done for done, _ in calls] == [(i, 12) for i in range(12)] and "K = 20" in calls[5][1]
    pairs = lab.live_pairs("mine")
    assert len(pairs) == 50 and pairs[0] == models.heldout_pairs("zh-en")[0]
    translator = models.get_translator(session["mine"])
    greedy = [t.text for t in translator.translate([s for s, _ in pairs], DecodeConfig(record_top=0))]
    refs = [r for _, r in pairs]
    assert curse.rows[0]["bleu"] == pytest.approx(sacrebleu.corpus_bleu(greedy, [refs]).score)  # beam 1 = greedy
    assert curse.rows[0]["too_short_share"] == sum(evaluate.too_short(h, r) for h, r in zip(greedy, refs)) / 50


def test_lab_opens_with_the_sessions_models(ckpt_dir, tmp_path):
    from demo.tabs import lab as tab

    session = own_model(ckpt_dir, tmp_path, "yours")
    picker, fig, text, table, empty = tab.open_lab(session, "yours")
    assert picker["choices"][-1] == "yours" and picker["value"] == "yours"
    assert "measured live" in text and len(empty) == 5 and all(len(frame) == 0 for frame in empty)
    assert tab.refresh_model({}, "yours")["value"] == "zh-en-classic"  # a model of another session is not kept


# ---------------------------------------------------------------- diversity in the search


def test_diverse_beam_with_one_group_is_plain_beam(lab, ckpt_dir):
    summary, plain, diverse, *_ = lab.diversity(SOURCE, "zh-en-classic", 4, 1, 3.0, 0, 1.0, 0.1, 1.0, 0)
    assert len(plain) == 4
    assert list(diverse["translation"]) == list(plain["translation"])
    assert list(diverse["score"]) == list(plain["score"]) and set(diverse["group"]) == {1}
    assert "1 groups of 4 beams" in summary


def test_diverse_beam_tree_coloured_by_group(lab, ckpt_dir):
    *_, diverse, _, _, _, tree = lab.diversity(SOURCE, "zh-en-classic", 6, 3, 2.0, 0, 1.0, 0.1, 1.0, 0)
    names = {t.name for t in tree.data}
    assert {"group 1", "group 2", "group 3"} <= names and "kept" not in names
    assert set(diverse["group"]) <= {1, 2, 3}
    one_group_tree = lab.diversity(SOURCE, "zh-en-classic", 6, 1, 2.0, 0, 1.0, 0.1, 1.0, 0)[-1]
    assert "kept" in {t.name for t in one_group_tree.data} and "group 1" not in {t.name for t in one_group_tree.data}


def test_groups_rounded_to_a_divisor_of_k(lab, ckpt_dir):
    summary = lab.diversity(SOURCE, "zh-en-classic", 6, 4, 1.0, 0, 1.0, 0.1, 1.0, 0)[0]
    assert "3 groups of 2 beams, penalty 1" in summary


def test_unigram_blocking_never_repeats_a_word(lab, ckpt_dir):
    """Over the tiny model's first 30 training sources (which of them it repeats a word on moves with its training),
    plain beam search repeats somewhere and the blocked beams never do."""
    from ui_fixtures import tiny_pairs

    plain_repeats = 0
    for source, _ in tiny_pairs()[:30]:
        out = lab.diversity(source, "zh-en-classic", 5, 1, 0.0, 1, 1.0, 0.1, 1.0, 0)
        plain, blocked = out[1]["translation"], out[3]["translation"]
        plain_repeats += sum(len(t.split()) > len(set(t.split())) for t in plain)
        assert len(blocked) == 5
        for text in blocked:
            words = text.split()
            assert len(words) == len(set(words)), (source, text)
    assert plain_repeats  # the tiny model does repeat itself on some of them: the blocking has work to do


def test_min_p_samples_follow_the_seed(lab, ckpt_dir):
    a = lab.diversity(SOURCE, "zh-en-classic", 5, 1, 0.0, 0, 1.0, 0.2, 2.0, 7)[5]
    b = lab.diversity(SOURCE, "zh-en-classic", 5, 1, 0.0, 0, 1.0, 0.2, 2.0, 7)[5]
    assert len(a) == 5 and a.equals(b)


def test_empty_source_is_refused(lab, ckpt_dir):
    with pytest.raises(gr.Error, match="Type a sentence"):
        lab.diversity("  ", "zh-en-classic")


# ---------------------------------------------------------------- languages


def test_outputs_in_chinese_when_the_page_is_chinese(lab, ckpt_dir, monkeypatch):
    from demo import errors

    from demo.cache import file_sha256

    path = ckpt_dir / "zh-en-classic.s2s"
    fake_cache(path, file_sha256(path))
    monkeypatch.setattr(errors, "language", lambda headers=None: "zh")
    fig, text, table = lab.beam_curse("zh-en-classic")
    assert text.startswith("**图中显示**") and "Tatoeba zh-en validation split 中的 300 个句子" in text
    assert list(table.columns) == ["K", "α", "BLEU", "长度比", "过短 %", "空 %"]
    assert {t.name for t in fig.data} == {"原始对数概率（α = 0）", "长度归一化（α = 1）"}
    assert fig.layout.xaxis.title.text == "束宽 K（对数刻度）"
    summary, plain, diverse, *_, tree = lab.diversity(SOURCE, "zh-en-classic", 4, 2, 2.0, 0, 1.0, 0.1, 1.0, 0)
    assert "有多多样" in summary and "2 组，每组 2 个束" in summary
    assert list(plain.columns) == ["#", "译文", "分数", "对数概率"]
    assert list(diverse.columns) == ["#", "组", "译文", "分数", "对数概率"]
    assert {"第 1 组", "第 2 组"} <= {t.name for t in tree.data}
    with pytest.raises(gr.Error, match="请先输入"):
        lab.diversity(" ", "zh-en-classic")
