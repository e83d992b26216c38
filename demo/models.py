"""Which models exist, and loading each one once.

Shipped checkpoints (`checkpoints/*.s2s`, or `$S2S_CHECKPOINTS_DIR`) are shared read-only by every visitor.
Models trained in the browser live in the visitor's own `gr.State` as {name: path}; they are never listed
for anyone else. Both kinds are cached by path. The shipped ones are loaded in a background thread when the app
starts (`preload_shipped`, called by app.py after the page is built, so the server answers at once); a request for
a model that is still loading waits for that load instead of starting a second one. Session models load on first
use."""
from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path

from s2s.checkpoint import CheckpointError
from s2s.config import DecodeConfig
from s2s.translator import Translator

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = Path(__file__).resolve().parent / "examples"
PREFERRED = ("zh-en-classic", "zh-en-attention", "zh-en-scheduled", "de-en-classic", "de-en-attention")
DEFAULT_MODEL = PREFERRED[0]
PRECISION = "auto"  # decoding (s2s/packed.py): bf16 where native, else fp16 weights where faster, else fp32;
# S2S_PRECISION=fp32 overrides
CACHE_SIZE = 12  # translators kept in memory (shipped ones are few; session models come and go)

_cache: OrderedDict[str, Translator] = OrderedDict()
_cache_lock = threading.Lock()
_load_locks: dict[str, threading.Lock] = {}
_preloader: threading.Thread | None = None
log = logging.getLogger("demo")


def checkpoint_dir() -> Path:
    return Path(os.environ.get("S2S_CHECKPOINTS_DIR") or ROOT / "checkpoints")


def shipped_models() -> dict[str, Path]:
    """{name: path} of the shipped checkpoints, zh-en-classic first, then the lesson's order, then the rest."""
    found = {p.stem: p for p in sorted(checkpoint_dir().glob("*.s2s")) if not p.name.endswith(".last.s2s")}
    rank = {name: i for i, name in enumerate(PREFERRED)}
    return dict(sorted(found.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))


def model_choices(session_models: dict[str, str] | None = None) -> list[str]:
    return list(shipped_models()) + list(session_models or {})


def default_model(session_models: dict[str, str] | None = None) -> str | None:
    choices = model_choices(session_models)
    return DEFAULT_MODEL if DEFAULT_MODEL in choices else (choices[0] if choices else None)


def model_path(name: str, session_models: dict[str, str] | None = None) -> Path:
    """The checkpoint behind a picker entry; KeyError when this visitor has no such model."""
    if session_models and name in session_models:
        return Path(session_models[name])
    shipped = shipped_models()
    if name in shipped:
        return shipped[name]
    raise KeyError(name)


def get_translator(path: str | Path) -> Translator:
    """Load a checkpoint once (concurrent first requests wait for the same load) and keep it cached.

    A bad file raises CheckpointError (one line naming the file) and is not cached."""
    key = str(Path(path).resolve())
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
        lock = _load_locks.setdefault(key, threading.Lock())
    with lock:
        with _cache_lock:
            if key in _cache:
                return _cache[key]
        try:
            translator = Translator.load(key, precision=os.environ.get("S2S_PRECISION", PRECISION))
        except CheckpointError:  # nothing of a refused file stays behind: no cache entry, no lock
            with _cache_lock:
                _load_locks.pop(key, None)
            raise
        with _cache_lock:
            _cache[key] = translator
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
        return translator


def forget(path: str | Path) -> None:
    """Drop a cached translator (a session model was replaced)."""
    with _cache_lock:
        _cache.pop(str(Path(path).resolve()), None)


def language_pair(name: str) -> str:
    """'de-en' for German models, else 'zh-en' (the names of the shipped models say which)."""
    return "de-en" if name.lower().startswith("de") else "zh-en"


def heldout_pairs(pair: str, limit: int | None = None) -> list[tuple[str, str]]:
    """Held-out (source, reference) pairs shipped in demo/examples."""
    path = EXAMPLES / f"heldout_{pair.replace('-', '_')}.tsv"
    rows = [line.split("\t")[:2] for line in path.read_text(encoding="utf-8").splitlines() if "\t" in line]
    return [(s, t) for s, t in rows][:limit]


def delete_session_models(session_models: dict | None) -> None:
    """Called when a browser session expires: remove its trained checkpoints and their cached translators."""
    for path in (session_models or {}).values():
        path = Path(path)
        forget(path)
        path.unlink(missing_ok=True)
        try:
            path.parent.rmdir()  # the per-model temporary folder, when empty
        except OSError:
            pass


def _warm_up(translator: Translator, sentence: str) -> None:
    """Decode one sentence greedily and with beam 5, so that the first visitor does not pay one-time costs."""
    for strategy, k in (("greedy", 1), ("beam", 5)):
        translator.translate([sentence], DecodeConfig(strategy=strategy, beam_size=k, max_len=40))


def _warm_up_page(name: str, sentence: str) -> None:
    """Run the Translate tab's handler once greedy and once with beam 5 on the default model: the first figures
    (plotly's lazily imported validators, the heatmap and beam-tree code) cost the first visitor nothing then."""
    from . import handlers  # here: handlers imports this module

    for strategy in ("greedy", "beam"):
        handlers.translate(sentence, name, strategy, 5)


def _preload(paths: dict[str, Path]) -> None:
    began = time.time()
    for name, path in paths.items():
        try:
            translator = get_translator(path)
            pairs = heldout_pairs(language_pair(name), 1)
            if pairs:
                _warm_up(translator, pairs[0][0])
            if pairs and name == DEFAULT_MODEL:
                _warm_up_page(name, pairs[0][0])
        except Exception:  # a broken shipped file must not stop the others; its requests report it
            log.exception("preloading %s failed", name)
    log.warning("preloaded %d shipped models in %.1f s", len(paths), time.time() - began)


def preload_shipped() -> threading.Thread:
    """Start loading every shipped checkpoint (zh-en-classic first) in one daemon thread; at most one such thread
    runs. Requests for a model it has not reached yet load that one themselves (and the thread then finds it
    cached); a request for the model it is loading waits for that load (get_translator's per-file lock)."""
    global _preloader
    with _cache_lock:
        if _preloader is None or not _preloader.is_alive():
            _preloader = threading.Thread(target=_preload, args=(shipped_models(),), daemon=True,
                                          name="s2s-preload")
            _preloader.start()
        return _preloader
