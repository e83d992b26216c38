"""The lesson's cards (docs/LESSON.md as predict-then-see questions) and how a guess is judged.

A card is one idea, a pre-set view (`setup`), a multiple-choice question asked before anything is revealed, and
`reveal`, which computes the live result and the correct choice (demo/lesson_cards.py). The UI tab
(demo/tabs/lesson.py), the handout (demo/lesson_handout.py) and the tests all use these same definitions."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from . import lesson_cards as lc
from .lesson_cards import Outcome, Setup, tr

LANGS = ("en", "zh")


@dataclass(frozen=True)
class Card:
    key: str  # names its strings: lesson_<key>_title, _idea, _question, _c_<choice>
    choices: tuple[str, ...]
    setup: Callable[[str], Setup]
    reveal: Callable[[str], Outcome]
    fields: dict = field(default_factory=dict)  # filled into the question text
    tab: str = ""  # the tab where the learner can try it (its i18n key)


CARDS: tuple[Card, ...] = (
    Card("context", ("same", "different"), lc.context_setup, lc.context_reveal,
         {"a": lc.CONTEXT_SOURCES[0], "b": lc.CONTEXT_SOURCES[1]}, "tab_translate"),
    Card("beam", ("first", "behind"), lc.beam_setup, lc.beam_reveal, {"k": lc.BEAM_K}, "tab_translate"),
    Card("temperature", ("all", "most", "few"), lc.temperature_setup, lc.temperature_reveal,
         {"n": lc.SAMPLES, "cold": lc.COLD}, "tab_translate"),
    Card("exposure", ("lower", "similar", "higher"), lc.exposure_setup, lc.exposure_reveal, tab="tab_exposure"),
    Card("curve", ("p1", "p4", "p7", "p10"), lc.curve_setup, lc.curve_reveal, tab="tab_exposure"),
    Card("scheduled", ("smaller", "same", "larger"), lc.scheduled_setup, lc.scheduled_reveal, tab="tab_exposure"),
    Card("whatif", ("same", "changed"), lc.whatif_setup, lc.whatif_reveal, tab="tab_translate"),
    Card("bottleneck", ("classic", "attention", "tie"), lc.bottleneck_setup, lc.bottleneck_reveal,
         tab="tab_translate"),
    Card("train", ("up", "same", "down"), lc.train_setup, lc.train_reveal, tab="tab_train"),
)


def lang_of(value: str | None) -> str:
    """'zh' for any Chinese language tag (zh, zh-CN, zh-TW), else 'en'."""
    return "zh" if str(value or "").lower().startswith("zh") else "en"


def card_index(value) -> int:
    """A 1-based card number from a link (?card=N) as a 0-based index, clamped; 0 for anything unreadable."""
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return 0
    return max(0, min(len(CARDS) - 1, n - 1))


def title(card: Card, lang: str) -> str:
    return tr(lang, f"lesson_{card.key}_title")


def idea(card: Card, lang: str) -> str:
    return tr(lang, f"lesson_{card.key}_idea")


def question(card: Card, lang: str) -> str:
    return tr(lang, f"lesson_{card.key}_question", **card.fields)


def choice_label(card: Card, choice: str, lang: str) -> str:
    return tr(lang, f"lesson_{card.key}_c_{choice}")


def choices(card: Card, lang: str) -> list[tuple[str, str]]:
    """(label, value) pairs for a gr.Radio."""
    return [(choice_label(card, c, lang), c) for c in card.choices]


def is_right(outcome: Outcome, guess: str | None) -> bool:
    return guess == outcome.correct


def verdict(card: Card, outcome: Outcome, guess: str | None, lang: str) -> str:
    """Markdown: right or not (naming the correct answer), then why, from the live result."""
    if is_right(outcome, guess):
        head = tr(lang, "lesson_right")
    else:
        head = tr(lang, "lesson_wrong", answer=choice_label(card, outcome.correct, lang))
    return head + outcome.why


def link(index: int, lang: str) -> str:
    """The query string that opens card `index` (0-based) in `lang`."""
    return f"?card={index + 1}&lang={lang}"
