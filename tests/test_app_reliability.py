"""The app launched on loopback and driven with gradio_client: floods, closed sessions, downloads, hostile files.

The app runs in this process (tiny checkpoints, its own GRADIO_TEMP_DIR) so that a test can hold a flooding
client's jobs at a gate: what is asserted then does not depend on how fast the machine is."""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from browser_harness import free_port
from ui_fixtures import make_tiny_checkpoints

SLOW = "slow"  # source text whose translation waits at the test's gate


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ckpts")
    make_tiny_checkpoints(folder)
    good = (folder / "zh-en-classic.s2s").read_bytes()
    (folder / "zh-en-broken.s2s").write_bytes(good[:4000])  # a truncated checkpoint, listed in the pickers
    env = {"S2S_CHECKPOINTS_DIR": str(folder), "GRADIO_TEMP_DIR": str(tmp_path_factory.mktemp("gradio")),
           "GRADIO_HEARTBEAT_INTERVAL": "0.5", "GRADIO_ANALYTICS_ENABLED": "False"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    from demo.app import build_demo, launch_kwargs

    demo = build_demo()
    demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True,
                **launch_kwargs())
    yield demo
    demo.close()
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture()
def gate(monkeypatch):
    """Translations of SLOW wait until the test opens the gate (they hold their queue slots meanwhile)."""
    from demo import handlers

    opened = threading.Event()
    real = handlers.clean_text

    def clean_text(text):
        if text == SLOW:
            opened.wait(60)
        return real(text)

    monkeypatch.setattr(handlers, "clean_text", clean_text)
    yield opened
    opened.set()


def _fn_index(demo, api_name: str) -> int:
    return next(i for i, fn in demo.fns.items() if fn.api_name == api_name)


def _join(demo, session: str, text: str, headers: dict | None = None) -> httpx.Response:
    """One raw POST to the queue, as a scripted client would send it (the translate endpoint)."""
    # text, model, strategy, K, T, n-best, length penalty, top-k, top-p, seed, min-p, repetition penalty,
    # no-repeat n-gram, beam groups, diversity penalty, the session's models (State)
    data = [text, "zh-en-classic", "greedy", 5, 1.0, 5, 1.0, 0, 1.0, 0, 0.0, 1.0, 0, 1, 0.0, None]
    assert len(data) == len(app_fn_inputs(demo, "translate"))
    body = {"data": data, "fn_index": _fn_index(demo, "translate"), "session_hash": session,
            "event_data": None, "trigger_id": None}
    return httpx.post(f"{demo.local_url}gradio_api/queue/join", json=body, headers=headers or {}, timeout=30)


def app_fn_inputs(demo, api_name: str) -> list:
    return demo.fns[_fn_index(demo, api_name)].inputs


def _wait(condition, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _pending(demo, session: str) -> int:
    from demo.limits import pending_events

    return sum(1 for e in pending_events(demo._queue) if e.session_hash == session)


def test_a_flooding_session_does_not_lock_out_another(app, gate):
    from demo.limits import session_cap

    cap = session_cap("decode")
    flooder, honest = Client(app.local_url, verbose=False), Client(app.local_url, verbose=False)
    try:
        jobs = [flooder.submit(SLOW, "zh-en-classic", api_name="/translate") for _ in range(cap + 9)]
        assert _wait(lambda: sum(j.done() for j in jobs) == 9)  # everything past the cap is refused at once
        # the accepted jobs may still be on their way into the queue (counted as joining by the limiter)
        assert _wait(lambda: _pending(app, flooder.session_hash) == cap)
        refused = _join(app, flooder.session_hash, SLOW)
        assert refused.status_code == 400
        assert f"You already have {cap} requests of this kind waiting or running" in refused.json()["detail"]
        text = honest.predict("我爱你。", "zh-en-classic", api_name="/translate")[0]
        assert isinstance(text, str) and text  # served while the flooder's jobs are stuck
        gate.set()
        accepted = [j for j in jobs if j.exception(timeout=60) is None]
        assert len(accepted) == cap
    finally:
        gate.set()
        flooder.close()
        honest.close()


def test_the_refusal_speaks_the_visitors_language(app, gate):
    from demo.limits import session_cap

    for _ in range(session_cap("decode")):
        assert _join(app, "zh-session", SLOW).status_code == 200
    refused = _join(app, "zh-session", SLOW, {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert refused.status_code == 400 and "请等它们完成后再试" in refused.json()["detail"]
    gate.set()
    assert _wait(lambda: _pending(app, "zh-session") == 0)


def test_one_address_cannot_fill_the_queue_with_fresh_sessions(app, gate, monkeypatch):
    monkeypatch.setenv("S2S_JOBS_PER_IP", "3")  # below the 4 decoding workers, so one stays free
    attacker = {"X-Forwarded-For": "10.9.9.9"}  # uvicorn trusts this header from loopback only
    codes = [_join(app, f"anon-{i}", SLOW, attacker).status_code for i in range(5)]
    assert codes == [200] * 3 + [400] * 2
    assert "network address" in _join(app, "anon-x", SLOW, attacker).json()["detail"]
    honest = Client(app.local_url, verbose=False, headers={"X-Forwarded-For": "10.1.1.1"})
    try:
        assert honest.predict("我爱你。", "zh-en-classic", api_name="/translate")[0]
    finally:
        gate.set()
        honest.close()
    assert _wait(lambda: not any(_pending(app, f"anon-{i}") for i in range(3)))


def test_heavy_evaluations_have_their_own_group(app):
    groups = {fn.api_name: fn.concurrency_id for fn in app.fns.values()}
    assert groups["bleu_by_length"] == groups["exposure_curves"] == "heavy"
    assert groups["translate"] == groups["draw_samples"] == "decode"
    assert groups["train"] == "train"


def test_a_hostile_checkpoint_shows_its_own_line(app):
    from s2s import checkpoint
    from s2s.checkpoint import CheckpointError

    with pytest.raises(CheckpointError) as expected:
        checkpoint.load(Path(os.environ["S2S_CHECKPOINTS_DIR"]) / "zh-en-broken.s2s")
    client = Client(app.local_url, verbose=False)
    try:
        with pytest.raises(Exception) as shown:
            client.predict("我爱你。", "zh-en-broken", api_name="/translate")
    finally:
        client.close()
    assert str(expected.value).splitlines()[0] in str(shown.value)


def test_a_trained_model_goes_when_its_session_closes(app):
    from demo import session_files

    client = Client(app.local_url, verbose=False, download_files=False)
    try:
        *_, download = client.predict(None, True, "fine-tune", "zh-en-classic", 1, 0.001, 32, 1.0, "constant", 10,
                                      True, api_name="/train")
        path = Path(download["path"])
        assert path.is_file() and str(path) in session_files.tracked()
        token = path.parent.name.removeprefix(session_files.PREFIX)
        assert len(token) == 32 and int(token, 16) >= 0  # 128 random bits in the download URL
        assert str(path).startswith(os.environ["GRADIO_TEMP_DIR"])  # served where it is, no second copy
        assert httpx.get(download["url"], timeout=30).content == path.read_bytes()
        guessed = download["url"].replace(token, "0" * 32)
        assert httpx.get(guessed, timeout=30).status_code in (403, 404)
        started = time.monotonic()
    finally:
        client.close()
    # the unload event fired when the heartbeat stopped: file, folder and record all go (the file is unlinked a
    # moment before its folder is removed, so the wait is for all three, not for the file alone)
    assert _wait(lambda: not path.parent.exists() and str(path) not in session_files.tracked(), timeout=60)
    print(f"session model deleted {time.monotonic() - started:.1f}s after the client closed")
    assert not path.exists()
    assert httpx.get(download["url"], timeout=30).status_code in (403, 404)


def _event(session: str, host: str = "1.2.3.4", group: str = "decode"):
    from types import SimpleNamespace

    return SimpleNamespace(session_hash=session, concurrency_id=group,
                           request=SimpleNamespace(client=SimpleNamespace(host=host)))


def test_the_waiting_line_puts_a_quiet_visitor_before_a_backlog():
    from demo.limits import fair_order

    flood = [_event("f") for _ in range(3)]
    honest = _event("h")
    assert fair_order([*flood, honest], running=[_event("f")]) == [honest, *flood]
    a1, b1, a2, b2 = _event("a"), _event("b"), _event("a"), _event("b")
    assert fair_order([a1, a2, b1, b2], running=[]) == [a1, b1, a2, b2]


def test_refusal_counts_queued_and_running_jobs_per_session_group_and_host():
    from collections import Counter

    from demo.limits import refusal

    events = [_event("s"), _event("s"), _event("s", group="train"), _event("t", host="5.6.7.8")]
    assert refusal(events, "s", "1.2.3.4", "decode", Counter()) is None  # 2 of 3
    assert refusal(events, "s", "1.2.3.4", "decode", Counter({("s", "decode"): 1})) == "err_busy_session"
    assert refusal(events, "s", "1.2.3.4", "train", Counter()) == "err_busy_session"  # one training at a time
    assert refusal(events, "u", "1.2.3.4", "decode", Counter({"1.2.3.4": 21})) == "err_busy_ip"  # 3 + 21 = 24


def test_a_model_finished_after_its_tab_closed_is_deleted_at_once(tmp_path, monkeypatch):
    from demo import session_files

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    session_files.end_session("closed-early")
    path = session_files.new_path("late")
    path.write_bytes(b"x")
    session_files.register("closed-early", path)
    assert not path.exists() and str(path) not in session_files.tracked()
