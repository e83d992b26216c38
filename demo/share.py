"""Links that reproduce a state: the tab (or lesson card), the Translate tab's inputs and the language as URL query
parameters, and back. A link is a stranger's input: every value is checked against the range of its control and
anything unknown or out of range falls back to the control's default (and is reported, never fatal)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping
from urllib.parse import urlencode

MAX_TEXT = 2000  # characters of source text a link may carry (URLs stay well under browsers' limits)
TABS = ("translate", "exposure", "train", "lesson", "lab", "about")
STRATEGIES = ("greedy", "beam", "sample")


@dataclass(frozen=True)
class Field:
    key: str  # query parameter
    default: object
    parse: Callable[[str], object]  # raises ValueError when the text is not acceptable


def _number(low: float, high: float, integer: bool = False) -> Callable[[str], object]:
    def parse(text: str):
        value = float(text)
        if not math.isfinite(value) or not low <= value <= high or (integer and value != int(value)):
            raise ValueError(text)
        return int(value) if integer else value
    return parse


def _choice(options: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in options:
            raise ValueError(text)
        return text
    return parse


def _text(text: str) -> str:
    if len(text) > MAX_TEXT:
        raise ValueError("too long")
    return text


# the Translate tab's controls, in the order of handlers.translate's parameters; ranges = the sliders' ranges
FIELDS = {
    "tab": Field("tab", "translate", _choice(TABS)),
    "card": Field("card", 1, _number(1, 20, integer=True)),
    "lang": Field("lang", "en", _choice(("en", "zh"))),
    "model": Field("model", None, str),  # checked against the picker's choices by from_query
    "text": Field("text", "", _text),
    "strategy": Field("strategy", "greedy", _choice(STRATEGIES)),
    "beam_size": Field("k", 5, _number(1, 10, integer=True)),
    "temperature": Field("t", 1.0, _number(0.1, 2.0)),
    "n_best": Field("n", 5, _number(1, 10, integer=True)),
    "length_penalty": Field("lp", 1.0, _number(0.0, 2.0)),
    "top_k": Field("topk", 0, _number(0, 50, integer=True)),
    "top_p": Field("topp", 1.0, _number(0.05, 1.0)),
    "seed": Field("seed", 0, _number(0, 2**32 - 1, integer=True)),
    "min_p": Field("minp", 0.0, _number(0.0, 0.5)),
    "repetition_penalty": Field("rep", 1.0, _number(1.0, 3.0)),
    "no_repeat_ngram": Field("ngram", 0, _number(0, 5, integer=True)),
    "beam_groups": Field("groups", 1, _number(1, 5, integer=True)),
    "diversity_penalty": Field("div", 0.0, _number(0.0, 5.0)),
    "force_step": Field("fstep", 0, _number(0, 50, integer=True)),  # 0: no forced word
    "force_word": Field("fword", "", _text),
}
BY_KEY = {f.key: name for name, f in FIELDS.items()}


def to_query(state: Mapping[str, object]) -> str:
    """The query string of a state: only fields that differ from their default, in a fixed order."""
    pairs = []
    for name, f in FIELDS.items():
        value = state.get(name, f.default)
        if value is None or value == f.default or (name == "force_step" and not state.get("force_word")):
            continue  # (a what-if step means nothing without the word to force there)
        if isinstance(value, float) and value == int(value) and f.default is not None and isinstance(f.default, int):
            value = int(value)
        pairs.append((f.key, _format(value)))
    return urlencode(pairs)


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def from_query(params: Mapping[str, str], models: list[str]) -> tuple[dict, list[str]]:
    """(every field's value, the query keys that were ignored): unknown keys, bad values and unknown models are
    ignored and their fields keep their defaults."""
    state = {name: f.default for name, f in FIELDS.items()}
    ignored = []
    for key, text in params.items():
        name = BY_KEY.get(key)
        if name is None:
            ignored.append(key)
            continue
        try:
            value = FIELDS[name].parse(str(text))
        except (ValueError, TypeError):
            ignored.append(key)
            continue
        if name == "model" and value not in models:
            ignored.append(key)
            continue
        state[name] = value
    if state["beam_groups"] > 1 and state["beam_size"] % state["beam_groups"]:
        state["beam_groups"] = 1  # groups must divide K (the decoder would refuse the pair)
        ignored.append("groups")
    state["n_best"] = min(state["n_best"], state["beam_size"]) if state["strategy"] == "beam" else state["n_best"]
    return state, ignored
