"""Start-up (issue 10 §11): the shipped models load in a background thread, and a request for a model that is
still loading waits for that load instead of starting a second one."""
from __future__ import annotations

import threading
import time

import pytest

from ui_fixtures import make_tiny_checkpoints


@pytest.fixture()
def slow_loads(tmp_path, monkeypatch):
    """Tiny shipped checkpoints whose loading takes 0.3 s and is counted per file."""
    from demo import models
    from s2s.translator import Translator

    make_tiny_checkpoints(tmp_path, steps=5)
    monkeypatch.setenv("S2S_CHECKPOINTS_DIR", str(tmp_path))
    monkeypatch.setattr(models, "_cache", models.OrderedDict())
    monkeypatch.setattr(models, "_load_locks", {})
    monkeypatch.setattr(models, "_preloader", None)
    loads: list[str] = []
    real = Translator.load

    def load(path, **kwargs):
        loads.append(str(path))
        time.sleep(0.3)
        return real(path, **kwargs)

    monkeypatch.setattr(models.Translator, "load", staticmethod(load))
    return loads


def test_preload_loads_every_shipped_model_once(slow_loads):
    from demo import models

    thread = models.preload_shipped()
    assert models.preload_shipped() is thread  # a second call starts no second thread
    time.sleep(0.1)  # the thread is inside the first (0.3 s) load of zh-en-classic
    got = []
    waiters = [threading.Thread(target=lambda: got.append(models.get_translator(
        models.model_path("zh-en-classic")))) for _ in range(3)]
    for w in waiters:
        w.start()
    for w in waiters:
        w.join()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert sorted(slow_loads) == sorted(str(p.resolve()) for p in models.shipped_models().values())
    assert len(got) == 3 and all(t is got[0] for t in got)
    assert got[0] is models.get_translator(models.model_path("zh-en-classic"))


def test_the_page_is_built_before_any_model_loads(slow_loads):
    from demo import models
    from demo.app import build_demo

    build_demo()
    assert not slow_loads and not models._cache


def test_the_port_answers_at_once_then_is_handed_over():
    """app.py answers with a 503 "starting" page while torch and gradio import, then frees the port for the app."""
    import socket
    import sys
    import urllib.error
    import urllib.request
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = app.starting_server("127.0.0.1", port)
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
    assert answer.value.code == 503 and answer.value.headers["Retry-After"] == "2"
    page = answer.value.read().decode()
    assert app.STARTING_MARK in page and "Starting" in page and "正在启动" in page
    assert app.starting_server("127.0.0.1", port) is None  # taken: launch reports it, not us
    server.shutdown()
    server.server_close()
    with socket.socket() as s:  # what the app does next: bind the same port
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
