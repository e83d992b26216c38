"""The lesson as a printable handout: one page per card (idea, question, the numbers, the answer), as
self-contained print-friendly HTML, computed from the same card definitions and live models as the Lesson tab."""
from __future__ import annotations

import datetime as dt
import html

import pandas as pd
from markdown_it import MarkdownIt

from .lesson import CARDS, Card, choice_label, idea, question, title
from .lesson_cards import Outcome, tr

_md = MarkdownIt("commonmark", {"html": False})  # raw HTML in a sentence stays text

CSS = """
body {font-family: "Noto Sans CJK SC", "Noto Sans", Arial, sans-serif; color: #111; max-width: 46rem;
      margin: 2rem auto; line-height: 1.45;}
.card {break-after: page; page-break-after: always; padding-bottom: 1rem;}
.card:last-child {break-after: auto; page-break-after: auto;}
h1 {font-size: 1.5rem;} h2 {font-size: 1.3rem; border-bottom: 2px solid #2563eb; padding-bottom: .2rem;}
h3 {font-size: 1.05rem; margin-bottom: .3rem;}
.choices {list-style: none; padding-left: 0;}
.choices li {margin: .3rem 0;}
.box {display: inline-block; width: .9em; height: .9em; border: 1.5px solid #111; margin-right: .5em;
      vertical-align: -0.1em;}
table {border-collapse: collapse; font-size: .9rem; margin: .4rem 0;}
th, td {border: 1px solid #999; padding: .2rem .5rem; text-align: left;}
th {background: #eef2ff;}
.answer {border: 1.5px dashed #2563eb; padding: .5rem .8rem; margin-top: 1rem;}
@media print {body {margin: 0 1cm;} .answer {break-inside: avoid;}}
"""


def md(text: str) -> str:
    return _md.render(text)


def numbers(outcome: Outcome) -> pd.DataFrame | None:
    """The card's table of numbers; for a card without one, its facts as a two-column table."""
    if outcome.table is not None:
        return outcome.table
    if outcome.facts:
        return pd.DataFrame({"": list(outcome.facts), " ": [str(v) for v in outcome.facts.values()]})
    return None


def page(index: int, card: Card, lang: str) -> str:
    """One card's page (its setup and outcome computed live)."""
    setup, outcome = card.setup(lang), card.reveal(lang)
    boxes = "".join(f'<li><span class="box"></span>{html.escape(choice_label(card, c, lang))}</li>'
                    for c in card.choices)
    table = numbers(outcome)
    table_html = "" if table is None else table.to_html(index=False, escape=True, border=0)
    answer = tr(lang, "lesson_handout_answer")
    return (f'<section class="card" id="card-{index + 1}"><h2>{html.escape(title(card, lang))}</h2>'
            f"{md(idea(card, lang))}{md(setup.text)}"
            f"<h3>{html.escape(tr(lang, 'lesson_handout_question'))}</h3>{md(question(card, lang))}"
            f'<ul class="choices">{boxes}</ul>'
            f"<h3>{html.escape(tr(lang, 'lesson_handout_numbers'))}</h3>{table_html}"
            f'<div class="answer"><h3>{html.escape(answer)}: {html.escape(choice_label(card, outcome.correct, lang))}'
            f"</h3>{md(outcome.why)}</div></section>")


def build_html(lang: str = "en", date: str | None = None) -> str:
    """The whole handout in `lang` ("en" or "zh")."""
    date = date or dt.date.today().isoformat()
    pages = "\n".join(page(i, card, lang) for i, card in enumerate(CARDS))
    head_title = html.escape(tr(lang, "lesson_handout_title"))
    return (f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
            f"<title>{head_title}</title><style>{CSS}</style></head><body>"
            f'<header class="intro"><h1>{head_title}</h1>{md(tr(lang, "lesson_handout_intro", date=date))}</header>'
            f"\n{pages}\n</body></html>\n")
