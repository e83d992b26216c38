"""scripts/select_examples.py, precompute_curves.py, beam_curse.py and demo/cache.py: the criteria on small
synthetic inputs, the cache's hash check, and the committed examples and caches re-measured on the shipped models."""
from __future__ import annotations

import importlib.util
import json
import math
import os
import sys
from pathlib import Path

import pytest

from demo import cache
from s2s import evaluate
from s2s.decoding import Scored, length_penalty
from s2s.translator import Translator

ROOT = Path(__file__).resolve().parents[1]
CKPT = ROOT / "checkpoints"
EXAMPLES = json.loads((ROOT / "demo/examples/lesson_examples.json").read_text("utf-8"))


def _script(name: str):
    sys.path.insert(0, str(ROOT / "scripts"))
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sel = _script("select_examples")
curves = _script("precompute_curves")
curse = _script("beam_curse")
LN = math.log


# ---------------------------------------------------------------- criteria on synthetic inputs

def test_first_divergence_is_one_based_and_none_when_never():
    assert sel.first_divergence([5, 6, 8, 9], [5, 6, 7, 9]) == 3
    assert sel.first_divergence([4, 6], [5, 6]) == 1
    assert sel.first_divergence([5, 6, 7], [5, 6, 7]) is None


def _exposure(gold, teacher_choices, teacher_p, free_choices, free_p):
    return sel.exposure_stats([LN(p) for p in teacher_p], teacher_choices, [LN(p) for p in free_p], free_choices,
                              gold)


GOLD = [10, 11, 12, 13, 14, 15, 3]


def test_exposure_criterion_accepts_late_divergence_with_collapse():
    s = _exposure(GOLD, GOLD, [0.9] * 7, [10, 11, 12, 20, 21, 22, 23], [0.9, 0.9, 0.9, 0.3, 0.05, 0.02, 0.01])
    assert s["divergence_step"] == 4 and s["steps_after"] == 3
    assert s["teacher_accuracy"] == 1.0 and s["free_accuracy"] == pytest.approx(3 / 7)
    assert s["free_p_after"] == pytest.approx((0.05 + 0.02 + 0.01) / 3)
    assert sel.meets_exposure(s, sel.CRITERIA["exposure"])


@pytest.mark.parametrize("case", ["early", "no_collapse", "weak_teacher", "never", "too_few_after"])
def test_exposure_criterion_rejects(case):
    free = [10, 11, 12, 20, 21, 22, 23]
    free_p = [0.9, 0.9, 0.9, 0.3, 0.05, 0.02, 0.01]
    teacher, teacher_p = GOLD, [0.9] * 7
    if case == "early":
        free = [10, 20, 21, 22, 23, 24, 25]
    if case == "no_collapse":
        free_p = [0.9, 0.9, 0.9, 0.3, 0.8, 0.7, 0.9]
    if case == "weak_teacher":
        teacher, teacher_p = [10, 0, 0, 13, 14, 15, 3], [0.9, 0.1, 0.1, 0.9, 0.9, 0.9, 0.9]
    if case == "never":
        free = GOLD
    if case == "too_few_after":
        free = [10, 11, 12, 13, 14, 20, 23]
    assert not sel.meets_exposure(_exposure(GOLD, teacher, teacher_p, free, free_p), sel.CRITERIA["exposure"])


def test_sharpness_is_mean_of_row_maxima():
    assert sel.sharpness([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]) == 1.0
    assert sel.sharpness([[0.25] * 4]) == 0.25
    assert sel.sharpness([[0.7, 0.3], [0.5, 0.5]]) == pytest.approx(0.6)
    assert sel.sharpness([]) == 0.0


def test_bottleneck_criterion():
    c = sel.CRITERIA["bottleneck"]
    good = {"source_words": 18, "attention_chrf": 70.0, "classic_chrf": 30.0, "sharpness": 0.6}
    assert sel.meets_bottleneck(good, c)
    for change in ({"source_words": 10}, {"classic_chrf": 60.0}, {"sharpness": 0.3}, {"attention_chrf": 45.0}):
        assert not sel.meets_bottleneck({**good, **change}, c), change


def test_beam_stats_compare_under_the_same_length_penalty():
    s = sel.beam_stats([7, 8, 3], -1.0, -1.2, [9, 8, 8, 3], -2.0, alpha=1.0)
    assert not s["winner_first_is_top1"]
    assert s["greedy_score"] == pytest.approx(-2.0 / length_penalty(4, 1.0)) == pytest.approx(-2.0 / 1.5)
    row = {**s, "source_words": 5, "beam_chrf": 50.0, "greedy_chrf": 20.0}
    assert sel.meets_beam(row, sel.CRITERIA["beam"])
    same_first = sel.beam_stats([9, 8, 3], -1.0, -1.2, [9, 8, 8, 3], -2.0, alpha=1.0)
    assert same_first["winner_first_is_top1"]
    assert not sel.meets_beam({**row, **same_first}, sel.CRITERIA["beam"])
    assert not sel.meets_beam({**row, "beam_logprob": -2.5}, sel.CRITERIA["beam"])
    assert not sel.meets_beam({**row, "beam_chrf": 10.0}, sel.CRITERIA["beam"])


def test_translate_criterion_needs_exact_greedy_and_short_source():
    c = sel.CRITERIA["translate"]
    row = {"source_words": 4, "greedy": "I'm sorry.", "reference": "I'm sorry.", "beam_chrf": 100.0}
    assert sel.meets_translate(row, c)
    assert not sel.meets_translate({**row, "greedy": "I am sorry."}, c)
    assert not sel.meets_translate({**row, "source_words": 20}, c)
    assert not sel.meets_translate({**row, "beam_chrf": 40.0}, c)


def test_simplified_filter_and_one_pair_per_source():
    assert sel.is_simplified("我爱你。") and not sel.is_simplified("我愛你。")
    pairs = [("我爱你。", "I love you."), ("我愛你。", "I love you."), ("我爱你。", "I love you!"), ("你好。", "Hi.")]
    assert sel.candidates(pairs, "zh-en") == [("我爱你。", "I love you."), ("你好。", "Hi.")]
    assert sel.candidates([("Ä", "A"), ("Ä", "B")], "de-en") == [("Ä", "A")]


def test_top_ranks_stably_keeps_one_per_reference():
    rows = [{"reference": r, "v": v, "i": i} for i, (r, v) in enumerate([("a", 1), ("b", 3), ("c", 3), ("b", 5),
                                                                         ("d", 0)])]
    chosen = sel.top(rows, lambda r: r["v"] > 0, lambda r: r["v"], keep=3)
    assert [r["i"] for r in chosen] == [3, 2, 0]  # "b" once (its best), ties in input order, "d" fails


# ---------------------------------------------------------------- curve statistics

def test_wilson_interval():
    low, high = curves.wilson(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)
    low, high = curves.wilson(20, 20)
    assert high == 1.0 and 0.8 < low < 1.0


def test_mean_band():
    assert curves.mean_band([-1.0, -1.0, -1.0]) == (-1.0, -1.0, -1.0)
    mean, low, high = curves.mean_band([0.0, -2.0])
    assert mean == -1.0 and high - mean == pytest.approx(mean - low) == pytest.approx(1.96 * 1.0)


def _scored(gold, choices, logps):
    return Scored(gold, logps, choices, [])


def test_curve_cuts_rare_positions_and_counts_sentences():
    teacher = [_scored([1, 2, 3], [1, 2, 3], [-0.1] * 3)] * 4 + [_scored([1, 2, 3, 4, 5], [1, 2, 3, 4, 5], [-0.1] * 5)]
    free = [_scored([1, 2, 3], [1, 9, 9], [-0.1, -3.0, -3.0])] * 4 + [_scored([1, 2, 3, 4, 5], [1] * 5, [-1.0] * 5)]
    c = curves.curve(teacher, free, min_sentences=4)
    assert c["position"] == [1, 2, 3] and c["sentences"] == [5, 5, 5]
    assert c["teacher_accuracy"]["mean"] == [1.0, 1.0, 1.0]
    assert c["free_accuracy"]["mean"] == [1.0, 0.0, 0.0]
    assert c["free_logprob"]["mean"][1] == pytest.approx((4 * -3.0 - 1.0) / 5)
    for key in ("teacher_accuracy", "free_accuracy", "teacher_logprob", "free_logprob"):
        band = c[key]
        assert all(lo <= m <= hi for lo, m, hi in zip(band["low"], band["mean"], band["high"]))
    g = curves.gaps(teacher, free)
    assert g["tokens"] == 17 and g["accuracy_gap"] == pytest.approx(1 - 5 / 17)


# ---------------------------------------------------------------- beam curse lengths

def test_too_short_and_length_stats():
    assert evaluate.too_short("", "A man.") and evaluate.too_short("A", "A man is running .")
    assert not evaluate.too_short("A man runs.", "A man is running.")
    s = curse.length_stats(["", "A man runs ."], ["A dog .", "A man runs ."])
    assert s["empty_share"] == 0.5 and s["too_short_share"] == 0.5 and s["length_ratio"] == pytest.approx(4 / 7)


# ---------------------------------------------------------------- demo/cache.py

def _fake_checkpoint(tmp_path: Path) -> Path:
    path = tmp_path / "m.s2s"
    path.write_bytes(b"weights v1")
    return path


def test_cache_returns_the_dict_when_the_hash_matches(tmp_path):
    ckpt = _fake_checkpoint(tmp_path)
    (tmp_path / "m.curves.json").write_text(json.dumps({cache.HASH_KEY: cache.file_sha256(ckpt), "x": 1}))
    assert cache.load_curves("m", ckpt) == {cache.HASH_KEY: cache.file_sha256(ckpt), "x": 1}


def test_cache_mismatch_missing_or_corrupt_gives_none(tmp_path):
    ckpt = _fake_checkpoint(tmp_path)
    cached = tmp_path / "m.curves.json"
    assert cache.load_curves("m", ckpt) is None  # no cache file
    cached.write_text(json.dumps({cache.HASH_KEY: "0" * 64}))
    assert cache.load_curves("m", ckpt) is None  # another checkpoint's cache
    cached.write_text("{not json")
    assert cache.load_curves("m", ckpt) is None
    cached.write_text(json.dumps({cache.HASH_KEY: cache.file_sha256(ckpt)}))
    assert cache.load_curves("m", tmp_path / "gone.s2s") is None  # checkpoint missing
    assert cache.load_beam_curse("m", ckpt) is None  # a different kind of cache


def test_cache_notices_a_replaced_checkpoint(tmp_path):
    ckpt = _fake_checkpoint(tmp_path)
    (tmp_path / "m.curves.json").write_text(json.dumps({cache.HASH_KEY: cache.file_sha256(ckpt)}))
    assert cache.load_curves("m", ckpt) is not None
    ckpt.write_bytes(b"weights v2, retrained")
    os.utime(ckpt, ns=(1, 1))  # even with an odd modification time the size differs
    assert cache.load_curves("m", ckpt) is None


# ---------------------------------------------------------------- the committed files, re-measured

_translators: dict[str, Translator] = {}


def model(name: str) -> Translator:
    if name not in _translators:
        _translators[name] = Translator.load(CKPT / f"{name}.s2s")
    return _translators[name]


def _pairs(rows):
    return [(r["source"], r["reference"]) for r in rows]


def _close(measured: dict, recorded: dict):
    for key, value in recorded.items():
        if isinstance(value, float):
            assert measured[key] == pytest.approx(value, abs=2e-3), key
        else:
            assert measured[key] == value, key


def test_json_states_the_criteria_the_script_applies():
    assert EXAMPLES["criteria"] == sel.CRITERIA
    assert set(EXAMPLES["pairs"]) == {"zh-en", "de-en"}


@pytest.mark.parametrize("pair", ["zh-en", "de-en"])
def test_examples_are_not_from_the_test_derived_heldout_files(pair):
    heldout = {s for s, _ in curves.app_pairs(pair, limit=None)}
    sources = _sources(pair)
    assert sources and not set(sources) & heldout


def _sources(pair: str) -> list[str]:
    entry = EXAMPLES["pairs"][pair]
    sources = [e["source"] for e in entry["exposure"] + entry["bottleneck"]]
    return sources + [r["source"] for rows in [*entry["translate"].values(), *entry["beam"].values()] for r in rows]


def test_chinese_examples_are_simplified():
    assert all(sel.is_simplified(s) for s in _sources("zh-en"))


@pytest.mark.skipif(not (ROOT / "data/tatoeba-zh-en/valid.tsv").exists(),
                    reason="run scripts/prepare_data.py to make the Tatoeba validation split")
def test_zh_examples_come_from_the_validation_split():
    valid = set(sel.read_pairs(ROOT / "data/tatoeba-zh-en/valid.tsv"))
    entry = EXAMPLES["pairs"]["zh-en"]
    rows = entry["exposure"] + entry["bottleneck"] + [r for rows in entry["beam"].values() for r in rows]
    assert all((r["source"], r["reference"]) in valid for r in rows)


@pytest.mark.parametrize("pair", ["zh-en", "de-en"])
def test_exposure_examples_meet_the_criterion_when_remeasured(pair):
    rows = EXAMPLES["pairs"][pair]["exposure"]
    assert 3 <= len(rows) <= 5
    classic = sel.MODELS[pair]["classic"]
    for row, measured in zip(rows, sel.measure_exposure(model(classic), _pairs(rows))):
        _close(measured, row["measured"][classic])
        assert sel.meets_exposure(measured, EXAMPLES["criteria"]["exposure"]), row["source"]


def test_exposure_examples_carry_the_scheduled_models_numbers():
    rows = EXAMPLES["pairs"]["zh-en"]["exposure"]
    assert all(list(r["measured"]) == ["zh-en-classic", "zh-en-scheduled"] for r in rows)
    for row, measured in zip(rows, sel.measure_exposure(model("zh-en-scheduled"), _pairs(rows))):
        _close(measured, row["measured"]["zh-en-scheduled"])


@pytest.mark.parametrize("pair", ["zh-en", "de-en"])
def test_translate_examples_meet_the_criterion_when_remeasured(pair):
    c = EXAMPLES["criteria"]["translate"]
    (name, rows), = EXAMPLES["pairs"][pair]["translate"].items()
    assert name == sel.MODELS[pair]["classic"] and len(rows) >= 3
    for row, measured in zip(rows, sel.measure_translate(model(name), _pairs(rows), c)):
        assert measured["greedy"] == row["greedy"] == row["reference"]
        assert sel.meets_translate(measured, c)


@pytest.mark.parametrize("pair", ["zh-en", "de-en"])
def test_beam_examples_meet_the_criterion_when_remeasured(pair):
    c = EXAMPLES["criteria"]["beam"]
    beams = EXAMPLES["pairs"][pair]["beam"]
    assert set(beams) == {sel.MODELS[pair]["classic"], sel.MODELS[pair]["attention"]}
    assert EXAMPLES["pairs"][pair]["recommended"]["beam"]["model"] in beams
    for name, rows in beams.items():
        assert rows, f"{name}: no beam example"
        for row, measured in zip(rows, sel.measure_beam(model(name), _pairs(rows), c)):
            assert measured["beam"] == row["beam"] and measured["greedy"] == row["greedy"]
            assert measured["winner_first_piece"] != measured["greedy_first_piece"]
            assert sel.meets_beam(measured, c), row["source"]


@pytest.mark.parametrize("pair", ["zh-en", "de-en"])
def test_bottleneck_examples_meet_the_criterion_when_remeasured(pair):
    c = EXAMPLES["criteria"]["bottleneck"]
    rows = EXAMPLES["pairs"][pair]["bottleneck"]
    assert rows
    classic, attention = model(sel.MODELS[pair]["classic"]), model(sel.MODELS[pair]["attention"])
    for row, measured in zip(rows, sel.measure_bottleneck(classic, attention, _pairs(rows))):
        _close(measured, {k: row[k] for k in ("classic", "attention", "sharpness", "attention_chrf", "classic_chrf")})
        assert sel.meets_bottleneck(measured, c), row["source"]


SHIPPED = sorted(p.stem for p in CKPT.glob("*.s2s"))


@pytest.mark.parametrize("name", SHIPPED)
def test_committed_curves_match_their_checkpoint_and_are_consistent(name):
    data = cache.load_curves(name, CKPT / f"{name}.s2s")
    assert data is not None, "curves missing or stale: run scripts/precompute_curves.py"
    c, n_min = data["curve"], data["min_sentences_per_position"]
    assert c["position"] == list(range(1, len(c["position"]) + 1)) and len(c["position"]) >= 5
    assert min(c["sentences"]) >= n_min and c["sentences"] == sorted(c["sentences"], reverse=True)
    for key in ("teacher_accuracy", "free_accuracy", "teacher_logprob", "free_logprob"):
        band = c[key]
        assert all(lo <= m <= hi for lo, m, hi in zip(band["low"], band["mean"], band["high"])), key
    assert data["bleu_by_length"]["rows"] and data["recommended_metric"] in ("accuracy", "logprob")


def test_recommended_metric_shows_the_scheduled_model_narrowing_the_gap():
    classic = cache.load_curves("zh-en-classic", CKPT / "zh-en-classic.s2s")
    scheduled = cache.load_curves("zh-en-scheduled", CKPT / "zh-en-scheduled.s2s")
    metric = classic["recommended_metric"]
    assert scheduled["recommended_metric"] == metric
    for split in ("heldout", "validation"):
        assert scheduled["gaps"][split][f"{metric}_gap"] < classic["gaps"][split][f"{metric}_gap"]
    key = f"{metric}_gap"
    assert classic["comparison"]["gap_text"] == f"gap {classic['gaps']['heldout'][key]:.3f} → " \
                                                f"{scheduled['gaps']['heldout'][key]:.3f}"


def test_curves_cache_matches_a_fresh_measurement():
    """The stored curve of one model equals what the script measures now (first positions, means and counts)."""
    data = cache.load_curves("zh-en-scheduled", CKPT / "zh-en-scheduled.s2s")
    translator = model("zh-en-scheduled")
    held = curves.app_pairs("zh-en")
    fresh = curves.curve(sel.scored(translator, held, True), sel.scored(translator, held, False))
    assert fresh["position"] == data["curve"]["position"] and fresh["sentences"] == data["curve"]["sentences"]
    for key in ("teacher_accuracy", "free_logprob"):
        assert fresh[key]["mean"] == pytest.approx(data["curve"][key]["mean"], abs=1e-3)


def test_beam_curse_caches_cover_the_grid():
    found = [n for n in SHIPPED if cache.load_beam_curse(n, CKPT / f"{n}.s2s")]
    assert {"zh-en-classic", "de-en-attention"} <= set(found)
    for name in found:
        data = cache.load_beam_curse(name, CKPT / f"{name}.s2s")
        grid = {(r["beam_size"], r["length_penalty"]) for r in data["rows"]}
        assert grid == {(k, a) for k in curse.BEAMS for a in curse.PENALTIES}
        assert data["sentences"] == 300 and "test" not in data["split"].lower()
        assert all(0 <= r["too_short_share"] <= 1 and r["length_ratio"] > 0 for r in data["rows"])


def test_spread_takes_evenly_spaced_items_in_order():
    assert evaluate.spread(list(range(10)), 3) == [0, 3, 6]
    assert evaluate.spread([1, 2], 5) == [1, 2]
    assert len(evaluate.spread(list(range(1204)), 300)) == 300
