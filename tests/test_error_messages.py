"""The core's error messages in the visitor's language (issue 10): every error raised in s2s/ carries a message key
and its values (s2s/messages.py); the CLI prints the English template, the web demo says it in Chinese from
demo/i18n_errors.py when the page is Chinese. Same keys, same {placeholders}, in both tables."""
from __future__ import annotations

import pickle
import re
import string
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest

from s2s.messages import EN, Text

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")


def _placeholders(template: str) -> list[str]:
    return sorted(name for _, name, _, _ in string.Formatter().parse(template) if name is not None)


def test_every_core_message_has_a_chinese_template_with_the_same_placeholders():
    from demo.i18n_errors import ZH

    assert sorted(EN) == sorted(ZH)
    assert {k: _placeholders(EN[k]) for k in EN} == {k: _placeholders(ZH[k]) for k in ZH}
    assert not [k for k in EN if ZH[k] == EN[k]]  # translated, not copied
    assert not [k for k in ZH if k != "ckpt_refused" and not CJK.search(ZH[k])]


def test_every_key_raised_in_the_core_is_in_the_table_and_every_key_is_raised():
    used = set()
    for path in sorted((ROOT / "s2s").glob("*.py")):
        if path.name != "messages.py":
            source = path.read_text(encoding="utf-8")
            used |= set(re.findall(r'\.of\(\s*"(\w+)"', source))  # Error.of("key", ...)
            used |= set(re.findall(r'"(cfg_\w+)"', source))  # config checks: _require(ok, "cfg_...", ...)
            used |= set(re.findall(r'Text\("(\w+)"', source))  # nested words
    assert used - set(EN) == set()
    assert set(EN) - used == set()


def test_a_keyed_error_prints_english_and_keeps_its_key_values_and_pickles():
    from s2s.data import CorpusError, parse_pairs

    with pytest.raises(CorpusError) as info:
        parse_pairs(b"a\tb\nno tab here\n", "c.tsv")
    err = info.value
    assert str(err) == "c.tsv:2: no TAB: expected 'source<TAB>target'"
    assert err.key == "corpus_no_tab" and err.values == {"file": "c.tsv", "line": 2}
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is CorpusError and str(back) == str(err) and back.key == err.key
    legacy = CorpusError("old.tsv", "said the old way", 3)  # still accepted (the CLI's own checks)
    assert str(legacy) == "old.tsv:3: said the old way" and legacy.key is None


def test_nested_reasons_are_said_in_the_same_language(tmp_path):
    from demo.errors import core_text
    from s2s.checkpoint import CheckpointError, load
    from s2s.config import ConfigError, ModelConfig
    from s2s.messages import reason

    with pytest.raises(CheckpointError) as info:
        load(tmp_path / "missing.s2s")
    assert str(info.value) == f"{tmp_path / 'missing.s2s'}: checkpoint not found"
    assert core_text(info.value, "zh") == f"{tmp_path / 'missing.s2s'}：找不到检查点"
    with pytest.raises(ConfigError) as config:
        ModelConfig(hidden=6000)
    nested = CheckpointError.of("ckpt_refused", file="m.s2s",
                                problem=Text("ckpt_bad_config", {"what": "model", "reason": reason(config.value)}))
    assert str(nested) == "m.s2s: corrupt checkpoint metadata: model: hidden must be in [1, 4096], got 6000"
    assert core_text(nested, "zh") == "m.s2s：检查点元数据损坏：model：hidden 必须在 [1, 4096] 之间，当前为 6000"
    assert core_text(Text("ckpt_vocab_rows", {"side": Text("side_target"), "n": 9, "rows": 8}), "zh") == \
        "目标语言词表有 9 个片段，但模型有 8 行词嵌入"


def test_a_diverged_training_is_a_known_error_in_the_page_language(monkeypatch):
    from demo import errors
    from s2s.train import NonFiniteLoss

    err = NonFiniteLoss.of("train_loss_not_finite", value=float("nan"), step=3, lr="10")
    assert str(err).startswith("training loss became nan at update 3: lower the learning rate (now 10)")
    monkeypatch.setattr(errors, "language", lambda headers=None: "zh")
    assert errors.explain(err, "training") == \
        "训练损失在第 3 次更新时变成了 nan：请降低学习率（当前为 10）；没有保存含有它的检查点"


# ---------------------------------------------------------------- through the Train tab's handlers


def _request(lang: str) -> SimpleNamespace:
    return SimpleNamespace(headers={"cookie": f"theme=dark; s2s_lang={lang}", "accept-language": "en-US"},
                           session_hash=f"messages-{lang}")


def _refusal(call) -> str:
    with pytest.raises(gr.Error) as info:
        call()
    return info.value.message


@pytest.mark.parametrize("lang,expected,english", [
    ("zh", "无法使用这个语料：notab.tsv 第 3 行：没有制表符（Tab）：每行应为“源句<TAB>译文”", False),
    ("en", "Cannot use this corpus: notab.tsv:3: no TAB: expected 'source<TAB>target'", True),
], ids=["zh", "en"])
def test_a_bad_upload_is_refused_in_the_page_language(tmp_path, lang, expected, english):
    from gradio.context import LocalContext

    from demo.errors import friendly
    from demo.tabs import train as train_tab
    from demo import training

    upload = tmp_path / "notab.tsv"
    upload.write_bytes("你好\tHello\n晚安\tGood night\n没有制表符的一行\n".encode())
    request = _request(lang)
    token = LocalContext.request.set(request)  # what Gradio sets while it serves the event
    try:
        preview = _refusal(lambda: friendly(training.preview)([str(upload)], False, None, {}))
    finally:
        LocalContext.request.reset(token)
    train = _refusal(lambda: list(train_tab.train([str(upload)], False, "scratch", None, 1, 1e-3, 32, 1.0, "constant",
                                                  10, True, {}, request)))
    assert preview == train == expected
    assert ("no TAB" in preview) is english and ("第 3 行" in preview) is not english


def test_a_bad_file_in_chinese_names_the_file_and_line(tmp_path):
    from demo import training

    cases = {"latin.tsv": ("ok\tfine\ncaf\xe9\tcafe\n".encode("latin-1"), "latin.tsv 第 2 行：不是有效的 UTF-8"),
             "bin.tsv": (b"a\tb\n\x00\x01\x02", "bin.tsv 第 2 行：含有二进制数据"),
             "empty.tsv": (b"\n\n", "empty.tsv：文件是空的"),
             "rows.csv": (b"source,target\nonly one\n", "rows.csv 第 2 行：CSV 的这一行需要两列")}
    for name, (data, expected) in cases.items():
        (tmp_path / name).write_bytes(data)
        text = _refusal(lambda: training.load_corpus([str(tmp_path / name)], lang="zh"))
        assert expected in text and not re.search(r"[A-Za-z]{4,}", text.replace(name, "").replace("UTF-8", "")), text
    (tmp_path / "a.zh").write_bytes("一\n二\n三\n".encode())
    (tmp_path / "a.en").write_bytes(b"one\ntwo\n")
    text = _refusal(lambda: training.load_corpus([str(tmp_path / "a.zh"), str(tmp_path / "a.en")], lang="zh"))
    assert "a.en：有 2 行，但 a.zh 有 3 行：两个文件必须逐行对齐" in text
