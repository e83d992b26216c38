"""Share links: a state survives to_query -> from_query exactly, and a hostile link changes nothing it should not."""
from __future__ import annotations

import random
from urllib.parse import parse_qsl

import pytest

from demo.share import FIELDS, MAX_TEXT, from_query, to_query

MODELS = ["zh-en-classic", "zh-en-attention", "de-en-attention"]


def _random_state(rng: random.Random) -> dict:
    state = {"tab": rng.choice(["translate", "lesson", "exposure"]), "card": rng.randint(1, 9),
             "lang": rng.choice(["en", "zh"]), "model": rng.choice(MODELS), "text": rng.choice(["我爱你。", "a & b=c?", ""]),
             "strategy": rng.choice(["greedy", "beam", "sample"]), "beam_size": rng.choice([2, 4, 6]),
             "temperature": round(rng.uniform(0.1, 2.0), 1), "length_penalty": round(rng.uniform(0, 2), 1),
             "top_k": rng.randint(0, 50), "top_p": round(rng.uniform(0.05, 1.0), 2), "seed": rng.randint(0, 2**32 - 1),
             "min_p": 0.05, "repetition_penalty": 1.5, "no_repeat_ngram": rng.randint(0, 5), "beam_groups": 2,
             "diversity_penalty": 0.7, "force_step": rng.randint(0, 5), "force_word": rng.choice(["", "bike"])}
    state["n_best"] = rng.randint(1, state["beam_size"])
    if not state["force_word"]:
        state["force_step"] = 0  # a step without a word to force is not part of a link
    return state


@pytest.mark.parametrize("seed", range(20))
def test_a_state_round_trips(seed):
    state = _random_state(random.Random(seed))
    back, ignored = from_query(dict(parse_qsl(to_query(state))), MODELS)
    assert ignored == []
    assert back == state


def test_defaults_make_an_empty_link():
    assert to_query({name: f.default for name, f in FIELDS.items()}) == ""
    assert to_query({"text": "我爱你。", "beam_size": 5}) == "text=%E6%88%91%E7%88%B1%E4%BD%A0%E3%80%82"
    assert to_query({"force_step": 2}) == ""  # the what-if slider's position alone is not shared
    assert to_query({"force_step": 2, "force_word": "bike"}) == "fstep=2&fword=bike"


@pytest.mark.parametrize("params,field", [
    ({"k": "1e9"}, "beam_size"), ({"k": "2.5"}, "beam_size"), ({"t": "nan"}, "temperature"), ({"t": "inf"}, "temperature"),
    ({"t": "0"}, "temperature"), ({"seed": "-1"}, "seed"), ({"seed": "1e30"}, "seed"), ({"model": "../../etc/passwd"}, "model"),
    ({"strategy": "evil"}, "strategy"), ({"tab": "admin"}, "tab"), ({"text": "x" * (MAX_TEXT + 1)}, "text"),
    ({"lang": "fr"}, "lang"), ({"card": "0"}, "card"), ({"topp": "0"}, "top_p"),
])
def test_a_bad_value_is_ignored_and_keeps_the_default(params, field):
    state, ignored = from_query(params, MODELS)
    assert ignored == list(params)
    assert state[field] == FIELDS[field].default


def test_unknown_keys_are_ignored_and_groups_must_divide_k():
    state, ignored = from_query({"utm_source": "x", "k": "5", "groups": "2", "strategy": "beam"}, MODELS)
    assert ignored == ["utm_source", "groups"]
    assert state["beam_size"] == 5 and state["beam_groups"] == 1


def test_open_link_sets_only_the_named_controls(ckpt_dir):
    from types import SimpleNamespace

    import gradio as gr

    from demo.app import open_link
    from demo.tabs.translate import SHARED

    request = SimpleNamespace(query_params={"text": "我爱你。", "strategy": "beam", "k": "3", "model": "nope",
                                            "tab": "translate", "lang": "zh"})
    tab, linked, *updates = open_link("zh-en-classic", "greedy", request)
    assert isinstance(tab, gr.Tabs) and linked == ["我爱你。", "zh-en-classic", "beam"]  # the model kept: unknown
    values = {name: u for name, u in zip(SHARED, updates)}
    assert values["text"]["value"] == "我爱你。" and values["strategy"]["value"] == "beam"
    assert values["beam_size"]["value"] == 3
    skipped = [name for name, u in values.items() if not isinstance(u, dict) or "value" not in u]
    assert "model" in skipped and "temperature" in skipped  # an unknown model and unnamed fields stay as they are


def test_a_link_without_a_sentence_translates_nothing(ckpt_dir):
    """The page's load chain: a link (or a bare address) without `text` leaves the result panels alone, whatever the
    visitor typed into the box while the page loaded; a link with one translates it."""
    from types import SimpleNamespace

    import gradio as gr

    from demo.app import linked_translation, linked_whatif, open_link

    _, linked, *_ = open_link("zh-en-classic", "greedy", SimpleNamespace(query_params={"strategy": "beam", "k": "3"}))
    assert linked is None
    typed = ("我爱你。", "zh-en-classic", "greedy", 5, 1.0, 1, 1.0, 0, 1.0, 0, 0.0, 1.0, 0, 1, 0.0, {})
    assert all(out == gr.skip() for out in linked_translation(None, *typed))
    memory = {"text": "我爱你。", "model": "zh-en-classic", "tokens": [5, 6]}
    assert all(out == gr.skip() for out in linked_whatif(None, "我爱你。", "zh-en-classic", 1, None, memory, {}, "I"))
    text, *_ = linked_translation(["我爱你。", "zh-en-classic", "greedy"], *typed)
    assert text


def test_share_query_of_the_controls():
    from urllib.parse import parse_qsl

    from demo.tabs.translate import SHARED, share_query

    defaults = {name: FIELDS[name].default for name in SHARED}
    values = {**defaults, "text": "a b", "model": "zh-en-classic", "strategy": "sample", "seed": 7.0, "temperature": 1.5}
    query = dict(parse_qsl(share_query(*[values[name] for name in SHARED])))
    assert query == {"text": "a b", "model": "zh-en-classic", "strategy": "sample", "seed": "7", "t": "1.5"}
