"""Where the models trained in the browser live on disk, and for how long.

Each model is written once, into Gradio's own file folder (GRADIO_TEMP_DIR, /tmp/gradio by default) under a
folder named `s2s-playground-<128 random bits>`: Gradio serves it from there without copying it, and its download
URL cannot be guessed. Anyone holding the URL can fetch the file until it is deleted, which happens
- when the browser session that trained it closes (Gradio's unload event, seconds after the tab goes),
- when it has not been used for IDLE_SECONDS,
- when more than MAX_MODELS session models exist on the server (the least recently used goes first),
- at the latest when Gradio's cache sweep (`delete_cache` in demo/app.py) finds it older than its age limit.
So the disk held by trained models is at most MAX_MODELS checkpoints at any time, and none once sessions close."""
from __future__ import annotations

import os
import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from gradio.utils import get_upload_folder

from . import models

PREFIX = "s2s-playground-"


def max_models() -> int:
    return int(os.environ.get("S2S_MAX_SESSION_MODELS") or 8)


def idle_seconds() -> float:
    return float(os.environ.get("S2S_SESSION_MODEL_IDLE") or 1800)


@dataclass
class Entry:
    session: str
    used: float


_entries: OrderedDict[str, Entry] = OrderedDict()  # path -> owner, least recently used first
_closed: OrderedDict[str, None] = OrderedDict()  # sessions that ended (a job may still finish after its tab closed)
CLOSED_REMEMBERED = 10_000
_lock = threading.Lock()


def new_path(name: str) -> Path:
    """A fresh, unguessable file path for a model called `name` (its folder is created)."""
    folder = Path(get_upload_folder()) / (PREFIX + secrets.token_hex(16))
    folder.mkdir(parents=True)
    return folder / (re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")[:80] + ".s2s")


def register(session: str, path: Path | str) -> None:
    """Record a saved model of `session`; evict idle and surplus models (never the new one)."""
    with _lock:
        _entries[str(path)] = Entry(session, time.monotonic())
        orphan = session in _closed
    if orphan:  # the tab closed while the model was training: nobody can use it
        delete(path)
    sweep()


def touch(path: Path | str) -> None:
    """The model was used: it stays while it is in use."""
    with _lock:
        entry = _entries.get(str(path))
        if entry is not None:
            entry.used = time.monotonic()
            _entries.move_to_end(str(path))


def end_session(session: str | None) -> int:
    """Delete every model of a session that closed; returns how many."""
    with _lock:
        gone = [p for p, e in _entries.items() if e.session == session]
        _closed[str(session)] = None
        while len(_closed) > CLOSED_REMEMBERED:
            _closed.popitem(last=False)
    for path in gone:
        delete(path)
    sweep()
    return len(gone)


def sweep(now: float | None = None) -> None:
    """Delete models idle for longer than idle_seconds(), then the least recently used beyond max_models()."""
    now = time.monotonic() if now is None else now
    with _lock:
        idle = [p for p, e in _entries.items() if now - e.used > idle_seconds()]
        live = [p for p in _entries if p not in idle]
        surplus = live[:max(0, len(live) - max_models())]
    for path in idle + surplus:
        delete(path)


def delete(path: Path | str) -> None:
    """Remove a session model's file, its folder and its cached translator."""
    with _lock:
        _entries.pop(str(path), None)
    path = Path(path)
    models.forget(path)
    path.unlink(missing_ok=True)
    if path.parent.name.startswith(PREFIX):
        try:
            path.parent.rmdir()
        except OSError:
            pass


def tracked() -> list[str]:
    with _lock:
        return list(_entries)
