"""The Train tab (issue 10 §5, §12): chunked training that carries its state between (GPU) calls, Stop that keeps
the progress reached, forgetting shown after fine-tuning, Chinese server text, and measured defaults.
Tiny checkpoints trained in a fixture; no shipped files."""
from __future__ import annotations

import dataclasses
import json
import pickle
import re
from pathlib import Path

import pytest
import torch


torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parent.parent


def _run(session: str, stop_after: int | None = None, **kw):
    from demo import training

    args = dict(files=None, use_example=True, mode="fine-tune", base_model="zh-en-classic", epochs=2, lr=1e-3,
                batch_size=32, teacher_forcing=1.0, schedule="constant", time_limit=60, attention=True,
                session_models={}, session_id=session, lang="en")
    args.update(kw)
    outputs = []
    for i, out in enumerate(training.train(**args)):
        outputs.append(out)
        if stop_after is not None and i == stop_after:
            training.stop_training(session)
    return outputs


def _percent(status: str) -> int:
    shown = int(re.search(r"<b>(\d+)%</b>", status).group(1))
    width = int(re.search(r'width:(\d+)%', status).group(1))
    assert shown == width  # the bar and the number agree
    return shown


# ---------------------------------------------------------------- progress after Stop


def _done(reason: str, fraction: float, elapsed: float):
    from s2s.train import Event

    return Event("done", 1, 30, fraction=fraction, elapsed=elapsed, reason=reason)


def test_a_stopped_run_keeps_the_fraction_it_reached():
    from demo.training import Live

    live = Live(total_epochs=10, time_limit=100)
    live.last = _done("stopped", 0.3, 12.0)
    assert live.fraction() == pytest.approx(0.3)
    assert _percent(live.status()) == 30 and "s2s-stopped" in live.status()
    live.last = _done("stopped", 0.1, 40.0)  # the time limit was the nearer end: 40 of 100 s
    assert live.fraction() == pytest.approx(0.4)
    for reason in ("epochs done", "time limit"):
        live.last = _done(reason, 0.3, 12.0)
        assert live.fraction() == 1.0


def test_stop_halfway_shows_where_it_stopped(ckpt_dir):
    from demo import handlers

    outputs = _run("t-stop", stop_after=2, epochs=20, time_limit=120)
    status, _, _, _, session_models, download = outputs[-1]
    assert "Finished (stopped)" in status
    assert 0 <= _percent(status) < 100
    steps = int(status.split("after ")[1].split(" updates")[0])
    assert steps < 20 * 11
    (name, path), = session_models.items()
    assert Path(download) == Path(path)
    assert isinstance(handlers.translate("把洋葱切成小丁。", name, session_models=session_models)[0], str)


# ---------------------------------------------------------------- chunks carry model and optimizer state


def _state_and_data():
    from demo import models, training
    from s2s import checkpoint
    from s2s.data import encode_pairs, parse_pairs
    from s2s.train import Progress

    pairs = parse_pairs(training.EXAMPLE_CORPUS.read_bytes(), "kitchen.tsv")[:120]
    ckpt = checkpoint.load(models.model_path("zh-en-attention"))
    data = encode_pairs(pairs, ckpt.src_vocab, ckpt.tgt_vocab)
    cfg = dataclasses.replace(training.train_config(3, 1e-2, 16, 1.0, "constant", 60, 8), device="cpu")  # exact
    weights = {k: v.clone() for k, v in ckpt.model.state_dict().items()}
    return training.TrainState(ckpt.model.cfg, cfg, Progress(), weights), data[:100], data[100:]


def _pickled(value):
    """What crossing a process boundary does to a value (ZeroGPU pickles a GPU call's arguments and result)."""
    return pickle.loads(pickle.dumps(value))


def test_a_run_cut_into_chunks_ends_where_an_uncut_run_ends(ckpt_dir):
    from demo.training import fit_chunk

    state, train, valid = _state_and_data()
    whole = fit_chunk(_pickled(state), train, valid, 60)
    calls = iter(range(10_000))
    first = fit_chunk(_pickled(state), train, valid, 60, should_stop=lambda: next(calls) >= 9)  # mid-run
    assert 0 < first.progress.step < whole.progress.step and first.events[-1].reason == "stopped"
    rest = fit_chunk(_pickled(first), train, valid, 60)
    assert rest.progress.step == whole.progress.step and rest.events[-1].reason == "epochs done"
    assert set(rest.optimizer) == set(whole.optimizer)
    for key, value in whole.weights.items():
        assert torch.allclose(rest.weights[key], value, atol=1e-6), key


def test_on_zerogpu_every_chunk_is_its_own_call(ckpt_dir, monkeypatch):
    """Each chunk is one (pickled) call: the weights and optimizer go there and come back; none exceeds the cap."""
    from demo import training
    from s2s import checkpoint

    seen = []

    def gpu_call(state, train, valid, seconds):
        seen.append(seconds)
        assert seconds <= training.CHUNK_SECONDS < training.GPU_CALL_SECONDS <= 120
        assert state.weights is not None
        return _pickled(training.fit_chunk(*_pickled((state, train, valid, seconds))))

    monkeypatch.setattr(training, "ZERO_GPU", True)
    monkeypatch.setattr(training, "CHUNK_SECONDS", 0.05)
    monkeypatch.setattr(training, "_gpu_fit_chunk", gpu_call)
    status, loss, samples, bleu, session_models, path = _run("t-zerogpu", epochs=2)[-1]
    assert len(seen) >= 2
    assert "Finished (epochs done)" in status and _percent(status) == 100
    assert f"in {len(seen)} GPU calls" in status and "ZeroGPU time used" in status
    steps = int(status.split("after ")[1].split(" updates")[0])
    assert steps == 2 * 11  # 338 training pairs in batches of 32, two epochs: no update lost or repeated
    assert len(loss.data[1].y) >= 2
    saved = checkpoint.load(path)
    assert saved.info["steps"] == steps


# ---------------------------------------------------------------- forgetting, languages, defaults


def _forgetting_rows(markdown: str) -> list[list[str]]:
    lines = [line for line in markdown.splitlines() if line.startswith("| ")]
    return [[c.strip() for c in line.strip("|").split("|")] for line in lines[1:]]


def test_fine_tuning_shows_the_original_domain_before_and_after(ckpt_dir):
    from demo import models, training

    status, _, samples, bleu, *_ = _run("t-forget", epochs=1)[-1]
    assert "catastrophic forgetting" in bleu and re.search(r"BLEU before \*\*[\d.]+\*\* → after \*\*[\d.]+\*\*", bleu)
    rows = _forgetting_rows(bleu)
    heldout = dict(models.heldout_pairs("zh-en", training.FORGET_PAIRS))
    assert len(rows) == training.FORGET_SHOWN and all(len(r) == 4 for r in rows)
    assert all(heldout.get(src) == ref for src, ref, _, _ in rows)  # Tatoeba pairs with their references


def test_training_from_scratch_has_no_original_domain(ckpt_dir):
    *_, bleu, _, _ = _run("t-scratch", mode="scratch", epochs=1, base_model=None, attention=False)[-1]
    assert "→ after" in bleu and "forgetting" not in bleu


def test_server_text_in_chinese(ckpt_dir):
    from demo.i18n_train import EN

    status, _, samples, bleu, *_ = _run("t-zh", epochs=1, lang="zh")[-1]
    assert "训练结束（轮数已完成）" in status and "Finished" not in status
    assert "训练前" in bleu and "灾难性遗忘" in bleu
    assert list(samples)[:4] == ["源句", "参考译文", "训练前", "训练后"] and "第 1 轮后" in samples  # key columns first
    english = [v for k, v in EN.items() if k.startswith("tr_") and "{" not in v and len(v) > 12]
    assert not [s for s in english if s in status + bleu]


def test_defaults_are_the_measured_ones(ckpt_dir):
    from demo import training
    from demo.app import build_demo

    report = json.loads((ROOT / training.DEFAULTS["results"]).read_text(encoding="utf-8"))
    chosen = report["chosen"]
    assert (chosen["model"], chosen["epochs"], chosen["lr"]) == tuple(
        training.DEFAULTS[k] for k in ("base_model", "epochs", "lr"))
    assert chosen in report["rows"] and chosen["bleu_after"] == training.DEFAULTS["bleu_after"]
    demo = build_demo()
    value = {b.elem_id: getattr(b, "value", None) for b in demo.blocks.values() if b.elem_id}
    assert value["epochs"] == chosen["epochs"] and value["lr"] == chosen["lr"]
    assert value["base_model"] == chosen["model"]
