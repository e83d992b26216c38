"""The lesson's cards on tiny checkpoints trained in a fixture: every reveal's answer is the one the live model
gives (checked against the core directly), right and wrong guesses are judged as such in both languages, the
tab's handlers keep their state in the session, and the handout has one page per card."""
from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch


torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def lesson(ckpt_dir):
    from demo import lesson

    return lesson


@pytest.fixture(scope="module")
def outcomes(lesson):
    """Every card's live outcome, in both languages (computed once for the module)."""
    return {(card.key, lang): card.reveal(lang) for card in lesson.CARDS for lang in lesson.LANGS}


def translator(name: str):
    from demo import models

    return models.get_translator(models.model_path(name))


def greedy(name: str, text: str, prefix=None):
    from s2s.config import DecodeConfig

    return translator(name).translate_one(text, DecodeConfig(strategy="greedy"), prefix)


# ---------------------------------------------------------------- the answer each card should give, from the core


def expected_context(lc) -> str:
    firsts = [greedy(lc.CLASSIC, s).result.hypotheses[0].tokens[0] for s in lc.CONTEXT_SOURCES]
    return "same" if firsts[0] == firsts[1] else "different"


def expected_beam(lc) -> str:
    from s2s.config import DecodeConfig

    model, source = lc.beam_example()
    result = translator(model).translate_one(source, DecodeConfig(strategy="beam", beam_size=lc.BEAM_K,
                                                                  n_best=lc.BEAM_K)).result
    return "first" if result.hypotheses[0].beam_path[0] == 0 else "behind"


def expected_temperature(lc) -> str:
    from s2s.config import DecodeConfig

    cfg = DecodeConfig(strategy="sample", temperature=lc.COLD, n_best=lc.SAMPLES, seed=0)
    texts = translator(lc.CLASSIC).translate_one(lc.SAMPLE_SOURCE, cfg).texts
    same = Counter(texts)[greedy(lc.CLASSIC, lc.SAMPLE_SOURCE).text]
    return "all" if same == lc.SAMPLES else "most" if same >= lc.SAMPLES / 2 else "few"


def expected_exposure(lc) -> str:
    source, reference = lc.exposure_example()
    teacher = translator(lc.CLASSIC).score(source, reference, teacher_forced=True)
    free = translator(lc.CLASSIC).score(source, reference, teacher_forced=False)
    wrong = [i for i, (c, g) in enumerate(zip(free.choices, free.gold)) if c != g]
    if not wrong:
        return "similar"
    start = min(wrong[0] + 1, len(free.gold) - 1)
    tp = sum(math.exp(x) for x in teacher.gold_logprobs[start:]) / len(teacher.gold_logprobs[start:])
    fp = sum(math.exp(x) for x in free.gold_logprobs[start:]) / len(free.gold_logprobs[start:])
    return "lower" if fp < tp - 0.1 else "higher" if fp > tp + 0.1 else "similar"


def live_curve(name: str):
    from demo import handlers, models
    from s2s.evaluate import exposure_curve

    return exposure_curve(translator(name), models.heldout_pairs("zh-en", handlers.CURVE_PAIRS))


def expected_curve(lc) -> str:
    c = live_curve(lc.CLASSIC)
    pos = next((p for p, t, f in zip(c.positions, c.teacher_accuracy, c.free_accuracy) if f < t / 2), None)
    return "p10" if pos is None or pos >= 10 else {1: "p1", 2: "p1", 3: "p1", 4: "p4", 5: "p4", 6: "p4"}.get(pos, "p7")


def expected_scheduled(lc) -> str:
    def gap(c):
        return sum(n * (t - f) for n, t, f in zip(c.count, c.teacher_logprob, c.free_logprob)) / sum(c.count)

    ratio = gap(live_curve(lc.SCHEDULED)) / gap(live_curve(lc.CLASSIC))
    return "smaller" if ratio < 0.9 else "larger" if ratio > 1.1 else "same"


def expected_whatif(lc) -> str:
    hyp = greedy(lc.CLASSIC, lc.WHATIF_SOURCE).result.hypotheses[0]
    step = hyp.steps[lc.WHATIF_STEP - 1]
    forced = [t for t in step.top_ids if t != hyp.tokens[lc.WHATIF_STEP - 1]][0]
    old = greedy(lc.CLASSIC, lc.WHATIF_SOURCE).text.split()
    new = greedy(lc.CLASSIC, lc.WHATIF_SOURCE, hyp.tokens[:lc.WHATIF_STEP - 1] + [forced]).text.split()
    first = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
    return "same" if old[first + 1:] == new[first + 1:] else "changed"


def expected_bottleneck(lc) -> str:
    import sacrebleu

    source, reference = lc.bottleneck_example()
    ca, cb = (sacrebleu.corpus_chrf([greedy(m, source).text], [[reference]]).score for m in (lc.CLASSIC, lc.ATTENTION))
    return "tie" if abs(ca - cb) <= 5 else "classic" if ca > cb else "attention"


def expected_train(lc) -> str:
    res = lc.finetune_result()
    change = res["after"]["general"] - res["before"]["general"]
    return "down" if change < -1 else "up" if change > 1 else "same"


EXPECTED = {"context": expected_context, "beam": expected_beam, "temperature": expected_temperature,
            "exposure": expected_exposure, "curve": expected_curve, "scheduled": expected_scheduled,
            "whatif": expected_whatif, "bottleneck": expected_bottleneck, "train": expected_train}


# ---------------------------------------------------------------- cards


def test_nine_cards_cover_the_storyboard(lesson):
    assert [c.key for c in lesson.CARDS] == ["context", "beam", "temperature", "exposure", "curve", "scheduled",
                                             "whatif", "bottleneck", "train"]
    assert set(EXPECTED) == {c.key for c in lesson.CARDS}


@pytest.mark.parametrize("key", list(EXPECTED))
def test_reveal_answer_is_the_live_models(lesson, outcomes, key):
    from demo import lesson_cards

    answer = EXPECTED[key](lesson_cards)
    card = next(c for c in lesson.CARDS if c.key == key)
    assert answer in card.choices
    for lang in lesson.LANGS:
        assert outcomes[(key, lang)].correct == answer


@pytest.mark.parametrize("key", list(EXPECTED))
def test_right_and_wrong_guesses_judged_in_both_languages(lesson, outcomes, key):
    from demo.i18n_lesson import EN, ZH

    card = next(c for c in lesson.CARDS if c.key == key)
    for lang, table in (("en", EN), ("zh", ZH)):
        out = outcomes[(key, lang)]
        wrong = next(c for c in card.choices if c != out.correct)
        right_text = lesson.verdict(card, out, out.correct, lang)
        wrong_text = lesson.verdict(card, out, wrong, lang)
        assert lesson.is_right(out, out.correct) and not lesson.is_right(out, wrong)
        assert right_text.startswith(table["lesson_right"]) and out.why in right_text
        # "not this time", naming the right answer, then why
        assert wrong_text == table["lesson_wrong"].format(answer=table[f"lesson_{key}_c_{out.correct}"]) + out.why
        assert not wrong_text.startswith(table["lesson_right"])
        assert out.figure is not None or out.table is not None  # something to look at


def test_chinese_cards_are_in_chinese(lesson, outcomes):
    han = re.compile(r"[\u4e00-\u9fff]")
    for card in lesson.CARDS:
        for text in (lesson.title(card, "zh"), lesson.idea(card, "zh"), lesson.question(card, "zh"),
                     card.setup("zh").text, outcomes[(card.key, "zh")].why):
            assert han.search(text), text
        assert outcomes[(card.key, "en")].why != outcomes[(card.key, "zh")].why


def test_answers_follow_the_numbers(lesson, monkeypatch):
    """Feed a card other numbers: its answer changes with them (nothing is written down)."""
    from demo import lesson_cards as lc

    card = next(c for c in lesson.CARDS if c.key == "train")
    fake = {"before": {"general": 10.0, "kitchen": 1.0}, "after": {"general": 14.0, "kitchen": 5.0},
            "losses": [(1, 3.0, None), (2, 2.5, 2.7)], "pairs": 10, "sizes": {}}
    monkeypatch.setattr(lc, "finetune_result", lambda: fake)
    assert card.reveal("en").correct == "up"
    fake["after"]["general"] = 2.0
    assert card.reveal("en").correct == "down"

    curve = lc.CurveData([1, 2, 3, 4, 5, 6, 7, 8], [9] * 8, [0.8] * 8, [0.8, 0.7, 0.6, 0.5, 0.45, 0.41, 0.39, 0.3],
                         [-1.0] * 8, [-1.5] * 8, False)
    monkeypatch.setattr(lc, "curve_data", lambda name: curve)
    out = next(c for c in lesson.CARDS if c.key == "curve").reveal("en")
    assert (out.correct, out.facts["position"]) == ("p7", 7)
    assert next(c for c in lesson.CARDS if c.key == "scheduled").reveal("en").correct == "same"


def test_rest_unchanged_reads_words():
    from demo.lesson_cards import rest_unchanged

    assert rest_unchanged("I love you .", "We love you .")
    assert not rest_unchanged("Let's go to bed.", "We'll go to the park.")
    assert rest_unchanged("same", "same")


# ---------------------------------------------------------------- the tab's handlers


def test_link_opens_card_and_language(lesson):
    from demo.tabs import lesson as tab

    out = tab.open_from_link(None, SimpleNamespace(query_params={"card": "5", "lang": "zh"}, headers={}))
    assert out[0] == {"card": 4, "lang": "zh", "answers": {}}
    assert out[1].selected == "lesson"  # the Lesson tab opens
    assert lesson.title(lesson.CARDS[4], "zh") in out[2 + 6]
    plain = tab.open_from_link(None, SimpleNamespace(query_params={}, headers={"accept-language": "zh-CN,zh;q=0.9"}))
    assert plain[0]["card"] == 0 and plain[0]["lang"] == "zh"
    assert tab.open_from_link(None, SimpleNamespace(query_params={"card": "99"}, headers={}))[0]["card"] == 8
    assert lesson.card_index("x") == 0 and lesson.link(2, "zh") == "?card=3&lang=zh"


def test_a_late_link_leaves_a_learner_who_has_moved_where_they_are(lesson):
    """The page-load event that opens the link's card changes nothing once the learner has moved (Next, a jump, a
    language): every output is skipped. A fresh state still gets the link's card."""
    from demo.tabs import lesson as tab

    link = SimpleNamespace(query_params={"card": "5"}, headers={})
    for moved in [tab.new_state(1), tab.new_state(0, "zh"), {**tab.new_state(), "answers": {"0": "x"}}]:
        out = tab.open_from_link(moved, link)
        assert out == [tab.gr.skip()] * (2 + tab.VIEWS)
    assert tab.open_from_link(tab.new_state(), link)[0]["card"] == 4


def test_reveal_needs_a_guess_and_remembers_it_in_the_session(lesson, outcomes):
    from demo.i18n_lesson import EN
    from demo.tabs import lesson as tab

    state = tab.new_state(0, "en")
    nothing = tab.reveal(state, None)
    assert nothing[1] == EN["lesson_pick_first"] and nothing[2]["visible"] is False and nothing[0] == state
    correct = outcomes[("context", "en")].correct
    done = tab.reveal(state, correct)
    assert done[1].startswith(EN["lesson_right"]) and done[2]["visible"] is True
    assert done[0]["answers"] == {"0": correct} and state["answers"] == {}  # a new state; the old one untouched
    moved = tab.go(done[0], 1)
    back = tab.go(moved[0], -1)
    assert back[0]["card"] == 0 and back[1 + 9]["value"] == correct  # the question shows the earlier answer
    assert tab.go(tab.new_state(0), -1)[0]["card"] == 0  # clamped at both ends
    assert tab.go(tab.new_state(8), 1)[0]["card"] == 8
    zh = tab.set_lang(back[0], "zh")
    assert zh[0]["lang"] == "zh" and "上下文向量" in zh[1 + 6]


# ---------------------------------------------------------------- handout


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_handout_has_one_page_per_card(lesson, outcomes, lang):
    from demo.lesson_handout import build_html

    page = build_html(lang, date="2025-01-01")
    assert page.count('<section class="card"') == len(lesson.CARDS)
    assert page.count("break-after: page") == 1  # the rule every card page carries
    for i, card in enumerate(lesson.CARDS):
        section = page.split(f'id="card-{i + 1}"')[1].split("</section>")[0]
        assert lesson.title(card, lang) in section
        assert lesson.choice_label(card, outcomes[(card.key, lang)].correct, lang) in section
        assert "<table" in section


def test_make_handout_script(ckpt_dir, tmp_path):
    out = tmp_path / "sub" / "handout.html"
    env = {**os.environ, "S2S_CHECKPOINTS_DIR": str(ckpt_dir)}
    run = subprocess.run([sys.executable, "scripts/make_handout.py", "--lang", "zh", "--out", str(out),
                          "--threads", "1"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    page = out.read_text("utf-8")
    assert page.count('<section class="card"') == 9 and '<html lang="zh-CN">' in page
    bad = subprocess.run([sys.executable, "scripts/make_handout.py", "--lang", "fr", "--out", str(out)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
